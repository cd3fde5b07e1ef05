//! Splice descriptors (SCTE 35 §10): avail (§10.3.1), DTMF (§10.3.2), segmentation
//! (§10.3.3, with every `segmentation_upid_type` of Table 21), time (§10.3.4) and
//! audio (§10.3.5). A descriptor whose `identifier` is not "CUEI", or whose tag the
//! standard does not define, is kept as a [`PrivateDescriptor`].
//!
//! Pure.

use serde::Serialize;

use super::reader::BitReader;
use super::{Bytes, DecodeError, Duration90k, Pts90k, CUEI};

/// `splice_descriptor_tag` values (Table 16).
pub mod tag {
    /// `avail_descriptor`
    pub const AVAIL: u8 = 0x00;
    /// `DTMF_descriptor`
    pub const DTMF: u8 = 0x01;
    /// `segmentation_descriptor`
    pub const SEGMENTATION: u8 = 0x02;
    /// `time_descriptor`
    pub const TIME: u8 = 0x03;
    /// `audio_descriptor`
    pub const AUDIO: u8 = 0x04;
}

/// `segmentation_upid_type` values (Table 21).
pub mod upid_type {
    /// Not used.
    pub const NOT_USED: u8 = 0x00;
    /// User defined (deprecated).
    pub const USER_DEFINED: u8 = 0x01;
    /// ISCI (deprecated).
    pub const ISCI: u8 = 0x02;
    /// Ad-ID.
    pub const AD_ID: u8 = 0x03;
    /// UMID (SMPTE 330M).
    pub const UMID: u8 = 0x04;
    /// ISAN (deprecated).
    pub const ISAN_DEPRECATED: u8 = 0x05;
    /// V-ISAN.
    pub const ISAN: u8 = 0x06;
    /// TID (Tribune Media Systems program identifier).
    pub const TID: u8 = 0x07;
    /// TI (AiringID).
    pub const TI: u8 = 0x08;
    /// ADI (CableLabs metadata identifier).
    pub const ADI: u8 = 0x09;
    /// EIDR.
    pub const EIDR: u8 = 0x0A;
    /// ATSC Content Identifier.
    pub const ATSC: u8 = 0x0B;
    /// MPU (Managed Private UPID).
    pub const MPU: u8 = 0x0C;
    /// MID (Multiple UPID).
    pub const MID: u8 = 0x0D;
    /// ADS Information.
    pub const ADS_INFO: u8 = 0x0E;
    /// URI.
    pub const URI: u8 = 0x0F;
    /// UUID.
    pub const UUID: u8 = 0x10;
    /// SCR (Subscriber Company Reporting).
    pub const SCR: u8 = 0x11;
}

/// A `splice_descriptor()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum SpliceDescriptor {
    /// `avail_descriptor()`.
    Avail(AvailDescriptor),
    /// `DTMF_descriptor()`.
    Dtmf(DtmfDescriptor),
    /// `segmentation_descriptor()`.
    Segmentation(SegmentationDescriptor),
    /// `time_descriptor()`.
    Time(TimeDescriptor),
    /// `audio_descriptor()`.
    Audio(AudioDescriptor),
    /// Any other descriptor (private identifier or reserved tag).
    Private(PrivateDescriptor),
}

impl SpliceDescriptor {
    /// `splice_descriptor_tag`.
    pub fn tag(&self) -> u8 {
        match self {
            SpliceDescriptor::Avail(_) => tag::AVAIL,
            SpliceDescriptor::Dtmf(_) => tag::DTMF,
            SpliceDescriptor::Segmentation(_) => tag::SEGMENTATION,
            SpliceDescriptor::Time(_) => tag::TIME,
            SpliceDescriptor::Audio(_) => tag::AUDIO,
            SpliceDescriptor::Private(p) => p.splice_descriptor_tag,
        }
    }
}

/// `avail_descriptor()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AvailDescriptor {
    /// `provider_avail_id`.
    pub provider_avail_id: u32,
}

/// `DTMF_descriptor()`. `dtmf_count` is `dtmf_chars.len()` (at most 7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DtmfDescriptor {
    /// `preroll`, tenths of a second.
    pub preroll: u8,
    /// The `DTMF_char`s (ASCII).
    pub dtmf_chars: String,
}

/// `time_descriptor()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeDescriptor {
    /// `TAI_seconds` (48 bits).
    pub tai_seconds: u64,
    /// `TAI_ns`.
    pub tai_ns: u32,
    /// `UTC_offset`.
    pub utc_offset: u16,
}

