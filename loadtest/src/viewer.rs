//! One simulated viewer: starts a session, picks a variant (and the audio rendition
//! it names), refreshes its media playlist every target duration (live) or reads it
//! once (VOD), fetches the new segments through their URIs, and checks every
//! response's continuity. DASH viewers refresh the MPD at `minimumUpdatePeriod` and
//! fetch the live segments that have become available ([`dash_segments`]).
//!
//! Every loop ends at the run's stop time; waits are never shorter than
//! [`MIN_REFRESH`], so the number of requests is bounded by the duration.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use splicepoint::hls::{attr, parse_media, parse_playlist, Playlist};
use tokio::time::Instant;
use url::Url;

use crate::check::{Breach, DashTrack, HlsTrack};
use crate::dash_segments::{self, DashSegment};
use crate::stats::{Kind, Stats, Violation};
use crate::{Options, SegmentFetch, SessionMode};

/// Shortest wait between two refreshes of a playlist, whatever it says.
pub const MIN_REFRESH: Duration = Duration::from_millis(500);
/// Attempts to start a session before the viewer gives up.
const START_ATTEMPTS: u32 = 3;
/// Segments a live player loads first: the last three of the window, as hls.js
/// starts three target durations from the live edge.
const LIVE_START_SEGMENTS: usize = 3;
/// Segments a VOD player buffers before pacing at playback speed.
const VOD_BUFFER_SEGMENTS: usize = 3;

/// What every viewer shares.
pub struct Shared {
    /// One HTTP client (one connection pool) for all viewers.
    pub http: reqwest::Client,
    /// The run's options.
    pub opts: Options,
    /// The counters.
    pub stats: Mutex<Stats>,
    /// Viewers running now.
    pub active: AtomicU64,
    /// Highest `active` seen.
    pub peak: AtomicU64,
    /// Viewers whose session started.
    pub started: AtomicU64,
    /// Viewers whose session could not start.
    pub failed: AtomicU64,
    /// When the run started.
    pub t0: Instant,
    /// When every viewer stops.
    pub stop: Instant,
}

impl Shared {
    fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One request; its latency (to the last body byte) or its error recorded.
    /// `None` on any failure.
    async fn fetch(&self, kind: Kind, req: reqwest::RequestBuilder) -> Option<(Url, Bytes)> {
        let start = Instant::now();
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                self.stats().error(kind, cause(&e));
                return None;
            }
        };
        let status = resp.status();
        let url = resp.url().clone();
        match resp.bytes().await {
            Ok(body) if status.is_success() => {
                let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.stats().ok(kind, us);
                Some((url, body))
            }
            Ok(_) => {
                self.stats()
                    .error(kind, format!("status_{}", status.as_u16()));
                None
            }
            Err(e) => {
                self.stats().error(kind, format!("body_{}", cause(&e)));
                None
            }
        }
    }

    async fn get_text(&self, kind: Kind, url: &Url) -> Option<(Url, String)> {
        let (url, body) = self.fetch(kind, self.http.get(url.clone())).await?;
        match String::from_utf8(body.to_vec()) {
            Ok(s) => Some((url, s)),
            Err(_) => {
                self.stats().problem(&format!("{}:not_utf8", kind.name()));
                None
            }
        }
    }

    fn violation(&self, url: &Url, breaches: Vec<Breach>, previous: &str, current: &str) {
        let v = Violation {
            session: session_of(url),
            url: url.to_string(),
            at_secs: self.t0.elapsed().as_secs_f64(),
            breaches,
            previous: previous.to_string(),
            current: current.to_string(),
        };
        self.stats().violation(v);
    }

    /// Sleep until `at`, or the stop time if sooner; false if the run is over.
    async fn wait_until(&self, at: Instant) -> bool {
        tokio::time::sleep_until(at.min(self.stop)).await;
        Instant::now() < self.stop
    }

    async fn segment(&self, url: &Url) {
        let req = match self.opts.segments {
            SegmentFetch::Get => self.http.get(url.clone()),
            SegmentFetch::Head => self.http.head(url.clone()),
            SegmentFetch::None => return,
        };
        let is_ad = url.path().starts_with("/v1/segment/");
        if self.fetch(Kind::Segment, req).await.is_some() && is_ad {
            self.stats().ad_segment();
        }
    }
}

