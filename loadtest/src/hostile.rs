//! A hostile mix next to the viewers (`--hostile-rps`, `--hostile-slow`): what one
//! client with no credentials can throw at an instance, bounded, counted apart from
//! the viewers' requests (their errors stay the run's errors; these are expected).
//!
//! - `cache_buster`: a session's media playlist with a new query string each time
//!   (`?cb=N&r=N`); the answer must still be the playlist (200).
//! - `big_params`: `POST /v1/session` with 60 player parameters of 1,000 characters;
//!   the documented answer is 400 JSON.
//! - `big_query`: `GET /v1/master/...` with an 8 KiB parameter; 400 JSON.
//! - `slow_headers`: a connection that sends its request line and then one header
//!   byte every 2 s (slowloris); the server must close it (header read timeout).
//! - `slow_reader`: a connection that asks for a playlist and leaves the answer
//!   unread for 30 s; the server must have closed it (idle timeout).
//!
//! Each outcome is counted as `kind:outcome` (`cache_buster:200`,
//! `slow_headers:closed`). Every loop ends at the run's stop time; a slow
//! connection is held at most [`SLOW_HOLD_MAX`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::time::Instant;
use url::Url;

use crate::Options;

/// Most hostile requests per second (`--hostile-rps` above is refused).
pub const MAX_HOSTILE_RPS: f64 = 500.0;
/// Most slow connections held at once (`--hostile-slow` above is refused).
pub const MAX_HOSTILE_SLOW: u64 = 1000;
/// Longest a slow connection is held before the client gives up on it (then
/// counted `held`: the server did not close it).
pub const SLOW_HOLD_MAX: Duration = Duration::from_secs(60);
/// How long a slow reader leaves the answer unread.
const SLOW_READER_WAIT: Duration = Duration::from_secs(30);
/// Between two bytes of a slow header.
const SLOW_BYTE_EVERY: Duration = Duration::from_secs(2);

/// The hostile requests' outcomes, `kind:outcome` → count.
#[derive(Default)]
pub struct Outcomes(Mutex<BTreeMap<String, u64>>);

impl Outcomes {
    fn count(&self, kind: &str, outcome: &str) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(format!("{kind}:{outcome}"))
            .or_default() += 1;
    }

    /// The counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Run the mix until `stop`: `rps` requests per second spread over the request
