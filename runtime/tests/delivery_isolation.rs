//! Issue 4's measurement: one dead callback does not slow delivery to 50 healthy ones —
//! the healthy hubs' delivery rate with a dead callback next to them is within 20 % of
//! the rate without it. The only test of this binary, so no other test competes for the
//! CPU while it measures. Each measurement runs the two cases **side by side**: two hub
//! engines, one delivering to 50 healthy callbacks, the other to 50 healthy ones plus
//! the dead one, started at the same moment — so whatever else loads the machine loads
//! both alike, and the ratio of their times is the ratio of their rates. Three pairs;
//! the median ratio must be at least 0.8.

mod delivery_common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;
use bytes::Bytes as StoreBytes;
use delivery_common::*;
use http::StatusCode;
use serde_json::{Value, json};
use tmf688_runtime::Store as _;
use tmf688_runtime::delivery::DeliveryConfig;
use tmf688_runtime::store::{HubStart, NewEvent, NewHub};
use tokio::net::TcpListener;
use tokio::sync::Notify;

const HEALTHY: usize = 50;
const EVENTS: usize = 100;
const RUNS: usize = 3;

/// Counts deliveries per path and checks their order, cheaply (no per-hit history).
/// At least once: a redelivery (an attempt that timed out on a loaded machine after
/// the receiver had taken it) is counted apart, not as progress.
#[derive(Clone, Default)]
struct Counter {
    /// First deliveries.
    total: Arc<AtomicUsize>,
    redelivered: Arc<AtomicUsize>,
    /// path → the next expected event number.
    next: Arc<Mutex<HashMap<String, usize>>>,
    out_of_order: Arc<AtomicUsize>,
    notify: Arc<Notify>,
}

