//! SCTE-35 carried in DASH events (SCTE 214-1 §6.7, ANSI/SCTE 35 §11 XML schema).
//!
//! Pure. Three schemes:
//! - [`SCHEME_XML`] `urn:scte:scte35:2013:xml`: a `<SpliceInfoSection>` element in
//!   XML ([`decode_xml`]);
//! - [`SCHEME_XML_BIN`] `urn:scte:scte35:2014:xml+bin`: `<Signal><Binary>base64</Binary></Signal>`
//!   ([`decode_xml_bin`]);
//! - [`SCHEME_BIN`] `urn:scte:scte35:2013:bin`: the base64 text content of the Event
//!   ([`decode_bin`]).
//!
//! Inputs are the XML text of the element (an `Event`, or the payload inside it).
//! Namespace prefixes are ignored, declared or not (packagers often use `scte35:`
//! without declaring it), and element names match without regard to case
//! (`<scte35:binary>` is seen in the wild). Attributes missing from the XML take the
//! binary defaults; attributes that packagers put on the wrong element (a
//! `segmentationTypeId` on `<SegmentationUpid>`, a `segmentationUpid` attribute on
//! `<SegmentationDescriptor>`) are found there too. An XML cue is sealed (lengths
//! and `CRC_32` computed), so it equals the decoding of its binary form.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::descriptors::{
    AudioComponent, AudioDescriptor, AvailDescriptor, DeliveryRestrictions, DtmfDescriptor,
    SegmentationComponent, SegmentationDescriptor, SegmentationUpid, SpliceDescriptor,
    TimeDescriptor, Upid,
};
use super::encode::seal;
use super::splice_info::{
    BreakDuration, PrivateCommand, ScheduleComponent, ScheduleEvent, SpliceCommand,
    SpliceInfoSection, SpliceInsert, SpliceInsertComponent, SpliceSchedule, SpliceTime, TimeSignal,
};
use super::{text, Bytes, DecodeError, DecodeOptions, Duration90k, Pts90k, TABLE_ID};

/// `urn:scte:scte35:2013:xml`
pub const SCHEME_XML: &str = "urn:scte:scte35:2013:xml";
/// `urn:scte:scte35:2014:xml+bin`
pub const SCHEME_XML_BIN: &str = "urn:scte:scte35:2014:xml+bin";
/// `urn:scte:scte35:2013:bin`
pub const SCHEME_BIN: &str = "urn:scte:scte35:2013:bin";

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 64;

/// Is this an SCTE-35 scheme this module decodes?
pub fn is_scte35_scheme(scheme_id_uri: &str) -> bool {
    [SCHEME_XML, SCHEME_XML_BIN, SCHEME_BIN]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme_id_uri.trim()))
}

/// Decode an event payload of any of the three schemes. `payload` is the XML of the
/// `Event` element or of what it contains (for `2013:bin`, its text is accepted too).
pub fn decode_event(
    scheme_id_uri: &str,
    payload: &str,
    opts: &DecodeOptions,
) -> Result<SpliceInfoSection, DecodeError> {
    let scheme = scheme_id_uri.trim();
    if scheme.eq_ignore_ascii_case(SCHEME_BIN) {
        decode_bin(payload, opts)
    } else if scheme.eq_ignore_ascii_case(SCHEME_XML_BIN) {
        decode_xml_bin(payload, opts)
    } else if scheme.eq_ignore_ascii_case(SCHEME_XML) {
        decode_xml(payload).or_else(|e| {
            // Some packagers put `<Signal><Binary>` under the 2013:xml scheme.
            decode_xml_bin(payload, opts).map_err(|_| e)
        })
    } else {
        Err(DecodeError::Invalid("schemeIdUri: not an SCTE-35 scheme"))
    }
}

/// `urn:scte:scte35:2013:bin`: base64 text, or an element whose text is base64.
pub fn decode_bin(payload: &str, opts: &DecodeOptions) -> Result<SpliceInfoSection, DecodeError> {
    let t = payload.trim();
    if t.starts_with('<') {
        let root = parse_tree(t)?;
        return super::decode(&root.all_text(), opts);
    }
    super::decode(t, opts)
}

