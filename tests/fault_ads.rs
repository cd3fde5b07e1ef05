//! Fault matrix, ADS family (issue #13): the ADS refuses connections, answers 5xx,
//! sends something that is not VAST, sends more than the 1 MiB cap, or steers the
//! fetch at an internal host (an HTTP redirect or a wrapper). The documented outcome
//! (DESIGN, failure rules): the manifest never fails; the break plays slate (or the
//! content when there is no slate), and the failed decision is remembered, so
//! every later refresh agrees and the ADS is asked once per session and break.
//!
//! Slow, empty, malformed and a wrapper loop are in `tests/server.rs`
//! (`ads_failures_fill_with_slate_or_content`); a wrapper fan-out in
//! `tests/ads_limits.rs` (`a_wrapper_fan_out_costs_at_most_the_cap_of_ads_requests`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use splicepoint::config::PlaybackConfig;
use splicepoint::server::{router, AppState};

#[path = "common/serve.rs"]
mod serve;
use serve::serve;
#[path = "common/faults.rs"]
mod faults;
use faults::{assert_playable, client, fetch, new_origin, origin_app};

/// ADS calls by mode.
type Calls = Arc<Mutex<HashMap<String, u64>>>;

#[derive(Clone)]
struct Ads {
    calls: Calls,
    /// Base URL of the "internal" server (127.0.0.2).
    internal: String,
    /// Base URL of the origin app (its `/vast` is a good VAST).
    good: String,
    /// This ADS's own base URL.
    own: Arc<Mutex<String>>,
}

fn wrapper(next: &str) -> String {
    format!(
        r#"<VAST version="3.0"><Ad id="w"><Wrapper><AdSystem>w</AdSystem><VASTAdTagURI><![CDATA[{next}]]></VASTAdTagURI><Impression>http://127.0.0.1:9/w</Impression><Creatives/></Wrapper></Ad></VAST>"#
    )
}

