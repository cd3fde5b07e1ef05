//! Guided (SGAI) sessions end to end over the demo origin and ADS (issue #15):
//! the shared interstitial playlist, asset lists, server-side beacons through the
//! ad playlists, the tracking API, and the insertion mode per configuration and
//! session.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use splicepoint::config::InsertionMode;
use splicepoint::demo::{Demo, DemoOptions};
use splicepoint::server::{router, AppState};
use url::Url;

struct Env {
    base: String,
    http: reqwest::Client,
    demo: Arc<Demo>,
}

async fn start(mode: Option<InsertionMode>) -> Env {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let options = DemoOptions {
        break_every: 20,
        ..DemoOptions::default()
    };
    let demo = Arc::new(Demo::load(&options, &base).unwrap());
    let channels = demo
        .channels()
        .unwrap()
        .into_iter()
        .map(|mut c| {
            if let Some(m) = mode {
                c.raw.insertion_mode = m;
            }
            (c.name.clone(), Arc::new(c))
        })
        .collect();
    let app = router(AppState::new(Arc::new(channels))).merge(demo.clone().router());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Env {
        base,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        demo,
    }
}

impl Env {
    async fn get(&self, url: &str) -> (u16, String, reqwest::header::HeaderMap) {
        let r = self.http.get(url).send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.text().await.unwrap(), headers)
    }

    /// A new session's first variant playlist URL.
    async fn variant(&self, master: &str) -> String {
        let (status, text, _) = self.get(&format!("{}{master}", self.base)).await;
        assert_eq!(status, 200, "{text}");
        let uri = text
            .lines()
            .find(|l| !l.starts_with('#') && !l.is_empty())
            .unwrap();
        Url::parse(&self.base)
            .unwrap()
            .join(uri)
            .unwrap()
            .to_string()
    }

    async fn origin_fetches(&self) -> u64 {
        let (_, text, _) = self.get(&format!("{}/metrics", self.base)).await;
        text.lines()
            .filter(|l| l.starts_with("splicepoint_origin_fetches_total"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }
}

fn dateranges(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("#EXT-X-DATERANGE:") && l.contains("com.apple.hls.interstitial"))
        .collect()
}

