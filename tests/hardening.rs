//! Issue #13, tried as a hostile client would: each test is one attack, and the
//! bound that now holds. In-process origin and ADS on 127.0.0.1:0.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use splicepoint::config::{parse_config, Channel, Limits, PlaybackConfig};
use splicepoint::server::shutdown::{self, ConnLimits, Drain, Timings};
use splicepoint::server::{router, AppState};
use splicepoint::session::store::{session_weight, StoreFull};
use splicepoint::session::{MemoryStore, ReportingMode, Session, SessionId, SessionStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "common/serve.rs"]
mod serve;
use serve::serve;

/// One origin request: (path, query, Authorization header).
type Request = (String, Option<String>, Option<String>);

/// What the origin saw.
#[derive(Default)]
struct Seen {
    requests: Mutex<Vec<Request>>,
    base: Mutex<String>,
    /// The last media sequence number of `restart.m3u8`'s live window.
    live_last: Mutex<u64>,
}

type Up = Arc<Seen>;

/// A VOD playlist of `n` segments with long URIs (~110 bytes a segment).
fn big_playlist(n: usize) -> String {
    let mut s =
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n".to_string();
    for i in 0..n {
        s.push_str(&format!(
            "#EXTINF:6.000,\nsegments/rendition-1080p-avc1.640028/segment-{i:08}-of-the-long-vod-asset.ts\n"
        ));
    }
    s.push_str("#EXT-X-ENDLIST\n");
    s
}

const SMALL: &str = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:10\n#EXTINF:2.0,\na.ts\n#EXTINF:2.0,\nb.ts\n#EXT-X-ENDLIST\n";

async fn origin(
    State(up): State<Up>,
    Path(path): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    up.requests
        .lock()
        .unwrap()
        .push((path.clone(), uri.query().map(str::to_string), auth.clone()));
    let base = up.base.lock().unwrap().clone();
    let hls = |s: String| ([("content-type", "application/vnd.apple.mpegurl")], s).into_response();
    match path.as_str() {
        "big.m3u8" => hls(big_playlist(3_000)),
        "small.m3u8" => hls(SMALL.to_string()),
        "restart.m3u8" => {
            let last = *up.live_last.lock().unwrap();
            let first = last.saturating_sub(9);
            let mut s = format!("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n");
            for k in first..=last {
                s.push_str(&format!("#EXTINF:2.0,\nlive{k}.ts\n"));
            }
            hls(s)
        }
        "vod-break.m3u8" => hls("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.0,\nc0.ts\n#EXT-X-CUE-OUT:0\n#EXTINF:2.0,\nc1.ts\n#EXT-X-ENDLIST\n".to_string()),
        "private.m3u8" if auth.as_deref() == Some("Bearer s3cret-token") => hls(SMALL.to_string()),
        "private.m3u8" => StatusCode::FORBIDDEN.into_response(),
        "huge-msn.m3u8" => hls(SMALL.replace(
            "MEDIA-SEQUENCE:10",
            "MEDIA-SEQUENCE:18446744073709551610",
        )),
        "doctype.mpd" => (
            [("content-type", "application/dash+xml")],
            "<?xml version=\"1.0\"?>\n<!DOCTYPE MPD [<!ENTITY x \"boom\">]>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"static\" mediaPresentationDuration=\"PT4S\"><Period id=\"p0\" duration=\"PT4S\"><AdaptationSet><Representation id=\"v\" bandwidth=\"1\"><SegmentTemplate media=\"s$Number$.m4s\" duration=\"2\" timescale=\"1\"/></Representation></AdaptationSet></Period></MPD>\n",
        )
            .into_response(),
        // An ad whose variant playlists and segments live on another host (the
        // same server under its other name, `localhost`).
        "ad/master.m3u8" => {
            let other = base.replace("127.0.0.1", "localhost");
            hls(format!("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000\n{other}/origin/ad/v0.m3u8\n"))
        }
        "ad/v0.m3u8" => hls("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nad0.ts\n#EXTINF:2.0,\nad1.ts\n#EXT-X-ENDLIST\n".to_string()),
        // Client-side reporting: a segment URI no player should follow.
        "evil-ad/master.m3u8" => hls("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\njavascript:alert(1)\n#EXT-X-ENDLIST\n".to_string()),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn vast(State(up): State<Up>, Path(kind): Path<String>) -> Response {
    let base = up.base.lock().unwrap().clone();
    let media = format!("{base}/origin/{kind}/master.m3u8");
    let body = format!(
        r#"<VAST version="3.0"><Ad id="a"><InLine><AdSystem>t</AdSystem><AdTitle>t</AdTitle><Impression>{base}/beacon</Impression><Creatives><Creative><Linear><Duration>00:00:04</Duration><MediaFiles><MediaFile delivery="streaming" type="application/x-mpegURL" width="640" height="360"><![CDATA[{media}]]></MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>"#
    );
    ([("content-type", "application/xml")], body).into_response()
}

fn channel(name: &str, up: &str, tune: impl FnOnce(&mut PlaybackConfig)) -> Channel {
    let mut cfg = PlaybackConfig {
        name: Some(name.into()),
        origin: format!("{up}/origin/"),
        ads_url: format!("{up}/vast/ad"),
        origin_timeout_ms: 1_000,
        stale_if_error_secs: 0,
        ..PlaybackConfig::default()
    };
    tune(&mut cfg);
    cfg.validate("test", name).unwrap()
}

struct Env {
    up: Up,
    upstream: String,
    proxy: String,
    state: AppState,
    http: reqwest::Client,
}

async fn env(limits: Limits, channels: impl FnOnce(&str) -> Vec<Channel>) -> Env {
    let up: Up = Arc::default();
    let app = Router::new()
        .route("/origin/{*path}", get(origin))
        .route("/vast/{kind}", get(vast))
        .route("/beacon", get(|| async { "" }))
        .with_state(up.clone());
    let upstream = serve(app).await;
    *up.base.lock().unwrap() = upstream.clone();
    let channels: splicepoint::config::Channels = Arc::new(
        channels(&upstream)
            .into_iter()
            .map(|c| (c.name.clone(), Arc::new(c)))
            .collect(),
    );
    let state = AppState::with_limits(channels, None, limits);
    let proxy = serve(router(state.clone())).await;
    Env {
        up,
        upstream,
        proxy,
        state,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl Env {
    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.proxy))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let loc = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (status, loc.unwrap_or(r.text().await.unwrap()))
    }

    /// A session on `config` for `path`: its media playlist URL.
    async fn session(&self, config: &str, path: &str) -> String {
        let (status, loc) = self.get(&format!("/v1/master/{config}/{path}")).await;
        assert_eq!(status, 302, "{loc}");
        loc
    }

    fn origin_requests(&self, path: &str) -> Vec<Option<String>> {
        self.up
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _, _)| p == path)
            .map(|(_, q, _)| q.clone())
            .collect()
    }
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

