//! Shared by the `delivery_*` integration tests: hubs of ours on loopback (port 0) with
//! a delivery engine, and a `TestReceiver` capturing what is POSTed to it. Waiting is
//! on conditions with deadlines, never on fixed sleeps.
//!
//! Each hub has its own store: in memory, or a fresh PostgreSQL database with
//! `TMF688_TEST_STORE=postgres` (`test_store`; `scripts/test` runs these suites both
//! ways). On PostgreSQL the engine leases hubs and its workers start a moment after a
//! registration, and what the engine writes to the store (cursors, state) may trail
//! what it reports: the helpers and tests wait for such conditions rather than read
//! them once.
#![allow(dead_code)]

#[path = "../test_store/mod.rs"]
pub mod test_store;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tmf688_runtime::delivery::{DeliveryConfig, DeliveryEngine, HubStatus, RetryConfig};
use tmf688_runtime::{AppConfig, Hub688, HubConfig, ServeConfig, app_with};
use tokio::net::TcpListener;
use tokio::sync::Notify;

pub use test_store::{TestBackend, TestStore};

pub const PSI: &str = "/psi-api/event/v2";
pub const TMF: &str = "/tmf-api/event/v4";

/// A fast schedule for tests: 20 ms, ×2, ± 20 %, halt after `max_attempts`.
pub fn fast_config(max_attempts: u32) -> DeliveryConfig {
    DeliveryConfig {
        retry: RetryConfig {
            initial_delay_ms: 20,
            multiplier: 2.0,
            max_delay_ms: 1000,
            jitter: 0.2,
            max_attempts,
            retry_after_floor_ms: 10,
            retry_after_cap_ms: 150,
        },
        attempt_timeout_ms: 2000,
        connect_timeout_ms: 500,
        shutdown_grace_ms: 500,
        ..DeliveryConfig::default()
    }
}

/// One hub server of ours with its engine.
pub struct TestHub {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub hub: Arc<Hub688<TestStore>>,
    pub engine: Arc<DeliveryEngine<TestStore>>,
    pub http: reqwest::Client,
    /// The store's database on PostgreSQL; the last field, so dropped last.
    db: Option<TestBackend>,
}

/// The service over a fresh store, its delivery engine not started yet: a test can
/// fill the store first and decide when delivery begins ([`Unstarted::start`]).
pub struct Unstarted {
    pub hub: Hub688<TestStore>,
    db: Option<TestBackend>,
}

impl Unstarted {
    pub async fn new() -> Self {
        let (store, db) = TestStore::create("delivery").await;
        let hub = Hub688::new(Arc::new(store), HubConfig::default())
            .await
            .unwrap();
        Self { hub, db }
    }

    /// Starts the engine (its workers start for the hubs in the store) and serves the
    /// API on a loopback port.
    pub async fn start(self, config: DeliveryConfig) -> TestHub {
        let Self { hub, db } = self;
        let engine = DeliveryEngine::start(&hub, config).await.unwrap();
        let hub = Arc::new(hub);
        let app = app_with(hub.clone(), &AppConfig::default());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(tmf688_runtime::serve(
            listener,
            app,
            ServeConfig::default(),
            std::future::pending(),
        ));
        TestHub {
            url: format!("http://{addr}"),
            hub,
            engine: Arc::new(engine),
            http: reqwest::Client::new(),
            db,
        }
    }
}

impl TestHub {
    pub async fn start(config: DeliveryConfig) -> Self {
        Unstarted::new().await.start(config).await
    }

