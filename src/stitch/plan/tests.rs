use std::collections::BTreeMap;

use super::*;

#[path = "../../../tests/common/live_origin.rs"]
mod live_origin;
use live_origin::{fills_for, Origin};

/// A TS ad (or slate) rendition of `durations`.
fn rendition(name: &str, durations: &[f64]) -> Arc<AdRendition> {
    live_origin::rendition(name, durations, false)
}
use crate::hls::cue::find_breaks;
use crate::hls::model::parse_media;

/// One line per output segment: (msn, cc, uri, duration, discontinuity).
fn read_output(text: &str) -> Vec<(u64, u64, String, f64, bool)> {
    let pl = parse_media(text).unwrap();
    pl.segments
        .iter()
        .map(|s| (s.msn, s.cc, s.uri.clone(), s.duration, s.discontinuity))
        .collect()
}

fn store(records: &mut Vec<BreakRecord>, updates: Vec<BreakRecord>) {
    for u in updates {
        match records.iter_mut().find(|r| r.break_id == u.break_id) {
            Some(r) => *r = u,
            None => records.push(u),
        }
    }
}

#[test]
fn live_window_keeps_continuity_over_100_refreshes() {
    let origin = Origin {
        window: 5,
        breaks: vec![(10, 5, 30.0), (30, 3, 24.0), (50, 4, 24.0)],
        discontinuities: vec![22, 41],
        version: Some(3),
        integer_durations: false,
        encrypted: false,
    };
    let ads = [
        rendition("ad1", &[4.0, 4.0, 4.0]),
        rendition("ad2", &[3.0, 3.0]),
    ];
    let slate = Some(rendition("slate", &[2.0]));
    let mut records = Vec::new();
    let mut seen: BTreeMap<u64, (u64, String, bool)> = BTreeMap::new();
    let mut last_first_msn = 0;
    let mut refreshes = 0;
    for tick in 0..100u64 {
        let last = 4 + tick * 2 / 3; // sometimes the origin has not moved
        let pl = parse_media(&origin.playlist(last, false)).unwrap();
        let breaks = find_breaks(&pl);
        let fills = fills_for(&pl, &breaks, &records, &ads, slate.clone());
        let out = splice_media(SpliceInput {
            playlist: &pl,
            breaks: &breaks,
            fills: &fills,
            records: &records,
            ad_uri: None,
        });
        store(&mut records, out.records);
        refreshes += 1;
        let segs = read_output(&out.text);
        let first = segs.first().unwrap().0;
        assert!(
            first >= last_first_msn,
            "media sequence went backwards at tick {tick}\n{}",
            out.text
        );
        last_first_msn = first;
        for (msn, cc, uri, _, disc) in segs {
            if let Some((cc0, uri0, _)) = seen.get(&msn) {
                assert_eq!(uri0, &uri, "msn {msn} renamed at tick {tick}\n{}", out.text);
                assert_eq!(
                    *cc0, cc,
                    "msn {msn} changed cc at tick {tick}\n{}",
                    out.text
                );
            }
            seen.insert(msn, (cc, uri, disc));
        }
    }
    assert_eq!(refreshes, 100);
    // The whole published timeline: every switch between content and ads (or between
    // ads) carries a discontinuity, and the cc counts them.
    let timeline: Vec<_> = seen.into_iter().collect();
    let kind = |u: &str| {
        if u.contains("origin.example") {
            "content".to_string()
        } else {
            u.split('/').nth(3).unwrap_or("").to_string()
        }
    };
    for w in timeline.windows(2) {
        let ((m0, (cc0, u0, _)), (m1, (cc1, u1, d1))) = (&w[0], &w[1]);
        assert_eq!(m0 + 1, *m1, "gap in media sequence");
        let switch = kind(u0) != kind(u1) || (u1.ends_with("/0.ts") && !u1.contains("origin"));
        if switch {
            assert!(*d1, "no discontinuity at {u0} -> {u1}");
        }
        assert_eq!(*cc1, cc0 + u64::from(*d1), "cc does not count tags at {u1}");
    }
    // Break 1 (announced 30 s, 29.005 s of content): ad1, ad2 (18 s), then slate
    // segments of 2 s that end within the content: 5 of them.
    let uris: Vec<&str> = timeline.iter().map(|(_, (_, u, _))| u.as_str()).collect();
    let b1 = uris.iter().position(|u| u.contains("ad1/0.ts")).unwrap();
    assert_eq!(uris[b1 - 1], "http://origin.example/seg9.ts");
    assert_eq!(
        &uris[b1 + 3..b1 + 5],
        [
            "https://ads.example/ad2/0.ts",
            "https://ads.example/ad2/1.ts"
        ]
    );
    assert!(uris[b1 + 5..b1 + 10].iter().all(|u| u.contains("slate")));
    assert_eq!(uris[b1 + 10], "http://origin.example/seg15.ts");
    // Break 2 (3 segments = 17.005 s of content, announced 24): the ads that end
    // within the content seen are kept (ad1, and ad2's first segment, already
    // published at 15 s), the rest is cut by the CUE-IN.
    let b2 = uris
        .iter()
        .rposition(|u| u.contains("origin.example/seg29.ts"))
        .unwrap();
    assert!(uris[b2 + 1].contains("ad1/0.ts"));
    assert!(uris[b2 + 4].contains("ad2/0.ts"));
    assert_eq!(uris[b2 + 5], "http://origin.example/seg33.ts");
    // No content of a filled break ever shows.
    for k in (10..15).chain(30..33).chain(50..54) {
        let u = format!("http://origin.example/seg{k}.ts");
        assert!(!uris.contains(&u.as_str()), "{u} should have been replaced");
    }
}

