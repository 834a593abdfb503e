//! `tmf688-bench`: measures the event hub and, in the same run, a bare baseline for
//! each figure, and reports their ratio (absolute numbers drift on shared machines;
//! ratios hold).
//!
//! Run with:
//!
//! ```sh
//! cargo run --release --bin tmf688-bench -- --quick            # < 2 minutes (CI runs it in debug, as a smoke test)
//! cargo run --release --bin tmf688-bench -- --json bench.json  # full run
//! ```
//!
//! Core split (same for every scenario and its baseline): the server under test runs
//! on its own OS thread with a single-threaded tokio runtime; the load generator runs
//! on another with a single-threaded runtime. On a 2-core machine that is one core each.

mod common;
mod delivery;
mod harness;
mod hostile;
mod load;
mod population;
mod postgres;
mod report;
mod retention;
mod scale;
mod scenarios;
mod server;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "tmf688-bench",
    about = "Event hub benchmarks against same-run baselines"
)]
struct Cli {
    /// Short warm-up and measurement (CI smoke test; under 2 minutes).
    #[arg(long)]
    quick: bool,
    /// Measurement time per run, in seconds (default 10, quick 2).
    #[arg(long)]
    seconds: Option<u64>,
    /// Concurrent requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Write the results as JSON to this file too.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Only run scenarios whose name contains this text.
    #[arg(long)]
    only: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let measure = Duration::from_secs(cli.seconds.unwrap_or(if cli.quick { 2 } else { 10 }));
    let settings = common::Settings {
        warmup: measure / 4,
        measure,
        concurrency: cli.concurrency,
        quick: cli.quick,
    };
    let mut results = Vec::new();
    for scenario in scenarios::ALL {
        if cli
            .only
            .as_deref()
            .is_some_and(|only| !scenario.name.contains(only))
        {
            continue;
        }
        eprintln!("▶ {}", scenario.name);
        results.push((scenario.run)(&settings)?);
    }
    for scenario in scale::ALL.iter().chain(population::ALL) {
        if cli
            .only
            .as_deref()
            .is_some_and(|only| !scenario.name.contains(only))
        {
            continue;
        }
        eprintln!("▶ {}", scenario.name);
        results.extend((scenario.run)(&settings)?);
    }
    report::print_table(&results);
    if let Some(path) = cli.json {
        report::write_json(&path, &results, &settings)?;
        eprintln!("results written to {}", path.display());
    }
    Ok(())
}
