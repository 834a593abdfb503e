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
//! * concurrent appends to one topic are grouped into one transaction (group commit:
//!   one WAL flush for many events) by a committer task per busy topic; each caller
//!   gets the outcomes of its own events once the group committed;
//! * bodies are `json` columns, kept verbatim (the bytes the service stored are the
//!   bytes it reads back).
//!
//! Queries are plain `sqlx::query` calls (no compile-time checking against a
//! database), so building needs no database.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::{mpsc, oneshot};

use super::{
    AppendNotice, Appended, EventRecord, HubProgress, HubRecord, HubStart, HubState,
    ListenerRecord, NewEvent, NewHub, NewListener, NewTopic, Seq, Store, StoreError, TopicRecord,
};

/// The schema migrations, embedded at build time from `runtime/migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The channel on which every append is announced (`NOTIFY`, sent at commit) with
/// the payload `<topic id>:<last sequence>`; see [`PgStore::listen_appends`].
pub const APPENDED_CHANNEL: &str = "tmf688_appended";

/// The channel on which hub registrations and operator actions are announced, with
/// the payload `<hub id>:<epoch>` (see [`AppendNotice::HubChanged`]), and removals,
/// with `<hub id>:removed`.
pub const HUBS_CHANNEL: &str = "tmf688_hubs";

/// The default size of the connection pool.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// Keeps everything in a PostgreSQL database. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// Appends waiting for their topic's committer (group commit), by topic.
    appends: AppendQueues,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) with a pool of
    /// at most `max_connections`, and brings the schema up to date.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = Self::pool_options(max_connections)
            .connect(url)
            .await
            .map_err(|error| {
                StoreError::Backend(format!("could not connect to PostgreSQL: {error}"))
            })?;
        Self::from_pool(pool).await
    }

    /// The pool settings [`connect`](Self::connect) uses: at most `max_connections`,
    /// and a connection is pinged before use only when it sat idle for more than a
    /// second. The driver's default pings on *every* checkout — one more round trip per
    /// statement, on the path of every append group; a connection that broke while in use
    /// fails its statement instead (an append is then not acknowledged: the client
    /// retries it, and `eventId` de-duplication makes that safe).
    pub fn pool_options(max_connections: u32) -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for > Duration::from_secs(1) {
                        sqlx::Connection::ping(connection).await?;
                    }
                    Ok(true)
                })
            })
    }

    /// A store over an existing pool; brings the schema up to date. Several processes
    /// may do this at once: the migrator serialises them with an advisory lock, and
    /// applied migrations are skipped.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        MIGRATOR.run(&pool).await.map_err(|error| {
            StoreError::Backend(format!("could not migrate the schema: {error}"))
        })?;
        Ok(Self {
            pool,
            appends: AppendQueues::default(),
        })
    }

    /// The connection pool (for tests and tools).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Claims hubs for delivery by `replica` (a name unique among the live server
    /// processes) for `ttl`: renews the leases it holds and takes at most `max_new`
    /// free or expired ones, skipping hubs another replica is claiming at the same
    /// moment (`FOR UPDATE SKIP LOCKED`). Returns the ids of every hub it now holds, in
    /// registration order. Call it every `ttl / 3` or so; a replica that stops calling
    /// loses its hubs when their leases expire.
    pub async fn claim_hubs(
        &self,
        replica: &str,
        ttl: Duration,
        max_new: usize,
    ) -> Result<Vec<String>, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await.map_err(backend)?;
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

    /// Claims `replica`'s fair share of the hubs for `ttl` (what the delivery engine
    /// calls every `ttl / 3`): records the replica as alive until `now + ttl` (table
    /// `replicas`), computes its share as `ceil(hubs / live replicas)`, renews at most
    /// that many of the leases it holds (the oldest hubs first; the rest are left to
    /// expire, so that a replica that joins gets its share without anyone's leases being
    /// cut short), and takes free or expired hubs up to the share (`FOR UPDATE SKIP
    /// LOCKED`). Returns the ids of the hubs it holds now.
    pub async fn claim_share(
        &self,
        replica: &str,
        ttl: Duration,
    ) -> Result<Vec<String>, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await.map_err(backend)?;
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
    async fn leave(&self, replica: &str) -> Result<u64, StoreError> {
        sqlx::query("DELETE FROM replicas WHERE id = $1")
            .bind(replica)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        let released = self.release_hubs(replica).await?;
        announce_replicas(&self.pool).await?;
        Ok(released)
    }

    /// Gives up every lease of `replica` (on a graceful shutdown), so that other
    /// replicas take its hubs at once rather than after the lease timeout. Returns how
    /// many it held.
    pub async fn release_hubs(&self, replica: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE hubs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
        )
        .bind(replica)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected())
    }

    /// Listens for appends by any process on the database (a dedicated connection,
    /// re-established by the driver when lost).
    pub async fn listen_appends(&self) -> Result<AppendListener, StoreError> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(backend)?;
        listener
            .listen_all([APPENDED_CHANNEL, HUBS_CHANNEL])
            .await
            .map_err(backend)?;
        Ok(AppendListener { listener })
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

