//! An origin's HLS playlist, through what the origin cache does with it: parse
//! (multivariant or media), pin byte ranges, find the breaks under the default and
//! lenient cue rules, make URIs absolute, read it as an ad rendition, rewrite a
//! multivariant playlist for a session, write it back. A written media playlist
//! parses again to the same model.
#![no_main]

use libfuzzer_sys::fuzz_target;
use splicepoint::hls::cue::scan_breaks;
use splicepoint::hls::model::{parse_media, write_media, write_multivariant};
use splicepoint::hls::rewrite::{
    absolutize_media, ad_rendition, pin_byte_ranges, rewrite_multivariant,
};
use splicepoint::hls::{parse_playlist, version, Playlist};
use splicepoint::scte35::CueRules;
use url::Url;

const ORIGIN: &str = "https://origin.example.com/live/";

fuzz_target!(|text: &str| {
    let url = Url::parse("https://origin.example.com/live/channel/index.m3u8").unwrap();
    let _ = version::required_version(text);
    match parse_playlist(text) {
        Ok(Playlist::Media(mut pl)) => {
            pin_byte_ranges(&mut pl);
            let written = write_media(&pl);
            let again = parse_media(&written).expect("a written playlist parses");
            assert_eq!(
                again.segments.len(),
                pl.segments.len(),
                "segments after write"
            );
            for rules in [
                CueRules::default(),
                CueRules {
                    lenient_crc: true,
                    ..CueRules::default()
                },
            ] {
                let _ = scan_breaks(&pl, &rules);
            }
            let _ = ad_rendition(&pl, &url, Some("https://ads-cdn.example.com/a"));
            absolutize_media(&mut pl, &url, ORIGIN, Some("https://cdn.example.com/c"));
            let _ = write_media(&pl);
        }
        Ok(Playlist::Multivariant(m)) => {
            let _ = write_multivariant(&m);
            let _ =
                rewrite_multivariant(&m, &url, ORIGIN, "https://sp.example.com/v1/manifest/c/s/");
        }
        Err(_) => {}
    }
});
