//! [`DeliveryEngine`]: a supervisor keeping one worker task per hub, and the workers.
//!
//! A worker owns its hub's cursor: it reads the topic's log after the cursor, skips
//! events that do not qualify (filters, need-to-know), POSTs the next qualifying event
//! and moves the cursor only after a 2xx — so per-hub order and at-least-once hold, and
//! a slow or dead callback holds up its own worker only. When the log has nothing new
//! the worker sleeps on the topic's watch (woken by [`DeliveryHooks::event_appended`]),
//! not on a timer. Failures are retried with backoff; after the budget the hub is halted
//! (state stored, cursor kept) until an operator resumes it; 410 Gone removes the hub.
//!
//! With a store shared by several server replicas ([`Store::shared`], PostgreSQL) the
//! supervisor also runs the lease loop: every `lease_ms / 3` it claims this replica's
//! fair share of the hubs ([`Store::lease_hubs`]) and keeps workers for the hubs it
//! holds only. A worker sends nothing once the lease it was given may have lapsed (the
//! local deadline is taken before the claim query, so it ends before the database's),
//! and its progress is saved fenced on the lease: a hub is delivered by one replica at a
//! time, from the cursor the previous one stored. Appends made through other replicas
//! wake the workers through [`Store::subscribe_appends`].
//!
//! Progress (cursor, retry state, halted) is not written per delivery: workers leave
//! it in `Shared::progress` and a flusher saves every hub's latest progress in one
//! batched, fenced write every `progress_flush_ms` ([`Store::save_progress`]), and on
//! shutdown. A write the store refuses (lease lost, or an operator changed the hub
//! through another replica: its epoch moved) stops that worker; the supervisor
//! restarts it from the stored state if this replica still holds the hub.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;
use tmf688_api::client::CallbackClient;
use tmf688_api::support::{ClientError, encode_path_segment};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use super::auth::HostAuth;
use super::config::DeliveryConfig;
use super::filter::{HubFilter, NeedToKnow, RelatedPartiesPolicy, Unrestricted};
use super::guard::{CallbackGuard, GuardedResolver};
use super::hooks::DeliveryHooks;
use super::notifications;
use super::retry;
use super::signing::Signer;
use super::status::{AttemptRecord, DeliveryState, HubStatus, Metrics, MetricsSnapshot, rfc3339};
use super::tail::LogEvent;
use crate::service::Hub688;
use crate::store::{
    AppendNotice, EventRecord, HubProgress, HubRecord, HubState, Seq, Store, StoreError,
};

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The configuration is invalid.
    #[error("invalid delivery configuration: {0}")]
    Config(String),
    /// The HTTP client could not be built.
    #[error("could not build the delivery HTTP client: {0}")]
    Client(String),
    /// The store failed while the engine looked at the hubs.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another engine is attached to this hub service already, or a callback was
    /// checked before the engine attached (the default configuration is in force).
    #[error("a delivery engine is already attached to this hub service")]
    AlreadyAttached,
}

/// What an operator asks of a hub's worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Control {
    /// Leave the halted (or retrying) state and deliver now.
    Resume,
    /// Move the cursor to this value (re-send what follows) and deliver.
    Replay(Seq),
    /// Stop (the hub was removed).
    Stop,
}

/// Why an operator request failed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// No such hub.
    #[error("there is no hub with id {0:?}")]
    NotFound(String),
    /// The request is not valid.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error("the store failed: {0}")]
    Store(String),
}

#[derive(Debug)]
struct WorkerHandle {
    control: mpsc::UnboundedSender<Control>,
    /// Set when the worker must stop sending (hub removed or its lease lost).
    revoked: Arc<AtomicBool>,
    /// Tells this worker from a later one of the same hub.
    generation: u64,
    /// The hub's epoch the worker started from ([`HubRecord::epoch`]).
    epoch: u64,
    status: Arc<Mutex<HubStatus>>,
    task: Option<JoinHandle<()>>,
}

pub(crate) struct Shared<S> {
    store: Arc<S>,
    hooks: Arc<DeliveryHooks>,
    config: Arc<DeliveryConfig>,
    guard: CallbackGuard,
    client: CallbackClient,
    token_http: reqwest::Client,
    auth: Vec<HostAuth>,
    /// Per allow-list entry: its Standard Webhooks signer (empty: unsigned).
    signers: Vec<Signer>,
    policy: Arc<dyn NeedToKnow>,
    permits: Option<Arc<Semaphore>>,
    shutdown: watch::Sender<bool>,
    workers: Mutex<HashMap<String, WorkerHandle>>,
    metrics: Metrics,
    /// This process's name among the replicas sharing the store.
    replica: String,
    /// Whether hubs are leased ([`Store::shared`]).
    leasing: bool,
    /// Until when the leases of the last successful claim hold, by this process's clock.
    lease_until: Mutex<Option<Instant>>,
    generations: AtomicU64,
    /// Progress not saved yet, by hub: the latest only (see the module documentation).
    progress: Mutex<HashMap<String, PendingProgress>>,
}

/// A hub's progress waiting for the flusher.
#[derive(Debug)]
struct PendingProgress {
    progress: HubProgress,
    /// The worker that left it.
    generation: u64,
}

impl<S> std::fmt::Debug for Shared<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The delivery engine. Start it with [`DeliveryEngine::start`] after creating the
/// [`Hub688`] and before serving; stop it with [`DeliveryEngine::shutdown`].
#[derive(Debug)]
pub struct DeliveryEngine<S> {
    shared: Arc<Shared<S>>,
    supervisor: Mutex<Option<JoinHandle<()>>>,
}

