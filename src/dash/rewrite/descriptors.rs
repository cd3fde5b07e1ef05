//! The content's track descriptors on an ad's AdaptationSet: `Label`,
//! `Accessibility` and `Role` of the content set replace the ad's, so a player
//! that picks its tracks by language and role (dash.js `setInitialMediaSettingsFor`,
//! Shaka's Period flattening) finds in each ad Period the track it had selected
//! (issue #12: a French dub keeps playing after the break, as a dub).
//!
//! Pure. The elements go where the MPD schema's sequence puts them (ISO/IEC
//! 23009-1 Annex B): `Label` last of the RepresentationBase group before
//! `ProducerReferenceTime`, then `Accessibility` and `Role` before `Rating`,
//! `Viewpoint`, `ContentComponent`, `BaseURL`, the segment addressing and the
//! Representations.

use crate::dash::xml::{write_element, Element};

/// The descriptors moved from the content set.
const TRACK_DESCRIPTORS: [&str; 3] = ["Label", "Accessibility", "Role"];
/// Elements that follow `Label` in an AdaptationSet.
const AFTER_LABEL: [&str; 13] = [
    "ProducerReferenceTime",
    "ContentPopularityRate",
    "Resync",
    "Accessibility",
    "Role",
    "Rating",
    "Viewpoint",
    "ContentComponent",
    "BaseURL",
    "SegmentBase",
    "SegmentList",
    "SegmentTemplate",
    "Representation",
];
/// Elements that follow `Accessibility` and `Role` in an AdaptationSet.
const AFTER_ROLE: [&str; 8] = [
    "Rating",
    "Viewpoint",
    "ContentComponent",
    "BaseURL",
    "SegmentBase",
    "SegmentList",
    "SegmentTemplate",
    "Representation",
];

/// The content set's descriptors, waiting for their place among the ad set's
/// children.
pub(super) struct Descriptors<'a> {
    labels: Vec<&'a Element>,
    /// `Accessibility` then `Role`, each in the content's order.
    roles: Vec<&'a Element>,
    /// The ad set's namespace prefix (`mpd:`, or empty), given to the copies.
    prefix: &'a str,
    /// Written after each copy: a line break and the children's indentation.
    sep: &'a str,
}

/// Whether an ad set's child is one the content's descriptors replace.
pub(super) fn is_track_descriptor(e: &Element) -> bool {
    TRACK_DESCRIPTORS.contains(&e.local_name())
}

impl<'a> Descriptors<'a> {
    /// The descriptors of `cset` for the ad set `aset`; `None` when the content
    /// set has none (the ad's own then stay).
    pub(super) fn of(cset: &'a Element, aset: &'a Element, sep: &'a str) -> Option<Self> {
        let labels: Vec<&Element> = cset.children_named("Label").collect();
        let roles: Vec<&Element> = cset
            .children_named("Accessibility")
            .chain(cset.children_named("Role"))
            .collect();
        if labels.is_empty() && roles.is_empty() {
            return None;
        }
        Some(Self {
            labels,
            roles,
            prefix: aset.name.strip_suffix("AdaptationSet").unwrap_or(""),
            sep,
        })
    }

    /// Write the descriptors that go before the ad's child `e` (once each).
    pub(super) fn before(&mut self, out: &mut String, e: &Element) {
        let name = e.local_name();
        if AFTER_LABEL.contains(&name) {
            for l in std::mem::take(&mut self.labels) {
                self.write(out, l);
            }
        }
        if AFTER_ROLE.contains(&name) {
            for r in std::mem::take(&mut self.roles) {
                self.write(out, r);
            }
        }
    }

