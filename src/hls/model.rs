//! A line-preserving HLS model (RFC 8216).
//!
//! Pure. A playlist is kept as its original lines: every tag we do not understand
//! stays verbatim and in order, and durations keep their exact text (the `EXTINF`
//! line is never re-formatted). We only read the few values we act on.

use thiserror::Error;

use super::attr;

/// `#EXTM3U`
pub const EXTM3U: &str = "#EXTM3U";
/// `#EXTINF:<duration>,[<title>]`
pub const EXTINF: &str = "#EXTINF:";
/// `#EXT-X-DISCONTINUITY`
pub const DISCONTINUITY: &str = "#EXT-X-DISCONTINUITY";
/// `#EXT-X-DISCONTINUITY-SEQUENCE:<n>`
pub const DISCONTINUITY_SEQUENCE: &str = "#EXT-X-DISCONTINUITY-SEQUENCE:";
/// `#EXT-X-MEDIA-SEQUENCE:<n>`
pub const MEDIA_SEQUENCE: &str = "#EXT-X-MEDIA-SEQUENCE:";
/// `#EXT-X-TARGETDURATION:<s>`
pub const TARGET_DURATION: &str = "#EXT-X-TARGETDURATION:";
/// `#EXT-X-ENDLIST`
pub const ENDLIST: &str = "#EXT-X-ENDLIST";
/// `#EXT-X-PLAYLIST-TYPE:<EVENT|VOD>`
pub const PLAYLIST_TYPE: &str = "#EXT-X-PLAYLIST-TYPE:";
/// `#EXT-X-KEY:<attribute-list>`
pub const KEY: &str = "#EXT-X-KEY:";
/// `#EXT-X-MAP:<attribute-list>`
pub const MAP: &str = "#EXT-X-MAP:";
/// `#EXT-X-PROGRAM-DATE-TIME:<date-time>`
pub const PROGRAM_DATE_TIME: &str = "#EXT-X-PROGRAM-DATE-TIME:";
/// `#EXT-X-STREAM-INF:<attribute-list>`
pub const STREAM_INF: &str = "#EXT-X-STREAM-INF:";
/// `#EXT-X-I-FRAME-STREAM-INF:<attribute-list>`
pub const I_FRAME_STREAM_INF: &str = "#EXT-X-I-FRAME-STREAM-INF:";
/// `#EXT-X-MEDIA:<attribute-list>`
pub const MEDIA: &str = "#EXT-X-MEDIA:";

/// Tags that describe the whole media playlist; a leading run of these (and blank
/// lines) forms the header.
const PLAYLIST_TAGS: &[&str] = &[
    EXTM3U,
    "#EXT-X-VERSION:",
    TARGET_DURATION,
    MEDIA_SEQUENCE,
    DISCONTINUITY_SEQUENCE,
    PLAYLIST_TYPE,
    "#EXT-X-I-FRAMES-ONLY",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-START:",
    "#EXT-X-PART-INF:",
    "#EXT-X-SERVER-CONTROL:",
    "#EXT-X-ALLOW-CACHE:",
    "#EXT-X-DEFINE:",
];

/// Why a playlist could not be read.
#[derive(Debug, Error, PartialEq)]
pub enum ParseError {
    /// The first line is not `#EXTM3U`.
    #[error("not an HLS playlist: the first line is not #EXTM3U")]
    NotPlaylist,
    /// A value we need could not be read.
    #[error("line {line}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
}

/// Either kind of playlist.
#[derive(Debug, Clone, PartialEq)]
pub enum Playlist {
    /// A multivariant ("master") playlist.
    Multivariant(MultivariantPlaylist),
    /// A media playlist.
    Media(MediaPlaylist),
}

/// A multivariant playlist: its lines, with the variant streams noted.
#[derive(Debug, Clone, PartialEq)]
pub struct MultivariantPlaylist {
    /// Every line, verbatim (without line terminators).
    pub lines: Vec<String>,
    /// The variant streams (`EXT-X-STREAM-INF` + URI line).
    pub variants: Vec<Variant>,
}