impl<S: Store> DeliveryEngine<S> {
    /// Starts delivering the events of `hub`'s store to its hubs, with the default
    /// need-to-know policy ([`RelatedPartiesPolicy`], or none when
    /// `config.need_to_know` is off). Also attaches the configuration (callback
    /// allow-list) and the operator API to `hub`. Must run within a Tokio runtime.
    pub async fn start(hub: &Hub688<S>, config: DeliveryConfig) -> Result<Self, EngineError> {
        let policy: Arc<dyn NeedToKnow> = if config.need_to_know {
            Arc::new(RelatedPartiesPolicy)
        } else {
            Arc::new(Unrestricted)
        };
        Self::start_with_policy(hub, config, policy).await
    }

    /// [`start`](Self::start) with another need-to-know policy.
    pub async fn start_with_policy(
        hub: &Hub688<S>,
        config: DeliveryConfig,
        policy: Arc<dyn NeedToKnow>,
    ) -> Result<Self, EngineError> {
        config.validate().map_err(EngineError::Config)?;
        let config = Arc::new(config);
        let auth = config
            .allowed_callback_hosts
            .iter()
            .map(|entry| {
                HostAuth::new(&entry.auth)
                    .map_err(|error| EngineError::Config(format!("{}: {error}", entry.host)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let signers = config
            .allowed_callback_hosts
            .iter()
            .map(|entry| {
                Signer::new(&entry.signing_secrets)
                    .map_err(|error| EngineError::Config(format!("{}: {error}", entry.host)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.attempt_timeout())
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .pool_max_idle_per_host(config.pool.max_idle_per_host)
            .pool_idle_timeout(Duration::from_millis(config.pool.idle_timeout_ms))
            .tcp_nodelay(true)
            .no_proxy()
            .dns_resolver(GuardedResolver::new(config.clone()))
            .build()
            .map_err(|error| EngineError::Client(error.to_string()))?;
        let token_http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.attempt_timeout())
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .build()
            .map_err(|error| EngineError::Client(error.to_string()))?;
        let permits = (config.pool.max_in_flight > 0)
            .then(|| Arc::new(Semaphore::new(config.pool.max_in_flight)));
        let hooks = hub.delivery_hooks().clone();
        let store = hub.store().clone();
        // Appends through other processes (before reading the heads: none is missed).
        let notices = store.subscribe_appends().await?;
        // The heads of the logs, for lag.
        for topic in store.topics().await? {
            let head = store.head(&topic.id).await?;
            if head > 0 {
                hooks.event_appended(&topic.id, head);
            }
        }
        let shared = Arc::new(Shared {
            store,
            hooks: hooks.clone(),
            guard: CallbackGuard::new(config.clone()),
            config: config.clone(),
            client: CallbackClient::with_client(http),
            token_http,
            auth,
            signers,
            policy,
            permits,
            shutdown: watch::channel(false).0,
            workers: Mutex::default(),
            metrics: Metrics::default(),
            replica: config.replica_id.clone().unwrap_or_else(replica_name),
            leasing: hub.store().shared(),
            lease_until: Mutex::new(None),
            generations: AtomicU64::new(0),
            progress: Mutex::default(),
        });
        if !hooks.attach(config, super::admin::router(shared.clone())) {
            return Err(EngineError::AlreadyAttached);
        }
        if let Some(notices) = notices {
            tokio::spawn(wake_on_appends(shared.clone(), notices));
        }
        let supervisor = tokio::spawn(supervise(shared.clone()));
        if !shared.config.progress_flush().is_zero() {
            tokio::spawn(flush_progress_periodically(shared.clone()));
        }
        tracing::info!(
            replica = %shared.replica,
            leasing = shared.leasing,
            allowed_callback_hosts = ?shared.config.allowed_callback_hosts.iter().map(|h| h.host.as_str()).collect::<Vec<_>>(),
            max_attempts = shared.config.retry.max_attempts,
            "delivery engine started"
        );
        Ok(Self {
            shared,
            supervisor: Mutex::new(Some(supervisor)),
        })
    }

    /// The status of every hub being delivered to, in no particular order.
    pub fn statuses(&self) -> Vec<HubStatus> {
        self.shared.statuses()
    }

    /// The status of one hub.
    pub fn status(&self, hub_id: &str) -> Option<HubStatus> {
        self.shared.status(hub_id)
    }

    /// Engine-wide counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.shared.metrics.snapshot()
    }

    /// Resumes a halted hub (or retries a retrying one now), wherever it is delivered.
    pub async fn resume(&self, hub_id: &str) -> Result<(), AdminError> {
        self.shared.resume(hub_id).await
    }

    /// Moves a hub's cursor back so that delivery restarts at sequence `from` (and
    /// resumes it if halted), wherever it is delivered.
    pub async fn replay(&self, hub_id: &str, from: Seq) -> Result<(), AdminError> {
        self.shared.replay(hub_id, from).await
    }

    /// Stops: no new attempt starts; attempts in flight get up to
    /// `shutdown_grace_ms` to finish, then are abandoned. Cursors only ever move after a
    /// 2xx, so nothing is lost (an abandoned attempt is sent again on the next start).
    pub async fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
        let deadline = tokio::time::Instant::now() + self.shared.config.shutdown_grace();
        if let Some(supervisor) = lock(&self.supervisor).take() {
            supervisor.abort();
        }
        let tasks: Vec<JoinHandle<()>> = lock(&self.shared.workers)
            .values_mut()
            .filter_map(|handle| handle.task.take())
            .collect();
        let total = tasks.len();
        let mut abandoned = 0;
        for mut task in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                abandoned += 1;
            }
        }
        self.shared.flush_progress().await;
        if self.shared.leasing {
            match self.shared.store.release_leases(&self.shared.replica).await {
                Ok(released) => tracing::info!(released, "hub leases released"),
                Err(error) => {
                    tracing::warn!(%error, "could not release the hub leases; they expire");
                }
            }
        }
        tracing::info!(workers = total, abandoned, "delivery engine stopped");
    }
}

impl<S: Store> Shared<S> {
    pub(crate) fn statuses(&self) -> Vec<HubStatus> {
        let cells: Vec<Arc<Mutex<HubStatus>>> = lock(&self.workers)
            .values()
            .map(|h| h.status.clone())
            .collect();
        cells.iter().map(|cell| self.view(cell)).collect()
    }

    pub(crate) fn status(&self, hub_id: &str) -> Option<HubStatus> {
        let cell = lock(&self.workers).get(hub_id)?.status.clone();
        Some(self.view(&cell))
    }

    /// Every hub's status: this replica's workers' own, and for hubs delivered by
    /// another replica (or by none at the moment) what the store says of them.
    pub(crate) async fn all_statuses(&self) -> Result<Vec<HubStatus>, AdminError> {
        let mut statuses = Vec::new();
        for topic in self.store.topics().await.map_err(admin_store)? {
            let hubs = match self.store.hubs(&topic.id).await {
                Ok(hubs) => hubs,
                Err(StoreError::NotFound(_)) => continue,
                Err(other) => return Err(admin_store(other)),
            };
            for hub in hubs {
                statuses.push(match self.status(&hub.id) {
                    Some(local) => local,
                    None => self.stored_view(&hub),
                });
            }
        }
        Ok(statuses)
    }

    /// One hub's status, wherever it is delivered.
    pub(crate) async fn any_status(&self, hub_id: &str) -> Result<HubStatus, AdminError> {
        if let Some(local) = self.status(hub_id) {
            return Ok(local);
        }
        match self.store.hub_by_id(hub_id).await.map_err(admin_store)? {
            Some(hub) => Ok(self.stored_view(&hub)),
            None => Err(AdminError::NotFound(hub_id.to_owned())),
        }
    }

    fn stored_view(&self, hub: &HubRecord) -> HubStatus {
        let mut status = HubStatus::from_record(hub);
        status.head = self.hooks.head(&status.topic_id).max(status.cursor);
        status.lag = status.head - status.cursor;
        status
    }

    fn view(&self, cell: &Mutex<HubStatus>) -> HubStatus {
        let mut status = lock(cell).clone();
        if self.leasing {
            status.replica = Some(self.replica.clone());
        }
        status.head = self.hooks.head(&status.topic_id).max(status.cursor);
        status.lag = status.head - status.cursor;
        status
    }

    pub(crate) fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot()
    }

    /// Hands an operator's request to this replica's worker of the hub; when there is
    /// none (another replica delivers it, or none right now), applies it through the
    /// store, which tells the replica holding the hub ([`Store::operate_hub`]).
    async fn send(&self, hub_id: &str, control: Control) -> Result<(), AdminError> {
        let sent = lock(&self.workers)
            .get(hub_id)
            .is_some_and(|handle| handle.control.send(control).is_ok());
        if sent {
            return Ok(());
        }
        let cursor = match control {
            Control::Replay(cursor) => Some(cursor),
            Control::Resume | Control::Stop => None,
        };
        match self.store.operate_hub(hub_id, cursor).await {
            Ok(hub) => {
                tracing::info!(hub = %hub_id, holder = ?hub.holder, "operator request applied through the store");
                self.hooks.hubs_changed();
                Ok(())
            }
            Err(StoreError::NotFound(_)) => Err(AdminError::NotFound(hub_id.to_owned())),
            Err(other) => Err(admin_store(other)),
        }
    }

    pub(crate) async fn resume(&self, hub_id: &str) -> Result<(), AdminError> {
        self.send(hub_id, Control::Resume).await
    }

    pub(crate) async fn replay(&self, hub_id: &str, from: Seq) -> Result<(), AdminError> {
        if from == 0 {
            return Err(AdminError::Invalid(
                "`from` is a sequence number; the first event of a log is 1".into(),
            ));
        }
        self.send(hub_id, Control::Replay(from - 1)).await
    }

    /// The first sequence of `hub_id`'s topic whose `eventTime` is at or after `time`
    /// (ISO 8601 compared as text, as the query language does).
    pub(crate) async fn seq_at_time(&self, hub_id: &str, time: &str) -> Result<Seq, AdminError> {
        let topic = self.any_status(hub_id).await?.topic_id;
        // Scanned in batches: a long log is never held whole.
        let mut after = 0;
        loop {
            let events = self
                .store
                .read_events(&topic, after, 500)
                .await
                .map_err(admin_store)?;
            let Some(last) = events.last() else {
                return Ok(after + 1);
            };
            after = last.seq;
            for event in events {
                #[derive(serde::Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Timed {
                    event_time: Option<String>,
                }
                let timed: Option<Timed> = serde_json::from_slice(&event.body).ok();
                if timed
                    .and_then(|t| t.event_time)
                    .is_some_and(|t| t.as_str() >= time)
                {
                    return Ok(event.seq);
                }
            }
        }
    }
}

