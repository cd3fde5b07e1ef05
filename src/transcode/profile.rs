//! The target profile: what an ad must look like to pass for the content, per
//! rendition (codec, profile, level, resolution, frame rate, bit rate) plus the
//! audio (codec, sample rate, channels), the container and the segment duration.
//!
//! Read from the content's multivariant playlist (`BANDWIDTH`, `RESOLUTION`,
//! `CODECS`, `FRAME-RATE`; RFC 8216 §4.3.4.2) and, for what it does not say (audio
//! sample rate and channels always; the rest when missing), by probing one content
//! segment. The pure part ([`build_profile`] and the `CODECS` readers) takes
//! values; [`fetch_profile`] does the fetches and the probe.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::probe::{probe_file, MediaInfo};
use crate::hls::model::{MAP, STREAM_INF};
use crate::hls::{attr, parse_playlist, Playlist};
use crate::origin::fetch_text;

/// Largest content segment fetched for a probe.
const MAX_PROBE_SEGMENT_BYTES: usize = 64 * 1024 * 1024;

/// A video codec we can encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoCodec {
    /// H.264 / AVC (`avc1`, `avc3`).
    H264,
    /// H.265 / HEVC (`hvc1`, `hev1`).
    Hevc,
}

/// One video rendition of the content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendition {
    /// Name in the outputs (`v0`, `v1`...), in the content's order.
    pub name: String,
    /// `BANDWIDTH`, bit/s.
    pub bandwidth: u64,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: f64,
    /// Codec.
    pub codec: VideoCodec,
    /// Profile, lower case: `baseline`, `main`, `high` (H.264); `main`, `main10` (HEVC).
    pub profile: String,
    /// Level × 10 (H.264 `level_idc`: 31 for 3.1; HEVC: general_level_idc / 3).
    pub level: u32,
    /// The video part of `CODECS` (`avc1.64001f`).
    pub codecs: String,
}

/// An audio codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AudioCodec {
    /// AAC-LC (`mp4a.40.2`).
    AacLc,
    /// HE-AAC v1 (`mp4a.40.5`).
    HeAac,
    /// HE-AAC v2 (`mp4a.40.29`).
    HeAacV2,
    /// AC-3 (`ac-3`).
    Ac3,
    /// E-AC-3 (`ec-3`).
    Eac3,
}

impl AudioCodec {
    /// Its `CODECS` string.
    pub fn codecs(self) -> &'static str {
        match self {
            AudioCodec::AacLc => "mp4a.40.2",
            AudioCodec::HeAac => "mp4a.40.5",
            AudioCodec::HeAacV2 => "mp4a.40.29",
            AudioCodec::Ac3 => "ac-3",
            AudioCodec::Eac3 => "ec-3",
        }
    }
}

/// The content's audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioTarget {
    /// Codec.
    pub codec: AudioCodec,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u32,
    /// Bit rate, bit/s.
    pub bitrate: u64,
}

/// HLS segment container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// MPEG-TS.
    Ts,
    /// Fragmented MP4 with `EXT-X-MAP`.
    Fmp4,
}

/// Everything an ad must match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetProfile {
    /// Video renditions, content order.
    pub renditions: Vec<Rendition>,
    /// Audio (muxed into every rendition), if the content has audio.
    pub audio: Option<AudioTarget>,
    /// Target segment duration, seconds.
    pub segment_duration: f64,
    /// HLS container.
    pub container: Container,
}

/// What a multivariant playlist says about one variant.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VariantInfo {
    /// URI as written.
    pub uri: String,
    /// `BANDWIDTH`.
    pub bandwidth: u64,
    /// `RESOLUTION`.
    pub resolution: Option<(u32, u32)>,
    /// `CODECS`.
    pub codecs: Option<String>,
    /// `FRAME-RATE`.
    pub frame_rate: Option<f64>,
}

/// The variants of a multivariant playlist, with `FRAME-RATE` read too.
pub fn variants_of(lines: &[String]) -> Vec<VariantInfo> {
    let mut out = Vec::new();
    let mut pending: Option<&str> = None;
    for line in lines {
        let t = line.trim();
        if let Some(attrs) = t.strip_prefix(STREAM_INF) {
            pending = Some(attrs);
        } else if !t.is_empty() && !t.starts_with('#') {
            if let Some(attrs) = pending.take() {
                out.push(VariantInfo {
                    uri: t.to_string(),
                    bandwidth: attr::attribute(attrs, "BANDWIDTH")
                        .and_then(|b| b.parse().ok())
                        .unwrap_or(0),
                    resolution: attr::resolution(attrs),
                    codecs: attr::attribute(attrs, "CODECS").map(str::to_string),
                    frame_rate: attr::attribute(attrs, "FRAME-RATE").and_then(|f| f.parse().ok()),
                });
            }
        }
    }
    out
}

