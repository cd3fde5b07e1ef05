//! `splicepoint inspect`: what the proxy reads in a cue or a manifest, for ad ops.
//!
//! - `inspect scte35 <base64|hex>`: the decoded `splice_info_section` as JSON.
//! - `inspect hls <file|url>`: the ad breaks of a media playlist (position, start,
//!   duration and where it came from, dialect, marker tags, `[scte.*]`/`[asset.*]`
//!   values, decoded cue) as JSON, or a table with `--table`; malformed markers that
//!   were passed through are listed too.
//!
//! The reports are pure functions of text ([`scte35_json`], [`hls_report`],
//! [`hls_table`]); [`run`] does the I/O: it reads a file or fetches a URL (reqwest,
//! with a timeout) and writes to the writer it is given. Another manifest format is
//! one more [`InspectCommand`] variant and one more arm in [`run`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use crate::breaks::{BreakStart, Dialect};
use crate::hls::cue::{scan_breaks, IgnoredMarker};
use crate::hls::model::{parse_playlist, ParseError, Playlist};
use crate::scte35::rules::DurationSource;
use crate::scte35::{self, CueRules, DecodeError, DecodeOptions, SpliceInfoSection};

/// Largest manifest `inspect` reads.
const MAX_MANIFEST_BYTES: usize = 16 * 1024 * 1024;

/// What to inspect.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum InspectCommand {
    /// Decode one SCTE-35 cue and print it as JSON.
    Scte35 {
        /// The cue: base64, or hex (with or without `0x`).
        cue: String,
        /// Accept a wrong CRC_32 (the mismatch is reported on stderr).
        #[arg(long)]
        lenient: bool,
    },
    /// Print the ad breaks of an HLS media playlist.
    Hls {
        /// A file, or an http(s) URL.
        source: String,
        /// A readable table instead of JSON.
        #[arg(long)]
        table: bool,
        /// Accept cues with a wrong CRC_32 (`scte35_lenient_crc`).
        #[arg(long)]
        lenient: bool,
        /// segmentation_type_ids that act on breaks, comma-separated (`0x34,0x35` or
        /// `52,53`); default: the proxy's.
        #[arg(long, value_delimiter = ',', value_parser = parse_type_id)]
        segmentation_types: Option<Vec<u8>>,
        /// Fetch timeout for a URL, seconds.
        #[arg(long, default_value_t = 10)]
        timeout_secs: u64,
    },
    /// Print the ad breaks of a DASH MPD (SCTE-35 event streams).
    Dash {
        /// A file, or an http(s) URL.
        source: String,
        /// A readable table instead of JSON.
        #[arg(long)]
        table: bool,
        /// Accept cues with a wrong CRC_32 (`scte35_lenient_crc`).
        #[arg(long)]
        lenient: bool,
        /// Fetch timeout for a URL, seconds.
        #[arg(long, default_value_t = 10)]
        timeout_secs: u64,
    },
}