fn cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_redirect() {
        "redirect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    }
    .to_string()
}

/// The session id in a session URL (`/v1/manifest/{config}/{session}/...`,
/// `/v1/dash/{config}/{session}/...`), else the whole URL.
pub fn session_of(url: &Url) -> String {
    let parts: Vec<&str> = url.path().split('/').collect();
    match parts.as_slice() {
        ["", "v1", "manifest" | "dash", _config, session, _, ..] => (*session).to_string(),
        _ => url.to_string(),
    }
}

/// Run one viewer until the stop time.
pub async fn run(sh: Arc<Shared>, index: u64) {
    let dash = sh.opts.is_dash();
    let mut attempt = 0;
    let started = loop {
        let ok = if dash {
            start_dash(&sh).await
        } else {
            start_hls(&sh, index).await
        };
        match ok {
            Some(s) => break Some(s),
            None => {
                attempt += 1;
                if attempt >= START_ATTEMPTS
                    || !sh.wait_until(Instant::now() + Duration::from_secs(1)).await
                {
                    break None;
                }
            }
        }
    };
    let Some(start) = started else {
        sh.failed.fetch_add(1, Ordering::Relaxed);
        sh.stats().problem("session_not_started");
        return;
    };
    sh.started.fetch_add(1, Ordering::Relaxed);
    let now = sh.active.fetch_add(1, Ordering::Relaxed) + 1;
    sh.peak.fetch_max(now, Ordering::Relaxed);
    match start {
        Start::Hls(tracks) => hls_loop(&sh, tracks).await,
        Start::Dash(url, body) => dash_loop(&sh, url, body, index).await,
    }
    sh.active.fetch_sub(1, Ordering::Relaxed);
}

enum Start {
    /// The media playlists to follow (variant, then audio).
    Hls(Vec<Url>),
    /// The session's MPD URL and first MPD.
    Dash(Url, String),
}

/// The session-creating URL or request.
async fn open(sh: &Shared, dash: bool) -> Option<(Url, String)> {
    let o = &sh.opts;
    match o.session_mode {
        SessionMode::Implicit => {
            let route = if dash { "dash" } else { "master" };
            let mut url = o
                .target
                .join(&format!("/v1/{route}/{}/{}", o.config, o.path))
                .ok()?;
            if !o.params.is_empty() {
                url.set_query(Some(&o.params));
            }
            let kind = if dash { Kind::Mpd } else { Kind::Master };
            sh.get_text(kind, &url).await
        }
        SessionMode::Explicit => {
            let url = o
                .target
                .join(&format!("/v1/session/{}/{}", o.config, o.path))
                .ok()?;
            let params: serde_json::Map<String, serde_json::Value> =
                url::form_urlencoded::parse(o.params.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned().into()))
                    .collect();
            let body = serde_json::json!({ "playerParams": params }).to_string();
            let req = sh
                .http
                .post(url)
                .header("content-type", "application/json")
                .body(body);
            let (_, resp) = sh.fetch(Kind::Session, req).await?;
            let manifest = serde_json::from_slice::<serde_json::Value>(&resp)
                .ok()
                .and_then(|v| v.get("manifestUrl")?.as_str().map(str::to_string));
            let Some(manifest) = manifest else {
                sh.stats().problem("session:no_manifest_url");
                return None;
            };
            let url = o.target.join(&manifest).ok()?;
            let kind = if dash { Kind::Mpd } else { Kind::Master };
            sh.get_text(kind, &url).await
        }
    }
}

