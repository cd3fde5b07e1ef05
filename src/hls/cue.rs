//! HLS ad markers, in every dialect packagers write, → the common break model.
//!
//! Pure. Each tag line is read into a [`Marker`] (OUT, CONT, IN, or ASSET metadata);
//! [`scan_breaks`] then walks the segments and turns markers into [`AdBreak`]s.
//!
//! | tag | read as |
//! |---|---|
//! | `EXT-X-CUE-OUT` (`:30`, `:DURATION=30`, `:30,BreakID=7`, bare, Envivio `:DURATION=,ID=,CUE=`) | OUT; `CUE=` decoded |
//! | `EXT-X-CUE-OUT-CONT` (`:ElapsedTime=,Duration=,SCTE35=`, `:12/30`, bare) | CONT; `SCTE35=` decoded |
//! | `EXT-X-CUE-IN` | IN |
//! | `EXT-OATCLS-SCTE35:<base64>` | the cue decides (see `scte35::rules`) |
//! | `EXT-X-SCTE35:CUE=` | `CUE-OUT=YES` OUT, `CUE-OUT=CONT` CONT, `CUE-IN=YES` IN, else the cue decides |
//! | `EXT-X-DATERANGE` | `SCTE35-OUT` OUT, `SCTE35-IN` IN (by `ID`), `SCTE35-CMD` the cue decides |
//! | `EXT-X-SPLICEPOINT-SCTE35:<base64>` | the cue decides |
//! | `EXT-X-CUE` (Adobe Primetime, Azure) | `TYPE=SpliceOut` OUT, `SpliceIn` IN, `SpliceInsert` insertion point, `ELAPSED>0` CONT, else `CUE=` decides |
//! | `EXT-X-CUE-CONT` (Primetime), `EXT-X-CUE-SPAN` (`TIMEFROMSIGNAL=PT10S`) | CONT |
//! | `EXT-X-ASSET` | `[asset.KEY]` variables of the break at that segment |
//!
//! A tag that only carries a cue (OATCLS, SPLICEPOINT, SCTE35-CMD, `EXT-X-SCTE35`
//! without `CUE-OUT`/`CUE-IN`, `EXT-X-CUE` without a `TYPE`) means what [`CueRules`]
//! say the cue means; when its cue does not decode (bad base64, truncated, bad CRC
//! unless the configuration is lenient) the marker is ignored: the content passes
//! through, and [`scan_breaks`] lists it in [`BreakScan::ignored`]. A tag that names
//! its meaning (CUE-OUT, SCTE35-OUT, `CUE-OUT=YES`, ...) keeps it whatever cue it
//! carries: a cue that does not decode is left out (no `[scte.*]` values from it)
//! and listed as ignored, but the break stands. (RFC 8216 §8.10's own
//! `EXT-X-DATERANGE` example carries cues one byte short of their
//! `section_length`, with a zero CRC.)
//!
//! **Duration precedence**: the marker's own duration (`CUE-OUT:30`, `DURATION=`,
//! `PLANNED-DURATION=`), else the cue's `break_duration`, else the opening
//! segmentation descriptor's `segmentation_duration`, else a `CUE-OUT-CONT`'s
//! `Duration=`, else none: the break lasts until its IN.
//!
//! **One break per event**: markers on the segment where a break starts (an OATCLS
//! and a CUE-OUT, say), or carrying the same event id or marker `ID` as the open
//! break, add to that break instead of starting another.

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;
use thiserror::Error;

use super::attr;
use super::model::MediaPlaylist;
use crate::breaks::{AdBreak, BreakStart, CueMarker, Dialect, DURATION_TOLERANCE};
use crate::scte35::rules::{self, classify, DurationSource};
use crate::scte35::{self, CueRules, Signal, SpliceInfoSection};

