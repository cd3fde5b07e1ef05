//! Ad reporting: which VAST events a segment fetch reaches, macro expansion, the
//! beacon sender (server-side reporting), and the client-side tracking document.
//!
//! [`events_reached`], [`expand_macros`] and [`beacon_urls`] are pure; [`send`] does
//! the HTTP.

pub mod client;

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::Rng;
use tracing::{debug, warn};

use crate::session::DecidedAd;

/// Timeout of one beacon request.
pub const BEACON_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts per beacon URL (first try included).
pub const BEACON_ATTEMPTS: u32 = 3;

/// The linear events, in the order they must fire, with the fraction of the ad
/// that must have been fetched for each.
pub const LINEAR_EVENTS: &[(&str, f64)] = &[
    ("impression", 0.0),
    ("start", 0.0),
    ("firstQuartile", 0.25),
    ("midpoint", 0.5),
    ("thirdQuartile", 0.75),
    ("complete", 1.0),
];

/// The events reached once segment `index` (of `count`) of an ad is fetched:
/// impression and start at the first segment, each quartile at the segment that
/// contains it, complete at the last. Every earlier event is included too (a
/// player that skipped a segment still reached the events before it). Pure.
pub fn events_reached(index: usize, count: usize) -> Vec<&'static str> {
    if count == 0 || index >= count {
        return Vec::new();
    }
    let end = (index + 1) as f64 / count as f64;
    LINEAR_EVENTS
        .iter()
        .filter(|(name, at)| match *name {
            "complete" => index + 1 == count,
            _ => *at < end || *at == 0.0,
        })
        .map(|(name, _)| *name)
        .collect()
}

/// The beacon URLs of one event of an ad.
pub fn beacon_urls<'a>(ad: &'a DecidedAd, event: &str) -> Vec<&'a str> {
    if event == "impression" {
        return ad.impressions.iter().map(String::as_str).collect();
    }
    ad.tracking
        .iter()
        .filter(|t| t.event == event)
        .map(|t| t.url.as_str())
        .collect()
}

/// What the VAST macros expand to for one beacon.
#[derive(Debug, Clone, Default)]
pub struct MacroValues {
    /// Seconds since the ad started (`[ADPLAYHEAD]`).
    pub ad_playhead: f64,
    /// The creative's URL (`[ASSETURI]`).
    pub asset_uri: String,
    /// VAST error code (`[ERRORCODE]`), for Error URLs.
    pub error_code: Option<u32>,
    /// Unix time, milliseconds (`[TIMESTAMP]`).
    pub now_ms: u64,
    /// 8 random digits (`[CACHEBUSTING]`).
    pub cachebuster: u32,
}

