//! `tmf688-server`: the reference TMF688 / PSI event hub, in memory or on PostgreSQL.
//!
//! Serves the TMF688 API under `/tmf-api/event/v4`, the PSI profile under
//! `/psi-api/event/v2` (and its alias `/psi/event/v2`), `/health` and `/openapi.json`,
//! and for operators `/admin`, `/metrics` (Prometheus) and the console at `/console`.
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
//! Settings come from flags, environment variables (`TMF688_*`) and an optional TOML
//! file (`--config` / `TMF688_CONFIG`; see `examples/server/config.example.toml`);
//! flags and environment variables override the file.
//!
//! With `--database-url` / `DATABASE_URL` (or `database_url` in the file) everything is
//! kept in PostgreSQL (schema migrated at start-up; an acknowledged event is durable,
//! hubs and cursors survive restarts); with `--nats-url` / `TMF688_NATS_URL` (or
//! `nats_url`) in NATS JetStream (streams and key-value buckets created at start-up);
//! without either, in memory.
//!
//! Connections are served within limits (`tmf688_runtime::serve`): header read, body
//! read and idle timeouts, a cap on concurrent connections (lowered to what the
//! open-file limit leaves; the soft limit is raised to the hard one at start-up), and
//! limits on the request target and header fields.
//!
//! Inbound authentication (API keys and JWTs, the PSI role matrix) is on as soon as
//! the file configures `[[auth.api_keys]]` or `[[auth.jwt]]`. Without it the server
//! runs only on a loopback address and says loudly that every caller is trusted; on
//! any other address it refuses to start, unless `--allow-unauthenticated` says that
//! something in front of it (a gateway or mesh) authenticates callers.

mod open_files;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, ValueEnum};
use tmf688_runtime::config::{self, Config};
use tmf688_runtime::delivery::DeliveryEngine;
use tmf688_runtime::delivery::retention::{Limit, RetentionConfig, parse_duration};
use tmf688_runtime::store::postgres::{DEFAULT_MAX_CONNECTIONS, redacted_url};
use tmf688_runtime::{
    AppConfig, Authenticator, Hub688, HubConfig, JetStreamOptions, JetStreamStore, MemoryStore,
    PagingConfig, PgStore, ServeConfig, Store, app_with,
};
use tracing_subscriber::EnvFilter;

