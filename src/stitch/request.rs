//! The per-request plan: what one session's manifest request decides, given the
//! parsed origin manifest, its breaks, the session's [`Snapshot`], the
//! configuration and the clock.
//!
//! Pure. A request runs in three steps (DESIGN.md, "one read, a pure plan, one
//! write"):
//! 1. [`plan_hls`] / [`plan_dash`] lay out the breaks this session sees (the VOD
//!    implicit pre-roll, a break the window no longer marks, the live pre-roll)
//!    and the avail of each, and say which decisions are missing and which of
//!    those avail suppression settles;
//! 2. the caller makes the missing decisions and resolves the ad renditions (I/O);
//! 3. [`write_hls`] / [`write_dash`] splice and serialize, and return the state
//!    changes to store (nothing in a steady-state refresh).
//!
//! HLS and DASH share the avail rules ([`avail_need`], [`suppressed`]); only the
//! break layouts and the writers differ.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::breaks::{overlaps_msns, AdBreak, BreakStart, Dialect, DURATION_TOLERANCE};
use crate::config::{AvailSuppression, FillPolicy, PlaybackConfig, SuppressionMode};
use crate::dash::{self, mpd, DashAd, DashBreak, DashFill, Document, MpdContext};
use crate::hls::MediaPlaylist;
use crate::session::id::hex;
use crate::session::store::{Changes, Decision, Session, Snapshot};
use crate::session::{ReportingMode, SessionId};

use super::plan::{
    effective_break_ids, first_position, splice_media, unmarked_break, AdUri, BreakFill,
    BreakRecord, FillerStart, SpliceInput,
};

/// Session value: the player timeline anchor, `"{msn}:{seconds}"`.
pub const TIMELINE: &str = "timeline";
/// Session value: origin media sequence number where the HLS live pre-roll starts.
pub const HLS_PREROLL_AT: &str = "preroll-msn";
/// Session value: presentation time where the DASH live pre-roll starts, seconds.
pub const DASH_PREROLL_AT: &str = "dash-preroll-at";
/// Session value prefix: where each ad starts in the player timeline,
/// `adstart/{hex break id}/{ad index}` = seconds.
pub const AD_START: &str = "adstart/";
/// Session value prefix: where a break's filler starts (see
/// [`BreakRecord::filler`]), `filler/{hex break id}` = `"{origin msn} {origin cc}"`.
/// Kept beside the record, whose first JSON stands as written.
pub const FILLER: &str = "filler/";
/// Session value prefix: a server-side beacon claimed once,
/// `beacon/{break id}/{ad index}/{event}`.
pub const BEACON: &str = "beacon/";
/// Session value: how many completed breaks the session has forgotten (see
/// [`crate::session::store::merge_records`]); a break's index counts them.
pub const FORGOTTEN: &str = "forgotten";
/// Break id of the live pre-roll.
pub const LIVE_PREROLL: &str = "live-preroll";
/// `Decision::failure` of a break left unfilled by avail suppression.
pub const SUPPRESSED: &str = "suppressed";
/// Where a player joins a live MPD when it gives no `suggestedPresentationDelay`,
/// seconds behind the live edge.
const DEFAULT_PRESENTATION_DELAY: f64 = 6.0;

/// The session value key of an ad's start position.
pub fn ad_start_key(break_id: &str, ad: usize) -> String {
    format!("{AD_START}{}/{ad}", hex(break_id.as_bytes()))
}

/// The session value key of a break's filler start.
pub fn filler_key(break_id: &str) -> String {
    format!("{FILLER}{}", hex(break_id.as_bytes()))
}

/// The session value key of a server-side beacon claim.
pub fn beacon_key(break_id: &str, ad: usize, event: &str) -> String {
    format!("{BEACON}{break_id}/{ad}/{event}")
}

/// The prefixes of every session value that belongs to one break: its ads'
/// start positions, its filler start, its beacon claims. Forgetting the break
/// drops them.
pub fn break_value_prefixes(break_id: &str) -> [String; 3] {
    let hex = hex(break_id.as_bytes());
    [
        format!("{AD_START}{hex}/"),
        format!("{FILLER}{hex}"),
        format!("{BEACON}{break_id}/"),
    ]
}

