//! Each rule with a manifest that breaks it and one that keeps it.

use super::*;

/// The rules `text` breaks (codes, sorted, each once).
fn broken(text: &str) -> Vec<&'static str> {
    let mut codes: Vec<&str> = check(text).1.iter().map(|p| p.rule.code()).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

fn broken_on_refresh(prev: &str, next: &str) -> Vec<&'static str> {
    let mut codes: Vec<&str> = hls::check_refresh(prev, next)
        .iter()
        .map(|p| p.rule.code())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// A media playlist that keeps every rule; each case below breaks one.
const MEDIA: &str = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00.000Z\n#EXT-X-DATERANGE:ID=\"ad1\",START-DATE=\"2024-01-01T00:00:06Z\",PLANNED-DURATION=12\n#EXTINF:6.006,\na.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0x00000000000000000000000000000001\n#EXTINF:5.5,\nb.ts\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:6,\nc.ts\n";

/// `MEDIA` with `from` replaced by `to` (which must be found).
fn media_with(from: &str, to: &str) -> String {
    assert!(MEDIA.contains(from), "{from}");
    MEDIA.replacen(from, to, 1)
}

#[test]
fn the_reference_manifests_keep_every_rule() {
    assert_eq!(broken(MEDIA), Vec::<&str>::new());
    assert_eq!(broken(MULTIVARIANT), Vec::<&str>::new());
    assert_eq!(broken(MPD), Vec::<&str>::new());
    assert_eq!(broken(LIVE_MPD), Vec::<&str>::new());
    assert_eq!(kind_of(MEDIA), Kind::HlsMedia);
    assert_eq!(kind_of(MULTIVARIANT), Kind::HlsMultivariant);
    assert_eq!(kind_of(MPD), Kind::Mpd);
}

#[test]
fn not_a_manifest() {
    assert_eq!(broken("hello"), ["manifest"]);
    assert_eq!(check("").0, Kind::Unknown);
}

#[test]
fn hls_version() {
    assert_eq!(
        broken(&media_with("#EXT-X-VERSION:3\n", "")),
        ["hls.version"]
    );
    assert_eq!(
        broken(&media_with("#EXT-X-VERSION:3\n", "#EXT-X-VERSION:2\n")),
        ["hls.version"]
    );
    let map = media_with(
        "#EXTINF:6,\nc.ts\n",
        "#EXT-X-MAP:URI=\"i.mp4\"\n#EXTINF:6,\nc.ts\n",
    );
    let problems = check(&map).1;
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].place, "line 15");
    assert!(problems[0].message.contains("EXT-X-MAP"), "{}", problems[0]);
    assert_eq!(
        broken(&map.replace("VERSION:3", "VERSION:6")),
        Vec::<&str>::new()
    );
    assert_eq!(
        broken(&media_with("#EXT-X-VERSION:3\n", "#EXT-X-VERSION:three\n")),
        ["hls.value", "hls.version"]
    );
}

#[test]
fn hls_tag_once() {
    assert_eq!(
        broken(&media_with(
            "#EXT-X-TARGETDURATION:6\n",
            "#EXT-X-TARGETDURATION:6\n#EXT-X-TARGETDURATION:6\n"
        )),
        ["hls.tag-once"]
    );
    assert_eq!(
        broken(&format!("{MEDIA}#EXT-X-ENDLIST\n#EXT-X-ENDLIST\n")),
        ["hls.tag-once"]
    );
    assert_eq!(
        broken(&format!("{MEDIA}#EXT-X-ENDLIST\n")),
        Vec::<&str>::new()
    );
}

#[test]
fn hls_header_position() {
    // EXT-X-MEDIA-SEQUENCE after the first segment.
    let late = media_with("#EXT-X-MEDIA-SEQUENCE:10\n", "")
        .replace("a.ts\n", "a.ts\n#EXT-X-MEDIA-SEQUENCE:10\n");
    assert_eq!(broken(&late), ["hls.header-position"]);
    // EXT-X-DISCONTINUITY-SEQUENCE after an EXT-X-DISCONTINUITY (and after segments).
    let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-DISCONTINUITY\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n#EXTINF:6,\na.ts\n";
    let p = check(text).1;
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("after an EXT-X-DISCONTINUITY"));
    assert_eq!(
        broken("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n#EXT-X-DISCONTINUITY\n#EXTINF:6,\na.ts\n"),
        Vec::<&str>::new()
    );
}

#[test]
fn hls_target_duration() {
    // 6.5 rounds to 7.
    assert_eq!(
        broken(&media_with("#EXTINF:5.5,", "#EXTINF:6.5,")),
        ["hls.target-duration"]
    );
    // 6.4 rounds to 6: kept.
    assert_eq!(
        broken(&media_with("#EXTINF:5.5,", "#EXTINF:6.4,")),
        Vec::<&str>::new()
    );
    assert_eq!(
        broken(&media_with("#EXT-X-TARGETDURATION:6\n", "")),
        ["hls.target-duration"]
    );
    assert_eq!(
        broken(&media_with(
            "#EXT-X-TARGETDURATION:6\n",
            "#EXT-X-TARGETDURATION:6.5\n"
        )),
        ["hls.target-duration"]
    );
}

#[test]
fn hls_segment_uri() {
    assert_eq!(broken(&media_with("a.ts\n", "")), ["hls.segment-uri"]);
    assert_eq!(broken(&media_with("#EXTINF:6,\n", "")), ["hls.segment-uri"]);
    assert_eq!(broken(&format!("{MEDIA}#EXTINF:6,\n")), ["hls.segment-uri"]);
    // Comments and blank lines between EXTINF and URI are fine.
    assert_eq!(
        broken(&media_with(
            "#EXTINF:6,\nc.ts\n",
            "#EXTINF:6,\n# comment\n\nc.ts\n"
        )),
        Vec::<&str>::new()
    );
}

