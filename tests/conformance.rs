//! Every manifest the suite produces goes through the conformance rules, and every
//! MPD through the official schema (`xmllint` against `DASH-MPD.xsd`):
//!
//! - a rewrite never breaks a rule its input kept: generated live and VOD playlists
//!   spliced over many refreshes, generated multi-period MPDs, and the shared corpus;
//! - the `insta` snapshots (playlists and MPDs) keep every rule;
//! - the MPD snapshots, the demo's live and VOD streams across their breaks (HLS over
//!   refreshes too), transcoded creatives' Periods and the corpus rewrites validate
//!   against the schema.
//!
//! The schema lives beside the corpus (`$SPLICEPOINT_CORPUS/../schema/dash`, or
//! `$SPLICEPOINT_SCHEMA_DIR`); without it, or without `xmllint`, the schema checks
//! are skipped, saying so (`SPLICEPOINT_REQUIRE_XMLLINT=1` makes them fail instead,
//! as `scripts/test` does once `scripts/install-deps` has installed xmllint).

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use proptest::prelude::*;
use splicepoint::conformance::{self, hls::check_refresh};
use splicepoint::dash::{self, DashAd, DashFill, MpdContext};
use splicepoint::hls::cue::find_breaks;
use splicepoint::hls::model::parse_media;
use splicepoint::stitch::{splice_media, AdRendition, BreakRecord, SpliceInput};

#[path = "common/live_origin.rs"]
mod live_origin;
use live_origin::{fills_for, rendition, Origin};

#[path = "common/schema.rs"]
mod schema;
use schema::{invalid_mpds, schema};

// === rule sets ===

fn rules(text: &str) -> BTreeSet<&'static str> {
    conformance::check(text)
        .1
        .iter()
        .map(|p| p.rule.code())
        .collect()
}

fn refresh_rules(prev: &str, next: &str) -> BTreeSet<&'static str> {
    check_refresh(prev, next)
        .iter()
        .map(|p| p.rule.code())
        .collect()
}

/// The rules `output` breaks that `input` kept, with the problems.
fn new_problems(input: &str, output: &str) -> Vec<String> {
    let kept_before = rules(input);
    conformance::check(output)
        .1
        .into_iter()
        .filter(|p| !kept_before.contains(p.rule.code()))
        .map(|p| p.to_string())
        .collect()
}

// === HLS: a generated live origin spliced over refreshes ===

/// Splice `origin` over `ticks` refreshes (ending it at the last one when `end`):
/// every output keeps the rules its input kept, and every pair of successive
/// outputs keeps the refresh rules the inputs kept. Returns the problems.
fn run_live(
    origin: &Origin,
    ads: &[Arc<AdRendition>],
    slate: Option<Arc<AdRendition>>,
    ticks: u64,
    end: bool,
) -> Vec<String> {
    let mut records: Vec<BreakRecord> = Vec::new();
    let mut problems = Vec::new();
    let mut prev: Option<(String, String)> = None;
    for tick in 0..ticks {
        let last = origin.window - 1 + tick * 2 / 3;
        let input = origin.playlist(last, end && tick + 1 == ticks);
        let pl = parse_media(&input).unwrap();
        let breaks = find_breaks(&pl);
        let fills = fills_for(&pl, &breaks, &records, ads, slate.clone());
        let out = splice_media(SpliceInput {
            playlist: &pl,
            breaks: &breaks,
            fills: &fills,
            records: &records,
            ad_uri: None,
        });
        for u in out.records {
            match records.iter_mut().find(|r| r.break_id == u.break_id) {
                Some(r) => *r = u,
                None => records.push(u),
            }
        }
        for p in new_problems(&input, &out.text) {
            problems.push(format!("tick {tick}: {p}\n{}", out.text));
        }
        if let Some((prev_in, prev_out)) = &prev {
            let kept = refresh_rules(prev_in, &input);
            for p in check_refresh(prev_out, &out.text) {
                if !kept.contains(p.rule.code()) {
                    problems.push(format!(
                        "tick {tick} refresh: {p}\nbefore:\n{prev_out}\nafter:\n{}",
                        out.text
                    ));
                }
            }
        }
        prev = Some((input, out.text));
    }
    problems
}

