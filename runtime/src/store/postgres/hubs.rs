//! Hubs as registrations: creating one (idempotent on its identity: topic, callback,
//! query, owner with its namespace), looking them up, removing one. What moves while a hub is delivered
//! (cursor, state, epoch) is in `progress.rs`; who delivers it, in `leases.rs`.

use sqlx::postgres::PgPool;

use super::errors::{backend, topic_not_found};
use super::notify::{HUBS_CHANNEL, announce_hub};
use super::rows::{HUB_COLUMNS, HubRow, body_text, hub_record, owner_columns, reach_column};
use super::topics::topic_exists;
use crate::store::{HubRecord, HubStart, NewHub, Owner, StoreError};

pub(super) async fn create_hub(
    pool: &PgPool,
    hub: NewHub,
) -> Result<(HubRecord, bool), StoreError> {
    let from_head = matches!(hub.start, HubStart::Head);
    let (owner, owner_issuer) = owner_columns(hub.owner.as_ref());
    let inserted: Option<HubRow> = sqlx::query_as(&format!(
        "INSERT INTO hubs (id, topic_id, callback, query, owner, body, cursor, base_path, \
                           owner_issuer, owner_reach) \
         SELECT 'hub-' || nextval('ids'), t.id, $2, $3, $4, $5::text::json, \
                CASE WHEN $6 THEN t.last_seq ELSE 0 END, $7, $8, $9 \
         FROM topics t WHERE t.id = $1 \
         ON CONFLICT (topic_id, callback, (coalesce(query, '')), (query IS NULL), \
                      (coalesce(owner_issuer, '')), (coalesce(owner, '')), (owner IS NULL)) \
         DO NOTHING \
         RETURNING {HUB_COLUMNS}"
    ))
    .bind(&hub.topic_id)
    .bind(&hub.callback)
    .bind(&hub.query)
    .bind(owner)
    .bind(body_text(&hub.body)?)
    .bind(from_head)
    .bind(&hub.base_path)
    .bind(owner_issuer)
    .bind(reach_column(hub.owner.as_ref()))
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    if let Some(row) = inserted {
        let record = hub_record(row);
        announce_hub(pool, &record).await;
        return Ok((record, true));
    }
    // Either the same hub exists, or the topic does not.
    match hub_by_identity(pool, &hub).await? {
        Some(existing) => Ok((existing, false)),
        None => Err(topic_not_found(&hub.topic_id)),
    }
}

async fn hub_by_identity(pool: &PgPool, hub: &NewHub) -> Result<Option<HubRecord>, StoreError> {
    let (owner, owner_issuer) = owner_columns(hub.owner.as_ref());
    let row: Option<HubRow> = sqlx::query_as(&format!(
        "SELECT {HUB_COLUMNS} FROM hubs WHERE topic_id = $1 AND callback = $2 \
         AND query IS NOT DISTINCT FROM $3 AND owner IS NOT DISTINCT FROM $4 \
         AND owner_issuer IS NOT DISTINCT FROM $5"
    ))
    .bind(&hub.topic_id)
    .bind(&hub.callback)
    .bind(&hub.query)
    .bind(owner)
    .bind(owner_issuer)
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    Ok(row.map(hub_record))
}

pub(super) async fn hub(
    pool: &PgPool,
    topic_id: &str,
    id: &str,
) -> Result<Option<HubRecord>, StoreError> {
    let row: Option<HubRow> = sqlx::query_as(&format!(
        "SELECT {HUB_COLUMNS} FROM hubs WHERE topic_id = $1 AND id = $2"
    ))
    .bind(topic_id)
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    Ok(row.map(hub_record))
}

pub(super) async fn hub_by_id(pool: &PgPool, id: &str) -> Result<Option<HubRecord>, StoreError> {
    let row: Option<HubRow> =
        sqlx::query_as(&format!("SELECT {HUB_COLUMNS} FROM hubs WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
    Ok(row.map(hub_record))
}

pub(super) async fn hubs(pool: &PgPool, topic_id: &str) -> Result<Vec<HubRecord>, StoreError> {
    let rows: Vec<HubRow> = sqlx::query_as(&format!(
        "SELECT {HUB_COLUMNS} FROM hubs WHERE topic_id = $1 ORDER BY ord"
    ))
    .bind(topic_id)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    if rows.is_empty() && !topic_exists(pool, topic_id).await? {
        return Err(topic_not_found(topic_id));
    }
    Ok(rows.into_iter().map(hub_record).collect())
}

pub(super) async fn all_hubs(pool: &PgPool) -> Result<Vec<HubRecord>, StoreError> {
    let rows: Vec<HubRow> = sqlx::query_as(&format!(
        "SELECT {HUB_COLUMNS} FROM hubs ORDER BY topic_id, ord"
    ))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    Ok(rows.into_iter().map(hub_record).collect())
}

pub(super) async fn count_hubs_of(pool: &PgPool, owner: Option<&Owner>) -> Result<u64, StoreError> {
    let (owner, owner_issuer) = owner_columns(owner);
    let (count,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM hubs \
         WHERE owner IS NOT DISTINCT FROM $1 AND owner_issuer IS NOT DISTINCT FROM $2",
    )
    .bind(owner)
    .bind(owner_issuer)
    .fetch_one(pool)
    .await
    .map_err(backend)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

pub(super) async fn delete_hub(
    pool: &PgPool,
    topic_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    // Announced at commit: the replica delivering the hub stops its worker at once.
    let done = sqlx::query(
        "WITH removed AS (DELETE FROM hubs WHERE topic_id = $1 AND id = $2 RETURNING id) \
         SELECT pg_notify($3, id || ':removed')::text FROM removed",
    )
    .bind(topic_id)
    .bind(id)
    .bind(HUBS_CHANNEL)
    .fetch_optional(pool)
    .await
    .map_err(backend)?;
    Ok(done.is_some())
}