/// `#EXT-X-CUE-OUT`
pub const CUE_OUT: &str = "#EXT-X-CUE-OUT";
/// `#EXT-X-CUE-OUT-CONT`
pub const CUE_OUT_CONT: &str = "#EXT-X-CUE-OUT-CONT";
/// `#EXT-X-CUE-IN`
pub const CUE_IN: &str = "#EXT-X-CUE-IN";
/// `#EXT-X-DATERANGE:`
pub const DATERANGE: &str = "#EXT-X-DATERANGE:";
/// `#EXT-OATCLS-SCTE35`
pub const OATCLS: &str = "#EXT-OATCLS-SCTE35";
/// `#EXT-X-SCTE35`
pub const SCTE35: &str = "#EXT-X-SCTE35";
/// `#EXT-X-SPLICEPOINT-SCTE35`
pub const SPLICEPOINT: &str = "#EXT-X-SPLICEPOINT-SCTE35";
/// `#EXT-X-CUE` (Adobe Primetime)
pub const CUE: &str = "#EXT-X-CUE";
/// `#EXT-X-CUE-CONT` (Adobe Primetime)
pub const CUE_CONT: &str = "#EXT-X-CUE-CONT";
/// `#EXT-X-CUE-SPAN`
pub const CUE_SPAN: &str = "#EXT-X-CUE-SPAN";
/// `#EXT-X-ASSET`
pub const ASSET: &str = "#EXT-X-ASSET";

/// Marker tags the stitcher drops from content it replaces. `EXT-X-DATERANGE` is
/// not one (it is metadata for the whole timeline, carried over), nor is
/// `EXT-X-ASSET`.
const MARKER_TAGS: &[&str] = &[
    CUE_OUT,
    CUE_OUT_CONT,
    CUE_IN,
    OATCLS,
    SCTE35,
    SPLICEPOINT,
    CUE,
    CUE_CONT,
    CUE_SPAN,
];

/// `scte.cue`: the raw cue text a marker carried.
pub const VAR_CUE: &str = "scte.cue";

/// The tag name and the value after `:`.
fn split_tag(line: &str) -> (&str, Option<&str>) {
    let line = line.trim();
    match line.find(':') {
        Some(i) => (&line[..i], Some(&line[i + 1..])),
        None => (line, None),
    }
}

/// Is this line one of the break marker tags (valid or not)? `EXT-X-DATERANGE` and
/// `EXT-X-ASSET` are not: they are carried over when content is replaced.
pub fn is_cue_line(line: &str) -> bool {
    MARKER_TAGS.contains(&split_tag(line).0)
}

/// What a marker says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// A break starts at this segment.
    Out,
    /// This segment is inside a break.
    Cont,
    /// The break ends: content resumes at this segment.
    In,
    /// `EXT-X-ASSET` metadata.
    Asset,
}

/// One marker tag, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// What it says.
    pub kind: MarkerKind,
    /// Its dialect.
    pub dialect: Dialect,
    /// The tag name (`#EXT-X-CUE-OUT`).
    pub tag: &'static str,
    /// Identifier carried by the marker (`ID=`).
    pub id: Option<String>,
    /// Duration, seconds.
    pub duration: Option<f64>,
    /// Where the duration came from.
    pub duration_source: Option<DurationSource>,
    /// Seconds since the break started (CONT markers).
    pub elapsed: Option<f64>,
    /// `splice_event_id` / `segmentation_event_id` of the cue.
    pub event_id: Option<u32>,
    /// The decoded cue.
    pub cue: Option<Box<SpliceInfoSection>>,
    /// `[scte.*]` / `[asset.*]` values.
    pub vars: BTreeMap<String, String>,
    /// The cue this tag carried did not decode; the tag's own meaning stands.
    pub cue_error: Option<String>,
}

impl Marker {
    fn new(kind: MarkerKind, dialect: Dialect, tag: &'static str) -> Self {
        Self {
            kind,
            dialect,
            tag,
            id: None,
            duration: None,
            duration_source: None,
            elapsed: None,
            event_id: None,
            cue: None,
            vars: BTreeMap::new(),
            cue_error: None,
        }
    }

    fn with_marker_duration(mut self, d: Option<f64>) -> Self {
        if let Some(d) = d {
            self.duration = Some(d);
            self.duration_source = Some(DurationSource::Marker);
        }
        self
    }

    fn with_cue(mut self, raw: &str, cue: SpliceInfoSection, rules: &CueRules) -> Self {
        let signal = classify(&cue, rules);
        match signal {
            Signal::Out {
                duration,
                source,
                event_id,
            } => {
                if self.duration.is_none() && self.kind == MarkerKind::Out {
                    self.duration = duration;
                    self.duration_source = source;
                }
                self.event_id = event_id;
            }
            Signal::In { event_id } => self.event_id = event_id,
            Signal::None => {}
        }
        for (k, v) in rules::ads_vars(&cue, rules) {
            self.vars.entry(k).or_insert(v);
        }
        self.vars
            .insert(VAR_CUE.to_string(), raw.trim().to_string());
        self.cue = Some(Box::new(cue));
        self
    }

