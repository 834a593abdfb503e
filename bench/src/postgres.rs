//! The PostgreSQL scenarios: durable ingest against a raw single-row `INSERT` of the
//! same JSON at the same concurrency through the same driver (sqlx), and end-to-end
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
        target: "≥ 1.0 × raw INSERT".into(),
        met: None,
        notes: format!("SKIPPED: {reason}"),
    }
}

/// The scenario.
pub fn durable_ingest(settings: &Settings) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let database = match runtime.block_on(Database::create("ingest")) {
        Ok(database) => database,
        Err(error) => {
            return Ok(skipped(
                "durable ingest/postgres",
                format!("no PostgreSQL at {}: {error}", server_url()),
            ));
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

    // Baseline: the same JSON, one INSERT per row, `concurrency` writers, same pool size.
    let bodies = Bodies::new(SAMPLE_EVENT, "raw");
    let rate = runtime.block_on(async {
        // The same pool settings as the store's (no ping per checkout).
        let pool = PgStore::pool_options(connections)
            .connect(&database.url)
            .await?;
        sqlx::query("CREATE TABLE raw_events (id bigserial PRIMARY KEY, body json NOT NULL)")
            .execute(&pool)
            .await?;
        let run = |length: Duration| {
            let (pool, bodies) = (pool.clone(), bodies.clone());
            async move {
                let deadline = Instant::now() + length;
                let mut writers = tokio::task::JoinSet::new();
                for _ in 0..settings.concurrency {
                    let (pool, bodies) = (pool.clone(), bodies.clone());
                    writers.spawn(async move {
                        let mut written = 0u64;
                        while Instant::now() < deadline {
                            sqlx::query("INSERT INTO raw_events (body) VALUES ($1::json)")
                                .bind(bodies.next())
                                .execute(&pool)
                                .await?;
                            written += 1;
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
        pool.close().await;
        anyhow::Ok(written as f64 / settings.measure.as_secs_f64())
    })?;
    runtime.block_on(database.drop_now())?;
    anyhow::ensure!(
        ours.failures == 0,
        "{} durable ingest requests failed",
        ours.failures
    );
    let ratio = ratio(ours.rate, rate);
    Ok(Outcome {
        scenario: "durable ingest/postgres".into(),
        metric: "events/s".into(),
        value: ours.rate,
        baseline: Some(rate),
        baseline_name: format!(
            "raw single-row INSERT of the same JSON, {} writers, sqlx",
            settings.concurrency
        ),
        ratio,
        target: "≥ 1.0 × raw INSERT".into(),
        met: ratio.map(|r| r >= 1.0),
        notes: format!("pool of {connections} connections for both"),
    })
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
