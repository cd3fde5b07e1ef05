//! Cues as text: base64 (RFC 4648 §4, what HLS tags and DASH `Binary` carry) and
//! hex (what `EXT-X-DATERANGE` `SCTE35-*` attributes carry, with a `0x` prefix).
//!
//! Pure. Written here rather than taken from a crate: the decoder is a few dozen
//! lines, and what it tolerates is ours to choose: surrounding whitespace and
//! quotes, whitespace inside, a missing `=` padding, the URL-safe alphabet.

use super::DecodeError;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Sextet of each byte; 0xFF: not base64. Both alphabets (`+/` and `-_`).
const B64_DECODE: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 64 {
        t[B64[i] as usize] = i as u8;
        i += 1;
    }
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t
};

/// Decode base64. Whitespace is skipped; `=` padding is optional but, when present,
/// only at the end.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut n = 0u32; // sextets in `acc`
    let mut padding = 0usize;
    for &c in text.as_bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return Err(DecodeError::Encoding("base64 data after `=` padding"));
        }
        let v = B64_DECODE[usize::from(c)];
        if v == 0xFF {
            return Err(DecodeError::Encoding(
                "character outside the base64 alphabet",
            ));
        }
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => {}
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {
            return Err(DecodeError::Encoding(
                "base64 length is not a whole number of bytes",
            ))
        }
    }
    if padding > 2 || (padding > 0 && (n + padding as u32) % 4 != 0) {
        return Err(DecodeError::Encoding(
            "base64 padding does not fit the data",
        ));
    }
    Ok(out)
}

/// Encode standard base64 with padding.
pub fn encode_base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((v >> (18 - 6 * i)) & 0x3F) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decode hex (even number of digits, either case; whitespace skipped).
pub fn decode_hex(text: &str) -> Result<Vec<u8>, DecodeError> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace())
        .map(|c| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(DecodeError::Encoding("character outside the hex digits")),
        })
        .collect::<Result<_, _>>()?;
    if digits.len() % 2 != 0 {
        return Err(DecodeError::Encoding("odd number of hex digits"));
    }
    Ok(digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect())
}

/// `0x`-prefixed lowercase hex; empty for no bytes.
pub fn to_hex(data: &[u8]) -> String {
    if data.is_empty() {
        return String::new();
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 + data.len() * 2);
    s.push_str("0x");
    for b in data {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xF) as usize] as char);
    }
    s
}

/// A cue as text → bytes. Surrounding whitespace and quotes are dropped; `0x`/`0X`
/// means hex; otherwise text made only of an even number of hex digits is hex (a
/// base64 `splice_info_section` starts with `/` or, behind a pointer field, `AP`,
/// so the two never collide), and anything else is base64.
pub fn decode_text(text: &str) -> Result<Vec<u8>, DecodeError> {
    let t = text.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return decode_hex(hex);
    }
    let (mut digits, mut all_hex) = (0usize, true);
    for c in t.bytes() {
        if c.is_ascii_hexdigit() {
            digits += 1;
        } else if !c.is_ascii_whitespace() {
            all_hex = false;
            break;
        }
    }
    if all_hex && digits > 0 && digits % 2 == 0 {
        return decode_hex(t);
    }
    decode_base64(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_tail_length() {
        for n in 0..10 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 5) as u8).collect();
            let text = encode_base64(&data);
            assert_eq!(decode_base64(&text).unwrap(), data, "{text}");
            assert_eq!(decode_base64(text.trim_end_matches('=')).unwrap(), data);
        }
        assert_eq!(encode_base64(b"\xfc\x30"), "/DA=");
    }

    #[test]
    fn base64_rejects_garbage() {
        assert!(decode_base64("/DBaf%^").is_err());
        assert!(decode_base64("/DBaf").is_err()); // 5 sextets
        assert!(decode_base64("/D=A").is_err());
        assert!(decode_base64("/DA===").is_err());
    }

    #[test]
    fn text_detection() {
        assert_eq!(decode_text("0xFC30").unwrap(), vec![0xFC, 0x30]);
        assert_eq!(decode_text(" \"fc30\" ").unwrap(), vec![0xFC, 0x30]);
        assert_eq!(decode_text("/DA=").unwrap(), vec![0xFC, 0x30]);
        assert_eq!(decode_text("/DA").unwrap(), vec![0xFC, 0x30]);
        assert!(decode_text("0xFCINVALIDSECTION").is_err());
        assert_eq!(decode_text("").unwrap(), Vec::<u8>::new());
        assert_eq!(to_hex(&[0xFC, 0x0A]), "0xfc0a");
    }
}
