//! The inverse of decoding: a [`SpliceInfoSection`] back to bytes.
//!
//! Pure. Used by the round-trip property tests and the fuzz target
//! (`decode(encode(x)) == x`), by the DASH XML carriage (an XML cue becomes the same
//! model as a binary one), and by tests that need a cue with a given shape.
//!
//! [`encode`] writes the lengths and the `CRC_32` from the content; [`seal`] stores
//! those computed values in the model so that it equals its own decoding. A legacy
//! `splice_command_length` of 0xFFF is kept as such.

use super::crc::crc32_mpeg2;
use super::descriptors::{tag, SpliceDescriptor};
use super::reader::BitWriter;
use super::splice_info::{
    BreakDuration, SpliceCommand, SpliceInfoSection, SpliceTime, LEGACY_COMMAND_LENGTH,
};
use super::CUEI;

/// The section's bytes, lengths and `CRC_32` computed from its content.
pub fn encode(s: &SpliceInfoSection) -> Vec<u8> {
    let mut body = BitWriter::new();
    body.u8(s.protocol_version);
    body.flag(s.encrypted_packet);
    body.bits(6, u64::from(s.encryption_algorithm));
    body.bits(33, s.pts_adjustment.0);
    body.u8(s.cw_index);
    body.bits(12, u64::from(s.tier));
    if let (true, Some(payload)) = (s.encrypted_packet, &s.encrypted_payload) {
        body.bits(12, u64::from(s.splice_command_length));
        body.bytes(&payload.0);
    } else {
        let command = s
            .splice_command
            .as_ref()
            .map(encode_command)
            .unwrap_or_default();
        let command_length = if s.splice_command_length == LEGACY_COMMAND_LENGTH {
            LEGACY_COMMAND_LENGTH
        } else {
            command.len() as u16
        };
        body.bits(12, u64::from(command_length));
        let command_type = s
            .splice_command
            .as_ref()
            .map(SpliceCommand::command_type)
            .or(s.splice_command_type)
            .unwrap_or(0);
        body.u8(command_type);
        body.bytes(&command);
        let mut loop_bytes = Vec::new();
        for d in &s.splice_descriptors {
            loop_bytes.extend_from_slice(&encode_descriptor(d));
        }
        body.u16(loop_bytes.len() as u16);
        body.bytes(&loop_bytes);
        body.bytes(&s.alignment_stuffing.0);
    }
    let body = body.into_bytes();
    let section_length = body.len() + 4;
    let mut out = BitWriter::new();
    out.u8(s.table_id);
    out.flag(s.section_syntax_indicator);
    out.flag(s.private_indicator);
    out.bits(2, u64::from(s.sap_type));
    out.bits(12, section_length as u64);
    out.bytes(&body);
    let mut out = out.into_bytes();
    let crc = crc32_mpeg2(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// Store in `s` the lengths and `CRC_32` that [`encode`] computes.
pub fn seal(s: &mut SpliceInfoSection) {
    let bytes = encode(s);
    s.section_length = (bytes.len() - 3) as u16;
    if let Some(c) = &s.splice_command {
        s.splice_command_type = Some(c.command_type());
        if s.splice_command_length != LEGACY_COMMAND_LENGTH {
            s.splice_command_length = encode_command(c).len() as u16;
        }
    }
    if !s.encrypted_packet {
        s.descriptor_loop_length = s
            .splice_descriptors
            .iter()
            .map(|d| encode_descriptor(d).len() as u16)
            .sum();
    }
    let n = bytes.len();
    s.crc_32 = u32::from_be_bytes([bytes[n - 4], bytes[n - 3], bytes[n - 2], bytes[n - 1]]);
}

fn splice_time(w: &mut BitWriter, t: &SpliceTime) {
    match t.pts_time {
        Some(pts) => {
            w.flag(true);
            w.reserved(6);
            w.bits(33, pts.0);
        }
        None => {
            w.flag(false);
            w.reserved(7);
        }
    }
}

fn break_duration(w: &mut BitWriter, b: &BreakDuration) {
    w.flag(b.auto_return);
    w.reserved(6);
    w.bits(33, b.duration.0);
}

fn encode_command(c: &SpliceCommand) -> Vec<u8> {
    let mut w = BitWriter::new();
    match c {
        SpliceCommand::SpliceNull | SpliceCommand::BandwidthReservation => {}
        SpliceCommand::TimeSignal(ts) => splice_time(&mut w, &ts.splice_time),
        SpliceCommand::SpliceInsert(si) => {
            w.u32(si.splice_event_id);
            w.flag(si.splice_event_cancel_indicator);
            w.flag(si.event_id_compliance_flag);
            w.reserved(6);
            if !si.splice_event_cancel_indicator {
                w.flag(si.out_of_network_indicator);
                w.flag(si.program_splice_flag);
                w.flag(si.break_duration.is_some());
                w.flag(si.splice_immediate_flag);
                w.reserved(4);
                if si.program_splice_flag && !si.splice_immediate_flag {
                    splice_time(&mut w, &si.splice_time.unwrap_or_default());
                }
                if !si.program_splice_flag {
                    w.u8(si.components.len() as u8);
                    for comp in &si.components {
                        w.u8(comp.component_tag);
                        if !si.splice_immediate_flag {
                            splice_time(&mut w, &comp.splice_time.unwrap_or_default());
                        }
                    }
                }
                if let Some(b) = &si.break_duration {
                    break_duration(&mut w, b);
                }
                w.u16(si.unique_program_id);
                w.u8(si.avail_num);
                w.u8(si.avails_expected);
            }
        }
        SpliceCommand::SpliceSchedule(sched) => {
            w.u8(sched.events.len() as u8);
            for ev in &sched.events {
                w.u32(ev.splice_event_id);
                w.flag(ev.splice_event_cancel_indicator);
                w.flag(ev.event_id_compliance_flag);
                w.reserved(6);
                if !ev.splice_event_cancel_indicator {
                    w.flag(ev.out_of_network_indicator);
                    w.flag(ev.program_splice_flag);
                    w.flag(ev.break_duration.is_some());
                    w.reserved(5);
                    if ev.program_splice_flag {
                        w.u32(ev.utc_splice_time.unwrap_or(0));
                    } else {
                        w.u8(ev.components.len() as u8);
                        for comp in &ev.components {
                            w.u8(comp.component_tag);
                            w.u32(comp.utc_splice_time);
                        }
                    }
                    if let Some(b) = &ev.break_duration {
                        break_duration(&mut w, b);
                    }
                    w.u16(ev.unique_program_id);
                    w.u8(ev.avail_num);
                    w.u8(ev.avails_expected);
                }
            }
        }
        SpliceCommand::PrivateCommand(p) => {
            w.u32(p.identifier);
            w.bytes(&p.private_bytes.0);
        }
        SpliceCommand::Reserved { bytes, .. } => w.bytes(&bytes.0),
    }
    w.into_bytes()
}

fn encode_descriptor(d: &SpliceDescriptor) -> Vec<u8> {
    let mut w = BitWriter::new();
    let identifier = match d {
        SpliceDescriptor::Private(p) => p.identifier,
        _ => CUEI,
    };
    w.u32(identifier);
    match d {
        SpliceDescriptor::Avail(a) => w.u32(a.provider_avail_id),
        SpliceDescriptor::Dtmf(dt) => {
            w.u8(dt.preroll);
            // One byte a character, as the decoder reads them (Latin-1), at most 7.
            let chars: Vec<u8> = dt
                .dtmf_chars
                .chars()
                .take(7)
                .map(|c| u8::try_from(c).unwrap_or(b'?'))
                .collect();
            w.bits(3, chars.len() as u64);
            w.reserved(5);
            w.bytes(&chars);
        }
        SpliceDescriptor::Time(t) => {
            w.bits(48, t.tai_seconds);
            w.u32(t.tai_ns);
            w.u16(t.utc_offset);
        }
        SpliceDescriptor::Audio(a) => {
            w.bits(4, a.components.len() as u64);
            w.reserved(4);
            for c in &a.components {
                w.u8(c.component_tag);
                w.bytes(&c.iso_code.0);
                w.bits(3, u64::from(c.bit_stream_mode));
                w.bits(4, u64::from(c.num_channels));
                w.flag(c.full_srvc_audio);
            }
        }
        SpliceDescriptor::Private(p) => w.bytes(&p.private_bytes.0),
        SpliceDescriptor::Segmentation(s) => {
            w.u32(s.segmentation_event_id);
            w.flag(s.segmentation_event_cancel_indicator);
            w.flag(s.segmentation_event_id_compliance_indicator);
            w.reserved(6);
            if !s.segmentation_event_cancel_indicator {
                w.flag(s.program_segmentation_flag);
                w.flag(s.segmentation_duration.is_some());
                match &s.delivery_restrictions {
                    None => {
                        w.flag(true);
                        w.reserved(5);
                    }
                    Some(r) => {
                        w.flag(false);
                        w.flag(r.web_delivery_allowed_flag);
                        w.flag(r.no_regional_blackout_flag);
                        w.flag(r.archive_allowed_flag);
                        w.bits(2, u64::from(r.device_restrictions));
                    }
                }
                if !s.program_segmentation_flag {
                    w.u8(s.components.len() as u8);
                    for c in &s.components {
                        w.u8(c.component_tag);
                        w.reserved(7);
                        w.bits(33, c.pts_offset.0);
                    }
                }
                if let Some(dur) = s.segmentation_duration {
                    w.bits(40, dur.0);
                }
                let upid = s.segmentation_upid.to_bytes();
                w.u8(s.segmentation_upid_type);
                w.u8(upid.len() as u8);
                w.bytes(&upid);
                w.u8(s.segmentation_type_id);
                w.u8(s.segment_num);
                w.u8(s.segments_expected);
                if let (Some(n), Some(e)) = (s.sub_segment_num, s.sub_segments_expected) {
                    w.u8(n);
                    w.u8(e);
                }
            }
        }
    }
    let body = w.into_bytes();
    let mut out = Vec::with_capacity(body.len() + 2);
    out.push(d.tag());
    out.push(body.len() as u8);
    out.extend_from_slice(&body);
    debug_assert!(d.tag() <= tag::AUDIO || matches!(d, SpliceDescriptor::Private(_)));
    out
}

#[cfg(test)]
mod tests {
    use super::super::{decode, decode_bytes, text, DecodeOptions};
    use super::*;

    #[test]
    fn re_encodes_real_cues_byte_for_byte() {
        for b64 in [
            "/DA0AAAAAAAA///wBQb+cr0AUAAeAhxDVUVJSAAAjn/PAAGlmbAICAAAAAAsoKGKNAIAmsnRfg==",
            "/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=",
            "/DAxAAAAAAAAAP/wFAVAAIeuf+/+0AWRK/4AUmXAAC0AfwAMAQpDVUVJUJ81MTkqo5/+gA==",
            "/DARAAAAAAAAAP/wAAAAAHpPv/8=",
            "/DBsAAH/7m1eAAKQBQb+sX6o+wBWAlRDVUVJAAAAJ3//AAApMuANQAwOQU1DTiBMMDAxMjM0NTYJCFBPOjEyMzQ1DiRiY2IxZGQ4ZS1kMzIzLTQ1ODktOWQ3OC1hM2QxMzYyYWJiYjYwAQGtc8xr",
        ] {
            let bytes = text::decode_base64(b64).unwrap();
            let s = decode_bytes(&bytes, &DecodeOptions::default()).unwrap();
            assert_eq!(encode(&s), bytes, "{b64}");
            let mut sealed = s.clone();
            seal(&mut sealed);
            assert_eq!(sealed, s);
        }
        assert!(decode("/DARAAAAAAAAAP/wAAAAAHpPv/8=", &DecodeOptions::default()).is_ok());
    }
}
