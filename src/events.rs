//! Telemetry: the metric families exposed on `/metrics`, in the Prometheus text
//! format (0.0.4), by the `prometheus-client` crate.
//!
//! I/O shell only: the pure core decides, and the handlers, fetchers and decision
//! path record what happened where the outcome is known. Recording is cheap:
//! counters and gauges are atomics; a label set is found under its family's read
//! lock (written only the first time the set is seen); a histogram observation
//! takes that one series' short lock. No lock is process-wide.
//!
//! Labels never carry session ids or URLs (those go in logs). The configuration
//! (channel) name is a label (`config`): it comes from loaded configurations only,
//! never from a player's path, so it cannot grow without bound.

use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of `/metrics`.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every family on `/metrics`, as its samples are named (counters with
/// `_total`, histograms by their base name), for the dashboard test and docs.
pub const FAMILIES: &[&str] = &[
    REQUEST_DURATION,
    ORIGIN_FETCHES,
    ORIGIN_FETCH_DURATION,
    ORIGIN_ERRORS,
    ORIGIN_STALE_SERVED,
    ORIGIN_CACHE_LOOKUPS,
    ADS_CALLS,
    ADS_REQUEST_DURATION,
    ADS_DECISION_DURATION,
    ADS_DECISIONS,
    AD_DECISION_FAILED,
    AD_DECISION_LOOKUPS,
    ADS_FILLED,
    ADS_SKIPPED,
    AVAILS_SEEN,
    AVAILS_FILLED,
    AVAIL_PLANNED_SECONDS,
    AVAIL_FILLED_SECONDS,
    BEACONS_FIRED,
    BEACONS_FAILED,
    SESSIONS_CREATED,
    SESSIONS_ACTIVE,
    SESSION_STORE_DURATION,
    SESSION_STORE_ERRORS,
    TRANSCODE_JOBS,
    TRANSCODE_JOB_DURATION,
    TRANSCODE_QUEUE_DEPTH,
];

/// Player-facing request duration, seconds, by `kind`, `outcome` and `config`.
pub const REQUEST_DURATION: &str = "splicepoint_request_duration_seconds";
/// Origin manifest fetches (cache misses), by `config`.
pub const ORIGIN_FETCHES: &str = "splicepoint_origin_fetches_total";
/// Origin fetch duration, seconds, by `config` and `outcome` (`ok`, `error`).
pub const ORIGIN_FETCH_DURATION: &str = "splicepoint_origin_fetch_duration_seconds";
/// Origin fetch failures, by `reason` and `config`.
pub const ORIGIN_ERRORS: &str = "splicepoint_origin_errors_total";
/// Stale manifests served because the origin failed, by `config`.
pub const ORIGIN_STALE_SERVED: &str = "splicepoint_origin_stale_served_total";
/// Origin manifest cache lookups, by `config` and `result` (`hit`, `miss`).
pub const ORIGIN_CACHE_LOOKUPS: &str = "splicepoint_origin_cache_lookups_total";
/// Ad decisions that called the ADS, by `config`.
pub const ADS_CALLS: &str = "splicepoint_ads_calls_total";
/// One VAST request (one hop: the ADS or a wrapper's URL), seconds, by `config`
/// and `outcome` (`ok`, `timeout`, `error`).
pub const ADS_REQUEST_DURATION: &str = "splicepoint_ads_request_duration_seconds";
/// A whole ad decision (every hop, transcode checks, fitting), seconds, by `config`
/// and `outcome` (see [`ADS_DECISIONS`]).
pub const ADS_DECISION_DURATION: &str = "splicepoint_ads_decision_duration_seconds";
/// Ad decisions by `config` and `outcome`: `ok`, `timeout`, `error`, `empty`,
/// `malformed`, `fan_out_capped`.
pub const ADS_DECISIONS: &str = "splicepoint_ads_decisions_total";
/// Ad decisions that filled nothing, by `reason` (the detailed one: `fetch_timeout`,
/// `parse`, `empty`, `suppressed`, ...) and `config`.
pub const AD_DECISION_FAILED: &str = "splicepoint_ad_decision_failed_total";
/// Where a request found the decision of a break, by `config` and `result`:
/// `stored` (session store), `made` (this request asked the ADS), `coalesced`
/// (waited for a request of the same session and break that did).
pub const AD_DECISION_LOOKUPS: &str = "splicepoint_ad_decision_lookups_total";
/// Ads placed in manifests served, by `config` (counted per manifest).
pub const ADS_FILLED: &str = "splicepoint_ads_filled_total";
/// Ads skipped, by `reason` (NEW_CREATIVE, NO_VARIANT_MATCH, DURATION_EXCEEDED...)
/// and `config`.
pub const ADS_SKIPPED: &str = "splicepoint_ads_skipped_total";
/// Avails (session and break) an ad decision was made for, by `config`.
pub const AVAILS_SEEN: &str = "splicepoint_avails_seen_total";
/// Avails whose decision placed at least one ad, by `config`.
pub const AVAILS_FILLED: &str = "splicepoint_avails_filled_total";
/// Seconds of avails decided, by `config`.
pub const AVAIL_PLANNED_SECONDS: &str = "splicepoint_avail_planned_seconds_total";
/// Seconds of those avails the decided ads fill, by `config` (fill rate: this
/// over [`AVAIL_PLANNED_SECONDS`]).
pub const AVAIL_FILLED_SECONDS: &str = "splicepoint_avail_filled_seconds_total";
/// VAST beacons fired (server-side reporting), by `event` and `config`.
pub const BEACONS_FIRED: &str = "splicepoint_beacons_fired_total";
/// VAST beacon URLs that failed after every attempt, by `event` and `config`.
pub const BEACONS_FAILED: &str = "splicepoint_beacons_failed_total";
/// Sessions created, by `config`.
pub const SESSIONS_CREATED: &str = "splicepoint_sessions_created_total";
/// Sessions held by this instance's in-memory store (absent with Redis).
pub const SESSIONS_ACTIVE: &str = "splicepoint_sessions_active";
/// Session store calls, seconds (one Redis round trip each), by `op`.
pub const SESSION_STORE_DURATION: &str = "splicepoint_session_store_duration_seconds";
/// Session store commands that failed.
pub const SESSION_STORE_ERRORS: &str = "splicepoint_session_store_errors_total";
/// Transcode jobs, by `reason` (`started`, `succeeded`, `failed`).
pub const TRANSCODE_JOBS: &str = "splicepoint_transcode_jobs_total";
/// Transcode job duration, seconds, by `outcome` (`ok`, `error`).
pub const TRANSCODE_JOB_DURATION: &str = "splicepoint_transcode_job_duration_seconds";
/// Transcode jobs started and not finished (queued or running).
pub const TRANSCODE_QUEUE_DEPTH: &str = "splicepoint_transcode_queue_depth";

/// Request kinds of [`REQUEST_DURATION`].
pub mod kind {
    /// `GET /v1/master/...`
    pub const HLS_MASTER: &str = "hls_master";
    /// `GET /v1/manifest/...`
    pub const HLS_MEDIA: &str = "hls_media";
    /// `GET /v1/dash/...` (new session or MPD)
    pub const DASH_MPD: &str = "dash_mpd";
    /// `GET /v1/segment/...`
    pub const SEGMENT_REDIRECT: &str = "segment_redirect";
    /// `GET /v1/tracking/...`
    pub const TRACKING: &str = "tracking";
    /// `GET /v1/manifest/...?sgai.break=...` (a guided session's asset list)
    pub const ASSET_LIST: &str = "asset_list";
    /// `GET /v1/assets/...` (a guided session's ad playlists)
    pub const AD_PLAYLIST: &str = "ad_playlist";
    /// `POST /v1/session/...`
    pub const SESSION: &str = "session";
}

/// The name a counter family is registered under: its samples' without `_total`
/// (the encoder adds it back).
fn counter_name(sample: &str) -> &str {
    sample.strip_suffix("_total").unwrap_or(sample)
}

/// Bounds for request and network latencies, seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Bounds for transcode jobs, seconds.
const JOB_BUCKETS: [f64; 10] = [0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0];

fn latency() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn job() -> Histogram {
    Histogram::new(JOB_BUCKETS)
}

type Hist = Family<OutcomeLabels, Histogram, fn() -> Histogram>;

/// `{config}`
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConfigLabels {
    config: String,
}

/// `{reason, config}`
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
    config: String,
}