fn attr<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let at = line.find(&format!("{name}="))? + name.len() + 1;
    let rest = &line[at..];
    Some(match rest.strip_prefix('"') {
        Some(q) => &q[..q.find('"')?],
        None => rest.split(',').next()?,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guided_vod_asset_lists_beacons_and_tracking() {
    let env = start(None).await;
    let media = env
        .variant("/v1/master/demo-vod/vod/master.m3u8?aws.insertionMode=GUIDED")
        .await;
    let (status, text, headers) = env.get(&media).await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "max-age=300");
    // Pre-, mid- and post-roll; the content untouched (no ad segment in it).
    let dr = dateranges(&text);
    assert_eq!(dr.len(), 3, "{text}");
    assert_eq!(attr(dr[0], "CUE"), Some("PRE"));
    assert_eq!(attr(dr[2], "CUE"), Some("POST"));
    assert!(dr.iter().all(|d| attr(d, "X-RESUME-OFFSET") == Some("0")));
    assert!(!text.contains("/v1/segment/") && !text.contains("/demo/media/ads/"));
    assert!(text.contains("#EXT-X-PROGRAM-DATE-TIME:2000-01-01T00:00:00.000Z"));

    // The mid-roll's asset list: the session's decision (demo default pod: two ads).
    let list_url = Url::parse(&media)
        .unwrap()
        .join(attr(dr[1], "X-ASSET-LIST").unwrap())
        .unwrap();
    let (status, body, headers) = env
        .get(&format!("{list_url}&_HLS_primary_id=player-1"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "private, no-store");
    let list: Value = serde_json::from_str(&body).unwrap();
    let assets = list["ASSETS"].as_array().unwrap();
    assert_eq!(assets.len(), 2, "{body}");
    let total: f64 = assets.iter().map(|a| a["DURATION"].as_f64().unwrap()).sum();
    assert!(total <= 30.5, "fitted to the VOD avail: {total}");
    for a in assets {
        let uri = a["URI"].as_str().unwrap();
        assert!(uri.starts_with(&format!("{}/v1/assets/", env.base)), "{a}");
        assert!(a["X-AD-CREATIVE-SIGNALING"]["payload"][0]["tracking"].is_array());
    }
    // The same decision on a second ask.
    let (_, again, _) = env.get(list_url.as_str()).await;
    assert_eq!(
        serde_json::from_str::<Value>(&again).unwrap()["ASSETS"],
        list["ASSETS"]
    );

    // Server-side reporting: the ad's playlists through us, segments through
    // /v1/segment, which fires the beacons.
    let base = Url::parse(&env.base).unwrap();
    let ad_master = base.join(assets[0]["URI"].as_str().unwrap()).unwrap();
    let (status, master_text, _) = env.get(ad_master.as_str()).await;
    assert_eq!(status, 200, "{master_text}");
    let variant = master_text
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .unwrap();
    let ad_media = ad_master.join(variant).unwrap();
    let (status, ad_text, _) = env.get(ad_media.as_str()).await;
    assert_eq!(status, 200, "{ad_text}");
    let segs: Vec<&str> = ad_text
        .lines()
        .filter(|l| l.starts_with("/v1/segment/"))
        .collect();
    assert!(segs.len() >= 2, "{ad_text}");
    assert!(ad_text.ends_with("#EXT-X-ENDLIST\n"));
    let before = env.get(&format!("{}/demo/beacons", env.base)).await.1;
    for s in &segs {
        let (status, _, h) = env.get(base.join(s).unwrap().as_str()).await;
        assert_eq!(status, 302);
        assert!(h["location"].to_str().unwrap().contains("/demo/media/ads/"));
    }
    // Impression .. complete reach the demo ADS (sent in the background).
    let mut after = String::new();
    for _ in 0..50 {
        after = env.get(&format!("{}/demo/beacons", env.base)).await.1;
        if after.contains("complete") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(before, after);
    assert!(after.contains("complete"), "{after}");

    // The tracking API lists the break with its ads and says the mode.
    let sid = media.split('/').nth(6).unwrap();
    let (_, tracking, _) = env.get(&format!("{}/v1/tracking/{sid}", env.base)).await;
    let tracking: Value = serde_json::from_str(&tracking).unwrap();
    assert_eq!(tracking["insertionMode"], "GUIDED");
    let avails = tracking["avails"].as_array().unwrap();
    assert_eq!(avails.len(), 1, "{tracking}");
    assert_eq!(avails[0]["ads"].as_array().unwrap().len(), 2);
    // The mid-roll starts at the middle of the content.
    assert!(avails[0]["startTimeInSeconds"].as_f64().unwrap() > 10.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guided_live_playlist_is_shared_and_fetched_once() {
    let env = start(None).await;
    let mut sessions = Vec::new();
    for _ in 0..5 {
        sessions.push(
            env.variant(
                "/v1/master/demo-live/live/master.m3u8?aws.insertionMode=GUIDED&pod=single",
            )
            .await,
        );
    }
    // Wait for a break start in the window.
    let mut text = String::new();
    for _ in 0..40 {
        text = env.get(&sessions[0]).await.1;
        if !dateranges(&text).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let dr = dateranges(&text);
    assert_eq!(dr.len(), 1, "{text}");
    assert_eq!(attr(dr[0], "X-RESUME-OFFSET"), Some("16"));
    assert_eq!(attr(dr[0], "X-SNAP"), Some("OUT,IN"));
    // Five sessions at once: one origin fetch at most, the same bytes for all.
    let before = env.origin_fetches().await;
    let tasks: Vec<_> = sessions
        .iter()
        .map(|s| {
            let (http, s) = (env.http.clone(), s.clone());
            tokio::spawn(async move {
                let r = http.get(&s).send().await.unwrap();
                assert_eq!(r.status().as_u16(), 200);
                r.text().await.unwrap()
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        bodies.push(t.await.unwrap());
    }
    let fetched = env.origin_fetches().await - before;
    assert!(
        fetched <= 1,
        "{fetched} origin fetches for five guided sessions"
    );
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "guided playlists differ"
    );
    // Each session's asset list is its own (the same relative URI).
    let mut ads_seen = 0;
    for s in &sessions[..2] {
        let dr = dateranges(&bodies[0]);
        let url = Url::parse(s)
            .unwrap()
            .join(attr(dr[0], "X-ASSET-LIST").unwrap())
            .unwrap();
        let (status, body, _) = env.get(&format!("{url}&_HLS_start_offset=3")).await;
        assert_eq!(status, 200, "{body}");
        let list: Value = serde_json::from_str(&body).unwrap();
        let assets = list["ASSETS"].as_array().unwrap();
        // pod=single: one ad, then whole slates up to the 16 s avail; all kept
        // though the player joins 3 s in (it counts offsets from the list start).
        let total: f64 = assets.iter().map(|a| a["DURATION"].as_f64().unwrap()).sum();
        assert!((total - 16.0).abs() < 0.6, "{body}");
        assert!(assets[0]["URI"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/v1/assets/", env.base)));
        assert!(assets[0]["URI"]
            .as_str()
            .unwrap()
            .contains(s.split('/').nth(6).unwrap()));
        ads_seen += 1;
    }
    assert_eq!(ads_seen, 2);
    let _ = env.demo.ad_segments_served();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stitched_sessions_are_unchanged_and_the_mode_is_checked() {
    let env = start(None).await;
    // Without the parameter: stitched, as before.
    let media = env.variant("/v1/master/demo-vod/vod/master.m3u8").await;
    let (_, text, _) = env.get(&media).await;
    assert!(dateranges(&text).is_empty());
    assert!(text.contains("/v1/segment/"), "{text}");
    // Explicit sessions choose with insertionMode.
    let post = |body: &'static str| {
        env.http
            .post(format!("{}/v1/session/demo-vod/vod/master.m3u8", env.base))
            .body(body)
            .send()
    };
    let r: Value = post(r#"{"insertionMode":"GUIDED"}"#)
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(r["insertionMode"], "GUIDED");
    let master = format!("{}{}", env.base, r["manifestUrl"].as_str().unwrap());
    let (_, m, _) = env.get(&master).await;
    let v = m
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())
        .unwrap();
    let (_, guided, _) = env
        .get(Url::parse(&master).unwrap().join(v).unwrap().as_str())
        .await;
    assert_eq!(dateranges(&guided).len(), 3);
    let r: Value = post(r#"{"insertionMode":"STITCHED"}"#)
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(r["insertionMode"], "STITCHED");
    assert_eq!(
        post(r#"{"insertionMode":"BOTH"}"#).await.unwrap().status(),
        400
    );

    // A stitched-only configuration refuses guided sessions; a guided one makes
    // every session guided.
    let stitched = start(Some(InsertionMode::Stitched)).await;
    let (status, body, _) = stitched
        .get(&format!(
            "{}/v1/master/demo-vod/vod/master.m3u8?aws.insertionMode=GUIDED",
            stitched.base
        ))
        .await;
    assert_eq!(status, 400, "{body}");
    let guided = start(Some(InsertionMode::Guided)).await;
    let media = guided.variant("/v1/master/demo-vod/vod/master.m3u8").await;
    assert_eq!(dateranges(&guided.get(&media).await.1).len(), 3);
}
