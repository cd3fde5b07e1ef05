//! The target profile read from a content MPD, so a DASH-only channel transcodes
//! MP4 creatives with no extra configuration.
//!
//! Pure. The first Period that has video gives the video Representations
//! (`@codecs`, `@width`/`@height`, `@frameRate`, `@bandwidth`, each on the
//! Representation or inherited from its AdaptationSet; ISO/IEC 23009-1 §5.3.7),
//! the first audio AdaptationSet the audio (`@codecs`, `@audioSamplingRate`,
//! `AudioChannelConfiguration`, `@bandwidth`), and the video's segment addressing
//! the segment duration (`SegmentTemplate@duration`/`@timescale`, else the most
//! common `S@d` of its `SegmentTimeline`). The output's own timescales are the
//! ones ffmpeg writes (the ad MPD states them), so the content's are not copied.
//! DASH-IF IOP requires every value read here of a live/on-demand profile MPD;
//! one that lacks any is refused with the reason, never guessed.

use super::profile::{
    parse_audio_codecs, parse_video_codecs, typical_segment_duration, AudioTarget, Container,
    ProfileError, Rendition, TargetProfile,
};
use crate::dash::xml::{Document, Element};

/// `AudioChannelConfiguration` scheme: the value is the channel count.
const CHANNELS_23003: &str = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011";
/// `AudioChannelConfiguration` scheme: the value is a CICP ChannelConfiguration
/// (ISO/IEC 23001-8).
const CHANNELS_CICP: &str = "urn:mpeg:mpegB:cicp:ChannelConfiguration";
/// DASH-IF trick-mode AdaptationSets carry no regular video.
const TRICKMODE: &str = "http://dashif.org/guidelines/trickmode";

/// An attribute of a Representation, else of its AdaptationSet.
fn inherited(rep: &Element, set: &Element, name: &str) -> Option<String> {
    rep.attr(name).or_else(|| set.attr(name))
}

/// `video`, `audio`, `text` or whatever else an AdaptationSet says it holds.
fn kind(set: &Element) -> String {
    if let Some(t) = set.attr("contentType") {
        return t;
    }
    let rep = set.child("Representation");
    let mime = set
        .attr("mimeType")
        .or_else(|| rep.and_then(|r| r.attr("mimeType")))
        .unwrap_or_default();
    mime.split('/').next().unwrap_or_default().to_string()
}

fn is_trickmode(set: &Element) -> bool {
    set.elements().any(|e| {
        matches!(e.local_name(), "EssentialProperty" | "SupplementalProperty")
            && e.attr("schemeIdUri").as_deref() == Some(TRICKMODE)
    })
}

/// `@frameRate`: `25`, `30000/1001`.
pub fn parse_frame_rate(s: &str) -> Option<f64> {
    let s = s.trim();
    let fps = match s.split_once('/') {
        Some((n, d)) => n.trim().parse::<f64>().ok()? / d.trim().parse::<f64>().ok()?,
        None => s.parse().ok()?,
    };
    (fps.is_finite() && fps > 0.0).then_some(fps)
}

/// The channel count an `AudioChannelConfiguration` states, for the schemes that
/// state one plainly (23003-3 counts; CICP indexes 1-7 and 9-12, 14-17, 19).
fn channels(cfg: &Element) -> Option<u32> {
    let value = cfg.attr("value")?;
    let v: u32 = value.trim().parse().ok()?;
    match cfg.attr("schemeIdUri")?.as_str() {
        CHANNELS_23003 => (v > 0).then_some(v),
        CHANNELS_CICP => match v {
            1..=6 => Some(v),
            7 => Some(8),
            9 => Some(3),
            10 => Some(4),
            11 => Some(7),
            12 | 14 => Some(8),
            15 => Some(12),
            16 => Some(10),
            17 => Some(12),
            19 => Some(12),
            _ => None,
        },
        _ => None,
    }
}

