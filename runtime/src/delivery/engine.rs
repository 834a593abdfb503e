//! [`DeliveryEngine`]: the handle that starts and stops delivery, and what it starts.
//!
//! [`DeliveryEngine::start`] builds the `Shared` state (HTTP client behind the SSRF
//! guard, per-host outbound auth and signers, the in-flight budget), attaches the
//! configuration, the operator API, a handle to its workers (so that a removed hub's
//! worker stops at once) and its need-to-know policy (which the API's read paths then
//! apply too) to the service's [`DeliveryHooks`], and spawns:
//! the supervisor (`super::supervisor`, one worker per hub, leases), the flusher of
//! delivery progress (`super::progress`) and, with a store shared by replicas, the
//! listener for appends made elsewhere (`super::wakeups`). The workers themselves
//! are `super::worker` and `super::deliver`.
//!
//! With a store shared by several server replicas ([`Store::shared`], PostgreSQL) a
//! hub is delivered by one replica at a time: a worker sends nothing once the lease it
//! was given may have lapsed (the local deadline is taken before the claim query, so it
//! ends before the database's), and its progress is saved fenced on the lease, from
//! the cursor the previous holder stored.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tmf688_api::client::CallbackClient;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::auth::HostAuth;
use super::budget::Budget;
use super::config::DeliveryConfig;
use super::guard::{CallbackGuard, GuardedResolver};
use super::hooks::{DeliveryHooks, StopWorker};
use super::mailbox::Control;
use super::operator::AdminError;
use super::progress::flush_progress_periodically;
use super::retention::RetentionConfig;
use super::shared::Shared;
use super::signing::Signer;
use super::status::{HubStatus, Metrics, MetricsSnapshot};
use super::supervisor::supervise;
use super::trimmer::{Clock, Retention, TrimReport, trim_periodically};
use super::wakeups::wake_on_appends;
use crate::access::{NeedToKnow, RelatedPartiesPolicy, Unrestricted};
use crate::store::{Seq, Store, StoreError};
use crate::sync::lock;

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

/// What the engine needs of the hub service it delivers for ([`crate::Hub688`]
/// implements it): the store, and the hooks through which the service wakes the
/// engine and checks callbacks.
pub trait HubService<S> {
    /// The store whose topics' events are delivered.
    fn store(&self) -> &Arc<S>;
    /// The hooks the service calls on appends and hub changes.
    fn delivery_hooks(&self) -> &Arc<DeliveryHooks>;
}

impl<S, T: HubService<S>> HubService<S> for Arc<T> {
    fn store(&self) -> &Arc<S> {
        (**self).store()
    }
    fn delivery_hooks(&self) -> &Arc<DeliveryHooks> {
        (**self).delivery_hooks()
    }
}

/// The delivery engine. Start it with [`DeliveryEngine::start`] after creating the
/// [`Hub688`](crate::Hub688) and before serving; stop it with [`DeliveryEngine::shutdown`].
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
    pub async fn start(
        hub: &impl HubService<S>,
        config: DeliveryConfig,
    ) -> Result<Self, EngineError> {
        let policy: Arc<dyn NeedToKnow> = if config.need_to_know {
            Arc::new(RelatedPartiesPolicy)
        } else {
            Arc::new(Unrestricted)
        };
        Self::start_with_policy(hub, config, policy).await
    }

    /// [`start`](Self::start) with another need-to-know policy.
    pub async fn start_with_policy(
        hub: &impl HubService<S>,
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
        // Pooled keep-alive connections, each made through the guarded resolver (a
        // callback host is checked again whenever it is resolved); no redirects, no
        // proxy; rustls for https callbacks.
        let client = CallbackClient::builder()
            .request_timeout(config.attempt_timeout())
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .pool_max_idle_per_host(config.pool.max_idle_per_host)
            .pool_idle_timeout(Duration::from_millis(config.pool.idle_timeout_ms))
            .build_with_resolver(GuardedResolver::new(config.clone()))
            .map_err(|error| EngineError::Client(error.to_string()))?;
        let token_http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.attempt_timeout())
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .build()
            .map_err(|error| EngineError::Client(error.to_string()))?;
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
            client,
            token_http,
            auth,
            signers,
            policy,
            budget: Budget::new(&config.pool),
            shutdown: watch::channel(false).0,
            workers: Mutex::default(),
            metrics: Metrics::default(),
            replica: config.replica_id.clone().unwrap_or_else(replica_name),
            leasing: hub.store().shared(),
            lease_until: Mutex::new(None),
            generations: AtomicU64::new(0),
            progress: Mutex::default(),
            flushing: tokio::sync::Mutex::new(()),
            retention: std::sync::OnceLock::new(),
        });
        let workers: std::sync::Weak<dyn StopWorker> = Arc::downgrade(&shared) as _;
        if !hooks.attach(
            config,
            super::admin::router(shared.clone()),
            shared.clone(),
            workers,
            shared.policy.clone(),
        ) {
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
    /// resumes it if halted), wherever it is delivered. `from` is 1 to the head of the
    /// topic's log + 1 (nothing to re-send); [`AdminError::Invalid`] otherwise.
    pub async fn replay(&self, hub_id: &str, from: Seq) -> Result<(), AdminError> {
        self.shared.replay(hub_id, from).await
    }

    /// Starts retention (`[retention]`, see [`RetentionConfig`]): a trimmer task that
    /// runs every `config.interval` (none when it is off: then only the operator's
    /// `POST /admin/retention/trim` runs a pass), on the system clock. Also what
    /// `/admin/topics` shows. [`EngineError::Config`] for an invalid configuration,
    /// [`EngineError::AlreadyAttached`] when retention was started already.
    pub fn start_retention(&self, config: RetentionConfig) -> Result<(), EngineError> {
        self.start_retention_with_clock(config, Arc::new(SystemTime::now))
    }

    /// [`start_retention`](Self::start_retention) with another clock (tests move it
    /// forward rather than wait: an event appended now is a day old to a clock a day
    /// ahead).
    pub fn start_retention_with_clock(
        &self,
        config: RetentionConfig,
        clock: Clock,
    ) -> Result<(), EngineError> {
        config.validate().map_err(EngineError::Config)?;
        let interval = config.interval.get();
        let retention = Arc::new(Retention::new(config, clock));
        if self.shared.retention.set(retention).is_err() {
            return Err(EngineError::AlreadyAttached);
        }
        if let Some(interval) = interval {
            tokio::spawn(trim_periodically(self.shared.clone(), interval));
        }
        Ok(())
    }

    /// Runs one retention pass now (what `POST /admin/retention/trim` does).
    pub async fn trim_now(&self) -> Result<TrimReport, AdminError> {
        self.shared.trim_pass().await
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
        // Wakes every worker's wait (they listen to their mailbox, not to the watch);
        // one started after this sees the watch before it waits.
        let tasks: Vec<JoinHandle<()>> = lock(&self.shared.workers)
            .values_mut()
            .filter_map(|handle| {
                let _ = handle.control.send(Control::Stop);
                handle.task.take()
            })
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

/// A replica name: host, pid and a random suffix.
fn replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}
