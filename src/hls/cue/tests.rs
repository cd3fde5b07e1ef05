use proptest::prelude::*;

use super::*;
use crate::hls::model::parse_media;
use crate::scte35::encode::{encode, seal};
use crate::scte35::text::encode_base64;
use crate::scte35::{DecodeOptions, Duration90k, SpliceCommand, SpliceDescriptor};

fn breaks_of(text: &str) -> Vec<AdBreak> {
    find_breaks(&parse_media(text).unwrap())
}

fn scan_of(text: &str, rules: &CueRules) -> BreakScan {
    scan_breaks(&parse_media(text).unwrap(), rules)
}

/// splice_insert, out of network, break_duration 15 s, splice_event_id 1 (the cue of
/// threefive's `examples/hls/simple-scte35.m3u8`).
const INSERT_OUT_15S: &str = "/DAlAAAAAAAAAP/wFAUAAAABf+/+ANgNkv4AFJlwAAEBAQAA5xULLA==";
/// time_signal, Provider Placement Opportunity Start (0x34), segmentation_duration
/// 307 s (SCTE 35 sample 14.1).
const PPO_START_307S: &str =
    "/DA0AAAAAAAA///wBQb+cr0AUAAeAhxDVUVJSAAAjn/PAAGlmbAICAAAAAAsoKGKNAIAmsnRfg==";
/// time_signal, Provider Placement Opportunity End (0x35) (sample 14.3).
const PPO_END: &str = "/DAvAAAAAAAA///wBQb+dGKQoAAZAhdDVUVJSAAAjn+fCAgAAAAALKChijUCAKnMZ1g=";
/// A splice_insert out whose CRC_32 is off by one (Comcast/scte35-go "Invalid CRC_32").
const BAD_CRC: &str =
    "/DA4AAAAAAAAAP/wFAUABDEAf+//mWEhzP4Azf5gAQAAAAATAhFDVUVJAAAAAX+/AQIwNAEAAKeYO3Q=";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/hls/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Segments `a.ts`, `b.ts`, ... of 6 s, with `tags[i]` before segment i (tags past
/// the segments go in the trailer).
fn playlist(tags: &[&[&str]], segments: usize) -> String {
    let mut s = String::from("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:10\n");
    for i in 0..=segments {
        for t in tags.get(i).copied().unwrap_or(&[]) {
            s.push_str(t);
            s.push('\n');
        }
        if i < segments {
            s.push_str(&format!("#EXTINF:6.0,\n{}.ts\n", (b'a' + i as u8) as char));
        }
    }
    s
}

#[test]
fn reads_every_cue_out_form() {
    let out = |l: &str| match parse_cue(l) {
        Some(CueMarker::Out { duration, .. }) => duration,
        other => panic!("{l}: {other:?}"),
    };
    assert_eq!(out("#EXT-X-CUE-OUT:30"), Some(30.0));
    assert_eq!(out("#EXT-X-CUE-OUT:20.020"), Some(20.02));
    assert_eq!(out("#EXT-X-CUE-OUT:DURATION=30"), Some(30.0));
    assert_eq!(out("#EXT-X-CUE-OUT:Duration=120"), Some(120.0));
    assert_eq!(out("#EXT-X-CUE-OUT:DURATION=\"120\""), Some(120.0));
    assert_eq!(out("#EXT-X-CUE-OUT: 120"), Some(120.0));
    assert_eq!(out("#EXT-X-CUE-OUT:120.000,BreakID=7"), Some(120.0));
    assert_eq!(out("#EXT-X-CUE-OUT"), None);
    assert_eq!(out("#EXT-X-CUE-OUT:"), None);
    assert_eq!(parse_cue("#EXT-X-CUE-OUT:abc"), None);
    assert_eq!(parse_cue("#EXT-X-CUE-OUT:-5"), None);
    assert_eq!(parse_cue("#EXT-X-CUE-OUTX"), None);
    assert_eq!(parse_cue("#EXT-X-CUE-IN"), Some(CueMarker::In { id: None }));
    assert_eq!(
        parse_cue("#EXT-X-CUE-IN:"),
        Some(CueMarker::In { id: None })
    );
    assert_eq!(
        parse_cue("#EXT-X-CUE-IN:ID=1"),
        Some(CueMarker::In {
            id: Some("1".into())
        })
    );
}

#[test]
fn envivio_cue_out_carries_id_and_cue() {
    let line = format!("#EXT-X-CUE-OUT:DURATION=15,ID=7,CUE=\"{INSERT_OUT_15S}\"");
    let m = parse_marker(&line, &CueRules::default()).unwrap().unwrap();
    assert_eq!(m.kind, MarkerKind::Out);
    assert_eq!(m.id.as_deref(), Some("7"));
    assert_eq!(m.duration, Some(15.0));
    assert_eq!(m.duration_source, Some(DurationSource::Marker));
    assert_eq!(m.event_id, Some(1));
    assert_eq!(m.vars["scte.event_id"], "1");
    assert_eq!(m.vars[VAR_CUE], INSERT_OUT_15S);
    let b = breaks_of(&playlist(&[&[], &[&line], &[], &[]], 4));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].id, "id-7");
    assert_eq!(b[0].vars["scte.avail_num"], "1");
}

