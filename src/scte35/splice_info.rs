//! The `splice_info_section` (SCTE 35 §9.6) and its splice commands (§9.7).
//!
//! Pure. Field names are the standard's; flags that only say whether an optional
//! field follows (`duration_flag`, `time_specified_flag`, ...) are the `Option` of
//! that field rather than a separate `bool`, so a model can never contradict itself.

use serde::Serialize;

use super::crc::crc32_mpeg2;
use super::descriptors::{self, SpliceDescriptor};
use super::reader::BitReader;
use super::{Bytes, DecodeError, DecodeOptions, Duration90k, Pts90k, TABLE_ID};

/// `splice_command_length` value of encoders that did not compute it (§9.6.1: legacy).
pub const LEGACY_COMMAND_LENGTH: u16 = 0xFFF;

/// `splice_command_type` values (Table 7).
pub mod command_type {
    /// `splice_null()`
    pub const SPLICE_NULL: u8 = 0x00;
    /// `splice_schedule()`
    pub const SPLICE_SCHEDULE: u8 = 0x04;
    /// `splice_insert()`
    pub const SPLICE_INSERT: u8 = 0x05;
    /// `time_signal()`
    pub const TIME_SIGNAL: u8 = 0x06;
    /// `bandwidth_reservation()`
    pub const BANDWIDTH_RESERVATION: u8 = 0x07;
    /// `private_command()`
    pub const PRIVATE_COMMAND: u8 = 0xFF;
}

/// A decoded `splice_info_section()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpliceInfoSection {
    /// `table_id`: always `0xFC`.
    pub table_id: u8,
    /// `section_syntax_indicator` (0 for this table).
    pub section_syntax_indicator: bool,
    /// `private_indicator` (0 for this table).
    pub private_indicator: bool,
    /// `sap_type` (2 bits; 3 = not specified).
    pub sap_type: u8,
    /// `section_length` (12 bits): bytes after this field, `CRC_32` included.
    pub section_length: u16,
    /// `protocol_version` (0).
    pub protocol_version: u8,
    /// `encrypted_packet`: the command and descriptors are encrypted (reported, not
    /// decoded: [`SpliceInfoSection::encrypted_payload`] holds them).
    pub encrypted_packet: bool,
    /// `encryption_algorithm` (6 bits, Table 26).
    pub encryption_algorithm: u8,
    /// `pts_adjustment` (33 bits): added to every `pts_time` of the section.
    pub pts_adjustment: Pts90k,
    /// `cw_index`: the control word of an encrypted section.
    pub cw_index: u8,
    /// `tier` (12 bits; 0xFFF = all tiers).
    pub tier: u16,
    /// `splice_command_length` (12 bits) as carried; 0xFFF in legacy sections.
    pub splice_command_length: u16,
    /// `splice_command_type` (`None` when encrypted).
    pub splice_command_type: Option<u8>,
    /// The splice command (`None` when encrypted).
    pub splice_command: Option<SpliceCommand>,
    /// `descriptor_loop_length` (0 when encrypted).
    pub descriptor_loop_length: u16,
    /// `splice_descriptor()`s, in order.
    pub splice_descriptors: Vec<SpliceDescriptor>,
    /// `alignment_stuffing` bytes between the descriptors and the CRC.
    pub alignment_stuffing: Bytes,
    /// When `encrypted_packet`: the encrypted bytes, `splice_command_type` through
    /// `E_CRC_32`.
    pub encrypted_payload: Option<Bytes>,
    /// `CRC_32` as carried.
    pub crc_32: u32,
    /// What the decoder forgave to read this section (empty for a consistent one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<DecodeWarning>,
}

/// A lie in a section that the decoder forgave because the rest of it is
/// consistent (see [`decode_section`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum DecodeWarning {
    /// `splice_command_length` disagrees with the size of a fixed-size command; the
    /// command was decoded by its type, and the descriptor loop and `CRC_32` agree.
    CommandLength {
        /// `splice_command_type`.
        splice_command_type: u8,
        /// `splice_command_length` as carried.
        carried: u16,
        /// The command's own size in bytes.
        actual: u16,
    },
}