/// One `EXT-X-STREAM-INF` variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Index of the URI line in `lines`.
    pub uri_line: usize,
    /// The URI as written.
    pub uri: String,
    /// `BANDWIDTH`, bits per second.
    pub bandwidth: u64,
    /// `RESOLUTION` as (width, height).
    pub resolution: Option<(u32, u32)>,
    /// `CODECS`.
    pub codecs: Option<String>,
}

/// A media playlist.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaPlaylist {
    /// The leading playlist-level tags, verbatim.
    pub header: Vec<String>,
    /// The media segments, in order.
    pub segments: Vec<Segment>,
    /// Lines after the last segment URI (`EXT-X-ENDLIST`, trailing parts, hints...).
    pub trailer: Vec<String>,
    /// `EXT-X-TARGETDURATION`, seconds.
    pub target_duration: u64,
    /// `EXT-X-MEDIA-SEQUENCE` (0 when absent).
    pub media_sequence: u64,
    /// `EXT-X-DISCONTINUITY-SEQUENCE` (0 when absent).
    pub discontinuity_sequence: u64,
    /// `EXT-X-ENDLIST` present, or `EXT-X-PLAYLIST-TYPE:VOD`.
    pub ended: bool,
    /// The EXT-X-VERSION its own tags need (RFC 8216 §7), found once at parse
    /// time so a rewrite knows whether what it adds needs more.
    pub version_need: u64,
}

/// One media segment: the lines before its URI, and the URI.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Media sequence number.
    pub msn: u64,
    /// Tag and comment lines before the URI, verbatim and in order (incl. `EXTINF`).
    pub lines: Vec<String>,
    /// The URI line, verbatim.
    pub uri: String,
    /// `EXTINF` duration, seconds.
    pub duration: f64,
    /// This segment carries an `EXT-X-DISCONTINUITY` tag.
    pub discontinuity: bool,
    /// Discontinuity tags in the playlist up to and including this segment, plus
    /// `EXT-X-DISCONTINUITY-SEQUENCE` (the hls.js `cc` of the segment).
    pub cc: u64,
    /// The `EXT-X-KEY` line in force for this segment, if any.
    pub key: Option<LineRef>,
    /// The `EXT-X-MAP` line in force for this segment, if any.
    pub map: Option<LineRef>,
    /// This segment carries its own `EXT-X-PROGRAM-DATE-TIME`.
    pub has_pdt: bool,
}

/// Where a tag line lives: segment index and line index within that segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRef {
    /// Index into `MediaPlaylist::segments`.
    pub segment: usize,
    /// Index into `Segment::lines`.
    pub line: usize,
}

impl MediaPlaylist {
    /// The sticky tag line (`EXT-X-KEY` or `EXT-X-MAP`) at `(segment, line)`.
    pub fn sticky_line(&self, at: Option<LineRef>) -> Option<&str> {
        let at = at?;
        self.segments
            .get(at.segment)
            .and_then(|s| s.lines.get(at.line))
            .map(String::as_str)
    }

    /// Sum of the segment durations.
    pub fn duration(&self) -> f64 {
        self.segments.iter().map(|s| s.duration).sum()
    }
}

/// Is this line a tag (or comment)?
pub fn is_tag(line: &str) -> bool {
    line.starts_with('#')
}

/// Parse a playlist of either kind.
pub fn parse_playlist(text: &str) -> Result<Playlist, ParseError> {
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let first = lines
        .next()
        .map(|l| l.trim_start_matches('\u{feff}').trim());
    if first != Some(EXTM3U) {
        return Err(ParseError::NotPlaylist);
    }
    let is_multivariant = text.lines().any(|l| {
        l.starts_with(STREAM_INF) || l.starts_with(I_FRAME_STREAM_INF) || l.starts_with(MEDIA)
    });
    if is_multivariant {
        parse_multivariant(text).map(Playlist::Multivariant)
    } else {
        parse_media(text).map(Playlist::Media)
    }
}

