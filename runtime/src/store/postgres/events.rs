//! A topic's event log as the [`Store`](crate::store::Store) sees it: appends (handed
//! to the group commit of `group_commit.rs`), events by id, pages of the log after a
//! sequence, and the head; candidates for an indexed predicate and their counts
//! (migration 0008).

use sqlx::postgres::PgPool;

use super::errors::{backend, topic_not_found};
use super::group_commit::{AppendQueues, group_append};
use super::rows::{EVENT_COLUMNS, EventRow, event_record, seq_param, seq_value};
use super::topics::topic_exists;
use crate::store::{Appended, EventRecord, IndexKey, NewEvent, Seq, StoreError};

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

/// Up to `max` events after `after` that `key` selects, in log order. Per `eventId` or
/// `eventType` value, the (topic, key, seq) index is read in order from `after` and
/// at most `max` rows are taken, then the values' rows are merged: the cost is that of
/// the page, not of the events the key selects.
pub(super) async fn indexed_events(
    pool: &PgPool,
    topic_id: &str,
    key: &IndexKey,
    after: Seq,
    max: usize,
) -> Result<Vec<EventRecord>, StoreError> {
    let limit = i64::try_from(max).unwrap_or(i64::MAX);
    let by_value = |column: &str| {
        format!(
            "SELECT {EVENT_COLUMNS} FROM unnest($2::text[]) AS v (value), LATERAL \
             (SELECT seq, event_id, publisher, body FROM events \
              WHERE topic_id = $1 AND {column} = v.value AND seq > $3 \
              ORDER BY seq LIMIT $4) AS e \
             ORDER BY seq LIMIT $4"
        )
    };
    let (sql, values) = match key {
        IndexKey::EventId(values) => (by_value("event_id"), values),
        IndexKey::EventType(values) => (by_value("event_type"), values),
        IndexKey::EventTime { .. } => return time_range(pool, topic_id, key, after, limit).await,
    };
    let query = sqlx::query_as(&sql).bind(topic_id).bind(values);
    let rows: Vec<EventRow> = query
        .bind(seq_param(after))
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(backend)?;
    finish(pool, topic_id, rows).await
}

/// An `eventTime` range: the planner picks the time index or the log's order.
async fn time_range(
    pool: &PgPool,
    topic_id: &str,
    key: &IndexKey,
    after: Seq,
    limit: i64,
) -> Result<Vec<EventRecord>, StoreError> {
    let IndexKey::EventTime { from_us, to_us } = key else {
        return Ok(Vec::new());
    };
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events \
         WHERE topic_id = $1 AND event_time_us BETWEEN $2 AND $3 AND seq > $4 \
         ORDER BY seq LIMIT $5"
    ))
    .bind(topic_id)
    .bind(from_us.unwrap_or(i64::MIN))
    .bind(to_us.unwrap_or(i64::MAX))
    .bind(seq_param(after))
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    finish(pool, topic_id, rows).await
}

async fn finish(
    pool: &PgPool,
    topic_id: &str,
    rows: Vec<EventRow>,
) -> Result<Vec<EventRecord>, StoreError> {
    // An empty answer may mean an unknown topic: only then ask.
    if rows.is_empty() && !topic_exists(pool, topic_id).await? {
        return Err(topic_not_found(topic_id));
    }
    Ok(rows.into_iter().map(event_record).collect())
}

/// How many events `key` selects: `eventType`s from `event_type_counts` (kept by
/// triggers), `eventId`s from their index; `None` for a time range.
pub(super) async fn count_indexed(
    pool: &PgPool,
    topic_id: &str,
    key: &IndexKey,
) -> Result<Option<u64>, StoreError> {
    let query = match key {
        IndexKey::EventId(values) => {
            sqlx::query_as("SELECT count(*) FROM events WHERE topic_id = $1 AND event_id = ANY($2)")
                .bind(topic_id)
                .bind(values)
        }
        IndexKey::EventType(values) => sqlx::query_as(
            "SELECT coalesce(sum(events), 0)::bigint FROM event_type_counts \
             WHERE topic_id = $1 AND event_type = ANY($2)",
        )
        .bind(topic_id)
        .bind(values),
        IndexKey::EventTime { .. } => return Ok(None),
    };
    let (count,): (i64,) = query.fetch_one(pool).await.map_err(backend)?;
    if count == 0 && !topic_exists(pool, topic_id).await? {
        return Err(topic_not_found(topic_id));
    }
    Ok(Some(u64::try_from(count).unwrap_or(0)))
}
