//! The MPD rules (ISO/IEC 23009-1 and its schema, `DASH-MPD.xsd`) a writer can break:
//! child order of the schema's sequences, elements the schema does not define,
//! required attributes and the types of the common ones, unique Period ids, Period
//! starts, and the attributes a static or dynamic MPD needs.
//!
//! Pure. The child orders below are the schema's `xs:sequence`s (types extended from
//! `RepresentationBaseType` and `SegmentBaseType` put the base's sequence first);
//! `##other` is the sequence's `xs:any namespace="##other"`, where extension elements
//! of other namespaces go. The schema itself is the reference: the test suite also
//! validates what we write with `xmllint` against it.

use std::collections::HashMap;

use super::{parse_date_time, Problem, Rule};
use crate::dash::xml::{self, Element};

/// The MPD namespace.
pub const MPD_NS: &str = "urn:mpeg:dash:schema:mpd:2011";

/// Where extension elements of other namespaces go in a sequence.
const OTHER: &str = "##other";

/// MPD's children. A trailing `?`: at most once.
const MPD_CHILDREN: &[&str] = &[
    "ProgramInformation",
    "BaseURL",
    "Location",
    "PatchLocation",
    "ServiceDescription",
    "InitializationSet",
    "InitializationGroup",
    "InitializationPresentation",
    "ContentProtection",
    "Period",
    "Metrics",
    "EssentialProperty",
    "SupplementalProperty",
    "UTCTiming",
    "LeapSecondInformation?",
    OTHER,
];

const PERIOD_CHILDREN: &[&str] = &[
    "BaseURL",
    "SegmentBase?",
    "SegmentList?",
    "SegmentTemplate?",
    "AssetIdentifier?",
    "EventStream",
    "ServiceDescription",
    "ContentProtection",
    "AdaptationSet",
    "Subset",
    "SupplementalProperty",
    "EmptyAdaptationSet",
    "GroupLabel",
    "Preselection",
    OTHER,
];

const REPRESENTATION_BASE: &[&str] = &[
    "FramePacking",
    "AudioChannelConfiguration",
    "ContentProtection",
    "OutputProtection?",
    "EssentialProperty",
    "SupplementalProperty",
    "InbandEventStream",
    "Switching",
    "RandomAccess",
    "GroupLabel",
    "Label",
    "ProducerReferenceTime",
    "ContentPopularityRate",
    "Resync",
    OTHER,
];

const ADAPTATION_SET_CHILDREN: &[&str] = &[
    "Accessibility",
    "Role",
    "Rating",
    "Viewpoint",
    "ContentComponent",
    "BaseURL",
    "SegmentBase?",
    "SegmentList?",
    "SegmentTemplate?",
    "Representation",
];

const REPRESENTATION_CHILDREN: &[&str] = &[
    "BaseURL",
    "ExtendedBandwidth",
    "SubRepresentation",
    "SegmentBase?",
    "SegmentList?",
    "SegmentTemplate?",
];

const SEGMENT_BASE: &[&str] = &[
    "Initialization?",
    "RepresentationIndex?",
    "FailoverContent?",
    OTHER,
];

const MULTIPLE_SEGMENT_BASE: &[&str] = &["SegmentTimeline?", "BitstreamSwitching?"];

const SEGMENT_LIST: &[&str] = &["SegmentURL"];

const SEGMENT_TIMELINE: &[&str] = &["S", OTHER];

const EVENT_STREAM: &[&str] = &["Event", OTHER];

