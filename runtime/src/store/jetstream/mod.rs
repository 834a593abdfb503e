//! The NATS JetStream [`Store`] (issue 16): topics' logs are JetStream streams, every
//! other record is a document in a JetStream key-value bucket, written with revision
//! checks (compare-and-set) as fences. `runtime/STORAGE.md` ("JetStream") explains the
//! mapping and what it guarantees.
//!
//! The essentials:
//!
//! * a topic's log is one stream (`<prefix>_log_<topic key>`, one subject
//!   `<prefix>.log.<topic key>`); the event's sequence is the stream sequence, and an
//!   append is acknowledged (the service answers 201) only after JetStream acknowledged
//!   the publish — stored, and replicated to a quorum when the stream has replicas;
//! * an `eventId` is de-duplicated per (topic, publisher) for the life of the log by a
//!   record in the `eventids` bucket, created before the publish (create = write at
//!   revision 0); JetStream's duplicate window (`Nats-Msg-Id`) settles concurrent and
//!   retried publishes of one `eventId` within it;
//! * hubs (cursor, retry and halt state, epoch), topics, names, listeners and dead
//!   letters are key-value documents; every change of a hub is a read-modify-write
//!   fenced by the document's revision.
//!
//! * indexed look-ups (`eventId`, `eventType`, `eventTime`) use an in-process index
//!   per topic caught up from the log (`index.rs`).
//!
//! **Not yet** (issue 16's later increments): several server processes delivering from
//! one store ([`Store::shared`] is `false`: one process delivers, as with the memory
//! store — no leases, no append notices between processes).
//!
//! # Layout
//!
//! This file holds [`JetStreamStore`] (connecting, the buckets) and its [`Store`]
//! implementation, which hands each call to the file of its concern:
//!
//! * `names.rs`: stream, subject, bucket and key names;
//! * `records.rs`: the documents and the event frame;
//! * `kv.rs`: bucket reads, fenced writes, listings, errors;
//! * `topics.rs`: topics (with their streams);
//! * `events.rs`: appends (de-duplication) and reads of a log;
//! * `hubs.rs`: hub registrations;
//! * `progress.rs`: cursors, retry and halt state, operators' actions;
//! * `index.rs`: the in-process indexes of the logs;
//! * `retention.rs`: log bounds, trimming, dead letters;
//! * `listeners.rs`: listeners of the API's notifications.

mod events;
mod hubs;
mod index;
mod kv;
mod listeners;
mod names;
mod progress;
mod records;
mod retention;
mod topics;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_nats::jetstream::stream::{self, DiscardPolicy, StorageType};
use async_nats::jetstream::{self, kv as nats_kv};

use super::{
    Appended, DeadLetterRecord, EventRecord, HubProgress, HubRecord, HubState, IndexKey,
    ListenerRecord, LogBounds, NewDeadLetter, NewEvent, NewHub, NewListener, NewTopic, Owner, Seq,
    Store, StoreError, TopicRecord,
};
use crate::sync::lock;
use kv::nats_error;

/// Where and how a [`JetStreamStore`] keeps its streams and buckets.
#[derive(Clone, Debug)]
pub struct JetStreamOptions {
    /// Starts the name of every stream, bucket and subject the store uses
    /// (`[A-Za-z0-9_-]`, at most 32 bytes): stores with different prefixes share a
    /// server without seeing each other. Default `tmf688`.
    pub prefix: String,
    /// Replicas of every stream and bucket: 1 on a single server, 3 in a cluster (an
    /// acknowledged write is then on a quorum of 2). Default 1.
    pub replicas: usize,
    /// JetStream's duplicate window of each log (`Nats-Msg-Id`): concurrent and
    /// retried appends of one `eventId` within it are settled by JetStream itself, later
    /// ones by the store's `eventId` records. Default 2 minutes. Applies to topics
    /// created afterwards.
    pub duplicate_window: Duration,
}

