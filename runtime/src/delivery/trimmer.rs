//! The retention trimmer: one task per engine (started by
//! [`DeliveryEngine::start_retention`](super::DeliveryEngine::start_retention)) that
//! every `[retention] interval` — or when an operator asks, `POST
//! /admin/retention/trim` — applies each topic's [`Limits`]:
//!
//! 1. `max_undelivered_age` (when set): a hub whose next events were appended longer
//!    ago than that gives them up ([`Store::expire_backlog`]): it is halted with the
//!    reason and the range is recorded as a dead letter. Its worker here is stopped
//!    first and restarted from the stored (halted) row; a worker on another replica
//!    hears of it through the store and does the same.
//! 2. removes the oldest events that are older than `max_age` or beyond the newest
//!    `max_events`, in batches of `batch_size` ([`Store::trim_events`], which never
//!    removes what a hub of the topic has not passed).
//! 3. removes dead-letter records older than `dead_letter_max_age`, in batches
//!    ([`Store::forget_dead_letters`]);
//! 4. drops attempt-log entries older than `attempt_log_max_age`.
//!
//! Progress is saved before (step 0) so that the stored cursors the store compares
//! with are this replica's latest. With several replicas on one store, one runs the
//! trimmer at a time ([`Store::claim_trimmer`], a lease of three intervals).
//!
//! Time comes from a clock the engine is given (the system clock by default): tests
//! move it forward instead of waiting.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::operator::AdminError;
use super::retention::{Limits, RetentionConfig};
use super::shared::Shared;
use super::status::rfc3339;
use crate::store::{Seq, Store, StoreError};
use crate::sync::lock;

/// Where the trimmer reads the time.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Retention as attached to an engine: its settings, its clock, one pass at a time.
pub(crate) struct Retention {
    pub(crate) config: Arc<RetentionConfig>,
    pub(crate) clock: Clock,
    /// Held during a pass: the periodic one and an operator's never overlap.
    pass: tokio::sync::Mutex<()>,
}

impl Retention {
    pub(crate) fn new(config: RetentionConfig, clock: Clock) -> Self {
        Self {
            config: Arc::new(config),
            clock,
            pass: tokio::sync::Mutex::new(()),
        }
    }
}

impl std::fmt::Debug for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retention")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What one pass did (`POST /admin/retention/trim` answers it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrimReport {
    /// `false` when another replica runs the trimmer now (this one did nothing).
    pub ran: bool,
    /// Per topic with something removed or given up.
    pub topics: Vec<TopicTrim>,
    /// Ranges given up by `max_undelivered_age` in this pass.
    pub expired: Vec<ExpiredRange>,
    /// Dead-letter records older than `dead_letter_max_age` removed in this pass.
    pub dead_letters_removed: u64,
}

/// What a pass removed from one topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicTrim {
    /// The topic.
    pub topic_id: String,
    /// Events removed.
    pub removed: u64,
    /// Its first sequence after the pass.
    pub first_seq: Seq,
    /// Its last sequence.
    pub last_seq: Seq,
}

/// A hub's range given up in a pass.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiredRange {
    /// The hub (now halted).
    pub hub_id: String,
    /// Its topic.
    pub topic_id: String,
    /// The dead letter recording it.
    pub dead_letter_id: String,
    /// First sequence given up.
    pub first: Seq,
    /// Last sequence given up.
    pub last: Seq,
}

fn store_error(error: StoreError) -> AdminError {
    AdminError::Store(error.to_string())
}