    /// Attach the cue a tag that names its own meaning carries: decoded when it
    /// decodes, else noted in [`Marker::cue_error`] and left out.
    fn attach_cue(self, raw: &str, rules: &CueRules) -> Self {
        match scte35::decode(raw, &rules.decode_options()) {
            Ok(cue) => self.with_cue(raw, cue, rules),
            Err(e) => Marker {
                cue_error: Some(format!("SCTE-35 cue ignored: {e}")),
                ..self
            },
        }
    }
}

/// A marker tag that cannot be acted on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{tag}: {reason}")]
pub struct MalformedMarker {
    /// The tag name.
    pub tag: &'static str,
    /// Why.
    pub reason: String,
}

fn malformed(tag: &'static str, reason: impl Into<String>) -> MalformedMarker {
    MalformedMarker {
        tag,
        reason: reason.into(),
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim()
        .trim_matches('"')
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|d| d.is_finite() && *d >= 0.0)
}

/// An `xs:duration`-like `PT1M30.5S`, or plain seconds.
fn iso_duration(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Some(n) = number(s) {
        return Some(n);
    }
    let rest = s.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut total = 0.0;
    if !days.is_empty() {
        total += number(days.strip_suffix('D')?)? * 86_400.0;
    }
    let mut num = String::new();
    for c in time.chars() {
        let unit = match c {
            'H' => 3600.0,
            'M' => 60.0,
            'S' => 1.0,
            _ => {
                num.push(c);
                continue;
            }
        };
        total += number(&num)? * unit;
        num.clear();
    }
    num.is_empty().then_some(total)
}

fn decode_cue(
    tag: &'static str,
    raw: &str,
    rules: &CueRules,
) -> Result<SpliceInfoSection, MalformedMarker> {
    scte35::decode(raw, &rules.decode_options())
        .map_err(|e| malformed(tag, format!("SCTE-35 cue: {e}")))
}

/// A marker whose meaning is the cue's: OUT, IN, or not a marker.
fn cue_decides(
    tag: &'static str,
    dialect: Dialect,
    raw: &str,
    rules: &CueRules,
) -> Result<Option<Marker>, MalformedMarker> {
    let cue = decode_cue(tag, raw, rules)?;
    let kind = match classify(&cue, rules) {
        Signal::Out { .. } => MarkerKind::Out,
        Signal::In { .. } => MarkerKind::In,
        Signal::None => return Ok(None),
    };
    Ok(Some(
        Marker::new(kind, dialect, tag).with_cue(raw, cue, rules),
    ))
}

