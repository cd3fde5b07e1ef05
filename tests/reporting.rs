//! Ad reporting end to end: a simulated player, an in-process origin, ADS and
//! beacon collector.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use splicepoint::config::PlaybackConfig;
use splicepoint::hls::model::parse_media;
use splicepoint::server::{router, AppState};
use splicepoint::session::{MemoryStore, SessionStore};

#[path = "common/serve.rs"]
mod serve;
use serve::serve;

#[path = "common/redis_server.rs"]
mod redis_server;

#[derive(Default)]
struct Up {
    base: Mutex<String>,
    /// (ad, event, user agent, x-forwarded-for) in arrival order.
    beacons: Mutex<Vec<(String, String, String, String)>>,
    /// VAST requests.
    vast_calls: Mutex<u32>,
    /// (ad, VAST error code) of the Error URLs called.
    errors: Mutex<Vec<(String, String)>>,
}

fn ad_xml(base: &str, id: &str, seq: u32, secs: u32, dir: &str) -> String {
    let b = |e: &str| format!("<![CDATA[{base}/beacon?ad={id}&e={e}&cb=[CACHEBUSTING]]]>");
    let events: String = [
        "start",
        "firstQuartile",
        "midpoint",
        "thirdQuartile",
        "complete",
        "pause",
    ]
    .iter()
    .map(|e| format!("<Tracking event=\"{e}\">{}</Tracking>", b(e)))
    .collect();
    format!(
        "<Ad id=\"{id}\" sequence=\"{seq}\"><InLine><AdSystem>t</AdSystem><AdTitle>{id}</AdTitle><Impression>{}</Impression><Creatives><Creative id=\"c-{id}\"><Linear><Duration>00:00:{secs:02}</Duration><TrackingEvents>{events}</TrackingEvents><VideoClicks><ClickThrough>https://advertiser.example/{id}</ClickThrough></VideoClicks><MediaFiles><MediaFile delivery=\"streaming\" type=\"application/x-mpegURL\" width=\"320\" height=\"180\">{base}/origin/{dir}/index.m3u8</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>",
        b("impression")
    )
}

const VERIFICATION: &str = "<AdVerifications><Verification vendor=\"measure.example-omid\"><JavaScriptResource apiFramework=\"omid\" browserOptional=\"true\"><![CDATA[https://measure.example/omid.js]]></JavaScriptResource><TrackingEvents><Tracking event=\"verificationNotExecuted\"><![CDATA[https://measure.example/nx?r=[REASON]]]></Tracking></TrackingEvents><VerificationParameters><![CDATA[{\"k\":1}]]></VerificationParameters></Verification></AdVerifications><Creatives>";

const COMPANION: &str = "</Creative><Creative id=\"comp-A\" sequence=\"1\"><CompanionAds><Companion id=\"banner\" width=\"300\" height=\"250\"><StaticResource creativeType=\"image/png\"><![CDATA[https://cdn.example/banner.png]]></StaticResource><TrackingEvents><Tracking event=\"creativeView\"><![CDATA[https://track.example/cv]]></Tracking></TrackingEvents><CompanionClickThrough><![CDATA[https://advertiser.example/landing]]></CompanionClickThrough></Companion></CompanionAds></Creative></Creatives>";

