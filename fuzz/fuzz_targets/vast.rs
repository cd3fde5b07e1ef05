//! An ad server's VAST response (VAST 2/3/4: InLine and Wrapper ads, pods, media
//! files, tracking events), and the time values it carries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use splicepoint::vast::{parse_duration, parse_vast};

fuzz_target!(|xml: &str| {
    if let Ok(v) = parse_vast(xml) {
        for ad in &v.ads {
            let _ = format!("{ad:?}");
        }
    }
    let _ = parse_duration(xml);
});
