//! Which cues open and close an ad break, and the `[scte.*]` ADS variables a cue
//! fills.
//!
//! Pure.
//!
//! A cue **opens** a break when it is
//! - a `splice_insert` with `out_of_network_indicator` = 1 (not cancelled), or
//! - a `time_signal` (or `splice_null`, or `splice_insert`) carrying a segmentation
//!   descriptor (not cancelled) whose `segmentation_type_id` is listed in
//!   [`CueRules::segmentation_types`] and is even (a *start*: 0x22 Break Start, 0x30
//!   Provider Advertisement Start, 0x32, 0x34, 0x36 by default).
//!
//! It **closes** one when it is a `splice_insert` with `out_of_network_indicator` = 0,
//! or carries a listed segmentation type that is odd (an *end*: 0x23, 0x31, 0x33,
//! 0x35, 0x37 by default). When one message carries both an end and a start (one
//! placement opportunity ending where the next begins) it opens: a new break always
//! closes the one before it.
//!
//! Everything else (`splice_null` heartbeats, program boundaries, content
//! identification, unlisted types) is not a break marker.
//!
//! The duration a cue gives is its `break_duration` if any, else the
//! `segmentation_duration` of the descriptor that opened the break. (A marker's own
//! duration, `EXT-X-CUE-OUT:30`, wins over both: see `hls::cue`.)

use std::collections::BTreeMap;

use super::descriptors::{upid_type, SegmentationDescriptor, Upid};
use super::splice_info::{SpliceCommand, SpliceInfoSection};
use super::{format_seconds, DecodeOptions};

/// Segmentation types that open (even) and close (odd) breaks unless configured
/// otherwise: Break, Provider Advertisement, Distributor Advertisement, Provider
/// Placement Opportunity and Distributor Placement Opportunity starts and ends.
pub const DEFAULT_SEGMENTATION_TYPES: [u8; 10] =
    [0x22, 0x23, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37];

/// The per-configuration rules for cues (`scte35_segmentation_types`,
/// `scte35_lenient_crc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CueRules {
    /// `segmentation_type_id`s that act on breaks: even ids open, odd ids close.
    pub segmentation_types: Vec<u8>,
    /// Accept cues with a bad `CRC_32` (see [`DecodeOptions::lenient_crc`]).
    pub lenient_crc: bool,
}

impl Default for CueRules {
    fn default() -> Self {
        Self {
            segmentation_types: DEFAULT_SEGMENTATION_TYPES.to_vec(),
            lenient_crc: false,
        }
    }
}

impl CueRules {
    /// The decoder options these rules ask for.
    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions {
            lenient_crc: self.lenient_crc,
        }
    }

    fn listed(&self, t: u8) -> bool {
        self.segmentation_types.contains(&t)
    }
}

/// What a cue means for ad breaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Signal {
    /// A break starts.
    Out {
        /// Seconds: `break_duration`, else the opening descriptor's
        /// `segmentation_duration`.
        duration: Option<f64>,
        /// Where the duration came from.
        source: Option<DurationSource>,
        /// `splice_event_id`, else the opening descriptor's `segmentation_event_id`.
        event_id: Option<u32>,
    },
    /// A break ends.
    In {
        /// `splice_event_id`, else the closing descriptor's `segmentation_event_id`.
        event_id: Option<u32>,
    },
    /// Not a break marker.
    None,
}

/// Where a break's duration came from, in increasing precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationSource {
    /// A `CUE-OUT-CONT` / `CUE-SPAN` marker said so (the break's OUT said nothing).
    Continuation,
    /// The opening segmentation descriptor's `segmentation_duration`.
    SegmentationDuration,
    /// The `splice_insert`'s `break_duration`.
    BreakDuration,
    /// The marker tag itself (`EXT-X-CUE-OUT:30`, `DURATION=`, `PLANNED-DURATION=`).
    Marker,
}

/// The descriptor that decides a cue's meaning: the first listed start, else the
/// first listed end.
fn deciding_descriptor<'a>(
    s: &'a SpliceInfoSection,
    rules: &CueRules,
) -> Option<(&'a SegmentationDescriptor, bool)> {
    let listed = |d: &&SegmentationDescriptor| {
        !d.segmentation_event_cancel_indicator && rules.listed(d.segmentation_type_id)
    };
    s.segmentation_descriptors()
        .filter(listed)
        .find(|d| d.segmentation_type_id % 2 == 0)
        .map(|d| (d, true))
        .or_else(|| {
            s.segmentation_descriptors()
                .find(listed)
                .map(|d| (d, false))
        })
}

