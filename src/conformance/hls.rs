//! The HLS rules (RFC 8216, RFC 8216bis) a playlist writer can break: in one media or
//! multivariant playlist, and between two refreshes of one live media playlist.
//!
//! Pure. The playlist is read line by line, independently of [`crate::hls::model`]
//! (which refuses what it cannot use): every line is looked at, so every problem is
//! reported, each with its line.

use std::collections::HashMap;

use super::{parse_date_time, Problem, Rule};
use crate::hls::attr;
use crate::hls::version::{declared_versions, required_version};

/// Media playlist tags that appear at most once (RFC 8216 §4.3.3, §4.3.5; bis §4.4.3).
const ONCE_MEDIA: &[&str] = &[
    "#EXT-X-VERSION",
    "#EXT-X-TARGETDURATION",
    "#EXT-X-MEDIA-SEQUENCE",
    "#EXT-X-DISCONTINUITY-SEQUENCE",
    "#EXT-X-PLAYLIST-TYPE",
    "#EXT-X-ENDLIST",
    "#EXT-X-I-FRAMES-ONLY",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-START",
    "#EXT-X-SERVER-CONTROL",
    "#EXT-X-PART-INF",
    "#EXT-X-SKIP",
];

/// Multivariant playlist tags that appear at most once.
const ONCE_MULTIVARIANT: &[&str] = &[
    "#EXT-X-VERSION",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-START",
    "#EXT-X-CONTENT-STEERING",
];

/// Playlist-level tags that come before the first media segment.
const BEFORE_SEGMENTS: &[&str] = &[
    "#EXT-X-VERSION",
    "#EXT-X-TARGETDURATION",
    "#EXT-X-MEDIA-SEQUENCE",
    "#EXT-X-DISCONTINUITY-SEQUENCE",
    "#EXT-X-PLAYLIST-TYPE",
    "#EXT-X-I-FRAMES-ONLY",
];

/// Tags only a multivariant playlist carries.
const MULTIVARIANT_ONLY: &[&str] = &[
    "#EXT-X-STREAM-INF",
    "#EXT-X-I-FRAME-STREAM-INF",
    "#EXT-X-MEDIA",
    "#EXT-X-SESSION-DATA",
    "#EXT-X-SESSION-KEY",
    "#EXT-X-CONTENT-STEERING",
];

/// Tags only a media playlist carries.
const MEDIA_ONLY: &[&str] = &[
    "#EXTINF",
    "#EXT-X-TARGETDURATION",
    "#EXT-X-MEDIA-SEQUENCE",
    "#EXT-X-DISCONTINUITY-SEQUENCE",
    "#EXT-X-ENDLIST",
    "#EXT-X-PLAYLIST-TYPE",
    "#EXT-X-I-FRAMES-ONLY",
    "#EXT-X-BYTERANGE",
    "#EXT-X-DISCONTINUITY",
    "#EXT-X-KEY",
    "#EXT-X-MAP",
    "#EXT-X-PROGRAM-DATE-TIME",
    "#EXT-X-DATERANGE",
    "#EXT-X-GAP",
    "#EXT-X-PART",
    "#EXT-X-PART-INF",
    "#EXT-X-SKIP",
    "#EXT-X-PRELOAD-HINT",
    "#EXT-X-SERVER-CONTROL",
];

/// The tag name of a tag line (`#EXT-X-KEY` of `#EXT-X-KEY:METHOD=NONE`).
fn tag_name(line: &str) -> &str {
    line.split_once(':').map_or(line, |(n, _)| n)
}

/// The value after the tag name's colon.
fn tag_value(line: &str) -> &str {
    line.split_once(':').map_or("", |(_, v)| v)
}

/// A decimal-integer (RFC 8216 §4.2): digits only, fits in 64 bits.
fn decimal_integer(s: &str) -> Option<u64> {
    (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A non-negative decimal-floating-point: digits, one optional dot.
fn decimal_float(s: &str) -> Option<f64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    (digits(int) && (frac.is_empty() || digits(frac)))
        .then(|| s.parse::<f64>().ok())
        .flatten()
        .filter(|v| v.is_finite())
}

/// The lines of a playlist, without terminators or surrounding blanks.
fn lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r').trim())
        .collect()
}

fn check_header(lines: &[&str], out: &mut Vec<Problem>) -> bool {
    let first = lines.first().map(|l| l.trim_start_matches('\u{feff}'));
    if first != Some("#EXTM3U") {
        out.push(Problem::at_line(
            Rule::NotManifest,
            1,
            "the first line is not #EXTM3U",
        ));
        return false;
    }
    true
}

fn check_version(text: &str, out: &mut Vec<Problem>) {
    let declared = declared_versions(text);
    for (line, v) in &declared {
        if v.is_none() {
            out.push(Problem::at_line(
                Rule::HlsValue,
                *line,
                "EXT-X-VERSION is not a decimal integer",
            ));
        }
    }
    let have = declared.first().and_then(|(_, v)| *v);
    let need = required_version(text);
    if need.version > have.unwrap_or(1) {
        let declared = match have {
            Some(v) => format!("the playlist declares {v}"),
            None => "the playlist has no EXT-X-VERSION (version 1)".to_string(),
        };
        out.push(Problem::at_line(
            Rule::HlsVersion,
            need.line,
            format!(
                "{} needs EXT-X-VERSION {} or more; {declared}",
                need.feature, need.version
            ),
        ));
    }
}

