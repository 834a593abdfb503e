//! Shared by the API integration tests: a real server on a loopback port, and a small
//! HTTP helper that keeps raw bodies (to test what the wire carries).
//!
//! The store is in memory, or PostgreSQL with `TMF688_TEST_STORE=postgres` (a fresh
//! database per server, see `test_store`): `scripts/test` runs `bad_input`,
//! `auth_matrix` and `api_behaviour` (and the `delivery_*` suites, through
//! `delivery_common`) that way too.
#![allow(dead_code)] // each test binary uses a different part

pub mod jwt;
#[path = "../test_store/mod.rs"]
pub mod test_store;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use serde_json::Value;
use tmf688_runtime::{AppConfig, Hub688, HubConfig, ServeConfig, app_with};

pub use test_store::{TestBackend, TestStore};

/// A server running on `127.0.0.1:<free port>` until the test ends.
#[derive(Debug)]
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
    /// The server's database, with `TMF688_TEST_STORE=postgres` (dropped after the task).
    db: Option<TestBackend>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the application with `config` over a fresh store.
pub async fn spawn(config: AppConfig) -> Server {
    spawn_with(HubConfig::default(), config).await
}

/// Starts the application with both configurations.
pub async fn spawn_with(hub_config: HubConfig, config: AppConfig) -> Server {
    let (hub, db) = hub(hub_config).await;
    serve(app_with(Arc::new(hub), &config), db).await
}

/// The service over a fresh store (`TMF688_TEST_STORE`), with the store's database.
pub async fn hub(hub_config: HubConfig) -> (Hub688<TestStore>, Option<TestBackend>) {
    let (store, db) = TestStore::create("api").await;
    let hub = Hub688::new(Arc::new(store), hub_config)
        .await
        .expect("the store prepares the profile topics");
    (hub, db)
}

/// Serves `app` on a loopback port; `db` (the database behind it) lives as long as
/// the [`Server`].
pub async fn serve(app: Router, db: Option<TestBackend>) -> Server {
    // Bound before the task starts: connections queue until it serves, no race.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().unwrap());
    // The runtime's own serving loop, as tmf688-server serves.
    let task = tokio::spawn(tmf688_runtime::serve(
        listener,
        app,
        ServeConfig::default(),
        std::future::pending(),
    ));
    Server { url, task, db }
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON (`Null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Checks a TMF `Error` body: `code`, `reason`, `status` = the HTTP status,
    /// `@type` = `Error`, and a message containing `needle`. `Err` says what is wrong.
    pub fn tmf_error(&self, status: u16, needle: &str) -> Result<(), String> {
        let body = self.json();
        let mut problems = Vec::new();
        if self.status != status {
            problems.push(format!("status {} (expected {status})", self.status));
        }
        let content_type = self.header("content-type").unwrap_or_default();
        if !content_type.starts_with("application/json") {
            problems.push(format!("content-type {content_type:?}"));
        }
        if body["code"].as_str().is_none_or(str::is_empty) {
            problems.push("no `code`".into());
        }
        if body["reason"].as_str().is_none_or(str::is_empty) {
            problems.push("no `reason`".into());
        }
        if body["status"] != Value::String(self.status.to_string()) {
            problems.push(format!("`status` {}", body["status"]));
        }
        if body["@type"] != "Error" {
            problems.push(format!("`@type` {}", body["@type"]));
        }
        let message = body["message"].as_str().unwrap_or_default();
        if !message.to_lowercase().contains(&needle.to_lowercase()) {
            problems.push(format!("message does not name {needle:?}"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{}; body: {}", problems.join(", "), self.text))
        }
    }
}

/// A request with an optional bearer token and raw body.
pub async fn send(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = http.request(method, url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        text,
    }
}

/// JSON request helper.
pub async fn json(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    match body {
        Some(body) => {
            send(
                http,
                method,
                url,
                token,
                Some("application/json"),
                Some(body.to_string().into_bytes()),
            )
            .await
        }
        None => send(http, method, url, token, None, None).await,
    }
}

/// Polls `check` until it returns `Some` or `deadline` passes.
pub async fn eventually<T, F, Fut>(deadline: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
