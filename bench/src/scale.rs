//! Scale figures: whether a request's cost grows with the log. The same measurements
//! on a topic holding 1,000 events (the baseline) and one holding 1,000,000 (100,000
//! with `--quick`), on the in-memory store and on PostgreSQL: the latency of a list
//! page (unfiltered, by `eventId`, by `eventType`; median of sequential requests) and
//! the rate of a replay (an operator's `replay?from=1`, timed until the first 1,000
//! events reached a sink; the median of seven after one that warms up, the two logs'
//! hubs running side by side and their replays alternating, with this process's CPU
//! time per delivery beside the rates). Ratio: small-log latency / large-log latency, and large-log
//! rate / small-log rate — 1.0 means no growth; target ≥ 0.8.

use std::time::{Duration, Instant};

use tmf688_runtime::store::{NewEvent, PgStore};
use tmf688_runtime::{MemoryStore, Store};

use crate::common::{Outcome, SAMPLE_EVENT, Settings, TOPIC, ratio};
use crate::harness::{Sink, serve_with_engine};
use crate::load::Bodies;
use crate::server;

/// A scenario with several rows.
pub struct Scale {
    /// Name.
    pub name: &'static str,
    /// Runs it.
    pub run: fn(&Settings) -> anyhow::Result<Vec<Outcome>>,
}

/// Every scenario with several rows, in run order: durable ingest (one row per
/// baseline), then the scale scenarios.
pub const ALL: &[Scale] = &[
    Scale {
        name: "durable ingest/postgres",
        run: crate::postgres::durable_ingest,
    },
    Scale {
        name: "scale/in-memory",
        run: |s| log_scale(s, false),
    },
    Scale {
        name: "scale/postgres",
        run: |s| log_scale(s, true),
    },
];

/// Events replayed (and the small log's size).
const SMALL: usize = 1_000;
/// The `eventType`s events cycle through.
const TYPES: [&str; 4] = [
    "AlarmCreateEvent",
    "AlarmChangeEvent",
    "AlarmClearEvent",
    "AlarmAckEvent",
];

/// What one log size measured: list latencies, then replays.
struct Figures {
    unfiltered_ms: f64,
    by_event_id_ms: f64,
    by_event_type_ms: f64,
    replays: Vec<Replayed>,
}

impl Figures {
    fn replay_per_s(&self) -> f64 {
        median(self.replays.iter().map(|r| r.rate).collect())
    }

    /// Median CPU time per delivery (µs), when measured.
    fn replay_cpu_us(&self) -> Option<f64> {
        let cpu: Option<Vec<f64>> = self.replays.iter().map(|r| r.cpu_us).collect();
        cpu.map(median)
    }

    fn replay_rates(&self) -> String {
        self.replays
            .iter()
            .map(|r| format!("{:.0}", r.rate))
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

fn log_scale(settings: &Settings, postgres: bool) -> anyhow::Result<Vec<Outcome>> {
    let large = if settings.quick { 100_000 } else { 1_000_000 };
    let store = if postgres { "postgres" } else { "in-memory" };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Both hubs run side by side and their replays alternate, so that what else the
    // machine runs meanwhile weighs on both alike (a shared machine's load changes
    // within seconds; measured one after the other, the ratio followed it).
    let small_hub = Served::start(&runtime, SMALL, postgres)?;
    let big_hub = Served::start(&runtime, large, postgres)?;
    let measured = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut small = small_hub.lists(settings, &client).await?;
        let mut big = big_hub.lists(settings, &client).await?;
        let small_id = small_hub.register(&client).await?;
        let big_id = big_hub.register(&client).await?;
        for n in 0..=REPLAYS {
            for (hub, id, figures) in [
                (&small_hub, &small_id, &mut small),
                (&big_hub, &big_id, &mut big),
            ] {
                let replayed = hub.replay(&client, id).await?;
                // The first of each warms up (connections, caches).
                if n > 0 {
                    figures.replays.push(replayed);
                }
                // Back to the head: a large log's pass would go on delivering while
                // the other hub's replay is timed.
                hub.park(&client, id).await?;
            }
        }
        anyhow::Ok((small, big))
    });
    for hub in [small_hub, big_hub] {
        hub.stop(&runtime)?;
    }
    let (small, big) = measured?;
    let row = |what: &str, value: f64, baseline: f64, latency: bool, notes: String| {
        let ratio = if latency {
            ratio(baseline, value)
        } else {
            ratio(value, baseline)
        };
        Outcome {
            scenario: format!("scale/{what}/{store}"),
            metric: if latency {
                format!("ms (median), {large} events")
            } else {
                format!("events/s, {large} events")
            },
            value,
            baseline: Some(baseline),
            baseline_name: format!("the same with {SMALL} events in the topic"),
            ratio,
            target: "≥ 0.8 (cost does not grow with the log)".into(),
            met: ratio.map(|r| r >= 0.8),
            notes,
        }
    };
    Ok(vec![
        row(
            "list unfiltered",
            big.unfiltered_ms,
            small.unfiltered_ms,
            true,
            String::new(),
        ),
        row(
            "list by eventId",
            big.by_event_id_ms,
            small.by_event_id_ms,
            true,
            String::new(),
        ),
        row(
            "list by eventType",
            big.by_event_type_ms,
            small.by_event_type_ms,
            true,
            String::new(),
        ),
        row(
            "replay",
            big.replay_per_s(),
            small.replay_per_s(),
            false,
            format!(
                "each replay (events/s, alternating with the other log's): {large} events \
                 {}; {SMALL} events {}. CPU time of this process per delivery (median): \
                 {large} events {}; {SMALL} events {}",
                big.replay_rates(),
                small.replay_rates(),
                micros(big.replay_cpu_us()),
                micros(small.replay_cpu_us()),
            ),
        ),
    ])
}