impl std::fmt::Display for DecodeWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeWarning::CommandLength {
                splice_command_type,
                carried,
                actual,
            } => write!(
                f,
                "splice_command_length {carried} disagrees with the {actual} bytes of command \
                 type {splice_command_type:#04x}; decoded by type"
            ),
        }
    }
}

impl SpliceInfoSection {
    /// The splice time of the command (`splice_insert` program splice or
    /// `time_signal`), `pts_adjustment` applied; `None` for immediate or unspecified.
    pub fn pts_time(&self) -> Option<Pts90k> {
        let t = match self.splice_command.as_ref()? {
            SpliceCommand::TimeSignal(ts) => ts.splice_time.pts_time,
            SpliceCommand::SpliceInsert(si) => si.splice_time.and_then(|t| t.pts_time),
            _ => None,
        }?;
        Some(t.adjusted(self.pts_adjustment))
    }

    /// The segmentation descriptors, in order.
    pub fn segmentation_descriptors(
        &self,
    ) -> impl Iterator<Item = &descriptors::SegmentationDescriptor> {
        self.splice_descriptors.iter().filter_map(|d| match d {
            SpliceDescriptor::Segmentation(s) => Some(s),
            _ => None,
        })
    }
}

/// A splice command (§9.7).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum SpliceCommand {
    /// `splice_null()` (0x00): a heartbeat, or a carrier for descriptors.
    SpliceNull,
    /// `splice_schedule()` (0x04).
    SpliceSchedule(SpliceSchedule),
    /// `splice_insert()` (0x05).
    SpliceInsert(SpliceInsert),
    /// `time_signal()` (0x06).
    TimeSignal(TimeSignal),
    /// `bandwidth_reservation()` (0x07).
    BandwidthReservation,
    /// `private_command()` (0xFF).
    PrivateCommand(PrivateCommand),
    /// A reserved command type, kept as bytes.
    Reserved {
        /// `splice_command_type`.
        splice_command_type: u8,
        /// The command's bytes.
        bytes: Bytes,
    },
}

impl SpliceCommand {
    /// `splice_command_type` of this command.
    pub fn command_type(&self) -> u8 {
        match self {
            SpliceCommand::SpliceNull => command_type::SPLICE_NULL,
            SpliceCommand::SpliceSchedule(_) => command_type::SPLICE_SCHEDULE,
            SpliceCommand::SpliceInsert(_) => command_type::SPLICE_INSERT,
            SpliceCommand::TimeSignal(_) => command_type::TIME_SIGNAL,
            SpliceCommand::BandwidthReservation => command_type::BANDWIDTH_RESERVATION,
            SpliceCommand::PrivateCommand(_) => command_type::PRIVATE_COMMAND,
            SpliceCommand::Reserved {
                splice_command_type,
                ..
            } => *splice_command_type,
        }
    }

    /// The standard's name for this command (`splice_insert`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            SpliceCommand::SpliceNull => "splice_null",
            SpliceCommand::SpliceSchedule(_) => "splice_schedule",
            SpliceCommand::SpliceInsert(_) => "splice_insert",
            SpliceCommand::TimeSignal(_) => "time_signal",
            SpliceCommand::BandwidthReservation => "bandwidth_reservation",
            SpliceCommand::PrivateCommand(_) => "private_command",
            SpliceCommand::Reserved { .. } => "reserved",
        }
    }
}

/// `splice_time()` (§9.8.1). `time_specified_flag` is `pts_time.is_some()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SpliceTime {
    /// `pts_time` (33 bits), before `pts_adjustment`.
    pub pts_time: Option<Pts90k>,
}

/// `break_duration()` (§9.8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BreakDuration {
    /// `auto_return`: the splicer returns to the network at the end of the break.
    pub auto_return: bool,
    /// `duration` (33 bits).
    pub duration: Duration90k,
}

