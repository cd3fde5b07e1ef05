//! What ffmpeg and ffprobe may read: a creative is bytes that an ad server chose, so
//! it is opened as a local file of a known container and nothing else.
//!
//! Pure (argument lists and byte checks); the tools run in [`super::ffmpeg`].
//!
//! A creative is downloaded first (size-capped, in [`super::job`]), then
//! - its first bytes must be those of a container we transcode ([`sniff_container`]):
//!   an HLS playlist, a concat script or an SDP served as `video/mp4` is refused
//!   before any tool sees it;
//! - every tool opens every input through [`input_args`]: `-protocol_whitelist
//!   file` (our own scratch files, never the network or another protocol a
//!   playlist could name) and `-format_whitelist` of the demuxers allowed for
//!   that input (defence in depth should a file pass the sniff and still hold a
//!   playlist).

/// Demuxers a creative may be opened with: ISO BMFF/QuickTime, MPEG-TS, Matroska
/// and WebM, MXF.
pub const CREATIVE_FORMATS: &str = "mov,mp4,m4a,3gp,3g2,mj2,mpegts,matroska,webm,mxf";
/// Demuxers our own intermediate files (MP4 video and M4A audio) are opened with.
pub const INTERMEDIATE_FORMATS: &str = "mov,mp4,m4a,3gp,3g2,mj2";
/// Protocols an input may use: our own files only.
pub const LOCAL_PROTOCOLS: &str = "file";
/// How a job's failure reason starts when the creative was refused (not a failure
/// of ours: the ad server's file is not a media file we accept).
pub const REFUSED: &str = "creative refused: ";

/// `-protocol_whitelist file -format_whitelist FORMATS -i file:PATH`: the input
/// options that open `path` as a local file of one of `formats`. The `file:` prefix
/// keeps a path with a `:` from naming a protocol.
pub fn input_args(path: &str, formats: &str) -> Vec<String> {
    let url = if path.starts_with("file:") {
        path.to_string()
    } else {
        format!("file:{path}")
    };
    vec![
        "-protocol_whitelist".to_string(),
        LOCAL_PROTOCOLS.to_string(),
        "-format_whitelist".to_string(),
        formats.to_string(),
        "-i".to_string(),
        url,
    ]
}

/// The container the first bytes of a file announce, if it is one a creative may
/// be (see [`CREATIVE_FORMATS`]); `None` for anything else. Reads at most the first
/// 400 bytes.
pub fn sniff_container(head: &[u8]) -> Option<&'static str> {
    // ISO BMFF / QuickTime: a box size then a known top-level box type.
    if let Some(kind) = head.get(4..8) {
        const BOXES: [&[u8; 4]; 8] = [
            b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid",
        ];
        if BOXES.iter().any(|b| kind == *b) {
            return Some("mp4");
        }
    }
    // Matroska / WebM: the EBML magic.
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some("matroska");
    }
    // MXF: a partition pack key.
    if head.starts_with(&[0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01]) {
        return Some("mxf");
    }
    // MPEG-TS: sync bytes at the start of the first two packets (188 bytes, or
    // 192 with a timecode prefix as in M2TS). One `G` (0x47) is not enough: text
    // starts with it too, and a creative is longer than two packets.
    for (first, size) in [(0usize, 188usize), (4, 192)] {
        let sync = |i: usize| head.get(first + i * size).copied() == Some(0x47);
        if sync(0) && sync(1) {
            return Some("mpegts");
        }
    }
    None
}

/// Whether a job's failure reason is a refusal of the creative ([`REFUSED`]).
pub fn is_refusal(reason: &str) -> bool {
    reason.starts_with(REFUSED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_containers_are_recognised() {
        let mut mp4 = vec![0, 0, 0, 0x20];
        mp4.extend_from_slice(b"ftypisom");
        assert_eq!(sniff_container(&mp4), Some("mp4"));
        let mut mov = vec![0, 0, 0, 8];
        mov.extend_from_slice(b"wide");
        assert_eq!(sniff_container(&mov), Some("mp4"));
        assert_eq!(
            sniff_container(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F]),
            Some("matroska")
        );
        assert_eq!(
            sniff_container(&[0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0D]),
            Some("mxf")
        );
        let mut ts = vec![0u8; 400];
        ts[0] = 0x47;
        ts[188] = 0x47;
        assert_eq!(sniff_container(&ts), Some("mpegts"));
        let mut m2ts = vec![0u8; 400];
        m2ts[4] = 0x47;
        m2ts[196] = 0x47;
        assert_eq!(sniff_container(&m2ts), Some("mpegts"));
    }

    #[test]
    fn playlists_scripts_and_garbage_are_not_containers() {
        for bad in [
            &b"#EXTM3U\n#EXTINF:4,\nfile:///etc/passwd\n"[..],
            b"ffconcat version 1.0\nfile '/etc/passwd'\n",
            b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n",
            b"<?xml version=\"1.0\"?><MPD/>",
            b"<html>",
            b"",
            b"\x00\x00\x00",
            b"GIF89a",
            b"G\n#EXTM3U",
        ] {
            assert_eq!(
                sniff_container(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // One sync byte is not a transport stream when a second packet should follow.
        let mut fake = vec![b'x'; 400];
        fake[0] = 0x47;
        assert_eq!(sniff_container(&fake), None);
    }

    #[test]
    fn inputs_are_local_files_of_listed_formats() {
        assert_eq!(
            input_args("/tmp/w/source", CREATIVE_FORMATS),
            [
                "-protocol_whitelist",
                "file",
                "-format_whitelist",
                CREATIVE_FORMATS,
                "-i",
                "file:/tmp/w/source"
            ]
        );
        assert_eq!(input_args("file:/x", "mov").last().unwrap(), "file:/x");
        assert_eq!(input_args("a:b.mp4", "mov").last().unwrap(), "file:a:b.mp4");
        assert!(is_refusal(&format!("{REFUSED}x")));
        assert!(!is_refusal("probing the creative: x"));
    }
}