// === 1. Origin cache: query parameters and a byte budget ===

#[tokio::test]
async fn only_named_query_parameters_reach_the_origin() {
    let e = env(Limits::default(), |up| {
        vec![
            channel("plain", up, |_| {}),
            channel("named", up, |c| {
                c.origin_query_params = vec!["token".into()]
            }),
        ]
    })
    .await;
    let loc = e.session("plain", "small.m3u8").await;
    for n in 0..20 {
        let (status, _) = e.get(&format!("{loc}?cb={n}&token=t{n}")).await;
        assert_eq!(status, 200);
    }
    let seen = e.origin_requests("small.m3u8");
    assert!(seen.iter().all(Option::is_none), "{seen:?}");
    assert!(
        seen.len() <= 2,
        "one cache entry, not one per query string: {seen:?}"
    );
    let loc = e.session("named", "small.m3u8").await;
    let (status, _) = e.get(&format!("{loc}?cb=1&token=abc")).await;
    assert_eq!(status, 200);
    assert_eq!(
        e.origin_requests("small.m3u8").last().unwrap().as_deref(),
        Some("token=abc")
    );
}

#[tokio::test]
async fn origin_cache_keeps_within_its_byte_budget() {
    let budget = 8 * 1024 * 1024;
    let limits = Limits {
        origin_cache_max_bytes: budget,
        ..Limits::default()
    };
    // An allow-listed parameter an attacker varies: each value is a new entry.
    let e = env(limits, |up| {
        vec![channel("t", up, |c| {
            c.origin_query_params = vec!["cb".into()]
        })]
    })
    .await;
    let loc = e.session("t", "big.m3u8").await;
    for n in 0..40 {
        let (status, _) = e.get(&format!("{loc}?cb={n}")).await;
        assert_eq!(status, 200);
    }
    let held = e.state.origin.weighted_size().await;
    assert!(held <= budget, "{held} bytes held, budget {budget}");
    // Weighed by size, not counted: one 330 KB playlist weighs more than a byte.
    assert!(
        held >= 1024 * 1024,
        "entries are weighed by their size: {held}"
    );
    // The least recently used went first: the first one is fetched again.
    let before = e.origin_requests("big.m3u8").len();
    let _ = e.get(&format!("{loc}?cb=0")).await;
    assert_eq!(e.origin_requests("big.m3u8").len(), before + 1);
}