#[test]
fn reads_cue_out_cont_forms() {
    let line = format!("#EXT-X-CUE-OUT-CONT:ElapsedTime=7.960,Duration=50,SCTE35={INSERT_OUT_15S}");
    assert_eq!(
        parse_cue(&line),
        Some(CueMarker::Cont {
            elapsed: Some(7.96),
            duration: Some(50.0),
            dialect: Dialect::CueOut
        })
    );
    assert_eq!(
        parse_cue("#EXT-X-CUE-OUT-CONT:12/30"),
        Some(CueMarker::Cont {
            elapsed: Some(12.0),
            duration: Some(30.0),
            dialect: Dialect::CueOut
        })
    );
    assert_eq!(
        parse_cue("#EXT-X-CUE-OUT-CONT:Duration=120,ElapsedTime=0.667"),
        Some(CueMarker::Cont {
            elapsed: Some(0.667),
            duration: Some(120.0),
            dialect: Dialect::CueOut
        })
    );
    assert_eq!(
        parse_cue("#EXT-X-CUE-OUT-CONT"),
        Some(CueMarker::Cont {
            elapsed: None,
            duration: None,
            dialect: Dialect::CueOut
        })
    );
}

#[test]
fn reads_daterange_markers() {
    let l = "#EXT-X-DATERANGE:ID=\"splice-1\",START-DATE=\"2024-01-01T00:00:00Z\",PLANNED-DURATION=59.993,SCTE35-OUT=0xFC002F";
    match parse_cue(l) {
        Some(CueMarker::Out { duration, id, .. }) => {
            assert_eq!(duration, Some(59.993));
            assert_eq!(id.as_deref(), Some("splice-1"));
        }
        other => panic!("{other:?}"),
    }
    // The cue is truncated: the tag stands, the cue is noted and left out.
    let m = parse_marker(l, &CueRules::default()).unwrap().unwrap();
    assert!(m.cue.is_none() && m.cue_error.is_some(), "{m:?}");
    let l = "#EXT-X-DATERANGE:ID=\"splice-1\",START-DATE=\"2024-01-01T00:01:00Z\",SCTE35-IN=0xFC";
    assert_eq!(
        parse_cue(l),
        Some(CueMarker::In {
            id: Some("splice-1".into())
        })
    );
    assert_eq!(
        parse_cue("#EXT-X-DATERANGE:ID=\"x\",START-DATE=\"2024-01-01T00:00:00Z\",X-AD=1"),
        None
    );
    // SCTE35-CMD: the cue decides.
    let hex =
        crate::scte35::text::to_hex(&crate::scte35::text::decode_text(PPO_START_307S).unwrap());
    let cmd =
        format!("#EXT-X-DATERANGE:ID=\"c1\",START-DATE=\"2024-01-01T00:00:00Z\",SCTE35-CMD={hex}");
    let m = parse_marker(&cmd, &CueRules::default()).unwrap().unwrap();
    assert_eq!((m.kind, m.duration), (MarkerKind::Out, Some(307.0)));
    assert_eq!(m.id.as_deref(), Some("c1"));
    let hex = crate::scte35::text::to_hex(&crate::scte35::text::decode_text(PPO_END).unwrap());
    let cmd =
        format!("#EXT-X-DATERANGE:ID=\"c2\",START-DATE=\"2024-01-01T00:05:07Z\",SCTE35-CMD={hex}");
    let m = parse_marker(&cmd, &CueRules::default()).unwrap().unwrap();
    assert_eq!((m.kind, m.id), (MarkerKind::In, None));
    // A heartbeat command is no marker; an undecodable one is malformed.
    assert_eq!(
        parse_marker(
            "#EXT-X-DATERANGE:ID=\"h\",START-DATE=\"2024-01-01T00:00:00Z\",SCTE35-CMD=0xFC301100000000000000FFF0000000007A4FBFFF",
            &CueRules::default()
        ),
        Ok(None)
    );
    assert!(parse_marker(
        "#EXT-X-DATERANGE:ID=\"test_id\",START-DATE=\"2020-03-11T10:51:00Z\",SCTE35-CMD=0xFCINVALIDSECTION",
        &CueRules::default()
    )
    .is_err());
}

#[test]
fn markers_are_cue_lines_but_daterange_and_asset_are_not() {
    for l in [
        "#EXT-X-CUE-OUT:30",
        "#EXT-X-CUE-OUT",
        "#EXT-X-CUE-OUT-CONT:ElapsedTime=6",
        "#EXT-X-CUE-IN",
        "#EXT-OATCLS-SCTE35:/DA=",
        "#EXT-X-SCTE35:CUE=\"/DA=\"",
        "#EXT-X-SPLICEPOINT-SCTE35:/DA=",
        "#EXT-X-CUE:TYPE=SpliceOut,ID=1",
        "#EXT-X-CUE-CONT:ID=1",
        "#EXT-X-CUE-SPAN:TIMEFROMSIGNAL=PT10S",
    ] {
        assert!(is_cue_line(l), "{l}");
    }
    for l in [
        "#EXT-X-DATERANGE:ID=\"1\",SCTE35-OUT=0xFC",
        "#EXT-X-ASSET:CAID=1",
        "#EXT-X-CUEPOINT:foo",
        "#EXT-X-CUE-OUTX",
        "#EXTINF:6,",
    ] {
        assert!(!is_cue_line(l), "{l}");
    }
}

