//! Fault matrix, origin family (issue #13): what a player gets when the origin is
//! down, slow, sends garbage, 404s then comes back, flaps every request, or sends a
//! manifest larger than the cap. The rule (DESIGN, failure rules): the last good
//! manifest within `stale_if_error_secs`, then the documented 5xx with its JSON
//! code; never a broken playlist. Every playlist the proxy answers is also checked
//! by the test server against the refresh rules (`common/serve.rs`).

use std::sync::Arc;
use std::time::Duration;

use splicepoint::config::{Channel, PlaybackConfig};
use splicepoint::server::{router, AppState};

#[path = "common/serve.rs"]
mod serve;
use serve::serve;
#[path = "common/faults.rs"]
mod faults;
use faults::{assert_error, assert_playable, client, fetch, new_origin, origin_app, Front, Mode};

/// How long the last good manifest stands in (`stale_if_error_secs`).
const STALE_SECS: u64 = 1;

struct Env {
    origin: Arc<faults::Origin>,
    front: Front,
    proxy: String,
    http: reqwest::Client,
}

fn channel(name: &str, origin: &str, ads: &str, tune: impl FnOnce(&mut PlaybackConfig)) -> Channel {
    let mut cfg = PlaybackConfig {
        name: Some(name.into()),
        origin: format!("{origin}/origin/"),
        ads_url: format!("{ads}/vast"),
        origin_timeout_ms: 300,
        stale_if_error_secs: STALE_SECS,
        ..PlaybackConfig::default()
    };
    tune(&mut cfg);
    cfg.validate("test", name).unwrap()
}

async fn env(tune: impl FnOnce(&mut PlaybackConfig)) -> Env {
    let origin = new_origin();
    let upstream = serve(origin_app(origin.clone())).await;
    let addr = upstream.trim_start_matches("http://").parse().unwrap();
    let front = Front::start(addr).await;
    let c = channel("ch", &format!("http://{}", front.addr), &upstream, tune);
    let channels = Arc::new([(c.name.clone(), Arc::new(c))].into_iter().collect());
    let proxy = serve(router(AppState::new(channels))).await;
    Env {
        origin,
        front,
        proxy,
        http: client(),
    }
}

impl Env {
    /// A new session's media playlist URL (302 from `/v1/master`).
    async fn session(&self) -> String {
        let (status, loc) = fetch(
            &self.http,
            &format!("{}/v1/master/ch/live.m3u8", self.proxy),
        )
        .await;
        assert_eq!(status, 302, "{loc}");
        format!("{}{loc}", self.proxy)
    }
    async fn new_session_answer(&self) -> (u16, String) {
        fetch(
            &self.http,
            &format!("{}/v1/master/ch/live.m3u8", self.proxy),
        )
        .await
    }
}

/// Serves the last good playlist while within the bound, then the documented
/// error; and the session plays on once the origin is back.
async fn stale_then_error(
    fault: impl Fn(&Env),
    status: u16,
    code: &str,
    tune: fn(&mut PlaybackConfig),
) {
    let e = env(tune).await;
    let url = e.session().await;
    let (s, body) = fetch(&e.http, &url).await;
    let good = assert_playable(s, &body);
    fault(&e);
    // Within the bound: the last good playlist (its numbers; never fewer).
    let start = std::time::Instant::now();
    let mut stale_answers = 0;
    while start.elapsed() < Duration::from_millis(STALE_SECS * 1000 / 2) {
        let (s, body) = fetch(&e.http, &url).await;
        let pl = assert_playable(s, &body);
        assert!(pl.media_sequence >= good.media_sequence, "{body}");
        stale_answers += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stale_answers >= 3);
    // Past it (fresh TTL 250 ms + stale 1 s from the last good fetch): the error.
    tokio::time::sleep(Duration::from_millis(STALE_SECS * 1000 + 400)).await;
    assert_error(fetch(&e.http, &url).await, status, code);
    // A new session meanwhile: the same error, no session half made.
    let (s, body) = e.new_session_answer().await;
    assert_error((s, body), status, code);
    // Back: the same session plays on, numbers forward.
    e.front.set_up(true);
    e.origin.set(Mode::Good);
    let (s, body) = fetch(&e.http, &url).await;
    let back = assert_playable(s, &body);
    assert!(back.media_sequence >= good.media_sequence, "{body}");
}

#[tokio::test]
async fn origin_down_serves_the_last_good_playlist_then_502() {
    stale_then_error(|e| e.front.set_up(false), 502, "origin_failed", |_| {}).await;
}

#[tokio::test]
async fn origin_down_from_the_start_is_a_502_json() {
    let e = env(|_| {}).await;
    e.front.set_up(false);
    assert_error(e.new_session_answer().await, 502, "origin_failed");
}

#[tokio::test]
async fn origin_slow_serves_the_last_good_playlist_then_504() {
    stale_then_error(
        |e| e.origin.set(Mode::Slow(Duration::from_millis(1_500))),
        504,
        "origin_timeout",
        |_| {},
    )
    .await;
}

#[tokio::test]
async fn origin_garbage_serves_the_last_good_playlist_then_502() {
    stale_then_error(
        |e| e.origin.set(Mode::Garbage),
        502,
        "origin_failed",
        |_| {},
    )
    .await;
}

#[tokio::test]
async fn origin_5xx_serves_the_last_good_playlist_then_502() {
    stale_then_error(
        |e| e.origin.set(Mode::Status(500)),
        502,
        "origin_failed",
        |_| {},
    )
    .await;
}

#[tokio::test]
async fn origin_manifest_over_the_cap_serves_the_last_good_playlist_then_502() {
    stale_then_error(
        |e| e.origin.set(Mode::Big(64 * 1024)),
        502,
        "origin_failed",
        |c| c.origin_max_bytes = 16 * 1024,
    )
    .await;
}

#[tokio::test]
async fn origin_404_is_a_404_json_at_once_then_the_session_plays_when_it_is_back() {
    let e = env(|_| {}).await;
    let url = e.session().await;
    let (s, body) = fetch(&e.http, &url).await;
    let good = assert_playable(s, &body);
    e.origin.set(Mode::Status(404));
    // A 404 is an answer, not a failure: passed on at once, never papered over.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_error(fetch(&e.http, &url).await, 404, "origin_not_found");
    assert_error(e.new_session_answer().await, 404, "origin_not_found");
    e.origin.set(Mode::Good);
    let (s, body) = fetch(&e.http, &url).await;
    let back = assert_playable(s, &body);
    assert!(back.media_sequence >= good.media_sequence, "{body}");
    let (s, _) = e.new_session_answer().await;
    assert_eq!(s, 302);
}

#[tokio::test]
async fn origin_flapping_every_request_never_reaches_the_player() {
    let e = env(|_| {}).await;
    let url = e.session().await;
    let (s, body) = fetch(&e.http, &url).await;
    assert_playable(s, &body);
    e.origin.set(Mode::Flapping);
    // 3 s of a player refreshing every 200 ms across a break (12 s cycle: one
    // break starts at 6 s), while every other origin fetch fails: every answer is
    // a playlist, and the serve layer checks each against the one before.
    let before = e.origin.requests();
    let mut last_msn = 0;
    for _ in 0..15 {
        let (s, body) = fetch(&e.http, &url).await;
        let pl = assert_playable(s, &body);
        assert!(pl.media_sequence >= last_msn, "{body}");
        last_msn = pl.media_sequence;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let fetches = e.origin.requests() - before;
    assert!(fetches >= 4, "the origin was asked {fetches} times");
}
