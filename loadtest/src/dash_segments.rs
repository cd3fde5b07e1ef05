//! Which DASH segments a live player can fetch now: `SegmentTemplate` with
//! `@duration` and `$Number$` (the addressing of the demo and of most live packagers),
//! one Representation per AdaptationSet, BaseURLs resolved from the MPD down.
//!
//! Pure: the MPD, its URL and the time since `availabilityStartTime` in, URLs out.
//! `SegmentTimeline` (`$Time$`) and `SegmentBase` are not addressed: such
//! AdaptationSets are skipped (their MPDs are still checked and refreshed).

use splicepoint::dash::mpd::{parse_duration, period_starts};
use splicepoint::dash::{Document, Element};
use url::Url;

/// A segment a player would fetch: a stable key (period, adaptation set,
/// representation, number or `init`) and its URL.
#[derive(Debug, Clone, PartialEq)]
pub struct DashSegment {
    /// Unique within the session.
    pub key: String,
    /// Where to fetch it.
    pub url: Url,
    /// Index of its AdaptationSet in its Period.
    pub set: usize,
    /// An initialization segment.
    pub init: bool,
}

/// What a player joining now fetches first: the last `n` media segments of each
/// AdaptationSet (by index) and the initialization segments of their tracks.
pub fn live_start(segs: &[DashSegment], n: usize) -> Vec<&DashSegment> {
    let track = |s: &DashSegment| s.key.rsplit_once('/').map(|(t, _)| t.to_string());
    let mut keep: Vec<&DashSegment> = Vec::new();
    let sets: std::collections::BTreeSet<usize> = segs.iter().map(|s| s.set).collect();
    for set in sets {
        let media: Vec<&DashSegment> = segs.iter().filter(|s| s.set == set && !s.init).collect();
        keep.extend(&media[media.len().saturating_sub(n)..]);
    }
    let tracks: std::collections::BTreeSet<Option<String>> =
        keep.iter().map(|s| track(s)).collect();
    segs.iter()
        .filter(|s| {
            keep.iter().any(|k| std::ptr::eq(*k, *s)) || (s.init && tracks.contains(&track(s)))
        })
        .collect()
}

fn base(parent: &Url, e: &Element) -> Url {
    match e.child("BaseURL").map(|b| b.text()) {
        Some(b) if !b.is_empty() => parent.join(&b).unwrap_or_else(|_| parent.clone()),
        _ => parent.clone(),
    }
}

fn attr_f64(e: &Element, name: &str) -> Option<f64> {
    e.attr(name)?.trim().parse().ok()
}

/// The template in force: the Representation's own, else its AdaptationSet's.
fn template<'a>(set: &'a Element, rep: &'a Element) -> Option<&'a Element> {
    rep.child("SegmentTemplate")
        .or_else(|| set.child("SegmentTemplate"))
}

fn fill(t: &str, rep_id: &str, bandwidth: &str, number: Option<u64>) -> Option<String> {
    let mut s = t
        .replace("$RepresentationID$", rep_id)
        .replace("$Bandwidth$", bandwidth)
        .replace("$$", "\u{0}");
    if let Some(n) = number {
        s = s.replace("$Number$", &n.to_string());
    }
    // Any other identifier (`$Time$`, formatted `$Number%05d$`) is not addressed.
    if s.contains('$') {
        return None;
    }
    Some(s.replace('\u{0}', "$"))
}

