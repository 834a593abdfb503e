//! `tmf688-server`: the reference TMF688 / PSI event hub, in memory.
//!
//! Serves the TMF688 API under `/tmf-api/event/v4`, the PSI profile under
//! `/psi-api/event/v2` (and its alias `/psi/event/v2`), `/health` and `/openapi.json`.
//! The profile's topics `order`, `inquiry` and `alarm` exist from the start.
//!
//! Run with:
//!
//! ```text
//! cargo run --release --bin tmf688-server                     # 127.0.0.1:8080, pretty logs
//! cargo run --release --bin tmf688-server -- --listen 127.0.0.1:9090 --log-format json
//!
//! curl -s http://127.0.0.1:8080/health
//! curl -s http://127.0.0.1:8080/psi-api/event/v2/topic
//! curl -s -X POST http://127.0.0.1:8080/psi-api/event/v2/topic/order/hub \
//!      -H 'Content-Type: application/json' \
//!      -d '{"callback": "http://127.0.0.1:9090/psi-api/event/v2/topic/order/event"}'
//! curl -s -X POST http://127.0.0.1:8080/tmf-api/event/v4/topic/alarm/event \
//!      -H 'Content-Type: application/json' \
//!      -d '{"@type": "AlarmCreateEvent", "eventId": "e-1", "eventType": "AlarmCreateEvent", "event": {"id": "a1"}}'
//! curl -s 'http://127.0.0.1:8080/tmf-api/event/v4/topic/alarm/event?eventType=AlarmCreateEvent&fields=eventId'
//! ```
//!
//! Inbound authentication does not exist yet: the server says so loudly, and refuses
//! to listen on a non-loopback address unless `--allow-unauthenticated` is given.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};
use tmf688_runtime::{AppConfig, Hub688, HubConfig, MemoryStore, PagingConfig, app_with};
use tracing_subscriber::EnvFilter;

/// The reference TMF688 / PSI event hub (in-memory store).
#[derive(Debug, Parser)]
#[command(name = "tmf688-server", version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "TMF688_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,

    /// Log format.
    #[arg(long, env = "TMF688_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,

    /// Log filter (tracing `EnvFilter` syntax); `RUST_LOG` works too.
    #[arg(long, env = "TMF688_LOG", default_value = "info")]
    log: String,

    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, env = "TMF688_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,

    /// Page size of list operations when the request gives no `limit`.
    #[arg(long, env = "TMF688_DEFAULT_LIMIT", default_value_t = 100)]
    default_limit: usize,

    /// Largest page of list operations.
    #[arg(long, env = "TMF688_MAX_LIMIT", default_value_t = 1000)]
    max_limit: usize,

    /// Listen on a non-loopback address although inbound authentication is not
    /// available yet (anyone who can reach the port can call every operation).
    #[arg(long, env = "TMF688_ALLOW_UNAUTHENTICATED")]
    allow_unauthenticated: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

fn init_logging(args: &Args) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(value) if !value.is_empty() => EnvFilter::try_new(value),
        _ => EnvFilter::try_new(&args.log),
    }
    .context("invalid log filter")?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match args.log_format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")
        .and_then(|runtime| runtime.block_on(run(args)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    init_logging(&args)?;

    if args.default_limit == 0 || args.max_limit < args.default_limit {
        bail!("--default-limit must be at least 1 and at most --max-limit");
    }
    let loopback = args.listen.ip().is_loopback();
    if !loopback && !args.allow_unauthenticated {
        bail!(
            "refusing to listen on {} without authentication: inbound authentication is not \
             implemented yet. Listen on a loopback address, or pass --allow-unauthenticated \
             if the network is trusted.",
            args.listen
        );
    }
    eprintln!(
        "\n*** WARNING: authentication is NOT configured. Every caller that can reach {} may \
         call every operation (topics, events, hubs). ***\n",
        args.listen
    );
    tracing::warn!(listen = %args.listen, "inbound authentication is not configured: all callers are trusted");

    let config = HubConfig {
        paging: PagingConfig {
            default_limit: args.default_limit,
            max_limit: args.max_limit,
        },
    };
    let hub = Hub688::new(Arc::new(MemoryStore::new()), config)
        .await
        .context("could not prepare the store")?;
    let app = app_with(
        Arc::new(hub),
        &AppConfig {
            max_body_bytes: args.max_body_bytes,
        },
    );

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    for base in tmf688_api::profile::BASE_PATHS {
        tracing::info!("serving http://{local}{}", base.path);
    }
    tracing::info!(store = "memory", topics = ?tmf688_api::profile::TOPICS.iter().map(|t| t.name).collect::<Vec<_>>(), "tmf688-server listening on {local}");

    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "could not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "could not listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
