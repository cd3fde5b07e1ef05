//! ffmpeg decodes the demo's stitched live and VOD streams through the proxy, with
//! no `HTTP error` / `Failed to open segment` in its output (ffmpeg exits 0 on those,
//! so its output is read). Skipped, saying so, where ffmpeg is not installed.

use std::process::Command;
use std::sync::Arc;

use splicepoint::demo::{Demo, DemoOptions};
use splicepoint::server::{router, AppState};

/// Longest an ffmpeg run may take (killed then, and the test fails).
const FFMPEG_LIMIT_SECS: &str = "240";

fn ffmpeg(url: &str, seconds: Option<u32>) -> (bool, String) {
    let mut cmd = Command::new("timeout");
    cmd.args([FFMPEG_LIMIT_SECS, "ffmpeg"]);
    cmd.args(["-nostdin", "-hide_banner", "-v", "warning", "-i", url]);
    if let Some(t) = seconds {
        cmd.args(["-t", &t.to_string()]);
    }
    let out = cmd.args(["-f", "null", "-"]).output().expect("run ffmpeg");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_decodes_the_stitched_demo_streams() {
    if Command::new("ffmpeg").arg("-version").output().is_err() {
        eprintln!(
            "demo ffmpeg test skipped: ffmpeg is not installed (scripts/install-deps installs it)"
        );
        return;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let options = DemoOptions {
        break_every: 30,
        ..DemoOptions::default()
    };
    let demo = Arc::new(Demo::load(&options, &base).unwrap());
    let channels = demo
        .channels()
        .unwrap()
        .into_iter()
        .map(|c| (c.name.clone(), Arc::new(c)))
        .collect();
    let state = AppState::new(Arc::new(channels));
    let app = router(state.clone()).merge(demo.clone().router());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // The HLS streams (ffmpeg's DASH reader asks for a segment past the end of
    // `$Number$` templates; the DASH streams are played by dash.js and Shaka in the
    // player suite instead).
    for (name, url) in demo
        .streams()
        .into_iter()
        // Guided streams are content-only to ffmpeg (no HLS interstitials): the
        // player suite plays them in hls.js.
        .filter(|(n, _)| n.starts_with("hls-") && !n.ends_with("-guided"))
    {
        let before = demo.ad_segments_served();
        // Live (a live stream never ends): 40 s from the live edge covers a
        // whole 16 s break every 30 s, or the pre-roll where it joins.
        let seconds = name.contains("-live").then_some(40);
        let url2 = url.clone();
        let (ok, log) = tokio::task::spawn_blocking(move || ffmpeg(&url2, seconds))
            .await
            .unwrap();
        assert!(ok, "{name}: ffmpeg failed:\n{log}");
        for bad in ["HTTP error", "Failed to open segment", "Server returned"] {
            assert!(
                !log.contains(bad),
                "{name}: ffmpeg reported `{bad}`:\n{log}"
            );
        }
        let ads = demo.ad_segments_served() - before;
        eprintln!("{name}: ffmpeg decoded {url}; {ads} ad segments fetched");
        assert!(ads >= 3, "{name}: ffmpeg fetched only {ads} ad segments");
    }
}
