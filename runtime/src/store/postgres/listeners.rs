//! Listeners of the API's own notifications (`POST /hub`): the rows of `listeners`.

use sqlx::postgres::PgPool;

use super::errors::backend;
use super::rows::{LISTENER_COLUMNS, ListenerRow, listener_record, owner_columns, reach_column};
use crate::store::{ListenerRecord, NewListener, StoreError};

pub(super) async fn create_listener(
    pool: &PgPool,
    listener: NewListener,
) -> Result<ListenerRecord, StoreError> {
    let (owner, owner_issuer) = owner_columns(listener.owner.as_ref());
    let (id,): (String,) = sqlx::query_as(
        "INSERT INTO listeners (id, callback, query, owner, owner_issuer, owner_reach) \
         VALUES ('listener-' || nextval('ids'), $1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&listener.callback)
    .bind(&listener.query)
    .bind(owner)
    .bind(owner_issuer)
    .bind(reach_column(listener.owner.as_ref()))
    .fetch_one(pool)
    .await
    .map_err(backend)?;
    Ok(ListenerRecord {
        id,
        callback: listener.callback,
        query: listener.query,
        owner: listener.owner,
    })
}

pub(super) async fn delete_listener(pool: &PgPool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM listeners WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn listeners(pool: &PgPool) -> Result<Vec<ListenerRecord>, StoreError> {
    let rows: Vec<ListenerRow> = sqlx::query_as(&format!(
        "SELECT {LISTENER_COLUMNS} FROM listeners ORDER BY ord"
    ))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    Ok(rows.into_iter().map(listener_record).collect())
}
