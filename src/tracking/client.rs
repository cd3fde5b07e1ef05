//! The client-side tracking document (`GET /v1/tracking/{session}`), in
//! MediaTailor's JSON shape so existing client code works.
//!
//! Pure: the session's decisions and the ad start times in, JSON out.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::dash::mpd::format_duration;
use crate::session::Decision;
use crate::vast::{Companion, TrackingEvent, Verification};

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
                "adSystem": ad.ad_system.clone(),
                "adTitle": ad.ad_title.clone(),
                "adVerifications": ad.verifications.iter().map(verification_json).collect::<Vec<_>>(),
                "companionAds": ad.companions.iter().map(companion_json).collect::<Vec<_>>(),
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

fn events_json(events: &[TrackingEvent]) -> Vec<Value> {
    events
        .iter()
        .map(|t| json!({ "event": t.event, "uri": t.url }))
        .collect()
}

/// A companion in MediaTailor's shape (its single-valued resource fields take the
/// first of each kind; every click-tracking URL is also in
/// `companionClickTrackingUrls`).
fn companion_json(c: &Companion) -> Value {
    json!({
        "adParameters": c.ad_parameters,
        "altText": c.alt_text,
        "attributes": {
            "adSlotId": c.ad_slot_id,
            "apiFramework": c.api_framework,
            "assetHeight": c.asset_height,
            "assetWidth": c.asset_width,
            "expandedHeight": c.expanded_height,
            "expandedWidth": c.expanded_width,
            "height": c.height,
            "id": c.id,
            "pxratio": c.pxratio,
            "renderingMode": c.rendering_mode,
            "width": c.width,
        },
        "companionClickThrough": c.click_through,
        "companionClickTracking": c.click_tracking.first(),
        "companionClickTrackingUrls": c.click_tracking,
        "htmlResource": c.html_resources.first(),
        "iFrameResource": c.iframe_resources.first(),
        "sequence": c.sequence,
        "staticResource": c.static_resources.first().map(|r| &r.url),
        "staticResourceCreativeType": c.static_resources.first().and_then(|r| r.creative_type.as_ref()),
        "trackingEvents": events_json(&c.tracking),
    })
}

/// An ad verification in MediaTailor's shape.
fn verification_json(v: &Verification) -> Value {
    json!({
        "executableResource": v.executable_resources.iter().map(|r| json!({
            "apiFramework": r.api_framework,
            "type": r.mime_type,
            "uri": r.url,
            "language": r.language,
        })).collect::<Vec<_>>(),
        "javaScriptResource": v.javascript_resources.iter().map(|r| json!({
            "apiFramework": r.api_framework,
            "browserOptional": r.browser_optional,
            "uri": r.url,
        })).collect::<Vec<_>>(),
        "trackingEvents": events_json(&v.tracking),
        "vendor": v.vendor,
        "verificationParameters": v.parameters,
    })
}
