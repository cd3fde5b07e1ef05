//! Conformance: the rules of the HLS specification (RFC 8216 and its bis draft) and
//! of the ISO MPD schema (ISO/IEC 23009-1) that a manifest writer can break, checked
//! on manifest text.
//!
//! Pure: text in, [`Problem`]s out. [`check`] reads one manifest of either format;
//! [`check_next`] also compares it with the previous answer of the same URL (a live
//! playlist's refresh, an MPD update).
//! `splicepoint validate` (see [`crate::validate`]) and the admin API fetch the
//! manifests and report what this module finds; the test suite runs every manifest
//! it produces through it. The rules are listed in [`Rule::ALL`], each with its
//! code, what it asks and where the specification asks it.

pub mod dash;
pub mod hls;

use std::fmt;

use serde::{Serialize, Serializer};

/// What a manifest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An HLS media playlist.
    HlsMedia,
    /// An HLS multivariant playlist.
    HlsMultivariant,
    /// A DASH MPD.
    Mpd,
    /// Neither.
    Unknown,
}

macro_rules! rules {
    ($($variant:ident => $code:literal, $spec:literal, $summary:literal;)*) => {
        /// A rule of the specifications.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rule {
            $(
                #[doc = $summary]
                $variant,
            )*
        }

        impl Rule {
            /// Every rule.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// Its stable code (`hls.version`).
            pub fn code(self) -> &'static str {
                match self { $(Rule::$variant => $code),* }
            }

            /// Where the specification asks it.
            pub fn spec(self) -> &'static str {
                match self { $(Rule::$variant => $spec),* }
            }

            /// What it asks.
            pub fn summary(self) -> &'static str {
                match self { $(Rule::$variant => $summary),* }
            }
        }
    };
}

