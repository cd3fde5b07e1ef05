use proptest::prelude::*;

use super::descriptors::{tag, upid_type};
use super::encode::{encode, seal};
use super::rules::{ads_vars, classify, DurationSource};
use super::*;

fn strict(text: &str) -> SpliceInfoSection {
    decode(text, &DecodeOptions::default()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn insert_of(s: &SpliceInfoSection) -> &SpliceInsert {
    match &s.splice_command {
        Some(SpliceCommand::SpliceInsert(si)) => si,
        other => panic!("not a splice_insert: {other:?}"),
    }
}

// SCTE 35 2022 §14.2 sample (via Comcast/scte35-go's test table).
const SAMPLE_14_2: &str = "/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=";
// §14.1: time_signal, Provider Placement Opportunity Start, AiringID UPID.
const SAMPLE_14_1: &str =
    "/DA0AAAAAAAA///wBQb+cr0AUAAeAhxDVUVJSAAAjn/PAAGlmbAICAAAAAAsoKGKNAIAmsnRfg==";

#[test]
fn splice_insert_every_field() {
    let s = strict(SAMPLE_14_2);
    assert_eq!(s.table_id, 0xFC);
    assert_eq!(s.section_length, 47);
    assert_eq!(s.sap_type, 3);
    assert_eq!(s.tier, 0xFFF);
    assert_eq!(s.cw_index, 0xFF);
    assert_eq!(s.splice_command_length, 20);
    assert_eq!(s.splice_command_type, Some(5));
    assert_eq!(s.crc_32, 0x62DB_A30A);
    let si = insert_of(&s);
    assert_eq!(si.splice_event_id, 0x4800_008F);
    assert!(si.out_of_network_indicator && si.program_splice_flag && !si.splice_immediate_flag);
    assert!(si.event_id_compliance_flag);
    assert_eq!(
        si.splice_time.unwrap().pts_time,
        Some(Pts90k(0x0_7369_C02E))
    );
    let b = si.break_duration.unwrap();
    assert!(b.auto_return);
    assert_eq!(b.duration, Duration90k(0x0052_CCF5));
    assert_eq!(
        s.splice_descriptors,
        vec![SpliceDescriptor::Avail(AvailDescriptor {
            provider_avail_id: 0x135
        })]
    );
}

#[test]
fn time_signal_segmentation_every_field() {
    let s = strict(SAMPLE_14_1);
    let Some(SpliceCommand::TimeSignal(ts)) = &s.splice_command else {
        panic!("{s:?}")
    };
    assert_eq!(ts.splice_time.pts_time, Some(Pts90k(0x0_72BD_0050)));
    let d: Vec<_> = s.segmentation_descriptors().collect();
    assert_eq!(d.len(), 1);
    let d = d[0];
    assert_eq!(d.segmentation_event_id, 0x4800_008E);
    assert!(!d.segmentation_event_cancel_indicator);
    assert!(d.program_segmentation_flag);
    assert_eq!(
        d.delivery_restrictions,
        Some(DeliveryRestrictions {
            web_delivery_allowed_flag: false,
            no_regional_blackout_flag: true,
            archive_allowed_flag: true,
            device_restrictions: 3,
        })
    );
    assert_eq!(d.segmentation_duration, Some(Duration90k(0x0000_01A5_99B0)));
    assert_eq!(d.segmentation_duration.unwrap().seconds(), 307.0);
    assert_eq!(d.segmentation_upid_type, upid_type::TI);
    assert_eq!(
        d.segmentation_upid,
        Upid::Bytes(Bytes(vec![0, 0, 0, 0, 0x2C, 0xA0, 0xA1, 0x8A]))
    );
    assert_eq!(d.segmentation_type_id, 0x34);
    assert_eq!((d.segment_num, d.segments_expected), (2, 0));
    // The descriptor ends before the (optional) sub-segment fields.
    assert_eq!((d.sub_segment_num, d.sub_segments_expected), (None, None));
}

#[test]
fn the_same_cue_in_hex_with_prefix_and_a_pointer_field() {
    let b64 = strict(SAMPLE_14_1);
    let hex = "0xFC3034000000000000FFFFF00506FE72BD0050001E021C435545494800008E7FCF0001A599B00808000000002CA0A18A3402009AC9D17E";
    assert_eq!(strict(hex), b64);
    assert_eq!(
        strict(&format!("  \"{}\"\n", &hex[2..].to_lowercase())),
        b64
    );
    let with_pointer = format!("00{}", &hex[2..]);
    assert_eq!(strict(&with_pointer), b64);
    let spaced: String = hex.as_bytes()[2..]
        .chunks(8)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(strict(&spaced), b64);
}

#[test]
fn dtmf_and_alignment_stuffing() {
    // scte35-go: "SpliceInsert Program Out Point with 3 bytes alignment stuffing".
    let s = strict("/DA0AABS2+YAAACgFAUALJGCf+/+MSwPcX4AUmXAAAAAAAAMAQpDVUVJRp8xMjEq3pnIPCi6lw==");
    assert_eq!(s.alignment_stuffing, Bytes(vec![0xDE, 0x99, 0xC8]));
    assert_eq!(s.crc_32, 0x3C28_BA97);
    assert_eq!(s.pts_adjustment, Pts90k(0x0_52DB_E600));
    assert_eq!(s.tier, 0x00A);
    assert_eq!(
        s.splice_descriptors,
        vec![SpliceDescriptor::Dtmf(DtmfDescriptor {
            preroll: 70,
            dtmf_chars: "121*".into()
        })]
    );
    assert_eq!(
        encode(&s),
        text::decode_text(
            "/DA0AABS2+YAAACgFAUALJGCf+/+MSwPcX4AUmXAAAAAAAAMAQpDVUVJRp8xMjEq3pnIPCi6lw=="
        )
        .unwrap()
    );
}

#[test]
fn crc_is_checked_unless_lenient() {
    let bad = "/DA4AAAAAAAAAP/wFAUABDEAf+//mWEhzP4Azf5gAQAAAAATAhFDVUVJAAAAAX+/AQIwNAEAAKeYO3Q=";
    assert_eq!(
        decode(bad, &DecodeOptions::default()),
        Err(DecodeError::Crc {
            carried: 0xA798_3B74,
            computed: 0xA798_3B73
        })
    );
    let s = decode(bad, &DecodeOptions::lenient()).unwrap();
    assert_eq!(s.crc_32, 0xA798_3B74);
    assert_eq!(insert_of(&s).splice_event_id, 0x0004_3100);
}

/// `bytes` with its `splice_command_length` set to `len` and the `CRC_32` made right
/// again: a section whose only lie is the length (as some production encoders write).
fn with_command_length(mut bytes: Vec<u8>, len: u16) -> Vec<u8> {
    bytes[11] = (bytes[11] & 0xF0) | (len >> 8) as u8;
    bytes[12] = len as u8;
    let n = bytes.len() - 4;
    let crc = crc::crc32_mpeg2(&bytes[..n]);
    bytes[n..].copy_from_slice(&crc.to_be_bytes());
    bytes
}

#[test]
fn fixed_size_command_with_a_lying_length_is_decoded_by_type() {
    // §14.1's descriptors behind a splice_null (0 bytes) and a time_signal (5 bytes).
    let base = strict(SAMPLE_14_1);
    for (command, actual) in [
        (SpliceCommand::SpliceNull, 0),
        (SpliceCommand::BandwidthReservation, 0),
        (base.splice_command.clone().unwrap(), 5),
    ] {
        let mut s = base.clone();
        s.splice_command = Some(command.clone());
        seal(&mut s);
        for lie in [1u16, 4, 5, 20, 0xFFE] {
            if lie == actual {
                continue;
            }
            let bytes = with_command_length(encode(&s), lie);
            for opts in [DecodeOptions::default(), DecodeOptions::lenient()] {
                let d = decode_bytes(&bytes, &opts)
                    .unwrap_or_else(|e| panic!("{command:?} length {lie}: {e}"));
                assert_eq!(d.splice_command.as_ref(), Some(&command));
                assert_eq!(d.splice_command_length, lie);
                assert_eq!(d.splice_descriptors, base.splice_descriptors);
                assert_eq!(
                    d.warnings,
                    vec![DecodeWarning::CommandLength {
                        splice_command_type: command.command_type(),
                        carried: lie,
                        actual,
                    }]
                );
                // The classification is the descriptors', as for a true length.
                assert_eq!(
                    classify(&d, &CueRules::default()),
                    classify(&s, &CueRules::default())
                );
            }
        }
        // A consistent section carries no warning.
        assert!(decode_bytes(&encode(&s), &DecodeOptions::default())
            .unwrap()
            .warnings
            .is_empty());
    }
}

#[test]
fn a_lying_length_is_forgiven_only_when_the_rest_agrees() {
    let base = strict(SAMPLE_14_1);
    let mut s = base.clone();
    s.splice_command = Some(SpliceCommand::SpliceNull);
    seal(&mut s);
    let lying = with_command_length(encode(&s), 5);

    // A bad CRC as well: strict refuses it for the CRC, lenient refuses the length.
    let mut bad_crc = lying.clone();
    let n = bad_crc.len();
    bad_crc[n - 1] ^= 1;
    assert!(matches!(
        decode_bytes(&bad_crc, &DecodeOptions::default()),
        Err(DecodeError::Crc { .. })
    ));
    assert!(decode_bytes(&bad_crc, &DecodeOptions::lenient()).is_err());

    // A descriptor loop that does not end at the CRC (one stray byte after it).
    let mut stray = s.clone();
    stray.alignment_stuffing = Bytes(vec![0xFF]);
    seal(&mut stray);
    let stray = with_command_length(encode(&stray), 5);
    assert!(decode_bytes(&stray, &DecodeOptions::default()).is_err());

    // A descriptor_loop_length that lies too.
    let mut loop_lie = lying.clone();
    loop_lie[14] = loop_lie[14].wrapping_add(1);
    let loop_lie = with_command_length(loop_lie, 5);
    assert!(decode_bytes(&loop_lie, &DecodeOptions::default()).is_err());

    // A command whose size its type does not fix is never read by type.
    let mut insert = strict(SAMPLE_14_2);
    insert.splice_descriptors = base.splice_descriptors.clone();
    seal(&mut insert);
    for lie in [5, 19, 21] {
        let bytes = with_command_length(encode(&insert), lie);
        assert!(
            decode_bytes(&bytes, &DecodeOptions::default()).is_err(),
            "{lie}"
        );
    }
}

#[test]
fn truncated_and_foreign_input_is_an_error() {
    let opts = DecodeOptions::default();
    assert_eq!(decode("", &opts), Err(DecodeError::MissingData("table_id")));
    assert!(matches!(
        decode("/DBaf%^", &opts),
        Err(DecodeError::Encoding(_))
    ));
    assert!(matches!(
        decode("0xFCINVALIDSECTION", &opts),
        Err(DecodeError::Encoding(_))
    ));
    assert_eq!(decode("0x47", &opts), Err(DecodeError::TableId(0x47)));
    let full = text::decode_text(SAMPLE_14_2).unwrap();
    for n in 1..full.len() {
        let r = decode_bytes(&full[..n], &opts);
        assert!(matches!(r, Err(DecodeError::MissingData(_))), "{n}: {r:?}");
    }
    // Lenient: a section_length past the end reads what is there.
    let mut long = full.clone();
    long[2] += 5;
    assert!(decode_bytes(&long, &opts).is_err());
    assert_eq!(
        insert_of(&decode_bytes(&long, &DecodeOptions::lenient()).unwrap()).splice_event_id,
        0x4800_008F
    );
}

#[test]
fn encrypted_packets_are_reported_not_decoded() {
    let s = strict("/DARAIIAAAAABf/wAAAAAPVbCcg=");
    assert!(s.encrypted_packet);
    assert_eq!(s.encryption_algorithm, 1);
    assert_eq!(s.cw_index, 5);
    assert_eq!(s.splice_command, None);
    assert_eq!(s.splice_command_type, None);
    assert_eq!(s.encrypted_payload, Some(Bytes(vec![0, 0, 0])));
    assert_eq!(classify(&s, &CueRules::default()), Signal::None);
}

#[test]
fn legacy_command_length_and_every_command() {
    let base = strict(SAMPLE_14_2);
    let commands = vec![
        SpliceCommand::SpliceNull,
        SpliceCommand::BandwidthReservation,
        SpliceCommand::TimeSignal(TimeSignal {
            splice_time: SpliceTime { pts_time: None },
        }),
        SpliceCommand::SpliceSchedule(SpliceSchedule {
            events: vec![
                ScheduleEvent {
                    splice_event_id: 7,
                    out_of_network_indicator: true,
                    program_splice_flag: true,
                    utc_splice_time: Some(1_300_000_000),
                    break_duration: Some(BreakDuration {
                        auto_return: true,
                        duration: Duration90k(2_700_000),
                    }),
                    unique_program_id: 9,
                    avail_num: 1,
                    avails_expected: 2,
                    event_id_compliance_flag: true,
                    ..ScheduleEvent::default()
                },
                ScheduleEvent {
                    splice_event_id: 8,
                    splice_event_cancel_indicator: true,
                    ..ScheduleEvent::default()
                },
                ScheduleEvent {
                    splice_event_id: 9,
                    components: vec![ScheduleComponent {
                        component_tag: 3,
                        utc_splice_time: 42,
                    }],
                    ..ScheduleEvent::default()
                },
            ],
        }),
        SpliceCommand::PrivateCommand(PrivateCommand {
            identifier: u32::from_be_bytes(*b"SPLC"),
            private_bytes: Bytes(b"hello".to_vec()),
        }),
        SpliceCommand::Reserved {
            splice_command_type: 0x42,
            bytes: Bytes(vec![1, 2, 3]),
        },
        base.splice_command.clone().unwrap(),
    ];
    for c in commands {
        for legacy in [false, true] {
            let mut s = base.clone();
            s.splice_command = Some(c.clone());
            s.splice_command_length = if legacy { 0xFFF } else { 0 };
            seal(&mut s);
            let decoded = decode_bytes(&encode(&s), &DecodeOptions::default());
            let needs_length = matches!(
                c,
                SpliceCommand::PrivateCommand(_) | SpliceCommand::Reserved { .. }
            );
            if legacy && needs_length {
                assert!(matches!(decoded, Err(DecodeError::Invalid(_))), "{c:?}");
            } else {
                assert_eq!(decoded.as_ref(), Ok(&s), "{c:?} legacy={legacy}");
            }
        }
    }
}

#[test]
fn mid_mpu_and_text_upids() {
    // Comcast/gots padOpenSignalBytes: an MID of MPU, ADI and ADS information.
    let s = strict("/DBsAAH/7m1eAAKQBQb+sX6o+wBWAlRDVUVJAAAAJ3//AAApMuANQAwOQU1DTiBMMDAxMjM0NTYJCFBPOjEyMzQ1DiRiY2IxZGQ4ZS1kMzIzLTQ1ODktOWQ3OC1hM2QxMzYyYWJiYjYwAQGtc8xr");
    let d = s.segmentation_descriptors().next().unwrap();
    assert_eq!(d.segmentation_upid_type, upid_type::MID);
    let Upid::Mid(list) = &d.segmentation_upid else {
        panic!("{d:?}")
    };
    assert_eq!(list.len(), 3);
    assert_eq!(
        list[0].segmentation_upid,
        Upid::Mpu {
            format_identifier: u32::from_be_bytes(*b"AMCN"),
            private_data: Bytes(b" L00123456".to_vec()),
        }
    );
    assert_eq!(list[1].segmentation_upid, Upid::Text("PO:12345".into()));
    assert_eq!(
        list[2].segmentation_upid,
        Upid::Text("bcb1dd8e-d323-4589-9d78-a3d1362abbb6".into())
    );
    assert_eq!(
        d.segmentation_upid.display(d.segmentation_upid_type),
        " L00123456,PO:12345,bcb1dd8e-d323-4589-9d78-a3d1362abbb6"
    );
}

#[test]
fn time_and_audio_descriptors_round_trip() {
    let mut s = strict(SAMPLE_14_1);
    s.splice_descriptors = vec![
        SpliceDescriptor::Time(TimeDescriptor {
            tai_seconds: 0x0000_6543_2100,
            tai_ns: 500,
            utc_offset: 37,
        }),
        SpliceDescriptor::Audio(AudioDescriptor {
            components: vec![AudioComponent {
                component_tag: 1,
                iso_code: Bytes(b"eng".to_vec()),
                bit_stream_mode: 2,
                num_channels: 6,
                full_srvc_audio: true,
            }],
        }),
        SpliceDescriptor::Private(PrivateDescriptor {
            splice_descriptor_tag: 0xF0,
            identifier: u32::from_be_bytes(*b"ACME"),
            private_bytes: Bytes(vec![9, 9]),
        }),
    ];
    seal(&mut s);
    assert_eq!(
        decode_bytes(&encode(&s), &DecodeOptions::default()),
        Ok(s.clone())
    );
    assert_eq!(
        s.splice_descriptors
            .iter()
            .map(|d| d.tag())
            .collect::<Vec<_>>(),
        vec![tag::TIME, tag::AUDIO, 0xF0]
    );
}

#[test]
fn json_uses_spec_names() {
    let v = serde_json::to_value(strict(SAMPLE_14_1)).unwrap();
    assert_eq!(v["pts_adjustment"], 0);
    assert_eq!(v["splice_command"]["name"], "time_signal");
    assert_eq!(
        v["splice_command"]["splice_time"]["pts_time"],
        1_924_989_008u64
    );
    let d = &v["splice_descriptors"][0];
    assert_eq!(d["name"], "segmentation");
    assert_eq!(d["segmentation_type_id"], 0x34);
    assert_eq!(d["archive_allowed_flag"], true);
    assert_eq!(d["segmentation_upid"]["format"], "bytes");
    assert_eq!(d["segmentation_upid"]["value"], "0x000000002ca0a18a");
}

// === rules ===

#[test]
fn splice_insert_out_and_in() {
    let rules = CueRules::default();
    assert_eq!(
        classify(&strict(SAMPLE_14_2), &rules),
        Signal::Out {
            duration: Some(0x0052_CCF5 as f64 / 90_000.0),
            source: Some(DurationSource::BreakDuration),
            event_id: Some(0x4800_008F)
        }
    );
    // 0x35: Provider Placement Opportunity End.
    let end = strict("/DAvAAAAAAAA///wBQb+dGKQoAAZAhdDVUVJSAAAjn+fCAgAAAAALKChijUCAKnMZ1g=");
    assert_eq!(
        classify(&end, &rules),
        Signal::In {
            event_id: Some(0x4800_008E)
        }
    );
    let mut back_in = strict(SAMPLE_14_2);
    if let Some(SpliceCommand::SpliceInsert(si)) = &mut back_in.splice_command {
        si.out_of_network_indicator = false;
    }
    assert!(matches!(classify(&back_in, &rules), Signal::In { .. }));
}

#[test]
fn segmentation_types_are_configurable() {
    let start = strict(SAMPLE_14_1); // 0x34 with a 307 s segmentation_duration
    let default = CueRules::default();
    assert_eq!(
        classify(&start, &default),
        Signal::Out {
            duration: Some(307.0),
            source: Some(DurationSource::SegmentationDuration),
            event_id: Some(0x4800_008E)
        }
    );
    let only_breaks = CueRules {
        segmentation_types: vec![0x22, 0x23],
        lenient_crc: false,
    };
    assert_eq!(classify(&start, &only_breaks), Signal::None);
    // Program Start/End are not breaks by default.
    let program = strict("/DBIAAAAAAAA///wBQb+ek2ItgAyAhdDVUVJSAAAGH+fCAgAAAAALMvDRBEAAAIXQ1VFSUgAABl/nwgIAAAAACyk26AQAACZcuND");
    assert_eq!(classify(&program, &default), Signal::None);
    // End of one placement opportunity and start of a break in one message: opens.
    let both = strict("/DBIAAAAAAAAAP/wBQb/tB67hgAyAhdDVUVJQAABEn+fCAgAAAAALzE8BTUAAAIXQ1VFSUAAAEV/nwgIAAAAAC8xPN4jAAAfiOPE");
    // 0x35 and 0x23: two ends.
    assert!(matches!(classify(&both, &default), Signal::In { .. }));
    // A heartbeat is nothing.
    assert_eq!(
        classify(&strict("/DARAAAAAAAAAP/wAAAAAHpPv/8="), &default),
        Signal::None
    );
}

#[test]
fn ads_variables_use_mediatailor_names() {
    let rules = CueRules::default();
    let v = ads_vars(&strict(SAMPLE_14_2), &rules);
    assert_eq!(v["scte.event_id"], "1207959695");
    assert_eq!(v["scte.avail_num"], "0");
    assert_eq!(v["scte.avails_expected"], "0");
    assert_eq!(v["scte.duration"], "60.293567");
    assert_eq!(v["scte.pts_time"], "21514.559089");
    let v = ads_vars(&strict(SAMPLE_14_1), &rules);
    assert_eq!(v["scte.segmentation_event_id"], "1207959694");
    assert_eq!(v["scte.segmentation_type_id"], "52");
    assert_eq!(v["scte.segmentation_upid"], "0x000000002ca0a18a");
    assert_eq!(v["scte.segment_num"], "2");
    assert_eq!(v["scte.segments_expected"], "0");
    assert!(!v.contains_key("scte.sub_segment_num"));
    assert_eq!(v["scte.delivery_not_restricted_flag"], "0");
    assert_eq!(v["scte.web_delivery_allowed_flag"], "0");
    assert_eq!(v["scte.no_regional_blackout_flag"], "1");
    assert_eq!(v["scte.archive_allowed_flag"], "1");
    assert_eq!(v["scte.device_restrictions"], "3");
    assert_eq!(v["scte.duration"], "307");
    // MPU (MediaTailor's doc example): format identifier and colon tokens.
    let mpu = strict(
        "/DA9AAAAAAAAAP/wBQb+uYbZqwAnAiVDVUVJAAAKqX//AAEjW4AMEU1EU05CMDAxMTMyMjE5M19ONAAAmXz5JA==",
    );
    let v = ads_vars(&mpu, &rules);
    assert_eq!(v["scte.segmentation_upid.format_identifier"], "MDSN");
    assert_eq!(v["scte.segmentation_upid.private_data"], "B0011322193_N");
    assert_eq!(v["scte.segmentation_upid.private_data.0"], "B0011322193_N");
    assert_eq!(v["scte.segmentation_upid"], "B0011322193_N");
}

#[test]
fn seconds_format() {
    assert_eq!(format_seconds(20.0), "20");
    assert_eq!(format_seconds(20.02), "20.02");
    assert_eq!(format_seconds(0.0), "0");
    assert_eq!(format_seconds(60.293_567), "60.293567");
}

// === DASH carriage ===

#[test]
fn dash_xml_splice_insert_matches_its_binary_twin() {
    // A splice_insert written as XML and as binary (values of the AWS MediaTailor DASH
    // documentation's example, spliceEventId 448).
    let xml = r#"<Event duration="2160000"><scte35:SpliceInfoSection ptsAdjustment="0" tier="4095">
        <scte35:SpliceInsert spliceEventId="448" spliceEventCancelIndicator="false" outOfNetworkIndicator="true" spliceImmediateFlag="false" uniqueProgramId="49152" availNum="0" availsExpected="0">
          <scte35:Program><scte35:SpliceTime/></scte35:Program>
          <scte35:BreakDuration autoReturn="false" duration="2160000"/>
        </scte35:SpliceInsert></scte35:SpliceInfoSection></Event>"#;
    let from_xml = xml::decode_event(xml::SCHEME_XML, xml, &DecodeOptions::default()).unwrap();
    let bin = strict("/DAhAAAAAAAAAP/wEAUAAAHAf+9/fgAg9YDAAAAAAAA25aoh");
    assert_eq!(insert_of(&from_xml), insert_of(&bin));
    assert_eq!(from_xml.tier, 0xFFF);
    let wrapped = format!(
        "<Event><Signal xmlns=\"http://www.scte.org/schemas/35/2016\"><Binary>{}</Binary></Signal></Event>",
        "/DAhAAAAAAAAAP/wEAUAAAHAf+9/fgAg9YDAAAAAAAA25aoh"
    );
    assert_eq!(
        xml::decode_event(xml::SCHEME_XML_BIN, &wrapped, &DecodeOptions::default()).unwrap(),
        bin
    );
    assert_eq!(
        xml::decode_event(
            xml::SCHEME_BIN,
            "<Event>/DAhAAAAAAAAAP/wEAUAAAHAf+9/fgAg9YDAAAAAAAA25aoh</Event>",
            &DecodeOptions::default()
        )
        .unwrap(),
        bin
    );
    assert!(xml::decode_event("urn:other", "<x/>", &DecodeOptions::default()).is_err());
}

// === properties ===

fn arb_pts() -> impl Strategy<Value = Pts90k> {
    (0u64..PTS_MODULUS).prop_map(Pts90k)
}

fn arb_splice_time() -> impl Strategy<Value = SpliceTime> {
    proptest::option::of(arb_pts()).prop_map(|pts_time| SpliceTime { pts_time })
}

fn arb_break_duration() -> impl Strategy<Value = Option<BreakDuration>> {
    proptest::option::of(
        (any::<bool>(), 0u64..PTS_MODULUS).prop_map(|(auto_return, d)| BreakDuration {
            auto_return,
            duration: Duration90k(d),
        }),
    )
}

fn arb_insert() -> impl Strategy<Value = SpliceInsert> {
    (
        any::<u32>(),
        any::<bool>(),
        any::<bool>(),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        arb_splice_time(),
        proptest::collection::vec((any::<u8>(), arb_splice_time()), 0..3),
        arb_break_duration(),
        (any::<u16>(), any::<u8>(), any::<u8>()),
    )
        .prop_map(
            |(
                id,
                cancel,
                compliance,
                (oon, program, immediate),
                time,
                comps,
                bd,
                (upi, an, ae),
            )| {
                if cancel {
                    return SpliceInsert {
                        splice_event_id: id,
                        splice_event_cancel_indicator: true,
                        event_id_compliance_flag: compliance,
                        ..SpliceInsert::default()
                    };
                }
                SpliceInsert {
                    splice_event_id: id,
                    splice_event_cancel_indicator: false,
                    event_id_compliance_flag: compliance,
                    out_of_network_indicator: oon,
                    program_splice_flag: program,
                    splice_immediate_flag: immediate,
                    splice_time: (program && !immediate).then_some(time),
                    components: if program {
                        Vec::new()
                    } else {
                        comps
                            .into_iter()
                            .map(|(component_tag, t)| SpliceInsertComponent {
                                component_tag,
                                splice_time: (!immediate).then_some(t),
                            })
                            .collect()
                    },
                    break_duration: bd,
                    unique_program_id: upi,
                    avail_num: an,
                    avails_expected: ae,
                }
            },
        )
}

fn arb_upid() -> impl Strategy<Value = (u8, Upid)> {
    (
        prop_oneof![0u8..=0x11, any::<u8>()],
        proptest::collection::vec(any::<u8>(), 0..24),
        proptest::sample::select(vec!["SIGNAL:abc", "urn:uuid:1", "PO:1", ""]),
    )
        .prop_map(|(t, raw, text)| {
            let bytes = if raw.len() % 3 == 0 {
                text.as_bytes().to_vec()
            } else {
                raw
            };
            let u = Upid::from_bytes(t, &bytes);
            // Normalise (ATSC reserved bits): a UPID is what its bytes decode to.
            (t, Upid::from_bytes(t, &u.to_bytes()))
        })
}

fn arb_segmentation() -> impl Strategy<Value = SegmentationDescriptor> {
    (
        (any::<u32>(), any::<bool>(), any::<bool>(), any::<bool>()),
        proptest::option::of((any::<bool>(), any::<bool>(), any::<bool>(), 0u8..4)),
        proptest::collection::vec((any::<u8>(), arb_pts()), 0..3),
        proptest::option::of(0u64..(1 << 40)),
        arb_upid(),
        (
            prop_oneof![Just(0x34u8), Just(0x22), any::<u8>()],
            any::<u8>(),
            any::<u8>(),
        ),
        proptest::option::of((any::<u8>(), any::<u8>())),
    )
        .prop_map(
            |((id, cancel, compliance, program), restr, comps, dur, (ut, upid), (t, n, e), sub)| {
                if cancel {
                    return SegmentationDescriptor {
                        segmentation_event_id: id,
                        segmentation_event_cancel_indicator: true,
                        segmentation_event_id_compliance_indicator: compliance,
                        ..SegmentationDescriptor::default()
                    };
                }
                let sub = sub.filter(|_| SegmentationDescriptor::has_sub_segments(t));
                SegmentationDescriptor {
                    segmentation_event_id: id,
                    segmentation_event_cancel_indicator: false,
                    segmentation_event_id_compliance_indicator: compliance,
                    program_segmentation_flag: program,
                    delivery_restrictions: restr.map(|(w, r, a, d)| DeliveryRestrictions {
                        web_delivery_allowed_flag: w,
                        no_regional_blackout_flag: r,
                        archive_allowed_flag: a,
                        device_restrictions: d,
                    }),
                    components: if program {
                        Vec::new()
                    } else {
                        comps
                            .into_iter()
                            .map(|(component_tag, pts_offset)| SegmentationComponent {
                                component_tag,
                                pts_offset,
                            })
                            .collect()
                    },
                    segmentation_duration: dur.map(Duration90k),
                    segmentation_upid_type: ut,
                    segmentation_upid: upid,
                    segmentation_type_id: t,
                    segment_num: n,
                    segments_expected: e,
                    sub_segment_num: sub.map(|s| s.0),
                    sub_segments_expected: sub.map(|s| s.1),
                }
            },
        )
}

fn arb_descriptor() -> impl Strategy<Value = SpliceDescriptor> {
    prop_oneof![
        any::<u32>().prop_map(
            |provider_avail_id| SpliceDescriptor::Avail(AvailDescriptor { provider_avail_id })
        ),
        (any::<u8>(), "[0-9*#]{0,7}").prop_map(|(preroll, dtmf_chars)| {
            SpliceDescriptor::Dtmf(DtmfDescriptor {
                preroll,
                dtmf_chars,
            })
        }),
        arb_segmentation().prop_map(SpliceDescriptor::Segmentation),
        (0u64..(1 << 48), any::<u32>(), any::<u16>()).prop_map(|(s, ns, o)| {
            SpliceDescriptor::Time(TimeDescriptor {
                tai_seconds: s,
                tai_ns: ns,
                utc_offset: o,
            })
        }),
        proptest::collection::vec(
            (any::<u8>(), "[a-z]{3}", 0u8..8, 0u8..16, any::<bool>()),
            0..4
        )
        .prop_map(|cs| {
            SpliceDescriptor::Audio(AudioDescriptor {
                components: cs
                    .into_iter()
                    .map(|(t, iso, m, n, f)| AudioComponent {
                        component_tag: t,
                        iso_code: Bytes(iso.into_bytes()),
                        bit_stream_mode: m,
                        num_channels: n,
                        full_srvc_audio: f,
                    })
                    .collect(),
            })
        }),
        (
            any::<u8>(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 0..16)
        )
            .prop_filter(
                "a CUEI descriptor with a defined tag is not private",
                |(t, id, _)| { *id != CUEI || *t > tag::AUDIO }
            )
            .prop_map(|(t, identifier, b)| {
                SpliceDescriptor::Private(PrivateDescriptor {
                    splice_descriptor_tag: t,
                    identifier,
                    private_bytes: Bytes(b),
                })
            }),
    ]
}

fn arb_command() -> impl Strategy<Value = SpliceCommand> {
    prop_oneof![
        Just(SpliceCommand::SpliceNull),
        Just(SpliceCommand::BandwidthReservation),
        arb_splice_time()
            .prop_map(|splice_time| SpliceCommand::TimeSignal(TimeSignal { splice_time })),
        arb_insert().prop_map(SpliceCommand::SpliceInsert),
        proptest::collection::vec(
            (
                any::<u32>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                proptest::option::of(any::<u32>()),
                arb_break_duration()
            ),
            0..3
        )
        .prop_map(|evs| {
            SpliceCommand::SpliceSchedule(SpliceSchedule {
                events: evs
                    .into_iter()
                    .map(|(id, cancel, oon, compliance, utc, bd)| {
                        if cancel {
                            ScheduleEvent {
                                splice_event_id: id,
                                splice_event_cancel_indicator: true,
                                event_id_compliance_flag: compliance,
                                ..ScheduleEvent::default()
                            }
                        } else {
                            ScheduleEvent {
                                splice_event_id: id,
                                event_id_compliance_flag: compliance,
                                out_of_network_indicator: oon,
                                program_splice_flag: utc.is_some(),
                                utc_splice_time: utc,
                                components: if utc.is_some() {
                                    Vec::new()
                                } else {
                                    vec![ScheduleComponent {
                                        component_tag: 1,
                                        utc_splice_time: id,
                                    }]
                                },
                                break_duration: bd,
                                ..ScheduleEvent::default()
                            }
                        }
                    })
                    .collect(),
            })
        }),
        (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..16)).prop_map(
            |(identifier, b)| {
                SpliceCommand::PrivateCommand(PrivateCommand {
                    identifier,
                    private_bytes: Bytes(b),
                })
            }
        ),
        (8u8..0xFF, proptest::collection::vec(any::<u8>(), 0..8)).prop_map(|(t, b)| {
            SpliceCommand::Reserved {
                splice_command_type: t,
                bytes: Bytes(b),
            }
        }),
    ]
}

fn arb_section() -> impl Strategy<Value = SpliceInfoSection> {
    (
        (
            0u8..4,
            any::<u8>(),
            0u8..64,
            arb_pts(),
            any::<u8>(),
            0u16..0x1000,
        ),
        arb_command(),
        proptest::collection::vec(arb_descriptor(), 0..4),
        proptest::collection::vec(any::<u8>(), 0..4),
        any::<bool>(),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 1..12)),
    )
        .prop_map(
            |((sap, pv, alg, adj, cw, tier), command, descriptors, stuffing, legacy, encrypted)| {
                let legacy = legacy
                    && !matches!(
                        command,
                        SpliceCommand::PrivateCommand(_) | SpliceCommand::Reserved { .. }
                    );
                let mut s = SpliceInfoSection {
                    table_id: TABLE_ID,
                    section_syntax_indicator: false,
                    private_indicator: false,
                    sap_type: sap,
                    section_length: 0,
                    protocol_version: pv,
                    encrypted_packet: encrypted.is_some(),
                    encryption_algorithm: alg,
                    pts_adjustment: adj,
                    cw_index: cw,
                    tier,
                    splice_command_length: if legacy { 0xFFF } else { 0 },
                    splice_command_type: None,
                    splice_command: None,
                    descriptor_loop_length: 0,
                    splice_descriptors: Vec::new(),
                    alignment_stuffing: Bytes::default(),
                    encrypted_payload: None,
                    crc_32: 0,
                    warnings: Vec::new(),
                };
                match encrypted {
                    Some(payload) => {
                        s.splice_command_length = tier; // any 12-bit value
                        s.encrypted_payload = Some(Bytes(payload));
                    }
                    None => {
                        s.splice_command = Some(command);
                        s.splice_descriptors = descriptors;
                        s.alignment_stuffing = Bytes(stuffing);
                    }
                }
                seal(&mut s);
                s
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_of_encode_is_identity(s in arb_section()) {
        let bytes = encode(&s);
        prop_assert_eq!(decode_bytes(&bytes, &DecodeOptions::default()), Ok(s.clone()));
        // And through base64 and hex text.
        prop_assert_eq!(decode(&text::encode_base64(&bytes), &DecodeOptions::default()), Ok(s.clone()));
        prop_assert_eq!(decode(&text::to_hex(&bytes), &DecodeOptions::default()), Ok(s));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_bytes(&bytes, &DecodeOptions::default());
        let _ = decode_bytes(&bytes, &DecodeOptions::lenient());
        let mut with_header = vec![0xFC, 0x30, bytes.len().min(0xFFF) as u8];
        with_header.extend_from_slice(&bytes);
        let _ = decode_bytes(&with_header, &DecodeOptions::lenient());
    }

    #[test]
    fn decoding_mutated_cues_never_panics(
        s in arb_section(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = encode(&s);
        for (i, v) in flips {
            let i = i.index(bytes.len());
            bytes[i] ^= v;
        }
        let _ = decode_bytes(&bytes, &DecodeOptions::lenient());
        let n = cut.index(bytes.len() + 1);
        let _ = decode_bytes(&bytes[..n], &DecodeOptions::lenient());
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(t in "\\PC*") {
        let _ = decode(&t, &DecodeOptions::lenient());
        let _ = xml::decode_event(xml::SCHEME_XML, &t, &DecodeOptions::lenient());
        let _ = xml::decode_event(xml::SCHEME_XML_BIN, &t, &DecodeOptions::lenient());
    }

    #[test]
    fn rules_never_panic(s in arb_section(), types in proptest::collection::vec(any::<u8>(), 0..6)) {
        let rules = CueRules { segmentation_types: types, lenient_crc: false };
        let _ = classify(&s, &rules);
        let _ = ads_vars(&s, &rules);
        let _ = serde_json::to_string(&s);
    }
}
