//! The HLS media splice.
//!
//! Pure: everything it needs comes in as arguments and the session bookkeeping it
//! changes comes back as [`BreakRecord`]s for the caller to store.
//!
//! How a break is laid out: the ads (in pod order) are placed on the break's own
//! timeline, each ad segment at its cumulative offset; time the ads leave over is
//! slate (looped) up to the avail duration. In live, an ad segment is revealed only
//! once the origin has published the content it replaces (its end offset is within
//! the content seen so far), so the personalized playlist never runs ahead of real
//! time and every refresh shows a prefix of the final layout. Break content that the
//! layout does not cover (no slate, or a break longer than announced) is shown as
//! content. An early CUE-IN cuts the layout there: items that do not end before it
//! never appear.
//!
//! Numbering: a content segment's personalized media sequence number is its origin
//! number plus the adjustment left by the latest completed break before it; the
//! same holds for its discontinuity count. Both adjustments live in the session's
//! [`BreakRecord`]s, so they survive the break sliding out of the window. Inside a
//! break, ad segment k is numbered from the record's first output number; content
//! shown after the layout (filler) is numbered from the first filler, which the
//! record keeps once seen ([`BreakRecord::filler`]), so fillers keep their numbers
//! after the break's start slid out. A completed break ends where it ended when it
//! completed, whatever a later window's markers say.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::breaks::{AdBreak, BreakStart, DURATION_TOLERANCE};
use crate::hls::model::{
    self, MediaPlaylist, Segment, DISCONTINUITY, DISCONTINUITY_SEQUENCE, EXTINF, KEY, MAP,
    MEDIA_SEQUENCE, PROGRAM_DATE_TIME, TARGET_DURATION,
};
use crate::hls::pdt::{self, UnixMillis};
use crate::hls::{cue, keys, version};

/// Upper bound on layout items for one break (slate loops of tiny segments).
const MAX_ITEMS: usize = 2_000;

/// One segment of an ad (or slate) rendition, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct AdSegment {
    /// Absolute URI (ad origin or ad CDN prefix).
    pub uri: String,
    /// Duration, seconds.
    pub duration: f64,
    /// The `EXTINF` line as the ad playlist wrote it.
    pub extinf: String,
    /// The ad playlist put a discontinuity before this segment.
    pub discontinuity: bool,
    /// Other tag lines to write before it (`EXT-X-MAP`, `EXT-X-KEY`,
    /// `EXT-X-BYTERANGE`), URIs absolute.
    pub lines: Vec<String>,
}

/// One rendition of one ad (or of the slate): its segments in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdRendition {
    /// Segments in order.
    pub segments: Vec<AdSegment>,
}

impl AdRendition {
    /// Total duration, seconds.
    pub fn duration(&self) -> f64 {
        self.segments.iter().map(|s| s.duration).sum()
    }
}

/// What fills one break for one variant.
#[derive(Debug, Clone, Default)]
pub struct BreakFill {
    /// The decided ads, in play order, already fitted to the avail.
    pub ads: Vec<Arc<AdRendition>>,
    /// Slate for the time the ads leave over.
    pub slate: Option<Arc<AdRendition>>,
    /// Avail duration the layout fills, seconds.
    pub planned: f64,
    /// Played before the first ad (only when the break has ads).
    pub bumper_start: Option<Arc<AdRendition>>,
    /// Played after the last ad (only when the break has ads).
    pub bumper_end: Option<Arc<AdRendition>>,
    /// Personalization threshold, seconds: an unfilled remainder longer than this
    /// plays the content instead of slate.
    pub slate_threshold: Option<f64>,
}

/// The session's bookkeeping for one break: what numbering it published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakRecord {
    /// The break id (see `AdBreak::id`).
    pub break_id: String,
    /// Origin media sequence number of the break's first content segment (or of the
    /// segment an insertion precedes).
    pub origin_start_msn: u64,
    /// Personalized media sequence number of the break's first output segment.
    pub out_start_msn: u64,
    /// Discontinuity count in force just before the break's first output segment.
    pub out_cc_before: u64,
    /// Avail duration laid out, seconds.
    pub planned: f64,
    /// A content segment of the break and its offset from the break start, seconds:
    /// lets offsets be computed after the start slid out of the window.
    pub anchor_msn: u64,
    /// See `anchor_msn`.
    pub anchor_offset: f64,
    /// Set once the content after the break has been seen.
    pub done: Option<BreakDone>,
    /// Where the break content its layout leaves uncovered (the "filler") starts,
    /// once seen: the fillers are numbered from it, so they keep their numbers
    /// after it slid out of the window. Set once; the JSON written when the record
    /// is created may lack it (the caller then keeps it beside the record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filler: Option<FillerStart>,
}

