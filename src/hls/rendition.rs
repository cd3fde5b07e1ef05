//! Which kind of rendition a content media playlist is (a variant stream, an
//! `EXT-X-MEDIA` audio or subtitles rendition, an I-frame playlist), and which
//! rendition of an ad fills it: the ad's matching audio rendition for demuxed
//! audio, cue-less WebVTT segments of the ad's durations for subtitles, the ad's
//! own I-frame playlist for trick play.
//!
//! Pure. RFC 8216bis §4.4.6.1 (`EXT-X-MEDIA`), §4.4.6.3 (`EXT-X-I-FRAME-STREAM-INF`);
//! WebVTT in HLS: RFC 8216 §3.5 (`X-TIMESTAMP-MAP`).

use url::Url;

use super::attr;
use super::model::{MultivariantPlaylist, Variant, I_FRAME_STREAM_INF, MEDIA};
use super::rewrite::{select_variant, VariantTarget};
use crate::stitch::{AdRendition, AdSegment};

/// Path of the cue-less WebVTT segment we serve for subtitles during ads.
pub const EMPTY_WEBVTT_PATH: &str = "/v1/vtt/empty.vtt";

/// The cue-less WebVTT segment: a header and the timestamp map (the MPEG-2 TS
/// time 0 is the WebVTT time 0; with no cue nothing is placed by it).
pub const EMPTY_WEBVTT: &str = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n";

/// What a content media playlist is, by its place in the multivariant playlist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum RenditionKind {
    /// A variant stream (`EXT-X-STREAM-INF`), or not found.
    #[default]
    Variant,
    /// An `EXT-X-MEDIA:TYPE=AUDIO` rendition.
    Audio {
        /// `GROUP-ID`.
        group: Option<String>,
        /// `LANGUAGE`.
        language: Option<String>,
        /// `NAME`.
        name: Option<String>,
    },
    /// An `EXT-X-MEDIA:TYPE=SUBTITLES` rendition.
    Subtitles,
    /// An I-frame playlist (`EXT-X-I-FRAME-STREAM-INF`).
    IFrame,
}

fn tag_attrs<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    line.trim().strip_prefix(tag)
}

/// What the multivariant playlist at `master_url` says about the media playlist
/// at `media_url` (compared by path): its kind and, for variants and I-frame
/// playlists, bandwidth and resolution.
pub fn target_of(
    master: &MultivariantPlaylist,
    master_url: &Url,
    media_url: &Url,
) -> VariantTarget {
    let same =
        |uri: &str| crate::urls::join(master_url, uri).is_ok_and(|u| u.path() == media_url.path());
    if let Some(v) = master.variants.iter().find(|v| same(&v.uri)) {
        return VariantTarget::from(v);
    }
    for line in &master.lines {
        if let Some(a) = tag_attrs(line, MEDIA) {
            if !attr::attribute(a, "URI").is_some_and(same) {
                continue;
            }
            let own = |k: &str| attr::attribute(a, k).map(str::to_string);
            let kind = match attr::attribute(a, "TYPE") {
                Some("AUDIO") => RenditionKind::Audio {
                    group: own("GROUP-ID"),
                    language: own("LANGUAGE"),
                    name: own("NAME"),
                },
                Some("SUBTITLES") => RenditionKind::Subtitles,
                _ => RenditionKind::Variant,
            };
            return VariantTarget {
                kind,
                ..VariantTarget::default()
            };
        }
        if let Some(a) = tag_attrs(line, I_FRAME_STREAM_INF) {
            if attr::attribute(a, "URI").is_some_and(same) {
                let v = iframe_variant(a, line.len());
                return VariantTarget {
                    kind: RenditionKind::IFrame,
                    ..VariantTarget::from(&v)
                };
            }
        }
    }
    VariantTarget::default()
}

fn iframe_variant(attrs: &str, uri_line: usize) -> Variant {
    Variant {
        uri_line,
        uri: attr::attribute(attrs, "URI").unwrap_or("").to_string(),
        bandwidth: attr::attribute(attrs, "BANDWIDTH")
            .and_then(|b| b.parse().ok())
            .unwrap_or(0),
        resolution: attr::resolution(attrs),
        codecs: attr::attribute(attrs, "CODECS").map(str::to_string),
    }
}

