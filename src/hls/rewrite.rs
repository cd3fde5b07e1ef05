//! URL rewriting for HLS: content playlists made absolute (with the CDN prefix),
//! multivariant playlists pointed at session URLs, ad playlists turned into
//! [`AdRendition`]s, and the ad rendition that best matches a content variant.
//!
//! Pure: URLs in, text or values out.

use url::Url;

use super::attr;
use super::model::{
    self, MediaPlaylist, MultivariantPlaylist, Variant, EXTINF, I_FRAME_STREAM_INF, KEY, MAP, MEDIA,
};
use crate::stitch::{AdRendition, AdSegment};

/// Tags whose `URI` attribute names a media resource of a media playlist.
const MEDIA_URI_TAGS: &[&str] = &[
    KEY,
    MAP,
    "#EXT-X-PART:",
    "#EXT-X-PRELOAD-HINT:",
    "#EXT-X-SESSION-KEY:",
];

/// Resolve `reference` against `base` and apply `prefix` (replacing `origin_base`)
/// when the result lies under `origin_base`.
pub fn resolve_uri(
    base: &Url,
    reference: &str,
    origin_base: Option<&str>,
    prefix: Option<&str>,
) -> String {
    let Ok(abs) = crate::urls::join(base, reference) else {
        return reference.to_string();
    };
    let abs = abs.to_string();
    if let (Some(origin), Some(prefix)) = (origin_base, prefix) {
        if let Some(rest) = abs.strip_prefix(origin) {
            let mut out = String::with_capacity(prefix.len() + rest.len() + 1);
            out.push_str(prefix.trim_end_matches('/'));
            out.push('/');
            out.push_str(rest);
            return out;
        }
    }
    abs
}

/// `#EXT-X-BYTERANGE:<n>[@<o>]`
const BYTERANGE: &str = "#EXT-X-BYTERANGE:";

/// Give every `EXT-X-BYTERANGE` its offset (`n@o`, RFC 8216 §4.3.2.2): one without
/// an offset starts where the previous segment's sub-range of the same resource
/// ended, which stops being true once a splice puts other segments between them.
/// A range whose start cannot be known (the first of a live window) stays as it is.
pub fn pin_byte_ranges(pl: &mut MediaPlaylist) {
    // (URI, end of its sub-range) of the previous segment, when it had one.
    let mut prev: Option<(String, u64)> = None;
    for s in &mut pl.segments {
        let mut end = None;
        for l in &mut s.lines {
            let Some(v) = l.trim().strip_prefix(BYTERANGE) else {
                continue;
            };
            let (len, off) = match v.split_once('@') {
                Some((n, o)) => (n.trim().parse::<u64>().ok(), o.trim().parse::<u64>().ok()),
                None => (v.trim().parse::<u64>().ok(), None),
            };
            let Some(len) = len else { continue };
            let start = off.or_else(|| {
                prev.as_ref()
                    .filter(|(uri, _)| *uri == s.uri)
                    .map(|(_, e)| *e)
            });
            if let Some(start) = start {
                if off.is_none() {
                    *l = format!("{BYTERANGE}{len}@{start}");
                }
                end = start.checked_add(len);
            }
        }
        prev = end.map(|e| (s.uri.clone(), e));
    }
}

/// Make every media URI of a content playlist absolute: segment URIs and the `URI`
/// attributes of `EXT-X-KEY`, `EXT-X-MAP`, parts and hints. Content under the
/// origin base gets the content CDN prefix when one is configured. Done once per
/// origin fetch, never per request.
pub fn absolutize_media(
    pl: &mut MediaPlaylist,
    url: &Url,
    origin_base: &str,
    prefix: Option<&str>,
) {
    let fix_line = |line: &mut String| {
        if MEDIA_URI_TAGS.iter().any(|t| line.starts_with(t)) {
            if let Some(new) = attr::replace_uri_attribute(line, |u| {
                resolve_uri(url, u, Some(origin_base), prefix)
            }) {
                *line = new;
            }
        }
    };
    for s in &mut pl.segments {
        s.lines.iter_mut().for_each(fix_line);
        s.uri = resolve_uri(url, &s.uri, Some(origin_base), prefix);
    }
    pl.trailer.iter_mut().for_each(fix_line);
}

/// Point every variant, rendition and I-frame playlist of a multivariant playlist at
/// the session: a URI that resolves under `origin_base` becomes
/// `{session_base}{path under the origin}`; any other URI is made absolute and left
/// alone (its host is not one we may fetch from).
pub fn rewrite_multivariant(
    pl: &MultivariantPlaylist,
    url: &Url,
    origin_base: &str,
    session_base: &str,
) -> String {
    let to_session = |u: &str| -> String {
        let abs = resolve_uri(url, u, None, None);
        match abs.strip_prefix(origin_base) {
            Some(rest) => format!("{session_base}{rest}"),
            None => abs,
        }
    };
    let uri_lines: Vec<usize> = pl.variants.iter().map(|v| v.uri_line).collect();
    let mut out = String::with_capacity(pl.lines.len() * 120);
    for (i, line) in pl.lines.iter().enumerate() {
        if uri_lines.contains(&i) {
            model::push_line(&mut out, &to_session(line.trim()));
        } else if line.starts_with(MEDIA) || line.starts_with(I_FRAME_STREAM_INF) {
            let new = attr::replace_uri_attribute(line, to_session);
            model::push_line(&mut out, new.as_deref().unwrap_or(line));
        } else if line.starts_with("#EXT-X-SESSION-KEY:") {
            let new = attr::replace_uri_attribute(line, |u| resolve_uri(url, u, None, None));
            model::push_line(&mut out, new.as_deref().unwrap_or(line));
        } else {
            model::push_line(&mut out, line);
        }
    }
    out
}