/// The first content segment of a break that its layout does not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FillerStart {
    /// Its origin media sequence number.
    pub origin_msn: u64,
    /// Its origin discontinuity count (its own discontinuity included).
    pub origin_cc: u64,
}

/// The numbering a completed break leaves for the content after it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BreakDone {
    /// Origin media sequence number of the first content segment after the break.
    pub origin_end_msn: u64,
    /// Personalized minus origin media sequence number after the break.
    pub msn_adjust: i64,
    /// Personalized minus origin discontinuity count after the break.
    pub cc_adjust: i64,
}

/// Everything one splice needs.
#[derive(Clone, Copy)]
pub struct SpliceInput<'a> {
    /// The origin media playlist, segment URIs already absolute.
    pub playlist: &'a MediaPlaylist,
    /// Its breaks (`hls::cue::find_breaks`, plus an implicit pre-roll for VOD).
    pub breaks: &'a [AdBreak],
    /// What fills each break, by effective break id; a break without one passes
    /// the content through.
    pub fills: &'a HashMap<String, BreakFill>,
    /// The session's records.
    pub records: &'a [BreakRecord],
    /// How to write ad segment URIs; `None`: as they are.
    pub ad_uri: Option<AdUri<'a>>,
}

/// The personalized playlist and the records the caller must store.
#[derive(Debug, Clone, PartialEq)]
pub struct SpliceOutput {
    /// The playlist text.
    pub text: String,
    /// New or changed records.
    pub records: Vec<BreakRecord>,
    /// (media sequence number, duration) of every segment written, in order.
    pub segments: Vec<(u64, f64)>,
    /// (break id, ad index, media sequence number) of each ad whose first segment
    /// was written.
    pub ad_starts: Vec<(String, usize, u64)>,
}

/// The id under which each break's decision and record live: the break's own id
/// when its start is visible, the session's unfinished record for a break whose
/// start slid out of the window, else `None` (the break passes through: the session
/// joined mid-break).
pub fn effective_break_ids(
    pl: &MediaPlaylist,
    breaks: &[AdBreak],
    records: &[BreakRecord],
) -> Vec<Option<String>> {
    let first_msn = pl.segments.first().map_or(pl.media_sequence, |s| s.msn);
    breaks
        .iter()
        .map(|b| match b.start {
            BreakStart::At(_) => Some(b.id.clone()),
            BreakStart::BeforeWindow => records
                .iter()
                .filter(|r| r.origin_start_msn < first_msn)
                .filter(|r| r.done.is_none_or(|d| d.origin_end_msn > first_msn))
                .max_by_key(|r| r.origin_start_msn)
                .map(|r| r.break_id.clone()),
        })
        .collect()
}

/// Where the first of `segments` (media sequence number, duration) starts, given
/// that segment `anchor.0` starts at `anchor.1` (seconds on any timeline): exact
/// when the anchor is among them (`true`), else estimated from their mean
/// duration. With no segments, `if_none` gives (first msn, mean duration). Pure.
pub fn first_position(
    segments: impl IntoIterator<Item = (u64, f64)>,
    anchor: (u64, f64),
    if_none: (u64, f64),
) -> (f64, bool) {
    let (mut total, mut count, mut first) = (0.0, 0usize, None);
    for (msn, d) in segments {
        if msn == anchor.0 {
            return (anchor.1 - total, true);
        }
        first.get_or_insert(msn);
        total += d;
        count += 1;
    }
    let mean = if count == 0 {
        if_none.1
    } else {
        total / count as f64
    };
    let first = first.unwrap_or(if_none.0);
    (
        anchor.1 + first.saturating_sub(anchor.0) as f64 * mean,
        false,
    )
}