impl Default for JetStreamOptions {
    fn default() -> Self {
        Self {
            prefix: "tmf688".into(),
            replicas: 1,
            duplicate_window: topics::DUPLICATE_WINDOW,
        }
    }
}

/// The key-value buckets (`<prefix>_<name>`).
#[derive(Clone, Debug)]
struct Buckets {
    /// Topic documents, by topic key.
    topics: nats_kv::Store,
    /// Hub documents, `<topic key>.<hub id>`.
    hubs: nats_kv::Store,
    /// Uniqueness and look-up keys: `topic.<name hash>` → topic id, `topicid.<topic
    /// key>` (an id claimed), `hub.<identity hash>` → hub id, `hubtopic.<hub id>` →
    /// topic id.
    names: nats_kv::Store,
    /// De-duplication records, `<topic key>.<hash of (eventId, publisher)>`.
    event_ids: nats_kv::Store,
    /// Listener documents, by id.
    listeners: nats_kv::Store,
    /// Dead letters, `<hub id>.<id>`.
    dead_letters: nats_kv::Store,
    /// The id counter (`ids`).
    meta: nats_kv::Store,
}

#[derive(Debug)]
struct Inner {
    js: jetstream::Context,
    options: JetStreamOptions,
    buckets: Buckets,
    /// Hub id → its topic's id (a hub never changes topic, ids are never reused).
    hub_topics: Mutex<HashMap<String, String>>,
    /// The in-process indexes of the logs looked up (`index.rs`).
    indexes: index::Indexes,
}

/// Keeps everything in NATS JetStream. Cheap to clone (a connection handle).
#[derive(Clone, Debug)]
pub struct JetStreamStore {
    inner: Arc<Inner>,
}

impl JetStreamStore {
    /// Connects to the NATS server at `url` (`nats://host:4222`, JetStream enabled) and
    /// creates the buckets it needs when they are missing. Fails when the server is not
    /// reachable (after the client's connect timeout) or has no JetStream.
    pub async fn connect(url: &str, options: JetStreamOptions) -> Result<Self, StoreError> {
        if !names::valid_prefix(&options.prefix) {
            return Err(StoreError::Backend(format!(
                "invalid JetStream prefix {:?}: use 1-32 of A-Z a-z 0-9 _ -",
                options.prefix
            )));
        }
        let client = async_nats::ConnectOptions::new()
            .name("tmf688")
            .connect(url)
            .await
            .map_err(|error| {
                StoreError::Unavailable(format!("could not connect to NATS at {url}: {error}"))
            })?;
        let js = jetstream::new(client);
        let bucket = |name: &'static str| {
            let js = js.clone();
            let options = options.clone();
            async move { open_bucket(&js, &options, name).await }
        };
        let buckets = Buckets {
            topics: bucket("topics").await?,
            hubs: bucket("hubs").await?,
            names: bucket("names").await?,
            event_ids: bucket("eventids").await?,
            listeners: bucket("listeners").await?,
            dead_letters: bucket("deadletters").await?,
            meta: bucket("meta").await?,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                js,
                options,
                buckets,
                hub_topics: Mutex::default(),
                indexes: index::Indexes::default(),
            }),
        })
    }

    /// The prefix of its streams and buckets.
    pub fn prefix(&self) -> &str {
        &self.inner.options.prefix
    }

    /// A fresh inbox subject for a consumer's deliveries.
    fn inbox(&self) -> String {
        self.inner.js.client().new_inbox()
    }

    fn names(&self) -> &nats_kv::Store {
        &self.inner.buckets.names
    }

    /// A fresh number for an id (`hub-N`, `topic-N`, `listener-N`, dead letters):
    /// unique across processes (the counter is advanced with compare-and-set).
    async fn next_id(&self) -> Result<u64, StoreError> {
        kv::modify(
            &self.inner.buckets.meta,
            "id counter",
            "ids",
            |current: Option<u64>| {
                let next = current.unwrap_or(0) + 1;
                Ok(kv::Change::Write(next, next))
            },
        )
        .await
    }

    /// The topic of hub `hub_id` (`None`: no such hub).
    async fn hub_topic(&self, hub_id: &str) -> Result<Option<String>, StoreError> {
        if let Some(topic) = lock(&self.inner.hub_topics).get(hub_id) {
            return Ok(Some(topic.clone()));
        }
        let found =
            kv::get::<String>(self.names(), "hub topic", &names::hub_topic_key(hub_id)).await?;
        Ok(found.map(|(topic, _)| {
            lock(&self.inner.hub_topics).insert(hub_id.to_owned(), topic.clone());
            topic
        }))
    }
}

