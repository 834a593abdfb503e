//! The values kept in the key-value buckets (JSON documents) and in the log streams
//! (an event's frame), and their conversion to and from the store's records.
//!
//! Bodies are kept as JSON strings holding the compact JSON the service stored, so
//! they come back byte for byte (a JSON value would be re-serialised).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::store::{
    DeadLetterKind, DeadLetterRecord, EventRecord, HubRecord, HubState, ListenerRecord, Owner,
    Reach, Seq, StoreError, TopicRecord,
};

pub(super) fn body_text(body: &Bytes) -> Result<String, StoreError> {
    String::from_utf8(body.to_vec())
        .map_err(|_| StoreError::Backend("a body that is not UTF-8 cannot be stored".into()))
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("unreadable {what} record: {error}"))
}

/// Decodes a bucket's JSON value.
pub(super) fn decode<T: for<'de> Deserialize<'de>>(
    what: &str,
    value: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(value).map_err(|error| corrupt(what, error))
}

/// Encodes a bucket's JSON value.
pub(super) fn encode<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("records serialise"))
}

/// A topic (bucket `topics`, key: the topic key).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct TopicDoc {
    pub id: String,
    pub name: String,
    pub body: String,
    /// Creation order (the store's id counter when it was created).
    pub ord: u64,
}

impl TopicDoc {
    pub fn record(&self) -> TopicRecord {
        TopicRecord {
            id: self.id.clone(),
            name: self.name.clone(),
            body: Bytes::from(self.body.clone()),
        }
    }
}

/// An owner as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct OwnerDoc {
    pub issuer: String,
    pub name: String,
    /// `all`, `none` or `party:<id>` ([`Reach::to_column`]).
    pub reach: String,
}

impl OwnerDoc {
    pub fn from_owner(owner: &Owner) -> Self {
        Self {
            issuer: owner.issuer.clone(),
            name: owner.name.clone(),
            reach: owner.reach.to_column(),
        }
    }

    pub fn owner(&self) -> Owner {
        Owner::new(self.issuer.clone(), self.name.clone())
            .with_reach(Reach::from_column(&self.reach))
    }
}

/// A hub (bucket `hubs`, key `<topic key>.<hub id>`): registration, delivery state,
/// and the lease fields a shared store would use.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct HubDoc {
    pub id: String,
    pub topic_id: String,
    pub callback: String,
    pub query: Option<String>,
    pub body: String,
    pub owner: Option<OwnerDoc>,
    pub base_path: Option<String>,
    pub cursor: Seq,
    pub halted: bool,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub epoch: u64,
    pub halt_reason: Option<String>,
    /// Registration order (the store's id counter).
    pub ord: u64,
}

impl HubDoc {
    pub fn record(&self) -> HubRecord {
        HubRecord {
            id: self.id.clone(),
            topic_id: self.topic_id.clone(),
            callback: self.callback.clone(),
            query: self.query.clone(),
            body: Bytes::from(self.body.clone()),
            cursor: self.cursor,
            state: if self.halted {
                HubState::Halted
            } else {
                HubState::Active
            },
            owner: self.owner.as_ref().map(OwnerDoc::owner),
            base_path: self.base_path.clone(),
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            epoch: self.epoch,
            holder: None,
            halt_reason: self.halt_reason.clone(),
        }
    }
}

/// A listener (bucket `listeners`, key: its id).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct ListenerDoc {
    pub id: String,
    pub callback: String,
    pub query: Option<String>,
    pub owner: Option<OwnerDoc>,
    pub ord: u64,
}

impl ListenerDoc {
    pub fn record(&self) -> ListenerRecord {
        ListenerRecord {
            id: self.id.clone(),
            callback: self.callback.clone(),
            query: self.query.clone(),
            owner: self.owner.as_ref().map(OwnerDoc::owner),
        }
    }
}

/// A dead letter (bucket `deadletters`, key `<hub id>.<id>`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct DeadLetterDoc {
    pub id: u64,
    pub hub_id: String,
    pub topic_id: String,
    pub callback: String,
    pub first: Seq,
    pub last: Seq,
    pub kind: String,
    pub reason: String,
    pub at_ms: u64,
}

impl DeadLetterDoc {
    pub fn record(&self) -> DeadLetterRecord {
        DeadLetterRecord {
            id: self.id,
            hub_id: self.hub_id.clone(),
            topic_id: self.topic_id.clone(),
            callback: self.callback.clone(),
            first: self.first,
            last: self.last,
            kind: DeadLetterKind::from_text(&self.kind),
            reason: self.reason.clone(),
            at_ms: self.at_ms,
        }
    }

    pub fn from_record(record: &DeadLetterRecord) -> Self {
        Self {
            id: record.id,
            hub_id: record.hub_id.clone(),
            topic_id: record.topic_id.clone(),
            callback: record.callback.clone(),
            first: record.first,
            last: record.last,
            kind: record.kind.as_str().to_owned(),
            reason: record.reason.clone(),
            at_ms: record.at_ms,
        }
    }
}

/// An event's de-duplication record (bucket `eventids`, key `<topic key>.<hash of
/// (eventId, publisher)>`): `seq` once its event is in the log, `None` while an append
/// of it is under way (see `events.rs`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct EventIdDoc {
    pub seq: Option<Seq>,
}

/// An event as a message of its topic's stream: one line with the JSON array
/// `[eventId, publisher]`, then the body verbatim. (Not headers: a publisher holds
/// U+001F, which a header value may not.)
pub(super) fn event_frame(event_id: &str, publisher: &str, body: &Bytes) -> Bytes {
    let mut frame = serde_json::to_vec(&(event_id, publisher)).expect("strings serialise");
    frame.push(b'\n');
    frame.extend_from_slice(body);
    Bytes::from(frame)
}

/// The event at `seq` from its message's payload.
pub(super) fn event_from_frame(seq: Seq, payload: &Bytes) -> Result<EventRecord, StoreError> {
    let newline = payload
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| corrupt("event", "no frame line"))?;
    let (event_id, publisher): (String, String) =
        serde_json::from_slice(&payload[..newline]).map_err(|error| corrupt("event", error))?;
    Ok(EventRecord {
        seq,
        id: seq.to_string(),
        event_id,
        publisher,
        body: payload.slice(newline + 1..),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_keep_bodies_verbatim() {
        let body = Bytes::from_static(b"{\"a\":1e400,\n\"b\":\"\\u0000\"}");
        let frame = event_frame("id\n1", "jwt:x\u{1f}sub", &body);
        let event = event_from_frame(7, &frame).unwrap();
        assert_eq!(
            (
                event.id.as_str(),
                event.event_id.as_str(),
                event.publisher.as_str()
            ),
            ("7", "id\n1", "jwt:x\u{1f}sub")
        );
        assert_eq!(event.body, body);
    }
}