/// The break the session is inside of when the window carries no marker of it
/// (its OUT slid out, its IN has not come, the origin sends no CONT): rebuilt from
/// the session's unfinished record, ending where its planned duration does.
/// `None` when the window marks a break at its start or no record is open.
pub fn unmarked_break(
    pl: &MediaPlaylist,
    breaks: &[AdBreak],
    records: &[BreakRecord],
) -> Option<AdBreak> {
    let first = pl.segments.first()?;
    if breaks
        .iter()
        .any(|b| b.start == BreakStart::BeforeWindow || b.start == BreakStart::At(0))
    {
        return None;
    }
    let r = records
        .iter()
        .filter(|r| r.done.is_none() && r.origin_start_msn < first.msn)
        .max_by_key(|r| r.origin_start_msn)?;
    let (offset0, _) = first_position(
        pl.segments.iter().map(|s| (s.msn, s.duration)),
        (r.anchor_msn, r.anchor_offset),
        (first.msn, pl.target_duration as f64),
    );
    let mut t = offset0;
    let mut end = None;
    for (j, s) in pl.segments.iter().enumerate() {
        if t >= r.planned - DURATION_TOLERANCE {
            end = Some(j);
            break;
        }
        if breaks.iter().any(|b| b.start == BreakStart::At(j)) {
            end = Some(j);
            break;
        }
        t += s.duration;
    }
    Some(AdBreak {
        id: format!("open-{}", first.msn),
        start: BreakStart::BeforeWindow,
        end,
        duration: Some(r.planned),
        insert: false,
        elapsed_at_window_start: Some(offset0),
        vars: Default::default(),
        dialect: crate::breaks::Dialect::Implicit,
    })
}

struct Item<'a> {
    seg: &'a AdSegment,
    /// The segments of its rendition before it.
    before: &'a [AdSegment],
    end: f64,
    discontinuity: bool,
    /// (ad index, segment index, segment count) for ads; `None` for slate.
    pos: Option<(usize, usize, usize)>,
}

/// Where an ad segment sits, for callers that route ad segments through
/// themselves (server-side reporting).
#[derive(Debug, Clone, Copy)]
pub struct AdRef<'a> {
    /// The break's effective id.
    pub break_id: &'a str,
    /// Index of the ad in the break's pod.
    pub ad: usize,
    /// Index of the segment in the ad.
    pub index: usize,
    /// Segments in the ad.
    pub count: usize,
    /// The segment.
    pub segment: &'a AdSegment,
}

/// Writes the URI of an ad segment (default: the segment's own URI).
pub type AdUri<'a> = &'a (dyn Fn(&AdRef<'_>) -> String + Sync);

/// The break's items in play order: start bumper, ads, end bumper (bumpers only
/// around ads), then slate up to the avail unless the remainder is above the
/// personalization threshold.
fn layout(fill: &BreakFill, insert: bool) -> Vec<Item<'_>> {
    let mut items: Vec<Item<'_>> = Vec::new();
    let mut t = 0.0;
    let has_ads = fill.ads.iter().any(|a| !a.segments.is_empty());
    fn place<'a>(items: &mut Vec<Item<'a>>, t: &mut f64, r: &'a AdRendition, ad: Option<usize>) {
        let count = r.segments.len();
        for (j, seg) in r.segments.iter().enumerate() {
            *t += seg.duration;
            items.push(Item {
                seg,
                before: &r.segments[..j],
                end: *t,
                discontinuity: j == 0 || seg.discontinuity,
                pos: ad.map(|a| (a, j, count)),
            });
        }
    }
    if has_ads {
        if let Some(b) = &fill.bumper_start {
            place(&mut items, &mut t, b, None);
        }
    }
    for (a, ad) in fill.ads.iter().enumerate() {
        place(&mut items, &mut t, ad, Some(a));
    }
    if has_ads {
        if let Some(b) = &fill.bumper_end {
            place(&mut items, &mut t, b, None);
        }
    }
    if insert {
        return items;
    }
    let remainder = fill.planned - t;
    if fill.slate_threshold.is_some_and(|th| remainder > th) {
        // Above the personalization threshold the content plays, not slate.
        return items;
    }
    if let Some(slate) = &fill.slate {
        'fill: loop {
            let mut added = false;
            for (j, seg) in slate.segments.iter().enumerate() {
                if seg.duration <= 0.0
                    || t + seg.duration > fill.planned + DURATION_TOLERANCE
                    || items.len() >= MAX_ITEMS
                {
                    break 'fill;
                }
                t += seg.duration;
                items.push(Item {
                    seg,
                    before: &slate.segments[..j],
                    end: t,
                    discontinuity: j == 0 || seg.discontinuity,
                    pos: None,
                });
                added = true;
            }
            if !added {
                break;
            }
        }
    }
    items
}

