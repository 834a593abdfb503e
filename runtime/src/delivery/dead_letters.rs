//! What hubs gave up on, for the operator API ([`super::admin`]): each hub's dead
//! letters — ranges expired by retention's `max_undelivered_age`, the backlog of a hub
//! removed after a 410 Gone (both recorded in the store), and the backlog of a halted
//! hub (computed: the events after its cursor) — with the part of each range the log
//! still holds, and their replay. Also every topic's log bounds and retention limits
//! (`GET /admin/topics`).

use serde::Serialize;

use super::operator::{AdminError, admin_store};
use super::retention::Limits;
use super::shared::Shared;
use super::status::{DeliveryState, rfc3339};
use crate::store::{DeadLetterKind, DeadLetterRecord, Seq, Store, StoreError};

/// The id of a halted hub's backlog among its dead letters.
pub const BACKLOG: &str = "backlog";

/// A range of sequences, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SeqRange {
    /// First sequence.
    pub first: Seq,
    /// Last sequence.
    pub last: Seq,
}

/// One dead letter of a hub (`GET /admin/hubs/{id}/dead-letters`, one array element):
///
/// ```json
/// {"id": "3", "kind": "expired", "hubId": "hub-7", "topicId": "order",
///  "callback": "https://crm.example/cb", "first": 120, "last": 164, "count": 45,
///  "reason": "retention: events 120..=164 were not delivered within ...",
///  "at": "2026-05-01T12:00:00.000Z", "held": {"first": 150, "last": 164},
///  "replayable": true}
/// ```
///
/// `kind`: `expired` (given up by `max_undelivered_age`; the hub was halted), `gone`
/// (the hub was removed after its callback answered 410; not replayable, the hub is
/// gone) or `halted` (id `backlog`: the events after a halted hub's cursor; replaying
/// it resumes the hub). `held`: the part of the range the log still holds (absent:
/// all of it was removed by retention). `at`: when it was recorded (absent for
/// `backlog`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// Its id (a number, or `backlog`).
    pub id: String,
    /// `expired`, `gone` or `halted`.
    pub kind: &'static str,
    /// The hub.
    pub hub_id: String,
    /// Its topic.
    pub topic_id: String,
    /// Its callback.
    pub callback: String,
    /// First sequence given up.
    pub first: Seq,
    /// Last sequence given up.
    pub last: Seq,
    /// How many sequences (`last - first + 1`).
    pub count: u64,
    /// Why, in words.
    pub reason: String,
    /// When it was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The part the log still holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<SeqRange>,
    /// Whether `POST .../dead-letters/{id}/replay` can re-send (some of) it.
    pub replayable: bool,
}

/// The answer to a dead letter's replay (202):
///
/// ```json
/// {"hubId": "hub-7", "deadLetterId": "3", "from": 150, "resent": {"first": 150, "last": 164},
///  "gone": {"first": 120, "last": 149}}
/// ```
///
/// The hub's cursor moves back to `from - 1` (and the hub resumes): the held part of
/// the range is re-sent, and so is what follows it up to the head (at least once:
/// receivers de-duplicate on `eventId`). `gone`: the part retention removed (absent
/// when none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterReplay {
    /// The hub.
    pub hub_id: String,
    /// The dead letter.
    pub dead_letter_id: String,
    /// Where delivery restarts.
    pub from: Seq,
    /// The part of the range re-sent.
    pub resent: SeqRange,
    /// The part of the range no longer in the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gone: Option<SeqRange>,
}

/// One topic's log and retention (`GET /admin/topics`, one array element):
///
/// ```json
/// {"topicId": "order", "name": "order", "events": 1200, "firstSeq": 801, "lastSeq": 2000,
///  "trimmed": 800,
///  "retention": {"maxAgeSeconds": 604800, "maxEvents": null, "maxUndeliveredAgeSeconds": null}}
/// ```
///
/// `events` = `lastSeq - firstSeq + 1`; `trimmed`: events retention removed so far;
/// `retention`: the limits in force (absent when retention is not configured).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicLog {
    /// The topic.
    pub topic_id: String,
    /// Its name.
    pub name: String,
    /// Events held.
    pub events: u64,
    /// First sequence held (`lastSeq + 1` when none).
    pub first_seq: Seq,
    /// Last sequence appended (0: none).
    pub last_seq: Seq,
    /// Events removed by retention so far.
    pub trimmed: u64,
    /// The limits in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<Limits>,
}

fn held(first: Seq, last: Seq, log_first: Seq, head: Seq) -> Option<SeqRange> {
    let from = first.max(log_first);
    let to = last.min(head);
    (from <= to).then_some(SeqRange {
        first: from,
        last: to,
    })
}

