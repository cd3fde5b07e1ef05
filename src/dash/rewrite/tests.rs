use super::*;
use crate::dash::mpd::find_breaks;
use crate::dash::xml::{parse, write};

const AD: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S">
  <Period id="0">
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="12800" duration="25600" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="v0" width="320" height="180" bandwidth="100000" codecs="avc1.4d401e"/>
      <Representation id="v1" width="160" height="90" bandwidth="60000" codecs="avc1.4d401e"/>
    </AdaptationSet>
    <AdaptationSet contentType="audio" mimeType="audio/mp4" lang="und">
      <SegmentTemplate timescale="48000" duration="96000" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="a0" bandwidth="16000" codecs="mp4a.40.2"/>
    </AdaptationSet>
  </Period>
</MPD>"#;

fn ad(name: &str, secs: f64) -> Arc<DashAd> {
    let text = AD.replace("PT10S", &format!("PT{secs}S"));
    let url = Url::parse(&format!("http://ads.example/{name}/manifest.mpd")).unwrap();
    Arc::new(prepare_ad(&parse(&text).unwrap(), &url, None).unwrap())
}

const LIVE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:scte35="urn:scte:scte35:2013:xml" xmlns:foo="urn:example:foo" type="dynamic" availabilityStartTime="2024-01-01T00:00:00Z" publishTime="2024-01-01T00:01:00Z" minimumUpdatePeriod="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S" foo:custom="keep-me">
  <ProgramInformation><Title>t</Title></ProgramInformation>
  <Period id="p0" start="PT0S">
    <EventStream schemeIdUri="urn:scte:scte35:2013:xml" timescale="90000">
      <Event presentationTime="900000" duration="1440000" id="1"><scte35:SpliceInfoSection><scte35:SpliceInsert spliceEventId="1" outOfNetworkIndicator="true"><scte35:BreakDuration autoReturn="true" duration="1440000"/></scte35:SpliceInsert></scte35:SpliceInfoSection></Event>
    </EventStream>
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" foo:attr="x">
      <SegmentTemplate timescale="12800" duration="25600" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="v0" width="320" height="180" bandwidth="120000" codecs="avc1.4d401e"/>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" lang="en">
      <SegmentTemplate timescale="48000" duration="96000" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="a0" bandwidth="16000" codecs="mp4a.40.2"/>
    </AdaptationSet>
  </Period>
  <foo:Unknown a="1"><foo:Inner>text</foo:Inner></foo:Unknown>
</MPD>
"#;

/// The spliced MPD, read back as a tree.
fn splice(
    doc: &Document,
    breaks: &[DashBreak],
    fills: &HashMap<String, DashFill>,
    ctx: &MpdContext,
) -> Document {
    parse(&splice_mpd(doc, breaks, fills, ctx).text).unwrap()
}

fn ctx() -> MpdContext {
    MpdContext {
        content_base: "http://origin.example/live/".into(),
        location: Some("/v1/dash/c/SESSION/live/manifest.mpd".into()),
        publish_time: Some("2024-01-01T00:02:00Z".into()),
    }
}

fn fills(
    doc: &Document,
    ads: Vec<Arc<DashAd>>,
    slate: Option<Arc<DashAd>>,
) -> HashMap<String, DashFill> {
    find_breaks(doc)
        .into_iter()
        .map(|b| {
            // As the planner: an insertion point (no duration) gets the VOD avail.
            let planned = b.duration.filter(|d| *d > 0.0).unwrap_or(30.0);
            (
                b.id,
                DashFill {
                    ads: ads.clone(),
                    slate: slate.clone(),
                    planned,
                    ..Default::default()
                },
            )
        })
        .collect()
}