// === 2. Sessions: a per-session limit, a store budget, 503 when full ===

fn session(channel: &str, params: usize, len: usize) -> Session {
    Session {
        id: SessionId::generate(),
        uuid: "123e4567-e89b-42d3-a456-426614174000".into(),
        channel: channel.into(),
        player_params: (0..params)
            .map(|i| (format!("p{i}"), "x".repeat(len)))
            .collect::<BTreeMap<_, _>>(),
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15".into(),
        client_ip: "203.0.113.7".into(),
        referer: String::new(),
        master_url: Some("http://origin.example/live/channel-1/master.m3u8".into()),
        reporting: ReportingMode::Server,
        created_unix: 0,
        suppression: None,
        guided: false,
    }
}

#[tokio::test]
async fn player_parameters_over_the_limit_are_refused_with_json() {
    let e = env(Limits::default(), |up| vec![channel("t", up, |_| {})]).await;
    let big: serde_json::Map<String, serde_json::Value> = (0..60)
        .map(|i| (format!("p{i}"), "x".repeat(1000).into()))
        .collect();
    let r = e
        .http
        .post(format!("{}/v1/session/t/small.m3u8", e.proxy))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "playerParams": big }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = json(&r.text().await.unwrap());
    assert_eq!(body["error"], "bad_request");
    assert!(
        body["message"].as_str().unwrap().contains("4096 bytes"),
        "{body}"
    );
    // The same through the query string of an implicit session.
    let q: Vec<String> = (0..60)
        .map(|i| format!("p{i}={}", "x".repeat(1000)))
        .collect();
    let (status, body) = e
        .get(&format!("/v1/master/t/small.m3u8?{}", q.join("&")))
        .await;
    assert_eq!(status, 400, "{body}");
    // Typical parameters pass.
    let (status, _) = e
        .get("/v1/master/t/small.m3u8?deviceType=ios&pod=two&gdpr=1")
        .await;
    assert_eq!(status, 302);
}

#[tokio::test]
async fn a_full_store_refuses_new_sessions_with_503_json() {
    let limits = Limits {
        session_store_max_bytes: 64 * 1024,
        session_evict_idle: Duration::from_secs(3600),
        ..Limits::default()
    };
    let e = env(limits, |up| vec![channel("t", up, |_| {})]).await;
    let mut created = 0;
    let refused = loop {
        let (status, body) = e.get("/v1/master/t/small.m3u8?pod=1").await;
        if status != 302 {
            break (status, body);
        }
        created += 1;
        assert!(created < 1_000, "the store never filled");
    };
    assert!(created >= 20, "only {created} sessions fitted in 64 KiB");
    assert_eq!(refused.0, 503);
    let body = json(&refused.1);
    assert_eq!(body["error"], "session_store_full");
}