/// `audio_descriptor()`. `audio_count` is `components.len()` (at most 15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioDescriptor {
    /// The audio components.
    pub components: Vec<AudioComponent>,
}

/// One component of an `audio_descriptor()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioComponent {
    /// `component_tag`.
    pub component_tag: u8,
    /// `ISO_code` (ISO 639-2, three bytes).
    pub iso_code: Bytes,
    /// `Bit_Stream_Mode` (3 bits).
    pub bit_stream_mode: u8,
    /// `Num_Channels` (4 bits).
    pub num_channels: u8,
    /// `Full_Srvc_Audio`.
    pub full_srvc_audio: bool,
}

/// A descriptor kept as bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivateDescriptor {
    /// `splice_descriptor_tag`.
    pub splice_descriptor_tag: u8,
    /// `identifier`.
    pub identifier: u32,
    /// The bytes after the identifier.
    pub private_bytes: Bytes,
}

/// `segmentation_descriptor()`. When `segmentation_event_cancel_indicator` is set
/// nothing after it is carried, and the other fields hold their defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentationDescriptor {
    /// `segmentation_event_id`.
    pub segmentation_event_id: u32,
    /// `segmentation_event_cancel_indicator`.
    pub segmentation_event_cancel_indicator: bool,
    /// `segmentation_event_id_compliance_indicator` (formerly reserved).
    pub segmentation_event_id_compliance_indicator: bool,
    /// `program_segmentation_flag`: the segment covers every component.
    pub program_segmentation_flag: bool,
    /// The restrictions; `None` is `delivery_not_restricted_flag` = 1.
    #[serde(flatten)]
    pub delivery_restrictions: Option<DeliveryRestrictions>,
    /// Components (`program_segmentation_flag` = 0).
    pub components: Vec<SegmentationComponent>,
    /// `segmentation_duration` (40 bits; `segmentation_duration_flag`).
    pub segmentation_duration: Option<Duration90k>,
    /// `segmentation_upid_type`.
    pub segmentation_upid_type: u8,
    /// `segmentation_upid()`.
    pub segmentation_upid: Upid,
    /// `segmentation_type_id` (Table 22).
    pub segmentation_type_id: u8,
    /// `segment_num`.
    pub segment_num: u8,
    /// `segments_expected`.
    pub segments_expected: u8,
    /// `sub_segment_num` (placement opportunity starts 0x34, 0x36, 0x38, 0x3A; optional
    /// in practice: older encoders end the descriptor before it).
    pub sub_segment_num: Option<u8>,
    /// `sub_segments_expected` (with `sub_segment_num`).
    pub sub_segments_expected: Option<u8>,
}

impl Default for SegmentationDescriptor {
    fn default() -> Self {
        Self {
            segmentation_event_id: 0,
            segmentation_event_cancel_indicator: false,
            segmentation_event_id_compliance_indicator: true,
            program_segmentation_flag: true,
            delivery_restrictions: None,
            components: Vec::new(),
            segmentation_duration: None,
            segmentation_upid_type: upid_type::NOT_USED,
            segmentation_upid: Upid::None,
            segmentation_type_id: 0,
            segment_num: 0,
            segments_expected: 0,
            sub_segment_num: None,
            sub_segments_expected: None,
        }
    }
}

impl SegmentationDescriptor {
    /// `delivery_not_restricted_flag`.
    pub fn delivery_not_restricted_flag(&self) -> bool {
        self.delivery_restrictions.is_none()
    }

    /// Whether `segmentation_type_id` carries sub-segment fields (§10.3.3.1).
    pub fn has_sub_segments(segmentation_type_id: u8) -> bool {
        matches!(segmentation_type_id, 0x34 | 0x36 | 0x38 | 0x3A)
    }

