//! Graceful shutdown: unready while draining, requests in flight finish, the wait
//! is bounded; and the binary does it on SIGTERM.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use splicepoint::server::shutdown::{self, Drain, Timings};
use splicepoint::server::{router, AppState};

/// The proxy (no channels) plus `/slow`, which answers after `ms` milliseconds.
fn app(ms: u64) -> Router {
    let state = AppState::new(Arc::new(Default::default()));
    router(state).merge(Router::new().route(
        "/slow",
        get(move || async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            "done"
        }),
    ))
}

/// Serve `app` with `timings`; the sender starts the shutdown; the handle ends
/// when the server has stopped.
async fn start(
    app: Router,
    timings: Timings,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let drain = Drain::default();
    let app = drain.layer(app);
    let server = tokio::spawn(shutdown::serve(listener, app, drain, timings, async {
        let _ = rx.await;
    }));
    (base, tx, server)
}

#[tokio::test]
async fn requests_in_flight_finish_and_readyz_turns_unready() {
    let timings = Timings {
        drain: Duration::from_millis(600),
        grace: Duration::from_secs(5),
    };
    let (base, trigger, server) = start(app(1500), timings).await;
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let before = tokio::spawn(http.get(format!("{base}/slow")).send());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t0 = Instant::now();
    trigger.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Draining: still accepting and serving, but unready, and closing connections.
    let r = reqwest::Client::new()
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.text().await.unwrap(), "draining\n");
    let r = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "alive while draining");
    assert_eq!(r.headers()["connection"], "close");
    // A request that starts during the drain and is still running when the
    // listener closes.
    let during = tokio::spawn(reqwest::Client::new().get(format!("{base}/slow")).send());
    let r = before.await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "done");
    let r = during.await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "done");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops once the requests are done")
        .unwrap()
        .unwrap();
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert!(
        reqwest::Client::new()
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_err(),
        "the listener is closed"
    );
}

#[tokio::test]
async fn the_wait_for_requests_in_flight_is_bounded() {
    let timings = Timings {
        drain: Duration::ZERO,
        grace: Duration::from_millis(500),
    };
    let (base, trigger, server) = start(app(30_000), timings).await;
    let stuck = tokio::spawn(reqwest::Client::new().get(format!("{base}/slow")).send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t0 = Instant::now();
    trigger.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops at the end of the grace period")
        .unwrap()
        .unwrap();
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(2),
        "{took:?}"
    );
    stuck.abort();
}

/// The binary: SIGTERM makes `serve` unready at once, then it exits 0 within
/// drain + grace.
#[cfg(unix)]
#[tokio::test]
async fn serve_drains_on_sigterm_and_exits() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_splicepoint"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--config-dir",
            concat!(env!("CARGO_MANIFEST_DIR"), "/ad-templates"),
        ])
        .args(["--drain-secs", "1", "--grace-secs", "2"])
        .env_remove("SPLICEPOINT_REDIS_URL")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            assert_eq!(r.status(), 200);
            break;
        }
        assert!(Instant::now() < deadline, "serve did not start in 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = child.id().unwrap();
    let t0 = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // Unready soon after the signal, while still answering.
    let mut unready = false;
    while t0.elapsed() < Duration::from_millis(900) {
        let r = reqwest::Client::new()
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            unready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(unready, "/readyz turned 503 after SIGTERM");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("serve exits within drain + grace")
        .unwrap();
    assert!(status.success(), "{status:?}");
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "{took:?}"
    );
}
