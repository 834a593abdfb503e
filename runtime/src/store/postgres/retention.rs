//! Retention and dead letters: where a topic's log begins (`topic_retention`), the
//! trimmer's batched removal of the oldest events, a hub's backlog given up by
//! `max_undelivered_age` (recorded in `dead_letters`), and the trimmer's lease
//! (`trimmer_lease`, so that one replica trims at a time). Migration 0009.
//!
//! A trim batch is one short transaction: it deletes at most `max_rows` events of the
//! topic's prefix (row locks on those old rows only: appends insert at the other end
//! and lock `topics`, which the trimmer never touches) and moves `first_seq` after
//! them. A crash between batches leaves a consistent log: every sequence from
//! `first_seq` to the head is still there.

use std::time::{Duration, SystemTime};

use sqlx::postgres::PgPool;

use super::errors::{backend, topic_not_found};
use super::notify::announce_hub;
use super::rows::{HUB_COLUMNS, HubRow, hub_record, seq_param, seq_value};
use crate::store::{
    DeadLetterKind, DeadLetterRecord, LogBounds, MAX_DEAD_LETTERS, NewDeadLetter, Seq, StoreError,
};

/// `time` as seconds since the Unix epoch, for `to_timestamp`.
fn epoch_seconds(time: SystemTime) -> f64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

pub(super) async fn log_bounds(pool: &PgPool, topic_id: &str) -> Result<LogBounds, StoreError> {
    let row: Option<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT t.last_seq, r.first_seq, r.trimmed \
         FROM topics t LEFT JOIN topic_retention r ON r.topic_id = t.id WHERE t.id = $1",
    )
    .bind(topic_id)
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    let (head, first, trimmed) = row.ok_or_else(|| topic_not_found(topic_id))?;
    Ok(LogBounds {
        first: seq_value(first.unwrap_or(1)).max(1),
        head: seq_value(head),
        trimmed: seq_value(trimmed.unwrap_or(0)),
    })
}

pub(super) async fn seq_stored_since(
    pool: &PgPool,
    topic_id: &str,
    after: Seq,
    since: SystemTime,
) -> Result<Seq, StoreError> {
    // Walks the log from `after` in sequence order (the primary key) to the first
    // recent event: the cost is the number of older events, which retention is about
    // to remove or give up.
    let row: Option<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT t.last_seq, \
                (SELECT e.seq FROM events e \
                 WHERE e.topic_id = t.id AND e.seq > $2 AND e.stored_at >= to_timestamp($3) \
                 ORDER BY e.seq LIMIT 1) \
         FROM topics t WHERE t.id = $1",
    )
    .bind(topic_id)
    .bind(seq_param(after))
    .bind(epoch_seconds(since))
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    let (head, newer) = row.ok_or_else(|| topic_not_found(topic_id))?;
    Ok(newer.map_or(seq_value(head) + 1, seq_value))
}

pub(super) async fn trim_events(
    pool: &PgPool,
    topic_id: &str,
    up_to: Seq,
    max_rows: usize,
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    // The prefix from the first sequence held, up to `up_to` but never past a hub's
    // cursor (read in the statement's own snapshot), at most `max_rows` of it: a
    // range of the primary key (the log is gapless from its first sequence), so the
    // index scan starts at the live rows rather than walking the entries of rows
    // deleted by earlier batches.
    let (removed, last): (i64, Option<i64>) = sqlx::query_as(
        "WITH lo AS ( \
             SELECT coalesce((SELECT first_seq FROM topic_retention WHERE topic_id = $1), 1) AS lo), \
         bounds AS ( \
             SELECT lo, least(lo + $3 - 1, $2, \
                 (SELECT coalesce(min(cursor), $2) FROM hubs WHERE topic_id = $1)) AS hi \
             FROM lo), \
         gone AS ( \
             DELETE FROM events e USING bounds b \
             WHERE e.topic_id = $1 AND e.seq BETWEEN b.lo AND b.hi RETURNING e.seq) \
         SELECT count(*), max(seq) FROM gone",
    )
    .bind(topic_id)
    .bind(seq_param(up_to))
    .bind(i64::try_from(max_rows).unwrap_or(i64::MAX))
    .fetch_one(&mut *tx)
    .await
    .map_err(backend)?;
    let Some(last) = last else {
        tx.rollback().await.map_err(backend)?;
        return Ok(0);
    };
    // The row exists since the topic does (created with it, or by migration 0009);
    // `greatest`: a first sequence never moves back.
    sqlx::query(
        "INSERT INTO topic_retention (topic_id, first_seq, trimmed) VALUES ($1, $2, $3) \
         ON CONFLICT (topic_id) DO UPDATE \
         SET first_seq = greatest(topic_retention.first_seq, excluded.first_seq), \
             trimmed = topic_retention.trimmed + excluded.trimmed",
    )
    .bind(topic_id)
    .bind(last + 1)
    .bind(removed)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    Ok(seq_value(removed))
}

/// `id, hub_id, topic_id, callback, first_seq, last_seq, kind, reason, at (ms)`.
type DeadLetterRow = (i64, String, String, String, i64, i64, String, String, i64);

const DEAD_LETTER_COLUMNS: &str = "id, hub_id, topic_id, callback, first_seq, last_seq, kind, \
     reason, (extract(epoch FROM at) * 1000)::int8";

fn dead_letter_record(
    (id, hub_id, topic_id, callback, first, last, kind, reason, at_ms): DeadLetterRow,
) -> DeadLetterRecord {
    DeadLetterRecord {
        id: seq_value(id),
        hub_id,
        topic_id,
        callback,
        first: seq_value(first),
        last: seq_value(last),
        kind: DeadLetterKind::from_text(&kind),
        reason,
        at_ms: seq_value(at_ms),
    }
}