/// The reference TMF688 / PSI event hub (in memory, or on PostgreSQL).
#[derive(Debug, Parser)]
#[command(name = "tmf688-server", version, about)]
struct Args {
    /// A TOML configuration file (listen, logs, paging, body limit, `[[auth.api_keys]]`,
    /// `[[auth.jwt]]`, `[delivery]`); flags and environment variables override it.
    #[arg(long, env = "TMF688_CONFIG", value_name = "FILE")]
    config: Option<std::path::PathBuf>,

    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "TMF688_LISTEN")]
    listen: Option<SocketAddr>,

    /// Log format [default: pretty].
    #[arg(long, env = "TMF688_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,

    /// Log filter (tracing `EnvFilter` syntax) [default: info]; `RUST_LOG` wins.
    #[arg(long, env = "TMF688_LOG")]
    log: Option<String>,

    /// Largest request body accepted, in bytes (larger: 413) [default: 1048576].
    #[arg(long, env = "TMF688_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,

    /// Close a connection whose request head (request line and headers) is not complete
    /// this many ms after the accept, or after the first byte of a further request
    /// [default: 10000].
    #[arg(long, env = "TMF688_HEADER_READ_TIMEOUT_MS", value_name = "MS")]
    header_read_timeout_ms: Option<u64>,

    /// Answer 408 (and close) when a request body is not complete this many ms after
    /// its head [default: 30000].
    #[arg(long, env = "TMF688_BODY_READ_TIMEOUT_MS", value_name = "MS")]
    body_read_timeout_ms: Option<u64>,

    /// Close a kept-alive connection that sends no new request (or does not read its
    /// answer) for this many ms [default: 60000].
    #[arg(long, env = "TMF688_IDLE_TIMEOUT_MS", value_name = "MS")]
    idle_timeout_ms: Option<u64>,

    /// Connections served at once; more wait in the listen backlog. Lowered to what the
    /// open-file limit leaves [default: 10000].
    #[arg(long, env = "TMF688_MAX_CONNECTIONS")]
    max_connections: Option<usize>,

    /// Connections served at once for one peer (IPv4 address, IPv6 /64); more from it
    /// are closed on accept [default: a quarter of max-connections].
    #[arg(long, env = "TMF688_MAX_CONNECTIONS_PER_IP")]
    max_connections_per_ip: Option<usize>,

    /// Longest request target (path and query) accepted, in bytes (longer: 414)
    /// [default: 8192].
    #[arg(long, env = "TMF688_MAX_URI_BYTES")]
    max_uri_bytes: Option<usize>,

    /// Most header field bytes (names and values together) accepted (more: 431)
    /// [default: 16384].
    #[arg(long, env = "TMF688_MAX_HEADER_BYTES")]
    max_header_bytes: Option<usize>,

    /// A base path of the profile not to serve (e.g. `/psi/event/v2`); repeat the flag or
    /// separate paths by commas. Replaces the file's `disabled_base_paths` [default: none].
    #[arg(
        long = "disable-base-path",
        env = "TMF688_DISABLED_BASE_PATHS",
        value_name = "PATH",
        value_delimiter = ','
    )]
    disabled_base_paths: Vec<String>,

    /// Page size of list operations when the request gives no `limit` [default: 100].
    #[arg(long, env = "TMF688_DEFAULT_LIMIT")]
    default_limit: Option<usize>,

    /// Largest page of list operations [default: 1000].
    #[arg(long, env = "TMF688_MAX_LIMIT")]
    max_limit: Option<usize>,

    /// Listen on a non-loopback address without inbound authentication configured.
    /// Only for deployments where something in front of the server (an API gateway, a
    /// service mesh) authenticates every caller — e.g. in a container, which must bind
    /// 0.0.0.0 to be reachable at all. Anyone who reaches the port directly may call
    /// every operation.
    #[arg(long, env = "TMF688_ALLOW_UNAUTHENTICATED")]
    allow_unauthenticated: bool,

    /// Keep topics, events, hubs and listeners in this PostgreSQL database
    /// (`postgres://user@host:5432/db`; no TLS) instead of in memory. The schema is
    /// created or updated at start-up.
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,

    /// Connections in the PostgreSQL pool [default: 16].
    #[arg(long, env = "TMF688_DATABASE_MAX_CONNECTIONS")]
    database_max_connections: Option<u32>,

    /// Keep topics, events, hubs and listeners in NATS JetStream at this URL
    /// (`nats://host:4222`, JetStream enabled) instead of in memory: a stream per
    /// topic's log, key-value buckets for the rest, created at start-up. Exclusive with
    /// --database-url.
    #[arg(
        long,
        env = "TMF688_NATS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    nats_url: Option<String>,

    /// Prefix of the JetStream streams and buckets [default: tmf688].
    #[arg(long, env = "TMF688_NATS_PREFIX", value_name = "PREFIX")]
    nats_prefix: Option<String>,

    /// Replicas of each JetStream stream and bucket: 1 on a single server, 3 in a
    /// cluster [default: 1].
    #[arg(long, env = "TMF688_NATS_REPLICAS", value_name = "N")]
    nats_replicas: Option<usize>,

    /// Retention: the default max_age of every topic's events, e.g. `7d`, or `off`
    /// (events every hub passed and older than this are removed) [default: 7d]
    #[arg(long, env = "TMF688_RETENTION_MAX_AGE", value_name = "DURATION")]
    retention_max_age: Option<String>,

    /// Retention: the default max_events of every topic (the newest N are kept), or
    /// `off` [default: off]
    #[arg(long, env = "TMF688_RETENTION_MAX_EVENTS", value_name = "N")]
    retention_max_events: Option<String>,

    /// Retention: give up events a hub was not delivered within this long (the hub is
    /// halted, the range recorded as a dead letter), e.g. `2d`, or `off` [default: off]
    #[arg(
        long,
        env = "TMF688_RETENTION_MAX_UNDELIVERED_AGE",
        value_name = "DURATION"
    )]
    retention_max_undelivered_age: Option<String>,

    /// Retention: how often the trimmer runs, e.g. `1m`, or `off` [default: 1m]
    #[arg(long, env = "TMF688_RETENTION_INTERVAL", value_name = "DURATION")]
    retention_interval: Option<String>,
}