/// kinds, and `slow` slow connections kept open (half slow headers, half slow
/// readers), each replaced when the server closes it.
pub async fn run(
    http: reqwest::Client,
    opts: Options,
    rps: f64,
    slow: u64,
    stop: Instant,
    out: Arc<Outcomes>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..slow {
        let (opts, out) = (opts.clone(), out.clone());
        tasks.spawn(async move {
            while Instant::now() < stop {
                let res = if i % 2 == 0 {
                    slow_headers(&opts, stop).await
                } else {
                    slow_reader(&opts, stop).await
                };
                let kind = if i % 2 == 0 {
                    "slow_headers"
                } else {
                    "slow_reader"
                };
                out.count(kind, res);
                if res == "connect_failed" {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        });
    }
    if rps > 0.0 {
        let media = session_media(&http, &opts).await;
        if media.is_none() {
            out.count("cache_buster", "no_session");
        }
        let every = Duration::from_secs_f64(1.0 / rps);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let n = AtomicU64::new(0);
        // In flight at once: a second's worth, so a slow server is not buried.
        let in_flight = Arc::new(tokio::sync::Semaphore::new(rps.ceil() as usize));
        while Instant::now() < stop {
            tick.tick().await;
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                out.count("any", "skipped_in_flight_cap");
                continue;
            };
            let k = n.fetch_add(1, Ordering::Relaxed);
            let (http, opts, out, media) = (http.clone(), opts.clone(), out.clone(), media.clone());
            tasks.spawn(async move {
                let _permit = permit;
                match k % 3 {
                    0 => {
                        if let Some(mut url) = media {
                            url.set_query(Some(&format!("cb={k}&r={}", k.wrapping_mul(7919))));
                            out.count("cache_buster", &status(http.get(url).send().await));
                        }
                    }
                    1 => {
                        let (kind, res) = big_params(&http, &opts).await;
                        out.count(kind, &res);
                    }
                    _ => {
                        let (kind, res) = big_query(&http, &opts).await;
                        out.count(kind, &res);
                    }
                }
            });
            while tasks.try_join_next().is_some() {}
        }
    }
    let _ = tokio::time::timeout_at(stop + SLOW_HOLD_MAX, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    tasks.abort_all();
}

fn status(res: reqwest::Result<reqwest::Response>) -> String {
    match res {
        Ok(r) => r.status().as_u16().to_string(),
        Err(e) if e.is_timeout() => "timeout".into(),
        Err(_) => "failed".into(),
    }
}

/// A media playlist URL of a session of the hostile client's own.
async fn session_media(http: &reqwest::Client, opts: &Options) -> Option<Url> {
    let url = opts
        .target
        .join(&format!("/v1/master/{}/{}", opts.config, opts.path))
        .ok()?;
    let resp = http.get(url).send().await.ok()?;
    let base = resp.url().clone();
    let text = resp.text().await.ok()?;
    let uri = text
        .lines()
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    base.join(uri).ok()
}

async fn big_params(http: &reqwest::Client, opts: &Options) -> (&'static str, String) {
    let Ok(url) = opts
        .target
        .join(&format!("/v1/session/{}/{}", opts.config, opts.path))
    else {
        return ("big_params", "bad_url".into());
    };
    let params: serde_json::Map<String, serde_json::Value> = (0..60)
        .map(|i| (format!("p{i}"), "x".repeat(1000).into()))
        .collect();
    let body = serde_json::json!({ "playerParams": params }).to_string();
    let res = http
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    ("big_params", status(res))
}

async fn big_query(http: &reqwest::Client, opts: &Options) -> (&'static str, String) {
    let Ok(mut url) = opts
        .target
        .join(&format!("/v1/master/{}/{}", opts.config, opts.path))
    else {
        return ("big_query", "bad_url".into());
    };
    url.set_query(Some(&format!("p={}", "y".repeat(8192))));
    ("big_query", status(http.get(url).send().await))
}

fn host_port(opts: &Options) -> Option<String> {
    Some(format!(
        "{}:{}",
        opts.target.host_str()?,
        opts.target.port_or_known_default()?
    ))
}

/// Whether the server closed the connection (EOF or reset) before `until`.
async fn closed_before(s: &mut tokio::net::TcpStream, until: Instant) -> bool {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(until, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

/// Slowloris: a request line, then a header byte every 2 s.
async fn slow_headers(opts: &Options, stop: Instant) -> &'static str {
    let Some(addr) = host_port(opts) else {
        return "bad_url";
    };
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return "connect_failed";
    };
    let line = format!("GET /v1/master/{}/{} HTTP/1.1\r\n", opts.config, opts.path);
    if s.write_all(line.as_bytes()).await.is_err() {
        return "closed";
    }
    let until = (Instant::now() + SLOW_HOLD_MAX).min(stop + SLOW_HOLD_MAX);
    for b in b"X-Slow: ".iter().cycle() {
        if Instant::now() >= until {
            return "held";
        }
        if s.write_all(&[*b]).await.is_err() {
            return "closed";
        }
        if closed_before(&mut s, Instant::now() + SLOW_BYTE_EVERY).await {
            return "closed";
        }
    }
    "held"
}

/// A whole request, then nothing read: the server's idle timeout closes it.
async fn slow_reader(opts: &Options, stop: Instant) -> &'static str {
    let Some(addr) = host_port(opts) else {
        return "bad_url";
    };
    let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
        return "connect_failed";
    };
    let req = format!(
        "GET /v1/master/{}/{} HTTP/1.1\r\nHost: {addr}\r\n\r\n",
        opts.config, opts.path
    );
    if s.write_all(req.as_bytes()).await.is_err() {
        return "closed";
    }
    // Nothing read for longer than the server's idle timeout (20 s by default),
    // then everything: a server that closed the connection has ended the stream.
    let wait =
        SLOW_READER_WAIT.min(stop.saturating_duration_since(Instant::now()) + SLOW_BYTE_EVERY);
    tokio::time::sleep(wait).await;
    if closed_before(&mut s, Instant::now() + SLOW_BYTE_EVERY).await {
        "closed"
    } else {
        "held"
    }
}