rules! {
    NotManifest => "manifest", "RFC 8216 §4, ISO/IEC 23009-1 §5.3",
        "A manifest is an HLS playlist (first line #EXTM3U) or an MPD (XML).";
    HlsVersion => "hls.version", "RFC 8216 §7, RFC 8216bis §8",
        "EXT-X-VERSION is at least what the playlist's tags and attributes need.";
    HlsTagOnce => "hls.tag-once", "RFC 8216 §4.3.1.2, §4.3.3, §4.3.5",
        "Playlist-level tags appear at most once.";
    HlsHeaderPosition => "hls.header-position", "RFC 8216 §4.3.3.2, §4.3.3.3",
        "Playlist-level tags come before the first media segment, and \
         EXT-X-DISCONTINUITY-SEQUENCE before any EXT-X-DISCONTINUITY.";
    HlsTargetDuration => "hls.target-duration", "RFC 8216 §4.3.3.1",
        "EXT-X-TARGETDURATION is present, an integer, and at least every EXTINF \
         duration rounded to the nearest integer.";
    HlsSegmentUri => "hls.segment-uri", "RFC 8216 §4.3.2.1",
        "Every EXTINF is followed by its URI, and every URI follows an EXTINF.";
    HlsValue => "hls.value", "RFC 8216 §4.2, §4.3",
        "Tag values have their type: integers, non-negative decimal durations.";
    HlsKey => "hls.key", "RFC 8216 §4.3.2.4",
        "EXT-X-KEY has a METHOD; METHOD=NONE has no other attribute, other methods a \
         URI; an IV is a 128-bit hexadecimal.";
    HlsMap => "hls.map", "RFC 8216 §4.3.2.5", "EXT-X-MAP has a URI.";
    HlsByteRange => "hls.byterange", "RFC 8216 §4.3.2.2",
        "An EXT-X-BYTERANGE without an offset follows a sub-range of the same resource.";
    HlsDateRange => "hls.daterange", "RFC 8216 §4.3.2.7",
        "EXT-X-DATERANGE has an ID and a START-DATE, non-negative durations, an \
         END-DATE not before its start and equal to START-DATE plus DURATION when both \
         are given; END-ON-NEXT=YES comes with CLASS and without DURATION or END-DATE.";
    HlsDateRangeNeedsPdt => "hls.daterange-pdt", "RFC 8216 §4.3.2.7",
        "A playlist with EXT-X-DATERANGE has an EXT-X-PROGRAM-DATE-TIME.";
    HlsDateRangeConsistent => "hls.daterange-consistent", "RFC 8216 §4.3.2.7.1",
        "Date ranges with the same ID never give an attribute different values, in one \
         playlist or across refreshes.";
    HlsStreamInf => "hls.stream-inf", "RFC 8216 §4.3.4.2",
        "EXT-X-STREAM-INF has a BANDWIDTH and is followed by its URI line.";
    HlsIFrameStreamInf => "hls.i-frame-stream-inf", "RFC 8216 §4.3.4.3",
        "EXT-X-I-FRAME-STREAM-INF has a BANDWIDTH and a URI.";
    HlsMedia => "hls.media", "RFC 8216 §4.3.4.1",
        "EXT-X-MEDIA has TYPE, GROUP-ID and NAME; SUBTITLES have a URI; \
         CLOSED-CAPTIONS have an INSTREAM-ID and no URI.";
    HlsMediaNameUnique => "hls.media-name-unique", "RFC 8216 §4.3.4.1.1",
        "NAMEs are unique within a rendition group.";
    HlsGroupExists => "hls.group-exists", "RFC 8216 §4.3.4.2",
        "AUDIO, VIDEO, SUBTITLES and CLOSED-CAPTIONS of a variant name a group of \
         EXT-X-MEDIA of that TYPE.";
    HlsPartInf => "hls.part-inf", "RFC 8216bis §4.4.3.7",
        "A playlist with EXT-X-PART has an EXT-X-PART-INF with a decimal PART-TARGET.";
    HlsPart => "hls.part", "RFC 8216bis §4.4.4.9",
        "EXT-X-PART has a URI and a DURATION of at most PART-TARGET; INDEPENDENT and GAP \
         are YES; BYTERANGE is n[@o]; a parent segment's EXT-X-DISCONTINUITY, KEY, MAP \
         and PROGRAM-DATE-TIME come before its first EXT-X-PART.";
    HlsServerControl => "hls.server-control", "RFC 8216bis §4.4.3.8",
        "EXT-X-SERVER-CONTROL: CAN-BLOCK-RELOAD and CAN-SKIP-DATERANGES are YES, \
         CAN-SKIP-DATERANGES comes with CAN-SKIP-UNTIL, CAN-SKIP-UNTIL is at least six \
         and HOLD-BACK at least three target durations; a playlist with EXT-X-PART-INF \
         gives a PART-HOLD-BACK of at least twice PART-TARGET.";
    HlsPreloadHint => "hls.preload-hint", "RFC 8216bis §4.4.5.3",
        "EXT-X-PRELOAD-HINT has TYPE PART or MAP and a URI, decimal-integer byte range \
         attributes, and is not in a playlist with EXT-X-ENDLIST.";
    HlsRenditionReport => "hls.rendition-report", "RFC 8216bis §4.4.5.4",
        "EXT-X-RENDITION-REPORT has a URI; LAST-MSN and LAST-PART are decimal integers.";
    HlsDefine => "hls.define", "RFC 8216bis §4.4.2.3",
        "EXT-X-DEFINE has exactly one of NAME (with a VALUE), IMPORT (media playlists \
         only) and QUERYPARAM, a name of A-Z, a-z, 0-9, - and _, and no name twice.";
    HlsVariableDefined => "hls.variable-defined", "RFC 8216bis §4.3",
        "Every variable reference {$name} names a variable an EXT-X-DEFINE defines.";
    HlsMixed => "hls.mixed", "RFC 8216 §4.1",
        "A playlist is either a media or a multivariant playlist, not both.";
    HlsRefreshSequence => "hls.refresh-sequence", "RFC 8216 §6.2.1, §6.2.2",
        "Between refreshes, EXT-X-MEDIA-SEQUENCE and EXT-X-DISCONTINUITY-SEQUENCE never \
         go back.";
    HlsRefreshIdentity => "hls.refresh-identity", "RFC 8216 §6.2.1, §6.2.2",
        "Between refreshes, a media sequence number keeps its URI, duration and \
         discontinuity sequence number.";
    HlsRefreshEnded => "hls.refresh-ended", "RFC 8216 §6.2.1, §4.3.3.5",
        "Nothing changes after EXT-X-ENDLIST; an EVENT playlist only grows.";
    DashXml => "dash.xml", "XML 1.0", "The MPD is well-formed XML.";
    DashRoot => "dash.root", "ISO/IEC 23009-1 §5.3.1",
        "The root is MPD in the namespace urn:mpeg:dash:schema:mpd:2011.";
    DashChildOrder => "dash.child-order", "ISO/IEC 23009-1 schema (DASH-MPD.xsd)",
        "Children of MPD, Period, AdaptationSet, Representation, the segment elements, \
         SegmentTimeline and EventStream come in the schema's order, single elements at \
         most once.";
    DashUnknownElement => "dash.unknown-element", "ISO/IEC 23009-1 schema (DASH-MPD.xsd)",
        "Elements in the MPD namespace are ones the schema defines where they are; \
         extensions use another namespace.";
    DashRequiredAttribute => "dash.required-attribute", "ISO/IEC 23009-1 schema (DASH-MPD.xsd), §5.3.7.2",
        "Required attributes are present (MPD@profiles, MPD@minBufferTime, \
         Representation@id and @bandwidth, @schemeIdUri of descriptors and event \
         streams, S@d, ...), and every Representation has a @mimeType, its own or its \
         AdaptationSet's.";
    DashAttributeValue => "dash.attribute-value", "ISO/IEC 23009-1 schema (DASH-MPD.xsd)",
        "Attribute values have their schema type (xs:duration, xs:dateTime, unsigned \
         integers, MPD@type).";
    DashSegmentTimeline => "dash.segment-timeline", "ISO/IEC 23009-1 §5.3.9.6",
        "In a SegmentTimeline, S@d is above 0, S@t never goes back nor into the \
         previous S, and S@r is -1 or more, -1 only on the last S or before an S with @t.";
    DashPeriodId => "dash.period-id", "ISO/IEC 23009-1 §5.3.2.2",
        "Period ids are unique, and present in a dynamic MPD.";
    DashPeriodStart => "dash.period-start", "ISO/IEC 23009-1 §5.3.2.1",
        "Period starts can be derived, increase, and agree with the previous Period's \
         duration.";
    DashPresentationDuration => "dash.presentation-duration", "ISO/IEC 23009-1 §5.3.1.2",
        "A static MPD gives mediaPresentationDuration or the last Period's duration, \
         and has no minimumUpdatePeriod.";
    DashDynamic => "dash.dynamic", "ISO/IEC 23009-1 §5.3.1.2",
        "A dynamic MPD has availabilityStartTime and publishTime.";
    DashRefresh => "dash.refresh", "ISO/IEC 23009-1 §5.4.1",
        "Between updates of an MPD, MPD@id, type and availabilityStartTime stay, \
         publishTime never goes back, and a Period that stays keeps its start (and its \
         duration once it has one).";
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One broken rule, where, and how.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// The rule.
    pub rule: Rule,
    /// Where: `line 12` in a playlist, an element path (`MPD/Period[2]`) in an MPD.
    pub place: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem at a playlist line (1-based; 0: the playlist as a whole).
    pub fn at_line(rule: Rule, line: usize, message: impl Into<String>) -> Self {
        Self {
            rule,
            place: if line == 0 {
                "playlist".into()
            } else {
                format!("line {line}")
            },
            message: message.into(),
        }
    }

    /// A problem somewhere named by `place`.
    pub fn at(rule: Rule, place: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule,
            place: place.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] {}", self.place, self.rule, self.message)
    }
}

