//! Retention on PostgreSQL (issue 14): the trimmer's throughput — events removed per
//! second by a retention pass (`POST /admin/retention/trim`: batches of 1,000 rows, one
//! short transaction each) against one bulk `DELETE` of as many rows in the same run —
//! and the ingest rate (`createEvent` over HTTP, as `durable ingest/postgres`) while a
//! pass runs, against the rate without one (target ≥ 0.8).
//!
//! The logs to trim are written straight into the database (`generate_series`, a small
//! event body): filling them through the API would take longer than everything else.
//! The pass for the ingest figure gets a log sized from the throughput just measured,
//! so that it lasts the whole measurement (checked, and said in the notes).
//! Both figures come from one run: [`trimmer`] measures and keeps the second for
//! [`ingest_while_trimming`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tmf688_runtime::delivery::retention::{Limit, RetentionConfig, TopicRetention};
use tmf688_runtime::delivery::{DeliveryConfig, DeliveryEngine};
use tmf688_runtime::store::{NewTopic, PgStore};
use tmf688_runtime::{Hub688, HubConfig, Store as _, app};

use crate::common::{Outcome, SAMPLE_EVENT, Settings, TOPIC, ratio};
use crate::load::{Bodies, post_for};
use crate::postgres::{Database, server_url};
use crate::server;

const TRIMMER: &str = "trimmer/postgres";
const INGEST: &str = "ingest while trimming/postgres";
/// The topic the trimmer empties (every event of it may go: `max_events = 1`).
const BULK: &str = "bulk";
/// The same rows for the bulk `DELETE` baseline (no retention).
const BASELINE: &str = "bulk-baseline";
/// The body of the events written straight into the logs (~190 bytes).
const SMALL_EVENT: &str = r#"{"eventId":"x","eventType":"AlarmCreateEvent","eventTime":"2026-01-01T00:00:00Z","domain":"ops","event":{"alarm":{"id":"a-1","state":"raised","perceivedSeverity":"minor"}}}"#;

/// The ingest figure, measured by [`trimmer`] for [`ingest_while_trimming`].
static KEPT: Mutex<Option<Outcome>> = Mutex::new(None);

fn skipped(scenario: &str, target: &str, reason: &str) -> Outcome {
    Outcome {
        scenario: scenario.into(),
        metric: "-".into(),
        value: f64::NAN,
        baseline: None,
        baseline_name: String::new(),
        ratio: None,
        target: target.into(),
        met: None,
        notes: format!("SKIPPED: {reason}"),
    }
}

/// The trimmer's throughput (and, kept for the next scenario, ingest while it runs).
pub fn trimmer(settings: &Settings) -> anyhow::Result<Outcome> {
    let (trim, ingest) = run(settings)?;
    *KEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(ingest);
    Ok(trim)
}

/// Ingest while a pass runs (measured with [`trimmer`], which runs first).
pub fn ingest_while_trimming(settings: &Settings) -> anyhow::Result<Outcome> {
    let kept = KEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    match kept {
        Some(outcome) => Ok(outcome),
        None => Ok(run(settings)?.1),
    }
}

/// Writes events `from..=to` into `topic`'s log directly, and moves its head.
async fn fill(pool: &sqlx::PgPool, topic: &str, from: u64, to: u64) -> anyhow::Result<()> {
    // In chunks: one statement per 100,000 rows keeps each transaction modest.
    let mut start = from;
    while start <= to {
        let end = (start + 99_999).min(to);
        sqlx::query(
            "INSERT INTO events (topic_id, seq, event_id, publisher, body) \
             SELECT $1, g, 'b-' || g, '', $4::json FROM generate_series($2::int8, $3::int8) g",
        )
        .bind(topic)
        .bind(i64::try_from(start)?)
        .bind(i64::try_from(end)?)
        .bind(SMALL_EVENT)
        .execute(pool)
        .await?;
        start = end + 1;
    }
    sqlx::query("UPDATE topics SET last_seq = $2 WHERE id = $1")
        .bind(topic)
        .bind(i64::try_from(to)?)
        .execute(pool)
        .await?;
    Ok(())
}

/// One retention pass through the operator API; events removed from `bulk`.
async fn trim_pass(client: &reqwest::Client, hub: std::net::SocketAddr) -> anyhow::Result<u64> {
    let response = client
        .post(format!("http://{hub}/admin/retention/trim"))
        .timeout(Duration::from_secs(600))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "trim: {}",
        response.status()
    );
    let report: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
    Ok(report["topics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["topicId"] == BULK)
        .filter_map(|t| t["removed"].as_u64())
        .sum())
}

fn run(settings: &Settings) -> anyhow::Result<(Outcome, Outcome)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let database = match runtime.block_on(Database::create("trim")) {
        Ok(database) => database,
        Err(error) => {
            let reason = format!("no PostgreSQL at {}: {error}", server_url());
            return Ok((
                skipped(TRIMMER, "reported", &reason),
                skipped(INGEST, "≥ 0.8 × without a trim", &reason),
            ));
        }
    };
    let outcome = measure(settings, &runtime, &database);
    runtime.block_on(database.drop_now())?;
    outcome
}

