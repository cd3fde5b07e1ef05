//! Every playlist of the shared corpus (`$SPLICEPOINT_CORPUS/hls`) parses, writes back
//! byte for byte (lossless), and its breaks are found without panicking; the
//! personalized output of a break-bearing playlist keeps every unknown tag.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use splicepoint::hls::cue::find_breaks;
use splicepoint::hls::model::{parse_playlist, write_media, write_multivariant, Playlist};
use splicepoint::stitch::{
    effective_break_ids, splice_media, AdRendition, AdSegment, BreakFill, SpliceInput,
};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("SPLICEPOINT_CORPUS")?).join("hls");
    dir.is_dir().then_some(dir)
}

fn normalize(text: &str) -> String {
    let mut s: String = text
        .lines()
        .map(|l| format!("{}\n", l.trim_end_matches('\r')))
        .collect();
    if s.is_empty() {
        s.push('\n');
    }
    s
}

#[test]
fn corpus_playlists_round_trip_and_splice() {
    let Some(dir) = corpus() else {
        eprintln!("corpus tests skipped: SPLICEPOINT_CORPUS not set");
        return;
    };
    let mut seen = 0;
    let mut with_breaks = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        match parse_playlist(&text) {
            Ok(Playlist::Media(pl)) => {
                assert_eq!(
                    write_media(&pl),
                    normalize(&text),
                    "{name} does not round-trip"
                );
                let breaks = find_breaks(&pl);
                if !breaks.is_empty() {
                    with_breaks.push(name.clone());
                    let ad = Arc::new(AdRendition {
                        segments: vec![AdSegment {
                            uri: "https://ads.example/a.ts".into(),
                            duration: 2.0,
                            extinf: "#EXTINF:2.000,".into(),
                            discontinuity: false,
                            lines: vec![],
                        }],
                    });
                    let fills: HashMap<String, BreakFill> = effective_break_ids(&pl, &breaks, &[])
                        .into_iter()
                        .flatten()
                        .map(|id| {
                            (
                                id,
                                BreakFill {
                                    ads: vec![ad.clone()],
                                    slate: None,
                                    planned: 30.0,
                                    ..Default::default()
                                },
                            )
                        })
                        .collect();
                    let out = splice_media(SpliceInput {
                        playlist: &pl,
                        breaks: &breaks,
                        fills: &fills,
                        records: &[],
                        ad_uri: None,
                    });
                    // Unknown tags survive the splice.
                    for line in text.lines().filter(|l| {
                        l.starts_with("#EXT-X-ASSET") || l.starts_with("#EXT-X-DATERANGE")
                    }) {
                        assert!(
                            out.text.contains(line.trim_end()),
                            "{name}: lost `{line}`\n{}",
                            out.text
                        );
                    }
                    assert!(
                        parse_playlist(&out.text).is_ok(),
                        "{name}: output does not parse"
                    );
                }
            }
            Ok(Playlist::Multivariant(m)) => {
                assert_eq!(
                    write_multivariant(&m),
                    normalize(&text),
                    "{name} does not round-trip"
                );
            }
            Err(e) => panic!("{name}: {e}"),
        }
        seen += 1;
    }
    eprintln!("{seen} corpus playlists round-tripped; breaks found in {with_breaks:?}");
    assert!(seen >= 20);
    assert!(with_breaks.len() >= 5, "{with_breaks:?}");
}
