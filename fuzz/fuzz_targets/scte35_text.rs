//! SCTE-35 cues as text: the base64 or hex of an HLS tag attribute
//! (`SCTE35-OUT=0x...`, `#EXT-OATCLS-SCTE35:...`, `#EXT-X-SCTE35:CUE=...`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use splicepoint::scte35::text::{decode_base64, decode_hex, decode_text, encode_base64};
use splicepoint::scte35::{decode, DecodeOptions};

fuzz_target!(|text: &str| {
    let _ = decode(text, &DecodeOptions::default());
    let _ = decode(text, &DecodeOptions::lenient());
    let _ = decode_text(text);
    let _ = decode_hex(text);
    // What the base64 decoder accepts, the encoder gives back as the same bytes.
    if let Ok(bytes) = decode_base64(text) {
        assert_eq!(
            decode_base64(&encode_base64(&bytes)).as_deref(),
            Ok(&bytes[..])
        );
    }
});
