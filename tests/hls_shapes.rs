//! Broadcast HLS shapes through the proxy (issue #12): CMAF content with a key,
//! PDT on every segment, two demuxed audio languages, WebVTT subtitles and an
//! I-frame playlist; a CMAF ad with its own audio renditions and I-frame
//! playlist. Every rendition of one session must show the break at the same
//! place: same media sequence, same DISCONTINUITY boundaries at the same times.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use splicepoint::config::{Channel, PlaybackConfig};
use splicepoint::hls::model::parse_media;
use splicepoint::hls::pdt::{format_date_time, segment_clock};
use splicepoint::server::{router, AppState};
use splicepoint::session::MemoryStore;

#[path = "common/serve.rs"]
mod serve;
use serve::serve;

const KEY: &str = "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://key1\",KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"";

const MASTER: &str = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"skd://key1\",KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,URI=\"a/en.m3u8\"\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"Deutsch\",LANGUAGE=\"de\",AUTOSELECT=YES,URI=\"a/de.m3u8\"\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",URI=\"s/en.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\",AUDIO=\"aud\",SUBTITLES=\"subs\"\nv0.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,RESOLUTION=640x360,CODECS=\"avc1.64001e\",URI=\"v0/if.m3u8\"\n";

/// A live window of 8 × 2 s segments from msn 100, a 6 s break at 103..106.
fn content(rendition: &str) -> String {
    let iframes = rendition == "if";
    let mut s = String::from(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:100\n",
    );
    if iframes {
        s.push_str("#EXT-X-I-FRAMES-ONLY\n");
    }
    match rendition {
        "v0" | "if" => s.push_str(&format!("{KEY}\n#EXT-X-MAP:URI=\"v0/init.mp4\"\n")),
        "en" | "de" => s.push_str(&format!(
            "{KEY}\n#EXT-X-MAP:URI=\"a/{rendition}/init.mp4\"\n"
        )),
        _ => {}
    }
    for k in 100..108u64 {
        match k {
            103 => s.push_str("#EXT-X-CUE-OUT:6\n"),
            104 | 105 => s.push_str("#EXT-X-CUE-OUT-CONT:Duration=6\n"),
            106 => s.push_str("#EXT-X-CUE-IN\n"),
            _ => {}
        }
        s.push_str(&format!(
            "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:{:02}.000Z\n",
            (k - 100) * 2
        ));
        let uri = match rendition {
            "v0" => format!("v0/seg{k}.m4s"),
            "if" => {
                s.push_str("#EXT-X-BYTERANGE:9000@800\n");
                format!("v0/seg{k}.m4s")
            }
            "sub" => format!("s/en/seg{k}.vtt"),
            lang => format!("a/{lang}/seg{k}.m4s"),
        };
        s.push_str(&format!("#EXTINF:2.000,\n{uri}\n"));
    }
    s
}

/// The ad: 3 × 2 s, CMAF, audio in two languages, an I-frame playlist.
fn ad(name: &str) -> Option<String> {
    let head = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n";
    let body = |prefix: &str, ranged: bool| {
        let mut s = format!("{head}#EXT-X-MAP:URI=\"{prefix}-init.mp4\"\n");
        if ranged {
            s = s.replace(
                "#EXT-X-PLAYLIST-TYPE:VOD\n",
                "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n",
            );
        }
        for i in 0..3 {
            if ranged {
                s.push_str("#EXT-X-BYTERANGE:7000@640\n");
            }
            s.push_str(&format!("#EXTINF:2.000,\n{prefix}-seg{i}.m4s\n"));
        }
        s + "#EXT-X-ENDLIST\n"
    };
    Some(match name {
        "master.m3u8" => "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aa\",NAME=\"en\",LANGUAGE=\"en\",DEFAULT=YES,URI=\"aud-en.m3u8\"\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aa\",NAME=\"de\",LANGUAGE=\"de\",URI=\"aud-de.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360,AUDIO=\"aa\"\nvid.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=50000,RESOLUTION=640x360,URI=\"if.m3u8\"\n".to_string(),
        "vid.m3u8" => body("vid", false),
        "aud-en.m3u8" => body("aud-en", false),
        "aud-de.m3u8" => body("aud-de", false),
        "if.m3u8" => body("vid", true),
        _ => return None,
    })
}

