//! splicepoint-loadtest: a load generator that behaves like players.
//!
//! # Layout
//!
//! - [`check`]: the continuity rules, checked on every playlist and MPD (pure).
//! - [`dash_segments`]: the DASH segments a live player can fetch now (pure).
//! - [`stats`]: HdrHistogram latencies per request kind, errors by cause,
//!   violations with their responses, one sample per second.
//! - [`hostile`]: the hostile mix next to the viewers (cache busters, oversized
//!   parameters, slow clients), counted apart.
//! - [`viewer`]: one simulated player (session, variant, refreshes, segments).
//! - [`metrics`]: the server's own counters (`/metrics`) and resident memory.
//! - [`report`]: the JSON report and the HTML chart.
//! - [`run`]: ramp the viewers up, hold them, print a line per second, report.

pub mod check;
pub mod dash_segments;
pub mod hostile;
pub mod metrics;
pub mod report;
pub mod stats;
pub mod viewer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use tokio::time::Instant;
use url::Url;

use crate::report::Report;
use crate::stats::{Sample, Stats};
use crate::viewer::Shared;

/// How a viewer starts its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SessionMode {
    /// `GET /v1/master/...` (HLS) or `GET /v1/dash/...` (DASH, redirect followed).
    Implicit,
    /// `POST /v1/session/...`, then the `manifestUrl` it answers.
    Explicit,
}

/// How a viewer fetches segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SegmentFetch {
    /// `GET`, body read to the end.
    Get,
    /// `HEAD`.
    Head,
    /// Not at all (playlists only).
    None,
}

/// A load test run.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "splicepoint-loadtest",
    about = "Player-accurate load against splicepoint: sessions that refresh, fetch segments and check continuity"
)]
pub struct Options {
    /// splicepoint's base URL (or the CDN's in front of it), `http://HOST:PORT`.
    #[arg(long)]
    pub target: Url,
    /// Playback configuration name.
    #[arg(long)]
    pub config: String,
    /// Origin path: `live/master.m3u8` (HLS), or a path ending in `.mpd` (DASH).
    #[arg(long)]
    pub path: String,
    /// Concurrent sessions to reach and hold.
    #[arg(long, default_value_t = 100)]
    pub sessions: u64,
    /// New sessions per second during the ramp.
    #[arg(long, default_value_t = 50.0)]
    pub ramp_per_sec: f64,
    /// How long to hold the sessions once the ramp is done (`60s`, `2m`, `500ms`).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub duration: Duration,
    /// How sessions start.
    #[arg(long, value_enum, default_value_t = SessionMode::Implicit)]
    pub session_mode: SessionMode,
    /// How segments are fetched.
    #[arg(long, value_enum, default_value_t = SegmentFetch::Get)]
    pub segments: SegmentFetch,
    /// Player parameters of each session, as a query string (`pod=two`).
    #[arg(long, default_value = "")]
    pub params: String,
    /// Timeout of one request.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Write the JSON report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write the HTML chart here (default: the report's path with `.html`).
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// `/metrics` URLs to scrape before and after (repeatable; default: the
    /// target's). Counters are summed across them.
    #[arg(long = "metrics")]
    pub metrics: Vec<Url>,
    /// Server process ids whose resident memory is sampled each second (repeatable).
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,
    /// No progress line per second.
    #[arg(long)]
    pub quiet: bool,
    /// Exit with an error when any continuity violation was seen.
    #[arg(long)]
    pub fail_on_violations: bool,
    /// Hostile requests per second next to the viewers (cache-busting query
    /// strings, oversized player parameters; see `hostile`), counted apart in the
    /// report's `hostile`. At most 500.
    #[arg(long, default_value_t = 0.0)]
    pub hostile_rps: f64,
    /// Slow connections held open next to the viewers (half send their headers a
    /// byte every 2 s, half leave the answer unread). At most 1,000.
    #[arg(long, default_value_t = 0)]
    pub hostile_slow: u64,
}

impl Options {
    /// A DASH run (the path names an MPD).
    pub fn is_dash(&self) -> bool {
        self.path.split('?').next().unwrap_or("").ends_with(".mpd")
    }

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.ramp_per_sec > 0.0 && self.ramp_per_sec.is_finite(),
            "--ramp-per-sec must be positive"
        );
        anyhow::ensure!(self.sessions > 0, "--sessions must be at least 1");
        anyhow::ensure!(
            (0.0..=hostile::MAX_HOSTILE_RPS).contains(&self.hostile_rps),
            "--hostile-rps must be between 0 and {}",
            hostile::MAX_HOSTILE_RPS
        );
        anyhow::ensure!(
            self.hostile_slow <= hostile::MAX_HOSTILE_SLOW,
            "--hostile-slow must be at most {}",
            hostile::MAX_HOSTILE_SLOW
        );
        anyhow::ensure!(!self.config.is_empty(), "--config is empty");
        anyhow::ensure!(
            !self.path.is_empty() && !self.path.starts_with('/'),
            "--path is the origin path without a leading slash"
        );
        Ok(())
    }
}