/// `{outcome, config}`
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
    config: String,
}

/// `{kind, outcome, config}`
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    kind: &'static str,
    outcome: &'static str,
    config: String,
}

/// `{result, config}`
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
    config: String,
}

/// `{event, config}`
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: String,
    config: String,
}

/// `{op}`
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    op: &'static str,
}

/// `{reason}`
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    reason: &'static str,
}

/// `{outcome}`
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobOutcomeLabels {
    outcome: &'static str,
}

type FloatCounter = Counter<f64, AtomicU64>;

/// The process's metric families. Shared behind an `Arc`; every method takes
/// `&self`.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    origin_fetches: Family<ConfigLabels, Counter>,
    origin_fetch_duration: Hist,
    origin_errors: Family<ReasonLabels, Counter>,
    origin_stale_served: Family<ConfigLabels, Counter>,
    origin_cache: Family<ResultLabels, Counter>,
    ads_calls: Family<ConfigLabels, Counter>,
    ads_request_duration: Hist,
    ads_decision_duration: Hist,
    ads_decisions: Family<OutcomeLabels, Counter>,
    ad_decision_failed: Family<ReasonLabels, Counter>,
    ad_decision_lookups: Family<ResultLabels, Counter>,
    ads_filled: Family<ConfigLabels, Counter>,
    ads_skipped: Family<ReasonLabels, Counter>,
    avails_seen: Family<ConfigLabels, Counter>,
    avails_filled: Family<ConfigLabels, Counter>,
    avail_planned: Family<ConfigLabels, FloatCounter>,
    avail_filled: Family<ConfigLabels, FloatCounter>,
    beacons_fired: Family<EventLabels, Counter>,
    beacons_failed: Family<EventLabels, Counter>,
    sessions_created: Family<ConfigLabels, Counter>,
    sessions_active: Gauge,
    session_store_duration: Family<OpLabels, Histogram, fn() -> Histogram>,
    session_store_errors: Counter,
    transcode_jobs: Family<JobLabels, Counter>,
    transcode_job_duration: Family<JobOutcomeLabels, Histogram, fn() -> Histogram>,
    transcode_queue_depth: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Self {
            registry: Registry::default(),
            requests: Family::new_with_constructor(latency),
            origin_fetches: Family::default(),
            origin_fetch_duration: Family::new_with_constructor(latency),
            origin_errors: Family::default(),
            origin_stale_served: Family::default(),
            origin_cache: Family::default(),
            ads_calls: Family::default(),
            ads_request_duration: Family::new_with_constructor(latency),
            ads_decision_duration: Family::new_with_constructor(latency),
            ads_decisions: Family::default(),
            ad_decision_failed: Family::default(),
            ad_decision_lookups: Family::default(),
            ads_filled: Family::default(),
            ads_skipped: Family::default(),
            avails_seen: Family::default(),
            avails_filled: Family::default(),
            avail_planned: Family::default(),
            avail_filled: Family::default(),
            beacons_fired: Family::default(),
            beacons_failed: Family::default(),
            sessions_created: Family::default(),
            sessions_active: Gauge::default(),
            session_store_duration: Family::new_with_constructor(latency),
            session_store_errors: Counter::default(),
            transcode_jobs: Family::default(),
            transcode_job_duration: Family::new_with_constructor(job),
            transcode_queue_depth: Gauge::default(),
        };
        m.register()
    }
}