enum Entry<'a> {
    /// An ad (or slate) segment, with its discontinuity, place in its pod and the
    /// segments of its rendition before it.
    Ad(
        &'a AdSegment,
        bool,
        Option<(usize, usize, usize)>,
        &'a [AdSegment],
    ),
    /// A content segment inside a break (filler), with forced discontinuity.
    Filler(&'a Segment, bool),
}

/// Splice the ads into the playlist. See the module docs for the rules.
pub fn splice_media(input: SpliceInput<'_>) -> SpliceOutput {
    let pl = input.playlist;
    let segs = &pl.segments;
    let n = segs.len();
    let first_msn = segs.first().map_or(pl.media_sequence, |s| s.msn);
    let ids = effective_break_ids(pl, input.breaks, input.records);
    let records: HashMap<&str, &BreakRecord> = input
        .records
        .iter()
        .map(|r| (r.break_id.as_str(), r))
        .collect();
    // Content segments that follow a completed break carry a discontinuity of ours.
    let resume_msns: Vec<u64> = input
        .records
        .iter()
        .filter_map(|r| r.done.map(|d| d.origin_end_msn))
        .collect();

    let (mut msn_adj, mut cc_adj) = input
        .records
        .iter()
        .filter_map(|r| r.done)
        .filter(|d| d.origin_end_msn <= first_msn)
        .max_by_key(|d| d.origin_end_msn)
        .map_or((0i64, 0i64), |d| (d.msn_adjust, d.cc_adjust));

    let mut body = String::with_capacity(n * 128 + 256);
    // The EXT-X-VERSION that the ad lines written need.
    let iframes_only = pl.header.iter().any(|l| l.trim() == "#EXT-X-I-FRAMES-ONLY");
    let mut added_need = 1;
    let mut first: Option<(u64, u64, bool)> = None; // (msn, cc, has discontinuity)
    let mut max_duration: f64 = 0.0;
    let mut updates: Vec<BreakRecord> = Vec::new();
    let mut after_ad = false; // the previous written segment was an ad or slate
    let mut resume_forced: Option<u64> = None;
    let mut written: Vec<(u64, f64)> = Vec::with_capacity(n + 16);
    let mut ad_starts: Vec<(String, usize, u64)> = Vec::new();
    // The content's wall clock per segment, when it has EXT-X-PROGRAM-DATE-TIME.
    let clock = pdt::segment_clock(pl);
    // An ad key (not the content's) is in force: the content must declare its own,
    // or METHOD=NONE, when it resumes.
    let mut ad_key = false;

    let mut breaks: Vec<(usize, &AdBreak, Option<&String>)> = input
        .breaks
        .iter()
        .zip(ids.iter())
        .map(|(b, id)| {
            let at = match b.start {
                BreakStart::At(i) => i,
                BreakStart::BeforeWindow => 0,
            };
            (at, b, id.as_ref())
        })
        .collect();
    breaks.sort_by_key(|(at, b, _)| (*at, !b.insert));
    let mut next_break = 0;

    let mut i = 0;
    loop {
        // Breaks starting here (insertions first, then at most one replacing break).
        let mut consumed_to = None;
        // Breaks that start inside one already laid out (overlaps) are skipped.
        while next_break < breaks.len() && breaks[next_break].0 < i {
            next_break += 1;
        }
        while next_break < breaks.len() && breaks[next_break].0 == i {
            let (at, b, id) = breaks[next_break];
            next_break += 1;
            let Some(id) = id else { continue };
            let Some(fill) = input.fills.get(id.as_str()) else {
                continue;
            };
            let items = layout(fill, b.insert);
            if items.is_empty() {
                continue;
            }
            // The record: existing, or new when the break's start is visible.
            let existing = records.get(id.as_str()).copied();
            let mut rec = match (existing, b.start) {
                (Some(r), _) => r.clone(),
                (None, BreakStart::At(_)) => {
                    let (origin_cc_before, msn) = match segs.get(at) {
                        Some(s) => (s.cc - u64::from(s.discontinuity), s.msn),
                        None => (
                            segs.last().map_or(pl.discontinuity_sequence, |s| s.cc),
                            first_msn + n as u64,
                        ),
                    };
                    BreakRecord {
                        break_id: id.clone(),
                        origin_start_msn: msn,
                        out_start_msn: add(msn, msn_adj),
                        out_cc_before: add(origin_cc_before, cc_adj),
                        planned: fill.planned,
                        anchor_msn: msn,
                        anchor_offset: 0.0,
                        done: None,
                        filler: None,
                    }
                }
                (None, BreakStart::BeforeWindow) => continue,
            };
            let before = rec.clone();
            // A completed break ends where it ended when it completed, whatever
            // a later window's markers say (a break that outlasts its announced
            // duration ends at that duration while its CUE-OUT is visible, at its
            // CUE-IN once the CUE-OUT slid out).
            let end_idx = match (b.insert, rec.done) {
                (true, _) => at,
                (false, Some(d)) => segs.partition_point(|s| s.msn < d.origin_end_msn).max(at),
                (false, None) => b.end.unwrap_or(n).min(n),
            };
            let content = &segs[at.min(n)..end_idx.max(at).min(n)];

            // Offsets of the visible break content from the break start.
            let off0 = match b.start {
                BreakStart::At(_) => 0.0,
                BreakStart::BeforeWindow => {
                    let (estimate, exact) = first_position(
                        content.iter().map(|s| (s.msn, s.duration)),
                        (rec.anchor_msn, rec.anchor_offset),
                        (first_msn, pl.target_duration as f64),
                    );
                    match (exact, b.elapsed_at_window_start) {
                        (false, Some(e)) => e,
                        _ => estimate,
                    }
                }
            };
            let mut offsets = Vec::with_capacity(content.len());
            let mut t = off0;
            for s in content {
                offsets.push(t);
                t += s.duration;
            }
            let available = if b.insert { f64::INFINITY } else { t };
            if let (Some(last), Some(&off)) = (content.last(), offsets.last()) {
                if last.msn > rec.anchor_msn {
                    rec.anchor_msn = last.msn;
                    rec.anchor_offset = off;
                }
            }

            // The first filler: recorded once seen, so that the fillers keep
            // their numbers after it slid out of the window.
            let layout_end = items.last().map_or(0.0, |it| it.end);
            if !b.insert && rec.filler.is_none() {
                rec.filler = content
                    .iter()
                    .zip(&offsets)
                    .find(|(s, off)| *off + s.duration > layout_end + DURATION_TOLERANCE)
                    .map(|(s, _)| FillerStart {
                        origin_msn: s.msn,
                        origin_cc: s.cc,
                    });
            }
            let fillers: &[Segment] = match rec.filler {
                Some(f) if !b.insert => {
                    &content[content.partition_point(|s| s.msn < f.origin_msn)..]
                }
                _ => &[],
            };
            // Each entry with its end offset, media sequence number and the
            // discontinuity count in force at it. Fillers follow the whole layout.
            let shown = if fillers.is_empty() {
                items
                    .iter()
                    .take_while(|it| it.end <= available + DURATION_TOLERANCE)
                    .count()
            } else {
                items.len()
            };
            let mut entries: Vec<(Entry, f64, u64, u64)> =
                Vec::with_capacity(shown + fillers.len());
            let mut cc = rec.out_cc_before;
            for (k, it) in items[..shown].iter().enumerate() {
                cc += u64::from(it.discontinuity);
                entries.push((
                    Entry::Ad(it.seg, it.discontinuity, it.pos, it.before),
                    it.end,
                    rec.out_start_msn + k as u64,
                    cc,
                ));
            }
            if let Some(f) = rec.filler.filter(|_| !fillers.is_empty()) {
                let (msn0, cc0) = (rec.out_start_msn + items.len() as u64, cc + 1);
                let from = content.len() - fillers.len();
                for (s, off) in fillers.iter().zip(&offsets[from..]) {
                    let disc = s.msn == f.origin_msn || s.discontinuity;
                    entries.push((
                        Entry::Filler(s, disc),
                        off + s.duration,
                        msn0 + (s.msn - f.origin_msn),
                        cc0 + s.cc.saturating_sub(f.origin_cc),
                    ));
                }
            }

            // Write the entries inside the window: from the first visible filler
            // when the window starts with one (entries before it slid out),
            // else by their end offsets.
            let visible_msn = match (fillers.first(), content.first()) {
                (Some(f), Some(c)) if f.msn == c.msn && b.start == BreakStart::BeforeWindow => {
                    entries
                        .iter()
                        .find(|e| matches!(e.0, Entry::Filler(..)))
                        .map(|e| e.2)
                }
                _ => None,
            };
            let visible_from = if matches!(b.start, BreakStart::At(_)) {
                f64::NEG_INFINITY
            } else {
                off0 + DURATION_TOLERANCE
            };
            // Whether what is written before the break leaves the segments in
            // the clear: no content key in force after the segment before it (the
            // replaced segments' own key lines are not written).
            let mut clear = at == 0 || keys::keys_in_force(pl, at.min(n) - 1).is_empty();
            // An entry of this break was written (the ones before may be hidden).
            let mut wrote_any = false;
            // The break's wall clock (replacing breaks): the replaced content's.
            let break_clock: Option<UnixMillis> = match &clock {
                Some(c) if !b.insert => content.iter().zip(&offsets).find_map(|(s, off)| {
                    let t = c.get((s.msn - first_msn) as usize).copied().flatten()?;
                    Some(t.plus_secs(-off))
                }),
                _ => None,
            };
            // Unknown tags of replaced content pass through, before the first entry.
            let mut carried: Vec<&str> = content
                .iter()
                .flat_map(|s| s.lines.iter())
                .map(String::as_str)
                .filter(|l| carry_over(l))
                .collect();
            for &(ref entry, end, msn, cc) in &entries {
                let disc = match entry {
                    Entry::Ad(_, d, _, _) | Entry::Filler(_, d) => *d,
                };
                let hidden = match visible_msn {
                    Some(v) => msn < v,
                    None => end <= visible_from,
                };
                if hidden {
                    continue;
                }
                if first.is_none() {
                    first = Some((msn, cc, disc));
                }
                for l in carried.drain(..) {
                    model::push_line(&mut body, l);
                }
                match entry {
                    Entry::Ad(seg, _, pos, before) => {
                        written.push((msn, seg.duration));
                        if let Some((ad, 0, _)) = pos {
                            ad_starts.push((id.clone(), *ad, msn));
                        }
                        if disc {
                            model::push_line(&mut body, DISCONTINUITY);
                        }
                        // Shown from inside a rendition (its first segments
                        // slid out of the window): the key and map its segments
                        // were declared under come first.
                        let inherited: Vec<&str> = if wrote_any || disc {
                            Vec::new()
                        } else {
                            [KEY, MAP]
                                .into_iter()
                                .filter(|t| !seg.lines.iter().any(|l| l.starts_with(t)))
                                .filter_map(|t| {
                                    before.iter().rev().find_map(|s| {
                                        s.lines.iter().rev().find(|l| l.starts_with(t))
                                    })
                                })
                                .map(String::as_str)
                                .collect()
                        };
                        wrote_any = true;
                        let own = || {
                            inherited
                                .iter()
                                .copied()
                                .chain(seg.lines.iter().map(String::as_str))
                        };
                        // Each rendition starts with its own key, or in the clear.
                        if own().any(|l| l.starts_with(KEY)) {
                            clear = own()
                                .filter(|l| l.starts_with(KEY))
                                .all(keys::is_method_none);
                            ad_key = true;
                        } else if disc && !clear {
                            model::push_line(&mut body, "#EXT-X-KEY:METHOD=NONE");
                            clear = true;
                        }
                        for l in own() {
                            model::push_line(&mut body, l);
                            if let Some((v, _)) = version::line_need(l, iframes_only) {
                                added_need = added_need.max(v);
                            }
                        }
                        // Ad time on the clock of the content it replaces.
                        if let Some(t0) = break_clock {
                            if !seg.lines.iter().any(|l| l.starts_with(PROGRAM_DATE_TIME)) {
                                let line = pdt::pdt_line(t0.plus_secs(end - seg.duration));
                                model::push_line(&mut body, &line);
                            }
                        }
                        model::push_line(&mut body, &seg.extinf);
                        if let Some((v, _)) = version::line_need(&seg.extinf, iframes_only) {
                            added_need = added_need.max(v);
                        }
                        match (input.ad_uri, pos) {
                            (Some(f), Some((ad, index, count))) => {
                                let uri = f(&AdRef {
                                    break_id: id,
                                    ad: *ad,
                                    index: *index,
                                    count: *count,
                                    segment: seg,
                                });
                                model::push_line(&mut body, &uri);
                            }
                            _ => model::push_line(&mut body, &seg.uri),
                        }
                        max_duration = max_duration.max(seg.duration);
                        after_ad = true;
                    }
                    Entry::Filler(s, _) => {
                        wrote_any = true;
                        written.push((msn, s.duration));
                        let resume = Resume {
                            after_ad,
                            ad_key,
                            clock: clock.as_deref(),
                        };
                        write_content(&mut body, pl, s, disc, resume, true);
                        max_duration = max_duration.max(s.duration);
                        after_ad = false;
                        ad_key = false;
                    }
                }
            }
            for l in carried.drain(..) {
                model::push_line(&mut body, l);
            }

            // Completion: the content after the break is visible (or never will be).
            let resumes_visible = end_idx < n;
            let finished = b.end.is_some() && (resumes_visible || pl.ended || b.insert);
            if finished && rec.done.is_none() {
                let (origin_end_msn, origin_cc_resume) = match segs.get(end_idx) {
                    Some(r) => (r.msn, r.cc),
                    None => (
                        first_msn + n as u64,
                        segs.last().map_or(pl.discontinuity_sequence, |s| s.cc),
                    ),
                };
                let (out_end_msn, cc) = entries
                    .last()
                    .map_or((rec.out_start_msn, rec.out_cc_before), |e| (e.2 + 1, e.3));
                rec.done = Some(BreakDone {
                    origin_end_msn,
                    msn_adjust: out_end_msn as i64 - origin_end_msn as i64,
                    cc_adjust: (cc + 1) as i64 - origin_cc_resume as i64,
                });
            }
            if let Some(d) = rec.done {
                msn_adj = d.msn_adjust;
                cc_adj = d.cc_adjust;
                resume_forced = Some(d.origin_end_msn);
            }
            if rec != before || existing.is_none() {
                updates.push(rec);
            }
            if !b.insert {
                consumed_to = Some(end_idx);
            }
        }
        if let Some(to) = consumed_to {
            i = to;
            if i >= n {
                // Trailing insertions (post-roll) at n are handled on the next pass.
                if i == n && next_break < breaks.len() && breaks[next_break].0 == n {
                    continue;
                }
                break;
            }
            continue;
        }
        let Some(s) = segs.get(i) else { break };
        let forced = resume_forced == Some(s.msn) || resume_msns.contains(&s.msn);
        let msn = add(s.msn, msn_adj);
        let cc = add(s.cc, cc_adj);
        if first.is_none() {
            first = Some((msn, cc, s.discontinuity || forced));
        }
        let resume = Resume {
            after_ad,
            ad_key,
            clock: clock.as_deref(),
        };
        write_content(&mut body, pl, s, forced, resume, forced);
        written.push((msn, s.duration));
        max_duration = max_duration.max(s.duration);
        after_ad = false;
        ad_key = false;
        i += 1;
    }

    for l in &pl.trailer {
        // LL-HLS: parts of a segment still being made after an ad are content
        // the ad replaces (or content that would follow it without its
        // DISCONTINUITY): the whole segment comes on a later refresh.
        let part_after_ad =
            after_ad && (l.starts_with("#EXT-X-PART:") || l.starts_with("#EXT-X-PRELOAD-HINT:"));
        if !cue::is_cue_line(l) && !part_after_ad {
            model::push_line(&mut body, l);
        }
    }

    let (first_msn_out, first_cc, first_disc) = first.unwrap_or((
        add(pl.media_sequence, msn_adj),
        add(pl.discontinuity_sequence, cc_adj),
        false,
    ));
    let dseq = first_cc - u64::from(first_disc && first_cc > 0);
    let target = (pl.target_duration as f64).max(max_duration.round()) as u64;
    let mut text = String::with_capacity(body.len() + 256);
    write_header(&mut text, pl, first_msn_out, dseq, target);
    text.push_str(&body);
    SpliceOutput {
        // Ad segments may need a higher EXT-X-VERSION than the content's tags
        // did; only then is the text read again to raise it.
        text: if added_need > pl.version_need {
            version::raise_version(text)
        } else {
            text
        },
        records: updates,
        segments: written,
        ad_starts,
    }
}