async fn upstream(
    State(up): State<Arc<Up>>,
    Path(path): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let base = up.base.lock().unwrap().clone();
    let hls = |s: String| ([("content-type", "application/vnd.apple.mpegurl")], s).into_response();
    match path.as_str() {
        "origin/vod/index.m3u8" => {
            let mut s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n".to_string();
            for k in 0..5 {
                s.push_str(&format!("#EXTINF:2.000,\nc{k}.ts\n"));
            }
            hls(s + "#EXT-X-ENDLIST\n")
        }
        "origin/ad4/index.m3u8" | "origin/ad2/index.m3u8" => {
            let n = if path.contains("ad4") { 4 } else { 2 };
            let mut s =
                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                    .to_string();
            for k in 0..n {
                s.push_str(&format!("#EXTINF:2.000,\ns{k}.ts\n"));
            }
            hls(s + "#EXT-X-ENDLIST\n")
        }
        "vast" => {
            *up.vast_calls.lock().unwrap() += 1;
            // C (40 s) cannot fit the 30 s pre-roll: its Error URL gets 202.
            let c = ad_xml(&base, "C", 3, 40, "ad4").replace(
                "<Impression>",
                &format!(
                    "<Error><![CDATA[{base}/errbeacon?ad=C&code=[ERRORCODE]]]></Error><Impression>"
                ),
            );
            // A has a companion and an ad verification, for the tracking API.
            let a = ad_xml(&base, "A", 1, 8, "ad4")
                .replace("<Creatives>", VERIFICATION)
                .replace("</Creative></Creatives>", COMPANION);
            let body = format!(
                "<VAST version=\"4.1\">{a}{}{c}</VAST>",
                ad_xml(&base, "B", 2, 4, "ad2")
            );
            ([("content-type", "application/xml")], body).into_response()
        }
        "errbeacon" => {
            up.errors.lock().unwrap().push((
                q.get("ad").cloned().unwrap_or_default(),
                q.get("code").cloned().unwrap_or_default(),
            ));
            StatusCode::NO_CONTENT.into_response()
        }
        "beacon" => {
            let h = |n: &str| {
                headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string()
            };
            up.beacons.lock().unwrap().push((
                q.get("ad").cloned().unwrap_or_default(),
                q.get("e").cloned().unwrap_or_default(),
                h("user-agent"),
                h("x-forwarded-for"),
            ));
            StatusCode::NO_CONTENT.into_response()
        }
        p if p.starts_with("origin/") && p.ends_with(".ts") => "segment-bytes".into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

struct Env {
    up: Arc<Up>,
    proxy: String,
    /// Every instance (the first is `proxy`).
    proxies: Vec<String>,
    http: reqwest::Client,
}

async fn env() -> Env {
    env_with(vec![Arc::new(MemoryStore::default())]).await
}

/// One instance per store, in front of the same upstream.
async fn env_with(stores: Vec<Arc<dyn SessionStore>>) -> Env {
    let up = Arc::new(Up::default());
    let app = Router::new()
        .route("/{*path}", get(upstream))
        .with_state(up.clone());
    let base = serve(app).await;
    *up.base.lock().unwrap() = base.clone();
    let channel = PlaybackConfig {
        origin: format!("{base}/origin/"),
        ads_url: format!("{base}/vast?s=[session.id]"),
        ..PlaybackConfig::default()
    }
    .validate("test", "r")
    .unwrap();
    let channels: splicepoint::config::Channels =
        Arc::new([("r".to_string(), Arc::new(channel))].into());
    let mut proxies = Vec::new();
    for store in stores {
        // The test client stands for a CDN: its X-Forwarded-For is believed.
        let limits = splicepoint::config::Limits {
            trusted_proxies: vec![splicepoint::config::IpRange::parse("127.0.0.0/8").unwrap()],
            ..Default::default()
        };
        let state = AppState::with_limits(channels.clone(), Some(store), limits);
        proxies.push(serve(router(state)).await);
    }
    let proxy = proxies[0].clone();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("TestPlayer/1.0")
        .build()
        .unwrap();
    Env {
        up,
        proxy,
        proxies,
        http,
    }
}

impl Env {
    /// A server-mode session's media playlist: (manifest URL, segment URIs).
    async fn playlist(&self) -> (String, Vec<String>) {
        let r = self
            .http
            .get(format!("{}/v1/master/r/vod/index.m3u8", self.proxy))
            .header("x-forwarded-for", "203.0.113.7")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let segs = self.segment_uris_at(0, &loc).await;
        (loc, segs)
    }

    /// The segment URIs of the media playlist at `path`, through instance `n`.
    async fn segment_uris_at(&self, n: usize, path: &str) -> Vec<String> {
        let text = self
            .http
            .get(format!("{}{path}", self.proxies[n]))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        parse_media(&text)
            .unwrap()
            .segments
            .iter()
            .map(|s| s.uri.clone())
            .collect()
    }

    async fn fetch(&self, uri: &str) -> u16 {
        self.fetch_at(0, uri).await
    }

    /// Fetch through instance `n`.
    async fn fetch_at(&self, n: usize, uri: &str) -> u16 {
        let url = if uri.starts_with('/') {
            format!("{}{uri}", self.proxies[n])
        } else {
            uri.to_string()
        };
        self.http.get(url).send().await.unwrap().status().as_u16()
    }

    /// Wait (bounded) until `n` beacons arrived, then a little more for strays.
    async fn beacons(&self, n: usize) -> Vec<(String, String)> {
        for _ in 0..50 {
            if self.up.beacons.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.up
            .beacons
            .lock()
            .unwrap()
            .iter()
            .map(|(a, e, _, _)| (a.clone(), e.clone()))
            .collect()
    }
}

const FULL: [&str; 6] = [
    "impression",
    "start",
    "firstQuartile",
    "midpoint",
    "thirdQuartile",
    "complete",
];

fn expect(ad: &str, events: &[&str]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| (ad.to_string(), e.to_string()))
        .collect()
}

#[tokio::test]
async fn a_player_that_plays_both_ads_fires_each_beacon_once_in_order() {
    let e = env().await;
    let (_, segs) = e.playlist().await;
    assert_eq!(segs.len(), 6 + 5);
    assert!(
        segs[..6].iter().all(|s| s.starts_with("/v1/segment/")),
        "{segs:?}"
    );
    for s in &segs[..6] {
        assert_eq!(e.fetch(s).await, 302);
        // Retries add nothing.
        assert_eq!(e.fetch(s).await, 302);
    }
    let got = e.beacons(12).await;
    let mut want = expect("A", &FULL);
    want.extend(expect("B", &FULL));
    assert_eq!(got, want);
    let raw = e.up.beacons.lock().unwrap().clone();
    assert!(
        raw.iter()
            .all(|(_, _, ua, xff)| ua == "TestPlayer/1.0" && xff == "203.0.113.7"),
        "{raw:?}"
    );
}

/// Two instances sharing a Redis session store: the session starts on one, the
/// player's segment requests (and their retries) alternate between both, and
/// still every beacon fires exactly once, in order.
#[tokio::test]
async fn two_instances_sharing_redis_fire_each_beacon_once() {
    let Some(redis) = redis_server::RedisServer::start() else {
        return;
    };
    let stores = redis.stores(2).await;
    let e = env_with(stores).await;
    let (loc, segs) = e.playlist().await;
    // The other instance serves the same personalized playlist.
    assert_eq!(e.segment_uris_at(1, &loc).await, segs);
    for (n, s) in segs[..6].iter().enumerate() {
        assert_eq!(e.fetch_at(n % 2, s).await, 302);
        // The retry goes to the other instance.
        assert_eq!(e.fetch_at((n + 1) % 2, s).await, 302);
    }
    let got = e.beacons(12).await;
    let mut want = expect("A", &FULL);
    want.extend(expect("B", &FULL));
    assert_eq!(got, want);
    // One ADS request for the session, though two instances served it.
    assert_eq!(*e.up.vast_calls.lock().unwrap(), 1);
}

#[tokio::test]
async fn manifest_only_fires_nothing_and_stopping_mid_ad_fires_what_was_reached() {
    let e = env().await;
    let (_, segs) = e.playlist().await;
    assert!(
        e.beacons(1).await.is_empty(),
        "a manifest alone is not an impression"
    );
    // Two of ad A's four segments: impression, start, first quartile (and midpoint
    // is reached only at the third segment).
    e.fetch(&segs[0]).await;
    e.fetch(&segs[1]).await;
    assert_eq!(e.beacons(3).await, expect("A", &FULL[..3]));
}

#[tokio::test]
async fn segment_route_refuses_foreign_targets() {
    let e = env().await;
    let (_, segs) = e.playlist().await;
    let mut parts: Vec<String> = segs[0].split('/').map(str::to_string).collect();
    parts[8] = splicepoint::session::id::hex(b"https://evil.example/x.ts");
    let evil = parts.join("/");
    assert_eq!(e.fetch(&evil).await, 400);
    assert!(e.beacons(1).await.is_empty());
}

#[tokio::test]
async fn tracking_json_matches_the_manifest() {
    let e = env().await;
    let (loc, segs) = e.playlist().await;
    let sid = loc.split('/').nth(4).unwrap();
    let doc: serde_json::Value = serde_json::from_str(
        &e.http
            .get(format!("{}/v1/tracking/{sid}", e.proxy))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let avails = doc["avails"].as_array().unwrap();
    assert_eq!(avails.len(), 1);
    let ads = avails[0]["ads"].as_array().unwrap();
    assert_eq!(ads.len(), 2);
    assert_eq!(ads[0]["adId"], "A");
    assert_eq!(ads[0]["creativeId"], "c-A");
    assert_eq!(ads[0]["startTimeInSeconds"], 0.0);
    assert_eq!(ads[0]["durationInSeconds"], 8.0);
    assert_eq!(ads[1]["startTimeInSeconds"], 8.0);
    assert_eq!(ads[1]["adClickThrough"], "https://advertiser.example/B");
    let events: Vec<&str> = ads[0]["trackingEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "impression",
            "start",
            "firstQuartile",
            "midpoint",
            "thirdQuartile",
            "complete",
            "pause"
        ]
    );
    let mid = &ads[0]["trackingEvents"][3];
    assert_eq!(mid["startTimeInSeconds"], 4.0);
    assert!(mid["beaconUrls"][0]
        .as_str()
        .unwrap()
        .contains("e=midpoint"));
    // Companions and verifications are passed through, in MediaTailor's shape.
    assert_eq!(ads[0]["adSystem"], "t");
    let comp = &ads[0]["companionAds"];
    assert_eq!(comp.as_array().unwrap().len(), 1, "{comp}");
    assert_eq!(comp[0]["attributes"]["width"], "300");
    assert_eq!(comp[0]["attributes"]["height"], "250");
    assert_eq!(comp[0]["attributes"]["id"], "banner");
    assert_eq!(comp[0]["sequence"], "1");
    assert_eq!(comp[0]["staticResource"], "https://cdn.example/banner.png");
    assert_eq!(
        comp[0]["companionClickThrough"],
        "https://advertiser.example/landing"
    );
    assert_eq!(comp[0]["trackingEvents"][0]["event"], "creativeView");
    assert_eq!(
        comp[0]["trackingEvents"][0]["uri"],
        "https://track.example/cv"
    );
    let ver = &ads[0]["adVerifications"];
    assert_eq!(ver.as_array().unwrap().len(), 1, "{ver}");
    assert_eq!(ver[0]["vendor"], "measure.example-omid");
    assert_eq!(
        ver[0]["javaScriptResource"][0]["uri"],
        "https://measure.example/omid.js"
    );
    assert_eq!(ver[0]["javaScriptResource"][0]["apiFramework"], "omid");
    assert_eq!(ver[0]["javaScriptResource"][0]["browserOptional"], "true");
    assert_eq!(
        ver[0]["trackingEvents"][0]["event"],
        "verificationNotExecuted"
    );
    assert_eq!(ver[0]["verificationParameters"], "{\"k\":1}");
    assert_eq!(ads[1]["companionAds"], serde_json::json!([]));
    // The manifest agrees: ad B's first segment is the fifth segment, at 8 s.
    assert!(segs[4].contains("/1/0/2/"), "{}", segs[4]);
    assert!(segs[4].ends_with("/s0.ts"), "{}", segs[4]);
}

#[tokio::test]
async fn explicit_client_side_session() {
    let e = env().await;
    let r = e
        .http
        .post(format!("{}/v1/session/r/vod/index.m3u8", e.proxy))
        .body(r#"{"adsParams":{"deviceType":"ipad"},"playerParams":{"x":"1"},"reportingMode":"client"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let manifest = body["manifestUrl"].as_str().unwrap();
    assert!(manifest.starts_with("/v1/manifest/r/"));
    assert!(body["trackingUrl"]
        .as_str()
        .unwrap()
        .starts_with("/v1/tracking/"));
    let segs = e.segment_uris_at(0, manifest).await;
    assert!(
        segs[0].ends_with("/origin/ad4/s0.ts"),
        "client mode: direct ad URIs, {segs:?}"
    );
    for s in &segs {
        e.fetch(s).await;
    }
    assert!(
        e.beacons(1).await.is_empty(),
        "the player reports in client mode"
    );
    let bad = e
        .http
        .post(format!("{}/v1/session/r/vod/index.m3u8", e.proxy))
        .body(r#"{"reportingMode":"sometimes"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad = e
        .http
        .post(format!("{}/v1/session/r/vod/index.m3u8", e.proxy))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // Parameters follow the query parameters' rules (name, length, count).
    let too_many: String = (0..65)
        .map(|n| format!("\"p{n}\":\"1\""))
        .collect::<Vec<_>>()
        .join(",");
    for body in [
        r#"{"adsParams":{"bad name":"1"}}"#.to_string(),
        format!(r#"{{"playerParams":{{"v":"{}"}}}}"#, "x".repeat(2000)),
        format!(r#"{{"adsParams":{{{too_many}}}}}"#),
    ] {
        let bad = e
            .http
            .post(format!("{}/v1/session/r/vod/index.m3u8", e.proxy))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400, "{body}");
    }
}

#[tokio::test]
async fn an_ad_that_cannot_be_used_gets_its_error_url_called_with_the_code() {
    let e = env().await;
    let (_, segs) = e.playlist().await;
    assert_eq!(segs.len(), 6 + 5, "C (40 s) is not in the 30 s pre-roll");
    for _ in 0..50 {
        if !e.up.errors.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        *e.up.errors.lock().unwrap(),
        vec![("C".to_string(), "202".to_string())]
    );
}