/// A hub over a log of `count` events with its engine and its sink, on their own
/// threads.
struct Served {
    count: usize,
    hub: server::Running,
    sink: Sink,
    sink_server: server::Running,
    database: Option<crate::postgres::Database>,
}

impl Served {
    fn start(
        runtime: &tokio::runtime::Runtime,
        count: usize,
        postgres: bool,
    ) -> anyhow::Result<Self> {
        let database = if postgres {
            Some(runtime.block_on(crate::postgres::Database::create(&format!("scale{count}")))?)
        } else {
            None
        };
        let url = database.as_ref().map(|d| d.url.clone());
        let hub = server::start(move || async move {
            match url {
                Some(url) => {
                    let store = PgStore::connect(&url, 8).await?;
                    fill(&store, count).await?;
                    // A long-running hub's table is vacuumed (hint bits set, statistics
                    // known); right after a bulk load, autovacuum would run during the
                    // measurement instead.
                    sqlx::query("VACUUM ANALYZE events")
                        .execute(store.pool())
                        .await?;
                    serve_with_engine(store).await
                }
                None => {
                    let store = MemoryStore::new();
                    fill(&store, count).await?;
                    serve_with_engine(store).await
                }
            }
        })?;
        let sink = Sink::new();
        let sink_server = {
            let router = sink.router(false);
            server::start(move || async move { Ok(router) })?
        };
        Ok(Self {
            count,
            hub,
            sink,
            sink_server,
            database,
        })
    }

    /// The list latencies (no replays yet).
    async fn lists(
        &self,
        settings: &Settings,
        client: &reqwest::Client,
    ) -> anyhow::Result<Figures> {
        let requests = if settings.quick { 50 } else { 300 };
        let base = format!(
            "http://{}/tmf-api/event/v4/topic/{TOPIC}/event",
            self.hub.address
        );
        let middle = self.count / 2;
        let unfiltered_ms = median_ms(client, &format!("{base}?limit=100"), requests, 100).await?;
        let by_event_id_ms = median_ms(
            client,
            &format!("{base}?eventId=scale-{middle}"),
            requests,
            1,
        )
        .await?;
        let by_event_type_ms = median_ms(
            client,
            &format!("{base}?eventType={}&limit=100", TYPES[1]),
            requests,
            100,
        )
        .await?;
        Ok(Figures {
            unfiltered_ms,
            by_event_id_ms,
            by_event_type_ms,
            replays: Vec::new(),
        })
    }

