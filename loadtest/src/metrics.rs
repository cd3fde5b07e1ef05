//! The server's own figures: `splicepoint_*` series scraped from `/metrics` before
//! and after a run (origin fetches, ADS calls, beacons, ...), and the resident
//! memory of server processes read from `/proc`.

use std::collections::BTreeMap;

use serde::Serialize;
use url::Url;

/// Series name with labels → value, summed over the scraped instances.
pub type Series = BTreeMap<String, f64>;

/// Parse the Prometheus text format, keeping the `splicepoint_*` series.
pub fn parse(text: &str) -> Series {
    let mut out = Series::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || !line.starts_with("splicepoint_") {
            continue;
        }
        // `name{labels} value [timestamp]`: the value follows the series.
        let series_end = match line.find('}') {
            Some(i) => i + 1,
            None => line.find(' ').unwrap_or(line.len()),
        };
        let (series, rest) = line.split_at(series_end);
        if let Some(v) = rest
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<f64>().ok())
        {
            *out.entry(series.to_string()).or_default() += v;
        }
    }
    out
}

/// Scrape every URL and sum; an instance that does not answer adds nothing (and
/// is named in the log line).
pub async fn scrape(http: &reqwest::Client, urls: &[Url]) -> Series {
    let mut total = Series::new();
    for url in urls {
        let text = match http.get(url.clone()).send().await {
            Ok(r) if r.status().is_success() => r.text().await.ok(),
            _ => None,
        };
        match text {
            Some(t) => {
                for (k, v) in parse(&t) {
                    *total.entry(k).or_default() += v;
                }
            }
            None => eprintln!("loadtest: could not scrape {url}"),
        }
    }
    total
}

/// The server's counters before and after, and what the run added.
#[derive(Debug, Clone, Serialize)]
pub struct ServerMetrics {
    /// Before the first session.
    pub before: Series,
    /// After the last viewer stopped.
    pub after: Series,
    /// `after - before` for every series in `after`.
    pub delta: Series,
}

impl ServerMetrics {
    /// Before, after and the difference.
    pub fn new(before: Series, after: Series) -> Self {
        let delta = after
            .iter()
            .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
            .collect();
        Self {
            before,
            after,
            delta,
        }
    }
}

/// Summed `VmRSS` of these processes, KiB; `None` when no pid is given or none
/// can be read.
pub fn rss_kib(pids: &[u32]) -> Option<u64> {
    let mut total = None;
    for pid in pids {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        if let Some(kib) = vm_rss(&status) {
            *total.get_or_insert(0) += kib;
        }
    }
    total
}

fn vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text() {
        let m = parse(
            "# TYPE splicepoint_ads_calls_total counter\nsplicepoint_ads_calls_total 12\n\
             splicepoint_ads_skipped_total{reason=\"NEW_CREATIVE\"} 2\nother_total 5\n\
             splicepoint_origin_fetches_total 3 1700000000\n",
        );
        assert_eq!(m["splicepoint_ads_calls_total"], 12.0);
        assert_eq!(
            m["splicepoint_ads_skipped_total{reason=\"NEW_CREATIVE\"}"],
            2.0
        );
        assert_eq!(m["splicepoint_origin_fetches_total"], 3.0);
        assert_eq!(m.len(), 3);
        let d = ServerMetrics::new(m.clone(), {
            let mut a = m;
            a.insert("splicepoint_ads_calls_total".into(), 20.0);
            a
        });
        assert_eq!(d.delta["splicepoint_ads_calls_total"], 8.0);
        assert_eq!(d.delta["splicepoint_origin_fetches_total"], 0.0);
    }

    #[test]
    fn rss_of_this_process() {
        assert_eq!(vm_rss("Name:\tx\nVmRSS:\t  1234 kB\n"), Some(1234));
        assert!(rss_kib(&[std::process::id()]).is_some_and(|k| k > 0));
        assert_eq!(rss_kib(&[]), None);
    }
}
