//! Fault matrix, configuration family (issue #13): a channel's file edited to
//! something invalid while sessions play it, then fixed; an invalid configuration
//! sent through the admin API; the file removed. The documented outcome (README,
//! Playback configurations): a bad edit is refused (logged) and the last good
//! version stays in force, so sessions play on and new ones start; the admin API
//! answers 400 JSON `bad_config` and keeps the file; a removed channel's URLs
//! answer 404 JSON `unknown_config`.
//!
//! The reloader's own cases (a new file, a good edit, a removal, with no
//! sessions) are `tests/admin.rs`
//! (`edited_files_are_picked_up_and_bad_ones_keep_the_last_good_version`).

use std::sync::Arc;
use std::time::Duration;

use splicepoint::config::load_dir;
use splicepoint::server::admin::spawn_reloader;
use splicepoint::server::{router, AppState};

#[path = "common/serve.rs"]
mod serve;
use serve::serve;
#[path = "common/faults.rs"]
mod faults;
use faults::{assert_error, assert_playable, client, fetch, new_origin, origin_app};

/// Edits that must be refused, each with what is wrong.
const BAD_EDITS: [&str; 5] = [
    "origin = 42\n",
    "origin = \"http://[::1\nads_url = \"http://a/\"\n",
    "origin = \"ftp://o/\"\nads_url = \"http://a/\"\n",
    "origin = \"http://o/\"\nads_url = \"http://[player_params.h]/vast\"\n",
    "this is not TOML at all {{{\n",
];

#[tokio::test]
async fn an_invalid_edit_while_serving_keeps_the_last_good_version() {
    let origin = new_origin();
    let upstream = serve(origin_app(origin)).await;
    let dir = std::env::temp_dir().join(format!(
        "splicepoint-fault-config-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let good = format!(
        "origin = \"{upstream}/origin/\"\nads_url = \"{upstream}/vast\"\nslate = \"{upstream}/slate.m3u8\"\n"
    );
    std::fs::write(dir.join("ch.toml"), &good).unwrap();
    let mut state = AppState::new(Arc::new(load_dir(&dir).unwrap()));
    state.config_dir = Some(dir.clone());
    state.admin_token = Some("t".into());
    spawn_reloader(state.clone(), dir.clone());
    let proxy = serve(router(state.clone())).await;
    let http = client();
    let (s, loc) = fetch(&http, &format!("{proxy}/v1/master/ch/live.m3u8")).await;
    assert_eq!(s, 302, "{loc}");
    let session = format!("{proxy}{loc}");
    let (s, body) = fetch(&http, &session).await;
    assert_playable(s, &body);
    // mtime granularity: each edit must be seen as one.
    for bad in BAD_EDITS {
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        std::fs::write(dir.join("ch.toml"), bad).unwrap();
        // For 2.5 s (the reloader looks within 2 s): the session plays on, new
        // sessions start, readiness holds.
        for _ in 0..5 {
            let (s, body) = fetch(&http, &session).await;
            assert_playable(s, &body);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let (s, loc) = fetch(&http, &format!("{proxy}/v1/master/ch/live.m3u8")).await;
        assert_eq!(s, 302, "{bad:?}: {loc}");
        assert_eq!(fetch(&http, &format!("{proxy}/readyz")).await.0, 200);
        assert_eq!(
            state.channel("ch").map(|c| c.origin.to_string()),
            Some(format!("{upstream}/origin/")),
            "{bad:?} replaced the channel"
        );
    }
    // The admin API refuses an invalid configuration with 400 JSON, file kept.
    let put = http
        .put(format!("{proxy}/v1/configs/ch"))
        .bearer_auth("t")
        .header("content-type", "application/json")
        .body(r#"{"origin": "ftp://o/", "ads_url": "http://a/"}"#)
        .send()
        .await
        .unwrap();
    let status = put.status().as_u16();
    assert_error((status, put.text().await.unwrap()), 400, "bad_config");
    // Fixed: picked up, the session still plays.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    std::fs::write(dir.join("ch.toml"), &good).unwrap();
    let (s, body) = fetch(&http, &session).await;
    assert_playable(s, &body);
    // Removed: its URLs are a 404 JSON (the session's too: its configuration is
    // gone), never a half-made manifest.
    std::fs::remove_file(dir.join("ch.toml")).unwrap();
    assert!(
        faults::eventually(Duration::from_secs(5), || state.channel("ch").is_none()).await,
        "removal picked up"
    );
    assert_error(
        fetch(&http, &format!("{proxy}/v1/master/ch/live.m3u8")).await,
        404,
        "unknown_config",
    );
    assert_error(fetch(&http, &session).await, 404, "unknown_config");
    std::fs::remove_dir_all(&dir).unwrap();
}