fn check_once(
    name: &str,
    line: usize,
    once: &[&str],
    seen: &mut HashMap<String, usize>,
) -> Option<Problem> {
    if !once.contains(&name) {
        return None;
    }
    match seen.get(name) {
        Some(first) => Some(Problem::at_line(
            Rule::HlsTagOnce,
            line,
            format!("{name} appears again (first at line {first})"),
        )),
        None => {
            seen.insert(name.to_string(), line);
            None
        }
    }
}

fn check_key(value: &str, line: usize, out: &mut Vec<Problem>) {
    let mut bad = |m: String| out.push(Problem::at_line(Rule::HlsKey, line, m));
    let Some(method) = attr::attribute(value, "METHOD") else {
        bad("EXT-X-KEY without METHOD".into());
        return;
    };
    if method == "NONE" {
        for a in ["URI", "IV", "KEYFORMAT", "KEYFORMATVERSIONS"] {
            if attr::attribute(value, a).is_some() {
                bad(format!("EXT-X-KEY METHOD=NONE with {a}"));
            }
        }
        return;
    }
    if !matches!(method, "AES-128" | "SAMPLE-AES" | "SAMPLE-AES-CTR") {
        bad(format!("EXT-X-KEY with an unknown METHOD {method}"));
    }
    if attr::attribute(value, "URI").is_none() {
        bad(format!("EXT-X-KEY METHOD={method} without URI"));
    }
    if let Some(iv) = attr::attribute(value, "IV") {
        let hex = iv.strip_prefix("0x").or_else(|| iv.strip_prefix("0X"));
        if !hex.is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit())) {
            bad(format!(
                "EXT-X-KEY IV {iv} is not a 128-bit hexadecimal (0x + 32 digits)"
            ));
        }
    }
}

/// Attributes of a tag: (name, value unquoted), in order.
type Attrs = [(String, String)];

/// An `EXT-X-DATERANGE`: its ID and attributes.
type DateRange = (String, Vec<(String, String)>);

fn check_daterange(value: &str, line: usize, out: &mut Vec<Problem>) -> Option<DateRange> {
    let attrs: Vec<(String, String)> = attr::attributes(value)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let get = |name: &str| {
        attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut bad = |m: String| out.push(Problem::at_line(Rule::HlsDateRange, line, m));
    let id = get("ID");
    if id.is_none() {
        bad("EXT-X-DATERANGE without ID".into());
    }
    let start = match get("START-DATE") {
        None => {
            bad("EXT-X-DATERANGE without START-DATE".into());
            None
        }
        Some(s) => {
            let t = parse_date_time(s);
            if t.is_none() {
                bad(format!("START-DATE {s} is not an ISO 8601 date-time"));
            }
            t
        }
    };
    let mut duration = None;
    for a in ["DURATION", "PLANNED-DURATION"] {
        if let Some(v) = get(a) {
            match v.parse::<f64>().ok().filter(|d| d.is_finite()) {
                Some(d) if d >= 0.0 => {
                    if a == "DURATION" {
                        duration = Some(d);
                    }
                }
                Some(_) => bad(format!("{a} {v} is negative")),
                None => bad(format!("{a} {v} is not a number")),
            }
        }
    }
    if let Some(e) = get("END-DATE") {
        match (parse_date_time(e), start) {
            (None, _) => bad(format!("END-DATE {e} is not an ISO 8601 date-time")),
            (Some(end), Some(start)) if end < start => {
                bad(format!("END-DATE {e} is before START-DATE"));
            }
            (Some(end), Some(start)) => {
                if let Some(d) = duration {
                    if (start + d - end).abs() > 0.001 {
                        bad(format!("END-DATE {e} is not START-DATE plus DURATION {d}"));
                    }
                }
            }
            _ => {}
        }
    }
    if get("END-ON-NEXT") == Some("YES") {
        if get("CLASS").is_none() {
            bad("END-ON-NEXT=YES without CLASS".into());
        }
        if get("DURATION").is_some() || get("END-DATE").is_some() {
            bad("END-ON-NEXT=YES with DURATION or END-DATE".into());
        }
    }
    id.map(|id| (id.to_string(), attrs.clone()))
}

/// The attributes two date ranges of one ID give different values:
/// (name, first value, second value).
fn conflicts<'a>(a: &'a Attrs, b: &'a Attrs) -> Vec<(&'a str, &'a str, &'a str)> {
    a.iter()
        .filter_map(|(k, va)| {
            let vb = b.iter().find(|(kb, _)| kb == k).map(|(_, v)| v)?;
            (va != vb).then_some((k.as_str(), va.as_str(), vb.as_str()))
        })
        .collect()
}

// === Low-Latency HLS (RFC 8216bis §4.4.3.7, §4.4.3.8, §4.4.4.9, §4.4.5.3, §4.4.5.4) ===

