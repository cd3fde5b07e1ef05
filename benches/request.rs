//! A whole session request through the axum router (`tower::ServiceExt::oneshot`),
//! origin, ADS and ad playlists on an in-process server on 127.0.0.1: what one
//! warm session's manifest request costs in the server, end to end.
//!
//! Workloads (those of the engine issue): a live media playlist (10 × 6 s window,
//! one break), a VOD media playlist (300 × 6 s, 3 breaks of 2 ads), a DASH VOD
//! MPD (3 breaks: 4 content Periods). Each on the memory store and on a real
//! Redis (started here; skipped with a message when `redis-server` is missing),
//! over 1,000 warm sessions taken in turn. Before the timings it prints the
//! session store round trips per steady-state request and the memory of a live
//! session with one decision (RSS growth over 20,000 sessions).
//!
//! Run: `cargo bench --bench request`. Single-threaded runtime: time per
//! iteration is CPU time in the server (plus loopback work on origin refreshes).

#[path = "../tests/common/redis_server.rs"]
mod redis_server;

use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use splicepoint::config::{Channels, PlaybackConfig};
use splicepoint::server::{router, AppState};
use splicepoint::session::{MemoryStore, RedisStore, SessionStore};
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// Warm sessions per workload.
const SESSIONS: usize = 1_000;

fn main() {
    let rt = runtime();
    for w in [Workload::Live, Workload::Vod, Workload::Dash] {
        eprintln!(
            "memory store: {:.2} calls per steady-state {w:?} request",
            rt.block_on(memory().round_trips(w))
        );
    }
    eprintln!(
        "memory: {:.0} bytes of RSS per live session with one decision",
        rt.block_on(bytes_per_session())
    );
    if let Some(redis) = redis() {
        for w in [Workload::Live, Workload::Vod, Workload::Dash] {
            eprintln!(
                "redis store: {:.2} round trips per steady-state {w:?} request",
                rt.block_on(redis.round_trips(w))
            );
        }
    }
    divan::main();
}

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

#[derive(Debug, Clone, Copy)]
enum Workload {
    Live,
    Vod,
    Dash,
}

/// The router over one store, with warm sessions of each workload.
struct Fixture {
    app: Router,
    store: Arc<dyn SessionStore>,
    live: Vec<String>,
    vod: Vec<String>,
    dash: Vec<String>,
    next: Mutex<usize>,
}

impl Fixture {
    async fn new(store: Arc<dyn SessionStore>) -> Self {
        let upstream = upstream().await;
        let config = PlaybackConfig {
            name: Some("bench".into()),
            origin: format!("{upstream}/origin/"),
            ads_url: format!("{upstream}/vast?sid=[session.id]"),
            ..PlaybackConfig::default()
        }
        .validate("bench", "bench")
        .unwrap();
        let channels: Channels = Arc::new(
            [("bench".to_string(), Arc::new(config))]
                .into_iter()
                .collect(),
        );
        let app = router(AppState::with_store(channels, store.clone()));
        let mut f = Self {
            app,
            store,
            live: Vec::new(),
            vod: Vec::new(),
            dash: Vec::new(),
            next: Mutex::new(0),
        };
        for _ in 0..SESSIONS {
            let live = f
                .session("/v1/master/bench/live/master.m3u8", "v0.m3u8")
                .await;
            let vod = f
                .session("/v1/master/bench/vod/master.m3u8", "v0.m3u8")
                .await;
            let dash = f.dash_session().await;
            f.live.push(live);
            f.vod.push(vod);
            f.dash.push(dash);
        }
        // Warm: each session's decisions made, records stored.
        for w in [Workload::Live, Workload::Vod, Workload::Dash] {
            for _ in 0..2 * SESSIONS {
                f.request(w).await;
            }
        }
        f
    }

    /// An implicit HLS session: its media playlist's URL.
    async fn session(&self, master: &str, variant: &str) -> String {
        let (status, body) = self.get(master).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.lines()
            .find(|l| l.ends_with(variant))
            .expect("variant")
            .to_string()
    }

    async fn dash_session(&self) -> String {
        let resp = self
            .app
            .clone()
            .oneshot(
                Request::get("/v1/dash/bench/dash/manifest.mpd")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FOUND);
        resp.headers()["location"].to_str().unwrap().to_string()
    }