/// Why `inspect` failed.
#[derive(Debug, Error)]
pub enum InspectError {
    /// The cue does not decode.
    #[error("cue: {0}")]
    Decode(#[from] DecodeError),
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not an MPD.
    #[error("not an MPD: {0}")]
    NotMpd(String),
    /// The URL could not be fetched.
    #[error("{url}: {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Not an HLS playlist.
    #[error("not an HLS playlist: {0}")]
    Playlist(#[from] ParseError),
    /// A multivariant playlist: breaks live in media playlists.
    #[error("a multivariant playlist: inspect one of its media playlists:\n  {}", .0.join("\n  "))]
    Multivariant(Vec<String>),
    /// Writing the output failed.
    #[error("output: {0}")]
    Output(#[from] std::io::Error),
}

fn parse_type_id(s: &str) -> Result<u8, String> {
    let s = s.trim();
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u8::from_str_radix(hex, 16),
        None => s.parse::<u8>(),
    };
    parsed.map_err(|_| format!("`{s}` is not a segmentation_type_id (0..=255, decimal or 0x hex)"))
}

/// Run one inspect command, writing the report to `out` and warnings to `err`.
pub async fn run(
    cmd: InspectCommand,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), InspectError> {
    match cmd {
        InspectCommand::Scte35 { cue, lenient } => {
            let opts = DecodeOptions {
                lenient_crc: lenient,
            };
            if lenient {
                if let Err(e @ DecodeError::Crc { .. }) =
                    scte35::decode(&cue, &DecodeOptions::default())
                {
                    writeln!(err, "warning: {e}")?;
                }
            }
            let json = scte35_json(&cue, &opts)?;
            writeln!(out, "{json}")?;
        }
        InspectCommand::Hls {
            source,
            table,
            lenient,
            segmentation_types,
            timeout_secs,
        } => {
            let text = load(&source, Duration::from_secs(timeout_secs)).await?;
            let mut rules = CueRules {
                lenient_crc: lenient,
                ..CueRules::default()
            };
            if let Some(types) = segmentation_types {
                rules.segmentation_types = types;
            }
            let report = hls_report(&text, &rules)?;
            if table {
                write!(out, "{}", hls_table(&report))?;
            } else {
                writeln!(out, "{}", to_json(&report))?;
            }
        }
        InspectCommand::Dash {
            source,
            table,
            lenient,
            timeout_secs,
        } => {
            let text = load(&source, Duration::from_secs(timeout_secs)).await?;
            let rules = CueRules {
                lenient_crc: lenient,
                ..CueRules::default()
            };
            let rows = dash_report(&text, &rules)?;
            if table {
                writeln!(
                    out,
                    "{:<24} {:>6} {:>12} {:>10}  scheme",
                    "break", "period", "at (s)", "duration"
                )?;
                for r in &rows {
                    writeln!(
                        out,
                        "{:<24} {:>6} {:>12.3} {:>10}  {}",
                        r["id"].as_str().unwrap_or(""),
                        r["period"],
                        r["at"].as_f64().unwrap_or(0.0),
                        r["duration"]
                            .as_f64()
                            .map_or("-".to_string(), |d| format!("{d:.3}")),
                        r["scheme"].as_str().unwrap_or("")
                    )?;
                }
            } else {
                writeln!(out, "{}", to_json(&rows))?;
            }
        }
    }
    Ok(())
}

/// The breaks of an MPD as JSON rows: id, period, start in the period, duration,
/// scheme, `[scte.*]` values. Pure.
pub fn dash_report(text: &str, rules: &CueRules) -> Result<Vec<serde_json::Value>, InspectError> {
    let doc = crate::dash::parse(text).map_err(|e| InspectError::NotMpd(e.to_string()))?;
    if doc.root.local_name() != "MPD" {
        return Err(InspectError::NotMpd(format!(
            "root element is <{}>, not <MPD>",
            doc.root.name
        )));
    }
    Ok(crate::dash::mpd::find_breaks_with(&doc, rules)
        .into_iter()
        .map(|b| {
            serde_json::json!({
                "id": b.id, "period": b.period, "at": b.at, "duration": b.duration,
                "scheme": b.scheme, "vars": b.vars,
            })
        })
        .collect())
}

fn to_json<T: Serialize>(v: &T) -> String {
    // The report types serialize infallibly (no maps with non-string keys).
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Read a file, or fetch an http(s) URL with a timeout.
async fn load(source: &str, timeout: Duration) -> Result<String, InspectError> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let fetch_err = |reason: String| InspectError::Fetch {
            url: source.to_string(),
            reason,
        };
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| fetch_err(e.to_string()))?;
        let resp = client
            .get(source)
            .send()
            .await
            .map_err(|e| fetch_err(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fetch_err(format!("HTTP {}", resp.status())));
        }
        let bytes = resp.bytes().await.map_err(|e| fetch_err(e.to_string()))?;
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(fetch_err(format!("larger than {MAX_MANIFEST_BYTES} bytes")));
        }
        return String::from_utf8(bytes.to_vec()).map_err(|_| fetch_err("not UTF-8".into()));
    }
    tokio::fs::read_to_string(source)
        .await
        .map_err(|e| InspectError::Read {
            path: source.to_string(),
            source: e,
        })
}

