//! Guided (SGAI) sessions: the asset list of one break.
//!
//! Pure. A guided session's player asks for each break's asset list
//! (`{"ASSETS":[{"URI","DURATION"}, ...]}`, HLS interstitials, RFC 8216bis appendix
//! D) instead of receiving a stitched playlist. The list is laid out by the same
//! rules as a stitched break ([`super::plan`]): the session's decision (one ADS
//! call, stored), bumpers around the ads, VOD insertions fitted by the ads' real
//! lengths ([`crate::breaks::fit_pod`]), a replacing break's ads shown while they
//! end within the avail, then slate (whole slate playlists) for the remainder
//! unless it is above the personalization threshold or the break is suppressed.
//! Each ad asset carries `X-AD-CREATIVE-SIGNALING` (SVTA2053-2) with its ids and
//! tracking events, so players can report.

use serde_json::{json, Value};

use crate::breaks::{fit_pod, DURATION_TOLERANCE};
use crate::session::DecidedAd;

/// Where one item of the break comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKind {
    /// Ad number `n` of the decision.
    Ad(usize),
    /// The start or end bumper.
    Bumper,
    /// Slate.
    Slate,
}

/// A playlist that can fill part of a break: its URI and its real length.
#[derive(Debug, Clone, PartialEq)]
pub struct Playable {
    /// The URI players load (absolute, or relative to the asset list).
    pub uri: String,
    /// Seconds (the sum of its `EXTINF`s).
    pub duration: f64,
}

/// Everything the asset list of one break depends on.
#[derive(Debug, Clone, Default)]
pub struct AssetInput {
    /// Avail duration, seconds.
    pub planned: f64,
    /// A VOD insertion (pre-, mid-, post-roll): ads fitted by their real lengths,
    /// no slate.
    pub insert: bool,
    /// One entry per decided ad, in decision order: its playable rendition, or
    /// `None` when it has none (skipped, as in a stitched session).
    pub ads: Vec<Option<Playable>>,
    /// Slate for the remainder (`None`: none configured, or the break is suppressed).
    pub slate: Option<Playable>,
    /// Played before the first ad (only when there are ads).
    pub bumper_start: Option<Playable>,
    /// Played after the last ad (only when there are ads).
    pub bumper_end: Option<Playable>,
    /// An unfilled remainder longer than this plays the content, not slate.
    pub slate_threshold: Option<f64>,
}

/// One asset of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// What it is.
    pub kind: AssetKind,
    /// `URI`.
    pub uri: String,
    /// `DURATION`, seconds.
    pub duration: f64,
    /// Where it starts in the break, seconds.
    pub start: f64,
}

/// Lay out a break's assets (see the module docs). Upper bound: 2,000 assets.
pub fn plan_assets(input: &AssetInput) -> Vec<Asset> {
    const MAX_ASSETS: usize = 2_000;
    let mut ads: Vec<(usize, &Playable)> = input
        .ads
        .iter()
        .enumerate()
        .filter_map(|(n, a)| a.as_ref().map(|p| (n, p)))
        .filter(|(_, p)| p.duration.is_finite() && p.duration > 0.0)
        .collect();
    if input.insert {
        let lengths: Vec<f64> = ads.iter().map(|(_, p)| p.duration).collect();
        let kept = fit_pod(&lengths, input.planned);
        ads = ads
            .into_iter()
            .enumerate()
            .filter(|(i, _)| kept.contains(i))
            .map(|(_, a)| a)
            .collect();
    }
    let mut out: Vec<Asset> = Vec::new();
    let mut t = 0.0;
    let mut push = |out: &mut Vec<Asset>, kind, p: &Playable| {
        out.push(Asset {
            kind,
            uri: p.uri.clone(),
            duration: p.duration,
            start: t,
        });
        t += p.duration;
    };
    let has_ads = !ads.is_empty();
    if has_ads {
        if let Some(b) = &input.bumper_start {
            push(&mut out, AssetKind::Bumper, b);
        }
    }
    for (n, p) in &ads {
        push(&mut out, AssetKind::Ad(*n), p);
    }
    if has_ads {
        if let Some(b) = &input.bumper_end {
            push(&mut out, AssetKind::Bumper, b);
        }
    }
    if input.insert {
        return out;
    }
    // A replacing break shows what ends within the avail (the content it replaces).
    let fits = |a: &Asset| a.start + a.duration <= input.planned + DURATION_TOLERANCE;
    let shown = out.iter().take_while(|a| fits(a)).count();
    out.truncate(shown);
    let mut t = out.last().map_or(0.0, |a| a.start + a.duration);
    let remainder = input.planned - t;
    if input.slate_threshold.is_some_and(|th| remainder > th) {
        return out;
    }
    if let Some(slate) = input.slate.as_ref().filter(|s| s.duration > 0.0) {
        while t + slate.duration <= input.planned + DURATION_TOLERANCE && out.len() < MAX_ASSETS {
            out.push(Asset {
                kind: AssetKind::Slate,
                uri: slate.uri.clone(),
                duration: slate.duration,
                start: t,
            });
            t += slate.duration;
        }
    }
    out
}

