//! The transcoding plan and the ffmpeg command lines that carry it out, and the
//! playlists written over the results.
//!
//! Pure: a probed source and a target profile in, decisions and argument lists out.
//! Per rendition: **remux** (the fast path) when the source already has its codec,
//! profile, resolution and frame rate and keyframes on the segment grid, else
//! **encode** (H.264/HEVC with a keyframe at every segment boundary). Audio is always
//! encoded to the content's codec, rate and channels, with the gain that brings it
//! to the loudness target (ATSC A/85: -24 LKFS by default), and padded or cut to the
//! video's duration.

use std::fmt::Write as _;

use super::input::{input_args, CREATIVE_FORMATS, INTERMEDIATE_FORMATS};
use super::probe::{MediaInfo, VideoInfo};
use super::profile::{AudioCodec, AudioTarget, Container, Rendition, TargetProfile, VideoCodec};

/// True-peak ceiling after the loudness gain, dBTP; above it a limiter runs.
pub const TRUE_PEAK_LIMIT: f64 = -1.0;
/// Share of a rendition's `BANDWIDTH` given to video (the rest: audio, container).
const VIDEO_SHARE: f64 = 0.8;

/// What happens to one rendition.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRendition {
    /// The target.
    pub rendition: Rendition,
    /// Copy the source's video (fast path) rather than encode it.
    pub remux: bool,
    /// Video bit rate when encoding, bit/s.
    pub video_bitrate: u64,
}

/// The audio to make.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioPlan {
    /// The target.
    pub target: AudioTarget,
    /// Take it from the source (else: silence, for a source without audio).
    pub from_source: bool,
    /// Gain, dB.
    pub gain_db: f64,
    /// Run a limiter after the gain (the peak would pass [`TRUE_PEAK_LIMIT`]).
    pub limit: bool,
    /// ffmpeg encoder name.
    pub encoder: String,
}

/// The whole job.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Output duration (the source video's), seconds.
    pub duration: f64,
    /// Segment duration, seconds.
    pub segment: f64,
    /// HLS container.
    pub container: Container,
    /// Renditions, content order.
    pub renditions: Vec<PlannedRendition>,
    /// Audio, if the content has audio.
    pub audio: Option<AudioPlan>,
}

impl Plan {
    /// Any rendition on the fast path.
    pub fn has_fast_path(&self) -> bool {
        self.renditions.iter().any(|r| r.remux)
    }
}

/// Why a source cannot be planned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

/// Whether the source's video can be copied for `r`: same codec and profile, a
/// level no higher, same size and frame rate, 4:2:0 8-bit (or 10-bit for main10),
/// and a keyframe at every segment boundary.
pub fn video_matches(src: &VideoInfo, r: &Rendition, segment: f64) -> bool {
    let codec = match r.codec {
        VideoCodec::H264 => "h264",
        VideoCodec::Hevc => "hevc",
    };
    let profile = super::profile::normalize_profile(&src.profile);
    let level = match r.codec {
        VideoCodec::H264 => src.level.max(0) as u32,
        VideoCodec::Hevc => (src.level.max(0) / 3) as u32,
    };
    let pix_ok = match r.profile.as_str() {
        "main10" | "high10" => src.pix_fmt == "yuv420p10le" || src.pix_fmt == "yuv420p",
        _ => src.pix_fmt == "yuv420p",
    };
    src.codec == codec
        && profile == r.profile
        && level <= r.level
        && (src.width, src.height) == (r.width, r.height)
        && (src.fps - r.fps).abs() < 0.01
        && pix_ok
        && keyframes_on_grid(&src.keyframes, segment, src.duration, src.fps)
}

/// A keyframe within half a frame of every multiple of `segment` before `duration`.
pub fn keyframes_on_grid(keyframes: &[f64], segment: f64, duration: f64, fps: f64) -> bool {
    if segment <= 0.0 || fps <= 0.0 {
        return false;
    }
    let tolerance = 0.5 / fps;
    let mut t = 0.0;
    let mut n = 0u32;
    while t < duration - tolerance {
        if !keyframes.iter().any(|k| (k - t).abs() <= tolerance) {
            return false;
        }
        n += 1;
        t = f64::from(n) * segment;
    }
    true
}