#[test]
fn hls_value() {
    assert_eq!(
        broken(&media_with("#EXTINF:6,", "#EXTINF:six,")),
        ["hls.value"]
    );
    assert_eq!(
        broken(&media_with("#EXTINF:6,", "#EXTINF:-6,")),
        ["hls.value"]
    );
    assert_eq!(
        broken(&media_with(
            "#EXT-X-MEDIA-SEQUENCE:10",
            "#EXT-X-MEDIA-SEQUENCE:-1"
        )),
        ["hls.value"]
    );
    assert_eq!(
        broken(&media_with(
            "#EXTINF:6,\nc.ts",
            "#EXT-X-BYTERANGE:100@x\n#EXTINF:6,\nc.ts"
        )),
        ["hls.value", "hls.version"]
    );
    assert_eq!(
        broken(
            &media_with(
                "#EXTINF:6,\nc.ts",
                "#EXT-X-BYTERANGE:100@0\n#EXTINF:6,\nc.ts"
            )
            .replace("VERSION:3", "VERSION:4")
        ),
        Vec::<&str>::new()
    );
}

#[test]
fn hls_byterange() {
    let ranged = "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:6\n#EXT-X-BYTERANGE:1000@0\n#EXTINF:6,\nall.ts\n#EXT-X-BYTERANGE:1000\n#EXTINF:6,\nall.ts\n";
    assert_eq!(broken(ranged), Vec::<&str>::new());
    // An ad between the sub-ranges: the next one has no offset to follow.
    let spliced = ranged.replace(
        "#EXT-X-BYTERANGE:1000\n",
        "#EXT-X-DISCONTINUITY\n#EXTINF:6,\nad.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-BYTERANGE:1000\n",
    );
    assert_eq!(broken(&spliced), ["hls.byterange"]);
    assert_eq!(
        broken(&spliced.replace(
            "BYTERANGE:1000\n#EXTINF:6,\nall.ts\n",
            "BYTERANGE:1000@1000\n#EXTINF:6,\nall.ts\n"
        )),
        Vec::<&str>::new()
    );
    // The first segment cannot be one without an offset.
    assert_eq!(broken(&ranged.replace("1000@0", "1000")), ["hls.byterange"]);
}

#[test]
fn hls_key() {
    let key = |k: &str| media_with("#EXT-X-KEY:METHOD=NONE", k);
    assert_eq!(
        broken(&key("#EXT-X-KEY:METHOD=NONE,URI=\"k\"")),
        ["hls.key"]
    );
    assert_eq!(broken(&key("#EXT-X-KEY:METHOD=AES-128")), ["hls.key"]);
    assert_eq!(broken(&key("#EXT-X-KEY:URI=\"k\"")), ["hls.key"]);
    assert_eq!(
        broken(&key("#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0x12")),
        ["hls.key"]
    );
    assert_eq!(
        broken(&key("#EXT-X-KEY:METHOD=AES-128,URI=\"k2\"")),
        Vec::<&str>::new()
    );
}

#[test]
fn hls_map() {
    let text = media_with(
        "#EXTINF:6,\nc.ts\n",
        "#EXT-X-MAP:BYTERANGE=\"1@0\"\n#EXTINF:6,\nc.ts\n",
    )
    .replace("VERSION:3", "VERSION:6");
    assert_eq!(broken(&text), ["hls.map"]);
}

#[test]
fn hls_daterange() {
    let dr = |d: &str| {
        media_with(
            "#EXT-X-DATERANGE:ID=\"ad1\",START-DATE=\"2024-01-01T00:00:06Z\",PLANNED-DURATION=12",
            d,
        )
    };
    for bad in [
        "#EXT-X-DATERANGE:START-DATE=\"2024-01-01T00:00:06Z\"",
        "#EXT-X-DATERANGE:ID=\"x\"",
        "#EXT-X-DATERANGE:ID=\"x\",START-DATE=\"yesterday\"",
        "#EXT-X-DATERANGE:ID=\"x\",START-DATE=\"2024-01-01T00:00:06Z\",DURATION=-1",
        "#EXT-X-DATERANGE:ID=\"x\",START-DATE=\"2024-01-01T00:00:06Z\",END-DATE=\"2024-01-01T00:00:05Z\"",
        "#EXT-X-DATERANGE:ID=\"x\",START-DATE=\"2024-01-01T00:00:06Z\",DURATION=10,END-DATE=\"2024-01-01T00:00:20Z\"",
        "#EXT-X-DATERANGE:ID=\"x\",START-DATE=\"2024-01-01T00:00:06Z\",END-ON-NEXT=YES",
        "#EXT-X-DATERANGE:ID=\"x\",CLASS=\"c\",START-DATE=\"2024-01-01T00:00:06Z\",END-ON-NEXT=YES,DURATION=5",
    ] {
        assert_eq!(broken(&dr(bad)), ["hls.daterange"], "{bad}");
    }
    for good in [
        "#EXT-X-DATERANGE:ID=\"x\",START-DATE=\"2024-01-01T01:00:06+01:00\",DURATION=10,END-DATE=\"2024-01-01T00:00:16Z\"",
        "#EXT-X-DATERANGE:ID=\"x\",CLASS=\"c\",START-DATE=\"2024-01-01T00:00:06Z\",END-ON-NEXT=YES",
    ] {
        assert_eq!(broken(&dr(good)), Vec::<&str>::new(), "{good}");
    }
}

#[test]
fn hls_daterange_needs_pdt() {
    assert_eq!(
        broken(&media_with(
            "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00.000Z\n",
            ""
        )),
        ["hls.daterange-pdt"]
    );
}

#[test]
fn hls_daterange_consistent() {
    let again = media_with(
        "#EXT-X-KEY:METHOD=NONE\n",
        "#EXT-X-KEY:METHOD=NONE\n#EXT-X-DATERANGE:ID=\"ad1\",START-DATE=\"2024-01-01T00:00:07Z\"\n",
    );
    assert_eq!(broken(&again), ["hls.daterange-consistent"]);
    // Adding an attribute the first tag did not give is allowed.
    let more = media_with(
        "#EXT-X-KEY:METHOD=NONE\n",
        "#EXT-X-KEY:METHOD=NONE\n#EXT-X-DATERANGE:ID=\"ad1\",START-DATE=\"2024-01-01T00:00:06Z\",DURATION=12\n",
    );
    assert_eq!(broken(&more), Vec::<&str>::new());
}