/// `urn:scte:scte35:2014:xml+bin`: the base64 of the first `<Binary>` element.
pub fn decode_xml_bin(
    payload: &str,
    opts: &DecodeOptions,
) -> Result<SpliceInfoSection, DecodeError> {
    let root = parse_tree(payload)?;
    let binary = root
        .find("Binary")
        .ok_or(DecodeError::MissingData("<Binary> element"))?;
    super::decode(&binary.all_text(), opts)
}

/// `urn:scte:scte35:2013:xml`: the first `<SpliceInfoSection>` element.
pub fn decode_xml(payload: &str) -> Result<SpliceInfoSection, DecodeError> {
    let root = parse_tree(payload)?;
    let sis = root
        .find("SpliceInfoSection")
        .ok_or(DecodeError::MissingData("<SpliceInfoSection> element"))?;
    section_from(sis)
}

// === a small element tree ===

#[derive(Debug, Default)]
struct El {
    /// Local name (prefix removed).
    name: String,
    /// (local name, unescaped value).
    attrs: Vec<(String, String)>,
    children: Vec<El>,
    text: String,
}

impl El {
    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Depth-first search, self included.
    fn find(&self, name: &str) -> Option<&El> {
        if self.is(name) {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }

    fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.is(name))
    }

    fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.is(name))
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    fn all_text(&self) -> String {
        let mut s = self.text.clone();
        for c in &self.children {
            s.push_str(&c.all_text());
        }
        s
    }

    fn num<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, DecodeError> {
        match self.attr(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<T>()
                .map(Some)
                .map_err(|_| DecodeError::Xml(format!("{}@{name}: not a number: {v}", self.name))),
        }
    }

    fn flag(&self, name: &str) -> Result<Option<bool>, DecodeError> {
        match self.attr(name) {
            None | Some("") => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(Some(false)),
            Some(v) => Err(DecodeError::Xml(format!(
                "{}@{name}: not a boolean: {v}",
                self.name
            ))),
        }
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => name.into_owned(),
    }
}

fn element(start: &BytesStart<'_>) -> Result<El, DecodeError> {
    let mut el = El {
        name: local(start.name().as_ref()),
        ..El::default()
    };
    for a in start.attributes() {
        let a = a.map_err(|e| DecodeError::Xml(e.to_string()))?;
        let key = local(a.key.as_ref());
        if key == "xmlns" || a.key.as_ref().starts_with(b"xmlns:") {
            continue;
        }
        let value = a
            .unescape_value()
            .map_err(|e| DecodeError::Xml(e.to_string()))?;
        el.attrs.push((key, value.into_owned()));
    }
    Ok(el)
}

fn parse_tree(xml: &str) -> Result<El, DecodeError> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<El> = vec![El {
        name: "#document".into(),
        ..El::default()
    }];
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| DecodeError::Xml(format!("at byte {}: {e}", reader.buffer_position())))?;
        match ev {
            Event::Start(s) => {
                if stack.len() > MAX_DEPTH {
                    return Err(DecodeError::Xml("elements nested too deep".into()));
                }
                stack.push(element(&s)?);
            }
            Event::Empty(s) => {
                let el = element(&s)?;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(el);
                }
            }
            Event::End(_) => {
                if stack.len() < 2 {
                    return Err(DecodeError::Xml("unbalanced end tag".into()));
                }
                if let Some(done) = stack.pop() {
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(done);
                    }
                }
            }
            Event::Text(t) => {
                let t = t.unescape().map_err(|e| DecodeError::Xml(e.to_string()))?;
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&t);
                }
            }
            Event::CData(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(DecodeError::Xml("unclosed element".into()));
    }
    Ok(stack.pop().unwrap_or_default())
}

// === XML → model ===

fn splice_time(el: Option<&El>) -> Result<SpliceTime, DecodeError> {
    Ok(SpliceTime {
        pts_time: match el {
            Some(t) => t
                .num::<u64>("ptsTime")?
                .map(|v| Pts90k(v % super::PTS_MODULUS)),
            None => None,
        },
    })
}

fn break_duration(el: Option<&El>) -> Result<Option<BreakDuration>, DecodeError> {
    let Some(b) = el else { return Ok(None) };
    Ok(Some(BreakDuration {
        auto_return: b.flag("autoReturn")?.unwrap_or(true),
        duration: Duration90k(b.num::<u64>("duration")?.unwrap_or(0) & ((1 << 33) - 1)),
    }))
}

