//! Topics: a document per topic (bucket `topics`), a name record that makes names
//! unique (`names`: `topic.<hash>`), an id claim, and the topic's log stream.
//!
//! Creation order: claim the name (create), claim an id (create `topicid.<key>`; taken
//! → a fresh `topic-N`), create the log stream, write the document, point the name at
//! the id. The document is written last, so a topic that can be listed always has its
//! stream. A claim left by a process that died half-way is taken over once it is older
//! than [`STALE_CLAIM`].

use std::time::Duration;

use async_nats::jetstream::stream::{self, DiscardPolicy, RetentionPolicy, StorageType};

use super::JetStreamStore;
use super::kv::{self, nats_error};
use super::names;
use super::records::{TopicDoc, body_text};
use crate::store::{NewTopic, StoreError, TopicRecord};

/// How old an unfinished name claim must be before another creation takes it over.
const STALE_CLAIM: Duration = Duration::from_secs(30);

/// JetStream's duplicate window on each log by default: concurrent or retried
/// publishes of one `eventId` within it are stored once (see `events.rs`).
pub(super) const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// A name record: the topic's id, empty while its creation is under way.
type NameDoc = String;

pub(super) async fn topic(
    store: &JetStreamStore,
    id: &str,
) -> Result<Option<TopicDoc>, StoreError> {
    let found =
        kv::get::<TopicDoc>(&store.inner.buckets.topics, "topic", &names::topic_key(id)).await?;
    Ok(found.map(|(doc, _)| doc).filter(|doc| doc.id == id))
}

pub(super) async fn topics(store: &JetStreamStore) -> Result<Vec<TopicRecord>, StoreError> {
    let mut docs: Vec<TopicDoc> =
        kv::list(&store.inner.buckets.topics, store.inbox(), "topic", ">")
            .await?
            .into_iter()
            .map(|(_, doc)| doc)
            .collect();
    docs.sort_by_key(|doc| doc.ord);
    Ok(docs.iter().map(TopicDoc::record).collect())
}

fn name_taken(name: &str, id: &str) -> StoreError {
    StoreError::Conflict(format!("a topic named {name:?} already exists (id {id:?})"))
}

/// Claims `name` for a topic being created; the revision of the claim.
async fn claim_name(store: &JetStreamStore, name: &str) -> Result<u64, StoreError> {
    let key = names::topic_name_key(name);
    loop {
        if let Some(revision) =
            kv::put_if(store.names(), "topic name", &key, &NameDoc::new(), None).await?
        {
            return Ok(revision);
        }
        let Ok(Some(entry)) = store.names().entry(&key).await else {
            continue; // deleted meanwhile: claim again
        };
        let holder: NameDoc = super::records::decode("topic name", &entry.value)?;
        if !holder.is_empty() {
            if topic(store, &holder)
                .await?
                .is_some_and(|doc| doc.name == name)
            {
                return Err(name_taken(name, &holder));
            }
        } else {
            let age = time::OffsetDateTime::now_utc() - entry.created;
            if age < STALE_CLAIM {
                return Err(StoreError::Conflict(format!(
                    "a topic named {name:?} is being created"
                )));
            }
        }
        // Left behind (its topic is gone, or its creation died): take it over.
        if let Some(revision) = kv::put_if(
            store.names(),
            "topic name",
            &key,
            &NameDoc::new(),
            Some(entry.revision),
        )
        .await?
        {
            return Ok(revision);
        }
    }
}

/// The stream configuration of a topic's log.
pub(super) fn log_config(store: &JetStreamStore, topic_id: &str) -> stream::Config {
    let prefix = &store.inner.options.prefix;
    stream::Config {
        name: names::log_stream(prefix, topic_id),
        subjects: vec![names::log_subject(prefix, topic_id)],
        retention: RetentionPolicy::Limits,
        discard: DiscardPolicy::Old,
        storage: StorageType::File,
        num_replicas: store.inner.options.replicas.max(1),
        duplicate_window: store.inner.options.duplicate_window,
        allow_direct: true,
        description: Some(format!("tmf688 log of topic {topic_id:?}")),
        ..Default::default()
    }
}

pub(super) async fn create_topic(
    store: &JetStreamStore,
    topic: NewTopic,
) -> Result<TopicRecord, StoreError> {
    let name_key = names::topic_name_key(&topic.name);
    let name_revision = claim_name(store, &topic.name).await?;
    let body = body_text(&topic.body)?;
    let ord = store.next_id().await?;
    let mut id = topic.id.clone().unwrap_or_else(|| format!("topic-{ord}"));
    loop {
        let claim = format!("topicid.{}", names::topic_key(&id));
        if kv::put_if(store.names(), "topic id", &claim, &id, None)
            .await?
            .is_some()
        {
            break;
        }
        id = format!("topic-{}", store.next_id().await?);
    }
    let js = &store.inner.js;
    let config = log_config(store, &id);
    // A stream left by a topic of this id whose deletion died half-way holds its
    // events: not this topic's.
    let _ = js.delete_stream(&config.name).await;
    js.create_stream(config)
        .await
        .map_err(|error| nats_error("creating a topic's log stream", error))?;
    let doc = TopicDoc {
        id: id.clone(),
        name: topic.name.clone(),
        body,
        ord,
    };
    kv::put_if(
        &store.inner.buckets.topics,
        "topic",
        &names::topic_key(&id),
        &doc,
        None,
    )
    .await?
    .ok_or_else(|| StoreError::Backend(format!("topic {id:?} appeared while it was created")))?;
    kv::put_if(
        store.names(),
        "topic name",
        &name_key,
        &id,
        Some(name_revision),
    )
    .await?;
    Ok(doc.record())
}

pub(super) async fn delete_topic(store: &JetStreamStore, id: &str) -> Result<bool, StoreError> {
    let topics = &store.inner.buckets.topics;
    let key = names::topic_key(id);
    let Some((doc, revision)) = kv::get::<TopicDoc>(topics, "topic", &key).await? else {
        return Ok(false);
    };
    if doc.id != id || !kv::delete_if(topics, "topic", &key, revision).await? {
        return Ok(false);
    }
    // Gone for readers; now what it owned.
    for hub in super::hubs::hub_docs(store, id).await? {
        super::hubs::forget_hub(store, &hub).await?;
    }
    let js = &store.inner.js;
    let _ = js
        .delete_stream(names::log_stream(&store.inner.options.prefix, id))
        .await;
    let event_ids = &store.inner.buckets.event_ids;
    event_ids
        .stream
        .purge()
        .filter(format!("{}{key}.>", event_ids.prefix))
        .await
        .map_err(|error| nats_error("removing a topic's eventId records", error))?;
    kv::delete(
        store.names(),
        "topic name",
        &names::topic_name_key(&doc.name),
    )
    .await?;
    kv::delete(store.names(), "topic id", &format!("topicid.{key}")).await?;
    Ok(true)
}
