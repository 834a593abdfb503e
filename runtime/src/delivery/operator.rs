//! Operator controls of the engine, behind the operator API ([`super::admin`]) and
//! [`DeliveryEngine`](super::DeliveryEngine)'s methods: every hub's status (this
//! replica's live view, or the stored state of hubs delivered elsewhere), resume and
//! replay — handed to this replica's worker, or applied through the store, which tells
//! the replica holding the hub ([`Store::operate_hub`]).

use std::sync::{Arc, Mutex};

use super::shared::{Control, Shared};
use super::status::{HubStatus, MetricsSnapshot};
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

    /// Re-sends from sequence `from`: 1 (the first event) to the head + 1 (nothing to
    /// re-send). A cursor beyond the head would skip every event published until the log
    /// caught up with it, so anything past that is refused.
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