#[tokio::test]
async fn the_least_recently_used_idle_sessions_make_room() {
    let one = u64::from(session_weight(&session("t", 2, 10)));
    let store = MemoryStore::with_budget(Duration::from_secs(3600), one * 20, Duration::ZERO);
    let mut ids = Vec::new();
    for _ in 0..20 {
        let s = session("t", 2, 10);
        ids.push(s.id.clone());
        store.try_create(s).await.unwrap();
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    // The oldest is used again: it is now the most recently used.
    assert!(store.get(&ids[0]).await.is_some());
    tokio::time::sleep(Duration::from_millis(3)).await;
    for _ in 0..5 {
        store.try_create(session("t", 2, 10)).await.unwrap();
    }
    assert!(store.weighted_size().await <= one * 20);
    assert!(store.get(&ids[0]).await.is_some(), "used recently: kept");
    assert!(
        store.get(&ids[1]).await.is_none(),
        "least recently used: evicted"
    );

    // Sessions in use are never evicted: the new one is refused instead.
    let busy =
        MemoryStore::with_budget(Duration::from_secs(3600), one * 3, Duration::from_secs(60));
    for _ in 0..3 {
        busy.try_create(session("t", 2, 10)).await.unwrap();
    }
    assert_eq!(busy.try_create(session("t", 2, 10)).await, Err(StoreFull));
}

#[test]
fn an_idle_session_with_typical_parameters_weighs_under_2_kib() {
    let s = session("channel-1", 4, 16);
    assert!(session_weight(&s) <= 2048, "{}", session_weight(&s));
}

// === 6. Origin credentials ===

#[test]
fn credentials_in_urls_are_refused_with_the_way_to_do_it() {
    for (key, text) in [
        ("origin", "origin = \"http://user:pass@o.example/live/\"\nads_url = \"http://a.example/v\""),
        ("slate", "origin = \"http://o.example/\"\nads_url = \"http://a.example/v\"\nslate = \"http://u:p@o.example/s.m3u8\""),
        ("content_segment_prefix", "origin = \"http://o.example/\"\nads_url = \"http://a.example/v\"\ncontent_segment_prefix = \"https://token@cdn.example/\""),
    ] {
        let e = parse_config("x.toml", "x", text).unwrap_err();
        assert_eq!(e.key, key, "{e}");
        assert!(e.reason.contains("origin_headers"), "{e}");
        assert!(!e.to_string().contains("user:pass@"), "{e}");
    }
}

#[tokio::test]
async fn origin_headers_come_from_the_environment_and_are_never_shown() {
    // A name no other test uses.
    std::env::set_var(
        "SPLICEPOINT_TEST_HARDENING_ORIGIN_AUTH",
        "Bearer s3cret-token",
    );
    let e = env(Limits::default(), |up| {
        vec![channel("p", up, |c| {
            c.origin_headers = [(
                "Authorization".to_string(),
                "env:SPLICEPOINT_TEST_HARDENING_ORIGIN_AUTH".to_string(),
            )]
            .into();
        })]
    })
    .await;
    let loc = e.session("p", "private.m3u8").await;
    let (status, body) = e.get(&loc).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("s3cret"));
    let auths: Vec<_> =
        e.up.requests
            .lock()
            .unwrap()
            .iter()
            .map(|(p, _, a)| (p.clone(), a.clone()))
            .collect();
    assert!(auths
        .iter()
        .all(|(p, a)| p != "private.m3u8" || a.as_deref() == Some("Bearer s3cret-token")));
    let channel = e.state.channel("p").unwrap();
    assert!(!format!("{channel:?}").contains("s3cret"));
    // The admin view of the configuration shows where the value comes from.
    assert!(serde_json::to_string(&channel.raw)
        .unwrap()
        .contains("env:SPLICEPOINT_TEST"));
    // A value written in the file is refused; so is an unset variable.
    let cfg = |v: &str| {
        format!("origin = \"http://o.example/\"\nads_url = \"http://a.example/v\"\norigin_headers = {{ Authorization = \"{v}\" }}")
    };
    for bad in ["Bearer literal", "env:SPLICEPOINT_TEST_HARDENING_UNSET"] {
        let e = parse_config("x.toml", "x", &cfg(bad)).unwrap_err();
        assert_eq!(e.key, "origin_headers", "{e}");
        assert!(!e.to_string().contains("literal"), "{e}");
    }
}

#[tokio::test]
async fn origin_errors_name_the_configuration_and_path_not_the_url() {
    let e = env(Limits::default(), |up| vec![channel("t", up, |_| {})]).await;
    let host = e.upstream.trim_start_matches("http://").to_string();
    for path in ["missing.m3u8", "private.m3u8"] {
        let (status, body) = e.get(&format!("/v1/master/t/{path}")).await;
        assert!(status == 404 || status == 502, "{status} {body}");
        let message = json(&body)["message"].as_str().unwrap().to_string();
        assert!(
            message.contains(&format!("configuration `t`, path `{path}`")),
            "{message}"
        );
        assert!(!message.contains(&host), "{message}");
    }
}

// === 7. Slow and idle clients, and a cap on connections ===