/// What `s` means for ad breaks under `rules` (see the module docs).
pub fn classify(s: &SpliceInfoSection, rules: &CueRules) -> Signal {
    let insert = match &s.splice_command {
        Some(SpliceCommand::SpliceInsert(si)) if !si.splice_event_cancel_indicator => Some(si),
        _ => None,
    };
    let descriptor = deciding_descriptor(s, rules);
    if let Some(si) = insert {
        if si.out_of_network_indicator {
            let (duration, source) = match (si.break_duration, descriptor) {
                (Some(b), _) => (
                    Some(b.duration.seconds()),
                    Some(DurationSource::BreakDuration),
                ),
                (None, Some((d, true))) => (
                    d.segmentation_duration.map(|x| x.seconds()),
                    d.segmentation_duration
                        .map(|_| DurationSource::SegmentationDuration),
                ),
                _ => (None, None),
            };
            return Signal::Out {
                duration,
                source,
                event_id: Some(si.splice_event_id),
            };
        }
        return Signal::In {
            event_id: Some(si.splice_event_id),
        };
    }
    if !matches!(
        s.splice_command,
        Some(SpliceCommand::TimeSignal(_) | SpliceCommand::SpliceNull)
    ) {
        return Signal::None;
    }
    match descriptor {
        Some((d, true)) => Signal::Out {
            duration: d.segmentation_duration.map(|x| x.seconds()),
            source: d
                .segmentation_duration
                .map(|_| DurationSource::SegmentationDuration),
            event_id: Some(d.segmentation_event_id),
        },
        Some((d, false)) => Signal::In {
            event_id: Some(d.segmentation_event_id),
        },
        None => Signal::None,
    }
}

/// `[scte.*]` ADS variables (MediaTailor's names) from a cue.
///
/// From a `splice_insert`: `scte.event_id`, `scte.avail_num`, `scte.avails_expected`,
/// `scte.unique_program_id`. From the deciding segmentation descriptor (the one that
/// opened or closed the break, else the first): `scte.segmentation_event_id`,
/// `scte.segmentation_type_id`, `scte.segmentation_upid` (see [`Upid::display`]),
/// `scte.segmentation_upid_type`, `scte.segment_num`, `scte.segments_expected`,
/// `scte.sub_segment_num`, `scte.sub_segments_expected`, `scte.delivery_not_restricted_flag`
/// and, when restricted, `scte.web_delivery_allowed_flag`,
/// `scte.no_regional_blackout_flag`, `scte.archive_allowed_flag`,
/// `scte.device_restrictions`; for an MPU UPID also
/// `scte.segmentation_upid.format_identifier`, `scte.segmentation_upid.private_data`
/// and its `:`-separated tokens `scte.segmentation_upid.private_data.N`. Always:
/// `scte.pts_time` (seconds, `pts_adjustment` applied) when the command has one, and
/// `scte.duration` (seconds) when the cue gives one. Flags are `0`/`1`; numbers decimal.
pub fn ads_vars(s: &SpliceInfoSection, rules: &CueRules) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    let mut put = |k: &str, val: String| {
        v.insert(format!("scte.{k}"), val);
    };
    let flag = |b: bool| if b { "1" } else { "0" }.to_string();
    if let Some(SpliceCommand::SpliceInsert(si)) = &s.splice_command {
        put("event_id", si.splice_event_id.to_string());
        if !si.splice_event_cancel_indicator {
            put("avail_num", si.avail_num.to_string());
            put("avails_expected", si.avails_expected.to_string());
            put("unique_program_id", si.unique_program_id.to_string());
        }
    }
    if let Some(t) = s.pts_time() {
        put("pts_time", format_seconds(t.seconds()));
    }
    if let Signal::Out {
        duration: Some(d), ..
    } = classify(s, rules)
    {
        put("duration", format_seconds(d));
    }
    let descriptor = deciding_descriptor(s, rules)
        .map(|(d, _)| d)
        .or_else(|| s.segmentation_descriptors().next());
    if let Some(d) = descriptor {
        put("segmentation_event_id", d.segmentation_event_id.to_string());
        if !d.segmentation_event_cancel_indicator {
            put("segmentation_type_id", d.segmentation_type_id.to_string());
            put(
                "segmentation_upid_type",
                d.segmentation_upid_type.to_string(),
            );
            put(
                "segmentation_upid",
                d.segmentation_upid.display(d.segmentation_upid_type),
            );
            put("segment_num", d.segment_num.to_string());
            put("segments_expected", d.segments_expected.to_string());
            if let (Some(n), Some(e)) = (d.sub_segment_num, d.sub_segments_expected) {
                put("sub_segment_num", n.to_string());
                put("sub_segments_expected", e.to_string());
            }
            put(
                "delivery_not_restricted_flag",
                flag(d.delivery_not_restricted_flag()),
            );
            if let Some(r) = &d.delivery_restrictions {
                put(
                    "web_delivery_allowed_flag",
                    flag(r.web_delivery_allowed_flag),
                );
                put(
                    "no_regional_blackout_flag",
                    flag(r.no_regional_blackout_flag),
                );
                put("archive_allowed_flag", flag(r.archive_allowed_flag));
                put("device_restrictions", r.device_restrictions.to_string());
            }
            if let (
                upid_type::MPU,
                Upid::Mpu {
                    format_identifier,
                    private_data,
                },
            ) = (d.segmentation_upid_type, &d.segmentation_upid)
            {
                let fid = super::descriptors::printable(&format_identifier.to_be_bytes());
                put("segmentation_upid.format_identifier", fid);
                let data = super::descriptors::printable(&private_data.0);
                for (i, token) in data.split(':').filter(|t| !t.is_empty()).enumerate() {
                    put(
                        &format!("segmentation_upid.private_data.{i}"),
                        token.to_string(),
                    );
                }
                put("segmentation_upid.private_data", data);
            }
        }
    }
    v
}