    fn write(&self, out: &mut String, e: &Element) {
        let mut copy = e.clone();
        copy.name = format!("{}{}", self.prefix, e.local_name());
        write_element(out, &copy);
        out.push_str(self.sep);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use url::Url;

    use crate::dash::mpd::find_breaks;
    use crate::dash::rewrite::{prepare_ad, splice_mpd, DashFill, MpdContext};
    use crate::dash::xml::{parse, Element};

    /// Content with two audio languages (French a dub, labelled, with an
    /// accessibility descriptor) and a pre-roll event.
    const CONTENT: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:scte35="urn:scte:scte35:2013:xml" type="static" mediaPresentationDuration="PT20S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period id="p0" duration="PT20S">
    <EventStream schemeIdUri="urn:scte:scte35:2013:xml" timescale="90000"><Event presentationTime="0" duration="0" id="pre"><scte35:SpliceInfoSection><scte35:SpliceInsert spliceEventId="1" outOfNetworkIndicator="true"/></scte35:SpliceInfoSection></Event></EventStream>
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="12800" duration="25600" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="v0" width="320" height="180" bandwidth="120000" codecs="avc1.4d401e"/>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" lang="en">
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
      <SegmentTemplate timescale="48000" duration="96000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="a-en" bandwidth="16000" codecs="mp4a.40.2"/>
    </AdaptationSet>
    <AdaptationSet id="3" contentType="audio" mimeType="audio/mp4" lang="fr">
      <Label>Français</Label>
      <Accessibility schemeIdUri="urn:tva:metadata:cs:AudioPurposeCS:2007" value="6"/>
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="dub"/>
      <SegmentTemplate timescale="48000" duration="96000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="a-fr" bandwidth="16000" codecs="mp4a.40.2"/>
    </AdaptationSet>
  </Period>
</MPD>"#;

    /// An ad whose audio says it is the main track, in no language.
    const AD: &str = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT6S">
  <Period id="0">
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="1000" duration="2000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="v0" width="320" height="180" bandwidth="100000" codecs="avc1.4d401e"/>
    </AdaptationSet>
    <AdaptationSet contentType="audio" mimeType="audio/mp4" lang="und">
      <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="1"/>
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
      <SegmentTemplate timescale="1000" duration="2000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="a0" bandwidth="16000" codecs="mp4a.40.2"/>
    </AdaptationSet>
  </Period>
</MPD>"#;

    fn preroll(content: &str) -> Element {
        let doc = parse(content).unwrap();
        let url = Url::parse("http://ads.example/ad/manifest.mpd").unwrap();
        let ad = Arc::new(prepare_ad(&parse(AD).unwrap(), &url, None).unwrap());
        let breaks = find_breaks(&doc);
        let fills: HashMap<String, DashFill> = breaks
            .iter()
            .map(|b| {
                let fill = DashFill {
                    ads: vec![ad.clone()],
                    planned: 6.0,
                    ..Default::default()
                };
                (b.id.clone(), fill)
            })
            .collect();
        let ctx = MpdContext {
            content_base: "http://origin.example/vod/".into(),
            ..Default::default()
        };
        let out = parse(&splice_mpd(&doc, &breaks, &fills, &ctx).text).unwrap();
        let ad = out.root.child("Period").unwrap().clone();
        assert!(ad.attr("id").unwrap().ends_with("-ad0"), "{ad:?}");
        ad
    }

    /// (id, lang, the local names of the children in order, the Role values,
    /// the Label text) of an audio set.
    type AudioSet = (String, String, Vec<String>, Vec<String>, String);

    fn audio_sets(p: &Element) -> Vec<AudioSet> {
        p.children_named("AdaptationSet")
            .filter(|s| s.attr("contentType").as_deref() == Some("audio"))
            .map(|s| {
                (
                    s.attr("id").unwrap_or_default(),
                    s.attr("lang").unwrap_or_default(),
                    s.elements().map(|e| e.local_name().to_string()).collect(),
                    s.children_named("Role")
                        .map(|r| r.attr("value").unwrap())
                        .collect(),
                    s.child("Label").map(Element::text).unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn every_language_gets_the_ad_audio_as_its_own_track() {
        let sets = audio_sets(&preroll(CONTENT));
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            sets,
            vec![
                (
                    "2".into(),
                    "en".into(),
                    names(&[
                        "AudioChannelConfiguration",
                        "Role",
                        "SegmentTemplate",
                        "Representation"
                    ]),
                    names(&["main"]),
                    String::new()
                ),
                (
                    "3".into(),
                    "fr".into(),
                    // In the schema's order, the ad's Role replaced.
                    names(&[
                        "AudioChannelConfiguration",
                        "Label",
                        "Accessibility",
                        "Role",
                        "SegmentTemplate",
                        "Representation"
                    ]),
                    names(&["dub"]),
                    "Français".into()
                ),
            ]
        );
    }

    #[test]
    fn a_content_set_without_descriptors_keeps_the_ads() {
        let plain = CONTENT
            .replace(
                r#"<Role schemeIdUri="urn:mpeg:dash:role:2011" value="dub"/>"#,
                "",
            )
            .replace("<Label>Français</Label>", "")
            .replace(
                r#"<Accessibility schemeIdUri="urn:tva:metadata:cs:AudioPurposeCS:2007" value="6"/>"#,
                "",
            );
        let sets = audio_sets(&preroll(&plain));
        assert_eq!(sets[1].1, "fr");
        assert_eq!(sets[1].3, vec!["main".to_string()], "the ad's own Role");
    }
}
