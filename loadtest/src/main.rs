//! `splicepoint-loadtest`: parse the options, run, write the report and chart,
//! print the summary line.

use std::io::Write as _;

use anyhow::Context as _;
use clap::Parser as _;
use splicepoint_loadtest::{run, Options};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let opts = Options::parse();
    let report = run(opts.clone()).await?;
    if let Some(path) = &opts.report {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("write {}", path.display()))?;
        let chart = opts
            .chart
            .clone()
            .unwrap_or_else(|| path.with_extension("html"));
        std::fs::write(&chart, report.chart_html())
            .with_context(|| format!("write {}", chart.display()))?;
    } else if let Some(chart) = &opts.chart {
        std::fs::write(chart, report.chart_html())
            .with_context(|| format!("write {}", chart.display()))?;
    }
    writeln!(std::io::stdout().lock(), "{}", report.summary())?;
    if opts.fail_on_violations && report.continuity_violations > 0 {
        anyhow::bail!(
            "{} continuity violations (the first are in the report)",
            report.continuity_violations
        );
    }
    Ok(())
}