/// A break whose content outlasts its ad (no slate) shows that content after the
/// ad ("filler"). The break is longer than the window, so its CUE-OUT and then
/// its first fillers slide out while it runs: the fillers keep the numbers they
/// were published with, and the origin's own discontinuity among them is counted.
#[test]
fn fillers_keep_their_numbers_after_the_break_start_slides_out() {
    let origin = Origin {
        window: 3,
        breaks: vec![(4, 5, 30.0)],
        discontinuities: vec![6],
        version: Some(3),
        integer_durations: false,
        encrypted: false,
    };
    let ads = [rendition("ad", &[2.0])];
    let mut records = Vec::new();
    let mut seen: BTreeMap<u64, (u64, String, bool)> = BTreeMap::new();
    let mut first_msns = Vec::new();
    for last in 2..16 {
        let pl = parse_media(&origin.playlist(last, false)).unwrap();
        let breaks = find_breaks(&pl);
        let fills = fills_for(&pl, &breaks, &records, &ads, None);
        let out = splice_media(SpliceInput {
            playlist: &pl,
            breaks: &breaks,
            fills: &fills,
            records: &records,
            ad_uri: None,
        });
        store(&mut records, out.records);
        let segs = read_output(&out.text);
        first_msns.push(segs[0].0);
        for (msn, cc, uri, _, disc) in segs {
            if let Some((cc0, uri0, _)) = seen.get(&msn) {
                assert_eq!(uri0, &uri, "msn {msn} renamed at {last}\n{}", out.text);
                assert_eq!(*cc0, cc, "msn {msn} changed cc at {last}\n{}", out.text);
            }
            seen.insert(msn, (cc, uri, disc));
        }
    }
    assert!(
        first_msns.windows(2).all(|w| w[0] <= w[1]),
        "{first_msns:?}"
    );
    let timeline: Vec<(u64, u64, &str, bool)> = seen
        .iter()
        .map(|(m, (cc, u, d))| (*m, *cc, u.as_str(), *d))
        .collect();
    let expect = [
        ("http://origin.example/seg3.ts", false),
        ("https://ads.example/ad/0.ts", true),
        ("http://origin.example/seg4.ts", true),
        ("http://origin.example/seg5.ts", false),
        ("http://origin.example/seg6.ts", true),
        ("http://origin.example/seg7.ts", false),
        ("http://origin.example/seg8.ts", false),
        ("http://origin.example/seg9.ts", true),
    ];
    let at = timeline.iter().position(|t| t.2 == expect[0].0).unwrap();
    for (k, (uri, disc)) in expect.iter().enumerate() {
        let (msn, _, u, d) = timeline[at + k];
        assert_eq!((u, d), (*uri, *disc), "at msn {msn}: {timeline:?}");
    }
    for w in timeline.windows(2) {
        assert_eq!(w[0].0 + 1, w[1].0, "gap in media sequence: {timeline:?}");
        assert_eq!(w[1].1, w[0].1 + u64::from(w[1].3), "cc: {timeline:?}");
    }
}

