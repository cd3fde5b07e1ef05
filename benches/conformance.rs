//! The conformance rules over a 300-segment VOD with six renditions (what
//! `splicepoint validate` checks once the seven playlists are read), and over a
//! multi-period MPD of the same length. Run: `cargo bench --bench conformance`.
//! Target: the VOD's seven playlists in well under 50 ms.

use splicepoint::conformance;

fn main() {
    divan::main();
}

const RENDITIONS: [(u32, u32, u64); 6] = [
    (416, 234, 365_000),
    (640, 360, 730_000),
    (768, 432, 1_100_000),
    (960, 540, 2_000_000),
    (1280, 720, 3_000_000),
    (1920, 1080, 6_000_000),
];

fn multivariant() -> String {
    let mut s = String::from("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,URI=\"audio/en.m3u8\"\n");
    for (i, (w, h, bw)) in RENDITIONS.iter().enumerate() {
        s.push_str(&format!(
            "#EXT-X-STREAM-INF:BANDWIDTH={bw},AVERAGE-BANDWIDTH={},RESOLUTION={w}x{h},CODECS=\"avc1.640028,mp4a.40.2\",FRAME-RATE=30.000,AUDIO=\"aud\"\nv{i}/index.m3u8\n",
            bw * 9 / 10
        ));
    }
    s
}

/// 300 segments of about 6 s, fMP4 with a map, a key rotation, program date
/// times, a discontinuity and SCTE-35 date ranges every 50 segments (a spliced VOD).
fn media(rendition: usize) -> String {
    let mut s = String::from("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:7\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    s.push_str(&format!(
        "#EXT-X-MAP:URI=\"https://cdn.example.com/vod/v{rendition}/init.mp4\"\n"
    ));
    for k in 0..300u32 {
        if k % 50 == 0 {
            s.push_str(&format!(
                "#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:{:02}:{:02}.000Z\n#EXT-X-DATERANGE:ID=\"break-{k}\",CLASS=\"com.example.ad\",START-DATE=\"2024-01-01T00:{:02}:{:02}.000Z\",PLANNED-DURATION=30.0,SCTE35-OUT=0xFC302000000000000000FFF00F05000000017FEFFE0029329000000000000A0008435545490000000000\n",
                k * 6 / 60, k * 6 % 60, k * 6 / 60, k * 6 % 60
            ));
        }
        if k == 150 {
            s.push_str("#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key150\",KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n");
        }
        s.push_str(&format!(
            "#EXTINF:{}.{:03},\nhttps://cdn.example.com/vod/v{rendition}/seg{k:05}.m4s\n",
            5 + k % 2,
            (k * 37) % 1000
        ));
    }
    s.push_str("#EXT-X-ENDLIST\n");
    s
}

#[divan::bench]
fn vod_300_segments_six_renditions(bencher: divan::Bencher) {
    let master = multivariant();
    let medias: Vec<String> = (0..RENDITIONS.len()).map(media).collect();
    assert!(conformance::check(&master).1.is_empty());
    for m in &medias {
        let p = conformance::check(m).1;
        assert!(p.is_empty(), "{p:?}");
    }
    bencher.bench(|| {
        let mut problems = conformance::check(divan::black_box(&master)).1.len();
        for m in &medias {
            problems += conformance::check(divan::black_box(m)).1.len();
        }
        problems
    });
}

/// One live refresh of the six renditions: each checked alone and against its
/// previous answer.
#[divan::bench]
fn refresh_of_six_renditions(bencher: divan::Bencher) {
    let medias: Vec<String> = (0..RENDITIONS.len()).map(media).collect();
    bencher.bench(|| {
        medias
            .iter()
            .map(|m| {
                conformance::check_next(divan::black_box(m), divan::black_box(m))
                    .1
                    .len()
            })
            .sum::<usize>()
    });
}

/// A 300-segment MPD split into 13 Periods (content and ads), six video
/// Representations each.
#[divan::bench]
fn mpd_13_periods_six_representations(bencher: divan::Bencher) {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT1800S" minBufferTime="PT2S">
  <BaseURL>https://cdn.example.com/vod/</BaseURL>"#,
    );
    for p in 0..13u32 {
        s.push_str(&format!(
            "\n  <Period id=\"p{p}\" start=\"PT{}S\" duration=\"PT{}S\">\n    <AdaptationSet id=\"1\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"true\">\n      <SegmentTemplate timescale=\"90000\" media=\"$RepresentationID$/$Number$.m4s\" initialization=\"$RepresentationID$/init.mp4\" startNumber=\"1\">\n        <SegmentTimeline><S t=\"0\" d=\"540000\" r=\"22\"/></SegmentTimeline>\n      </SegmentTemplate>",
            p * 138,
            if p == 12 { 1800 - 12 * 138 } else { 138 }
        ));
        for (i, (w, h, bw)) in RENDITIONS.iter().enumerate() {
            s.push_str(&format!(
                "\n      <Representation id=\"v{i}\" width=\"{w}\" height=\"{h}\" bandwidth=\"{bw}\" codecs=\"avc1.640028\"/>"
            ));
        }
        s.push_str("\n    </AdaptationSet>\n  </Period>");
    }
    s.push_str("\n</MPD>\n");
    assert!(
        conformance::check(&s).1.is_empty(),
        "{:?}",
        conformance::check(&s).1
    );
    bencher.bench(|| conformance::check(divan::black_box(&s)).1.len());
}