    pub async fn request(
        &self,
        method: http::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value)
    }

    /// Registers a hub; panics unless 201. Returns its id once the engine has a worker
    /// for it (on PostgreSQL that follows the registration after a lease round), so
    /// that [`TestHub::status`] can be called.
    pub async fn register(
        &self,
        base: &str,
        topic: &str,
        callback: &str,
        query: Option<&str>,
    ) -> String {
        let mut body = json!({"callback": callback});
        if let Some(query) = query {
            body["query"] = json!(query);
        }
        let (status, value) = self
            .request(
                http::Method::POST,
                &format!("{base}/topic/{topic}/hub"),
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{value}");
        let id = value["id"].as_str().unwrap().to_owned();
        self.wait_worker(&id).await;
        id
    }

    /// Posts an event; panics unless 201.
    pub async fn publish(&self, base: &str, topic: &str, event: Value) {
        let (status, value) = self
            .request(
                http::Method::POST,
                &format!("{base}/topic/{topic}/event"),
                Some(event),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{value}");
    }

    /// The topic's log, as stored.
    pub async fn log(&self, topic: &str) -> Vec<Value> {
        use tmf688_runtime::Store as _;
        self.hub
            .store()
            .read_events(topic, 0, usize::MAX)
            .await
            .unwrap()
            .iter()
            .map(|e| serde_json::from_slice(&e.body).unwrap())
            .collect()
    }

    /// The engine's view of a hub (what it delivered, not necessarily stored yet).
    pub fn status(&self, hub_id: &str) -> HubStatus {
        self.engine.status(hub_id).expect("the hub has a worker")
    }

    /// Waits until the engine knows the hub (its worker started).
    pub async fn wait_worker(&self, hub_id: &str) {
        eventually("worker started", Duration::from_secs(5), || async {
            self.engine.status(hub_id).is_some()
        })
        .await;
    }
}

/// An order event as PSI systems send them.
pub fn order_event(n: usize) -> Value {
    json!({
        "@type": "ProductOrderStateChangeEvent",
        "eventId": format!("e-{n}"),
        "eventType": "ProductOrderStateChangeEvent",
        "correlationId": format!("corr-{n}"),
        "domain": "sales",
        "event": {"productOrder": {"id": format!("po-{n}"), "state": "completed"}}
    })
}

/// Waits until `condition` holds, checking every few milliseconds, or panics at the
/// deadline.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if condition().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// What a receiver saw.
#[derive(Clone, Debug)]
pub struct Hit {
    pub at: Instant,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    /// The status it answered.
    pub answered: StatusCode,
}

impl Hit {
    pub fn event_id(&self) -> &str {
        self.body["eventId"].as_str().unwrap_or_default()
    }
}

/// How a receiver answers: given how many times this eventId was received before
/// (0 the first time) and the body.
pub type Behaviour = Arc<
    dyn Fn(usize, &Value, &HeaderMap) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send>>
        + Send
        + Sync,
>;

/// A behaviour from a synchronous answer.
pub fn answer(f: impl Fn(usize, &Value) -> Response + Send + Sync + 'static) -> Behaviour {
    Arc::new(move |seen, body, _| {
        let response = f(seen, body);
        Box::pin(async move { response })
    })
}

pub fn ok() -> Behaviour {
    answer(|_, _| StatusCode::CREATED.into_response())
}

/// The acknowledged eventIds of `path`, in arrival order.
pub fn acknowledged_at(hits: &[Hit], path: &str) -> Vec<String> {
    hits.iter()
        .filter(|h| h.path == path && h.answered.is_success())
        .map(|h| h.event_id().to_owned())
        .collect()
}

#[derive(Clone)]
struct ReceiverState {
    hits: Arc<Mutex<Vec<Hit>>>,
    notify: Arc<Notify>,
    behaviour: Arc<Mutex<Behaviour>>,
}

/// An axum server capturing every POST.
pub struct TestReceiver {
    pub addr: SocketAddr,
    state: ReceiverState,
}

async fn receive(
    State(state): State<ReceiverState>,
    uri: http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let behaviour = state.behaviour.lock().unwrap().clone();
    let seen = state
        .hits
        .lock()
        .unwrap()
        .iter()
        .filter(|h| h.body["eventId"] == body["eventId"])
        .count();
    let response = behaviour(seen, &body, &headers).await;
    state.hits.lock().unwrap().push(Hit {
        at: Instant::now(),
        path: uri.path().to_owned(),
        headers,
        body,
        answered: response.status(),
    });
    state.notify.notify_waiters();
    response
}

impl TestReceiver {
    pub async fn start(behaviour: Behaviour) -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").await.unwrap(), behaviour).await
    }

    pub async fn start_on(listener: TcpListener, behaviour: Behaviour) -> Self {
        let state = ReceiverState {
            hits: Arc::default(),
            notify: Arc::default(),
            behaviour: Arc::new(Mutex::new(behaviour)),
        };
        let app = Router::new()
            .fallback(axum::routing::post(receive))
            .with_state(state.clone());
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, state }
    }

    /// The callback URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *self.state.behaviour.lock().unwrap() = behaviour;
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    /// The eventIds acknowledged with a 2xx, in arrival order.
    pub fn acknowledged(&self) -> Vec<String> {
        self.hits()
            .iter()
            .filter(|h| h.answered.is_success())
            .map(|h| h.event_id().to_owned())
            .collect()
    }

    /// Waits until `condition` holds over the hits (woken by each hit).
    pub async fn wait_for(&self, what: &str, within: Duration, condition: impl Fn(&[Hit]) -> bool) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.state.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if condition(&self.state.hits.lock().unwrap()) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let hits = self.hits();
                panic!(
                    "timed out waiting for: {what}; {} hits: {:?}",
                    hits.len(),
                    hits.iter()
                        .map(|h| (h.event_id().to_owned(), h.answered.as_u16()))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
}
