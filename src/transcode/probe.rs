//! What a media file holds, read with ffprobe: the first video and audio streams
//! (codec, profile, level, size, frame rate, sample rate, channels, bit rates),
//! the video keyframe times, the duration; and the integrated loudness measured by
//! ffmpeg's `loudnorm` filter (ITU-R BS.1770 / EBU R128, the basis of ATSC A/85).
//!
//! [`parse_probe`] and [`parse_loudnorm`] are pure; [`probe_file`] and
//! [`measure_loudness`] run the tools.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

use super::ffmpeg::{run, RunError};
use super::input::{input_args, CREATIVE_FORMATS};

/// Why a probe failed.
#[derive(Debug, Error)]
pub enum ProbeError {
    /// ffprobe did not run or failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Its output is not what ffprobe prints.
    #[error("unreadable ffprobe output: {0}")]
    Output(String),
}

/// The first video stream.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// ffmpeg codec name (`h264`, `hevc`...).
    pub codec: String,
    /// ffprobe profile (`High`, `Main`, `Constrained Baseline`...).
    pub profile: String,
    /// `level` as ffprobe prints it (H.264: 31 for 3.1; HEVC: 93 for 3.1).
    pub level: i64,
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: f64,
    /// Pixel format (`yuv420p`...).
    pub pix_fmt: String,
    /// Presentation times of the keyframe packets, seconds, from the stream start.
    pub keyframes: Vec<f64>,
    /// Duration, seconds.
    pub duration: f64,
    /// Bit rate, bit/s, where known.
    pub bitrate: Option<u64>,
}

/// The first audio stream.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    /// ffmpeg codec name (`aac`, `ac3`...).
    pub codec: String,
    /// ffprobe profile (`LC`, `HE-AAC`, `HE-AACv2`...).
    pub profile: String,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u32,
    /// Bit rate, bit/s, where known (from the stream, else from its packets).
    pub bitrate: Option<u64>,
}

/// What ffprobe found.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    /// Container duration, seconds.
    pub duration: f64,
    /// The first video stream.
    pub video: Option<VideoInfo>,
    /// The first audio stream.
    pub audio: Option<AudioInfo>,
}