    /// Table 22's name for `segmentation_type_id`.
    pub fn type_name(segmentation_type_id: u8) -> &'static str {
        match segmentation_type_id {
            0x00 => "Not Indicated",
            0x01 => "Content Identification",
            0x02 => "Private",
            0x10 => "Program Start",
            0x11 => "Program End",
            0x12 => "Program Early Termination",
            0x13 => "Program Breakaway",
            0x14 => "Program Resumption",
            0x15 => "Program Runover Planned",
            0x16 => "Program Runover Unplanned",
            0x17 => "Program Overlap Start",
            0x18 => "Program Blackout Override",
            0x19 => "Program Start - In Progress",
            0x20 => "Chapter Start",
            0x21 => "Chapter End",
            0x22 => "Break Start",
            0x23 => "Break End",
            0x24 => "Opening Credit Start",
            0x25 => "Opening Credit End",
            0x26 => "Closing Credit Start",
            0x27 => "Closing Credit End",
            0x30 => "Provider Advertisement Start",
            0x31 => "Provider Advertisement End",
            0x32 => "Distributor Advertisement Start",
            0x33 => "Distributor Advertisement End",
            0x34 => "Provider Placement Opportunity Start",
            0x35 => "Provider Placement Opportunity End",
            0x36 => "Distributor Placement Opportunity Start",
            0x37 => "Distributor Placement Opportunity End",
            0x38 => "Provider Overlay Placement Opportunity Start",
            0x39 => "Provider Overlay Placement Opportunity End",
            0x3A => "Distributor Overlay Placement Opportunity Start",
            0x3B => "Distributor Overlay Placement Opportunity End",
            0x3C => "Provider Promo Start",
            0x3D => "Provider Promo End",
            0x3E => "Distributor Promo Start",
            0x3F => "Distributor Promo End",
            0x40 => "Unscheduled Event Start",
            0x41 => "Unscheduled Event End",
            0x42 => "Alternate Content Opportunity Start",
            0x43 => "Alternate Content Opportunity End",
            0x44 => "Provider Ad Block Start",
            0x45 => "Provider Ad Block End",
            0x46 => "Distributor Ad Block Start",
            0x47 => "Distributor Ad Block End",
            0x50 => "Network Start",
            0x51 => "Network End",
            _ => "Reserved",
        }
    }
}

/// The restriction flags of a segmentation descriptor whose
/// `delivery_not_restricted_flag` is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryRestrictions {
    /// `web_delivery_allowed_flag`.
    pub web_delivery_allowed_flag: bool,
    /// `no_regional_blackout_flag`.
    pub no_regional_blackout_flag: bool,
    /// `archive_allowed_flag`.
    pub archive_allowed_flag: bool,
    /// `device_restrictions` (2 bits).
    pub device_restrictions: u8,
}

/// One component of a component segmentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentationComponent {
    /// `component_tag`.
    pub component_tag: u8,
    /// `pts_offset` (33 bits).
    pub pts_offset: Pts90k,
}

/// One UPID inside an MID (type 0x0D).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentationUpid {
    /// `segmentation_upid_type`.
    pub segmentation_upid_type: u8,
    /// The value.
    pub segmentation_upid: Upid,
}

/// A `segmentation_upid()` value; how its bytes read depends on its
/// `segmentation_upid_type` (kept beside it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "format", content = "value", rename_all = "snake_case")]
pub enum Upid {
    /// No UPID (length 0).
    None,
    /// A textual UPID (user defined, ISCI, Ad-ID, TID, ADI, ADS information, URI,
    /// SCR) whose bytes are UTF-8.
    Text(String),
    /// Binary UPIDs (UMID, ISAN, TI, EIDR, UUID, ...) and textual ones that are not
    /// UTF-8.
    Bytes(Bytes),
    /// MPU (0x0C): `format_identifier` and `private_data`.
    Mpu {
        /// `format_identifier` (a registered 32-bit identifier, usually 4 ASCII letters).
        format_identifier: u32,
        /// `private_data`.
        private_data: Bytes,
    },
    /// MID (0x0D): several UPIDs.
    Mid(Vec<SegmentationUpid>),
    /// ATSC Content Identifier (0x0B).
    Atsc {
        /// `TSID`.
        tsid: u16,
        /// `end_of_day` (5 bits).
        end_of_day: u8,
        /// `unique_for` (9 bits).
        unique_for: u16,
        /// `content_id`.
        content_id: Bytes,
    },
}

/// UPID types whose value is text.
fn is_text_type(t: u8) -> bool {
    matches!(
        t,
        upid_type::USER_DEFINED
            | upid_type::ISCI
            | upid_type::AD_ID
            | upid_type::TID
            | upid_type::ADI
            | upid_type::ADS_INFO
            | upid_type::URI
            | upid_type::SCR
    )
}

