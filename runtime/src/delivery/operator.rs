//! Operator controls of the engine, behind the operator API ([`super::admin`]), the
//! [`Operator`] handle (the console and `/metrics` above the engine) and
//! [`DeliveryEngine`](super::DeliveryEngine)'s methods: every hub's status (this
//! replica's live view, or the stored state of hubs delivered elsewhere), resume,
//! replay and removal — handed to this replica's worker, or applied through the store,
//! which tells the replica holding the hub ([`Store::operate_hub`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::dead_letters::{DeadLetter, DeadLetterReplay, TopicLog};
use super::mailbox::Control;
use super::prometheus::HubGauges;
use super::shared::Shared;
use super::status::{DeliveryState, HubCell, HubStatus, MetricsSnapshot};
use crate::store::{HubRecord, Seq, Store, StoreError};
use crate::sync::lock;
use tmf688_api::support::DateTime;

/// Why an operator request failed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// No such hub.
    #[error("there is no hub with id {0:?}")]
    NotFound(String),
    /// The request is not valid.
    #[error("{0}")]
    Invalid(String),
    /// Something else the request names does not exist (e.g. a dead letter).
    #[error("{0}")]
    Missing(String),
    /// The request conflicts with the hub's state (e.g. it was removed).
    #[error("{0}")]
    Conflict(String),
    /// What the request names is no longer held (removed by retention).
    #[error("{0}")]
    Gone(String),
    /// The store failed.
    #[error("the store failed: {0}")]
    Store(String),
}

/// Where a replay starts.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplayFrom {
    /// This sequence of the topic's log (from its first sequence held; head + 1:
    /// nothing).
    Seq(Seq),
    /// The first event whose `eventTime` is at or after this instant.
    Time(DateTime),
}

impl ReplayFrom {
    /// From the operator API's parameters: exactly one of `from` (a sequence number)
    /// and `fromTime` (an `eventTime`: RFC 3339, or without offset as the TMF guide
    /// writes them, taken as UTC), nothing else. The error says what is wrong
    /// (answered 400).
    pub fn from_params<K: AsRef<str>, V: AsRef<str>>(
        params: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, String> {
        const BOTH: &str =
            "give exactly one of `from` (a sequence number) and `fromTime` (an eventTime)";
        let mut from = None;
        for (name, value) in params {
            let value = value.as_ref();
            let parsed = match name.as_ref() {
                "from" => value.parse::<Seq>().map(Self::Seq).map_err(|_| {
                    format!(
                        "`from` must be a sequence number (1 for the first event), got {}",
                        crate::limits::shown(value)
                    )
                })?,
                "fromTime" => DateTime::parse(value)
                    .map(Self::Time)
                    .map_err(|error| format!("`fromTime` is not valid: {error}"))?,
                other => {
                    return Err(format!(
                        "unknown parameter {}: {BOTH}",
                        crate::limits::shown(other)
                    ));
                }
            };
            if from.replace(parsed).is_some() {
                return Err(BOTH.to_owned());
            }
        }
        from.ok_or_else(|| BOTH.to_owned())
    }
}

/// What an [`Operator`] call answers, later.
pub type OperatorFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AdminError>> + Send + 'a>>;

/// The attached engine's operator controls, for the layers above the engine (the
/// console, `/metrics`), which do not know its store type: the same functions as the
/// operator API ([`super::admin`]). Reached through
/// [`DeliveryHooks::operator`](super::DeliveryHooks::operator).
pub trait Operator: Send + Sync + fmt::Debug {
    /// Every hub's status, wherever it is delivered (as `GET /admin/hubs`), ordered by
    /// topic and hub id.
    fn hub_statuses(&self) -> OperatorFuture<'_, Vec<HubStatus>>;
    /// Resumes a halted hub, or retries a retrying one now. [`AdminError::NotFound`]
    /// for an unknown hub.
    fn resume<'a>(&'a self, hub_id: &'a str) -> OperatorFuture<'a, ()>;
    /// Re-sends from `from`; answers the sequence delivery restarts at.
    /// [`AdminError::Invalid`] for a sequence outside 1 ..= head + 1.
    fn replay<'a>(&'a self, hub_id: &'a str, from: ReplayFrom) -> OperatorFuture<'a, Seq>;
    /// Removes a hub (as its owner's `DELETE`): its worker stops before this answers.
    fn delete_hub<'a>(&'a self, hub_id: &'a str) -> OperatorFuture<'a, ()>;
    /// The engine's counters, this replica's per-hub gauges and retention's per-topic
    /// figures (read from the store) in the Prometheus text format
    /// ([`super::prometheus`]).
    fn prometheus(&self) -> OperatorFuture<'_, String>;
    /// Every topic's log bounds and retention limits (as `GET /admin/topics`).
    fn topic_logs(&self) -> OperatorFuture<'_, Vec<TopicLog>>;
    /// What the hub gave up on (as `GET /admin/hubs/{id}/dead-letters`).
    fn dead_letters<'a>(&'a self, hub_id: &'a str) -> OperatorFuture<'a, Vec<DeadLetter>>;
    /// Re-sends a dead letter's range (as `POST
    /// /admin/hubs/{id}/dead-letters/{letter}/replay`).
    fn replay_dead_letter<'a>(
        &'a self,
        hub_id: &'a str,
        letter: &'a str,
    ) -> OperatorFuture<'a, DeadLetterReplay>;
}