impl<S: Store> Shared<S> {
    /// Leaves a worker's latest progress for the flusher (or saves it now when
    /// `progress_flush_ms` is 0).
    async fn record_progress(&self, progress: HubProgress, generation: u64) {
        lock(&self.progress).insert(
            progress.hub_id.clone(),
            PendingProgress {
                progress,
                generation,
            },
        );
        if self.config.progress_flush().is_zero() {
            self.flush_progress().await;
        }
    }

    /// Saves every pending progress in one write. Workers whose progress is refused
    /// stop (lease lost, or the hub changed through another replica); the supervisor
    /// restarts those this replica still holds, from the stored state.
    async fn flush_progress(&self) {
        let pending: Vec<PendingProgress> = lock(&self.progress).drain().map(|(_, p)| p).collect();
        if pending.is_empty() {
            return;
        }
        let batch: Vec<HubProgress> = pending.iter().map(|p| p.progress.clone()).collect();
        match self.store.save_progress(&batch, &self.replica).await {
            Ok(refused) if refused.is_empty() => {}
            Ok(refused) => {
                let mut workers = lock(&self.workers);
                for hub in &refused {
                    let generation = pending
                        .iter()
                        .find(|p| &p.progress.hub_id == hub)
                        .map(|p| p.generation);
                    if let Some(handle) = workers.get(hub)
                        && Some(handle.generation) == generation
                    {
                        tracing::warn!(%hub, "hub progress refused (lease lost or changed by an operator elsewhere): its worker restarts from the stored state if this replica holds it");
                        handle.revoked.store(true, Ordering::SeqCst);
                        let _ = handle.control.send(Control::Stop);
                        workers.remove(hub);
                    }
                }
                drop(workers);
                self.hooks.hubs_changed();
            }
            Err(error) => {
                // Kept for the next flush unless a newer progress replaced it. Delivery
                // goes on; after a crash the events since the last save are sent again.
                tracing::error!(%error, hubs = batch.len(), "could not save the delivery progress; will retry");
                let mut map = lock(&self.progress);
                for entry in pending {
                    map.entry(entry.progress.hub_id.clone()).or_insert(entry);
                }
            }
        }
    }
}

