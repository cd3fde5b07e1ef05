//! Unit tests for the VAST parser, on the hand-written fixtures in `tests/fixtures/vast/`
//! and small inline documents.

use proptest::prelude::*;

use super::*;

const INLINE_HLS: &str = include_str!("../../tests/fixtures/vast/vast-inline-hls-mezzanine.xml");
const POD_UNORDERED: &str = include_str!("../../tests/fixtures/vast/vast-pod-unordered.xml");
const WRAPPER_RELATIVE: &str =
    include_str!("../../tests/fixtures/vast/vast-wrapper-relative-uri.xml");
const PREFIXED: &str = include_str!("../../tests/fixtures/vast/vast-prefixed-namespace.xml");
const NO_FILL: &str = include_str!("../../tests/fixtures/vast/vast-no-fill-error.xml");

fn inline(ad: &Ad) -> &InLine {
    match &ad.body {
        AdBody::InLine(inline) => inline,
        AdBody::Wrapper(w) => panic!("expected InLine, got wrapper to {}", w.ad_tag_uri),
    }
}

fn wrapper(ad: &Ad) -> &Wrapper {
    match &ad.body {
        AdBody::Wrapper(wrapper) => wrapper,
        AdBody::InLine(_) => panic!("expected Wrapper, got InLine"),
    }
}

fn first_linear(ad: &Ad) -> &Linear {
    inline(ad)
        .creatives
        .iter()
        .find_map(|c| c.linear.as_ref())
        .expect("a linear creative")
}

// === parse_duration ===

#[test]
fn duration_hh_mm_ss() {
    assert_eq!(parse_duration("00:00:15"), Some(15.0));
    assert_eq!(parse_duration("01:02:03"), Some(3723.0));
}

#[test]
fn duration_with_millis() {
    assert_eq!(parse_duration("00:00:15.500"), Some(15.5));
    assert_eq!(parse_duration("00:01:30.123"), Some(90.123));
    assert_eq!(parse_duration("00:00:15."), Some(15.0));
}

#[test]
fn duration_tolerates_spaces() {
    assert_eq!(parse_duration("  00:00:15  "), Some(15.0));
    assert_eq!(parse_duration("00 : 00 : 15.25\n"), Some(15.25));
}

#[test]
fn duration_bare_seconds() {
    assert_eq!(parse_duration("30"), Some(30.0));
    assert_eq!(parse_duration(" 7.5 "), Some(7.5));
}

#[test]
fn duration_rejects_garbage() {
    for bad in [
        "",
        " ",
        "abc",
        "00:15",
        "00:00:00:15",
        "-00:00:15",
        "00:-1:15",
        "00:00:1e3",
        "00:00:inf",
        "NaN",
        "50%",
        "00:00:.5",
        "00:00:15.5.5",
        "+1",
        "00:00:15 .5",
    ] {
        assert_eq!(parse_duration(bad), None, "{bad:?}");
    }
}

// === documents ===