/// Read an `avc1.PPCCLL` / `hvc1.P.C.Lnn...` entry: (codec, profile, level × 10).
pub fn parse_video_codecs(entry: &str) -> Option<(VideoCodec, String, u32)> {
    let entry = entry.trim();
    let (fourcc, rest) = entry.split_once('.')?;
    match fourcc {
        "avc1" | "avc3" if rest.len() == 6 => {
            let p = u8::from_str_radix(&rest[0..2], 16).ok()?;
            let level = u8::from_str_radix(&rest[4..6], 16).ok()? as u32;
            let profile = match p {
                66 => "baseline",
                77 => "main",
                88 => "extended",
                100 => "high",
                110 => "high10",
                122 => "high422",
                244 => "high444",
                _ => return None,
            };
            Some((VideoCodec::H264, profile.to_string(), level))
        }
        "hvc1" | "hev1" => {
            let mut parts = rest.split('.');
            let profile = match parts.next()?.trim_start_matches(['A', 'B', 'C']) {
                "1" => "main",
                "2" => "main10",
                _ => return None,
            };
            let level = parts
                .find(|p| p.starts_with('L') || p.starts_with('H'))
                .and_then(|p| p[1..].parse::<u32>().ok())?;
            Some((VideoCodec::Hevc, profile.to_string(), level / 3))
        }
        _ => None,
    }
}

/// Read an audio `CODECS` entry.
pub fn parse_audio_codecs(entry: &str) -> Option<AudioCodec> {
    match entry.trim() {
        "mp4a.40.2" | "mp4a.40.02" => Some(AudioCodec::AacLc),
        "mp4a.40.5" | "mp4a.40.05" => Some(AudioCodec::HeAac),
        "mp4a.40.29" => Some(AudioCodec::HeAacV2),
        "ac-3" => Some(AudioCodec::Ac3),
        "ec-3" => Some(AudioCodec::Eac3),
        _ => None,
    }
}

/// ffprobe's codec and profile → our codec and profile names.
fn probed_video(info: &MediaInfo) -> Option<(VideoCodec, String, u32)> {
    let v = info.video.as_ref()?;
    let codec = match v.codec.as_str() {
        "h264" => VideoCodec::H264,
        "hevc" => VideoCodec::Hevc,
        _ => return None,
    };
    let profile = normalize_profile(&v.profile);
    let level = match codec {
        VideoCodec::H264 => v.level.max(0) as u32,
        VideoCodec::Hevc => (v.level.max(0) / 3) as u32,
    };
    Some((codec, profile, level))
}

/// ffprobe's profile name in our spelling: `Constrained Baseline` → `baseline`,
/// `Main 10` → `main10`.
pub fn normalize_profile(p: &str) -> String {
    let p = p.to_ascii_lowercase().replace("constrained ", "");
    p.replace(' ', "")
        .replace("4:2:2", "422")
        .replace("4:4:4", "444")
}

/// The video `CODECS` entry for a codec, profile and level.
pub fn video_codecs(codec: VideoCodec, profile: &str, level: u32) -> String {
    match codec {
        VideoCodec::H264 => {
            let (p, c) = match profile {
                "baseline" => (66, 0xC0),
                "main" => (77, 0x40),
                "extended" => (88, 0),
                "high10" => (110, 0),
                "high422" => (122, 0),
                "high444" => (244, 0),
                _ => (100, 0),
            };
            format!("avc1.{p:02x}{c:02x}{level:02x}")
        }
        VideoCodec::Hevc => {
            let p = if profile == "main10" { 2 } else { 1 };
            format!("hvc1.{p}.6.L{}.B0", level * 3)
        }
    }
}