#[test]
fn live_break_becomes_ad_and_slate_periods() {
    let doc = parse(LIVE).unwrap();
    let breaks = find_breaks(&doc);
    let out = splice(
        &doc,
        &breaks,
        &fills(&doc, vec![ad("ad1", 10.0)], Some(ad("slate", 2.0))),
        &ctx(),
    );
    let text = write(&out);
    insta::assert_snapshot!(text);
    // Unknown elements and attributes survive, as trees.
    let reparsed = parse(&text).unwrap();
    assert_eq!(reparsed.root.attr("foo:custom").as_deref(), Some("keep-me"));
    assert_eq!(reparsed.root.child("Unknown"), doc.root.child("Unknown"));
    let ids: Vec<String> = reparsed
        .root
        .children_named("Period")
        .map(|p| p.attr("id").unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "p0",
            "p0-p0-1-ad0",
            "p0-p0-1-slate0",
            "p0-p0-1-slate1",
            "p0-p0-1-slate2",
            "p0-p0-1-resume"
        ]
    );
    let resume = reparsed.root.children_named("Period").last().unwrap();
    assert_eq!(resume.attr("start").as_deref(), Some("PT26S"));
    let tmpl = resume
        .child("AdaptationSet")
        .unwrap()
        .child("SegmentTemplate")
        .unwrap();
    assert_eq!(
        tmpl.attr("presentationTimeOffset").as_deref(),
        Some(&*(26 * 12800).to_string())
    );
    assert_eq!(tmpl.attr("startNumber").as_deref(), Some("14"));
    // Same input, same output: Period ids and starts are stable across refreshes.
    assert_eq!(
        write(&splice(
            &doc,
            &breaks,
            &fills(&doc, vec![ad("ad1", 10.0)], Some(ad("slate", 2.0))),
            &ctx()
        )),
        text
    );
}

#[test]
fn vod_inserts_pre_mid_post_rolls() {
    let vod = LIVE
        .replace("type=\"dynamic\"", "type=\"static\" mediaPresentationDuration=\"PT60S\"")
        .replace("<Period id=\"p0\" start=\"PT0S\">", "<Period id=\"p0\" duration=\"PT60S\">")
        .replace(
            r#"<Event presentationTime="900000" duration="1440000" id="1">"#,
            r#"<Event presentationTime="0" duration="0" id="pre"><scte35:SpliceInfoSection><scte35:SpliceInsert spliceEventId="2" outOfNetworkIndicator="true"/></scte35:SpliceInfoSection></Event><Event presentationTime="2700000" duration="0" id="mid"><scte35:SpliceInfoSection><scte35:SpliceInsert spliceEventId="3" outOfNetworkIndicator="true"/></scte35:SpliceInfoSection></Event><Event presentationTime="5400000" duration="0" id="post">"#,
        );
    let doc = parse(&vod).unwrap();
    let breaks = find_breaks(&doc);
    assert_eq!(breaks.len(), 3);
    let out = splice(
        &doc,
        &breaks,
        &fills(&doc, vec![ad("ad1", 10.0), ad("ad2", 6.0)], None),
        &ctx(),
    );
    let periods: Vec<(String, String)> = out
        .root
        .children_named("Period")
        .map(|p| (p.attr("id").unwrap(), p.attr("start").unwrap()))
        .collect();
    let expect = [
        ("p0-p0-pre-ad0", "PT0S"),
        ("p0-p0-pre-ad1", "PT10S"),
        ("p0", "PT16S"),
        ("p0-p0-mid-ad0", "PT46S"),
        ("p0-p0-mid-ad1", "PT56S"),
        ("p0-p0-mid-resume", "PT62S"),
        ("p0-p0-post-ad0", "PT92S"),
        ("p0-p0-post-ad1", "PT102S"),
    ];
    let expect: Vec<(String, String)> = expect
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(periods, expect);
    assert_eq!(
        out.root.attr("mediaPresentationDuration").as_deref(),
        Some("PT108S")
    );
    assert!(
        out.root.child("Location").is_none(),
        "no Location in a static MPD"
    );
}

