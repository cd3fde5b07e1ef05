//! DASH end to end: splicepoint between an in-process origin (MPDs) and ADS.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use splicepoint::config::PlaybackConfig;
use splicepoint::dash::{parse, Element};
use splicepoint::server::{router, AppState};

#[path = "common/serve.rs"]
mod serve;
use serve::serve;

type Base = Arc<std::sync::Mutex<String>>;

const SETS: &str = r#"
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" x:vendor="kept" xmlns:x="urn:example:x">
      <SegmentTemplate timescale="12800" duration="25600" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="v0" width="320" height="180" bandwidth="120000" codecs="avc1.4d401e"/>
      <Representation id="v1" width="160" height="90" bandwidth="70000" codecs="avc1.4d401e"/>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" lang="en">
      <SegmentTemplate timescale="48000" duration="96000" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number$.m4s"/>
      <Representation id="a0" bandwidth="16000" codecs="mp4a.40.2"/>
    </AdaptationSet>"#;

fn xml_event(id: u32, at: u64, dur: u64) -> String {
    format!(
        r#"<Event presentationTime="{}" duration="{}" id="{id}"><scte35:SpliceInfoSection><scte35:SpliceInsert spliceEventId="{id}" outOfNetworkIndicator="true"><scte35:BreakDuration autoReturn="true" duration="{}"/></scte35:SpliceInsert></scte35:SpliceInfoSection></Event>"#,
        at * 90_000,
        dur * 90_000,
        dur * 90_000
    )
}

/// Single-period live origin at `now` seconds: breaks at 20 s and 60 s (16 s
/// each), each announced 4 s ahead; an unknown element at MPD level.
fn live_mpd(now: u64) -> String {
    let mut events = String::new();
    for (id, at) in [(1, 20), (2, 60)] {
        if now + 4 >= at {
            events.push_str(&xml_event(id, at, 16));
        }
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:scte35="urn:scte:scte35:2013:xml" xmlns:v="urn:example:vendor" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S" type="dynamic" availabilityStartTime="2024-01-01T00:00:00Z" publishTime="2024-01-01T00:00:{:02}Z" minimumUpdatePeriod="PT2S" v:flag="1">
  <Period id="p0" start="PT0S">
    <EventStream schemeIdUri="urn:scte:scte35:2013:xml" timescale="90000">{events}</EventStream>{SETS}
  </Period>
  <v:Vendor v:a="b">keep</v:Vendor>
</MPD>"#,
        now % 60
    )
}

/// Pre-roll ADS requests.
static PREROLL_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A live origin on the real clock: it started 30 s before it was first asked
/// for, players join 8 s behind the live edge; a 16 s break at 24 s.
fn started_30s_ago() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Its availabilityStartTime stays put across refreshes (ISO/IEC 23009-1 §5.4.1).
    static STARTED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let started = *STARTED.get_or_init(|| now - 30);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:scte35="urn:scte:scte35:2013:xml" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S" type="dynamic" availabilityStartTime="{}" publishTime="{}" minimumUpdatePeriod="PT2S" suggestedPresentationDelay="PT8S" maxSegmentDuration="PT2S" timeShiftBufferDepth="PT60S">
  <Period id="p0" start="PT0S">
    <EventStream schemeIdUri="urn:scte:scte35:2013:xml" timescale="90000">{}</EventStream>{SETS}
  </Period>
</MPD>"#,
        splicepoint::dash::mpd::format_utc(started),
        splicepoint::dash::mpd::format_utc(now),
        xml_event(7, 24, 16)
    )
}

fn vod_mpd() -> String {
    format!(
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:scte35="urn:scte:scte35:2014:xml+bin" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S" type="static" mediaPresentationDuration="PT40S">
  <Period id="a" duration="PT20S">
    <EventStream schemeIdUri="urn:scte:scte35:2014:xml+bin" timescale="1"><Event presentationTime="10" duration="0" id="1"><scte35:Signal><scte35:Binary>/DAlAAAAAAAAAP/wFAUAAAABf+//wpiQkv4ARKogAAEBAQAAQ6sodg==</scte35:Binary></scte35:Signal></Event></EventStream>{SETS}
  </Period>
  <Period id="b" duration="PT20S">{SETS}
  </Period>
</MPD>"#
    )
}