/// Flags and environment variables over the file over the defaults.
#[derive(Debug)]
struct Settings {
    listen: SocketAddr,
    log_format: LogFormat,
    log: String,
    max_body_bytes: usize,
    /// Base paths of the profile not served.
    disabled_base_paths: Vec<String>,
    /// Timeouts and connection limits (the cap before the open-file limit lowers it).
    serve: ServeConfig,
    default_limit: usize,
    max_limit: usize,
    allow_unauthenticated: bool,
    database_url: Option<String>,
    database_max_connections: u32,
    /// `--nats-url` and the store's options.
    nats: Option<(String, JetStreamOptions)>,
    file: Config,
}

impl Settings {
    fn resolve(args: Args) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        let serve = serve_config(&args, &file)?;
        let disabled_base_paths = if args.disabled_base_paths.is_empty() {
            file.disabled_base_paths.clone().unwrap_or_default()
        } else {
            args.disabled_base_paths.clone()
        };
        // `"/psi/event/v2, /event/v2"`: entries trimmed, empty ones (a trailing comma)
        // dropped.
        let disabled_base_paths: Vec<String> = disabled_base_paths
            .iter()
            .map(|path| path.trim().to_owned())
            .filter(|path| !path.is_empty())
            .collect();
        tmf688_runtime::check_disabled_base_paths(&disabled_base_paths)
            .map_err(anyhow::Error::msg)?;
        let mut file = file;
        retention_flags(&args, &mut file.retention)?;
        let nats = nats_settings(&args, &file)?;
        file.metrics.validate().map_err(anyhow::Error::msg)?;
        Ok(Self {
            disabled_base_paths,
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            log_format: args
                .log_format
                .or(file.log_format.map(|format| match format {
                    config::LogFormat::Pretty => LogFormat::Pretty,
                    config::LogFormat::Json => LogFormat::Json,
                }))
                .unwrap_or(LogFormat::Pretty),
            log: args
                .log
                .or_else(|| file.log.clone())
                .unwrap_or_else(|| "info".into()),
            max_body_bytes: args
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(1024 * 1024),
            serve,
            default_limit: args
                .default_limit
                .or(file.paging.default_limit)
                .unwrap_or(100),
            max_limit: args.max_limit.or(file.paging.max_limit).unwrap_or(1000),
            allow_unauthenticated: args.allow_unauthenticated
                || file.allow_unauthenticated.unwrap_or(false),
            database_url: args
                .database_url
                .filter(|url| !url.is_empty())
                .or_else(|| file.database_url.clone()),
            database_max_connections: args
                .database_max_connections
                .or(file.database_max_connections)
                .unwrap_or(DEFAULT_MAX_CONNECTIONS),
            nats,
            file,
        })
    }
}

/// `--nats-url` and its options (flags over the file); `None`: not JetStream.
fn nats_settings(args: &Args, file: &Config) -> anyhow::Result<Option<(String, JetStreamOptions)>> {
    let Some(url) = args
        .nats_url
        .clone()
        .filter(|url| !url.is_empty())
        .or_else(|| file.nats_url.clone())
    else {
        return Ok(None);
    };
    let database = args
        .database_url
        .as_ref()
        .is_some_and(|url| !url.is_empty())
        || file.database_url.is_some();
    if database {
        bail!("--nats-url and --database-url both given: choose one store");
    }
    let defaults = JetStreamOptions::default();
    let options = JetStreamOptions {
        prefix: args
            .nats_prefix
            .clone()
            .or_else(|| file.nats_prefix.clone())
            .unwrap_or(defaults.prefix),
        replicas: args
            .nats_replicas
            .or(file.nats_replicas)
            .unwrap_or(defaults.replicas),
        ..defaults
    };
    if !(1..=5).contains(&options.replicas) {
        bail!("--nats-replicas must be between 1 and 5");
    }
    Ok(Some((url, options)))
}