#[test]
fn vod_inserts_at_markers_and_keeps_endlist() {
    let text = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n#EXTINF:6.0,\nhttp://o/a.ts\n#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n#EXTINF:6.0,\nhttp://o/b.ts\n#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n#EXT-X-ENDLIST\n";
    let pl = parse_media(text).unwrap();
    let breaks = find_breaks(&pl);
    let ads = [rendition("ad1", &[4.0, 4.0])];
    let fills = fills_for(&pl, &breaks, &[], &ads, None);
    let out = splice_media(SpliceInput {
        playlist: &pl,
        breaks: &breaks,
        fills: &fills,
        records: &[],
        ad_uri: None,
    });
    insta::assert_snapshot!(out.text);
}

#[test]
fn encrypted_content_gets_key_none_for_ads_and_its_key_back() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-KEY:METHOD=AES-128,URI=\"http://o/k\"\n#EXTINF:6.0,\nhttp://o/a.ts\n#EXT-X-CUE-OUT:6\n#EXTINF:6.0,\nhttp://o/b.ts\n#EXT-X-CUE-IN\n#EXTINF:6.0,\nhttp://o/c.ts\n";
    let pl = parse_media(text).unwrap();
    let breaks = find_breaks(&pl);
    let ads = [rendition("ad1", &[3.0, 3.0])];
    let fills = fills_for(&pl, &breaks, &[], &ads, None);
    let out = splice_media(SpliceInput {
        playlist: &pl,
        breaks: &breaks,
        fills: &fills,
        records: &[],
        ad_uri: None,
    });
    insta::assert_snapshot!(out.text);
}

#[test]
fn unknown_tags_of_replaced_segments_pass_through() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\nhttp://o/a.ts\n#EXT-X-CUE-OUT:6\n#EXT-X-DATERANGE:ID=\"d\",START-DATE=\"2024-01-01T00:00:00Z\",X-COM-FOO=\"1\"\n#EXT-X-MYSTERY:42\n#EXTINF:6.0,\nhttp://o/b.ts\n#EXT-X-CUE-IN\n#EXTINF:6.0,\nhttp://o/c.ts\n";
    let pl = parse_media(text).unwrap();
    let breaks = find_breaks(&pl);
    let fills = fills_for(&pl, &breaks, &[], &[rendition("ad1", &[6.0])], None);
    let out = splice_media(SpliceInput {
        playlist: &pl,
        breaks: &breaks,
        fills: &fills,
        records: &[],
        ad_uri: None,
    });
    assert!(out.text.contains("#EXT-X-MYSTERY:42\n"));
    assert!(out.text.contains("X-COM-FOO"));
    assert!(!out.text.contains("http://o/b.ts"));
    assert!(!out.text.contains("CUE-OUT"));
}

#[test]
fn no_fill_passes_content_through_verbatim() {
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:6.0,\nhttp://o/a.ts\n#EXT-X-CUE-OUT:6\n#EXTINF:6.0,\nhttp://o/b.ts\n#EXT-X-CUE-IN\n#EXTINF:6.0,\nhttp://o/c.ts\n";
    let pl = parse_media(text).unwrap();
    let breaks = find_breaks(&pl);
    let out = splice_media(SpliceInput {
        playlist: &pl,
        breaks: &breaks,
        fills: &HashMap::new(),
        records: &[],
        ad_uri: None,
    });
    assert_eq!(out.text, text);
    assert!(out.records.is_empty());
}