/// A content model: the base type's sequence, then the extensions' sequences.
type Model = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// The schema's sequence for an element's children, as (base, extension) parts;
/// `None` for elements whose content is not checked here.
fn content_model(local: &str) -> Option<Model> {
    Some(match local {
        "MPD" => (MPD_CHILDREN, &[], &[]),
        "Period" => (PERIOD_CHILDREN, &[], &[]),
        "AdaptationSet" | "EmptyAdaptationSet" => {
            (REPRESENTATION_BASE, ADAPTATION_SET_CHILDREN, &[])
        }
        "Representation" => (REPRESENTATION_BASE, REPRESENTATION_CHILDREN, &[]),
        "SubRepresentation" => (REPRESENTATION_BASE, &[], &[]),
        "SegmentBase" => (SEGMENT_BASE, &[], &[]),
        "SegmentTemplate" => (SEGMENT_BASE, MULTIPLE_SEGMENT_BASE, &[]),
        "SegmentList" => (SEGMENT_BASE, MULTIPLE_SEGMENT_BASE, SEGMENT_LIST),
        "SegmentTimeline" => (SEGMENT_TIMELINE, &[], &[]),
        "EventStream" | "InbandEventStream" => (EVENT_STREAM, &[], &[]),
        _ => return None,
    })
}

/// Required attributes by element (the schema's `use="required"`).
fn required(local: &str) -> &'static [&'static str] {
    match local {
        "MPD" => &["profiles", "minBufferTime"],
        "Representation" => &["id", "bandwidth"],
        "EventStream" | "InbandEventStream" => &["schemeIdUri"],
        "EssentialProperty"
        | "SupplementalProperty"
        | "UTCTiming"
        | "Role"
        | "Accessibility"
        | "Rating"
        | "Viewpoint"
        | "AudioChannelConfiguration"
        | "FramePacking"
        | "ContentProtection"
        | "OutputProtection"
        | "AssetIdentifier" => &["schemeIdUri"],
        "S" => &["d"],
        "FCS" => &["t"],
        "Metrics" => &["metrics"],
        "Subset" => &["contains"],
        "Switching" | "RandomAccess" => &["interval"],
        "InitializationSet" | "InitializationGroup" | "InitializationPresentation" => &["id"],
        "ProducerReferenceTime" => &["id", "wallClockTime", "presentationTime"],
        "Preselection" => &["preselectionComponents"],
        "LeapSecondInformation" => &["availabilityStartLeapOffset"],
        "ModelPair" => &["bufferTime", "bandwidth"],
        _ => &[],
    }
}

/// Schema types of the attributes checked here.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    Duration,
    DateTime,
    UnsignedInt,
    UnsignedLong,
    Integer,
    Boolean,
    Presentation,
    NoWhitespace,
}

fn attribute_type(local: &str, attr: &str) -> Option<Ty> {
    use Ty::*;
    Some(match (local, attr) {
        ("MPD", "type") => Presentation,
        ("MPD", "availabilityStartTime" | "availabilityEndTime" | "publishTime") => DateTime,
        (
            "MPD",
            "mediaPresentationDuration"
            | "minimumUpdatePeriod"
            | "minBufferTime"
            | "timeShiftBufferDepth"
            | "suggestedPresentationDelay"
            | "maxSegmentDuration"
            | "maxSubsegmentDuration",
        ) => Duration,
        ("Period", "start" | "duration") => Duration,
        ("Period", "bitstreamSwitching") => Boolean,
        (
            "AdaptationSet",
            "id" | "group" | "minBandwidth" | "maxBandwidth" | "minWidth" | "maxWidth"
            | "minHeight" | "maxHeight",
        ) => UnsignedInt,
        ("AdaptationSet", "segmentAlignment" | "subsegmentAlignment") => Boolean,
        ("Representation", "id") => NoWhitespace,
        ("Representation", "bandwidth" | "qualityRanking") => UnsignedInt,
        ("AdaptationSet" | "Representation" | "SubRepresentation", "width" | "height") => {
            UnsignedInt
        }
        (
            "SegmentTemplate" | "SegmentList" | "SegmentBase",
            "timescale" | "duration" | "startNumber" | "endNumber",
        ) => UnsignedInt,
        ("SegmentTemplate" | "SegmentList" | "SegmentBase", "presentationTimeOffset") => {
            UnsignedLong
        }
        ("SegmentTemplate" | "SegmentList" | "SegmentBase", "timeShiftBufferDepth") => Duration,
        ("S", "t" | "n" | "d" | "k") => UnsignedLong,
        ("S", "r") => Integer,
        ("EventStream" | "InbandEventStream", "timescale") => UnsignedInt,
        ("EventStream" | "InbandEventStream", "presentationTimeOffset") => UnsignedLong,
        ("Event", "presentationTime" | "duration") => UnsignedLong,
        ("Event", "id") => UnsignedInt,
        _ => return None,
    })
}