    async fn get(&self, uri: &str) -> (StatusCode, String) {
        let resp = self
            .app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// One request of the next session of workload `w`; the body's length.
    async fn request(&self, w: Workload) -> usize {
        let n = {
            let mut next = self.next.lock().unwrap();
            *next += 1;
            *next
        };
        let urls = match w {
            Workload::Live => &self.live,
            Workload::Vod => &self.vod,
            Workload::Dash => &self.dash,
        };
        let (status, body) = self.get(&urls[n % urls.len()]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("/v1/segment/"), "no ads: {body}");
        body.len()
    }

    /// Store round trips per request over 1,000 steady-state requests.
    async fn round_trips(&self, w: Workload) -> f64 {
        let before = self.store.round_trips();
        for _ in 0..1_000 {
            self.request(w).await;
        }
        (self.store.round_trips() - before) as f64 / 1_000.0
    }
}

fn memory() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| runtime().block_on(Fixture::new(Arc::new(MemoryStore::default()))))
}

fn redis() -> Option<&'static Fixture> {
    static F: OnceLock<Option<(Fixture, redis_server::RedisServer)>> = OnceLock::new();
    F.get_or_init(|| {
        let server = redis_server::RedisServer::start()?;
        let rt = runtime();
        let store = rt
            .block_on(RedisStore::connect(&server.url, "bench:"))
            .unwrap();
        Some((rt.block_on(Fixture::new(Arc::new(store))), server))
    })
    .as_ref()
    .map(|(f, _)| f)
}

fn bench(b: divan::Bencher, f: &Fixture, w: Workload) {
    let rt = runtime();
    b.bench_local(|| rt.block_on(f.request(w)));
}

#[divan::bench]
fn live_memory(b: divan::Bencher) {
    bench(b, memory(), Workload::Live);
}

#[divan::bench]
fn vod_memory(b: divan::Bencher) {
    bench(b, memory(), Workload::Vod);
}

#[divan::bench]
fn dash_memory(b: divan::Bencher) {
    bench(b, memory(), Workload::Dash);
}

#[divan::bench]
fn live_redis(b: divan::Bencher) {
    if let Some(f) = redis() {
        bench(b, f, Workload::Live);
    }
}

#[divan::bench]
fn vod_redis(b: divan::Bencher) {
    if let Some(f) = redis() {
        bench(b, f, Workload::Vod);
    }
}

#[divan::bench]
fn dash_redis(b: divan::Bencher) {
    if let Some(f) = redis() {
        bench(b, f, Workload::Dash);
    }
}

/// RSS growth per live session with one decision, over 20,000 sessions on a
/// fresh memory store (each made by a master request and one media request).
async fn bytes_per_session() -> f64 {
    const N: usize = 20_000;
    let warm = Fixture::new(Arc::new(MemoryStore::default())).await;
    // Everything shared (origin and ad playlists, decisions' in-flight cache)
    // is warm; what grows from here is the sessions.
    let mut urls = Vec::with_capacity(N);
    let before = rss();
    for _ in 0..N {
        let url = warm
            .session("/v1/master/bench/live/master.m3u8", "v0.m3u8")
            .await;
        let (status, _) = warm.get(&url).await;
        assert_eq!(status, StatusCode::OK);
        urls.push(url);
    }
    let after = rss();
    (after.saturating_sub(before)) as f64 / N as f64
}

/// Resident set size, bytes (Linux).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

// === The upstream: origin, ADS, ad playlists ===

/// Live: a 10 × 6 s window, msn 100..110, one 30 s break from 103 to 108.
fn live_playlist() -> String {
    let mut s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:100\n"
        .to_string();
    for k in 100..110u64 {
        match k {
            103 => s.push_str("#EXT-X-CUE-OUT:30\n"),
            104..=107 => s.push_str(&format!(
                "#EXT-X-CUE-OUT-CONT:ElapsedTime={},Duration=30\n",
                (k - 103) * 6
            )),
            108 => s.push_str("#EXT-X-CUE-IN\n"),
            _ => {}
        }
        s.push_str(&format!(
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:{:02}:{:02}.000Z\n#EXTINF:6.000,\nseg{k}.ts\n",
            k * 6 / 60 % 60,
            k * 6 % 60
        ));
    }
    s
}

/// VOD: 300 × 6 s, insertion points at 0, 100 and 200.
fn vod_playlist() -> String {
    let mut s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        .to_string();
    for k in 0..300 {
        if k % 100 == 0 {
            s.push_str("#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n");
        }
        s.push_str(&format!("#EXTINF:6.000,\nseg{k}.ts\n"));
    }
    s.push_str("#EXT-X-ENDLIST\n");
    s
}

const MASTER: &str = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nv0.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=320x180\nv1.m3u8\n";

const SETS: &str = r#"
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="12800" duration="76800" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="v0" width="640" height="360" bandwidth="800000" codecs="avc1.4d401e"/>
      <Representation id="v1" width="320" height="180" bandwidth="300000" codecs="avc1.4d401e"/>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" lang="en">
      <SegmentTemplate timescale="48000" duration="288000" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="a0" bandwidth="96000" codecs="mp4a.40.2"/>
    </AdaptationSet>"#;