const LIVE: &str = "#EXTM3U
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:10
#EXTINF:6.0,
a.ts
#EXT-X-CUE-OUT:12
#EXTINF:6.0,
b.ts
#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=12
#EXTINF:6.0,
c.ts
#EXT-X-CUE-IN
#EXTINF:6.0,
d.ts
";

#[test]
fn finds_a_closed_break() {
    let b = breaks_of(LIVE);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].id, "msn-11");
    assert_eq!(b[0].start, BreakStart::At(1));
    assert_eq!(b[0].end, Some(3));
    assert_eq!(b[0].duration, Some(12.0));
    assert!(!b[0].insert);
    assert_eq!(
        find_breaks_with(&parse_media(LIVE).unwrap(), &CueRules::default()),
        b
    );
}

#[test]
fn early_cue_in_ends_the_break() {
    let text = LIVE.replace(
        "#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=12\n",
        "#EXT-X-CUE-IN\n",
    );
    let b = breaks_of(&text);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].end, Some(2));
}

#[test]
fn duration_closes_a_break_without_cue_in() {
    let text = LIVE.replace("#EXT-X-CUE-IN\n", "");
    let b = breaks_of(&text);
    assert_eq!(b[0].end, Some(3));
}

#[test]
fn continuations_after_the_duration_do_not_open_another_break() {
    // CUE-OUT says 12 s, the packager keeps sending CONT for longer.
    let cont = "#EXT-X-CUE-OUT-CONT:ElapsedTime=12,Duration=24";
    let text = playlist(
        &[
            &[],
            &["#EXT-X-CUE-OUT:12"],
            &[cont],
            &[cont],
            &[cont],
            &["#EXT-X-CUE-IN"],
        ],
        6,
    );
    let b = breaks_of(&text);
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(b[0].end, Some(3));
}

#[test]
fn open_break_at_live_edge() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\na.ts\n#EXT-X-CUE-OUT\n#EXTINF:6.0,\nb.ts\n";
    let b = breaks_of(text);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].end, None);
    assert_eq!(b[0].duration, None);
}

#[test]
fn bare_cue_out_takes_its_duration_from_cue_in() {
    let text = LIVE
        .replace("#EXT-X-CUE-OUT:12", "#EXT-X-CUE-OUT")
        .replace("#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=12\n", "");
    let b = breaks_of(&text);
    assert_eq!(b[0].duration, Some(12.0));
}

#[test]
fn window_opening_mid_break() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:12\n#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=12\n#EXTINF:6.0,\nc.ts\n#EXT-X-CUE-IN\n#EXTINF:6.0,\nd.ts\n";
    let b = breaks_of(text);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].start, BreakStart::BeforeWindow);
    assert_eq!(b[0].end, Some(1));
    assert_eq!(b[0].elapsed_at_window_start, Some(6.0));
    assert_eq!(b[0].id, "open-12");
}

#[test]
fn a_break_seen_only_in_cont_tags_from_the_second_segment() {
    // The shape of globocom/m3u8's CUE_OUT_PLAYLIST: the OUT was never written.
    let b = breaks_of(&playlist(
        &[
            &[],
            &["#EXT-X-CUE-OUT-CONT"],
            &["#EXT-X-CUE-OUT-CONT"],
            &["#EXT-X-CUE-IN"],
        ],
        4,
    ));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].start, BreakStart::At(1));
    assert_eq!(b[0].end, Some(3));
    assert_eq!(b[0].duration, Some(12.0));
    assert_eq!(b[0].id, "msn-11");
    // With elapsed and duration, what is left of the break is its duration.
    let b = breaks_of(&playlist(
        &[&[], &["#EXT-X-CUE-OUT-CONT:ElapsedTime=10,Duration=22"]],
        4,
    ));
    assert_eq!(b[0].duration, Some(12.0));
    assert_eq!(b[0].end, Some(3));
}

#[test]
fn vod_insertion_points() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n#EXTINF:6.0,\na.ts\n#EXT-X-CUE-OUT:0\n#EXTINF:6.0,\nb.ts\n#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n#EXT-X-ENDLIST\n";
    let b = breaks_of(text);
    assert_eq!(b.len(), 3);
    assert!(b.iter().all(|b| b.insert));
    assert_eq!(
        b.iter().map(|b| b.start).collect::<Vec<_>>(),
        vec![BreakStart::At(0), BreakStart::At(1), BreakStart::At(2)]
    );
}

