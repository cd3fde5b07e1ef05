//! Protocol version compatibility (RFC 8216 §7, RFC 8216bis §8): the
//! `EXT-X-VERSION` a playlist's tags and attributes need, and the fix-up that raises
//! a written playlist's declared version to it (never lowering it).
//!
//! Pure.

use super::attr;
use super::model::{
    MediaPlaylist, EXTINF, EXTM3U, I_FRAME_STREAM_INF, KEY, MAP, MEDIA, STREAM_INF,
};

/// `#EXT-X-VERSION:<n>`
pub const VERSION: &str = "#EXT-X-VERSION:";

/// The feature of a playlist that needs the highest version, and that version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The version needed (1 when nothing needs more).
    pub version: u64,
    /// 1-based line of the first tag needing it (0 when nothing does).
    pub line: usize,
    /// What needs it.
    pub feature: &'static str,
}

/// The version one line needs, with what needs it. `iframes_only`: the playlist
/// carries `EXT-X-I-FRAMES-ONLY` (its `EXT-X-MAP` needs 5, not 6).
pub fn line_need(line: &str, iframes_only: bool) -> Option<(u64, &'static str)> {
    let mut need: Option<(u64, &'static str)> = None;
    let mut bump = |v: u64, what: &'static str| {
        if need.is_none_or(|(n, _)| v > n) {
            need = Some((v, what));
        }
    };
    if let Some(v) = line.strip_prefix(EXTINF) {
        let d = v.split(',').next().unwrap_or("").trim();
        if d.contains(['.', 'e', 'E']) {
            bump(3, "a decimal EXTINF duration");
        }
    } else if let Some(list) = line.strip_prefix(KEY) {
        if attr::attribute(list, "IV").is_some() {
            bump(2, "the IV attribute of EXT-X-KEY");
        }
        if attr::attribute(list, "KEYFORMAT").is_some()
            || attr::attribute(list, "KEYFORMATVERSIONS").is_some()
        {
            bump(5, "KEYFORMAT or KEYFORMATVERSIONS in EXT-X-KEY");
        }
    } else if line.starts_with("#EXT-X-BYTERANGE:") {
        bump(4, "EXT-X-BYTERANGE");
    } else if line == "#EXT-X-I-FRAMES-ONLY" {
        bump(4, "EXT-X-I-FRAMES-ONLY");
    } else if line.starts_with(MAP) {
        if iframes_only {
            bump(5, "EXT-X-MAP in an I-frame playlist");
        } else {
            bump(6, "EXT-X-MAP in a media playlist");
        }
    } else if let Some(list) = line.strip_prefix(MEDIA) {
        if attr::attribute(list, "INSTREAM-ID").is_some_and(|v| v.starts_with("SERVICE")) {
            bump(7, "an INSTREAM-ID SERVICE value in EXT-X-MEDIA");
        }
    } else if let Some(list) = line.strip_prefix("#EXT-X-SKIP:") {
        if attr::attribute(list, "RECENTLY-REMOVED-DATERANGES").is_some() {
            bump(
                10,
                "EXT-X-SKIP replacing date ranges (RECENTLY-REMOVED-DATERANGES)",
            );
        } else {
            bump(9, "EXT-X-SKIP");
        }
    }
    if let Some(list) = line.strip_prefix("#EXT-X-DEFINE:") {
        if attr::attribute(list, "QUERYPARAM").is_some() {
            bump(11, "EXT-X-DEFINE with QUERYPARAM");
        } else {
            bump(8, "variable substitution (EXT-X-DEFINE)");
        }
    } else if line.contains("{$") {
        bump(8, "variable substitution ({$name})");
    }
    need
}

/// The version the playlist `text` needs.
pub fn required_version(text: &str) -> Need {
    required_version_of(text.lines())
}

/// The version a playlist given as lines needs.
pub fn required_version_of<'a>(lines: impl Iterator<Item = &'a str> + Clone) -> Need {
    let iframes_only = lines
        .clone()
        .any(|l| l.trim_end_matches('\r').trim() == "#EXT-X-I-FRAMES-ONLY");
    let mut best = Need {
        version: 1,
        line: 0,
        feature: "",
    };
    for (i, raw) in lines.enumerate() {
        let line = raw.trim_end_matches('\r').trim();
        if let Some((v, feature)) = line_need(line, iframes_only) {
            if v > best.version {
                best = Need {
                    version: v,
                    line: i + 1,
                    feature,
                };
            }
        }
    }
    best
}

/// The version a parsed media playlist needs.
pub fn media_need(pl: &MediaPlaylist) -> u64 {
    let lines = pl
        .header
        .iter()
        .chain(pl.segments.iter().flat_map(|s| s.lines.iter()))
        .chain(pl.trailer.iter())
        .map(String::as_str);
    required_version_of(lines).version
}

/// [`raise_version`], only when `text` needs more than `input_need`, the version
/// its input needed: a rewrite raises the version for what it adds, and leaves an
/// input that already under-declared as it was (its problem, not one we add).
pub fn raise_version_beyond(input_need: u64, text: String) -> String {
    if required_version(&text).version <= input_need {
        return text;
    }
    raise_version(text)
}

/// The `EXT-X-VERSION` values declared in `text`, with their 1-based lines
/// (`None` for a value that is not an integer).
pub fn declared_versions(text: &str) -> Vec<(usize, Option<u64>)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let v = l.trim_end_matches('\r').trim().strip_prefix(VERSION)?;
            Some((i + 1, v.trim().parse().ok()))
        })
        .collect()
}