/// `splice_insert()` (§9.7.3). When `splice_event_cancel_indicator` is set nothing
/// after it is carried, and the other fields hold their defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpliceInsert {
    /// `splice_event_id`.
    pub splice_event_id: u32,
    /// `splice_event_cancel_indicator`.
    pub splice_event_cancel_indicator: bool,
    /// `event_id_compliance_flag` (formerly reserved).
    pub event_id_compliance_flag: bool,
    /// `out_of_network_indicator`: 1 leaves the network (a break starts).
    pub out_of_network_indicator: bool,
    /// `program_splice_flag`: the whole program splices at once.
    pub program_splice_flag: bool,
    /// `splice_immediate_flag`.
    pub splice_immediate_flag: bool,
    /// `splice_time()`: present for a program splice that is not immediate.
    pub splice_time: Option<SpliceTime>,
    /// Component splices (`program_splice_flag` = 0).
    pub components: Vec<SpliceInsertComponent>,
    /// `break_duration()` (`duration_flag`).
    pub break_duration: Option<BreakDuration>,
    /// `unique_program_id`.
    pub unique_program_id: u16,
    /// `avail_num`.
    pub avail_num: u8,
    /// `avails_expected`.
    pub avails_expected: u8,
}

/// One component of a component splice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpliceInsertComponent {
    /// `component_tag`.
    pub component_tag: u8,
    /// `splice_time()`: present unless `splice_immediate_flag`.
    pub splice_time: Option<SpliceTime>,
}

/// `time_signal()` (§9.7.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TimeSignal {
    /// `splice_time()`.
    pub splice_time: SpliceTime,
}

/// `splice_schedule()` (§9.7.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpliceSchedule {
    /// The events (`splice_count` of them).
    pub events: Vec<ScheduleEvent>,
}

/// One event of a `splice_schedule()`. When `splice_event_cancel_indicator` is set
/// nothing after it is carried, and the other fields hold their defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScheduleEvent {
    /// `splice_event_id`.
    pub splice_event_id: u32,
    /// `splice_event_cancel_indicator`.
    pub splice_event_cancel_indicator: bool,
    /// `event_id_compliance_flag`.
    pub event_id_compliance_flag: bool,
    /// `out_of_network_indicator`.
    pub out_of_network_indicator: bool,
    /// `program_splice_flag`.
    pub program_splice_flag: bool,
    /// `utc_splice_time` (GPS seconds) of a program splice.
    pub utc_splice_time: Option<u32>,
    /// Component splices.
    pub components: Vec<ScheduleComponent>,
    /// `break_duration()` (`duration_flag`).
    pub break_duration: Option<BreakDuration>,
    /// `unique_program_id`.
    pub unique_program_id: u16,
    /// `avail_num`.
    pub avail_num: u8,
    /// `avails_expected`.
    pub avails_expected: u8,
}

/// One component of a scheduled component splice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleComponent {
    /// `component_tag`.
    pub component_tag: u8,
    /// `utc_splice_time`.
    pub utc_splice_time: u32,
}

/// `private_command()` (§9.7.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivateCommand {
    /// `identifier` (a registered format identifier).
    pub identifier: u32,
    /// `private_byte`s.
    pub private_bytes: Bytes,
}

// === decoding ===

/// Bytes of the fixed header from `table_id` through `splice_command_length`.
const HEADER_LEN: usize = 13;

