//! The per-request path: splice a session's ads into a parsed live playlist and
//! write it (the origin parse and break detection are shared and cached, so they
//! are not part of it). Run: `cargo bench --bench splice`.

use std::collections::HashMap;
use std::sync::Arc;

use splicepoint::hls::cue::find_breaks;
use splicepoint::hls::model::{parse_media, MediaPlaylist};
use splicepoint::stitch::{
    effective_break_ids, splice_media, AdRendition, AdSegment, BreakFill, BreakRecord, SpliceInput,
};

fn main() {
    divan::main();
}

fn rendition(name: &str, n: usize) -> Arc<AdRendition> {
    Arc::new(AdRendition {
        segments: (0..n)
            .map(|i| AdSegment {
                uri: format!("https://ads-cdn.example.com/creatives/{name}/720p/seg{i:03}.ts"),
                duration: 2.0,
                extinf: "#EXTINF:2.000,".to_string(),
                discontinuity: false,
                lines: Vec::new(),
            })
            .collect(),
    })
}

/// A live window of `segments` 2 s segments, with `breaks` breaks of 8 segments.
fn live(segments: u64, breaks: u64) -> MediaPlaylist {
    let first = 1_000_000;
    let mut s = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n"
    );
    let starts: Vec<u64> = (0..breaks)
        .map(|b| 1 + b * segments / breaks.max(1))
        .collect();
    for i in 0..segments {
        let k = first + i;
        for &st in &starts {
            if i == st {
                s.push_str("#EXT-X-CUE-OUT:16.000\n");
            } else if i > st && i < st + 8 {
                s.push_str(&format!(
                    "#EXT-X-CUE-OUT-CONT:ElapsedTime={}.000,Duration=16.000\n",
                    (i - st) * 2
                ));
            } else if i == st + 8 {
                s.push_str("#EXT-X-CUE-IN\n");
            }
        }
        s.push_str(&format!(
            "#EXTINF:2.000,\nhttps://cdn.example.com/live/channel1/720p/seg{k}.ts\n"
        ));
    }
    parse_media(&s).unwrap()
}

struct Case {
    playlist: MediaPlaylist,
    breaks: Vec<splicepoint::breaks::AdBreak>,
    fills: HashMap<String, BreakFill>,
    records: Vec<BreakRecord>,
}

fn case(segments: u64, breaks: u64) -> Case {
    let playlist = live(segments, breaks);
    let breaks = find_breaks(&playlist);
    let fill = BreakFill {
        ads: vec![rendition("ad1", 5), rendition("ad2", 3)],
        slate: Some(rendition("slate", 1)),
        planned: 16.0,
        ..Default::default()
    };
    let fills = effective_break_ids(&playlist, &breaks, &[])
        .into_iter()
        .flatten()
        .map(|id| (id, fill.clone()))
        .collect();
    // The session's records as a previous refresh left them.
    let records = splice_media(SpliceInput {
        playlist: &playlist,
        breaks: &breaks,
        fills: &fills,
        records: &[],
        ad_uri: None,
    })
    .records;
    Case {
        playlist,
        breaks,
        fills,
        records,
    }
}

fn run(c: &Case) -> String {
    splice_media(SpliceInput {
        playlist: &c.playlist,
        breaks: &c.breaks,
        fills: &c.fills,
        records: &c.records,
        ad_uri: None,
    })
    .text
}

#[divan::bench]
fn live_6_segments_1_break(b: divan::Bencher) {
    let c = case(6, 1);
    b.bench(|| run(divan::black_box(&c)));
}

#[divan::bench]
fn live_60_segments_3_breaks(b: divan::Bencher) {
    let c = case(60, 3);
    b.bench(|| run(divan::black_box(&c)));
}