/// The segment duration, seconds, of the segment addressing under `set` (its own
/// or its first Representation's): `SegmentTemplate@duration`, else the most
/// common `S@d` of its `SegmentTimeline`.
fn segment_duration(set: &Element) -> Option<f64> {
    let templates = set.children_named("SegmentTemplate").chain(
        set.children_named("Representation")
            .flat_map(|r| r.children_named("SegmentTemplate")),
    );
    let mut timescale_above = 1.0;
    for t in templates {
        let ts = t
            .attr("timescale")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| *v > 0.0)
            .unwrap_or(timescale_above);
        timescale_above = ts;
        if let Some(d) = t
            .attr("duration")
            .and_then(|d| d.trim().parse::<f64>().ok())
        {
            if d > 0.0 {
                return Some(d / ts);
            }
        }
        if let Some(tl) = t.child("SegmentTimeline") {
            let mut ds = Vec::new();
            for s in tl.children_named("S") {
                let Some(d) = s.attr("d").and_then(|d| d.trim().parse::<f64>().ok()) else {
                    continue;
                };
                let r = s
                    .attr("r")
                    .and_then(|r| r.trim().parse::<i64>().ok())
                    .unwrap_or(0)
                    .clamp(0, 1000);
                for _ in 0..=r {
                    ds.push(d / ts);
                }
            }
            if let Some(d) = typical_segment_duration(&ds).filter(|d| *d > 0.0) {
                return Some(d);
            }
        }
    }
    None
}

/// The audio target of an audio AdaptationSet (its first Representation).
fn audio_target(set: &Element) -> Result<AudioTarget, ProfileError> {
    let err = |what: &str| ProfileError(format!("audio AdaptationSet: {what}"));
    let rep = set
        .child("Representation")
        .ok_or_else(|| err("no Representation"))?;
    let codecs = inherited(rep, set, "codecs").ok_or_else(|| err("no @codecs"))?;
    let codec = codecs
        .split(',')
        .find_map(parse_audio_codecs)
        .ok_or_else(|| err(&format!("codec {codecs} is not one we encode")))?;
    // One value, or two (minimum and maximum): the output rate is the larger.
    let sample_rate = inherited(rep, set, "audioSamplingRate")
        .and_then(|r| {
            r.split_whitespace()
                .filter_map(|v| v.parse::<u32>().ok())
                .max()
        })
        .filter(|r| *r > 0)
        .ok_or_else(|| err("no @audioSamplingRate"))?;
    let channels = rep
        .children_named("AudioChannelConfiguration")
        .chain(set.children_named("AudioChannelConfiguration"))
        .find_map(channels)
        .ok_or_else(|| err("no AudioChannelConfiguration with a channel count"))?;
    // As for a probed rate: 8 kbit/s steps, within sane bounds.
    let bitrate = rep
        .attr("bandwidth")
        .and_then(|b| b.trim().parse::<u64>().ok())
        .map_or(64_000 * u64::from(channels), |b| {
            (b.div_ceil(8_000) * 8_000).clamp(16_000, 640_000)
        });
    Ok(AudioTarget {
        codec,
        sample_rate,
        channels,
        bitrate,
    })
}

