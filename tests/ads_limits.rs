//! What one player request may cost the ad decision server and the proxy (#13 items
//! 4 and 5), end to end: a real origin and ADS on 127.0.0.1, the real router.
//!
//! Each test prints its figure (ADS requests, time) to stderr for the before/after.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use splicepoint::config::PlaybackConfig;
use splicepoint::hls::model::parse_media;
use splicepoint::server::{router, AppState};

#[path = "common/serve.rs"]
mod serve;
use serve::serve;

/// The upstream: origin playlists, ad playlists and a VAST server that counts its
/// requests.
#[derive(Clone, Default)]
struct Up {
    base: Arc<Mutex<String>>,
    /// The VOD playlist served at `vod/index.m3u8`.
    vod: Arc<Mutex<String>>,
    /// What `/vast/...` answers.
    vast: Arc<Mutex<VastMode>>,
    vast_requests: Arc<AtomicUsize>,
}

#[derive(Clone, Copy, Default)]
enum VastMode {
    /// One 10 s HLS ad, answered after this many milliseconds.
    #[default]
    One,
    Slow(u64),
    /// VAST 4 wrappers with `allowMultipleAds`, each pointing at ten more wrappers
    /// with distinct URLs, seven levels deep (the fan-out of item 4).
    FanOut,
    /// This many ads, each claiming 0.001 s, each really 10 s (item 5).
    Liars(usize),
}

fn vod(n: usize, cue_every: usize) -> String {
    let mut s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        .to_string();
    for i in 0..n {
        if cue_every > 0 && i > 0 && i % cue_every == 0 {
            s.push_str("#EXT-X-CUE-OUT:0\n");
        }
        s.push_str(&format!("#EXTINF:2.000,\nc{i}.ts\n"));
    }
    s + "#EXT-X-ENDLIST\n"
}

fn inline(base: &str, id: &str, duration: &str) -> String {
    format!(
        "<Ad id=\"{id}\"><InLine><AdSystem>t</AdSystem><AdTitle>t</AdTitle><Impression>http://127.0.0.1:1/i</Impression><Creatives><Creative><Linear><Duration>{duration}</Duration><MediaFiles><MediaFile delivery=\"streaming\" type=\"application/x-mpegURL\">{base}/ad/{id}/index.m3u8</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>"
    )
}

async fn upstream(State(up): State<Up>, Path(path): Path<String>) -> Response {
    let base = up.base.lock().unwrap().clone();
    let hls = |s: String| ([("content-type", "application/vnd.apple.mpegurl")], s).into_response();
    if path == "vod/index.m3u8" {
        return hls(up.vod.lock().unwrap().clone());
    }
    if path.starts_with("ad/") {
        // Every ad is 10 s: five 2 s segments.
        let mut s = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n".to_string();
        for i in 0..5 {
            s.push_str(&format!("#EXTINF:2.000,\na{i}.ts\n"));
        }
        return hls(s + "#EXT-X-ENDLIST\n");
    }
    let Some(rest) = path.strip_prefix("vast") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    up.vast_requests.fetch_add(1, SeqCst);
    let mode = *up.vast.lock().unwrap();
    let body = match mode {
        VastMode::One => format!(
            "<VAST version=\"3.0\">{}</VAST>",
            inline(&base, "one", "00:00:10")
        ),
        VastMode::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            format!(
                "<VAST version=\"3.0\">{}</VAST>",
                inline(&base, "one", "00:00:10")
            )
        }
        VastMode::FanOut => {
            let level = rest.matches('/').count();
            if level >= 7 {
                format!(
                    "<VAST version=\"4.2\">{}</VAST>",
                    inline(&base, "leaf", "00:00:10")
                )
            } else {
                let wrappers: String = (0..10)
                    .map(|k| {
                        format!(
                            "<Ad><Wrapper allowMultipleAds=\"true\"><AdSystem>t</AdSystem><VASTAdTagURI>{base}/vast{rest}/{k}</VASTAdTagURI><Impression>http://127.0.0.1:1/w</Impression></Wrapper></Ad>"
                        )
                    })
                    .collect();
                format!("<VAST version=\"4.2\">{wrappers}</VAST>")
            }
        }
        VastMode::Liars(n) => {
            let ads: String = (0..n)
                .map(|i| inline(&base, &format!("liar{i}"), "00:00:00.001"))
                .collect();
            format!("<VAST version=\"3.0\">{ads}</VAST>")
        }
    };
    ([("content-type", "application/xml")], body).into_response()
}

async fn proxy(up: &Up, tune: impl FnOnce(&mut PlaybackConfig)) -> (String, reqwest::Client) {
    let app = Router::new()
        .route("/{*path}", get(upstream))
        .with_state(up.clone());
    let base = serve(app).await;
    *up.base.lock().unwrap() = base.clone();
    let mut cfg = PlaybackConfig {
        origin: format!("{base}/"),
        ads_url: format!("{base}/vast"),
        ..PlaybackConfig::default()
    };
    tune(&mut cfg);
    let channel = cfg.validate("test", "c").unwrap();
    let state = AppState::new(Arc::new([("c".to_string(), Arc::new(channel))].into()));
    let url = serve(router(state)).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (url, http)
}