impl Metrics {
    fn register(mut self) -> Self {
        let r = &mut self.registry;
        macro_rules! counter {
            ($name:expr, $help:expr, $m:expr) => {
                r.register(counter_name($name), $help, $m.clone())
            };
        }
        r.register(
            REQUEST_DURATION,
            "Player-facing request duration in seconds, by kind, outcome (ok, client_error, server_error) and configuration",
            self.requests.clone(),
        );
        counter!(
            ORIGIN_FETCHES,
            "Origin manifest fetches (cache misses)",
            self.origin_fetches
        );
        r.register(
            ORIGIN_FETCH_DURATION,
            "Origin manifest fetch duration in seconds, by outcome (ok, error)",
            self.origin_fetch_duration.clone(),
        );
        counter!(
            ORIGIN_ERRORS,
            "Origin fetch failures, by reason",
            self.origin_errors
        );
        counter!(
            ORIGIN_STALE_SERVED,
            "Last good manifests served because the origin failed",
            self.origin_stale_served
        );
        counter!(
            ORIGIN_CACHE_LOOKUPS,
            "Origin manifest cache lookups, by result (hit, miss)",
            self.origin_cache
        );
        counter!(
            ADS_CALLS,
            "Ad decisions that called the ADS",
            self.ads_calls
        );
        r.register(
            ADS_REQUEST_DURATION,
            "VAST request duration in seconds, one per hop (ADS or wrapper URL), by outcome (ok, timeout, error)",
            self.ads_request_duration.clone(),
        );
        r.register(
            ADS_DECISION_DURATION,
            "Whole ad decision duration in seconds (every hop), by outcome",
            self.ads_decision_duration.clone(),
        );
        counter!(
            ADS_DECISIONS,
            "Ad decisions by outcome (ok, timeout, error, empty, malformed, fan_out_capped)",
            self.ads_decisions
        );
        counter!(
            AD_DECISION_FAILED,
            "Ad decisions that filled nothing, by detailed reason",
            self.ad_decision_failed
        );
        counter!(
            AD_DECISION_LOOKUPS,
            "Where a request found a break's decision, by result (stored, made, coalesced)",
            self.ad_decision_lookups
        );
        counter!(
            ADS_FILLED,
            "Ads placed in the manifests served",
            self.ads_filled
        );
        counter!(ADS_SKIPPED, "Ads skipped, by reason", self.ads_skipped);
        counter!(
            AVAILS_SEEN,
            "Avails an ad decision was made for",
            self.avails_seen
        );
        counter!(
            AVAILS_FILLED,
            "Avails whose decision placed at least one ad",
            self.avails_filled
        );
        counter!(
            AVAIL_PLANNED_SECONDS,
            "Seconds of avails decided",
            self.avail_planned
        );
        counter!(
            AVAIL_FILLED_SECONDS,
            "Seconds of avails filled by the decided ads",
            self.avail_filled
        );
        counter!(
            BEACONS_FIRED,
            "VAST beacon events fired server-side, by event",
            self.beacons_fired
        );
        counter!(
            BEACONS_FAILED,
            "VAST beacon URLs that failed after every attempt, by event",
            self.beacons_failed
        );
        counter!(SESSIONS_CREATED, "Sessions created", self.sessions_created);
        r.register(
            SESSIONS_ACTIVE,
            "Sessions held by this instance's in-memory session store",
            self.sessions_active.clone(),
        );
        r.register(
            SESSION_STORE_DURATION,
            "Session store call duration in seconds (one round trip), by operation",
            self.session_store_duration.clone(),
        );
        counter!(
            SESSION_STORE_ERRORS,
            "Session store commands that failed",
            self.session_store_errors
        );
        counter!(
            TRANSCODE_JOBS,
            "Transcode jobs, by reason (started, succeeded, failed)",
            self.transcode_jobs
        );
        r.register(
            TRANSCODE_JOB_DURATION,
            "Transcode job duration in seconds, by outcome (ok, error)",
            self.transcode_job_duration.clone(),
        );
        r.register(
            TRANSCODE_QUEUE_DEPTH,
            "Transcode jobs started and not finished",
            self.transcode_queue_depth.clone(),
        );
        self
    }