impl Upid {
    /// Read a UPID of type `t` from its bytes. Never fails: what does not parse as its
    /// type is kept as bytes (an MID whose inner lengths overrun is kept as bytes).
    pub fn from_bytes(t: u8, b: &[u8]) -> Upid {
        if b.is_empty() {
            return Upid::None;
        }
        match t {
            _ if is_text_type(t) => match std::str::from_utf8(b) {
                Ok(s) => Upid::Text(s.to_string()),
                Err(_) => Upid::Bytes(Bytes::from(b)),
            },
            upid_type::MPU if b.len() >= 4 => Upid::Mpu {
                format_identifier: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                private_data: Bytes::from(&b[4..]),
            },
            upid_type::ATSC if b.len() >= 4 => Upid::Atsc {
                tsid: u16::from_be_bytes([b[0], b[1]]),
                end_of_day: (b[2] >> 1) & 0x1F,
                unique_for: (u16::from(b[2] & 1) << 8) | u16::from(b[3]),
                content_id: Bytes::from(&b[4..]),
            },
            upid_type::MID => {
                let mut list = Vec::new();
                let mut rest = b;
                while !rest.is_empty() {
                    let (Some(&inner), Some(&len)) = (rest.first(), rest.get(1)) else {
                        return Upid::Bytes(Bytes::from(b));
                    };
                    let Some(value) = rest.get(2..2 + usize::from(len)) else {
                        return Upid::Bytes(Bytes::from(b));
                    };
                    list.push(SegmentationUpid {
                        segmentation_upid_type: inner,
                        segmentation_upid: Upid::from_bytes(inner, value),
                    });
                    rest = &rest[2 + usize::from(len)..];
                }
                Upid::Mid(list)
            }
            _ => Upid::Bytes(Bytes::from(b)),
        }
    }

    /// The UPID's bytes (the inverse of [`Upid::from_bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Upid::None => Vec::new(),
            Upid::Text(s) => s.as_bytes().to_vec(),
            Upid::Bytes(b) => b.0.clone(),
            Upid::Mpu {
                format_identifier,
                private_data,
            } => {
                let mut v = format_identifier.to_be_bytes().to_vec();
                v.extend_from_slice(&private_data.0);
                v
            }
            Upid::Atsc {
                tsid,
                end_of_day,
                unique_for,
                content_id,
            } => {
                let mut v = tsid.to_be_bytes().to_vec();
                // 2 reserved bits (ones), end_of_day 5, unique_for 9.
                v.push(0xC0 | ((end_of_day & 0x1F) << 1) | ((unique_for >> 8) as u8 & 1));
                v.push(*unique_for as u8);
                v.extend_from_slice(&content_id.0);
                v
            }
            Upid::Mid(list) => {
                let mut v = Vec::new();
                for u in list {
                    let b = u.segmentation_upid.to_bytes();
                    v.push(u.segmentation_upid_type);
                    v.push(b.len() as u8);
                    v.extend_from_slice(&b);
                }
                v
            }
        }
    }

    /// The UPID as text for people and ADS variables: text as is, MPU as its private
    /// data (text when printable), MID as its UPIDs joined by `,`, UUIDs and EIDRs in
    /// their usual forms, other bytes as `0x` hex.
    pub fn display(&self, t: u8) -> String {
        match self {
            Upid::None => String::new(),
            Upid::Text(s) => s.clone(),
            Upid::Mpu { private_data, .. } => printable(&private_data.0),
            Upid::Mid(list) => list
                .iter()
                .map(|u| u.segmentation_upid.display(u.segmentation_upid_type))
                .collect::<Vec<_>>()
                .join(","),
            Upid::Atsc { content_id, .. } => printable(&content_id.0),
            Upid::Bytes(b) => match t {
                upid_type::UUID if b.0.len() == 16 => uuid(&b.0),
                upid_type::EIDR if b.0.len() == 12 => eidr(&b.0),
                _ => b.to_hex(),
            },
        }
    }

    /// Table 21's name for `segmentation_upid_type`.
    pub fn type_name(t: u8) -> &'static str {
        match t {
            upid_type::NOT_USED => "Not Used",
            upid_type::USER_DEFINED => "User Defined",
            upid_type::ISCI => "ISCI",
            upid_type::AD_ID => "Ad-ID",
            upid_type::UMID => "UMID",
            upid_type::ISAN_DEPRECATED => "ISAN (deprecated)",
            upid_type::ISAN => "ISAN",
            upid_type::TID => "TID",
            upid_type::TI => "TI",
            upid_type::ADI => "ADI",
            upid_type::EIDR => "EIDR",
            upid_type::ATSC => "ATSC Content Identifier",
            upid_type::MPU => "MPU",
            upid_type::MID => "MID",
            upid_type::ADS_INFO => "ADS Information",
            upid_type::URI => "URI",
            upid_type::UUID => "UUID",
            upid_type::SCR => "SCR",
            _ => "Reserved",
        }
    }
}