impl<S: Store> Shared<S> {
    /// Every topic's log bounds and limits.
    pub(crate) async fn topic_logs(&self) -> Result<Vec<TopicLog>, AdminError> {
        let retention = self.retention.get().cloned();
        let mut logs = Vec::new();
        for topic in self.store.topics().await.map_err(admin_store)? {
            let bounds = match self.store.log_bounds(&topic.id).await {
                Ok(bounds) => bounds,
                Err(StoreError::NotFound(_)) => continue,
                Err(other) => return Err(admin_store(other)),
            };
            logs.push(TopicLog {
                events: bounds.len(),
                first_seq: bounds.first,
                last_seq: bounds.head,
                trimmed: bounds.trimmed,
                retention: retention.as_ref().map(|r| r.config.limits(&topic.id)),
                topic_id: topic.id,
                name: topic.name,
            });
        }
        Ok(logs)
    }

    /// The hub's dead letters, oldest first, its halted backlog last.
    /// [`AdminError::NotFound`] when there is no such hub and none were recorded.
    pub(crate) async fn dead_letters(&self, hub_id: &str) -> Result<Vec<DeadLetter>, AdminError> {
        let recorded = self.store.dead_letters(hub_id).await.map_err(admin_store)?;
        let status = match self.any_status(hub_id).await {
            Ok(status) => Some(status),
            Err(AdminError::NotFound(_)) if !recorded.is_empty() => None,
            Err(other) => return Err(other),
        };
        let mut letters = Vec::with_capacity(recorded.len() + 1);
        for record in recorded {
            let bounds = self.store.log_bounds(&record.topic_id).await.ok();
            letters.push(self.dead_letter_view(record, bounds, status.is_some()));
        }
        if let Some(status) = status.filter(|s| s.state == DeliveryState::Halted)
            && status.cursor < status.head
        {
            let bounds = self.store.log_bounds(&status.topic_id).await.ok();
            let (first, last) = (status.cursor + 1, status.head);
            let held = bounds.and_then(|b| held(first, last, b.first, b.head));
            letters.push(DeadLetter {
                id: BACKLOG.to_owned(),
                kind: "halted",
                hub_id: status.hub_id,
                topic_id: status.topic_id,
                callback: status.callback,
                first,
                last,
                count: last - first + 1,
                reason: status
                    .halt_reason
                    .or(status.last_error)
                    .unwrap_or_else(|| "halted after its retry budget".into()),
                at: None,
                replayable: held.is_some(),
                held,
            });
        }
        Ok(letters)
    }

    fn dead_letter_view(
        &self,
        record: DeadLetterRecord,
        bounds: Option<crate::store::LogBounds>,
        hub_exists: bool,
    ) -> DeadLetter {
        let held = bounds.and_then(|b| held(record.first, record.last, b.first, b.head));
        DeadLetter {
            id: record.id.to_string(),
            kind: record.kind.as_str(),
            count: record.last - record.first + 1,
            first: record.first,
            last: record.last,
            at: Some(rfc3339(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(record.at_ms),
            )),
            // A removed hub's (recorded just before its removal) is not, even while
            // the removal is under way.
            replayable: hub_exists && held.is_some() && record.kind != DeadLetterKind::Gone,
            held,
            hub_id: record.hub_id,
            topic_id: record.topic_id,
            callback: record.callback,
            reason: record.reason,
        }
    }

    /// Re-sends a dead letter's range (the part the log still holds, from its start:
    /// the hub's cursor moves back there and the hub resumes).
    /// [`AdminError::NotFound`]: no such hub or dead letter; [`AdminError::Conflict`]:
    /// the hub was removed; [`AdminError::Gone`]: retention removed the whole range.
    pub(crate) async fn replay_dead_letter(
        &self,
        hub_id: &str,
        id: &str,
    ) -> Result<DeadLetterReplay, AdminError> {
        let letter = self
            .dead_letters(hub_id)
            .await?
            .into_iter()
            .find(|letter| letter.id == id)
            .ok_or_else(|| {
                AdminError::Missing(format!(
                    "hub {hub_id:?} has no dead letter {}",
                    crate::limits::shown(id)
                ))
            })?;
        let removed = match self.any_status(hub_id).await {
            Ok(_) => false,
            Err(AdminError::NotFound(_)) => true,
            Err(other) => return Err(other),
        };
        if letter.kind == "gone" || removed {
            return Err(AdminError::Conflict(format!(
                "hub {hub_id:?} was removed (its callback answered 410 Gone): register the \
                 callback again, then replay events {}..={} of topic {:?} to the new hub",
                letter.first, letter.last, letter.topic_id
            )));
        }
        let Some(resent) = letter.held else {
            return Err(AdminError::Gone(format!(
                "events {}..={} of topic {:?} were all removed by retention: nothing to re-send",
                letter.first, letter.last, letter.topic_id
            )));
        };
        self.replay(hub_id, resent.first).await?;
        Ok(DeadLetterReplay {
            hub_id: hub_id.to_owned(),
            dead_letter_id: letter.id,
            from: resent.first,
            gone: (resent.first > letter.first).then_some(SeqRange {
                first: letter.first,
                last: resent.first - 1,
            }),
            resent,
        })
    }
}