#[test]
fn daterange_break_with_matching_in() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\na.ts\n#EXT-X-DATERANGE:ID=\"b1\",START-DATE=\"2024-01-01T00:00:06Z\",SCTE35-OUT=0xFC\n#EXTINF:6.0,\nb.ts\n#EXT-X-DATERANGE:ID=\"other\",START-DATE=\"2024-01-01T00:00:12Z\",SCTE35-IN=0xFC\n#EXTINF:6.0,\nc.ts\n#EXT-X-DATERANGE:ID=\"b1\",START-DATE=\"2024-01-01T00:00:18Z\",SCTE35-IN=0xFC\n#EXTINF:6.0,\nd.ts\n";
    let b = breaks_of(text);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].id, "id-b1");
    assert_eq!(b[0].end, Some(3));
    assert_eq!(b[0].dialect, Dialect::DateRange);
}

#[test]
fn malformed_marker_is_content() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-CUE-OUT:banana\n#EXTINF:6.0,\na.ts\n";
    assert!(breaks_of(text).is_empty());
    let scan = scan_of(text, &CueRules::default());
    assert_eq!(scan.ignored.len(), 1);
    assert_eq!(scan.ignored[0].segment, 0);
}

// === dialects ===

#[test]
fn oatcls_alone_opens_and_closes_by_its_cue() {
    let b = breaks_of(&playlist(
        &[
            &[],
            &[&format!("#EXT-OATCLS-SCTE35:{PPO_START_307S}")],
            &[],
            &[&format!("#EXT-OATCLS-SCTE35:{PPO_END}")],
        ],
        5,
    ));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].dialect, Dialect::Oatcls);
    assert_eq!((b[0].start, b[0].end), (BreakStart::At(1), Some(3)));
    assert_eq!(b[0].duration, Some(307.0));
    assert_eq!(b[0].vars["scte.segmentation_type_id"], "52");
}

#[test]
fn oatcls_and_cue_out_on_one_segment_are_one_break() {
    for order in [[0, 1], [1, 0]] {
        let tags = [
            format!("#EXT-OATCLS-SCTE35:{INSERT_OUT_15S}"),
            "#EXT-X-CUE-OUT:15.000".to_string(),
        ];
        let seg: Vec<&str> = order.iter().map(|&i| tags[i].as_str()).collect();
        let scan = scan_of(
            &playlist(&[&seg, &[], &["#EXT-X-CUE-IN"]], 3),
            &CueRules::default(),
        );
        assert_eq!(scan.breaks.len(), 1, "{order:?}");
        let f = &scan.breaks[0];
        assert_eq!(f.ad_break.dialect, Dialect::CueOut);
        assert_eq!(f.ad_break.duration, Some(15.0));
        assert_eq!(f.duration_source, Some(DurationSource::Marker));
        assert_eq!(f.ad_break.vars["scte.event_id"], "1");
        assert!(f.cue.is_some());
        assert!(f.tags.contains(&OATCLS) && f.tags.contains(&CUE_OUT));
    }
}

#[test]
fn a_repeated_cue_of_the_same_event_does_not_start_another_break() {
    let oatcls = format!("#EXT-OATCLS-SCTE35:{INSERT_OUT_15S}");
    let b = breaks_of(&playlist(&[&[&oatcls], &[&oatcls], &[], &[]], 4));
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!((b[0].start, b[0].end), (BreakStart::At(0), Some(3)));
}

#[test]
fn duration_precedence() {
    let rules = CueRules::default();
    // A splice_insert of 15 s that also carries a 0x34 descriptor of 307 s.
    let mut both = crate::scte35::decode(INSERT_OUT_15S, &DecodeOptions::default()).unwrap();
    let ppo = crate::scte35::decode(PPO_START_307S, &DecodeOptions::default()).unwrap();
    both.splice_descriptors = ppo.splice_descriptors.clone();
    seal(&mut both);
    let both = encode_base64(&encode(&both));
    let cases: Vec<(Vec<String>, Option<f64>, Option<DurationSource>)> = vec![
        // 1. The marker's own duration.
        (
            vec![
                format!("#EXT-OATCLS-SCTE35:{both}"),
                "#EXT-X-CUE-OUT:30".into(),
            ],
            Some(30.0),
            Some(DurationSource::Marker),
        ),
        // 2. break_duration.
        (
            vec![
                format!("#EXT-OATCLS-SCTE35:{both}"),
                "#EXT-X-CUE-OUT".into(),
            ],
            Some(15.0),
            Some(DurationSource::BreakDuration),
        ),
        // 3. segmentation_duration.
        (
            vec![format!("#EXT-X-SPLICEPOINT-SCTE35:{PPO_START_307S}")],
            Some(307.0),
            Some(DurationSource::SegmentationDuration),
        ),
        // 4. A continuation's Duration=.
        (
            vec!["#EXT-X-CUE-OUT".into()],
            Some(24.0),
            Some(DurationSource::Continuation),
        ),
        // 5. Nothing: until the IN (measured when it comes).
        (vec!["#EXT-X-CUE-OUT".into()], None, None),
    ];
    for (n, (out, duration, source)) in cases.into_iter().enumerate() {
        let out: Vec<&str> = out.iter().map(String::as_str).collect();
        let cont: &[&str] = if n == 3 {
            &["#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=24"]
        } else {
            &[]
        };
        let scan = scan_of(&playlist(&[&[], &out, cont], 3), &rules);
        let f = &scan.breaks[0];
        assert_eq!(f.ad_break.duration, duration, "case {}", n + 1);
        assert_eq!(f.duration_source, source, "case {}", n + 1);
    }
    let b = breaks_of(&playlist(
        &[&[], &["#EXT-X-CUE-OUT"], &[], &["#EXT-X-CUE-IN"]],
        4,
    ));
    assert_eq!(b[0].duration, Some(12.0));
}