impl<S: Store> Operator for Shared<S> {
    fn hub_statuses(&self) -> OperatorFuture<'_, Vec<HubStatus>> {
        Box::pin(async move {
            let mut statuses = self.all_statuses().await?;
            statuses.sort_by(|a, b| (&a.topic_id, &a.hub_id).cmp(&(&b.topic_id, &b.hub_id)));
            Ok(statuses)
        })
    }

    fn resume<'a>(&'a self, hub_id: &'a str) -> OperatorFuture<'a, ()> {
        Box::pin(Shared::resume(self, hub_id))
    }

    fn replay<'a>(&'a self, hub_id: &'a str, from: ReplayFrom) -> OperatorFuture<'a, Seq> {
        Box::pin(async move {
            let from = match from {
                ReplayFrom::Seq(from) => from,
                ReplayFrom::Time(time) => self.seq_at_time(hub_id, &time).await?,
            };
            Shared::replay(self, hub_id, from).await?;
            Ok(from)
        })
    }

    fn delete_hub<'a>(&'a self, hub_id: &'a str) -> OperatorFuture<'a, ()> {
        Box::pin(Shared::delete_hub(self, hub_id))
    }

    fn prometheus(&self) -> OperatorFuture<'_, String> {
        Box::pin(async move {
            let mut cells = self.cells();
            cells.sort_by(|a, b| (&a.topic_id, &a.id).cmp(&(&b.topic_id, &b.id)));
            let hubs: Vec<HubGauges<'_>> = cells
                .iter()
                .map(|cell| {
                    let live = lock(&cell.live);
                    let head = self.hooks.head(&cell.topic_id).max(live.cursor);
                    HubGauges {
                        hub_id: &cell.id,
                        topic_id: &cell.topic_id,
                        lag: head - live.cursor,
                        cursor: live.cursor,
                        attempts: live.attempts,
                        halted: live.state == DeliveryState::Halted,
                    }
                })
                .collect();
            let mut text = super::prometheus::render(&self.metrics(), &hubs);
            // Retention's figures come from the store; without them the rest is still
            // worth scraping.
            match self.topic_logs().await {
                Ok(topics) => text.push_str(&super::prometheus::render_topics(&topics)),
                Err(error) => {
                    tracing::warn!(%error, "metrics: could not read the topics' log bounds");
                }
            }
            Ok(text)
        })
    }

    fn topic_logs(&self) -> OperatorFuture<'_, Vec<TopicLog>> {
        Box::pin(Shared::topic_logs(self))
    }

    fn dead_letters<'a>(&'a self, hub_id: &'a str) -> OperatorFuture<'a, Vec<DeadLetter>> {
        Box::pin(Shared::dead_letters(self, hub_id))
    }

    fn replay_dead_letter<'a>(
        &'a self,
        hub_id: &'a str,
        letter: &'a str,
    ) -> OperatorFuture<'a, DeadLetterReplay> {
        Box::pin(Shared::replay_dead_letter(self, hub_id, letter))
    }
}

impl<S: Store> Shared<S> {
    pub(crate) fn statuses(&self) -> Vec<HubStatus> {
        self.cells().iter().map(|cell| self.view(cell)).collect()
    }

