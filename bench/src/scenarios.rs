//! The scenarios. Each returns its figure, the baseline measured in the same run, and
//! the ratio against the target. [`ALL`] lists them in run order; the ones
//! that need the delivery engine are in [`crate::delivery`], the PostgreSQL ones in
//! [`crate::postgres`] (durable ingest, which has two rows, is in [`crate::scale::ALL`]) and [`crate::retention`], and the rest (memory, in-memory ingest, subscriber cost,
//! regeneration) are here.

use std::sync::Arc;
use std::time::Instant;

use tmf688_runtime::store::{HubStart, NewEvent, NewHub};
use tmf688_runtime::{Hub688, HubConfig, MemoryStore, Store, app};

use crate::common::{Outcome, SAMPLE_EVENT, Settings, TOPIC, ratio, rss_bytes};
use crate::load::{Bodies, post_for};
use crate::server;

/// A named scenario.
pub struct Scenario {
    /// Name.
    pub name: &'static str,
    /// Runs it.
    pub run: fn(&Settings) -> anyhow::Result<Outcome>,
}

/// Every scenario, in run order (memory first: its RSS reading wants a fresh heap; the
/// idle hubs' next, on the first server thread, whose allocator arena is fresh).
pub const ALL: &[Scenario] = &[
    Scenario {
        name: "memory/in-memory store",
        run: memory,
    },
    Scenario {
        name: "memory per idle hub/in-memory",
        run: crate::population::idle_hub_memory,
    },
    Scenario {
        name: "ingest/in-memory",
        run: ingest_memory,
    },
    Scenario {
        name: "subscriber cost/in-memory",
        run: subscriber_cost,
    },
    Scenario {
        name: "trimmer/postgres",
        run: crate::retention::trimmer,
    },
    Scenario {
        name: "ingest while trimming/postgres",
        run: crate::retention::ingest_while_trimming,
    },
    Scenario {
        name: "fan-out/1 hub",
        run: |s| crate::delivery::fan_out(s, 1),
    },
    Scenario {
        name: "fan-out/10 hubs",
        run: |s| crate::delivery::fan_out(s, 10),
    },
    Scenario {
        name: "fan-out/100 hubs",
        run: |s| crate::delivery::fan_out(s, 100),
    },
    Scenario {
        name: "fan-out/1000 hubs",
        run: |s| crate::delivery::fan_out(s, 1000),
    },
    Scenario {
        name: "latency/in-memory",
        run: crate::delivery::latency,
    },
    Scenario {
        name: "latency/postgres",
        run: crate::postgres::latency,
    },
    Scenario {
        name: "hostile/blackholes",
        run: crate::hostile::blackholes,
    },
    Scenario {
        name: "regeneration/spec+profile",
        run: regeneration_project,
    },
    Scenario {
        name: "regeneration/largest corpus",
        run: regeneration_corpus,
    },
];

async fn memory_hub() -> anyhow::Result<Arc<Hub688<MemoryStore>>> {
    Ok(Arc::new(
        Hub688::new(Arc::new(MemoryStore::new()), HubConfig::default()).await?,
    ))
}

fn hub_event_url(address: std::net::SocketAddr) -> String {
    format!("http://{address}/tmf-api/event/v4/topic/{TOPIC}/event")
}

