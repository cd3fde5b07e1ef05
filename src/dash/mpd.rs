//! MPD values we act on: xs:duration, period timing, SCTE-35 event streams → breaks.
//!
//! Pure.

use std::collections::BTreeMap;

use super::xml::{Document, Element};
use crate::scte35::rules::{ads_vars, classify, CueRules, Signal};

/// SCTE-35 as XML (`<SpliceInfoSection>` in the Event).
pub const SCHEME_SCTE35_XML: &str = "urn:scte:scte35:2013:xml";
/// SCTE-35 as XML with a base64 `<Binary>` (`<Signal><Binary>`).
pub const SCHEME_SCTE35_XML_BIN: &str = "urn:scte:scte35:2014:xml+bin";
/// SCTE-35 as base64 text in the Event.
pub const SCHEME_SCTE35_BIN: &str = "urn:scte:scte35:2013:bin";

/// Parse an xs:duration (`PT1H2M3.5S`, `P1DT2H`, `PT0S`) into seconds.
pub fn parse_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    let rest = s.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut total = 0.0;
    let mut num = String::new();
    for c in date.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'Y' => total += num.parse::<f64>().ok()? * 365.0 * 86_400.0,
            'M' => total += num.parse::<f64>().ok()? * 30.0 * 86_400.0,
            'D' => total += num.parse::<f64>().ok()? * 86_400.0,
            _ => return None,
        }
        if c.is_ascii_alphabetic() {
            num.clear();
        }
    }
    for c in time.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'H' => total += num.parse::<f64>().ok()? * 3600.0,
            'M' => total += num.parse::<f64>().ok()? * 60.0,
            'S' => total += num.parse::<f64>().ok()?,
            _ => return None,
        }
        if c.is_ascii_alphabetic() {
            num.clear();
        }
    }
    (num.is_empty() && total.is_finite()).then_some(total)
}

/// Format seconds as an xs:duration (`PT12.345S`, millisecond precision).
pub fn format_duration(secs: f64) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    if ms % 1000 == 0 {
        format!("PT{}S", ms / 1000)
    } else {
        let s = format!("PT{}.{:03}", ms / 1000, ms % 1000);
        format!("{}S", s.trim_end_matches('0'))
    }
}

