//! HLS ad markers → the common break model.
//!
//! Pure. Dialects handled here: `EXT-X-CUE-OUT` (`:30`, `:DURATION=30`, bare),
//! `EXT-X-CUE-OUT-CONT`, `EXT-X-CUE-IN`, and `EXT-X-DATERANGE` with `SCTE35-OUT` /
//! `SCTE35-IN` / `DURATION` / `PLANNED-DURATION`. Other dialects plug in by adding a
//! case to [`parse_cue`]; [`find_breaks`] does not care where a marker came from.

use std::collections::BTreeMap;

use super::attr;
use super::model::MediaPlaylist;
use crate::breaks::{AdBreak, BreakStart, CueMarker, Dialect, DURATION_TOLERANCE};

/// `#EXT-X-CUE-OUT`
pub const CUE_OUT: &str = "#EXT-X-CUE-OUT";
/// `#EXT-X-CUE-OUT-CONT`
pub const CUE_OUT_CONT: &str = "#EXT-X-CUE-OUT-CONT";
/// `#EXT-X-CUE-IN`
pub const CUE_IN: &str = "#EXT-X-CUE-IN";
/// `#EXT-X-DATERANGE:`
pub const DATERANGE: &str = "#EXT-X-DATERANGE:";

/// Is this line one of the break markers [`parse_cue`] reads (valid or not)?
pub fn is_cue_line(line: &str) -> bool {
    line.starts_with(CUE_OUT) || line.starts_with(CUE_IN)
}

/// Read a marker from one tag line. `None`: not a marker, or a malformed one (which
/// is passed through as content).
pub fn parse_cue(line: &str) -> Option<CueMarker> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix(CUE_OUT_CONT) {
        let attrs = rest.strip_prefix(':').unwrap_or("");
        let (mut elapsed, mut duration) = (None, None);
        if let Some((a, b)) = attrs.split_once('/').filter(|_| !attrs.contains('=')) {
            // `12/30` form.
            elapsed = number(a);
            duration = number(b);
        } else {
            for (k, v) in attr::attributes(attrs) {
                match k.to_ascii_lowercase().as_str() {
                    "elapsedtime" | "elapsed" => elapsed = number(v),
                    "duration" => duration = number(v),
                    _ => {}
                }
            }
        }
        return Some(CueMarker::Cont {
            elapsed,
            duration,
            dialect: Dialect::CueOut,
        });
    }
    if let Some(rest) = line.strip_prefix(CUE_OUT) {
        let mut vars = BTreeMap::new();
        let (duration, id) = match rest.strip_prefix(':') {
            None if rest.is_empty() => (None, None),
            None => return None, // e.g. `#EXT-X-CUE-OUTX`
            Some(v) if v.contains('=') => {
                let mut duration = None;
                let mut id = None;
                for (k, val) in attr::attributes(v) {
                    match k.to_ascii_uppercase().as_str() {
                        "DURATION" => duration = Some(number(val)?),
                        "ID" => id = Some(val.to_string()),
                        "CUE" => {
                            vars.insert("scte.cue".to_string(), val.to_string());
                        }
                        _ => {}
                    }
                }
                (duration, id)
            }
            Some(v) if v.trim().is_empty() => (None, None),
            Some(v) => (Some(number(v)?), None),
        };
        return Some(CueMarker::Out {
            duration,
            id,
            vars,
            dialect: Dialect::CueOut,
        });
    }
    if let Some(rest) = line.strip_prefix(CUE_IN) {
        return (rest.is_empty() || rest.starts_with(':')).then_some(CueMarker::In { id: None });
    }
    if let Some(attrs) = line.strip_prefix(DATERANGE) {
        let id = attr::attribute(attrs, "ID").map(str::to_string);
        if attr::attribute(attrs, "SCTE35-OUT").is_some() {
            let duration = attr::attribute(attrs, "DURATION")
                .or_else(|| attr::attribute(attrs, "PLANNED-DURATION"))
                .and_then(number);
            let mut vars = BTreeMap::new();
            if let Some(cue) = attr::attribute(attrs, "SCTE35-OUT") {
                vars.insert("scte.cue".to_string(), cue.to_string());
            }
            return Some(CueMarker::Out {
                duration,
                id,
                vars,
                dialect: Dialect::DateRange,
            });
        }
        if attr::attribute(attrs, "SCTE35-IN").is_some() {
            return Some(CueMarker::In { id });
        }
    }
    None
}

