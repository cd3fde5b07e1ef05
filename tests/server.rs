//! End-to-end HTTP tests: splicepoint between an in-process origin and an
//! in-process ADS, all on 127.0.0.1:0.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use splicepoint::config::{Channel, PlaybackConfig};
use splicepoint::hls::model::parse_media;
use splicepoint::server::{router, AppState};
use splicepoint::session::{MemoryStore, SessionStore};

#[path = "common/serve.rs"]
mod serve;
use serve::serve;

#[path = "common/redis_server.rs"]
mod redis_server;

const SEG: f64 = 2.0;
const WINDOW: u64 = 6;

/// The test origin and ADS share one server.
#[derive(Default)]
struct Upstream {
    base: Mutex<String>,
    /// ADS calls by session id.
    ads_calls: Mutex<HashMap<String, u32>>,
}

type Up = Arc<Upstream>;

/// Live: breaks of 8 segments (16 s) at k % 20 == 5, CUE-IN at 13.
fn live_playlist(last: u64, variant: &str) -> String {
    let first = (last + 1).saturating_sub(WINDOW);
    let mut s = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n"
    );
    for k in first..=last {
        match k % 20 {
            5 => s.push_str("#EXT-X-CUE-OUT:16\n"),
            6..=12 => s.push_str(&format!(
                "#EXT-X-CUE-OUT-CONT:ElapsedTime={},Duration=16\n",
                (k % 20 - 5) * 2
            )),
            13 => s.push_str("#EXT-X-CUE-IN\n"),
            _ => {}
        }
        s.push_str(&format!(
            "#EXT-X-UNKNOWN-TAG:k={k}\n#EXTINF:{SEG:.3},\n{variant}/seg{k}.ts\n"
        ));
    }
    s
}

fn vod_playlist(markers: bool) -> String {
    let mut s = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        .to_string();
    for k in 0..10 {
        if markers && (k == 0 || k == 5) {
            s.push_str("#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n");
        }
        s.push_str(&format!("#EXTINF:2.000,\nseg{k}.ts\n"));
    }
    if markers {
        s.push_str("#EXT-X-CUE-OUT:0\n#EXT-X-CUE-IN\n");
    }
    s.push_str("#EXT-X-ENDLIST\n");
    s
}

const MASTER: &str = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nv0.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=320x180\nv1.m3u8\n";

fn inline(id: &str, seq: Option<u32>, secs: u32, media: &str, kind: &str) -> String {
    let seq = seq
        .map(|s| format!(" sequence=\"{s}\""))
        .unwrap_or_default();
    format!(
        "<Ad id=\"{id}\"{seq}><InLine><AdSystem>t</AdSystem><AdTitle>{id}</AdTitle><Impression><![CDATA[http://127.0.0.1:1/imp]]></Impression><Creatives><Creative id=\"c-{id}\"><Linear><Duration>00:00:{secs:02}</Duration><MediaFiles><MediaFile delivery=\"streaming\" type=\"{kind}\" width=\"640\" height=\"360\"><![CDATA[{media}]]></MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>"
    )
}

fn vast(ads: &str) -> String {
    format!("<?xml version=\"1.0\"?><VAST version=\"4.0\">{ads}</VAST>")
}

fn wrapper(next: &str) -> String {
    vast(&format!(
        "<Ad id=\"w\"><Wrapper><AdSystem>t</AdSystem><VASTAdTagURI><![CDATA[{next}]]></VASTAdTagURI><Impression>http://127.0.0.1:1/wimp</Impression></Wrapper></Ad>"
    ))
}

