//! Hub leases: which replica (server process) delivers which hub. Each replica claims
//! its fair share every `ttl / 3` and records itself as alive in `replicas`; leases
//! that are not renewed expire, and the hubs of a replica that leaves or hands them
//! back are free at once. Share changes are announced (`notify.rs`) so that the
//! others rebalance without waiting for their next round. The public entry points
//! are [`PgStore::claim_hubs`](super::PgStore::claim_hubs),
//! [`PgStore::claim_share`](super::PgStore::claim_share) and
//! [`PgStore::release_hubs`](super::PgStore::release_hubs).

use std::time::Duration;

use sqlx::postgres::PgPool;

use super::errors::backend;
use super::notify::announce_replicas;
use crate::store::StoreError;

/// [`PgStore::claim_hubs`](super::PgStore::claim_hubs).
pub(super) async fn claim_hubs(
    pool: &PgPool,
    replica: &str,
    ttl: Duration,
    max_new: usize,
) -> Result<Vec<String>, StoreError> {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let mut tx = pool.begin().await.map_err(backend)?;
    sqlx::query(
        "UPDATE hubs SET lease_until = now() + $2 * interval '1 millisecond' \
         WHERE lease_owner = $1 AND lease_until > now()",
    )
    .bind(replica)
    .bind(ttl_ms)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    sqlx::query(
        "UPDATE hubs SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond' \
         WHERE id IN (SELECT id FROM hubs \
                      WHERE lease_until IS NULL OR lease_until <= now() \
                      ORDER BY ord LIMIT $3 FOR UPDATE SKIP LOCKED)",
    )
    .bind(replica)
    .bind(ttl_ms)
    .bind(i64::try_from(max_new).unwrap_or(i64::MAX))
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    let held: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM hubs WHERE lease_owner = $1 AND lease_until > now() ORDER BY ord",
    )
    .bind(replica)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    Ok(held.into_iter().map(|(id,)| id).collect())
}

/// [`PgStore::claim_share`](super::PgStore::claim_share).
pub(super) async fn claim_share(
    pool: &PgPool,
    replica: &str,
    ttl: Duration,
) -> Result<Vec<String>, StoreError> {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let mut tx = pool.begin().await.map_err(backend)?;
    // A replica that was not alive before joins: the others hear of it (at commit)
    // and claim their new shares at once, handing back their surplus.
    let (joined,): (bool,) = sqlx::query_as(
        "WITH before AS (SELECT alive_until > now() AS live FROM replicas WHERE id = $1) \
         INSERT INTO replicas (id, alive_until) VALUES ($1, now() + $2 * interval '1 millisecond') \
         ON CONFLICT (id) DO UPDATE SET alive_until = excluded.alive_until \
         RETURNING NOT coalesce((SELECT live FROM before), false)",
    )
    .bind(replica)
    .bind(ttl_ms)
    .fetch_one(&mut *tx)
    .await
    .map_err(backend)?;
    if joined {
        announce_replicas(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM replicas WHERE alive_until < now() - interval '1 day'")
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    let (live, total): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM replicas WHERE alive_until > now()), \
                (SELECT count(*) FROM hubs)",
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(backend)?;
    let live = live.max(1);
    let share = (total + live - 1) / live;
    let mut held: Vec<(String,)> = sqlx::query_as(
        "UPDATE hubs SET lease_until = now() + $2 * interval '1 millisecond' \
         WHERE id IN (SELECT id FROM hubs WHERE lease_owner = $1 AND lease_until > now() \
                      ORDER BY ord LIMIT $3 FOR UPDATE) RETURNING id",
    )
    .bind(replica)
    .bind(ttl_ms)
    .bind(share)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    let room = share - i64::try_from(held.len()).unwrap_or(i64::MAX);
    if room > 0 {
        let taken: Vec<(String,)> = sqlx::query_as(
            "UPDATE hubs SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond' \
             WHERE id IN (SELECT id FROM hubs \
                          WHERE lease_until IS NULL OR lease_until <= now() \
                          ORDER BY ord LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id",
        )
        .bind(replica)
        .bind(ttl_ms)
        .bind(room)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        held.extend(taken);
    }
    tx.commit().await.map_err(backend)?;
    Ok(held.into_iter().map(|(id,)| id).collect())
}

/// Ends `replica`'s row in `replicas` and gives up its leases (graceful shutdown).
pub(super) async fn leave(pool: &PgPool, replica: &str) -> Result<u64, StoreError> {
    sqlx::query("DELETE FROM replicas WHERE id = $1")
        .bind(replica)
        .execute(pool)
        .await
        .map_err(backend)?;
    let released = release_hubs(pool, replica).await?;
    announce_replicas(pool).await?;
    Ok(released)
}

/// [`PgStore::release_hubs`](super::PgStore::release_hubs).
pub(super) async fn release_hubs(pool: &PgPool, replica: &str) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE hubs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
    )
    .bind(replica)
    .execute(pool)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected())
}

/// Gives up `replica`'s leases of `hub_ids` (hubs it no longer delivers) and, when it
/// held any, announces that the shares changed.
pub(super) async fn hand_back_leases(
    pool: &PgPool,
    replica: &str,
    hub_ids: &[String],
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let done = sqlx::query(
        "UPDATE hubs SET lease_owner = NULL, lease_until = NULL \
         WHERE lease_owner = $1 AND id = ANY($2)",
    )
    .bind(replica)
    .bind(hub_ids)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    if done.rows_affected() > 0 {
        announce_replicas(&mut *tx).await?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(done.rows_affected())
}