#[test]
fn a_malformed_cue_ignores_a_cue_only_marker_and_is_dropped_from_an_explicit_one() {
    let oatcls = format!("#EXT-OATCLS-SCTE35:{BAD_CRC}");
    let text = playlist(&[&[], &[&oatcls], &[], &[]], 4);
    let strict = scan_of(&text, &CueRules::default());
    assert!(strict.breaks.is_empty());
    assert_eq!(strict.ignored.len(), 1);
    assert!(
        strict.ignored[0].reason.contains("CRC_32"),
        "{:?}",
        strict.ignored
    );
    let lenient = CueRules {
        lenient_crc: true,
        ..CueRules::default()
    };
    let b = scan_of(&text, &lenient).breaks;
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].ad_break.vars["scte.event_id"], "274688");
    // CUE-OUT:30 with a bad CUE: the break stands, without the cue's values.
    let line = format!("#EXT-X-CUE-OUT:DURATION=30,CUE=\"{BAD_CRC}\"");
    let scan = scan_of(&playlist(&[&[], &[&line]], 3), &CueRules::default());
    assert_eq!(scan.breaks.len(), 1);
    assert_eq!(scan.breaks[0].ad_break.duration, Some(30.0));
    assert!(!scan.breaks[0].ad_break.vars.contains_key("scte.event_id"));
    assert_eq!(scan.ignored.len(), 1);
    // Truncated base64 in an OATCLS.
    let scan = scan_of(
        &playlist(&[&["#EXT-OATCLS-SCTE35:/DAlAAAA"]], 2),
        &CueRules::default(),
    );
    assert!(scan.breaks.is_empty());
    assert_eq!(scan.ignored.len(), 1);
}

#[test]
fn segmentation_types_are_per_configuration() {
    let text = playlist(
        &[&[&format!("#EXT-X-SPLICEPOINT-SCTE35:{PPO_START_307S}")]],
        3,
    );
    assert_eq!(scan_of(&text, &CueRules::default()).breaks.len(), 1);
    let breaks_only = CueRules {
        segmentation_types: vec![0x22, 0x23],
        lenient_crc: false,
    };
    let scan = scan_of(&text, &breaks_only);
    assert!(scan.breaks.is_empty() && scan.ignored.is_empty());
}

#[test]
fn ext_x_scte35_forms() {
    let text = fixture("media-ext-x-scte35-x9k3.m3u8");
    let scan = scan_of(&text, &CueRules::default());
    assert!(scan.ignored.is_empty(), "{:?}", scan.ignored);
    assert_eq!(scan.breaks.len(), 1);
    let b = &scan.breaks[0].ad_break;
    assert_eq!(b.dialect, Dialect::Scte35);
    assert_eq!((b.start, b.end), (BreakStart::At(1), Some(3)));
    assert_eq!(b.duration, Some(242.0));
    assert_eq!(
        scan.breaks[0].duration_source,
        Some(DurationSource::BreakDuration)
    );
    assert_eq!(b.vars["scte.event_id"], "662");
    // Without CUE-OUT/CUE-IN the cue decides.
    let line = format!("#EXT-X-SCTE35:CUE=\"{PPO_START_307S}\"");
    let m = parse_marker(&line, &CueRules::default()).unwrap().unwrap();
    assert_eq!((m.kind, m.duration), (MarkerKind::Out, Some(307.0)));
    let m = parse_marker(
        &format!("#EXT-X-SCTE35:CUE=\"{INSERT_OUT_15S}\",CUE-OUT=YES,DURATION=20"),
        &CueRules::default(),
    )
    .unwrap()
    .unwrap();
    assert_eq!((m.kind, m.duration), (MarkerKind::Out, Some(20.0)));
    let m = parse_marker(
        "#EXT-X-SCTE35:CUE-OUT=CONT,ELAPSED=4,DURATION=20",
        &CueRules::default(),
    )
    .unwrap()
    .unwrap();
    assert_eq!((m.kind, m.elapsed), (MarkerKind::Cont, Some(4.0)));
    assert!(parse_marker("#EXT-X-SCTE35:ID=1", &CueRules::default()).is_err());
}