async fn ads(State(a): State<Ads>, Path(mode): Path<String>) -> Response {
    *a.calls.lock().unwrap().entry(mode.clone()).or_default() += 1;
    let xml = |s: String| ([("content-type", "application/xml")], s).into_response();
    match mode.as_str() {
        "status" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "garbage" => (
            [("content-type", "text/html")],
            "<html><body>Service Unavailable</body></html>",
        )
            .into_response(),
        "huge" => {
            // A good VAST padded past the 1 MiB cap with a comment.
            let body = reqwest::get(format!("{}/vast", a.good))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            xml(body.replace("<Ad ", &format!("<!-- {} --><Ad ", "x".repeat(1_100_000))))
        }
        "redirect-internal" => (
            StatusCode::FOUND,
            [("location", format!("{}/vast", a.internal))],
        )
            .into_response(),
        "wrapper-internal" => xml(wrapper(&format!("{}/vast", a.internal))),
        // A control: a wrapper to a public-looking good VAST on the same
        // configured host works (the check is not "no wrappers").
        "wrapper-good" => xml(wrapper(&format!("{}/vast/inline", a.good_on_ads()))),
        "inline" => {
            let body = reqwest::get(format!("{}/vast", a.good))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            xml(body)
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Ads {
    /// The ADS's own base (set once the server is up).
    fn good_on_ads(&self) -> String {
        self.own.lock().unwrap().clone()
    }
}

struct Env {
    proxy: String,
    calls: Calls,
    internal_hits: Arc<Mutex<u64>>,
    http: reqwest::Client,
}

async fn env(slate: bool) -> Env {
    let origin = new_origin();
    let upstream = serve(origin_app(origin.clone())).await;
    // The "internal" service: on another loopback address, serving a good VAST,
    // counting hits. A fetch steered here must never arrive.
    let internal_hits = Arc::new(Mutex::new(0u64));
    let hits = internal_hits.clone();
    let good = upstream.clone();
    let internal_app = Router::new().route(
        "/vast",
        get(move || {
            let (hits, good) = (hits.clone(), good.clone());
            async move {
                *hits.lock().unwrap() += 1;
                let body = reqwest::get(format!("{good}/vast"))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                ([("content-type", "application/xml")], body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let internal = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, internal_app).await.unwrap() });
    let calls: Calls = Arc::default();
    let own: Arc<Mutex<String>> = Arc::default();
    let ads_app = Router::new()
        .route("/vast/{mode}", get(ads))
        .with_state(Ads {
            calls: calls.clone(),
            internal,
            good: upstream.clone(),
            own: own.clone(),
        });
    let ads_base = serve(ads_app).await;
    *own.lock().unwrap() = ads_base.clone();
    // `down`: a port nothing listens on (bound, then closed), on the ADS's host.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let mut cfg = PlaybackConfig {
        name: Some("ch".into()),
        origin: format!("{upstream}/origin/"),
        ads_url: format!("{ads_base}/vast/[player_params.mode]"),
        ads_timeout_ms: 1_000,
        ..PlaybackConfig::default()
    };
    if slate {
        cfg.slate = Some(format!("{upstream}/slate.m3u8"));
    }
    let mut down = cfg.clone();
    down.name = Some("down".into());
    down.ads_url = format!("http://127.0.0.1:{dead_port}/vast");
    let channels = Arc::new(
        [cfg, down]
            .into_iter()
            .map(|c| {
                let name = c.name.clone().unwrap();
                let c = c.validate("test", &name).unwrap();
                (name, Arc::new(c))
            })
            .collect(),
    );
    let proxy = serve(router(AppState::new(channels))).await;
    Env {
        proxy,
        calls,
        internal_hits,
        http: client(),
    }
}

/// A session on `config` with `mode`, refreshed across the first break: the
/// break's URIs once it is published (slate, ad or content).
async fn break_uris(e: &Env, config: &str, mode: &str) -> Vec<String> {
    let (s, loc) = fetch(
        &e.http,
        &format!("{}/v1/master/{config}/live.m3u8?mode={mode}", e.proxy),
    )
    .await;
    assert_eq!(s, 302, "{loc}");
    let url = format!("{}{loc}", e.proxy);
    // The CUE-OUT (segment 6) is published at 1 s; refresh until 2 s of it are.
    let mut last = String::new();
    for _ in 0..20 {
        let (s, body) = fetch(&e.http, &url).await;
        assert_playable(s, &body);
        last = body;
        if last.contains("seg8.ts")
            || last
                .lines()
                .filter(|l| l.contains("slate") || l.contains("/v1/segment/"))
                .count()
                >= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    last.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn calls(e: &Env, mode: &str) -> u64 {
    e.calls.lock().unwrap().get(mode).copied().unwrap_or(0)
}

#[tokio::test]
async fn ads_faults_fill_the_break_with_slate_and_are_asked_once() {
    let e = env(true).await;
    for mode in [
        "status",
        "garbage",
        "huge",
        "redirect-internal",
        "wrapper-internal",
    ] {
        let uris = break_uris(&e, "ch", mode).await;
        assert!(
            uris.iter().any(|u| u.contains("slate")),
            "{mode}: slate expected: {uris:?}"
        );
        assert!(
            !uris.iter().any(|u| u.contains("/v1/segment/")),
            "{mode}: no ad expected: {uris:?}"
        );
        // Many refreshes, one decision: asked once (the failure is remembered).
        assert_eq!(calls(&e, mode), 1, "{mode}");
    }
    let uris = break_uris(&e, "down", "down").await;
    assert!(uris.iter().any(|u| u.contains("slate")), "down: {uris:?}");
    // Nothing was steered onto the internal host.
    assert_eq!(*e.internal_hits.lock().unwrap(), 0);
    // The control: the same wrapper shape on the configured host plays its ad.
    let uris = break_uris(&e, "ch", "wrapper-good").await;
    assert!(uris.iter().any(|u| u.contains("/v1/segment/")), "{uris:?}");
    assert_eq!(calls(&e, "inline"), 1);
}

#[tokio::test]
async fn ads_faults_without_slate_play_the_content() {
    let e = env(false).await;
    for (config, mode) in [
        ("ch", "garbage"),
        ("ch", "redirect-internal"),
        ("down", "down"),
    ] {
        let uris = break_uris(&e, config, mode).await;
        assert!(
            uris.iter().all(|u| u.contains("/origin/")),
            "{mode}: content expected: {uris:?}"
        );
        assert!(
            uris.iter().any(|u| u.ends_with("seg7.ts")),
            "{mode}: {uris:?}"
        );
    }
    assert_eq!(*e.internal_hits.lock().unwrap(), 0);
}