async fn serve_limited(limits: ConnLimits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let drain = Drain::default();
    let app = drain.layer(router(AppState::new(Arc::default())));
    tokio::spawn(shutdown::serve_with(
        listener,
        app,
        drain,
        Timings::default(),
        limits,
        std::future::pending(),
    ));
    addr
}

/// Read until the server closes the connection; how long that took (or `None`
/// when it is still open after `within`).
async fn closed_within(s: &mut tokio::net::TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(within.saturating_sub(start.elapsed()), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_cut_off() {
    let addr = serve_limited(ConnLimits {
        header_read_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_millis(600),
        max_connections: 100,
    })
    .await;
    // Slowloris: a header line every 100 ms, never the blank line.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let trickle = async {
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
                return;
            }
        }
    };
    trickle.await;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_millis(100), slow.read(&mut buf))
        .await
        .map_or(usize::MAX, |r| r.unwrap_or(0));
    assert_eq!(n, 0, "the slow client's connection was closed");

    // Idle keep-alive: one request, then nothing.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let took = closed_within(&mut idle, Duration::from_secs(3))
        .await
        .expect("an idle connection is closed");
    assert!(took >= Duration::from_millis(500), "{took:?}");

    // A connection that never sends a byte.
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(3))
        .await
        .is_some());
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_slot() {
    let addr = serve_limited(ConnLimits {
        header_read_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(5),
        max_connections: 2,
    })
    .await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut buf = [0u8; 256];
        assert!(s.read(&mut buf).await.unwrap() > 0);
        held.push(s);
    }
    let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
    third.write_all(request).await.unwrap();
    let mut buf = [0u8; 256];
    assert!(
        tokio::time::timeout(Duration::from_millis(300), third.read(&mut buf))
            .await
            .is_err(),
        "a third connection is not served while two are open"
    );
    drop(held.pop());
    let n = tokio::time::timeout(Duration::from_secs(2), third.read(&mut buf))
        .await
        .expect("served once a slot is free")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

// === 9. The smaller ones ===

#[test]
fn ipv6_literal_origins_are_accepted() {
    let c = parse_config(
        "x.toml",
        "x",
        "origin = \"http://[::1]:8080/live\"\nads_url = \"http://ads.example/v\"",
    )
    .unwrap();
    assert_eq!(c.origin.as_str(), "http://[::1]:8080/live/");
}

#[tokio::test]
async fn a_path_that_is_not_utf8_gets_a_json_400() {
    let e = env(Limits::default(), |up| vec![channel("t", up, |_| {})]).await;
    let (status, body) = e.get("/v1/master/t/%FF%FE.m3u8").await;
    assert_eq!(status, 400);
    assert_eq!(json(&body)["error"], "bad_request");
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    use splicepoint::config::IpRange;
    use splicepoint::server::resolve_client_addr;
    let peer = "198.51.100.9".parse().unwrap();
    let none = Limits::default();
    assert_eq!(
        resolve_client_addr(peer, Some("203.0.113.7"), &none),
        peer,
        "an untrusted peer's header is ignored"
    );
    let cdn = Limits {
        trusted_proxies: vec![
            IpRange::parse("198.51.100.0/24").unwrap(),
            IpRange::parse("10.0.0.0/8").unwrap(),
        ],
        ..Limits::default()
    };
    // The client may prepend anything; the last untrusted hop is the client.
    assert_eq!(
        resolve_client_addr(peer, Some("1.2.3.4, 203.0.113.7, 10.1.2.3"), &cdn).to_string(),
        "203.0.113.7"
    );
    assert_eq!(
        resolve_client_addr(peer, Some("garbage"), &cdn),
        peer,
        "an unparsable hop stops the walk"
    );
    assert_eq!(
        resolve_client_addr(
            "::ffff:198.51.100.9".parse().unwrap(),
            Some("203.0.113.8"),
            &cdn
        )
        .to_string(),
        "203.0.113.8",
        "an IPv4-mapped peer counts as IPv4"
    );
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    let l = Limits::from_source(&env(&[(
        splicepoint::config::ENV_TRUSTED_PROXIES,
        "10.0.0.0/8, ::1",
    )]))
    .unwrap();
    assert!(l.trusts("10.9.8.7".parse().unwrap()) && l.trusts("::1".parse().unwrap()));
    assert!(!l.trusts("11.0.0.1".parse().unwrap()));
    assert!(Limits::from_source(&env(&[(
        splicepoint::config::ENV_TRUSTED_PROXIES,
        "10.0.0.0/33"
    )]))
    .is_err());
}