/// Is `s` an xs:duration (`PnYnMnDTnHnMnS`, fractions on seconds only)?
pub fn is_xs_duration(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix('-').unwrap_or(s);
    let Some(rest) = s.strip_prefix('P') else {
        return false;
    };
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut parts = 0;
    let mut order = 0;
    let mut num = String::new();
    for c in date.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let rank = match c {
            'Y' => 1,
            'M' => 2,
            'D' => 3,
            _ => return false,
        };
        if num.is_empty() || rank <= order {
            return false;
        }
        order = rank;
        parts += 1;
        num.clear();
    }
    if !num.is_empty() {
        return false;
    }
    if let Some(time) = time {
        if time.is_empty() {
            return false;
        }
        let mut order = 0;
        let mut seconds_fraction = false;
        for c in time.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            if c == '.' {
                if num.is_empty() || seconds_fraction {
                    return false;
                }
                seconds_fraction = true;
                num.push(c);
                continue;
            }
            let rank = match c {
                'H' => 1,
                'M' => 2,
                'S' => 3,
                _ => return false,
            };
            if num.is_empty()
                || num.ends_with('.')
                || rank <= order
                || (seconds_fraction && c != 'S')
            {
                return false;
            }
            order = rank;
            parts += 1;
            num.clear();
        }
        if !num.is_empty() {
            return false;
        }
    }
    parts > 0
}

fn value_ok(ty: Ty, v: &str) -> bool {
    let v = v.trim();
    let digits = |s: &str| {
        let s = s.strip_prefix('+').unwrap_or(s);
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
    };
    match ty {
        Ty::Duration => is_xs_duration(v),
        Ty::DateTime => parse_date_time(v).is_some(),
        Ty::UnsignedInt => digits(v) && v.trim_start_matches('+').parse::<u32>().is_ok(),
        Ty::UnsignedLong => digits(v) && v.trim_start_matches('+').parse::<u64>().is_ok(),
        Ty::Integer => digits(v.strip_prefix('-').unwrap_or(v)),
        Ty::Boolean => matches!(v, "true" | "false" | "1" | "0"),
        Ty::Presentation => matches!(v, "static" | "dynamic"),
        Ty::NoWhitespace => !v.is_empty() && !v.chars().any(char::is_whitespace),
    }
}

fn type_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Duration => "an xs:duration",
        Ty::DateTime => "an xs:dateTime",
        Ty::UnsignedInt => "an xs:unsignedInt",
        Ty::UnsignedLong => "an xs:unsignedLong",
        Ty::Integer => "an xs:integer",
        Ty::Boolean => "an xs:boolean",
        Ty::Presentation => "static or dynamic",
        Ty::NoWhitespace => "a string without white space",
    }
}

/// Namespace declarations in scope, innermost last: (prefix, URI); "" is the default.
type Scopes = Vec<(String, String)>;

fn declarations(e: &Element) -> impl Iterator<Item = (String, String)> + '_ {
    e.attrs.iter().filter_map(|(k, v)| {
        if k == "xmlns" {
            Some((String::new(), xml::unescape(v)))
        } else {
            k.strip_prefix("xmlns:")
                .map(|p| (p.to_string(), xml::unescape(v)))
        }
    })
}

/// The namespace of `e`, with `e`'s own declarations in `scopes`. `None`: no
/// namespace (no default declared) or an undeclared prefix.
fn namespace<'a>(e: &Element, scopes: &'a Scopes) -> Option<&'a str> {
    let prefix = e.name.rsplit_once(':').map_or("", |(p, _)| p);
    scopes
        .iter()
        .rev()
        .find(|(p, _)| p == prefix)
        .map(|(_, u)| u.as_str())
        .filter(|u| !u.is_empty())
}

