//! An origin's MPD, through what the origin cache does with it: parse the XML tree,
//! find its breaks (SCTE-35 events under the default and lenient rules), its period
//! timing and refresh period, read it as an ad MPD, write it back. A written tree
//! parses again to one that writes the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use splicepoint::dash::mpd::{
    find_breaks_with, is_dynamic, parse_duration, parse_utc, period_starts,
};
use splicepoint::dash::{parse, prepare_ad, write};
use splicepoint::scte35::CueRules;
use url::Url;

fuzz_target!(|text: &str| {
    let Ok(doc) = parse(text) else {
        return;
    };
    let written = write(&doc);
    let again = parse(&written).expect("a written MPD parses");
    assert_eq!(write(&again), written, "write(parse(write(x))) != write(x)");
    let _ = is_dynamic(&doc);
    for name in [
        "minimumUpdatePeriod",
        "mediaPresentationDuration",
        "timeShiftBufferDepth",
    ] {
        if let Some(v) = doc.root.attr(name) {
            let _ = parse_duration(&v);
        }
    }
    if let Some(v) = doc.root.attr("availabilityStartTime") {
        let _ = parse_utc(&v);
    }
    let _ = period_starts(&doc);
    for rules in [
        CueRules::default(),
        CueRules {
            lenient_crc: true,
            ..CueRules::default()
        },
    ] {
        let _ = find_breaks_with(&doc, &rules);
    }
    let url = Url::parse("https://ads.example.com/creative/ad.mpd").unwrap();
    let _ = prepare_ad(&doc, &url, Some("https://ads-cdn.example.com/a"));
    let _ = prepare_ad(&doc, &url, None);
});
