//! The common ad-break model every marker dialect maps to, and the pure rules that
//! fit an ad pod into a break.
//!
//! Pure. HLS markers (`hls::cue`) and, later, DASH events and decoded SCTE-35 cues
//! all become [`CueMarker`]s; the detectors turn markers into [`AdBreak`]s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Slack, in seconds, allowed when comparing ad and content durations
/// (VAST says 15.000 where the segments add up to 15.015).
pub const DURATION_TOLERANCE: f64 = 0.5;

/// One marker read from a manifest, already decoded from its dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum CueMarker {
    /// The break starts at this segment.
    Out {
        /// Duration announced by the marker, seconds.
        duration: Option<f64>,
        /// Identifier carried by the marker (DATERANGE `ID`, Envivio `ID=`...).
        id: Option<String>,
        /// Values for `[scte.*]` ADS variables carried by the marker.
        vars: BTreeMap<String, String>,
        /// The dialect it was read from.
        dialect: Dialect,
    },
    /// The segment is inside a break (`EXT-X-CUE-OUT-CONT`).
    Cont {
        /// Seconds since the break started, where the marker says.
        elapsed: Option<f64>,
        /// Duration of the whole break, where the marker says.
        duration: Option<f64>,
        /// The dialect it was read from.
        dialect: Dialect,
    },
    /// The break ends: content resumes at this segment.
    In {
        /// Identifier of the break it closes, where the marker says.
        id: Option<String>,
    },
}

/// The marker syntax a break was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// `EXT-X-CUE-OUT` / `EXT-X-CUE-OUT-CONT` / `EXT-X-CUE-IN`.
    CueOut,
    /// `EXT-X-DATERANGE` with `SCTE35-OUT` / `SCTE35-IN`.
    DateRange,
    /// No marker: a pre-roll added to a VOD asset without markers.
    Implicit,
    /// `EXT-OATCLS-SCTE35` alone (a base64 cue; the cue decides).
    Oatcls,
    /// `EXT-X-SCTE35` (`CUE=`, `CUE-OUT=YES|CONT`, `CUE-IN=YES`).
    Scte35,
    /// `EXT-X-SPLICEPOINT-SCTE35` (a base64 cue; the cue decides).
    Splicepoint,
    /// Adobe Primetime `EXT-X-CUE` / `EXT-X-CUE-CONT`.
    Primetime,
    /// `EXT-X-CUE-SPAN` (inside a break).
    CueSpan,
}

/// Where a break starts within the visible playlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakStart {
    /// At this segment index.
    At(usize),
    /// Before the first visible segment (only `CUE-OUT-CONT` markers are visible).
    BeforeWindow,
}

/// An ad break found in a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct AdBreak {
    /// Stable identity across refreshes and variants.
    pub id: String,
    /// Where it starts.
    pub start: BreakStart,
    /// Index of the first content segment after the break, when visible
    /// (`segments.len()` when the break ends exactly at the end of the window).
    pub end: Option<usize>,
    /// Avail duration, seconds, where known.
    pub duration: Option<f64>,
    /// Insert ads here without replacing content (VOD `CUE-OUT:0`, pre/post-rolls).
    pub insert: bool,
    /// Seconds since the break started at the first visible segment, where a marker
    /// says so (`ElapsedTime=`).
    pub elapsed_at_window_start: Option<f64>,
    /// Values for `[scte.*]` ADS variables.
    pub vars: BTreeMap<String, String>,
    /// The dialect it was found in.
    pub dialect: Dialect,
}

/// Which ads of a pod fit into `avail` seconds: in pod order, an ad is kept when the
/// running total stays within the avail (plus [`DURATION_TOLERANCE`]); an ad that does
/// not fit is dropped, never clipped, and later shorter ads may still fit.
pub fn fit_pod(durations: &[f64], avail: f64) -> Vec<usize> {
    let mut total = 0.0;
    let mut kept = Vec::new();
    for (i, d) in durations.iter().enumerate() {
        if !d.is_finite() || *d <= 0.0 {
            continue;
        }
        if total + d <= avail + DURATION_TOLERANCE {
            total += d;
            kept.push(i);
        }
    }
    kept
}

/// Whether a break whose start is visible in the window overlaps the origin
/// media sequence numbers `[start, end)` (`end` = `u64::MAX`: still running). A
/// break that began before the window is never said to overlap (the session's
/// records decide what it is). Pure.
pub fn overlaps_msns(
    pl: &crate::hls::MediaPlaylist,
    b: &AdBreak,
    (start, end): (u64, u64),
) -> bool {
    let after_last = pl.segments.last().map_or(0, |s| s.msn + 1);
    let msn = |i: usize| pl.segments.get(i).map_or(after_last, |s| s.msn);
    let BreakStart::At(first) = b.start else {
        return false;
    };
    let (s, e) = (msn(first), b.end.map_or(u64::MAX, msn));
    s < end && e > start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_in_media_sequence_numbers() {
        let pl = crate::hls::model::parse_media(
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:10\n#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n#EXTINF:2,\nc.ts\n#EXTINF:2,\nd.ts\n",
        )
        .unwrap();
        let at = |start: BreakStart, end: Option<usize>| AdBreak {
            id: "b".into(),
            start,
            end,
            duration: None,
            insert: false,
            elapsed_at_window_start: None,
            vars: BTreeMap::new(),
            dialect: Dialect::Implicit,
        };
        // Break on msn 11..13 (end index 3 = msn 13).
        let b = at(BreakStart::At(1), Some(3));
        assert!(overlaps_msns(&pl, &b, (12, 20)));
        assert!(overlaps_msns(&pl, &b, (5, 12)));
        assert!(
            !overlaps_msns(&pl, &b, (13, 20)),
            "ends where the span starts"
        );
        assert!(
            !overlaps_msns(&pl, &b, (5, 11)),
            "starts where the span ends"
        );
        // Open-ended break: overlaps any later span; a break before the window never.
        assert!(overlaps_msns(
            &pl,
            &at(BreakStart::At(2), None),
            (100, u64::MAX)
        ));
        assert!(!overlaps_msns(
            &pl,
            &at(BreakStart::BeforeWindow, None),
            (0, u64::MAX)
        ));
    }

    #[test]
    fn fits_in_order_and_drops_what_does_not_fit() {
        assert_eq!(fit_pod(&[10.0, 6.0], 16.0), vec![0, 1]);
        assert_eq!(fit_pod(&[10.0, 10.0, 5.0], 16.0), vec![0, 2]);
        assert_eq!(fit_pod(&[30.0], 16.0), Vec::<usize>::new());
        assert_eq!(fit_pod(&[15.015], 15.0), vec![0]);
        assert_eq!(fit_pod(&[f64::NAN, -1.0, 5.0], 5.0), vec![2]);
    }
}
