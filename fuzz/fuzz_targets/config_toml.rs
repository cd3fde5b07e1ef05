//! A playback configuration file (TOML), as `ad-templates/` loading and hot reload
//! read it: parse and validate; an accepted configuration answers the questions a
//! request asks of it (aliases, origin, cue rules) and survives being written back
//! as TOML and read again unchanged.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use splicepoint::config::parse_config;

fuzz_target!(|text: &str| {
    let Ok(channel) = parse_config("fuzz.toml", "fuzz", text) else {
        return;
    };
    common::exercise_channel(&channel);
    let written = toml::to_string(&channel.raw).expect("an accepted configuration serializes");
    let again = parse_config("fuzz.toml", "fuzz", &written).expect("written TOML reloads");
    assert_eq!(
        again.raw, channel.raw,
        "TOML round trip changed the configuration"
    );
});