async fn origin_playlist(
    State(up): State<Up>,
    Path(path): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let base = up.base.lock().unwrap().clone();
    let hls = |s: String| ([("content-type", "application/vnd.apple.mpegurl")], s).into_response();
    match path.as_str() {
        "live/master.m3u8" | "vod/master.m3u8" | "plain/master.m3u8" => hls(MASTER.to_string()),
        "live/v0.m3u8" | "live/v1.m3u8" => {
            let tick: u64 = q.get("tick").and_then(|t| t.parse().ok()).unwrap_or(0);
            hls(live_playlist(WINDOW - 1 + tick, &path[5..7]))
        }
        "vod/v0.m3u8" | "vod/v1.m3u8" => hls(vod_playlist(true)),
        "plain/v0.m3u8" | "plain/v1.m3u8" => hls(vod_playlist(false)),
        "slow.m3u8" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            hls(MASTER.to_string())
        }
        "garbage.m3u8" => "<html>not a playlist</html>".into_response(),
        p if p.starts_with("ads/") && p.ends_with("master.m3u8") => {
            let dir = &p[..p.len() - "master.m3u8".len()];
            hls(format!("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360\n{base}/origin/{dir}a0.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=250000,RESOLUTION=320x180\n{base}/origin/{dir}a1.m3u8\n"))
        }
        p if p.starts_with("ads/") => {
            // ads/<name>/a<variant>.m3u8: <name> "ad10" has 5 x 2 s, "ad6" 3 x 2 s, "slate" 1 x 2 s
            let n = if p.contains("ad10") {
                5
            } else if p.contains("ad6") {
                3
            } else {
                1
            };
            let variant = if p.ends_with("a1.m3u8") { "a1" } else { "a0" };
            let mut s =
                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                    .to_string();
            for i in 0..n {
                s.push_str(&format!("#EXTINF:2.000,\n{variant}-seg{i}.ts\n"));
            }
            s.push_str("#EXT-X-ENDLIST\n");
            hls(s)
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn ads(
    State(up): State<Up>,
    Path(kind): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let base = up.base.lock().unwrap().clone();
    if let Some(sid) = q.get("sid") {
        *up.ads_calls.lock().unwrap().entry(sid.clone()).or_default() += 1;
    }
    let m = |name: &str| format!("{base}/origin/ads/{name}/master.m3u8");
    let hls = "application/x-mpegURL";
    let body = match (
        kind.as_str(),
        q.get("pod").map(String::as_str).unwrap_or(""),
    ) {
        ("vast", "two") => vast(
            &(inline("a2", Some(2), 6, &m("ad6"), hls)
                + &inline("a1", Some(1), 10, &m("ad10"), hls)),
        ),
        ("vast", "toolong") => vast(
            &(inline("long", Some(1), 40, &m("ad10"), hls)
                + &inline("a6", Some(2), 6, &m("ad6"), hls)),
        ),
        ("vast", "mp4") => vast(&inline(
            "mp4",
            None,
            10,
            "http://127.0.0.1:1/ad.mp4",
            "video/mp4",
        )),
        ("vast", "empty") => vast(""),
        ("vast", "malformed") => "<VAST version=\"4.0\"><Ad><InLine>".to_string(),
        ("vast", "timeout") => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            vast(&inline("late", None, 10, &m("ad10"), hls))
        }
        ("vast", "wrapped") => wrapper(&format!("{base}/ads/w2")),
        ("vast", "loop") => wrapper(&format!("{base}/ads/loopb")),
        ("w2", _) => wrapper(&format!("{base}/ads/w3")),
        ("w3", _) => vast(&inline("deep", None, 10, &m("ad10"), hls)),
        ("loopb", _) => wrapper(&format!("{base}/ads/vast?pod=loop")),
        _ => vast(&inline("a1", None, 10, &m("ad10"), hls)),
    };
    ([("content-type", "application/xml")], body).into_response()
}

struct Env {
    up: Up,
    proxy: String,
    /// Every instance (the first is `proxy`).
    proxies: Vec<String>,
    http: reqwest::Client,
}

fn channel(name: &str, upstream: &str, slate: bool) -> Channel {
    PlaybackConfig {
        name: Some(name.into()),
        origin: format!("{upstream}/origin/"),
        ads_url: format!("{upstream}/ads/vast?pod=[player_params.pod]&sid=[session.id]&dur=[session.avail_duration_secs]"),
        slate: slate.then(|| format!("{upstream}/origin/ads/slate/master.m3u8")),
        origin_timeout_ms: 500,
        ads_timeout_ms: 500,
        stale_if_error_secs: 0,
        // The test origin's clock (`?tick=N`) reaches it by name.
        origin_query_params: vec!["tick".into()],
        ..PlaybackConfig::default()
    }
    .validate("test", name)
    .unwrap()
}

async fn env() -> Env {
    env_with(vec![Arc::new(MemoryStore::default())]).await
}

/// One instance per store, in front of the same upstream.
async fn env_with(stores: Vec<Arc<dyn SessionStore>>) -> Env {
    let up: Up = Arc::new(Upstream::default());
    let app = Router::new()
        .route("/origin/{*path}", get(origin_playlist))
        .route("/ads/{kind}", get(ads))
        .with_state(up.clone());
    let upstream = serve(app).await;
    *up.base.lock().unwrap() = upstream.clone();
    let mut pre = channel("pre", &upstream, true).raw;
    pre.live_preroll_ads_url = Some(format!("{upstream}/ads/vast?pod=one&sid=[session.id]"));
    pre.live_preroll_max_duration_secs = 10.0;
    let channels = [
        channel("t", &upstream, true),
        channel("noslate", &upstream, false),
        pre.validate("test", "pre").unwrap(),
    ]
    .into_iter()
    .map(|c| (c.name.clone(), Arc::new(c)))
    .collect();
    let channels: splicepoint::config::Channels = Arc::new(channels);
    let mut proxies = Vec::new();
    for store in stores {
        proxies.push(serve(router(AppState::with_store(channels.clone(), store))).await);
    }
    Env {
        up,
        proxy: proxies[0].clone(),
        proxies,
        http: reqwest::Client::new(),
    }
}

impl Env {
    async fn get(&self, path: &str) -> (u16, String) {
        self.get_at(0, path).await
    }

    /// GET through instance `n`.
    async fn get_at(&self, n: usize, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.proxies[n]))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// New session: the variant URLs of its multivariant playlist.
    async fn session(&self, config: &str, path: &str) -> Vec<String> {
        let (status, body) = self.get(&format!("/v1/master/{config}/{path}")).await;
        assert_eq!(status, 200, "{body}");
        body.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// The real URI of a segment: ad segments in server-side reporting mode go through
/// `/v1/segment/...?u=REAL`.
fn real_uri(uri: &str) -> String {
    // /v1/segment/{session}/{break}/{ad}/{index}/{count}/{hex REAL}/{file}
    match uri.strip_prefix("/v1/segment/") {
        Some(rest) => splicepoint::server::report::unhex(rest.split('/').nth(5).unwrap()).unwrap(),
        None => uri.to_string(),
    }
}

fn uris(text: &str) -> Vec<String> {
    parse_media(text)
        .unwrap()
        .segments
        .iter()
        .map(|s| real_uri(&s.uri))
        .collect()
}

#[tokio::test]
async fn multivariant_points_every_variant_at_the_session() {
    let e = env().await;
    let (status, body) = e.get("/v1/master/t/live/master.m3u8?pod=two").await;
    assert_eq!(status, 200);
    let variants: Vec<&str> = body.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(variants.len(), 2);
    let sid = variants[0].split('/').nth(4).unwrap();
    assert_eq!(sid.len(), 32);
    assert_eq!(variants[0], format!("/v1/manifest/t/{sid}/live/v0.m3u8"));
    assert_eq!(variants[1], format!("/v1/manifest/t/{sid}/live/v1.m3u8"));
    assert!(body.contains("BANDWIDTH=800000,RESOLUTION=640x360"));
    // Another request is another session.
    let (_, again) = e.get("/v1/master/t/live/master.m3u8").await;
    assert!(!again.contains(sid));
}

#[tokio::test]
async fn live_window_over_100_refreshes_through_two_breaks() {
    live_window_check(&env().await).await;
}

/// The same 100 refreshes, each variant's requests alternating between two
/// instances that share a Redis session store: every rule holds as with one.
#[tokio::test]
async fn live_window_over_two_instances_sharing_redis() {
    let Some(redis) = redis_server::RedisServer::start() else {
        return;
    };
    let stores = redis.stores(2).await;
    live_window_check(&env_with(stores).await).await;
}

async fn live_window_check(e: &Env) {
    let variants = e.session("t", "live/master.m3u8?pod=two").await;
    let sid = variants[0].split('/').nth(4).unwrap().to_string();
    // msn -> (uri with the variant name normalized, cc), per variant
    let mut seen: [BTreeMap<u64, (String, u64)>; 2] = Default::default();
    let mut last_first = [0u64; 2];
    for tick in 0..100u64 {
        for (v, url) in variants.iter().enumerate() {
            let instance = (tick as usize + v) % e.proxies.len();
            let (status, text) = e.get_at(instance, &format!("{url}?tick={tick}")).await;
            assert_eq!(status, 200, "{text}");
            let pl = parse_media(&text).unwrap();
            assert!(
                pl.media_sequence >= last_first[v],
                "media sequence went back at tick {tick}:\n{text}"
            );
            last_first[v] = pl.media_sequence;
            assert!(
                text.contains("#EXT-X-UNKNOWN-TAG"),
                "unknown tags must pass through"
            );
            for s in &pl.segments {
                let norm = real_uri(&s.uri)
                    .replace("a1-seg", "a0-seg")
                    .replace("/v1/", "/v0/");
                let entry = (norm.clone(), s.cc);
                if let Some(prev) = seen[v].get(&s.msn) {
                    assert_eq!(prev, &entry, "msn {} changed at tick {tick}", s.msn);
                }
                seen[v].insert(s.msn, entry);
            }
        }
    }
    // Same timeline, same ads, on both variants.
    assert_eq!(seen[0], seen[1]);
    let timeline: Vec<&(String, u64)> = seen[0].values().collect();
    let ads: Vec<&str> = timeline
        .iter()
        .map(|(u, _)| u.as_str())
        .filter(|u| u.contains("/ads/"))
        .collect();
    // Breaks at origin k = 25, 45, 65, 85, 105 enter the window during the run; the
    // first (k = 5) was never seen from its start and plays as content.
    assert!(
        ads.iter()
            .filter(|u| u.contains("ad10/a0.m3u8") || u.contains("/ad10/"))
            .count()
            >= 2 * 5
    );
    assert!(ads.iter().any(|u| u.contains("/ad6/")));
    let breaks = timeline
        .windows(2)
        .filter(|w| !w[0].0.contains("/ads/") && w[1].0.contains("/ads/"))
        .count();
    assert!(breaks >= 2, "expected at least two breaks, saw {breaks}");
    for w in timeline.windows(2) {
        let switch = w[0].0.contains("/ads/") != w[1].0.contains("/ads/")
            || (w[1].0.ends_with("-seg0.ts") && w[1].0.contains("/ads/"));
        if switch {
            assert_eq!(
                w[1].1,
                w[0].1 + 1,
                "missing discontinuity at {} -> {}",
                w[0].0,
                w[1].0
            );
        }
    }
    // Pod order: ad10 (sequence 1) before ad6 (sequence 2).
    let first_ad10 = timeline
        .iter()
        .position(|(u, _)| u.contains("/ad10/"))
        .unwrap();
    assert!(timeline[first_ad10 + 5].0.contains("/ad6/"));
    // One ADS call per break for this session, however many refreshes and variants.
    let calls = *e.up.ads_calls.lock().unwrap().get(&sid).unwrap();
    assert!((4..=5).contains(&calls), "ADS calls: {calls}");
}

async fn first_break(e: &Env, config: &str, pod: &str) -> String {
    let variants = e
        .session(config, &format!("live/master.m3u8?pod={pod}"))
        .await;
    // tick 19: window k = 19..=24; tick 20 shows the CUE-OUT at k = 25.
    let url = &variants[0];
    let _ = e.get(&format!("{url}?tick=19")).await;
    let _ = e.get(&format!("{url}?tick=20")).await;
    // Window k = 24..=29: the break (k = 25..=32) from its start, 10 s of it published.
    let (status, text) = e.get(&format!("{url}?tick=24")).await;
    assert_eq!(status, 200, "{text}");
    text
}

#[tokio::test]
async fn ads_failures_fill_with_slate_or_content() {
    let e = env().await;
    for pod in ["timeout", "empty", "malformed", "loop", "mp4"] {
        let text = first_break(&e, "t", pod).await;
        let u = uris(&text);
        assert!(
            u.iter().any(|u| u.contains("/ads/slate/")),
            "{pod}: slate expected\n{text}"
        );
        assert!(
            !u.iter().any(|u| u.contains("/ad10/")),
            "{pod}: no ads expected\n{text}"
        );
        let text = first_break(&e, "noslate", pod).await;
        let u = uris(&text);
        assert!(
            u.iter().all(|u| u.contains("/origin/live/")),
            "{pod}: content expected\n{text}"
        );
        assert!(
            u.iter().any(|u| u.contains("seg27.ts")),
            "{pod}: the break's content plays"
        );
    }
    let (_, metrics) = e.get("/metrics").await;
    assert!(metrics.contains("reason=\"fetch_timeout\""), "{metrics}");
    assert!(metrics.contains("reason=\"empty\""), "{metrics}");
    assert!(metrics.contains("reason=\"NEW_CREATIVE\""), "{metrics}");
    // The ADS outcomes (issue #16): a slow ADS is a timeout, a VAST we cannot read
    // malformed, a wrapper loop an error; an MP4-only answer is the ADS's success.
    for outcome in ["timeout", "empty", "malformed", "error", "ok"] {
        let series =
            format!("splicepoint_ads_decisions_total{{outcome=\"{outcome}\",config=\"t\"}} ");
        assert!(
            metrics.lines().any(|l| l.starts_with(&series)),
            "{outcome}: {metrics}"
        );
    }
}

#[tokio::test]
async fn wrapper_chain_resolves_and_oversized_ads_are_dropped() {
    let e = env().await;
    let text = first_break(&e, "t", "wrapped").await;
    assert!(uris(&text).iter().any(|u| u.contains("/ad10/")), "{text}");
    let text = first_break(&e, "t", "toolong").await;
    let u = uris(&text);
    assert!(u.iter().any(|u| u.contains("/ad6/")), "{text}");
    assert!(
        !u.iter().any(|u| u.contains("/ad10/")),
        "40 s ad in a 16 s break must be dropped\n{text}"
    );
}

#[tokio::test]
async fn vod_inserts_pre_mid_post_rolls_and_implicit_preroll() {
    let e = env().await;
    let variants = e.session("t", "vod/master.m3u8?pod=two").await;
    let (status, text) = e.get(&variants[1]).await;
    assert_eq!(status, 200);
    let pl = parse_media(&text).unwrap();
    assert!(pl.ended);
    let kinds: String = pl
        .segments
        .iter()
        .map(|s| real_uri(&s.uri))
        .map(|u| {
            if u.contains("/ad10/") {
                'A'
            } else if u.contains("/ad6/") {
                'B'
            } else {
                'c'
            }
        })
        .collect();
    assert_eq!(kinds, "AAAAABBBcccccAAAAABBBcccccAAAAABBB");
    // The ad rendition matches the content variant (320x180 → a1).
    let first = real_uri(&pl.segments[0].uri);
    assert!(first.ends_with("/ad10/a1-seg0.ts"), "{first}");
    let variants = e.session("t", "plain/master.m3u8").await;
    let (_, text) = e.get(&variants[0]).await;
    let kinds: String = parse_media(&text)
        .unwrap()
        .segments
        .iter()
        .map(|s| {
            if real_uri(&s.uri).contains("/ads/") {
                'A'
            } else {
                'c'
            }
        })
        .collect();
    assert_eq!(kinds, "AAAAAcccccccccc");
}

#[tokio::test]
async fn errors_are_json_with_the_right_status() {
    let e = env().await;
    let variants = e.session("t", "live/master.m3u8").await;
    let sid = variants[0].split('/').nth(4).unwrap().to_string();
    let cases = [
        (
            "/v1/master/nope/live/master.m3u8".to_string(),
            404,
            "unknown_config",
        ),
        (
            "/v1/master/t/missing.m3u8".to_string(),
            404,
            "origin_not_found",
        ),
        ("/v1/master/t/slow.m3u8".to_string(), 504, "origin_timeout"),
        (
            "/v1/master/t/garbage.m3u8".to_string(),
            502,
            "origin_failed",
        ),
        (
            "/v1/master/t/live/master.m3u8?bad%20name=1".to_string(),
            400,
            "bad_request",
        ),
        (
            "/v1/master/t/a/..%2F..%2Fetc/passwd".to_string(),
            400,
            "bad_request",
        ),
        (
            "/v1/manifest/t/not-a-session/live/v0.m3u8".to_string(),
            400,
            "bad_request",
        ),
        (
            format!("/v1/manifest/t/{}/live/v0.m3u8", "0".repeat(32)),
            404,
            "unknown_session",
        ),
        (
            format!("/v1/manifest/noslate/{sid}/live/v0.m3u8"),
            404,
            "unknown_session",
        ),
        ("/nope".to_string(), 404, "not_found"),
    ];
    for (path, status, code) in cases {
        let r = e
            .http
            .get(format!("{}{path}", e.proxy))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
        let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(body["error"], code, "{path}: {body}");
    }
}

/// The test servers check every manifest they answer (`tests/common/serve.rs`):
/// a proxy answer (under `/v1/`) that breaks a rule, or a refresh rule against
/// its previous answer, becomes a 500 naming the rule; one that keeps them all
/// passes unchanged.
#[tokio::test]
async fn test_servers_refuse_manifests_that_break_rules() {
    let refreshes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let app = Router::new()
        .route(
            "/v1/ok.m3u8",
            get(|| async { "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\na.ts\n#EXT-X-ENDLIST\n" }),
        )
        .route(
            "/v1/long.m3u8",
            get(|| async { "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:6.000,\na.ts\n#EXT-X-ENDLIST\n" }),
        )
        .route(
            "/v1/live.m3u8",
            get(move || {
                let msn = 5 - 2 * refreshes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async move {
                    format!("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{msn}\n#EXTINF:2.000,\ns{msn}.ts\n")
                }
            }),
        )
        .route(
            "/v1/x.mpd",
            get(|| async { r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT2S"><Period id="0"/></MPD>"# }),
        )
        .route(
            // Keeps the rules (they do not look at unknown attributes); the schema
            // allows only attributes of other namespaces.
            "/v1/y.mpd",
            get(|| async { r#"<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S" type="static" mediaPresentationDuration="PT2S" bogus="1"><Period id="0"/></MPD>"# }),
        );
    let base = serve(app).await;
    let (_, outputs_before) = serve::checked();
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let req = http.get(format!("{base}{path}"));
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, body) = get("/v1/ok.m3u8").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("#EXTM3U\n#EXT-X-VERSION:3\n"), "{body}");
    let (status, body) = get("/v1/long.m3u8").await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("[hls.target-duration]"), "{body}");
    assert_eq!(get("/v1/live.m3u8").await.0, 200);
    let (status, body) = get("/v1/live.m3u8").await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("[hls.refresh-sequence]"), "{body}");
    let (status, body) = get("/v1/x.mpd").await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("[dash.required-attribute]"), "{body}");
    let (status, body) = get("/v1/y.mpd").await;
    if serve::schema_checks() {
        assert_eq!(status, 500, "{body}");
        assert!(body.contains("schema (DASH-MPD.xsd)"), "{body}");
        assert!(body.contains("bogus"), "{body}");
    } else {
        assert_eq!(status, 200, "{body}");
    }
    assert!(serve::checked().1 >= outputs_before + 6);
}

#[tokio::test]
async fn headers_for_cdns_and_web_players() {
    let e = env().await;
    let variants = e.session("t", "live/master.m3u8").await;
    let r = e
        .http
        .get(format!("{}{}", e.proxy, variants[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(r.headers()["content-type"], "application/vnd.apple.mpegurl");
    assert_eq!(r.headers()["cache-control"], "max-age=1");
    let r = e
        .http
        .get(format!("{}/healthz", e.proxy))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = e
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}{}", e.proxy, variants[0]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.headers().contains_key("access-control-allow-methods"));
}

#[tokio::test]
async fn origin_is_fetched_once_per_refresh_for_all_sessions() {
    let e = env().await;
    let mut urls = Vec::new();
    for _ in 0..20 {
        urls.push(e.session("t", "live/master.m3u8").await[0].clone());
    }
    let count = |m: &str| -> u64 {
        m.lines()
            .filter(|l| l.starts_with("splicepoint_origin_fetches_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    };
    let before = e.get("/metrics").await.1;
    let mut set = tokio::task::JoinSet::new();
    for u in urls {
        let (http, url) = (e.http.clone(), format!("{}{u}?tick=10", e.proxy));
        set.spawn(async move { http.get(url).send().await.unwrap().status().as_u16() });
    }
    while let Some(status) = set.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let after = e.get("/metrics").await.1;
    // One media playlist fetch for 20 concurrent sessions (no break in this window).
    assert_eq!(count(&after) - count(&before), 1, "{before}\n{after}");
}

#[tokio::test]
async fn media_playlist_asked_directly_redirects_to_its_session() {
    let e = env().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http
        .get(format!("{}/v1/master/t/live/v1.m3u8?pod=two", e.proxy))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("/v1/manifest/t/") && location.ends_with("/live/v1.m3u8"),
        "{location}"
    );
    // Refreshes of the redirected URL stay in the one session and get its ads.
    let sid = location.split('/').nth(4).unwrap().to_string();
    for tick in [19, 20, 24] {
        let (status, text) = e.get(&format!("{location}?tick={tick}")).await;
        assert_eq!(status, 200);
        if tick == 24 {
            assert!(uris(&text).iter().any(|u| u.contains("/ad10/")), "{text}");
        }
    }
    assert_eq!(e.up.ads_calls.lock().unwrap().get(&sid), Some(&1));
}

/// A session that joins inside a signalled break (CUE-OUT at k = 5, CONT to 12)
/// gets its pre-roll (k = 6..=10) over that break, and every published sequence
/// number keeps its segment, also once the CUE-OUT and then the pre-roll's start
/// have left the window (the break then shows only through CUE-OUT-CONT).
#[tokio::test]
async fn live_preroll_over_a_break_joined_mid_way_keeps_the_timeline() {
    let e = env().await;
    let variants = e.session("pre", "live/master.m3u8").await;
    let mut seen: BTreeMap<u64, (String, u64)> = BTreeMap::new();
    // The origin window at tick t is k = t..=t + 5: join at tick 3 (3..=8).
    for tick in 3..=18u64 {
        let (status, text) = e.get(&format!("{}?tick={tick}", variants[0])).await;
        assert_eq!(status, 200, "{text}");
        let pl = parse_media(&text).unwrap();
        for s in &pl.segments {
            let entry = (real_uri(&s.uri), s.cc);
            if let Some(prev) = seen.get(&s.msn) {
                assert_eq!(
                    prev, &entry,
                    "msn {} changed at tick {tick}:\n{text}",
                    s.msn
                );
            }
            seen.insert(s.msn, entry);
        }
    }
    let ads: Vec<&u64> = seen
        .iter()
        .filter(|(_, (u, _))| u.contains("/ads/ad10/"))
        .map(|(m, _)| m)
        .collect();
    assert_eq!(ads, [&6, &7, &8, &9, &10], "one 10 s pre-roll: {seen:?}");
    // Content after the pre-roll continues with the origin's own numbering.
    let last = seen.iter().next_back().unwrap();
    assert_eq!(*last.0, 23);
    assert!(last.1 .0.ends_with("seg23.ts"), "{last:?}");
}