async fn count(State(counter): State<Counter>, uri: http::Uri, body: Bytes) -> impl IntoResponse {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let n: usize = value["eventId"]
        .as_str()
        .and_then(|id| id.strip_prefix("e-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    {
        let mut next = counter.next.lock().unwrap();
        let expected = next.entry(uri.path().to_owned()).or_insert(0);
        if n == *expected {
            *expected += 1;
            counter.total.fetch_add(1, Ordering::Relaxed);
        } else if n < *expected {
            counter.redelivered.fetch_add(1, Ordering::Relaxed);
        } else {
            counter.out_of_order.fetch_add(1, Ordering::Relaxed);
        }
    }
    counter.notify.notify_waiters();
    StatusCode::CREATED
}

async fn serve(app: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A callback that accepts connections and never answers.
async fn dead_callback() -> String {
    let app = Router::new().fallback(axum::routing::post(|| async {
        std::future::pending::<()>().await;
        StatusCode::OK
    }));
    serve(app).await
}

/// One side of a measurement, prepared: `EVENTS` events already in the log and
/// `HEALTHY` hubs (plus the dead one when given) registered to start at the beginning,
/// the delivery engine not started yet. Its workers start with the engine, on
/// [`Prepared::go`] (not earlier: on PostgreSQL an engine would pick up hubs written to
/// the store by itself, as it does hubs registered through another replica).
struct Prepared {
    hub: Unstarted,
    config: DeliveryConfig,
    counter: Counter,
    dead: bool,
}

/// One side of a measurement, delivering.
struct Side {
    hub: TestHub,
    counter: Counter,
    dead: bool,
}

impl Prepared {
    async fn new(dead: Option<&str>) -> Self {
        let mut config = fast_config(1000);
        // The dead callback times out again and again during the run (and is retried);
        // healthy answers come well within the bound even on a loaded machine.
        config.attempt_timeout_ms = 500;
        config.retry.initial_delay_ms = 10;
        config.retry.max_delay_ms = 50;
        let hub = Unstarted::new().await;
        let store = hub.hub.store().clone();
        let events = (0..EVENTS)
            .map(|n| {
                let body = json!({"@type": "AlarmCreateEvent", "eventId": format!("e-{n}"),
                    "event": {"alarm": {"id": format!("a{n}"), "state": "raised"}}});
                NewEvent {
                    event_id: format!("e-{n}"),
                    publisher: String::new(),
                    body: StoreBytes::from(body.to_string()),
                }
            })
            .collect();
        // (The engine reads the heads of the logs when it starts.)
        store.append_events("alarm", events).await.unwrap();
        let counter = Counter::default();
        let receiver = serve(
            Router::new()
                .fallback(axum::routing::post(count))
                .with_state(counter.clone()),
        )
        .await;
        let mut callbacks: Vec<String> = (0..HEALTHY).map(|n| format!("{receiver}/h{n}")).collect();
        if let Some(dead) = dead {
            callbacks.insert(0, format!("{dead}/dead"));
        }
        for callback in &callbacks {
            store
                .create_hub(NewHub {
                    topic_id: "alarm".into(),
                    callback: callback.clone(),
                    query: None,
                    body: StoreBytes::from(json!({ "callback": callback }).to_string()),
                    owner: None,
                    base_path: None,
                    start: HubStart::Beginning,
                })
                .await
                .unwrap();
        }
        Self {
            hub,
            config,
            counter,
            dead: dead.is_some(),
        }
    }

    /// Starts the engine, and with it the workers.
    async fn go(self) -> Side {
        Side {
            hub: self.hub.start(self.config).await,
            counter: self.counter,
            dead: self.dead,
        }
    }
}

impl Side {
    /// Waits until every healthy hub has every event; the time since `started`.
    async fn finished(&self, started: Instant) -> Duration {
        let counter = &self.counter;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let notified = counter.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if counter.total.load(Ordering::Relaxed) >= HEALTHY * EVENTS {
                break;
            }
            assert!(
                tokio::time::timeout_at(deadline, notified).await.is_ok(),
                "timed out: {} of {} delivered",
                counter.total.load(Ordering::Relaxed),
                HEALTHY * EVENTS
            );
        }
        started.elapsed()
    }

    async fn check_and_stop(self) {
        let counter = &self.counter;
        let redelivered = counter.redelivered.load(Ordering::Relaxed);
        if redelivered > 0 {
            eprintln!("{redelivered} redeliveries (attempts that timed out after delivery)");
        }
        assert_eq!(counter.total.load(Ordering::Relaxed), HEALTHY * EVENTS);
        assert_eq!(
            counter.out_of_order.load(Ordering::Relaxed),
            0,
            "every healthy hub got its events in order"
        );
        {
            let next = counter.next.lock().unwrap();
            assert_eq!(next.len(), HEALTHY);
            assert!(next.values().all(|&n| n == EVENTS));
        }
        if self.dead {
            let statuses = self.hub.engine.statuses();
            let stuck = statuses
                .iter()
                .find(|s| s.callback.ends_with("/dead"))
                .expect("the dead hub has a worker");
            assert_eq!(stuck.cursor, 0, "the dead callback got nothing");
            eprintln!(
                "dead callback: {} timed-out attempts",
                stuck.failed_attempts
            );
        }
        self.hub.engine.shutdown().await;
    }
}

/// Runs a clean side and a side with the dead callback at the same time, on the same
/// machine load; their times from the common start.
async fn pair(dead: &str, dead_first: bool) -> (Duration, Duration) {
    let clean = Prepared::new(None).await;
    let with_dead = Prepared::new(Some(dead)).await;
    let started = Instant::now();
    // Both engines start at once (`join!` polls them in the order given).
    let (clean, with_dead) = if dead_first {
        let (with_dead, clean) = tokio::join!(with_dead.go(), clean.go());
        (clean, with_dead)
    } else {
        tokio::join!(clean.go(), with_dead.go())
    };
    let (clean_time, dead_time) =
        tokio::join!(clean.finished(started), with_dead.finished(started));
    clean.check_and_stop().await;
    with_dead.check_and_stop().await;
    (clean_time, dead_time)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_callback_does_not_slow_fifty_healthy_hubs() {
    let dead = dead_callback().await;
    let mut ratios = Vec::new();
    let mut times = Vec::new();
    for run in 0..RUNS {
        let (clean, with_dead) = pair(&dead, run % 2 == 0).await;
        // Rate with the dead callback / rate without = time without / time with.
        ratios.push(clean.as_secs_f64() / with_dead.as_secs_f64());
        times.push((clean, with_dead));
    }
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ratios.len() / 2];
    let deliveries = HEALTHY * EVENTS;
    eprintln!(
        "{HEALTHY} healthy hubs × {EVENTS} events ({deliveries} deliveries) per side, \
         (without, with a dead callback): {times:?}; rate ratios {ratios:.2?}, median {ratio:.2}"
    );
    assert!(
        ratio >= 0.8,
        "with a dead callback the healthy hubs' delivery rate fell to {:.0} % of the rate \
         without it (times {times:?})",
        ratio * 100.0
    );
}
