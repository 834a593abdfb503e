//! Scenarios that need the delivery engine: fan-out to N hubs against a raw HTTP
//! client with N lanes, and end-to-end latency at a fixed publishing rate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use hdrhistogram::Histogram;
use tmf688_runtime::delivery::{DeliveryConfig, DeliveryEngine};
use tmf688_runtime::{Hub688, HubConfig, MemoryStore, Store, app};

use crate::load::Bodies;
use crate::report::Outcome;
use crate::scenarios::{SAMPLE_EVENT, Settings, TOPIC, ratio};
use crate::server;

/// A fast sink: counts POSTs and, when asked, records the latency carried in the
/// event's `correlationId` (nanoseconds since `epoch`).
#[derive(Clone)]
struct Sink {
    received: Arc<AtomicU64>,
    latency: Arc<Mutex<Histogram<u64>>>,
    epoch: Instant,
}

impl Sink {
    fn new() -> Self {
        Self {
            received: Arc::default(),
            latency: Arc::new(Mutex::new(Histogram::new(3).expect("valid precision"))),
            epoch: Instant::now(),
        }
    }

    fn router(&self, measure_latency: bool) -> Router {
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

    async fn wait_for(&self, count: u64, deadline: Duration) -> anyhow::Result<Duration> {
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

/// The hub with its delivery engine, on the server thread.
fn start_hub() -> anyhow::Result<server::Running> {
    server::start(|| async { serve_with_engine(MemoryStore::new()).await })
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

async fn register(
    client: &reqwest::Client,
    hub: std::net::SocketAddr,
    sink: std::net::SocketAddr,
    hubs: usize,
) -> anyhow::Result<()> {
    for n in 0..hubs {
        let response = client
            .post(format!("http://{hub}/tmf-api/event/v4/topic/{TOPIC}/hub"))
            .header("content-type", "application/json")
            .body(serde_json::json!({ "callback": format!("http://{sink}/sink/{n}") }).to_string())
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

async fn publish(
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

/// Deliveries per second to `hubs` hubs, and the raw client's rate with `hubs` lanes.
pub fn fan_out(settings: &Settings, hubs: usize) -> anyhow::Result<Outcome> {
    let deliveries: usize = if settings.quick { 4_000 } else { 40_000 };
    let events = (deliveries / hubs).max(1);
    let total = (events * hubs) as u64;
    let sink = Sink::new();
    let sink_server = {
        let router = sink.router(false);
        server::start(move || async move { Ok(router) })?
    };
    let hub = start_hub()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let bodies = Bodies::new(SAMPLE_EVENT, &format!("fan{hubs}"));
    let elapsed = runtime.block_on(async {
        let client = reqwest::Client::new();
        register(&client, hub.address, sink_server.address, hubs).await?;
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        let next = Arc::new(AtomicU64::new(0));
        for _ in 0..settings.concurrency.min(events) {
            let (client, bodies, next) = (client.clone(), bodies.clone(), next.clone());
            let address = hub.address;
            tasks.spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < events as u64 {
                    publish(&client, address, bodies.next()).await?;
                }
                anyhow::Ok(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        sink.wait_for(total, Duration::from_secs(300)).await?;
        anyhow::Ok(started.elapsed())
    })?;
    let ours = total as f64 / elapsed.as_secs_f64();
    drop(hub);

    // Baseline: a raw client POSTing the same body to the same sink, one lane per hub,
    // on its own thread (where the hub ran); then hyper-util's pooled client the same
    // way, reported beside it (what another delivery client would reach).
    let address = sink_server.address;
    let body = bytes::Bytes::from(bodies.next());
    let baseline_elapsed = raw_lanes(&sink, RawClient::Reqwest, address, &body, hubs, events)?;
    let hyper_elapsed = raw_lanes(&sink, RawClient::HyperUtil, address, &body, hubs, events)?;
    let baseline = total as f64 / baseline_elapsed.as_secs_f64();
    let ratio = ratio(ours, baseline);
    let target = (hubs == 100).then_some(0.5);
    Ok(Outcome {
        scenario: if hubs == 1 {
            "fan-out/1 hub".into()
        } else {
            format!("fan-out/{hubs} hubs")
        },
        metric: "deliveries/s".into(),
        value: ours,
        baseline: Some(baseline),
        baseline_name: format!("raw reqwest POSTs of the same body to the same sink, {hubs} lanes"),
        ratio,
        target: target.map_or("(reported)".into(), |t| format!("≥ {t} × baseline")),
        met: target.and_then(|t| ratio.map(|r| r >= t)),
        notes: format!(
            "{events} events × {hubs} hubs, publishing included; hyper-util pooled client, same lanes: {:.0}/s",
            total as f64 / hyper_elapsed.as_secs_f64()
        ),
    })
}

/// A bare HTTP client for the fan-out baselines.
#[derive(Clone, Copy, Debug)]
enum RawClient {
    Reqwest,
    HyperUtil,
}

/// POSTs `body` to the sink `events` times on each of `lanes` concurrent lanes, on a
/// thread of its own with a single-threaded runtime; how long it took. Checks that the
/// sink got every request.
fn raw_lanes(
    sink: &Sink,
    client: RawClient,
    address: std::net::SocketAddr,
    body: &bytes::Bytes,
    lanes: usize,
    events: usize,
) -> anyhow::Result<Duration> {
    let before = sink.received.load(Ordering::Relaxed);
    let body = body.clone();
    let elapsed = std::thread::spawn(move || -> anyhow::Result<Duration> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let reqwest = reqwest::Client::builder()
                .pool_max_idle_per_host(lanes)
                .build()?;
            let hyper =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .pool_max_idle_per_host(lanes)
                    .build_http::<http_body_util::Full<bytes::Bytes>>();
            let started = Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for n in 0..lanes {
                let (reqwest, hyper, body) = (reqwest.clone(), hyper.clone(), body.clone());
                tasks.spawn(async move {
                    let url = format!("http://{address}/sink/{n}");
                    for _ in 0..events {
                        let status = match client {
                            RawClient::Reqwest => reqwest
                                .post(&url)
                                .header("content-type", "application/json")
                                .body(body.clone())
                                .send()
                                .await?
                                .status(),
                            RawClient::HyperUtil => {
                                let request = http::Request::post(&url)
                                    .header("content-type", "application/json")
                                    .body(http_body_util::Full::new(body.clone()))?;
                                let response = hyper.request(request).await?;
                                let status = response.status();
                                // Read the body to the end so the connection is reused.
                                http_body_util::BodyExt::collect(response.into_body()).await?;
                                status
                            }
                        };
                        anyhow::ensure!(status.is_success(), "sink answered {status}");
                    }
                    anyhow::Ok(())
                });
            }
            while let Some(done) = tasks.join_next().await {
                done??;
            }
            Ok(started.elapsed())
        })
    })
    .join()
    .map_err(|_| anyhow::anyhow!("baseline thread panicked"))??;
    anyhow::ensure!(
        sink.received.load(Ordering::Relaxed) - before == (lanes * events) as u64,
        "baseline lost requests"
    );
    Ok(elapsed)
}

/// p50/p99/p99.9 from the POST to the sink, 10 hubs, events at a fixed rate.
pub fn latency(settings: &Settings) -> anyhow::Result<Outcome> {
    latency_of(settings, "latency/in-memory", 10.0, start_hub()?)
}

/// The same measurement against the hub already running as `hub`.
pub fn latency_of(
    settings: &Settings,
    scenario: &str,
    target_ms: f64,
    hub: server::Running,
) -> anyhow::Result<Outcome> {
    let (hubs, rate) = (10usize, 1_000u64);
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
        target: format!("< {target_ms} ms at 1,000/s × 10 hubs"),
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
