//! The PostgreSQL [`Store`]: durable topics, event logs, hubs with their cursors and
//! states, and listeners, shared by every server process connected to the database.
//!
//! The schema is `runtime/migrations/` (applied by [`PgStore::connect`], idempotent);
//! `runtime/STORAGE.md` explains it. The essentials:
//!
//! * an event is appended in one transaction that locks its topic's row, bumps
//!   `topics.last_seq` and inserts the event: sequences are gapless, commit in order
//!   (a reader never sees sequence `n + 1` before `n`), and once the call returns the
//!   event is durable — the 201 the service answers after it is true;
//! * `eventId` de-duplication is the unique `(topic_id, event_id)` key, checked under
//!   the same row lock (so a concurrent duplicate waits and then finds the first);
//! * bodies are `json` columns, kept verbatim (the bytes the service stored are the
//!   bytes it reads back).
//!
//! Queries are plain `sqlx::query` calls (no compile-time checking against a
//! database), so building needs no database.

use std::collections::HashMap;

use bytes::Bytes;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::{
    Appended, EventRecord, HubRecord, HubStart, HubState, ListenerRecord, NewEvent, NewHub,
    NewListener, NewTopic, Seq, Store, StoreError, TopicRecord,
};

/// The schema migrations, embedded at build time from `runtime/migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The default size of the connection pool.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// Keeps everything in a PostgreSQL database. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) with a pool of
    /// at most `max_connections`, and brings the schema up to date.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect(url)
            .await
            .map_err(|error| {
                StoreError::Backend(format!("could not connect to PostgreSQL: {error}"))
            })?;
        Self::from_pool(pool).await
    }

    /// A store over an existing pool; brings the schema up to date. Several processes
    /// may do this at once: the migrator serialises them with an advisory lock, and
    /// applied migrations are skipped.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        MIGRATOR.run(&pool).await.map_err(|error| {
            StoreError::Backend(format!("could not migrate the schema: {error}"))
        })?;
        Ok(Self { pool })
    }

    /// The connection pool (for tests and tools).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `url` without its password, for logs.
pub fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

/// Maps a driver error: unique violations are conflicts, the rest backend failures.
fn backend(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        _ => StoreError::Backend(error.to_string()),
    }
}

fn topic_not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("topic {id:?}"))
}

fn hub_not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("hub {id:?}"))
}

/// A stored body as text (the service stores compact JSON, always UTF-8).
fn body_text(body: &Bytes) -> Result<&str, StoreError> {
    std::str::from_utf8(body)
        .map_err(|_| StoreError::Backend("a JSON body is not valid UTF-8".into()))
}

/// A sequence for SQL (`bigint`); beyond `i64::MAX` nothing exists anyway.
fn seq_param(seq: Seq) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn seq_value(value: i64) -> Seq {
    Seq::try_from(value).unwrap_or(0)
}

fn state_text(state: HubState) -> &'static str {
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

type TopicRow = (String, String, String);

fn topic_record((id, name, body): TopicRow) -> TopicRecord {
    TopicRecord {
        id,
        name,
        body: Bytes::from(body),
    }
}

type EventRow = (i64, String, String);

fn event_record((seq, event_id, body): EventRow) -> EventRecord {
    EventRecord {
        seq: seq_value(seq),
        id: seq.to_string(),
        event_id,
        body: Bytes::from(body),
    }
}

/// id, topic_id, callback, query, owner, body, cursor, state.
type HubRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
    String,
);

const HUB_COLUMNS: &str = "id, topic_id, callback, query, owner, body::text, cursor, state";

fn hub_record(row: HubRow) -> HubRecord {
    let (id, topic_id, callback, query, owner, body, cursor, state) = row;
    HubRecord {
        id,
        topic_id,
        callback,
        query,
        body: Bytes::from(body),
        cursor: seq_value(cursor),
        state: state_value(&state),
        owner,
    }
}

type ListenerRow = (String, String, Option<String>, Option<String>);

fn listener_record((id, callback, query, owner): ListenerRow) -> ListenerRecord {
    ListenerRecord {
        id,
        callback,
        query,
        owner,
    }
}

impl PgStore {
    async fn topic_exists(&self, id: &str) -> Result<bool, StoreError> {
        let found: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM topics WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(found.is_some())
    }