pub(super) async fn expire_backlog(
    pool: &PgPool,
    hub_id: &str,
    up_to: Seq,
    reason: &str,
) -> Result<Option<DeadLetterRecord>, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    // The hub's row locked: its cursor cannot move under us.
    let cursor: Option<(i64, String, String, i64, bool)> = sqlx::query_as(
        "SELECT h.cursor, h.topic_id, h.callback, t.last_seq, h.state = 'halted' \
         FROM hubs h JOIN topics t ON t.id = h.topic_id WHERE h.id = $1 FOR UPDATE OF h",
    )
    .bind(hub_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    let Some((cursor, topic_id, callback, head, halted)) = cursor else {
        return Ok(None);
    };
    let up_to = seq_param(up_to).min(head);
    if cursor >= up_to {
        return Ok(None);
    }
    let row: HubRow = sqlx::query_as(&format!(
        "UPDATE hubs SET cursor = $2, state = 'halted', halt_reason = $3, attempts = 0, \
         last_error = NULL, epoch = epoch + 1 WHERE id = $1 RETURNING {HUB_COLUMNS}"
    ))
    .bind(hub_id)
    .bind(up_to)
    .bind(reason)
    .fetch_one(&mut *tx)
    .await
    .map_err(backend)?;
    // A range that continues the hub's last expired one (the hub halted since: not
    // resumed, not replayed) extends it.
    let extended: Option<DeadLetterRow> = sqlx::query_as(&format!(
        "UPDATE dead_letters SET last_seq = $2, reason = $3, at = now() \
         WHERE id = (SELECT id FROM dead_letters WHERE hub_id = $1 ORDER BY id DESC LIMIT 1) \
           AND kind = 'expired' AND last_seq + 1 = $4 AND $5 \
         RETURNING {DEAD_LETTER_COLUMNS}"
    ))
    .bind(hub_id)
    .bind(up_to)
    .bind(reason)
    .bind(cursor + 1)
    .bind(halted)
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    let record = match extended {
        Some(row) => row,
        None => sqlx::query_as(&format!(
            "INSERT INTO dead_letters (hub_id, topic_id, callback, first_seq, last_seq, kind, reason) \
             VALUES ($1, $2, $3, $4, $5, 'expired', $6) RETURNING {DEAD_LETTER_COLUMNS}"
        ))
        .bind(hub_id)
        .bind(&topic_id)
        .bind(&callback)
        .bind(cursor + 1)
        .bind(up_to)
        .bind(reason)
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?,
    };
    tx.commit().await.map_err(backend)?;
    // The replica delivering the hub stops its worker (its epoch is older) and
    // restarts it from the row: halted.
    announce_hub(pool, &hub_record(row)).await;
    Ok(Some(dead_letter_record(record)))
}

pub(super) async fn record_dead_letter(
    pool: &PgPool,
    dead_letter: NewDeadLetter,
) -> Result<DeadLetterRecord, StoreError> {
    let row: DeadLetterRow = sqlx::query_as(&format!(
        "INSERT INTO dead_letters (hub_id, topic_id, callback, first_seq, last_seq, kind, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {DEAD_LETTER_COLUMNS}"
    ))
    .bind(&dead_letter.hub_id)
    .bind(&dead_letter.topic_id)
    .bind(&dead_letter.callback)
    .bind(seq_param(dead_letter.first))
    .bind(seq_param(dead_letter.last.max(dead_letter.first)))
    .bind(dead_letter.kind.as_str())
    .bind(&dead_letter.reason)
    .fetch_one(pool)
    .await
    .map_err(backend)?;
    Ok(dead_letter_record(row))
}

pub(super) async fn dead_letters(
    pool: &PgPool,
    hub_id: &str,
) -> Result<Vec<DeadLetterRecord>, StoreError> {
    let rows: Vec<DeadLetterRow> = sqlx::query_as(&format!(
        "SELECT * FROM (SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE hub_id = $1 \
         ORDER BY id DESC LIMIT $2) latest ORDER BY id"
    ))
    .bind(hub_id)
    .bind(i64::try_from(MAX_DEAD_LETTERS).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    Ok(rows.into_iter().map(dead_letter_record).collect())
}

pub(super) async fn forget_dead_letters(
    pool: &PgPool,
    before: SystemTime,
    max_rows: usize,
) -> Result<u64, StoreError> {
    // A batch by primary key: no long lock, whatever the table's size.
    let removed = sqlx::query(
        "DELETE FROM dead_letters WHERE id IN \
         (SELECT id FROM dead_letters WHERE at < to_timestamp($1) ORDER BY id LIMIT $2)",
    )
    .bind(epoch_seconds(before))
    .bind(i64::try_from(max_rows).unwrap_or(i64::MAX))
    .execute(pool)
    .await
    .map_err(backend)?;
    Ok(removed.rows_affected())
}

pub(super) async fn claim_trimmer(
    pool: &PgPool,
    replica: &str,
    ttl: Duration,
) -> Result<bool, StoreError> {
    // Taken when free, expired or ours already; one row, so two replicas claiming at
    // once serialise on it and one of them gets nothing back.
    let claimed: Option<(String,)> = sqlx::query_as(
        "INSERT INTO trimmer_lease (id, owner, until) \
         VALUES (1, $1, now() + $2 * interval '1 millisecond') \
         ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, until = excluded.until \
         WHERE trimmer_lease.owner = excluded.owner OR trimmer_lease.until < now() \
         RETURNING owner",
    )
    .bind(replica)
    .bind(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    Ok(claimed.is_some())
}