    fn config(config: &str) -> ConfigLabels {
        ConfigLabels {
            config: config.to_string(),
        }
    }

    /// A player-facing request of `kind` answered with `status` after `secs`.
    pub fn request(&self, kind: &'static str, status: u16, config: &str, secs: f64) {
        let outcome = match status {
            400..=499 => "client_error",
            500..=599 => "server_error",
            _ => "ok",
        };
        self.requests
            .get_or_create(&RequestLabels {
                kind,
                outcome,
                config: config.to_string(),
            })
            .observe(secs);
    }

    /// An origin fetch finished (`ok` or not) after `secs`.
    pub fn origin_fetch(&self, config: &str, ok: bool, secs: f64) {
        self.origin_fetches
            .get_or_create(&Self::config(config))
            .inc();
        let outcome = if ok { "ok" } else { "error" };
        self.origin_fetch_duration
            .get_or_create(&OutcomeLabels {
                outcome,
                config: config.to_string(),
            })
            .observe(secs);
    }

    /// An origin fetch failed for `reason`.
    pub fn origin_error(&self, config: &str, reason: &str) {
        self.origin_errors
            .get_or_create(&ReasonLabels {
                reason: reason.to_string(),
                config: config.to_string(),
            })
            .inc();
    }

    /// The last good manifest stood in for a failing origin.
    pub fn origin_stale_served(&self, config: &str) {
        self.origin_stale_served
            .get_or_create(&Self::config(config))
            .inc();
    }

    /// An origin cache lookup: `hit` when this request did not fetch.
    pub fn origin_cache(&self, config: &str, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.origin_cache
            .get_or_create(&ResultLabels {
                result,
                config: config.to_string(),
            })
            .inc();
    }

