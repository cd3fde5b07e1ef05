//! DASH stream shapes (issue #12): a DASH-only channel whose ADS answers with an
//! MP4 creative gets the ad transcoded like the content MPD, with no
//! `transcode_profile_url`. The origin, ADS and media are the demo's
//! (`splicepoint::demo`, in process); the proxy's answers go through the
//! conformance rules and the MPD schema (`common/serve.rs`).
//!
//! Needs ffmpeg and ffprobe (`scripts/test` installs them); without them the test
//! says so and passes.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use splicepoint::config::{PlaybackConfig, StoreLocation, TranscodeSettings};
use splicepoint::dash::{parse, Element};
use splicepoint::demo::{Demo, DemoOptions};
use splicepoint::server::{router, AppState};
use splicepoint::transcode::Transcoder;

#[path = "common/serve.rs"]
mod serve;
use serve::serve;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The real base of an ad Period: its BaseURL, or the one its server-side
/// reporting URL (`/v1/segment/{session}/{hex}/`) carries.
fn ad_base(period: &Element) -> String {
    let base = period.child("BaseURL").unwrap().text();
    if base.starts_with("/v1/segment/") {
        let hex = base.trim_end_matches('/').rsplit('/').next().unwrap();
        splicepoint::server::report::unhex(hex).unwrap()
    } else {
        base
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dash_only_channel_transcodes_mp4_creatives_like_its_mpd() {
    if !have("ffmpeg") || !have("ffprobe") {
        eprintln!("SKIPPED: ffmpeg/ffprobe not installed (scripts/test installs them)");
        return;
    }
    // The demo: origin (DASH content, 320x180 and 160x90 at 25 fps, AAC 48 kHz
    // mono, 2 s segments), ADS (`pod=mp4`: one 6 s 640x360 30 fps MP4 with
    // 44.1 kHz stereo) and media.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let demo_base = format!("http://{}", listener.local_addr().unwrap());
    let demo = Arc::new(Demo::load(&DemoOptions::default(), &demo_base).unwrap());
    let app = demo.clone().router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // A DASH-only channel: no multivariant playlist, no transcode_profile_url,
    // no slate (an ad Period can only be the transcoded creative).
    let channel = PlaybackConfig {
        origin: format!("{demo_base}/demo/origin/"),
        ads_url: format!("{demo_base}/demo/ads/vast?pod=mp4&sid=[session.id]"),
        ..PlaybackConfig::default()
    }
    .validate("test", "d")
    .unwrap();
    assert!(channel.raw.transcode_profile_url.is_none());
    let mut st = AppState::new(Arc::new([("d".to_string(), Arc::new(channel))].into()));
    let store =
        std::env::temp_dir().join(format!("splicepoint-dash-shapes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&store);
    st.transcoder = Transcoder::new(
        TranscodeSettings {
            store: StoreLocation::Local(store.clone()),
            ..TranscodeSettings::default()
        },
        st.http.clone(),
        st.metrics.clone(),
    );
    let transcoder = st.transcoder.clone();
    let proxy = serve(router(st)).await;
    transcoder.set_default_public_url(&proxy);
    let http = reqwest::Client::new();

    // Each new session asks again (a VOD decision is made once per session); the
    // first ones skip the creative while it is transcoded.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (doc, text) = loop {
        let r = http
            .get(format!("{proxy}/v1/dash/d/dash/vod/manifest.mpd"))
            .send()
            .await
            .unwrap();
        let text = r.text().await.unwrap();
        let doc = parse(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
        if doc
            .root
            .children_named("Period")
            .any(|p| p.attr("id").is_some_and(|id| id.ends_with("-ad0")))
        {
            break (doc, text);
        }
        let m = http
            .get(format!("{proxy}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            Instant::now() < deadline,
            "no transcoded ad in 120 s (jobs started: {}):\n{text}\n{m}",
            transcoder.jobs_started()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(transcoder.jobs_started(), 1, "one job for the creative");

    let ad = doc
        .root
        .children_named("Period")
        .find(|p| p.attr("id").is_some_and(|id| id.ends_with("-ad0")))
        .unwrap();
    let base = ad_base(ad);
    assert!(
        base.starts_with(&format!("{proxy}/v1/ads/")),
        "{base}\n{text}"
    );
    // The ad looks like the content: its video set has the content's
    // representations (both kept by nearest-match), its audio the content's rate
    // and channels.
    let sets: Vec<&Element> = ad.children_named("AdaptationSet").collect();
    let video = sets
        .iter()
        .find(|s| s.attr("contentType").as_deref() == Some("video"))
        .unwrap();
    let reps: Vec<(String, String, String, String)> = video
        .children_named("Representation")
        .map(|r| {
            (
                r.attr("width").unwrap(),
                r.attr("height").unwrap(),
                r.attr("codecs").unwrap(),
                r.attr("bandwidth").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reps,
        [
            ("320", "180", "avc1.4d401e", "75844"),
            ("160", "90", "avc1.4d401e", "33424")
        ]
        .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into())),
        "{text}"
    );
    assert_eq!(video.attr("frameRate").as_deref(), Some("25"), "{text}");
    let audio = sets
        .iter()
        .find(|s| s.attr("contentType").as_deref() == Some("audio"))
        .unwrap();
    let a0 = audio.child("Representation").unwrap();
    assert_eq!(a0.attr("audioSamplingRate").as_deref(), Some("48000"));
    assert_eq!(
        audio
            .child("AudioChannelConfiguration")
            .unwrap()
            .attr("value")
            .as_deref(),
        Some("1")
    );
    // The segments are where the ad Period's SegmentTemplates say: video and
    // audio, init and first media segment of every Representation.
    let base = url::Url::parse(&base).unwrap();
    for set in &sets {
        let t = set.child("SegmentTemplate").unwrap();
        for rep in set.children_named("Representation") {
            let id = rep.attr("id").unwrap();
            for what in ["initialization", "media"] {
                let path = t
                    .attr(what)
                    .unwrap()
                    .replace("$RepresentationID$", &id)
                    .replace("$Number$", &t.attr("startNumber").unwrap());
                let url = base.join(&path).unwrap();
                let r = http.get(url.clone()).send().await.unwrap();
                assert_eq!(r.status(), 200, "{url}\n{text}");
                assert!(!r.bytes().await.unwrap().is_empty(), "{url}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&store);
}