/// Read one tag line under `rules`. `Ok(None)`: not a marker (or a cue that means
/// nothing for breaks); `Err`: a marker tag that cannot be acted on (a cue-only tag
/// whose cue does not decode, a duration that is not a number).
pub fn parse_marker(line: &str, rules: &CueRules) -> Result<Option<Marker>, MalformedMarker> {
    let (name, value) = split_tag(line);
    let attrs = value.unwrap_or("");
    match name {
        CUE_OUT_CONT => {
            let mut m = Marker::new(MarkerKind::Cont, Dialect::CueOut, CUE_OUT_CONT);
            if let Some((a, b)) = attrs.split_once('/').filter(|_| !attrs.contains('=')) {
                // The `12/30` form.
                m.elapsed = number(a);
                m.duration = number(b);
            } else {
                let mut cue = None;
                for (k, v) in attr::attributes(attrs) {
                    match k.to_ascii_lowercase().as_str() {
                        "elapsedtime" | "elapsed" => m.elapsed = number(v),
                        "duration" => m.duration = number(v),
                        "scte35" | "cue" => cue = Some(v),
                        _ => {}
                    }
                }
                if let Some(raw) = cue {
                    m = m.attach_cue(raw, rules);
                }
            }
            m.duration_source = m.duration.map(|_| DurationSource::Continuation);
            Ok(Some(m))
        }
        CUE_OUT => {
            let mut m = Marker::new(MarkerKind::Out, Dialect::CueOut, CUE_OUT);
            let v = attrs.trim();
            if v.is_empty() {
                return Ok(Some(m));
            }
            // A leading bare number (`30`, `30,BreakID=7`) is the duration.
            let first = v.split(',').next().unwrap_or("");
            let mut cue = None;
            if !first.contains('=') {
                let d =
                    number(first).ok_or_else(|| malformed(CUE_OUT, "duration is not a number"))?;
                m = m.with_marker_duration(Some(d));
            }
            for (k, val) in attr::attributes(v) {
                match k.to_ascii_uppercase().as_str() {
                    "DURATION" => {
                        let d = number(val)
                            .ok_or_else(|| malformed(CUE_OUT, "DURATION is not a number"))?;
                        m = m.with_marker_duration(Some(d));
                    }
                    "ID" | "BREAKID" => m.id = Some(val.to_string()),
                    "CUE" | "SCTE35" => cue = Some(val),
                    _ => {}
                }
            }
            if let Some(raw) = cue {
                m = m.attach_cue(raw, rules);
            }
            Ok(Some(m))
        }
        CUE_IN => {
            let mut m = Marker::new(MarkerKind::In, Dialect::CueOut, CUE_IN);
            m.id = attr::attribute(attrs, "ID").map(str::to_string);
            Ok(Some(m))
        }
        OATCLS => cue_decides(OATCLS, Dialect::Oatcls, attrs, rules),
        SPLICEPOINT => cue_decides(SPLICEPOINT, Dialect::Splicepoint, attrs, rules),
        SCTE35 => parse_scte35_tag(attrs, rules),
        CUE => parse_primetime(attrs, rules),
        CUE_CONT | CUE_SPAN => {
            let (tag, dialect) = if name == CUE_CONT {
                (CUE_CONT, Dialect::Primetime)
            } else {
                (CUE_SPAN, Dialect::CueSpan)
            };
            let mut m = Marker::new(MarkerKind::Cont, dialect, tag);
            for (k, v) in attr::attributes(attrs) {
                match k.to_ascii_uppercase().as_str() {
                    "ID" => m.id = Some(v.to_string()),
                    "TIMEFROMSIGNAL" | "ELAPSED" | "AVAIL-DUR-ELAPSED" => {
                        m.elapsed = iso_duration(v)
                    }
                    "DURATION" => m.duration = number(v).filter(|d| *d > 0.0),
                    _ => {}
                }
            }
            m.duration_source = m.duration.map(|_| DurationSource::Continuation);
            Ok(Some(m))
        }
        ASSET => {
            let mut m = Marker::new(MarkerKind::Asset, Dialect::CueOut, ASSET);
            for (k, v) in attr::attributes(attrs) {
                let value = percent_decode_str(v).decode_utf8_lossy().into_owned();
                m.vars.insert(format!("asset.{k}"), value);
            }
            Ok(Some(m))
        }
        _ => match line.trim().strip_prefix(DATERANGE) {
            Some(attrs) => parse_daterange(attrs, rules),
            None => Ok(None),
        },
    }
}

const DATERANGE_TAG: &str = "#EXT-X-DATERANGE";

fn parse_daterange(attrs: &str, rules: &CueRules) -> Result<Option<Marker>, MalformedMarker> {
    let id = attr::attribute(attrs, "ID").map(str::to_string);
    let duration = attr::attribute(attrs, "DURATION")
        .or_else(|| attr::attribute(attrs, "PLANNED-DURATION"))
        .and_then(number);
    let (kind, raw) = if let Some(raw) = attr::attribute(attrs, "SCTE35-OUT") {
        (MarkerKind::Out, raw)
    } else if let Some(raw) = attr::attribute(attrs, "SCTE35-IN") {
        (MarkerKind::In, raw)
    } else if let Some(raw) = attr::attribute(attrs, "SCTE35-CMD") {
        let Some(mut m) = cue_decides(DATERANGE_TAG, Dialect::DateRange, raw, rules)? else {
            return Ok(None);
        };
        if m.kind == MarkerKind::Out {
            // An IN sent as a command has its own DATERANGE ID: it closes whatever
            // is open, so only an OUT keeps the ID.
            m.id = id;
            if duration.is_some() {
                m = m.with_marker_duration(duration);
            }
        }
        return Ok(Some(m));
    } else {
        return Ok(None);
    };
    let mut m = Marker::new(kind, Dialect::DateRange, DATERANGE_TAG);
    m.id = id;
    if kind == MarkerKind::Out {
        m = m.with_marker_duration(duration);
    }
    Ok(Some(m.attach_cue(raw, rules)))
}