fn section_from(sis: &El) -> Result<SpliceInfoSection, DecodeError> {
    let mut s = SpliceInfoSection {
        table_id: TABLE_ID,
        section_syntax_indicator: false,
        private_indicator: false,
        sap_type: sis.num::<u8>("sapType")?.unwrap_or(3) & 3,
        section_length: 0,
        protocol_version: sis.num::<u8>("protocolVersion")?.unwrap_or(0),
        encrypted_packet: false,
        encryption_algorithm: 0,
        pts_adjustment: Pts90k(sis.num::<u64>("ptsAdjustment")?.unwrap_or(0) % super::PTS_MODULUS),
        cw_index: 0,
        tier: sis.num::<u16>("tier")?.unwrap_or(0xFFF) & 0xFFF,
        splice_command_length: 0,
        splice_command_type: None,
        splice_command: None,
        descriptor_loop_length: 0,
        splice_descriptors: Vec::new(),
        alignment_stuffing: Bytes::default(),
        encrypted_payload: None,
        crc_32: 0,
        warnings: Vec::new(),
    };
    for c in &sis.children {
        let n = c.name.to_ascii_lowercase();
        match n.as_str() {
            "splicenull" => s.splice_command = Some(SpliceCommand::SpliceNull),
            "bandwidthreservation" => s.splice_command = Some(SpliceCommand::BandwidthReservation),
            "timesignal" => {
                s.splice_command = Some(SpliceCommand::TimeSignal(TimeSignal {
                    splice_time: splice_time(c.child("SpliceTime"))?,
                }))
            }
            "spliceinsert" => s.splice_command = Some(SpliceCommand::SpliceInsert(insert_from(c)?)),
            "spliceschedule" => {
                let events = c
                    .children_named("Event")
                    .map(schedule_event_from)
                    .collect::<Result<_, _>>()?;
                s.splice_command = Some(SpliceCommand::SpliceSchedule(SpliceSchedule { events }));
            }
            "privatecommand" => {
                let bytes = c
                    .child("PrivateBytes")
                    .map(El::all_text)
                    .unwrap_or_default();
                s.splice_command = Some(SpliceCommand::PrivateCommand(PrivateCommand {
                    identifier: c.num::<u32>("identifier")?.unwrap_or(0),
                    private_bytes: Bytes(text::decode_hex(bytes.trim())?),
                }));
            }
            "availdescriptor" => {
                s.splice_descriptors
                    .push(SpliceDescriptor::Avail(AvailDescriptor {
                        provider_avail_id: c.num::<u32>("providerAvailId")?.unwrap_or(0),
                    }))
            }
            "dtmfdescriptor" => s
                .splice_descriptors
                .push(SpliceDescriptor::Dtmf(DtmfDescriptor {
                    preroll: c.num::<u8>("preroll")?.unwrap_or(0),
                    dtmf_chars: c.attr("chars").unwrap_or("").chars().take(7).collect(),
                })),
            "segmentationdescriptor" => s
                .splice_descriptors
                .push(SpliceDescriptor::Segmentation(segmentation_from(c)?)),
            "timedescriptor" => s
                .splice_descriptors
                .push(SpliceDescriptor::Time(TimeDescriptor {
                    tai_seconds: c.num::<u64>("taiSeconds")?.unwrap_or(0) & ((1 << 48) - 1),
                    tai_ns: c.num::<u32>("taiNs")?.unwrap_or(0),
                    utc_offset: c.num::<u16>("utcOffset")?.unwrap_or(0),
                })),
            "audiodescriptor" => {
                let components = c
                    .children_named("AudioChannel")
                    .take(15)
                    .map(|a| {
                        let mut iso = a.attr("ISOCode").unwrap_or("").as_bytes().to_vec();
                        iso.resize(3, b' ');
                        Ok(AudioComponent {
                            component_tag: a.num::<u8>("componentTag")?.unwrap_or(0),
                            iso_code: Bytes(iso),
                            bit_stream_mode: a.num::<u8>("BitStreamMode")?.unwrap_or(0) & 7,
                            num_channels: a.num::<u8>("NumChannels")?.unwrap_or(0) & 0xF,
                            full_srvc_audio: a.flag("FullSrvcAudio")?.unwrap_or(false),
                        })
                    })
                    .collect::<Result<_, DecodeError>>()?;
                s.splice_descriptors
                    .push(SpliceDescriptor::Audio(AudioDescriptor { components }));
            }
            _ => {}
        }
    }
    if s.splice_command.is_none() {
        return Err(DecodeError::MissingData("splice command element"));
    }
    seal(&mut s);
    Ok(s)
}

