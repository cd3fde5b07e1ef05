//! The end of a run: the JSON report (`--report`) and a self-contained HTML page
//! with SVG charts of sessions, requests per second and latency over time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::metrics::ServerMetrics;
use crate::stats::{Latency, Sample, Totals, Violation};
use crate::Options;

/// Sessions of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Sessions {
    /// `--sessions`.
    pub target: u64,
    /// Sessions that started.
    pub started: u64,
    /// Sessions that could not start.
    pub failed: u64,
    /// Most sessions running at once.
    pub peak: u64,
}

/// The JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `--target`.
    pub target: String,
    /// `--config`.
    pub config: String,
    /// `--path`.
    pub path: String,
    /// `hls` or `dash`.
    pub protocol: &'static str,
    /// Most sessions running at once.
    pub sessions: u64,
    /// Sessions in detail.
    pub session_counts: Sessions,
    /// Seconds from the first session to the end.
    pub duration_secs: f64,
    /// Requests made.
    pub requests: u64,
    /// Requests by kind.
    pub requests_by_kind: BTreeMap<String, u64>,
    /// Errors.
    pub errors: u64,
    /// Errors by kind and cause.
    pub errors_by_cause: BTreeMap<String, u64>,
    /// Errors / requests.
    pub error_rate: f64,
    /// Responses that broke a continuity rule.
    pub continuity_violations: u64,
    /// The first violations, with both responses.
    pub violations: Vec<Violation>,
    /// Latency percentiles per request kind (and `all`), milliseconds.
    pub latency_ms: BTreeMap<String, Latency>,
    /// Requests per second over the run.
    pub rps: f64,
    /// Ad segments fetched through `/v1/segment` (server-side reporting).
    pub ad_segments: u64,
    /// The server's `/metrics` before, after, and the difference.
    pub server_metrics: ServerMetrics,
    /// Highest summed resident memory of `--server-pid` processes, KiB.
    pub server_rss_max_kib: Option<u64>,
    /// The hostile mix's outcomes (`--hostile-rps`, `--hostile-slow`), `kind:outcome`
    /// → count; not in `requests` or `errors`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub hostile: BTreeMap<String, u64>,
    /// That memory divided by the peak sessions, KiB.
    pub server_rss_per_session_kib: Option<f64>,
    /// One sample per second.
    pub timeline: Vec<Sample>,
}

impl Report {
    /// Assemble the report of a finished run.
    pub fn new(
        opts: &Options,
        totals: Totals,
        sessions: Sessions,
        elapsed: Duration,
        server_metrics: ServerMetrics,
        timeline: Vec<Sample>,
    ) -> Self {
        let secs = elapsed.as_secs_f64().max(1e-3);
        let rss_max = timeline.iter().filter_map(|s| s.server_rss_kib).max();
        Self {
            target: opts.target.to_string(),
            config: opts.config.clone(),
            path: opts.path.clone(),
            protocol: if opts.is_dash() { "dash" } else { "hls" },
            sessions: sessions.peak,
            duration_secs: secs,
            requests: totals.requests,
            requests_by_kind: totals.requests_by_kind,
            errors: totals.errors,
            errors_by_cause: totals.errors_by_cause,
            error_rate: if totals.requests == 0 {
                0.0
            } else {
                totals.errors as f64 / totals.requests as f64
            },
            continuity_violations: totals.continuity_violations,
            violations: totals.violations,
            latency_ms: totals.latency_ms,
            rps: totals.requests as f64 / secs,
            ad_segments: totals.ad_segments,
            server_metrics,
            server_rss_max_kib: rss_max,
            server_rss_per_session_kib: rss_max
                .filter(|_| sessions.peak > 0)
                .map(|k| k as f64 / sessions.peak as f64),
            session_counts: sessions,
            hostile: BTreeMap::new(),
            timeline,
        }
    }

    /// One line for the terminal.
    pub fn summary(&self) -> String {
        let all = self.latency_ms.get("all");
        let hostile: u64 = self.hostile.values().sum();
        let hostile = if hostile == 0 {
            String::new()
        } else {
            format!(" hostile={hostile}")
        };
        format!(
            "sessions={} requests={} rps={:.0} errors={} continuity_violations={} p50={:.1}ms p99={:.1}ms max={:.1}ms{}",
            self.sessions,
            self.requests,
            self.rps,
            self.errors,
            self.continuity_violations,
            all.map_or(0.0, |l| l.p50),
            all.map_or(0.0, |l| l.p99),
            all.map_or(0.0, |l| l.max),
            hostile,
        )
    }