    async fn hub_by_identity(&self, hub: &NewHub) -> Result<Option<HubRecord>, StoreError> {
        let row: Option<HubRow> = sqlx::query_as(&format!(
            "SELECT {HUB_COLUMNS} FROM hubs WHERE topic_id = $1 AND callback = $2 \
             AND query IS NOT DISTINCT FROM $3 AND owner IS NOT DISTINCT FROM $4"
        ))
        .bind(&hub.topic_id)
        .bind(&hub.callback)
        .bind(&hub.query)
        .bind(&hub.owner)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(row.map(hub_record))
    }
}

impl Store for PgStore {
    async fn create_topic(&self, topic: NewTopic) -> Result<TopicRecord, StoreError> {
        let inserted: Result<(String,), _> = sqlx::query_as(
            "INSERT INTO topics (id, name, body) \
             VALUES (coalesce($1, 'topic-' || nextval('ids')), $2, $3::text::json) \
             RETURNING id",
        )
        .bind(&topic.id)
        .bind(&topic.name)
        .bind(body_text(&topic.body)?)
        .fetch_one(&self.pool)
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
                .fetch_optional(&self.pool)
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

    async fn topic(&self, id: &str) -> Result<Option<TopicRecord>, StoreError> {
        let row: Option<TopicRow> =
            sqlx::query_as("SELECT id, name, body::text FROM topics WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        Ok(row.map(topic_record))
    }

    async fn topics(&self) -> Result<Vec<TopicRecord>, StoreError> {
        let rows: Vec<TopicRow> =
            sqlx::query_as("SELECT id, name, body::text FROM topics ORDER BY ord")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        Ok(rows.into_iter().map(topic_record).collect())
    }

    async fn delete_topic(&self, id: &str) -> Result<bool, StoreError> {
        // Its events and hubs go with it (ON DELETE CASCADE).
        let done = sqlx::query("DELETE FROM topics WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn append_events(
        &self,
        topic_id: &str,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        // The topic's row lock serialises appends to one topic: sequences are assigned
        // and committed in order, and the de-duplication check below cannot race.
        let last: Option<(i64,)> =
            sqlx::query_as("SELECT last_seq FROM topics WHERE id = $1 FOR UPDATE")
                .bind(topic_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        let Some((mut last,)) = last else {
            return Err(topic_not_found(topic_id));
        };
        if events.is_empty() {
            return Ok(Vec::new());
        }

        let wanted: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        let stored: Vec<EventRow> = sqlx::query_as(
            "SELECT seq, event_id, body::text FROM events \
             WHERE topic_id = $1 AND event_id = ANY($2)",
        )
        .bind(topic_id)
        .bind(&wanted)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend)?;
        let mut known: HashMap<String, EventRecord> = stored
            .into_iter()
            .map(|row| {
                let record = event_record(row);
                (record.event_id.clone(), record)
            })
            .collect();

        let mut outcomes = Vec::with_capacity(events.len());
        let (mut seqs, mut ids, mut bodies) = (Vec::new(), Vec::new(), Vec::new());
        for event in events {
            if let Some(existing) = known.get(&event.event_id) {
                outcomes.push(Appended::Existing(existing.clone()));
                continue;
            }
            last += 1;
            let text = body_text(&event.body)?.to_owned();
            let record = EventRecord {
                seq: seq_value(last),
                id: last.to_string(),
                event_id: event.event_id,
                body: event.body,
            };
            seqs.push(last);
            ids.push(record.event_id.clone());
            bodies.push(text);
            known.insert(record.event_id.clone(), record.clone());
            outcomes.push(Appended::Created(record));
        }
        if !seqs.is_empty() {
            sqlx::query(
                "INSERT INTO events (topic_id, seq, event_id, body) \
                 SELECT $1, s, e, b::json FROM unnest($2::bigint[], $3::text[], $4::text[]) \
                 AS t (s, e, b)",
            )
            .bind(topic_id)
            .bind(&seqs)
            .bind(&ids)
            .bind(&bodies)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            sqlx::query("UPDATE topics SET last_seq = $2 WHERE id = $1")
                .bind(topic_id)
                .bind(last)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(outcomes)
    }

    async fn event(&self, topic_id: &str, id: &str) -> Result<Option<EventRecord>, StoreError> {
        // Ids are the sequence numbers, in canonical decimal form.
        let Ok(seq) = id.parse::<i64>() else {
            return Ok(None);
        };
        if seq <= 0 || seq.to_string() != id {
            return Ok(None);
        }
        let row: Option<EventRow> = sqlx::query_as(
            "SELECT seq, event_id, body::text FROM events WHERE topic_id = $1 AND seq = $2",
        )
        .bind(topic_id)
        .bind(seq)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(row.map(event_record))
    }

    async fn read_events(
        &self,
        topic_id: &str,
        after: Seq,
        max: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT seq, event_id, body::text FROM events \
             WHERE topic_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(topic_id)
        .bind(seq_param(after))
        .bind(i64::try_from(max).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        // An empty answer may mean an unknown topic: only then ask.
        if rows.is_empty() && !self.topic_exists(topic_id).await? {
            return Err(topic_not_found(topic_id));
        }
        Ok(rows.into_iter().map(event_record).collect())
    }

    async fn create_hub(&self, hub: NewHub) -> Result<(HubRecord, bool), StoreError> {
        let from_head = matches!(hub.start, HubStart::Head);
        let inserted: Option<HubRow> = sqlx::query_as(&format!(
            "INSERT INTO hubs (id, topic_id, callback, query, owner, body, cursor) \
             SELECT 'hub-' || nextval('ids'), t.id, $2, $3, $4, $5::text::json, \
                    CASE WHEN $6 THEN t.last_seq ELSE 0 END \
             FROM topics t WHERE t.id = $1 \
             ON CONFLICT (topic_id, callback, (coalesce(query, '')), (query IS NULL), \
                          (coalesce(owner, '')), (owner IS NULL)) DO NOTHING \
             RETURNING {HUB_COLUMNS}"
        ))
        .bind(&hub.topic_id)
        .bind(&hub.callback)
        .bind(&hub.query)
        .bind(&hub.owner)
        .bind(body_text(&hub.body)?)
        .bind(from_head)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        if let Some(row) = inserted {
            return Ok((hub_record(row), true));
        }
        // Either the same hub exists, or the topic does not.
        match self.hub_by_identity(&hub).await? {
            Some(existing) => Ok((existing, false)),
            None => Err(topic_not_found(&hub.topic_id)),
        }
    }

    async fn hub(&self, topic_id: &str, id: &str) -> Result<Option<HubRecord>, StoreError> {
        let row: Option<HubRow> = sqlx::query_as(&format!(
            "SELECT {HUB_COLUMNS} FROM hubs WHERE topic_id = $1 AND id = $2"
        ))
        .bind(topic_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(row.map(hub_record))
    }

    async fn hubs(&self, topic_id: &str) -> Result<Vec<HubRecord>, StoreError> {
        let rows: Vec<HubRow> = sqlx::query_as(&format!(
            "SELECT {HUB_COLUMNS} FROM hubs WHERE topic_id = $1 ORDER BY ord"
        ))
        .bind(topic_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        if rows.is_empty() && !self.topic_exists(topic_id).await? {
            return Err(topic_not_found(topic_id));
        }
        Ok(rows.into_iter().map(hub_record).collect())
    }

    async fn delete_hub(&self, topic_id: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM hubs WHERE topic_id = $1 AND id = $2")
            .bind(topic_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_cursor(&self, hub_id: &str, cursor: Seq) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE hubs SET cursor = $2 WHERE id = $1")
            .bind(hub_id)
            .bind(seq_param(cursor))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(hub_not_found(hub_id));
        }
        Ok(())
    }

    async fn set_hub_state(&self, hub_id: &str, state: HubState) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE hubs SET state = $2 WHERE id = $1")
            .bind(hub_id)
            .bind(state_text(state))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(hub_not_found(hub_id));
        }
        Ok(())
    }

    async fn create_listener(&self, listener: NewListener) -> Result<ListenerRecord, StoreError> {
        let (id,): (String,) = sqlx::query_as(
            "INSERT INTO listeners (id, callback, query, owner) \
             VALUES ('listener-' || nextval('ids'), $1, $2, $3) RETURNING id",
        )
        .bind(&listener.callback)
        .bind(&listener.query)
        .bind(&listener.owner)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(ListenerRecord {
            id,
            callback: listener.callback,
            query: listener.query,
            owner: listener.owner,
        })
    }

    async fn delete_listener(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM listeners WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn listeners(&self) -> Result<Vec<ListenerRecord>, StoreError> {
        let rows: Vec<ListenerRow> =
            sqlx::query_as("SELECT id, callback, query, owner FROM listeners ORDER BY ord")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        Ok(rows.into_iter().map(listener_record).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_logs_hide_the_password() {
        assert_eq!(
            redacted_url("postgres://u:secret@db:5432/hub"),
            "postgres://u:***@db:5432/hub"
        );
        assert_eq!(redacted_url("postgres://u@db/hub"), "postgres://u@db/hub");
        assert!(!redacted_url("postgres://u:se cret@db/hub").contains("cret"));
    }
}