/// Opens (creating when missing) the bucket `<prefix>_<name>`: one value per key
/// (history 1), file storage, the configured replicas.
///
/// The bucket's stream is created here with the settings the client's
/// `create_key_value` would use: that call first reads the account's JetStream info,
/// whose answer from a 2.9 server lacks fields the client (0.51) requires.
async fn open_bucket(
    js: &jetstream::Context,
    options: &JetStreamOptions,
    name: &str,
) -> Result<nats_kv::Store, StoreError> {
    let bucket = format!("{}_{name}", options.prefix);
    if let Ok(store) = js.get_key_value(&bucket).await {
        return Ok(store);
    }
    let created = js
        .create_stream(stream::Config {
            name: format!("KV_{bucket}"),
            subjects: vec![format!("$KV.{bucket}.>")],
            max_messages_per_subject: 1,
            storage: StorageType::File,
            num_replicas: options.replicas.max(1),
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: DiscardPolicy::New,
            description: Some(format!("tmf688 {name}")),
            ..Default::default()
        })
        .await;
    match js.get_key_value(&bucket).await {
        Ok(store) => Ok(store),
        Err(error) => Err(match created {
            Err(create) => nats_error(&format!("creating the bucket {bucket}"), create),
            Ok(_) => nats_error(&format!("opening the bucket {bucket}"), error),
        }),
    }
}

impl Store for JetStreamStore {
    async fn create_topic(&self, topic: NewTopic) -> Result<TopicRecord, StoreError> {
        topics::create_topic(self, topic).await
    }

    async fn topic(&self, id: &str) -> Result<Option<TopicRecord>, StoreError> {
        topics::topic(self, id).await.map(|t| t.map(|t| t.record()))
    }

    async fn topics(&self) -> Result<Vec<TopicRecord>, StoreError> {
        topics::topics(self).await
    }

    async fn delete_topic(&self, id: &str) -> Result<bool, StoreError> {
        topics::delete_topic(self, id).await
    }

