//! The continuity rules a player depends on, checked on every response of a session.
//!
//! Pure: playlists and MPDs in, breaches out. The rules are the ones of the design
//! ("Live HLS: staying consistent across refreshes") and of the integration tests:
//!
//! - HLS: `EXT-X-MEDIA-SEQUENCE` and `EXT-X-DISCONTINUITY-SEQUENCE` never go back; a
//!   published media sequence number keeps its URI, duration and discontinuity number
//!   (`cc`); every switch between sources (content, one ad, the next ad, slate) carries
//!   `EXT-X-DISCONTINUITY`.
//! - DASH: a published Period keeps its start; Period ids are unique in an MPD and
//!   Periods are in start order.

use std::collections::BTreeMap;

use serde::Serialize;
use splicepoint::dash::Document;
use splicepoint::hls::MediaPlaylist;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    /// Which rule (`media_sequence_back`, `segment_changed`, ...).
    pub rule: &'static str,
    /// What was seen.
    pub detail: String,
}

fn breach(rule: &'static str, detail: String) -> Breach {
    Breach { rule, detail }
}

/// What a published segment was.
#[derive(Debug, Clone, PartialEq)]
struct Published {
    uri: String,
    duration: f64,
    cc: u64,
}

/// The continuity state of one media playlist of one session, across refreshes.
#[derive(Debug, Default)]
pub struct HlsTrack {
    media_sequence: Option<u64>,
    discontinuity_sequence: Option<u64>,
    /// Published segments still in the window, by media sequence number.
    published: BTreeMap<u64, Published>,
}

impl HlsTrack {
    /// Check one refresh against what was published before, then remember it.
    pub fn observe(&mut self, pl: &MediaPlaylist) -> Vec<Breach> {
        let mut out = Vec::new();
        if let Some(prev) = self.media_sequence {
            if pl.media_sequence < prev {
                out.push(breach(
                    "media_sequence_back",
                    format!("EXT-X-MEDIA-SEQUENCE {} after {prev}", pl.media_sequence),
                ));
            }
        }
        if let Some(prev) = self.discontinuity_sequence {
            if pl.discontinuity_sequence < prev {
                out.push(breach(
                    "discontinuity_sequence_back",
                    format!(
                        "EXT-X-DISCONTINUITY-SEQUENCE {} after {prev}",
                        pl.discontinuity_sequence
                    ),
                ));
            }
        }
        for s in &pl.segments {
            let now = Published {
                uri: s.uri.clone(),
                duration: s.duration,
                cc: s.cc,
            };
            match self.published.get(&s.msn) {
                Some(was) if !same(was, &now) => {
                    out.push(breach(
                        "segment_changed",
                        format!(
                            "media sequence {}: was {} ({}s, cc {}), now {} ({}s, cc {})",
                            s.msn, was.uri, was.duration, was.cc, now.uri, now.duration, now.cc
                        ),
                    ));
                    // Each change is reported once: compare the next refresh with this.
                    self.published.insert(s.msn, now);
                }
                Some(_) => {}
                None => {
                    self.published.insert(s.msn, now);
                }
            }
        }
        for pair in pl.segments.windows(2) {
            let (a, b) = (source_key(&pair[0].uri), source_key(&pair[1].uri));
            if a != b && !pair[1].discontinuity {
                out.push(breach(
                    "missing_discontinuity",
                    format!(
                        "media sequence {}: {} follows {} without EXT-X-DISCONTINUITY",
                        pair[1].msn, pair[1].uri, pair[0].uri
                    ),
                ));
            }
        }
        // Keep what can still be seen: the window of this response onwards. A rule
        // already broken is not reported again by the next refresh.
        let floor = self
            .media_sequence
            .map_or(pl.media_sequence, |m| m.max(pl.media_sequence));
        self.published = self.published.split_off(&floor);
        self.media_sequence = Some(floor);
        self.discontinuity_sequence = Some(
            self.discontinuity_sequence
                .map_or(pl.discontinuity_sequence, |d| {
                    d.max(pl.discontinuity_sequence)
                }),
        );
        out
    }

    /// Published segments remembered (bounded by the playlist window).
    pub fn remembered(&self) -> usize {
        self.published.len()
    }
}

fn same(a: &Published, b: &Published) -> bool {
    a.uri == b.uri && (a.duration - b.duration).abs() < 1e-6 && a.cc == b.cc
}