/// Decode a section from bytes. See [`DecodeOptions`] for what is tolerated.
pub fn decode_section(
    bytes: &[u8],
    opts: &DecodeOptions,
) -> Result<SpliceInfoSection, DecodeError> {
    // An MPEG-TS payload starts with a pointer_field; a 0 one precedes the table_id.
    let bytes = match bytes {
        [0x00, TABLE_ID, ..] => &bytes[1..],
        _ => bytes,
    };
    let Some(&table_id) = bytes.first() else {
        return Err(DecodeError::MissingData("table_id"));
    };
    if table_id != TABLE_ID {
        return Err(DecodeError::TableId(table_id));
    }
    let mut head = BitReader::new(bytes);
    head.skip(8, "table_id")?;
    let section_syntax_indicator = head.flag("section_syntax_indicator")?;
    let private_indicator = head.flag("private_indicator")?;
    let sap_type = head.bits(2, "sap_type")? as u8;
    let section_length = head.bits(12, "section_length")? as u16;
    let total = 3 + usize::from(section_length);
    let section = match bytes.get(..total) {
        Some(s) => s,
        None if opts.lenient_crc => bytes,
        None => {
            return Err(DecodeError::MissingData(
                "splice_info_section (section_length)",
            ))
        }
    };
    // The fixed header and the CRC_32 at the least (an encrypted section may stop
    // there); the reader reports anything shorter than the syntax needs.
    if section.len() < HEADER_LEN + 4 {
        return Err(DecodeError::MissingData("splice_info_section"));
    }
    let (body, crc) = section.split_at(section.len() - 4);
    let crc_32 = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if !opts.lenient_crc {
        let computed = crc32_mpeg2(body);
        if computed != crc_32 {
            return Err(DecodeError::Crc {
                carried: crc_32,
                computed,
            });
        }
    }

    let mut r = BitReader::new(&body[3..]);
    let protocol_version = r.u8("protocol_version")?;
    let encrypted_packet = r.flag("encrypted_packet")?;
    let encryption_algorithm = r.bits(6, "encryption_algorithm")? as u8;
    let pts_adjustment = Pts90k(r.bits(33, "pts_adjustment")?);
    let cw_index = r.u8("cw_index")?;
    let tier = r.bits(12, "tier")? as u16;
    let splice_command_length = r.bits(12, "splice_command_length")? as u16;

    let mut out = SpliceInfoSection {
        table_id,
        section_syntax_indicator,
        private_indicator,
        sap_type,
        section_length,
        protocol_version,
        encrypted_packet,
        encryption_algorithm,
        pts_adjustment,
        cw_index,
        tier,
        splice_command_length,
        splice_command_type: None,
        splice_command: None,
        descriptor_loop_length: 0,
        splice_descriptors: Vec::new(),
        alignment_stuffing: Bytes::default(),
        encrypted_payload: None,
        crc_32,
        warnings: Vec::new(),
    };
    if encrypted_packet {
        out.encrypted_payload = Some(Bytes(r.rest().to_vec()));
        return Ok(out);
    }

    let splice_command_type = r.u8("splice_command_type")?;
    out.splice_command_type = Some(splice_command_type);
    let after_type = r.clone();
    match decode_rest(&mut out, splice_command_type, r) {
        Ok(()) => Ok(out),
        // Production encoders write a wrong `splice_command_length` for commands whose
        // size their type fixes (a `splice_null` with length 5). Such a section is read
        // by type, but only when everything else agrees: the descriptor loop ends
        // exactly at the `CRC_32`, and the `CRC_32` is right (checked here even when
        // lenient: only the length's lie is forgiven, never two at once).
        Err(e) if splice_command_length != LEGACY_COMMAND_LENGTH => {
            let crc_ok = opts.lenient_crc.then(|| crc32_mpeg2(body) == crc_32);
            if crc_ok == Some(false) {
                return Err(e);
            }
            match decode_by_type(&mut out, splice_command_type, after_type) {
                Some(actual) if actual != splice_command_length => {
                    out.warnings.push(DecodeWarning::CommandLength {
                        splice_command_type,
                        carried: splice_command_length,
                        actual,
                    });
                    Ok(out)
                }
                _ => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// The command (by `splice_command_length`), the descriptor loop and the stuffing.
fn decode_rest(
    out: &mut SpliceInfoSection,
    splice_command_type: u8,
    mut r: BitReader<'_>,
) -> Result<(), DecodeError> {
    let splice_command = if out.splice_command_length == LEGACY_COMMAND_LENGTH {
        // Legacy: the length is not given; the command's own syntax ends it.
        decode_command(splice_command_type, &mut r, None)?
    } else {
        let len = usize::from(out.splice_command_length);
        let mut cr = r.sub(len, "splice_command")?;
        decode_command(splice_command_type, &mut cr, Some(len))?
    };
    out.splice_command = Some(splice_command);
    decode_descriptor_loop(out, &mut r)?;
    out.alignment_stuffing = Bytes(r.rest().to_vec());
    Ok(())
}

fn decode_descriptor_loop(
    out: &mut SpliceInfoSection,
    r: &mut BitReader<'_>,
) -> Result<(), DecodeError> {
    out.descriptor_loop_length = r.u16("descriptor_loop_length")?;
    let mut dr = r.sub(
        usize::from(out.descriptor_loop_length),
        "descriptor loop (descriptor_loop_length)",
    )?;
    out.splice_descriptors.clear();
    while dr.bytes_left() > 0 {
        out.splice_descriptors
            .push(descriptors::decode_descriptor(&mut dr)?);
    }
    Ok(())
}

/// A fixed-size command read by its type, then a descriptor loop that must end
/// exactly where the section does. The command's size, or `None` when the type has
/// no fixed size or the rest does not fit.
fn decode_by_type(
    out: &mut SpliceInfoSection,
    splice_command_type: u8,
    mut r: BitReader<'_>,
) -> Option<u16> {
    if !matches!(
        splice_command_type,
        command_type::SPLICE_NULL | command_type::TIME_SIGNAL | command_type::BANDWIDTH_RESERVATION
    ) {
        return None;
    }
    let before = r.bytes_left();
    let command = decode_command(splice_command_type, &mut r, None).ok()?;
    let actual = u16::try_from(before - r.bytes_left()).ok()?;
    decode_descriptor_loop(out, &mut r).ok()?;
    if r.bytes_left() != 0 {
        return None;
    }
    out.splice_command = Some(command);
    out.alignment_stuffing = Bytes::default();
    Some(actual)
}

/// Decode a command body. `len` is the `splice_command_length` (`None`: legacy 0xFFF,
/// the reader then runs to the end of the section).
fn decode_command(
    kind: u8,
    r: &mut BitReader<'_>,
    len: Option<usize>,
) -> Result<SpliceCommand, DecodeError> {
    Ok(match kind {
        command_type::SPLICE_NULL => SpliceCommand::SpliceNull,
        command_type::SPLICE_SCHEDULE => SpliceCommand::SpliceSchedule(decode_schedule(r)?),
        command_type::SPLICE_INSERT => SpliceCommand::SpliceInsert(decode_insert(r)?),
        command_type::TIME_SIGNAL => SpliceCommand::TimeSignal(TimeSignal {
            splice_time: decode_splice_time(r)?,
        }),
        command_type::BANDWIDTH_RESERVATION => SpliceCommand::BandwidthReservation,
        command_type::PRIVATE_COMMAND => {
            let len = len.ok_or(DecodeError::Invalid(
                "splice_command_length: 0xFFF with a private_command",
            ))?;
            let identifier = r.u32("private_command identifier")?;
            let private_bytes = r.bytes(len.saturating_sub(4), "private_byte")?;
            SpliceCommand::PrivateCommand(PrivateCommand {
                identifier,
                private_bytes: Bytes::from(private_bytes),
            })
        }
        other => {
            let len = len.ok_or(DecodeError::Invalid(
                "splice_command_length: 0xFFF with a reserved command",
            ))?;
            SpliceCommand::Reserved {
                splice_command_type: other,
                bytes: Bytes::from(r.bytes(len, "splice_command")?),
            }
        }
    })
}

pub(crate) fn decode_splice_time(r: &mut BitReader<'_>) -> Result<SpliceTime, DecodeError> {
    let time_specified_flag = r.flag("time_specified_flag")?;
    if time_specified_flag {
        r.skip(6, "splice_time reserved")?;
        Ok(SpliceTime {
            pts_time: Some(Pts90k(r.bits(33, "pts_time")?)),
        })
    } else {
        r.skip(7, "splice_time reserved")?;
        Ok(SpliceTime { pts_time: None })
    }
}

fn decode_break_duration(r: &mut BitReader<'_>) -> Result<BreakDuration, DecodeError> {
    let auto_return = r.flag("auto_return")?;
    r.skip(6, "break_duration reserved")?;
    let duration = Duration90k(r.bits(33, "break_duration")?);
    Ok(BreakDuration {
        auto_return,
        duration,
    })
}

fn decode_insert(r: &mut BitReader<'_>) -> Result<SpliceInsert, DecodeError> {
    let mut si = SpliceInsert {
        splice_event_id: r.u32("splice_event_id")?,
        splice_event_cancel_indicator: r.flag("splice_event_cancel_indicator")?,
        event_id_compliance_flag: r.flag("event_id_compliance_flag")?,
        ..SpliceInsert::default()
    };
    r.skip(6, "splice_insert reserved")?;
    if si.splice_event_cancel_indicator {
        return Ok(si);
    }
    si.out_of_network_indicator = r.flag("out_of_network_indicator")?;
    si.program_splice_flag = r.flag("program_splice_flag")?;
    let duration_flag = r.flag("duration_flag")?;
    si.splice_immediate_flag = r.flag("splice_immediate_flag")?;
    r.skip(4, "splice_insert reserved")?;
    if si.program_splice_flag && !si.splice_immediate_flag {
        si.splice_time = Some(decode_splice_time(r)?);
    }
    if !si.program_splice_flag {
        let count = r.u8("component_count")?;
        for _ in 0..count {
            let component_tag = r.u8("component_tag")?;
            let splice_time = if si.splice_immediate_flag {
                None
            } else {
                Some(decode_splice_time(r)?)
            };
            si.components.push(SpliceInsertComponent {
                component_tag,
                splice_time,
            });
        }
    }
    if duration_flag {
        si.break_duration = Some(decode_break_duration(r)?);
    }
    si.unique_program_id = r.u16("unique_program_id")?;
    si.avail_num = r.u8("avail_num")?;
    si.avails_expected = r.u8("avails_expected")?;
    Ok(si)
}

fn decode_schedule(r: &mut BitReader<'_>) -> Result<SpliceSchedule, DecodeError> {
    let count = r.u8("splice_count")?;
    let mut events = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let mut ev = ScheduleEvent {
            splice_event_id: r.u32("splice_event_id")?,
            splice_event_cancel_indicator: r.flag("splice_event_cancel_indicator")?,
            event_id_compliance_flag: r.flag("event_id_compliance_flag")?,
            ..ScheduleEvent::default()
        };
        r.skip(6, "splice_schedule reserved")?;
        if !ev.splice_event_cancel_indicator {
            ev.out_of_network_indicator = r.flag("out_of_network_indicator")?;
            ev.program_splice_flag = r.flag("program_splice_flag")?;
            let duration_flag = r.flag("duration_flag")?;
            r.skip(5, "splice_schedule reserved")?;
            if ev.program_splice_flag {
                ev.utc_splice_time = Some(r.u32("utc_splice_time")?);
            } else {
                let n = r.u8("component_count")?;
                for _ in 0..n {
                    ev.components.push(ScheduleComponent {
                        component_tag: r.u8("component_tag")?,
                        utc_splice_time: r.u32("utc_splice_time")?,
                    });
                }
            }
            if duration_flag {
                ev.break_duration = Some(decode_break_duration(r)?);
            }
            ev.unique_program_id = r.u16("unique_program_id")?;
            ev.avail_num = r.u8("avail_num")?;
            ev.avails_expected = r.u8("avails_expected")?;
        }
        events.push(ev);
    }
    Ok(SpliceSchedule { events })
}
