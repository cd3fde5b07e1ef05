//! HLS interstitials: the guided (SGAI) media playlist.
//!
//! Pure. Each ad break of the origin playlist becomes one
//! `EXT-X-DATERANGE` of `CLASS="com.apple.hls.interstitial"` (RFC 8216bis §4.4.5.1 and
//! its appendix on interstitials; Apple, "Incorporating Ads into a Playlist") whose
//! `X-ASSET-LIST` names the break; the player fetches the viewer's ads from there and
//! switches to them and back by itself. Everything else is the origin playlist,
//! line for line: the break's content segments stay (the player skips them), unknown
//! tags pass through in order. Nothing in the output depends on the viewer, so one
//! text serves every guided session of the playlist.
//!
//! A DATERANGE needs `EXT-X-PROGRAM-DATE-TIME`. When the origin has none, one is
//! added to every segment, derived from a fixed anchor only ([`GUIDED_EPOCH_MS`]):
//! VOD, the anchor plus the durations before the segment; live, the anchor plus
//! media sequence number × target duration. Every refresh, instance and viewer
//! computes the same dates, and each break's `START-DATE` is the date of its first
//! segment, so a player places it exactly. (Live without origin dates, the dates
//! advance by the target duration per segment, not by each segment's own duration;
//! players place interstitials by the tagged segment, so only the wall-clock reading
//! of the dates is off.)

use std::fmt::Write as _;

use crate::breaks::{AdBreak, BreakStart};
use crate::hls::model::{self, MediaPlaylist, PROGRAM_DATE_TIME};
use crate::hls::pdt::{format_date_time, parse_date_time, UnixMillis};
use crate::session::id::hex;

/// `CLASS` of an HLS interstitial.
pub const INTERSTITIAL_CLASS: &str = "com.apple.hls.interstitial";
/// Prefix of the `ID` of our interstitials (distinct from the origin's own DATERANGEs).
pub const ID_PREFIX: &str = "sp-";
/// Query parameter of an asset-list URI that names the break (hex of its id).
pub const BREAK_PARAM: &str = "sgai.break";
/// Query parameter of an asset-list URI with the break's avail duration, seconds.
pub const DURATION_PARAM: &str = "sgai.dur";
/// The anchor of the dates added when the origin has none: 2000-01-01T00:00:00Z,
/// milliseconds since the Unix epoch.
pub const GUIDED_EPOCH_MS: i64 = 946_684_800_000;

/// What the guided writer needs besides the playlist and its breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct GuidedOptions<'a> {
    /// The asset-list URI every break's `X-ASSET-LIST` starts with, relative to the
    /// playlist (the playlist's own file name: each session's URL resolves it
    /// under that session); the break is added as query parameters.
    pub asset_list: &'a str,
    /// Avail of a live break whose marker gives no duration, seconds.
    pub default_avail: f64,
    /// Avail of a VOD insertion point, seconds.
    pub vod_avail: f64,
}

/// One interstitial as written: where and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Interstitial {
    /// `ID`.
    pub id: String,
    /// The origin break id it stands for.
    pub break_id: String,
    /// Index of the segment it is written before (`segments.len()`: after the last).
    pub at: usize,
    /// `START-DATE`, milliseconds since the Unix epoch.
    pub start_ms: i64,
    /// `DURATION`, seconds.
    pub duration: f64,
    /// `CUE`: `PRE`, `POST` or none.
    pub cue: Option<&'static str>,
    /// An insertion (VOD pre-, mid- or post-roll): the content does not move on
    /// (`X-RESUME-OFFSET=0`); otherwise the break's content is skipped.
    pub insert: bool,
}

/// The interstitials of a playlist's breaks: one per break whose start is in the
/// window (a break joined mid-way plays as content, as in a stitched session).
/// Breaks that replace content (live) resume after it (`X-RESUME-OFFSET` = duration,
/// back on the live timeline); VOD insertion points are pre-, mid- or post-rolls
/// (`X-RESUME-OFFSET` = 0: the content resumes where it left).
pub fn plan_interstitials(
    pl: &MediaPlaylist,
    breaks: &[AdBreak],
    opts: &GuidedOptions<'_>,
) -> Vec<Interstitial> {
    let dates = segment_dates(pl);
    let n = pl.segments.len();
    let end_ms = match (dates.last(), pl.segments.last()) {
        (Some(d), Some(s)) => d + (s.duration * 1000.0).round() as i64,
        _ => GUIDED_EPOCH_MS,
    };
    let mut out: Vec<Interstitial> = Vec::with_capacity(breaks.len());
    for b in breaks {
        let BreakStart::At(at) = b.start else {
            continue;
        };
        let at = at.min(n);
        let live = !pl.ended;
        if live && b.insert {
            continue; // Insertion points only make sense in VOD (as stitched).
        }
        let duration = match (b.insert, b.duration) {
            (false, Some(d)) if d > 0.0 => d,
            (false, _) => opts.default_avail,
            (true, _) => opts.vod_avail,
        };
        let cue = match (live, b.insert) {
            (false, true) if at == 0 => Some("PRE"),
            (false, true) if at == n => Some("POST"),
            _ => None,
        };
        let start_ms = dates.get(at).copied().unwrap_or(end_ms);
        if out.iter().any(|i| i.break_id == b.id) {
            continue;
        }
        out.push(Interstitial {
            id: format!("{ID_PREFIX}{}", b.id),
            break_id: b.id.clone(),
            at,
            start_ms,
            duration,
            cue,
            insert: b.insert,
        });
    }
    out
}

