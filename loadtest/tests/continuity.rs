//! The load generator against tiny in-process servers: one that keeps every
//! continuity rule (no violation may be reported), and ones that break a rule
//! (violations must be reported, with the session and both responses).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use clap::Parser as _;
use splicepoint_loadtest::{run, Options};

/// How the test server misbehaves.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// On a session's third refresh, the media sequence goes back by two.
    SequenceBack,
    /// On a session's third refresh, a published segment gets another URI.
    SegmentChanged,
    /// From a DASH session's third refresh on, its Period starts 1 s later.
    PeriodMoved,
}

#[derive(Clone)]
struct Server {
    fault: Fault,
    sessions: Arc<AtomicU64>,
    refreshes: Arc<Mutex<HashMap<String, u64>>>,
    segments: Arc<AtomicU64>,
    /// `availabilityStartTime` of the DASH stream: 100 s before the server started.
    ast: String,
}

async fn master(State(s): State<Server>) -> String {
    let id = s.sessions.fetch_add(1, Ordering::Relaxed);
    format!(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO=\"aud\"\n/v1/manifest/c/s{id}/live/v0.m3u8\n\
         #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"en\",DEFAULT=YES,URI=\"/v1/manifest/c/s{id}/live/a0.m3u8\"\n"
    )
}

async fn session(State(s): State<Server>) -> axum::Json<serde_json::Value> {
    let id = s.sessions.fetch_add(1, Ordering::Relaxed);
    axum::Json(serde_json::json!({
        "manifestUrl": format!("/v1/manifest/c/s{id}/live/v0.m3u8"),
        "trackingUrl": format!("/v1/tracking/s{id}"),
    }))
}

/// A live window of 3 one-second segments that slides by one per refresh; an ad
/// (two segments through `/v1/segment`, DISCONTINUITY on both switches) at sequence
/// numbers 4 and 5.
async fn media(State(s): State<Server>, Path((sid, file)): Path<(String, String)>) -> String {
    let n = {
        let mut r = s.refreshes.lock().unwrap();
        let n = r.entry(format!("{sid}/{file}")).or_default();
        *n += 1;
        *n
    };
    let mut seq = n;
    if s.fault == Fault::SequenceBack && n == 3 {
        seq = 1;
    }
    // The DISCONTINUITY tags (at 4 and 6) that slid out of the window.
    let dseq = u64::from(seq > 4) + u64::from(seq > 6);
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:{seq}\n#EXT-X-DISCONTINUITY-SEQUENCE:{dseq}\n"
    );
    for msn in seq..seq + 3 {
        let ad = (4..=5).contains(&msn);
        if msn == 4 || msn == 6 {
            out.push_str("#EXT-X-DISCONTINUITY\n");
        }
        let uri = if ad {
            format!("/v1/segment/{sid}/62/0/{}/2/ab/ad{msn}.ts", msn - 4)
        } else if s.fault == Fault::SegmentChanged && n == 3 && msn == seq {
            format!("/content/{file}/other{msn}.ts")
        } else {
            format!("/content/{file}/seg{msn}.ts")
        };
        out.push_str(&format!("#EXTINF:1.000,\n{uri}\n"));
    }
    out
}

/// DASH: a new session is a redirect to its MPD.
async fn dash_session(State(s): State<Server>) -> axum::response::Redirect {
    let id = s.sessions.fetch_add(1, Ordering::Relaxed);
    axum::response::Redirect::to(&format!("/v1/dash/c/s{id}/live/manifest.mpd"))
}

/// A live MPD that started 100 s ago: one Period of 1 s segments (`$Number$`).
async fn dash_mpd(State(s): State<Server>, Path(sid): Path<String>) -> String {
    let n = {
        let mut r = s.refreshes.lock().unwrap();
        let n = r.entry(sid).or_default();
        *n += 1;
        *n
    };
    let start = if s.fault == Fault::PeriodMoved && n >= 3 {
        "PT1S"
    } else {
        "PT0S"
    };
    format!(
        r#"<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" availabilityStartTime="{}" minimumUpdatePeriod="PT1S"><Period id="p0" start="{start}"><AdaptationSet id="0"><SegmentTemplate timescale="1" duration="1" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/><Representation id="v0" bandwidth="1000"/></AdaptationSet></Period></MPD>"#,
        s.ast
    )
}

async fn segment(State(s): State<Server>) -> &'static [u8] {
    s.segments.fetch_add(1, Ordering::Relaxed);
    &[0x47; 188]
}