/// Parse a multivariant playlist.
pub fn parse_multivariant(text: &str) -> Result<MultivariantPlaylist, ParseError> {
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect();
    let mut variants = Vec::new();
    let mut pending: Option<&str> = None;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if let Some(attrs) = trimmed.strip_prefix(STREAM_INF) {
            pending = Some(attrs);
        } else if !trimmed.is_empty() && !is_tag(trimmed) {
            if let Some(attrs) = pending.take() {
                let bandwidth = attr::attribute(attrs, "BANDWIDTH")
                    .and_then(|b| b.parse().ok())
                    .ok_or(ParseError::BadLine {
                        line: i,
                        reason: "EXT-X-STREAM-INF without a numeric BANDWIDTH",
                    })?;
                let resolution = attr::resolution(attrs);
                variants.push(Variant {
                    uri_line: i,
                    uri: trimmed.to_string(),
                    bandwidth,
                    resolution,
                    codecs: attr::attribute(attrs, "CODECS").map(str::to_string),
                });
            }
        }
    }
    Ok(MultivariantPlaylist { lines, variants })
}

/// Parse a media playlist.
pub fn parse_media(text: &str) -> Result<MediaPlaylist, ParseError> {
    let mut all = text.lines().map(|l| l.trim_end_matches('\r')).enumerate();
    match all.next() {
        Some((_, l)) if l.trim_start_matches('\u{feff}').trim() == EXTM3U => {}
        _ => return Err(ParseError::NotPlaylist),
    }
    let mut header = vec![EXTM3U.to_string()];
    let mut segments: Vec<Segment> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let mut in_header = true;
    let mut target_duration = None;
    let mut media_sequence = 0u64;
    let mut discontinuity_sequence = 0u64;
    let mut ended = false;
    let mut duration: Option<f64> = None;
    let mut discontinuity = false;
    let mut has_pdt = false;
    let mut key: Option<LineRef> = None;
    let mut map: Option<LineRef> = None;
    let mut cc_tags = 0u64;

    for (n, raw) in all {
        let line_no = n + 1;
        let line = raw.trim();
        if let Some(v) = line.strip_prefix(TARGET_DURATION) {
            target_duration = Some(v.trim().parse::<f64>().map_err(|_| ParseError::BadLine {
                line: line_no,
                reason: "EXT-X-TARGETDURATION is not a number",
            })?);
        } else if let Some(v) = line.strip_prefix(MEDIA_SEQUENCE) {
            media_sequence = v.trim().parse().map_err(|_| ParseError::BadLine {
                line: line_no,
                reason: "EXT-X-MEDIA-SEQUENCE is not an integer",
            })?;
        } else if let Some(v) = line.strip_prefix(DISCONTINUITY_SEQUENCE) {
            discontinuity_sequence = v.trim().parse().map_err(|_| ParseError::BadLine {
                line: line_no,
                reason: "EXT-X-DISCONTINUITY-SEQUENCE is not an integer",
            })?;
        } else if line == ENDLIST {
            ended = true;
        } else if let Some(v) = line.strip_prefix(PLAYLIST_TYPE) {
            if v.trim() == "VOD" {
                ended = true;
            }
        }

        if in_header {
            // Comments (`#` not followed by `EXT`) stay with the header too: a
            // comment line must not end it, or the playlist tags after it would be
            // taken for segment tags (and written twice).
            let playlist_level = line.is_empty()
                || PLAYLIST_TAGS.iter().any(|t| line.starts_with(t))
                || (line.starts_with('#') && !line.starts_with("#EXT"));
            if playlist_level {
                if line != EXTM3U || header.len() > 1 {
                    header.push(raw.to_string());
                }
                continue;
            }
            in_header = false;
        }

        if is_tag(line) || line.is_empty() {
            let idx = pending.len();
            if let Some(v) = line.strip_prefix(EXTINF) {
                let d = v.split(',').next().unwrap_or("").trim();
                duration = Some(
                    d.parse::<f64>()
                        .ok()
                        .filter(|d| d.is_finite() && *d >= 0.0)
                        .ok_or(ParseError::BadLine {
                            line: line_no,
                            reason: "EXTINF duration is not a number",
                        })?,
                );
            } else if line == DISCONTINUITY {
                discontinuity = true;
            } else if line.starts_with(KEY) {
                key = Some(LineRef {
                    segment: segments.len(),
                    line: idx,
                });
            } else if line.starts_with(MAP) {
                map = Some(LineRef {
                    segment: segments.len(),
                    line: idx,
                });
            } else if line.starts_with(PROGRAM_DATE_TIME) {
                has_pdt = true;
            }
            pending.push(raw.to_string());
            continue;
        }

        // A URI line closes the segment.
        let Some(d) = duration.take() else {
            return Err(ParseError::BadLine {
                line: line_no,
                reason: "segment URI without a preceding EXTINF",
            });
        };
        if discontinuity {
            cc_tags += 1;
        }
        // Numbers past u64 cannot name segments (RFC 8216 decimal-integer); the one
        // after the last segment must exist too (the trailer's markers sit there).
        let (Some(msn), Some(_), Some(cc)) = (
            media_sequence.checked_add(segments.len() as u64),
            media_sequence.checked_add(segments.len() as u64 + 1),
            discontinuity_sequence.checked_add(cc_tags),
        ) else {
            return Err(ParseError::BadLine {
                line: line_no,
                reason: "media or discontinuity sequence number past 2^64",
            });
        };
        segments.push(Segment {
            msn,
            lines: std::mem::take(&mut pending),
            uri: line.to_string(),
            duration: d,
            discontinuity,
            cc,
            key,
            map,
            has_pdt,
        });
        discontinuity = false;
        has_pdt = false;
    }
    // A playlist without EXT-X-TARGETDURATION breaks the spec but not us: we take
    // the longest segment, as a player would have to.
    let target_duration =
        target_duration.unwrap_or_else(|| segments.iter().map(|s| s.duration).fold(0.0, f64::max));
    let mut pl = MediaPlaylist {
        header,
        segments,
        trailer: pending,
        target_duration: target_duration.ceil() as u64,
        media_sequence,
        discontinuity_sequence,
        ended,
        version_need: 1,
    };
    pl.version_need = super::version::media_need(&pl);
    Ok(pl)
}