/// What a manifest is, by its first characters.
pub fn kind_of(text: &str) -> Kind {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with("#EXTM3U") {
        if crate::hls::version::looks_multivariant(text) {
            Kind::HlsMultivariant
        } else {
            Kind::HlsMedia
        }
    } else if t.starts_with('<') {
        Kind::Mpd
    } else {
        Kind::Unknown
    }
}

/// Check one manifest of either format.
pub fn check(text: &str) -> (Kind, Vec<Problem>) {
    let kind = kind_of(text);
    let problems = match kind {
        Kind::HlsMedia => hls::check_media(text),
        Kind::HlsMultivariant => hls::check_multivariant(text),
        Kind::Mpd => dash::check_mpd(text),
        Kind::Unknown => vec![Problem::at_line(
            Rule::NotManifest,
            1,
            "neither an HLS playlist (#EXTM3U) nor an MPD",
        )],
    };
    (kind, problems)
}

/// Check the next answer of a manifest against the previous one: the single-manifest
/// rules on `next`, plus the refresh rules of live HLS playlists and MPD updates.
pub fn check_next(prev: &str, next: &str) -> (Kind, Vec<Problem>) {
    let (kind, mut problems) = check(next);
    match (kind, kind_of(prev)) {
        (Kind::HlsMedia, Kind::HlsMedia) => problems.extend(hls::check_refresh(prev, next)),
        (Kind::Mpd, Kind::Mpd) => problems.extend(dash::check_refresh(prev, next)),
        _ => {}
    }
    (kind, problems)
}