#[test]
fn window_past_the_break_start_keeps_showing_its_ads() {
    let mk = |first: u64, last: u64| {
        let mut s = format!("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n");
        for k in first..=last {
            match k % 20 {
                5 => s.push_str("#EXT-X-CUE-OUT:16\n"),
                6..=12 => s.push_str(&format!(
                    "#EXT-X-CUE-OUT-CONT:ElapsedTime={},Duration=16\n",
                    (k % 20 - 5) * 2
                )),
                13 => s.push_str("#EXT-X-CUE-IN\n"),
                _ => {}
            }
            s.push_str(&format!("#EXTINF:2.000,\nhttp://o/seg{k}.ts\n"));
        }
        parse_media(&s).unwrap()
    };
    let ads = [rendition("ad10", &[2.0; 5])];
    let slate = Some(rendition("slate", &[2.0]));
    let mut records = Vec::new();
    for (first, last) in [(20, 25), (28, 33)] {
        let pl = mk(first, last);
        let breaks = find_breaks(&pl);
        let fills = fills_for(&pl, &breaks, &records, &ads, slate.clone());
        let out = splice_media(SpliceInput {
            playlist: &pl,
            breaks: &breaks,
            fills: &fills,
            records: &records,
            ad_uri: None,
        });
        store(&mut records, out.records);
        if first == 28 {
            let u: Vec<String> = read_output(&out.text).into_iter().map(|s| s.2).collect();
            assert_eq!(u[0], "https://ads.example/ad10/3.ts", "{}", out.text);
            assert_eq!(u[2], "https://ads.example/slate/0.ts", "{}", out.text);
        }
    }
}

#[test]
fn first_position_is_exact_with_the_anchor_and_estimated_without() {
    let segs = [(10, 2.0), (11, 3.0), (12, 2.0)];
    assert_eq!(first_position(segs, (12, 20.0), (0, 0.0)), (15.0, true));
    assert_eq!(first_position(segs, (10, 4.0), (0, 0.0)), (4.0, true));
    // Anchor slid out 3 segments before the window: 3 x the mean (7/3 s).
    let (p, exact) = first_position(segs, (7, 1.0), (0, 0.0));
    assert!(!exact);
    assert!((p - 8.0).abs() < 1e-9, "{p}");
    assert_eq!(first_position([], (7, 1.0), (9, 2.0)), (5.0, false));
}

fn splice_once(text: &str, ads: &[Arc<AdRendition>], slate: Option<Arc<AdRendition>>) -> String {
    let pl = parse_media(text).unwrap();
    let breaks = find_breaks(&pl);
    let fills = fills_for(&pl, &breaks, &[], ads, slate);
    splice_media(SpliceInput {
        playlist: &pl,
        breaks: &breaks,
        fills: &fills,
        records: &[],
        ad_uri: None,
    })
    .text
}

/// (uri, program date time in force) of every output segment, the time as
/// hls.js computes it: the segment's own tag, else the previous one's plus its
/// duration.
fn clock_of(text: &str) -> Vec<(String, Option<String>)> {
    let pl = parse_media(text).unwrap();
    let clock = crate::hls::pdt::segment_clock(&pl).unwrap();
    pl.segments
        .iter()
        .zip(clock)
        .map(|(s, t)| (s.uri.clone(), t.map(crate::hls::pdt::format_date_time)))
        .collect()
}

#[test]
fn ads_carry_the_replaced_contents_clock_and_the_content_resumes_on_its_own() {
    // PDT on every content segment (live packagers), a 12 s break of two
    // segments replaced by a 5 s ad and 2 s slate loops.
    let mut text = String::from(
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n",
    );
    for k in 0..5u64 {
        match k {
            1 => text.push_str("#EXT-X-CUE-OUT:12\n"),
            3 => text.push_str("#EXT-X-CUE-IN\n"),
            _ => {}
        }
        text.push_str(&format!(
            "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:{:02}.000+00:00\n#EXTINF:6.000,\nhttp://o/seg{k}.ts\n",
            k * 6
        ));
    }
    let out = splice_once(
        &text,
        &[rendition("ad1", &[3.0, 3.0])],
        Some(rendition("slate", &[2.0])),
    );
    let clock = clock_of(&out);
    let uris: Vec<&str> = clock.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        uris,
        [
            "http://o/seg0.ts",
            "https://ads.example/ad1/0.ts",
            "https://ads.example/ad1/1.ts",
            "https://ads.example/slate/0.ts",
            "https://ads.example/slate/0.ts",
            "https://ads.example/slate/0.ts",
            "http://o/seg3.ts",
            "http://o/seg4.ts",
        ],
        "{out}"
    );
    let times: Vec<&str> = clock.iter().map(|c| c.1.as_deref().unwrap()).collect();
    assert_eq!(
        times,
        [
            "2024-05-01T10:00:00.000Z",
            "2024-05-01T10:00:06.000Z",
            "2024-05-01T10:00:09.000Z",
            "2024-05-01T10:00:12.000Z",
            "2024-05-01T10:00:14.000Z",
            "2024-05-01T10:00:16.000Z",
            "2024-05-01T10:00:18.000Z",
            "2024-05-01T10:00:24.000Z",
        ],
        "{out}"
    );
    // Every ad segment carries its own tag (the content does), none is left over
    // from the replaced segments.
    assert_eq!(out.matches("#EXT-X-PROGRAM-DATE-TIME:").count(), 8, "{out}");
    assert!(!out.contains("10:00:06.000+00:00"), "{out}");
}