/// The `--retention-*` flags (or their environment variables) over `[retention]`.
fn retention_flags(args: &Args, retention: &mut RetentionConfig) -> anyhow::Result<()> {
    let duration = |flag: &str, value: &str| -> anyhow::Result<Limit<Duration>> {
        if value.trim() == "off" {
            return Ok(Limit::Off);
        }
        parse_duration(value)
            .map(Limit::On)
            .map_err(|why| anyhow::anyhow!("--{flag}: {why}"))
    };
    if let Some(value) = &args.retention_max_age {
        retention.max_age = duration("retention-max-age", value)?;
    }
    if let Some(value) = &args.retention_max_undelivered_age {
        retention.max_undelivered_age = duration("retention-max-undelivered-age", value)?;
    }
    if let Some(value) = &args.retention_interval {
        retention.interval = duration("retention-interval", value)?;
    }
    if let Some(value) = &args.retention_max_events {
        retention.max_events = match value.trim() {
            "off" => Limit::Off,
            number => match number.parse::<u64>() {
                Ok(n) if n > 0 => Limit::On(n),
                _ => anyhow::bail!(
                    "--retention-max-events: {value:?} is not a number of events (at least 1) or `off`"
                ),
            },
        };
    }
    retention.validate().map_err(anyhow::Error::msg)
}