    /// A decision called the ADS.
    pub fn ads_call(&self, config: &str) {
        self.ads_calls.get_or_create(&Self::config(config)).inc();
    }

    /// One VAST request (hop) ended with `outcome` after `secs`.
    pub fn ads_request(&self, config: &str, outcome: &'static str, secs: f64) {
        self.ads_request_duration
            .get_or_create(&OutcomeLabels {
                outcome,
                config: config.to_string(),
            })
            .observe(secs);
    }

    /// A whole decision ended with `outcome` after `secs`.
    pub fn ads_decision(&self, config: &str, outcome: &'static str, secs: f64) {
        let labels = OutcomeLabels {
            outcome,
            config: config.to_string(),
        };
        self.ads_decisions.get_or_create(&labels).inc();
        self.ads_decision_duration
            .get_or_create(&labels)
            .observe(secs);
    }

    /// A decision filled nothing, for `reason`.
    pub fn ad_decision_failed(&self, config: &str, reason: &str) {
        self.ad_decision_failed
            .get_or_create(&ReasonLabels {
                reason: reason.to_string(),
                config: config.to_string(),
            })
            .inc();
    }

    /// Where a request found a break's decision: `stored`, `made`, `coalesced`.
    pub fn decision_lookup(&self, config: &str, result: &'static str) {
        self.ad_decision_lookups
            .get_or_create(&ResultLabels {
                result,
                config: config.to_string(),
            })
            .inc();
    }

    /// A decision for an avail of `planned` seconds whose ads fill `filled`.
    pub fn avail(&self, config: &str, planned: f64, filled: f64) {
        let labels = Self::config(config);
        self.avails_seen.get_or_create(&labels).inc();
        self.avail_planned
            .get_or_create(&labels)
            .inc_by(planned.max(0.0));
        if filled > 0.0 {
            self.avails_filled.get_or_create(&labels).inc();
            self.avail_filled
                .get_or_create(&labels)
                .inc_by(filled.min(planned).max(0.0));
        }
    }

    /// `n` ads placed in a manifest.
    pub fn ads_filled(&self, config: &str, n: usize) {
        if n > 0 {
            self.ads_filled
                .get_or_create(&Self::config(config))
                .inc_by(n as u64);
        }
    }

    /// `n` ads skipped for `reason` (nothing, not even a zero series, when 0).
    pub fn ads_skipped(&self, config: &str, reason: &str, n: usize) {
        if n > 0 {
            self.ads_skipped
                .get_or_create(&ReasonLabels {
                    reason: reason.to_string(),
                    config: config.to_string(),
                })
                .inc_by(n as u64);
        }
    }

    /// A beacon event fired (`ok`) or one of its URLs failed after every attempt.
    pub fn beacon(&self, config: &str, event: &str, ok: bool) {
        let family = if ok {
            &self.beacons_fired
        } else {
            &self.beacons_failed
        };
        family
            .get_or_create(&EventLabels {
                event: event.to_string(),
                config: config.to_string(),
            })
            .inc();
    }

    /// A session was created.
    pub fn session_created(&self, config: &str) {
        self.sessions_created
            .get_or_create(&Self::config(config))
            .inc();
    }

    /// A session store call `op` took `secs`.
    pub fn session_store(&self, op: &'static str, secs: f64) {
        self.session_store_duration
            .get_or_create(&OpLabels { op })
            .observe(secs);
    }

    /// A transcode job started (`started`) or ended (`succeeded`, `failed`,
    /// after `secs`).
    pub fn transcode_job(&self, reason: &'static str, secs: Option<f64>) {
        self.transcode_jobs
            .get_or_create(&JobLabels { reason })
            .inc();
        match (reason, secs) {
            ("started", _) => {
                self.transcode_queue_depth.inc();
            }
            (_, Some(secs)) => {
                let outcome = if reason == "succeeded" { "ok" } else { "error" };
                self.transcode_job_duration
                    .get_or_create(&JobOutcomeLabels { outcome })
                    .observe(secs);
                self.transcode_queue_depth.dec();
            }
            _ => {
                self.transcode_queue_depth.dec();
            }
        }
    }

