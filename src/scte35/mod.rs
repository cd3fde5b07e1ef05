//! SCTE-35 (ANSI/SCTE 35 2022, "Digital Program Insertion Cueing Message"): the
//! `splice_info_section` decoded from binary, base64 or hex, an encoder for tests and
//! fuzzing, the DASH carriage schemes, and the rules that turn a cue into a break.
//!
//! Pure: bytes or text in, values out; no I/O, no clock. Decoding never panics (a
//! proptest feeds it arbitrary bytes) and every failure is a [`DecodeError`].
//!
//! - [`splice_info`]: the section (§9.6), the splice commands (§9.7) and their times.
//! - [`descriptors`]: avail, DTMF, segmentation (with every UPID type, §10.3.3), time
//!   and audio descriptors (§10.3), private descriptors kept as bytes.
//! - [`text`]: base64 and hex (`0x` prefix, whitespace, quotes and a leading MPEG-TS
//!   `pointer_field` tolerated).
//! - [`encode`]: the inverse of decoding; `decode(encode(x)) == x`.
//! - [`xml`]: DASH `urn:scte:scte35:2013:xml`, `urn:scte:scte35:2014:xml+bin` and
//!   `urn:scte:scte35:2013:bin` event payloads (SCTE 214-1).
//! - [`rules`]: which cues open and close an ad break, and the `[scte.*]` ADS variables.
//!
//! ```
//! use splicepoint::scte35::{decode, DecodeOptions, SpliceCommand};
//! let cue = decode("/DAlAAAAAAAAAP/wFAUAAAABf+/+ANgNkv4AFJlwAAEBAQAA5xULLA==",
//!                  &DecodeOptions::default()).unwrap();
//! let SpliceCommand::SpliceInsert(insert) = &cue.splice_command.unwrap() else { panic!() };
//! assert!(insert.out_of_network_indicator);
//! assert_eq!(insert.break_duration.unwrap().duration.seconds(), 15.0);
//! ```

pub mod crc;
pub mod descriptors;
pub mod encode;
mod reader;
pub mod rules;
pub mod splice_info;
pub mod text;
pub mod xml;

use std::fmt;

use serde::{Serialize, Serializer};
use thiserror::Error;

pub use descriptors::{
    AudioComponent, AudioDescriptor, AvailDescriptor, DeliveryRestrictions, DtmfDescriptor,
    PrivateDescriptor, SegmentationComponent, SegmentationDescriptor, SegmentationUpid,
    SpliceDescriptor, TimeDescriptor, Upid,
};
pub use rules::{CueRules, Signal};
pub use splice_info::{
    BreakDuration, DecodeWarning, PrivateCommand, ScheduleComponent, ScheduleEvent, SpliceCommand,
    SpliceInfoSection, SpliceInsert, SpliceInsertComponent, SpliceSchedule, SpliceTime, TimeSignal,
};

/// `table_id` of a `splice_info_section`.
pub const TABLE_ID: u8 = 0xFC;
/// `identifier` of the descriptors this standard defines: ASCII "CUEI".
pub const CUEI: u32 = 0x4355_4549;
/// 90 kHz: the clock of every PTS and duration in a cue.
pub const TICKS_PER_SECOND: u64 = 90_000;
/// PTS values are 33 bits: they wrap at this value.
pub const PTS_MODULUS: u64 = 1 << 33;

/// Why a cue could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The text is neither base64 nor hex.
    #[error("not base64 or hex: {0}")]
    Encoding(&'static str),
    /// The data ends before this field.
    #[error("data ends inside {0}")]
    MissingData(&'static str),
    /// The first byte is not `0xFC`.
    #[error("table_id {0:#04x} is not a splice_info_section (0xfc)")]
    TableId(u8),
    /// The `CRC_32` carried does not match the section.
    #[error(
        "CRC_32 mismatch: the section carries {carried:#010x}, its bytes give {computed:#010x}"
    )]
    Crc {
        /// The value at the end of the section.
        carried: u32,
        /// CRC-32/MPEG-2 of the section's bytes.
        computed: u32,
    },
    /// A field holds a value the syntax does not allow here.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// The XML carriage of a DASH event could not be read.
    #[error("XML: {0}")]
    Xml(String),
}

/// How strictly to decode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Accept a section whose `CRC_32` does not match (some encoders and test suites
    /// never compute it), and one whose `section_length` runs past the data (it then
    /// ends where the data ends). Off by default: such a cue is an error.
    pub lenient_crc: bool,
}

impl DecodeOptions {
    /// Lenient decoding (see [`DecodeOptions::lenient_crc`]).
    pub fn lenient() -> Self {
        Self { lenient_crc: true }
    }
}

/// Decode a cue given as text: base64 or hex (see [`text::decode_text`]).
pub fn decode(text: &str, opts: &DecodeOptions) -> Result<SpliceInfoSection, DecodeError> {
    let bytes = text::decode_text(text)?;
    splice_info::decode_section(&bytes, opts)
}

/// Decode a cue given as bytes (a leading MPEG-TS `pointer_field` of 0 is skipped).
pub fn decode_bytes(bytes: &[u8], opts: &DecodeOptions) -> Result<SpliceInfoSection, DecodeError> {
    splice_info::decode_section(bytes, opts)
}

// === 90 kHz newtypes ===

/// A 33-bit presentation time stamp in 90 kHz ticks (`pts_time`, `pts_adjustment`,
/// `pts_offset`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Pts90k(pub u64);

impl Pts90k {
    /// Seconds.
    pub fn seconds(self) -> f64 {
        self.0 as f64 / TICKS_PER_SECOND as f64
    }

    /// `self + adjustment`, modulo 2^33 (§9.6: `pts_adjustment` is added to every
    /// `pts_time` of the section).
    pub fn adjusted(self, adjustment: Pts90k) -> Pts90k {
        Pts90k((self.0 + adjustment.0) % PTS_MODULUS)
    }
}

/// A duration in 90 kHz ticks (`break_duration` is 33 bits, `segmentation_duration`
/// 40 bits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Duration90k(pub u64);

impl Duration90k {
    /// Seconds.
    pub fn seconds(self) -> f64 {
        self.0 as f64 / TICKS_PER_SECOND as f64
    }

    /// The nearest tick count for `secs` seconds (negative or not finite: zero).
    pub fn from_seconds(secs: f64) -> Self {
        if secs.is_finite() && secs > 0.0 {
            Duration90k((secs * TICKS_PER_SECOND as f64).round() as u64)
        } else {
            Duration90k(0)
        }
    }
}

/// Opaque bytes (private data, encrypted payloads, stuffing): JSON shows them as
/// `0x`-prefixed lowercase hex.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// `0x`-prefixed lowercase hex (empty for no bytes).
    pub fn to_hex(&self) -> String {
        text::to_hex(&self.0)
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl From<&[u8]> for Bytes {
    fn from(b: &[u8]) -> Self {
        Bytes(b.to_vec())
    }
}

/// Seconds as short text for ADS variables and tables: at most 6 decimals, no
/// trailing zeros (`20`, `60.293567`).
pub fn format_seconds(secs: f64) -> String {
    let s = format!("{secs:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests;
