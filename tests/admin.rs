//! The admin API and hot reload of the configuration directory.

use std::sync::Arc;
use std::time::Duration;

use splicepoint::config::load_dir;
use splicepoint::server::admin::spawn_reloader;
use splicepoint::server::{router, AppState};

#[path = "common/serve.rs"]
mod serve;
use serve::serve;

const A: &str = "origin = \"http://origin.example/a/\"\nads_url = \"http://ads.example/vast\"\n";

async fn start(token: Option<&str>) -> (String, std::path::PathBuf, AppState) {
    let dir = std::env::temp_dir().join(format!(
        "splicepoint-admin-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.toml"), A).unwrap();
    let mut state = AppState::new(Arc::new(load_dir(&dir).unwrap()));
    state.config_dir = Some(dir.clone());
    state.admin_token = token.map(Into::into);
    let url = serve(router(state.clone())).await;
    (url, dir, state)
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

#[tokio::test]
async fn api_is_off_without_a_token_and_refuses_a_wrong_one() {
    let (url, _, _) = start(None).await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{url}/v1/configs"))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (url, _, _) = start(Some("s3cret")).await;
    let r = http.get(format!("{url}/v1/configs")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{url}/v1/configs"))
        .bearer_auth("s3cre")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{url}/v1/configs"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["configs"][0]["name"], "a");
    assert_eq!(body["configs"][0]["origin"], "http://origin.example/a/");
}

#[tokio::test]
async fn put_get_delete_write_the_directory() {
    let (url, dir, _) = start(Some("t")).await;
    let http = reqwest::Client::new();
    let put = |name: &str, body: &str| {
        http.put(format!("{url}/v1/configs/{name}"))
            .bearer_auth("t")
            .body(body.to_string())
            .send()
    };
    // A bad body is refused with the reason; nothing changes.
    let r = put("b", r#"{"origin": "ftp://x/", "ads_url": "http://ads/"}"#)
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("origin"));
    let r = put("b", "{not json").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(!dir.join("b.toml").exists());
    // A good one is written atomically and served at once.
    let r = put("b", r#"{"origin": "http://origin.example/b/", "ads_url": "http://ads.example/v?d=[session.avail_duration_secs]"}"#).await.unwrap();
    assert_eq!(r.status(), 201);
    let text = std::fs::read_to_string(dir.join("b.toml")).unwrap();
    assert!(
        text.contains("origin = \"http://origin.example/b/\""),
        "{text}"
    );
    assert!(
        load_dir(&dir).unwrap().contains_key("b"),
        "the written file loads"
    );
    let r = http
        .get(format!("{url}/v1/configs/b"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = put(
        "b",
        r#"{"origin": "http://origin.example/b2/", "ads_url": "http://ads.example/v"}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .delete(format!("{url}/v1/configs/b"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(!dir.join("b.toml").exists());
    let r = http
        .get(format!("{url}/v1/configs/b"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn edited_files_are_picked_up_and_bad_ones_keep_the_last_good_version() {
    let (url, dir, state) = start(Some("t")).await;
    spawn_reloader(state.clone(), dir.clone());
    let origin_of = |name: &str| state.channel(name).map(|c| c.origin.to_string());
    let wait_for = |want: Option<&'static str>, name: &'static str| {
        let state = state.clone();
        async move {
            for _ in 0..60 {
                if state.channel(name).map(|c| c.origin.to_string()).as_deref() == want {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            false
        }
    };
    // mtime granularity: make sure the edit is seen as one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    std::fs::write(dir.join("c.toml"), A.replace("/a/", "/c/")).unwrap();
    assert!(
        wait_for(Some("http://origin.example/c/"), "c").await,
        "new file picked up"
    );
    std::fs::write(dir.join("a.toml"), "origin = 42\n").unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        origin_of("a").as_deref(),
        Some("http://origin.example/a/"),
        "bad edit refused"
    );
    std::fs::write(dir.join("a.toml"), A.replace("/a/", "/a2/")).unwrap();
    assert!(
        wait_for(Some("http://origin.example/a2/"), "a").await,
        "good edit picked up"
    );
    std::fs::remove_file(dir.join("c.toml")).unwrap();
    assert!(
        wait_for(None, "c").await,
        "removed file removes its channel"
    );
    let _ = url;
    std::fs::remove_dir_all(&dir).unwrap();
}