    /// This replica's workers' cells (taken out of the lock, which the views below
    /// must not hold: each locks its cell).
    fn cells(&self) -> Vec<Arc<HubCell>> {
        lock(&self.workers)
            .values()
            .map(|h| h.cell.clone())
            .collect()
    }

    pub(crate) fn status(&self, hub_id: &str) -> Option<HubStatus> {
        let cell = lock(&self.workers).get(hub_id)?.cell.clone();
        Some(self.view(&cell))
    }

    /// Every hub's status: this replica's workers' own, and for hubs delivered by
    /// another replica (or by none at the moment) what the store says of them.
    pub(crate) async fn all_statuses(&self) -> Result<Vec<HubStatus>, AdminError> {
        let hubs = self.store.all_hubs().await.map_err(admin_store)?;
        Ok(hubs
            .iter()
            .map(|hub| match self.status(&hub.id) {
                Some(local) => local,
                None => self.stored_view(hub),
            })
            .collect())
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

    fn view(&self, cell: &HubCell) -> HubStatus {
        let replica = self.leasing.then(|| self.replica.clone());
        HubStatus::of(cell, replica, self.hooks.head(&cell.topic_id))
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

    /// Removes a hub whatever its topic or owner: the store forgets it, and its worker
    /// (here, or through the hooks another replica's) stops before this returns.
    pub(crate) async fn delete_hub(&self, hub_id: &str) -> Result<(), AdminError> {
        let not_found = || AdminError::NotFound(hub_id.to_owned());
        let hub = self
            .store
            .hub_by_id(hub_id)
            .await
            .map_err(admin_store)?
            .ok_or_else(not_found)?;
        match self.store.delete_hub(&hub.topic_id, hub_id).await {
            Ok(true) => {
                self.hooks.hub_removed(hub_id);
                Ok(())
            }
            Ok(false) | Err(StoreError::NotFound(_)) => Err(not_found()),
            Err(other) => Err(admin_store(other)),
        }
    }

    /// Re-sends from sequence `from`: the log's first sequence held to the head + 1
    /// (nothing to re-send). A cursor beyond the head would skip every event published
    /// until the log caught up with it, so anything past that is refused
    /// ([`AdminError::Invalid`]); before the first sequence (removed by retention) is
    /// [`AdminError::Gone`], naming it.
    pub(crate) async fn replay(&self, hub_id: &str, from: Seq) -> Result<(), AdminError> {
        let topic = self.any_status(hub_id).await?.topic_id;
        let bounds = match self.store.log_bounds(&topic).await {
            Ok(bounds) => bounds,
            Err(StoreError::NotFound(_)) => return Err(AdminError::NotFound(hub_id.to_owned())),
            Err(other) => return Err(admin_store(other)),
        };
        let (first, head) = (bounds.first, bounds.head);
        if from == 0 || from > head.saturating_add(1) {
            return Err(AdminError::Invalid(format!(
                "`from` is a sequence number of topic {topic:?}'s log: from {first} (its first \
                 event held) to {} (after its last: nothing to re-send); got {from}",
                head.saturating_add(1)
            )));
        }
        if from < first {
            return Err(AdminError::Gone(format!(
                "events before sequence {first} of topic {topic:?} were removed by retention \
                 (its first sequence is {first}): replay from {first} or later; got {from}"
            )));
        }
        self.send(hub_id, Control::Replay(from - 1)).await
    }

    /// The first sequence of `hub_id`'s topic whose `eventTime` is at or after `time`,
    /// compared as instants as the query language does (offsets and fractions honoured,
    /// a date-time without an offset taken as UTC); an event without a valid `eventTime`
    /// is passed over.
    pub(crate) async fn seq_at_time(
        &self,
        hub_id: &str,
        time: &DateTime,
    ) -> Result<Seq, AdminError> {
        let time = time.instant();
        let topic = self.any_status(hub_id).await?.topic_id;
        // From the first event held (none: the head + 1, nothing to re-send).
        let mut after = self
            .store
            .log_bounds(&topic)
            .await
            .map_err(admin_store)?
            .first
            - 1;
        // Scanned in batches: a long log is never held whole.
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
                    .and_then(|t| DateTime::parse(&t).ok())
                    .is_some_and(|t| t.instant() >= time)
                {
                    return Ok(event.seq);
                }
            }
        }
    }
}

pub(super) fn admin_store(error: StoreError) -> AdminError {
    AdminError::Store(error.to_string())
}