const MULTIVARIANT: &str = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",LANGUAGE=\"en\",URI=\"a/en.m3u8\"\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"Deutsch\",LANGUAGE=\"de\",URI=\"a/de.m3u8\"\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"sub\",NAME=\"English\",URI=\"s/en.m3u8\"\n#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC1\",INSTREAM-ID=\"CC1\"\n#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS=\"avc1.4d401f,mp4a.40.2\",AUDIO=\"aud\",SUBTITLES=\"sub\",CLOSED-CAPTIONS=\"cc\"\nv0.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2560000,AUDIO=\"aud\",CLOSED-CAPTIONS=NONE\nv1.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI=\"v0/iframes.m3u8\"\n";

fn multivariant_with(from: &str, to: &str) -> String {
    assert!(MULTIVARIANT.contains(from), "{from}");
    MULTIVARIANT.replacen(from, to, 1)
}

#[test]
fn hls_stream_inf() {
    assert_eq!(
        broken(&multivariant_with("BANDWIDTH=2560000,", "")),
        ["hls.stream-inf"]
    );
    assert_eq!(
        broken(&multivariant_with("BANDWIDTH=2560000,", "BANDWIDTH=2.5M,")),
        ["hls.stream-inf"]
    );
    assert_eq!(
        broken(&multivariant_with("v1.m3u8\n", "")),
        ["hls.stream-inf"]
    );
    assert_eq!(
        broken(&multivariant_with("v0.m3u8\n", "#EXT-X-FOO\nv0.m3u8\n")),
        ["hls.stream-inf"]
    );
    // A comment between the tag and its URI is fine.
    assert_eq!(
        broken(&multivariant_with("v0.m3u8\n", "# rendition 0\nv0.m3u8\n")),
        Vec::<&str>::new()
    );
}

#[test]
fn hls_i_frame_stream_inf() {
    assert_eq!(
        broken(&multivariant_with(",URI=\"v0/iframes.m3u8\"", "")),
        ["hls.i-frame-stream-inf"]
    );
    assert_eq!(
        broken(&multivariant_with("BANDWIDTH=86000,", "")),
        ["hls.i-frame-stream-inf"]
    );
}

#[test]
fn hls_media() {
    assert_eq!(
        broken(&multivariant_with(",URI=\"s/en.m3u8\"", "")),
        ["hls.media"]
    );
    assert_eq!(
        broken(&multivariant_with("INSTREAM-ID=\"CC1\"", "URI=\"cc.m3u8\"")),
        ["hls.media"]
    );
    assert_eq!(
        broken(&multivariant_with(
            "TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",",
            "TYPE=AUDIO,GROUP-ID=\"aud\","
        )),
        ["hls.media"]
    );
}

#[test]
fn hls_media_name_unique() {
    assert_eq!(
        broken(&multivariant_with("NAME=\"Deutsch\"", "NAME=\"English\"")),
        ["hls.media-name-unique"]
    );
}

#[test]
fn hls_group_exists() {
    assert_eq!(
        broken(&multivariant_with(
            "AUDIO=\"aud\",CLOSED-CAPTIONS=NONE",
            "AUDIO=\"audio\",CLOSED-CAPTIONS=NONE"
        )),
        ["hls.group-exists"]
    );
    assert_eq!(
        broken(&multivariant_with(
            "CLOSED-CAPTIONS=\"cc\"",
            "CLOSED-CAPTIONS=\"cc2\""
        )),
        ["hls.group-exists"]
    );
}

#[test]
fn hls_mixed() {
    assert_eq!(
        broken(&multivariant_with(
            "v1.m3u8\n",
            "v1.m3u8\n#EXT-X-TARGETDURATION:6\n"
        )),
        ["hls.mixed"]
    );
}

const LIVE_1: &str = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n#EXTINF:6.0,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:6.0,\nb.ts\n#EXTINF:6.0,\nc.ts\n";
const LIVE_2: &str = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:101\n#EXT-X-DISCONTINUITY-SEQUENCE:4\n#EXTINF:6.0,\nb.ts\n#EXTINF:6.0,\nc.ts\n#EXTINF:6.0,\nd.ts\n";

#[test]
fn hls_refresh_that_slides_keeps_every_rule() {
    assert_eq!(broken_on_refresh(LIVE_1, LIVE_2), Vec::<&str>::new());
    assert_eq!(broken_on_refresh(LIVE_1, LIVE_1), Vec::<&str>::new());
    assert_eq!(check_next(LIVE_1, LIVE_2).1, Vec::new());
}

#[test]
fn hls_refresh_sequence() {
    let back = LIVE_2.replace("MEDIA-SEQUENCE:101", "MEDIA-SEQUENCE:99");
    assert!(broken_on_refresh(LIVE_1, &back).contains(&"hls.refresh-sequence"));
    let dseq_back = LIVE_1.replace("SEQUENCE:3", "SEQUENCE:2");
    assert_eq!(
        broken_on_refresh(LIVE_1, &dseq_back),
        ["hls.refresh-identity", "hls.refresh-sequence"]
    );
}

#[test]
fn hls_refresh_at_the_largest_sequence_numbers() {
    let max = LIVE_1
        .replace("MEDIA-SEQUENCE:100", "MEDIA-SEQUENCE:18446744073709551615")
        .replace("SEQUENCE:3", "SEQUENCE:18446744073709551615");
    // Numbers past 2^64 - 1 cannot be written: no panic, whatever is reported.
    let _ = broken_on_refresh(&max, &max);
    assert_eq!(broken(&max), Vec::<&str>::new());
    let one = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:18446744073709551615\n#EXT-X-DISCONTINUITY-SEQUENCE:18446744073709551615\n#EXT-X-DISCONTINUITY\n#EXTINF:6,\na.ts\n";
    assert_eq!(broken_on_refresh(one, one), Vec::<&str>::new());
}

#[test]
fn hls_refresh_identity() {
    // The slid window forgot the discontinuity that left it.
    let forgot = LIVE_2.replace("SEQUENCE:4", "SEQUENCE:3");
    assert_eq!(broken_on_refresh(LIVE_1, &forgot), ["hls.refresh-identity"]);
    let other_uri = LIVE_2.replace("c.ts", "ad.ts");
    assert_eq!(
        broken_on_refresh(LIVE_1, &other_uri),
        ["hls.refresh-identity"]
    );
    let other_duration = LIVE_2.replacen("#EXTINF:6.0,\nb.ts", "#EXTINF:5.0,\nb.ts", 1);
    assert_eq!(
        broken_on_refresh(LIVE_1, &other_duration),
        ["hls.refresh-identity"]
    );
}

