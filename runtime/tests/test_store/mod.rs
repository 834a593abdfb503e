//! The store the integration suites run on: in memory by default, PostgreSQL with
//! `TMF688_TEST_STORE=postgres` (a fresh database per store, see `pg_common`), NATS
//! JetStream with `TMF688_TEST_STORE=jetstream` (a namespace of streams and buckets
//! per store, see `js_common`), so tests stay parallel. `common` (API suites) and `delivery_common` (delivery suites) both
//! build their servers on [`TestStore`], so each suite is written once for both stores.
//!
//! `Store` returns `impl Future`, so it is not object-safe and `Arc<dyn Store>` is not an
//! option: [`TestStore`] is an enum that implements `Store` by delegating **every**
//! method, the defaulted ones included (PgStore overrides several of them: leases,
//! append notices; a missed one would silently test the default instead of PgStore).
//! `delegates_every_store_method` below fails when the trait gains a method that the
//! delegation does not list.
#![allow(dead_code)] // each test binary uses a different part

#[path = "../pg_common/mod.rs"]
pub mod pg_common;

#[path = "../js_common/mod.rs"]
pub mod js_common;

use std::future::Future;
use std::time::{Duration, SystemTime};

use tmf688_runtime::store::{
    AppendNotice, Appended, DeadLetterRecord, EventRecord, HubProgress, HubRecord, HubState,
    IndexKey, ListenerRecord, LogBounds, NewDeadLetter, NewEvent, NewHub, NewListener, NewTopic,
    Owner, Seq, TopicRecord,
};
use tmf688_runtime::{JetStreamStore, MemoryStore, PgStore, Store, StoreError};
use tokio::sync::mpsc;

pub use js_common::TestNats;
pub use pg_common::TestDb;

/// Whether `TMF688_TEST_STORE=postgres` asks for PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TMF688_TEST_STORE").is_ok_and(|store| store == "postgres")
}

/// Whether `TMF688_TEST_STORE=jetstream` asks for NATS JetStream.
pub fn on_jetstream() -> bool {
    std::env::var("TMF688_TEST_STORE").is_ok_and(|store| store == "jetstream")
}

/// What a test store's data lives in, removed when it is dropped: keep it for as long
/// as the store is in use.
#[derive(Debug)]
pub enum TestBackend {
    Postgres(TestDb),
    Jetstream(TestNats),
}

/// The store of one test server.
#[derive(Debug)]
pub enum TestStore {
    /// Boxed: the memory store's maps make it far larger than a pool handle.
    Memory(Box<MemoryStore>),
    Postgres(PgStore),
    Jetstream(JetStreamStore),
}

impl TestStore {
    /// A fresh, empty store of the kind `TMF688_TEST_STORE` asks for. With PostgreSQL
    /// also its database (named after `tag`), with JetStream its namespace: keep it for
    /// as long as the store is in use, dropping it removes them.
    pub async fn create(tag: &str) -> (Self, Option<TestBackend>) {
        if on_postgres() {
            // A skip (no server, not required) would silently run nothing on PostgreSQL:
            // asking for it explicitly makes a missing server an error.
            let db = TestDb::create(tag)
                .await
                .expect("TMF688_TEST_STORE=postgres needs a reachable PostgreSQL");
            (
                Self::Postgres(db.store().await),
                Some(TestBackend::Postgres(db)),
            )
        } else if on_jetstream() {
            let nats = TestNats::create(tag)
                .await
                .expect("TMF688_TEST_STORE=jetstream needs a reachable NATS JetStream");
            (
                Self::Jetstream(nats.store().await),
                Some(TestBackend::Jetstream(nats)),
            )
        } else {
            (Self::Memory(Box::default()), None)
        }
    }
}

/// Implements `Store` for `TestStore`, each method forwarding to the store inside, and
/// lists what it delegates in `DELEGATED`.
macro_rules! delegate_store {
    (
        sync { $($sync:ident() -> $sync_output:ty;)* }
        async { $($name:ident($($arg:ident: $ty:ty),*) -> $output:ty;)* }
        indexed { $($indexed:ident($($iarg:ident: $ity:ty),*) -> $ioutput:ty;)* }
    ) => {
        /// The same store without its indexes: every method but the indexed lookups
        /// (which keep the trait's defaults: no index, read the log) goes to the store
        /// inside. Served beside the store itself, it gives the scanned answer to compare
        /// an indexed one with.
        #[derive(Debug)]
        pub struct ScanOnly(pub std::sync::Arc<TestStore>);

        impl Store for ScanOnly {
            $(
                fn $sync(&self) -> $sync_output {
                    self.0.$sync()
                }
            )*
            $(
                fn $name(&self, $($arg: $ty),*) -> impl Future<Output = $output> + Send {
                    self.0.$name($($arg),*)
                }
            )*
        }

        impl Store for TestStore {
            $(
                fn $indexed(&self, $($iarg: $ity),*) -> impl Future<Output = $ioutput> + Send {
                    async move {
                        match self {
                            Self::Memory(store) => store.$indexed($($iarg),*).await,
                            Self::Postgres(store) => store.$indexed($($iarg),*).await,
                            Self::Jetstream(store) => store.$indexed($($iarg),*).await,
                        }
                    }
                }
            )*
            $(
                fn $sync(&self) -> $sync_output {
                    match self {
                        Self::Memory(store) => store.$sync(),
                        Self::Postgres(store) => store.$sync(),
                        Self::Jetstream(store) => store.$sync(),
                    }
                }
            )*
            $(
                fn $name(&self, $($arg: $ty),*) -> impl Future<Output = $output> + Send {
                    async move {
                        match self {
                            Self::Memory(store) => store.$name($($arg),*).await,
                            Self::Postgres(store) => store.$name($($arg),*).await,
                            Self::Jetstream(store) => store.$name($($arg),*).await,
                        }
                    }
                }
            )*
        }

        /// The methods `TestStore` delegates.
        const DELEGATED: &[&str] =
            &[$(stringify!($sync),)* $(stringify!($name),)* $(stringify!($indexed)),*];
    };
}