fn add(v: u64, adj: i64) -> u64 {
    v.saturating_add_signed(adj)
}

/// Lines of a replaced content segment that belong to the segment itself (or are
/// markers we consumed); everything else is carried over.
fn carry_over(line: &str) -> bool {
    const OWN: &[&str] = &[
        EXTINF,
        DISCONTINUITY,
        PROGRAM_DATE_TIME,
        KEY,
        MAP,
        "#EXT-X-BYTERANGE",
        "#EXT-X-GAP",
        "#EXT-X-BITRATE",
        "#EXT-X-PART:",
        "#EXT-OATCLS-SCTE35",
    ];
    !line.trim().is_empty() && !cue::is_cue_line(line) && !OWN.iter().any(|t| line.starts_with(t))
}

/// What a content segment written after ads must re-establish.
#[derive(Clone, Copy)]
struct Resume<'a> {
    /// The previous segment written was an ad or slate.
    after_ad: bool,
    /// An ad's own key is in force.
    ad_key: bool,
    /// The content's wall clock per segment.
    clock: Option<&'a [Option<UnixMillis>]>,
}

fn write_content(
    out: &mut String,
    pl: &MediaPlaylist,
    s: &Segment,
    forced_discontinuity: bool,
    resume: Resume<'_>,
    drop_markers: bool,
) {
    if forced_discontinuity && !s.discontinuity {
        model::push_line(out, DISCONTINUITY);
    }
    let index = pl
        .segments
        .first()
        .map_or(0, |f| s.msn.saturating_sub(f.msn) as usize);
    if resume.after_ad {
        // Re-establish the content's keys (every KEYFORMAT in force, or the clear
        // after an ad's own key) and map after ad segments.
        if !s.lines.iter().any(|l| l.starts_with(KEY)) {
            let keys = keys::keys_in_force(pl, index);
            if keys.is_empty() && resume.ad_key {
                model::push_line(out, "#EXT-X-KEY:METHOD=NONE");
            }
            for k in keys {
                model::push_line(out, k);
            }
        }
        if let Some(line) = pl.sticky_line(s.map) {
            if !s.lines.iter().any(|l| l.starts_with(MAP)) {
                model::push_line(out, line);
            }
        }
    }
    // The content's own clock resumes after ads (and at a forced discontinuity).
    if (resume.after_ad || forced_discontinuity) && !s.has_pdt {
        if let Some(t) = resume.clock.and_then(|c| c.get(index).copied().flatten()) {
            model::push_line(out, &pdt::pdt_line(t));
        }
    }
    for l in &s.lines {
        if drop_markers && cue::is_cue_line(l) {
            continue;
        }
        model::push_line(out, l);
    }
    model::push_line(out, &s.uri);
}