    /// Registers a hub calling back to the sink; its id.
    async fn register(&self, client: &reqwest::Client) -> anyhow::Result<String> {
        let response = client
            .post(format!(
                "http://{}/tmf-api/event/v4/topic/{TOPIC}/hub",
                self.hub.address
            ))
            .header("content-type", "application/json")
            .body(
                serde_json::json!({ "callback": format!("http://{}/sink/0", self.sink_server.address) })
                    .to_string(),
            )
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "hub: {}", response.status());
        Ok(
            serde_json::from_slice::<serde_json::Value>(&response.bytes().await?)?["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }

    /// Replays hub `id` from sequence 1, timed until [`SMALL`] more deliveries reached
    /// the sink.
    async fn replay(&self, client: &reqwest::Client, id: &str) -> anyhow::Result<Replayed> {
        let before = self
            .sink
            .received
            .load(std::sync::atomic::Ordering::Relaxed);
        let cpu_before = process_cpu_ns();
        let started = Instant::now();
        let response = client
            .post(format!(
                "http://{}/admin/hubs/{id}/replay?from=1",
                self.hub.address
            ))
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "replay: {}",
            response.status()
        );
        self.sink
            .wait_for(before + SMALL as u64, Duration::from_secs(120))
            .await?;
        let elapsed = started.elapsed();
        let cpu_us = cpu_before
            .zip(process_cpu_ns())
            .map(|(before, after)| after.saturating_sub(before) as f64 / 1000.0 / SMALL as f64);
        Ok(Replayed {
            rate: SMALL as f64 / elapsed.as_secs_f64(),
            cpu_us,
        })
    }

    /// Moves hub `id`'s cursor to the head (`replay?from=head+1`: nothing to re-send),
    /// ending a replay's pass.
    async fn park(&self, client: &reqwest::Client, id: &str) -> anyhow::Result<()> {
        let response = client
            .post(format!(
                "http://{}/admin/hubs/{id}/replay?from={}",
                self.hub.address,
                self.count + 1
            ))
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "park: {}",
            response.status()
        );
        Ok(())
    }

    /// Stops the hub and drops its database.
    fn stop(self, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
        drop(self.hub);
        if let Some(database) = self.database {
            runtime.block_on(database.drop_now())?;
        }
        Ok(())
    }
}

/// Appends `count` copies of the guide's alarm event (eventIds `scale-<n>`, the four
/// `eventType`s in turn) in batches.
async fn fill<S: Store>(store: &S, count: usize) -> anyhow::Result<()> {
    // The hub finds the profile's topic made already.
    store
        .create_topic(tmf688_runtime::store::NewTopic {
            id: Some(TOPIC.into()),
            name: TOPIC.into(),
            body: bytes::Bytes::from(format!(r#"{{"name":"{TOPIC}","@type":"Topic"}}"#)),
        })
        .await?;
    let template: serde_json::Value = serde_json::from_str(&Bodies::new(SAMPLE_EVENT, "t").next())?;
    let mut batch = Vec::with_capacity(2_000);
    for n in 0..count {
        let mut event = template.clone();
        event["eventId"] = format!("scale-{n}").into();
        event["eventType"] = TYPES[n % TYPES.len()].into();
        batch.push(NewEvent::anonymous(
            format!("scale-{n}"),
            bytes::Bytes::from(serde_json::to_vec(&event)?),
        ));
        if batch.len() == 2_000 {
            store
                .append_events(TOPIC, std::mem::take(&mut batch))
                .await?;
        }
    }
    if !batch.is_empty() {
        store.append_events(TOPIC, batch).await?;
    }
    Ok(())
}

/// The median latency of `requests` sequential GETs of `url`, each answering `expected`
/// events.
async fn median_ms(
    client: &reqwest::Client,
    url: &str,
    requests: usize,
    expected: usize,
) -> anyhow::Result<f64> {
    let mut times = Vec::with_capacity(requests);
    for _ in 0..requests + requests / 10 {
        let started = Instant::now();
        let response = client.get(url).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        let body: Vec<serde_json::Value> = serde_json::from_slice(&response.bytes().await?)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(body.len() == expected, "{url}: {} events", body.len());
    }
    // The first tenth warms up.
    let mut times = times.split_off(requests / 10);
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// Timed replays of each log (after one that warms up).
const REPLAYS: usize = 7;

/// One timed replay: the rate of its first [`SMALL`] deliveries (events/s), and this
/// process's CPU time per delivery meanwhile (µs; `None` without Linux `schedstat`).
/// The CPU time counts both hubs' threads (the other one idle), the sinks and the
/// client: it is meant to be compared between the two logs, not read as one hub's cost.
struct Replayed {
    rate: f64,
    cpu_us: Option<f64>,
}

/// The CPU time every thread of this process has run so far, in nanoseconds (Linux
/// `/proc/self/task/*/schedstat`, first field); `None` where that is not available.
fn process_cpu_ns() -> Option<u64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        // A thread that ended meanwhile is skipped.
        let Ok(text) = std::fs::read_to_string(task.ok()?.path().join("schedstat")) else {
            continue;
        };
        total += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn micros(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |us| format!("{us:.1} µs"))
}