fn parse_scte35_tag(attrs: &str, rules: &CueRules) -> Result<Option<Marker>, MalformedMarker> {
    let get = |k: &str| attr::attribute(attrs, k);
    let yes = |k: &str| get(k).is_some_and(|v| v.eq_ignore_ascii_case("YES"));
    let kind = if yes("CUE-OUT") {
        Some(MarkerKind::Out)
    } else if get("CUE-OUT").is_some_and(|v| v.eq_ignore_ascii_case("CONT")) {
        Some(MarkerKind::Cont)
    } else if yes("CUE-IN") {
        Some(MarkerKind::In)
    } else {
        None
    };
    let raw = get("CUE");
    let mut m = match (kind, raw) {
        (Some(kind), _) => Marker::new(kind, Dialect::Scte35, SCTE35),
        (None, Some(raw)) => match cue_decides(SCTE35, Dialect::Scte35, raw, rules)? {
            Some(m) => m,
            None => return Ok(None),
        },
        (None, None) => return Err(malformed(SCTE35, "no CUE, CUE-OUT or CUE-IN")),
    };
    m.id = get("ID").map(str::to_string);
    match m.kind {
        MarkerKind::Out => m = m.with_marker_duration(get("DURATION").and_then(number)),
        MarkerKind::Cont => {
            m.elapsed = get("ELAPSED").and_then(number);
            m.duration = get("DURATION").and_then(number);
            m.duration_source = m.duration.map(|_| DurationSource::Continuation);
        }
        _ => {}
    }
    if let (Some(raw), None) = (raw, &m.cue) {
        m = m.attach_cue(raw, rules);
    }
    Ok(Some(m))
}

fn parse_primetime(attrs: &str, rules: &CueRules) -> Result<Option<Marker>, MalformedMarker> {
    let get = |k: &str| attr::attribute(attrs, k);
    let id = get("ID").map(str::to_string);
    // DURATION=0 means "not known" in this dialect.
    let duration = get("DURATION").and_then(number).filter(|d| *d > 0.0);
    let elapsed = get("ELAPSED").and_then(number).filter(|e| *e > 0.0);
    let kind_attr = get("TYPE").unwrap_or("").to_ascii_lowercase();
    let mut m = if elapsed.is_some() {
        // Azure repeats the tag on every segment of the break with ELAPSED.
        let mut m = Marker::new(MarkerKind::Cont, Dialect::Primetime, CUE);
        m.elapsed = elapsed;
        m.duration = duration;
        m.duration_source = duration.map(|_| DurationSource::Continuation);
        m
    } else {
        match kind_attr.as_str() {
            "spliceout" => {
                Marker::new(MarkerKind::Out, Dialect::Primetime, CUE).with_marker_duration(duration)
            }
            "splicein" => Marker::new(MarkerKind::In, Dialect::Primetime, CUE),
            // A VOD insertion point.
            "spliceinsert" => Marker::new(MarkerKind::Out, Dialect::Primetime, CUE)
                .with_marker_duration(Some(0.0)),
            _ => match get("CUE") {
                Some(raw) => match cue_decides(CUE, Dialect::Primetime, raw, rules)? {
                    Some(m) => m.with_marker_duration(duration),
                    None => return Ok(None),
                },
                None => return Err(malformed(CUE, "no TYPE the dialect defines and no CUE")),
            },
        }
    };
    m.id = id.clone();
    if let (Some(raw), None) = (get("CUE"), &m.cue) {
        m = m.attach_cue(raw, rules);
    }
    for (attr_name, var) in [
        ("PROGRAM-ID", "scte.unique_program_id"),
        ("AVAIL-NUM", "scte.avail_num"),
        ("AVAILS-EXPECTED", "scte.avails_expected"),
    ] {
        if let Some(v) = get(attr_name) {
            m.vars
                .entry(var.to_string())
                .or_insert_with(|| v.to_string());
        }
    }
    if let Some(id) = id {
        m.vars.entry("scte.event_id".to_string()).or_insert(id);
    }
    Ok(Some(m))
}

