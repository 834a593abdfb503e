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
//! * `eventId` de-duplication is the unique `(topic_id, event_id, publisher)` key: the
//!   insert checks it (a concurrent duplicate waits for the row lock, fails the insert
//!   and is then answered with the first under the lock);
//! * concurrent appends to one topic are grouped into one transaction (group commit:
//!   one WAL flush for many events) by a committer task per busy topic; each caller
//!   gets the outcomes of its own events once the group committed;
//! * bodies are `json` columns, kept verbatim (the bytes the service stored are the
//!   bytes it reads back).
//!
//! Queries are plain `sqlx::query` calls (no compile-time checking against a
//! database), so building needs no database.
//!
//! # Layout
//!
//! This file holds [`PgStore`] (the pool, connecting, migrating) and its [`Store`]
//! implementation, which hands each call to the file of its concern:
//!
//! * `topics.rs`: topics;
//! * `events.rs`: a topic's log — appends, events by id, pages, the head, indexed
//!   candidates (`eventId`, `eventType`, `eventTime`; migration 0008) and their counts;
//!   * `group_commit.rs`: concurrent appends to one topic in one transaction;
//!   * `append.rs`: that transaction (sequences, `eventId` de-duplication, retries);
//! * `hubs.rs`: hub registrations — create, look up, remove;
//! * `progress.rs`: what moves while a hub is delivered — cursor, retry state, halt
//!   (batched, fenced writes) and operators' resume and replay;
//! * `leases.rs`: which replica delivers which hub — claims, shares, release;
//! * `retention.rs`: where each log begins, the trimmer's batched removals, dead
//!   letters, the trimmer's lease (migration 0009);
//! * `listeners.rs`: listeners of the API's notifications;
//! * `notify.rs`: LISTEN/NOTIFY — the channels, announcements, [`AppendListener`];
//! * `rows.rs`: values ↔ columns, and rows as records;
//! * `errors.rs`: driver errors as [`StoreError`]s.

mod append;
mod errors;
mod events;
mod group_commit;
mod hubs;
mod leases;
mod listeners;
mod notify;
mod progress;
mod retention;
mod rows;
mod topics;

use std::time::{Duration, SystemTime};

use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio::sync::mpsc;

use super::{
    AppendNotice, Appended, DeadLetterRecord, EventRecord, HubProgress, HubRecord, HubState,
    IndexKey, ListenerRecord, LogBounds, NewDeadLetter, NewEvent, NewHub, NewListener, NewTopic,
    Owner, Seq, Store, StoreError, TopicRecord,
};
use group_commit::AppendQueues;

pub use notify::{APPENDED_CHANNEL, AppendListener, HUBS_CHANNEL};

