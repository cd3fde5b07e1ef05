//! The client-side tracking document (`GET /v1/tracking/{session}`), in
//! MediaTailor's JSON shape so existing client code works.
//!
//! Pure: the session's decisions and the ad start times in, JSON out.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::dash::mpd::format_duration;
use crate::session::Decision;

fn time(secs: f64) -> (String, f64) {
    (format_duration(secs), (secs * 1000.0).round() / 1000.0)
}

/// Build the tracking document. `starts` maps (break id, ad index) to the ad's
/// start in the player timeline, seconds; breaks none of whose ads has been
/// published yet are left out.
pub fn tracking_json(
    decisions: &[(String, std::sync::Arc<Decision>)],
    starts: &BTreeMap<(String, usize), f64>,
) -> Value {
    let mut avails = Vec::new();
    for (break_id, decision) in decisions {
        let mut ads = Vec::new();
        let mut avail_start: Option<f64> = None;
        for (n, ad) in decision.ads.iter().enumerate() {
            let Some(&start) = starts.get(&(break_id.clone(), n)) else {
                continue;
            };
            avail_start = Some(avail_start.map_or(start, |s: f64| s.min(start)));
            let (start_s, start_n) = time(start);
            let (dur_s, dur_n) = time(ad.duration);
            let mut events = Vec::new();
            let mut push = |event: &str, at: f64, urls: Vec<String>| {
                if urls.is_empty() {
                    return;
                }
                let (t_s, t_n) = time(start + at);
                events.push(json!({
                    "beaconUrls": urls,
                    "duration": "PT0S",
                    "durationInSeconds": 0,
                    "eventId": format!("{break_id}-{n}-{event}"),
                    "eventType": event,
                    "startTime": t_s,
                    "startTimeInSeconds": t_n,
                }));
            };
            push("impression", 0.0, ad.impressions.clone());
            for (event, frac) in crate::tracking::LINEAR_EVENTS.iter().skip(1) {
                let urls: Vec<String> = ad
                    .tracking
                    .iter()
                    .filter(|t| t.event == *event)
                    .map(|t| t.url.clone())
                    .collect();
                push(event, frac * ad.duration, urls);
            }
            // Other linear events (pause, mute, progress...) are passed through at
            // the ad start, for the player to fire when they happen.
            let mut others: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for t in &ad.tracking {
                if !crate::tracking::LINEAR_EVENTS
                    .iter()
                    .any(|(e, _)| *e == t.event)
                {
                    others
                        .entry(t.event.as_str())
                        .or_default()
                        .push(t.url.clone());
                }
            }
            for (event, urls) in others {
                push(event, 0.0, urls);
            }
            push("clickTracking", 0.0, ad.click_tracking.clone());
            ads.push(json!({
                "adId": ad.ad_id.clone().unwrap_or_default(),
                "adParameters": "",
                "adVerifications": [],
                "companionAds": [],
                "creativeId": ad.creative_id.clone().unwrap_or_default(),
                "creativeSequence": (n + 1).to_string(),
                "duration": dur_s,
                "durationInSeconds": dur_n,
                "extensions": [],
                "mediaFiles": {
                    "mediaFilesList": [],
                    "mezzanine": ad.mezzanine_url.clone().unwrap_or_default(),
                },
                "skipOffset": Value::Null,
                "startTime": start_s,
                "startTimeInSeconds": start_n,
                "trackingEvents": events,
                "vastAdId": ad.ad_id.clone().unwrap_or_default(),
                "adClickThrough": ad.click_through.clone(),
                "universalAdId": ad.universal_ad_id.clone(),
            }));
        }
        let Some(start) = avail_start else { continue };
        let (start_s, start_n) = time(start);
        let (dur_s, dur_n) = time(decision.avail_duration);
        avails.push(json!({
            "adBreakTrackingEvents": [],
            "ads": ads,
            "availId": break_id,
            "availProgramDateTime": Value::Null,
            "duration": dur_s,
            "durationInSeconds": dur_n,
            "meta": Value::Null,
            "nonLinearAdsList": [],
            "startTime": start_s,
            "startTimeInSeconds": start_n,
        }));
    }
    avails.sort_by(|a, b| {
        a["startTimeInSeconds"]
            .as_f64()
            .partial_cmp(&b["startTimeInSeconds"].as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    json!({ "avails": avails, "nextToken": Value::Null, "nonLinearAvails": [] })
}