/// Turn an ad (or slate) media playlist into segments ready to splice: URIs absolute,
/// moved under the ad CDN prefix when one is configured (prefix + the URI's path).
pub fn ad_rendition(pl: &MediaPlaylist, url: &Url, prefix: Option<&str>) -> AdRendition {
    let place = |u: &str| -> String {
        let abs = resolve_uri(url, u, None, None);
        match (prefix, crate::urls::parse(&abs)) {
            (Some(prefix), Ok(parsed)) => {
                let mut out = prefix.trim_end_matches('/').to_string();
                out.push_str(parsed.path());
                if let Some(q) = parsed.query() {
                    out.push('?');
                    out.push_str(q);
                }
                out
            }
            _ => abs,
        }
    };
    let segments = pl
        .segments
        .iter()
        .map(|s| AdSegment {
            uri: place(&s.uri),
            duration: s.duration,
            extinf: s
                .lines
                .iter()
                .find(|l| l.starts_with(EXTINF))
                .cloned()
                .unwrap_or_else(|| format!("{EXTINF}{:.3},", s.duration)),
            discontinuity: s.discontinuity,
            lines: s
                .lines
                .iter()
                .filter(|l| l.starts_with(MAP) || l.starts_with(KEY) || l.starts_with(BYTERANGE))
                .map(|l| attr::replace_uri_attribute(l, place).unwrap_or_else(|| l.clone()))
                .collect(),
        })
        .collect::<Vec<_>>();
    AdRendition { segments }
}

/// What we know of the content variant an ad must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct VariantTarget {
    /// `BANDWIDTH`, bits per second.
    pub bandwidth: Option<u64>,
    /// `RESOLUTION`.
    pub resolution: Option<(u32, u32)>,
    /// A variant stream, an audio or subtitles rendition, an I-frame playlist.
    pub kind: super::rendition::RenditionKind,
}

impl From<&Variant> for VariantTarget {
    fn from(v: &Variant) -> Self {
        Self {
            bandwidth: Some(v.bandwidth),
            resolution: v.resolution,
            kind: super::rendition::RenditionKind::Variant,
        }
    }
}

