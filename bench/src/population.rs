//! Population figures: whether the hub's cost grows with how many topics and hubs it
//! holds (a long-running hub collects both). Ingest into one topic with 10,000 other
//! topics registered against the same ingest with only the profile's three (both
//! stores; target ≥ 0.9), and the memory an idle hub costs with 10,000 of them
//! registered (bytes per hub, read from this process's resident set; target ≤ 4 KiB).
//! `--quick` uses 1,000 of each.

use std::time::{Duration, Instant};

use tmf688_runtime::MemoryStore;
use tmf688_runtime::store::PgStore;

use crate::common::{Outcome, SAMPLE_EVENT, Settings, TOPIC, ratio, rss_bytes};
use crate::harness::{Sink, register_callbacks, serve_with_engine};
use crate::load::{Bodies, post_for};
use crate::postgres::{Database, server_url, skipped};
use crate::scale::Scale;
use crate::server;

/// The ingest scenarios (the memory one, [`idle_hub_memory`], runs among the first of
/// [`crate::scenarios::ALL`]: its RSS reading wants an allocator arena no earlier
/// server thread has grown).
pub const ALL: &[Scale] = &[
    Scale {
        name: "ingest with many topics/in-memory",
        run: |s| Ok(vec![many_topics(s, false)?]),
    },
    Scale {
        name: "ingest with many topics/postgres",
        run: |s| Ok(vec![many_topics(s, true)?]),
    },
];

/// How many topics or hubs the populated hub holds.
fn population(settings: &Settings) -> usize {
    if settings.quick { 1_000 } else { 10_000 }
}

/// Ingest into [`TOPIC`] with `population` other topics registered, against the same
/// with none.
fn many_topics(settings: &Settings, postgres: bool) -> anyhow::Result<Outcome> {
    let topics = population(settings);
    let store = if postgres { "postgres" } else { "in-memory" };
    let scenario = format!("ingest with {topics} topics/{store}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut rates = Vec::new();
    for extra in [0, topics] {
        let database = if postgres {
            match runtime.block_on(Database::create(&format!("topics{extra}"))) {
                Ok(database) => Some(database),
                Err(error) => {
                    return Ok(skipped(
                        &scenario,
                        format!("no PostgreSQL at {}: {error}", server_url()),
                    ));
                }
            }
        } else {
            None
        };
        let url = database.as_ref().map(|d| d.url.clone());
        let connections = settings.concurrency.min(32) as u32;
        let hub = server::start(move || async move {
            match url {
                Some(url) => serve_with_engine(PgStore::connect(&url, connections).await?).await,
                None => serve_with_engine(MemoryStore::new()).await,
            }
        })?;
        runtime.block_on(create_topics(hub.address, extra))?;
        let measured = post_for(
            &format!(
                "http://{}/tmf-api/event/v4/topic/{TOPIC}/event",
                hub.address
            ),
            &Bodies::new(SAMPLE_EVENT, &format!("topics{extra}")),
            settings.concurrency,
            settings.warmup,
            settings.measure,
        )?;
        drop(hub);
        if let Some(database) = database {
            runtime.block_on(database.drop_now())?;
        }
        anyhow::ensure!(
            measured.failures == 0,
            "{scenario}: {} ingest requests failed",
            measured.failures
        );
        rates.push(measured.rate);
    }
    let (few, many) = (rates[0], rates[1]);
    let ratio = ratio(many, few);
    Ok(Outcome {
        scenario,
        metric: "events/s into one topic".into(),
        value: many,
        baseline: Some(few),
        baseline_name: "the same ingest with only the profile's 3 topics".into(),
        ratio,
        target: "≥ 0.9 (cost does not grow with the topics)".into(),
        met: ratio.map(|r| r >= 0.9),
        notes: String::new(),
    })
}

/// Creates `count` topics through the API (`POST /topic`), 16 at a time.
async fn create_topics(hub: std::net::SocketAddr, count: usize) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = format!("http://{hub}/tmf-api/event/v4/topic");
    let mut requests = tokio::task::JoinSet::new();
    for n in 0..count {
        if requests.len() == 16
            && let Some(done) = requests.join_next().await
        {
            done??;
        }
        let (client, url) = (client.clone(), url.clone());
        requests.spawn(async move {
            let response = client
                .post(&url)
                .header("content-type", "application/json")
                .body(format!(r#"{{"name":"population-{n}"}}"#))
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "topic creation: {}",
                response.status()
            );
            anyhow::Ok(())
        });
    }
    while let Some(done) = requests.join_next().await {
        done??;
    }
    Ok(())
}

/// The resident set's growth per hub when `population` idle hubs (registered, no
/// events) are added to a running hub with its delivery engine.
pub fn idle_hub_memory(settings: &Settings) -> anyhow::Result<Outcome> {
    let hubs = population(settings);
    let hub = server::start(|| async { serve_with_engine(MemoryStore::new()).await })?;
    // A sink that is never called: the hubs stay idle.
    let sink = Sink::new();
    let sink_server = {
        let router = sink.router(false);
        server::start(move || async move { Ok(router) })?
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let grown = runtime.block_on(async {
        let client = reqwest::Client::new();
        // One hub first: what the first one allocates once (pools, maps) is not per hub.
        register_callbacks(
            &client,
            hub.address,
            std::iter::once(format!("http://{}/sink/warm", sink_server.address)),
        )
        .await?;
        wait_for_workers(&client, hub.address, 1).await?;
        let before = rss_bytes()?;
        // The rest (the default quota: 10,000 hubs for the anonymous owner).
        register_callbacks(
            &client,
            hub.address,
            (1..hubs).map(|n| format!("http://{}/sink/{n}", sink_server.address)),
        )
        .await?;
        wait_for_workers(&client, hub.address, hubs).await?;
        anyhow::Ok(rss_bytes()?.saturating_sub(before))
    })?;
    anyhow::ensure!(
        sink.received.load(std::sync::atomic::Ordering::Relaxed) == 0,
        "an idle hub was called"
    );
    let per_hub = grown as f64 / (hubs - 1) as f64;
    Ok(Outcome {
        scenario: format!("memory per idle hub/{hubs} hubs"),
        metric: "bytes/hub (resident set growth)".into(),
        value: per_hub,
        baseline: None,
        baseline_name: String::new(),
        ratio: None,
        target: "≤ 4096 bytes/hub".into(),
        met: Some(per_hub <= 4096.0),
        notes: "store record, delivery worker and its status; registered through the API".into(),
    })
}

/// Waits until the delivery engine runs `count` workers (a `tmf688_hub_cursor` gauge
/// each in `GET /admin/metrics`), at most a minute.
async fn wait_for_workers(
    client: &reqwest::Client,
    hub: std::net::SocketAddr,
    count: usize,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let text = client
            .get(format!("http://{hub}/admin/metrics"))
            .send()
            .await?
            .text()
            .await?;
        let workers = text
            .lines()
            .filter(|line| line.starts_with("tmf688_hub_cursor{"))
            .count();
        if workers >= count {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "{workers} of {count} delivery workers after a minute"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