fn measure(
    settings: &Settings,
    runtime: &tokio::runtime::Runtime,
    database: &Database,
) -> anyhow::Result<(Outcome, Outcome)> {
    let url = database.url.clone();
    let hub = server::start(move || async move {
        let store = PgStore::connect(&url, 16).await?;
        for id in [BULK, BASELINE] {
            store
                .create_topic(NewTopic {
                    id: Some(id.into()),
                    name: id.into(),
                    body: bytes::Bytes::from(format!(r#"{{"name":"{id}"}}"#)),
                })
                .await?;
        }
        let hub = Hub688::new(Arc::new(store), HubConfig::default()).await?;
        let engine = DeliveryEngine::start(&hub, DeliveryConfig::default()).await?;
        // Only `bulk` has limits; passes run when asked.
        engine.start_retention(RetentionConfig {
            interval: Limit::Off,
            max_age: Limit::Off,
            topics: BTreeMap::from([(
                BULK.to_owned(),
                TopicRetention {
                    max_events: Some(Limit::On(1)),
                    ..TopicRetention::default()
                },
            )]),
            ..RetentionConfig::default()
        })?;
        tokio::spawn(async move {
            let _engine = engine;
            std::future::pending::<()>().await
        });
        Ok(app(Arc::new(hub)))
    })?;
    let pool = runtime.block_on(PgStore::pool_options(4).connect(&database.url))?;
    let client = reqwest::Client::new();
    let rows: u64 = if settings.quick { 50_000 } else { 300_000 };

    // 1. Throughput: a pass over `rows` events, against one DELETE of as many.
    runtime.block_on(fill(&pool, BULK, 1, rows))?;
    let started = Instant::now();
    let removed = runtime.block_on(trim_pass(&client, hub.address))?;
    let trim_seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        removed == rows - 1,
        "the pass removed {removed} of {}",
        rows - 1
    );
    let throughput = removed as f64 / trim_seconds;
    runtime.block_on(fill(&pool, BASELINE, 1, rows))?;
    let started = Instant::now();
    runtime.block_on(
        sqlx::query("DELETE FROM events WHERE topic_id = $1 AND seq < $2")
            .bind(BASELINE)
            .bind(i64::try_from(rows)?)
            .execute(&pool),
    )?;
    let bulk_rate = (rows - 1) as f64 / started.elapsed().as_secs_f64();
    let trim = Outcome {
        scenario: TRIMMER.into(),
        metric: "events removed/s".into(),
        value: throughput,
        baseline: Some(bulk_rate),
        baseline_name: "one DELETE of as many rows (no batches, one long transaction)".into(),
        ratio: ratio(throughput, bulk_rate),
        target: "reported".into(),
        met: None,
        notes: format!(
            "{removed} events in {trim_seconds:.2} s, batches of 1,000 (one transaction each)"
        ),
    };

    // 2. Ingest without a pass, then with one running the whole measurement (its log
    //    sized from the throughput above, with a margin).
    let url = format!(
        "http://{}/tmf-api/event/v4/topic/{TOPIC}/event",
        hub.address
    );
    let without = post_for(
        &url,
        &Bodies::new(SAMPLE_EVENT, "plain"),
        settings.concurrency,
        settings.warmup,
        settings.measure,
    )?;
    let span = (settings.warmup + settings.measure).as_secs_f64();
    let next = runtime.block_on(PgStore::pool_options(1).connect(&database.url))?;
    let head = rows;
    let more = ((throughput * span * 2.0) as u64).clamp(10_000, 5_000_000);
    runtime.block_on(fill(&next, BULK, head + 1, head + more))?;
    let address = hub.address;
    let pass = std::thread::spawn(move || -> anyhow::Result<(u64, f64)> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let started = Instant::now();
        let removed = runtime.block_on(trim_pass(&reqwest::Client::new(), address))?;
        Ok((removed, started.elapsed().as_secs_f64()))
    });
    let with = post_for(
        &url,
        &Bodies::new(SAMPLE_EVENT, "trimming"),
        settings.concurrency,
        settings.warmup,
        settings.measure,
    )?;
    let (removed_during, pass_seconds) = pass
        .join()
        .map_err(|_| anyhow::anyhow!("the trim thread panicked"))??;
    drop(hub);
    runtime.block_on(pool.close());
    runtime.block_on(next.close());
    anyhow::ensure!(
        without.failures == 0 && with.failures == 0,
        "{} + {} ingest requests failed",
        without.failures,
        with.failures
    );
    let covered = if pass_seconds >= span {
        "the pass ran through the whole measurement"
    } else {
        "NOTE: the pass ended before the measurement did"
    };
    let ratio = ratio(with.rate, without.rate);
    let ingest = Outcome {
        scenario: INGEST.into(),
        metric: "events/s".into(),
        value: with.rate,
        baseline: Some(without.rate),
        baseline_name: "the same ingest with no pass running".into(),
        ratio,
        target: "≥ 0.8 × without a trim".into(),
        met: ratio.map(|r| r >= 0.8),
        notes: format!(
            "pass: {removed_during} events in {pass_seconds:.1} s ({:.0}/s while ingesting); {covered}",
            removed_during as f64 / pass_seconds
        ),
    };
    Ok((trim, ingest))
}
