//! Shared pieces of the fault matrix (`tests/fault_*.rs`): a live HLS origin whose
//! behaviour a test switches while sessions run, a TCP front that can be taken
//! down (connections refused) and brought back, and the assertions every fault
//! makes (a playable playlist, or the documented status with its JSON code).

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use splicepoint::hls::{parse_playlist, Playlist};

/// What the origin does with the next manifest request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// The live playlist.
    Good,
    /// This status, empty body.
    Status(u16),
    /// The playlist, after this long.
    Slow(Duration),
    /// 200 with an HTML error page.
    Garbage,
    /// 200 with a playlist of this many bytes or more.
    Big(usize),
    /// Good and 503 in turn, request by request.
    Flapping,
}

/// The origin's shared state.
pub struct Origin {
    pub mode: Mutex<Mode>,
    /// Manifest requests answered, by any mode.
    pub requests: Mutex<u64>,
    /// When the live channel started (segment `k` is available from `k` s on).
    pub t0: Instant,
    /// Seconds added to the media sequence (an encoder restart can lower it).
    pub msn_offset: Mutex<i64>,
    /// Impression beacons received (`/beacon`).
    pub beacons: Mutex<u64>,
}

impl Origin {
    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
    pub fn requests(&self) -> u64 {
        *self.requests.lock().unwrap()
    }
}

/// A live playlist: 1 s segments, a 6-segment window, a 4 s break every 12 s
/// (CUE-OUT at segments 12k+6, CUE-IN 4 later).
pub fn live_playlist(last: u64, offset: i64) -> String {
    let first = last.saturating_sub(5);
    let msn = (first as i64 + offset).max(0) as u64;
    let mut s = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:{msn}\n"
    );
    for k in first..=last {
        match k % 12 {
            6 => s.push_str("#EXT-X-CUE-OUT:4.000\n"),
            7..=9 => s.push_str(&format!(
                "#EXT-X-CUE-OUT-CONT:ElapsedTime={}.000,Duration=4.000\n",
                k % 12 - 6
            )),
            10 => s.push_str("#EXT-X-CUE-IN\n"),
            _ => {}
        }
        s.push_str(&format!("#EXTINF:1.000,\nseg{k}.ts\n"));
    }
    s
}

async fn manifest(State(o): State<Arc<Origin>>, Path(_path): Path<String>) -> Response {
    let n = {
        let mut r = o.requests.lock().unwrap();
        *r += 1;
        *r
    };
    let mode = *o.mode.lock().unwrap();
    let offset = *o.msn_offset.lock().unwrap();
    let last = 5 + o.t0.elapsed().as_secs();
    let hls = |s: String| ([("content-type", "application/vnd.apple.mpegurl")], s).into_response();
    match mode {
        Mode::Good => hls(live_playlist(last, offset)),
        Mode::Status(s) => StatusCode::from_u16(s).unwrap().into_response(),
        Mode::Slow(d) => {
            tokio::time::sleep(d).await;
            hls(live_playlist(last, offset))
        }
        Mode::Garbage => (
            [("content-type", "text/html")],
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response(),
        Mode::Big(n) => {
            let mut s = live_playlist(last, offset);
            while s.len() < n {
                s.push_str("#EXT-X-PADDING:0123456789012345678901234567890123456789\n");
            }
            hls(s)
        }
        Mode::Flapping if n % 2 == 0 => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Mode::Flapping => hls(live_playlist(last, offset)),
    }
}

/// The origin app (`/origin/{path}`), a VAST ADS (`/vast`) that answers one 4 s
/// HLS ad (impression: `/beacon`, counted), the ad's playlist (`/ad/ad.m3u8`) and a
/// 1 s slate (`/slate.m3u8`).
pub fn origin_app(o: Arc<Origin>) -> Router {
    Router::new()
        .route("/origin/{*path}", get(manifest))
        .route("/vast", get(vast))
        .route("/ad/ad.m3u8", get(|| async {
            (
                [("content-type", "application/vnd.apple.mpegurl")],
                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:1.000,\na0.ts\n#EXTINF:1.000,\na1.ts\n#EXTINF:1.000,\na2.ts\n#EXTINF:1.000,\na3.ts\n#EXT-X-ENDLIST\n",
            )
        }))
        .route(
            "/beacon",
            get(|State(o): State<Arc<Origin>>| async move {
                *o.beacons.lock().unwrap() += 1;
                ""
            }),
        )
        .route("/slate.m3u8", get(|| async {
            (
                [("content-type", "application/vnd.apple.mpegurl")],
                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:1.000,\nslate0.ts\n#EXT-X-ENDLIST\n",
            )
        }))
        .with_state(o)
}

async fn vast(headers: axum::http::HeaderMap) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let body = format!(
        r#"<VAST version="3.0"><Ad id="ad1"><InLine><AdSystem>t</AdSystem><AdTitle>t</AdTitle><Impression>http://{host}/beacon</Impression><Creatives><Creative id="c1"><Linear><Duration>00:00:04</Duration><MediaFiles><MediaFile delivery="streaming" type="application/x-mpegURL" width="640" height="360"><![CDATA[http://{host}/ad/ad.m3u8]]></MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>"#
    );
    ([("content-type", "application/xml")], body).into_response()
}

/// A new origin, live since now.
pub fn new_origin() -> Arc<Origin> {
    Arc::new(Origin {
        mode: Mutex::new(Mode::Good),
        requests: Mutex::new(0),
        t0: Instant::now(),
        msn_offset: Mutex::new(0),
        beacons: Mutex::new(0),
    })
}

/// A TCP front on 127.0.0.1 that forwards to `backend` while up; taken down, it
/// cuts the connections it holds and closes new ones at once, before any byte
/// (as a dead host's port would refuse them).
pub struct Front {
    pub addr: std::net::SocketAddr,
    up: tokio::sync::watch::Sender<bool>,
}

impl Front {
    pub async fn start(backend: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*watch.borrow() {
                    drop(inbound);
                    continue;
                }
                let mut watch = watch.clone();
                tokio::spawn(async move {
                    let Ok(mut out) = tokio::net::TcpStream::connect(backend).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut out) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { addr, up }
    }

    pub fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

/// A client that does not follow redirects and opens a new connection per
/// request (so a front taken down is seen at once).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// GET: status, body (the `Location` for a redirect).
pub async fn fetch(http: &reqwest::Client, url: &str) -> (u16, String) {
    let r = http.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    if let Some(loc) = r.headers().get("location") {
        return (status, loc.to_str().unwrap().to_string());
    }
    (status, r.text().await.unwrap())
}

/// A media playlist the proxy answered: 200, parses, and (checked by the test
/// server's conformance layer on every answer) keeps the refresh rules.
#[track_caller]
pub fn assert_playable(status: u16, body: &str) -> splicepoint::hls::MediaPlaylist {
    assert_eq!(status, 200, "{body}");
    match parse_playlist(body) {
        Ok(Playlist::Media(pl)) => {
            assert!(!pl.segments.is_empty(), "{body}");
            pl
        }
        other => panic!("not a media playlist ({other:?}): {body}"),
    }
}

/// The documented error: this status and JSON `{"error": code, "status": status}`.
#[track_caller]
pub fn assert_error(got: (u16, String), status: u16, code: &str) -> serde_json::Value {
    let (s, body) = got;
    let v: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert_eq!((s, v["error"].as_str()), (status, Some(code)), "{body}");
    assert_eq!(v["status"], status, "{body}");
    v
}

/// Wait until `f` holds, checking every 20 ms, for at most `within`.
pub async fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f()
}
