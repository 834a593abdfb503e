//! The state one engine's tasks share ([`Shared`]): the store, the hooks, the HTTP
//! client and its per-host settings, the worker map, the lease deadline and the
//! progress waiting for the flusher.
//!
//! This is also the one place another task stops a worker ([`Shared::stop_worker_if`]):
//! hub removal (through [`DeliveryHooks::hub_removed`]), progress refused by the store,
//! an operator's change made through another replica and reconciliation (after a lease
//! claim, or finding a worker older than its hub's stored epoch) all end a worker the
//! same way — its `revoked` flag set (it sends nothing
//! more, even mid-attempt) and a `Stop` on its control channel (it wakes and ends).
//! A worker also ends on its own — on shutdown (the engine's watch, and a `Stop` the
//! engine posts to every mailbox to wake the waiting ones), when its lease may
//! have lapsed, or when its topic is gone — and then removes its own handle, if it is
//! still the current one (generation-checked).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tmf688_api::client::CallbackClient;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::auth::HostAuth;
use super::budget::Budget;
use super::config::DeliveryConfig;
use super::guard::{CallbackGuard, GuardedResolver};
use super::hooks::{DeliveryHooks, StopWorker};
use super::mailbox::{self, Control};
use super::signing::Signer;
use super::status::{HubCell, Metrics};
use crate::access::NeedToKnow;
use crate::store::{HubProgress, Store};
use crate::sync::lock;

#[derive(Debug)]
pub(super) struct WorkerHandle {
    pub(super) control: mailbox::Sender,
    /// Tells this worker from a later one of the same hub.
    pub(super) generation: u64,
    /// The hub's epoch the worker started from ([`HubRecord::epoch`](crate::store::HubRecord::epoch)).
    pub(super) epoch: u64,
    /// The hub and its live status, shared with the worker.
    pub(super) cell: Arc<HubCell>,
    pub(super) task: Option<JoinHandle<()>>,
}

/// What the supervisor, the workers, the flusher and the operator API share.
pub(crate) struct Shared<S> {
    pub(super) store: Arc<S>,
    pub(super) hooks: Arc<DeliveryHooks>,
    pub(super) config: Arc<DeliveryConfig>,
    pub(super) guard: CallbackGuard,
    pub(super) client: CallbackClient<GuardedResolver>,
    pub(super) token_http: reqwest::Client,
    pub(super) auth: Vec<HostAuth>,
    /// Per allow-list entry: its Standard Webhooks signer (empty: unsigned).
    pub(super) signers: Vec<Signer>,
    pub(super) policy: Arc<dyn NeedToKnow>,
    /// The in-flight budget: global, per callback authority, per owner.
    pub(super) budget: Budget,
    pub(super) shutdown: watch::Sender<bool>,
    pub(super) workers: Mutex<HashMap<String, WorkerHandle>>,
    pub(super) metrics: Metrics,
    /// This process's name among the replicas sharing the store.
    pub(super) replica: String,
    /// Whether hubs are leased ([`Store::shared`]).
    pub(super) leasing: bool,
    /// Until when the leases of the last successful claim hold, by this process's clock.
    pub(super) lease_until: Mutex<Option<Instant>>,
    pub(super) generations: AtomicU64,
    /// Progress not saved yet, by hub: the latest only (see the module documentation).
    pub(super) progress: Mutex<HashMap<String, PendingProgress>>,
    /// Held while progress is being saved: a flush waits for one in flight, so that
    /// when it returns everything recorded before it is stored (the trimmer compares
    /// with the stored cursors).
    pub(super) flushing: tokio::sync::Mutex<()>,
    /// Retention, once [`DeliveryEngine::start_retention`](super::DeliveryEngine::start_retention)
    /// attached it.
    pub(super) retention: std::sync::OnceLock<Arc<super::trimmer::Retention>>,
}

/// A hub's progress waiting for the flusher.
#[derive(Debug)]
pub(super) struct PendingProgress {
    pub(super) progress: HubProgress,
    /// The worker that left it.
    pub(super) generation: u64,
}

impl<S> std::fmt::Debug for Shared<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<S> Shared<S> {
    /// Whether this replica may still send (always, when not leasing).
    pub(super) fn lease_valid(&self) -> bool {
        !self.leasing || lock(&self.lease_until).is_some_and(|until| Instant::now() < until)
    }

    /// Stops this replica's worker of `hub_id` when `condition` holds for it, and
    /// returns its handle (its task, to wait for before handing its lease back).
    /// Every stop goes through here: see the module documentation.
    pub(super) fn stop_worker_if(
        &self,
        hub_id: &str,
        condition: impl FnOnce(&WorkerHandle) -> bool,
    ) -> Option<WorkerHandle> {
        let mut workers = lock(&self.workers);
        if !workers.get(hub_id).is_some_and(condition) {
            return None;
        }
        let handle = workers.remove(hub_id)?;
        drop(workers);
        handle.cell.revoked.store(true, Ordering::SeqCst);
        let _ = handle.control.send(Control::Stop);
        Some(handle)
    }
}

impl<S: Store> StopWorker for Shared<S> {
    fn stop_worker(&self, hub_id: &str) {
        if self.stop_worker_if(hub_id, |_| true).is_some() {
            tracing::debug!(hub = %hub_id, "delivery worker stopped: hub removed");
        }
    }
}