#[test]
fn hls_refresh_ended() {
    let ended = format!("{LIVE_1}#EXT-X-ENDLIST\n");
    assert_eq!(broken_on_refresh(&ended, &ended), Vec::<&str>::new());
    assert_eq!(broken_on_refresh(&ended, LIVE_2), ["hls.refresh-ended"]);
    let event = LIVE_1.replace(
        "#EXT-X-TARGETDURATION:6\n",
        "#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:EVENT\n",
    );
    let event_grown = format!("{event}#EXTINF:6.0,\nd.ts\n");
    assert_eq!(broken_on_refresh(&event, &event_grown), Vec::<&str>::new());
    let event_slid = LIVE_2.replace(
        "#EXT-X-TARGETDURATION:6\n",
        "#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:EVENT\n",
    );
    assert_eq!(
        broken_on_refresh(&event, &event_slid),
        ["hls.refresh-ended"]
    );
}

#[test]
fn hls_daterange_consistent_across_refreshes() {
    let with = |d: &str| {
        LIVE_1.replace(
            "#EXTINF:6.0,\na.ts",
            &format!("#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n#EXT-X-DATERANGE:ID=\"b1\",START-DATE=\"2024-01-01T00:00:06Z\",{d}\n#EXTINF:6.0,\na.ts"),
        )
    };
    assert_eq!(
        broken_on_refresh(&with("PLANNED-DURATION=30"), &with("PLANNED-DURATION=20")),
        ["hls.daterange-consistent"]
    );
    assert_eq!(
        broken_on_refresh(
            &with("PLANNED-DURATION=30"),
            &with("PLANNED-DURATION=30,DURATION=28")
        ),
        Vec::<&str>::new()
    );
}

/// A static MPD that keeps every rule.
const MPD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT30S" minBufferTime="PT2S">
  <ProgramInformation><Title>t</Title></ProgramInformation>
  <BaseURL>http://o.example/</BaseURL>
  <ServiceDescription id="0"/>
  <Period id="a" start="PT0S" duration="PT10S">
    <EventStream schemeIdUri="urn:scte:scte35:2013:xml" timescale="90000"><Event presentationTime="0" duration="90000" id="1"/></EventStream>
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" segmentAlignment="true">
      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="00000000-0000-0000-0000-000000000000"/>
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
      <SegmentTemplate timescale="90000" media="v/$Number$.m4s" initialization="v/init.mp4" startNumber="1">
        <SegmentTimeline><S t="0" d="180000" r="4"/></SegmentTimeline>
      </SegmentTemplate>
      <Representation id="v0" bandwidth="500000" width="640" height="360" codecs="avc1.4d401e"/>
    </AdaptationSet>
  </Period>
  <Period id="b" duration="PT20S">
    <AdaptationSet mimeType="audio/mp4">
      <SegmentTemplate timescale="1" duration="2" media="a/$Number$.m4s"/>
      <Representation id="a0" bandwidth="64000"/>
    </AdaptationSet>
  </Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="http://time.example/"/>
</MPD>
"#;

const LIVE_MPD: &str = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" availabilityStartTime="2024-01-01T00:00:00Z" publishTime="2024-01-01T00:01:00Z" minimumUpdatePeriod="PT2S" minBufferTime="PT2S"><Period id="p0" start="PT0S"><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>"#;

fn mpd_with(from: &str, to: &str) -> String {
    assert!(MPD.contains(from), "{from}");
    MPD.replacen(from, to, 1)
}

#[test]
fn dash_xml_and_root() {
    assert_eq!(broken("<MPD><Period></MPD>"), ["dash.xml"]);
    assert_eq!(broken("<Period id=\"a\"/>"), ["dash.root"]);
    assert_eq!(
        broken(&MPD.replace(
            "xmlns=\"urn:mpeg:dash:schema:mpd:2011\"",
            "xmlns=\"urn:mpeg:DASH:schema:MPD:2011\""
        )),
        ["dash.root"]
    );
    // A prefixed MPD namespace is the same namespace.
    let prefixed = LIVE_MPD
        .replace("xmlns=", "xmlns:m=")
        .replace("<MPD", "<m:MPD")
        .replace("</MPD", "</m:MPD")
        .replace("<Period", "<m:Period")
        .replace("</Period", "</m:Period")
        .replace("<AdaptationSet", "<m:AdaptationSet")
        .replace("</AdaptationSet", "</m:AdaptationSet")
        .replace("<Representation", "<m:Representation");
    assert_eq!(broken(&prefixed), Vec::<&str>::new());
}

#[test]
fn dash_child_order() {
    // The defect of #20: BaseURL after ServiceDescription.
    let late_base = mpd_with("  <BaseURL>http://o.example/</BaseURL>\n", "").replace(
        "<ServiceDescription id=\"0\"/>",
        "<ServiceDescription id=\"0\"/><BaseURL>http://o.example/</BaseURL>",
    );
    let p = check(&late_base).1;
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].rule, Rule::DashChildOrder);
    assert_eq!(p[0].place, "MPD/BaseURL[1]");
    // The demo's defect: UTCTiming first.
    let utc_first = mpd_with("  <ProgramInformation>", "  <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:direct:2014\" value=\"2024-01-01T00:00:00Z\"/><ProgramInformation>");
    assert_eq!(broken(&utc_first), ["dash.child-order"]);
    // Role is the AdaptationSet's own element: after the base type's ContentProtection.
    assert_eq!(
        broken(&mpd_with("<Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"main\"/>", "").replace("<AdaptationSet id=\"1\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"true\">", "<AdaptationSet id=\"1\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"true\"><Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"main\"/>")),
        ["dash.child-order"]
    );
    assert_eq!(
        broken(&mpd_with("      <Representation id=\"v0\" bandwidth=\"500000\" width=\"640\" height=\"360\" codecs=\"avc1.4d401e\"/>\n", "").replace("<SegmentTemplate timescale=\"90000\"", "<Representation id=\"v0\" bandwidth=\"500000\"/><SegmentTemplate timescale=\"90000\"")),
        ["dash.child-order"]
    );
    // EventStream after AdaptationSet in a Period.
    let es_late = mpd_with(
        "<AdaptationSet mimeType=\"audio/mp4\">",
        "<AdaptationSet mimeType=\"audio/mp4\">",
    )
    .replace(
        "    </AdaptationSet>\n  </Period>\n  <UTCTiming",
        "    </AdaptationSet>\n    <EventStream schemeIdUri=\"urn:x\"/>\n  </Period>\n  <UTCTiming",
    );
    assert_eq!(broken(&es_late), ["dash.child-order"]);
    // Two SegmentTemplates in one AdaptationSet.
    let two = mpd_with("<SegmentTemplate timescale=\"1\" duration=\"2\" media=\"a/$Number$.m4s\"/>", "<SegmentTemplate timescale=\"1\" duration=\"2\" media=\"a/$Number$.m4s\"/><SegmentTemplate timescale=\"1\" duration=\"2\" media=\"a/$Number$.m4s\"/>");
    assert_eq!(broken(&two), ["dash.child-order"]);
    // An extension element after the Representations of an AdaptationSet: the
    // schema's ##other sits before them.
    assert_eq!(
        broken(&mpd_with(
            "<Representation id=\"a0\" bandwidth=\"64000\"/>",
            "<Representation id=\"a0\" bandwidth=\"64000\"/><cenc:pssh>AA==</cenc:pssh>"
        )),
        ["dash.child-order"]
    );
    assert_eq!(
        broken(
            &MPD.replace("<Period", "<Xperiod")
                .replace("</Period", "</Xperiod")
        ),
        ["dash.child-order", "dash.unknown-element"]
    );
}