struct Walker<'o> {
    /// The namespace MPD elements are in (the root's, reported once if wrong).
    ns: String,
    out: &'o mut Vec<Problem>,
}

impl Walker<'_> {
    fn attributes(&mut self, e: &Element, local: &str, path: &str) {
        for a in required(local) {
            if e.attr(a).is_none() {
                self.out.push(Problem::at(
                    Rule::DashRequiredAttribute,
                    path,
                    format!("{local} without @{a}"),
                ));
            }
        }
        for (k, v) in &e.attrs {
            if k.contains(':') || k == "xmlns" {
                continue;
            }
            if let Some(ty) = attribute_type(local, k) {
                let v = xml::unescape(v);
                if !value_ok(ty, &v) {
                    self.out.push(Problem::at(
                        Rule::DashAttributeValue,
                        path,
                        format!("@{k}=\"{v}\" is not {}", type_name(ty)),
                    ));
                }
            }
        }
    }

    /// Check `e` (an element of the MPD namespace) and what is below it; `scopes`
    /// already holds `e`'s own declarations.
    fn walk(&mut self, e: &Element, path: &str, scopes: &mut Scopes) {
        let local = e.local_name();
        self.attributes(e, local, path);
        if local == "SegmentTimeline" {
            check_timeline(e, path, self.out);
        }
        let Some((base, ext, ext2)) = content_model(local) else {
            return;
        };
        let slots: Vec<&str> = base.iter().chain(ext).chain(ext2).copied().collect();
        let mut pos = 0usize;
        let mut prev_name = String::new();
        let mut counts: HashMap<usize, usize> = HashMap::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for child in e.elements() {
            let mark = scopes.len();
            scopes.extend(declarations(child));
            let cl = child.local_name().to_string();
            // "" is no namespace; an MPD in no namespace (reported once at the
            // root) has its children checked as if it were in the right one.
            let ns = namespace(child, scopes).unwrap_or("").to_string();
            let slot = if ns == self.ns {
                slots.iter().position(|s| s.trim_end_matches('?') == cl)
            } else if ns.is_empty() {
                None
            } else {
                slots.iter().position(|s| *s == OTHER)
            };
            let k = seen.entry(cl.clone()).or_insert(0);
            *k += 1;
            let child_path = format!("{path}/{cl}[{k}]");
            match slot {
                None => {
                    let why = if ns == self.ns {
                        format!("{local} has no child {cl} in the schema")
                    } else if ns.is_empty() {
                        format!(
                            "<{}> is in no namespace: {local} does not allow it",
                            child.name
                        )
                    } else {
                        format!("{local} allows no extension element here")
                    };
                    self.out
                        .push(Problem::at(Rule::DashUnknownElement, &child_path, why));
                }
                Some(s) => {
                    if s < pos {
                        self.out.push(Problem::at(
                            Rule::DashChildOrder,
                            &child_path,
                            format!(
                                "{} after {prev_name} in {local}: the schema puts it before",
                                if slots[s] == OTHER {
                                    child.name.as_str()
                                } else {
                                    cl.as_str()
                                }
                            ),
                        ));
                    } else {
                        pos = s;
                        prev_name = if slots[s] == OTHER {
                            child.name.clone()
                        } else {
                            cl.clone()
                        };
                    }
                    let c = counts.entry(s).or_insert(0);
                    *c += 1;
                    if slots[s].ends_with('?') && *c == 2 {
                        self.out.push(Problem::at(
                            Rule::DashChildOrder,
                            &child_path,
                            format!("{cl} more than once in {local}"),
                        ));
                    }
                    if slots[s] != OTHER {
                        self.walk(child, &child_path, scopes);
                    }
                }
            }
            scopes.truncate(mark);
        }
        if local == "MPD" && !e.elements().any(|c| c.local_name() == "Period") {
            self.out.push(Problem::at(
                Rule::DashChildOrder,
                path,
                "MPD without a Period",
            ));
        }
    }
}