/// DASH VOD: one 300 s Period, insertion points at 60, 150 and 240 s.
fn dash_mpd() -> String {
    let events: String = [60u64, 150, 240]
        .iter()
        .enumerate()
        .map(|(i, at)| {
            format!(
                r#"<Event presentationTime="{}" duration="0" id="{i}"><scte35:SpliceInfoSection><scte35:SpliceInsert spliceEventId="{i}" outOfNetworkIndicator="true"/></scte35:SpliceInfoSection></Event>"#,
                at * 90_000
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:scte35="urn:scte:scte35:2013:xml" type="static" mediaPresentationDuration="PT300S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period id="main" start="PT0S">
    <EventStream schemeIdUri="urn:scte:scte35:2013:xml" timescale="90000">{events}</EventStream>{SETS}
  </Period>
</MPD>"#
    )
}

fn ad_mpd() -> String {
    format!(
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT12S"><Period id="0">{SETS}
</Period></MPD>"#
    )
}

fn ad_playlist(variant: &str) -> String {
    let mut s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        .to_string();
    for i in 0..2 {
        s.push_str(&format!("#EXTINF:6.000,\n{variant}-seg{i}.ts\n"));
    }
    s.push_str("#EXT-X-ENDLIST\n");
    s
}

/// Two 12 s ads, each with an HLS and a DASH rendition and the usual beacons.
fn vast(base: &str) -> String {
    let ad = |n: u32| {
        let events: String = [
            "start",
            "firstQuartile",
            "midpoint",
            "thirdQuartile",
            "complete",
        ]
        .iter()
        .map(|e| {
            format!(r#"<Tracking event="{e}"><![CDATA[{base}/beacon?e={e}&ad={n}]]></Tracking>"#)
        })
        .collect();
        format!(
            r#"<Ad id="ad{n}" sequence="{}"><InLine><AdSystem>bench</AdSystem><AdTitle>ad{n}</AdTitle><Impression><![CDATA[{base}/beacon?e=impression&ad={n}]]></Impression><Creatives><Creative id="c{n}"><Linear><Duration>00:00:12</Duration><TrackingEvents>{events}</TrackingEvents><MediaFiles><MediaFile delivery="streaming" type="application/x-mpegURL" width="640" height="360"><![CDATA[{base}/origin/ads/ad{n}/master.m3u8]]></MediaFile><MediaFile delivery="streaming" type="application/dash+xml" width="640" height="360"><![CDATA[{base}/origin/ads/ad{n}/manifest.mpd]]></MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>"#,
            n + 1
        )
    };
    format!(
        r#"<?xml version="1.0"?><VAST version="4.0">{}{}</VAST>"#,
        ad(0),
        ad(1)
    )
}

type Base = Arc<Mutex<String>>;

async fn origin(State(base): State<Base>, Path(path): Path<String>) -> Response {
    let base = base.lock().unwrap().clone();
    let hls = |s: String| ([("content-type", "application/vnd.apple.mpegurl")], s).into_response();
    let mpd = |s: String| ([("content-type", "application/dash+xml")], s).into_response();
    match path.as_str() {
        "live/master.m3u8" | "vod/master.m3u8" => hls(MASTER.to_string()),
        "live/v0.m3u8" | "live/v1.m3u8" => hls(live_playlist()),
        "vod/v0.m3u8" | "vod/v1.m3u8" => hls(vod_playlist()),
        "dash/manifest.mpd" => mpd(dash_mpd()),
        p if p.starts_with("ads/") && p.ends_with("master.m3u8") => {
            let dir = &p[..p.len() - "master.m3u8".len()];
            hls(format!("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360\n{base}/origin/{dir}a0.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=250000,RESOLUTION=320x180\n{base}/origin/{dir}a1.m3u8\n"))
        }
        p if p.starts_with("ads/") && p.ends_with(".mpd") => mpd(ad_mpd()),
        p if p.starts_with("ads/") => hls(ad_playlist(if p.ends_with("a1.m3u8") {
            "a1"
        } else {
            "a0"
        })),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn upstream() -> String {
    let base: Base = Arc::default();
    let app = Router::new()
        .route("/origin/{*path}", get(origin))
        .route(
            "/vast",
            get(|State(base): State<Base>| async move {
                let base = base.lock().unwrap().clone();
                ([("content-type", "application/xml")], vast(&base))
            }),
        )
        .route("/beacon", get(|| async { StatusCode::NO_CONTENT }))
        .with_state(base.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    *base.lock().unwrap() = url.clone();
    url
}