/// The URI (as written) of the ad's audio rendition for a content audio
/// rendition: same language (and group, then name, on ties), else the ad's
/// default audio, else its first. `None` when the ad declares no audio rendition
/// with a URI (its audio is muxed into its variants).
pub fn select_audio<'a>(
    ad: &'a MultivariantPlaylist,
    group: Option<&str>,
    language: Option<&str>,
    name: Option<&str>,
) -> Option<&'a str> {
    let lang_eq = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (Some(a), Some(b)) => {
            // `en` matches `en-US` (RFC 5646 primary subtag).
            let primary = |s: &str| s.split('-').next().unwrap_or("").to_ascii_lowercase();
            a.eq_ignore_ascii_case(b) || primary(a) == primary(b)
        }
        _ => false,
    };
    ad.lines
        .iter()
        .filter_map(|l| tag_attrs(l, MEDIA))
        .filter(|a| attr::attribute(a, "TYPE") == Some("AUDIO"))
        .filter_map(|a| Some((a, attr::attribute(a, "URI")?)))
        .enumerate()
        .min_by_key(|(i, (a, _))| {
            let attr = |k: &str| attr::attribute(a, k);
            (
                !lang_eq(attr("LANGUAGE"), language),
                !(group.is_some() && attr("GROUP-ID") == group),
                !(name.is_some() && attr("NAME") == name),
                attr("DEFAULT") != Some("YES"),
                *i,
            )
        })
        .map(|(_, (_, uri))| uri)
}

/// The ad's I-frame playlists, as variants (URI as written).
pub fn iframe_variants(ad: &MultivariantPlaylist) -> Vec<Variant> {
    ad.lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| Some((i, tag_attrs(l, I_FRAME_STREAM_INF)?)))
        .map(|(i, a)| iframe_variant(a, i))
        .filter(|v| !v.uri.is_empty())
        .collect()
}

/// Subtitles during an ad: one cue-less WebVTT segment per segment of the ad's
/// (video) rendition, same durations and discontinuities, so the subtitles
/// playlist has the same boundaries at the same times as the video. The URI is
/// [`EMPTY_WEBVTT_PATH`] on the proxy itself (root-relative, as `/v1/segment`).
pub fn empty_cues(video: &AdRendition) -> AdRendition {
    let uri = EMPTY_WEBVTT_PATH.to_string();
    AdRendition {
        segments: video
            .segments
            .iter()
            .map(|s| AdSegment {
                uri: uri.clone(),
                duration: s.duration,
                extinf: s.extinf.clone(),
                discontinuity: s.discontinuity,
                lines: Vec::new(),
            })
            .collect(),
    }
}

/// The playlist of an ad (given as a multivariant playlist) that fills a content
/// rendition: the nearest variant for a variant; the matching audio rendition
/// for an audio rendition, else (audio muxed into the ad's variants) its
/// lightest variant; the variant whose durations the empty cues follow for
/// subtitles ([`ad_for`] makes them); its nearest I-frame playlist for an
/// I-frame playlist, else its nearest variant (whole segments: the break keeps
/// the same segments and numbers as in the video, which the session's break
/// records, shared by every rendition, need).
pub fn select_ad_playlist(ad: &MultivariantPlaylist, target: &VariantTarget) -> Option<String> {
    match &target.kind {
        RenditionKind::Variant | RenditionKind::Subtitles => {
            select_variant(&ad.variants, target).map(|v| v.uri.clone())
        }
        RenditionKind::Audio {
            group,
            language,
            name,
        } => select_audio(ad, group.as_deref(), language.as_deref(), name.as_deref())
            .map(str::to_string)
            .or_else(|| {
                let lightest = VariantTarget {
                    bandwidth: Some(1),
                    ..VariantTarget::default()
                };
                select_variant(&ad.variants, &lightest).map(|v| v.uri.clone())
            }),
        RenditionKind::IFrame => {
            let iframes = iframe_variants(ad);
            select_variant(&iframes, target)
                .or_else(|| select_variant(&ad.variants, target))
                .map(|v| v.uri.clone())
        }
    }
}