/// The S elements of a SegmentTimeline (ISO/IEC 23009-1 §5.3.9.6): durations above
/// 0, starts that never go back into the previous S, repeat counts of -1 or more,
/// -1 ("until the next S, the Period end or the next update") only where the next
/// S says where it starts, or on the last S. Unparsable values are left to
/// `dash.attribute-value` and `dash.required-attribute`.
fn check_timeline(timeline: &Element, path: &str, out: &mut Vec<Problem>) {
    let s: Vec<&Element> = timeline
        .elements()
        .filter(|c| c.local_name() == "S")
        .collect();
    // Where the previous S's last segment ends (`None`: open or unknown).
    let mut end: Option<u128> = None;
    for (i, e) in s.iter().enumerate() {
        let place = format!("{path}/S[{}]", i + 1);
        let mut bad = |m: String| out.push(Problem::at(Rule::DashSegmentTimeline, &place, m));
        let num = |a: &str| e.attr(a).map(|v| v.trim().to_string());
        let t = num("t").and_then(|v| v.parse::<u64>().ok());
        let d = num("d").and_then(|v| v.parse::<u64>().ok());
        let r = num("r").map_or(Some(0), |v| v.parse::<i64>().ok());
        if d == Some(0) {
            bad("S@d is 0: a segment lasts more than nothing".into());
        }
        match r {
            Some(r) if r < -1 => bad(format!("S@r={r} is below -1")),
            Some(-1) => {
                let next_has_t = s.get(i + 1).is_some_and(|n| n.attr("t").is_some());
                if i + 1 < s.len() && !next_has_t {
                    bad(
                        "S@r=-1 before an S without @t: where the repetition stops is unknown"
                            .into(),
                    );
                }
            }
            _ => {}
        }
        if let (Some(t), Some(prev_end)) = (t, end) {
            if u128::from(t) < prev_end {
                bad(format!(
                    "S@t={t} goes back into the previous S, which ends at {prev_end}"
                ));
            }
        }
        let start = t.map(u128::from).or(end);
        end = match (start, d, r) {
            (Some(start), Some(d), Some(r)) if r >= 0 => {
                Some(start + u128::from(d) * (r as u128 + 1))
            }
            // An open repetition ends before the next S's @t, after its start.
            (Some(start), Some(_), Some(-1)) => Some(start + 1),
            _ => None,
        };
    }
}

/// Check one MPD.
pub fn check_mpd(text: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    let doc = match xml::parse(text) {
        Ok(d) => d,
        Err(e) => {
            out.push(Problem::at(Rule::DashXml, "document", e.to_string()));
            return out;
        }
    };
    let root = &doc.root;
    if root.local_name() != "MPD" {
        out.push(Problem::at(
            Rule::DashRoot,
            root.name.as_str(),
            format!("the root element is {}, not MPD", root.name),
        ));
        return out;
    }
    let mut scopes: Scopes = vec![("xml".into(), "http://www.w3.org/XML/1998/namespace".into())];
    scopes.extend(declarations(root));
    let ns = namespace(root, &scopes).unwrap_or("").to_string();
    if ns != MPD_NS {
        out.push(Problem::at(
            Rule::DashRoot,
            "MPD",
            format!("MPD is in namespace \"{ns}\", not {MPD_NS}"),
        ));
    }
    Walker { ns, out: &mut out }.walk(root, "MPD", &mut scopes);
    check_timing(root, &mut out);
    check_mime_types(root, &mut out);
    out
}

/// Every Representation has a `@mimeType`, its own or its AdaptationSet's (ISO/IEC
/// 23009-1 §5.3.7.2: mandatory, inherited).
fn check_mime_types(root: &Element, out: &mut Vec<Problem>) {
    for (pi, p) in root.children_named("Period").enumerate() {
        for (ai, set) in p.children_named("AdaptationSet").enumerate() {
            let inherited = set.attr("mimeType").is_some();
            for (ri, r) in set.children_named("Representation").enumerate() {
                if !inherited && r.attr("mimeType").is_none() {
                    out.push(Problem::at(
                        Rule::DashRequiredAttribute,
                        format!(
                            "MPD/Period[{}]/AdaptationSet[{}]/Representation[{}]",
                            pi + 1,
                            ai + 1,
                            ri + 1
                        ),
                        "Representation without @mimeType, on itself or its AdaptationSet",
                    ));
                }
            }
        }
    }
}

