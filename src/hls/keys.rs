//! `EXT-X-KEY` (RFC 8216bis §4.4.4.4): which key lines are in force for a segment.
//!
//! Pure. Several `EXT-X-KEY` tags with different `KEYFORMAT`s apply together
//! (FairPlay `skd://`, Widevine and PlayReady keys of one SAMPLE-AES stream); a
//! later tag replaces the one of its own `KEYFORMAT`, and `METHOD=NONE` ends them
//! all. After an ad, every one of them must be declared again, not only the last.

use super::attr;
use super::model::{MediaPlaylist, KEY};

/// The `KEYFORMAT` a key line applies to (`identity` when it names none).
fn key_format(line: &str) -> &str {
    attr::attribute(line.trim().strip_prefix(KEY).unwrap_or(""), "KEYFORMAT").unwrap_or("identity")
}

/// Does this key line leave segments in the clear?
pub fn is_method_none(line: &str) -> bool {
    attr::attribute(line.trim().strip_prefix(KEY).unwrap_or(""), "METHOD") == Some("NONE")
}

/// The `EXT-X-KEY` lines in force for segment `index`, in the order they were
/// declared (its own lines included); empty when its segments are in the clear.
/// Costs nothing for a playlist without keys.
pub fn keys_in_force(pl: &MediaPlaylist, index: usize) -> Vec<&str> {
    let Some(last) = pl.segments.get(index).and_then(|s| s.key) else {
        return Vec::new();
    };
    let mut keys: Vec<&str> = Vec::new();
    // Walk back from the last key line to the METHOD=NONE (or the playlist start)
    // before it, then take the lines forward, each replacing its KEYFORMAT's.
    let mut from = 0;
    'back: for i in (0..=last.segment).rev() {
        let lines = &pl.segments[i].lines;
        let upto = if i == last.segment {
            last.line + 1
        } else {
            lines.len()
        };
        for (j, l) in lines[..upto.min(lines.len())].iter().enumerate().rev() {
            if l.starts_with(KEY) && is_method_none(l) {
                if i == last.segment && j == last.line {
                    return Vec::new();
                }
                from = i;
                break 'back;
            }
        }
    }
    for (i, s) in pl.segments[from..=last.segment].iter().enumerate() {
        let i = from + i;
        let upto = if i == last.segment {
            last.line + 1
        } else {
            s.lines.len()
        };
        for l in &s.lines[..upto.min(s.lines.len())] {
            if !l.starts_with(KEY) {
                continue;
            }
            if is_method_none(l) {
                keys.clear();
                continue;
            }
            let f = key_format(l);
            keys.retain(|k| key_format(k) != f);
            keys.push(l);
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hls::model::parse_media;

    #[test]
    fn every_keyformat_in_force_is_kept() {
        let pl = parse_media(concat!(
            "#EXTM3U\n#EXT-X-TARGETDURATION:6\n",
            "#EXTINF:6,\nclear.ts\n",
            "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://k1\",KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n",
            "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;base64,AAAA\",KEYFORMAT=\"urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed\"\n",
            "#EXTINF:6,\na.ts\n",
            "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://k2\",KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n",
            "#EXTINF:6,\nb.ts\n",
            "#EXT-X-KEY:METHOD=NONE\n",
            "#EXTINF:6,\nc.ts\n",
            "#EXT-X-KEY:METHOD=AES-128,URI=\"k3\"\n",
            "#EXTINF:6,\nd.ts\n",
        ))
        .unwrap();
        assert!(keys_in_force(&pl, 0).is_empty());
        let a = keys_in_force(&pl, 1);
        assert_eq!(a.len(), 2);
        assert!(a[0].contains("skd://k1") && a[1].contains("edef8ba9"));
        // k2 replaces k1 (same KEYFORMAT); the Widevine line stays in force.
        let b = keys_in_force(&pl, 2);
        assert_eq!(b.len(), 2);
        assert!(
            b[0].contains("edef8ba9") && b[1].contains("skd://k2"),
            "{b:?}"
        );
        assert!(keys_in_force(&pl, 3).is_empty());
        assert_eq!(
            keys_in_force(&pl, 4),
            ["#EXT-X-KEY:METHOD=AES-128,URI=\"k3\""]
        );
        assert!(keys_in_force(&pl, 9).is_empty());
    }
}
