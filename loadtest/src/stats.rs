//! What a run measures: latency histograms per request kind (HdrHistogram),
//! requests and errors by cause, continuity violations with the two responses that
//! show each, and one sample per second for the progress line and the chart.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::check::Breach;

/// Kinds of request a player makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A new implicit HLS session: the multivariant playlist.
    Master,
    /// A new explicit session: `POST /v1/session`.
    Session,
    /// A media playlist refresh.
    Media,
    /// A segment (content, or an ad through `/v1/segment`).
    Segment,
    /// A DASH MPD (the first one is the new session's redirect, followed).
    Mpd,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 5] = [
        Kind::Master,
        Kind::Session,
        Kind::Media,
        Kind::Segment,
        Kind::Mpd,
    ];

    /// The report's name of the kind.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Master => "master",
            Kind::Session => "session",
            Kind::Media => "media",
            Kind::Segment => "segment",
            Kind::Mpd => "mpd",
        }
    }
}

/// Continuity violations whose responses are kept in the report (all are counted).
pub const KEPT_VIOLATIONS: usize = 20;

/// Latencies are recorded in microseconds, from 1 µs to this (longer ones saturate).
const MAX_MICROS: u64 = 120_000_000;

/// One continuity violation, with what is needed to reproduce it.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    /// The session (its id in the URL).
    pub session: String,
    /// The playlist or MPD URL.
    pub url: String,
    /// Seconds since the run started.
    pub at_secs: f64,
    /// The rules broken by `current`.
    pub breaches: Vec<Breach>,
    /// The response before (empty if none was kept).
    pub previous: String,
    /// The response that broke the rules.
    pub current: String,
}

/// Percentiles of one kind, milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Successful requests measured.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }
}

/// One second of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Seconds since the start.
    pub t: f64,
    /// Sessions running.
    pub sessions: u64,
    /// Requests completed per second in this interval (successes and errors).
    pub rps: f64,
    /// Median latency in this interval, all kinds, ms (0 without requests).
    pub p50_ms: f64,
    /// 99th percentile in this interval, ms.
    pub p99_ms: f64,
    /// Errors in this interval.
    pub errors: u64,
    /// Continuity violations so far.
    pub violations: u64,
    /// Summed resident memory of the watched server processes, KiB.
    pub server_rss_kib: Option<u64>,
}

fn histogram() -> Histogram<u64> {
    // Bounds are constants that hdrhistogram accepts (low >= 1, high >= 2 * low,
    // 0 < sigfig <= 5): this cannot fail.
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds")
}

/// Counters of a whole run; behind a `Mutex`, held only for the few instructions
/// of a record.
pub struct Stats {
    per_kind: BTreeMap<Kind, Histogram<u64>>,
    requests: BTreeMap<Kind, u64>,
    errors: BTreeMap<String, u64>,
    interval: Histogram<u64>,
    interval_requests: u64,
    interval_errors: u64,
    violations: u64,
    kept: Vec<Violation>,
    ad_segments: u64,
    timeline: Vec<Sample>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            per_kind: Kind::ALL.iter().map(|k| (*k, histogram())).collect(),
            requests: BTreeMap::new(),
            errors: BTreeMap::new(),
            interval: histogram(),
            interval_requests: 0,
            interval_errors: 0,
            violations: 0,
            kept: Vec::new(),
            ad_segments: 0,
            timeline: Vec::new(),
        }
    }
}

impl Stats {
    /// A request that succeeded in `micros`.
    pub fn ok(&mut self, kind: Kind, micros: u64) {
        let us = micros.clamp(1, MAX_MICROS);
        if let Some(h) = self.per_kind.get_mut(&kind) {
            h.saturating_record(us);
        }
        self.interval.saturating_record(us);
        *self.requests.entry(kind).or_default() += 1;
        self.interval_requests += 1;
    }

    /// A request that failed, by cause (`status_503`, `timeout`, `connect`, ...).
    pub fn error(&mut self, kind: Kind, cause: String) {
        *self
            .errors
            .entry(format!("{}:{cause}", kind.name()))
            .or_default() += 1;
        *self.requests.entry(kind).or_default() += 1;
        self.interval_requests += 1;
        self.interval_errors += 1;
    }