async fn start_hls(sh: &Shared, index: u64) -> Option<Start> {
    let (url, text) = open(sh, false).await?;
    match parse_playlist(&text) {
        Ok(Playlist::Multivariant(mv)) => {
            if mv.variants.is_empty() {
                sh.stats().problem("master:no_variant");
                return None;
            }
            // Viewers spread over the ladder, as a population of players does.
            let v = &mv.variants[(index % mv.variants.len() as u64) as usize];
            let mut tracks = vec![url.join(&v.uri).ok()?];
            let audio_group = mv.lines[..v.uri_line]
                .iter()
                .rev()
                .find_map(|l| l.strip_prefix("#EXT-X-STREAM-INF:"))
                .and_then(|a| attr::attribute(a, "AUDIO"))
                .map(|g| g.trim_matches('"').to_string());
            if let Some(group) = audio_group {
                let renditions: Vec<&str> = mv
                    .lines
                    .iter()
                    .filter_map(|l| l.strip_prefix("#EXT-X-MEDIA:"))
                    .filter(|a| {
                        attr::attribute(a, "TYPE") == Some("AUDIO")
                            && attr::attribute(a, "GROUP-ID").map(|g| g.trim_matches('"'))
                                == Some(group.as_str())
                            && attr::attribute(a, "URI").is_some()
                    })
                    .collect();
                let pick = renditions
                    .iter()
                    .find(|a| attr::attribute(a, "DEFAULT") == Some("YES"))
                    .or(renditions.first());
                if let Some(uri) = pick.and_then(|a| attr::attribute(a, "URI")) {
                    tracks.push(url.join(uri.trim_matches('"')).ok()?);
                }
            }
            Some(Start::Hls(tracks))
        }
        // A media playlist asked for directly: the session is its URL.
        Ok(Playlist::Media(_)) => Some(Start::Hls(vec![url])),
        Err(_) => {
            sh.stats().problem("master:unparsable");
            None
        }
    }
}

async fn start_dash(sh: &Shared) -> Option<Start> {
    let (url, text) = open(sh, true).await?;
    Some(Start::Dash(url, text))
}

struct Track {
    url: Url,
    check: HlsTrack,
    last: String,
    /// The next media sequence number to fetch.
    next: Option<u64>,
    ended: bool,
}

async fn hls_loop(sh: &Shared, urls: Vec<Url>) {
    let mut tracks: Vec<Track> = urls
        .into_iter()
        .map(|url| Track {
            url,
            check: HlsTrack::default(),
            last: String::new(),
            next: None,
            ended: false,
        })
        .collect();
    let mut vod: Vec<Vec<(Url, f64)>> = vec![Vec::new(); tracks.len()];
    loop {
        let began = Instant::now();
        let mut refresh = Duration::from_secs(2);
        for (i, t) in tracks.iter_mut().enumerate() {
            if t.ended {
                continue;
            }
            let Some((_, text)) = sh.get_text(Kind::Media, &t.url).await else {
                continue;
            };
            let pl = match parse_media(&text) {
                Ok(pl) => pl,
                Err(_) => {
                    sh.stats().problem("media:unparsable");
                    continue;
                }
            };
            let breaches = t.check.observe(&pl);
            if !breaches.is_empty() {
                sh.violation(&t.url, breaches, &t.last, &text);
            }
            refresh = Duration::from_secs(pl.target_duration).max(MIN_REFRESH);
            let from = t.next.unwrap_or_else(|| {
                let n = pl.segments.len();
                if pl.ended {
                    pl.media_sequence
                } else {
                    pl.segments
                        .get(n.saturating_sub(LIVE_START_SEGMENTS))
                        .map_or(pl.media_sequence, |s| s.msn)
                }
            });
            let new: Vec<(Url, f64)> = pl
                .segments
                .iter()
                .filter(|s| s.msn >= from)
                .filter_map(|s| Some((t.url.join(&s.uri).ok()?, s.duration)))
                .collect();
            if let Some(last) = pl.segments.last() {
                t.next = Some(t.next.unwrap_or(0).max(last.msn + 1));
            }
            t.last = text;
            if pl.ended {
                t.ended = true;
                vod[i] = new;
            } else {
                for (url, _) in &new {
                    if Instant::now() >= sh.stop {
                        return;
                    }
                    sh.segment(url).await;
                }
            }
        }
        if tracks.iter().all(|t| t.ended) {
            play_vod(sh, &vod).await;
            return;
        }
        if !sh.wait_until(began + refresh).await {
            return;
        }
    }
}