/// The asset a player joining `offset` seconds into the break starts in (the
/// player's `_HLS_start_offset`): `None` when the offset is past them all.
pub fn asset_at(assets: &[Asset], offset: f64) -> Option<usize> {
    assets
        .iter()
        .position(|a| offset < a.start + a.duration - 1e-9)
}

/// The asset list JSON: `ASSETS` in play order, each ad with its
/// `X-AD-CREATIVE-SIGNALING` slot, and the whole pod's signaling at the top.
/// `ads` are the decision's ads (by number). Every asset stays in the list, also
/// those before a join offset: players place assets by their offsets from the
/// list's start (hls.js, AVPlayer) and start inside the one that holds the offset.
pub fn asset_list_json(assets: &[Asset], ads: &[std::sync::Arc<DecidedAd>]) -> Value {
    let mut list = Vec::with_capacity(assets.len());
    let mut pod = Vec::new();
    for a in assets {
        let mut entry = json!({ "URI": a.uri, "DURATION": round3(a.duration) });
        if let AssetKind::Ad(n) = a.kind {
            if let Some(ad) = ads.get(n) {
                let slot = creative_slot(ad, a.duration, 0.0);
                pod.push(creative_slot(ad, a.duration, a.start));
                entry["X-AD-CREATIVE-SIGNALING"] =
                    json!({ "version": 2, "type": "slot", "payload": [slot] });
            }
        }
        list.push(entry);
    }
    let mut out = json!({ "ASSETS": list });
    if !pod.is_empty() {
        out["X-AD-CREATIVE-SIGNALING"] = json!({ "version": 2, "type": "pod", "payload": pod });
    }
    out
}

/// One ad's SVTA2053-2 creative signaling: identifiers and tracking events at
/// their offsets (seconds from the slot start), `start` from the list's start.
fn creative_slot(ad: &DecidedAd, duration: f64, start: f64) -> Value {
    let mut ids = Vec::new();
    if let Some(id) = &ad.ad_id {
        ids.push(json!({ "scheme": "urn:svta:advertising-wg:ad-id", "value": id }));
    }
    if let Some(id) = &ad.creative_id {
        ids.push(json!({ "scheme": "urn:svta:advertising-wg:creative-id", "value": id }));
    }
    if let Some(u) = &ad.universal_ad_id {
        ids.push(json!({ "scheme": "urn:svta:advertising-wg:universal-ad-id", "value": u }));
    }
    let mut tracking = Vec::new();
    for (event, frac) in crate::tracking::LINEAR_EVENTS {
        let urls: Vec<&str> = crate::tracking::beacon_urls(ad, event);
        if urls.is_empty() {
            continue;
        }
        tracking.push(json!({
            "type": event,
            "offset": round3(frac * duration),
            "urls": urls,
        }));
    }
    if !ad.click_tracking.is_empty() {
        tracking.push(json!({ "type": "clickTracking", "urls": ad.click_tracking }));
    }
    let mut slot = json!({
        "type": "linear",
        "start": round3(start),
        "duration": round3(duration),
        "identifiers": ids,
        "tracking": tracking,
    });
    if let Some(c) = &ad.click_through {
        slot["clickThrough"] = json!(c);
    }
    slot
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests;