/// The segments available `since_ast` seconds after `availabilityStartTime` (all of
/// them for a static MPD), for Representation `pick` (modulo their count) of each
/// AdaptationSet, init segments first.
pub fn available(doc: &Document, mpd_url: &Url, since_ast: f64, pick: usize) -> Vec<DashSegment> {
    let dynamic = splicepoint::dash::mpd::is_dynamic(doc);
    let root_base = base(mpd_url, &doc.root);
    let starts = period_starts(doc);
    let periods: Vec<&Element> = doc.root.children_named("Period").collect();
    let mut out = Vec::new();
    for (i, p) in periods.iter().enumerate() {
        let start = starts.get(i).map_or(0.0, |s| s.1);
        // A period ends at its duration, else where the next one starts, else (the
        // last of a live MPD) at the live edge.
        let end = p
            .attr("duration")
            .and_then(|d| parse_duration(&d))
            .map(|d| start + d)
            .or_else(|| starts.get(i + 1).map(|s| s.1))
            .or_else(|| {
                doc.root
                    .attr("mediaPresentationDuration")
                    .and_then(|d| parse_duration(&d))
            })
            .unwrap_or(f64::INFINITY);
        let edge = if dynamic { since_ast.min(end) } else { end };
        if !edge.is_finite() || edge <= start {
            continue;
        }
        let pid = p.attr("id").unwrap_or_else(|| i.to_string());
        let p_base = base(&root_base, p);
        for (s_idx, set) in p.children_named("AdaptationSet").enumerate() {
            let reps: Vec<&Element> = set.children_named("Representation").collect();
            let Some(rep) = reps.get(pick % reps.len().max(1)) else {
                continue;
            };
            let Some(t) = template(set, rep) else {
                continue;
            };
            let (Some(media), Some(dur)) = (t.attr("media"), attr_f64(t, "duration")) else {
                continue;
            };
            let timescale = attr_f64(t, "timescale").unwrap_or(1.0);
            let seg = dur / timescale;
            if seg <= 0.0 || !seg.is_finite() {
                continue;
            }
            let first: u64 = t
                .attr("startNumber")
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(1);
            let rep_id = rep.attr("id").unwrap_or_default();
            let bandwidth = rep.attr("bandwidth").unwrap_or_default();
            let r_base = base(&base(&p_base, set), rep);
            let key = |what: &str| format!("{pid}/{s_idx}/{rep_id}/{what}");
            if let Some(init) = t
                .attr("initialization")
                .and_then(|i| fill(&i, &rep_id, &bandwidth, None))
            {
                if let Ok(url) = r_base.join(&init) {
                    out.push(DashSegment {
                        key: key("init"),
                        url,
                        set: s_idx,
                        init: true,
                    });
                }
            }
            // Segment n covers [start + n*seg, start + (n+1)*seg): available once it
            // has ended (live) or while it starts before the period's end (static).
            let count = if dynamic {
                ((edge - start) / seg + 1e-9).floor()
            } else {
                ((edge - start) / seg - 1e-9).ceil()
            };
            let count = count.clamp(0.0, 100_000.0) as u64;
            for n in 0..count {
                let number = first + n;
                let Some(path) = fill(&media, &rep_id, &bandwidth, Some(number)) else {
                    break;
                };
                if let Ok(url) = r_base.join(&path) {
                    out.push(DashSegment {
                        key: key(&number.to_string()),
                        url,
                        set: s_idx,
                        init: false,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MPD: &str = r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="2026-01-01T00:00:00Z">
  <BaseURL>http://o/demo/origin/dash/live/</BaseURL>
  <Period id="p1" start="PT60S" duration="PT6S">
    <AdaptationSet id="0"><SegmentTemplate timescale="12800" duration="25600" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="v0" bandwidth="1"/><Representation id="v1" bandwidth="2"/></AdaptationSet>
    <AdaptationSet id="1"><SegmentTemplate timescale="48000" duration="96000" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="a0" bandwidth="3"/></AdaptationSet>
  </Period>
  <Period id="ad0" start="PT66S" duration="PT10S">
    <BaseURL>/v1/segment/S/62/0/d/5/ab/</BaseURL>
    <AdaptationSet id="0"><SegmentTemplate timescale="12800" duration="25600" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="v0" bandwidth="1"/></AdaptationSet>
  </Period>
  <Period id="resume" start="PT76S">
    <AdaptationSet id="0"><SegmentTemplate timescale="12800" duration="25600" startNumber="12" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="v0" bandwidth="1"/></AdaptationSet>
    <AdaptationSet id="9"><SegmentTemplate timescale="1" media="$RepresentationID$/t-$Time$.m4s"><SegmentTimeline><S t="0" d="2"/></SegmentTimeline></SegmentTemplate>
      <Representation id="x" bandwidth="1"/></AdaptationSet>
  </Period>
</MPD>"#;

    fn keys_and_urls(since: f64, pick: usize) -> Vec<(String, String)> {
        let doc = splicepoint::dash::parse(MPD).unwrap();
        let url = Url::parse("http://proxy/v1/dash/c/S/dash/live/manifest.mpd").unwrap();
        available(&doc, &url, since, pick)
            .into_iter()
            .map(|s| (s.key, s.url.to_string()))
            .collect()
    }

    #[test]
    fn live_segments_appear_as_they_end() {
        let got = keys_and_urls(70.5, 1);
        let want = [
            ("p1/0/v1/init", "http://o/demo/origin/dash/live/v1/init.mp4"),
            ("p1/0/v1/1", "http://o/demo/origin/dash/live/v1/seg-1.m4s"),
            ("p1/0/v1/2", "http://o/demo/origin/dash/live/v1/seg-2.m4s"),
            ("p1/0/v1/3", "http://o/demo/origin/dash/live/v1/seg-3.m4s"),
            ("p1/1/a0/init", "http://o/demo/origin/dash/live/a0/init.mp4"),
            ("p1/1/a0/1", "http://o/demo/origin/dash/live/a0/seg-1.m4s"),
            ("p1/1/a0/2", "http://o/demo/origin/dash/live/a0/seg-2.m4s"),
            ("p1/1/a0/3", "http://o/demo/origin/dash/live/a0/seg-3.m4s"),
            // 4.5 s into the ad period: two 2 s segments have ended. The ad's BaseURL
            // is absolute-path, resolved against the MPD's (origin) BaseURL host.
            (
                "ad0/0/v0/init",
                "http://o/v1/segment/S/62/0/d/5/ab/v0/init.mp4",
            ),
            (
                "ad0/0/v0/1",
                "http://o/v1/segment/S/62/0/d/5/ab/v0/seg-1.m4s",
            ),
            (
                "ad0/0/v0/2",
                "http://o/v1/segment/S/62/0/d/5/ab/v0/seg-2.m4s",
            ),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, u)| (k.to_string(), u.to_string()))
            .collect();
        assert_eq!(got, want);
        let later = keys_and_urls(81.0, 0);
        assert!(later.contains(&(
            "resume/0/v0/13".to_string(),
            "http://o/demo/origin/dash/live/v0/seg-13.m4s".to_string()
        )));
        assert!(
            !later.iter().any(|(k, _)| k == "resume/0/v0/14"),
            "not ended yet"
        );
        assert!(
            !later.iter().any(|(k, _)| k.starts_with("resume/1/")),
            "SegmentTimeline is not addressed"
        );
        assert!(keys_and_urls(10.0, 0).is_empty(), "before the first period");
    }

    #[test]
    fn a_joining_player_starts_near_the_live_edge() {
        let doc = splicepoint::dash::parse(MPD).unwrap();
        let url = Url::parse("http://proxy/m.mpd").unwrap();
        let all = available(&doc, &url, 70.5, 0);
        let keys: Vec<&str> = live_start(&all, 2).iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "p1/1/a0/init",
                "p1/1/a0/2",
                "p1/1/a0/3",
                "ad0/0/v0/init",
                "ad0/0/v0/1",
                "ad0/0/v0/2"
            ]
        );
    }
}