fn audio_from_probe(info: &MediaInfo, declared: Option<AudioCodec>) -> Option<AudioTarget> {
    let a = info.audio.as_ref()?;
    let codec = declared.or(match (a.codec.as_str(), a.profile.as_str()) {
        ("aac", "HE-AAC") => Some(AudioCodec::HeAac),
        ("aac", "HE-AACv2") => Some(AudioCodec::HeAacV2),
        ("aac", _) => Some(AudioCodec::AacLc),
        ("ac3", _) => Some(AudioCodec::Ac3),
        ("eac3", _) => Some(AudioCodec::Eac3),
        _ => None,
    })?;
    let default = match codec {
        AudioCodec::HeAac | AudioCodec::HeAacV2 => 32_000,
        AudioCodec::AacLc => 64_000,
        AudioCodec::Ac3 | AudioCodec::Eac3 => 96_000,
    } * u64::from(a.channels.max(1));
    // Round the measured rate to 8 kbit/s steps, within sane bounds.
    let bitrate = a
        .bitrate
        .map(|b| (b.div_ceil(8_000) * 8_000).clamp(16_000, 640_000))
        .unwrap_or(default);
    Some(AudioTarget {
        codec,
        sample_rate: a.sample_rate,
        channels: a.channels,
        bitrate,
    })
}

/// Why no profile could be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("no target profile: {0}")]
pub struct ProfileError(pub String);

/// Build the profile from the variants and, per variant, an optional probe of one
/// of its segments (at least the first variant's is needed for the audio). Pure.
pub fn build_profile(
    variants: &[VariantInfo],
    probes: &[Option<MediaInfo>],
    segment_duration: f64,
    container: Container,
) -> Result<TargetProfile, ProfileError> {
    let mut renditions: Vec<Rendition> = Vec::new();
    let mut audio = None;
    let mut has_audio_codec = false;
    for (i, v) in variants.iter().enumerate() {
        let probe = probes.get(i).and_then(Option::as_ref);
        let entries: Vec<&str> = v
            .codecs
            .as_deref()
            .map(|c| c.split(',').map(str::trim).collect())
            .unwrap_or_default();
        let declared_audio = entries.iter().find_map(|e| parse_audio_codecs(e));
        has_audio_codec |= declared_audio.is_some();
        let declared_video = entries.iter().find_map(|e| parse_video_codecs(e));
        if audio.is_none() {
            audio = probe.and_then(|p| audio_from_probe(p, declared_audio));
        }
        let Some((codec, profile, level)) = declared_video
            .clone()
            .or_else(|| probe.and_then(probed_video))
        else {
            if entries.is_empty() && probe.is_none() {
                return Err(ProfileError(format!(
                    "variant {} has no CODECS and could not be probed",
                    v.uri
                )));
            }
            continue; // audio-only variant
        };
        let (width, height) = match v
            .resolution
            .or_else(|| probe.and_then(|p| p.video.as_ref().map(|v| (v.width, v.height))))
        {
            Some(r) => r,
            None => {
                return Err(ProfileError(format!("variant {} has no resolution", v.uri)));
            }
        };
        let fps = v
            .frame_rate
            .or_else(|| probe.and_then(|p| p.video.as_ref().map(|v| v.fps)))
            .filter(|f| *f > 0.0)
            .ok_or_else(|| ProfileError(format!("variant {} has no frame rate", v.uri)))?;
        let codecs = entries
            .iter()
            .find(|e| parse_video_codecs(e).is_some())
            .map(|e| e.to_string())
            .unwrap_or_else(|| video_codecs(codec, &profile, level));
        // Two variants that differ only in their audio are one video rendition.
        if renditions
            .iter()
            .any(|r| (r.width, r.height, r.bandwidth) == (width, height, v.bandwidth))
        {
            continue;
        }
        renditions.push(Rendition {
            name: format!("v{}", renditions.len()),
            bandwidth: v.bandwidth,
            width,
            height,
            fps,
            codec,
            profile,
            level,
            codecs,
        });
    }
    if renditions.is_empty() {
        return Err(ProfileError("no video rendition".into()));
    }
    if has_audio_codec && audio.is_none() {
        return Err(ProfileError(
            "the content has audio but no segment could be probed for it".into(),
        ));
    }
    if segment_duration.is_nan() || segment_duration <= 0.0 {
        return Err(ProfileError("no segment duration".into()));
    }
    Ok(TargetProfile {
        renditions,
        audio,
        segment_duration,
        container,
    })
}