/// Saves the delivery progress every `progress_flush_ms` until shutdown (the engine's
/// shutdown makes the last save).
async fn flush_progress_periodically<S: Store>(shared: Arc<Shared<S>>) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut ticks = tokio::time::interval(shared.config.progress_flush());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        shared.flush_progress().await;
    }
}

fn admin_store(error: StoreError) -> AdminError {
    AdminError::Store(error.to_string())
}

/// A replica name: host, pid and a random suffix.
fn replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}

/// Feeds appends made through other processes into the same wake-up as local ones.
async fn wake_on_appends<S: Store>(
    shared: Arc<Shared<S>>,
    mut notices: mpsc::UnboundedReceiver<AppendNotice>,
) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let notice = tokio::select! {
            notice = notices.recv() => notice,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        match notice {
            None => return,
            Some(AppendNotice::Appended { topic, head }) => {
                shared.hooks.event_appended(&topic, head);
            }
            Some(AppendNotice::HubRemoved { hub }) => {
                shared.hooks.hub_removed(&hub);
            }
            Some(AppendNotice::ReplicasChanged) => {
                // A replica joined or left, or handed leases back: claim the share now.
                shared.hooks.hubs_changed();
            }
            Some(AppendNotice::HubChanged { hub, epoch }) => {
                // A worker that started before an operator's change restarts from the
                // stored state; a hub registered elsewhere may be this replica's to take.
                let mut workers = lock(&shared.workers);
                if let Some(handle) = workers.get(&hub)
                    && handle.epoch < epoch
                {
                    tracing::info!(%hub, epoch, "hub changed by an operator: its worker restarts from the stored state");
                    handle.revoked.store(true, Ordering::SeqCst);
                    let _ = handle.control.send(Control::Stop);
                    workers.remove(&hub);
                }
                drop(workers);
                shared.hooks.hubs_changed();
            }
            Some(AppendNotice::Lost) => {
                tracing::warn!("append notifications may have been lost: re-reading the heads");
                let Ok(topics) = shared.store.topics().await else {
                    continue;
                };
                for topic in topics {
                    if let Ok(head) = shared.store.head(&topic.id).await {
                        shared.hooks.event_appended(&topic.id, head);
                    }
                }
            }
        }
    }
}