/// The session's records with the filler starts kept beside them; borrowed when
/// none is missing from its record.
fn records_with_fillers(snap: &Snapshot) -> std::borrow::Cow<'_, [BreakRecord]> {
    let stored = |r: &BreakRecord| {
        let v = snap.values.get(&filler_key(&r.break_id))?;
        let (msn, cc) = v.split_once(' ')?;
        Some(FillerStart {
            origin_msn: msn.parse().ok()?,
            origin_cc: cc.parse().ok()?,
        })
    };
    if !snap
        .records
        .iter()
        .any(|r| r.filler.is_none() && stored(r).is_some())
    {
        return std::borrow::Cow::Borrowed(&snap.records);
    }
    std::borrow::Cow::Owned(
        snap.records
            .iter()
            .map(|r| BreakRecord {
                filler: r.filler.or_else(|| stored(r)),
                ..r.clone()
            })
            .collect(),
    )
}

/// What a break still needs before it can be written.
#[derive(Debug, Clone, PartialEq)]
pub enum Need {
    /// Its decision stands.
    Decided(Arc<Decision>),
    /// No decision yet, and avail suppression leaves it unfilled: store
    /// [`suppressed_decision`].
    Suppress,
    /// No decision yet: ask the ADS.
    Ask,
}

/// One break to fill, as the plan sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedAvail {
    /// The id its decision and record live under.
    pub break_id: String,
    /// Avail duration, seconds.
    pub planned: f64,
    /// Its 1-based position among the session's breaks (`[avail.index]`).
    pub index: u32,
    /// `[scte.*]` values of its marker.
    pub vars: BTreeMap<String, String>,
    /// Its decision, or what to do to get one.
    pub need: Need,
}

impl PlannedAvail {
    /// The decision, once made.
    pub fn decision(&self) -> Option<&Arc<Decision>> {
        match &self.need {
            Need::Decided(d) => Some(d),
            _ => None,
        }
    }
}

/// The breaks of one HLS media playlist request.
#[derive(Debug, Clone)]
pub struct HlsPlan {
    /// The breaks to splice: the origin's, with those of the session added.
    pub breaks: Vec<AdBreak>,
    /// The avails to fill, in playlist order.
    pub avails: Vec<PlannedAvail>,
    /// A session value the output depends on that is not stored yet (the live
    /// pre-roll's join point): store it (first writer wins) and plan again with
    /// the value that stands, before writing.
    pub claim: Option<(String, String)>,
}

/// The breaks of one DASH MPD request.
#[derive(Debug, Clone)]
pub struct DashPlan {
    /// The breaks to splice.
    pub breaks: Vec<DashBreak>,
    /// The avails to fill, one per break.
    pub avails: Vec<PlannedAvail>,
    /// As [`HlsPlan::claim`].
    pub claim: Option<(String, String)>,
    /// Decided breaks the session can forget ([`dash_forget`]).
    pub forget: Vec<String>,
}

/// A request's output and the state changes to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The manifest text.
    pub text: String,
    /// What to write to the session store (empty: nothing).
    pub changes: Changes,
}

/// The decision stored for a suppressed break.
pub fn suppressed_decision(planned: f64) -> Decision {
    Decision {
        ads: Vec::new(),
        avail_duration: planned,
        failure: Some(SUPPRESSED.to_string()),
    }
}

/// Whether avail suppression leaves a break the session sees for the first time
/// unfilled. `behind`: how far its start lies behind the live edge, seconds
/// (`None`: unknown); `running`: it has not ended yet.
pub fn suppressed(
    rule: AvailSuppression,
    behind: Option<f64>,
    running: bool,
    session: &Session,
    now_unix: u64,
) -> bool {
    match rule.mode {
        SuppressionMode::Off => false,
        SuppressionMode::BehindLiveEdge => behind.is_some_and(|behind| {
            behind > rule.value_secs && !(running && rule.fill_policy == FillPolicy::PartialAvail)
        }),
        SuppressionMode::AfterLiveEdge => {
            (now_unix.saturating_sub(session.created_unix) as f64) < rule.value_secs
        }
    }
}