/// The personalized VOD playlist of a new session, and how long it took.
async fn vod_playlist(url: &str, http: &reqwest::Client) -> (String, Duration) {
    let r = http
        .get(format!("{url}/v1/master/c/vod/index.m3u8"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let t = Instant::now();
    let r = http.get(format!("{url}{loc}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    (text, t.elapsed())
}

/// Seconds of ad in a personalized playlist (ad segments go through `/v1/segment/`).
fn ad_seconds(text: &str) -> f64 {
    parse_media(text)
        .unwrap()
        .segments
        .iter()
        .filter(|s| s.uri.contains("/v1/segment/"))
        .map(|s| s.duration)
        .sum()
}

#[tokio::test]
async fn a_wrapper_fan_out_costs_at_most_the_cap_of_ads_requests() {
    let up = Up::default();
    *up.vod.lock().unwrap() = vod(30, 0);
    *up.vast.lock().unwrap() = VastMode::FanOut;
    let (url, http) = proxy(&up, |_| {}).await;
    let (text, took) = vod_playlist(&url, &http).await;
    // Whatever is still in flight when the decision ends is dropped with it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let n = up.vast_requests.load(SeqCst);
    eprintln!("fan-out: {n} ADS requests for one playlist in {took:?}");
    assert!(n <= 32, "{n} ADS requests for one decision");
    assert!(n >= 2, "the wrappers were followed ({n})");
    // Leaves are seven wrappers deep: none is reached inside the cap, so the
    // playlist is the content, served at once rather than after the ADS timeout.
    assert_eq!(ad_seconds(&text), 0.0);
    assert!(took < Duration::from_secs(2), "{took:?}");
    // Counted as such in the ADS outcomes (issue #16).
    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.lines().any(|l| l
            .starts_with("splicepoint_ads_decisions_total{outcome=\"fan_out_capped\",")
            && l.ends_with(" 1")),
        "{metrics}"
    );

    // A configured cap is the cap.
    let up = Up::default();
    *up.vod.lock().unwrap() = vod(30, 0);
    *up.vast.lock().unwrap() = VastMode::FanOut;
    let (url, http) = proxy(&up, |c| c.ad_limits.max_requests_per_decision = 5).await;
    vod_playlist(&url, &http).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(up.vast_requests.load(SeqCst), 5);
}

#[tokio::test]
async fn vod_breaks_are_decided_concurrently_and_capped() {
    // 200 `CUE-OUT:0` insertion points (and the pre-roll) against an ADS that
    // takes 25 ms: 5 s one after another; capped at 100 and 8 at a time here.
    let up = Up::default();
    *up.vod.lock().unwrap() = vod(401, 2);
    *up.vast.lock().unwrap() = VastMode::Slow(25);
    let (url, http) = proxy(&up, |_| {}).await;
    let (text, took) = vod_playlist(&url, &http).await;
    let n = up.vast_requests.load(SeqCst);
    eprintln!("200 CUE-OUT:0 points: {n} ADS requests, playlist in {took:?}");
    assert_eq!(n, 100, "the first 100 breaks are decided, no more");
    assert!(
        took < Duration::from_millis(2_500),
        "{took:?}: decided one after another?"
    );
    // Each decided break holds its one 10 s ad.
    assert_eq!(ad_seconds(&text), 100.0 * 10.0);
    // And they are the first 100 in the playlist: content after them is untouched.
    let pl = parse_media(&text).unwrap();
    let last_ad = pl
        .segments
        .iter()
        .rposition(|s| s.uri.contains("/v1/segment/"))
        .unwrap();
    assert!(pl.segments[last_ad + 1..]
        .iter()
        .all(|s| !s.uri.contains("/v1/segment/")));

    // The bound is configuration.
    let up = Up::default();
    *up.vod.lock().unwrap() = vod(401, 2);
    *up.vast.lock().unwrap() = VastMode::Slow(25);
    let (url, http) = proxy(&up, |c| c.ad_limits.max_breaks_per_playlist = 3).await;
    let (text, _) = vod_playlist(&url, &http).await;
    assert_eq!(up.vast_requests.load(SeqCst), 3);
    assert_eq!(ad_seconds(&text), 30.0);
}

#[tokio::test]
async fn vod_ads_fit_the_avail_by_their_real_length() {
    // A VAST of 1,500 ads that each claim 0.001 s and last 10 s, for the 30 s
    // implicit pre-roll: three ads play, not 15,000 s of them.
    let up = Up::default();
    *up.vod.lock().unwrap() = vod(30, 0);
    *up.vast.lock().unwrap() = VastMode::Liars(1_500);
    let (url, http) = proxy(&up, |_| {}).await;
    let (text, took) = vod_playlist(&url, &http).await;
    let secs = ad_seconds(&text);
    eprintln!("1,500 lying ads: {secs} s of ads in a 30 s pre-roll, playlist in {took:?}");
    assert_eq!(secs, 30.0);
}