/// Text when every byte is printable ASCII, else `0x` hex.
pub fn printable(b: &[u8]) -> String {
    if !b.is_empty() && b.iter().all(|c| (0x20..0x7F).contains(c)) {
        b.iter().map(|&c| c as char).collect()
    } else {
        super::text::to_hex(b)
    }
}

fn uuid(b: &[u8]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// EIDR (§10.3.3.2 note): a 16-bit DOI prefix suffix and an 80-bit suffix, written
/// `10.<prefix>/XXXX-XXXX-XXXX-XXXX-XXXX-C` with its ISO 7064 Mod 37,36 check character.
fn eidr(b: &[u8]) -> String {
    let prefix = u16::from_be_bytes([b[0], b[1]]);
    let hex: String = b[2..].iter().map(|x| format!("{x:02X}")).collect();
    let groups: Vec<&str> = (0..5).map(|i| &hex[i * 4..i * 4 + 4]).collect();
    let check = mod37_36(&hex);
    format!("10.{prefix}/{}-{check}", groups.join("-"))
}

fn mod37_36(s: &str) -> char {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut p: u32 = 36;
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap_or(0) as u32;
        let mut s = (p % 37 + v) % 36;
        if s == 0 {
            s = 36;
        }
        p = (s * 2) % 37;
    }
    let check = (37 - p % 37) % 36;
    ALPHABET[check as usize] as char
}

// === decoding ===

/// Decode one descriptor at the reader's position (tag, length, body).
pub(crate) fn decode_descriptor(r: &mut BitReader<'_>) -> Result<SpliceDescriptor, DecodeError> {
    let splice_descriptor_tag = r.u8("splice_descriptor_tag")?;
    let descriptor_length = r.u8("descriptor_length")?;
    let mut d = r.sub(
        usize::from(descriptor_length),
        "splice_descriptor (descriptor_length)",
    )?;
    let identifier = d.u32("descriptor identifier")?;
    if identifier != CUEI || splice_descriptor_tag > tag::AUDIO {
        return Ok(SpliceDescriptor::Private(PrivateDescriptor {
            splice_descriptor_tag,
            identifier,
            private_bytes: Bytes::from(d.rest()),
        }));
    }
    Ok(match splice_descriptor_tag {
        tag::AVAIL => SpliceDescriptor::Avail(AvailDescriptor {
            provider_avail_id: d.u32("provider_avail_id")?,
        }),
        tag::DTMF => {
            let preroll = d.u8("preroll")?;
            let count = d.bits(3, "dtmf_count")? as usize;
            d.skip(5, "DTMF_descriptor reserved")?;
            let chars = d.bytes(count, "DTMF_char")?;
            SpliceDescriptor::Dtmf(DtmfDescriptor {
                preroll,
                dtmf_chars: chars.iter().map(|&c| c as char).collect(),
            })
        }
        tag::SEGMENTATION => SpliceDescriptor::Segmentation(decode_segmentation(&mut d)?),
        tag::TIME => SpliceDescriptor::Time(TimeDescriptor {
            tai_seconds: d.bits(48, "TAI_seconds")?,
            tai_ns: d.u32("TAI_ns")?,
            utc_offset: d.u16("UTC_offset")?,
        }),
        _ => {
            let count = d.bits(4, "audio_count")?;
            d.skip(4, "audio_descriptor reserved")?;
            let mut components = Vec::new();
            for _ in 0..count {
                components.push(AudioComponent {
                    component_tag: d.u8("component_tag")?,
                    iso_code: Bytes::from(d.bytes(3, "ISO_code")?),
                    bit_stream_mode: d.bits(3, "Bit_Stream_Mode")? as u8,
                    num_channels: d.bits(4, "Num_Channels")? as u8,
                    full_srvc_audio: d.flag("Full_Srvc_Audio")?,
                });
            }
            SpliceDescriptor::Audio(AudioDescriptor { components })
        }
    })
}