#[test]
fn content_with_one_date_time_gets_it_back_after_the_break() {
    // One PDT at the top (VOD and many live origins): the content after the
    // break must say its time again, or players would count the ad time on top.
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:00Z\n#EXTINF:6.0,\nhttp://o/a.ts\n#EXT-X-CUE-OUT:6\n#EXTINF:6.0,\nhttp://o/b.ts\n#EXT-X-CUE-IN\n#EXTINF:6.0,\nhttp://o/c.ts\n#EXTINF:6.0,\nhttp://o/d.ts\n";
    let out = splice_once(text, &[rendition("ad1", &[2.0, 2.0])], None);
    let clock = clock_of(&out);
    let at = |u: &str| {
        clock
            .iter()
            .find(|c| c.0 == u)
            .and_then(|c| c.1.clone())
            .unwrap()
    };
    assert_eq!(
        at("https://ads.example/ad1/0.ts"),
        "2024-05-01T10:00:06.000Z"
    );
    assert_eq!(
        at("https://ads.example/ad1/1.ts"),
        "2024-05-01T10:00:08.000Z"
    );
    assert_eq!(at("http://o/c.ts"), "2024-05-01T10:00:12.000Z");
    assert_eq!(at("http://o/d.ts"), "2024-05-01T10:00:18.000Z");
    assert!(out.contains(
        "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:12.000Z\n#EXTINF:6.0,\nhttp://o/c.ts\n"
    ));
    // No PDT in the content: none is made up.
    let plain = text.replace("#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:00Z\n", "");
    let out = splice_once(&plain, &[rendition("ad1", &[2.0, 2.0])], None);
    assert!(!out.contains("PROGRAM-DATE-TIME"), "{out}");
}

#[test]
fn live_break_joined_after_its_start_keeps_the_clock() {
    // The window starts inside the break (CUE-OUT-CONT): the break's clock is
    // the first visible content's minus its elapsed time.
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-PROGRAM-DATE-TIME:2024-05-01T10:00:04.000Z\n#EXT-X-CUE-OUT-CONT:ElapsedTime=4,Duration=8\n#EXTINF:2.000,\nhttp://o/s100.ts\n#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=8\n#EXTINF:2.000,\nhttp://o/s101.ts\n#EXT-X-CUE-IN\n#EXTINF:2.000,\nhttp://o/s102.ts\n";
    let pl = parse_media(text).unwrap();
    let breaks = find_breaks(&pl);
    // The session's record of the break (seen from its start at msn 98).
    let records = vec![BreakRecord {
        break_id: breaks[0].id.clone(),
        origin_start_msn: 98,
        out_start_msn: 98,
        out_cc_before: 0,
        planned: 8.0,
        anchor_msn: 99,
        anchor_offset: 2.0,
        done: None,
        filler: None,
    }];
    let fills = fills_for(&pl, &breaks, &records, &[rendition("ad1", &[2.0; 4])], None);
    let out = splice_media(SpliceInput {
        playlist: &pl,
        breaks: &breaks,
        fills: &fills,
        records: &records,
        ad_uri: None,
    });
    let clock = clock_of(&out.text);
    let got: Vec<(&str, &str)> = clock
        .iter()
        .map(|(u, t)| (u.as_str(), t.as_deref().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("https://ads.example/ad1/2.ts", "2024-05-01T10:00:04.000Z"),
            ("https://ads.example/ad1/3.ts", "2024-05-01T10:00:06.000Z"),
            ("http://o/s102.ts", "2024-05-01T10:00:08.000Z"),
        ],
        "{}",
        out.text
    );
}

