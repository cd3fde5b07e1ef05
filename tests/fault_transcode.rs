//! Fault matrix, transcoder family (issue #13): ffmpeg killed (SIGKILL) in the
//! middle of a job. The documented outcome: the job is recorded as failed
//! (`splicepoint_transcode_jobs_total{reason="failed"}`), the break plays without
//! the ad (content here; slate when the channel has one) in every manifest, no
//! partial output is published, and the creative is not retried on every request
//! (one job; `TRANSCODE_FAILED` skips until the failure is forgotten).
//!
//! ffmpeg is a wrapper script here (`TranscodeSettings::ffmpeg`): it starts the
//! real ffmpeg and SIGKILLs it 300 ms later, as an OOM killer or an operator would.
//! A job over its time limit is killed by us: `tests/transcode.rs`
//! (`a_timeout_kills_ffmpeg`).

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

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "splicepoint-fault-{name}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The proxy with `settings` for its transcoder; its base URL and the transcoder.
pub async fn proxy(up: &Upstream, settings: TranscodeSettings) -> (String, Transcoder) {
    let channel = up.channel("wait");
    let channels = [(channel.name.clone(), Arc::new(channel))]
        .into_iter()
        .collect();
    let mut st = AppState::new(Arc::new(channels));
    st.transcoder = Transcoder::new(settings, st.http.clone(), st.metrics.clone());
    let transcoder = st.transcoder.clone();
    let base = serve(router(st)).await;
    transcoder.set_default_public_url(&base);
    (base, transcoder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_killed_mid_job_fails_the_job_and_the_break_plays_on() {
    let Some(fx) = fixtures() else { return };
    let up = Upstream::start(&fx.dir).await;
    let dir = scratch("ffmpeg-killed");
    let wrapper = dir.join("ffmpeg-killed");
    let pids = dir.join("pids");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nffmpeg \"$@\" &\npid=$!\necho $pid >> '{}'\n(sleep 0.3; kill -9 $pid 2>/dev/null) &\nwait $pid\n",
            pids.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let store = dir.join("store");
    let (base, transcoder) = proxy(
        &up,
        TranscodeSettings {
            store: StoreLocation::Local(store.clone()),
            ffmpeg: wrapper.display().to_string(),
            ..TranscodeSettings::default()
        },
    )
    .await;
    // A 1080p creative: a full encode to the 360p ladder, longer than 300 ms.
    let first = first_preroll(&base, "c1080p30.mp4").await;
    assert!(!first.contains("/v1/ads/"), "{first}");
    let metrics = || async {
        reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let m = metrics().await;
        if metric(&m, "splicepoint_transcode_jobs_total", "failed") == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the job never failed: {m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        std::fs::read_to_string(&pids).is_ok_and(|p| !p.trim().is_empty()),
        "ffmpeg ran under the wrapper"
    );
    // Every later request: a playlist without the ad, and no new job.
    for _ in 0..5 {
        let pl = first_preroll(&base, "c1080p30.mp4").await;
        assert!(pl.contains("#EXTINF") && !pl.contains("/v1/ads/"), "{pl}");
    }
    assert_eq!(transcoder.jobs_started(), 1);
    let m = metrics().await;
    assert!(
        metric(&m, "splicepoint_ads_skipped_total", "TRANSCODE_FAILED") >= 5,
        "{m}"
    );
    // Nothing published: no index (the store lists what a job completed).
    let published: Vec<_> = walk(&store)
        .into_iter()
        .filter(|p| p.ends_with("index.json") || p.ends_with("master.m3u8"))
        .collect();
    assert!(published.is_empty(), "{published:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}