    /// A failure that is not one request's (a response we could not read as a
    /// playlist, a session that could not start).
    pub fn problem(&mut self, cause: &str) {
        *self.errors.entry(cause.to_string()).or_default() += 1;
        self.interval_errors += 1;
    }

    /// An ad segment fetched through `/v1/segment`.
    pub fn ad_segment(&mut self) {
        self.ad_segments += 1;
    }

    /// A response that broke continuity rules.
    pub fn violation(&mut self, v: Violation) {
        self.violations += 1;
        if self.kept.len() < KEPT_VIOLATIONS {
            self.kept.push(v);
        }
    }

    /// Take the figures of the interval since the last call: (requests, errors,
    /// p50 ms, p99 ms).
    pub fn take_interval(&mut self) -> (u64, u64, f64, f64) {
        let (p50, p99) = if self.interval.is_empty() {
            (0.0, 0.0)
        } else {
            (
                self.interval.value_at_quantile(0.50) as f64 / 1000.0,
                self.interval.value_at_quantile(0.99) as f64 / 1000.0,
            )
        };
        let out = (self.interval_requests, self.interval_errors, p50, p99);
        self.interval.reset();
        self.interval_requests = 0;
        self.interval_errors = 0;
        out
    }

    /// Keep one second's sample for the report and the chart.
    pub fn push_sample(&mut self, s: Sample) {
        self.timeline.push(s);
    }

    /// The samples so far.
    pub fn timeline(&self) -> Vec<Sample> {
        self.timeline.clone()
    }

    /// Continuity violations so far.
    pub fn violations(&self) -> u64 {
        self.violations
    }

    /// Errors so far.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Requests so far.
    pub fn request_count(&self) -> u64 {
        self.requests.values().sum()
    }

    /// The run's totals.
    pub fn totals(&self) -> Totals {
        let mut all = histogram();
        let mut latency = BTreeMap::new();
        for (kind, h) in &self.per_kind {
            if !h.is_empty() {
                latency.insert(kind.name().to_string(), Latency::of(h));
                // Same bounds on both sides: cannot fail.
                let _ = all.add(h);
            }
        }
        if !all.is_empty() {
            latency.insert("all".to_string(), Latency::of(&all));
        }
        Totals {
            requests: self.request_count(),
            requests_by_kind: self
                .requests
                .iter()
                .map(|(k, n)| (k.name().to_string(), *n))
                .collect(),
            errors: self.error_count(),
            errors_by_cause: self.errors.clone(),
            continuity_violations: self.violations,
            violations: self.kept.clone(),
            latency_ms: latency,
            ad_segments: self.ad_segments,
        }
    }
}

/// The totals of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    /// Requests made (successes and errors).
    pub requests: u64,
    /// By kind.
    pub requests_by_kind: BTreeMap<String, u64>,
    /// Errors.
    pub errors: u64,
    /// By kind and cause (`media:status_503`, `master:timeout`, ...).
    pub errors_by_cause: BTreeMap<String, u64>,
    /// Responses that broke a continuity rule.
    pub continuity_violations: u64,
    /// The first [`KEPT_VIOLATIONS`], with both responses.
    pub violations: Vec<Violation>,
    /// Percentiles per kind, and `all`.
    pub latency_ms: BTreeMap<String, Latency>,
    /// Ad segments fetched through `/v1/segment`.
    pub ad_segments: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_histogram() {
        let mut s = Stats::default();
        for ms in 1..=100u64 {
            s.ok(Kind::Media, ms * 1000);
        }
        s.ok(Kind::Master, 5_000);
        s.error(Kind::Media, "status_503".into());
        let t = s.totals();
        let media = &t.latency_ms["media"];
        assert_eq!(media.count, 100);
        assert!((media.p50 - 50.0).abs() < 0.1, "{media:?}");
        assert!((media.p99 - 99.0).abs() < 0.1, "{media:?}");
        assert!((media.max - 100.0).abs() < 0.1, "{media:?}");
        assert_eq!(t.latency_ms["all"].count, 101);
        assert_eq!(t.requests, 102);
        assert_eq!(t.errors_by_cause["media:status_503"], 1);
        let (req, err, p50, _) = s.take_interval();
        assert_eq!((req, err), (102, 1));
        assert!(p50 > 40.0);
        assert_eq!(s.take_interval(), (0, 0, 0.0, 0.0), "reset after a take");
    }
}