/// `60s`, `2m`, `1h`, `500ms`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: a number with a unit (ms, s, m, h)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: unit must be ms, s, m or h")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

/// Ramp the viewers up, hold them for the duration, then report. Ends at
/// ramp + duration + one request timeout + 2 s, whatever the server does.
pub async fn run(opts: Options) -> anyhow::Result<Report> {
    opts.validate()?;
    let http = reqwest::Client::builder()
        .timeout(opts.timeout)
        .connect_timeout(opts.timeout.min(Duration::from_secs(5)))
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent("splicepoint-loadtest/0.1")
        .build()
        .context("HTTP client")?;
    let metric_urls = if opts.metrics.is_empty() {
        vec![opts.target.join("/metrics")?]
    } else {
        opts.metrics.clone()
    };
    let before = metrics::scrape(&http, &metric_urls).await;
    let ramp = Duration::from_secs_f64(opts.sessions as f64 / opts.ramp_per_sec);
    let t0 = Instant::now();
    let stop = t0 + ramp + opts.duration;
    let hard_stop = stop + opts.timeout + Duration::from_secs(2);
    let shared = Arc::new(Shared {
        http: http.clone(),
        opts: opts.clone(),
        stats: Mutex::new(Stats::default()),
        active: AtomicU64::new(0),
        peak: AtomicU64::new(0),
        started: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        t0,
        stop,
    });
    let ticker = tokio::spawn(progress(shared.clone()));
    let outcomes = Arc::new(hostile::Outcomes::default());
    let hostile = if opts.hostile_rps > 0.0 || opts.hostile_slow > 0 {
        // Its own connection pool: the viewers' connections are not its to use.
        let http = reqwest::Client::builder()
            .timeout(opts.timeout)
            .user_agent("splicepoint-loadtest-hostile/0.1")
            .build()
            .context("HTTP client")?;
        Some(tokio::spawn(hostile::run(
            http,
            opts.clone(),
            opts.hostile_rps,
            opts.hostile_slow,
            stop,
            outcomes.clone(),
        )))
    } else {
        None
    };
    let mut viewers = tokio::task::JoinSet::new();
    for i in 0..opts.sessions {
        let at = t0 + Duration::from_secs_f64(i as f64 / opts.ramp_per_sec);
        tokio::time::sleep_until(at).await;
        if Instant::now() >= stop {
            break;
        }
        viewers.spawn(viewer::run(shared.clone(), i));
        while viewers.try_join_next().is_some() {}
    }
    let drained = tokio::time::timeout_at(hard_stop, async {
        while viewers.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        viewers.abort_all();
        shared
            .stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .problem("viewer_aborted_at_hard_stop");
    }
    ticker.abort();
    if let Some(h) = hostile {
        // Bounded by the hostile client itself (its slow connections are held
        // at most `SLOW_HOLD_MAX` past the stop).
        let _ = h.await;
    }
    let elapsed = t0.elapsed();
    let after = metrics::scrape(&http, &metric_urls).await;
    let totals = shared
        .stats
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .totals();
    let mut report = Report::new(
        &opts,
        totals,
        report::Sessions {
            target: opts.sessions,
            started: shared.started.load(Ordering::Relaxed),
            failed: shared.failed.load(Ordering::Relaxed),
            peak: shared.peak.load(Ordering::Relaxed),
        },
        elapsed,
        metrics::ServerMetrics::new(before, after),
        timeline_of(&shared),
    );
    report.hostile = outcomes.snapshot();
    Ok(report)
}

fn timeline_of(shared: &Shared) -> Vec<Sample> {
    shared
        .stats
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .timeline()
}

/// One sample per second into the stats' timeline, and a progress line on stderr.
async fn progress(sh: Arc<Shared>) {
    let mut tick = tokio::time::interval_at(sh.t0 + Duration::from_secs(1), Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = sh.t0;
    loop {
        tick.tick().await;
        let now = Instant::now();
        let rss = metrics::rss_kib(&sh.opts.server_pids);
        let dt = (now - last).as_secs_f64().max(1e-3);
        last = now;
        let sessions = sh.active.load(Ordering::Relaxed);
        let mut st = sh.stats.lock().unwrap_or_else(PoisonError::into_inner);
        let (req, err, p50, p99) = st.take_interval();
        let sample = Sample {
            t: (now - sh.t0).as_secs_f64(),
            sessions,
            rps: req as f64 / dt,
            p50_ms: p50,
            p99_ms: p99,
            errors: err,
            violations: st.violations(),
            server_rss_kib: rss,
        };
        let total_errors = st.error_count();
        st.push_sample(sample.clone());
        drop(st);
        if !sh.opts.quiet {
            eprintln!(
                "t={:>4.0}s sessions={} rps={:.0} p50={:.1}ms p99={:.1}ms errors={} (total {}) violations={}{}",
                sample.t,
                sample.sessions,
                sample.rps,
                sample.p50_ms,
                sample.p99_ms,
                sample.errors,
                total_errors,
                sample.violations,
                rss.map(|k| format!(" server_rss={}MiB", k / 1024)).unwrap_or_default()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("").is_err());
    }
}