fn ad_mpd(secs: u32) -> String {
    format!(
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" minBufferTime="PT2S" type="static" mediaPresentationDuration="PT{secs}S"><Period id="0">{SETS}
</Period></MPD>"#
    )
}

async fn origin(
    State(base): State<Base>,
    Path(path): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let base = base.lock().unwrap().clone();
    let mpd = |s: String| ([("content-type", "application/dash+xml")], s).into_response();
    match path.as_str() {
        "live/manifest.mpd" => mpd(live_mpd(
            q.get("now").and_then(|n| n.parse().ok()).unwrap_or(0),
        )),
        "vod/manifest.mpd" => mpd(vod_mpd()),
        "now/manifest.mpd" => mpd(started_30s_ago()),
        "prevast" => {
            PREROLL_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = format!(
                "<VAST version=\"3.0\"><Ad id=\"pre\"><InLine><AdSystem>t</AdSystem><AdTitle>t</AdTitle><Impression>http://127.0.0.1:1/i</Impression><Creatives><Creative id=\"cpre\"><Linear><Duration>00:00:06</Duration><MediaFiles><MediaFile delivery=\"streaming\" type=\"application/dash+xml\" width=\"320\" height=\"180\">{base}/origin/ads/ad6/manifest.mpd</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>"
            );
            ([("content-type", "application/xml")], body).into_response()
        }
        "period.mpd" => mpd("<Period id=\"x\"/>".into()),
        "ads/ad10/manifest.mpd" => mpd(ad_mpd(10)),
        "ads/ad6/manifest.mpd" => mpd(ad_mpd(6)),
        "ads/slate/manifest.mpd" => mpd(ad_mpd(2)),
        "vast" => {
            let ad = |id: &str, seq: u32, secs: u32, name: &str| {
                format!(
                "<Ad id=\"{id}\" sequence=\"{seq}\"><InLine><AdSystem>t</AdSystem><AdTitle>t</AdTitle><Impression>http://127.0.0.1:1/i</Impression><Creatives><Creative id=\"c{id}\"><Linear><Duration>00:00:{secs:02}</Duration><MediaFiles><MediaFile delivery=\"streaming\" type=\"application/dash+xml\" width=\"320\" height=\"180\">{base}/origin/ads/{name}/manifest.mpd</MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad>"
            )
            };
            let body = format!(
                "<VAST version=\"3.0\">{}{}</VAST>",
                ad("1", 1, 10, "ad10"),
                ad("2", 2, 6, "ad6")
            );
            ([("content-type", "application/xml")], body).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn env() -> (String, reqwest::Client) {
    let base: Base = Default::default();
    let app = Router::new()
        .route("/origin/{*path}", get(origin))
        .with_state(base.clone());
    let upstream = serve(app).await;
    *base.lock().unwrap() = upstream.clone();
    let channel = PlaybackConfig {
        origin: format!("{upstream}/origin/"),
        ads_url: format!("{upstream}/origin/vast?d=[session.avail_duration_secs]"),
        dash_slate: Some(format!("{upstream}/origin/ads/slate/manifest.mpd")),
        // The test origin's clock (`?now=N`) reaches it by name.
        origin_query_params: vec!["now".into()],
        ..PlaybackConfig::default()
    }
    .validate("test", "c")
    .unwrap();
    let mut suppressed = channel.raw.clone();
    suppressed.avail_suppression.mode = splicepoint::config::SuppressionMode::AfterLiveEdge;
    suppressed.avail_suppression.value_secs = 3600.0;
    let suppressed = suppressed.validate("test", "s").unwrap();
    let mut pre = channel.raw.clone();
    pre.live_preroll_ads_url = Some(format!("{upstream}/origin/prevast"));
    pre.live_preroll_max_duration_secs = 6.0;
    let pre = pre.validate("test", "pre").unwrap();
    let state = AppState::new(Arc::new(
        [
            ("pre".to_string(), Arc::new(pre)),
            ("c".to_string(), Arc::new(channel)),
            ("s".to_string(), Arc::new(suppressed)),
        ]
        .into(),
    ));
    let proxy = serve(router(state)).await;
    (
        proxy,
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    )
}

async fn session(proxy: &str, http: &reqwest::Client, path: &str) -> String {
    let r = http
        .get(format!("{proxy}/v1/dash/c/{path}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap());
    r.headers()["location"].to_str().unwrap().to_string()
}

fn periods(root: &Element) -> Vec<(String, String)> {
    root.children_named("Period")
        .map(|p| (p.attr("id").unwrap(), p.attr("start").unwrap()))
        .collect()
}

#[tokio::test]
async fn live_single_period_through_two_breaks() {
    let (proxy, http) = env().await;
    let loc = session(&proxy, &http, "live/manifest.mpd").await;
    assert!(
        loc.starts_with("/v1/dash/c/") && loc.ends_with("/live/manifest.mpd"),
        "{loc}"
    );
    let mut published: BTreeMap<String, String> = BTreeMap::new();
    let mut last = Vec::new();
    for now in (0..100).step_by(2) {
        let r = http
            .get(format!("{proxy}{loc}?now={now}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/dash+xml");
        let doc = parse(&r.text().await.unwrap()).unwrap();
        assert_eq!(doc.root.child("Location").unwrap().text(), format!("{loc}"));
        assert_eq!(
            doc.root.attr("availabilityStartTime").as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        assert_eq!(
            doc.root.child("Vendor").unwrap().text(),
            "keep",
            "unknown elements survive"
        );
        assert_eq!(doc.root.attr("v:flag").as_deref(), Some("1"));
        for (id, start) in periods(&doc.root) {
            if let Some(prev) = published.insert(id.clone(), start.clone()) {
                assert_eq!(prev, start, "period {id} moved at now={now}");
            }
        }
        last = periods(&doc.root);
    }
    let ids: Vec<&str> = last.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(
        ids,
        [
            "p0",
            "p0-p0-1-ad0",
            "p0-p0-1-ad1",
            "p0-p0-1-resume",
            "p0-p0-2-ad0",
            "p0-p0-2-ad1",
            "p0-p0-2-resume"
        ]
    );
    let starts: Vec<&str> = last.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        starts,
        ["PT0S", "PT20S", "PT30S", "PT36S", "PT60S", "PT70S", "PT76S"]
    );
}

#[tokio::test]
async fn vod_multi_period_with_binary_cue_gets_pre_and_mid_rolls() {
    let (proxy, http) = env().await;
    let loc = session(&proxy, &http, "vod/manifest.mpd").await;
    let r = http.get(format!("{proxy}{loc}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let doc = parse(&r.text().await.unwrap()).unwrap();
    let ids: Vec<String> = periods(&doc.root)
        .into_iter()
        .map(|(i, s)| format!("{i}@{s}"))
        .collect();
    assert_eq!(
        ids,
        [
            "a@PT0S",
            "a-a-1-ad0@PT10S",
            "a-a-1-ad1@PT20S",
            "a-a-1-resume@PT26S",
            "b@PT36S"
        ]
    );
    assert_eq!(
        doc.root.attr("mediaPresentationDuration").as_deref(),
        Some("PT56S")
    );
    let ad = doc.root.children_named("Period").nth(1).unwrap();
    // Server-side reporting: the ad's segments go through the session's segment
    // route, which knows the ad's real base.
    let base = ad.child("BaseURL").unwrap().text();
    let sid = loc.split('/').nth(4).unwrap();
    assert!(base.starts_with(&format!("/v1/segment/{sid}/")), "{base}");
    let hex_base = base.trim_end_matches('/').rsplit('/').next().unwrap();
    let real = splicepoint::server::report::unhex(hex_base).unwrap();
    assert!(real.ends_with("/origin/ads/ad10/"), "{real}");
    // The video set keeps the ad representations matching the content's.
    assert_eq!(
        ad.child("AdaptationSet")
            .unwrap()
            .children_named("Representation")
            .count(),
        2
    );
}

#[tokio::test]
async fn a_period_fragment_is_refused_with_a_reason() {
    let (proxy, http) = env().await;
    let r = http
        .get(format!("{proxy}/v1/dash/c/period.mpd"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let body = r.text().await.unwrap();
    assert!(body.contains("not <MPD>"), "{body}");
    let r = http
        .get(format!("{proxy}/v1/dash/c/missing.mpd"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http
        .get(format!(
            "{proxy}/v1/dash/c/{}/live/manifest.mpd",
            "a".repeat(32)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn avail_suppression_leaves_dash_breaks_as_content() {
    let (proxy, http) = env().await;
    let r = http
        .get(format!("{proxy}/v1/dash/s/live/manifest.mpd"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let r = http
        .get(format!("{proxy}{loc}?now=40"))
        .send()
        .await
        .unwrap();
    let doc = parse(&r.text().await.unwrap()).unwrap();
    let ids: Vec<String> = periods(&doc.root).into_iter().map(|(i, _)| i).collect();
    assert_eq!(
        ids,
        ["p0"],
        "a session in its first hour sees no ad periods"
    );
}

#[tokio::test]
async fn live_preroll_plays_where_a_dash_session_joins() {
    let (proxy, http) = env().await;
    let get = |loc: String| {
        let http = http.clone();
        let proxy = proxy.clone();
        async move {
            let r = http.get(format!("{proxy}{loc}")).send().await.unwrap();
            assert_eq!(r.status(), 200);
            parse(&r.text().await.unwrap()).unwrap()
        }
    };
    let new_session = |config: &'static str| {
        let http = http.clone();
        let proxy = proxy.clone();
        async move {
            let r = http
                .get(format!("{proxy}/v1/dash/{config}/now/manifest.mpd"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 302);
            r.headers()["location"].to_str().unwrap().to_string()
        }
    };
    let before = PREROLL_CALLS.load(std::sync::atomic::Ordering::SeqCst);
    let loc = new_session("pre").await;
    let first = periods(&get(loc.clone()).await.root);
    let ids: Vec<&str> = first.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(ids, ["p0", "p0-live-preroll-ad0", "p0-live-preroll-resume"]);
    // Players join 8 s behind a 30 s old live edge: the pre-roll starts at the
    // 2 s segment boundary there (22 s, later if the test machine is slow). It
    // wins over the break at 24 s it overlaps.
    let t0 = splicepoint::dash::mpd::parse_duration(&first[1].1).unwrap();
    assert!(
        (22.0..=26.0).contains(&t0) && t0 % 2.0 == 0.0,
        "pre-roll at {t0}"
    );
    let resume = splicepoint::dash::mpd::parse_duration(&first[2].1).unwrap();
    assert_eq!(resume, t0 + 6.0, "a 6 s pre-roll");
    // Refreshes (a second later) keep it where it was; one pre-roll ADS call.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for _ in 0..3 {
        let doc = get(loc.clone()).await;
        assert_eq!(periods(&doc.root), first);
        let resume = doc.root.children_named("Period").nth(2).unwrap();
        let video = resume.children_named("AdaptationSet").next().unwrap();
        let template = video.child("SegmentTemplate").unwrap();
        // Content resumes with segment number (t0 + 6) / 2 + 1 at its own time.
        assert_eq!(
            template.attr("startNumber").unwrap(),
            format!("{}", (t0 as u64 + 6) / 2 + 1)
        );
    }
    assert_eq!(
        PREROLL_CALLS.load(std::sync::atomic::Ordering::SeqCst) - before,
        1
    );
    // The tracking API agrees with the MPD: the pre-roll ad starts at t0.
    let sid = loc.split('/').nth(4).unwrap();
    let doc: serde_json::Value = serde_json::from_str(
        &http
            .get(format!("{proxy}/v1/tracking/{sid}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let ad = &doc["avails"][0]["ads"][0];
    assert_eq!(doc["avails"][0]["availId"], "live-preroll", "{doc}");
    assert_eq!(ad["adId"], "pre");
    assert_eq!(ad["startTimeInSeconds"], t0);
    assert_eq!(ad["durationInSeconds"], 6.0);
    // Without a pre-roll template, the break at 24 s is filled.
    let plain = new_session("c").await;
    let ids: Vec<String> = periods(&get(plain).await.root)
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(ids, ["p0", "p0-p0-7-ad0", "p0-p0-7-ad1", "p0-p0-7-resume"]);
}