const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Expand the VAST macros we know in a beacon URL (also in their `%%NAME%%`
/// form); others stay as written. Pure.
pub fn expand_macros(url: &str, v: &MacroValues) -> String {
    if !url.contains('[') && !url.contains("%%") {
        return url.to_string();
    }
    let playhead = {
        let ms = (v.ad_playhead.max(0.0) * 1000.0).round() as u64;
        format!(
            "{:02}:{:02}:{:02}.{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    let timestamp = {
        let secs = v.now_ms / 1000;
        let base = crate::dash::mpd::format_utc(secs);
        format!("{}.{:03}Z", base.trim_end_matches('Z'), v.now_ms % 1000)
    };
    let enc = |s: &str| utf8_percent_encode(s, COMPONENT).to_string();
    let pairs = [
        (
            "CACHEBUSTING",
            format!("{:08}", v.cachebuster % 100_000_000),
        ),
        ("TIMESTAMP", enc(&timestamp)),
        (
            "ERRORCODE",
            v.error_code.map(|c| c.to_string()).unwrap_or_default(),
        ),
        ("ADPLAYHEAD", enc(&playhead)),
        ("ASSETURI", enc(&v.asset_uri)),
    ];
    let mut out = url.to_string();
    for (name, value) in pairs {
        for form in [format!("[{name}]"), format!("%%{name}%%")] {
            if out.contains(&form) {
                out = out.replace(&form, &value);
            }
        }
    }
    out
}

/// The viewer's identity passed on with each beacon.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// User-Agent of the player.
    pub user_agent: String,
    /// Client IP, sent as X-Forwarded-For.
    pub client_ip: String,
}

/// Fire beacon URLs in order, each with a timeout and bounded retries (on transport
/// errors and 5xx). Failures are logged; the result says, URL by URL, which were
/// delivered (for metrics).
pub async fn send(http: &reqwest::Client, urls: Vec<String>, viewer: &Viewer) -> Vec<bool> {
    let mut delivered = Vec::with_capacity(urls.len());
    for url in urls {
        // Parsed here, with the host-length cap, rather than by reqwest.
        let parsed = crate::urls::parse(&url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"));
        let Some(parsed) = parsed else {
            delivered.push(false);
            continue;
        };
        let mut ok = false;
        for attempt in 1..=BEACON_ATTEMPTS {
            let mut req = http.get(parsed.clone()).timeout(BEACON_TIMEOUT);
            if !viewer.user_agent.is_empty() {
                req = req.header("user-agent", &viewer.user_agent);
            }
            if !viewer.client_ip.is_empty() {
                req = req.header("x-forwarded-for", &viewer.client_ip);
            }
            match req.send().await {
                Ok(r) if !r.status().is_server_error() => {
                    debug!(url = %url, status = r.status().as_u16(), "Beacon sent.");
                    ok = true;
                    break;
                }
                Ok(r) if attempt == BEACON_ATTEMPTS => {
                    warn!(url = %url, status = r.status().as_u16(), "Beacon failed.");
                }
                Err(e) if attempt == BEACON_ATTEMPTS => {
                    warn!(url = %url, error = %e, "Beacon failed.");
                }
                _ => tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await,
            }
        }
        delivered.push(ok);
    }
    delivered
}

/// Fresh macro values for now.
pub fn macro_values(ad_playhead: f64, asset_uri: &str, error_code: Option<u32>) -> MacroValues {
    MacroValues {
        ad_playhead,
        asset_uri: asset_uri.to_string(),
        error_code,
        now_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        cachebuster: rand::rng().random_range(0..100_000_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which URLs were delivered, in order (what `beacons_failed_total` counts).
    #[tokio::test]
    async fn send_says_which_urls_were_delivered() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ok = format!("http://{}/b", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/b", axum::routing::get(|| async { "" }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        // A port nothing listens on: bound, then closed.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}/b", l.local_addr().unwrap())
        };
        let viewer = Viewer::default();
        let got = send(
            &reqwest::Client::new(),
            vec![ok, "javascript:x".into(), closed],
            &viewer,
        )
        .await;
        assert_eq!(got, [true, false, false]);
    }

    #[test]
    fn events_by_position() {
        assert_eq!(events_reached(0, 5), ["impression", "start"]);
        assert_eq!(
            events_reached(1, 5),
            ["impression", "start", "firstQuartile"]
        );
        assert_eq!(
            events_reached(2, 5),
            ["impression", "start", "firstQuartile", "midpoint"]
        );
        assert_eq!(
            events_reached(3, 5),
            [
                "impression",
                "start",
                "firstQuartile",
                "midpoint",
                "thirdQuartile"
            ]
        );
        assert_eq!(events_reached(4, 5).last(), Some(&"complete"));
        assert_eq!(events_reached(0, 1).len(), 6);
        assert_eq!(
            events_reached(0, 2),
            ["impression", "start", "firstQuartile"]
        );
        assert!(events_reached(5, 5).is_empty());
        assert!(events_reached(0, 0).is_empty());
    }

    #[test]
    fn macros_expand() {
        let v = MacroValues {
            ad_playhead: 65.5,
            asset_uri: "http://a/x.mp4".into(),
            error_code: Some(402),
            now_ms: 1_704_067_200_123,
            cachebuster: 42,
        };
        let url = "http://t/e?cb=[CACHEBUSTING]&ts=[TIMESTAMP]&e=[ERRORCODE]&p=[ADPLAYHEAD]&a=%%ASSETURI%%&k=[KEEP]";
        assert_eq!(
            expand_macros(url, &v),
            "http://t/e?cb=00000042&ts=2024-01-01T00%3A00%3A00.123Z&e=402&p=00%3A01%3A05.500&a=http%3A%2F%2Fa%2Fx.mp4&k=[KEEP]"
        );
    }
}