#[tokio::test]
async fn origin_media_sequences_near_the_top_are_refused() {
    let e = env(Limits::default(), |up| vec![channel("t", up, |_| {})]).await;
    let (status, body) = e.get("/v1/master/t/huge-msn.m3u8").await;
    assert_eq!(status, 502, "{body}");
    assert!(json(&body)["message"]
        .as_str()
        .unwrap()
        .contains("EXT-X-MEDIA-SEQUENCE"));
}

/// An encoder restart numbers the live origin from 0 again: a session that was
/// served numbers near 1,000 gets a 502 JSON saying so (its numbers must not go
/// back) on every refresh, and a new session plays the new numbering.
#[tokio::test]
async fn a_live_origin_numbering_from_zero_again_is_refused_for_its_sessions() {
    let e = env(Limits::default(), |up| vec![channel("t", up, |_| {})]).await;
    *e.up.live_last.lock().unwrap() = 1_000;
    let loc = e.session("t", "restart.m3u8").await;
    for last in [1_000, 1_001, 1_002] {
        *e.up.live_last.lock().unwrap() = last;
        tokio::time::sleep(Duration::from_millis(600)).await; // the origin cache's TTL
        let (status, text) = e.get(&loc).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains(&format!("live{last}.ts")), "{text}");
    }
    *e.up.live_last.lock().unwrap() = 9;
    tokio::time::sleep(Duration::from_millis(600)).await;
    for _ in 0..2 {
        let (status, body) = e.get(&loc).await;
        assert_eq!(status, 502, "{body}");
        let j = json(&body);
        assert_eq!(j["error"], "origin_sequence_reset", "{body}");
        assert!(
            j["message"].as_str().unwrap().contains("new session"),
            "{body}"
        );
    }
    let fresh = e.session("t", "restart.m3u8").await;
    let (status, text) = e.get(&fresh).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("live9.ts"), "{text}");
}

#[tokio::test]
async fn a_doctype_is_not_passed_to_players() {
    let e = env(Limits::default(), |up| vec![channel("t", up, |_| {})]).await;
    let (status, loc) = e.get("/v1/dash/t/doctype.mpd").await;
    assert_eq!(status, 302, "{loc}");
    let (status, mpd) = e.get(&loc).await;
    assert_eq!(status, 200, "{mpd}");
    assert!(!mpd.contains("DOCTYPE") && !mpd.contains("ENTITY"), "{mpd}");
    assert!(mpd.contains("<MPD"));
}

/// The ad segment URIs of a session's VOD playlist.
async fn ad_uris(e: &Env, config: &str, client_side: bool) -> Vec<String> {
    let loc = if client_side {
        let r = e
            .http
            .post(format!("{}/v1/session/{config}/vod-break.m3u8", e.proxy))
            .header("content-type", "application/json")
            .body(serde_json::json!({ "reportingMode": "client" }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        json(&r.text().await.unwrap())["manifestUrl"]
            .as_str()
            .unwrap()
            .to_string()
    } else {
        e.session(config, "vod-break.m3u8").await
    };
    let (status, text) = e.get(&loc).await;
    assert_eq!(status, 200, "{text}");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter(|l| !l.contains("/origin/c"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn ad_segments_on_hosts_the_ad_playlists_name_are_served() {
    let e = env(Limits::default(), |up| vec![channel("t", up, |_| {})]).await;
    let ads = ad_uris(&e, "t", false).await;
    assert_eq!(ads.len(), 2, "{ads:?}");
    for uri in ads {
        assert!(uri.starts_with("/v1/segment/"), "{uri}");
        let (status, target) = e.get(&uri).await;
        assert_eq!(status, 302, "{target}");
        assert!(target.contains("://localhost:"), "{target}");
    }
}

#[tokio::test]
async fn client_side_reporting_never_writes_a_non_http_ad_uri() {
    let e = env(Limits::default(), |up| {
        vec![channel("t", up, |c| {
            c.ads_url = format!("{up}/vast/evil-ad")
        })]
    })
    .await;
    let ads = ad_uris(&e, "t", true).await;
    assert!(ads.iter().all(|u| !u.contains("javascript")), "{ads:?}");
}
