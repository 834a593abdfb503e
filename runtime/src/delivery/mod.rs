//! The delivery engine (DESIGN §4): every stored event goes to every qualified hub of
//! its topic, in order per hub, at least once, with retries, halt and resume.
//!
//! * [`config`]: [`DeliveryConfig`], the `[delivery]` table of the server configuration
//!   (retry schedule, timeouts, pool, allowed callback hosts with outbound auth). By
//!   default only loopback callbacks (`127.0.0.1`, `localhost`, `::1`) are allowed.
//! * [`engine`]: [`DeliveryEngine`], one worker task per hub; the cursor moves only
//!   after a 2xx; backoff with jitter and `Retry-After`; halt after the budget, resume
//!   and replay; 410 Gone removes the hub. Progress (cursor, retry state, halt) is saved
//!   in one batched, fenced write every `progress_flush_ms`; with PostgreSQL, hub leases
//!   divide the hubs between replicas.
//! * [`tail`]: the events this process appended last, per topic, parsed at most once
//!   for all filtering hubs, so that workers do not read them back from the store.
//! * [`filter`]: hub `query`, topic `headerQuery`/`contentQuery`, the [`NeedToKnow`]
//!   policy hook.
//! * [`guard`]: the callback allow-list and SSRF guard (registration and delivery).
//! * [`auth`]: outbound authentication per host (static headers, OAuth2 client
//!   credentials with a cached token refreshed on expiry and on a 401).
//! * [`signing`]: Standard Webhooks signatures — outbound per callback host
//!   (`signing_secrets`, several during a key rotation), inbound on `createEvent`
//!   (`[[delivery.inbound_signatures]]`, 401 when missing, forged or stale).
//! * [`notifications`]: the API's own notifications (`TopicCreateEvent`,
//!   `TopicDeleteEvent`, `EventCreateEvent`) to listeners registered with `POST /hub`:
//!   a reserved topic whose hubs are the listeners, so the same workers deliver them.
//! * [`admin`]: the operator API (`/admin/hubs`, resume, replay, metrics), with
//!   [`prometheus`]: `/admin/metrics` in the Prometheus text format.
//! * [`hooks`]: [`DeliveryHooks`], what the service tells the engine (new events wake
//!   the hub workers of their topic at once, without polling).

pub mod admin;
pub mod auth;
pub mod config;
pub mod engine;
pub mod filter;
pub mod guard;
pub mod hooks;
pub mod notifications;
pub mod prometheus;
pub mod retry;
pub mod signing;
pub mod status;
pub mod tail;

pub use config::{CallbackHost, DeliveryConfig, OutboundAuth, PoolConfig, RetryConfig};
pub use engine::{AdminError, DeliveryEngine, EngineError};
pub use filter::{HubFilter, NeedToKnow, RelatedPartiesPolicy, Unrestricted};
pub use hooks::DeliveryHooks;
pub use signing::{InboundSignatures, Secrets};
pub use status::{AttemptRecord, DeliveryState, HubStatus, MetricsSnapshot};