/// The target profile of the content an MPD describes (see the module docs).
pub fn profile_from_mpd(doc: &Document) -> Result<TargetProfile, ProfileError> {
    let video_sets = |p: &'_ Element| -> Vec<Element> {
        p.children_named("AdaptationSet")
            .filter(|s| kind(s) == "video" && !is_trickmode(s))
            .cloned()
            .collect()
    };
    let period = doc
        .root
        .children_named("Period")
        .find(|p| !video_sets(p).is_empty())
        .ok_or_else(|| ProfileError("the MPD has no Period with a video AdaptationSet".into()))?;
    let mut renditions: Vec<Rendition> = Vec::new();
    let mut segment = None;
    for set in period
        .children_named("AdaptationSet")
        .filter(|s| kind(s) == "video" && !is_trickmode(s))
    {
        if segment.is_none() {
            segment = segment_duration(set);
        }
        for rep in set.children_named("Representation") {
            let id = rep.attr("id").unwrap_or_default();
            let err = |what: &str| ProfileError(format!("Representation {id}: {what}"));
            let codecs = inherited(rep, set, "codecs").ok_or_else(|| err("no @codecs"))?;
            let Some((entry, (codec, profile, level))) = codecs
                .split(',')
                .map(str::trim)
                .find_map(|e| parse_video_codecs(e).map(|p| (e, p)))
            else {
                return Err(err(&format!("codec {codecs} is not one we encode")));
            };
            let dim = |name: &str| {
                inherited(rep, set, name)
                    .and_then(|v| v.trim().parse::<u32>().ok())
                    .filter(|v| *v > 0)
                    .ok_or_else(|| err(&format!("no @{name}")))
            };
            let (width, height) = (dim("width")?, dim("height")?);
            let fps = inherited(rep, set, "frameRate")
                .and_then(|f| parse_frame_rate(&f))
                .ok_or_else(|| err("no @frameRate"))?;
            let bandwidth = rep
                .attr("bandwidth")
                .and_then(|b| b.trim().parse::<u64>().ok())
                .filter(|b| *b > 0)
                .ok_or_else(|| err("no @bandwidth"))?;
            if renditions
                .iter()
                .any(|r| (r.width, r.height, r.bandwidth) == (width, height, bandwidth))
            {
                continue;
            }
            renditions.push(Rendition {
                name: format!("v{}", renditions.len()),
                bandwidth,
                width,
                height,
                fps,
                codec,
                profile,
                level,
                codecs: entry.to_string(),
            });
        }
    }
    if renditions.is_empty() {
        return Err(ProfileError("no video Representation".into()));
    }
    let audio = period
        .children_named("AdaptationSet")
        .find(|s| kind(s) == "audio")
        .map(audio_target)
        .transpose()?;
    let segment_duration =
        segment.ok_or_else(|| ProfileError("the video has no SegmentTemplate duration".into()))?;
    Ok(TargetProfile {
        renditions,
        audio,
        segment_duration,
        container: Container::Fmp4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dash::parse;
    use crate::transcode::profile::{AudioCodec, VideoCodec};

    /// The demo's content MPD (`demo/media/dash/content/manifest.mpd`), with a
    /// second audio language, a text track and a trick-mode set added.
    const MPD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT60S" minBufferTime="PT4S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1" maxWidth="320" maxHeight="180" frameRate="25" par="16:9">
      <SegmentTemplate timescale="12800" duration="25600" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="v0" codecs="avc1.4d401e" bandwidth="75844" width="320" height="180" sar="1:1"/>
      <Representation id="v1" codecs="avc1.4d401e" bandwidth="33424" width="160" height="90" sar="1:1"/>
    </AdaptationSet>
    <AdaptationSet id="9" contentType="video" mimeType="video/mp4" frameRate="1">
      <EssentialProperty schemeIdUri="http://dashif.org/guidelines/trickmode" value="0"/>
      <Representation id="t0" codecs="avc1.4d401e" bandwidth="5000" width="160" height="90"/>
    </AdaptationSet>
    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" lang="en">
      <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="1"/>
      <SegmentTemplate timescale="48000" duration="96000" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="a0" codecs="mp4a.40.2" bandwidth="18942" audioSamplingRate="48000"/>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" lang="fr">
      <Representation id="a1" codecs="ac-3" bandwidth="192000" audioSamplingRate="44100"/>
    </AdaptationSet>
    <AdaptationSet id="3" contentType="text" mimeType="text/vtt" lang="en">
      <Representation id="s0" bandwidth="256"><BaseURL>subs.vtt</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>"#;

    #[test]
    fn the_demo_mpd_gives_its_ladder_audio_and_segment() {
        let p = profile_from_mpd(&parse(MPD).unwrap()).unwrap();
        assert_eq!(
            p.renditions.len(),
            2,
            "the trick-mode set is not a rendition"
        );
        let r = &p.renditions[0];
        assert_eq!(
            (
                r.name.as_str(),
                r.width,
                r.height,
                r.fps,
                r.bandwidth,
                r.codec,
                r.profile.as_str(),
                r.level,
                r.codecs.as_str()
            ),
            (
                "v0",
                320,
                180,
                25.0,
                75_844,
                VideoCodec::H264,
                "main",
                30,
                "avc1.4d401e"
            )
        );
        assert_eq!(
            (p.renditions[1].width, p.renditions[1].name.as_str()),
            (160, "v1")
        );
        let a = p.audio.unwrap();
        assert_eq!(
            (a.codec, a.sample_rate, a.channels, a.bitrate),
            (AudioCodec::AacLc, 48_000, 1, 24_000),
            "the first audio set's"
        );
        assert_eq!(p.segment_duration, 2.0);
        assert_eq!(p.container, Container::Fmp4);
    }

    #[test]
    fn values_on_the_representation_timelines_and_cicp() {
        let mpd = r#"<MPD type="dynamic"><Period id="ad"><AdaptationSet contentType="audio"/></Period><Period id="p">
<AdaptationSet mimeType="video/mp4" codecs="hvc1.2.4.L123.B0">
  <SegmentTemplate timescale="90000"><SegmentTimeline><S t="0" d="540540" r="4"/><S d="180180"/></SegmentTimeline></SegmentTemplate>
  <Representation id="hd" bandwidth="4000000" width="1920" height="1080" frameRate="30000/1001"/>
</AdaptationSet>
<AdaptationSet mimeType="audio/mp4">
  <Representation id="a" codecs="mp4a.40.5" bandwidth="64000" audioSamplingRate="24000 48000">
    <AudioChannelConfiguration schemeIdUri="urn:mpeg:mpegB:cicp:ChannelConfiguration" value="6"/>
  </Representation>
</AdaptationSet></Period></MPD>"#;
        let p = profile_from_mpd(&parse(mpd).unwrap()).unwrap();
        let r = &p.renditions[0];
        assert_eq!(
            (r.codec, r.profile.as_str(), r.level, r.height),
            (VideoCodec::Hevc, "main10", 41, 1080)
        );
        assert!((r.fps - 29.97).abs() < 0.01);
        assert_eq!(p.segment_duration, 6.006);
        let a = p.audio.unwrap();
        assert_eq!(
            (a.codec, a.sample_rate, a.channels),
            (AudioCodec::HeAac, 48_000, 6)
        );
    }

    #[test]
    fn what_is_missing_is_named_not_guessed() {
        let refuse = |from: &str, to: &str, why: &str| {
            let mpd = MPD.replace(from, to);
            let e = profile_from_mpd(&parse(&mpd).unwrap()).unwrap_err();
            assert!(e.0.contains(why), "{from} -> {to}: {e}");
        };
        refuse(" frameRate=\"25\"", "", "Representation v0: no @frameRate");
        refuse(" audioSamplingRate=\"48000\"", "", "no @audioSamplingRate");
        refuse(
            "audio_channel_configuration:2011",
            "x",
            "AudioChannelConfiguration",
        );
        refuse(
            "avc1.4d401e\" bandwidth=\"75844",
            "vp09.00.10.08\" bandwidth=\"75844",
            "vp09",
        );
        refuse(" duration=\"25600\"", "", "SegmentTemplate duration");
        refuse(
            "contentType=\"video\" mimeType=\"video/mp4\" segment",
            "contentType=\"image\" segment",
            "no Period with a video",
        );
        // No audio AdaptationSet at all: a video-only profile.
        let mpd = MPD.replace("contentType=\"audio\"", "contentType=\"other\"");
        assert!(profile_from_mpd(&parse(&mpd).unwrap())
            .unwrap()
            .audio
            .is_none());
        assert_eq!(parse_frame_rate("0"), None);
        assert_eq!(parse_frame_rate("1/0"), None);
    }
}