/// Read a marker from one tag line with the default rules. `None`: not a marker, a
/// malformed one (which is passed through as content), or `EXT-X-ASSET` metadata.
pub fn parse_cue(line: &str) -> Option<CueMarker> {
    let m = parse_marker(line, &CueRules::default()).ok()??;
    match m.kind {
        MarkerKind::Out => Some(CueMarker::Out {
            duration: m.duration,
            id: m.id,
            vars: m.vars,
            dialect: m.dialect,
        }),
        MarkerKind::Cont => Some(CueMarker::Cont {
            elapsed: m.elapsed,
            duration: m.duration,
            dialect: m.dialect,
        }),
        MarkerKind::In => Some(CueMarker::In { id: m.id }),
        MarkerKind::Asset => None,
    }
}

// === finding breaks ===

/// A break found, with what it was found from.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundBreak {
    /// The break.
    pub ad_break: AdBreak,
    /// The first decoded cue of its markers.
    pub cue: Option<SpliceInfoSection>,
    /// The marker tags that made it, in order.
    pub tags: Vec<&'static str>,
    /// Where its duration came from.
    pub duration_source: Option<DurationSource>,
}

/// A marker tag that was not acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredMarker {
    /// Index of the segment it precedes (`segments.len()` for the trailer).
    pub segment: usize,
    /// The line.
    pub line: String,
    /// Why.
    pub reason: String,
}

/// Everything [`scan_breaks`] found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BreakScan {
    /// The breaks, in playlist order.
    pub breaks: Vec<FoundBreak>,
    /// Malformed markers, passed through as content.
    pub ignored: Vec<IgnoredMarker>,
}

/// How much a dialect says about a break: explicit markers over cue carriers.
fn dialect_rank(d: Dialect) -> u8 {
    match d {
        Dialect::Oatcls | Dialect::Splicepoint => 1,
        _ => 2,
    }
}

struct Open {
    start: BreakStart,
    id: String,
    duration: Option<f64>,
    source: Option<DurationSource>,
    elapsed: Option<f64>,
    vars: BTreeMap<String, String>,
    dialect: Dialect,
    marker_id: Option<String>,
    event_id: Option<u32>,
    cue: Option<SpliceInfoSection>,
    tags: Vec<&'static str>,
    content: f64,
    segments: usize,
}

impl Open {
    fn new(m: Marker, start: BreakStart, id: String) -> Self {
        Open {
            start,
            id,
            duration: m.duration,
            source: m.duration_source,
            elapsed: None,
            vars: m.vars,
            dialect: m.dialect,
            marker_id: m.id,
            event_id: m.event_id,
            cue: m.cue.map(|c| *c),
            tags: vec![m.tag],
            content: 0.0,
            segments: 0,
        }
    }

    /// Add what another marker of the same break says.
    fn merge(&mut self, m: Marker, msn: u64) {
        if m.duration.is_some() && m.duration_source > self.source {
            self.duration = m.duration;
            self.source = m.duration_source;
        }
        for (k, v) in m.vars {
            self.vars.entry(k).or_insert(v);
        }
        if self.cue.is_none() {
            self.cue = m.cue.map(|c| *c);
        }
        if self.event_id.is_none() {
            self.event_id = m.event_id;
        }
        if self.marker_id.is_none() && m.kind == MarkerKind::Out {
            if let Some(id) = m.id {
                if matches!(self.start, BreakStart::At(_)) && self.id == format!("msn-{msn}") {
                    self.id = format!("id-{id}");
                }
                self.marker_id = Some(id);
            }
        }
        if dialect_rank(m.dialect) > dialect_rank(self.dialect) {
            self.dialect = m.dialect;
        }
        if !self.tags.contains(&m.tag) {
            self.tags.push(m.tag);
        }
    }

    fn same_event(&self, m: &Marker, i: usize) -> bool {
        self.start == BreakStart::At(i)
            || (self.event_id.is_some() && self.event_id == m.event_id)
            || (self.marker_id.is_some() && self.marker_id == m.id)
    }