/// A cue as pretty JSON (the [`SpliceInfoSection`] model, spec field names).
pub fn scte35_json(cue: &str, opts: &DecodeOptions) -> Result<String, DecodeError> {
    Ok(to_json(&scte35::decode(cue, opts)?))
}

/// The breaks of a media playlist.
#[derive(Debug, Clone, Serialize)]
pub struct HlsReport {
    /// `EXT-X-MEDIA-SEQUENCE`.
    pub media_sequence: u64,
    /// Number of segments.
    pub segments: usize,
    /// Sum of the segment durations, seconds.
    pub duration: f64,
    /// `EXT-X-ENDLIST` or VOD.
    pub ended: bool,
    /// The breaks, in order.
    pub breaks: Vec<BreakReport>,
    /// Marker tags that were not acted on (content passed through) or whose cue was
    /// left out.
    pub ignored: Vec<IgnoredReport>,
}

/// One break.
#[derive(Debug, Clone, Serialize)]
pub struct BreakReport {
    /// Break id (`msn-N`, `id-X`, `open-N`).
    pub id: String,
    /// `segment` (starts at a visible segment) or `before-window`.
    pub start: &'static str,
    /// Index of the first segment of the break (or of the segment an insertion
    /// precedes).
    pub segment: Option<usize>,
    /// Its media sequence number.
    pub msn: Option<u64>,
    /// Offset of the break's start from the first segment, seconds.
    pub start_seconds: Option<f64>,
    /// Index of the first content segment after the break, when visible.
    pub end_segment: Option<usize>,
    /// Avail duration, seconds.
    pub duration: Option<f64>,
    /// Where the duration came from (`marker`, `break_duration`,
    /// `segmentation_duration`, `continuation`; none when measured between OUT and IN).
    pub duration_source: Option<DurationSource>,
    /// An insertion point (ads added, no content replaced).
    pub insert: bool,
    /// Seconds of the break before the window (joined mid-break).
    pub elapsed_at_window_start: Option<f64>,
    /// The dialect.
    pub dialect: Dialect,
    /// The marker tags that made it.
    pub tags: Vec<&'static str>,
    /// ADS variables.
    pub vars: BTreeMap<String, String>,
    /// The decoded cue.
    pub cue: Option<SpliceInfoSection>,
}

/// A marker not acted on.
#[derive(Debug, Clone, Serialize)]
pub struct IgnoredReport {
    /// Index of the segment it precedes.
    pub segment: usize,
    /// The line.
    pub line: String,
    /// Why.
    pub reason: String,
}

impl From<&IgnoredMarker> for IgnoredReport {
    fn from(m: &IgnoredMarker) -> Self {
        Self {
            segment: m.segment,
            line: m.line.clone(),
            reason: m.reason.clone(),
        }
    }
}

/// The breaks of a media playlist's text under `rules`.
pub fn hls_report(text: &str, rules: &CueRules) -> Result<HlsReport, InspectError> {
    let pl = match parse_playlist(text)? {
        Playlist::Media(pl) => pl,
        Playlist::Multivariant(m) => {
            return Err(InspectError::Multivariant(
                m.variants.iter().map(|v| v.uri.clone()).collect(),
            ))
        }
    };
    let scan = scan_breaks(&pl, rules);
    let mut offsets = Vec::with_capacity(pl.segments.len() + 1);
    let mut t = 0.0;
    for s in &pl.segments {
        offsets.push(t);
        t += s.duration;
    }
    offsets.push(t);
    let breaks = scan
        .breaks
        .into_iter()
        .map(|f| {
            let b = f.ad_break;
            let segment = match b.start {
                BreakStart::At(i) => Some(i),
                BreakStart::BeforeWindow => None,
            };
            BreakReport {
                id: b.id,
                start: match b.start {
                    BreakStart::At(_) => "segment",
                    BreakStart::BeforeWindow => "before-window",
                },
                segment,
                msn: segment.map(|i| pl.media_sequence + i as u64),
                start_seconds: segment.and_then(|i| offsets.get(i).copied()),
                end_segment: b.end,
                duration: b.duration,
                duration_source: f.duration_source,
                insert: b.insert,
                elapsed_at_window_start: b.elapsed_at_window_start,
                dialect: b.dialect,
                tags: f.tags,
                vars: b.vars,
                cue: f.cue,
            }
        })
        .collect();
    Ok(HlsReport {
        media_sequence: pl.media_sequence,
        segments: pl.segments.len(),
        duration: t,
        ended: pl.ended,
        breaks,
        ignored: scan.ignored.iter().map(IgnoredReport::from).collect(),
    })
}

