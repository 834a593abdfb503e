//! A closed-loop load generator: `concurrency` requests in flight for a fixed time
//! after a warm-up, on its own single-threaded runtime (the load half of the core split).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// What one run measured.
#[derive(Debug)]
pub struct Measured {
    /// Successful (2xx) requests per second.
    pub rate: f64,
    /// Non-2xx answers or transport errors.
    pub failures: u64,
    /// Latency of successful requests, microseconds.
    pub latency: Histogram<u64>,
}

/// A request body per call: the sample event with a unique `eventId` (the hub
/// de-duplicates on it), made the same way for the hub and for its baseline.
#[derive(Clone)]
pub struct Bodies {
    prefix: Arc<str>,
    suffix: Arc<str>,
    counter: Arc<AtomicU64>,
}

impl Bodies {
    /// Bodies from `template`, whose `eventId` value is replaced by a counter.
    pub fn new(template: &str, tag: &str) -> Self {
        let mut value: serde_json::Value =
            serde_json::from_str(template).expect("the sample is JSON");
        value["eventId"] = serde_json::Value::String(format!("{tag}-@@"));
        let text = value.to_string();
        let (prefix, suffix) = text.split_once("@@").expect("placeholder present");
        Self {
            prefix: prefix.into(),
            suffix: suffix.into(),
            counter: Arc::default(),
        }
    }

    /// The next body.
    pub fn next(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{}{n}{}", self.prefix, self.suffix)
    }
}

/// POSTs bodies to `url` with `concurrency` in flight: `warmup`, then `measure`.
pub fn post_for(
    url: &str,
    bodies: &Bodies,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<Measured> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .build()?;
        // Warm-up: the same load, not counted.
        run(&client, url, bodies, concurrency, warmup).await;
        let (count, failures, latency) = run(&client, url, bodies, concurrency, measure).await;
        Ok(Measured {
            rate: count as f64 / measure.as_secs_f64(),
            failures,
            latency,
        })
    })
}

async fn run(
    client: &reqwest::Client,
    url: &str,
    bodies: &Bodies,
    concurrency: usize,
    length: Duration,
) -> (u64, u64, Histogram<u64>) {
    let deadline = Instant::now() + length;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let url = url.to_owned();
        let bodies = bodies.clone();
        tasks.spawn(async move {
            let mut histogram = Histogram::<u64>::new(3).expect("valid precision");
            let (mut ok, mut failed) = (0u64, 0u64);
            while Instant::now() < deadline {
                let started = Instant::now();
                let sent = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(bodies.next())
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        ok += 1;
                        let _ = histogram.record(started.elapsed().as_micros() as u64);
                    }
                    _ => failed += 1,
                }
            }
            (ok, failed, histogram)
        });
    }
    let mut total = (0, 0, Histogram::<u64>::new(3).expect("valid precision"));
    while let Some(Ok((ok, failed, histogram))) = tasks.join_next().await {
        total.0 += ok;
        total.1 += failed;
        let _ = total.2.add(histogram);
    }
    total
}