#[test]
fn inline_hls_fixture() {
    let vast = parse_vast(INLINE_HLS).expect("parses");
    assert_eq!(vast.version.as_deref(), Some("4.2"));
    assert!(vast.errors.is_empty());
    assert_eq!(vast.ads.len(), 1);
    let ad = &vast.ads[0];
    assert_eq!(ad.id.as_deref(), Some("ad-hls-1"));
    assert_eq!(ad.sequence, None);

    let inline = inline(ad);
    assert_eq!(inline.ad_system.as_deref(), Some("splicepoint-fixture"));
    assert_eq!(inline.ad_title.as_deref(), Some("HLS stitching fixture"));
    assert_eq!(
        inline.impressions,
        [
            "https://ads.example.com/imp?id=1&cb=[CACHEBUSTING]",
            "https://ads.example.com/imp?id=2&src=vast&raw=1",
        ]
    );
    assert_eq!(
        inline.errors,
        ["https://ads.example.com/error?code=[ERRORCODE]"]
    );
    assert_eq!(inline.creatives.len(), 2);
    assert!(inline.creatives[1].linear.is_none());

    let creative = &inline.creatives[0];
    assert_eq!(creative.id.as_deref(), Some("cr-1"));
    assert_eq!(creative.ad_id.as_deref(), Some("adid-1"));
    assert_eq!(creative.sequence, Some(1));
    assert_eq!(
        creative.universal_ad_id.as_deref(),
        Some("ad-id.org:ABCD1234000H")
    );

    let linear = creative.linear.as_ref().expect("linear");
    assert_eq!(linear.duration, Some(15.5));
    assert_eq!(linear.media_files.len(), 2, "empty MediaFile dropped");
    let hls = &linear.media_files[0];
    assert!(hls.is_hls());
    assert_eq!(hls.url, "https://cdn.example.com/ads/ad-hls-1/master.m3u8");
    assert_eq!(hls.delivery.as_deref(), Some("streaming"));
    assert_eq!(hls.bitrate, Some(6000), "maxBitrate when bitrate is absent");
    assert_eq!((hls.width, hls.height), (Some(1920), Some(1080)));
    assert_eq!(hls.codec.as_deref(), Some("avc1.640028,mp4a.40.2"));
    assert_eq!(hls.id.as_deref(), Some("hls"));
    let mp4 = &linear.media_files[1];
    assert!(!mp4.is_hls());
    assert_eq!(mp4.bitrate, Some(2500));
    assert_eq!(mp4.mime_type.as_deref(), Some("video/mp4"));
    assert_eq!(
        linear.mezzanines,
        ["https://cdn.example.com/ads/ad-hls-1/mezzanine.mov"]
    );
    assert_eq!(
        linear.tracking,
        [
            TrackingEvent {
                event: "start".into(),
                offset: None,
                url: "https://ads.example.com/t/start".into(),
            },
            TrackingEvent {
                event: "progress".into(),
                offset: Some("00:00:05".into()),
                url: "https://ads.example.com/t/progress-5".into(),
            },
            TrackingEvent {
                event: "complete".into(),
                offset: None,
                url: "https://ads.example.com/t/complete".into(),
            },
        ]
    );
    assert_eq!(
        linear.click_through.as_deref(),
        Some("https://advertiser.example.com/landing")
    );
    assert_eq!(linear.click_tracking, ["https://ads.example.com/t/click"]);
}

#[test]
fn pod_fixture_keeps_document_order() {
    let vast = parse_vast(POD_UNORDERED).expect("parses");
    let ids: Vec<_> = vast.ads.iter().map(|a| a.id.as_deref()).collect();
    assert_eq!(ids, [Some("second"), Some("standalone"), Some("first")]);
    let seqs: Vec<_> = vast.ads.iter().map(|a| a.sequence).collect();
    assert_eq!(seqs, [Some(2), None, Some(1)]);
    assert_eq!(first_linear(&vast.ads[2]).duration, Some(30.0));
}

#[test]
fn wrapper_fixture() {
    let vast = parse_vast(WRAPPER_RELATIVE).expect("parses");
    let w = wrapper(&vast.ads[0]);
    assert_eq!(w.ad_tag_uri, "../inline/next.xml?slot=1");
    assert!(!w.follow_additional_wrappers);
    assert!(w.allow_multiple_ads);
    assert!(w.fallback_on_no_ad);
    assert_eq!(w.impressions, ["https://wrapper.example.com/imp"]);
    assert_eq!(w.errors, ["https://wrapper.example.com/error"]);
    let linear = w.creatives[0].linear.as_ref().expect("tracking linear");
    assert_eq!(linear.duration, None);
    assert!(linear.media_files.is_empty());
    assert_eq!(linear.tracking.len(), 1, "Tracking without event dropped");
    assert_eq!(
        linear.click_tracking,
        ["https://wrapper.example.com/t/click"]
    );
}

#[test]
fn wrapper_flag_defaults_depend_on_version() {
    let doc = |version: &str| {
        format!("<VAST version=\"{version}\"><Ad><Wrapper><VASTAdTagURI>https://x/y</VASTAdTagURI></Wrapper></Ad></VAST>")
    };
    for (version, allow_multiple_ads) in [
        ("2.0", true),
        ("3.0", true),
        ("4.0", false),
        (" 4.2 ", false),
        ("10", false),
        ("x", true),
    ] {
        let vast = parse_vast(&doc(version)).expect("parses");
        let w = wrapper(&vast.ads[0]);
        assert!(w.follow_additional_wrappers, "{version}");
        assert_eq!(w.allow_multiple_ads, allow_multiple_ads, "{version}");
        assert!(!w.fallback_on_no_ad, "{version}");
    }
    let vast =
        parse_vast("<VAST><Ad><Wrapper allowMultipleAds='FALSE'/></Ad></VAST>").expect("parses");
    assert!(
        !wrapper(&vast.ads[0]).allow_multiple_ads,
        "explicit value wins"
    );
}