/// `text` with its `EXT-X-VERSION` raised to what its tags need: the tag is
/// rewritten when it declares less, inserted after `#EXTM3U` when absent (version
/// 1 is implied then), and left as it is when it declares enough or more. Text
/// that is not a playlist, or whose version cannot be read, is returned unchanged.
pub fn raise_version(text: String) -> String {
    let need = required_version(&text).version;
    let declared = declared_versions(&text);
    match declared.as_slice() {
        [] if need > 1 => {
            let Some(first_end) = text.find('\n') else {
                return text;
            };
            if text[..first_end].trim_start_matches('\u{feff}').trim() != EXTM3U {
                return text;
            }
            let mut out = String::with_capacity(text.len() + 20);
            out.push_str(&text[..=first_end]);
            out.push_str(VERSION);
            out.push_str(&need.to_string());
            out.push('\n');
            out.push_str(&text[first_end + 1..]);
            out
        }
        [(line, Some(v))] if *v < need => {
            let mut out = String::with_capacity(text.len() + 4);
            for (i, l) in text.split_inclusive('\n').enumerate() {
                if i + 1 == *line {
                    out.push_str(VERSION);
                    out.push_str(&need.to_string());
                    out.push_str(if l.ends_with("\r\n") {
                        "\r\n"
                    } else if l.ends_with('\n') {
                        "\n"
                    } else {
                        ""
                    });
                } else {
                    out.push_str(l);
                }
            }
            out
        }
        _ => text,
    }
}

/// Is `text` a multivariant playlist (by its tags)?
pub fn looks_multivariant(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.starts_with(STREAM_INF) || l.starts_with(I_FRAME_STREAM_INF) || l.starts_with(MEDIA)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_follow_section_7() {
        let v = |t: &str| required_version(t).version;
        assert_eq!(v("#EXTM3U\n#EXTINF:6,\na.ts\n"), 1);
        assert_eq!(v("#EXTM3U\n#EXTINF:6.000,\na.ts\n"), 3);
        assert_eq!(
            v("#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0x0123456789abcdef0123456789abcdef\n#EXTINF:6,\na.ts\n"),
            2
        );
        assert_eq!(v("#EXTM3U\n#EXT-X-BYTERANGE:100@0\n#EXTINF:6,\na.ts\n"), 4);
        assert_eq!(
            v("#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"k\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n"),
            5
        );
        assert_eq!(
            v("#EXTM3U\n#EXT-X-MAP:URI=\"i.mp4\"\n#EXTINF:6,\na.m4s\n"),
            6
        );
        assert_eq!(
            v("#EXTM3U\n#EXT-X-I-FRAMES-ONLY\n#EXT-X-MAP:URI=\"i.mp4\"\n#EXTINF:6,\na.m4s\n"),
            5
        );
        assert_eq!(
            v("#EXTM3U\n#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"s\",INSTREAM-ID=\"SERVICE1\"\n"),
            7
        );
        assert_eq!(v("#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"b\"\n"), 8);
        let need = required_version("#EXTM3U\n#EXTINF:6,\na.ts\n#EXT-X-MAP:URI=\"i.mp4\"\n");
        assert_eq!(
            (need.line, need.feature),
            (4, "EXT-X-MAP in a media playlist")
        );
    }

    #[test]
    fn raises_never_lowers() {
        let v1 = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\na.ts\n#EXTINF:2.000,\nad.ts\n";
        assert_eq!(
            raise_version(v1.to_string()),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\na.ts\n#EXTINF:2.000,\nad.ts\n"
        );
        let low = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MAP:URI=\"i.mp4\"\n#EXTINF:6,\na.m4s\n";
        assert_eq!(
            raise_version(low.to_string()),
            low.replace("VERSION:3", "VERSION:6")
        );
        let high = "#EXTM3U\n#EXT-X-VERSION:7\n#EXTINF:6.5,\na.ts\n";
        assert_eq!(raise_version(high.to_string()), high);
        let plain = "#EXTM3U\n#EXTINF:6,\na.ts\n";
        assert_eq!(raise_version(plain.to_string()), plain);
        assert_eq!(raise_version("<MPD/>".to_string()), "<MPD/>");
        // Two declarations: left for the conformance report, not guessed at.
        let twice = "#EXTM3U\n#EXT-X-VERSION:2\n#EXT-X-VERSION:2\n#EXTINF:6.5,\na.ts\n";
        assert_eq!(raise_version(twice.to_string()), twice);
    }

    #[test]
    fn raises_only_beyond_what_the_input_needed() {
        // The input under-declares already (decimal EXTINFs, no version): adding
        // more decimal EXTINFs leaves it as it was; adding EXT-X-MAP raises it.
        let input = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\na.ts\n";
        let pl = crate::hls::model::parse_media(input).unwrap();
        assert_eq!(media_need(&pl), 3);
        let same = format!("{input}#EXTINF:2.0,\nad.ts\n");
        assert_eq!(raise_version_beyond(3, same.clone()), same);
        let more = format!("{input}#EXT-X-MAP:URI=\"i.mp4\"\n#EXTINF:2.0,\nad.m4s\n");
        assert!(raise_version_beyond(3, more).starts_with("#EXTM3U\n#EXT-X-VERSION:6\n"));
    }
}
