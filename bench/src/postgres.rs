//! The PostgreSQL scenarios: durable ingest against raw `INSERT`s of the same JSON at the
//! same concurrency through the same driver (sqlx) — single-row, and 100 rows per
//! statement — and end-to-end
//! delivery latency with the hub on PostgreSQL. Each run uses a database of its own,
//! dropped afterwards. `DATABASE_URL` names the server (default: the local one).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Connection;
use tmf688_runtime::store::PgStore;
use tmf688_runtime::{Hub688, HubConfig, app};

use crate::common::{Outcome, SAMPLE_EVENT, Settings, TOPIC, ratio};
use crate::harness::{latency_of, serve_with_engine};
use crate::load::{Bodies, post_for};
use crate::server;

pub(crate) fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh database on the server; dropped when the guard goes.
pub(crate) struct Database {
    admin: String,
    name: String,
    /// Its URL.
    pub(crate) url: String,
}

impl Database {
    pub(crate) async fn create(tag: &str) -> anyhow::Result<Self> {
        let admin = server_url();
        let name = format!("tmf688_bench_{tag}_{}", std::process::id());
        let mut connection = sqlx::PgConnection::connect(&admin).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\""))
            .execute(&mut connection)
            .await?;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut connection)
            .await?;
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Ok(Self { admin, name, url })
    }

    pub(crate) async fn drop_now(self) -> anyhow::Result<()> {
        let mut connection = sqlx::PgConnection::connect(&self.admin).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut connection)
        .await?;
        Ok(())
    }
}

pub(crate) fn skipped(scenario: &str, reason: String) -> Outcome {
    Outcome {
        scenario: scenario.into(),
        metric: "-".into(),
        value: f64::NAN,
        baseline: None,
        baseline_name: String::new(),
        ratio: None,
        target: "-".into(),
        met: None,
        notes: format!("SKIPPED: {reason}"),
    }
}

/// Rows a writer of the multi-row baseline inserts per statement.
const MULTI_ROW: usize = 100;

/// The scenario: our ingest through HTTP into [`PgStore`], then, on the same database
/// and pool settings, two raw baselines of the same JSON from the same writers — one
/// row per `INSERT` (the single-row ceiling the target is set against) and
/// [`MULTI_ROW`] rows per `INSERT` (what batching can reach at best). Two rows of the
/// table, one per baseline.
pub fn durable_ingest(settings: &Settings) -> anyhow::Result<Vec<Outcome>> {
    const SCENARIO: &str = "durable ingest/postgres";
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let database = match runtime.block_on(Database::create("ingest")) {
        Ok(database) => database,
        Err(error) => {
            return Ok(vec![skipped(
                SCENARIO,
                format!("no PostgreSQL at {}: {error}", server_url()),
            )]);
        }
    };
    let connections = settings.concurrency.min(32) as u32;
    let url = database.url.clone();
    let hub = server::start(move || async move {
        let store = PgStore::connect(&url, connections).await?;
        let hub = Hub688::new(Arc::new(store), HubConfig::default()).await?;
        Ok(app(Arc::new(hub)))
    })?;
    let ours = post_for(
        &format!(
            "http://{}/tmf-api/event/v4/topic/{TOPIC}/event",
            hub.address
        ),
        &Bodies::new(SAMPLE_EVENT, "pg"),
        settings.concurrency,
        settings.warmup,
        settings.measure,
    )?;
    drop(hub);

    // Baselines: the same JSON, `concurrency` writers, same pool size and settings.
    let (single, multi) = runtime.block_on(async {
        // The same pool settings as the store's (no ping per checkout).
        let pool = PgStore::pool_options(connections)
            .connect(&database.url)
            .await?;
        sqlx::query("CREATE TABLE raw_events (id bigserial PRIMARY KEY, body json NOT NULL)")
            .execute(&pool)
            .await?;
        let single = raw_insert_rate(&pool, settings, 1).await?;
        let multi = raw_insert_rate(&pool, settings, MULTI_ROW).await?;
        pool.close().await;
        anyhow::Ok((single, multi))
    })?;
    runtime.block_on(database.drop_now())?;
    anyhow::ensure!(
        ours.failures == 0,
        "{} durable ingest requests failed",
        ours.failures
    );
    let against_single = ratio(ours.rate, single);
    let against_multi = ratio(ours.rate, multi);
    let writers = settings.concurrency;
    Ok(vec![
        Outcome {
            scenario: SCENARIO.into(),
            metric: "events/s".into(),
            value: ours.rate,
            baseline: Some(single),
            baseline_name: format!(
                "raw single-row INSERT of the same JSON, {writers} writers, sqlx"
            ),
            ratio: against_single,
            target: "≥ 1.5 × raw INSERT".into(),
            met: against_single.map(|r| r >= 1.5),
            notes: format!("pool of {connections} connections for all"),
        },
        Outcome {
            scenario: format!("{SCENARIO} (multi-row)"),
            metric: "events/s".into(),
            value: ours.rate,
            baseline: Some(multi),
            baseline_name: format!(
                "raw {MULTI_ROW}-row INSERT of the same JSON, {writers} writers, sqlx"
            ),
            ratio: against_multi,
            target: "reported".into(),
            met: None,
            notes: String::new(),
        },
    ])
}

/// Rows per second that `settings.concurrency` writers insert into `raw_events` with
/// `rows` rows per `INSERT ... VALUES` (one transaction each): a warm-up, then the
/// measurement.
async fn raw_insert_rate(
    pool: &sqlx::PgPool,
    settings: &Settings,
    rows: usize,
) -> anyhow::Result<f64> {
    let bodies = Bodies::new(SAMPLE_EVENT, &format!("raw{rows}"));
    let values: Vec<String> = (1..=rows).map(|n| format!("(${n}::json)")).collect();
    let sql: Arc<str> =
        format!("INSERT INTO raw_events (body) VALUES {}", values.join(", ")).into();
    let run = |length: Duration| {
        let (pool, bodies, sql) = (pool.clone(), bodies.clone(), sql.clone());
        async move {
            let deadline = Instant::now() + length;
            let mut writers = tokio::task::JoinSet::new();
            for _ in 0..settings.concurrency {
                let (pool, bodies, sql) = (pool.clone(), bodies.clone(), sql.clone());
                writers.spawn(async move {
                    let mut written = 0u64;
                    while Instant::now() < deadline {
                        let mut query = sqlx::query(&sql);
                        for _ in 0..rows {
                            query = query.bind(bodies.next());
                        }
                        query.execute(&pool).await?;
                        written += rows as u64;
                    }
                    anyhow::Ok(written)
                });
            }
            let mut total = 0;
            while let Some(done) = writers.join_next().await {
                total += done??;
            }
            anyhow::Ok(total)
        }
    };
    run(settings.warmup).await?;
    let written = run(settings.measure).await?;
    Ok(written as f64 / settings.measure.as_secs_f64())
}

/// End-to-end latency with the hub on PostgreSQL (1,000 events/s × 10 hubs).
pub fn latency(settings: &Settings) -> anyhow::Result<Outcome> {
    const SCENARIO: &str = "latency/postgres";
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let database = match runtime.block_on(Database::create("latency")) {
        Ok(database) => database,
        Err(error) => {
            return Ok(skipped(
                SCENARIO,
                format!("no PostgreSQL at {}: {error}", server_url()),
            ));
        }
    };
    let url = database.url.clone();
    let hub = server::start(move || async move {
        serve_with_engine(PgStore::connect(&url, 16).await?).await
    })?;
    let outcome = latency_of(settings, SCENARIO, 25.0, hub);
    runtime.block_on(database.drop_now())?;
    outcome
}