    /// A self-contained HTML page: sessions, rps and latency over time.
    pub fn chart_html(&self) -> String {
        let t: Vec<f64> = self.timeline.iter().map(|s| s.t).collect();
        let col = |f: fn(&Sample) -> f64| -> Vec<f64> { self.timeline.iter().map(f).collect() };
        let mut html = String::new();
        let _ = write!(
            html,
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>splicepoint loadtest</title>\
             <style>body{{font:14px sans-serif;margin:2em}}svg{{display:block;margin:1em 0}}</style></head><body>\n\
             <h1>splicepoint loadtest</h1>\n<p>{}</p>\n<p>{} {} {}</p>\n",
            escape(&self.summary()),
            escape(&self.target),
            escape(&self.config),
            escape(&self.path),
        );
        html.push_str(&svg_chart(
            "sessions",
            &t,
            &[("sessions", "#555", col(|s| s.sessions as f64))],
        ));
        html.push_str(&svg_chart(
            "requests per second",
            &t,
            &[
                ("rps", "#1f77b4", col(|s| s.rps)),
                ("errors/s", "#d62728", col(|s| s.errors as f64)),
            ],
        ));
        html.push_str(&svg_chart(
            "latency, ms (all requests)",
            &t,
            &[
                ("p50", "#2ca02c", col(|s| s.p50_ms)),
                ("p99", "#ff7f0e", col(|s| s.p99_ms)),
            ],
        ));
        html.push_str("</body></html>\n");
        html
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A line chart: x = seconds, one polyline per series, a y axis from 0 to the
/// largest value.
fn svg_chart(title: &str, t: &[f64], series: &[(&str, &str, Vec<f64>)]) -> String {
    const W: f64 = 900.0;
    const H: f64 = 240.0;
    const PAD: f64 = 50.0;
    let tmax = t.iter().copied().fold(1.0_f64, f64::max);
    let ymax = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let x = |v: f64| PAD + v / tmax * (W - 2.0 * PAD);
    let y = |v: f64| H - PAD + -(v / ymax) * (H - 2.0 * PAD);
    let mut s = String::new();
    let _ = write!(
        s,
        "<h2>{}</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\">\n\
         <line x1=\"{PAD}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#999\"/>\
         <line x1=\"{PAD}\" y1=\"{PAD}\" x2=\"{PAD}\" y2=\"{b}\" stroke=\"#999\"/>\n\
         <text x=\"{PAD}\" y=\"{ty}\" font-size=\"11\">0 s</text>\
         <text x=\"{r}\" y=\"{ty}\" font-size=\"11\" text-anchor=\"end\">{tmax:.0} s</text>\
         <text x=\"{lx}\" y=\"{b}\" font-size=\"11\" text-anchor=\"end\">0</text>\
         <text x=\"{lx}\" y=\"{PAD}\" font-size=\"11\" text-anchor=\"end\">{ymax:.1}</text>\n",
        escape(title),
        b = H - PAD,
        r = W - PAD,
        ty = H - PAD + 16.0,
        lx = PAD - 4.0,
    );
    for (i, (name, color, values)) in series.iter().enumerate() {
        let points: Vec<String> = t
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite())
            .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{color}\">{}</text>",
            points.join(" "),
            W - PAD - 120.0,
            PAD - 20.0 + 14.0 * i as f64,
            escape(name),
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_draws_each_series() {
        let svg = svg_chart(
            "x<y",
            &[1.0, 2.0, 3.0],
            &[
                ("a", "#000", vec![0.0, 5.0, 10.0]),
                ("b", "#111", vec![1.0, 1.0, 1.0]),
            ],
        );
        assert!(svg.contains("<h2>x&lt;y</h2>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        // The largest value is drawn at the top of the plot area, zero at the bottom.
        assert!(svg.contains("850.0,50.0"), "{svg}");
        assert!(svg.contains("316.7,190.0"), "{svg}");
    }
}