/// Where a segment comes from, for the DISCONTINUITY rule: an ad segment served
/// through `/v1/segment/{session}/{break}/{ad}/...` is its session, break and ad;
/// any other URI is its directory. Two neighbours from different sources are two
/// encodings, so a player must be told with `EXT-X-DISCONTINUITY`.
pub fn source_key(uri: &str) -> &str {
    let path = uri.split(['?', '#']).next().unwrap_or(uri);
    const SEGMENT: &str = "/v1/segment/";
    if let Some(at) = path.find(SEGMENT) {
        let start = at + SEGMENT.len();
        // session / break / ad
        return match path[start..].match_indices('/').nth(2) {
            Some((i, _)) => &path[..start + i],
            None => path,
        };
    }
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// The continuity state of one DASH session, across refreshes.
#[derive(Debug, Default)]
pub struct DashTrack {
    /// Period id → `start` as first published.
    periods: BTreeMap<String, String>,
}

impl DashTrack {
    /// Check one MPD against what was published before, then remember it.
    pub fn observe(&mut self, doc: &Document) -> Vec<Breach> {
        let mut out = Vec::new();
        let starts = splicepoint::dash::mpd::period_starts(doc);
        let mut seen = std::collections::BTreeSet::new();
        let mut last_start = f64::NEG_INFINITY;
        for (p, (_, start, _)) in doc.root.children_named("Period").zip(starts) {
            let Some(id) = p.attr("id") else {
                if splicepoint::dash::mpd::is_dynamic(doc) {
                    out.push(breach(
                        "period_without_id",
                        format!("a Period at {start}s has no id"),
                    ));
                }
                continue;
            };
            if !seen.insert(id.clone()) {
                out.push(breach(
                    "period_id_duplicate",
                    format!("Period id {id} twice in one MPD"),
                ));
            }
            if start < last_start {
                out.push(breach(
                    "period_order",
                    format!(
                        "Period {id} starts at {start}s, before the one above it ({last_start}s)"
                    ),
                ));
            }
            last_start = start;
            let shown = format!("{start:.3}");
            match self.periods.get(&id) {
                Some(was) if *was != shown => {
                    out.push(breach(
                        "period_moved",
                        format!("Period {id}: start was {was}s, now {shown}s"),
                    ));
                    self.periods.insert(id, shown);
                }
                Some(_) => {}
                None => {
                    self.periods.insert(id, shown);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use splicepoint::hls::parse_media;

    fn live(seq: u64, dseq: u64, segs: &[(&str, f64, bool)]) -> MediaPlaylist {
        let mut s = format!(
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{seq}\n#EXT-X-DISCONTINUITY-SEQUENCE:{dseq}\n"
        );
        for (uri, d, disc) in segs {
            if *disc {
                s.push_str("#EXT-X-DISCONTINUITY\n");
            }
            s.push_str(&format!("#EXTINF:{d},\n{uri}\n"));
        }
        parse_media(&s).unwrap()
    }

    fn rules(b: &[Breach]) -> Vec<&'static str> {
        b.iter().map(|b| b.rule).collect()
    }

    #[test]
    fn a_sliding_window_with_an_ad_break_is_continuous() {
        let mut t = HlsTrack::default();
        let c = |n: u32| format!("http://o/live/v0/seg{n}.ts");
        let a = |n: u32| format!("/v1/segment/S/6272/0/{n}/3/abcd/seg{n}.ts");
        let (c1, c2, c3, a0, a1) = (c(1), c(2), c(3), a(0), a(1));
        assert!(t
            .observe(&live(
                1,
                0,
                &[(&c1, 2.0, false), (&c2, 2.0, false), (&a0, 2.0, true)]
            ))
            .is_empty());
        assert!(t
            .observe(&live(
                2,
                0,
                &[(&c2, 2.0, false), (&a0, 2.0, true), (&a1, 2.0, false)]
            ))
            .is_empty());
        assert!(t
            .observe(&live(
                3,
                0,
                &[(&a0, 2.0, true), (&a1, 2.0, false), (&c3, 2.0, true)]
            ))
            .is_empty());
        assert_eq!(t.remembered(), 3, "only the window is remembered");
    }

    #[test]
    fn each_rule_is_caught() {
        let mut t = HlsTrack::default();
        t.observe(&live(
            5,
            1,
            &[("a/1.ts", 2.0, false), ("a/2.ts", 2.0, false)],
        ));
        let b = t.observe(&live(
            4,
            1,
            &[("a/0.ts", 2.0, false), ("a/1.ts", 2.0, false)],
        ));
        assert_eq!(rules(&b), ["media_sequence_back"]);
        let b = t.observe(&live(
            5,
            1,
            &[("a/1.ts", 2.0, false), ("a/9.ts", 2.0, false)],
        ));
        assert_eq!(rules(&b), ["segment_changed"], "uri: {b:?}");
        let b = t.observe(&live(
            5,
            1,
            &[("a/1.ts", 2.0, false), ("a/9.ts", 2.0, false)],
        ));
        assert!(b.is_empty(), "a change is reported once: {b:?}");
        let b = t.observe(&live(
            5,
            1,
            &[("a/1.ts", 2.0, false), ("a/2.ts", 2.0, false)],
        ));
        assert_eq!(
            rules(&b),
            ["segment_changed"],
            "and again when it changes back"
        );
        let b = t.observe(&live(6, 1, &[("a/2.ts", 3.0, false)]));
        assert_eq!(rules(&b), ["segment_changed"], "duration: {b:?}");
        let b = t.observe(&live(6, 1, &[("a/2.ts", 2.0, true)]));
        assert_eq!(rules(&b), ["segment_changed"], "cc: {b:?}");
        let b = t.observe(&live(7, 0, &[("a/3.ts", 2.0, false)]));
        assert_eq!(rules(&b), ["discontinuity_sequence_back"], "{b:?}");
        let b = t.observe(&live(
            8,
            1,
            &[("a/4.ts", 2.0, false), ("ad/0.ts", 2.0, false)],
        ));
        assert_eq!(rules(&b), ["missing_discontinuity"], "{b:?}");
        let b = t.observe(&live(
            8,
            1,
            &[("a/4.ts", 2.0, false), ("ad/0.ts", 2.0, false)],
        ));
        assert_eq!(
            rules(&b),
            ["missing_discontinuity"],
            "a refresh that repeats a breach reports it again: {b:?}"
        );
    }

    #[test]
    fn source_keys() {
        assert_eq!(
            source_key("http://o/live/v0/seg1.ts?k=1"),
            "http://o/live/v0"
        );
        assert_eq!(source_key("seg1.ts"), "");
        assert_eq!(
            source_key("/v1/segment/S/62/0/1/3/ab/seg1.ts"),
            source_key("/v1/segment/S/62/0/2/3/ab/seg2.ts"),
            "the segments of one ad"
        );
        assert_ne!(
            source_key("/v1/segment/S/62/0/1/3/ab/seg1.ts"),
            source_key("/v1/segment/S/62/1/0/3/ab/seg0.ts"),
            "two ads"
        );
        assert_eq!(source_key("/v1/segment/S/62"), "/v1/segment/S/62");
    }

    #[test]
    fn dash_periods_keep_their_starts() {
        let mpd = |periods: &str| {
            splicepoint::dash::parse(&format!(
                r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic">{periods}</MPD>"#
            ))
            .unwrap()
        };
        let mut t = DashTrack::default();
        assert!(t
            .observe(&mpd(
                r#"<Period id="p0" start="PT0S"/><Period id="ad0" start="PT20S"/>"#
            ))
            .is_empty());
        let b = t.observe(&mpd(
            r#"<Period id="p0" start="PT0S"/><Period id="ad0" start="PT22S"/><Period id="ad0" start="PT30S"/>"#,
        ));
        assert_eq!(
            rules(&b),
            ["period_moved", "period_id_duplicate", "period_moved"],
            "{b:?}"
        );
        let b = t.observe(&mpd(
            r#"<Period id="p0" start="PT0S"/><Period id="ad0" start="PT30S"/>"#,
        ));
        assert!(b.is_empty(), "a move is reported once: {b:?}");
        let b = t.observe(&mpd(
            r#"<Period id="x" start="PT9S"/><Period id="y" start="PT3S"/><Period start="PT40S"/>"#,
        ));
        assert_eq!(rules(&b), ["period_order", "period_without_id"], "{b:?}");
    }
}
