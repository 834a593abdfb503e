//! What the delivery scenarios share, whatever the store: the hub with its delivery
//! engine, a counting sink that can time deliveries, hub registration and event
//! publishing, and the end-to-end latency measurement against a hub already running
//! (used by both the in-memory and the PostgreSQL latency scenarios).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use hdrhistogram::Histogram;
use tmf688_runtime::delivery::{DeliveryConfig, DeliveryEngine};
use tmf688_runtime::{Hub688, HubConfig, Store, app};

use crate::common::{Outcome, SAMPLE_EVENT, Settings, TOPIC};
use crate::server;

/// A fast sink: counts POSTs and, when asked, records the latency carried in the
/// event's `correlationId` (nanoseconds since `epoch`).
#[derive(Clone)]
pub struct Sink {
    /// POSTs received so far.
    pub received: Arc<AtomicU64>,
    latency: Arc<Mutex<Histogram<u64>>>,
    epoch: Instant,
}

impl Sink {
    /// A sink with nothing received, its clock starting now.
    pub fn new() -> Self {
        Self {
            received: Arc::default(),
            latency: Arc::new(Mutex::new(Histogram::new(3).expect("valid precision"))),
            epoch: Instant::now(),
        }
    }

    /// Its routes (`/sink/{n}`), recording latencies when `measure_latency`.
    pub fn router(&self, measure_latency: bool) -> Router {
        let sink = self.clone();
        Router::new().route(
            "/sink/{n}",
            axum::routing::post(move |body: Bytes| {
                let sink = sink.clone();
                async move {
                    if measure_latency {
                        let sent = serde_json::from_slice::<serde_json::Value>(&body)
                            .ok()
                            .and_then(|v| {
                                v["correlationId"]
                                    .as_str()
                                    .and_then(|c| c.parse::<u64>().ok())
                            });
                        if let Some(sent) = sent {
                            let now = sink.epoch.elapsed().as_nanos() as u64;
                            let mut histogram =
                                sink.latency.lock().unwrap_or_else(|p| p.into_inner());
                            let _ = histogram.record(now.saturating_sub(sent) / 1000);
                        }
                    }
                    sink.received.fetch_add(1, Ordering::Relaxed);
                    StatusCode::CREATED
                }
            }),
        )
    }

    /// Waits until `count` POSTs have arrived, at most `deadline`; how long it took.
    pub async fn wait_for(&self, count: u64, deadline: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        while self.received.load(Ordering::Relaxed) < count {
            anyhow::ensure!(
                started.elapsed() < deadline,
                "only {} of {count} deliveries within {deadline:?}",
                self.received.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(started.elapsed())
    }
}

/// The hub with its delivery engine over the in-memory store, on the server thread.
pub fn start_hub() -> anyhow::Result<server::Running> {
    server::start(|| async { serve_with_engine(tmf688_runtime::MemoryStore::new()).await })
}

/// The hub over `store` with its delivery engine (the engine lives as long as the
/// server thread's runtime).
pub async fn serve_with_engine<S: Store>(store: S) -> anyhow::Result<Router> {
    let hub = Hub688::new(Arc::new(store), HubConfig::default()).await?;
    let engine = DeliveryEngine::start(&hub, DeliveryConfig::default()).await?;
    tokio::spawn(async move {
        let _engine = engine;
        std::future::pending::<()>().await
    });
    Ok(app(Arc::new(hub)))
}

/// Registers `hubs` hubs on the hub at `hub`, each calling back to its own path on
/// the sink at `sink`.
pub async fn register(
    client: &reqwest::Client,
    hub: std::net::SocketAddr,
    sink: std::net::SocketAddr,
    hubs: usize,
) -> anyhow::Result<()> {
    register_callbacks(
        client,
        hub,
        (0..hubs).map(|n| format!("http://{sink}/sink/{n}")),
    )
    .await
}

/// Registers one hub per callback on the hub at `hub`.
pub async fn register_callbacks(
    client: &reqwest::Client,
    hub: std::net::SocketAddr,
    callbacks: impl Iterator<Item = String>,
) -> anyhow::Result<()> {
    for callback in callbacks {
        let response = client
            .post(format!("http://{hub}/tmf-api/event/v4/topic/{TOPIC}/hub"))
            .header("content-type", "application/json")
            .body(serde_json::json!({ "callback": callback }).to_string())
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "hub registration: {}",
            response.status()
        );
    }
    Ok(())
}

/// Publishes `body` as one event to the hub at `hub`.
pub async fn publish(
    client: &reqwest::Client,
    hub: std::net::SocketAddr,
    body: String,
) -> anyhow::Result<()> {
    let response = client
        .post(format!("http://{hub}/tmf-api/event/v4/topic/{TOPIC}/event"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "publish: {}",
        response.status()
    );
    Ok(())
}

/// The same measurement against the hub already running as `hub`: 10 hubs.
pub fn latency_of(
    settings: &Settings,
    scenario: &str,
    target_ms: f64,
    hub: server::Running,
) -> anyhow::Result<Outcome> {
    latency_with(settings, scenario, target_ms, hub, 10)
}

/// p50/p99/p99.9 from the POST to the sink, `hubs` hubs calling the sink back, events at
/// 1,000/s, against the hub already running as `hub` (other hubs may be registered
/// there already).
pub fn latency_with(
    settings: &Settings,
    scenario: &str,
    target_ms: f64,
    hub: server::Running,
    hubs: usize,
) -> anyhow::Result<Outcome> {
    let rate = 1_000u64;
    let sink = Sink::new();
    let sink_server = {
        let router = sink.router(true);
        server::start(move || async move { Ok(router) })?
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let events = rate * settings.measure.as_secs().max(1);
    let template: serde_json::Value = serde_json::from_str(SAMPLE_EVENT)?;
    runtime.block_on(async {
        let client = reqwest::Client::new();
        register(&client, hub.address, sink_server.address, hubs).await?;
        let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..events {
            ticker.tick().await;
            let mut event = template.clone();
            event["eventId"] = serde_json::json!(format!("lat-{n}"));
            event["correlationId"] = serde_json::json!(sink.epoch.elapsed().as_nanos().to_string());
            let (client, address) = (client.clone(), hub.address);
            tasks.spawn(async move { publish(&client, address, event.to_string()).await });
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        sink.wait_for(events * hubs as u64, Duration::from_secs(120))
            .await?;
        anyhow::Ok(())
    })?;
    let histogram = sink
        .latency
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let p = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    let p99 = p(0.99);
    Ok(Outcome {
        scenario: scenario.into(),
        metric: "p99 ms, POST → sink".into(),
        value: p99,
        baseline: None,
        baseline_name: String::new(),
        ratio: None,
        target: format!("< {target_ms} ms at 1,000/s × {hubs} hubs"),
        met: Some(p99 < target_ms),
        notes: format!(
            "p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms over {} deliveries",
            p(0.5),
            p99,
            p(0.999),
            histogram.len()
        ),
    })
}