fn number(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|d| d.is_finite() && *d >= 0.0)
}

struct Open {
    start: BreakStart,
    id: String,
    duration: Option<f64>,
    elapsed: Option<f64>,
    vars: BTreeMap<String, String>,
    dialect: Dialect,
    marker_id: Option<String>,
    content: f64,
    segments: usize,
}

impl Open {
    fn close(self, end: usize) -> AdBreak {
        // A bare CUE-OUT closed by its CUE-IN: the avail is what lay between them.
        let duration = self.duration.or((self.start != BreakStart::BeforeWindow
            && self.segments > 0)
            .then_some(self.content));
        AdBreak {
            id: self.id,
            start: self.start,
            end: Some(end),
            insert: self.segments == 0,
            duration,
            elapsed_at_window_start: self.elapsed,
            vars: self.vars,
            dialect: self.dialect,
        }
    }

    fn into_open_break(self) -> AdBreak {
        AdBreak {
            id: self.id,
            start: self.start,
            end: None,
            insert: false,
            duration: self.duration,
            elapsed_at_window_start: self.elapsed,
            vars: self.vars,
            dialect: self.dialect,
        }
    }
}

/// Find the ad breaks of a media playlist.
///
/// A break opens at the segment carrying its OUT marker and ends at the segment
/// carrying the IN marker, or where its announced duration is used up (whichever
/// comes first). An OUT with zero duration, or an OUT immediately followed by an IN
/// on the same segment, is an insertion point (VOD). Markers after the last segment
/// are an insertion point at the end (post-roll). A window that opens inside a break
/// (only `CUE-OUT-CONT` visible) yields a break starting [`BreakStart::BeforeWindow`].
pub fn find_breaks(pl: &MediaPlaylist) -> Vec<AdBreak> {
    let mut found = Vec::new();
    let mut open: Option<Open> = None;
    let n = pl.segments.len();
    for i in 0..=n {
        let (lines, msn) = match pl.segments.get(i) {
            Some(s) => (&s.lines, s.msn),
            None => (&pl.trailer, pl.media_sequence + n as u64),
        };
        for line in lines {
            let Some(marker) = parse_cue(line) else {
                continue;
            };
            match marker {
                CueMarker::Out {
                    duration,
                    id,
                    vars,
                    dialect,
                } => {
                    if let Some(o) = open.take() {
                        // A new OUT closes a break left open.
                        found.push(o.close(i));
                    }
                    let break_id = match &id {
                        Some(id) => format!("id-{id}"),
                        None => format!("msn-{msn}"),
                    };
                    if duration == Some(0.0) {
                        found.push(AdBreak {
                            id: break_id,
                            start: BreakStart::At(i),
                            end: Some(i),
                            duration: None,
                            insert: true,
                            elapsed_at_window_start: None,
                            vars,
                            dialect,
                        });
                        continue;
                    }
                    open = Some(Open {
                        start: BreakStart::At(i),
                        id: break_id,
                        duration,
                        elapsed: None,
                        vars,
                        dialect,
                        marker_id: id,
                        content: 0.0,
                        segments: 0,
                    });
                }
                CueMarker::Cont {
                    elapsed,
                    duration,
                    dialect,
                } => match &mut open {
                    Some(o) if o.duration.is_none() => o.duration = duration,
                    Some(_) => {}
                    None if i == 0 && found.is_empty() && n > 0 => {
                        open = Some(Open {
                            start: BreakStart::BeforeWindow,
                            id: String::new(),
                            duration,
                            elapsed,
                            vars: BTreeMap::new(),
                            dialect,
                            marker_id: None,
                            content: 0.0,
                            segments: 0,
                        });
                    }
                    None => {}
                },
                CueMarker::In { id } => {
                    let matches = match (&open, &id) {
                        (Some(o), Some(id)) => o.marker_id.as_deref() == Some(id.as_str()),
                        (Some(_), None) => true,
                        (None, _) => false,
                    };
                    if matches {
                        if let Some(o) = open.take() {
                            found.push(o.close(i));
                        }
                    } else if open.is_none() && i > 0 && found.is_empty() {
                        // The window opened inside a break whose OUT we never saw and
                        // that carried no CONT markers: nothing to act on.
                    }
                }
            }
        }
        let Some(seg) = pl.segments.get(i) else {
            break;
        };
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
        if b.start == BreakStart::BeforeWindow {
            b.id = format!("open-{}", pl.media_sequence);
        }
    }
    found
}

#[cfg(test)]
mod tests;