/// What a break needs: its decision if one stands; else suppression (for a
/// live break seen for the first time, `first_sight`) or the ADS.
pub fn avail_need(
    snap: &Snapshot,
    config: &PlaybackConfig,
    break_id: &str,
    first_sight: Option<(Option<f64>, bool)>,
    now_unix: u64,
) -> Need {
    if let Some(d) = snap.decisions.get(break_id) {
        return Need::Decided(d.clone());
    }
    let rule = snap.session.suppression.unwrap_or(config.avail_suppression);
    match first_sight {
        Some((behind, running))
            if break_id != LIVE_PREROLL
                && suppressed(rule, behind, running, &snap.session, now_unix) =>
        {
            Need::Suppress
        }
        _ => Need::Ask,
    }
}

// === HLS ===

/// The break of a VOD asset without markers: one pre-roll, inserted before the
/// first segment (stitched and guided sessions alike).
pub fn vod_preroll() -> AdBreak {
    AdBreak {
        id: "preroll".into(),
        start: BreakStart::At(0),
        end: Some(0),
        duration: None,
        insert: true,
        elapsed_at_window_start: None,
        vars: BTreeMap::new(),
        dialect: Dialect::Implicit,
    }
}

/// Plan an HLS media playlist request: the session's breaks and their avails.
pub fn plan_hls(
    pl: &MediaPlaylist,
    origin_breaks: &[AdBreak],
    snap: &Snapshot,
    config: &PlaybackConfig,
    now_unix: u64,
) -> HlsPlan {
    let live = !pl.ended;
    let no_records = [];
    let records = if live { &snap.records[..] } else { &no_records };
    let mut breaks: Vec<AdBreak> = if !live && origin_breaks.is_empty() {
        vec![vod_preroll()]
    } else {
        origin_breaks.to_vec()
    };
    // A break the session is inside of that the window no longer marks.
    if live {
        if let Some(b) = unmarked_break(pl, &breaks, records) {
            breaks.insert(0, b);
        }
    }
    // Live pre-roll: a break of its own where the session started. It wins over
    // a signalled break it overlaps (one the session has not filled yet), which
    // then plays as content, as a break joined mid-way does: otherwise segments
    // already published as pre-roll would change when that break's start shows.
    let (pre, claim) = hls_live_preroll(pl, snap, config, records);
    if let Some((pre, span)) = pre {
        // A break whose start slid out of the window (signalled only by
        // CUE-OUT-CONT, or rebuilt from a record by unmarked_break) is matched
        // to the session's unfinished record: matched to the pre-roll's, it is
        // the pre-roll itself, placed here once.
        let ids = effective_break_ids(pl, &breaks, records);
        breaks = std::iter::once(pre)
            .chain(
                breaks
                    .into_iter()
                    .zip(ids)
                    .filter(|(b, id)| {
                        id.as_deref() != Some(LIVE_PREROLL)
                            && (!overlaps_msns(pl, b, span)
                                || records.iter().any(|r| r.break_id == b.id))
                    })
                    .map(|(b, _)| b),
            )
            .collect();
    }
    let ids = effective_break_ids(pl, &breaks, records);
    let mut avails = Vec::with_capacity(breaks.len());
    for (n, (b, id)) in breaks.iter().zip(&ids).enumerate() {
        let Some(id) = id else { continue };
        if live && b.insert {
            continue; // Insertion points only make sense in VOD.
        }
        let record = records.iter().find(|r| &r.break_id == id);
        let planned = record
            .map(|r| r.planned)
            .or(b.duration)
            .unwrap_or(if b.insert {
                config.vod_avail_duration_secs
            } else {
                config.default_avail_duration_secs
            });
        let index = if live {
            let start = record.map_or(u64::MAX, |r| r.origin_start_msn);
            let forgotten: usize = snap
                .values
                .get(FORGOTTEN)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            records
                .iter()
                .filter(|r| r.origin_start_msn < start)
                .count()
                + forgotten
                + 1
        } else {
            n + 1
        };
        let first_sight = (live && record.is_none()).then(|| {
            let behind = match b.start {
                BreakStart::At(i) => Some(
                    pl.segments[i.min(pl.segments.len())..]
                        .iter()
                        .map(|s| s.duration)
                        .sum::<f64>(),
                ),
                BreakStart::BeforeWindow => None,
            };
            (behind, b.end.is_none())
        });
        avails.push(PlannedAvail {
            break_id: id.clone(),
            planned,
            index: index as u32,
            vars: b.vars.clone(),
            need: avail_need(snap, config, id, first_sight, now_unix),
        });
    }
    HlsPlan {
        breaks,
        avails,
        claim,
    }
}