/// Gain to reach `target` LUFS from `measured`, and whether the true peak then
/// needs limiting. Silence (or an unmeasurable source) gets no gain.
pub fn loudness_gain(measured_i: f64, measured_tp: f64, target: f64) -> (f64, bool) {
    if !measured_i.is_finite() || measured_i < -70.0 {
        return (0.0, false);
    }
    let gain = target - measured_i;
    (gain, measured_tp + gain > TRUE_PEAK_LIMIT)
}

/// The ffmpeg encoder for an audio codec, given what this ffmpeg has.
pub fn audio_encoder(codec: AudioCodec, has_fdk: bool) -> Result<&'static str, PlanError> {
    match codec {
        AudioCodec::AacLc if has_fdk => Ok("libfdk_aac"),
        AudioCodec::AacLc => Ok("aac"),
        AudioCodec::HeAac | AudioCodec::HeAacV2 if has_fdk => Ok("libfdk_aac"),
        AudioCodec::HeAac | AudioCodec::HeAacV2 => Err(PlanError(format!(
            "the content's audio is {} and this ffmpeg has no HE-AAC encoder (libfdk_aac)",
            codec.codecs()
        ))),
        AudioCodec::Ac3 => Ok("ac3"),
        AudioCodec::Eac3 => Ok("eac3"),
    }
}

