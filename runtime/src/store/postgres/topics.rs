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

/// Attempts at a fresh id when the one tried is taken (each takes the next value of
/// `ids`; only topics named `topic-N` by hand can be in the way).
const FRESH_ID_ATTEMPTS: usize = 16;

/// Inserts the topic: a taken name is a conflict naming the topic that has it; an id
/// taken by another topic (a topic named `topic-5` after `a b` got `topic-5`) is
/// replaced by a fresh `topic-N`.
pub(super) async fn create_topic(
    pool: &PgPool,
    topic: NewTopic,
) -> Result<TopicRecord, StoreError> {
    let mut id = topic.id.clone();
    for _ in 0..FRESH_ID_ATTEMPTS {
        let inserted: Result<(String,), _> = sqlx::query_as(
            "WITH topic AS (\
                 INSERT INTO topics (id, name, body) \
                 VALUES (coalesce($1, 'topic-' || nextval('ids')), $2, $3::text::json) \
                 RETURNING id), \
             retention AS (INSERT INTO topic_retention (topic_id) SELECT id FROM topic) \
             SELECT id FROM topic",
        )
        .bind(&id)
        .bind(&topic.name)
        .bind(body_text(&topic.body)?)
        .fetch_one(pool)
        .await;
        match inserted.map_err(backend) {
            Ok((id,)) => {
                return Ok(TopicRecord {
                    id,
                    name: topic.name,
                    body: topic.body,
                });
            }
            Err(StoreError::Conflict(why)) => {
                let named: Option<(String,)> =
                    sqlx::query_as("SELECT id FROM topics WHERE name = $1")
                        .bind(&topic.name)
                        .fetch_optional(pool)
                        .await
                        .map_err(backend)?;
                if let Some((existing,)) = named {
                    return Err(StoreError::Conflict(format!(
                        "a topic named {:?} already exists (id {existing:?})",
                        topic.name
                    )));
                }
                // The id was in the way (or the name's topic went meanwhile): a fresh id.
                tracing::debug!(name = %topic.name, tried = ?id, %why, "topic id taken: a fresh one");
                id = None;
            }
            Err(other) => return Err(other),
        }
    }
    Err(StoreError::Conflict(format!(
        "no free id for topic {:?} after {FRESH_ID_ATTEMPTS} attempts",
        topic.name
    )))
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
    // Its events go with it (trigger `topics_delete_events`, migration 0010), and its
    // hubs (ON DELETE CASCADE).
    let done = sqlx::query("DELETE FROM topics WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}