/// The live pre-roll break of this session, when the configuration has one: it
/// starts where the player joins (three segments from the live edge, as players
/// do) on the session's first playlist and lasts `live_preroll_max_duration_secs`.
/// With it, the origin media sequence numbers it covers, `[start, end)` (`end` =
/// `u64::MAX` while its end is not in the window yet). The second value is the
/// join point to store when the session has none yet.
#[allow(clippy::type_complexity)]
fn hls_live_preroll(
    pl: &MediaPlaylist,
    snap: &Snapshot,
    config: &PlaybackConfig,
    records: &[super::BreakRecord],
) -> (Option<(AdBreak, (u64, u64))>, Option<(String, String)>) {
    if config.live_preroll_ads_url.is_none() || pl.ended || pl.segments.is_empty() {
        return (None, None);
    }
    let (start_msn, claim) = match snap.values.get(HLS_PREROLL_AT) {
        Some(v) => (v.parse::<u64>().ok(), None),
        None => {
            let join = pl.segments[pl.segments.len().saturating_sub(3)].msn;
            (None, Some((HLS_PREROLL_AT.to_string(), join.to_string())))
        }
    };
    if claim.is_some() {
        return (None, claim);
    }
    let Some(start_msn) = start_msn else {
        return (None, None);
    };
    let pre = || -> Option<(AdBreak, (u64, u64))> {
        let duration = config.live_preroll_max_duration_secs;
        let record = records.iter().find(|r| r.break_id == LIVE_PREROLL);
        if record
            .and_then(|r| r.done)
            .is_some_and(|d| d.origin_end_msn <= pl.segments[0].msn)
        {
            return None; // Over and out of the window.
        }
        let (start, first_visible, offset0) =
            match pl.segments.iter().position(|s| s.msn == start_msn) {
                Some(i) => (BreakStart::At(i), i, 0.0),
                None if start_msn < pl.segments[0].msn => {
                    let r = record?;
                    let (offset, _) = first_position(
                        pl.segments.iter().map(|s| (s.msn, s.duration)),
                        (r.anchor_msn, r.anchor_offset),
                        (pl.segments[0].msn, pl.target_duration as f64),
                    );
                    (BreakStart::BeforeWindow, 0, offset)
                }
                None => return None,
            };
        let mut t = offset0;
        let mut end = None;
        for (j, s) in pl.segments.iter().enumerate().skip(first_visible) {
            if t >= duration - DURATION_TOLERANCE {
                end = Some(j);
                break;
            }
            t += s.duration;
        }
        let end_msn = record
            .and_then(|r| r.done)
            .map(|d| d.origin_end_msn)
            .or_else(|| end.and_then(|j| pl.segments.get(j)).map(|s| s.msn))
            .unwrap_or(u64::MAX);
        let pre = AdBreak {
            id: LIVE_PREROLL.into(),
            start,
            end,
            duration: Some(duration),
            insert: false,
            elapsed_at_window_start: (start == BreakStart::BeforeWindow).then_some(offset0),
            vars: BTreeMap::new(),
            dialect: Dialect::Implicit,
        };
        Some((pre, (start_msn, end_msn)))
    };
    (pre(), None)
}