#[test]
fn wrapper_without_tag_uri_has_empty_uri() {
    let vast = parse_vast("<VAST><Ad><Wrapper><AdSystem>x</AdSystem></Wrapper></Ad></VAST>")
        .expect("parses");
    assert_eq!(wrapper(&vast.ads[0]).ad_tag_uri, "");
}

#[test]
fn prefixed_namespace_fixture() {
    let vast = parse_vast(PREFIXED).expect("parses");
    assert_eq!(vast.version.as_deref(), Some("4.0"));
    let ad = &vast.ads[0];
    assert_eq!(ad.id.as_deref(), Some("prefixed"));
    assert_eq!(ad.sequence, Some(3));
    let creative = &inline(ad).creatives[0];
    assert_eq!(creative.ad_id.as_deref(), Some("legacy-case"));
    assert_eq!(creative.universal_ad_id.as_deref(), Some("Ad-ID:8465"));
    let linear = first_linear(ad);
    assert_eq!(linear.duration, Some(6.0));
    assert!(linear.media_files[0].is_hls());
    assert_eq!(linear.media_files[0].bitrate, Some(2000));
}

#[test]
fn no_fill_fixture() {
    let vast = parse_vast(NO_FILL).expect("parses");
    assert!(vast.ads.is_empty());
    assert_eq!(
        vast.errors,
        ["https://ads.example.com/nofill?code=[ERRORCODE]"]
    );
}

