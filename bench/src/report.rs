//! The results table and its JSON form.

use std::path::Path;

use serde::Serialize;

use crate::common::{Outcome, Settings};

/// Prints the table to stdout.
pub fn print_table(results: &[Outcome]) {
    println!(
        "{:<34} {:<22} {:>12} {:>12} {:>7}  {:<28} met",
        "scenario", "metric", "value", "baseline", "ratio", "target"
    );
    for r in results {
        let baseline = r.baseline.map_or("-".to_owned(), |b| format!("{b:.1}"));
        let ratio = r.ratio.map_or("-".to_owned(), |x| format!("{x:.2}"));
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        println!(
            "{:<34} {:<22} {:>12.1} {:>12} {:>7}  {:<28} {met}",
            r.scenario, r.metric, r.value, baseline, ratio, r.target
        );
    }
    for r in results {
        if !r.baseline_name.is_empty() {
            println!("  {}: baseline = {}", r.scenario, r.baseline_name);
        }
        if !r.notes.is_empty() {
            println!("  {}: {}", r.scenario, r.notes);
        }
    }
}

#[derive(Serialize)]
struct Report<'a> {
    settings: SettingsView,
    machine: String,
    results: &'a [Outcome],
}

#[derive(Serialize)]
struct SettingsView {
    warmup_seconds: f64,
    measure_seconds: f64,
    concurrency: usize,
    quick: bool,
    core_split: &'static str,
}

/// Writes the results as JSON.
pub fn write_json(path: &Path, results: &[Outcome], settings: &Settings) -> anyhow::Result<()> {
    let machine = format!(
        "{} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|m| m.trim().to_owned())
            })
            .unwrap_or_default()
    );
    let report = Report {
        settings: SettingsView {
            warmup_seconds: settings.warmup.as_secs_f64(),
            measure_seconds: settings.measure.as_secs_f64(),
            concurrency: settings.concurrency,
            quick: settings.quick,
            core_split: "server: 1 thread (current-thread runtime); load generator: 1 thread",
        },
        machine,
        results,
    };
    std::fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    Ok(())
}
