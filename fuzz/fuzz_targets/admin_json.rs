//! The admin API's `PUT /v1/configs/{name}` body (JSON with the TOML's fields), as
//! the handler reads it: deserialize, validate, write as TOML. What the API
//! accepts must be what the reloader then reads back from the file.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use splicepoint::config::{parse_config, PlaybackConfig};

fuzz_target!(|body: &[u8]| {
    let Ok(mut raw) = serde_json::from_slice::<PlaybackConfig>(body) else {
        return;
    };
    raw.name = None;
    let Ok(channel) = raw.clone().validate("fuzz.toml", "fuzz") else {
        return;
    };
    common::exercise_channel(&channel);
    let text = toml::to_string(&raw).expect("an accepted configuration serializes");
    let reloaded = parse_config("fuzz.toml", "fuzz", &text).expect("the written file reloads");
    assert_eq!(
        reloaded.raw, raw,
        "the file differs from what the API accepted"
    );
});