/// The ffprobe arguments [`parse_probe`] reads the output of.
pub fn probe_args(path: &str) -> Vec<String> {
    let mut input = input_args(path, CREATIVE_FORMATS);
    // ffprobe names its input without `-i`.
    let url = input.pop().unwrap_or_default();
    input.pop();
    let mut a: Vec<String> = [
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_entries",
        "format=duration,start_time:stream=index,codec_type,codec_name,profile,level,width,height,r_frame_rate,avg_frame_rate,pix_fmt,sample_rate,channels,bit_rate,duration,start_time:packet=stream_index,pts_time,flags,size",
    ]
    .map(String::from)
    .to_vec();
    a.extend(input);
    a.push(url);
    a
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// `30000/1001` → 29.97.
pub fn parse_rate(s: &str) -> Option<f64> {
    let (n, d) = s.split_once('/').unwrap_or((s, "1"));
    let (n, d): (f64, f64) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
    (n > 0.0 && d > 0.0).then(|| n / d)
}

/// Read ffprobe's JSON (see [`probe_args`]). Pure.
pub fn parse_probe(json: &str) -> Result<MediaInfo, ProbeError> {
    let v: Value = serde_json::from_str(json).map_err(|e| ProbeError::Output(e.to_string()))?;
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let packets = v["packets"].as_array().cloned().unwrap_or_default();
    let format_duration = num(&v["format"]["duration"]).unwrap_or(0.0);
    let of_kind = |kind: &str| {
        streams
            .iter()
            .filter(|s| s["codec_type"] == kind)
            .min_by_key(|s| s["index"].as_i64().unwrap_or(i64::MAX))
            .cloned()
    };
    let packets_of = |index: i64| {
        packets
            .iter()
            .filter(move |p| p["stream_index"].as_i64() == Some(index))
    };
    let video = of_kind("video").map(|s| {
        let index = s["index"].as_i64().unwrap_or(-1);
        let start = num(&s["start_time"]).unwrap_or(0.0);
        let mut keyframes: Vec<f64> = packets_of(index)
            .filter(|p| p["flags"].as_str().is_some_and(|f| f.starts_with('K')))
            .filter_map(|p| num(&p["pts_time"]))
            .map(|t| t - start)
            .collect();
        keyframes.sort_by(f64::total_cmp);
        let fps = s["avg_frame_rate"]
            .as_str()
            .and_then(parse_rate)
            .or_else(|| s["r_frame_rate"].as_str().and_then(parse_rate))
            .unwrap_or(0.0);
        VideoInfo {
            codec: text(&s["codec_name"]),
            profile: text(&s["profile"]),
            level: s["level"].as_i64().unwrap_or(0),
            width: s["width"].as_u64().unwrap_or(0) as u32,
            height: s["height"].as_u64().unwrap_or(0) as u32,
            fps,
            pix_fmt: text(&s["pix_fmt"]),
            keyframes,
            duration: num(&s["duration"]).unwrap_or(format_duration),
            bitrate: num(&s["bit_rate"]).map(|b| b as u64),
        }
    });
    let audio = of_kind("audio").map(|s| {
        let index = s["index"].as_i64().unwrap_or(-1);
        let bitrate = num(&s["bit_rate"]).map(|b| b as u64).or_else(|| {
            let bytes: f64 = packets_of(index).filter_map(|p| num(&p["size"])).sum();
            let times: Vec<f64> = packets_of(index)
                .filter_map(|p| num(&p["pts_time"]))
                .collect();
            let span = num(&s["duration"]).unwrap_or_else(|| {
                let lo = times.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = times.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                hi - lo
            });
            (bytes > 0.0 && span > 0.1).then(|| (bytes * 8.0 / span) as u64)
        });
        AudioInfo {
            codec: text(&s["codec_name"]),
            profile: text(&s["profile"]),
            sample_rate: num(&s["sample_rate"]).unwrap_or(0.0) as u32,
            channels: s["channels"].as_u64().unwrap_or(0) as u32,
            bitrate,
        }
    });
    if video.is_none() && audio.is_none() {
        return Err(ProbeError::Output("no audio or video stream".into()));
    }
    Ok(MediaInfo {
        duration: format_duration,
        video,
        audio,
    })
}

/// Probe a local file.
pub async fn probe_file(
    ffprobe: &str,
    path: &Path,
    timeout: Duration,
) -> Result<MediaInfo, ProbeError> {
    let out = run(ffprobe, &probe_args(&path.to_string_lossy()), timeout).await?;
    parse_probe(&String::from_utf8_lossy(&out.stdout))
}

/// Integrated loudness (LUFS) and true peak (dBTP) from `loudnorm`'s JSON report
/// (`print_format=json`) in ffmpeg's stderr. `-inf` for silence. Pure.
pub fn parse_loudnorm(stderr: &str) -> Option<(f64, f64)> {
    let start = stderr
        .rfind("\"input_i\"")
        .and_then(|i| stderr[..i].rfind('{'))?;
    let end = stderr[start..].find('}')? + start;
    let v: Value = serde_json::from_str(&stderr[start..=end]).ok()?;
    let read = |k: &str| -> Option<f64> {
        let s = v[k].as_str()?.trim();
        match s {
            "-inf" => Some(f64::NEG_INFINITY),
            "inf" => Some(f64::INFINITY),
            _ => s.parse().ok(),
        }
    };
    Some((read("input_i")?, read("input_tp")?))
}

/// Measure the first audio stream's integrated loudness and true peak.
pub async fn measure_loudness(
    ffmpeg: &str,
    path: &Path,
    timeout: Duration,
) -> Result<(f64, f64), ProbeError> {
    let mut args: Vec<String> = ["-nostdin", "-hide_banner", "-nostats", "-loglevel", "info"]
        .map(String::from)
        .to_vec();
    args.extend(input_args(&path.to_string_lossy(), CREATIVE_FORMATS));
    args.extend(
        [
            "-map",
            "0:a:0",
            "-af",
            "loudnorm=print_format=json",
            "-f",
            "null",
            "-",
        ]
        .map(String::from),
    );
    let out = run(ffmpeg, &args, timeout).await?;
    parse_loudnorm(&out.stderr)
        .ok_or_else(|| ProbeError::Output("no loudnorm report in ffmpeg's output".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROBE: &str = r#"{
      "packets": [
        {"stream_index": 0, "pts_time": "1.466667", "flags": "K_", "size": "1000"},
        {"stream_index": 1, "pts_time": "1.400000", "flags": "K_", "size": "300"},
        {"stream_index": 0, "pts_time": "1.500000", "flags": "__", "size": "100"},
        {"stream_index": 1, "pts_time": "3.400000", "flags": "K_", "size": "300"},
        {"stream_index": 0, "pts_time": "3.466667", "flags": "K_", "size": "1000"}
      ],
      "streams": [
        {"index": 0, "codec_name": "h264", "profile": "High", "codec_type": "video", "width": 1920,
         "height": 1080, "pix_fmt": "yuv420p", "level": 40, "r_frame_rate": "30/1",
         "avg_frame_rate": "30/1", "start_time": "1.466667", "duration": "4.000000"},
        {"index": 1, "codec_name": "aac", "profile": "HE-AAC", "codec_type": "audio",
         "sample_rate": "48000", "channels": 2, "start_time": "1.400000"}
      ],
      "format": {"duration": "4.066667", "start_time": "1.400000"}
    }"#;

    #[test]
    fn probe_output_is_read() {
        let m = parse_probe(PROBE).unwrap();
        let v = m.video.unwrap();
        assert_eq!((v.width, v.height, v.level), (1920, 1080, 40));
        assert_eq!(v.profile, "High");
        assert!((v.fps - 30.0).abs() < 1e-9);
        assert_eq!(v.keyframes.len(), 2);
        assert!(v.keyframes[0].abs() < 1e-6 && (v.keyframes[1] - 2.0).abs() < 1e-6);
        let a = m.audio.unwrap();
        assert_eq!((a.sample_rate, a.channels), (48000, 2));
        assert_eq!(a.profile, "HE-AAC");
        // 600 bytes over 2 s of packet times.
        assert_eq!(a.bitrate, Some(2400));
        assert!(parse_probe("{}").is_err());
        assert!(parse_probe("not json").is_err());
    }

    #[test]
    fn rates_parse() {
        assert!((parse_rate("30000/1001").unwrap() - 29.97).abs() < 0.001);
        assert_eq!(parse_rate("25"), Some(25.0));
        assert_eq!(parse_rate("0/0"), None);
    }

    #[test]
    fn loudnorm_report_is_read() {
        let err = "size=N/A\n[Parsed_loudnorm_0 @ 0x1] \n{\n\t\"input_i\" : \"-21.76\",\n\t\"input_tp\" : \"-20.83\",\n\t\"input_lra\" : \"0.00\",\n\t\"target_offset\" : \"-0.00\"\n}\n";
        assert_eq!(parse_loudnorm(err), Some((-21.76, -20.83)));
        let silent = "{\n\"input_i\" : \"-inf\",\n\"input_tp\" : \"-inf\"\n}";
        assert_eq!(
            parse_loudnorm(silent),
            Some((f64::NEG_INFINITY, f64::NEG_INFINITY))
        );
        assert_eq!(parse_loudnorm("nothing"), None);
    }
}