#[test]
fn splicepoint_opens_with_0x34_and_closes_with_0x35() {
    let scan = scan_of(
        &fixture("media-splicepoint-scte35.m3u8"),
        &CueRules::default(),
    );
    assert_eq!(scan.breaks.len(), 1);
    let f = &scan.breaks[0];
    assert_eq!(f.ad_break.dialect, Dialect::Splicepoint);
    assert_eq!(
        (f.ad_break.start, f.ad_break.end),
        (BreakStart::At(1), Some(3))
    );
    assert_eq!(f.ad_break.id, "msn-101");
    assert_eq!(
        f.duration_source,
        Some(DurationSource::SegmentationDuration)
    );
    assert_eq!(
        f.ad_break.vars["scte.segmentation_upid.format_identifier"],
        "MDSN"
    );
    assert_eq!(f.ad_break.vars["scte.segmentation_upid"], "B0011322193_N");
    assert_eq!(f.ad_break.vars["scte.segmentation_type_id"], "52");
}

#[test]
fn oatcls_with_cue_out_vod_from_mediaconvert() {
    let scan = scan_of(
        &fixture("media-oatcls-time-signal-vod.m3u8"),
        &CueRules::default(),
    );
    assert!(scan.ignored.is_empty(), "{:?}", scan.ignored);
    let b: Vec<_> = scan.breaks.iter().map(|f| &f.ad_break).collect();
    assert_eq!(b.len(), 2);
    assert_eq!(
        (b[0].start, b[0].end, b[0].duration),
        (BreakStart::At(1), Some(5), Some(30.0))
    );
    assert_eq!(
        (b[1].start, b[1].end, b[1].duration),
        (BreakStart::At(9), Some(12), Some(30.0))
    );
    assert_eq!(b[0].id, "msn-2");
    assert_eq!(b[1].id, "msn-10");
    assert!(b.iter().all(|b| b.dialect == Dialect::CueOut));
    assert_eq!(b[0].vars["scte.segmentation_event_id"], "1");
    assert_eq!(b[1].vars["scte.segmentation_event_id"], "2");
    assert_eq!(b[0].vars["scte.pts_time"], "10");
}

#[test]
fn daterange_rfc8216_example() {
    let text = fixture("media-daterange-rfc8216.m3u8");
    let scan = scan_of(&text, &CueRules::default());
    assert_eq!(scan.breaks.len(), 1);
    let b = &scan.breaks[0].ad_break;
    assert_eq!(b.id, "id-splice-6FFFFFF0");
    assert_eq!((b.start, b.end), (BreakStart::At(0), Some(6)));
    assert_eq!(b.duration, Some(59.993));
    // Both of the RFC's cues are short of their section_length (and carry a zero
    // CRC): noted, not used, in strict and lenient mode alike.
    assert_eq!(scan.ignored.len(), 2);
    let lenient = CueRules {
        lenient_crc: true,
        ..CueRules::default()
    };
    assert_eq!(scan_of(&text, &lenient).ignored.len(), 2);
}

#[test]
fn primetime_ext_x_cue() {
    let scan = scan_of(
        &fixture("media-primetime-ext-x-cue.m3u8"),
        &CueRules::default(),
    );
    assert_eq!(scan.breaks.len(), 1);
    let b = &scan.breaks[0].ad_break;
    assert_eq!(b.dialect, Dialect::Primetime);
    assert_eq!((b.start, b.end), (BreakStart::At(2), Some(9)));
    assert_eq!(b.id, "id-1");
    assert_eq!(b.duration, Some(60.0));
    assert_eq!(b.vars["scte.event_id"], "1");

    // Azure: the whole cue in CUE=, a break open at the live edge.
    let scan = scan_of(
        &fixture("media-azure-ext-x-cue-scte35.m3u8"),
        &CueRules::default(),
    );
    let f = &scan.breaks[0];
    assert_eq!(
        (f.ad_break.start, f.ad_break.end),
        (BreakStart::At(2), None)
    );
    assert_eq!(f.ad_break.duration, Some(30.0));
    assert_eq!(f.ad_break.id, "id-1026");
    assert_eq!(f.ad_break.vars["scte.event_id"], "1026");
    assert!(f.cue.is_some());

    // Azure simple mode: the tag repeated with ELAPSED on every segment.
    let scan = scan_of(
        &fixture("media-azure-ext-x-cue-elapsed.m3u8"),
        &CueRules::default(),
    );
    assert_eq!(scan.breaks.len(), 1, "{:?}", scan.breaks);
    let b = &scan.breaks[0].ad_break;
    assert_eq!((b.start, b.end), (BreakStart::At(3), Some(9)));
    assert_eq!(b.id, "id-95766");

    // SpliceIn closes by ID; SpliceInsert is a VOD insertion point; DURATION=0 is
    // an unknown duration.
    let b = breaks_of(&playlist(
        &[
            &["#EXT-X-CUE:TYPE=SpliceInsert,ID=a1,TIME=0"],
            &["#EXT-X-CUE:TYPE=SpliceOut,ID=a2,TIME=6,DURATION=0"],
            &[],
            &["#EXT-X-CUE:TYPE=SpliceIn,ID=a2,TIME=18"],
        ],
        4,
    ));
    assert_eq!(b.len(), 2);
    assert!(b[0].insert);
    assert_eq!(
        (b[1].start, b[1].end, b[1].duration),
        (BreakStart::At(1), Some(3), Some(12.0))
    );
}