fn dialect_name(d: Dialect) -> String {
    serde_json::to_value(d)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// The report as a table, one break a row, then the ignored markers.
pub fn hls_table(r: &HlsReport) -> String {
    let secs = |v: Option<f64>| v.map_or_else(|| "-".to_string(), scte35::format_seconds);
    let mut rows: Vec<[String; 10]> = vec![[
        "#".into(),
        "segment".into(),
        "msn".into(),
        "start_s".into(),
        "duration_s".into(),
        "from".into(),
        "end".into(),
        "dialect".into(),
        "id".into(),
        "event".into(),
    ]];
    for (n, b) in r.breaks.iter().enumerate() {
        let from = match (b.insert, b.duration_source) {
            (true, _) => "insert".to_string(),
            (_, Some(s)) => serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            (_, None) if b.duration.is_some() => "measured".to_string(),
            _ => "-".to_string(),
        };
        let event = b
            .vars
            .get("scte.event_id")
            .or_else(|| b.vars.get("scte.segmentation_event_id"))
            .cloned();
        rows.push([
            (n + 1).to_string(),
            b.segment
                .map_or_else(|| "before".to_string(), |s| s.to_string()),
            opt(b.msn),
            secs(b.start_seconds),
            secs(b.duration),
            from,
            opt(b.end_segment),
            dialect_name(b.dialect),
            b.id.clone(),
            opt(event),
        ]);
    }
    let mut widths = [0usize; 10];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} segments, {} s, media sequence {}{}; {} break(s)",
        r.segments,
        scte35::format_seconds(r.duration),
        r.media_sequence,
        if r.ended { ", ended" } else { "" },
        r.breaks.len()
    );
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    for b in r.breaks.iter().filter(|b| !b.tags.is_empty()) {
        let _ = writeln!(out, "{}: {}", b.id, b.tags.join(" "));
    }
    if !r.ignored.is_empty() {
        let _ = writeln!(
            out,
            "ignored markers (content passed through or cue left out):"
        );
        for i in &r.ignored {
            let _ = writeln!(out, "  segment {}: {}", i.segment, i.reason);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAYLIST: &str = "#EXTM3U
#EXT-X-TARGETDURATION:10
#EXT-X-MEDIA-SEQUENCE:47224
#EXTINF:10.000,
a.ts
#EXT-OATCLS-SCTE35:/DAlAAAAAAAAAP/wFAUAAAABf+//wpiQkv4ARKogAAEBAQAAQ6sodg==
#EXT-X-CUE-OUT:50.000
#EXTINF:10.000,
b.ts
#EXT-OATCLS-SCTE35:/DAlAAAAAAAAAP/wFAUAAAABf+//wpiQkv4ARKogAAEBAQAAQ6sodg=
#EXT-X-CUE-OUT-CONT:ElapsedTime=10,Duration=50
#EXTINF:10.000,
c.ts
#EXT-X-CUE-IN
#EXTINF:10.000,
d.ts
";

    #[test]
    fn hls_report_lists_breaks_with_positions_and_cues() {
        let r = hls_report(PLAYLIST, &CueRules::default()).unwrap();
        assert_eq!(r.breaks.len(), 1);
        let b = &r.breaks[0];
        assert_eq!(
            (b.segment, b.msn, b.start_seconds),
            (Some(1), Some(47225), Some(10.0))
        );
        assert_eq!((b.end_segment, b.duration), (Some(3), Some(50.0)));
        assert_eq!(b.duration_source, Some(DurationSource::Marker));
        assert_eq!(b.dialect, Dialect::CueOut);
        assert_eq!(b.vars["scte.event_id"], "1");
        assert!(b.cue.is_some());
        // The second OATCLS has a bad CRC: it is listed, not acted on.
        assert_eq!(r.ignored.len(), 1);
        assert_eq!(r.ignored[0].segment, 2);
        let json: serde_json::Value = serde_json::from_str(&to_json(&r)).unwrap();
        assert_eq!(json["breaks"][0]["dialect"], "cue-out");
        assert_eq!(
            json["breaks"][0]["cue"]["splice_command"]["name"],
            "splice_insert"
        );
        let table = hls_table(&r);
        assert!(table.contains("msn-47225"), "{table}");
        assert!(table.contains("cue-out"), "{table}");
        assert!(table.contains("ignored markers"), "{table}");
    }

    #[test]
    fn multivariant_playlists_name_their_variants() {
        let text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\nv0.m3u8\n";
        match hls_report(text, &CueRules::default()) {
            Err(InspectError::Multivariant(v)) => assert_eq!(v, vec!["v0.m3u8"]),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn run_writes_json_and_warnings() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let cue =
            "/DA4AAAAAAAAAP/wFAUABDEAf+//mWEhzP4Azf5gAQAAAAATAhFDVUVJAAAAAX+/AQIwNAEAAKeYO3Q=";
        let strict = run(
            InspectCommand::Scte35 {
                cue: cue.into(),
                lenient: false,
            },
            &mut out,
            &mut err,
        )
        .await;
        assert!(matches!(
            strict,
            Err(InspectError::Decode(DecodeError::Crc { .. }))
        ));
        run(
            InspectCommand::Scte35 {
                cue: cue.into(),
                lenient: true,
            },
            &mut out,
            &mut err,
        )
        .await
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["splice_command"]["splice_event_id"], 274_688);
        assert!(String::from_utf8(err).unwrap().contains("CRC_32"));

        let dir = std::env::temp_dir().join(format!("splicepoint-inspect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("p.m3u8");
        std::fs::write(&file, PLAYLIST).unwrap();
        let mut out = Vec::new();
        run(
            InspectCommand::Hls {
                source: file.display().to_string(),
                table: true,
                lenient: false,
                segmentation_types: Some(vec![0x34, 0x35]),
                timeout_secs: 1,
            },
            &mut out,
            &mut Vec::new(),
        )
        .await
        .unwrap();
        assert!(String::from_utf8(out).unwrap().contains("1 break(s)"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(
            load("/nonexistent/p.m3u8", Duration::from_secs(1)).await,
            Err(InspectError::Read { .. })
        ));
    }

    #[test]
    fn type_ids_parse_in_hex_or_decimal() {
        assert_eq!(parse_type_id("0x34"), Ok(0x34));
        assert_eq!(parse_type_id("52"), Ok(52));
        assert!(parse_type_id("0x134").is_err());
    }
}

#[cfg(test)]
mod dash_inspect_tests {
    use super::*;

    #[test]
    fn lists_the_breaks_of_an_mpd() {
        let mpd = r#"<MPD type="static"><Period id="a"><EventStream schemeIdUri="urn:scte:scte35:2014:xml+bin" timescale="1"><Event presentationTime="10" duration="30" id="e"><Signal><Binary>/DAlAAAAAAAAAP/wFAUAAAABf+//wpiQkv4ARKogAAEBAQAAQ6sodg==</Binary></Signal></Event></EventStream></Period></MPD>"#;
        let rows = dash_report(mpd, &CueRules::default()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["id"], "a-e");
        assert_eq!(rows[0]["at"], 10.0);
        assert_eq!(rows[0]["duration"], 30.0);
        assert!(dash_report("<Period/>", &CueRules::default()).is_err());
    }
}