    async fn append_events(
        &self,
        topic_id: &str,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, StoreError> {
        events::append_events(self, topic_id, events).await
    }

    async fn event(&self, topic_id: &str, id: &str) -> Result<Option<EventRecord>, StoreError> {
        events::event(self, topic_id, id).await
    }

    async fn read_events(
        &self,
        topic_id: &str,
        after: Seq,
        max: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        events::read_events(self, topic_id, after, max).await
    }

    async fn indexed_events(
        &self,
        topic_id: &str,
        key: &IndexKey,
        after: Seq,
        max: usize,
    ) -> Result<Option<Vec<EventRecord>>, StoreError> {
        index::indexed_events(self, topic_id, key, after, max)
            .await
            .map(Some)
    }

    async fn count_indexed(
        &self,
        topic_id: &str,
        key: &IndexKey,
    ) -> Result<Option<u64>, StoreError> {
        index::count_indexed(self, topic_id, key).await
    }

    async fn head(&self, topic_id: &str) -> Result<Seq, StoreError> {
        Ok(retention::log_bounds(self, topic_id).await?.head)
    }

    async fn log_bounds(&self, topic_id: &str) -> Result<LogBounds, StoreError> {
        retention::log_bounds(self, topic_id).await
    }

    async fn seq_stored_since(
        &self,
        topic_id: &str,
        after: Seq,
        since: SystemTime,
    ) -> Result<Seq, StoreError> {
        retention::seq_stored_since(self, topic_id, after, since).await
    }

    async fn trim_events(
        &self,
        topic_id: &str,
        up_to: Seq,
        max_rows: usize,
    ) -> Result<u64, StoreError> {
        retention::trim_events(self, topic_id, up_to, max_rows).await
    }

    async fn expire_backlog(
        &self,
        hub_id: &str,
        up_to: Seq,
        reason: &str,
    ) -> Result<Option<DeadLetterRecord>, StoreError> {
        retention::expire_backlog(self, hub_id, up_to, reason).await
    }

    async fn record_dead_letter(
        &self,
        dead_letter: NewDeadLetter,
    ) -> Result<DeadLetterRecord, StoreError> {
        retention::record_dead_letter(self, dead_letter).await
    }

    async fn dead_letters(&self, hub_id: &str) -> Result<Vec<DeadLetterRecord>, StoreError> {
        retention::dead_letters(self, hub_id).await
    }

    async fn forget_dead_letters(
        &self,
        before: SystemTime,
        max_rows: usize,
    ) -> Result<u64, StoreError> {
        retention::forget_dead_letters(self, before, max_rows).await
    }

    async fn claim_trimmer(&self, _replica: &str, _ttl: Duration) -> Result<bool, StoreError> {
        // One process delivers and trims (`shared()` is false).
        Ok(true)
    }

    async fn create_hub(&self, hub: NewHub) -> Result<(HubRecord, bool), StoreError> {
        hubs::create_hub(self, hub).await
    }

    async fn hub(&self, topic_id: &str, id: &str) -> Result<Option<HubRecord>, StoreError> {
        Ok(hubs::hub(self, topic_id, id)
            .await?
            .map(|(doc, _)| doc.record()))
    }

    async fn hubs(&self, topic_id: &str) -> Result<Vec<HubRecord>, StoreError> {
        hubs::hubs(self, topic_id).await
    }

    async fn all_hubs(&self) -> Result<Vec<HubRecord>, StoreError> {
        hubs::all_hubs(self).await
    }

    async fn count_hubs_of(&self, owner: Option<&Owner>) -> Result<u64, StoreError> {
        hubs::count_hubs_of(self, owner).await
    }

    async fn delete_hub(&self, topic_id: &str, id: &str) -> Result<bool, StoreError> {
        hubs::delete_hub(self, topic_id, id).await
    }

    async fn set_cursor(&self, hub_id: &str, cursor: Seq) -> Result<(), StoreError> {
        progress::set_cursor(self, hub_id, cursor).await
    }

    async fn set_hub_state(&self, hub_id: &str, state: HubState) -> Result<(), StoreError> {
        progress::set_hub_state(self, hub_id, state).await
    }

    async fn save_progress(
        &self,
        progress: &[HubProgress],
        replica: &str,
    ) -> Result<Vec<String>, StoreError> {
        progress::save_progress(self, progress, replica).await
    }

    async fn operate_hub(
        &self,
        hub_id: &str,
        cursor: Option<Seq>,
    ) -> Result<HubRecord, StoreError> {
        progress::operate_hub(self, hub_id, cursor).await
    }

    async fn hub_by_id(&self, id: &str) -> Result<Option<HubRecord>, StoreError> {
        hubs::hub_by_id(self, id).await
    }

    async fn create_listener(&self, listener: NewListener) -> Result<ListenerRecord, StoreError> {
        listeners::create_listener(self, listener).await
    }

    async fn delete_listener(&self, id: &str) -> Result<bool, StoreError> {
        listeners::delete_listener(self, id).await
    }

    async fn listeners(&self) -> Result<Vec<ListenerRecord>, StoreError> {
        listeners::listeners(self).await
    }
}