/// VOD: buffer a few segments, then one per segment duration, every track in step.
async fn play_vod(sh: &Shared, tracks: &[Vec<(Url, f64)>]) {
    let longest = tracks.iter().map(Vec::len).max().unwrap_or(0);
    let mut due = Instant::now();
    for i in 0..longest {
        for t in tracks {
            if let Some((url, _)) = t.get(i) {
                sh.segment(url).await;
            }
        }
        if i + 1 >= VOD_BUFFER_SEGMENTS {
            let d = tracks
                .first()
                .and_then(|t| t.get(i))
                .map_or(0.0, |(_, d)| *d);
            due += Duration::from_secs_f64(d.clamp(0.0, 60.0)).max(MIN_REFRESH);
            if !sh.wait_until(due).await {
                return;
            }
        }
    }
}

async fn dash_loop(sh: &Shared, url: Url, first: String, index: u64) {
    let mut track = DashTrack::default();
    let mut last = String::new();
    let mut text = first;
    // Segments fetched (or skipped at the join), by key; bounded by the run's length.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut joined = false;
    loop {
        let began = Instant::now();
        let mut refresh = Duration::from_secs(2);
        match splicepoint::dash::parse(&text) {
            Ok(doc) => {
                let breaches = track.observe(&doc);
                if !breaches.is_empty() {
                    sh.violation(&url, breaches, &last, &text);
                }
                if !splicepoint::dash::mpd::is_dynamic(&doc) {
                    return;
                }
                if let Some(p) = doc
                    .root
                    .attr("minimumUpdatePeriod")
                    .and_then(|p| splicepoint::dash::mpd::parse_duration(&p))
                {
                    refresh = Duration::from_secs_f64(p.clamp(0.0, 60.0)).max(MIN_REFRESH);
                }
                if sh.opts.segments != SegmentFetch::None {
                    let segs =
                        dash_segments::available(&doc, &url, since_ast(&doc), index as usize);
                    let wanted: Vec<&DashSegment> = if joined {
                        segs.iter().filter(|s| !seen.contains(&s.key)).collect()
                    } else {
                        joined = true;
                        let start = dash_segments::live_start(&segs, LIVE_START_SEGMENTS);
                        seen.extend(segs.iter().map(|s| s.key.clone()));
                        start
                    };
                    for s in wanted {
                        if Instant::now() >= sh.stop {
                            return;
                        }
                        seen.insert(s.key.clone());
                        sh.segment(&s.url).await;
                    }
                }
            }
            Err(_) => sh.stats().problem("mpd:unparsable"),
        }
        last = text;
        if !sh.wait_until(began + refresh).await {
            return;
        }
        text = loop {
            if let Some((_, t)) = sh.get_text(Kind::Mpd, &url).await {
                break t;
            }
            if !sh.wait_until(Instant::now() + refresh).await {
                return;
            }
        };
    }
}

/// Seconds since the MPD's `availabilityStartTime` by this machine's clock (0 when
/// it has none).
fn since_ast(doc: &splicepoint::dash::Document) -> f64 {
    let Some(ast) = doc
        .root
        .attr("availabilityStartTime")
        .and_then(|a| splicepoint::dash::mpd::parse_utc(&a))
    else {
        return 0.0;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    now - ast as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_from_urls() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            session_of(&u("http://h/v1/manifest/c/abc/live/v0.m3u8")),
            "abc"
        );
        assert_eq!(
            session_of(&u("http://h/v1/dash/c/xyz/dash/live/manifest.mpd")),
            "xyz"
        );
        assert_eq!(session_of(&u("http://h/other")), "http://h/other");
    }
}