fn insert_from(c: &El) -> Result<SpliceInsert, DecodeError> {
    let mut si = SpliceInsert {
        splice_event_id: c.num::<u32>("spliceEventId")?.unwrap_or(0),
        splice_event_cancel_indicator: c.flag("spliceEventCancelIndicator")?.unwrap_or(false),
        event_id_compliance_flag: c.flag("eventIdComplianceFlag")?.unwrap_or(true),
        ..SpliceInsert::default()
    };
    if si.splice_event_cancel_indicator {
        return Ok(si);
    }
    si.out_of_network_indicator = c.flag("outOfNetworkIndicator")?.unwrap_or(false);
    si.splice_immediate_flag = c.flag("spliceImmediateFlag")?.unwrap_or(false);
    let components: Vec<&El> = c.children_named("Component").collect();
    si.program_splice_flag = components.is_empty();
    if si.program_splice_flag && !si.splice_immediate_flag {
        let program = c.child("Program");
        si.splice_time = Some(splice_time(program.and_then(|p| p.child("SpliceTime")))?);
    }
    for comp in components {
        si.components.push(SpliceInsertComponent {
            component_tag: comp.num::<u8>("componentTag")?.unwrap_or(0),
            splice_time: if si.splice_immediate_flag {
                None
            } else {
                Some(splice_time(comp.child("SpliceTime"))?)
            },
        });
    }
    si.break_duration = break_duration(c.child("BreakDuration"))?;
    si.unique_program_id = c.num::<u16>("uniqueProgramId")?.unwrap_or(0);
    si.avail_num = c.num::<u8>("availNum")?.unwrap_or(0);
    si.avails_expected = c.num::<u8>("availsExpected")?.unwrap_or(0);
    Ok(si)
}

fn schedule_event_from(c: &El) -> Result<ScheduleEvent, DecodeError> {
    let mut ev = ScheduleEvent {
        splice_event_id: c.num::<u32>("spliceEventId")?.unwrap_or(0),
        splice_event_cancel_indicator: c.flag("spliceEventCancelIndicator")?.unwrap_or(false),
        event_id_compliance_flag: c.flag("eventIdComplianceFlag")?.unwrap_or(true),
        ..ScheduleEvent::default()
    };
    if ev.splice_event_cancel_indicator {
        return Ok(ev);
    }
    ev.out_of_network_indicator = c.flag("outOfNetworkIndicator")?.unwrap_or(false);
    let components: Vec<&El> = c.children_named("Component").collect();
    ev.program_splice_flag = components.is_empty();
    if ev.program_splice_flag {
        ev.utc_splice_time = Some(
            c.child("Program")
                .map(|p| p.num::<u32>("utcSpliceTime"))
                .transpose()?
                .flatten()
                .unwrap_or(0),
        );
    }
    for comp in components {
        ev.components.push(ScheduleComponent {
            component_tag: comp.num::<u8>("componentTag")?.unwrap_or(0),
            utc_splice_time: comp.num::<u32>("utcSpliceTime")?.unwrap_or(0),
        });
    }
    ev.break_duration = break_duration(c.child("BreakDuration"))?;
    ev.unique_program_id = c.num::<u16>("uniqueProgramId")?.unwrap_or(0);
    ev.avail_num = c.num::<u8>("availNum")?.unwrap_or(0);
    ev.avails_expected = c.num::<u8>("availsExpected")?.unwrap_or(0);
    Ok(ev)
}

/// The bytes of a `<SegmentationUpid>` (or of a `segmentationUpid` attribute):
/// `segmentationUpidFormat` says text or base64; otherwise hex when it is hex, else
/// the text's bytes.
fn upid_bytes(value: &str, format: Option<&str>) -> Vec<u8> {
    let v = value.trim();
    let format = format.unwrap_or("").to_ascii_lowercase();
    if format == "text" {
        return v.as_bytes().to_vec();
    }
    if format.starts_with("base") {
        if let Ok(b) = text::decode_base64(v) {
            return b;
        }
    }
    text::decode_hex(v).unwrap_or_else(|_| v.as_bytes().to_vec())
}

