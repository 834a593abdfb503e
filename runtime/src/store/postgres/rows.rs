//! Values ↔ columns, shared by every file that reads or writes the tables: sequences
//! as `bigint`, hub states as text, bodies as `json` (written from, and read back as,
//! the text the service stored), and the rows of `topics`, `events`, `hubs` and
//! `listeners` as the store's records.

use bytes::Bytes;

use crate::store::{
    EventRecord, HubRecord, HubState, ListenerRecord, Owner, Reach, Seq, StoreError, TopicRecord,
};

/// A stored body as text (the service stores compact JSON, always UTF-8).
pub(super) fn body_text(body: &Bytes) -> Result<&str, StoreError> {
    std::str::from_utf8(body)
        .map_err(|_| StoreError::Backend("a JSON body is not valid UTF-8".into()))
}

/// A sequence for SQL (`bigint`); beyond `i64::MAX` nothing exists anyway.
pub(super) fn seq_param(seq: Seq) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

pub(super) fn seq_value(value: i64) -> Seq {
    Seq::try_from(value).unwrap_or(0)
}

pub(super) fn state_text(state: HubState) -> &'static str {
    match state {
        HubState::Active => "active",
        HubState::Halted => "halted",
    }
}

fn state_value(text: &str) -> HubState {
    match text {
        "halted" => HubState::Halted,
        _ => HubState::Active,
    }
}

pub(super) type TopicRow = (String, String, String);

pub(super) fn topic_record((id, name, body): TopicRow) -> TopicRecord {
    TopicRecord {
        id,
        name,
        body: Bytes::from(body),
    }
}

/// `seq, event_id, publisher, body::text` of `events` ([`EVENT_COLUMNS`]).
pub(super) type EventRow = (i64, String, String, String);

/// The columns of an [`EventRow`].
pub(super) const EVENT_COLUMNS: &str = "seq, event_id, publisher, body::text";

pub(super) fn event_record((seq, event_id, publisher, body): EventRow) -> EventRecord {
    EventRecord {
        seq: seq_value(seq),
        id: seq.to_string(),
        event_id,
        publisher,
        body: Bytes::from(body),
    }
}

/// A row of `hubs`, as [`HUB_COLUMNS`] selects it.
#[derive(sqlx::FromRow)]
pub(super) struct HubRow {
    id: String,
    topic_id: String,
    callback: String,
    query: Option<String>,
    owner: Option<String>,
    owner_issuer: Option<String>,
    owner_reach: Option<String>,
    body: String,
    cursor: i64,
    state: String,
    base_path: Option<String>,
    attempts: i32,
    last_error: Option<String>,
    epoch: i64,
    holder: Option<String>,
    halt_reason: Option<String>,
}

pub(super) const HUB_COLUMNS: &str = "id, topic_id, callback, query, owner, owner_issuer, owner_reach, body::text AS body, cursor, \
     state, base_path, attempts, last_error, epoch, halt_reason, \
     CASE WHEN lease_until > now() THEN lease_owner END AS holder";

pub(super) fn hub_record(row: HubRow) -> HubRecord {
    HubRecord {
        id: row.id,
        topic_id: row.topic_id,
        callback: row.callback,
        query: row.query,
        body: Bytes::from(row.body),
        cursor: seq_value(row.cursor),
        state: state_value(&row.state),
        owner: owner(row.owner, row.owner_issuer, row.owner_reach),
        base_path: row.base_path,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        last_error: row.last_error,
        epoch: seq_value(row.epoch),
        holder: row.holder,
        halt_reason: row.halt_reason,
    }
}

pub(super) type ListenerRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The columns of a [`ListenerRow`].
pub(super) const LISTENER_COLUMNS: &str = "id, callback, query, owner, owner_issuer, owner_reach";

pub(super) fn listener_record(
    (id, callback, query, name, issuer, reach): ListenerRow,
) -> ListenerRecord {
    ListenerRecord {
        id,
        callback,
        query,
        owner: owner(name, issuer, reach),
    }
}

/// The `owner`/`owner_issuer`/`owner_reach` columns as an [`Owner`] (a name without a
/// namespace cannot be written since migration 0005; read as `unknown`, which no
/// caller matches; a missing reach, impossible since migration 0006, as the narrowest).
fn owner(name: Option<String>, issuer: Option<String>, reach: Option<String>) -> Option<Owner> {
    name.map(|name| Owner {
        issuer: issuer.unwrap_or_else(|| "unknown".to_owned()),
        name,
        reach: reach
            .as_deref()
            .map_or(Reach::Unaddressed, Reach::from_column),
    })
}

/// The `owner`/`owner_issuer` columns of an [`Owner`] (its identity).
pub(super) fn owner_columns(owner: Option<&Owner>) -> (Option<&str>, Option<&str>) {
    match owner {
        Some(owner) => (Some(owner.name.as_str()), Some(owner.issuer.as_str())),
        None => (None, None),
    }
}

/// The `owner_reach` column of an [`Owner`].
pub(super) fn reach_column(owner: Option<&Owner>) -> Option<String> {
    owner.map(|owner| owner.reach.to_column())
}