#[test]
fn cue_span_is_a_continuation() {
    let b = breaks_of(&playlist(
        &[
            &["#EXT-X-CUE-SPAN:TIMEFROMSIGNAL=PT10S,ID=7"],
            &["#EXT-X-CUE-IN"],
        ],
        2,
    ));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].start, BreakStart::BeforeWindow);
    assert_eq!(b[0].elapsed_at_window_start, Some(10.0));
    assert_eq!(b[0].dialect, Dialect::CueSpan);
    assert_eq!(iso_duration("PT1M30.5S"), Some(90.5));
    assert_eq!(iso_duration("P1DT1H"), Some(90_000.0));
    assert_eq!(iso_duration("12.5"), Some(12.5));
    assert_eq!(iso_duration("PT"), Some(0.0));
    assert_eq!(iso_duration("PTxS"), None);
}

#[test]
fn asset_tags_fill_asset_variables() {
    let text = fixture_corpus_like_elemental();
    let b = breaks_of(&text);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].vars["asset.CAID"], "12345678");
    assert_eq!(b[0].vars["asset.GENRE"], "CV");
    assert_eq!(b[0].vars["asset.EPISODE"], "Episode Name Date");
    // Decoded once: a value encoded twice keeps one level (MediaTailor's example).
    assert_eq!(b[0].vars["asset.SERIES"], "Series%20Name");
    assert_eq!(parse_cue("#EXT-X-ASSET:CAID=1"), None);
}

/// The marker lines of MediaTailor's EXT-X-ASSET documentation around a break.
fn fixture_corpus_like_elemental() -> String {
    playlist(
        &[
            &[],
            &[
                &format!("#EXT-OATCLS-SCTE35:{INSERT_OUT_15S}"),
                "#EXT-X-ASSET:GENRE=CV,CAID=12345678,EPISODE=\"Episode%20Name%20Date\",SEASON=\"Season%20Name%20and%20Number\",SERIES=\"Series%2520Name\"",
                "#EXT-X-CUE-OUT:12",
            ],
            &[],
            &["#EXT-X-CUE-IN"],
        ],
        4,
    )
}

#[test]
fn insertion_point_absorbs_a_cue_on_its_segment() {
    let b = breaks_of(&playlist(
        &[&[
            &format!("#EXT-OATCLS-SCTE35:{INSERT_OUT_15S}"),
            "#EXT-X-CUE-OUT:0",
        ]],
        2,
    ));
    assert_eq!(b.len(), 1, "{b:?}");
    assert!(b[0].insert);
    assert_eq!(b[0].vars["scte.event_id"], "1");
}

// === the shared corpus: what a careful reader expects of each playlist ===

#[test]
fn corpus_playlists_yield_the_expected_breaks() {
    let Some(dir) = std::env::var_os("SPLICEPOINT_CORPUS") else {
        eprintln!("corpus break listing skipped: SPLICEPOINT_CORPUS not set");
        return;
    };
    let dir = std::path::PathBuf::from(dir).join("hls");
    // (file, [(start, end, duration, dialect)], ignored markers). Files not listed
    // have no markers.
    type Expect = (BreakStart, Option<usize>, Option<f64>, Dialect);
    let at = BreakStart::At;
    let expected: Vec<(&str, Vec<Expect>, usize)> = vec![
        (
            "aws_mediatailor_origin_media_cue_out_oatcls.m3u8",
            vec![(at(3), Some(8), Some(20.02), Dialect::CueOut)],
            0,
        ),
        (
            "cue_out_duration_attr_aac.m3u8",
            vec![(at(0), Some(2), Some(11.52), Dialect::CueOut)],
            0,
        ),
        (
            "cue_out_no_duration_aac.m3u8",
            vec![(at(0), Some(2), Some(11.52), Dialect::CueOut)],
            0,
        ),
        (
            "cue_out_numeric_duration_aac.m3u8",
            vec![(at(0), Some(2), Some(11.52), Dialect::CueOut)],
            0,
        ),
        ("daterange_scte35_cmd_invalid_hex.m3u8", vec![], 1),
        (
            "elemental_cue_out_cont_oatcls_asset.m3u8",
            vec![(at(3), Some(9), Some(50.0), Dialect::CueOut)],
            0,
        ),
        // Its only cue is a time_signal with segmentation_type_id 0x0C (reserved).
        ("elemental_oatcls_only.m3u8", vec![], 0),
        (
            "m3u8lib_cue_out_cont_bare_oatcls_cue_in.m3u8",
            vec![(at(1), Some(3), Some(20.0), Dialect::CueOut)],
            0,
        ),
        (
            "threefive_simple_splice_insert_no_trailing_newline.m3u8",
            vec![(at(0), Some(2), Some(15.0), Dialect::CueOut)],
            0,
        ),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(pl) = parse_media(&text) else { continue };
        if text.contains("#EXT-X-STREAM-INF") {
            continue;
        }
        let scan = scan_breaks(&pl, &CueRules::default());
        let got: Vec<Expect> = scan
            .breaks
            .iter()
            .map(|f| {
                (
                    f.ad_break.start,
                    f.ad_break.end,
                    f.ad_break.duration.map(|d| (d * 1000.0).round() / 1000.0),
                    f.ad_break.dialect,
                )
            })
            .collect();
        let (want, ignored) = expected
            .iter()
            .find(|(f, _, _)| *f == name)
            .map(|(_, w, i)| (w.clone(), *i))
            .unwrap_or_default();
        assert_eq!(got, want, "{name}");
        assert_eq!(scan.ignored.len(), ignored, "{name}: {:?}", scan.ignored);
        seen += 1;
    }
    assert!(seen >= 15, "{seen}");
    // The details a careful reader would check.
    let text =
        std::fs::read_to_string(dir.join("elemental_cue_out_cont_oatcls_asset.m3u8")).unwrap();
    let b = &breaks_of(&text)[0];
    assert_eq!(b.vars["asset.CAID"], "12345678");
    assert_eq!(b.vars["scte.event_id"], "1");
    let text =
        std::fs::read_to_string(dir.join("aws_mediatailor_origin_media_cue_out_oatcls.m3u8"))
            .unwrap();
    let b = &breaks_of(&text)[0];
    assert_eq!(b.vars["scte.event_id"], "4026531846");
    assert_eq!(b.vars["scte.duration"], "20");
}

