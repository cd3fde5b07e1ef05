//! SCTE-35 in DASH `EventStream` XML under each of the three schemes
//! (`2013:xml`, `2014:xml+bin`, `2013:bin`); the first byte picks the scheme.
#![no_main]

use libfuzzer_sys::fuzz_target;
use splicepoint::scte35::xml::{decode_event, SCHEME_BIN, SCHEME_XML, SCHEME_XML_BIN};
use splicepoint::scte35::DecodeOptions;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(payload) = std::str::from_utf8(rest) else {
        return;
    };
    let scheme = [SCHEME_XML, SCHEME_XML_BIN, SCHEME_BIN][usize::from(pick % 3)];
    let _ = decode_event(scheme, payload, &DecodeOptions::default());
    let _ = decode_event(scheme, payload, &DecodeOptions::lenient());
});