/// The `EXT-X-DATERANGE` line of an interstitial.
pub fn daterange_line(i: &Interstitial, live: bool, opts: &GuidedOptions<'_>) -> String {
    let mut l = format!(
        "#EXT-X-DATERANGE:ID=\"{}\",CLASS=\"{INTERSTITIAL_CLASS}\",START-DATE=\"{}\",DURATION={},X-ASSET-LIST=\"{}?{BREAK_PARAM}={}&{DURATION_PARAM}={}\"",
        i.id,
        format_date_ms(i.start_ms),
        secs(i.duration),
        opts.asset_list,
        hex(i.break_id.as_bytes()),
        secs(i.duration),
    );
    let resume = if i.insert { 0.0 } else { i.duration };
    let _ = write!(l, ",X-RESUME-OFFSET={}", secs(resume));
    l.push_str(",X-RESTRICT=\"SKIP,JUMP\"");
    if live {
        l.push_str(",X-SNAP=\"OUT,IN\"");
    }
    if let Some(cue) = i.cue {
        let _ = write!(l, ",CUE=\"{cue}\"");
    }
    l
}

/// The guided media playlist: the origin's lines, each break's interstitial before
/// its first segment (a post-roll's before the last, dated at the end), and dates
/// where the origin has none.
pub fn write_guided(pl: &MediaPlaylist, breaks: &[AdBreak], opts: &GuidedOptions<'_>) -> String {
    let live = !pl.ended;
    let planned = plan_interstitials(pl, breaks, opts);
    let add_dates = !pl.segments.iter().any(|s| s.has_pdt);
    let dates = if add_dates {
        segment_dates(pl)
    } else {
        Vec::new()
    };
    let n = pl.segments.len();
    let mut out = String::with_capacity(pl.segments.len() * 160 + 512);
    for l in &pl.header {
        model::push_line(&mut out, l);
    }
    for (k, s) in pl.segments.iter().enumerate() {
        // A post-roll is anchored to the last segment: players date a DATERANGE by
        // the segment it precedes.
        for i in planned
            .iter()
            .filter(|i| i.at == k || (i.at == n && k + 1 == n))
        {
            model::push_line(&mut out, &daterange_line(i, live, opts));
        }
        if add_dates {
            let _ = writeln!(out, "{PROGRAM_DATE_TIME}{}", format_date_ms(dates[k]));
        }
        for l in &s.lines {
            model::push_line(&mut out, l);
        }
        model::push_line(&mut out, &s.uri);
    }
    for l in &pl.trailer {
        model::push_line(&mut out, l);
    }
    out
}

/// The date of each segment, milliseconds since the Unix epoch: the origin's
/// (its last `EXT-X-PROGRAM-DATE-TIME` at or before the segment plus the
/// durations since; before the first, the first less the durations), or derived
/// from [`GUIDED_EPOCH_MS`] when it has none (see the module docs).
pub fn segment_dates(pl: &MediaPlaylist) -> Vec<i64> {
    let n = pl.segments.len();
    let ms = |d: f64| (d * 1000.0).round() as i64;
    let tagged: Vec<Option<i64>> = pl
        .segments
        .iter()
        .map(|s| {
            s.has_pdt
                .then(|| {
                    s.lines
                        .iter()
                        .rev()
                        .find_map(|l| l.strip_prefix(PROGRAM_DATE_TIME))
                        .and_then(parse_date_ms)
                })
                .flatten()
        })
        .collect();
    let Some(first_tagged) = tagged.iter().position(Option::is_some) else {
        if pl.ended {
            let mut t = GUIDED_EPOCH_MS;
            return pl
                .segments
                .iter()
                .map(|s| {
                    let d = t;
                    t += ms(s.duration);
                    d
                })
                .collect();
        }
        let step = (pl.target_duration.max(1) * 1000) as i64;
        return pl
            .segments
            .iter()
            .map(|s| GUIDED_EPOCH_MS.saturating_add(step.saturating_mul(s.msn as i64)))
            .collect();
    };
    let mut dates = vec![0i64; n];
    let mut t = tagged[first_tagged].unwrap_or(GUIDED_EPOCH_MS);
    for k in (0..first_tagged).rev() {
        t -= ms(pl.segments[k].duration);
        dates[k] = t;
    }
    let mut t = 0;
    for k in first_tagged..n {
        t = match tagged[k] {
            Some(d) => d,
            None => t + ms(pl.segments[k - 1].duration),
        };
        dates[k] = t;
    }
    dates
}

fn secs(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// `YYYY-MM-DDTHH:MM:SS.sssZ` for milliseconds since the Unix epoch.
pub fn format_date_ms(ms: i64) -> String {
    format_date_time(UnixMillis(ms))
}

/// Milliseconds since the Unix epoch of an HLS date-time (see
/// [`parse_date_time`]).
pub fn parse_date_ms(s: &str) -> Option<i64> {
    parse_date_time(s).map(|t| t.0)
}

#[cfg(test)]
mod tests;
