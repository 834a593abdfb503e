//! `tmf688-client listen`: a local callback receiver registered as a hub on a topic.
//!
//! It binds `--bind` (default `127.0.0.1:0`, any free port), registers
//! `http://<callback host>:<port>/psi-api/event/v2/topic/<topic>/event` — the shape of
//! a peer hub's own `createEvent` endpoint — on the topic, prints every event POSTed
//! to it as one JSON line on stdout (once per `eventId`: redeliveries are acknowledged
//! but not printed again), and deregisters the hub on Ctrl-C / SIGTERM, or after
//! `--count N` distinct events.

use std::io::Write as _;
use std::net::SocketAddr;

use serde_json::Value;
use tmf688_api::client::Client;
use tmf688_api::models::HubCreate;
use tmf688_api::operations::{CreateHubResponse, DeleteHubResponse};

use crate::receiver::{Receiver, event_key};
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

/// Prints a first arrival as one JSON line; notes a redelivery on stderr.
fn print_event(event: &Value, fresh: bool) {
    if fresh {
        let line = serde_json::to_string(event).unwrap_or_default();
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    } else {
        eprintln!(
            "duplicate event {} acknowledged, not printed again",
            event_key(event).unwrap_or("?")
        );
    }
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
    let receiver = Receiver::start(
        args.bind,
        args.callback_host.as_deref(),
        &args.topic,
        Box::new(print_event),
    )
    .await?;
    let callback = receiver.callback.clone();
    let mut distinct_rx = receiver.distinct();
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
            receiver.stop().await;
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
    receiver.stop().await;
    outcome
}