/// Period ids and starts, and the attributes of static and dynamic MPDs.
fn check_timing(root: &Element, out: &mut Vec<Problem>) {
    let dynamic = root.attr("type").as_deref() == Some("dynamic");
    let duration = |e: &Element, a: &str| {
        e.attr(a)
            .filter(|v| is_xs_duration(v))
            .and_then(|v| crate::dash::mpd::parse_duration(&v))
    };
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut prev: Option<(f64, Option<f64>)> = None;
    let mut derivable = true;
    let mut last_duration = None;
    for (i, p) in root.children_named("Period").enumerate() {
        let path = format!("MPD/Period[{}]", i + 1);
        match p.attr("id") {
            Some(id) => {
                if let Some(first) = ids.get(&id) {
                    out.push(Problem::at(
                        Rule::DashPeriodId,
                        &path,
                        format!("Period id \"{id}\" again (first: Period[{first}])"),
                    ));
                } else {
                    ids.insert(id, i + 1);
                }
            }
            None if dynamic => out.push(Problem::at(
                Rule::DashPeriodId,
                &path,
                "a Period of a dynamic MPD without @id",
            )),
            None => {}
        }
        let own = duration(p, "start");
        let d = duration(p, "duration");
        let start = match (own, prev) {
            (Some(s), _) => Some(s),
            (None, None) if !dynamic => Some(0.0),
            (None, Some((ps, Some(pd)))) if derivable => Some(ps + pd),
            _ => None,
        };
        match (start, prev) {
            (Some(s), Some((ps, pd))) if derivable => {
                if s + 0.001 < ps {
                    out.push(Problem::at(
                        Rule::DashPeriodStart,
                        &path,
                        format!("starts at {s} s, before the previous Period ({ps} s)"),
                    ));
                } else if let (Some(pd), Some(_)) = (pd, own) {
                    // Within 2 ms: start and duration are each written to the
                    // millisecond, so their sum may round differently.
                    if (ps + pd - s).abs() > 0.002 {
                        out.push(Problem::at(
                            Rule::DashPeriodStart,
                            &path,
                            format!(
                                "starts at {s} s, but the previous Period starts at {ps} s and lasts {pd} s"
                            ),
                        ));
                    }
                }
            }
            (None, _) if !dynamic => out.push(Problem::at(
                Rule::DashPeriodStart,
                &path,
                "no @start, and the previous Period has no @duration: its start cannot be derived",
            )),
            _ => {}
        }
        derivable = start.is_some();
        prev = start.map(|s| (s, d));
        last_duration = d;
    }
    if dynamic {
        for a in ["availabilityStartTime", "publishTime"] {
            if root.attr(a).is_none() {
                out.push(Problem::at(
                    Rule::DashDynamic,
                    "MPD",
                    format!("a dynamic MPD without @{a}"),
                ));
            }
        }
    } else {
        if root.attr("minimumUpdatePeriod").is_some() {
            out.push(Problem::at(
                Rule::DashPresentationDuration,
                "MPD",
                "a static MPD with @minimumUpdatePeriod",
            ));
        }
        if root.attr("mediaPresentationDuration").is_none() && last_duration.is_none() {
            out.push(Problem::at(
                Rule::DashPresentationDuration,
                "MPD",
                "a static MPD without @mediaPresentationDuration whose last Period has no @duration",
            ));
        }
    }
}

