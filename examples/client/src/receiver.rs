//! A local callback receiver: the HTTP endpoint a hub POSTs events to, shared by
//! `listen` (prints each event) and `check` (records arrivals).
//!
//! It binds an address (port 0: any free port), answers every `POST` with 201 and the
//! event, de-duplicates on `eventId` (else `id`) and hands each event to the caller's
//! [`OnEvent`] with whether it is the first arrival of that key.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse as _, Response};
use axum::routing::post;
use http::{HeaderMap, StatusCode};
use serde_json::Value;
use tmf688_api::support::{ApiError, encode_path_segment, json_response};
use tokio::sync::watch;

use crate::Failure;

/// Called for every event received: the event, and `true` on the first arrival of its
/// `eventId` (`false` for a redelivery).
pub type OnEvent = Box<dyn Fn(&Value, bool) + Send + Sync>;

struct Shared {
    seen: Mutex<HashSet<String>>,
    /// Distinct events received so far.
    distinct: watch::Sender<u64>,
    on_event: OnEvent,
}

/// A running receiver; [`Receiver::stop`] ends it.
pub struct Receiver {
    /// The URL the hub is asked to call.
    pub callback: String,
    distinct: watch::Receiver<u64>,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Accepts an event: hands it on, answers 201 with it.
async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(content_type) = headers.get(http::header::CONTENT_TYPE) {
        let essence = content_type
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type",
                format!("expected an application/json event, got {essence:?}"),
            )
            .into_response();
        }
    }
    let event: Value = match serde_json::from_slice(&body) {
        Ok(Value::Object(map)) => Value::Object(map),
        Ok(_) => return ApiError::bad_request("the event must be a JSON object").into_response(),
        Err(error) => {
            return ApiError::bad_request(format!("the event is not JSON: {error}"))
                .into_response();
        }
    };
    // Deduplicate on eventId (at-least-once delivery); without one, on `id`.
    let fresh = match event_key(&event) {
        Some(key) => shared
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key.to_owned()),
        None => true,
    };
    (shared.on_event)(&event, fresh);
    if fresh {
        shared.distinct.send_modify(|n| *n += 1);
    }
    json_response(StatusCode::CREATED, &event)
}

/// What a receiver de-duplicates on: `eventId`, else `id`.
pub fn event_key(event: &Value) -> Option<&str> {
    event
        .get("eventId")
        .or_else(|| event.get("id"))
        .and_then(Value::as_str)
}

impl Receiver {
    /// Binds `bind` and serves. The callback URL is
    /// `http://<callback host>:<port>/psi-api/event/v2/topic/<topic>/event` — the shape of
    /// a peer hub's own `createEvent` endpoint; the host is `callback_host`, else the
    /// bound address (refused when that is unspecified, e.g. `0.0.0.0`).
    pub async fn start(
        bind: SocketAddr,
        callback_host: Option<&str>,
        topic: &str,
        on_event: OnEvent,
    ) -> Result<Self, Failure> {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|error| Failure::Input(format!("could not listen on {bind}: {error}")))?;
        let local = listener
            .local_addr()
            .map_err(|error| Failure::Input(format!("no local address: {error}")))?;
        let host = match callback_host {
            Some(host) => host.to_owned(),
            None if local.ip().is_unspecified() => {
                return Err(Failure::Input(format!(
                    "--bind {bind} listens on every interface: give --callback-host, the name \
                     or address the hub reaches this machine at"
                )));
            }
            None => match local.ip() {
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                std::net::IpAddr::V4(ip) => ip.to_string(),
            },
        };
        let callback = format!(
            "http://{host}:{}/psi-api/event/v2/topic/{}/event",
            local.port(),
            encode_path_segment(topic)
        );
        let (distinct, distinct_rx) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            seen: Mutex::new(HashSet::new()),
            distinct,
            on_event,
        });
        let app = Router::new()
            .route("/{*path}", post(receive))
            .route("/", post(receive))
            .with_state(shared);
        let (stop, mut stop_rx) = watch::channel(false);
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.wait_for(|stop| *stop).await;
                })
                .await
        });
        Ok(Self {
            callback,
            distinct: distinct_rx,
            stop,
            server,
        })
    }

    /// The number of distinct events received so far, as a watch.
    pub fn distinct(&self) -> watch::Receiver<u64> {
        self.distinct.clone()
    }

    /// Stops serving and waits for the server to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
    }
}