#[test]
fn live_splices_keep_every_rule_over_refreshes() {
    let cases = [
        (true, Some(3), false),
        (false, Some(7), false),
        (true, None, false),
        (false, Some(3), true),
    ];
    for (fmp4, version, encrypted) in cases {
        let origin = Origin {
            window: 5,
            breaks: vec![(10, 5, 30.0), (30, 3, 24.0), (50, 4, 24.0)],
            discontinuities: vec![22, 41],
            version,
            integer_durations: version.is_none(),
            encrypted,
        };
        let ads = [
            rendition("ad1", &[4.0, 4.0, 4.0], fmp4),
            rendition("ad2", &[3.0, 3.0], fmp4),
        ];
        let problems = run_live(
            &origin,
            &ads,
            Some(rendition("slate", &[2.0], fmp4)),
            100,
            true,
        );
        assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    }
}

/// Found by the rules: a break whose content outlasts its ads and slate shows that
/// content after them ("filler"); once the break's CUE-OUT slid out of the window,
/// the fillers were numbered from the first visible one, so a media sequence number
/// published before named another segment after (seg4 had 5, then seg5 got 5).
/// The first filler is now kept with the break's record.
#[test]
fn filler_content_keeps_its_numbers_after_the_break_start_slides_out() {
    let origin = Origin {
        window: 3,
        breaks: vec![(4, 3, 12.0)],
        discontinuities: vec![],
        version: Some(3),
        integer_durations: false,
        encrypted: false,
    };
    let problems = run_live(&origin, &[rendition("ad", &[2.0], false)], None, 20, false);
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// The defect of #20: integer EXTINFs without EXT-X-VERSION get decimal ad EXTINFs.
#[test]
fn decimal_ad_durations_raise_the_version_of_an_integer_playlist() {
    let input = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\na.ts\n#EXT-X-CUE-OUT:10\n#EXTINF:10,\nb.ts\n#EXT-X-CUE-IN\n#EXTINF:10,\nc.ts\n#EXT-X-ENDLIST\n";
    assert!(rules(input).is_empty());
    let pl = parse_media(input).unwrap();
    let breaks = find_breaks(&pl);
    let ads = [rendition("ad", &[2.0, 2.0, 2.0, 2.0, 2.0], false)];
    let fills = fills_for(&pl, &breaks, &[], &ads, None);
    let out = splice_media(SpliceInput {
        playlist: &pl,
        breaks: &breaks,
        fills: &fills,
        records: &[],
        ad_uri: None,
    });
    assert!(out.text.contains("#EXTINF:2.000,"), "{}", out.text);
    assert!(
        out.text.starts_with("#EXTM3U\n#EXT-X-VERSION:3\n"),
        "{}",
        out.text
    );
    assert!(
        rules(&out.text).is_empty(),
        "{:?}\n{}",
        rules(&out.text),
        out.text
    );
    // fMP4 ads: EXT-X-MAP needs 6.
    let ads = [rendition("ad", &[2.0, 2.0, 2.0, 2.0, 2.0], true)];
    let fills = fills_for(&pl, &breaks, &[], &ads, None);
    let out = splice_media(SpliceInput {
        playlist: &pl,
        breaks: &breaks,
        fills: &fills,
        records: &[],
        ad_uri: None,
    });
    assert!(
        out.text.starts_with("#EXTM3U\n#EXT-X-VERSION:6\n"),
        "{}",
        out.text
    );
    assert!(rules(&out.text).is_empty());
}

fn origins() -> impl Strategy<Value = Origin> {
    (
        3u64..8,
        proptest::collection::vec((4u64..60, 1u64..6, 0u64..5), 0..4),
        proptest::collection::vec(2u64..70, 0..3),
        prop_oneof![Just(None), Just(Some(3u64)), Just(Some(6))],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(window, mut breaks, discontinuities, version, integer, encrypted)| {
                // Breaks in order and apart, as an origin signals them.
                breaks.sort_by_key(|b| (b.0, b.1));
                let mut kept: Vec<(u64, u64, f64)> = Vec::new();
                for (start, len, extra) in breaks {
                    // Announced as long as the content it covers, longer, or (a
                    // break that outlasts its announced duration, whose content
                    // then shows after the ads: see
                    // `filler_content_keeps_its_numbers_after_the_break_start_slides_out`)
                    // shorter.
                    let announced = ((len * 6 + extra * 2) as f64 - 6.0).max(2.0);
                    if kept.last().is_none_or(|l| start > l.0 + l.1 + 1) {
                        kept.push((start, len, announced));
                    }
                }
                Origin {
                    window,
                    breaks: kept,
                    discontinuities,
                    version,
                    integer_durations: version.is_none() || integer,
                    encrypted,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Generated live origins, spliced over refreshes: no rule broken that the input
    /// kept, in any answer or between answers.
    #[test]
    fn a_live_splice_never_breaks_a_rule_its_input_kept(
        origin in origins(),
        ad_durations in proptest::collection::vec(prop_oneof![Just(2.0), Just(3.0), Just(4.0), Just(6.006), Just(8.0)], 1..5),
        fmp4 in any::<bool>(),
        slate in any::<bool>(),
    ) {
        // The ads fit the shortest break (ADS answers are fitted to the avail), and
        // slate fills the rest.
        let shortest = origin.breaks.iter().map(|b| b.2).fold(f64::INFINITY, f64::min);
        let mut total = 0.0;
        let fitted: Vec<f64> = ad_durations
            .into_iter()
            .filter(|d| {
                total += d;
                total <= shortest
            })
            .collect();
        let ads = [rendition("ad", &fitted, fmp4)];
        let slate = Some(rendition("slate", &[if slate { 2.0 } else { 1.0 }], fmp4));
        let problems = run_live(&origin, &ads, slate, 60, true);
        prop_assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    }

    /// Generated multi-period MPDs (static and dynamic), spliced: no rule broken that
    /// the input kept.
    #[test]
    fn an_mpd_splice_never_breaks_a_rule_its_input_kept(
        periods in proptest::collection::vec((10u32..120, proptest::collection::vec(0u32..100, 0..3)), 1..4),
        dynamic in any::<bool>(),
        ad_secs in proptest::collection::vec(prop_oneof![Just(5.0), Just(10.0), Just(15.0)], 1..3),
        with_meta in any::<bool>(),
    ) {
        let input = generated_mpd(&periods, dynamic, with_meta);
        let out = splice_all(&input, &ad_secs);
        let problems = new_problems(&input, &out);
        prop_assert!(problems.is_empty(), "{}\n\ninput:\n{input}\n\noutput:\n{out}", problems.join("\n"));
    }
}

// === DASH ===

const AD_MPD: &str = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S" type="static" mediaPresentationDuration="PT10S"><Period id="0"><AdaptationSet contentType="video" mimeType="video/mp4"><SegmentTemplate timescale="1" duration="2" media="v/$Number$.m4s" initialization="v/init.mp4"/><Representation id="v" width="640" height="360" bandwidth="500000" codecs="avc1.4d401e"/></AdaptationSet><AdaptationSet contentType="audio" mimeType="audio/mp4"><SegmentTemplate timescale="1" duration="2" media="a/$Number$.m4s" initialization="a/init.mp4"/><Representation id="a" bandwidth="64000" codecs="mp4a.40.2"/></AdaptationSet></Period></MPD>"#;

fn ad(secs: f64) -> Arc<DashAd> {
    let text = AD_MPD.replace("PT10S", &format!("PT{secs}S"));
    Arc::new(
        dash::prepare_ad(
            &dash::parse(&text).unwrap(),
            &url::Url::parse("http://ads.example/a/m.mpd").unwrap(),
            None,
        )
        .unwrap(),
    )
}

/// An MPD of `periods` (seconds, break offsets in seconds), with the elements
/// ffmpeg writes before the Periods when `with_meta`.
fn generated_mpd(periods: &[(u32, Vec<u32>)], dynamic: bool, with_meta: bool) -> String {
    let total: u32 = periods.iter().map(|p| p.0).sum();
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:scte35="urn:scte:scte35:2013:xml" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S""#,
    );
    if dynamic {
        s.push_str(r#" type="dynamic" availabilityStartTime="2024-01-01T00:00:00Z" publishTime="2024-01-01T00:10:00Z" minimumUpdatePeriod="PT2S">"#);
    } else {
        s.push_str(&format!(
            r#" type="static" mediaPresentationDuration="PT{total}S">"#
        ));
    }
    if with_meta {
        s.push_str("\n  <ProgramInformation><Title>generated</Title></ProgramInformation>\n  <ServiceDescription id=\"0\"/>");
    }
    let mut start = 0;
    for (i, (secs, breaks)) in periods.iter().enumerate() {
        s.push_str(&format!(
            "\n  <Period id=\"p{i}\" start=\"PT{start}S\" duration=\"PT{secs}S\">"
        ));
        let mut offsets: Vec<u32> = breaks.iter().map(|b| b % secs).collect();
        offsets.sort_unstable();
        offsets.dedup();
        if !offsets.is_empty() {
            s.push_str(
                "\n    <EventStream schemeIdUri=\"urn:scte:scte35:2013:xml\" timescale=\"1\">",
            );
            for (j, at) in offsets.iter().enumerate() {
                let dur = if dynamic { 10 } else { 0 };
                s.push_str(&format!(
                    "<Event presentationTime=\"{at}\" duration=\"{dur}\" id=\"{j}\"><scte35:SpliceInfoSection><scte35:SpliceInsert spliceEventId=\"{j}\" outOfNetworkIndicator=\"true\"/></scte35:SpliceInfoSection></Event>"
                ));
            }
            s.push_str("</EventStream>");
        }
        s.push_str("\n    <AdaptationSet id=\"1\" contentType=\"video\" mimeType=\"video/mp4\"><SegmentTemplate timescale=\"90000\" duration=\"180000\" startNumber=\"1\" media=\"v/$Number$.m4s\" initialization=\"v/init.mp4\"/><Representation id=\"v0\" width=\"640\" height=\"360\" bandwidth=\"800000\" codecs=\"avc1.4d401e\"/></AdaptationSet>");
        s.push_str("\n    <AdaptationSet id=\"2\" contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"en\"><SegmentTemplate timescale=\"48000\" duration=\"96000\" media=\"a/$Number$.m4s\" initialization=\"a/init.mp4\"/><Representation id=\"a0\" bandwidth=\"64000\" codecs=\"mp4a.40.2\"/></AdaptationSet>");
        s.push_str("\n  </Period>");
        start += secs;
    }
    s.push_str("\n  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:http-xsdate:2014\" value=\"http://time.example/\"/>\n</MPD>\n");
    s
}

/// Every break of `input` filled with ads of `ad_secs`.
fn splice_all(input: &str, ad_secs: &[f64]) -> String {
    let doc = dash::parse(input).unwrap();
    let breaks = dash::find_breaks(&doc);
    let ads: Vec<Arc<DashAd>> = ad_secs.iter().map(|s| ad(*s)).collect();
    let fills: HashMap<String, DashFill> = breaks
        .iter()
        .map(|b| {
            (
                b.id.clone(),
                DashFill {
                    ads: ads.clone(),
                    slate: Some(ad(5.0)),
                    planned: b.duration.unwrap_or(30.0),
                    ..Default::default()
                },
            )
        })
        .collect();
    let ctx = MpdContext {
        content_base: "http://origin.example/x/".into(),
        location: Some("http://proxy.example/v1/dash/c/s/x.mpd".into()),
        publish_time: Some("2026-01-01T00:00:00Z".into()),
    };
    dash::splice_mpd(&doc, &breaks, &fills, &ctx).text
}

#[test]
fn generated_mpd_splices_validate_against_the_schema() {
    let mut mpds = Vec::new();
    for (dynamic, meta) in [(false, false), (false, true), (true, false), (true, true)] {
        let input = generated_mpd(
            &[(60, vec![0, 30]), (40, vec![20]), (30, vec![])],
            dynamic,
            meta,
        );
        assert!(rules(&input).is_empty(), "{:?}", rules(&input));
        let out = splice_all(&input, &[10.0, 15.0]);
        assert!(out.matches("<Period").count() > 3, "{out}");
        assert_eq!(new_problems(&input, &out), Vec::<String>::new(), "{out}");
        assert!(rules(&out).is_empty(), "{:?}\n{out}", rules(&out));
        mpds.push((
            format!("generated dynamic={dynamic} meta={meta} input"),
            input,
        ));
        mpds.push((
            format!("generated dynamic={dynamic} meta={meta} output"),
            out,
        ));
    }
    if let Some(dir) = schema("generated MPDs") {
        let bad = invalid_mpds(&dir, &mpds);
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

#[test]
fn snapshots_keep_every_rule_and_mpd_snapshots_validate() {
    // Snapshots whose test input breaks a rule itself (passed through as it was):
    // (file name part, rule).
    const INPUT_BROKE: &[(&str, &str)] = &[(
        // Decimal EXTINFs without EXT-X-VERSION in the test's content playlist.
        "encrypted_content_gets_key_none_for_ads_and_its_key_back",
        "hls.version",
    )];
    let (mut mpds, mut playlists) = (Vec::new(), 0);
    for dir in [
        "src/dash/rewrite/snapshots",
        "src/stitch/plan/snapshots",
        "src/stitch/request/snapshots",
        "tests/snapshots",
    ] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            if path.extension().is_none_or(|x| x != "snap") {
                continue;
            }
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            // The snapshot body follows insta's `---` header.
            let body = text.splitn(3, "---\n").nth(2).unwrap_or("").to_string();
            let kind = conformance::kind_of(&body);
            if kind == conformance::Kind::Unknown {
                continue;
            }
            let p: Vec<String> = conformance::check(&body)
                .1
                .into_iter()
                .filter(|p| {
                    !INPUT_BROKE
                        .iter()
                        .any(|(f, r)| name.contains(f) && p.rule.code() == *r)
                })
                .map(|p| p.to_string())
                .collect();
            assert!(p.is_empty(), "{name}: {p:?}");
            if kind == conformance::Kind::Mpd {
                mpds.push((name, body));
            } else {
                playlists += 1;
            }
        }
    }
    assert!(!mpds.is_empty(), "no MPD snapshot found");
    assert!(playlists > 0, "no playlist snapshot found");
    if let Some(dir) = schema("MPD snapshots") {
        let bad = invalid_mpds(&dir, &mpds);
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("SPLICEPOINT_CORPUS")?);
    dir.is_dir().then_some(dir)
}

/// Every corpus MPD and media playlist, spliced: no rule broken that the input kept;
/// every MPD output of a schema-valid input validates.
#[test]
fn corpus_rewrites_keep_the_rules_their_inputs_kept() {
    let Some(dir) = corpus() else {
        eprintln!("corpus conformance skipped: SPLICEPOINT_CORPUS not set");
        return;
    };
    let mut problems = Vec::new();
    let mut pairs = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("dash"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read_to_string(path).unwrap();
        match dash::parse(&input) {
            Ok(d) if d.root.local_name() == "MPD" => {}
            _ => continue,
        }
        let out = splice_all(&input, &[10.0]);
        for p in new_problems(&input, &out) {
            problems.push(format!("{name}: {p}"));
        }
        pairs.push((name, input, out));
    }
    let mut hls: Vec<PathBuf> = std::fs::read_dir(dir.join("hls"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    hls.sort();
    let (mut spliced, mut multivariants) = (0, 0);
    for path in &hls {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read_to_string(path).unwrap();
        if conformance::kind_of(&input) == conformance::Kind::HlsMultivariant {
            // The session's multivariant playlist.
            let Ok(m) = splicepoint::hls::parse_multivariant(&input) else {
                continue;
            };
            let url = url::Url::parse("http://origin.example/live/master.m3u8").unwrap();
            let out = splicepoint::hls::rewrite::rewrite_multivariant(
                &m,
                &url,
                "http://origin.example/live/",
                "http://proxy.example/v1/manifest/c/SESSION/",
            );
            multivariants += 1;
            for p in new_problems(&input, &out) {
                problems.push(format!("{name} (session multivariant): {p}"));
            }
            continue;
        }
        let Ok(pl) = parse_media(&input) else {
            continue;
        };
        let breaks = find_breaks(&pl);
        for fmp4 in [false, true] {
            let ads = [rendition("ad", &[4.0, 4.0, 2.5], fmp4)];
            let fills = fills_for(
                &pl,
                &breaks,
                &[],
                &ads,
                Some(rendition("slate", &[1.0], fmp4)),
            );
            let out = splice_media(SpliceInput {
                playlist: &pl,
                breaks: &breaks,
                fills: &fills,
                records: &[],
                ad_uri: None,
            });
            spliced += usize::from(!fills.is_empty());
            for p in new_problems(&input, &out.text) {
                problems.push(format!("{name} (fmp4 ads: {fmp4}): {p}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        spliced > 10,
        "only {spliced} corpus playlists had breaks to fill"
    );
    assert!(
        multivariants >= 3,
        "only {multivariants} corpus multivariant playlists"
    );
    let Some(schema) = schema("corpus MPDs") else {
        return;
    };
    let inputs: Vec<(String, String)> = pairs
        .iter()
        .map(|(n, i, _)| (n.clone(), i.clone()))
        .collect();
    let invalid_inputs = invalid_mpds(&schema, &inputs);
    let valid: Vec<(String, String)> = pairs
        .iter()
        .filter(|(n, _, _)| {
            !invalid_inputs
                .iter()
                .any(|b| b.starts_with(&format!("{n}:")))
        })
        .map(|(n, _, o)| (format!("{n} (spliced)"), o.clone()))
        .collect();
    eprintln!(
        "corpus: {} MPDs, {} schema-valid as given; their splices checked",
        pairs.len(),
        valid.len()
    );
    assert!(!valid.is_empty());
    let bad = invalid_mpds(&schema, &valid);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

// === the demo, through the proxy ===

/// The demo's streams (HLS live, VOD and pre-roll; DASH live, VOD and pre-roll)
/// through the proxy over several refreshes, across breaks: every answer keeps every
/// rule (live playlists compared with their previous answer), every MPD validates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_streams_keep_every_rule_across_breaks_and_refreshes() {
    use splicepoint::demo::{Demo, DemoOptions};
    use splicepoint::server::{router, AppState};
    use splicepoint::validate::Validator;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let options = DemoOptions {
        break_every: 20,
        ..DemoOptions::default()
    };
    let demo = Arc::new(Demo::load(&options, &base).unwrap());
    let channels = demo
        .channels()
        .unwrap()
        .into_iter()
        .map(|c| (c.name.clone(), Arc::new(c)))
        .collect();
    let app = router(AppState::new(Arc::new(channels))).merge(demo.clone().router());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let sources: Vec<String> = demo.streams().into_iter().map(|(_, u)| u).collect();
    let mut v = Validator::new(
        reqwest::Client::new(),
        std::time::Duration::from_secs(10),
        1 << 24,
    );
    let mut mpds: Vec<(String, String)> = Vec::new();
    let (mut ad_periods, mut ad_segments) = (0, 0);
    for round in 0..10 {
        let report = v.round(&sources).await;
        assert!(report.is_clean(), "round {round}:\n{}", report.to_text());
        assert!(
            report.manifests.len() >= sources.len() * 2 - 2,
            "{}",
            report.to_text()
        );
        for (source, text) in v.latest() {
            if text.contains("<MPD") {
                ad_periods += text.matches("-ad0\"").count();
                if !mpds.iter().any(|(_, t)| t == text) {
                    mpds.push((format!("{source} (round {round})"), text.to_string()));
                }
            } else {
                // Ads and slate (through the proxy's reporting route, or direct).
                ad_segments += text.matches("/v1/segment/").count()
                    + text.matches("/demo/media/ads/").count()
                    + text.matches("/demo/media/slate/").count();
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    assert!(ad_periods > 0, "no ad Period in any demo MPD");
    assert!(ad_segments > 0, "no ad segment in any demo playlist");
    if let Some(dir) = schema("demo MPDs") {
        let bad = invalid_mpds(&dir, &mpds);
        assert!(bad.is_empty(), "{}", bad.join("\n"));
        eprintln!("demo: {} distinct MPDs validate", mpds.len());
    }
}

// === Periods of transcoded MP4 creatives ===

/// The MPD the transcoder writes for an MP4 creative, and a content MPD with that
/// creative spliced in as ad Periods: both keep every rule and validate.
#[test]
fn transcoded_creative_periods_validate() {
    use splicepoint::transcode::plan::{write_mpd, Plan};
    use splicepoint::transcode::profile::{
        AudioCodec, AudioTarget, Container, Rendition, VideoCodec,
    };

    let renditions: Vec<Rendition> = [(640, 360, 800_000), (1280, 720, 2_500_000)]
        .iter()
        .enumerate()
        .map(|(i, (w, h, bw))| Rendition {
            name: format!("v{i}"),
            bandwidth: *bw,
            width: *w,
            height: *h,
            fps: 29.97,
            codec: VideoCodec::H264,
            profile: "high".into(),
            level: 31,
            codecs: "avc1.64001f".into(),
        })
        .collect();
    let audio = AudioTarget {
        codec: AudioCodec::AacLc,
        sample_rate: 48_000,
        channels: 2,
        bitrate: 128_000,
    };
    let plan = Plan {
        duration: 8.008,
        segment: 2.002,
        container: Container::Fmp4,
        renditions: Vec::new(),
        audio: None,
    };
    let refs: Vec<&Rendition> = renditions.iter().collect();
    let creative = write_mpd(&refs, Some(&audio), &plan);
    assert!(
        rules(&creative).is_empty(),
        "{:?}\n{creative}",
        rules(&creative)
    );
    let ad = Arc::new(
        dash::prepare_ad(
            &dash::parse(&creative).unwrap(),
            &url::Url::parse("http://ads.example/creative/c1/manifest.mpd").unwrap(),
            None,
        )
        .unwrap(),
    );
    let mut mpds = vec![("transcoded creative".to_string(), creative)];
    for dynamic in [false, true] {
        let input = generated_mpd(&[(60, vec![20]), (30, vec![])], dynamic, true);
        let doc = dash::parse(&input).unwrap();
        let breaks = dash::find_breaks(&doc);
        let fills: HashMap<String, DashFill> = breaks
            .iter()
            .map(|b| {
                (
                    b.id.clone(),
                    DashFill {
                        ads: vec![ad.clone()],
                        planned: b.duration.filter(|d| *d > 0.0).unwrap_or(16.0),
                        ..Default::default()
                    },
                )
            })
            .collect();
        let ctx = MpdContext {
            content_base: "http://origin.example/x/".into(),
            location: Some("http://proxy.example/v1/dash/c/s/x.mpd".into()),
            publish_time: Some("2026-01-01T00:00:00Z".into()),
        };
        let out = dash::splice_mpd(&doc, &breaks, &fills, &ctx).text;
        assert!(out.contains("creative/c1/"), "{out}");
        assert!(rules(&out).is_empty(), "{:?}\n{out}", rules(&out));
        mpds.push((format!("content with the creative, dynamic={dynamic}"), out));
    }
    if let Some(dir) = schema("transcoded creative MPDs") {
        let bad = invalid_mpds(&dir, &mpds);
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

/// Sub-range segments (`EXT-X-BYTERANGE` without offsets follow each other in one
/// resource) around a break: the content after the ads must still say where its
/// range starts.
#[test]
fn byte_range_content_keeps_its_ranges_after_a_break() {
    let mut input = String::from(
        "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n",
    );
    for k in 0..8 {
        if k == 3 {
            input.push_str("#EXT-X-CUE-OUT:12\n");
        }
        if k == 5 {
            input.push_str("#EXT-X-CUE-IN\n");
        }
        if k == 0 {
            input.push_str("#EXT-X-BYTERANGE:1000@0\n");
        } else {
            input.push_str("#EXT-X-BYTERANGE:1000\n");
        }
        input.push_str("#EXTINF:6.000,\nhttp://origin.example/all.ts\n");
    }
    input.push_str("#EXT-X-ENDLIST\n");
    assert!(rules(&input).is_empty(), "{:?}", rules(&input));
    let mut pl = parse_media(&input).unwrap();
    // What the origin cache does with every media playlist it reads.
    splicepoint::hls::rewrite::pin_byte_ranges(&mut pl);
    let breaks = find_breaks(&pl);
    let ads = [rendition("ad", &[6.0, 6.0], false)];
    let fills = fills_for(&pl, &breaks, &[], &ads, None);
    assert!(!fills.is_empty());
    let out = splice_media(SpliceInput {
        playlist: &pl,
        breaks: &breaks,
        fills: &fills,
        records: &[],
        ad_uri: None,
    });
    assert_eq!(
        new_problems(&input, &out.text),
        Vec::<String>::new(),
        "{}",
        out.text
    );
}