/// Appends announced by any process on the database ([`PgStore::listen_appends`]).
#[derive(Debug)]
pub struct AppendListener {
    listener: PgListener,
}

impl AppendListener {
    /// The next append: its topic and the topic's new head. Notifications lost while
    /// the connection was down are not replayed: after an error, re-read the heads.
    pub async fn next(&mut self) -> Result<(String, Seq), StoreError> {
        loop {
            let notification = self.listener.recv().await.map_err(backend)?;
            if notification.channel() != APPENDED_CHANNEL {
                continue;
            }
            let parsed = notification
                .payload()
                .rsplit_once(':')
                .and_then(|(topic, seq)| Some((topic.to_owned(), seq.parse::<Seq>().ok()?)));
            if let Some(append) = parsed {
                return Ok(append);
            }
        }
    }
}

impl AppendListener {
    /// The next notice: an append, or [`AppendNotice::Lost`] when the connection was
    /// lost (re-established on the next call; notifications in between are gone).
    async fn try_next(&mut self) -> Result<AppendNotice, StoreError> {
        loop {
            let Some(notification) = self.listener.try_recv().await.map_err(backend)? else {
                return Ok(AppendNotice::Lost);
            };
            let Some((name, number)) = notification.payload().rsplit_once(':') else {
                continue;
            };
            if notification.channel() == HUBS_CHANNEL && notification.payload() == REPLICAS_CHANGED
            {
                return Ok(AppendNotice::ReplicasChanged);
            }
            if notification.channel() == HUBS_CHANNEL && number == "removed" {
                return Ok(AppendNotice::HubRemoved {
                    hub: name.to_owned(),
                });
            }
            let Ok(number) = number.parse::<u64>() else {
                continue;
            };
            return Ok(if notification.channel() == HUBS_CHANNEL {
                AppendNotice::HubChanged {
                    hub: name.to_owned(),
                    epoch: number,
                }
            } else {
                AppendNotice::Appended {
                    topic: name.to_owned(),
                    head: number,
                }
            });
        }
    }
}

/// The payload of [`HUBS_CHANNEL`] that says the replicas' shares changed.
const REPLICAS_CHANGED: &str = "~replicas:changed";