/// Write a media playlist back to text, exactly as parsed.
pub fn write_media(pl: &MediaPlaylist) -> String {
    let mut out = String::with_capacity(pl.segments.len() * 96 + 256);
    for l in &pl.header {
        push_line(&mut out, l);
    }
    for s in &pl.segments {
        for l in &s.lines {
            push_line(&mut out, l);
        }
        push_line(&mut out, &s.uri);
    }
    for l in &pl.trailer {
        push_line(&mut out, l);
    }
    out
}

/// Write a multivariant playlist back to text.
pub fn write_multivariant(pl: &MultivariantPlaylist) -> String {
    let mut out = String::with_capacity(pl.lines.len() * 96);
    for l in &pl.lines {
        push_line(&mut out, l);
    }
    out
}

pub(crate) fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: &str = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-DISCONTINUITY-SEQUENCE:4\n#EXT-X-KEY:METHOD=AES-128,URI=\"k1\"\n#EXTINF:6.006,\na.ts\n#EXT-X-DISCONTINUITY\n#EXT-FOO:bar\n#EXTINF:5.005,title\nb.ts\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"c.0.mp4\"\n";

    /// Found with the `hls_playlist` fuzz target's build (overflow checks on): a media
    /// or discontinuity sequence number near 2^64 overflowed while numbering the
    /// segments (a panic in a debug build, a wrapped number in a release one).
    #[test]
    fn sequence_numbers_past_u64_are_refused() {
        let max = u64::MAX;
        for text in [
            format!("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:{max}\n#EXTINF:6,\na.ts\n#EXTINF:6,\nb.ts\n"),
            format!("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:{max}\n#EXTINF:6,\na.ts\n"),
            format!("#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:{max}\n#EXTINF:6,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:6,\nb.ts\n"),
        ] {
            assert!(
                matches!(parse_media(&text), Err(ParseError::BadLine { .. })),
                "{text}"
            );
        }
        // The largest numbers that still name every segment, and the one after.
        let last = format!("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:{}\n#EXT-X-DISCONTINUITY-SEQUENCE:{}\n#EXTINF:6,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:6,\nb.ts\n#EXT-X-CUE-IN\n", max - 2, max - 1);
        let pl = parse_media(&last).unwrap();
        assert_eq!(pl.segments[1].msn, max - 1);
        assert_eq!(pl.segments[1].cc, max);
        let _ = crate::hls::cue::find_breaks(&pl);
    }

    #[test]
    fn parses_and_round_trips() {
        let pl = parse_media(LIVE).unwrap();
        assert_eq!(pl.media_sequence, 100);
        assert_eq!(pl.discontinuity_sequence, 4);
        assert_eq!(pl.target_duration, 6);
        assert_eq!(pl.segments.len(), 2);
        assert_eq!(pl.segments[1].msn, 101);
        assert_eq!(pl.segments[0].cc, 4);
        assert_eq!(pl.segments[1].cc, 5);
        assert!(pl.segments[1].discontinuity);
        assert_eq!(pl.segments[1].duration, 5.005);
        assert_eq!(
            pl.sticky_line(pl.segments[1].key),
            Some("#EXT-X-KEY:METHOD=AES-128,URI=\"k1\"")
        );
        assert_eq!(pl.trailer.len(), 1);
        assert!(!pl.ended);
        assert_eq!(write_media(&pl), LIVE);
    }

    #[test]
    fn a_comment_does_not_end_the_header() {
        let text = "#EXTM3U\n# written by an encoder\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:266\n#EXTINF:4,\na.ts\n";
        let pl = parse_media(text).unwrap();
        assert_eq!(pl.header.len(), 4);
        assert_eq!(pl.segments[0].lines, ["#EXTINF:4,"]);
        assert_eq!(pl.media_sequence, 266);
        assert_eq!(write_media(&pl), text);
    }

    #[test]
    fn rejects_non_playlists() {
        assert_eq!(parse_playlist("<html>"), Err(ParseError::NotPlaylist));
        assert_eq!(parse_playlist(""), Err(ParseError::NotPlaylist));
        assert!(matches!(
            parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:6\nseg.ts\n"),
            Err(ParseError::BadLine { .. })
        ));
        assert!(matches!(
            parse_media("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:abc,\nseg.ts\n"),
            Err(ParseError::BadLine { .. })
        ));
    }

    #[test]
    fn detects_multivariant() {
        let text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=320x180,CODECS=\"avc1.4d401e,mp4a.40.2\"\nv0/index.m3u8\n";
        let Playlist::Multivariant(m) = parse_playlist(text).unwrap() else {
            panic!("expected multivariant");
        };
        assert_eq!(m.variants.len(), 1);
        assert_eq!(m.variants[0].resolution, Some((320, 180)));
        assert_eq!(m.variants[0].bandwidth, 1000);
        assert_eq!(write_multivariant(&m), text);
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;
    use crate::hls::cue::find_breaks;

    proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC*") {
            let _ = parse_playlist(&text);
        }

        #[test]
        fn playlist_like_text_round_trips(lines in proptest::collection::vec(
            prop_oneof![
                Just("#EXTINF:6.006,".to_string()),
                Just("#EXT-X-CUE-OUT:30".to_string()),
                Just("#EXT-X-CUE-IN".to_string()),
                Just("#EXT-X-CUE-OUT-CONT:ElapsedTime=6,Duration=30".to_string()),
                Just("#EXT-X-DISCONTINUITY".to_string()),
                Just("#EXT-X-FOO:bar".to_string()),
                "[a-z]{1,8}\\.ts",
            ], 0..40)) {
            let text = format!("#EXTM3U\n#EXT-X-TARGETDURATION:6\n{}\n", lines.join("\n"));
            if let Ok(Playlist::Media(pl)) = parse_playlist(&text) {
                prop_assert_eq!(write_media(&pl), text);
                let _ = find_breaks(&pl);
            }
        }
    }
}