#[test]
fn no_fill_changes_only_base_location_and_publish_time() {
    let doc = parse(LIVE).unwrap();
    let out = splice(&doc, &find_breaks(&doc), &HashMap::new(), &ctx());
    let mut expected = doc.root.clone();
    let mut got = out.root.clone();
    for r in [&mut expected, &mut got] {
        r.children.retain(
            |n| !matches!(n, Node::Element(e) if matches!(e.local_name(), "BaseURL" | "Location")),
        );
        r.children.retain(|n| !matches!(n, Node::Text(_)));
        r.remove_attr("publishTime");
    }
    assert_eq!(got, expected);
    assert_eq!(
        out.root.child("BaseURL").unwrap().text(),
        "http://origin.example/live/"
    );
    assert_eq!(
        out.root.child("Location").unwrap().text(),
        "/v1/dash/c/SESSION/live/manifest.mpd"
    );
}

/// ffmpeg's DASH muxer writes ProgramInformation and ServiceDescription before the
/// Periods; the BaseURL and Location we add go where the schema orders them
/// (issue #20: BaseURL came after ServiceDescription).
#[test]
fn added_base_url_and_location_keep_the_schema_order() {
    let text = LIVE.replace(
        "</ProgramInformation>\n",
        "</ProgramInformation>\n  <ServiceDescription id=\"0\"><Latency target=\"3000\"/></ServiceDescription>\n",
    );
    let input = parse(&text).unwrap();
    assert!(crate::conformance::dash::check_mpd(&text).is_empty());
    let out = splice(
        &input,
        &find_breaks(&input),
        &fills(&input, vec![ad("a", 16.0)], None),
        &ctx(),
    );
    let written = write(&out);
    let names: Vec<&str> = out.root.elements().map(|e| e.local_name()).collect();
    assert_eq!(
        &names[..4],
        [
            "ProgramInformation",
            "BaseURL",
            "Location",
            "ServiceDescription"
        ]
    );
    assert_eq!(crate::conformance::dash::check_mpd(&written), Vec::new());
    // An origin BaseURL stays first, and no second one is added.
    let with_base = text.replace(
        "<ProgramInformation><Title>t</Title></ProgramInformation>",
        "<ProgramInformation><Title>t</Title></ProgramInformation>\n  <BaseURL>media/</BaseURL>",
    );
    let input = parse(&with_base).unwrap();
    let out = splice(&input, &find_breaks(&input), &HashMap::new(), &ctx());
    let names: Vec<&str> = out.root.elements().map(|e| e.local_name()).collect();
    assert_eq!(
        &names[..4],
        [
            "ProgramInformation",
            "BaseURL",
            "Location",
            "ServiceDescription"
        ]
    );
    assert_eq!(
        crate::conformance::dash::check_mpd(&write(&out)),
        Vec::new()
    );
}

/// Found by the conformance property test: a live break that runs past the end of
/// its Period (or starts inside another break) made ad Periods overlap the next
/// Period. The fill stops at the Period's end; a break inside a laid-out one is
/// skipped, as in HLS.
#[test]
fn ad_periods_never_overlap_the_next_period() {
    let two = LIVE
        .replace("<Period id=\"p0\" start=\"PT0S\">", "<Period id=\"p0\" start=\"PT0S\" duration=\"PT20S\">")
        .replace(
            "  </Period>\n",
            "  </Period>\n  <Period id=\"p1\" start=\"PT20S\"><AdaptationSet id=\"1\" contentType=\"video\" mimeType=\"video/mp4\"><SegmentTemplate timescale=\"1\" duration=\"2\" media=\"v/$Number$.m4s\"/><Representation id=\"v0\" bandwidth=\"1\"/></AdaptationSet></Period>\n",
        )
        // A second break starting inside the first.
        .replace(
            "</Event>\n    </EventStream>",
            "</Event>\n      <Event presentationTime=\"1080000\" duration=\"900000\" id=\"2\"><scte35:SpliceInfoSection><scte35:SpliceInsert spliceEventId=\"2\" outOfNetworkIndicator=\"true\"/></scte35:SpliceInfoSection></Event>\n    </EventStream>",
        );
    let doc = parse(&two).unwrap();
    assert_eq!(find_breaks(&doc).len(), 2);
    // The first break (10 s in, 16 s announced) would end at 26 s, past p0's 20 s.
    let out = splice(
        &doc,
        &find_breaks(&doc),
        &fills(&doc, vec![ad("a", 4.0)], Some(ad("slate", 2.0))),
        &ctx(),
    );
    let text = write(&out);
    assert_eq!(
        crate::conformance::dash::check_mpd(&text),
        Vec::new(),
        "{text}"
    );
    let starts: Vec<(String, f64, f64)> = out
        .root
        .children_named("Period")
        .map(|p| {
            (
                p.attr("id").unwrap(),
                parse_duration(&p.attr("start").unwrap()).unwrap(),
                p.attr("duration")
                    .and_then(|d| parse_duration(&d))
                    .unwrap_or(0.0),
            )
        })
        .collect();
    for w in starts.windows(2) {
        assert!(w[0].1 + w[0].2 <= w[1].1 + 0.001, "{starts:?}");
    }
    assert_eq!(starts.last().unwrap().0, "p1");
    assert_eq!(starts.last().unwrap().1, 20.0);
}

