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

// === companions and verifications ===

/// VAST 4.2 inline ad: a linear creative, a companion creative with two companions, and
/// two verifications.
const INLINE_COMPANIONS_VERIFICATIONS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<VAST version="4.2" xmlns="http://www.iab.com/VAST">
  <Ad id="cv-1">
    <InLine>
      <AdSystem>splicepoint-test</AdSystem>
      <AdTitle>Companions and verifications</AdTitle>
      <Impression><![CDATA[https://ads.example.com/imp]]></Impression>
      <AdVerifications>
        <Verification vendor="omsdk.example.com-omid">
          <JavaScriptResource apiFramework="omid" browserOptional="true">
            <![CDATA[https://verify.example.com/omid.js]]>
          </JavaScriptResource>
          <TrackingEvents>
            <Tracking event="verificationNotExecuted"><![CDATA[https://verify.example.com/ne?reason=[REASON]]]></Tracking>
          </TrackingEvents>
          <VerificationParameters><![CDATA[{"campaign":"c-7","flags":"a&b"}]]></VerificationParameters>
        </Verification>
        <Verification vendor="native.example.com">
          <ExecutableResource apiFramework="native-sdk" type="application/octet-stream" language="kotlin">
            https://verify.example.com/native.bin
          </ExecutableResource>
        </Verification>
      </AdVerifications>
      <Creatives>
        <Creative id="lin" sequence="1">
          <Linear>
            <Duration>00:00:10</Duration>
            <MediaFiles><MediaFile delivery="progressive" type="video/mp4">https://cdn.example.com/a.mp4</MediaFile></MediaFiles>
          </Linear>
        </Creative>
        <Creative id="comp" sequence=" 02 ">
          <CompanionAds required="any">
            <Companion id="banner" width="300" height="250" assetWidth="600" assetHeight="500"
                expandedWidth="728" expandedHeight="90" apiFramework="SIMID" adSlotId="slot-1"
                pxratio="2000" renderingMode="end-card">
              <StaticResource creativeType="image/png"><![CDATA[ https://cdn.example.com/banner.png ]]></StaticResource>
              <IFrameResource><![CDATA[https://cdn.example.com/banner.html]]></IFrameResource>
              <AltText>Visit us</AltText>
              <AdParameters xmlEncoded="false"><![CDATA[id=42]]></AdParameters>
              <CompanionClickThrough>https://advertiser.example.com/landing?a=1&amp;b=2</CompanionClickThrough>
              <CompanionClickTracking id="t1"><![CDATA[https://ads.example.com/cclick/1]]></CompanionClickTracking>
              <CompanionClickTracking>https://ads.example.com/cclick/2</CompanionClickTracking>
              <TrackingEvents>
                <Tracking event="creativeView"><![CDATA[https://ads.example.com/cview]]></Tracking>
              </TrackingEvents>
            </Companion>
            <Companion width="728" height="90" adSlotID="legacy-slot">
              <HTMLResource><![CDATA[
                <a href="https://advertiser.example.com/">Buy &amp; save</a>
              ]]></HTMLResource>
            </Companion>
          </CompanionAds>
        </Creative>
      </Creatives>
    </InLine>
  </Ad>
</VAST>"#;

#[test]
fn vast42_companions() {
    let vast = parse_vast(INLINE_COMPANIONS_VERIFICATIONS).expect("parses");
    let inline = inline(&vast.ads[0]);
    assert!(inline.creatives[0].companions.is_empty());
    assert_eq!(inline.creatives[0].companion_required, None);
    let creative = &inline.creatives[1];
    assert_eq!(creative.companion_required.as_deref(), Some("any"));
    assert_eq!(creative.companions.len(), 2);

    let banner = &creative.companions[0];
    assert_eq!(
        banner,
        &Companion {
            id: Some("banner".into()),
            width: Some("300".into()),
            height: Some("250".into()),
            asset_width: Some("600".into()),
            asset_height: Some("500".into()),
            expanded_width: Some("728".into()),
            expanded_height: Some("90".into()),
            api_framework: Some("SIMID".into()),
            ad_slot_id: Some("slot-1".into()),
            pxratio: Some("2000".into()),
            rendering_mode: Some("end-card".into()),
            sequence: Some("02".into()),
            static_resources: vec![StaticResource {
                creative_type: Some("image/png".into()),
                url: "https://cdn.example.com/banner.png".into(),
            }],
            iframe_resources: vec!["https://cdn.example.com/banner.html".into()],
            html_resources: vec![],
            alt_text: Some("Visit us".into()),
            ad_parameters: Some("id=42".into()),
            click_through: Some("https://advertiser.example.com/landing?a=1&b=2".into()),
            click_tracking: vec![
                "https://ads.example.com/cclick/1".into(),
                "https://ads.example.com/cclick/2".into(),
            ],
            tracking: vec![TrackingEvent {
                event: "creativeView".into(),
                offset: None,
                url: "https://ads.example.com/cview".into(),
            }],
        }
    );

    let html = &creative.companions[1];
    assert_eq!(html.id, None);
    assert_eq!(
        (html.width.as_deref(), html.height.as_deref()),
        (Some("728"), Some("90"))
    );
    assert_eq!(html.ad_slot_id.as_deref(), Some("legacy-slot"), "adSlotID");
    assert_eq!(html.sequence.as_deref(), Some("02"));
    assert_eq!(
        html.html_resources,
        ["<a href=\"https://advertiser.example.com/\">Buy &amp; save</a>"],
        "CDATA kept as text, entities not decoded"
    );
    assert!(html.static_resources.is_empty() && html.iframe_resources.is_empty());
    assert_eq!(html.click_through, None);
    assert!(html.tracking.is_empty());
}

#[test]
fn vast42_verifications() {
    let vast = parse_vast(INLINE_COMPANIONS_VERIFICATIONS).expect("parses");
    let verifications = &inline(&vast.ads[0]).verifications;
    assert_eq!(
        verifications,
        &[
            Verification {
                vendor: Some("omsdk.example.com-omid".into()),
                javascript_resources: vec![JavaScriptResource {
                    api_framework: Some("omid".into()),
                    browser_optional: Some("true".into()),
                    url: "https://verify.example.com/omid.js".into(),
                }],
                executable_resources: vec![],
                tracking: vec![TrackingEvent {
                    event: "verificationNotExecuted".into(),
                    offset: None,
                    url: "https://verify.example.com/ne?reason=[REASON]".into(),
                }],
                parameters: Some(r#"{"campaign":"c-7","flags":"a&b"}"#.into()),
            },
            Verification {
                vendor: Some("native.example.com".into()),
                javascript_resources: vec![],
                executable_resources: vec![ExecutableResource {
                    api_framework: Some("native-sdk".into()),
                    mime_type: Some("application/octet-stream".into()),
                    language: Some("kotlin".into()),
                    url: "https://verify.example.com/native.bin".into(),
                }],
                tracking: vec![],
                parameters: None,
            },
        ]
    );
}

#[test]
fn vast3_verifications_in_extension() {
    let xml = r#"<VAST version="3.0">
      <Ad id="v3"><InLine>
        <AdSystem>legacy</AdSystem>
        <Extensions>
          <Extension type="geo"><AdVerifications><Verification vendor="not-this"/></AdVerifications></Extension>
          <Extension type="AdVerifications">
            <AdVerifications>
              <Verification vendor="iabtechlab.com-omid">
                <JavaScriptResource apiFramework="omid" browserOptional="false"><![CDATA[https://verify.example.com/v3.js]]></JavaScriptResource>
                <VerificationParameters><![CDATA[p=1]]></VerificationParameters>
              </Verification>
            </AdVerifications>
          </Extension>
        </Extensions>
      </InLine></Ad>
      <Ad id="w3"><Wrapper>
        <VASTAdTagURI>https://ads.example.com/next</VASTAdTagURI>
        <Extensions><Extension type="adverifications"><AdVerifications>
          <Verification vendor="wrapper-vendor"><JavaScriptResource>https://verify.example.com/w.js</JavaScriptResource></Verification>
        </AdVerifications></Extension></Extensions>
      </Wrapper></Ad>
    </VAST>"#;
    let vast = parse_vast(xml).expect("parses");
    let verifications = &inline(&vast.ads[0]).verifications;
    assert_eq!(verifications.len(), 1, "only the AdVerifications extension");
    let v = &verifications[0];
    assert_eq!(v.vendor.as_deref(), Some("iabtechlab.com-omid"));
    assert_eq!(
        v.javascript_resources[0].url,
        "https://verify.example.com/v3.js"
    );
    assert_eq!(
        v.javascript_resources[0].browser_optional.as_deref(),
        Some("false")
    );
    assert_eq!(v.parameters.as_deref(), Some("p=1"));

    let w = wrapper(&vast.ads[1]);
    assert_eq!(w.verifications.len(), 1);
    assert_eq!(w.verifications[0].vendor.as_deref(), Some("wrapper-vendor"));
}

#[test]
fn verification_in_both_forms_is_kept_once() {
    let verification = r#"<Verification vendor="v"><JavaScriptResource apiFramework="omid">https://verify.example.com/v.js</JavaScriptResource></Verification>"#;
    let xml = format!(
        r#"<VAST version="4.1"><Ad><InLine>
          <AdVerifications>{verification}</AdVerifications>
          <Extensions><Extension type="AdVerifications"><AdVerifications>
            {verification}
            <Verification vendor="other"><JavaScriptResource>https://verify.example.com/o.js</JavaScriptResource></Verification>
          </AdVerifications></Extension></Extensions>
        </InLine></Ad></VAST>"#
    );
    let vast = parse_vast(&xml).expect("parses");
    let vendors: Vec<_> = inline(&vast.ads[0])
        .verifications
        .iter()
        .map(|v| v.vendor.as_deref())
        .collect();
    assert_eq!(vendors, [Some("v"), Some("other")]);
}

#[test]
fn wrapper_companions_and_verifications() {
    let xml = r#"<VAST version="4.2"><Ad><Wrapper>
      <VASTAdTagURI>https://ads.example.com/next</VASTAdTagURI>
      <AdVerifications><Verification vendor="w"><JavaScriptResource>https://verify.example.com/w.js</JavaScriptResource></Verification></AdVerifications>
      <Creatives><Creative><CompanionAds><Companion>
        <CompanionClickTracking>https://wrapper.example.com/cclick</CompanionClickTracking>
        <TrackingEvents><Tracking event="creativeView">https://wrapper.example.com/cview</Tracking></TrackingEvents>
      </Companion></CompanionAds></Creative></Creatives>
    </Wrapper></Ad></VAST>"#;
    let vast = parse_vast(xml).expect("parses");
    let w = wrapper(&vast.ads[0]);
    assert_eq!(w.verifications.len(), 1);
    let companion = &w.creatives[0].companions[0];
    assert_eq!(
        companion.click_tracking,
        ["https://wrapper.example.com/cclick"]
    );
    assert_eq!(
        companion.tracking[0].url,
        "https://wrapper.example.com/cview"
    );
    assert_eq!(companion.sequence, None);
    assert!(w.creatives[0].linear.is_none());
}

#[test]
fn vast1_companion_resources() {
    let xml = r#"<VideoAdServingTemplate><Ad id="v1"><InLine>
      <Video><Duration>00:00:15</Duration>
        <MediaFiles><MediaFile type="video/mp4"><URL>https://a/v.mp4</URL></MediaFile></MediaFiles></Video>
      <CompanionAds>
        <Companion id="html" width="300" height="250" resourceType="HTML"><Code><![CDATA[<b>hi</b>]]></Code></Companion>
        <Companion id="img" width="468" height="60" resourceType="static" creativeType="JPEG">
          <URL>https://a/c.jpg</URL>
          <CompanionClickThrough><URL>https://click</URL></CompanionClickThrough>
        </Companion>
        <Companion id="frame" resourceType="iframe"><URL>https://a/frame.html</URL></Companion>
        <Companion id="js" resourceType="script"><URL>https://a/c.js</URL></Companion>
      </CompanionAds>
    </InLine></Ad></VideoAdServingTemplate>"#;
    let vast = parse_vast(xml).expect("parses");
    let companions = &inline(&vast.ads[0]).creatives[0].companions;
    let ids: Vec<_> = companions.iter().map(|c| c.id.as_deref()).collect();
    assert_eq!(ids, [Some("html"), Some("img"), Some("frame"), Some("js")]);
    assert_eq!(companions[0].html_resources, ["<b>hi</b>"]);
    assert_eq!(
        companions[1].static_resources,
        [StaticResource {
            creative_type: Some("JPEG".into()),
            url: "https://a/c.jpg".into(),
        }]
    );
    assert_eq!(
        companions[1].click_through.as_deref(),
        Some("https://click")
    );
    assert_eq!(companions[2].iframe_resources, ["https://a/frame.html"]);
    let js = &companions[3];
    assert!(
        js.static_resources.is_empty()
            && js.iframe_resources.is_empty()
            && js.html_resources.is_empty(),
        "script resources are skipped"
    );
}

#[test]
fn empty_companion_and_verification_parts_are_dropped() {
    let xml = r#"<VAST version="4.2"><Ad><InLine>
      <AdVerifications>
        <Verification/>
        <Verification vendor=" ">
          <JavaScriptResource apiFramework="omid"/>
          <JavaScriptResource>   </JavaScriptResource>
          <ExecutableResource type="x"><![CDATA[]]></ExecutableResource>
          <TrackingEvents><Tracking event="verificationNotExecuted"/><Tracking>https://no-event</Tracking></TrackingEvents>
          <VerificationParameters>  </VerificationParameters>
        </Verification>
      </AdVerifications>
      <AdVerifications/>
      <Creatives><Creative sequence="">
        <CompanionAds/>
        <CompanionAds required="">
          <Companion width="" id="c">
            <StaticResource creativeType="image/png"/>
            <StaticResource>  </StaticResource>
            <IFrameResource/>
            <HTMLResource><![CDATA[   ]]></HTMLResource>
            <AltText/>
            <AdParameters/>
            <CompanionClickThrough/>
            <CompanionClickTracking/>
            <TrackingEvents><Tracking event="creativeView"/></TrackingEvents>
          </Companion>
          <Companion/>
        </CompanionAds>
      </Creative></Creatives>
    </InLine></Ad></VAST>"#;
    let vast = parse_vast(xml).expect("parses");
    let inline = inline(&vast.ads[0]);
    let empty_verification = Verification {
        vendor: None,
        javascript_resources: vec![],
        executable_resources: vec![],
        tracking: vec![],
        parameters: None,
    };
    assert_eq!(
        inline.verifications,
        [empty_verification.clone(), empty_verification],
        "elements kept, their empty parts dropped"
    );
    let creative = &inline.creatives[0];
    assert_eq!(creative.companion_required, None);
    assert_eq!(creative.companions.len(), 2);
    let c = &creative.companions[0];
    assert_eq!(c.id.as_deref(), Some("c"));
    assert_eq!((c.width.as_deref(), c.sequence.as_deref()), (None, None));
    assert!(c.static_resources.is_empty());
    assert!(c.iframe_resources.is_empty());
    assert!(c.html_resources.is_empty());
    assert_eq!(
        (&c.alt_text, &c.ad_parameters, &c.click_through),
        (&None, &None, &None)
    );
    assert!(c.click_tracking.is_empty());
    assert!(c.tracking.is_empty());
    assert_eq!(creative.companions[1].id, None);
}

#[test]
fn model_round_trips_through_json() {
    let vast = parse_vast(INLINE_COMPANIONS_VERIFICATIONS).expect("parses");
    let inline = inline(&vast.ads[0]);
    let companions = &inline.creatives[1].companions;
    let json = serde_json::to_string(companions).expect("serializes");
    let back: Vec<Companion> = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(&back, companions);
    let json = serde_json::to_string(&inline.verifications).expect("serializes");
    let back: Vec<Verification> = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, inline.verifications);
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
                Just("<CompanionAds>".to_owned()), Just("</CompanionAds>".to_owned()),
                Just("<Companion resourceType='HTML'>".to_owned()), Just("</Companion>".to_owned()),
                Just("<StaticResource>".to_owned()), Just("</StaticResource>".to_owned()),
                Just("<AdVerifications>".to_owned()), Just("</AdVerifications>".to_owned()),
                Just("<Extension type='AdVerifications'>".to_owned()), Just("</Extension>".to_owned()),
                Just("<Verification>".to_owned()), Just("</Verification>".to_owned()),
                Just("<JavaScriptResource>".to_owned()), Just("</JavaScriptResource>".to_owned()),
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