/// Splice and serialize an HLS media playlist request, and say what to store:
/// new or changed break records (live), the timeline anchor when it must move,
/// the start of each ad seen for the first time.
pub fn write_hls(
    plan: &HlsPlan,
    pl: &MediaPlaylist,
    snap: &Snapshot,
    fills: &HashMap<String, BreakFill>,
    ad_uri: Option<AdUri<'_>>,
) -> Written {
    let live = !pl.ended;
    let records = if live {
        records_with_fillers(snap)
    } else {
        std::borrow::Cow::Borrowed(&[][..])
    };
    let out = splice_media(SpliceInput {
        playlist: pl,
        breaks: &plan.breaks,
        fills,
        records: &records,
        ad_uri,
    });
    let mut changes = Changes::default();
    if live {
        for r in &out.records {
            if let Some(f) = r.filler {
                let key = filler_key(&r.break_id);
                if !snap.values.contains_key(&key) {
                    changes
                        .once
                        .push((key, format!("{} {}", f.origin_msn, f.origin_cc)));
                }
            }
        }
        changes.forget_before = forget_before(pl, snap.records.iter().chain(&out.records));
        changes.records = out.records;
    }
    // The player timeline: seconds from the start of the first playlist served.
    let anchor = snap.values.get(TIMELINE).and_then(|v| {
        let (m, p) = v.split_once(':')?;
        Some((m.parse::<u64>().ok()?, p.parse::<f64>().ok()?))
    });
    let positions = place_segments(&out.segments, anchor);
    if let Some(&(last_msn, _)) = out.segments.last() {
        // The anchor moves only once it is about to leave the window: while it
        // is in the second half of what was written, positions stay exact.
        let half = out.segments[out.segments.len() / 2].0;
        if anchor.is_none_or(|(m, _)| m < half || m > last_msn) {
            let last_pos = positions.last().copied().unwrap_or(0.0);
            changes
                .values
                .push((TIMELINE.to_string(), format!("{last_msn}:{last_pos:.3}")));
        }
    }
    for (break_id, ad, msn) in &out.ad_starts {
        let key = ad_start_key(break_id, *ad);
        if snap.values.contains_key(&key) {
            continue;
        }
        if let Some(i) = out.segments.iter().position(|(m, _)| m == msn) {
            changes.once.push((key, format!("{:.3}", positions[i])));
        }
    }
    Written {
        text: out.text,
        changes,
    }
}

/// Where a live session can forget its completed breaks (see
/// [`crate::session::store::merge_records`]): those that ended a whole window
/// before the one served (no playlist a player still holds shows them, and a
/// player's late segment request finds the same beacon claims) and before the
/// last one that ended at or before the window's start (the numbering of the
/// window's first segments goes on from that one; windows only move forward).
/// `None` while there is nothing to forget: a steady-state refresh writes
/// nothing. `records`: the stored ones and this request's updates.
pub fn forget_before<'a>(
    pl: &MediaPlaylist,
    records: impl Iterator<Item = &'a BreakRecord> + Clone,
) -> Option<u64> {
    let first = pl.segments.first()?.msn;
    let ends = records.filter_map(|r| r.done).map(|d| d.origin_end_msn);
    let numbering_from = ends.clone().filter(|&end| end <= first).max()?;
    let before = first
        .checked_sub(pl.segments.len() as u64)?
        .min(numbering_from);
    ends.clone().any(|end| end < before).then_some(before)
}

/// A live origin whose media sequence numbers went back, for this session: an
/// encoder restart that numbers from 0 again. `Some((known, last))` when the
/// session has state at origin number `known` (its timeline anchor, a break
/// record) more than a whole window past `last`, the window's last number.
///
/// The session's numbering cannot go on from such a window (its records and
/// anchor name segments of the old numbering, and the player's numbers must not
/// go back), so the caller refuses the request and the player starts a new
/// session. Within a window's length a lower number is an instance's older copy
/// of the origin, not a restart, and plays as before.
pub fn sequence_went_back(pl: &MediaPlaylist, snap: &Snapshot) -> Option<(u64, u64)> {
    if pl.ended {
        return None;
    }
    let last = pl.segments.last()?.msn;
    let anchor = snap
        .values
        .get(TIMELINE)
        .and_then(|v| v.split_once(':')?.0.parse::<u64>().ok());
    let known = snap
        .records
        .iter()
        .map(|r| r.origin_start_msn)
        .chain(anchor)
        .max()?;
    (known > last.saturating_add(pl.segments.len() as u64)).then_some((known, last))
}