/// Where a new child named `local` goes among `parent`'s children, by the schema's
/// order: the index after the last child that the schema puts before it or with it
/// (after any children of the same name), so that inserting there keeps the order.
/// For parents whose order is not modelled here, the end.
pub fn insert_position(parent: &Element, local: &str) -> usize {
    let Some((base, ext, ext2)) = content_model(parent.local_name()) else {
        return parent.children.len();
    };
    let slots: Vec<&str> = base.iter().chain(ext).chain(ext2).copied().collect();
    let rank = |name: &str| slots.iter().position(|s| s.trim_end_matches('?') == name);
    let Some(mine) = rank(local) else {
        return parent.children.len();
    };
    let prefix_of = |name: &str| name.rsplit_once(':').map_or("", |(p, _)| p).to_string();
    let parent_prefix = prefix_of(&parent.name);
    let other = slots.iter().position(|s| *s == OTHER);
    let mut at = 0;
    for (i, n) in parent.children.iter().enumerate() {
        let xml::Node::Element(c) = n else { continue };
        let r = if prefix_of(&c.name) == parent_prefix {
            rank(c.local_name())
        } else {
            // An extension element sits at the sequence's ##other.
            other
        };
        if r.is_some_and(|r| r <= mine) {
            at = i + 1;
        }
    }
    at
}

/// Check an update of an MPD against the previous answer (ISO/IEC 23009-1 §5.4.1):
/// MPD@id, @type and @availabilityStartTime stay, @publishTime never goes back, a
/// Period present in both keeps its start and, once it has one, its duration.
/// Places are in `next`. Documents that do not parse are [`check_mpd`]'s problem.
pub fn check_refresh(prev: &str, next: &str) -> Vec<Problem> {
    let (Ok(a), Ok(b)) = (xml::parse(prev), xml::parse(next)) else {
        return Vec::new();
    };
    let (a, b) = (&a.root, &b.root);
    let mut out = Vec::new();
    for attr in ["id", "type", "availabilityStartTime"] {
        if a.attr(attr) != b.attr(attr) {
            out.push(Problem::at(
                Rule::DashRefresh,
                "MPD",
                format!(
                    "@{attr} changed from {:?} to {:?}",
                    a.attr(attr).unwrap_or_default(),
                    b.attr(attr).unwrap_or_default()
                ),
            ));
        }
    }
    let time = |e: &Element| e.attr("publishTime").and_then(|t| parse_date_time(&t));
    if let (Some(x), Some(y)) = (time(a), time(b)) {
        if y < x {
            out.push(Problem::at(
                Rule::DashRefresh,
                "MPD",
                "@publishTime went back",
            ));
        }
    }
    let timing = |root: &Element| -> HashMap<String, (Option<f64>, Option<f64>)> {
        let mut next_start = Some(0.0);
        let mut m = HashMap::new();
        for p in root.children_named("Period") {
            let d = |a: &str| {
                p.attr(a)
                    .filter(|v| is_xs_duration(v))
                    .and_then(|v| crate::dash::mpd::parse_duration(&v))
            };
            let start = d("start").or(next_start);
            let duration = d("duration");
            next_start = start.zip(duration).map(|(s, d)| s + d);
            if let Some(id) = p.attr("id") {
                m.insert(id, (start, duration));
            }
        }
        m
    };
    let (before, after) = (timing(a), timing(b));
    for (i, p) in b.children_named("Period").enumerate() {
        let Some(id) = p.attr("id") else { continue };
        let (Some((s0, d0)), Some((s1, d1))) = (before.get(&id), after.get(&id).copied()) else {
            continue;
        };
        let path = format!("MPD/Period[{}]", i + 1);
        if let (Some(s0), Some(s1)) = (s0, s1) {
            if (s0 - s1).abs() > 0.002 {
                out.push(Problem::at(
                    Rule::DashRefresh,
                    &path,
                    format!("Period {id} started at {s0} s, now at {s1} s"),
                ));
            }
        }
        if let Some(d0) = d0 {
            if d1.is_none_or(|d1| (d0 - d1).abs() > 0.002) {
                out.push(Problem::at(
                    Rule::DashRefresh,
                    &path,
                    format!("Period {id} lasted {d0} s, now {d1:?}"),
                ));
            }
        }
    }
    out
}