#[test]
fn dash_unknown_element() {
    assert_eq!(
        broken(&mpd_with(
            "<Role ",
            "<Label>x</Label><Rolle schemeIdUri=\"x\"/><Role "
        )),
        ["dash.unknown-element"]
    );
    // An extension element where the schema allows one.
    assert_eq!(
        broken(&mpd_with(
            "<ContentProtection ",
            "<cenc:pssh>AA==</cenc:pssh><ContentProtection "
        )),
        ["dash.child-order"]
    );
    let with_pssh = mpd_with(
        "cenc:default_KID=\"00000000-0000-0000-0000-000000000000\"/>",
        "cenc:default_KID=\"00000000-0000-0000-0000-000000000000\"><cenc:pssh>AA==</cenc:pssh></ContentProtection>",
    );
    assert_eq!(broken(&with_pssh), Vec::<&str>::new());
}

#[test]
fn dash_required_attribute() {
    assert_eq!(
        broken(&mpd_with(" minBufferTime=\"PT2S\"", "")),
        ["dash.required-attribute"]
    );
    assert_eq!(
        broken(&mpd_with(" bandwidth=\"64000\"", "")),
        ["dash.required-attribute"]
    );
    assert_eq!(
        broken(&mpd_with(
            "<Role schemeIdUri=\"urn:mpeg:dash:role:2011\" ",
            "<Role "
        )),
        ["dash.required-attribute"]
    );
    assert_eq!(
        broken(&mpd_with("<S t=\"0\" d=\"180000\"", "<S t=\"0\"")),
        ["dash.required-attribute"]
    );
    // @mimeType: on the AdaptationSet, or on each Representation.
    let no_mime = mpd_with("<AdaptationSet mimeType=\"audio/mp4\">", "<AdaptationSet>");
    assert_eq!(broken(&no_mime), ["dash.required-attribute"]);
    assert_eq!(
        broken(&no_mime.replace(
            "<Representation id=\"a0\"",
            "<Representation mimeType=\"audio/mp4\" id=\"a0\""
        )),
        Vec::<&str>::new()
    );
}

#[test]
fn dash_attribute_value() {
    for (from, to) in [
        (
            "mediaPresentationDuration=\"PT30S\"",
            "mediaPresentationDuration=\"30\"",
        ),
        ("minBufferTime=\"PT2S\"", "minBufferTime=\"PT\""),
        ("bandwidth=\"64000\"", "bandwidth=\"64k\""),
        ("id=\"a0\"", "id=\"a 0\""),
        (
            "<Event presentationTime=\"0\" duration=\"90000\" id=\"1\"/>",
            "<Event presentationTime=\"0\" duration=\"90000\" id=\"splice-1\"/>",
        ),
        ("type=\"static\"", "type=\"live\""),
        (
            "<S t=\"0\" d=\"180000\" r=\"4\"/>",
            "<S t=\"0\" d=\"180000\" r=\"x\"/>",
        ),
    ] {
        assert_eq!(
            broken(&mpd_with(from, to)),
            ["dash.attribute-value"],
            "{to}"
        );
    }
    assert!(dash::is_xs_duration("P1DT2H3M4.5S"));
    assert!(dash::is_xs_duration("PT0S"));
    assert!(dash::is_xs_duration("-P1Y"));
    for bad in [
        "P", "PT", "P1S", "PT1.5M", "PT1H2H", "P1M2Y", "PT.5S", "PT5.S", "1S",
    ] {
        assert!(!dash::is_xs_duration(bad), "{bad}");
    }
}

#[test]
fn dash_period_id() {
    assert_eq!(
        broken(&mpd_with("<Period id=\"b\"", "<Period id=\"a\"")),
        ["dash.period-id"]
    );
    assert_eq!(
        broken(&LIVE_MPD.replace(" id=\"p0\"", "")),
        ["dash.period-id"]
    );
    // A static MPD may leave Period ids out.
    assert_eq!(
        broken(&mpd_with("<Period id=\"b\"", "<Period")),
        Vec::<&str>::new()
    );
}

#[test]
fn dash_period_start() {
    // The second Period's start disagrees with the first's duration.
    assert_eq!(
        broken(&mpd_with(
            "<Period id=\"b\" duration",
            "<Period id=\"b\" start=\"PT12S\" duration"
        )),
        ["dash.period-start"]
    );
    assert_eq!(
        broken(&mpd_with(
            "<Period id=\"b\" duration",
            "<Period id=\"b\" start=\"PT10S\" duration"
        )),
        Vec::<&str>::new()
    );
    // Going back in time.
    assert_eq!(
        broken(
            &mpd_with("start=\"PT0S\" duration=\"PT10S\"", "start=\"PT5S\"").replace(
                "<Period id=\"b\" duration",
                "<Period id=\"b\" start=\"PT1S\" duration"
            )
        ),
        ["dash.period-start"]
    );
    // A start that cannot be derived in a static MPD.
    assert_eq!(
        broken(&mpd_with(" duration=\"PT10S\"", "")),
        ["dash.period-start"]
    );
}