/// Start position of each segment given the anchor (a segment's media sequence
/// number and position) from an earlier refresh.
pub fn place_segments(segments: &[(u64, f64)], anchor: Option<(u64, f64)>) -> Vec<f64> {
    let first_pos = match anchor {
        None => 0.0,
        Some(anchor) => first_position(segments.iter().copied(), anchor, (anchor.0, 0.0)).0,
    };
    let mut t = first_pos;
    segments
        .iter()
        .map(|(_, d)| {
            let p = t;
            t += d;
            p
        })
        .collect()
}

// === DASH ===

/// Plan a DASH MPD request: the session's breaks and their avails. `now`: Unix
/// seconds.
pub fn plan_dash(
    doc: &Document,
    origin_breaks: &[DashBreak],
    snap: &Snapshot,
    config: &PlaybackConfig,
    now: f64,
) -> DashPlan {
    let dynamic = mpd::is_dynamic(doc);
    let mut breaks: Vec<DashBreak> = if !dynamic && origin_breaks.is_empty() {
        vec![DashBreak {
            id: "preroll".into(),
            period: 0,
            at: 0.0,
            duration: Some(0.0),
            scheme: "implicit".into(),
            vars: Default::default(),
        }]
    } else {
        origin_breaks.to_vec()
    };
    // Live pre-roll: a break of its own where the session joins. It wins over a
    // signalled break it overlaps, which plays as content (as a break joined
    // mid-way does): otherwise Periods already published as pre-roll would
    // change when that break's event shows up.
    let (pre, claim) = dash_live_preroll(doc, snap, config, now);
    if let Some(pre) = pre {
        let end = pre.at + pre.duration.unwrap_or(0.0);
        breaks.retain(|b| {
            b.period != pre.period
                || !(b.at < end && pre.at < b.at + b.duration.unwrap_or(f64::INFINITY))
        });
        breaks.push(pre);
        breaks.sort_by(|a, b| {
            (a.period, a.at)
                .partial_cmp(&(b.period, b.at))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    let now_unix = now as u64;
    let ast = doc
        .root
        .attr("availabilityStartTime")
        .and_then(|t| mpd::parse_utc(&t));
    let starts = mpd::period_starts(doc);
    let avails = breaks
        .iter()
        .enumerate()
        .map(|(n, b)| {
            let insert = !dynamic && b.duration.unwrap_or(0.0) <= 0.0;
            let planned = b.duration.filter(|d| *d > 0.0).unwrap_or(if insert {
                config.vod_avail_duration_secs
            } else {
                config.default_avail_duration_secs
            });
            // The live edge is now, in the presentation timeline (seconds since
            // availabilityStartTime).
            let first_sight = dynamic.then(|| {
                let start = starts.get(b.period).map(|p| p.1 + b.at);
                let behind = match (ast, start) {
                    (Some(ast), Some(start)) => Some(now_unix as f64 - ast as f64 - start),
                    _ => None,
                };
                (behind, behind.is_some_and(|x| x < planned))
            });
            PlannedAvail {
                break_id: b.id.clone(),
                planned,
                index: (n + 1) as u32,
                vars: b.vars.clone(),
                need: avail_need(snap, config, &b.id, first_sight, now_unix),
            }
        })
        .collect();
    let forget = dash_forget(doc, &breaks, snap, now);
    DashPlan {
        breaks,
        avails,
        claim,
        forget,
    }
}

/// The decided breaks a live DASH session can forget (DASH keeps no break
/// records): not in this MPD, and every ad of theirs started more than twice the
/// time-shift buffer behind the live edge, so no MPD a player or another
/// instance still holds can show them. None without `timeShiftBufferDepth`
/// (an unbounded time-shift buffer) or for a break with no ad start (nothing
/// dates it). `now`: Unix seconds.
pub fn dash_forget(doc: &Document, breaks: &[DashBreak], snap: &Snapshot, now: f64) -> Vec<String> {
    if snap.decisions.is_empty() || !mpd::is_dynamic(doc) {
        return Vec::new();
    }
    let depth = doc
        .root
        .attr("timeShiftBufferDepth")
        .and_then(|d| mpd::parse_duration(&d));
    let ast = doc
        .root
        .attr("availabilityStartTime")
        .and_then(|t| mpd::parse_utc(&t));
    let (Some(depth), Some(ast)) = (depth, ast) else {
        return Vec::new();
    };
    let horizon = now - ast as f64 - 2.0 * depth;
    snap.decisions
        .keys()
        .filter(|id| !breaks.iter().any(|b| &b.id == *id))
        .filter(|id| {
            let prefix = &break_value_prefixes(id)[0];
            let mut starts = snap
                .values
                .range::<String, _>(prefix..)
                .take_while(|(k, _)| k.starts_with(prefix.as_str()))
                .map(|(_, v)| v.parse::<f64>().unwrap_or(f64::INFINITY))
                .peekable();
            starts.peek().is_some() && starts.all(|t| t < horizon)
        })
        .cloned()
        .collect()
}

/// The live pre-roll break of this session, when the configuration has one. It
/// starts where the session's player joins, on its first MPD: the live edge less
/// the MPD's `suggestedPresentationDelay`, down to a segment boundary. Players
/// differ by up to one `maxSegmentDuration` there: dash.js starts at that point
/// (inside the pre-roll's first segment), Shaka one `maxSegmentDuration` earlier
/// (it plays up to that much of what comes before, then the whole pre-roll). No
/// start serves both at the pre-roll's first frame; this one lets every player
/// see the whole ad or all but the part of its first segment before the join.
/// The time is remembered in the session store so every refresh and instance
/// places it alike (the second value: the join point to store when the session
/// has none). It lasts `live_preroll_max_duration_secs`, cut at the end of its
/// Period.
fn dash_live_preroll(
    doc: &Document,
    snap: &Snapshot,
    config: &PlaybackConfig,
    now: f64,
) -> (Option<DashBreak>, Option<(String, String)>) {
    if config.live_preroll_ads_url.is_none() || !mpd::is_dynamic(doc) {
        return (None, None);
    }
    let periods: Vec<&dash::Element> = doc.root.children_named("Period").collect();
    let starts = mpd::period_starts(doc);
    // The Period holding time `t` of the presentation, with its end where known.
    let holding = |t: f64| -> Option<(usize, f64, Option<f64>)> {
        let (i, start, duration) = *starts.iter().rev().find(|p| p.1 <= t + 1e-6)?;
        let end = duration
            .map(|d| start + d)
            .or_else(|| starts.get(i + 1).map(|n| n.1));
        Some((i, start, end))
    };
    let t0 = match snap.values.get(DASH_PREROLL_AT) {
        Some(v) => v.parse::<f64>().ok(),
        None => {
            // Where a player joining now starts (the first MPD's answer stands).
            let join = || -> Option<f64> {
                let ast = doc
                    .root
                    .attr("availabilityStartTime")
                    .and_then(|t| mpd::parse_utc(&t))?;
                let delay = doc
                    .root
                    .attr("suggestedPresentationDelay")
                    .and_then(|d| mpd::parse_duration(&d))
                    .unwrap_or(DEFAULT_PRESENTATION_DELAY);
                let edge = now - ast as f64 - delay;
                let (i, start, _) = holding(edge)?;
                let seg = dash::segment_duration(periods.get(i)?).unwrap_or(1.0);
                Some(start + ((edge - start) / seg).floor().max(0.0) * seg)
            };
            let claim = join().map(|j| (DASH_PREROLL_AT.to_string(), format!("{j:.3}")));
            return (None, claim);
        }
    };
    let pre = || -> Option<DashBreak> {
        let t0 = t0?;
        let (period, start, end) = holding(t0)?;
        let mut duration = config.live_preroll_max_duration_secs;
        if let Some(end) = end {
            duration = duration.min(end - t0);
        }
        let at = t0 - start;
        (duration > 0.0).then(|| DashBreak {
            id: LIVE_PREROLL.into(),
            period,
            at,
            duration: Some(duration),
            scheme: "live-preroll".into(),
            vars: Default::default(),
        })
    };
    (pre(), None)
}

/// The session BaseURL of a DASH ad Period in server-side reporting mode: its
/// segments go through `/v1/segment`, so the beacons fire as they are fetched.
pub fn dash_segment_base(
    sid: &SessionId,
    break_id: &str,
    ad: usize,
    count: usize,
    base: &str,
) -> String {
    format!(
        "/v1/segment/{sid}/{}/{ad}/d/{count}/{}/",
        hex(break_id.as_bytes()),
        hex(base.as_bytes())
    )
}

/// The DASH ad MPDs a request uses (decided ads, slate, bumpers), fetched by the
/// shell: by URL, `None` where one could not be read.
pub type DashAds<'a> = HashMap<&'a str, Option<Arc<DashAd>>>;

/// The URLs of the ad MPDs a planned request needs: each decided ad's DASH
/// rendition, the slate (unless every break is suppressed) and the bumpers.
pub fn dash_ad_urls<'a>(
    plan: &'a DashPlan,
    config: &'a PlaybackConfig,
    slate: Option<&'a str>,
) -> Vec<&'a str> {
    let mut urls: Vec<&str> = Vec::new();
    for d in plan.avails.iter().filter_map(PlannedAvail::decision) {
        urls.extend(d.ads.iter().filter_map(|a| a.dash_url.as_deref()));
        if d.failure.as_deref() != Some(SUPPRESSED) {
            urls.extend(slate);
        }
        urls.extend(config.dash_bumper_start.as_deref());
        urls.extend(config.dash_bumper_end.as_deref());
    }
    urls.sort_unstable();
    urls.dedup();
    urls
}

/// What fills each decided break of a DASH request: the decision's ads that have a
/// DASH rendition (each keeping its number in the decision), the slate unless the
/// break is suppressed, the bumpers; in server-side reporting, ad segments go
/// through `/v1/segment`. Also how many ads were filled and skipped (no DASH
/// rendition).
pub fn dash_fills(
    plan: &DashPlan,
    ads: &DashAds<'_>,
    config: &PlaybackConfig,
    slate: Option<&str>,
    session: &Session,
) -> (HashMap<String, DashFill>, usize, usize) {
    let get = |u: Option<&str>| u.and_then(|u| ads.get(u).cloned().flatten());
    let (mut filled, mut skipped) = (0, 0);
    let mut fills = HashMap::with_capacity(plan.avails.len());
    for a in &plan.avails {
        let Some(decision) = a.decision() else {
            continue;
        };
        let mut fill = DashFill {
            planned: a.planned,
            slate: match decision.failure.as_deref() {
                Some(SUPPRESSED) => None,
                _ => get(slate),
            },
            bumper_start: get(config.dash_bumper_start.as_deref()),
            bumper_end: get(config.dash_bumper_end.as_deref()),
            slate_threshold: config.personalization_threshold_secs,
            ..DashFill::default()
        };
        for (n, ad) in decision.ads.iter().enumerate() {
            let Some(dash_ad) = get(ad.dash_url.as_deref()) else {
                skipped += 1;
                continue;
            };
            filled += 1;
            let dash_ad = if session.reporting == ReportingMode::Server {
                let seg = dash::segment_duration(&dash_ad.period).unwrap_or(2.0);
                let count = ((dash_ad.duration / seg).ceil() as usize).max(1);
                let base = dash_segment_base(&session.id, &a.break_id, n, count, &dash_ad.base_url);
                Arc::new(DashAd {
                    base_url: base,
                    ..(*dash_ad).clone()
                })
            } else {
                dash_ad
            };
            fill.ads.push(dash_ad);
            fill.numbers.push(n);
        }
        fills.insert(a.break_id.clone(), fill);
    }
    (fills, filled, skipped)
}

/// Splice and serialize a DASH MPD request, and say what to store: the start of
/// each ad seen for the first time.
pub fn write_dash(
    plan: &DashPlan,
    doc: &Document,
    snap: &Snapshot,
    fills: &HashMap<String, DashFill>,
    ctx: &MpdContext,
) -> Written {
    let spliced = dash::splice_mpd(doc, &plan.breaks, fills, ctx);
    let mut changes = Changes {
        forget: plan.forget.clone(),
        ..Changes::default()
    };
    // Where each ad starts (Period start: seconds of the presentation timeline).
    for (break_id, n, start) in &spliced.ad_starts {
        let key = ad_start_key(break_id, *n);
        if !snap.values.contains_key(&key) {
            changes.once.push((key, format!("{start:.3}")));
        }
    }
    Written {
        text: spliced.text,
        changes,
    }
}

#[cfg(test)]
mod tests;