// === properties ===

fn arb_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("#EXT-X-CUE-OUT:12".to_string()),
        Just("#EXT-X-CUE-OUT".to_string()),
        Just("#EXT-X-CUE-OUT:0".to_string()),
        Just("#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=12".to_string()),
        Just("#EXT-X-CUE-OUT-CONT".to_string()),
        Just("#EXT-X-CUE-IN".to_string()),
        Just(format!("#EXT-OATCLS-SCTE35:{INSERT_OUT_15S}")),
        Just(format!("#EXT-OATCLS-SCTE35:{PPO_END}")),
        Just(format!("#EXT-X-SPLICEPOINT-SCTE35:{PPO_START_307S}")),
        Just(format!("#EXT-OATCLS-SCTE35:{BAD_CRC}")),
        Just("#EXT-X-CUE:TYPE=SpliceOut,ID=1,DURATION=12".to_string()),
        Just("#EXT-X-CUE:TYPE=SpliceOut,ID=1,DURATION=12,ELAPSED=6".to_string()),
        Just("#EXT-X-CUE-SPAN:TIMEFROMSIGNAL=PT6S".to_string()),
        Just("#EXT-X-DATERANGE:ID=\"d\",SCTE35-OUT=0xFC,DURATION=12".to_string()),
        Just("#EXT-X-DATERANGE:ID=\"d\",SCTE35-IN=0xFC".to_string()),
        Just("#EXT-X-ASSET:CAID=1".to_string()),
        "#EXT-X-(CUE|SCTE35|CUE-OUT|CUE-SPAN|SPLICEPOINT-SCTE35):[ -~]{0,40}",
        "[a-z]{1,6}\\.ts".prop_map(|u| format!("#EXTINF:6.0,\n{u}")),
    ]
}

proptest! {
    #[test]
    fn parsing_any_marker_line_never_panics(line in "#EXT[ -~]{0,80}") {
        let _ = parse_marker(&line, &CueRules::default());
        let _ = parse_cue(&line);
        let _ = is_cue_line(&line);
    }

    #[test]
    fn breaks_are_well_formed(lines in proptest::collection::vec(arb_line(), 0..40)) {
        let text = format!("#EXTM3U\n#EXT-X-TARGETDURATION:6\n{}\n", lines.join("\n"));
        let Ok(pl) = parse_media(&text) else { return Ok(()) };
        let n = pl.segments.len();
        let scan = scan_breaks(&pl, &CueRules::default());
        let mut last_start = 0;
        for f in &scan.breaks {
            let b = &f.ad_break;
            let start = match b.start {
                BreakStart::At(i) => i,
                BreakStart::BeforeWindow => 0,
            };
            prop_assert!(start <= n);
            prop_assert!(start >= last_start, "{:?}", scan.breaks);
            last_start = start;
            if let Some(end) = b.end {
                prop_assert!(start <= end && end <= n, "{:?}", b);
            }
            prop_assert_eq!(b.insert, b.end == Some(start) && matches!(b.start, BreakStart::At(_)));
        }
    }
}

#[test]
fn cues_in_markers_decode_with_the_configured_leniency() {
    // The same section, a descriptor added: with its CRC recomputed it decodes.
    let mut s = crate::scte35::decode(INSERT_OUT_15S, &DecodeOptions::default()).unwrap();
    if let Some(SpliceCommand::SpliceInsert(si)) = &mut s.splice_command {
        si.break_duration.as_mut().unwrap().duration = Duration90k(2_700_000);
    }
    s.splice_descriptors
        .push(SpliceDescriptor::Avail(crate::scte35::AvailDescriptor {
            provider_avail_id: 9,
        }));
    seal(&mut s);
    let line = format!("#EXT-OATCLS-SCTE35:{}", encode_base64(&encode(&s)));
    let m = parse_marker(&line, &CueRules::default()).unwrap().unwrap();
    assert_eq!(m.duration, Some(30.0));
}
