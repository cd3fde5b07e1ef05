//! One HLS tag line read as an ad marker, in every dialect the cue reader knows
//! (`EXT-X-CUE-OUT/-CONT/-IN`, `EXT-OATCLS-SCTE35`, `EXT-X-SCTE35`, `EXT-X-DATERANGE`
//! with `SCTE35-*`, `EXT-X-SPLICEPOINT-SCTE35`...), under default and lenient rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use splicepoint::hls::attr::{attribute, attributes};
use splicepoint::hls::cue::{is_cue_line, parse_cue, parse_marker};
use splicepoint::scte35::CueRules;

fuzz_target!(|line: &str| {
    let _ = is_cue_line(line);
    let _ = parse_cue(line);
    let _ = parse_marker(line, &CueRules::default());
    let lenient = CueRules {
        segmentation_types: vec![0x10, 0x11, 0x22, 0x23, 0x30, 0x31, 0x34, 0x35],
        lenient_crc: true,
    };
    let _ = parse_marker(line, &lenient);
    let list = line.split_once(':').map_or(line, |(_, v)| v);
    let _ = attributes(list).count();
    let _ = attribute(list, "URI");
});