fn decode_segmentation(d: &mut BitReader<'_>) -> Result<SegmentationDescriptor, DecodeError> {
    let mut s = SegmentationDescriptor {
        segmentation_event_id: d.u32("segmentation_event_id")?,
        segmentation_event_cancel_indicator: d.flag("segmentation_event_cancel_indicator")?,
        segmentation_event_id_compliance_indicator: d
            .flag("segmentation_event_id_compliance_indicator")?,
        ..SegmentationDescriptor::default()
    };
    d.skip(6, "segmentation_descriptor reserved")?;
    if s.segmentation_event_cancel_indicator {
        return Ok(s);
    }
    s.program_segmentation_flag = d.flag("program_segmentation_flag")?;
    let duration_flag = d.flag("segmentation_duration_flag")?;
    let not_restricted = d.flag("delivery_not_restricted_flag")?;
    if not_restricted {
        d.skip(5, "segmentation_descriptor reserved")?;
    } else {
        s.delivery_restrictions = Some(DeliveryRestrictions {
            web_delivery_allowed_flag: d.flag("web_delivery_allowed_flag")?,
            no_regional_blackout_flag: d.flag("no_regional_blackout_flag")?,
            archive_allowed_flag: d.flag("archive_allowed_flag")?,
            device_restrictions: d.bits(2, "device_restrictions")? as u8,
        });
    }
    if !s.program_segmentation_flag {
        let count = d.u8("component_count")?;
        for _ in 0..count {
            let component_tag = d.u8("component_tag")?;
            d.skip(7, "component reserved")?;
            s.components.push(SegmentationComponent {
                component_tag,
                pts_offset: Pts90k(d.bits(33, "pts_offset")?),
            });
        }
    }
    if duration_flag {
        s.segmentation_duration = Some(Duration90k(d.bits(40, "segmentation_duration")?));
    }
    s.segmentation_upid_type = d.u8("segmentation_upid_type")?;
    let len = d.u8("segmentation_upid_length")?;
    let upid = d.bytes(usize::from(len), "segmentation_upid")?;
    s.segmentation_upid = Upid::from_bytes(s.segmentation_upid_type, upid);
    s.segmentation_type_id = d.u8("segmentation_type_id")?;
    s.segment_num = d.u8("segment_num")?;
    s.segments_expected = d.u8("segments_expected")?;
    if SegmentationDescriptor::has_sub_segments(s.segmentation_type_id) && d.bytes_left() >= 2 {
        s.sub_segment_num = Some(d.u8("sub_segment_num")?);
        s.sub_segments_expected = Some(d.u8("sub_segments_expected")?);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upids_round_trip_through_bytes() {
        for (t, b) in [
            (upid_type::ADI, b"SIGNAL:3.050".to_vec()),
            (upid_type::MPU, b"MDSNB0011322193_N".to_vec()),
            (upid_type::TI, vec![0, 0, 0, 0, 0x2c, 0xa0, 0xa1, 0x8a]),
            (
                upid_type::ATSC,
                vec![0x12, 0x34, 0xC0 | (3 << 1) | 1, 0x05, b'x'],
            ),
            (
                upid_type::MID,
                vec![0x09, 0x02, b'P', b'O', 0x0C, 0x04, b'A', b'B', b'C', b'D'],
            ),
            (upid_type::ADI, vec![0xFF, 0xFE]),
        ] {
            let u = Upid::from_bytes(t, &b);
            assert_eq!(u.to_bytes(), b, "{u:?}");
        }
        // An MID whose inner length overruns stays bytes.
        assert!(matches!(
            Upid::from_bytes(upid_type::MID, &[0x09, 0x05, b'x']),
            Upid::Bytes(_)
        ));
    }

    #[test]
    fn displays_identifiers_in_their_usual_forms() {
        let uuid_bytes: Vec<u8> = (0..16).collect();
        assert_eq!(
            Upid::from_bytes(upid_type::UUID, &uuid_bytes).display(upid_type::UUID),
            "00010203-0405-0607-0809-0a0b0c0d0e0f"
        );
        // 10.5240/7791-8534-2C23-9030-8610-5 (an EIDR from the EIDR documentation).
        let eidr_bytes = [
            0x14, 0x78, 0x77, 0x91, 0x85, 0x34, 0x2C, 0x23, 0x90, 0x30, 0x86, 0x10,
        ];
        assert_eq!(
            Upid::from_bytes(upid_type::EIDR, &eidr_bytes).display(upid_type::EIDR),
            "10.5240/7791-8534-2C23-9030-8610-5"
        );
        assert_eq!(
            Upid::from_bytes(upid_type::TI, &[0x2c, 0xa0]).display(upid_type::TI),
            "0x2ca0"
        );
    }
}