async fn serve(fault: Fault) -> (String, Server) {
    let state = Server {
        fault,
        sessions: Arc::default(),
        refreshes: Arc::default(),
        segments: Arc::default(),
        ast: splicepoint::dash::mpd::format_utc(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                - 100,
        ),
    };
    let app = Router::new()
        .route("/v1/master/c/live/master.m3u8", get(master))
        .route("/v1/session/c/live/master.m3u8", post(session))
        .route("/v1/manifest/c/{sid}/live/{file}", get(media))
        .route("/v1/segment/{*rest}", get(segment))
        .route("/v1/dash/c/live/manifest.mpd", get(dash_session))
        .route("/v1/dash/c/{sid}/live/manifest.mpd", get(dash_mpd))
        .route("/v1/dash/c/{sid}/live/v0/{file}", get(segment))
        .route("/content/{*rest}", get(segment))
        .route(
            "/metrics",
            get(|| async { "# TYPE splicepoint_x_total counter\nsplicepoint_x_total 7\n" }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

fn options(target: &str, extra: &[&str]) -> Options {
    let mut args = vec![
        "loadtest",
        "--target",
        target,
        "--config",
        "c",
        "--path",
        "live/master.m3u8",
        "--sessions",
        "4",
        "--ramp-per-sec",
        "40",
        "--duration",
        "3500ms",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    Options::try_parse_from(args).unwrap()
}

#[tokio::test]
async fn a_correct_server_gives_no_violation() {
    let (target, server) = serve(Fault::None).await;
    let report = tokio::time::timeout(Duration::from_secs(30), run(options(&target, &[])))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.continuity_violations, 0, "{:?}", report.violations);
    assert_eq!(report.errors, 0, "{:?}", report.errors_by_cause);
    assert_eq!(report.session_counts.started, 4);
    assert_eq!(report.sessions, 4);
    // Each session refreshes its variant and its audio rendition about once a
    // second for 3.5 s.
    let media = report.requests_by_kind["media"];
    assert!((24..=40).contains(&media), "media requests: {media}");
    assert_eq!(report.requests_by_kind["master"], 4);
    // Segments: the last three at the start, then each new one, on both tracks.
    let segments = server.segments.load(Ordering::Relaxed);
    assert_eq!(report.requests_by_kind["segment"], segments);
    assert!(segments >= 4 * 2 * 5, "segments fetched: {segments}");
    assert!(report.ad_segments > 0, "ads went through /v1/segment");
    assert!(report.latency_ms["media"].p99 > 0.0);
    assert!(report.latency_ms["media"].max >= report.latency_ms["media"].p50);
    assert_eq!(
        report.server_metrics.before["splicepoint_x_total"], 7.0,
        "the server's metrics are scraped"
    );
    assert!(!report.timeline.is_empty(), "one sample per second");
    let json = serde_json::to_value(&report).unwrap();
    for key in [
        "sessions",
        "requests",
        "errors",
        "continuity_violations",
        "latency_ms",
        "rps",
        "server_metrics",
    ] {
        assert!(json.get(key).is_some(), "report has {key}");
    }
    assert!(report.chart_html().contains("<svg"));
}

#[tokio::test]
async fn media_sequence_going_back_is_a_violation_per_session() {
    let (target, _) = serve(Fault::SequenceBack).await;
    let report = tokio::time::timeout(Duration::from_secs(30), run(options(&target, &[])))
        .await
        .unwrap()
        .unwrap();
    // Once per track: variant and audio, four sessions.
    assert_eq!(report.continuity_violations, 8, "{:?}", report.violations);
    let v = &report.violations[0];
    assert!(v.session.starts_with('s'), "{}", v.session);
    assert_eq!(v.breaches[0].rule, "media_sequence_back");
    assert!(
        v.previous.contains("#EXT-X-MEDIA-SEQUENCE:2"),
        "{}",
        v.previous
    );
    assert!(
        v.current.contains("#EXT-X-MEDIA-SEQUENCE:1"),
        "{}",
        v.current
    );
}

#[tokio::test]
async fn a_published_segment_changing_is_a_violation_with_explicit_sessions() {
    let (target, _) = serve(Fault::SegmentChanged).await;
    let report = tokio::time::timeout(
        Duration::from_secs(30),
        run(options(
            &target,
            &["--session-mode", "explicit", "--segments", "head"],
        )),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(report.requests_by_kind["session"], 4);
    // Explicit sessions here point at the media playlist: one track each.
    assert_eq!(report.continuity_violations, 4, "{:?}", report.violations);
    assert!(report
        .violations
        .iter()
        .all(|v| v.breaches.iter().any(|b| b.rule == "segment_changed")));
}

#[tokio::test]
async fn errors_are_counted_by_cause() {
    let (target, _) = serve(Fault::None).await;
    let mut opts = options(&target, &[]);
    opts.config = "nope".into();
    opts.sessions = 2;
    opts.duration = Duration::from_millis(500);
    let report = tokio::time::timeout(Duration::from_secs(30), run(opts))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.session_counts.failed, 2);
    assert_eq!(report.sessions, 0);
    assert!(
        report
            .errors_by_cause
            .get("master:status_404")
            .copied()
            .unwrap_or(0)
            >= 2,
        "{:?}",
        report.errors_by_cause
    );
}

fn dash_options(target: &str) -> Options {
    let mut o = options(target, &[]);
    o.path = "live/manifest.mpd".into();
    o.sessions = 3;
    o
}

#[tokio::test]
async fn dash_sessions_refresh_and_fetch_live_segments() {
    let (target, server) = serve(Fault::None).await;
    let report = tokio::time::timeout(Duration::from_secs(30), run(dash_options(&target)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.protocol, "dash");
    assert_eq!(report.continuity_violations, 0, "{:?}", report.violations);
    assert_eq!(report.errors, 0, "{:?}", report.errors_by_cause);
    assert_eq!(report.sessions, 3);
    // minimumUpdatePeriod 1 s for 3.5 s: 4 or 5 MPDs per session.
    let mpds = report.requests_by_kind["mpd"];
    assert!((12..=15).contains(&mpds), "MPD requests: {mpds}");
    // At the join: init + the last three segments; then about one per second.
    let segments = server.segments.load(Ordering::Relaxed);
    assert_eq!(report.requests_by_kind["segment"], segments);
    assert!((3 * 6..=3 * 9).contains(&segments), "segments: {segments}");
}

#[tokio::test]
async fn a_dash_period_that_moves_is_a_violation_once_per_session() {
    let (target, _) = serve(Fault::PeriodMoved).await;
    let report = tokio::time::timeout(Duration::from_secs(30), run(dash_options(&target)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.continuity_violations, 3, "{:?}", report.violations);
    assert!(report
        .violations
        .iter()
        .all(|v| v.breaches[0].rule == "period_moved"));
}