/// The schema migrations, embedded at build time from `runtime/migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

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
        leases::claim_hubs(&self.pool, replica, ttl, max_new).await
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
        leases::claim_share(&self.pool, replica, ttl).await
    }

    /// Gives up every lease of `replica` (on a graceful shutdown), so that other
    /// replicas take its hubs at once rather than after the lease timeout. Returns how
    /// many it held.
    pub async fn release_hubs(&self, replica: &str) -> Result<u64, StoreError> {
        leases::release_hubs(&self.pool, replica).await
    }

    /// Listens for appends by any process on the database (a dedicated connection,
    /// re-established by the driver when lost).
    pub async fn listen_appends(&self) -> Result<AppendListener, StoreError> {
        notify::listen_appends(&self.pool).await
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

impl Store for PgStore {
    fn shared(&self) -> bool {
        true
    }

    async fn lease_hubs(&self, replica: &str, ttl: Duration) -> Result<Vec<String>, StoreError> {
        self.claim_share(replica, ttl).await
    }

    async fn release_leases(&self, replica: &str) -> Result<u64, StoreError> {
        leases::leave(&self.pool, replica).await
    }

    async fn hand_back_leases(&self, replica: &str, hub_ids: &[String]) -> Result<u64, StoreError> {
        leases::hand_back_leases(&self.pool, replica, hub_ids).await
    }

    async fn save_progress(
        &self,
        progress: &[HubProgress],
        replica: &str,
    ) -> Result<Vec<String>, StoreError> {
        progress::save_progress(&self.pool, progress, replica).await
    }

    async fn operate_hub(
        &self,
        hub_id: &str,
        cursor: Option<Seq>,
    ) -> Result<HubRecord, StoreError> {
        progress::operate_hub(&self.pool, hub_id, cursor).await
    }

    async fn hub_by_id(&self, id: &str) -> Result<Option<HubRecord>, StoreError> {
        hubs::hub_by_id(&self.pool, id).await
    }

    async fn subscribe_appends(
        &self,
    ) -> Result<Option<mpsc::UnboundedReceiver<AppendNotice>>, StoreError> {
        notify::subscribe_appends(&self.pool, &self.appends).await
    }

    async fn create_topic(&self, topic: NewTopic) -> Result<TopicRecord, StoreError> {
        topics::create_topic(&self.pool, topic).await
    }

    async fn topic(&self, id: &str) -> Result<Option<TopicRecord>, StoreError> {
        topics::topic(&self.pool, id).await
    }

    async fn topics(&self) -> Result<Vec<TopicRecord>, StoreError> {
        topics::topics(&self.pool).await
    }

    async fn delete_topic(&self, id: &str) -> Result<bool, StoreError> {
        topics::delete_topic(&self.pool, id).await
    }

    async fn append_events(
        &self,
        topic_id: &str,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, StoreError> {
        events::append_events(&self.pool, &self.appends, topic_id, events).await
    }

    async fn event(&self, topic_id: &str, id: &str) -> Result<Option<EventRecord>, StoreError> {
        events::event(&self.pool, topic_id, id).await
    }

    async fn read_events(
        &self,
        topic_id: &str,
        after: Seq,
        max: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        events::read_events(&self.pool, topic_id, after, max).await
    }

    async fn indexed_events(
        &self,
        topic_id: &str,
        key: &IndexKey,
        after: Seq,
        max: usize,
    ) -> Result<Option<Vec<EventRecord>>, StoreError> {
        events::indexed_events(&self.pool, topic_id, key, after, max)
            .await
            .map(Some)
    }

    async fn count_indexed(
        &self,
        topic_id: &str,
        key: &IndexKey,
    ) -> Result<Option<u64>, StoreError> {
        events::count_indexed(&self.pool, topic_id, key).await
    }

    async fn head(&self, topic_id: &str) -> Result<Seq, StoreError> {
        events::head(&self.pool, topic_id).await
    }

    async fn log_bounds(&self, topic_id: &str) -> Result<LogBounds, StoreError> {
        retention::log_bounds(&self.pool, topic_id).await
    }

    async fn seq_stored_since(
        &self,
        topic_id: &str,
        after: Seq,
        since: SystemTime,
    ) -> Result<Seq, StoreError> {
        retention::seq_stored_since(&self.pool, topic_id, after, since).await
    }

    async fn trim_events(
        &self,
        topic_id: &str,
        up_to: Seq,
        max_rows: usize,
    ) -> Result<u64, StoreError> {
        retention::trim_events(&self.pool, topic_id, up_to, max_rows).await
    }

    async fn expire_backlog(
        &self,
        hub_id: &str,
        up_to: Seq,
        reason: &str,
    ) -> Result<Option<DeadLetterRecord>, StoreError> {
        retention::expire_backlog(&self.pool, hub_id, up_to, reason).await
    }

    async fn record_dead_letter(
        &self,
        dead_letter: NewDeadLetter,
    ) -> Result<DeadLetterRecord, StoreError> {
        retention::record_dead_letter(&self.pool, dead_letter).await
    }

    async fn dead_letters(&self, hub_id: &str) -> Result<Vec<DeadLetterRecord>, StoreError> {
        retention::dead_letters(&self.pool, hub_id).await
    }

    async fn forget_dead_letters(
        &self,
        before: SystemTime,
        max_rows: usize,
    ) -> Result<u64, StoreError> {
        retention::forget_dead_letters(&self.pool, before, max_rows).await
    }

    async fn claim_trimmer(&self, replica: &str, ttl: Duration) -> Result<bool, StoreError> {
        retention::claim_trimmer(&self.pool, replica, ttl).await
    }

    async fn create_hub(&self, hub: NewHub) -> Result<(HubRecord, bool), StoreError> {
        hubs::create_hub(&self.pool, hub).await
    }

    async fn hub(&self, topic_id: &str, id: &str) -> Result<Option<HubRecord>, StoreError> {
        hubs::hub(&self.pool, topic_id, id).await
    }

    async fn hubs(&self, topic_id: &str) -> Result<Vec<HubRecord>, StoreError> {
        hubs::hubs(&self.pool, topic_id).await
    }

    async fn all_hubs(&self) -> Result<Vec<HubRecord>, StoreError> {
        hubs::all_hubs(&self.pool).await
    }

    async fn count_hubs_of(&self, owner: Option<&Owner>) -> Result<u64, StoreError> {
        hubs::count_hubs_of(&self.pool, owner).await
    }

    async fn delete_hub(&self, topic_id: &str, id: &str) -> Result<bool, StoreError> {
        hubs::delete_hub(&self.pool, topic_id, id).await
    }

    async fn set_cursor(&self, hub_id: &str, cursor: Seq) -> Result<(), StoreError> {
        progress::set_cursor(&self.pool, hub_id, cursor).await
    }

    async fn set_hub_state(&self, hub_id: &str, state: HubState) -> Result<(), StoreError> {
        progress::set_hub_state(&self.pool, hub_id, state).await
    }

    async fn create_listener(&self, listener: NewListener) -> Result<ListenerRecord, StoreError> {
        listeners::create_listener(&self.pool, listener).await
    }

    async fn delete_listener(&self, id: &str) -> Result<bool, StoreError> {
        listeners::delete_listener(&self.pool, id).await
    }

    async fn listeners(&self) -> Result<Vec<ListenerRecord>, StoreError> {
        listeners::listeners(&self.pool).await
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