#[test]
fn every_keyformat_comes_back_after_the_ads_and_ad_keys_do_not_leak() {
    // FairPlay + Widevine SAMPLE-AES content: both key lines return after the
    // break; the ads play in the clear (METHOD=NONE once, before the first).
    let keys = "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://k1\",KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;base64,AAAA\",KEYFORMAT=\"urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed\"\n";
    let text = format!("#EXTM3U\n#EXT-X-VERSION:5\n#EXT-X-TARGETDURATION:6\n{keys}#EXTINF:6.0,\nhttp://o/a.ts\n#EXT-X-CUE-OUT:6\n#EXTINF:6.0,\nhttp://o/b.ts\n#EXT-X-CUE-IN\n#EXTINF:6.0,\nhttp://o/c.ts\n");
    let ads = [rendition("ad1", &[3.0]), rendition("ad2", &[3.0])];
    let out = splice_once(&text, &ads, None);
    assert!(
        out.contains(&format!(
            "#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:3.000,\nhttps://ads.example/ad1/0.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:3.000,\nhttps://ads.example/ad2/0.ts\n#EXT-X-DISCONTINUITY\n{keys}#EXTINF:6.0,\nhttp://o/c.ts\n"
        )),
        "{out}"
    );
    // An AES-128 ad between clear ads: the next ad and the (clear) content after
    // are declared clear again.
    let mut ad1 = (*rendition("ad1", &[3.0])).clone();
    ad1.segments[0]
        .lines
        .push("#EXT-X-KEY:METHOD=AES-128,URI=\"https://ads.example/k\"".into());
    let clear = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\nhttp://o/a.ts\n#EXT-X-CUE-OUT:9\n#EXTINF:6.0,\nhttp://o/b.ts\n#EXTINF:3.0,\nhttp://o/b2.ts\n#EXT-X-CUE-IN\n#EXTINF:6.0,\nhttp://o/c.ts\n";
    let out = splice_once(
        clear,
        &[Arc::new(ad1.clone()), rendition("ad2", &[3.0])],
        None,
    );
    assert!(out.contains("#EXT-X-KEY:METHOD=AES-128,URI=\"https://ads.example/k\"\n#EXTINF:3.000,\nhttps://ads.example/ad1/0.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:3.000,\nhttps://ads.example/ad2/0.ts\n"), "{out}");
    // The encrypted ad last: the clear content after it says so.
    let out = splice_once(clear, &[rendition("ad2", &[3.0]), Arc::new(ad1)], None);
    // (the break's last 3 s of content are not covered: they play, as filler.)
    assert!(out.contains("https://ads.example/ad1/0.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:3.0,\nhttp://o/b2.ts\n"), "{out}");
    assert!(
        !out.contains("#EXT-X-KEY:METHOD=NONE\n#EXTINF:3.000,\nhttps://ads.example/ad2"),
        "clear content, clear ad: no NONE needed\n{out}"
    );
}

