//! A topic's event log as the [`Store`](crate::store::Store) sees it: appends (handed
//! to the group commit of `group_commit.rs`), events by id, pages of the log after a
//! sequence, and the head.

use sqlx::postgres::PgPool;

use super::errors::{backend, topic_not_found};
use super::group_commit::{AppendQueues, group_append};
use super::rows::{EVENT_COLUMNS, EventRow, event_record, seq_param, seq_value};
use super::topics::topic_exists;
use crate::store::{Appended, EventRecord, NewEvent, Seq, StoreError};

pub(super) async fn append_events(
    pool: &PgPool,
    appends: &AppendQueues,
    topic_id: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<Appended>, StoreError> {
    if events.is_empty() {
        // Nothing to write; still say whether the topic exists.
        if !topic_exists(pool, topic_id).await? {
            return Err(topic_not_found(topic_id));
        }
        return Ok(Vec::new());
    }
    group_append(pool, appends, topic_id, events).await
}

pub(super) async fn event(
    pool: &PgPool,
    topic_id: &str,
    id: &str,
) -> Result<Option<EventRecord>, StoreError> {
    // Ids are the sequence numbers, in canonical decimal form.
    let Ok(seq) = id.parse::<i64>() else {
        return Ok(None);
    };
    if seq <= 0 || seq.to_string() != id {
        return Ok(None);
    }
    let row: Option<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE topic_id = $1 AND seq = $2"
    ))
    .bind(topic_id)
    .bind(seq)
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    Ok(row.map(event_record))
}

pub(super) async fn read_events(
    pool: &PgPool,
    topic_id: &str,
    after: Seq,
    max: usize,
) -> Result<Vec<EventRecord>, StoreError> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events \
         WHERE topic_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    ))
    .bind(topic_id)
    .bind(seq_param(after))
    .bind(i64::try_from(max).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    // An empty answer may mean an unknown topic: only then ask.
    if rows.is_empty() && !topic_exists(pool, topic_id).await? {
        return Err(topic_not_found(topic_id));
    }
    Ok(rows.into_iter().map(event_record).collect())
}

pub(super) async fn head(pool: &PgPool, topic_id: &str) -> Result<Seq, StoreError> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT last_seq FROM topics WHERE id = $1")
        .bind(topic_id)
        .fetch_optional(pool)
        .await
        .map_err(backend)?;
    row.map(|(last,)| seq_value(last))
        .ok_or_else(|| topic_not_found(topic_id))
}
