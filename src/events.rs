//! Telemetry: counters with fixed names, exposed in Prometheus text on `/metrics`.
//!
//! No labels carry session ids or URLs (they go in logs).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

/// Origin manifest fetches (cache misses).
pub const ORIGIN_FETCHES: &str = "splicepoint_origin_fetches_total";
/// Origin fetch failures, by reason.
pub const ORIGIN_ERRORS: &str = "splicepoint_origin_errors_total";
/// Stale manifests served because the origin failed.
pub const ORIGIN_STALE_SERVED: &str = "splicepoint_origin_stale_served_total";
/// ADS calls.
pub const ADS_CALLS: &str = "splicepoint_ads_calls_total";
/// Ad decisions that failed, by reason (timeout, error, empty, malformed...).
pub const AD_DECISION_FAILED: &str = "splicepoint_ad_decision_failed_total";
/// Ads skipped, by reason (NEW_CREATIVE, NO_VARIANT_MATCH, DURATION_EXCEEDED...).
pub const ADS_SKIPPED: &str = "splicepoint_ads_skipped_total";
/// Ads placed in breaks.
pub const ADS_FILLED: &str = "splicepoint_ads_filled_total";
/// VAST beacons fired (server-side reporting), by event.
pub const BEACONS_FIRED: &str = "splicepoint_beacons_fired_total";
/// Sessions created.
pub const SESSIONS_CREATED: &str = "splicepoint_sessions_created_total";
/// Manifests served, by kind.
pub const MANIFESTS_SERVED: &str = "splicepoint_manifests_served_total";

/// A set of counters keyed by (name, label value). Counting takes a shared read
/// lock and two lookups by reference: no allocation and no exclusive lock once
/// a counter exists.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: RwLock<BTreeMap<&'static str, BTreeMap<String, AtomicU64>>>,
}

impl Metrics {
    /// Add one to counter `name` with label `reason` (empty: no label).
    pub fn incr(&self, name: &'static str, reason: &str) {
        self.add(name, reason, 1);
    }

    /// Add `n` to counter `name` with label `reason` (nothing, not even a zero
    /// counter, when `n` is 0).
    pub fn add(&self, name: &'static str, reason: &str, n: usize) {
        if n == 0 {
            return;
        }
        let n = n as u64;
        {
            let map = self.counters.read().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = map.get(name).and_then(|m| m.get(reason)) {
                c.fetch_add(n, Ordering::Relaxed);
                return;
            }
        }
        let mut map = self.counters.write().unwrap_or_else(|e| e.into_inner());
        map.entry(name)
            .or_default()
            .entry(reason.to_string())
            .or_default()
            .fetch_add(n, Ordering::Relaxed);
    }

    /// Current value.
    pub fn get(&self, name: &'static str, reason: &str) -> u64 {
        let map = self.counters.read().unwrap_or_else(|e| e.into_inner());
        map.get(name)
            .and_then(|m| m.get(reason))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let map = self.counters.read().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        for (name, counters) in map.iter() {
            let _ = writeln!(out, "# TYPE {name} counter");
            for (reason, v) in counters {
                let v = v.load(Ordering::Relaxed);
                if reason.is_empty() {
                    let _ = writeln!(out, "{name} {v}");
                } else {
                    let _ = writeln!(out, "{name}{{reason=\"{reason}\"}} {v}");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renders() {
        let m = Metrics::default();
        m.incr(ADS_SKIPPED, "NEW_CREATIVE");
        m.incr(ADS_SKIPPED, "NEW_CREATIVE");
        m.incr(SESSIONS_CREATED, "");
        assert_eq!(m.get(ADS_SKIPPED, "NEW_CREATIVE"), 2);
        let text = m.render();
        assert!(text.contains("splicepoint_ads_skipped_total{reason=\"NEW_CREATIVE\"} 2\n"));
        assert!(text.contains("splicepoint_sessions_created_total 1\n"));
    }
}