/// The most common segment duration of a media playlist, to the millisecond.
pub fn typical_segment_duration(durations: &[f64]) -> Option<f64> {
    let mut counts: Vec<(u64, usize)> = Vec::new();
    for d in durations {
        let ms = (d * 1000.0).round() as u64;
        match counts.iter_mut().find(|(k, _)| *k == ms) {
            Some(c) => c.1 += 1,
            None => counts.push((ms, 1)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|(ms, n)| (*n, *ms))
        .map(|(ms, _)| ms as f64 / 1000.0)
}

// === I/O ===

/// Fetch what a profile needs: the multivariant playlist at `url` (or a single
/// media playlist, or an MPD, which alone is enough), each variant's media playlist as needed, and one segment of
/// each variant the playlist does not fully describe (always the first, for the
/// audio). Probing uses `work` for the downloaded segment.
pub async fn fetch_profile(
    http: &reqwest::Client,
    ffprobe: &str,
    url: &Url,
    timeout: Duration,
    work: &Path,
) -> Result<TargetProfile, ProfileError> {
    let err = |what: &str, e: &dyn std::fmt::Display| ProfileError(format!("{what}: {e}"));
    let text = fetch_text(http, url.as_str(), timeout, 4 * 1024 * 1024, &[])
        .await
        .map_err(|e| err(url.as_str(), &e))?;
    // An MPD says everything the profile needs (see `dash_profile`): no probe.
    if text.trim_start().starts_with('<') {
        let doc = crate::dash::parse(&text).map_err(|e| err(url.as_str(), &e))?;
        return super::dash_profile::profile_from_mpd(&doc)
            .map_err(|e| ProfileError(format!("{url}: {}", e.0)));
    }
    let (variants, base) = match parse_playlist(&text).map_err(|e| err(url.as_str(), &e))? {
        Playlist::Multivariant(m) => (variants_of(&m.lines), url.clone()),
        Playlist::Media(_) => (
            vec![VariantInfo {
                uri: url.to_string(),
                ..VariantInfo::default()
            }],
            url.clone(),
        ),
    };
    if variants.is_empty() {
        return Err(ProfileError(format!("{url}: no variants")));
    }
    tokio::fs::create_dir_all(work)
        .await
        .map_err(|e| err("work directory", &e))?;
    let mut probes = Vec::with_capacity(variants.len());
    let mut segment_duration = None;
    let mut container = Container::Ts;
    for (i, v) in variants.iter().enumerate() {
        let complete = v.resolution.is_some() && v.codecs.is_some() && v.frame_rate.is_some();
        if i > 0 && complete {
            probes.push(None);
            continue;
        }
        let media_url = crate::urls::join(&base, &v.uri).map_err(|e| err(&v.uri, &e))?;
        let text = fetch_text(http, media_url.as_str(), timeout, 4 * 1024 * 1024, &[])
            .await
            .map_err(|e| err(media_url.as_str(), &e))?;
        let Ok(Playlist::Media(pl)) = parse_playlist(&text) else {
            return Err(ProfileError(format!("{media_url}: not a media playlist")));
        };
        let durations: Vec<f64> = pl.segments.iter().map(|s| s.duration).collect();
        let map_uri = pl
            .segments
            .iter()
            .flat_map(|s| &s.lines)
            .chain(&pl.header)
            .find(|l| l.starts_with(MAP))
            .and_then(|l| attr::attribute(&l[MAP.len()..], "URI").map(str::to_string));
        if i == 0 {
            segment_duration = typical_segment_duration(&durations);
            if map_uri.is_some() {
                container = Container::Fmp4;
            }
        }
        let Some(first) = pl.segments.first() else {
            return Err(ProfileError(format!("{media_url}: no segments")));
        };
        let mut bytes = Vec::new();
        if let Some(map) = &map_uri {
            bytes.extend(
                fetch_bytes(
                    http,
                    &crate::urls::join(&media_url, map).map_err(|e| err(map, &e))?,
                    timeout,
                )
                .await?,
            );
        }
        let seg_url = crate::urls::join(&media_url, &first.uri).map_err(|e| err(&first.uri, &e))?;
        bytes.extend(fetch_bytes(http, &seg_url, timeout).await?);
        let file = work.join(format!("probe-{i}"));
        tokio::fs::write(&file, &bytes)
            .await
            .map_err(|e| err("probe file", &e))?;
        let info = probe_file(ffprobe, &file, timeout.max(Duration::from_secs(10))).await;
        let _ = tokio::fs::remove_file(&file).await;
        probes.push(Some(info.map_err(|e| err(seg_url.as_str(), &e))?));
    }
    build_profile(
        &variants,
        &probes,
        segment_duration.unwrap_or(0.0),
        container,
    )
}

async fn fetch_bytes(
    http: &reqwest::Client,
    url: &Url,
    timeout: Duration,
) -> Result<Vec<u8>, ProfileError> {
    let work = async {
        let resp = http
            .get(url.as_str())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP status {}", resp.status().as_u16()));
        }
        if resp
            .content_length()
            .is_some_and(|l| l > MAX_PROBE_SEGMENT_BYTES as u64)
        {
            return Err("segment too large".into());
        }
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        Ok(body.to_vec())
    };
    match tokio::time::timeout(timeout.max(Duration::from_secs(10)), work).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(e)) => Err(ProfileError(format!("{url}: {e}"))),
        Err(_) => Err(ProfileError(format!("{url}: timed out"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcode::probe::{AudioInfo, VideoInfo};

    const MASTER: &str = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\",FRAME-RATE=30.000\nhi/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1200000,RESOLUTION=854x480,CODECS=\"avc1.4d401e,mp4a.40.2\",FRAME-RATE=30\nmid/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=640x360,CODECS=\"avc1.42c01e,mp4a.40.2\"\nlo/index.m3u8\n";

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_string).collect()
    }

    fn probe(w: u32, h: u32) -> MediaInfo {
        MediaInfo {
            duration: 2.0,
            video: Some(VideoInfo {
                codec: "h264".into(),
                profile: "Constrained Baseline".into(),
                level: 30,
                width: w,
                height: h,
                fps: 30.0,
                pix_fmt: "yuv420p".into(),
                keyframes: vec![0.0],
                duration: 2.0,
                bitrate: None,
            }),
            audio: Some(AudioInfo {
                codec: "aac".into(),
                profile: "LC".into(),
                sample_rate: 48000,
                channels: 2,
                bitrate: Some(125_000),
            }),
        }
    }

    #[test]
    fn codecs_strings_are_read_and_written() {
        assert_eq!(
            parse_video_codecs("avc1.64001f"),
            Some((VideoCodec::H264, "high".into(), 31))
        );
        assert_eq!(
            parse_video_codecs("avc1.42c01e"),
            Some((VideoCodec::H264, "baseline".into(), 30))
        );
        assert_eq!(
            parse_video_codecs("hvc1.2.4.L123.B0"),
            Some((VideoCodec::Hevc, "main10".into(), 41))
        );
        assert_eq!(parse_video_codecs("mp4a.40.2"), None);
        assert_eq!(video_codecs(VideoCodec::H264, "high", 31), "avc1.64001f");
        assert_eq!(
            video_codecs(VideoCodec::H264, "baseline", 30),
            "avc1.42c01e"
        );
        assert_eq!(parse_audio_codecs("mp4a.40.5"), Some(AudioCodec::HeAac));
        assert_eq!(normalize_profile("Constrained Baseline"), "baseline");
        assert_eq!(normalize_profile("Main 10"), "main10");
    }

    #[test]
    fn profile_from_the_playlist_and_one_probe() {
        let v = variants_of(&lines(MASTER));
        assert_eq!(v.len(), 3);
        assert_eq!(v[1].frame_rate, Some(30.0));
        assert_eq!(v[2].frame_rate, None);
        let p = build_profile(
            &v,
            &[Some(probe(1280, 720)), None, Some(probe(640, 360))],
            2.0,
            Container::Ts,
        )
        .unwrap();
        assert_eq!(p.renditions.len(), 3);
        let r = &p.renditions[0];
        assert_eq!(
            (r.width, r.height, r.profile.as_str(), r.level),
            (1280, 720, "high", 31)
        );
        let lo = &p.renditions[2];
        assert_eq!((lo.profile.as_str(), lo.fps), ("baseline", 30.0));
        let a = p.audio.unwrap();
        assert_eq!(
            (a.codec, a.sample_rate, a.channels, a.bitrate),
            (AudioCodec::AacLc, 48000, 2, 128_000)
        );
        // A variant with neither FRAME-RATE nor a probe cannot be matched.
        assert!(build_profile(&v, &[Some(probe(1280, 720))], 2.0, Container::Ts).is_err());
    }

    #[test]
    fn typical_duration_is_the_mode() {
        assert_eq!(
            typical_segment_duration(&[6.006, 6.006, 4.0, 6.006]),
            Some(6.006)
        );
        assert_eq!(typical_segment_duration(&[]), None);
    }
}