fn segmentation_from(c: &El) -> Result<SegmentationDescriptor, DecodeError> {
    let upids: Vec<&El> = c.children_named("SegmentationUpid").collect();
    // Attributes packagers put on the descriptor or on its first UPID element.
    let attr_el = |name: &str| -> Option<&El> {
        if c.attr(name).is_some() {
            Some(c)
        } else {
            upids.iter().copied().find(|u| u.attr(name).is_some())
        }
    };
    let num_u8 = |name: &str| -> Result<Option<u8>, DecodeError> {
        attr_el(name).map_or(Ok(None), |e| e.num::<u8>(name))
    };
    let event_id = match c.num::<u32>("segmentationEventId")? {
        Some(v) => Some(v),
        None => c.num::<u32>("spliceEventId")?,
    };
    let mut d = SegmentationDescriptor {
        segmentation_event_id: event_id.unwrap_or(0),
        segmentation_event_cancel_indicator: c
            .flag("segmentationEventCancelIndicator")?
            .unwrap_or(false),
        ..SegmentationDescriptor::default()
    };
    if d.segmentation_event_cancel_indicator {
        return Ok(d);
    }
    d.delivery_restrictions = match c.child("DeliveryRestrictions") {
        None => None,
        Some(r) => Some(DeliveryRestrictions {
            web_delivery_allowed_flag: r.flag("webDeliveryAllowedFlag")?.unwrap_or(false),
            no_regional_blackout_flag: r.flag("noRegionalBlackoutFlag")?.unwrap_or(false),
            archive_allowed_flag: r.flag("archiveAllowedFlag")?.unwrap_or(false),
            device_restrictions: r
                .num::<u8>("deviceRestrictions")
                .ok()
                .flatten()
                .unwrap_or(3)
                & 3,
        }),
    };
    let components: Vec<&El> = c.children_named("Component").collect();
    d.program_segmentation_flag = components.is_empty();
    for comp in components {
        d.components.push(SegmentationComponent {
            component_tag: comp.num::<u8>("componentTag")?.unwrap_or(0),
            pts_offset: Pts90k(comp.num::<u64>("ptsOffset")?.unwrap_or(0) % super::PTS_MODULUS),
        });
    }
    d.segmentation_duration = attr_el("segmentationDuration")
        .map_or(Ok(None), |e| e.num::<u64>("segmentationDuration"))?
        .map(|v| Duration90k(v & ((1 << 40) - 1)));
    d.segmentation_type_id = num_u8("segmentationTypeId")?.unwrap_or(0);
    d.segment_num = num_u8("segmentNum")?.unwrap_or(0);
    d.segments_expected = num_u8("segmentsExpected")?.unwrap_or(0);
    if SegmentationDescriptor::has_sub_segments(d.segmentation_type_id) {
        d.sub_segment_num = num_u8("subSegmentNum")?;
        d.sub_segments_expected = num_u8("subSegmentsExpected")?;
        if d.sub_segment_num.is_none() || d.sub_segments_expected.is_none() {
            d.sub_segment_num = None;
            d.sub_segments_expected = None;
        }
    }
    let upid_of = |u: &El| -> Result<(u8, Vec<u8>), DecodeError> {
        Ok((
            u.num::<u8>("segmentationUpidType")?.unwrap_or(0),
            upid_bytes(&u.all_text(), u.attr("segmentationUpidFormat")),
        ))
    };
    match upids.as_slice() {
        [] => {
            if let Some(v) = c.attr("segmentationUpid") {
                let t = c.num::<u8>("segmentationUpidType")?.unwrap_or(0);
                let b = upid_bytes(v, c.attr("segmentationUpidFormat"));
                d.segmentation_upid_type = t;
                d.segmentation_upid = Upid::from_bytes(t, &b);
            }
        }
        [one] => {
            let (t, b) = upid_of(one)?;
            d.segmentation_upid_type = t;
            d.segmentation_upid = Upid::from_bytes(t, &b);
        }
        many => {
            let mut list = Vec::new();
            for u in many {
                let (t, b) = upid_of(u)?;
                list.push(SegmentationUpid {
                    segmentation_upid_type: t,
                    segmentation_upid: Upid::from_bytes(t, &b),
                });
            }
            d.segmentation_upid_type = super::descriptors::upid_type::MID;
            d.segmentation_upid = Upid::Mid(list);
        }
    }
    Ok(d)
}