/// Keeps one worker per hub (per held hub when leasing): on start, whenever hubs are
/// registered or removed, and every third of the lease when leasing.
async fn supervise<S: Store>(shared: Arc<Shared<S>>) {
    let mut hubs = shared.hooks.watch_hubs();
    let mut shutdown = shared.shutdown.subscribe();
    let lease = shared.config.lease();
    loop {
        hubs.borrow_and_update();
        if shared.leasing {
            let started = Instant::now();
            match shared.store.lease_hubs(&shared.replica, lease).await {
                Ok(held) => {
                    *lock(&shared.lease_until) = Some(started + lease.mul_f64(0.9));
                    let held: HashSet<String> = held.into_iter().collect();
                    match reconcile(&shared, Some(&held)).await {
                        Ok(stopped) if !stopped.is_empty() => {
                            tokio::spawn(hand_back(shared.clone(), stopped));
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::error!(%error, "delivery: could not list hubs; will retry");
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "delivery: could not renew the hub leases; will retry");
                }
            }
        } else if let Err(error) = reconcile(&shared, None).await.map(drop) {
            tracing::error!(%error, "delivery: could not list hubs; will retry on the next change");
        }
        tokio::select! {
            changed = hubs.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(lease / 3), if shared.leasing => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

impl<S> Shared<S> {
    /// Whether this replica may still send (always, when not leasing).
    fn lease_valid(&self) -> bool {
        !self.leasing || lock(&self.lease_until).is_some_and(|until| Instant::now() < until)
    }
}

fn topic_queries(body: &[u8]) -> (Option<String>, Option<String>) {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    (text("headerQuery"), text("contentQuery"))
}

/// Starts workers for the hubs (those in `held` only, when given) and stops the rest.
///
/// Returns the workers it stopped, with their tasks (to wait for before their leases
/// are handed back).
async fn reconcile<S: Store>(
    shared: &Arc<Shared<S>>,
    held: Option<&HashSet<String>>,
) -> Result<Vec<(String, JoinHandle<()>)>, StoreError> {
    let mut present = HashSet::new();
    for topic in shared.store.topics().await? {
        let hubs = match shared.store.hubs(&topic.id).await {
            Ok(hubs) => hubs,
            Err(StoreError::NotFound(_)) => continue,
            Err(other) => return Err(other),
        };
        if hubs.is_empty() {
            continue;
        }
        let (header_query, content_query) = topic_queries(&topic.body);
        for hub in hubs {
            if held.is_some_and(|held| !held.contains(&hub.id)) {
                continue;
            }
            present.insert(hub.id.clone());
            let mut workers = lock(&shared.workers);
            if workers.contains_key(&hub.id) {
                continue;
            }
            let filter = HubFilter::new(
                hub.query.as_deref(),
                header_query.as_deref(),
                content_query.as_deref(),
            );
            let (control_tx, control_rx) = mpsc::unbounded_channel();
            let halted = hub.state == HubState::Halted;
            let status = Arc::new(Mutex::new(HubStatus::from_record(&hub)));
            let base_path = hub
                .base_path
                .clone()
                .unwrap_or_else(|| tmf688_api::client::BASE_PATH.to_owned());
            let revoked = Arc::new(AtomicBool::new(false));
            let generation = shared.generations.fetch_add(1, Ordering::Relaxed);
            let epoch = hub.epoch;
            let worker = Worker {
                epoch,
                carried_attempts: hub.attempts,
                revoked: revoked.clone(),
                generation,
                shared: shared.clone(),
                topic: shared.hooks.watch_topic(&hub.topic_id),
                shutdown: shared.shutdown.subscribe(),
                cursor: hub.cursor,
                halted,
                hub,
                filter,
                base_path,
                status: status.clone(),
                control: control_rx,
            };
            let id = worker.hub.id.clone();
            shared.hooks.worker_started(&id, revoked.clone());
            tracing::debug!(hub = %id, "delivery worker started");
            let task = tokio::spawn(worker.run());
            workers.insert(
                id,
                WorkerHandle {
                    control: control_tx,
                    revoked,
                    generation,
                    epoch,
                    status,
                    task: Some(task),
                },
            );
        }
    }
    let mut workers = lock(&shared.workers);
    let mut stopped = Vec::new();
    workers.retain(|id, handle| {
        let keep = present.contains(id);
        if !keep {
            handle.revoked.store(true, Ordering::SeqCst);
            let _ = handle.control.send(Control::Stop);
            tracing::debug!(hub = %id, "delivery worker stopped: hub removed or not held");
            if let Some(task) = handle.task.take() {
                stopped.push((id.clone(), task));
            }
        }
        keep
    });
    Ok(stopped)
}

/// Hands back the leases of hubs this replica no longer delivers (its share shrank
/// because a replica joined) once their workers ended and their progress is saved, so
/// that the other replicas take them now rather than when the leases expire. A worker
/// that does not end within a third of the lease keeps its lease until it expires.
async fn hand_back<S: Store>(shared: Arc<Shared<S>>, stopped: Vec<(String, JoinHandle<()>)>) {
    let deadline = tokio::time::Instant::now() + shared.config.lease() / 3;
    let mut ended = Vec::with_capacity(stopped.len());
    for (hub, task) in stopped {
        if tokio::time::timeout_at(deadline, task).await.is_ok() {
            ended.push(hub);
        }
    }
    if ended.is_empty() {
        return;
    }
    // Their last progress, saved while the leases still hold.
    shared.flush_progress().await;
    match shared.store.hand_back_leases(&shared.replica, &ended).await {
        Ok(0) => {}
        Ok(released) => tracing::info!(released, "hub leases handed back to the other replicas"),
        Err(error) => tracing::warn!(%error, "could not hand back hub leases; they expire"),
    }
}

/// What one attempt came to.
enum Attempt {
    Delivered(StatusCode),
    Gone,
    Failed {
        status: Option<StatusCode>,
        error: String,
        retry_after: Option<Duration>,
    },
}

/// What delivering one event came to.
enum Step {
    Delivered,
    Gone,
    Halted,
    Control(Control),
    Exit,
}

struct Worker<S> {
    shared: Arc<Shared<S>>,
    revoked: Arc<AtomicBool>,
    generation: u64,
    /// The hub's epoch when this worker started (its progress is fenced on it).
    epoch: u64,
    /// Failed attempts at the next event stored by an earlier worker (a restart or
    /// another replica): the retry budget continues from there.
    carried_attempts: u32,
    hub: HubRecord,
    filter: HubFilter,
    base_path: String,
    status: Arc<Mutex<HubStatus>>,
    control: mpsc::UnboundedReceiver<Control>,
    topic: watch::Receiver<Seq>,
    shutdown: watch::Receiver<bool>,
    cursor: Seq,
    halted: bool,
}

/// The stored event body with `id` and `href` first, without re-encoding it.
fn render(body: &[u8], id: &str, href: &str) -> Bytes {
    let mut out = Vec::with_capacity(body.len() + id.len() + href.len() + 24);
    out.extend_from_slice(b"{\"id\":");
    let _ = serde_json::to_writer(&mut out, id);
    out.extend_from_slice(b",\"href\":");
    let _ = serde_json::to_writer(&mut out, href);
    let rest = body.trim_ascii_start();
    match rest.strip_prefix(b"{") {
        Some(inner) if inner.trim_ascii_start().starts_with(b"}") => out.push(b'}'),
        Some(inner) => {
            out.push(b',');
            out.extend_from_slice(inner);
        }
        None => out.push(b'}'), // not an object: cannot happen for stored events
    }
    Bytes::from(out)
}

fn describe(error: &ClientError, timeout: Duration) -> String {
    match error {
        ClientError::Transport(e) if e.is_timeout() => {
            format!("timeout: no answer within {} ms", timeout.as_millis())
        }
        ClientError::Transport(e) => {
            let mut text = if e.is_connect() {
                "connection failed".to_owned()
            } else {
                "request failed".to_owned()
            };
            let mut source: Option<&dyn std::error::Error> = Some(e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
        other => other.to_string(),
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    text.trim().to_owned()
}

impl<S: Store> Worker<S> {
    async fn run(mut self) {
        self.run_loop().await;
        self.shared.hooks.worker_ended(&self.hub.id, &self.revoked);
        let mut workers = lock(&self.shared.workers);
        if workers
            .get(&self.hub.id)
            .is_some_and(|handle| handle.generation == self.generation)
        {
            workers.remove(&self.hub.id);
        }
        drop(workers);
        tracing::debug!(hub = %self.hub.id, "delivery worker ended");
    }

    /// Whether to send nothing more: shutdown, the hub removed or no longer held, or
    /// its lease possibly lapsed (the worker ends; the next claim restarts it from the
    /// stored cursor if the hub is still held).
    fn stopping(&self) -> bool {
        *self.shutdown.borrow() || self.revoked.load(Ordering::SeqCst) || !self.shared.lease_valid()
    }

    async fn run_loop(&mut self) {
        let batch_size = self.shared.config.batch_size;
        loop {
            if self.stopping() {
                return;
            }
            if self.halted {
                let control = tokio::select! {
                    control = self.control.recv() => control,
                    _ = self.shutdown.wait_for(|stop| *stop) => return,
                };
                if !self.apply(control).await {
                    return;
                }
                continue;
            }
            self.topic.borrow_and_update();
            // What this process appended last is at hand; the store has the rest.
            let recent =
                self.shared
                    .hooks
                    .recent_events(&self.hub.topic_id, self.cursor, batch_size);
            let read = match recent {
                Some(recent) => Ok(recent),
                None => self
                    .shared
                    .store
                    .read_events(&self.hub.topic_id, self.cursor, batch_size)
                    .await
                    .map(|events| {
                        events
                            .into_iter()
                            .map(|e| Arc::new(LogEvent::new(e)))
                            .collect()
                    }),
            };
            let batch = match read {
                Ok(batch) => batch,
                Err(StoreError::NotFound(_)) => return,
                Err(error) => {
                    tracing::error!(hub = %self.hub.id, %error, "delivery: could not read the log");
                    let pause = Duration::from_millis(self.shared.config.retry.initial_delay_ms);
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        _ = self.shutdown.wait_for(|stop| *stop) => return,
                    }
                    continue;
                }
            };
            if batch.is_empty() {
                let control = tokio::select! {
                    changed = self.topic.changed() => if changed.is_err() { return } else { None },
                    control = self.control.recv() => Some(control),
                    _ = self.shutdown.wait_for(|stop| *stop) => return,
                };
                if let Some(control) = control
                    && !self.apply(control).await
                {
                    return;
                }
                continue;
            }
            let mut skipped_to = None;
            for event in &batch {
                // A long backlog is worked through without other awaits: give the
                // runtime's other tasks (the API's requests) their turn.
                tokio::task::coop::consume_budget().await;
                if !self.qualifies(event) {
                    skipped_to = Some(event.record.seq);
                    self.shared.metrics.skipped();
                    lock(&self.status).skipped += 1;
                    continue;
                }
                if let Some(seq) = skipped_to.take()
                    && !self.commit(seq).await
                {
                    return;
                }
                match self.deliver(&event.record).await {
                    Step::Delivered => {
                        if !self.commit(event.record.seq).await {
                            return;
                        }
                    }
                    Step::Gone => {
                        self.remove_gone().await;
                        return;
                    }
                    Step::Halted => {
                        self.halted = true;
                        break;
                    }
                    Step::Control(control) => {
                        if !self.apply(Some(control)).await {
                            return;
                        }
                        break;
                    }
                    Step::Exit => return,
                }
            }
            if let Some(seq) = skipped_to
                && !self.commit(seq).await
            {
                return;
            }
        }
    }

    /// Applies an operator's request; `false` when the worker must end.
    async fn apply(&mut self, control: Option<Control>) -> bool {
        let (resume, cursor) = match control {
            None | Some(Control::Stop) => return false,
            Some(Control::Resume) => (true, None),
            Some(Control::Replay(cursor)) => (true, Some(cursor)),
        };
        if let Some(cursor) = cursor {
            if !self.commit(cursor).await {
                return false;
            }
            tracing::info!(hub = %self.hub.id, from = cursor + 1, "delivery replay");
        }
        if resume {
            if self.halted {
                tracing::info!(hub = %self.hub.id, cursor = self.cursor, "delivery resumed");
            }
            self.halted = false;
            self.carried_attempts = 0;
            {
                let mut status = lock(&self.status);
                status.state = DeliveryState::Active;
                status.attempts = 0;
                status.next_attempt_at = None;
            }
            self.save(0, None).await;
        }
        true
    }

    /// Leaves this hub's progress for the flusher: the cursor, the failed attempts at
    /// the next event and whether it is halted.
    async fn save(&self, attempts: u32, last_error: Option<String>) {
        let progress = HubProgress {
            hub_id: self.hub.id.clone(),
            epoch: self.epoch,
            cursor: self.cursor,
            attempts,
            last_error,
            state: if self.halted {
                HubState::Halted
            } else {
                HubState::Active
            },
        };
        self.shared.record_progress(progress, self.generation).await;
    }

    /// Moves the cursor (saved by the flusher); `false` when the worker must end (its
    /// progress was refused: lease lost or hub changed elsewhere).
    async fn commit(&mut self, cursor: Seq) -> bool {
        self.cursor = cursor;
        lock(&self.status).cursor = cursor;
        self.save(0, None).await;
        !self.revoked.load(Ordering::SeqCst)
    }

    fn qualifies(&self, event: &LogEvent) -> bool {
        let policy = self.shared.policy.applies_to(&self.hub);
        if self.filter.is_empty() && !policy {
            return true;
        }
        let Some(value) = event.value() else {
            tracing::error!(hub = %self.hub.id, seq = event.record.seq, "stored event is not JSON; skipped");
            return false;
        };
        // Need-to-know judges an EventCreateEvent by the event it carries.
        let judged = notifications::carried_event(value).unwrap_or(value);
        self.filter.matches(value) && (!policy || self.shared.policy.allows(&self.hub, judged))
    }

    async fn remove_gone(&mut self) {
        tracing::warn!(hub = %self.hub.id, callback = %self.hub.callback, "callback answered 410 Gone: hub removed");
        self.shared.metrics.gone();
        if let Err(error) = self
            .shared
            .store
            .delete_hub(&self.hub.topic_id, &self.hub.id)
            .await
        {
            tracing::error!(hub = %self.hub.id, %error, "could not remove the hub");
        }
        self.shared.hooks.hub_removed(&self.hub.id);
    }

    /// Delivers one event, retrying until a 2xx, a 410, the end of the budget, an
    /// operator's request or shutdown.
    async fn deliver(&mut self, event: &EventRecord) -> Step {
        let href = format!(
            "{}/topic/{}/event/{}",
            self.base_path,
            encode_path_segment(&self.hub.topic_id),
            encode_path_segment(&event.id)
        );
        // Notifications to API listeners go as stored, each to its listener path; events
        // to hubs with the `id`/`href` of the hub's base path.
        let (body, target) = if notifications::is_reserved(&self.hub.topic_id) {
            let event_type = serde_json::from_slice::<Value>(&event.body)
                .ok()
                .and_then(|v| v.get("eventType")?.as_str().map(str::to_owned))
                .unwrap_or_default();
            (
                event.body.clone(),
                notifications::listener_url(&self.hub.callback, &event_type),
            )
        } else {
            (
                render(&event.body, &event.id, &href),
                self.hub.callback.clone(),
            )
        };
        // The Standard Webhooks message id: stable across retries and replays.
        let webhook_id = if !event.event_id.is_empty()
            && event.event_id.len() <= 256
            && http::HeaderValue::from_str(&event.event_id).is_ok()
        {
            event.event_id.clone()
        } else {
            event.id.clone()
        };
        let config = self.shared.config.clone();
        let mut failures: u32 = std::mem::take(&mut self.carried_attempts);
        loop {
            if self.stopping() {
                return Step::Exit;
            }
            let permit = match &self.shared.permits {
                None => None,
                Some(permits) => tokio::select! {
                    permit = permits.clone().acquire_owned() => permit.ok(),
                    _ = self.shutdown.wait_for(|stop| *stop) => return Step::Exit,
                },
            };
            let started_at = SystemTime::now();
            let started = Instant::now();
            // When leasing, an attempt in flight is abandoned as soon as the lease may
            // have lapsed or the hub was taken away: the replica that takes it over
            // finds the cursor before this event and sends it again, after nothing.
            let outcome = tokio::select! {
                biased;
                () = self.lease_lost() => return Step::Exit,
                outcome = self.attempt(&target, body.clone(), &webhook_id) => outcome,
            };
            drop(permit);
            let elapsed = started.elapsed();
            let mut record = AttemptRecord {
                at: rfc3339(started_at),
                seq: event.seq,
                event_id: event.event_id.clone(),
                outcome: "delivered",
                status: None,
                error: None,
                duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            };
            let capacity = config.attempt_log_size;
            match outcome {
                Attempt::Delivered(code) => {
                    self.shared.metrics.delivered(elapsed);
                    record.status = Some(code.as_u16());
                    let mut status = lock(&self.status);
                    status.log(record, capacity);
                    status.state = DeliveryState::Active;
                    status.attempts = 0;
                    status.next_attempt_at = None;
                    status.last_status = Some(code.as_u16());
                    status.last_success_at = Some(rfc3339(SystemTime::now()));
                    status.delivered += 1;
                    return Step::Delivered;
                }
                Attempt::Gone => {
                    record.outcome = "gone";
                    record.status = Some(410);
                    lock(&self.status).log(record, capacity);
                    return Step::Gone;
                }
                Attempt::Failed {
                    status: code,
                    error,
                    retry_after,
                } => {
                    self.shared.metrics.failed();
                    failures += 1;
                    record.outcome = "failed";
                    record.status = code.map(|c| c.as_u16());
                    record.error = Some(error.clone());
                    tracing::debug!(hub = %self.hub.id, seq = event.seq, attempt = failures, status = ?code, %error, "delivery attempt failed");
                    let delay = match retry_after {
                        Some(asked) => retry::clamp_retry_after(&config.retry, asked),
                        None => retry::backoff(&config.retry, failures, fastrand::f64()),
                    };
                    let halt = failures >= config.retry.max_attempts;
                    {
                        let mut status = lock(&self.status);
                        status.log(record, capacity);
                        status.attempts = failures;
                        status.last_status = code.map(|c| c.as_u16());
                        status.last_error = Some(error.clone());
                        status.failed_attempts += 1;
                        if halt {
                            status.state = DeliveryState::Halted;
                            status.next_attempt_at = None;
                        } else {
                            status.state = DeliveryState::Retrying;
                            status.next_attempt_at = Some(rfc3339(SystemTime::now() + delay));
                        }
                    }
                    if halt {
                        self.shared.metrics.halted();
                        tracing::warn!(hub = %self.hub.id, callback = %self.hub.callback, seq = event.seq, attempts = failures, %error, "delivery halted: retry budget spent; resume it through the operator API");
                        self.halted = true;
                        self.save(failures, Some(error)).await;
                        return Step::Halted;
                    }
                    self.save(failures, Some(error)).await;
                    let resumed = tokio::select! {
                        () = tokio::time::sleep(delay) => false,
                        control = self.control.recv() => match control {
                            Some(Control::Resume) => true,
                            Some(replay @ Control::Replay(_)) => return Step::Control(replay),
                            Some(Control::Stop) | None => return Step::Exit,
                        },
                        _ = self.shutdown.wait_for(|stop| *stop) => return Step::Exit,
                    };
                    if resumed {
                        failures = 0;
                        {
                            let mut status = lock(&self.status);
                            status.state = DeliveryState::Active;
                            status.attempts = 0;
                            status.next_attempt_at = None;
                        }
                        self.save(0, None).await;
                    }
                }
            }
        }
    }

    /// Completes when this worker may no longer send (never when not leasing).
    async fn lease_lost(&self) {
        if !self.shared.leasing {
            return std::future::pending().await;
        }
        loop {
            if self.revoked.load(Ordering::SeqCst) || !self.shared.lease_valid() {
                return;
            }
            let now = Instant::now();
            let until = lock(&self.shared.lease_until).unwrap_or(now);
            let wait = until
                .saturating_duration_since(now)
                .min(Duration::from_millis(100));
            tokio::time::sleep(wait).await;
        }
    }

    /// One POST (two when an OAuth2 token was refused with 401 and is refreshed).
    async fn attempt(&self, target: &str, body: Bytes, webhook_id: &str) -> Attempt {
        let shared = &self.shared;
        let (url, index, _) = match shared.guard.allowed(target) {
            Ok(allowed) => allowed,
            Err(error) => {
                return Attempt::Failed {
                    status: None,
                    error,
                    retry_after: None,
                };
            }
        };
        let auth = &shared.auth[index];
        for round in 0..2 {
            let (mut headers, token) = match auth.headers(&shared.token_http).await {
                Ok(headers) => headers,
                Err(error) => {
                    return Attempt::Failed {
                        status: None,
                        error: format!("outbound authentication failed: {error}"),
                        retry_after: None,
                    };
                }
            };
            shared.signers[index].sign(&mut headers, webhook_id, SystemTime::now(), &body);
            let outcome = shared
                .client
                .post_bytes(url.as_str(), body.clone(), &headers)
                .await;
            let answer = match outcome {
                Ok(answer) => answer,
                Err(error) => {
                    return Attempt::Failed {
                        status: None,
                        error: describe(&error, shared.config.attempt_timeout()),
                        retry_after: None,
                    };
                }
            };
            let status = answer.status;
            if status.is_success() {
                return Attempt::Delivered(status);
            }
            if status == StatusCode::GONE {
                return Attempt::Gone;
            }
            if status == StatusCode::UNAUTHORIZED
                && round == 0
                && let Some(token) = token
            {
                tracing::info!(hub = %self.hub.id, "callback refused the OAuth2 token: refreshing it");
                auth.invalidate(&token).await;
                continue;
            }
            let text = snippet(&answer.body);
            return Attempt::Failed {
                status: Some(status),
                error: if text.is_empty() {
                    format!("answered {status}")
                } else {
                    format!("answered {status}: {text}")
                },
                retry_after: retry::retry_after(&answer.headers, SystemTime::now()),
            };
        }
        Attempt::Failed {
            status: Some(StatusCode::UNAUTHORIZED),
            error: "answered 401 Unauthorized, also with a fresh token".into(),
            retry_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_id_and_href_first() {
        let out = render(br#"{"eventId":"e1","event":{}}"#, "7", "/x/7");
        assert_eq!(
            &out[..],
            br#"{"id":"7","href":"/x/7","eventId":"e1","event":{}}"#
        );
        let out = render(b"{}", "7", "/x/7");
        assert_eq!(&out[..], br#"{"id":"7","href":"/x/7"}"#);
        let value: Value = serde_json::from_slice(&render(b" { \"a\" : 1 }", "q\"", "h")).unwrap();
        assert_eq!(value["id"], "q\"");
        assert_eq!(value["a"], 1);
    }
}
