//! `splicepoint validate` (the binary: its output and exit status) and the admin
//! API's `GET /v1/admin/configs/{name}/validate`.

use std::process::Command;
use std::sync::Arc;

use axum::routing::get;
use splicepoint::config::load_dir;
use splicepoint::server::{router, AppState};

#[path = "common/serve.rs"]
mod serve;
use serve::serve;

const MASTER: &str = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\ngood.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=1600000\nbad.m3u8\n";
const GOOD: &str =
    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.000,\na.ts\n#EXT-X-ENDLIST\n";
/// Decimal EXTINFs at version 1, and a segment longer than the target.
const BAD: &str = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.000,\na.ts\n#EXTINF:7.500,\nb.ts\n#EXT-X-ENDLIST\n";

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "splicepoint-validate-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_command_reports_each_problem_and_exits_1() {
    let dir = temp_dir("cli");
    for (f, t) in [
        ("master.m3u8", MASTER),
        ("good.m3u8", GOOD),
        ("bad.m3u8", BAD),
    ] {
        std::fs::write(dir.join(f), t).unwrap();
    }
    let bin = env!("CARGO_BIN_EXE_splicepoint");
    let out = Command::new(bin)
        .arg("validate")
        .arg(dir.join("master.m3u8"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("good.m3u8 (HLS media playlist): ok"),
        "{text}"
    );
    assert!(
        text.contains("line 3 [hls.version] a decimal EXTINF duration needs EXT-X-VERSION 3"),
        "{text}"
    );
    assert!(
        text.contains("line 5 [hls.target-duration] EXTINF 7.5 rounds to 8"),
        "{text}"
    );
    assert!(
        text.contains("3 manifest(s), 2 problem(s), 0 unreadable"),
        "{text}"
    );

    let out = Command::new(bin)
        .args(["validate", "--json"])
        .arg(dir.join("good.m3u8"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["problems"], 0);
    assert_eq!(report["manifests"][0]["kind"], "hls-media");

    let out = Command::new(bin)
        .args(["validate", "--json"])
        .arg(dir.join("bad.m3u8"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["manifests"][0]["problems"][0]["rule"], "hls.version");
    assert_eq!(report["manifests"][0]["problems"][0]["place"], "line 3");

    // An unreadable source is a failure too.
    let out = Command::new(bin)
        .args(["validate"])
        .arg(dir.join("missing.m3u8"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn json(r: reqwest::Response) -> serde_json::Value {
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn the_admin_route_reports_a_channels_origin_manifests() {
    let origin = serve(
        axum::Router::new()
            .route("/live/master.m3u8", get(|| async { MASTER }))
            .route("/live/good.m3u8", get(|| async { GOOD }))
            .route("/live/bad.m3u8", get(|| async { BAD })),
    )
    .await;
    let dir = temp_dir("admin");
    std::fs::write(
        dir.join("ch.toml"),
        format!("origin = \"{origin}/live/\"\nads_url = \"http://127.0.0.1:9/vast\"\n"),
    )
    .unwrap();
    let mut state = AppState::new(Arc::new(load_dir(&dir).unwrap()));
    state.admin_token = Some("t".into());
    let proxy = serve(router(state)).await;
    let http = reqwest::Client::new();
    let url = format!("{proxy}/v1/admin/configs/ch/validate");

    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{proxy}/v1/admin/configs/nope/validate"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http
        .get(format!("{url}?path=http://evil.example/x.m3u8"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Nothing requested yet: nothing cached, nothing to report.
    let r = http.get(&url).bearer_auth("t").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let report = json(r).await;
    assert_eq!(report["manifests"].as_array().unwrap().len(), 0);

    // An explicit origin path: the playlist and its renditions.
    let r = http
        .get(format!("{url}?path=master.m3u8"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let report = json(r).await;
    assert_eq!(report["manifests"].as_array().unwrap().len(), 3);
    assert_eq!(report["problems"], 2);
    assert_eq!(
        report["manifests"][2]["source"],
        format!("{origin}/live/bad.m3u8")
    );
    assert_eq!(
        report["manifests"][2]["problems"][1]["rule"],
        "hls.target-duration"
    );

    // After a player's request the channel's cached origin manifests are reported.
    let r = http
        .get(format!("{proxy}/v1/master/ch/master.m3u8"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report = json(http.get(&url).bearer_auth("t").send().await.unwrap()).await;
    let sources: Vec<&str> = report["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["source"].as_str().unwrap())
        .collect();
    assert!(
        sources.contains(&format!("{origin}/live/master.m3u8").as_str()),
        "{sources:?}"
    );
    assert_eq!(report["problems"], 2, "{report}");
    std::fs::remove_dir_all(&dir).unwrap();
}
