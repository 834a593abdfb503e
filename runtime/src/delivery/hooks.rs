//! [`DeliveryHooks`]: what the service ([`crate::Hub688`]) tells the delivery engine —
//! a new event in a topic's log, hubs registered or removed — and what it asks of it:
//! is this callback allowed. The service owns one; the engine attaches to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use axum::Router;
use http::StatusCode;
use tmf688_api::support::ApiError;
use tokio::sync::watch;

use super::config::DeliveryConfig;
use super::guard::CallbackGuard;
use super::operator::Operator;
use super::signing::InboundVerifier;
use super::tail::{LogEvent, TailCache};
use crate::access::{NeedToKnow, RelatedPartiesPolicy};
use crate::store::{EventRecord, Seq};
use crate::sync::lock;

/// The engine's side of [`DeliveryHooks::hub_removed`]: stops a hub's worker in this
/// process (the engine owns its workers; this is how the service reaches them).
pub(crate) trait StopWorker: Send + Sync + std::fmt::Debug {
    /// Stops the worker of `hub_id`, if this process runs one: it sends nothing more.
    fn stop_worker(&self, hub_id: &str);
}

/// Wake-ups and callback checks shared by the service and the engine.
#[derive(Debug)]
pub struct DeliveryHooks {
    /// Per topic: the highest sequence appended (wakes the topic's hub workers).
    topics: Mutex<HashMap<String, watch::Sender<Seq>>>,
    /// The events this process appended last, for its workers.
    tail: TailCache,
    /// Bumped whenever hubs are registered or removed (the engine reconciles workers).
    hubs: watch::Sender<u64>,
    /// The attached engine's workers. Removing a hub stops its worker at once, before
    /// the DELETE is answered, rather than when the engine next reconciles (several
    /// store round trips with PostgreSQL). Weak: the engine holds these hooks.
    workers: OnceLock<Weak<dyn StopWorker>>,
    /// The engine's configuration, once attached; else the default (loopback only).
    config: OnceLock<Arc<DeliveryConfig>>,
    /// The operator API, once an engine is attached.
    admin: OnceLock<Router>,
    /// The operator controls behind it, for the console and `/metrics`.
    operator: OnceLock<Arc<dyn Operator>>,
    /// The signatures `createEvent` requires, once an engine is attached.
    inbound: OnceLock<Arc<InboundVerifier>>,
    /// The need-to-know policy of the attached engine, which the API's read paths
    /// apply too; [`RelatedPartiesPolicy`] until one is attached.
    need_to_know: OnceLock<Arc<dyn NeedToKnow>>,
}

impl Default for DeliveryHooks {
    fn default() -> Self {
        Self {
            topics: Mutex::default(),
            tail: TailCache::default(),
            workers: OnceLock::new(),
            hubs: watch::channel(0).0,
            config: OnceLock::new(),
            admin: OnceLock::new(),
            operator: OnceLock::new(),
            inbound: OnceLock::new(),
            need_to_know: OnceLock::new(),
        }
    }
}

impl DeliveryHooks {
    /// The service appended `event` to `topic` (committed): keeps it for the workers
    /// and wakes them.
    pub fn event_stored(&self, topic: &str, event: &EventRecord) {
        self.tail.insert(topic, event);
        self.event_appended(topic, event.seq);
    }

    /// Up to `max` recently stored events of `topic` right after `after`, when this
    /// process has them ([`TailCache::read`]).
    pub fn recent_events(&self, topic: &str, after: Seq, max: usize) -> Option<Vec<Arc<LogEvent>>> {
        self.tail.read(topic, after, max)
    }

    /// `topic` was deleted.
    pub fn topic_deleted(&self, topic: &str) {
        self.tail.forget(topic);
        self.hubs_changed();
    }

    /// An event with sequence `seq` was appended to `topic` (here, or through another
    /// process).
    pub fn event_appended(&self, topic: &str, seq: Seq) {
        let sender = self.topic_sender(topic);
        sender.send_if_modified(|head| {
            if seq > *head {
                *head = seq;
                true
            } else {
                false
            }
        });
    }

