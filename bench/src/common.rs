//! What every scenario and the report share: the run settings, the sample event and
//! its topic, the result line ([`Outcome`]), the ratio of a figure to its baseline and
//! the process's resident set.

use std::time::Duration;

use serde::Serialize;

/// The user guide's Event sample (an alarm, 1.4 KB): the body of every ingest request.
pub const SAMPLE_EVENT: &str = include_str!("../../tests/fixtures/guide/event.json");
pub const TOPIC: &str = "alarm";

/// How long and how hard.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Warm-up before each measurement.
    pub warmup: Duration,
    /// Measurement time.
    pub measure: Duration,
    /// Requests in flight.
    pub concurrency: usize,
    /// Smoke-test mode.
    pub quick: bool,
}

/// One line of the table: a figure, its same-run baseline, their ratio and the target.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Scenario name.
    pub scenario: String,
    /// What is measured and its unit.
    pub metric: String,
    /// The figure of our implementation.
    pub value: f64,
    /// The baseline's figure, when the scenario has one.
    pub baseline: Option<f64>,
    /// What the baseline is.
    pub baseline_name: String,
    /// `value / baseline` (or the figure itself against an absolute target).
    pub ratio: Option<f64>,
    /// The target, in words.
    pub target: String,
    /// Whether the target is met.
    pub met: Option<bool>,
    /// Anything else worth reading (e.g. latency percentiles).
    pub notes: String,
}

pub fn ratio(value: f64, baseline: f64) -> Option<f64> {
    (baseline > 0.0).then(|| value / baseline)
}

/// Resident set size of this process, bytes (Linux `/proc/self/statm`).
pub fn rss_bytes() -> anyhow::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm.split_whitespace().nth(1).unwrap_or("0").parse()?;
    Ok(pages * 4096)
}