#[test]
fn dash_presentation_duration() {
    assert_eq!(
        broken(&mpd_with(" mediaPresentationDuration=\"PT30S\"", "")),
        Vec::<&str>::new(),
        "the last Period's duration is enough"
    );
    assert_eq!(
        broken(
            &mpd_with(" mediaPresentationDuration=\"PT30S\"", "")
                .replace("<Period id=\"b\" duration=\"PT20S\">", "<Period id=\"b\">")
        ),
        ["dash.presentation-duration"]
    );
    assert_eq!(
        broken(&mpd_with(
            "type=\"static\"",
            "type=\"static\" minimumUpdatePeriod=\"PT2S\""
        )),
        ["dash.presentation-duration"]
    );
}

#[test]
fn dash_dynamic() {
    assert_eq!(
        broken(&LIVE_MPD.replace(" publishTime=\"2024-01-01T00:01:00Z\"", "")),
        ["dash.dynamic"]
    );
    assert_eq!(
        broken(&LIVE_MPD.replace(" availabilityStartTime=\"2024-01-01T00:00:00Z\"", "")),
        ["dash.dynamic"]
    );
}

#[test]
fn dash_refresh() {
    let later = LIVE_MPD.replace("00:01:00Z", "00:01:02Z");
    assert_eq!(check_next(LIVE_MPD, &later).1, Vec::new());
    let ids = |prev: &str, next: &str| -> Vec<&'static str> {
        check_next(prev, next)
            .1
            .iter()
            .map(|p| p.rule.code())
            .collect()
    };
    assert_eq!(ids(&later, LIVE_MPD), ["dash.refresh"], "publishTime back");
    assert_eq!(
        ids(
            LIVE_MPD,
            &later.replace("2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z")
        ),
        ["dash.refresh"],
        "availabilityStartTime moved"
    );
    assert_eq!(
        ids(LIVE_MPD, &later.replace("start=\"PT0S\"", "start=\"PT2S\"")),
        ["dash.refresh"],
        "Period start moved"
    );
    let with_duration = LIVE_MPD.replace("start=\"PT0S\"", "start=\"PT0S\" duration=\"PT30S\"");
    assert_eq!(
        ids(&with_duration, &later),
        ["dash.refresh"],
        "duration dropped"
    );
    assert_eq!(
        ids(&later, &with_duration.replace("00:01:00Z", "00:01:04Z")),
        Vec::<&str>::new()
    );
    // A Period that left the MPD is no problem.
    assert_eq!(
        ids(LIVE_MPD, &later.replace("id=\"p0\"", "id=\"p1\"")),
        Vec::<&str>::new()
    );
}

// === Low-Latency HLS ===

/// A low-latency media playlist that keeps every rule (after RFC 8216bis §9's
/// example): each case below breaks one.
const LL: &str = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=24.0,HOLD-BACK=12\n#EXT-X-PART-INF:PART-TARGET=0.33334\n#EXT-X-MEDIA-SEQUENCE:266\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.00008,\nfs266.mp4\n#EXT-X-PROGRAM-DATE-TIME:2019-02-14T02:14:00.106Z\n#EXT-X-PART:DURATION=0.33334,URI=\"p267.0.mp4\",INDEPENDENT=YES\n#EXT-X-PART:DURATION=0.33334,URI=\"p267.1.mp4\",BYTERANGE=\"1000@0\"\n#EXTINF:0.66668,\nfs267.mp4\n#EXT-X-PART:DURATION=0.2,URI=\"p268.0.mp4\",GAP=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p268.1.mp4\",BYTERANGE-START=0\n#EXT-X-RENDITION-REPORT:URI=\"../1M/l.m3u8\",LAST-MSN=268,LAST-PART=0\n#EXT-X-RENDITION-REPORT:URI=\"../4M/l.m3u8\"\n";

fn ll_with(from: &str, to: &str) -> String {
    assert!(LL.contains(from), "{from}");
    LL.replacen(from, to, 1)
}

#[test]
fn the_low_latency_reference_keeps_every_rule() {
    assert_eq!(broken(LL), Vec::<&str>::new());
}

#[test]
fn hls_part_inf() {
    assert_eq!(
        broken(&ll_with("#EXT-X-PART-INF:PART-TARGET=0.33334\n", "")),
        ["hls.part-inf"]
    );
    assert_eq!(
        broken(&ll_with("PART-TARGET=0.33334", "PART-TARGET=fast")),
        ["hls.part-inf"]
    );
    assert_eq!(
        broken(&ll_with(
            "PART-INF:PART-TARGET=0.33334",
            "PART-INF:TARGET=0.33334"
        )),
        ["hls.part-inf"]
    );
    // Without any EXT-X-PART, no EXT-X-PART-INF is needed.
    let no_parts: String = LL
        .lines()
        .filter(|l| {
            !l.starts_with("#EXT-X-PART")
                && !l.starts_with("#EXT-X-PRELOAD")
                && !l.contains("PART-HOLD-BACK")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(broken(&no_parts), Vec::<&str>::new());
}

#[test]
fn hls_part() {
    // Longer than PART-TARGET.
    let p = check(&ll_with("DURATION=0.2,", "DURATION=0.4,")).1;
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!((p[0].rule, p[0].place.as_str()), (Rule::HlsPart, "line 15"));
    // Exactly PART-TARGET is kept (the reference's own parts).
    for (from, to) in [
        (",URI=\"p267.0.mp4\"", ""),
        ("DURATION=0.33334,URI=\"p267.0", "URI=\"p267.0"),
        ("DURATION=0.2,", "DURATION=0.2s,"),
        ("INDEPENDENT=YES", "INDEPENDENT=NO"),
        ("GAP=YES", "GAP=TRUE"),
        ("BYTERANGE=\"1000@0\"", "BYTERANGE=\"1000@\""),
        // A tag of the parent segment after its first part.
        (
            "#EXT-X-PART:DURATION=0.2",
            "#EXT-X-PART:DURATION=0.2,URI=\"x.mp4\"\n#EXT-X-DISCONTINUITY\n#EXT-X-PART:DURATION=0.2",
        ),
        (
            "#EXTINF:0.66668,",
            "#EXT-X-PROGRAM-DATE-TIME:2019-02-14T02:14:04.106Z\n#EXTINF:0.66668,",
        ),
    ] {
        assert_eq!(broken(&ll_with(from, to)), ["hls.part"], "{from} -> {to}");
    }
    // The same tags before the first part, or after the parent's URI, are kept.
    assert_eq!(
        broken(&ll_with(
            "#EXT-X-PART:DURATION=0.2",
            "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init2.mp4\"\n#EXT-X-PART:DURATION=0.2"
        )),
        Vec::<&str>::new()
    );
}

#[test]
fn hls_server_control() {
    for (from, to) in [
        ("CAN-BLOCK-RELOAD=YES", "CAN-BLOCK-RELOAD=NO"),
        ("CAN-SKIP-UNTIL=24.0", "CAN-SKIP-UNTIL=23.9"),
        ("HOLD-BACK=12\n", "HOLD-BACK=11.5\n"),
        ("PART-HOLD-BACK=1.0,", "PART-HOLD-BACK=0.6,"),
        ("PART-HOLD-BACK=1.0,", ""),
        ("PART-HOLD-BACK=1.0,", "PART-HOLD-BACK=soon,"),
        ("CAN-SKIP-UNTIL=24.0", "CAN-SKIP-DATERANGES=YES"),
        (
            "CAN-SKIP-UNTIL=24.0",
            "CAN-SKIP-UNTIL=24.0,CAN-SKIP-DATERANGES=NO",
        ),
    ] {
        assert_eq!(
            broken(&ll_with(from, to)),
            ["hls.server-control"],
            "{from} -> {to}"
        );
    }
    assert_eq!(
        broken(&ll_with(
            "CAN-SKIP-UNTIL=24.0",
            "CAN-SKIP-UNTIL=30,CAN-SKIP-DATERANGES=YES"
        )),
        Vec::<&str>::new()
    );
    // EXT-X-PART-INF without any EXT-X-SERVER-CONTROL: no PART-HOLD-BACK.
    let p = check(&ll_with(
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=24.0,HOLD-BACK=12\n",
        "",
    ))
    .1;
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].rule, Rule::HlsServerControl);
}

