//! Fault matrix, session store family (issue #13): Redis killed in the middle of a
//! live session and restarted. The documented outcome (README, Several instances):
//! while Redis is down, requests that need the session get 503 JSON
//! `session_store_unavailable` (not a 404, never a manifest made without the
//! session's state) and beacons are lost rather than counted twice; once Redis is
//! back with its data (append-only file), the session continues with the same ads,
//! and a beacon already fired does not fire again.
//!
//! The store-level outage (a stopped Redis, no restart) is in `tests/session_store.rs`
//! (`redis_outage_degrades_without_panics`, `redis_outage_is_a_503_not_an_unknown_session`);
//! the whole topology under a Redis restart in `deploy/rehearsal`.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use splicepoint::config::PlaybackConfig;
use splicepoint::server::{router, AppState};
use splicepoint::session::RedisStore;

#[path = "common/serve.rs"]
mod serve;
use serve::serve;
#[path = "common/faults.rs"]
mod faults;
#[allow(dead_code)] // what this file does not use of it
#[path = "common/redis_server.rs"]
mod redis_server;
use faults::{assert_error, assert_playable, client, fetch, new_origin, origin_app};

/// A `redis-server` that can be killed and started again on the same port with
/// its append-only file (every write fsynced).
struct Redis {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
}

impl Redis {
    fn start() -> Option<Self> {
        if !redis_server::installed() {
            return None;
        }
        let port = redis_server::free_port();
        let dir = std::env::temp_dir().join(format!(
            "splicepoint-fault-redis-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut r = Self {
            port,
            dir,
            child: None,
        };
        r.run();
        Some(r)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn run(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        for _ in 0..100 {
            if redis_ping(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "redis-server on port {} did not answer within 5 s",
            self.port
        );
    }

    /// SIGKILL: no shutdown save, as a crash.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn redis_ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 16];
    s.write_all(b"PING\r\n").is_ok()
        && s.read(&mut buf)
            .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
}

/// The ad segment URIs (through `/v1/segment`) of a playlist.
fn ad_uris(body: &str) -> Vec<String> {
    body.lines()
        .filter(|l| l.starts_with("/v1/segment/"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn redis_killed_mid_session_then_restarted() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let origin = new_origin();
    let upstream = serve(origin_app(origin.clone())).await;
    let cfg = PlaybackConfig {
        name: Some("ch".into()),
        origin: format!("{upstream}/origin/"),
        ads_url: format!("{upstream}/vast"),
        ..PlaybackConfig::default()
    };
    let channel = cfg.validate("test", "ch").unwrap();
    let channels = Arc::new(
        [("ch".to_string(), Arc::new(channel))]
            .into_iter()
            .collect(),
    );
    let store = RedisStore::connect(&redis.url(), "fault:").await.unwrap();
    let proxy = serve(router(AppState::with_store(channels, Arc::new(store)))).await;
    let http = client();
    let (s, loc) = fetch(&http, &format!("{proxy}/v1/master/ch/live.m3u8")).await;
    assert_eq!(s, 302, "{loc}");
    let session = format!("{proxy}{loc}");
    // Until the break's first two ad segments are published (CUE-OUT at 1 s).
    let mut ads = Vec::new();
    for _ in 0..40 {
        let (s, body) = fetch(&http, &session).await;
        assert_playable(s, &body);
        ads = ad_uris(&body);
        if ads.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ads.len() >= 2, "no ads published: {ads:?}");
    // The first ad segment: the impression fires once.
    let (s, _) = fetch(&http, &format!("{proxy}{}", ads[0])).await;
    assert_eq!(s, 302);
    assert!(
        faults::eventually(Duration::from_secs(3), || *origin.beacons.lock().unwrap()
            == 1)
        .await,
        "impression fired"
    );

    redis.kill();
    // Down: 503 JSON for everything that needs the session, a new session too.
    assert_error(
        fetch(&http, &session).await,
        503,
        "session_store_unavailable",
    );
    assert_error(
        fetch(&http, &format!("{proxy}/v1/master/ch/live.m3u8")).await,
        503,
        "session_store_unavailable",
    );
    // An ad segment: the player still gets its segment or a clear error, and the
    // beacon is not fired without its claim.
    let (s, body) = fetch(&http, &format!("{proxy}{}", ads[0])).await;
    assert!(s == 302 || s == 503, "{s} {body}");

    redis.run();
    // Back: the same session, the same ads at the same numbers (the serve layer
    // also checks every answer against the one before).
    let mut back = None;
    for _ in 0..50 {
        let (s, body) = fetch(&http, &session).await;
        if s == 200 {
            back = Some(body);
            break;
        }
        assert_error((s, body), 503, "session_store_unavailable");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = back.expect("the session answers within 5 s of Redis coming back");
    assert_playable(200, &body);
    // Each ad segment published before and still in the window is the same (by
    // break, ad and segment: `/v1/segment/{session}/{break}/{ad}/{segment}/...`).
    let key = |u: &str| u.split('/').skip(4).take(3).collect::<Vec<_>>().join("/");
    for uri in ad_uris(&body) {
        if let Some(before) = ads.iter().find(|a| key(a) == key(&uri)) {
            assert_eq!(before, &uri, "the ad changed");
        }
    }
    // The same ad segment again: no second impression, whatever happened while
    // Redis was down.
    let (s, _) = fetch(&http, &format!("{proxy}{}", ads[0])).await;
    assert_eq!(s, 302);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(*origin.beacons.lock().unwrap(), 1, "no double beacon");
}