/// An ad Period is named after the ad's number in its decision, and its start is
/// reported under that number, when an earlier ad of the decision is not played.
#[test]
fn ad_periods_keep_their_numbers_in_the_decision() {
    let doc = parse(LIVE).unwrap();
    let breaks = find_breaks(&doc);
    let mut f = fills(&doc, vec![ad("a", 4.0), ad("c", 4.0)], None);
    for v in f.values_mut() {
        v.numbers = vec![0, 2];
    }
    let out = splice_mpd(&doc, &breaks, &f, &ctx());
    assert!(out.text.contains("id=\"p0-p0-1-ad0\""), "{}", out.text);
    assert!(out.text.contains("id=\"p0-p0-1-ad2\""), "{}", out.text);
    assert!(!out.text.contains("-ad1\""), "{}", out.text);
    assert_eq!(
        out.ad_starts,
        [("p0-1".to_string(), 0, 10.0), ("p0-1".to_string(), 2, 14.0)]
    );
}

#[test]
fn vod_ads_fit_the_avail_by_their_real_length() {
    // Three ads whose VAST said 0.001 s each: 20 s, 20 s and 5 s in their MPDs. A
    // 30 s pre-roll plays the first and the third (25 s), never 45 s.
    let vod = LIVE
        .replace(
            "type=\"dynamic\"",
            "type=\"static\" mediaPresentationDuration=\"PT60S\"",
        )
        .replace(
            "<Period id=\"p0\" start=\"PT0S\">",
            "<Period id=\"p0\" duration=\"PT60S\">",
        )
        .replace(
            r#"<Event presentationTime="900000" duration="1440000" id="1">"#,
            r#"<Event presentationTime="0" duration="0" id="pre">"#,
        )
        .replace(
            r#"<scte35:BreakDuration autoReturn="true" duration="1440000"/>"#,
            "",
        );
    let doc = parse(&vod).unwrap();
    let breaks = find_breaks(&doc);
    assert_eq!(breaks.len(), 1);
    let out = splice(
        &doc,
        &breaks,
        &fills(
            &doc,
            vec![ad("long1", 20.0), ad("long2", 20.0), ad("short", 5.0)],
            None,
        ),
        &ctx(),
    );
    let periods: Vec<(String, String)> = out
        .root
        .children_named("Period")
        .map(|p| (p.attr("id").unwrap(), p.attr("start").unwrap()))
        .collect();
    assert_eq!(
        periods,
        [
            ("p0-p0-pre-ad0".to_string(), "PT0S".to_string()),
            ("p0-p0-pre-ad2".to_string(), "PT20S".to_string()),
            ("p0".to_string(), "PT25S".to_string()),
        ]
    );
    assert_eq!(
        out.root.attr("mediaPresentationDuration").as_deref(),
        Some("PT85S")
    );
}
