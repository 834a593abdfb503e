//! What moves while a hub is delivered: its cursor, retry state and halt. The delivery
//! engine saves it in batches, fenced on the hub's epoch and on the replica's lease
//! (`save_progress`); an operator's resume or replay bumps the epoch, so that a stale
//! batch cannot undo it (`operate_hub`). `set_cursor` and `set_hub_state` are the plain,
//! unfenced writes. A cursor given to `operate_hub` or `set_cursor` beyond the head of
//! the topic's log is taken as the head (the operator API refuses it before).

use sqlx::postgres::PgPool;

use super::errors::{backend, hub_not_found};
use super::notify::announce_hub;
use super::rows::{HUB_COLUMNS, HubRow, hub_record, seq_param, state_text};
use crate::store::{HubProgress, HubRecord, HubState, Seq, StoreError};

pub(super) async fn save_progress(
    pool: &PgPool,
    progress: &[HubProgress],
    replica: &str,
) -> Result<Vec<String>, StoreError> {
    if progress.is_empty() {
        return Ok(Vec::new());
    }
    // One statement for the whole batch, rows locked in id order (no deadlock
    // between replicas); fenced on the epoch and on this replica's lease.
    let mut sorted: Vec<&HubProgress> = progress.iter().collect();
    sorted.sort_by(|a, b| a.hub_id.cmp(&b.hub_id));
    let ids: Vec<&str> = sorted.iter().map(|p| p.hub_id.as_str()).collect();
    let epochs: Vec<i64> = sorted.iter().map(|p| seq_param(p.epoch)).collect();
    let cursors: Vec<i64> = sorted.iter().map(|p| seq_param(p.cursor)).collect();
    let attempts: Vec<i32> = sorted
        .iter()
        .map(|p| i32::try_from(p.attempts).unwrap_or(i32::MAX))
        .collect();
    let errors: Vec<Option<&str>> = sorted.iter().map(|p| p.last_error.as_deref()).collect();
    let states: Vec<&str> = sorted.iter().map(|p| state_text(p.state)).collect();
    let saved: Vec<(String,)> = sqlx::query_as(
        "UPDATE hubs h SET cursor = p.cursor, attempts = p.attempts, \
                           last_error = p.last_error, state = p.state, \
                           halt_reason = CASE WHEN p.state = 'active' THEN NULL ELSE h.halt_reason END \
         FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int4[], $5::text[], $7::text[]) \
              AS p(id, epoch, cursor, attempts, last_error, state) \
         WHERE h.id = p.id AND h.epoch = p.epoch \
           AND h.lease_owner = $6 AND h.lease_until > now() \
         RETURNING h.id",
    )
    .bind(&ids)
    .bind(&epochs)
    .bind(&cursors)
    .bind(&attempts)
    .bind(&errors)
    .bind(replica)
    .bind(&states)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    if saved.len() == ids.len() {
        return Ok(Vec::new());
    }
    // Refused: those that still exist (a removed hub is not a lost lease).
    let saved: std::collections::HashSet<String> = saved.into_iter().map(|(id,)| id).collect();
    let missing: Vec<&str> = ids.into_iter().filter(|id| !saved.contains(*id)).collect();
    let existing: Vec<(String,)> = sqlx::query_as("SELECT id FROM hubs WHERE id = ANY($1)")
        .bind(&missing)
        .fetch_all(pool)
        .await
        .map_err(backend)?;
    Ok(existing.into_iter().map(|(id,)| id).collect())
}

pub(super) async fn operate_hub(
    pool: &PgPool,
    hub_id: &str,
    cursor: Option<Seq>,
) -> Result<HubRecord, StoreError> {
    let row: Option<HubRow> = sqlx::query_as(&format!(
        "UPDATE hubs SET state = 'active', attempts = 0, last_error = NULL, halt_reason = NULL, \
         epoch = epoch + 1, \
         cursor = CASE WHEN $2::int8 IS NULL THEN cursor \
                  ELSE least($2, (SELECT last_seq FROM topics t WHERE t.id = hubs.topic_id)) END \
         WHERE id = $1 \
         RETURNING {HUB_COLUMNS}"
    ))
    .bind(hub_id)
    .bind(cursor.map(seq_param))
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    let record = hub_record(row.ok_or_else(|| hub_not_found(hub_id))?);
    announce_hub(pool, &record).await;
    Ok(record)
}

pub(super) async fn set_cursor(pool: &PgPool, hub_id: &str, cursor: Seq) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE hubs SET cursor = least($2, (SELECT last_seq FROM topics t WHERE t.id = hubs.topic_id)) \
         WHERE id = $1",
    )
    .bind(hub_id)
    .bind(seq_param(cursor))
    .execute(pool)
    .await
    .map_err(backend)?;
    if done.rows_affected() == 0 {
        return Err(hub_not_found(hub_id));
    }
    Ok(())
}

pub(super) async fn set_hub_state(
    pool: &PgPool,
    hub_id: &str,
    state: HubState,
) -> Result<(), StoreError> {
    let done = sqlx::query("UPDATE hubs SET state = $2 WHERE id = $1")
        .bind(hub_id)
        .bind(state_text(state))
        .execute(pool)
        .await
        .map_err(backend)?;
    if done.rows_affected() == 0 {
        return Err(hub_not_found(hub_id));
    }
    Ok(())
}