#[test]
fn vast1_shape() {
    let xml = r#"<VideoAdServingTemplate>
      <Ad id="v1"><InLine>
        <AdSystem>legacy</AdSystem>
        <Impression><URL id="a"><![CDATA[ https://a/imp ]]></URL><URL>https://b/imp</URL></Impression>
        <TrackingEvents><Tracking event="start"><URL>https://a/start</URL><URL>https://b/start</URL></Tracking></TrackingEvents>
        <Video>
          <Duration>00:00:15</Duration>
          <AdID>legacy-ad</AdID>
          <VideoClicks><ClickThrough><URL>https://click</URL></ClickThrough></VideoClicks>
          <MediaFiles><MediaFile type="video/x-flv" bitrate="496"><URL>https://a/v.flv</URL></MediaFile></MediaFiles>
        </Video>
      </InLine></Ad>
    </VideoAdServingTemplate>"#;
    let vast = parse_vast(xml).expect("parses");
    assert_eq!(vast.version, None);
    let ad = &vast.ads[0];
    assert_eq!(inline(ad).impressions, ["https://a/imp", "https://b/imp"]);
    let creative = &inline(ad).creatives[0];
    assert_eq!(creative.ad_id.as_deref(), Some("legacy-ad"));
    let linear = first_linear(ad);
    assert_eq!(linear.duration, Some(15.0));
    assert_eq!(linear.media_files[0].url, "https://a/v.flv");
    assert_eq!(linear.click_through.as_deref(), Some("https://click"));
    let starts: Vec<_> = linear.tracking.iter().map(|t| t.url.as_str()).collect();
    assert_eq!(starts, ["https://a/start", "https://b/start"]);
}

#[test]
fn legacy_vast_ad_tag_url() {
    let xml = "<VAST version=\"2.0\"><Ad><Wrapper><VASTAdTagURL><URL><![CDATA[inline.xml]]></URL></VASTAdTagURL></Wrapper></Ad></VAST>";
    let vast = parse_vast(xml).expect("parses");
    assert_eq!(wrapper(&vast.ads[0]).ad_tag_uri, "inline.xml");
}

#[test]
fn names_match_case_insensitively() {
    let xml = "<vast version='3.0'><ad ID='x' SEQUENCE='2'><Inline><impression>https://i</impression></Inline></ad></vast>";
    let vast = parse_vast(xml).expect("parses");
    let ad = &vast.ads[0];
    assert_eq!((ad.id.as_deref(), ad.sequence), (Some("x"), Some(2)));
    assert_eq!(inline(ad).impressions, ["https://i"]);
}

#[test]
fn ad_without_body_is_skipped() {
    let vast = parse_vast("<VAST><Ad id='a'/><Ad id='b'><Other/></Ad></VAST>").expect("parses");
    assert!(vast.ads.is_empty());
}

#[test]
fn entities_and_numeric_refs() {
    let xml = "<VAST><Error>https://e/?a=1&amp;b=&#50;&#x33;&c=&unknown;&amp</Error></VAST>";
    let vast = parse_vast(xml).expect("parses");
    assert_eq!(vast.errors, ["https://e/?a=1&b=23&c=&unknown;&amp"]);
}

#[test]
fn bom_and_trailing_content_are_ignored() {
    let vast = parse_vast("\u{feff}<?xml version='1.0'?><VAST version='4.0'/>trailing junk <x>")
        .expect("parses");
    assert_eq!(vast.version.as_deref(), Some("4.0"));
    assert!(vast.ads.is_empty());
}

#[test]
fn deep_nesting_is_skipped_not_fatal() {
    let depth = 10_000;
    let xml = format!(
        "<VAST><Error>https://e</Error><Ad><InLine>{}{}</InLine></Ad></VAST>",
        "<x>".repeat(depth),
        "</x>".repeat(depth)
    );
    let vast = parse_vast(&xml).expect("parses");
    assert_eq!(vast.errors, ["https://e"]);
    assert_eq!(vast.ads.len(), 1);
}

// === errors ===

#[test]
fn error_not_vast() {
    assert_eq!(
        parse_vast("<vmap:VMAP xmlns:vmap='x'/>"),
        Err(VastError::NotVast("VMAP".into()))
    );
    assert_eq!(
        parse_vast("<html><body/></html>"),
        Err(VastError::NotVast("html".into()))
    );
}

#[test]
fn error_no_root() {
    assert_eq!(parse_vast(""), Err(VastError::NoRoot));
    assert_eq!(parse_vast("  <!-- nothing --> "), Err(VastError::NoRoot));
    assert_eq!(parse_vast("just text"), Err(VastError::NoRoot));
}

#[test]
fn error_truncated() {
    assert_eq!(
        parse_vast("<VAST><Ad><InLine>"),
        Err(VastError::UnexpectedEof {
            open: "InLine".into()
        })
    );
}

#[test]
fn error_malformed() {
    let err = parse_vast("<VAST><Ad></VAST>").expect_err("mismatched end tag");
    assert!(
        matches!(err, VastError::Xml { position, .. } if position > 0),
        "{err:?}"
    );
    assert!(matches!(
        parse_vast("<VAST><Ad id='x></Ad></VAST>"),
        Err(VastError::Xml { .. } | VastError::UnexpectedEof { .. })
    ));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_strings(s in "\\PC*") {
        let _ = parse_vast(&s);
        let _ = parse_duration(&s);
    }

    #[test]
    fn never_panics_on_vast_like_soup(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("<VAST version='4.2'>".to_owned()), Just("</VAST>".to_owned()),
                Just("<Ad sequence='1'>".to_owned()), Just("</Ad>".to_owned()),
                Just("<InLine>".to_owned()), Just("</InLine>".to_owned()),
                Just("<Wrapper>".to_owned()), Just("</Wrapper>".to_owned()),
                Just("<Linear>".to_owned()), Just("</Linear>".to_owned()),
                Just("<MediaFile bitrate='9e99'>".to_owned()), Just("</MediaFile>".to_owned()),
                Just("<Duration>".to_owned()), Just("</Duration>".to_owned()),
                Just("<![CDATA[".to_owned()), Just("]]>".to_owned()),
                Just("&amp;".to_owned()), Just("&#x".to_owned()), Just("<URL/>".to_owned()),
                "[ -~]{0,12}",
            ],
            0..40,
        )
    ) {
        let _ = parse_vast(&parts.concat());
    }

    #[test]
    fn duration_round_trips(h in 0u32..100, m in 0u32..60, s in 0u32..60, ms in 0u32..1000) {
        let text = format!("{h:02}:{m:02}:{s:02}.{ms:03}");
        let parsed = parse_duration(&text).expect("valid");
        let expected = f64::from(h) * 3600.0 + f64::from(m) * 60.0 + f64::from(s) + f64::from(ms) / 1000.0;
        prop_assert!((parsed - expected).abs() < 1e-6);
    }
}
