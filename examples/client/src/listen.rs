//! `tmf688-client listen`: a local callback receiver registered as a hub on a topic.
//!
//! It binds `--bind` (default `127.0.0.1:0`, any free port), registers
//! `http://<callback host>:<port>/psi-api/event/v2/topic/<topic>/event` — the shape of
//! a peer hub's own `createEvent` endpoint — on the topic, prints every event POSTed
//! to it as one JSON line on stdout (once per `eventId`: redeliveries are acknowledged
//! but not printed again), and deregisters the hub on Ctrl-C / SIGTERM, or after
//! `--count N` distinct events.

use std::collections::HashSet;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse as _, Response};
use axum::routing::post;
use http::{HeaderMap, StatusCode};
use serde_json::Value;
use tmf688_api::client::Client;
use tmf688_api::models::HubCreate;
use tmf688_api::operations::{CreateHubResponse, DeleteHubResponse};
use tmf688_api::support::{ApiError, encode_path_segment, json_response};
use tokio::sync::watch;

use crate::{Failure, IntoFailure as _};

/// What `listen` was asked for.
#[derive(Debug)]
pub struct ListenArgs {
    pub topic: String,
    pub bind: SocketAddr,
    pub callback_host: Option<String>,
    pub query: Option<String>,
    pub count: Option<u64>,
}

struct Receiver {
    seen: Mutex<HashSet<String>>,
    /// Distinct events received so far.
    distinct: watch::Sender<u64>,
}

/// Accepts an event: prints it once per `eventId`, answers 201 with it.
async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
    let key = event
        .get("eventId")
        .or_else(|| event.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let fresh = match &key {
        Some(key) => receiver
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key.clone()),
        None => true,
    };
    if fresh {
        let line = serde_json::to_string(&event).unwrap_or_default();
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
        drop(stdout);
        receiver.distinct.send_modify(|n| *n += 1);
    } else {
        eprintln!(
            "duplicate event {} acknowledged, not printed again",
            key.as_deref().unwrap_or("?")
        );
    }
    json_response(StatusCode::CREATED, &event)
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn interrupted() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// Runs the receiver, registers it, waits, deregisters.
pub async fn listen(client: &Client, args: ListenArgs) -> Result<(), Failure> {
    if args.count == Some(0) {
        return Err(Failure::Input("--count must be at least 1".into()));
    }
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|error| Failure::Input(format!("could not listen on {}: {error}", args.bind)))?;
    let local = listener
        .local_addr()
        .map_err(|error| Failure::Input(format!("no local address: {error}")))?;
    let host = match &args.callback_host {
        Some(host) => host.clone(),
        None if local.ip().is_unspecified() => {
            return Err(Failure::Input(format!(
                "--bind {} listens on every interface: give --callback-host, the name or \
                 address the hub reaches this machine at",
                args.bind
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
        encode_path_segment(&args.topic)
    );

    let (distinct, mut distinct_rx) = watch::channel(0u64);
    let receiver = Arc::new(Receiver {
        seen: Mutex::new(HashSet::new()),
        distinct,
    });
    let app = Router::new()
        .route("/{*path}", post(receive))
        .route("/", post(receive))
        .with_state(receiver);
    let (stop, stop_rx) = watch::channel(false);
    let server = tokio::spawn(async move {
        let mut stop_rx = stop_rx;
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    eprintln!("receiving on {callback}");

    let body = HubCreate {
        callback: tmf688_api::support::Uri::parse(&callback)
            .map_err(|error| Failure::Input(error.to_string()))?,
        query: args.query.clone(),
        at_base_type: None,
        at_schema_location: None,
        at_type: None,
        additional_properties: Default::default(),
    };
    let hub_id = match client.create_hub(&args.topic, &body).await? {
        CreateHubResponse::Created { body, location } => {
            eprintln!(
                "registered hub {} on topic {}{}",
                body.id,
                args.topic,
                location.map(|l| format!(" ({l})")).unwrap_or_default()
            );
            body.id
        }
        other => {
            let _ = stop.send(true);
            return Err(other.into_failure());
        }
    };

    let reason = match args.count {
        Some(count) => tokio::select! {
            () = interrupted() => "interrupted".to_owned(),
            _ = distinct_rx.wait_for(|n| *n >= count) => format!("received {count} events"),
        },
        None => {
            interrupted().await;
            "interrupted".to_owned()
        }
    };
    eprintln!("{reason}: deregistering hub {hub_id}");
    let outcome = match client.delete_hub(&args.topic, &hub_id).await {
        Ok(DeleteHubResponse::NoContent) => {
            eprintln!("deregistered hub {hub_id} of topic {}", args.topic);
            Ok(())
        }
        Ok(other) => Err(other.into_failure()),
        Err(error) => Err(Failure::from(error)),
    };
    let _ = stop.send(true);
    let _ = server.await;
    outcome
}