delegate_store! {
    sync {
        shared() -> bool;
    }
    async {
        create_topic(topic: NewTopic) -> Result<TopicRecord, StoreError>;
        topic(id: &str) -> Result<Option<TopicRecord>, StoreError>;
        topics() -> Result<Vec<TopicRecord>, StoreError>;
        delete_topic(id: &str) -> Result<bool, StoreError>;
        append_events(topic_id: &str, events: Vec<NewEvent>) -> Result<Vec<Appended>, StoreError>;
        event(topic_id: &str, id: &str) -> Result<Option<EventRecord>, StoreError>;
        read_events(topic_id: &str, after: Seq, max: usize) -> Result<Vec<EventRecord>, StoreError>;
        head(topic_id: &str) -> Result<Seq, StoreError>;
        log_bounds(topic_id: &str) -> Result<LogBounds, StoreError>;
        seq_stored_since(topic_id: &str, after: Seq, since: SystemTime) -> Result<Seq, StoreError>;
        trim_events(topic_id: &str, up_to: Seq, max_rows: usize) -> Result<u64, StoreError>;
        expire_backlog(hub_id: &str, up_to: Seq, reason: &str) -> Result<Option<DeadLetterRecord>, StoreError>;
        record_dead_letter(dead_letter: NewDeadLetter) -> Result<DeadLetterRecord, StoreError>;
        dead_letters(hub_id: &str) -> Result<Vec<DeadLetterRecord>, StoreError>;
        forget_dead_letters(before: SystemTime, max_rows: usize) -> Result<u64, StoreError>;
        claim_trimmer(replica: &str, ttl: Duration) -> Result<bool, StoreError>;
        create_hub(hub: NewHub) -> Result<(HubRecord, bool), StoreError>;
        hub(topic_id: &str, id: &str) -> Result<Option<HubRecord>, StoreError>;
        hubs(topic_id: &str) -> Result<Vec<HubRecord>, StoreError>;
        all_hubs() -> Result<Vec<HubRecord>, StoreError>;
        delete_hub(topic_id: &str, id: &str) -> Result<bool, StoreError>;
        set_cursor(hub_id: &str, cursor: Seq) -> Result<(), StoreError>;
        set_hub_state(hub_id: &str, state: HubState) -> Result<(), StoreError>;
        create_listener(listener: NewListener) -> Result<ListenerRecord, StoreError>;
        delete_listener(id: &str) -> Result<bool, StoreError>;
        listeners() -> Result<Vec<ListenerRecord>, StoreError>;
        lease_hubs(replica: &str, ttl: Duration) -> Result<Vec<String>, StoreError>;
        release_leases(replica: &str) -> Result<u64, StoreError>;
        hand_back_leases(replica: &str, hub_ids: &[String]) -> Result<u64, StoreError>;
        save_progress(progress: &[HubProgress], replica: &str) -> Result<Vec<String>, StoreError>;
        operate_hub(hub_id: &str, cursor: Option<Seq>) -> Result<HubRecord, StoreError>;
        hub_by_id(id: &str) -> Result<Option<HubRecord>, StoreError>;
        count_hubs_of(owner: Option<&Owner>) -> Result<u64, StoreError>;
        subscribe_appends() -> Result<Option<mpsc::UnboundedReceiver<AppendNotice>>, StoreError>;
    }
    indexed {
        indexed_events(topic_id: &str, key: &IndexKey, after: Seq, max: usize) -> Result<Option<Vec<EventRecord>>, StoreError>;
        count_indexed(topic_id: &str, key: &IndexKey) -> Result<Option<u64>, StoreError>;
    }
}

/// The names of the `Store` trait's methods, read from its source.
fn trait_methods(source: &str) -> Vec<String> {
    let start = source
        .find("pub trait Store")
        .expect("the Store trait is in store/mod.rs");
    // The trait ends at the first `}` in column 0.
    let body = &source[start..];
    let end = body.find("\n}").expect("the trait's closing brace");
    body[..end]
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("fn "))
        .map(|rest| rest.split(['(', '<']).next().unwrap_or_default().to_owned())
        .collect()
}

/// Fails when the trait has a method `TestStore` does not delegate (a defaulted one
/// compiles without it, and the suites would test the default instead of PgStore).
#[test]
fn delegates_every_store_method() {
    let methods = trait_methods(include_str!("../../src/store/mod.rs"));
    assert!(methods.len() > 10, "parsed the trait: {methods:?}");
    let missing: Vec<&String> = methods
        .iter()
        .filter(|method| !DELEGATED.contains(&method.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "TestStore does not delegate {missing:?}: add them to `delegate_store!`"
    );
}