/// Plan a job. `loudness` is the source's measured (integrated, true peak), and
/// `target_lkfs` the channel's target (`None`: normalisation off).
pub fn plan_job(
    src: &MediaInfo,
    profile: &TargetProfile,
    loudness: Option<(f64, f64)>,
    target_lkfs: Option<f64>,
    has_fdk: bool,
) -> Result<Plan, PlanError> {
    let video = src
        .video
        .as_ref()
        .ok_or_else(|| PlanError("the creative has no video".into()))?;
    let duration = if video.duration > 0.0 {
        video.duration
    } else {
        src.duration
    };
    if duration.is_nan() || duration <= 0.0 {
        return Err(PlanError("the creative has no duration".into()));
    }
    if video.width == 0 || video.height == 0 {
        return Err(PlanError("the creative's video has no size".into()));
    }
    let audio = match &profile.audio {
        None => None,
        Some(target) => {
            let (gain_db, limit) = match (loudness, target_lkfs) {
                (Some((i, tp)), Some(t)) => loudness_gain(i, tp, t),
                _ => (0.0, false),
            };
            Some(AudioPlan {
                target: target.clone(),
                from_source: src.audio.is_some(),
                gain_db,
                limit,
                encoder: audio_encoder(target.codec, has_fdk)?.to_string(),
            })
        }
    };
    let audio_bitrate = profile.audio.as_ref().map_or(0, |a| a.bitrate);
    let renditions = profile
        .renditions
        .iter()
        .map(|r| PlannedRendition {
            remux: video_matches(video, r, profile.segment_duration),
            video_bitrate: ((r.bandwidth as f64 * VIDEO_SHARE) as u64)
                .saturating_sub(audio_bitrate)
                .max(r.bandwidth / 4)
                .max(30_000),
            rendition: r.clone(),
        })
        .collect();
    Ok(Plan {
        duration,
        segment: profile.segment_duration,
        container: profile.container,
        renditions,
        audio,
    })
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn secs(x: f64) -> String {
    format!("{x:.6}")
}

/// Common leading arguments: quiet, no stdin, overwrite.
pub fn base_args() -> Vec<String> {
    s(&[
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-y",
    ])
}

/// Copy the source's video (the fast path) into `out` (MP4, video only).
pub fn remux_video_args(input: &str, out: &str, duration: f64) -> Vec<String> {
    let mut a = base_args();
    a.extend(input_args(input, CREATIVE_FORMATS));
    a.extend(s(&["-map", "0:v:0", "-c:v", "copy", "-an", "-sn", "-dn"]));
    a.extend(s(&["-t", &secs(duration), "-map_metadata", "-1", out]));
    a
}

/// Encode every rendition of `outputs` from one decode of the source: the picture
/// is converted to each frame rate, scaled and encoded with a keyframe at every
/// segment boundary, into one MP4 (video only) per rendition.
pub fn encode_video_args(
    input: &str,
    outputs: &[(&PlannedRendition, String)],
    plan: &Plan,
    preset: &str,
) -> Vec<String> {
    let mut a = base_args();
    a.extend(input_args(input, CREATIVE_FORMATS));
    let n = outputs.len();
    let mut graph = format!("[0:v:0]split={n}");
    for i in 0..n {
        let _ = write!(graph, "[s{i}]");
    }
    for (i, (p, _)) in outputs.iter().enumerate() {
        let r = &p.rendition;
        let pix = if r.profile.ends_with("10") {
            "yuv420p10le"
        } else {
            "yuv420p"
        };
        let _ = write!(
            graph,
            ";[s{i}]fps={fps},scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,format={pix}[v{i}]",
            fps = rate(r.fps),
            w = r.width,
            h = r.height,
        );
    }
    a.extend(s(&["-filter_complex", &graph]));
    let seg = plan.segment;
    for (i, (p, out)) in outputs.iter().enumerate() {
        let r = &p.rendition;
        let gop = ((r.fps * seg).round() as u64).max(1).to_string();
        let rate_bits = p.video_bitrate.to_string();
        let buf = (p.video_bitrate * 2).to_string();
        a.extend(s(&["-map", &format!("[v{i}]")]));
        match r.codec {
            VideoCodec::H264 => {
                let level = format!("{}.{}", r.level / 10, r.level % 10);
                a.extend(s(&[
                    "-c:v",
                    "libx264",
                    "-preset",
                    preset,
                    "-profile:v",
                    &r.profile,
                    "-level:v",
                    &level,
                ]));
                // No B-frames: presentation starts at the first sample's decode
                // time, so a DASH ad Period's media starts at its start (the CMAF
                // segments have no edit list; with B-frames every ad Period began
                // with a two-frame hole and a post-roll never reached its end).
                a.extend(s(&["-bf", "0"]));
            }
            VideoCodec::Hevc => {
                let params = format!(
                    "level-idc={}:keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0",
                    r.level
                );
                a.extend(s(&[
                    "-c:v",
                    "libx265",
                    "-preset",
                    preset,
                    "-profile:v",
                    &r.profile,
                    "-tag:v",
                    "hvc1",
                    "-x265-params",
                    &params,
                ]));
            }
        }
        a.extend(s(&[
            "-b:v",
            &rate_bits,
            "-maxrate",
            &rate_bits,
            "-bufsize",
            &buf,
            "-g",
            &gop,
            "-keyint_min",
            &gop,
            "-sc_threshold",
            "0",
            "-force_key_frames",
            &format!("expr:gte(t,n_forced*{seg})"),
            "-an",
            "-t",
            &secs(plan.duration),
            "-map_metadata",
            "-1",
            out,
        ]));
    }
    a
}

fn rate(fps: f64) -> String {
    // NTSC rates as exact fractions.
    for (n, d) in [(24000, 1001), (30000, 1001), (60000, 1001)] {
        if (fps - f64::from(n) / f64::from(d)).abs() < 0.005 {
            return format!("{n}/{d}");
        }
    }
    format!("{fps}")
}

/// Encode the audio: gain (and limiter), resampled to the target rate and
/// channels, padded with silence or cut to exactly `duration`.
pub fn audio_args(input: &str, audio: &AudioPlan, duration: f64, out: &str) -> Vec<String> {
    let t = &audio.target;
    let layout = match t.channels {
        1 => "mono".to_string(),
        2 => "stereo".to_string(),
        6 => "5.1".to_string(),
        n => format!("{n}c"),
    };
    let mut a = base_args();
    let mut chain = Vec::new();
    if audio.from_source {
        a.extend(input_args(input, CREATIVE_FORMATS));
        if audio.gain_db.abs() > 0.005 {
            chain.push(format!("volume={:.2}dB", audio.gain_db));
        }
        if audio.limit {
            let limit = 10f64.powf(TRUE_PEAK_LIMIT / 20.0);
            chain.push(format!("alimiter=limit={limit:.4}:level=false"));
        }
    } else {
        a.extend(s(&[
            "-f",
            "lavfi",
            "-i",
            &format!(
                "anullsrc=channel_layout={layout}:sample_rate={}",
                t.sample_rate
            ),
        ]));
    }
    chain.push(format!(
        "aresample={},aformat=sample_fmts=fltp:channel_layouts={layout},apad",
        t.sample_rate
    ));
    a.extend(s(&["-map", "0:a:0", "-af", &chain.join(",")]));
    a.extend(s(&["-c:a", &audio.encoder]));
    match (t.codec, audio.encoder.as_str()) {
        (AudioCodec::HeAac, "libfdk_aac") => a.extend(s(&["-profile:a", "aac_he"])),
        (AudioCodec::HeAacV2, "libfdk_aac") => a.extend(s(&["-profile:a", "aac_he_v2"])),
        (AudioCodec::AacLc, "aac") => a.extend(s(&["-profile:a", "aac_low"])),
        _ => {}
    }
    a.extend(s(&[
        "-b:a",
        &t.bitrate.to_string(),
        "-ar",
        &t.sample_rate.to_string(),
        "-ac",
        &t.channels.to_string(),
        "-vn",
        "-t",
        &secs(duration),
        "-map_metadata",
        "-1",
        out,
    ]));
    a
}

/// Package one rendition for HLS: its video and the audio copied into segments
/// of `plan.segment` (cut on the keyframes) and a VOD media playlist.
pub fn hls_args(video: &str, audio: Option<&str>, plan: &Plan, dir: &str) -> Vec<String> {
    let mut a = base_args();
    a.extend(input_args(video, INTERMEDIATE_FORMATS));
    if let Some(audio) = audio {
        a.extend(input_args(audio, INTERMEDIATE_FORMATS));
        a.extend(s(&["-map", "0:v:0", "-map", "1:a:0"]));
    } else {
        a.extend(s(&["-map", "0:v:0"]));
    }
    a.extend(s(&[
        "-c",
        "copy",
        "-f",
        "hls",
        "-hls_time",
        &secs(plan.segment),
        "-hls_playlist_type",
        "vod",
        "-hls_flags",
        "independent_segments",
    ]));
    match plan.container {
        Container::Ts => a.extend(s(&[
            "-hls_segment_type",
            "mpegts",
            "-hls_segment_options",
            "mpegts_flags=+initial_discontinuity",
            "-hls_segment_filename",
            &format!("{dir}/seg%05d.ts"),
        ])),
        Container::Fmp4 => a.extend(s(&[
            "-hls_segment_type",
            "fmp4",
            "-hls_fmp4_init_filename",
            "init.mp4",
            "-hls_segment_filename",
            &format!("{dir}/seg%05d.m4s"),
        ])),
    }
    a.push(format!("{dir}/index.m3u8"));
    a
}

/// Package one track (video or audio MP4) as CMAF segments for DASH:
/// `{dir}/init.mp4` and `{dir}/seg-N.m4s` (N from 1).
pub fn dash_args(input: &str, plan: &Plan, dir: &str) -> Vec<String> {
    let mut a = base_args();
    a.extend(input_args(input, INTERMEDIATE_FORMATS));
    a.extend(s(&[
        "-map",
        "0",
        "-c",
        "copy",
        "-f",
        "dash",
        "-seg_duration",
        &secs(plan.segment),
        "-use_template",
        "1",
        "-use_timeline",
        "0",
        "-init_seg_name",
        "init.mp4",
        "-media_seg_name",
        "seg-$Number$.m4s",
        "-format_options",
        "use_editlist=0",
        &format!("{dir}/ffmpeg.mpd"),
    ]));
    a
}

/// Path of a rendition's HLS media playlist, relative to the output root.
pub fn hls_playlist_path(name: &str) -> String {
    format!("hls/{name}/index.m3u8")
}

/// The multivariant playlist over `renditions` (content `BANDWIDTH`, `RESOLUTION`,
/// `CODECS` and `FRAME-RATE`, so variant selection finds each content variant's twin).
pub fn write_multivariant(
    renditions: &[&Rendition],
    audio: Option<&AudioTarget>,
    container: Container,
) -> String {
    let version = match container {
        Container::Ts => 3,
        Container::Fmp4 => 7,
    };
    let mut out = format!("#EXTM3U\n#EXT-X-VERSION:{version}\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for r in renditions {
        let codecs = match audio {
            Some(a) => format!("{},{}", r.codecs, a.codec.codecs()),
            None => r.codecs.clone(),
        };
        let _ = writeln!(
            out,
            "#EXT-X-STREAM-INF:BANDWIDTH={},RESOLUTION={}x{},CODECS=\"{codecs}\",FRAME-RATE={:.3}\n{}",
            r.bandwidth,
            r.width,
            r.height,
            r.fps,
            hls_playlist_path(&r.name)
        );
    }
    out
}

/// Folder of the DASH segments beside the MPD (`dash/v0/init.mp4`...; see
/// `store`): the SegmentTemplates name it, the MPD being at the output's root.
pub const DASH_DIR: &str = "dash";

fn iso_duration(secs: f64) -> String {
    format!("PT{:.3}S", secs)
}

/// The DASH MPD over `renditions` (video AdaptationSet) and the audio (`a0`):
/// static, one Period of the ad's duration, `SegmentTemplate` with `$Number$`.
pub fn write_mpd(renditions: &[&Rendition], audio: Option<&AudioTarget>, plan: &Plan) -> String {
    let seg_ms = (plan.segment * 1000.0).round() as u64;
    let dur = iso_duration(plan.duration);
    let (max_w, max_h) = renditions
        .iter()
        .fold((0, 0), |(w, h), r| (w.max(r.width), h.max(r.height)));
    let fps = renditions.first().map_or(0.0, |r| r.fps);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" mediaPresentationDuration=\"{dur}\" maxSegmentDuration=\"{}\" minBufferTime=\"PT2S\">\n  <Period id=\"0\" start=\"PT0S\" duration=\"{dur}\">\n",
        iso_duration(plan.segment + 0.1)
    );
    let _ = writeln!(
        out,
        "    <AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\" maxWidth=\"{max_w}\" maxHeight=\"{max_h}\" frameRate=\"{}\">\n      <SegmentTemplate timescale=\"1000\" duration=\"{seg_ms}\" startNumber=\"1\" initialization=\"{DASH_DIR}/$RepresentationID$/init.mp4\" media=\"{DASH_DIR}/$RepresentationID$/seg-$Number$.m4s\"/>",
        rate(fps)
    );
    for r in renditions {
        let _ = writeln!(
            out,
            "      <Representation id=\"{}\" codecs=\"{}\" bandwidth=\"{}\" width=\"{}\" height=\"{}\" sar=\"1:1\"/>",
            r.name, r.codecs, r.bandwidth, r.width, r.height
        );
    }
    out.push_str("    </AdaptationSet>\n");
    if let Some(a) = audio {
        let _ = writeln!(
            out,
            "    <AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\">\n      <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"{}\"/>\n      <SegmentTemplate timescale=\"1000\" duration=\"{seg_ms}\" startNumber=\"1\" initialization=\"{DASH_DIR}/$RepresentationID$/init.mp4\" media=\"{DASH_DIR}/$RepresentationID$/seg-$Number$.m4s\"/>\n      <Representation id=\"a0\" codecs=\"{}\" bandwidth=\"{}\" audioSamplingRate=\"{}\"/>\n    </AdaptationSet>",
            a.channels,
            a.codec.codecs(),
            a.bitrate,
            a.sample_rate
        );
    }
    out.push_str("  </Period>\n</MPD>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcode::probe::AudioInfo;

    fn rendition(w: u32, h: u32, profile: &str) -> Rendition {
        Rendition {
            name: format!("v{h}"),
            bandwidth: 2_000_000,
            width: w,
            height: h,
            fps: 30.0,
            codec: VideoCodec::H264,
            profile: profile.into(),
            level: 40,
            codecs: "avc1.640028".into(),
        }
    }

    fn source(keyframes: Vec<f64>) -> MediaInfo {
        MediaInfo {
            duration: 6.0,
            video: Some(VideoInfo {
                codec: "h264".into(),
                profile: "High".into(),
                level: 40,
                width: 1920,
                height: 1080,
                fps: 30.0,
                pix_fmt: "yuv420p".into(),
                keyframes,
                duration: 6.0,
                bitrate: None,
            }),
            audio: Some(AudioInfo {
                codec: "aac".into(),
                profile: "LC".into(),
                sample_rate: 44100,
                channels: 2,
                bitrate: None,
            }),
        }
    }

    fn profile() -> TargetProfile {
        TargetProfile {
            renditions: vec![rendition(1920, 1080, "high"), rendition(640, 360, "main")],
            audio: Some(AudioTarget {
                codec: AudioCodec::AacLc,
                sample_rate: 48000,
                channels: 2,
                bitrate: 128_000,
            }),
            segment_duration: 2.0,
            container: Container::Ts,
        }
    }

    #[test]
    fn fast_path_needs_a_match_and_keyframes_on_the_grid() {
        let p = plan_job(
            &source(vec![0.0, 2.0, 4.0]),
            &profile(),
            Some((-18.0, -3.0)),
            Some(-24.0),
            false,
        )
        .unwrap();
        assert!(p.renditions[0].remux);
        assert!(!p.renditions[1].remux);
        assert!(p.has_fast_path());
        let a = p.audio.unwrap();
        assert!((a.gain_db + 6.0).abs() < 1e-9);
        assert!(!a.limit);
        // A keyframe missing at 4 s: encode.
        let p = plan_job(&source(vec![0.0, 2.0, 5.0]), &profile(), None, None, false).unwrap();
        assert!(!p.has_fast_path());
        assert_eq!(p.audio.unwrap().gain_db, 0.0);
    }

    #[test]
    fn loudness_gain_limits_peaks_and_ignores_silence() {
        assert_eq!(loudness_gain(-30.0, -12.0, -24.0), (6.0, false));
        assert_eq!(loudness_gain(-30.0, -4.0, -24.0), (6.0, true));
        assert_eq!(
            loudness_gain(f64::NEG_INFINITY, f64::NEG_INFINITY, -24.0),
            (0.0, false)
        );
    }

    #[test]
    fn he_aac_needs_fdk() {
        assert!(audio_encoder(AudioCodec::HeAac, false).is_err());
        assert_eq!(audio_encoder(AudioCodec::HeAac, true), Ok("libfdk_aac"));
        assert_eq!(audio_encoder(AudioCodec::AacLc, false), Ok("aac"));
    }

    #[test]
    fn keyframe_grid() {
        assert!(keyframes_on_grid(&[0.0, 2.0, 4.0], 2.0, 6.0, 30.0));
        assert!(keyframes_on_grid(&[0.0, 2.01, 4.0], 2.0, 5.0, 30.0));
        assert!(!keyframes_on_grid(&[0.0, 4.0], 2.0, 6.0, 30.0));
        assert!(keyframes_on_grid(&[0.0, 1.0, 2.0, 3.0], 2.0, 3.5, 30.0));
    }

    #[test]
    fn playlists_name_every_rendition() {
        let prof = profile();
        let plan = plan_job(&source(vec![0.0]), &prof, None, None, false).unwrap();
        let rs: Vec<&Rendition> = prof.renditions.iter().collect();
        let m = write_multivariant(&rs, prof.audio.as_ref(), Container::Ts);
        assert!(m.contains("BANDWIDTH=2000000,RESOLUTION=640x360,CODECS=\"avc1.640028,mp4a.40.2\",FRAME-RATE=30.000\nhls/v360/index.m3u8\n"), "{m}");
        let parsed = crate::hls::parse_multivariant(&m).unwrap();
        assert_eq!(parsed.variants.len(), 2);
        let mpd = write_mpd(&rs, prof.audio.as_ref(), &plan);
        let doc = crate::dash::parse(&mpd).unwrap();
        let ad = crate::dash::prepare_ad(
            &doc,
            &url::Url::parse("http://h/a/manifest.mpd").unwrap(),
            None,
        )
        .unwrap();
        assert!((ad.duration - 6.0).abs() < 1e-9);
        assert_eq!(ad.base_url, "http://h/a/");
        // The segments are where the job puts them: `dash/{rendition}/` beside
        // the MPD (they were once looked for beside it, where none is).
        for set in ad.period.children_named("AdaptationSet") {
            let t = set.child("SegmentTemplate").unwrap();
            assert_eq!(
                t.attr("initialization").as_deref(),
                Some("dash/$RepresentationID$/init.mp4")
            );
            assert_eq!(
                t.attr("media").as_deref(),
                Some("dash/$RepresentationID$/seg-$Number$.m4s")
            );
        }
    }
}
