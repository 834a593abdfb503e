//! Topics: the rows of `topics` (their logs are in `events.rs`, their hubs in
//! `hubs.rs`), and the existence check the other files make when a query about a
//! topic comes back empty.

use sqlx::postgres::PgPool;

use super::errors::backend;
use super::rows::{TopicRow, body_text, topic_record};
use crate::store::{NewTopic, StoreError, TopicRecord};

pub(super) async fn topic_exists(pool: &PgPool, id: &str) -> Result<bool, StoreError> {
    let found: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM topics WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(backend)?;
    Ok(found.is_some())
}

pub(super) async fn create_topic(
    pool: &PgPool,
    topic: NewTopic,
) -> Result<TopicRecord, StoreError> {
    let inserted: Result<(String,), _> = sqlx::query_as(
        "WITH topic AS (\
             INSERT INTO topics (id, name, body) \
             VALUES (coalesce($1, 'topic-' || nextval('ids')), $2, $3::text::json) \
             RETURNING id), \
         retention AS (INSERT INTO topic_retention (topic_id) SELECT id FROM topic) \
         SELECT id FROM topic",
    )
    .bind(&topic.id)
    .bind(&topic.name)
    .bind(body_text(&topic.body)?)
    .fetch_one(pool)
    .await;
    match inserted.map_err(backend) {
        Ok((id,)) => Ok(TopicRecord {
            id,
            name: topic.name,
            body: topic.body,
        }),
        Err(StoreError::Conflict(why)) => {
            // Say which topic is in the way, as the memory store does.
            let existing: Option<(String, String)> = sqlx::query_as(
                "SELECT id, name FROM topics WHERE id = $1 OR name = $2 ORDER BY ord LIMIT 1",
            )
            .bind(&topic.id)
            .bind(&topic.name)
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
            Err(StoreError::Conflict(match existing {
                Some((id, name)) => {
                    format!("a topic named {name:?} already exists (id {id:?})")
                }
                None => why,
            }))
        }
        Err(other) => Err(other),
    }
}

pub(super) async fn topic(pool: &PgPool, id: &str) -> Result<Option<TopicRecord>, StoreError> {
    let row: Option<TopicRow> =
        sqlx::query_as("SELECT id, name, body::text FROM topics WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
    Ok(row.map(topic_record))
}

pub(super) async fn topics(pool: &PgPool) -> Result<Vec<TopicRecord>, StoreError> {
    let rows: Vec<TopicRow> =
        sqlx::query_as("SELECT id, name, body::text FROM topics ORDER BY ord")
            .fetch_all(pool)
            .await
            .map_err(backend)?;
    Ok(rows.into_iter().map(topic_record).collect())
}

pub(super) async fn delete_topic(pool: &PgPool, id: &str) -> Result<bool, StoreError> {
    // Its events and hubs go with it (ON DELETE CASCADE).
    let done = sqlx::query("DELETE FROM topics WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}
