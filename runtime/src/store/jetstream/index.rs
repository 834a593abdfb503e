//! Indexed look-ups (`eventId`, `eventType`, `eventTime` range) on JetStream: an
//! in-process index per topic — the memory store's [`EventIndex`] — caught up from the
//! log before each look-up.
//!
//! JetStream indexes a stream by subject only, and one subject per event (to find an
//! `eventId`) would cost the server per-subject state for every event. So each process
//! keeps the keys (not the bodies) of the logs it was asked about: the first look-up in
//! a topic reads its log once; later ones read only what was appended since (by any
//! process). A trim (the log's first sequence moved) or a topic deleted and made again
//! (the stream's creation time changed) rebuilds the topic's index from the log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::future::try_join_all;

use super::JetStreamStore;
use super::events::{event_at, read_events};
use super::retention::log_state;
use crate::store::index::{EventIndex, IndexKey};
use crate::store::{EventRecord, Seq, StoreError};
use crate::sync::lock;

/// One topic's index.
#[derive(Debug, Default)]
struct TopicIndex {
    index: EventIndex,
    /// Which stream it indexes (its creation time, Unix nanoseconds).
    created: i128,
    /// The first sequence the log held when the index was (re)built.
    first: Seq,
    /// The last sequence indexed.
    through: Seq,
}

/// The indexes of the topics looked up so far, by topic id.
#[derive(Debug, Default)]
pub(super) struct Indexes {
    topics: Mutex<HashMap<String, Arc<Mutex<TopicIndex>>>>,
}

/// Brings the topic's index up to the log's head; the index.
async fn caught_up(
    store: &JetStreamStore,
    topic_id: &str,
) -> Result<Arc<Mutex<TopicIndex>>, StoreError> {
    let state = log_state(store, topic_id).await?;
    let entry = lock(&store.inner.indexes.topics)
        .entry(topic_id.to_owned())
        .or_default()
        .clone();
    let from = {
        let mut topic = lock(&entry);
        if topic.created != state.created
            || topic.first != state.bounds.first
            || topic.through > state.bounds.head
        {
            *topic = TopicIndex {
                created: state.created,
                first: state.bounds.first,
                through: state.bounds.first.saturating_sub(1),
                ..TopicIndex::default()
            };
        }
        topic.through
    };
    if from < state.bounds.head {
        let events = read_events(store, topic_id, from, usize::MAX).await?;
        let mut topic = lock(&entry);
        // Another look-up may have indexed some of them meanwhile.
        if topic.created == state.created && topic.first == state.bounds.first {
            for event in &events {
                if event.seq > topic.through {
                    topic.index.insert(event.seq, &event.event_id, &event.body);
                    topic.through = event.seq;
                }
            }
        }
    }
    Ok(entry)
}

pub(super) async fn indexed_events(
    store: &JetStreamStore,
    topic_id: &str,
    key: &IndexKey,
    after: Seq,
    max: usize,
) -> Result<Vec<EventRecord>, StoreError> {
    let entry = caught_up(store, topic_id).await?;
    let candidates = {
        let topic = lock(&entry);
        topic
            .index
            .candidates(key, after.max(topic.first.saturating_sub(1)), max)
    };
    let events = try_join_all(
        candidates
            .into_iter()
            .map(|seq| event_at(store, topic_id, seq)),
    )
    .await?;
    // One trimmed meanwhile is skipped.
    Ok(events.into_iter().flatten().collect())
}

pub(super) async fn count_indexed(
    store: &JetStreamStore,
    topic_id: &str,
    key: &IndexKey,
) -> Result<Option<u64>, StoreError> {
    let entry = caught_up(store, topic_id).await?;
    Ok(lock(&entry).index.count(key))
}