fn write_header(out: &mut String, pl: &MediaPlaylist, msn: u64, dseq: u64, target: u64) {
    let mut wrote_msn = false;
    let mut wrote_dseq = false;
    for l in &pl.header {
        if l.starts_with(MEDIA_SEQUENCE) {
            let _ = writeln!(out, "{MEDIA_SEQUENCE}{msn}");
            wrote_msn = true;
            if !wrote_dseq
                && dseq > 0
                && !pl
                    .header
                    .iter()
                    .any(|h| h.starts_with(DISCONTINUITY_SEQUENCE))
            {
                let _ = writeln!(out, "{DISCONTINUITY_SEQUENCE}{dseq}");
                wrote_dseq = true;
            }
        } else if l.starts_with(DISCONTINUITY_SEQUENCE) {
            let _ = writeln!(out, "{DISCONTINUITY_SEQUENCE}{dseq}");
            wrote_dseq = true;
        } else if l.starts_with(TARGET_DURATION) && target > pl.target_duration {
            let _ = writeln!(out, "{TARGET_DURATION}{target}");
        } else {
            model::push_line(out, l);
        }
    }
    if !wrote_msn && msn > 0 {
        let _ = writeln!(out, "{MEDIA_SEQUENCE}{msn}");
    }
    if !wrote_dseq && dseq > 0 {
        let _ = writeln!(out, "{DISCONTINUITY_SEQUENCE}{dseq}");
    }
}

#[cfg(test)]
mod tests;
