//! The client-side tracking document (`GET /v1/tracking/{session}`), in
//! MediaTailor's JSON shape so existing client code works.
//!
//! Pure: the session's decisions and the ad start times in, JSON out.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::dash::mpd::format_duration;
use crate::session::Decision;
use crate::vast::{Companion, TrackingEvent, Verification};

/// Whether a URL from a VAST response may be handed to a player: http(s) only.
/// A `javascript:`, `file:` or `data:` URL in a beacon or click-through would run or
/// read something in the viewer's player, so it is left out (ASCII case-insensitive
/// scheme, leading whitespace ignored, as browsers do).
fn is_web_url(url: &str) -> bool {
    let url = url.trim_start();
    ["http://", "https://"].iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    })
}

/// The http(s) URLs of `urls`.
fn web_urls<'a>(urls: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    urls.into_iter()
        .filter(|u| is_web_url(u))
        .cloned()
        .collect()
}

/// `url` when it is http(s).
fn web_url(url: Option<&String>) -> Option<String> {
    url.filter(|u| is_web_url(u)).cloned()
}

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
                let urls = web_urls(&urls);
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
                    "mezzanine": web_url(ad.mezzanine_url.as_ref()).unwrap_or_default(),
                },
                "skipOffset": Value::Null,
                "startTime": start_s,
                "startTimeInSeconds": start_n,
                "trackingEvents": events,
                "vastAdId": ad.ad_id.clone().unwrap_or_default(),
                "adClickThrough": web_url(ad.click_through.as_ref()),
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
        .filter(|t| is_web_url(&t.url))
        .map(|t| json!({ "event": t.event, "uri": t.url }))
        .collect()
}

/// A companion in MediaTailor's shape (its single-valued resource fields take the
/// first of each kind; every click-tracking URL is also in
/// `companionClickTrackingUrls`).
fn companion_json(c: &Companion) -> Value {
    let click_tracking = web_urls(&c.click_tracking);
    let static_resource = c.static_resources.iter().find(|r| is_web_url(&r.url));
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
        "companionClickThrough": web_url(c.click_through.as_ref()),
        "companionClickTracking": click_tracking.first(),
        "companionClickTrackingUrls": click_tracking,
        "htmlResource": c.html_resources.first(),
        "iFrameResource": web_url(c.iframe_resources.iter().find(|u| is_web_url(u))),
        "sequence": c.sequence,
        "staticResource": static_resource.map(|r| &r.url),
        "staticResourceCreativeType": static_resource.and_then(|r| r.creative_type.as_ref()),
        "trackingEvents": events_json(&c.tracking),
    })
}