/// Parse an ISO 8601 / xs:dateTime (`2024-01-01T00:00:00.5Z`, `+02:00` offsets; no
/// zone: UTC) into seconds since 1970. `None` when it is not one.
pub fn parse_date_time(s: &str) -> Option<f64> {
    let s = s.trim();
    let (date, time) = s.split_once('T')?;
    let (neg_year, date) = match date.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, date),
    };
    let mut d = date.split('-');
    let (ys, ms, ds) = (d.next()?, d.next()?, d.next()?);
    // Years of up to 9 digits: the day arithmetic below cannot overflow.
    if d.next().is_some()
        || ys.len() < 4
        || ys.len() > 9
        || ms.len() != 2
        || ds.len() != 2
        || ![ys, ms, ds]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let y: i64 = ys.parse().ok()?;
    let y = if neg_year { -y } else { y };
    let (m, day): (i64, i64) = (ms.parse().ok()?, ds.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || day < 1 || day > days_in[(m - 1) as usize] {
        return None;
    }
    let (clock, offset) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0i64)
    } else if let Some(pos) = time.rfind(['+', '-']) {
        let (c, z) = time.split_at(pos);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let (hh, mm) = z[1..].split_once(':')?;
        if hh.len() != 2 || mm.len() != 2 {
            return None;
        }
        let (hh, mm): (i64, i64) = (hh.parse().ok()?, mm.parse().ok()?);
        if hh > 14 || mm > 59 {
            return None;
        }
        (c, sign * (hh * 3600 + mm * 60))
    } else {
        (time, 0)
    };
    let mut t = clock.split(':');
    let (hs, mins, ss) = (t.next()?, t.next()?, t.next()?);
    if t.next().is_some() || hs.len() != 2 || mins.len() != 2 {
        return None;
    }
    let (whole, frac) = ss.split_once('.').unwrap_or((ss, "0"));
    if whole.len() != 2
        || frac.is_empty()
        || ![hs, mins, whole, frac]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (h, mi, sec): (i64, i64, f64) = (hs.parse().ok()?, mins.parse().ok()?, ss.parse().ok()?);
    if h > 24 || mi > 59 || sec >= 61.0 || (h == 24 && (mi > 0 || sec > 0.0)) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 - offset) as f64 + sec)
}

#[cfg(test)]
mod tests;
