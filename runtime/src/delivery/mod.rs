//! The delivery engine (DESIGN §4): every stored event goes to every qualified hub of
//! its topic, in order per hub, at least once, with retries, halt and resume.
//!
//! * [`config`]: [`DeliveryConfig`], the `[delivery]` table of the server configuration
//!   (retry schedule, timeouts, pool, allowed callback hosts with outbound auth). By
//!   default only loopback callbacks (`127.0.0.1`, `localhost`, `::1`) are allowed.
//! * [`engine`]: [`DeliveryEngine`], which starts and stops the parts below.
//!   * `supervisor`: one worker task per hub; with PostgreSQL, hub leases divide the
//!     hubs between replicas (fair share, hand-back on join and leave).
//!   * `worker`: a hub's cursor, which moves only after a 2xx; filters; halt and
//!     resume. `deliver`: one event's attempts, backoff with jitter and
//!     `Retry-After`, halt after the budget; 410 Gone removes the hub.
//!   * `progress`: cursor, retry state and halt saved in one batched, fenced write
//!     every `progress_flush_ms`.
//!   * `wakeups`: appends and hub changes made through other replicas.
//!   * `shared`: the state these share, and the one place a worker is stopped.
//!   * `operator`: statuses, resume and replay, for [`admin`] and the engine's methods.
//!   * [`trimmer`]: retention ([`retention`]: the `[retention]` settings): removes what
//!     every hub passed and is older or beyond the limits; gives up what a hub was not
//!     delivered within `max_undelivered_age` (halted, recorded as a dead letter).
//!   * `dead_letters`: what hubs gave up on, listed and replayed; the topics' log
//!     bounds (`/admin/topics`).
//! * [`retry`]: the backoff schedule and `Retry-After`; [`status`]: each hub's
//!   status and the engine's counters, as the operator API shows them.
//! * [`tail`]: the events this process appended last, per topic, parsed at most once
//!   for all filtering hubs, so that workers do not read them back from the store.
//! * [`filter`]: hub `query`, topic `headerQuery`/`contentQuery`; the [`NeedToKnow`]
//!   policy is [`crate::access`], shared with the API's read paths.
//! * [`guard`]: the callback allow-list and SSRF guard (registration and delivery),
//!   with [`special_purpose`]: the IANA special-purpose address registries as a table,
//!   which decides what is a public address.
//! * `budget`: the in-flight budget, shared fairly: per callback host and per owner
//!   caps within the global one, so a dead callback cannot starve the others.
//! * [`auth`]: outbound authentication per host (static headers, OAuth2 client
//!   credentials with a cached token refreshed on expiry and on a 401).
//! * [`signing`]: Standard Webhooks signatures — outbound per callback host
//!   (`signing_secrets`, several during a key rotation), inbound on `createEvent`
//!   (`[[delivery.inbound_signatures]]`, 401 when missing, forged or stale), with
//!   [`inbound`]: the middleware on `createEvent`.
//! * [`notifications`]: the API's own notifications (`TopicCreateEvent`,
//!   `TopicDeleteEvent`, `EventCreateEvent`) to listeners registered with `POST /hub`:
//!   a reserved topic whose hubs are the listeners, so the same workers deliver them.
//! * [`admin`]: the operator API (`/admin/hubs`, resume, replay, metrics), with
//!   [`prometheus`]: `/admin/metrics` in the Prometheus text format.
//! * [`hooks`]: [`DeliveryHooks`], what the service tells the engine (new events wake
//!   the hub workers of their topic at once, without polling; a removed hub's worker
//!   stops before the DELETE is answered).

pub mod admin;
pub mod auth;
mod budget;
pub mod config;
pub mod dead_letters;
mod deliver;
pub mod engine;
pub mod filter;
pub mod guard;
pub mod hooks;
pub mod inbound;
mod mailbox;
pub mod notifications;
pub mod operator;
mod progress;
pub mod prometheus;
pub mod retention;
pub mod retry;
mod shared;
pub mod signing;
pub mod special_purpose;
pub mod status;
mod supervisor;
pub mod tail;
pub mod trimmer;
mod wakeups;
mod worker;

pub use crate::access::{NeedToKnow, RelatedPartiesPolicy, Unrestricted};
pub use config::{CallbackHost, DeliveryConfig, OutboundAuth, PoolConfig, RetryConfig};
pub use engine::{DeliveryEngine, EngineError, HubService};
pub use filter::HubFilter;
pub use hooks::DeliveryHooks;
pub use operator::{AdminError, Operator, OperatorFuture, ReplayFrom};
pub use retention::{Limit, RetentionConfig, TopicRetention};
pub use signing::{InboundSignatures, Secrets};
pub use status::{AttemptRecord, DeliveryState, HubStatus, MetricsSnapshot};
pub use trimmer::{Clock, TrimReport};