async fn origin(State(base): State<Arc<Mutex<String>>>, Path(path): Path<String>) -> Response {
    let hls = |s: String| ([("content-type", "application/vnd.apple.mpegurl")], s).into_response();
    let text = match path.as_str() {
        "ch/master.m3u8" => Some(MASTER.to_string()),
        "ch/v0.m3u8" => Some(content("v0")),
        "ch/v0/if.m3u8" => Some(content("if")),
        "ch/a/en.m3u8" => Some(content("en")),
        "ch/a/de.m3u8" => Some(content("de")),
        "ch/s/en.m3u8" => Some(content("sub")),
        p => p.strip_prefix("ad/").and_then(ad),
    };
    match (path.as_str(), text) {
        ("vast", _) => {
            let base = base.lock().unwrap().clone();
            let vast = format!("<?xml version=\"1.0\"?><VAST version=\"4.0\"><Ad id=\"x\"><InLine><AdSystem>t</AdSystem><AdTitle>x</AdTitle><Impression>http://127.0.0.1:1/imp</Impression><Creatives><Creative id=\"c\"><Linear><Duration>00:00:06</Duration><MediaFiles><MediaFile delivery=\"streaming\" type=\"application/x-mpegURL\" width=\"640\" height=\"360\"><![CDATA[{base}/o/ad/master.m3u8]]></MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>");
            ([("content-type", "application/xml")], vast).into_response()
        }
        (_, Some(t)) => hls(t),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn setup() -> (String, reqwest::Client) {
    let base = Arc::new(Mutex::new(String::new()));
    let up = serve(
        Router::new()
            .route("/o/{*path}", get(origin))
            .with_state(base.clone()),
    )
    .await;
    *base.lock().unwrap() = up.clone();
    let channel: Channel = PlaybackConfig {
        name: Some("t".into()),
        origin: format!("{up}/o/"),
        ads_url: format!("{up}/o/vast?sid=[session.id]"),
        ..PlaybackConfig::default()
    }
    .validate("test", "t")
    .unwrap();
    let channels: splicepoint::config::Channels =
        Arc::new([("t".to_string(), Arc::new(channel))].into_iter().collect());
    let proxy = serve(router(AppState::with_store(
        channels,
        Arc::new(MemoryStore::default()),
    )))
    .await;
    (proxy, reqwest::Client::new())
}

async fn fetch(http: &reqwest::Client, url: &str) -> (u16, String) {
    let r = http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// (media sequence number, start second, discontinuity, uri) of each segment.
fn timeline(text: &str) -> Vec<(u64, f64, bool, String)> {
    let pl = parse_media(text).unwrap();
    let mut t = 0.0;
    pl.segments
        .iter()
        .map(|s| {
            let at = t;
            t += s.duration;
            (s.msn, at, s.discontinuity, s.uri.clone())
        })
        .collect()
}

#[tokio::test]
async fn every_rendition_gets_the_break_at_the_same_place() {
    let (proxy, http) = setup().await;
    let (status, master) = fetch(&http, &format!("{proxy}/v1/master/t/ch/master.m3u8")).await;
    assert_eq!(status, 200, "{master}");
    // The session keys stay in the multivariant playlist.
    assert!(
        master.contains("#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"skd://key1\""),
        "{master}"
    );
    let uri = |needle: &str| -> String {
        master
            .lines()
            .flat_map(|l| {
                l.split('"')
                    .chain(std::iter::once(l))
                    .filter(|p| p.starts_with("/v1/manifest/") && p.ends_with(needle))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .next()
            .unwrap_or_else(|| panic!("{needle} not in\n{master}"))
    };
    let mut out = Vec::new();
    for r in [
        "/v0.m3u8",
        "/a/en.m3u8",
        "/a/de.m3u8",
        "/s/en.m3u8",
        "/v0/if.m3u8",
    ] {
        let (status, text) = fetch(&http, &format!("{proxy}{}", uri(r))).await;
        assert_eq!(status, 200, "{r}: {text}");
        out.push((r, text));
    }
    let text = |r: &str| out.iter().find(|o| o.0 == r).unwrap().1.clone();
    // Same boundaries, same numbers, same times in every rendition.
    let shape = |r: &str| -> Vec<(u64, f64, bool)> {
        timeline(&text(r))
            .into_iter()
            .map(|(m, t, d, _)| (m, t, d))
            .collect()
    };
    let video = shape("/v0.m3u8");
    assert_eq!(
        video.iter().filter(|s| s.2).count(),
        2,
        "{}",
        text("/v0.m3u8")
    );
    for (r, _) in &out[1..] {
        assert_eq!(
            shape(r),
            video,
            "{r}:\n{}\nvideo:\n{}",
            text(r),
            text("/v0.m3u8")
        );
    }
    let ad_uris = |r: &str| -> Vec<String> {
        timeline(&text(r))
            .into_iter()
            .map(|s| s.3)
            .filter(|u| !u.contains("/o/ch/"))
            .collect()
    };
    // Video: the ad's video; each audio language its own ad audio.
    assert!(
        ad_uris("/v0.m3u8")
            .iter()
            .all(|u| u.rsplit('/').next().unwrap().starts_with("vid-seg")),
        "{:?}",
        ad_uris("/v0.m3u8")
    );
    assert_eq!(ad_uris("/v0.m3u8").len(), 3);
    assert!(
        ad_uris("/a/de.m3u8").iter().all(|u| u
            .rsplit('/')
            .next()
            .unwrap()
            .starts_with("aud-de-seg")),
        "{}",
        text("/a/de.m3u8")
    );
    assert!(
        ad_uris("/a/en.m3u8").iter().all(|u| u
            .rsplit('/')
            .next()
            .unwrap()
            .starts_with("aud-en-seg")),
        "{}",
        text("/a/en.m3u8")
    );
    assert!(
        text("/a/de.m3u8").contains("#EXT-X-MAP:URI=\"http")
            && text("/a/de.m3u8").contains("/ad/aud-de-init.mp4\"")
    );
    // Subtitles: cue-less WebVTT of ours.
    assert_eq!(
        ad_uris("/s/en.m3u8"),
        vec!["/v1/vtt/empty.vtt"; 3],
        "{}",
        text("/s/en.m3u8")
    );
    // I-frames: the ad's I-frame playlist, byte ranges kept.
    let iframes = text("/v0/if.m3u8");
    assert!(iframes.contains("#EXT-X-BYTERANGE:7000@640\n"), "{iframes}");
    assert_eq!(ad_uris("/v0/if.m3u8").len(), 3);
    // Keys: the ads in the clear, the content's key back after them.
    let v0 = text("/v0.m3u8");
    assert!(
        v0.contains("#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=NONE\n#EXT-X-MAP:URI=\"http"),
        "{v0}"
    );
    assert!(
        v0.contains(&format!(
            "#EXT-X-DISCONTINUITY\n{KEY}\n#EXT-X-MAP:URI=\"http"
        )),
        "{v0}"
    );
    // The wall clock runs on through the ad in every rendition.
    for (r, t) in &out {
        let pl = parse_media(t).unwrap();
        let clock: Vec<String> = segment_clock(&pl)
            .unwrap()
            .into_iter()
            .map(|c| format_date_time(c.unwrap()))
            .collect();
        let want: Vec<String> = (0..8)
            .map(|k| format!("2026-01-01T00:00:{:02}.000Z", k * 2))
            .collect();
        assert_eq!(clock, want, "{r}:\n{t}");
    }
    // The empty cues are served.
    let r = http
        .get(format!("{proxy}/v1/vtt/empty.vtt"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/vtt");
    assert!(r.text().await.unwrap().starts_with("WEBVTT\n"));
}