#[test]
fn hls_preload_hint() {
    for (from, to) in [
        ("TYPE=PART,URI=\"p268.1.mp4\"", "URI=\"p268.1.mp4\""),
        (
            "TYPE=PART,URI=\"p268.1.mp4\"",
            "TYPE=SEGMENT,URI=\"p268.1.mp4\"",
        ),
        (",URI=\"p268.1.mp4\"", ""),
        ("BYTERANGE-START=0", "BYTERANGE-START=-1"),
    ] {
        assert_eq!(
            broken(&ll_with(from, to)),
            ["hls.preload-hint"],
            "{from} -> {to}"
        );
    }
    assert_eq!(
        broken(&ll_with(
            "BYTERANGE-START=0",
            "BYTERANGE-START=100,BYTERANGE-LENGTH=2000"
        )),
        Vec::<&str>::new()
    );
    assert_eq!(
        broken(&format!("{LL}#EXT-X-ENDLIST\n")),
        ["hls.preload-hint"]
    );
}

#[test]
fn hls_rendition_report() {
    assert_eq!(
        broken(&ll_with("URI=\"../4M/l.m3u8\"", "LAST-MSN=268")),
        ["hls.rendition-report"]
    );
    assert_eq!(
        broken(&ll_with("LAST-MSN=268", "LAST-MSN=2.5")),
        ["hls.rendition-report"]
    );
    assert_eq!(
        broken(&ll_with("LAST-PART=0", "LAST-PART=first")),
        ["hls.rendition-report"]
    );
}

#[test]
fn hls_version_of_delta_updates() {
    let skip = ll_with(
        "#EXT-X-MEDIA-SEQUENCE:266\n",
        "#EXT-X-MEDIA-SEQUENCE:266\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n",
    );
    assert_eq!(broken(&skip), ["hls.version"]);
    assert_eq!(
        broken(&skip.replace("VERSION:6", "VERSION:9")),
        Vec::<&str>::new()
    );
    let dateranges = skip.replace(
        "SKIPPED-SEGMENTS=3",
        "SKIPPED-SEGMENTS=3,RECENTLY-REMOVED-DATERANGES=\"\"",
    );
    assert_eq!(
        broken(&dateranges.replace("VERSION:6", "VERSION:9")),
        ["hls.version"]
    );
    assert_eq!(
        broken(&dateranges.replace("VERSION:6", "VERSION:10")),
        Vec::<&str>::new()
    );
}

// === Variable substitution ===

#[test]
fn hls_define() {
    let media = |defines: &str| {
        media_with(
            "#EXT-X-VERSION:3\n",
            &format!("#EXT-X-VERSION:11\n{defines}"),
        )
    };
    let kept = media(
        "#EXT-X-DEFINE:NAME=\"host\",VALUE=\"cdn.example\"\n#EXT-X-DEFINE:IMPORT=\"token\"\n#EXT-X-DEFINE:QUERYPARAM=\"session-id_2\"\n",
    );
    assert_eq!(broken(&kept), Vec::<&str>::new());
    for defines in [
        "#EXT-X-DEFINE:VALUE=\"x\"\n",
        "#EXT-X-DEFINE:NAME=\"host\"\n",
        "#EXT-X-DEFINE:NAME=\"host\",IMPORT=\"host\",VALUE=\"x\"\n",
        "#EXT-X-DEFINE:IMPORT=\"token\",VALUE=\"x\"\n",
        "#EXT-X-DEFINE:NAME=\"a b\",VALUE=\"x\"\n",
        "#EXT-X-DEFINE:NAME=\"host\",VALUE=\"a\"\n#EXT-X-DEFINE:QUERYPARAM=\"host\"\n",
    ] {
        assert_eq!(broken(&media(defines)), ["hls.define"], "{defines}");
    }
    // IMPORT is for media playlists.
    let mv = multivariant_with(
        "#EXT-X-VERSION:7\n",
        "#EXT-X-VERSION:8\n#EXT-X-DEFINE:IMPORT=\"token\"\n",
    );
    assert_eq!(broken(&mv), ["hls.define"]);
    assert_eq!(
        broken(&mv.replace("IMPORT=\"token\"", "NAME=\"token\",VALUE=\"t\"")),
        Vec::<&str>::new()
    );
}

