//! Ad ops controls: personalization threshold, bumpers, live pre-roll, avail
//! suppression. In-process origin (live, 2 s segments, 16 s breaks at k % 20 == 5)
//! and ADS on 127.0.0.1:0.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use splicepoint::config::PlaybackConfig;
use splicepoint::hls::model::parse_media;
use splicepoint::server::report::unhex;
use splicepoint::server::{router, AppState};

#[path = "common/serve.rs"]
mod serve;
use serve::serve;

type Base = Arc<Mutex<String>>;

fn live(last: u64) -> String {
    let first = last.saturating_sub(5);
    let mut s = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n"
    );
    for k in first..=last {
        match k % 20 {
            5 => s.push_str("#EXT-X-CUE-OUT:16\n"),
            13 => s.push_str("#EXT-X-CUE-IN\n"),
            _ => {}
        }
        s.push_str(&format!("#EXTINF:2.000,\nseg{k}.ts\n"));
    }
    s
}

fn media(n: usize) -> String {
    let mut s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        .to_string();
    for i in 0..n {
        s.push_str(&format!("#EXTINF:2.000,\np{i}.ts\n"));
    }
    s + "#EXT-X-ENDLIST\n"
}

async fn upstream(
    State(base): State<Base>,
    Path(path): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let base = base.lock().unwrap().clone();
    let hls = |s: String| ([("content-type", "application/vnd.apple.mpegurl")], s).into_response();
    let vast = |name: &str, secs: u32| {
        format!("<VAST version=\"3.0\"><Ad id=\"{name}\"><InLine><AdSystem>t</AdSystem><AdTitle>t</AdTitle><Impression>http://127.0.0.1:1/i</Impression><Creatives><Creative><Linear><Duration>00:00:{secs:02}</Duration><MediaFiles><MediaFile delivery=\"streaming\" type=\"application/x-mpegURL\">{base}/{name}/index.m3u8</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>")
    };
    match path.as_str() {
        "live/index.m3u8" => hls(live(q.get("t").and_then(|t| t.parse().ok()).unwrap_or(5))),
        "ad10/index.m3u8" => hls(media(5)),
        "ad6/index.m3u8" => hls(media(3)),
        "slate/index.m3u8" | "bump/index.m3u8" => hls(media(1)),
        "vast" => vast("ad10", 10).into_response(),
        "prevast" => vast("ad6", 6).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn proxy(tune: impl FnOnce(&mut PlaybackConfig, &str)) -> (String, reqwest::Client) {
    let base: Base = Default::default();
    let app = Router::new()
        .route("/{*path}", get(upstream))
        .with_state(base.clone());
    let up = serve(app).await;
    *base.lock().unwrap() = up.clone();
    let mut cfg = PlaybackConfig {
        origin: format!("{up}/"),
        ads_url: format!("{up}/vast"),
        slate: Some(format!("{up}/slate/index.m3u8")),
        // The test origin's clock (`?t=N`) reaches it by name.
        origin_query_params: vec!["t".into()],
        ..PlaybackConfig::default()
    };
    tune(&mut cfg, &up);
    let channel = cfg.validate("test", "c").unwrap();
    let state = AppState::new(Arc::new([("c".to_string(), Arc::new(channel))].into()));
    let url = serve(router(state)).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (url, http)
}

async fn session(url: &str, http: &reqwest::Client) -> String {
    let r = http
        .get(format!("{url}/v1/master/c/live/index.m3u8"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    r.headers()["location"].to_str().unwrap().to_string()
}

/// What each segment is: `c` content, `A` 10 s ad, `B` 6 s ad, `s` slate or bumper.
async fn kinds(url: &str, http: &reqwest::Client, loc: &str, t: u64) -> String {
    let text = http
        .get(format!("{url}{loc}?t={t}"))
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
        .map(|s| {
            let u = match s.uri.strip_prefix("/v1/segment/") {
                Some(rest) => unhex(rest.split('/').nth(5).unwrap()).unwrap(),
                None => s.uri.clone(),
            };
            if u.contains("/ad10/") {
                'A'
            } else if u.contains("/ad6/") {
                'B'
            } else if u.contains("/slate/") || u.contains("/bump/") {
                's'
            } else {
                'c'
            }
        })
        .collect()
}

/// A session that sees the break at k = 25 from its start: window k = 26..=31
/// at t = 31, then 28..=33 at t = 33 (the break, 25..=32, is complete).
async fn through_break(url: &str, http: &reqwest::Client) -> String {
    let loc = session(url, http).await;
    kinds(url, http, &loc, 24).await;
    kinds(url, http, &loc, 25).await;
    kinds(url, http, &loc, 33).await
}

#[tokio::test]
async fn slate_fills_below_the_threshold_and_content_above_it() {
    let (url, http) = proxy(|c, _| c.personalization_threshold_secs = Some(8.0)).await;
    assert_eq!(
        through_break(&url, &http).await,
        "AAsssc",
        "6 s left, under 8 s: slate"
    );
    let (url, http) = proxy(|c, _| c.personalization_threshold_secs = Some(4.0)).await;
    assert_eq!(
        through_break(&url, &http).await,
        "AAcccc",
        "6 s left, over 4 s: content"
    );
}

#[tokio::test]
async fn bumpers_wrap_the_ads() {
    let (url, http) = proxy(|c, up| {
        c.bumper_start = Some(format!("{up}/bump/index.m3u8"));
        c.bumper_end = Some(format!("{up}/bump/index.m3u8"));
        c.slate = None;
    })
    .await;
    let loc = session(&url, &http).await;
    kinds(&url, &http, &loc, 24).await;
    assert_eq!(
        kinds(&url, &http, &loc, 25).await,
        "cccccs",
        "start bumper first"
    );
    // Window 26..=31 carries no marker: the session's record keeps the break.
    assert_eq!(
        kinds(&url, &http, &loc, 31).await,
        "AAAAAs",
        "the ad, then the end bumper"
    );
    assert_eq!(
        kinds(&url, &http, &loc, 33).await,
        "AAAscc",
        "end bumper after the ad"
    );
}

#[tokio::test]
async fn live_preroll_plays_where_the_session_joins() {
    let (url, http) = proxy(|c, up| {
        c.live_preroll_ads_url = Some(format!("{up}/prevast"));
        c.live_preroll_max_duration_secs = 6.0;
    })
    .await;
    let loc = session(&url, &http).await;
    // Window 10..=15 at t = 15: the pre-roll starts 3 segments from the edge (k = 13)
    // and has only published what has elapsed.
    assert_eq!(kinds(&url, &http, &loc, 15).await, "cccBBB");
    assert_eq!(kinds(&url, &http, &loc, 17).await, "cBBBcc", "then content");
    assert_eq!(kinds(&url, &http, &loc, 20).await, "Bccccc");
}

/// A pre-roll (k = 2..=6: the ad, then slate) over the start of a signalled
/// break (k = 5..=12): the pre-roll wins and the break plays as content, on
/// every refresh, including once the pre-roll's start has left the window while
/// the break's is still in it (what was published never changes).
#[tokio::test]
async fn live_preroll_wins_over_a_break_it_overlaps() {
    let (url, http) = proxy(|c, up| {
        c.live_preroll_ads_url = Some(format!("{up}/prevast"));
        c.live_preroll_max_duration_secs = 10.0;
    })
    .await;
    let loc = session(&url, &http).await;
    let mut got = Vec::new();
    for t in [4, 6, 8, 9, 10, 12] {
        got.push(kinds(&url, &http, &loc, t).await);
    }
    assert_eq!(
        got,
        ["ccBBB", "cBBBss", "BBsscc", "Bssccc", "sscccc", "cccccc"]
    );
    // The next break is filled as usual.
    assert_eq!(kinds(&url, &http, &loc, 30).await, "AAAAAs");
}

#[tokio::test]
async fn avail_suppression_modes() {
    // Off: a break already in the window when the session joins is filled.
    let (url, http) = proxy(|_, _| {}).await;
    let loc = session(&url, &http).await;
    assert_eq!(kinds(&url, &http, &loc, 30).await, "AAAAAs");
    // Behind the live edge by more than 4 s: left as content.
    let (url, http) = proxy(|c, _| {
        c.avail_suppression.mode = splicepoint::config::SuppressionMode::BehindLiveEdge;
        c.avail_suppression.value_secs = 4.0;
    })
    .await;
    let loc = session(&url, &http).await;
    assert_eq!(kinds(&url, &http, &loc, 30).await, "cccccc");
    // After the live edge (the first hour of the session): even a break seen
    // from its start is left as content.
    let (url, http) = proxy(|c, _| {
        c.avail_suppression.mode = splicepoint::config::SuppressionMode::AfterLiveEdge;
        c.avail_suppression.value_secs = 3600.0;
    })
    .await;
    assert_eq!(through_break(&url, &http).await, "cccccc");
    // An explicit session's own setting, in MediaTailor's form, overrides.
    let (url, http) = proxy(|_, _| {}).await;
    let r = http
        .post(format!("{url}/v1/session/c/live/index.m3u8"))
        .body(r#"{"availSuppression": {"mode": "BEHIND_LIVE_EDGE", "value": "00:00:04", "fillPolicy": "FULL_AVAIL_ONLY"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let loc = body["manifestUrl"].as_str().unwrap().to_string();
    assert_eq!(kinds(&url, &http, &loc, 30).await, "cccccc");
    let r = http
        .post(format!("{url}/v1/session/c/live/index.m3u8"))
        .body(r#"{"availSuppression": {"mode": "SOMETIMES"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// #13 item 9: an alias standing for `host:port` in the ADS URL's host reaches that
/// host and port (its `:` was percent-encoded, and the ADS never called).
#[tokio::test]
async fn an_aliased_ads_host_keeps_its_port() {
    let (url, http) = proxy(|c, up| {
        let host = up.trim_start_matches("http://").to_string();
        assert!(host.contains(':'), "{host}");
        c.ads_url = "http://[player_params.ads]/vast".into();
        c.aliases.insert(
            "player_params.ads".into(),
            [("main".to_string(), host)].into(),
        );
    })
    .await;
    let r = http
        .get(format!("{url}/v1/master/c/live/index.m3u8?ads=main"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(kinds(&url, &http, &loc, 30).await, "AAAAAs");
    // Without the parameter the host is empty: refused before any call, slate.
    let r = http
        .get(format!("{url}/v1/master/c/live/index.m3u8"))
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(kinds(&url, &http, &loc, 30).await, "ssssss");
}

#[tokio::test]
async fn aliases_pick_the_origin_host_and_refuse_unknown_values() {
    let (url, http) = proxy(|c, up| {
        let host = up.trim_start_matches("http://").to_string();
        c.origin = "http://[player_params.origin_domain]/".into();
        c.aliases.insert(
            "player_params.origin_domain".into(),
            [
                ("east".to_string(), host),
                ("west".to_string(), "127.0.0.1:9".to_string()),
            ]
            .into(),
        );
    })
    .await;
    let r = http
        .get(format!(
            "{url}/v1/master/c/live/index.m3u8?origin_domain=east"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302, "a known alias reaches its origin");
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(kinds(&url, &http, &loc, 30).await, "AAAAAs");
    let r = http
        .get(format!(
            "{url}/v1/master/c/live/index.m3u8?origin_domain=evil.example"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("unknown alias"));
    let r = http
        .get(format!("{url}/v1/master/c/live/index.m3u8"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "the origin needs the alias");
    // A host variable without an alias is refused at load.
    let bad = PlaybackConfig {
        origin: "http://[player_params.host]/".into(),
        ads_url: "http://ads.example/v".into(),
        ..PlaybackConfig::default()
    };
    assert!(bad.validate("t", "t").is_err());
}