fn ms(histogram: &hdrhistogram::Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

fn ingest_memory(settings: &Settings) -> anyhow::Result<Outcome> {
    let hub = server::start(|| async { Ok(app(memory_hub().await?)) })?;
    let ours = post_for(
        &hub_event_url(hub.address),
        &Bodies::new(SAMPLE_EVENT, "hub"),
        settings.concurrency,
        settings.warmup,
        settings.measure,
    )?;
    drop(hub);
    let bare = server::start(|| async { Ok(server::bare_axum()) })?;
    let baseline = post_for(
        &format!("http://{}/topic/{TOPIC}/event", bare.address),
        &Bodies::new(SAMPLE_EVENT, "bare"),
        settings.concurrency,
        settings.warmup,
        settings.measure,
    )?;
    anyhow::ensure!(
        ours.failures == 0,
        "{} ingest requests failed",
        ours.failures
    );
    let ratio = ratio(ours.rate, baseline.rate);
    Ok(Outcome {
        scenario: "ingest/in-memory".into(),
        metric: "events/s".into(),
        value: ours.rate,
        baseline: Some(baseline.rate),
        baseline_name: "bare axum: parse to serde_json::Value, push to Vec<Mutex>, 201 + body"
            .into(),
        ratio,
        target: "≥ 0.6 × baseline".into(),
        met: ratio.map(|r| r >= 0.6),
        notes: format!(
            "latency p50/p99: hub {:.2}/{:.2} ms, baseline {:.2}/{:.2} ms",
            ms(&ours.latency, 0.5),
            ms(&ours.latency, 0.99),
            ms(&baseline.latency, 0.5),
            ms(&baseline.latency, 0.99)
        ),
    })
}

fn subscriber_cost(settings: &Settings) -> anyhow::Result<Outcome> {
    let hubs = if settings.quick { 200 } else { 1000 };
    let measure_with = |register: usize| -> anyhow::Result<f64> {
        let server = server::start(move || async move {
            let hub = memory_hub().await?;
            for n in 0..register {
                // Hubs whose query matches none of the events: what is measured is the
                // cost of being registered, not of delivering.
                let callback = format!("http://127.0.0.1:9/sink/{n}");
                let query = "eventType=never-sent".to_owned();
                let body = serde_json::json!({ "callback": callback, "query": query });
                hub.store()
                    .create_hub(NewHub {
                        topic_id: TOPIC.into(),
                        callback,
                        query: Some(query),
                        body: bytes::Bytes::from(body.to_string()),
                        owner: None,
                        base_path: None,
                        start: HubStart::default(),
                    })
                    .await?;
            }
            Ok(app(hub))
        })?;
        let measured = post_for(
            &hub_event_url(server.address),
            &Bodies::new(SAMPLE_EVENT, "sub"),
            settings.concurrency,
            settings.warmup,
            settings.measure,
        )?;
        Ok(measured.rate)
    };
    let none = measure_with(0)?;
    let many = measure_with(hubs)?;
    let ratio = ratio(many, none);
    Ok(Outcome {
        scenario: "subscriber cost/in-memory".into(),
        metric: format!("events/s, {hubs} hubs"),
        value: many,
        baseline: Some(none),
        baseline_name: "the same ingest with no hub registered".into(),
        ratio,
        target: "≥ 0.9 × no hubs".into(),
        met: ratio.map(|r| r >= 0.9),
        notes: String::new(),
    })
}

fn median_generation_seconds(settings: &tmfgen::Settings, runs: usize) -> anyhow::Result<f64> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        tmfgen::generate(settings)?;
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn repository_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn regeneration_project(settings: &Settings) -> anyhow::Result<Outcome> {
    let root = repository_root();
    let mut spec = tmfgen::Settings::new(root.join("spec/tmf688.yaml"));
    spec.with_profile(root.join("spec/psi-profile.yaml"));
    let milliseconds =
        1000.0 * median_generation_seconds(&spec, if settings.quick { 3 } else { 9 })?;
    Ok(Outcome {
        scenario: "regeneration/spec+profile".into(),
        metric: "milliseconds (median)".into(),
        value: milliseconds,
        baseline: None,
        baseline_name: String::new(),
        ratio: None,
        // Issue 15's target (the README's table row): the rustfmt processes included.
        target: "< 100 ms".into(),
        met: Some(milliseconds < 100.0),
        notes: String::new(),
    })
}

fn regeneration_corpus(settings: &Settings) -> anyhow::Result<Outcome> {
    let largest = repository_root()
        .join("../shared/spec/corpus/TMF620-Product_Catalog_Management-v5.0.0.oas.yaml");
    if !largest.exists() {
        return Ok(Outcome {
            scenario: "regeneration/largest corpus".into(),
            metric: "seconds (TMF620 v5)".into(),
            value: f64::NAN,
            baseline: None,
            baseline_name: String::new(),
            ratio: None,
            target: "(no target; reported)".into(),
            met: None,
            notes: format!(
                "SKIPPED: {} is absent (../shared not beside the repository)",
                largest.display()
            ),
        });
    }
    let seconds = median_generation_seconds(
        &tmfgen::Settings::new(largest),
        if settings.quick { 1 } else { 5 },
    )?;
    Ok(Outcome {
        scenario: "regeneration/largest corpus".into(),
        metric: "seconds (TMF620 v5)".into(),
        value: seconds,
        baseline: None,
        baseline_name: String::new(),
        ratio: None,
        target: "(no target; reported)".into(),
        met: None,
        notes: String::new(),
    })
}

fn memory(settings: &Settings) -> anyhow::Result<Outcome> {
    let count = if settings.quick { 20_000 } else { 100_000 };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let bodies = Bodies::new(SAMPLE_EVENT, "mem");
    let (grown, json_bytes) = runtime.block_on(async {
        // The hub creates the profile's topics; events are then appended to its store.
        let hub = memory_hub().await?;
        let store = hub.store();
        let texts: Vec<String> = (0..count).map(|_| bodies.next()).collect();
        let json_bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();
        let before = rss_bytes()?;
        let mut batch = Vec::with_capacity(1000);
        for text in texts {
            let value: serde_json::Value = serde_json::from_str(&text)?;
            let event_id = value["eventId"].as_str().unwrap_or_default().to_owned();
            batch.push(NewEvent {
                event_id,
                publisher: String::new(),
                body: bytes::Bytes::from(serde_json::to_vec(&value)?),
            });
            if batch.len() == 1000 {
                store
                    .append_events(TOPIC, std::mem::take(&mut batch))
                    .await?;
            }
        }
        store.append_events(TOPIC, batch).await?;
        let after = rss_bytes()?;
        anyhow::Ok((after.saturating_sub(before), json_bytes))
    })?;
    let per_event = grown as f64 / count as f64;
    let json_per_event = json_bytes as f64 / count as f64;
    let ratio = ratio(per_event, json_per_event);
    Ok(Outcome {
        scenario: "memory/in-memory store".into(),
        metric: format!("bytes/event, {count} events"),
        value: per_event,
        baseline: Some(json_per_event),
        baseline_name: "the event's JSON size".into(),
        ratio,
        target: "≤ 2 × JSON size".into(),
        met: ratio.map(|r| r <= 2.0),
        notes: String::new(),
    })
}