/// An ad verification in MediaTailor's shape.
fn verification_json(v: &Verification) -> Value {
    json!({
        "executableResource": v.executable_resources.iter().filter(|r| is_web_url(&r.url)).map(|r| json!({
            "apiFramework": r.api_framework,
            "type": r.mime_type,
            "uri": r.url,
            "language": r.language,
        })).collect::<Vec<_>>(),
        "javaScriptResource": v.javascript_resources.iter().filter(|r| is_web_url(&r.url)).map(|r| json!({
            "apiFramework": r.api_framework,
            "browserOptional": r.browser_optional,
            "uri": r.url,
        })).collect::<Vec<_>>(),
        "trackingEvents": events_json(&v.tracking),
        "vendor": v.vendor,
        "verificationParameters": v.parameters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::DecidedAd;

    const BAD: [&str; 4] = [
        "javascript:alert(1)",
        "file:///etc/passwd",
        " JavaScript:alert(2)",
        "data:text/html,<script>alert(3)</script>",
    ];

    /// An ad whose every URL field holds `good` and the hostile URLs.
    fn ad(good: &str) -> DecidedAd {
        let urls: Vec<&str> = BAD.iter().copied().chain([good]).collect();
        let beacons: Vec<Value> = urls
            .iter()
            .flat_map(|u| ["start", "complete", "pause"].map(|e| json!({ "event": e, "url": u })))
            .collect();
        let events: Vec<Value> = urls
            .iter()
            .map(|u| json!({ "event": "creativeView", "url": u }))
            .collect();
        serde_json::from_value(json!({
            "ad_id": "a1",
            "duration": 10.0,
            "mezzanine_url": "file:///mnt/master.mov",
            "impressions": urls,
            "tracking": beacons,
            "click_through": "javascript:alert(4)",
            "click_tracking": urls,
            "companions": [{
                "static_resources": [
                    { "creative_type": "image/png", "url": "javascript:alert(5)" },
                    { "creative_type": "image/jpeg", "url": good },
                ],
                "iframe_resources": ["file:///etc/hosts", good],
                "html_resources": ["<p>hi</p>"],
                "click_through": "data:text/html,x",
                "click_tracking": urls,
                "tracking": events,
            }],
            "verifications": [{
                "vendor": "v",
                "javascript_resources": [
                    { "url": "javascript:alert(6)" }, { "url": good },
                ],
                "executable_resources": [{ "url": "file:///bin/sh" }],
                "tracking": events,
            }],
        }))
        .expect("a decided ad")
    }

    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            Value::Object(o) => o.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }

    #[test]
    fn only_http_urls_reach_the_player() {
        let good = "https://t.example/x?e=1";
        let decision = Decision {
            ads: vec![std::sync::Arc::new(ad(good))],
            avail_duration: 30.0,
            failure: None,
        };
        let starts = BTreeMap::from([(("b1".to_string(), 0), 12.0)]);
        let doc = tracking_json(
            &[("b1".to_string(), std::sync::Arc::new(decision))],
            &starts,
        );
        let mut all = Vec::new();
        strings(&doc, &mut all);
        for s in &all {
            let lower = s.trim_start().to_ascii_lowercase();
            assert!(
                !["javascript:", "file:", "data:"]
                    .iter()
                    .any(|p| lower.starts_with(p)),
                "{s} reached the tracking document: {doc:#}"
            );
        }
        // The http(s) ones are all kept: every event, the click tracking, the
        // companion's resources and the verification's script.
        let ad = &doc["avails"][0]["ads"][0];
        let events: Vec<&str> = ad["trackingEvents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventType"].as_str().unwrap())
            .collect();
        assert_eq!(
            events,
            ["impression", "start", "complete", "pause", "clickTracking"]
        );
        for e in ad["trackingEvents"].as_array().unwrap() {
            assert_eq!(e["beaconUrls"], json!([good]), "{e}");
        }
        assert_eq!(ad["adClickThrough"], Value::Null);
        assert_eq!(ad["mediaFiles"]["mezzanine"], "");
        let c = &ad["companionAds"][0];
        assert_eq!(c["staticResource"], good);
        assert_eq!(c["staticResourceCreativeType"], "image/jpeg");
        assert_eq!(c["iFrameResource"], good);
        assert_eq!(c["companionClickThrough"], Value::Null);
        assert_eq!(c["companionClickTrackingUrls"], json!([good]));
        assert_eq!(c["trackingEvents"].as_array().unwrap().len(), 1);
        let v = &ad["adVerifications"][0];
        assert_eq!(v["javaScriptResource"][0]["uri"], good);
        assert_eq!(v["javaScriptResource"].as_array().unwrap().len(), 1);
        assert_eq!(v["executableResource"], json!([]));
        assert_eq!(v["trackingEvents"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn web_urls_are_recognised_by_scheme_only() {
        assert!(is_web_url("http://a"));
        assert!(is_web_url("HTTPS://a"));
        assert!(is_web_url("  https://a"));
        assert!(!is_web_url("httpx://a"));
        assert!(!is_web_url("//a.example/x"));
        assert!(!is_web_url("ht"));
        assert!(!is_web_url("é"));
    }
}