/// Tells every process that the replicas' shares changed (at commit, within a
/// transaction): a replica joined or left, or leases were handed back.
async fn announce_replicas<'e, E>(executor: E) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(HUBS_CHANNEL)
        .bind(REPLICAS_CHANGED)
        .execute(executor)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Maps a driver error: unique violations are conflicts, a lost connection (or a
/// database shutting down or starting: SQLSTATE classes 08 and 57P) is unavailability,
/// the rest backend failures.
fn backend(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable(error.to_string())
        }
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")) =>
        {
            StoreError::Unavailable(error.to_string())
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

/// A row of `hubs`, as [`HUB_COLUMNS`] selects it.
#[derive(sqlx::FromRow)]
struct HubRow {
    id: String,
    topic_id: String,
    callback: String,
    query: Option<String>,
    owner: Option<String>,
    body: String,
    cursor: i64,
    state: String,
    base_path: Option<String>,
    attempts: i32,
    last_error: Option<String>,
    epoch: i64,
    holder: Option<String>,
}

const HUB_COLUMNS: &str = "id, topic_id, callback, query, owner, body::text AS body, cursor, \
     state, base_path, attempts, last_error, epoch, \
     CASE WHEN lease_until > now() THEN lease_owner END AS holder";

fn hub_record(row: HubRow) -> HubRecord {
    HubRecord {
        id: row.id,
        topic_id: row.topic_id,
        callback: row.callback,
        query: row.query,
        body: Bytes::from(row.body),
        cursor: seq_value(row.cursor),
        state: state_value(&row.state),
        owner: row.owner,
        base_path: row.base_path,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        last_error: row.last_error,
        epoch: seq_value(row.epoch),
        holder: row.holder,
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

    /// Tells every process that `hub` was registered or changed ([`HUBS_CHANNEL`]).
    /// Best effort: the others also find it on their next lease round.
    async fn announce_hub(&self, hub: &HubRecord) {
        let payload = format!("{}:{}", hub.id, hub.epoch);
        if let Err(error) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(HUBS_CHANNEL)
            .bind(&payload)
            .execute(&self.pool)
            .await
        {
            tracing::warn!(hub = %hub.id, %error, "could not announce a hub change; replicas see it on their next lease round");
        }
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

/// The topic's `last_seq`, and one of the batch's events it already has (if any).
type LockedTopicRow = (i64, Option<i64>, Option<String>, Option<String>);

/// One append transaction (see the module documentation): lock the topic's row,
/// look up the batch's eventIds, insert the new events with the next sequences and
/// move `last_seq`, commit.
async fn append_tx(
    pool: &PgPool,
    topic_id: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<Appended>, StoreError> {
    // A pooled connection the database dropped (restart, failover, an administrator)
    // fails its statement; another try takes another connection. Safe to repeat: an
    // append that did commit before the failure is found again by its eventIds.
    // Every idle connection of the pool may be a dropped one: up to one try more than
    // the pool holds, within a couple of seconds (a database that is down fails fast).
    let attempts = pool.options().get_max_connections() + 1;
    let started = std::time::Instant::now();
    let mut attempt = 1;
    loop {
        let outcome = match append_new(pool, topic_id, &events).await {
            Ok(Some(outcomes)) => Ok(outcomes),
            Ok(None) => append_locked(pool, topic_id, events.clone()).await,
            Err(error) => Err(error),
        };
        match outcome {
            Err(StoreError::Unavailable(why))
                if attempt < attempts && started.elapsed() < APPEND_RETRY_WINDOW =>
            {
                tracing::warn!(topic = topic_id, attempt, error = %why, "append failed on a lost connection; trying again");
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// How long an append keeps trying when its connections are lost.
const APPEND_RETRY_WINDOW: Duration = Duration::from_secs(2);

/// The common case in one statement (one round trip, committed on its own): none of
/// the batch's `eventId`s is in the topic yet. The `UPDATE` of the topic's row takes
/// its lock and moves `last_seq` past the batch, the `INSERT` gives the events the
/// sequences in between, `NOTIFY` goes out at commit. `None` (nothing written) when
/// the topic does not exist or has one of the `eventId`s — also when a concurrent
/// append through another process committed one meanwhile (the unique key refuses
/// it): [`append_locked`] then sorts the batch out.
async fn append_new(
    pool: &PgPool,
    topic_id: &str,
    events: &[NewEvent],
) -> Result<Option<Vec<Appended>>, StoreError> {
    // Within the batch, a repeated eventId is answered with its first occurrence:
    // per event, (index among the distinct ones, whether it is the first).
    let mut distinct: Vec<&NewEvent> = Vec::with_capacity(events.len());
    let mut index_of: HashMap<&str, usize> = HashMap::with_capacity(events.len());
    let mut slots = Vec::with_capacity(events.len());
    for event in events {
        match index_of.entry(event.event_id.as_str()) {
            Entry::Occupied(seen) => slots.push((*seen.get(), false)),
            Entry::Vacant(new) => {
                new.insert(distinct.len());
                slots.push((distinct.len(), true));
                distinct.push(event);
            }
        }
    }
    let ids: Vec<&str> = distinct.iter().map(|e| e.event_id.as_str()).collect();
    let bodies = distinct
        .iter()
        .map(|e| body_text(&e.body))
        .collect::<Result<Vec<&str>, _>>()?;
    if ids.is_empty() {
        return Ok(None);
    }
    let count = i64::try_from(ids.len()).unwrap_or(i64::MAX);
    let row: Result<Option<(i64, String)>, sqlx::Error> = sqlx::query_as(
        "WITH moved AS ( \
             UPDATE topics SET last_seq = last_seq + $4 \
             WHERE id = $1 \
               AND NOT EXISTS (SELECT 1 FROM events WHERE topic_id = $1 AND event_id = ANY($2)) \
             RETURNING last_seq - $4 AS base \
         ), appended AS ( \
             INSERT INTO events (topic_id, seq, event_id, body) \
             SELECT $1, moved.base + u.n, u.e, u.b::json \
             FROM moved, unnest($2::text[], $3::text[]) WITH ORDINALITY AS u (e, b, n) \
         ) \
         SELECT base, pg_notify($5, $1 || ':' || (base + $4)::text)::text FROM moved",
    )
    .bind(topic_id)
    .bind(&ids)
    .bind(&bodies)
    .bind(count)
    .bind(APPENDED_CHANNEL)
    .fetch_optional(pool)
    .await;
    let base = match row {
        Ok(Some((base, _))) => base,
        Ok(None) => return Ok(None),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => return Ok(None),
        Err(other) => return Err(backend(other)),
    };
    let records: Vec<EventRecord> = distinct
        .iter()
        .zip(1..)
        .map(|(event, n)| EventRecord {
            seq: seq_value(base + n),
            id: (base + n).to_string(),
            event_id: event.event_id.clone(),
            body: event.body.clone(),
        })
        .collect();
    Ok(Some(
        slots
            .into_iter()
            .map(|(index, first)| {
                let record = records[index].clone();
                if first {
                    Appended::Created(record)
                } else {
                    Appended::Existing(record)
                }
            })
            .collect(),
    ))
}

/// The general case, in an explicit transaction: lock the topic's row, find which of
/// the batch's `eventId`s it has, insert the others, move `last_seq`.
async fn append_locked(
    pool: &PgPool,
    topic_id: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<Appended>, StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    // One round trip: the topic's row, locked (appends to one topic serialise here:
    // sequences are assigned and committed in order, and the de-duplication check
    // cannot race), with the events of the batch it already has.
    let wanted: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    let rows: Vec<LockedTopicRow> = sqlx::query_as(
        "SELECT t.last_seq, e.seq, e.event_id, e.body::text \
         FROM topics t LEFT JOIN events e ON e.topic_id = t.id AND e.event_id = ANY($2) \
         WHERE t.id = $1 FOR UPDATE OF t",
    )
    .bind(topic_id)
    .bind(&wanted)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend)?;
    let Some(&(mut last, ..)) = rows.first() else {
        return Err(topic_not_found(topic_id));
    };
    let mut known: HashMap<String, EventRecord> = rows
        .into_iter()
        .filter_map(|(_, seq, event_id, body)| Some(event_record((seq?, event_id?, body?))))
        .map(|record| (record.event_id.clone(), record))
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
            "WITH appended AS ( \
                 INSERT INTO events (topic_id, seq, event_id, body) \
                 SELECT $1, s, e, b::json FROM unnest($2::bigint[], $3::text[], $4::text[]) \
                 AS t (s, e, b) \
             ) \
             UPDATE topics SET last_seq = $5 WHERE id = $1 \
             RETURNING pg_notify($6, $1 || ':' || $5::text)",
        )
        .bind(topic_id)
        .bind(&seqs)
        .bind(&ids)
        .bind(&bodies)
        .bind(last)
        .bind(APPENDED_CHANNEL)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)?;
    Ok(outcomes)
}

/// Appends waiting for their topic's committer.
#[derive(Debug, Default)]
struct AppendQueue {
    pending: Vec<PendingAppend>,
}

#[derive(Debug)]
struct PendingAppend {
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<Vec<Appended>, StoreError>>,
}

/// The most events one group transaction takes.
const GROUP_MAX_EVENTS: usize = 2000;

impl PgStore {
    /// Group commit: concurrent appends to one topic share a transaction (and so one
    /// commit, one WAL flush). The first caller for an idle topic spawns its committer,
    /// which takes whatever is queued, writes it in one transaction, answers each
    /// caller, and repeats until the queue is empty. The committer is a task of its own,
    /// so a caller that goes away (a client hanging up) does not abandon the others; its
    /// events are then committed or not, as one piece.
    async fn group_append(
        &self,
        topic_id: &str,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let start_committer = {
            let mut queues = lock(&self.appends);
            let idle = !queues.contains_key(topic_id);
            queues
                .entry(topic_id.to_owned())
                .or_default()
                .pending
                .push(PendingAppend { events, reply });
            idle
        };
        if start_committer {
            tokio::spawn(commit_appends(
                self.pool.clone(),
                self.appends.clone(),
                topic_id.to_owned(),
            ));
        }
        answer
            .await
            .map_err(|_| StoreError::Backend("the append was abandoned".into()))?
    }
}

type AppendQueues = Arc<Mutex<HashMap<String, AppendQueue>>>;

fn lock(queues: &AppendQueues) -> MutexGuard<'_, HashMap<String, AppendQueue>> {
    queues.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The committer of one topic (see [`PgStore::group_append`]).
async fn commit_appends(pool: PgPool, queues: AppendQueues, topic_id: String) {
    loop {
        let group: Vec<PendingAppend> = {
            let mut all = lock(&queues);
            let Some(queue) = all.get_mut(&topic_id) else {
                return;
            };
            if queue.pending.is_empty() {
                // Idle again: the next caller starts a new committer.
                all.remove(&topic_id);
                return;
            }
            let mut size = 0;
            let take = queue
                .pending
                .iter()
                .take_while(|p| {
                    size += p.events.len();
                    size <= GROUP_MAX_EVENTS
                })
                .count()
                .max(1);
            queue.pending.drain(..take).collect()
        };
        if let [_] = group.as_slice() {
            let single = group.into_iter().next().expect("one append");
            let outcome = append_tx(&pool, &topic_id, single.events).await;
            let _ = single.reply.send(outcome);
            continue;
        }
        let sizes: Vec<usize> = group.iter().map(|p| p.events.len()).collect();
        let all: Vec<NewEvent> = group.iter().flat_map(|p| p.events.clone()).collect();
        match append_tx(&pool, &topic_id, all).await {
            Ok(outcomes) => {
                let mut outcomes = outcomes.into_iter();
                for (pending, size) in group.into_iter().zip(sizes) {
                    let _ = pending
                        .reply
                        .send(Ok(outcomes.by_ref().take(size).collect()));
                }
            }
            // One bad append must not fail the others: each on its own.
            Err(_) => {
                for pending in group {
                    let outcome = append_tx(&pool, &topic_id, pending.events).await;
                    let _ = pending.reply.send(outcome);
                }
            }
        }
    }
}

impl Store for PgStore {
    fn shared(&self) -> bool {
        true
    }

    async fn lease_hubs(&self, replica: &str, ttl: Duration) -> Result<Vec<String>, StoreError> {
        self.claim_share(replica, ttl).await
    }

    async fn release_leases(&self, replica: &str) -> Result<u64, StoreError> {
        self.leave(replica).await
    }

    async fn hand_back_leases(&self, replica: &str, hub_ids: &[String]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
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

    async fn save_progress(
        &self,
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
                               last_error = p.last_error, state = p.state \
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
        .fetch_all(&self.pool)
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
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        Ok(existing.into_iter().map(|(id,)| id).collect())
    }

    async fn operate_hub(
        &self,
        hub_id: &str,
        cursor: Option<Seq>,
    ) -> Result<HubRecord, StoreError> {
        let row: Option<HubRow> = sqlx::query_as(&format!(
            "UPDATE hubs SET state = 'active', attempts = 0, last_error = NULL, \
             epoch = epoch + 1, cursor = coalesce($2, cursor) WHERE id = $1 \
             RETURNING {HUB_COLUMNS}"
        ))
        .bind(hub_id)
        .bind(cursor.map(seq_param))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let record = hub_record(row.ok_or_else(|| hub_not_found(hub_id))?);
        self.announce_hub(&record).await;
        Ok(record)
    }

    async fn hub_by_id(&self, id: &str) -> Result<Option<HubRecord>, StoreError> {
        let row: Option<HubRow> =
            sqlx::query_as(&format!("SELECT {HUB_COLUMNS} FROM hubs WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        Ok(row.map(hub_record))
    }

    async fn subscribe_appends(
        &self,
    ) -> Result<Option<mpsc::UnboundedReceiver<AppendNotice>>, StoreError> {
        let mut listener = self.listen_appends().await?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let notice = tokio::select! {
                    notice = listener.try_next() => notice,
                    () = tx.closed() => return,
                };
                let failed = notice.is_err();
                let notice = notice.unwrap_or(AppendNotice::Lost);
                if tx.send(notice).is_err() {
                    return;
                }
                if failed {
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        () = tx.closed() => return,
                    }
                }
            }
        });
        Ok(Some(rx))
    }

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
        if events.is_empty() {
            // Nothing to write; still say whether the topic exists.
            if !self.topic_exists(topic_id).await? {
                return Err(topic_not_found(topic_id));
            }
            return Ok(Vec::new());
        }
        self.group_append(topic_id, events).await
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

    async fn head(&self, topic_id: &str) -> Result<Seq, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT last_seq FROM topics WHERE id = $1")
            .bind(topic_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|(last,)| seq_value(last))
            .ok_or_else(|| topic_not_found(topic_id))
    }

    async fn create_hub(&self, hub: NewHub) -> Result<(HubRecord, bool), StoreError> {
        let from_head = matches!(hub.start, HubStart::Head);
        let inserted: Option<HubRow> = sqlx::query_as(&format!(
            "INSERT INTO hubs (id, topic_id, callback, query, owner, body, cursor, base_path) \
             SELECT 'hub-' || nextval('ids'), t.id, $2, $3, $4, $5::text::json, \
                    CASE WHEN $6 THEN t.last_seq ELSE 0 END, $7 \
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
        .bind(&hub.base_path)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        if let Some(row) = inserted {
            let record = hub_record(row);
            self.announce_hub(&record).await;
            return Ok((record, true));
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
        // Announced at commit: the replica delivering the hub stops its worker at once.
        let done = sqlx::query(
            "WITH removed AS (DELETE FROM hubs WHERE topic_id = $1 AND id = $2 RETURNING id) \
             SELECT pg_notify($3, id || ':removed')::text FROM removed",
        )
        .bind(topic_id)
        .bind(id)
        .bind(HUBS_CHANNEL)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.is_some())
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
