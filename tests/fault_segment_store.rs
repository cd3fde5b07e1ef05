//! Fault matrix, segment store family (issue #13): the S3-compatible segment store
//! unreachable while an ad is transcoded (its endpoint refuses connections). The
//! documented outcome: the job fails and is recorded
//! (`splicepoint_transcode_jobs_total{reason="failed"}`), the break plays without
//! the ad in every manifest (content here; slate when the channel has one), and
//! the creative is not retried on every request (one job until the failure is
//! forgotten). Nothing half-stored is ever served: a job publishes its index last.
//!
//! The store against a working S3-compatible server (moto) is
//! `tests/transcode.rs` (`store_on_s3_compatible_server`).

#[allow(dead_code)]
#[path = "transcode/support.rs"]
mod transcode_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use splicepoint::config::{StoreLocation, TranscodeSettings};
use splicepoint::server::{router, AppState};
use splicepoint::transcode::Transcoder;
use transcode_support::*;

#[allow(dead_code)]
const LADDER: &[(&str, u32, u32, &str, &str, u64)] = &[
    ("hi", 640, 360, "high", "avc1.64001e", 900_000),
    ("mid", 480, 270, "main", "avc1.4d401e", 500_000),
    ("lo", 320, 180, "baseline", "avc1.42c01e", 250_000),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_unreachable_during_a_transcode_fails_the_job_and_the_break_plays_on() {
    let Some(fx) = fixtures() else { return };
    let up = Upstream::start(&fx.dir).await;
    // An endpoint nothing listens on: bound, then closed.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let channel = up.channel("wait");
    let channels = [(channel.name.clone(), Arc::new(channel))]
        .into_iter()
        .collect();
    let mut st = AppState::new(Arc::new(channels));
    st.transcoder = Transcoder::new(
        TranscodeSettings {
            store: StoreLocation::S3 {
                bucket: "splicepoint-ads".into(),
                prefix: "fault".into(),
                endpoint: Some(endpoint),
                region: Some("us-east-1".into()),
                access_key_id: Some("testing".into()),
                secret_access_key: Some("testing".into()),
                allow_http: true,
            },
            ..TranscodeSettings::default()
        },
        st.http.clone(),
        st.metrics.clone(),
    );
    let transcoder = st.transcoder.clone();
    let base = serve(router(st)).await;
    transcoder.set_default_public_url(&base);
    let started = Instant::now();
    let first = first_preroll(&base, "c360p30-match.mp4").await;
    assert!(
        first.contains("#EXTINF") && !first.contains("/v1/ads/"),
        "{first}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = || async {
        reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    loop {
        let m = metrics().await;
        if metric(&m, "splicepoint_transcode_jobs_total", "failed") == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the job never failed: {m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every later request: a playlist without the ad, promptly, and no new job.
    for _ in 0..5 {
        let t = Instant::now();
        let pl = first_preroll(&base, "c360p30-match.mp4").await;
        assert!(pl.contains("#EXTINF") && !pl.contains("/v1/ads/"), "{pl}");
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    }
    assert_eq!(transcoder.jobs_started(), 1);
    let m = metrics().await;
    assert!(
        metric(&m, "splicepoint_ads_skipped_total", "TRANSCODE_FAILED") >= 5,
        "{m}"
    );
    eprintln!("failed within {:?}", started.elapsed());
}