    fn close(self, end: usize) -> FoundBreak {
        // A bare OUT closed by its IN: the avail is what lay between them.
        let measured =
            (self.start != BreakStart::BeforeWindow && self.segments > 0).then_some(self.content);
        let duration = self.duration.or(measured);
        FoundBreak {
            ad_break: AdBreak {
                id: self.id,
                start: self.start,
                end: Some(end),
                insert: self.segments == 0 && self.start != BreakStart::BeforeWindow,
                duration,
                elapsed_at_window_start: self.elapsed,
                vars: self.vars,
                dialect: self.dialect,
            },
            cue: self.cue,
            tags: self.tags,
            duration_source: self.source,
        }
    }

    fn into_open_break(self) -> FoundBreak {
        FoundBreak {
            ad_break: AdBreak {
                id: self.id,
                start: self.start,
                end: None,
                insert: false,
                duration: self.duration,
                elapsed_at_window_start: self.elapsed,
                vars: self.vars,
                dialect: self.dialect,
            },
            cue: self.cue,
            tags: self.tags,
            duration_source: self.source,
        }
    }
}

fn break_id(m: &Marker, msn: u64) -> String {
    match &m.id {
        Some(id) => format!("id-{id}"),
        None => format!("msn-{msn}"),
    }
}

/// Find the ad breaks of a media playlist with the default [`CueRules`].
pub fn find_breaks(pl: &MediaPlaylist) -> Vec<AdBreak> {
    find_breaks_with(pl, &CueRules::default())
}

/// Find the ad breaks of a media playlist under a configuration's cue rules. See
/// [`scan_breaks`].
pub fn find_breaks_with(pl: &MediaPlaylist, rules: &CueRules) -> Vec<AdBreak> {
    scan_breaks(pl, rules)
        .breaks
        .into_iter()
        .map(|b| b.ad_break)
        .collect()
}