    /// The text of `/metrics`. `sessions_active`: the in-memory store's count
    /// (`None`: not known here, the gauge stays 0); `store_errors`: the session
    /// store's failed commands since start.
    pub fn render(&self, sessions_active: Option<u64>, store_errors: u64) -> String {
        if let Some(n) = sessions_active {
            self.sessions_active
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        // The store counts; the counter follows it (never back, whatever the order
        // of concurrent scrapes).
        self.session_store_errors
            .inner()
            .fetch_max(store_errors, Ordering::Relaxed);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn counts_and_renders() {
        let m = Metrics::default();
        m.ads_skipped("c", "NEW_CREATIVE", 1);
        m.ads_skipped("c", "NEW_CREATIVE", 1);
        m.ads_skipped("c", "NEW_CREATIVE", 0);
        m.session_created("c");
        m.request(kind::HLS_MEDIA, 200, "c", 0.003);
        m.avail("c", 30.0, 20.0);
        m.avail("c", 30.0, 0.0);
        m.transcode_job("started", None);
        let text = m.render(Some(3), 2);
        assert_eq!(
            value(
                &text,
                "splicepoint_ads_skipped_total{reason=\"NEW_CREATIVE\",config=\"c\"}"
            ),
            Some(2.0),
            "{text}"
        );
        assert_eq!(
            value(&text, "splicepoint_sessions_created_total{config=\"c\"}"),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                "splicepoint_request_duration_seconds_count{kind=\"hls_media\",outcome=\"ok\",config=\"c\"}"
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                "splicepoint_request_duration_seconds_bucket{kind=\"hls_media\",outcome=\"ok\",config=\"c\",le=\"0.005\"}"
            ),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            value(
                &text,
                "splicepoint_avail_planned_seconds_total{config=\"c\"}"
            ),
            Some(60.0)
        );
        assert_eq!(
            value(
                &text,
                "splicepoint_avail_filled_seconds_total{config=\"c\"}"
            ),
            Some(20.0)
        );
        assert_eq!(
            value(&text, "splicepoint_avails_filled_total{config=\"c\"}"),
            Some(1.0)
        );
        assert_eq!(value(&text, "splicepoint_sessions_active"), Some(3.0));
        assert_eq!(
            value(&text, "splicepoint_session_store_errors_total"),
            Some(2.0)
        );
        assert_eq!(value(&text, "splicepoint_transcode_queue_depth"), Some(1.0));
        assert!(
            !text.lines().any(|l| l
                .split(['{', ' '])
                .next()
                .is_some_and(|n| n.ends_with("_created"))),
            "no OpenMetrics-only samples: {text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
    }

    /// Every family of [`FAMILIES`] is registered and, once it has a series, says
    /// what it is (HELP, TYPE) under the name its samples carry.
    #[test]
    fn every_family_has_help_and_type() {
        let m = Metrics::default();
        m.request(kind::TRACKING, 404, "c", 0.001);
        m.origin_fetch("c", true, 0.01);
        m.origin_error("c", "timeout");
        m.origin_stale_served("c");
        m.origin_cache("c", true);
        m.ads_call("c");
        m.ads_request("c", "ok", 0.02);
        m.ads_decision("c", "ok", 0.05);
        m.ad_decision_failed("c", "empty");
        m.decision_lookup("c", "made");
        m.ads_filled("c", 2);
        m.ads_skipped("c", "NEW_CREATIVE", 1);
        m.avail("c", 30.0, 30.0);
        m.beacon("c", "impression", true);
        m.beacon("c", "impression", false);
        m.session_created("c");
        m.session_store("snapshot", 0.0001);
        m.transcode_job("started", None);
        m.transcode_job("succeeded", Some(3.0));
        let text = m.render(Some(1), 0);
        for name in FAMILIES {
            assert!(
                text.contains(&format!("# HELP {name} ")),
                "{name} has no HELP: {text}"
            );
            assert!(
                text.contains(&format!("# TYPE {name} ")),
                "{name} has no TYPE"
            );
            assert!(
                text.lines()
                    .any(|l| !l.starts_with('#') && l.starts_with(name)),
                "{name} has no sample"
            );
        }
        let families = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        assert_eq!(families, FAMILIES.len(), "FAMILIES lists them all: {text}");
        assert_eq!(
            value(&text, "splicepoint_transcode_queue_depth"),
            Some(0.0),
            "a finished job leaves the queue"
        );
    }

    #[test]
    fn store_errors_never_go_back() {
        let m = Metrics::default();
        m.render(None, 5);
        let text = m.render(None, 3);
        assert_eq!(
            value(&text, "splicepoint_session_store_errors_total"),
            Some(5.0)
        );
    }
}