/// Format Unix seconds as an xs:dateTime in UTC (`2024-01-01T00:00:00Z`).
pub fn format_utc(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    let (y, m, d) = crate::hls::pdt::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parse an xs:dateTime in UTC (`2024-01-01T00:00:00Z`, fractions and `+00:00`
/// allowed) into Unix seconds.
pub fn parse_utc(s: &str) -> Option<u64> {
    let s = s.trim();
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-');
    // At most 9 year digits: the day arithmetic below cannot overflow.
    let (y, m, day): (i64, i64, i64) = (
        d.next().filter(|y| y.len() <= 9)?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let time = time.trim_end_matches('Z').trim_end_matches("+00:00");
    let mut t = time.split(':');
    let (hh, mm): (u64, u64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    let ss: f64 = t.next().unwrap_or("0").parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 {
        return None;
    }
    let days = crate::hls::pdt::days_from_civil(y, m, day);
    let secs = days * 86_400 + (hh * 3600 + mm * 60) as i64 + ss as i64;
    u64::try_from(secs).ok()
}

/// Is the MPD live (`type="dynamic"`)?
pub fn is_dynamic(doc: &Document) -> bool {
    doc.root.attr("type").as_deref() == Some("dynamic")
}

/// Period start times (seconds), computed as DASH says: `@start`, else the previous
/// period's start plus its duration, else 0 for the first period of a static MPD.
pub fn period_starts(doc: &Document) -> Vec<(usize, f64, Option<f64>)> {
    let mut out = Vec::new();
    let mut next: Option<f64> = Some(0.0);
    for (i, p) in doc.root.children_named("Period").enumerate() {
        let start = p
            .attr("start")
            .and_then(|s| parse_duration(&s))
            .or(next)
            .unwrap_or(0.0);
        let duration = p.attr("duration").and_then(|s| parse_duration(&s));
        next = duration.map(|d| start + d);
        out.push((i, start, duration));
    }
    out
}

/// An ad break found in an MPD's event streams.
#[derive(Debug, Clone, PartialEq)]
pub struct DashBreak {
    /// Stable id: period id and event id (or time).
    pub id: String,
    /// Index of the Period (among Period elements).
    pub period: usize,
    /// Start, seconds from the period start.
    pub at: f64,
    /// Avail duration, seconds, where known (0: an insertion point).
    pub duration: Option<f64>,
    /// The event scheme.
    pub scheme: String,
    /// Values for `[scte.*]` ADS variables.
    pub vars: BTreeMap<String, String>,
}

fn attr_u64(e: &Element, name: &str) -> Option<u64> {
    e.attr(name).and_then(|v| v.trim().parse().ok())
}

/// Find the ad breaks of an MPD with the default cue rules.
pub fn find_breaks(doc: &Document) -> Vec<DashBreak> {
    find_breaks_with(doc, &CueRules::default())
}

/// Find the ad breaks of an MPD: SCTE-35 events (all three schemes, decoded by
/// [`crate::scte35::xml::decode_event`]) in each Period's `EventStream`, kept when
/// the cue opens a break under `rules`. Duration precedence: `Event@duration`,
/// then `break_duration`, then `segmentation_duration`. An event whose cue does not
/// decode is ignored (the content passes through).
pub fn find_breaks_with(doc: &Document, rules: &CueRules) -> Vec<DashBreak> {
    let opts = rules.decode_options();
    let mut out = Vec::new();
    for (pi, period) in doc.root.children_named("Period").enumerate() {
        let pid = period.attr("id").unwrap_or_else(|| format!("p{pi}"));
        for es in period.children_named("EventStream") {
            let scheme = es.attr("schemeIdUri").unwrap_or_default();
            if !crate::scte35::xml::is_scte35_scheme(&scheme) {
                continue;
            }
            let timescale = attr_u64(es, "timescale").filter(|t| *t > 0).unwrap_or(1) as f64;
            let pto = attr_u64(es, "presentationTimeOffset").unwrap_or(0) as f64;
            for (ei, ev) in es.children_named("Event").enumerate() {
                let t = attr_u64(ev, "presentationTime").unwrap_or(0) as f64;
                let at = ((t - pto) / timescale).max(0.0);
                let event_duration = attr_u64(ev, "duration").map(|d| d as f64 / timescale);
                let mut xml = String::new();
                super::xml::write_element(&mut xml, ev);
                let Ok(section) = crate::scte35::xml::decode_event(&scheme, &xml, &opts) else {
                    continue;
                };
                let Signal::Out { duration, .. } = classify(&section, rules) else {
                    continue;
                };
                let id = ev.attr("id").unwrap_or_else(|| format!("e{ei}-{t}"));
                out.push(DashBreak {
                    id: format!("{pid}-{id}"),
                    period: pi,
                    at,
                    duration: event_duration.or(duration),
                    scheme: scheme.clone(),
                    vars: ads_vars(&section, rules),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.period, a.at)
            .partial_cmp(&(b.period, b.at))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    out
}

/// Segment duration of the first duration-addressed SegmentTemplate under `e`,
/// seconds.
pub fn segment_duration(e: &Element) -> Option<f64> {
    for child in e.elements() {
        if child.local_name() == "SegmentTemplate" {
            let ts: f64 = child
                .attr("timescale")
                .and_then(|t| t.parse().ok())
                .unwrap_or(1.0);
            if let Some(d) = child.attr("duration").and_then(|d| d.parse::<f64>().ok()) {
                if ts > 0.0 && d > 0.0 {
                    return Some(d / ts);
                }
            }
        }
        if let Some(d) = segment_duration(child) {
            return Some(d);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dash::xml::parse;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT173402.036S"), Some(173402.036));
        assert_eq!(
            parse_duration("PT48H10M2.036S"),
            Some(48.0 * 3600.0 + 602.036)
        );
        assert_eq!(
            parse_duration("PT476022H9M"),
            Some(476022.0 * 3600.0 + 540.0)
        );
        assert_eq!(parse_duration("P1DT1S"), Some(86401.0));
        assert_eq!(parse_duration("PT0S"), Some(0.0));
        assert_eq!(parse_duration("1S"), None);
        assert_eq!(parse_duration("PTxS"), None);
        assert_eq!(format_duration(12.5), "PT12.5S");
        assert_eq!(format_duration(30.0), "PT30S");
        assert_eq!(format_duration(1.234), "PT1.234S");
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        for t in [0, 1_704_067_200, 1_709_210_096, 4_102_444_800] {
            assert_eq!(parse_utc(&format_utc(t)), Some(t));
        }
        assert_eq!(parse_utc("2024-01-01T00:00:00.5Z"), Some(1_704_067_200));
        assert_eq!(parse_utc("garbage"), None);
        assert_eq!(parse_utc("9223372036854775807-01-01T00:00:00Z"), None);
        assert_eq!(format_utc(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(format_utc(1_709_210_096), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn finds_splice_insert_and_time_signal_breaks() {
        let mpd = r#"<MPD type="dynamic"><Period id="p1" start="PT10S">
<EventStream schemeIdUri="urn:scte:scte35:2013:xml" timescale="90000">
 <Event presentationTime="900000" id="7"><scte35:SpliceInfoSection xmlns:scte35="urn:scte:scte35:2013:xml"><scte35:SpliceInsert spliceEventId="99" outOfNetworkIndicator="true"><scte35:BreakDuration autoReturn="true" duration="2700000"/></scte35:SpliceInsert></scte35:SpliceInfoSection></Event>
 <Event presentationTime="5400000" duration="1800000"><SpliceInfoSection><TimeSignal/><SegmentationDescriptor segmentationTypeId="52" segmentationEventId="5"/></SpliceInfoSection></Event>
 <Event presentationTime="8100000"><SpliceInfoSection><TimeSignal/><SegmentationDescriptor segmentationTypeId="53"/></SpliceInfoSection></Event>
</EventStream>
<EventStream schemeIdUri="urn:scte:scte35:2014:xml+bin" timescale="1"><Event presentationTime="200" duration="15"><Signal><Binary>/DAlAAAAAAAAAP/wFAUAAAABf+//wpiQkv4ARKogAAEBAQAAQ6sodg==</Binary></Signal></Event></EventStream>
</Period></MPD>"#;
        let b = find_breaks(&parse(mpd).unwrap());
        assert_eq!(b.len(), 3);
        assert_eq!((b[0].at, b[0].duration), (10.0, Some(30.0)));
        assert_eq!(
            b[0].vars.get("scte.event_id").map(String::as_str),
            Some("99")
        );
        assert_eq!(b[0].id, "p1-7");
        assert_eq!((b[1].at, b[1].duration), (60.0, Some(20.0)));
        assert_eq!((b[2].at, b[2].duration), (200.0, Some(15.0)));
    }
}