/// Find the ad breaks of a media playlist, with the cues and tags they came from and
/// the markers that were ignored.
///
/// A break opens at the segment carrying its OUT marker and ends at the segment
/// carrying the IN marker, or where its duration (see the module docs for which) is
/// used up, whichever comes first. An OUT with zero duration, or an OUT followed by
/// an IN on the same segment, is an insertion point (VOD). Markers after the last
/// segment are an insertion point at the end (post-roll). A break seen only through
/// CONT markers is still a break: from before the window
/// ([`BreakStart::BeforeWindow`]) when they start on the first segment, else from the
/// first segment that carries one.
pub fn scan_breaks(pl: &MediaPlaylist, rules: &CueRules) -> BreakScan {
    let mut found: Vec<FoundBreak> = Vec::new();
    let mut ignored = Vec::new();
    let mut open: Option<Open> = None;
    let mut prev_in_break = false;
    let n = pl.segments.len();
    for i in 0..=n {
        let (lines, msn) = match pl.segments.get(i) {
            Some(s) => (&s.lines, s.msn),
            None => (&pl.trailer, pl.media_sequence + n as u64),
        };
        let mut asset: BTreeMap<String, String> = BTreeMap::new();
        let mut saw_cont = false;
        for line in lines {
            let m = match parse_marker(line, rules) {
                Ok(Some(m)) => {
                    if let Some(reason) = &m.cue_error {
                        ignored.push(IgnoredMarker {
                            segment: i,
                            line: line.clone(),
                            reason: format!("{}: {reason}", m.tag),
                        });
                    }
                    m
                }
                Ok(None) => continue,
                Err(e) => {
                    ignored.push(IgnoredMarker {
                        segment: i,
                        line: line.clone(),
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            match m.kind {
                MarkerKind::Asset => asset.extend(m.vars),
                MarkerKind::Out => {
                    if m.duration == Some(0.0) {
                        // An insertion point replaces a break that opened here
                        // without content (an OATCLS beside a `CUE-OUT:0`).
                        let mut vars = m.vars.clone();
                        let mut cue = m.cue.clone().map(|c| *c);
                        let mut tags = vec![m.tag];
                        match open.take() {
                            Some(o) if o.start == BreakStart::At(i) && o.segments == 0 => {
                                vars.extend(o.vars);
                                cue = cue.or(o.cue);
                                tags.extend(o.tags);
                            }
                            Some(o) => found.push(o.close(i)),
                            None => {}
                        }
                        found.push(FoundBreak {
                            ad_break: AdBreak {
                                id: break_id(&m, msn),
                                start: BreakStart::At(i),
                                end: Some(i),
                                duration: None,
                                insert: true,
                                elapsed_at_window_start: None,
                                vars,
                                dialect: m.dialect,
                            },
                            cue,
                            tags,
                            duration_source: None,
                        });
                        continue;
                    }
                    if let Some(o) = &mut open {
                        if o.same_event(&m, i) {
                            o.merge(m, msn);
                            continue;
                        }
                    }
                    if let Some(o) = open.take() {
                        // A new OUT closes a break left open.
                        found.push(o.close(i));
                    }
                    let id = break_id(&m, msn);
                    open = Some(Open::new(m, BreakStart::At(i), id));
                }
                MarkerKind::Cont => {
                    saw_cont = true;
                    match &mut open {
                        Some(o) => {
                            if o.duration.is_none() {
                                o.duration = m.duration;
                                o.source = m.duration_source;
                            }
                            if o.cue.is_none() && m.cue.is_some() {
                                o.merge(m, msn);
                            } else if !o.tags.contains(&m.tag) {
                                o.tags.push(m.tag);
                            }
                        }
                        // Joined mid-break: the window opens inside it.
                        None if i == 0 && found.is_empty() && n > 0 => {
                            let elapsed = m.elapsed;
                            let mut o = Open::new(m, BreakStart::BeforeWindow, String::new());
                            o.elapsed = elapsed;
                            open = Some(o);
                        }
                        // The OUT was lost: the break starts where its CONTs do.
                        None if i > 0 && i < n && !prev_in_break => {
                            let remaining = match (m.duration, m.elapsed) {
                                (Some(d), Some(e)) => Some((d - e).max(0.0)),
                                (d, _) => d,
                            };
                            let id = break_id(&m, msn);
                            let mut o = Open::new(m, BreakStart::At(i), id);
                            o.duration = remaining;
                            open = Some(o);
                        }
                        None => {}
                    }
                }
                MarkerKind::In => {
                    let matches = match (&open, &m.id) {
                        (Some(o), Some(id)) => o.marker_id.as_ref().is_none_or(|own| own == id),
                        (Some(_), None) => true,
                        (None, _) => false,
                    };
                    if matches {
                        if let Some(mut o) = open.take() {
                            if !o.tags.contains(&m.tag) {
                                o.tags.push(m.tag);
                            }
                            found.push(o.close(i));
                        }
                    } else if open.is_none() && found.is_empty() && i > 0 && i < n {
                        // The window opened inside a break whose OUT slid out and
                        // that carries no CONT markers: its end is all we see. A
                        // session that saw its start matches it by position.
                        let tag = m.tag;
                        let mut o = Open::new(m, BreakStart::BeforeWindow, String::new());
                        o.duration = None;
                        o.segments = i;
                        o.content = pl.segments[..i].iter().map(|s| s.duration).sum();
                        if !o.tags.contains(&tag) {
                            o.tags.push(tag);
                        }
                        found.push(o.close(i));
                    }
                }
            }
        }
        if !asset.is_empty() {
            let target = match (&mut open, found.last_mut()) {
                (Some(o), _) => Some(&mut o.vars),
                (None, Some(b)) if b.ad_break.start == BreakStart::At(i) => {
                    Some(&mut b.ad_break.vars)
                }
                _ => None,
            };
            if let Some(vars) = target {
                for (k, v) in asset {
                    vars.entry(k).or_insert(v);
                }
            }
        }
        let Some(seg) = pl.segments.get(i) else {
            break;
        };
        prev_in_break = saw_cont || open.is_some();
        if let Some(o) = &mut open {
            o.content += seg.duration;
            o.segments += 1;
            if let Some(d) = o.duration {
                if o.start != BreakStart::BeforeWindow || o.elapsed.is_some() {
                    let used = o.content + o.elapsed.unwrap_or(0.0);
                    if used >= d - DURATION_TOLERANCE {
                        if let Some(o) = open.take() {
                            found.push(o.close(i + 1));
                        }
                    }
                }
            }
        }
    }
    if let Some(o) = open.take() {
        found.push(o.into_open_break());
    }
    // Breaks first seen mid-way get an id from the first visible segment; the stitcher
    // matches them to the session's records by position, not by this id.
    for b in &mut found {
        if b.ad_break.start == BreakStart::BeforeWindow {
            b.ad_break.id = format!("open-{}", pl.media_sequence);
        }
    }
    BreakScan {
        breaks: found,
        ignored,
    }
}

#[cfg(test)]
mod tests;