/// Pick the ad variant that best matches the content variant: same resolution
/// first, then the nearest bandwidth (by ratio). Without a target, the highest
/// bandwidth. `None` for an empty list.
pub fn select_variant<'a>(variants: &'a [Variant], target: &VariantTarget) -> Option<&'a Variant> {
    let score = |v: &Variant| -> (u8, u64) {
        let res = match (target.resolution, v.resolution) {
            (Some(a), Some(b)) if a == b => 0,
            (Some(_), _) => 1,
            (None, _) => 0,
        };
        let bw = match target.bandwidth {
            Some(t) if t > 0 && v.bandwidth > 0 => {
                let r = (v.bandwidth as f64 / t as f64).ln().abs();
                (r * 1e6) as u64
            }
            _ => u64::MAX - v.bandwidth,
        };
        (res, bw)
    };
    variants.iter().min_by_key(|v| score(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_get_their_offsets() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-BYTERANGE:100\n#EXTINF:6,\nall.ts\n#EXT-X-BYTERANGE:100\n#EXTINF:6,\nall.ts\n#EXT-X-BYTERANGE:50@1000\n#EXTINF:6,\nall.ts\n#EXT-X-BYTERANGE:70\n#EXTINF:6,\nall.ts\n#EXT-X-BYTERANGE:70\n#EXTINF:6,\nother.ts\n#EXTINF:6,\nplain.ts\n";
        let mut pl = crate::hls::model::parse_media(text).unwrap();
        pin_byte_ranges(&mut pl);
        let ranges: Vec<&str> = pl
            .segments
            .iter()
            .flat_map(|s| s.lines.iter())
            .filter(|l| l.starts_with(BYTERANGE))
            .map(String::as_str)
            .collect();
        // The first of the window cannot be known; another resource's neither.
        assert_eq!(
            ranges,
            [
                "#EXT-X-BYTERANGE:100",
                "#EXT-X-BYTERANGE:100",
                "#EXT-X-BYTERANGE:50@1000",
                "#EXT-X-BYTERANGE:70@1050",
                "#EXT-X-BYTERANGE:70",
            ]
        );
        let text = text.replacen("BYTERANGE:100\n", "BYTERANGE:100@0\n", 1);
        let mut pl = crate::hls::model::parse_media(&text).unwrap();
        pin_byte_ranges(&mut pl);
        assert_eq!(pl.segments[1].lines[0], "#EXT-X-BYTERANGE:100@100");
    }
    use crate::hls::model::{parse_media, parse_multivariant};

    #[test]
    fn multivariant_points_at_session() {
        let text = "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",URI=\"audio/en.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=1000,AUDIO=\"a\"\nv0/index.m3u8?tok=1\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100,URI=\"iframes.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=2000\nhttps://elsewhere.example/v1.m3u8\n";
        let pl = parse_multivariant(text).unwrap();
        let url = Url::parse("http://origin.example/live/ch1/master.m3u8").unwrap();
        let out = rewrite_multivariant(
            &pl,
            &url,
            "http://origin.example/live/",
            "/v1/manifest/c/S/",
        );
        assert_eq!(
            out,
            "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",URI=\"/v1/manifest/c/S/ch1/audio/en.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=1000,AUDIO=\"a\"\n/v1/manifest/c/S/ch1/v0/index.m3u8?tok=1\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100,URI=\"/v1/manifest/c/S/ch1/iframes.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=2000\nhttps://elsewhere.example/v1.m3u8\n"
        );
    }

    #[test]
    fn media_uris_become_absolute_with_prefix() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-KEY:METHOD=AES-128,URI=\"../keys/k1\"\n#EXTINF:6.0,\nseg1.ts\n#EXTINF:6.0,\nhttp://other.example/seg2.ts\n";
        let mut pl = parse_media(text).unwrap();
        let url = Url::parse("http://origin.example/live/ch1/index.m3u8").unwrap();
        absolutize_media(
            &mut pl,
            &url,
            "http://origin.example/live/",
            Some("https://cdn.example/live"),
        );
        assert_eq!(pl.segments[0].uri, "https://cdn.example/live/ch1/seg1.ts");
        assert_eq!(pl.segments[1].uri, "http://other.example/seg2.ts");
        assert_eq!(
            pl.segments[0].lines[0],
            "#EXT-X-KEY:METHOD=AES-128,URI=\"https://cdn.example/live/keys/k1\""
        );
    }

    #[test]
    fn ad_rendition_uses_ad_prefix() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\nseg00.ts\n#EXTINF:1.5,\nseg01.ts\n#EXT-X-ENDLIST\n";
        let pl = parse_media(text).unwrap();
        let url = Url::parse("http://ads.example/c/ad1/v0/index.m3u8").unwrap();
        let r = ad_rendition(&pl, &url, Some("https://adcdn.example/"));
        assert_eq!(r.segments.len(), 2);
        assert_eq!(r.segments[0].uri, "https://adcdn.example/c/ad1/v0/seg00.ts");
        assert_eq!(r.segments[1].extinf, "#EXTINF:1.5,");
        assert_eq!(r.duration(), 3.5);
        let r = ad_rendition(&pl, &url, None);
        assert_eq!(r.segments[0].uri, "http://ads.example/c/ad1/v0/seg00.ts");
    }

    #[test]
    fn selects_matching_variant() {
        let text = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=320x180\na.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1200000,RESOLUTION=1280x720\nb.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nc.m3u8\n";
        let m = parse_multivariant(text).unwrap();
        let pick = |bw, res| {
            select_variant(
                &m.variants,
                &VariantTarget {
                    bandwidth: bw,
                    resolution: res,
                    ..VariantTarget::default()
                },
            )
            .unwrap()
            .uri
            .clone()
        };
        assert_eq!(pick(Some(700_000), Some((640, 360))), "c.m3u8");
        assert_eq!(pick(Some(1_000_000), Some((1920, 1080))), "b.m3u8");
        assert_eq!(pick(Some(250_000), None), "a.m3u8");
        assert_eq!(pick(None, None), "b.m3u8");
    }
}

#[cfg(test)]
mod cmaf_tests {
    use super::*;
    use crate::hls::model::parse_media;

    #[test]
    fn ad_byte_ranges_and_map_are_kept() {
        // A CMAF ad packaged as one file with sub-ranges (and a ranged init).
        let text = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"ad.mp4\",BYTERANGE=\"720@0\"\n#EXT-X-BYTERANGE:5000@720\n#EXTINF:2.000,\nad.mp4\n#EXT-X-BYTERANGE:4000\n#EXTINF:2.000,\nad.mp4\n#EXT-X-ENDLIST\n";
        let mut pl = parse_media(text).unwrap();
        pin_byte_ranges(&mut pl);
        let url = Url::parse("http://ads.example/c/ad1/index.m3u8").unwrap();
        let r = ad_rendition(&pl, &url, None);
        assert_eq!(
            r.segments[0].lines,
            [
                "#EXT-X-MAP:URI=\"http://ads.example/c/ad1/ad.mp4\",BYTERANGE=\"720@0\"",
                "#EXT-X-BYTERANGE:5000@720"
            ]
        );
        // Pinned: it no longer follows the previous segment of the output.
        assert_eq!(r.segments[1].lines, ["#EXT-X-BYTERANGE:4000@5720"]);
    }
}