/// The ad rendition a content rendition of this kind gets from the ad's media
/// playlist `r`: cue-less WebVTT for subtitles, else `r` itself (`None`).
pub fn ad_for(r: &AdRendition, kind: &RenditionKind) -> Option<AdRendition> {
    match kind {
        RenditionKind::Subtitles => Some(empty_cues(r)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hls::model::parse_multivariant;

    const CONTENT: &str = "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,URI=\"a/en.m3u8\"\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"Deutsch\",LANGUAGE=\"de\",URI=\"a/de.m3u8\"\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",URI=\"s/en.m3u8\"\n#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC1\",INSTREAM-ID=\"CC1\"\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,AUDIO=\"aud\",SUBTITLES=\"subs\",CLOSED-CAPTIONS=\"cc\"\nv0.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,RESOLUTION=640x360,URI=\"v0/iframes.m3u8\"\n";

    #[test]
    fn tells_each_rendition_kind() {
        let m = parse_multivariant(CONTENT).unwrap();
        let base = Url::parse("http://o.example/ch/master.m3u8").unwrap();
        let of = |p: &str| target_of(&m, &base, &base.join(p).unwrap());
        assert_eq!(of("v0.m3u8").kind, RenditionKind::Variant);
        assert_eq!(of("v0.m3u8").resolution, Some((640, 360)));
        assert_eq!(
            of("a/de.m3u8").kind,
            RenditionKind::Audio {
                group: Some("aud".into()),
                language: Some("de".into()),
                name: Some("Deutsch".into())
            }
        );
        assert_eq!(of("s/en.m3u8").kind, RenditionKind::Subtitles);
        let i = of("v0/iframes.m3u8");
        assert_eq!(i.kind, RenditionKind::IFrame);
        assert_eq!(i.bandwidth, Some(90_000));
        assert_eq!(of("elsewhere.m3u8"), VariantTarget::default());
    }

    #[test]
    fn picks_the_ads_audio_by_language_then_default() {
        let ad = parse_multivariant("#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",LANGUAGE=\"en-US\",DEFAULT=YES,URI=\"en.m3u8\"\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"fr\",LANGUAGE=\"fr\",URI=\"fr.m3u8\"\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"de-muxed\",LANGUAGE=\"de\"\n#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO=\"a\"\nv.m3u8\n").unwrap();
        assert_eq!(
            select_audio(&ad, Some("aud"), Some("fr"), None),
            Some("fr.m3u8")
        );
        assert_eq!(select_audio(&ad, None, Some("en"), None), Some("en.m3u8"));
        // No German rendition with a URI: the ad's default.
        assert_eq!(select_audio(&ad, None, Some("de"), None), Some("en.m3u8"));
        let muxed = parse_multivariant("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n").unwrap();
        assert_eq!(select_audio(&muxed, None, Some("en"), None), None);
    }

    #[test]
    fn subtitles_get_empty_cues_on_the_ads_boundaries() {
        let video = AdRendition {
            segments: vec![
                AdSegment {
                    uri: "https://ads.example/ad/0.ts".into(),
                    duration: 2.0,
                    extinf: "#EXTINF:2.000,".into(),
                    discontinuity: false,
                    lines: vec!["#EXT-X-MAP:URI=\"init.mp4\"".into()],
                },
                AdSegment {
                    uri: "https://ads.example/ad/1.ts".into(),
                    duration: 1.5,
                    extinf: "#EXTINF:1.500,".into(),
                    discontinuity: true,
                    lines: Vec::new(),
                },
            ],
        };
        let subs = empty_cues(&video);
        assert_eq!(subs.duration(), 3.5);
        assert!(subs
            .segments
            .iter()
            .all(|s| s.uri == "/v1/vtt/empty.vtt" && s.lines.is_empty()));
        assert!(subs.segments[1].discontinuity);
        assert!(EMPTY_WEBVTT.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,"));
    }

    #[test]
    fn each_kind_gets_its_ad_playlist() {
        let ad = parse_multivariant("#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"de\",LANGUAGE=\"de\",URI=\"a/de.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=1280x720,AUDIO=\"a\"\nhi.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=640x360,AUDIO=\"a\"\nlo.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=50000,URI=\"lo/if.m3u8\"\n").unwrap();
        let of = |kind: RenditionKind| {
            select_ad_playlist(
                &ad,
                &VariantTarget {
                    kind,
                    ..VariantTarget::default()
                },
            )
        };
        assert_eq!(of(RenditionKind::Variant).as_deref(), Some("hi.m3u8"));
        let de = RenditionKind::Audio {
            group: None,
            language: Some("de".into()),
            name: None,
        };
        assert_eq!(of(de.clone()).as_deref(), Some("a/de.m3u8"));
        assert_eq!(of(RenditionKind::IFrame).as_deref(), Some("lo/if.m3u8"));
        let muxed = parse_multivariant("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000\nhi.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=300000\nlo.m3u8\n").unwrap();
        let t = VariantTarget {
            kind: de,
            ..VariantTarget::default()
        };
        assert_eq!(select_ad_playlist(&muxed, &t).as_deref(), Some("lo.m3u8"));
        // No I-frame playlist: the ad's video, whole segments.
        let t = VariantTarget {
            kind: RenditionKind::IFrame,
            ..VariantTarget::default()
        };
        assert_eq!(select_ad_playlist(&muxed, &t).as_deref(), Some("hi.m3u8"));
        let r = AdRendition::default();
        assert!(ad_for(&r, &RenditionKind::IFrame).is_none());
        assert!(ad_for(&r, &RenditionKind::Subtitles).is_some());
    }

    #[test]
    fn ad_iframe_playlists_are_found() {
        let ad = parse_multivariant(CONTENT).unwrap();
        let v = iframe_variants(&ad);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].uri, "v0/iframes.m3u8");
        assert_eq!(v[0].bandwidth, 90_000);
    }
}