/// Tolerance on comparisons of decimal durations read from text.
const EPSILON: f64 = 1e-9;

/// An `n[@o]` byte range (EXT-X-BYTERANGE, EXT-X-PART's BYTERANGE).
fn byte_range(v: &str) -> bool {
    let (len, off) = v.split_once('@').map_or((v, None), |(l, o)| (l, Some(o)));
    decimal_integer(len).is_some() && off.is_none_or(|o| decimal_integer(o).is_some())
}

/// A decimal attribute: `None` when absent, `Some(None)` when not a decimal.
fn decimal_attribute(value: &str, name: &str) -> Option<Option<f64>> {
    attr::attribute(value, name).map(decimal_float)
}

/// The rules of partial segments, preload hints, rendition reports and the server
/// control of one media playlist.
fn check_low_latency(lines: &[&str], out: &mut Vec<Problem>) {
    let mut target: Option<f64> = None;
    let mut part_inf: Option<(usize, Option<f64>)> = None;
    let mut server_control: Option<(usize, &str)> = None;
    let mut parts: Vec<(usize, f64)> = Vec::new();
    let mut first_part: Option<usize> = None;
    let mut ended = false;
    let mut hints: Vec<usize> = Vec::new();
    // The line of the first EXT-X-PART of the parent segment being read.
    let mut part_in_segment: Option<usize> = None;
    for (i, &line) in lines.iter().enumerate() {
        let n = i + 1;
        if line.is_empty() {
            continue;
        }
        if !line.starts_with('#') {
            part_in_segment = None;
            continue;
        }
        let (name, value) = (tag_name(line), tag_value(line));
        match name {
            "#EXT-X-TARGETDURATION" => {
                target = target.or(decimal_integer(value.trim()).map(|t| t as f64));
            }
            "#EXT-X-ENDLIST" => ended = true,
            "#EXT-X-PART-INF" => {
                let t = match decimal_attribute(value, "PART-TARGET") {
                    None => {
                        out.push(Problem::at_line(
                            Rule::HlsPartInf,
                            n,
                            "EXT-X-PART-INF without PART-TARGET",
                        ));
                        None
                    }
                    Some(None) => {
                        out.push(Problem::at_line(
                            Rule::HlsPartInf,
                            n,
                            "PART-TARGET is not a decimal number of seconds",
                        ));
                        None
                    }
                    Some(t) => t,
                };
                part_inf.get_or_insert((n, t));
            }
            "#EXT-X-SERVER-CONTROL" => {
                server_control.get_or_insert((n, value));
            }
            "#EXT-X-PART" => {
                first_part.get_or_insert(n);
                part_in_segment.get_or_insert(n);
                let mut bad = |m: String| out.push(Problem::at_line(Rule::HlsPart, n, m));
                if attr::attribute(value, "URI").is_none() {
                    bad("EXT-X-PART without URI".into());
                }
                match decimal_attribute(value, "DURATION") {
                    None => bad("EXT-X-PART without DURATION".into()),
                    Some(None) => bad("EXT-X-PART DURATION is not a decimal number".into()),
                    Some(Some(d)) => parts.push((n, d)),
                }
                for a in ["INDEPENDENT", "GAP"] {
                    if let Some(v) = attr::attribute(value, a).filter(|v| *v != "YES") {
                        bad(format!("EXT-X-PART {a}={v}: the only value is YES"));
                    }
                }
                if let Some(r) = attr::attribute(value, "BYTERANGE").filter(|r| !byte_range(r)) {
                    bad(format!("EXT-X-PART BYTERANGE {r:?} is not n[@o]"));
                }
            }
            "#EXT-X-DISCONTINUITY" | "#EXT-X-KEY" | "#EXT-X-MAP" | "#EXT-X-PROGRAM-DATE-TIME" => {
                if let Some(p) = part_in_segment {
                    out.push(Problem::at_line(
                        Rule::HlsPart,
                        n,
                        format!(
                            "{name} after an EXT-X-PART of the same parent segment (line {p}): \
                             it applies to its first partial segment, so it comes before"
                        ),
                    ));
                }
            }
            "#EXT-X-PRELOAD-HINT" => {
                hints.push(n);
                let mut bad = |m: String| out.push(Problem::at_line(Rule::HlsPreloadHint, n, m));
                match attr::attribute(value, "TYPE") {
                    None => bad("EXT-X-PRELOAD-HINT without TYPE".into()),
                    Some("PART" | "MAP") => {}
                    Some(t) => bad(format!("EXT-X-PRELOAD-HINT TYPE={t}: neither PART nor MAP")),
                }
                if attr::attribute(value, "URI").is_none() {
                    bad("EXT-X-PRELOAD-HINT without URI".into());
                }
                for a in ["BYTERANGE-START", "BYTERANGE-LENGTH"] {
                    if let Some(v) = attr::attribute(value, a) {
                        if decimal_integer(v).is_none() {
                            bad(format!("{a} {v} is not a decimal integer"));
                        }
                    }
                }
            }
            "#EXT-X-RENDITION-REPORT" => {
                let mut bad =
                    |m: String| out.push(Problem::at_line(Rule::HlsRenditionReport, n, m));
                if attr::attribute(value, "URI").is_none() {
                    bad("EXT-X-RENDITION-REPORT without URI".into());
                }
                // LAST-MSN and LAST-PART may be left out when they equal this
                // playlist's own (bis §4.4.5.4).
                for a in ["LAST-MSN", "LAST-PART"] {
                    if let Some(v) = attr::attribute(value, a) {
                        if decimal_integer(v).is_none() {
                            bad(format!("{a} {v} is not a decimal integer"));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    match (first_part, part_inf) {
        (Some(p), None) => out.push(Problem::at_line(
            Rule::HlsPartInf,
            p,
            "EXT-X-PART in a playlist without EXT-X-PART-INF",
        )),
        (_, Some((pi, Some(t)))) => {
            for (n, d) in &parts {
                if *d > t + EPSILON {
                    out.push(Problem::at_line(
                        Rule::HlsPart,
                        *n,
                        format!("EXT-X-PART DURATION {d} is above PART-TARGET {t} (line {pi})"),
                    ));
                }
            }
        }
        _ => {}
    }
    if ended {
        for n in hints {
            out.push(Problem::at_line(
                Rule::HlsPreloadHint,
                n,
                "EXT-X-PRELOAD-HINT in a playlist with EXT-X-ENDLIST",
            ));
        }
    }
    check_server_control(server_control, target, part_inf, out);
}

fn check_server_control(
    tag: Option<(usize, &str)>,
    target: Option<f64>,
    part_inf: Option<(usize, Option<f64>)>,
    out: &mut Vec<Problem>,
) {
    let Some((n, value)) = tag else {
        if let Some((p, _)) = part_inf {
            out.push(Problem::at_line(
                Rule::HlsServerControl,
                p,
                "EXT-X-PART-INF without an EXT-X-SERVER-CONTROL giving PART-HOLD-BACK",
            ));
        }
        return;
    };
    let mut bad = |m: String| out.push(Problem::at_line(Rule::HlsServerControl, n, m));
    for a in ["CAN-BLOCK-RELOAD", "CAN-SKIP-DATERANGES"] {
        if let Some(v) = attr::attribute(value, a).filter(|v| *v != "YES") {
            bad(format!("{a}={v}: the only value is YES"));
        }
    }
    let mut seconds = |a: &str| match decimal_attribute(value, a) {
        Some(None) => {
            bad(format!("{a} is not a decimal number of seconds"));
            None
        }
        v => v.flatten(),
    };
    let skip = seconds("CAN-SKIP-UNTIL");
    let hold = seconds("HOLD-BACK");
    let part_hold = seconds("PART-HOLD-BACK");
    let has = |a: &str| attr::attribute(value, a).is_some();
    let mut bad = |m: String| out.push(Problem::at_line(Rule::HlsServerControl, n, m));
    if has("CAN-SKIP-DATERANGES") && !has("CAN-SKIP-UNTIL") {
        bad("CAN-SKIP-DATERANGES without CAN-SKIP-UNTIL".into());
    }
    if let Some(t) = target {
        if let Some(s) = skip.filter(|s| *s + EPSILON < 6.0 * t) {
            bad(format!(
                "CAN-SKIP-UNTIL {s} is below six target durations ({})",
                6.0 * t
            ));
        }
        if let Some(h) = hold.filter(|h| *h + EPSILON < 3.0 * t) {
            bad(format!(
                "HOLD-BACK {h} is below three target durations ({})",
                3.0 * t
            ));
        }
    }
    match (part_inf, part_hold) {
        (Some(_), None) if !has("PART-HOLD-BACK") => {
            bad("no PART-HOLD-BACK in a playlist with EXT-X-PART-INF".into());
        }
        (Some((_, Some(pt))), Some(h)) if h + EPSILON < 2.0 * pt => {
            bad(format!(
                "PART-HOLD-BACK {h} is below twice PART-TARGET ({})",
                2.0 * pt
            ));
        }
        _ => {}
    }
}

// === Variable substitution (RFC 8216bis §4.3, §4.4.2.3) ===

/// A variable name: `[A-Za-z0-9_-]+`.
fn variable_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The variable references `{$name}` of a line.
fn variable_references(line: &str) -> impl Iterator<Item = &str> {
    line.split("{$").skip(1).filter_map(|rest| {
        let (name, _) = rest.split_once('}')?;
        variable_name(name).then_some(name)
    })
}

/// The EXT-X-DEFINE tags of a playlist, and the references to what they define.
fn check_variables(lines: &[&str], multivariant: bool, out: &mut Vec<Problem>) {
    let mut defined: HashMap<&str, usize> = HashMap::new();
    for (i, &line) in lines.iter().enumerate() {
        let n = i + 1;
        if tag_name(line) != "#EXT-X-DEFINE" {
            continue;
        }
        let value = tag_value(line);
        let mut bad = |m: String| out.push(Problem::at_line(Rule::HlsDefine, n, m));
        let forms: Vec<(&str, &str)> = ["NAME", "IMPORT", "QUERYPARAM"]
            .into_iter()
            .filter_map(|a| attr::attribute(value, a).map(|v| (a, v)))
            .collect();
        let (form, name) = match forms.as_slice() {
            [] => {
                bad("EXT-X-DEFINE without NAME, IMPORT or QUERYPARAM".into());
                continue;
            }
            [one] => *one,
            more => {
                let names: Vec<&str> = more.iter().map(|(a, _)| *a).collect();
                bad(format!(
                    "EXT-X-DEFINE with {}: only one of NAME, IMPORT and QUERYPARAM",
                    names.join(" and ")
                ));
                more[0]
            }
        };
        let has_value = attr::attribute(value, "VALUE").is_some();
        match form {
            "NAME" if !has_value => bad(format!("EXT-X-DEFINE NAME=\"{name}\" without VALUE")),
            "IMPORT" if multivariant => bad(format!(
                "EXT-X-DEFINE IMPORT=\"{name}\" in a multivariant playlist (media playlists only)"
            )),
            "IMPORT" | "QUERYPARAM" if has_value => {
                bad(format!("EXT-X-DEFINE {form}=\"{name}\" with a VALUE"));
            }
            _ => {}
        }
        if !variable_name(name) {
            bad(format!(
                "variable name {name:?} is not made of A-Z, a-z, 0-9, - and _"
            ));
        }
        if let Some(first) = defined.get(name) {
            bad(format!(
                "variable {name} defined again (first at line {first})"
            ));
        } else {
            defined.insert(name, n);
        }
    }
    for (i, &line) in lines.iter().enumerate() {
        for name in variable_references(line) {
            if !defined.contains_key(name) {
                out.push(Problem::at_line(
                    Rule::HlsVariableDefined,
                    i + 1,
                    format!("{{${name}}} refers to a variable no EXT-X-DEFINE defines"),
                ));
            }
        }
    }
}

/// Check one media playlist.
pub fn check_media(text: &str) -> Vec<Problem> {
    let lines = lines(text);
    let mut out = Vec::new();
    if !check_header(&lines, &mut out) {
        return out;
    }
    check_version(text, &mut out);
    check_low_latency(&lines, &mut out);
    check_variables(&lines, false, &mut out);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut first_segment: Option<usize> = None;
    let mut pending_extinf: Option<usize> = None;
    let mut target: Option<u64> = None;
    let mut durations: Vec<(usize, f64)> = Vec::new();
    let mut first_discontinuity: Option<usize> = None;
    let mut has_pdt = false;
    let mut dateranges: Vec<(usize, DateRange)> = Vec::new();
    // The segment being read has a byte range (and the line of one without an
    // offset); the previous segment's URI when it was a sub-range.
    let mut byterange: Option<Option<usize>> = None;
    let mut prev_sub_range: Option<&str> = None;
    for (i, &line) in lines.iter().enumerate().skip(1) {
        let n = i + 1;
        if line.is_empty() {
            continue;
        }
        if !line.starts_with('#') {
            if let Some(Some(b)) = byterange {
                if prev_sub_range != Some(line) {
                    out.push(Problem::at_line(
                        Rule::HlsByteRange,
                        b,
                        format!(
                            "EXT-X-BYTERANGE without an offset, but the previous segment is not a sub-range of {line}"
                        ),
                    ));
                }
            }
            prev_sub_range = byterange.take().map(|_| line);
            if pending_extinf.take().is_none() {
                out.push(Problem::at_line(
                    Rule::HlsSegmentUri,
                    n,
                    format!("segment URI {line} without a preceding EXTINF"),
                ));
            }
            first_segment.get_or_insert(n);
            continue;
        }
        if !line.starts_with("#EXT") {
            continue;
        }
        let name = tag_name(line);
        let value = tag_value(line);
        out.extend(check_once(name, n, ONCE_MEDIA, &mut seen));
        if let (true, Some(f)) = (BEFORE_SEGMENTS.contains(&name), first_segment) {
            out.push(Problem::at_line(
                Rule::HlsHeaderPosition,
                n,
                format!("{name} after the first media segment (line {f})"),
            ));
        }
        if MULTIVARIANT_ONLY.contains(&name) {
            out.push(Problem::at_line(
                Rule::HlsMixed,
                n,
                format!("{name} in a media playlist"),
            ));
        }
        match name {
            "#EXTINF" => {
                if let Some(p) = pending_extinf.replace(n) {
                    out.push(Problem::at_line(
                        Rule::HlsSegmentUri,
                        p,
                        "EXTINF without a URI (another EXTINF follows)",
                    ));
                }
                first_segment.get_or_insert(n);
                let d = value.split(',').next().unwrap_or("").trim();
                match decimal_float(d) {
                    Some(d) => durations.push((n, d)),
                    None => out.push(Problem::at_line(
                        Rule::HlsValue,
                        n,
                        format!("EXTINF duration {d:?} is not a non-negative decimal"),
                    )),
                }
            }
            "#EXT-X-TARGETDURATION" => match decimal_integer(value.trim()) {
                Some(t) => {
                    target.get_or_insert(t);
                }
                None => out.push(Problem::at_line(
                    Rule::HlsTargetDuration,
                    n,
                    format!("EXT-X-TARGETDURATION {value:?} is not a decimal integer"),
                )),
            },
            "#EXT-X-MEDIA-SEQUENCE" | "#EXT-X-DISCONTINUITY-SEQUENCE" => {
                if decimal_integer(value.trim()).is_none() {
                    out.push(Problem::at_line(
                        Rule::HlsValue,
                        n,
                        format!("{name} {value:?} is not a decimal integer"),
                    ));
                }
                if let (true, Some(d)) =
                    (name == "#EXT-X-DISCONTINUITY-SEQUENCE", first_discontinuity)
                {
                    out.push(Problem::at_line(
                        Rule::HlsHeaderPosition,
                        n,
                        format!(
                            "EXT-X-DISCONTINUITY-SEQUENCE after an EXT-X-DISCONTINUITY (line {d})"
                        ),
                    ));
                }
            }
            "#EXT-X-DISCONTINUITY" => {
                first_discontinuity.get_or_insert(n);
            }
            "#EXT-X-PLAYLIST-TYPE" if !matches!(value.trim(), "EVENT" | "VOD") => {
                out.push(Problem::at_line(
                    Rule::HlsValue,
                    n,
                    format!("EXT-X-PLAYLIST-TYPE {value:?} is neither EVENT nor VOD"),
                ));
            }
            "#EXT-X-BYTERANGE" => {
                let (len, off) = value
                    .split_once('@')
                    .map_or((value, None), |(l, o)| (l, Some(o)));
                byterange = Some(off.is_none().then_some(n));
                if decimal_integer(len).is_none()
                    || off.is_some_and(|o| decimal_integer(o).is_none())
                {
                    out.push(Problem::at_line(
                        Rule::HlsValue,
                        n,
                        format!("EXT-X-BYTERANGE {value:?} is not n[@o]"),
                    ));
                }
            }
            "#EXT-X-KEY" => check_key(value, n, &mut out),
            "#EXT-X-MAP" if attr::attribute(value, "URI").is_none() => {
                out.push(Problem::at_line(Rule::HlsMap, n, "EXT-X-MAP without URI"));
            }
            "#EXT-X-PROGRAM-DATE-TIME" => {
                has_pdt = true;
                if parse_date_time(value).is_none() {
                    out.push(Problem::at_line(
                        Rule::HlsValue,
                        n,
                        format!("EXT-X-PROGRAM-DATE-TIME {value:?} is not an ISO 8601 date-time"),
                    ));
                }
            }
            "#EXT-X-DATERANGE" => {
                if let Some(d) = check_daterange(value, n, &mut out) {
                    dateranges.push((n, d));
                }
            }
            _ => {}
        }
    }
    if let Some(p) = pending_extinf {
        out.push(Problem::at_line(
            Rule::HlsSegmentUri,
            p,
            "EXTINF without a URI (the playlist ends)",
        ));
    }
    match target {
        None if !seen.contains_key("#EXT-X-TARGETDURATION") => out.push(Problem::at_line(
            Rule::HlsTargetDuration,
            0,
            "no EXT-X-TARGETDURATION",
        )),
        None => {}
        Some(t) => {
            for (n, d) in durations {
                let rounded = d.round();
                if rounded > t as f64 {
                    out.push(Problem::at_line(
                        Rule::HlsTargetDuration,
                        n,
                        format!("EXTINF {d} rounds to {rounded}, above EXT-X-TARGETDURATION {t}"),
                    ));
                }
            }
        }
    }
    if let (false, Some((n, _))) = (has_pdt, dateranges.first()) {
        out.push(Problem::at_line(
            Rule::HlsDateRangeNeedsPdt,
            *n,
            "EXT-X-DATERANGE in a playlist without EXT-X-PROGRAM-DATE-TIME",
        ));
    }
    let mut by_id: HashMap<&str, (usize, &Attrs)> = HashMap::new();
    for (n, (id, attrs)) in &dateranges {
        match by_id.get(id.as_str()) {
            Some((first, earlier)) => {
                for (k, a, b) in conflicts(earlier, attrs) {
                    out.push(Problem::at_line(
                        Rule::HlsDateRangeConsistent,
                        *n,
                        format!("date range {id}: {k} was {a} (line {first}), now {b}"),
                    ));
                }
            }
            None => {
                by_id.insert(id, (*n, attrs));
            }
        }
    }
    out
}

/// Check one multivariant playlist.
pub fn check_multivariant(text: &str) -> Vec<Problem> {
    let lines = lines(text);
    let mut out = Vec::new();
    if !check_header(&lines, &mut out) {
        return out;
    }
    check_version(text, &mut out);
    check_variables(&lines, true, &mut out);
    let mut seen: HashMap<String, usize> = HashMap::new();
    // (TYPE, GROUP-ID) → NAME → line
    let mut groups: HashMap<(String, String), HashMap<String, usize>> = HashMap::new();
    // (line, attribute, TYPE it names, group)
    let mut refs: Vec<(usize, &'static str, String)> = Vec::new();
    let mut expect_uri: Option<usize> = None;
    for (i, &line) in lines.iter().enumerate().skip(1) {
        let n = i + 1;
        if line.is_empty() || (line.starts_with('#') && !line.starts_with("#EXT")) {
            continue;
        }
        if !line.starts_with('#') {
            if expect_uri.take().is_none() {
                out.push(Problem::at_line(
                    Rule::HlsStreamInf,
                    n,
                    format!("URI line {line} without an EXT-X-STREAM-INF before it"),
                ));
            }
            continue;
        }
        if let Some(s) = expect_uri.take() {
            out.push(Problem::at_line(
                Rule::HlsStreamInf,
                s,
                "EXT-X-STREAM-INF not followed by its URI line",
            ));
        }
        let name = tag_name(line);
        let value = tag_value(line);
        out.extend(check_once(name, n, ONCE_MULTIVARIANT, &mut seen));
        if MEDIA_ONLY.contains(&name) {
            out.push(Problem::at_line(
                Rule::HlsMixed,
                n,
                format!("{name} in a multivariant playlist"),
            ));
        }
        match name {
            "#EXT-X-STREAM-INF" | "#EXT-X-I-FRAME-STREAM-INF" => {
                let iframe = name == "#EXT-X-I-FRAME-STREAM-INF";
                let rule = if iframe {
                    Rule::HlsIFrameStreamInf
                } else {
                    Rule::HlsStreamInf
                };
                match attr::attribute(value, "BANDWIDTH") {
                    None => out.push(Problem::at_line(
                        rule,
                        n,
                        format!("{name} without BANDWIDTH"),
                    )),
                    Some(b) if decimal_integer(b).is_none() => out.push(Problem::at_line(
                        rule,
                        n,
                        format!("BANDWIDTH {b} is not a decimal integer"),
                    )),
                    Some(_) => {}
                }
                if iframe {
                    if attr::attribute(value, "URI").is_none() {
                        out.push(Problem::at_line(
                            rule,
                            n,
                            "EXT-X-I-FRAME-STREAM-INF without URI",
                        ));
                    }
                } else {
                    expect_uri = Some(n);
                }
                let kinds: &[(&'static str, &'static str)] = if iframe {
                    &[("VIDEO", "VIDEO")]
                } else {
                    &[
                        ("AUDIO", "AUDIO"),
                        ("VIDEO", "VIDEO"),
                        ("SUBTITLES", "SUBTITLES"),
                        ("CLOSED-CAPTIONS", "CLOSED-CAPTIONS"),
                    ]
                };
                for (a, ty) in kinds {
                    if let Some(g) = attr::attribute(value, a) {
                        if !(*a == "CLOSED-CAPTIONS" && g == "NONE") {
                            refs.push((n, ty, g.to_string()));
                        }
                    }
                }
            }
            "#EXT-X-MEDIA" => {
                let get = |a: &str| attr::attribute(value, a);
                let mut bad = |m: String| out.push(Problem::at_line(Rule::HlsMedia, n, m));
                let ty = get("TYPE");
                match ty {
                    None => bad("EXT-X-MEDIA without TYPE".into()),
                    Some("AUDIO" | "VIDEO") => {}
                    Some("SUBTITLES") => {
                        if get("URI").is_none() {
                            bad("EXT-X-MEDIA TYPE=SUBTITLES without URI".into());
                        }
                    }
                    Some("CLOSED-CAPTIONS") => {
                        if get("URI").is_some() {
                            bad("EXT-X-MEDIA TYPE=CLOSED-CAPTIONS with a URI".into());
                        }
                        if get("INSTREAM-ID").is_none() {
                            bad("EXT-X-MEDIA TYPE=CLOSED-CAPTIONS without INSTREAM-ID".into());
                        }
                    }
                    Some(other) => bad(format!("EXT-X-MEDIA with an unknown TYPE {other}")),
                }
                let group = get("GROUP-ID");
                if group.is_none() {
                    bad("EXT-X-MEDIA without GROUP-ID".into());
                }
                let media_name = get("NAME");
                if media_name.is_none() {
                    bad("EXT-X-MEDIA without NAME".into());
                }
                if let (Some(ty), Some(group)) = (ty, group) {
                    let names = groups
                        .entry((ty.to_string(), group.to_string()))
                        .or_default();
                    if let Some(media_name) = media_name {
                        if let Some(first) = names.get(media_name) {
                            out.push(Problem::at_line(
                                Rule::HlsMediaNameUnique,
                                n,
                                format!(
                                    "NAME {media_name} again in {ty} group {group} (first at line {first})"
                                ),
                            ));
                        } else {
                            names.insert(media_name.to_string(), n);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(s) = expect_uri {
        out.push(Problem::at_line(
            Rule::HlsStreamInf,
            s,
            "EXT-X-STREAM-INF not followed by its URI line (the playlist ends)",
        ));
    }
    for (n, ty, group) in refs {
        if !groups.contains_key(&(ty.to_string(), group.clone())) {
            out.push(Problem::at_line(
                Rule::HlsGroupExists,
                n,
                format!("{ty}=\"{group}\" names no EXT-X-MEDIA group of TYPE={ty}"),
            ));
        }
    }
    out
}

/// One media segment as the refresh rules see it.
#[derive(Debug)]
struct Seg<'a> {
    msn: u64,
    uri: &'a str,
    duration: f64,
    cc: u64,
    line: usize,
}

/// What the refresh rules compare.
#[derive(Debug, Default)]
struct Scan<'a> {
    msn: u64,
    msn_line: usize,
    dseq: u64,
    dseq_line: usize,
    ended: bool,
    event: bool,
    segments: Vec<Seg<'a>>,
    dateranges: Vec<(usize, DateRange)>,
}

fn scan(text: &str) -> Scan<'_> {
    let mut s = Scan::default();
    let mut duration = None;
    let mut tags = 0u64;
    let mut ignored = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r').trim();
        let n = i + 1;
        if line.is_empty() || i == 0 {
            continue;
        }
        if !line.starts_with('#') {
            if let Some(d) = duration.take() {
                s.segments.push(Seg {
                    msn: s.msn.saturating_add(s.segments.len() as u64),
                    uri: line,
                    duration: d,
                    cc: s.dseq.saturating_add(tags),
                    line: n,
                });
            }
            continue;
        }
        let value = tag_value(line).trim();
        match tag_name(line) {
            "#EXTINF" => {
                duration = decimal_float(value.split(',').next().unwrap_or("").trim());
            }
            "#EXT-X-MEDIA-SEQUENCE" => {
                s.msn = decimal_integer(value).unwrap_or(0);
                s.msn_line = n;
            }
            "#EXT-X-DISCONTINUITY-SEQUENCE" => {
                s.dseq = decimal_integer(value).unwrap_or(0);
                s.dseq_line = n;
            }
            "#EXT-X-DISCONTINUITY" => tags += 1,
            "#EXT-X-ENDLIST" => s.ended = true,
            "#EXT-X-PLAYLIST-TYPE" => s.event = value == "EVENT",
            "#EXT-X-DATERANGE" => {
                if let Some(d) = check_daterange(tag_value(line), n, &mut ignored) {
                    s.dateranges.push((n, d));
                }
            }
            _ => {}
        }
    }
    s
}

/// Check the next answer of a live media playlist against the previous one (the
/// problems of `next` alone are [`check_media`]'s). Places are lines of `next`.
pub fn check_refresh(prev: &str, next: &str) -> Vec<Problem> {
    let (a, b) = (scan(prev), scan(next));
    let mut out = Vec::new();
    if b.msn < a.msn {
        out.push(Problem::at_line(
            Rule::HlsRefreshSequence,
            b.msn_line,
            format!("EXT-X-MEDIA-SEQUENCE went back from {} to {}", a.msn, b.msn),
        ));
    }
    if b.dseq < a.dseq {
        out.push(Problem::at_line(
            Rule::HlsRefreshSequence,
            b.dseq_line,
            format!(
                "EXT-X-DISCONTINUITY-SEQUENCE went back from {} to {}",
                a.dseq, b.dseq
            ),
        ));
    }
    let before: HashMap<u64, &Seg<'_>> = a.segments.iter().map(|s| (s.msn, s)).collect();
    for s in &b.segments {
        let Some(p) = before.get(&s.msn) else {
            continue;
        };
        let mut changed = Vec::new();
        if p.uri != s.uri {
            changed.push(format!("URI {} → {}", p.uri, s.uri));
        }
        if (p.duration - s.duration).abs() > 1e-9 {
            changed.push(format!("duration {} → {}", p.duration, s.duration));
        }
        if p.cc != s.cc {
            changed.push(format!("discontinuity sequence {} → {}", p.cc, s.cc));
        }
        if !changed.is_empty() {
            out.push(Problem::at_line(
                Rule::HlsRefreshIdentity,
                s.line,
                format!("media sequence {} changed: {}", s.msn, changed.join(", ")),
            ));
        }
    }
    if a.ended {
        let same_window = b.msn == a.msn && b.segments.len() == a.segments.len();
        if !b.ended || !same_window {
            out.push(Problem::at_line(
                Rule::HlsRefreshEnded,
                0,
                "the playlist changed after EXT-X-ENDLIST",
            ));
        }
    } else if a.event && (b.msn != a.msn || b.segments.len() < a.segments.len()) {
        out.push(Problem::at_line(
            Rule::HlsRefreshEnded,
            b.msn_line,
            "an EVENT playlist lost segments",
        ));
    }
    let earlier: HashMap<&str, &Attrs> = a
        .dateranges
        .iter()
        .map(|(_, (id, attrs))| (id.as_str(), attrs.as_slice()))
        .collect();
    for (n, (id, attrs)) in &b.dateranges {
        if let Some(e) = earlier.get(id.as_str()) {
            for (k, x, y) in conflicts(e, attrs) {
                out.push(Problem::at_line(
                    Rule::HlsDateRangeConsistent,
                    *n,
                    format!("date range {id}: {k} was {x} in the previous answer, now {y}"),
                ));
            }
        }
    }
    out
}