    /// The hub was removed (here, or through another process): its worker in this
    /// process sends nothing more, from now on.
    pub fn hub_removed(&self, hub_id: &str) {
        if let Some(workers) = self.workers.get().and_then(Weak::upgrade) {
            workers.stop_worker(hub_id);
        }
        self.hubs_changed();
    }

    /// Hubs were registered or removed.
    pub fn hubs_changed(&self) {
        self.hubs
            .send_modify(|version| *version = version.wrapping_add(1));
    }

    /// Watches the head of `topic`'s log.
    pub fn watch_topic(&self, topic: &str) -> watch::Receiver<Seq> {
        self.topic_sender(topic).subscribe()
    }

    /// The highest sequence known appended to `topic` (0 when none since start).
    pub fn head(&self, topic: &str) -> Seq {
        *self.topic_sender(topic).borrow()
    }

    /// Watches hub registrations and removals.
    pub fn watch_hubs(&self) -> watch::Receiver<u64> {
        self.hubs.subscribe()
    }

    fn topic_sender(&self, topic: &str) -> watch::Sender<Seq> {
        lock(&self.topics)
            .entry(topic.to_owned())
            .or_insert_with(|| watch::channel(0).0)
            .clone()
    }

    /// The configuration callbacks are checked against.
    pub fn config(&self) -> Arc<DeliveryConfig> {
        self.config
            .get_or_init(|| Arc::new(DeliveryConfig::default()))
            .clone()
    }

    /// Attaches an engine's configuration, operator API and controls, workers and need-to-know
    /// policy. Only the first
    /// call counts (`false` afterwards, and also when a callback was checked before:
    /// the default configuration is then in force).
    pub(crate) fn attach(
        &self,
        config: Arc<DeliveryConfig>,
        admin: Router,
        operator: Arc<dyn Operator>,
        workers: Weak<dyn StopWorker>,
        need_to_know: Arc<dyn NeedToKnow>,
    ) -> bool {
        let inbound = InboundVerifier::new(&config.inbound_signatures).unwrap_or_else(|error| {
            // `DeliveryConfig::validate` ran before: cannot happen.
            tracing::error!(%error, "inbound signatures ignored");
            InboundVerifier::default()
        });
        let attached = self.config.set(config).is_ok();
        if attached {
            let _ = self.admin.set(admin);
            let _ = self.operator.set(operator);
            let _ = self.inbound.set(Arc::new(inbound));
            let _ = self.workers.set(workers);
            let _ = self.need_to_know.set(need_to_know);
        }
        attached
    }

    /// The need-to-know policy every read path applies (the attached engine's, so
    /// that what a party reads and what its hubs receive never differ).
    pub fn need_to_know(&self) -> Arc<dyn NeedToKnow> {
        match self.need_to_know.get() {
            Some(policy) => policy.clone(),
            // Not initialised here: the engine's policy must still be attachable.
            None => Arc::new(RelatedPartiesPolicy),
        }
    }

    /// The signatures `createEvent` requires (`None` until an engine is attached).
    pub fn inbound(&self) -> Option<Arc<InboundVerifier>> {
        self.inbound.get().cloned()
    }

    /// The operator API of the attached engine.
    pub fn admin_router(&self) -> Option<Router> {
        self.admin.get().cloned()
    }

    /// The operator controls of the attached engine (statuses, resume, replay,
    /// removal, the Prometheus text), for the console and `/metrics`.
    pub fn operator(&self) -> Option<Arc<dyn Operator>> {
        self.operator.get().cloned()
    }

    /// Checks a callback at registration: 422 with a TMF `Error` when its host is not
    /// allowed, or is (resolves to) a private address without being allowed that.
    pub async fn check_callback(&self, callback: &str) -> Result<(), ApiError> {
        CallbackGuard::new(self.config())
            .check_registration(callback)
            .await
            .map_err(|message| {
                tracing::info!(callback, %message, "callback refused");
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Callback host not allowed",
                    message,
                )
            })
    }
}