#[test]
fn cmaf_ads_declare_their_map_and_the_contents_comes_back() {
    // fMP4 content with byte ranges; an fMP4 ad; a window that later starts inside
    // the ad (its first segment, with the map, slid out).
    let mk = |first: u64, last: u64| {
        let mut s = format!("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n#EXT-X-MAP:URI=\"http://o/init.mp4\"\n");
        for k in first..=last {
            match k {
                5 => s.push_str("#EXT-X-CUE-OUT:8\n"),
                6..=8 => s.push_str("#EXT-X-CUE-OUT-CONT:Duration=8\n"),
                9 => s.push_str("#EXT-X-CUE-IN\n"),
                _ => {}
            }
            s.push_str(&format!(
                "#EXT-X-BYTERANGE:1000@{}\n#EXTINF:2.000,\nhttp://o/all.mp4\n",
                k * 1000
            ));
        }
        parse_media(&s).unwrap()
    };
    let ads = [live_origin::rendition("ad1", &[2.0; 4], true)];
    let mut records = Vec::new();
    let mut texts = Vec::new();
    for (first, last) in [(3, 8), (7, 10)] {
        let pl = mk(first, last);
        let breaks = find_breaks(&pl);
        let fills = fills_for(&pl, &breaks, &records, &ads, None);
        let out = splice_media(SpliceInput {
            playlist: &pl,
            breaks: &breaks,
            fills: &fills,
            records: &records,
            ad_uri: None,
        });
        store(&mut records, out.records);
        texts.push(out.text);
    }
    assert!(
        texts[0].contains("#EXT-X-BYTERANGE:1000@4000\n#EXTINF:2.000,\nhttp://o/all.mp4\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"https://ads.example/ad1/init.mp4\"\n#EXTINF:2.000,\nhttps://ads.example/ad1/0.m4s\n"),
        "{}",
        texts[0]
    );
    // Joined inside the ad: its map first; the content's map back after it,
    // byte ranges as the origin wrote them.
    assert!(
        texts[1].starts_with("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n#EXT-X-MAP:URI=\"https://ads.example/ad1/init.mp4\"\n#EXTINF:2.000,\nhttps://ads.example/ad1/2.m4s\n"),
        "{}",
        texts[1]
    );
    assert!(
        texts[1].contains("https://ads.example/ad1/3.m4s\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"http://o/init.mp4\"\n#EXT-X-BYTERANGE:1000@9000\n#EXTINF:2.000,\nhttp://o/all.mp4\n"),
        "{}",
        texts[1]
    );
    assert_eq!(texts[1].matches("#EXT-X-MAP:").count(), 2, "{}", texts[1]);
}

#[test]
fn ll_hls_parts_of_replaced_content_are_not_written() {
    // An LL-HLS window inside a break: the replaced segments' parts and the parts
    // and hint of the segment being made (break content) are left out; the
    // server control, part info and rendition reports pass through.
    let mut s = String::from("#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.5\n#EXT-X-PART-INF:PART-TARGET=0.5\n#EXT-X-MEDIA-SEQUENCE:10\n");
    for k in 10..14u64 {
        if k == 12 {
            s.push_str("#EXT-X-CUE-OUT:8\n");
        }
        for p in 0..4 {
            s.push_str(&format!(
                "#EXT-X-PART:DURATION=0.5,URI=\"http://o/s{k}.{p}.m4s\"{}\n",
                if p == 0 { ",INDEPENDENT=YES" } else { "" }
            ));
        }
        s.push_str(&format!("#EXTINF:2.000,\nhttp://o/s{k}.m4s\n"));
    }
    s.push_str("#EXT-X-PART:DURATION=0.5,URI=\"http://o/s14.0.m4s\",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"http://o/s14.1.m4s\"\n#EXT-X-RENDITION-REPORT:URI=\"../v1/index.m3u8\",LAST-MSN=13,LAST-PART=3\n");
    let out = splice_once(&s, &[rendition("ad1", &[2.0; 4])], None);
    assert!(out.contains("http://o/s11.3.m4s"), "{out}");
    for gone in [
        "http://o/s12.0.m4s",
        "http://o/s13.2.m4s",
        "s14.0.m4s",
        "s14.1.m4s",
    ] {
        assert!(!out.contains(gone), "{gone} in\n{out}");
    }
    assert!(out.contains("https://ads.example/ad1/1.ts\n#EXT-X-RENDITION-REPORT:URI=\"../v1/index.m3u8\",LAST-MSN=13,LAST-PART=3\n"), "{out}");
    assert!(out.contains("#EXT-X-PART-INF:PART-TARGET=0.5\n"));
    // Content again at the end: its parts are written.
    let ended = s.replace("#EXT-X-CUE-OUT:8\n", "#EXT-X-CUE-OUT:2\n");
    let out = splice_once(&ended, &[rendition("ad1", &[2.0])], None);
    assert!(out.contains("s14.1.m4s"), "{out}");
}