/// The serving limits: flag or environment, else the file, else the default; zero is
/// refused (every limit needs a positive value).
fn serve_config(args: &Args, file: &Config) -> anyhow::Result<ServeConfig> {
    fn positive<T: Copy + Default + PartialEq>(
        name: &str,
        flag: Option<T>,
        file: Option<T>,
        default: T,
    ) -> anyhow::Result<T> {
        match flag.or(file) {
            Some(value) if value == T::default() => bail!("--{name} must be at least 1"),
            value => Ok(value.unwrap_or(default)),
        }
    }
    fn millis(
        name: &str,
        flag: Option<u64>,
        file: Option<u64>,
        default: Duration,
    ) -> anyhow::Result<Duration> {
        let default = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
        positive(name, flag, file, default).map(Duration::from_millis)
    }
    let defaults = ServeConfig::default();
    Ok(ServeConfig {
        header_read_timeout: millis(
            "header-read-timeout-ms",
            args.header_read_timeout_ms,
            file.header_read_timeout_ms,
            defaults.header_read_timeout,
        )?,
        body_read_timeout: millis(
            "body-read-timeout-ms",
            args.body_read_timeout_ms,
            file.body_read_timeout_ms,
            defaults.body_read_timeout,
        )?,
        idle_timeout: millis(
            "idle-timeout-ms",
            args.idle_timeout_ms,
            file.idle_timeout_ms,
            defaults.idle_timeout,
        )?,
        max_connections: positive(
            "max-connections",
            args.max_connections,
            file.max_connections,
            defaults.max_connections,
        )?,
        max_connections_per_ip: match args.max_connections_per_ip.or(file.max_connections_per_ip) {
            Some(0) => bail!("--max-connections-per-ip must be at least 1"),
            other => other,
        },
        max_uri_bytes: positive(
            "max-uri-bytes",
            args.max_uri_bytes,
            file.max_uri_bytes,
            defaults.max_uri_bytes,
        )?,
        max_header_bytes: positive(
            "max-header-bytes",
            args.max_header_bytes,
            file.max_header_bytes,
            defaults.max_header_bytes,
        )?,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

fn init_logging(args: &Settings) -> anyhow::Result<()> {
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
    let mut args = Settings::resolve(args)?;
    init_logging(&args)?;

    // Every connection is a file descriptor: take all the hard limit allows, and keep
    // the cap below it with room for the database pool and outbound deliveries.
    let open_files = open_files::raise_to_hard_limit();
    let database_connections = if args.database_url.is_some() {
        args.database_max_connections
    } else {
        0
    };
    let reserve = open_files::reserve(database_connections, args.file.delivery.pool.max_in_flight);
    let configured = args.serve.max_connections;
    args.serve.max_connections = open_files::connection_cap(configured, open_files, reserve);
    if args.serve.max_connections < configured {
        tracing::warn!(
            configured,
            max_connections = args.serve.max_connections,
            open_files,
            reserve,
            "max_connections lowered to fit the open-file limit"
        );
    }

    if args.default_limit == 0 || args.max_limit < args.default_limit {
        bail!("--default-limit must be at least 1 and at most --max-limit");
    }
    let loopback = args.listen.ip().is_loopback();
    let auth = if args.file.auth.is_configured() {
        let auth = Authenticator::from_config(&args.file.auth)
            .context("the [auth] configuration cannot be used")?;
        let (keys, jwts) = auth.counts();
        tracing::info!(
            api_keys = keys,
            jwt_keys = jwts,
            "inbound authentication on: PSI role matrix enforced"
        );
        Some(Arc::new(auth))
    } else {
        if !loopback && !args.allow_unauthenticated {
            bail!(
                "refusing to listen on {} without authentication: configure [[auth.api_keys]] \
                 or [[auth.jwt]] in a --config file (see examples/server/config.example.toml), \
                 listen on a loopback address, or pass --allow-unauthenticated if a gateway in \
                 front of this server authenticates every caller.",
                args.listen
            );
        }
        eprintln!(
            "\n*** WARNING: authentication is NOT configured. Every caller that can reach {} \
             may call every operation (topics, events, hubs). Configure [auth] in a --config \
             file to enforce the PSI role matrix. ***\n",
            args.listen
        );
        tracing::warn!(listen = %args.listen, "inbound authentication is not configured: all callers are trusted");
        None
    };

    let config = HubConfig {
        paging: PagingConfig {
            default_limit: args.default_limit,
            max_limit: args.max_limit,
        },
        quotas: args.file.quotas.clone(),
        scans: args.file.scans.clone(),
    };
    // Monomorphised paths, no boxing: the store is a type parameter throughout.
    if let Some((url, options)) = args.nats.clone() {
        tracing::info!(nats = %redacted_url(&url), prefix = %options.prefix, replicas = options.replicas, "connecting to NATS JetStream");
        let store = JetStreamStore::connect(&url, options)
            .await
            .with_context(|| format!("could not open the store at {}", redacted_url(&url)))?;
        return serve(args, auth, config, Arc::new(store), "jetstream").await;
    }
    match args.database_url.clone() {
        Some(url) => {
            tracing::info!(database = %redacted_url(&url), "connecting to PostgreSQL");
            let store = PgStore::connect(&url, args.database_max_connections)
                .await
                .with_context(|| format!("could not open the store at {}", redacted_url(&url)))?;
            let pool = store.pool().clone();
            let served = serve(args, auth, config, Arc::new(store), "postgres").await;
            pool.close().await;
            served
        }
        None => serve(args, auth, config, Arc::new(MemoryStore::new()), "memory").await,
    }
}

/// Serves the API over `store` until a shutdown signal, then stops delivery.
async fn serve<S: Store>(
    args: Settings,
    auth: Option<Arc<Authenticator>>,
    config: HubConfig,
    store: Arc<S>,
    store_kind: &'static str,
) -> anyhow::Result<()> {
    let hub = Hub688::new(store, config)
        .await
        .context("could not prepare the store")?;
    // The delivery engine: one worker per hub, cursors advance after a 2xx only. By
    // default only loopback callback hosts are allowed ([delivery] widens that).
    let engine = DeliveryEngine::start(&hub, args.file.delivery.clone())
        .await
        .context("could not start the delivery engine")?;
    // Retention: the trimmer, and what /admin/topics shows.
    engine
        .start_retention(args.file.retention.clone())
        .context("could not start retention")?;
    let app = app_with(
        Arc::new(hub),
        &AppConfig {
            max_body_bytes: args.max_body_bytes,
            auth,
            disabled_base_paths: args.disabled_base_paths.clone(),
            metrics: args.file.metrics.clone(),
            console: args.file.console.clone(),
        },
    );

    let limits = &args.serve;
    tracing::info!(
        header_read_timeout_ms = limits.header_read_timeout.as_millis(),
        body_read_timeout_ms = limits.body_read_timeout.as_millis(),
        idle_timeout_ms = limits.idle_timeout.as_millis(),
        max_connections = limits.max_connections,
        max_uri_bytes = limits.max_uri_bytes,
        max_header_bytes = limits.max_header_bytes,
        max_body_bytes = args.max_body_bytes,
        "connection limits"
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    // Only what `app_with` mounted: a disabled base path is not served (404).
    for base in tmf688_runtime::served_base_paths(&args.disabled_base_paths) {
        tracing::info!("serving http://{local}{}", base.path);
    }
    tracing::info!(store = store_kind, topics = ?tmf688_api::profile::TOPICS.iter().map(|t| t.name).collect::<Vec<_>>(), "tmf688-server listening on {local}");

    tmf688_runtime::serve(listener, app, args.serve, shutdown_signal()).await;
    // In-flight deliveries get `delivery.shutdown_grace_ms`, then are abandoned; the
    // cursors only moved after 2xx answers, so nothing is lost.
    engine.shutdown().await;
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