impl<S: Store> Shared<S> {
    /// One retention pass over every topic (see the module documentation).
    /// [`AdminError::Invalid`] when no retention is attached to the engine.
    pub(crate) async fn trim_pass(&self) -> Result<TrimReport, AdminError> {
        let Some(retention) = self.retention.get().cloned() else {
            return Err(AdminError::Invalid(
                "retention is not configured on this server".into(),
            ));
        };
        let _pass = retention.pass.lock().await;
        let config = &retention.config;
        let ttl = config.interval.get().unwrap_or(Duration::from_secs(60)) * 3;
        if !self
            .store
            .claim_trimmer(&self.replica, ttl.max(Duration::from_secs(10)))
            .await
            .map_err(store_error)?
        {
            return Ok(TrimReport::default());
        }
        // The stored cursors are what the store compares with: make them current.
        self.flush_progress().await;
        let now = (retention.clock)();
        let mut report = TrimReport {
            ran: true,
            ..TrimReport::default()
        };
        for topic in self.store.topics().await.map_err(store_error)? {
            match self
                .trim_topic(
                    &topic.id,
                    config.limits(&topic.id),
                    config,
                    now,
                    &mut report,
                )
                .await
            {
                Ok(()) | Err(StoreError::NotFound(_)) => {}
                Err(other) => return Err(store_error(other)),
            }
            if *self.shutdown.borrow() {
                break;
            }
        }
        if let Some(max_age) = config.dead_letter_max_age.get() {
            let before = now.checked_sub(max_age).unwrap_or(SystemTime::UNIX_EPOCH);
            loop {
                let removed = self
                    .store
                    .forget_dead_letters(before, config.batch_size)
                    .await
                    .map_err(store_error)?;
                report.dead_letters_removed += removed;
                if removed < config.batch_size as u64 || *self.shutdown.borrow() {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        if let Some(max_age) = config.attempt_log_max_age.get() {
            let cutoff = rfc3339(now.checked_sub(max_age).unwrap_or(SystemTime::UNIX_EPOCH));
            let cells: Vec<_> = lock(&self.workers)
                .values()
                .map(|handle| handle.cell.clone())
                .collect();
            for cell in cells {
                lock(&cell.live).forget_attempts_before(&cutoff);
            }
        }
        Ok(report)
    }

    async fn trim_topic(
        &self,
        topic_id: &str,
        limits: Limits,
        config: &RetentionConfig,
        now: SystemTime,
        report: &mut TrimReport,
    ) -> Result<(), StoreError> {
        let before = |age: Duration| now.checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH);
        if let Some(max_undelivered) = limits.max_undelivered_age {
            let bounds = self.store.log_bounds(topic_id).await?;
            for hub in self.store.hubs(topic_id).await? {
                if hub.cursor >= bounds.head {
                    continue;
                }
                let newer = self
                    .store
                    .seq_stored_since(topic_id, hub.cursor, before(max_undelivered))
                    .await?;
                let up_to = newer.saturating_sub(1);
                if up_to <= hub.cursor {
                    continue;
                }
                let reason = format!(
                    "retention: events {}..={up_to} were not delivered within max_undelivered_age ({}); \
                     given up and recorded as a dead letter, resume to continue after them",
                    hub.cursor + 1,
                    super::retention::format_duration(max_undelivered),
                );
                // This replica's worker must not deliver (or save) past the change.
                self.stop_worker_if(&hub.id, |_| true);
                if let Some(dead) = self.store.expire_backlog(&hub.id, up_to, &reason).await? {
                    tracing::warn!(hub = %hub.id, topic = %topic_id, first = dead.first, last = dead.last, "retention: undelivered events given up; hub halted");
                    self.metrics.halted();
                    report.expired.push(ExpiredRange {
                        hub_id: hub.id.clone(),
                        topic_id: topic_id.to_owned(),
                        dead_letter_id: dead.id.to_string(),
                        first: hub.cursor + 1,
                        last: up_to,
                    });
                }
                // Restarted from the stored row (halted), here or where it is held.
                self.hooks.hubs_changed();
            }
        }
        if limits.max_age.is_none() && limits.max_events.is_none() {
            return Ok(());
        }
        let bounds = self.store.log_bounds(topic_id).await?;
        if bounds.is_empty() {
            return Ok(());
        }
        let by_count = limits
            .max_events
            .map_or(0, |keep| bounds.head.saturating_sub(keep));
        let by_age = match limits.max_age {
            Some(max_age) => self
                .store
                .seq_stored_since(topic_id, bounds.first - 1, before(max_age))
                .await?
                .saturating_sub(1),
            None => 0,
        };
        let up_to = by_count.max(by_age);
        if up_to < bounds.first {
            return Ok(());
        }
        let mut removed = 0;
        loop {
            let batch = self
                .store
                .trim_events(topic_id, up_to, config.batch_size)
                .await?;
            removed += batch;
            if batch < config.batch_size as u64 || *self.shutdown.borrow() {
                break;
            }
            // Between batches: appends and API requests get their turn.
            if config.batch_pause_ms > 0 {
                tokio::time::sleep(Duration::from_millis(config.batch_pause_ms)).await;
            } else {
                tokio::task::yield_now().await;
            }
        }
        if removed > 0 {
            let after = self.store.log_bounds(topic_id).await?;
            tracing::info!(topic = %topic_id, removed, first = after.first, head = after.head, "retention: events removed");
            report.topics.push(TopicTrim {
                topic_id: topic_id.to_owned(),
                removed,
                first_seq: after.first,
                last_seq: after.head,
            });
        }
        Ok(())
    }
}

/// Runs a pass every `interval` until shutdown.
pub(super) async fn trim_periodically<S: Store>(shared: Arc<Shared<S>>, interval: Duration) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        if let Err(error) = shared.trim_pass().await {
            tracing::error!(%error, "retention: trim pass failed; will retry");
        }
    }
}
