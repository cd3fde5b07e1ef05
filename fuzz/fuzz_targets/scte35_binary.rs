//! SCTE-35 `splice_info_section` bytes (an MPEG-TS section, or what a DASH `2013:bin`
//! event or an HLS tag carries once its base64 or hex is undone).
//!
//! Decodes strictly and leniently, classifies the cue for breaks and builds its ADS
//! variables as the server does; a strict decode must survive the encoder:
//! `decode(encode(s)) == seal(s)`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use splicepoint::scte35::encode::{encode, seal};
use splicepoint::scte35::rules::{ads_vars, classify};
use splicepoint::scte35::{decode_bytes, CueRules, DecodeOptions};

fuzz_target!(|data: &[u8]| {
    let rules = CueRules::default();
    if let Ok(s) = decode_bytes(data, &DecodeOptions::default()) {
        let _ = classify(&s, &rules);
        let _ = ads_vars(&s, &rules);
        let mut sealed = s.clone();
        seal(&mut sealed);
        // Warnings describe the bytes decoded (a forgiven splice_command_length,
        // say), not the section: the encoder writes consistent bytes.
        sealed.warnings.clear();
        let again = decode_bytes(&encode(&s), &DecodeOptions::default()).map(|mut a| {
            a.warnings.clear();
            a
        });
        assert_eq!(again.as_ref(), Ok(&sealed), "decode(encode(x)) != x");
    }
    if let Ok(s) = decode_bytes(data, &DecodeOptions::lenient()) {
        let _ = classify(&s, &rules);
        let _ = ads_vars(&s, &rules);
    }
});
