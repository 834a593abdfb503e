//! Scenarios that need the delivery engine, on the in-memory store: fan-out to N hubs
//! against a raw HTTP client with N lanes, and end-to-end latency at a fixed
//! publishing rate (measured by [`crate::harness`], which the PostgreSQL run shares).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::common::{Outcome, SAMPLE_EVENT, Settings, ratio};
use crate::harness::{Sink, latency_of, publish, register, start_hub};
use crate::load::Bodies;
use crate::server;

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

    // Baseline: hyper-util's pooled client (the delivery client's own stack) POSTing
    // the same body to the same sink, one lane per hub, on its own thread (where the
    // hub ran): the ceiling. Then reqwest the same way, reported beside it.
    let address = sink_server.address;
    let body = bytes::Bytes::from(bodies.next());
    let baseline_elapsed = raw_lanes(&sink, RawClient::HyperUtil, address, &body, hubs, events)?;
    let reqwest_elapsed = raw_lanes(&sink, RawClient::Reqwest, address, &body, hubs, events)?;
    let baseline = total as f64 / baseline_elapsed.as_secs_f64();
    let ratio = ratio(ours, baseline);
    let target = 0.8;
    Ok(Outcome {
        scenario: if hubs == 1 {
            "fan-out/1 hub".into()
        } else {
            format!("fan-out/{hubs} hubs")
        },
        metric: "deliveries/s".into(),
        value: ours,
        baseline: Some(baseline),
        baseline_name: format!(
            "raw hyper-util pooled client POSTing the same body to the same sink, {hubs} lanes"
        ),
        ratio,
        target: format!("≥ {target} × baseline"),
        met: ratio.map(|r| r >= target),
        notes: format!(
            "{events} events × {hubs} hubs, publishing included; raw reqwest, same lanes: {:.0}/s",
            total as f64 / reqwest_elapsed.as_secs_f64()
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
