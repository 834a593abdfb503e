//! The TMF688 / PSI event hub runtime: implements the handler traits of the generated
//! `tmf688-api` crate over a [`Store`], and assembles the HTTP application.
//!
//! * [`store`]: the [`Store`] trait (an append-only event log per topic with sequence
//!   numbers, hubs with delivery cursors), the in-memory [`MemoryStore`] and the
//!   PostgreSQL [`PgStore`] (durable: an acknowledged event is committed; schema in
//!   `runtime/migrations`, explained in `runtime/STORAGE.md`).
//! * [`Hub688`]: the service — topics (the profile's `order`, `inquiry`, `alarm` exist
//!   from the start, id = name, and cannot be deleted), events (server-assigned
//!   `id`/`href`, idempotent on `eventId`), hubs (idempotent on (topic, callback,
//!   query, owner)), API listeners (`POST /hub`), and the TMF630 query language ([`query`]:
//!   `fields`, attribute filters with operators, `offset`/`limit` paging with
//!   `X-Total-Count`/`X-Result-Count` and 206 for a partial page).
//! * [`app`](mod@app): the generated router under every base path of the profile (PSI paths serve
//!   only the PSI operations), `/health`, `/openapi.json`.
//! * [`serve`](mod@serve): serving it over TCP with header, body and idle timeouts, a
//!   connection cap, limits on the request target and header fields, graceful shutdown.
//! * [`auth`]: inbound authentication (API keys stored hashed, JWTs with HS*/RS*/PS*/
//!   ES*/EdDSA keys) and the profile's role matrix as a route layer ([`AppConfig::auth`]);
//!   the caller's [`Principal`] owns the hubs it registers.
//! * [`access`]: who may see what — the need-to-know policy over events and the
//!   ownership of hubs and listeners, for delivery and every read path alike.
//! * [`config`]: the server's TOML configuration file.
//! * the operator console at `/console` (server-rendered, htmx compiled in, admin only,
//!   browser sessions with CSRF checks) and `GET /metrics` (Prometheus text, access per
//!   `[metrics] auth`), mounted by [`app_with`] when a delivery engine is attached.
//! * [`limits`]: what the hub agrees to store (lengths, characters), checked above the
//!   stores so that every store answers bad input alike.
//! * [`delivery`]: the delivery engine (DESIGN §4): one worker per hub, in order, at
//!   least once, backoff and `Retry-After`, halt/resume/replay through `/admin/hubs`,
//!   the callback host allow-list (default: loopback only) and SSRF guard, outbound
//!   auth and Standard Webhooks signing per host (and signature verification on
//!   `createEvent`), the API's own notifications to listeners registered with
//!   `POST /hub`. Start it with [`delivery::DeliveryEngine::start`] before serving.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use tmf688_runtime::{Hub688, HubConfig, MemoryStore, ServeConfig, app, serve};
//!
//! let hub = Hub688::new(Arc::new(MemoryStore::new()), HubConfig::default()).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve(listener, app(Arc::new(hub)), ServeConfig::default(), std::future::pending()).await;
//! # Ok(()) }
//! ```
//!
//! # Limits
//!
//! No retention: topic logs grow until topics are deleted. Attribute filters of
//! `listEvent` are evaluated in the process (linear in the log). Further limits of the
//! PostgreSQL store and of replicas are listed in `runtime/STORAGE.md`.

pub mod access;
pub mod app;
pub mod auth;
pub mod config;
mod console;
pub mod delivery;
pub mod limits;
mod metrics;
mod nulls;
pub mod query;
pub mod serve;
pub mod service;
pub mod store;
mod sync;

pub use app::{
    AppConfig, app, app_with, check_disabled_base_paths, listener_app, listener_app_with,
    served_base_paths,
};
pub use auth::{AuthConfig, Authenticator, Issuer, Principal};
pub use query::PagingConfig;
pub use serve::{ServeConfig, serve};
pub use service::{Hub688, HubConfig, Quotas, ScanLimits};
pub use store::{JetStreamOptions, JetStreamStore, MemoryStore, PgStore, Store, StoreError};