#[test]
fn hls_variable_defined() {
    let text = media_with(
        "#EXT-X-VERSION:3\n",
        "#EXT-X-VERSION:8\n#EXT-X-DEFINE:NAME=\"host\",VALUE=\"cdn.example\"\n",
    )
    .replace("a.ts\n", "https://{$host}/a.ts\n");
    assert_eq!(broken(&text), Vec::<&str>::new());
    let p = check(&text.replace("{$host}", "{$hots}")).1;
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        (p[0].rule, p[0].place.as_str()),
        (Rule::HlsVariableDefined, "line 10")
    );
    // In a quoted attribute of a multivariant playlist too.
    let mv = multivariant_with("URI=\"a/en.m3u8\"", "URI=\"{$lang}/en.m3u8\"")
        .replace("VERSION:7", "VERSION:8");
    assert_eq!(broken(&mv), ["hls.variable-defined"]);
    assert_eq!(
        broken(&mv.replace(
            "#EXT-X-INDEPENDENT-SEGMENTS\n",
            "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-DEFINE:NAME=\"lang\",VALUE=\"a\"\n"
        )),
        Vec::<&str>::new()
    );
}

// === DASH SegmentTimeline ===

#[test]
fn dash_segment_timeline() {
    const KEPT: &str = r#"<S t="0" d="180000" r="4"/>"#;
    assert!(MPD.contains(KEPT));
    let timeline = |s: &str| mpd_with(KEPT, s);
    for kept in [
        r#"<S t="0" d="180000" r="1"/><S d="90000"/><S t="450000" d="180000" r="-1"/>"#,
        r#"<S t="0" d="180000" r="-1"/><S t="900000" d="180000"/>"#,
        r#"<S t="0" d="180000"/><S t="360000" d="180000"/>"#,
        r#"<S d="180000" r="2"/><S t="540000" d="90000"/>"#,
    ] {
        assert_eq!(broken(&timeline(kept)), Vec::<&str>::new(), "{kept}");
    }
    for bad in [
        r#"<S t="0" d="0" r="4"/>"#,
        r#"<S t="0" d="180000" r="-2"/>"#,
        r#"<S t="0" d="180000" r="-1"/><S d="180000"/>"#,
        r#"<S t="0" d="180000" r="1"/><S t="180000" d="180000"/>"#,
        r#"<S t="360000" d="180000"/><S t="0" d="180000"/>"#,
    ] {
        assert_eq!(broken(&timeline(bad)), ["dash.segment-timeline"], "{bad}");
    }
    let p = check(&timeline(
        r#"<S t="0" d="180000"/><S t="90000" d="180000"/>"#,
    ))
    .1;
    assert_eq!(
        p[0].place,
        "MPD/Period[1]/AdaptationSet[1]/SegmentTemplate[1]/SegmentTimeline[1]/S[2]"
    );
}

#[test]
fn every_rule_is_listed_once_with_its_spec() {
    let mut codes: Vec<&str> = Rule::ALL.iter().map(|r| r.code()).collect();
    let n = codes.len();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), n);
    assert!(Rule::ALL
        .iter()
        .all(|r| !r.spec().is_empty() && r.summary().ends_with('.')));
    // 28 HLS rules, 12 MPD rules, and "a manifest".
    assert_eq!(Rule::ALL.len(), 41);
}

#[test]
fn date_times() {
    assert_eq!(parse_date_time("1970-01-01T00:00:00Z"), Some(0.0));
    assert_eq!(parse_date_time("1970-01-01T01:00:00+01:00"), Some(0.0));
    assert_eq!(
        parse_date_time("2024-02-29T12:34:56.5Z"),
        Some(1_709_210_096.5)
    );
    assert_eq!(parse_date_time("9223372036854775807-01-01T00:00:00Z"), None);
    assert!(parse_date_time("999999999-12-31T23:59:59Z").is_some());
    for bad in [
        "2023-02-29T00:00:00Z",
        "2024-01-01",
        "2024-1-01T00:00:00Z",
        "2024-01-01T25:00:00Z",
        "2024-01-01T00:00:00+1",
        "x",
    ] {
        assert_eq!(parse_date_time(bad), None, "{bad}");
    }
}

mod never_panics {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn on_any_text(text in "\\PC*") {
            let _ = super::check(&text);
            let _ = super::check_next(&text, &text);
        }

        #[test]
        fn on_playlist_like_text(lines in proptest::collection::vec(prop_oneof![
            Just("#EXTINF:6.006,".to_string()),
            Just("#EXT-X-DISCONTINUITY".to_string()),
            Just("#EXT-X-KEY:METHOD=AES-128".to_string()),
            Just("#EXT-X-DATERANGE:ID=\"a\",START-DATE=\"2024\"".to_string()),
            Just("#EXT-X-MEDIA-SEQUENCE:99999999999999999999999".to_string()),
            Just("#EXT-X-MEDIA-SEQUENCE:18446744073709551615".to_string()),
            Just("#EXT-X-DISCONTINUITY-SEQUENCE:18446744073709551615".to_string()),
            Just("#EXT-X-PROGRAM-DATE-TIME:9223372036854775807-01-01T00:00:00Z".to_string()),
            Just("#EXT-X-STREAM-INF:BANDWIDTH=1".to_string()),
            Just("#EXT-X-PART-INF:PART-TARGET=1e999".to_string()),
            Just("#EXT-X-PART:DURATION=1.0,URI=\"p.mp4\",BYTERANGE=\"1@\"".to_string()),
            Just("#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=,PART-HOLD-BACK=-1".to_string()),
            Just("#EXT-X-PRELOAD-HINT:TYPE=PART".to_string()),
            Just("#EXT-X-DEFINE:NAME=\"a\",IMPORT=\"a\"".to_string()),
            Just("#EXT-X-DEFINE:QUERYPARAM=\"{$a}\"".to_string()),
            Just("{$a}{${$}.ts".to_string()),
            "[a-z]{1,4}\\.ts",
        ], 0..30)) {
            let a = format!("#EXTM3U\n{}\n", lines.join("\n"));
            let b = format!("#EXTM3U\n{}\n", lines.iter().rev().cloned().collect::<Vec<_>>().join("\n"));
            let _ = super::check_next(&a, &b);
        }
    }
}
