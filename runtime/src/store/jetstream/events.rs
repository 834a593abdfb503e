//! A topic's log: appends with `eventId` de-duplication, events by id, pages.
//!
//! # Append
//!
//! For each event of a batch (a repeated `eventId` in the batch is answered with its
//! first occurrence):
//!
//! 1. **Reserve** its de-duplication record (`eventids`, `<topic key>.<hash>`) with
//!    create — a write at revision 0, which one writer wins. Found instead: its event
//!    is in the log (`seq`) → [`Appended::Existing`]; its `seq` was trimmed away →
//!    taken over (as on the other stores, a trimmed event's `eventId` is free again);
//!    no `seq` yet (another append of it is under way, or died between steps 1 and 3)
//!    → continue with the publish: step 2 settles it.
//! 2. **Publish** the events in batch order with `Nats-Msg-Id` = the hash and the
//!    reservation's revision (what every append of this reservation shares; a
//!    reservation taken over after a trim has another), and await each
//!    acknowledgement: JetStream stores a `Nats-Msg-Id` seen within the stream's
//!    duplicate window (2 minutes) once, and answers a repeat with the original's
//!    sequence (`duplicate`) → [`Appended::Existing`].
//! 3. **Record** the sequence in the reservation (a write at the reserved revision).
//!
//! Only then is the batch answered: an acknowledged event is in the log and its record
//! holds its sequence, so a later append of the same `eventId` finds it however late.
//! What is left open: an append that died between 1 and 3 and whose event *was*
//! stored, retried more than the duplicate window later, is stored twice (the record
//! has no sequence and the window has passed). The first was never acknowledged.

use std::collections::HashMap;

use async_nats::jetstream::consumer::{DeliverPolicy, ReplayPolicy, push};
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::DirectGetErrorKind;
use futures_util::StreamExt as _;
use futures_util::future::try_join_all;

use super::JetStreamStore;
use super::kv::{self, nats_error};
use super::names;
use super::records::{EventIdDoc, event_frame, event_from_frame};
use super::retention::log_bounds;
use crate::store::{Appended, EventRecord, NewEvent, Seq, StoreError};

fn topic_not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("topic {id:?}"))
}

/// How the reservation of one `eventId` went.
enum Reserved {
    /// Ours, at this revision: publish.
    Fresh(u64),
    /// Its event is in the log.
    Stored(EventRecord),
}

async fn reserve(
    store: &JetStreamStore,
    topic_id: &str,
    key: &str,
    event: &NewEvent,
) -> Result<Reserved, StoreError> {
    let bucket = &store.inner.buckets.event_ids;
    let pending = EventIdDoc { seq: None };
    loop {
        if let Some(revision) = kv::put_if(bucket, "eventId", key, &pending, None).await? {
            return Ok(Reserved::Fresh(revision));
        }
        let Some((doc, revision)) = kv::get::<EventIdDoc>(bucket, "eventId", key).await? else {
            continue; // removed meanwhile: reserve again
        };
        let Some(seq) = doc.seq else {
            // Another append of it is under way (or died): the publish settles it.
            return Ok(Reserved::Fresh(revision));
        };
        if let Some(stored) = event_at(store, topic_id, seq).await?
            && stored.event_id == event.event_id
            && stored.publisher == event.publisher
        {
            return Ok(Reserved::Stored(stored));
        }
        // Trimmed away: the eventId is free again.
        if let Some(revision) = kv::put_if(bucket, "eventId", key, &pending, Some(revision)).await?
        {
            return Ok(Reserved::Fresh(revision));
        }
    }
}

pub(super) async fn append_events(
    store: &JetStreamStore,
    topic_id: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<Appended>, StoreError> {
    if events.is_empty() {
        // Still answers an unknown topic.
        log_bounds(store, topic_id).await?;
        return Ok(Vec::new());
    }
    if super::topics::topic(store, topic_id).await?.is_none() {
        return Err(topic_not_found(topic_id));
    }
    // A repeated eventId in the batch is answered with its first occurrence.
    let mut first_of: HashMap<(&str, &str), usize> = HashMap::new();
    let mut repeat_of = Vec::with_capacity(events.len());
    for (index, event) in events.iter().enumerate() {
        let first = *first_of
            .entry((event.event_id.as_str(), event.publisher.as_str()))
            .or_insert(index);
        repeat_of.push((first != index).then_some(first));
    }
    let keys: Vec<String> = events
        .iter()
        .map(|event| names::event_id_key(topic_id, &event.event_id, &event.publisher))
        .collect();
    // 1. Reserve (concurrently).
    let reserved = try_join_all(events.iter().enumerate().map(|(index, event)| {
        let key = &keys[index];
        let repeat = repeat_of[index].is_some();
        async move {
            if repeat {
                Ok(None)
            } else {
                reserve(store, topic_id, key, event).await.map(Some)
            }
        }
    }))
    .await?;
    // 2. Publish the fresh ones in batch order, then await their acknowledgements.
    let js = &store.inner.js;
    let subject = names::log_subject(&store.inner.options.prefix, topic_id);
    let mut acks = Vec::new();
    for (index, event) in events.iter().enumerate() {
        if let Some(Reserved::Fresh(revision)) = reserved[index] {
            let message = PublishMessage::build()
                .message_id(names::message_id(
                    &event.event_id,
                    &event.publisher,
                    revision,
                ))
                .payload(event_frame(&event.event_id, &event.publisher, &event.body));
            let ack = js
                .send_publish(subject.clone(), message)
                .await
                .map_err(|error| publish_error(topic_id, &error))?;
            acks.push((index, revision, ack));
        }
    }
    let mut outcomes: Vec<Option<Appended>> = reserved
        .into_iter()
        .map(|reserved| match reserved {
            Some(Reserved::Stored(event)) => Some(Appended::Existing(event)),
            _ => None,
        })
        .collect();
    let mut records = Vec::with_capacity(acks.len());
    for (index, revision, ack) in acks {
        let ack = ack.await.map_err(|error| publish_error(topic_id, &error))?;
        let event = &events[index];
        if ack.duplicate {
            // Stored already by another append of it within the duplicate window.
            let stored = event_at(store, topic_id, ack.sequence)
                .await?
                .ok_or_else(|| StoreError::Backend(format!("event {} vanished", ack.sequence)))?;
            outcomes[index] = Some(Appended::Existing(stored));
        } else {
            outcomes[index] = Some(Appended::Created(EventRecord {
                seq: ack.sequence,
                id: ack.sequence.to_string(),
                event_id: event.event_id.clone(),
                publisher: event.publisher.clone(),
                body: event.body.clone(),
            }));
        }
        records.push((index, revision, ack.sequence));
    }
    // 3. Record the sequences (before answering).
    let bucket = &store.inner.buckets.event_ids;
    try_join_all(records.into_iter().map(|(index, revision, seq)| {
        let key = &keys[index];
        async move {
            // A lost race means another append of it recorded the same event.
            kv::put_if(
                bucket,
                "eventId",
                key,
                &EventIdDoc { seq: Some(seq) },
                Some(revision),
            )
            .await
        }
    }))
    .await?;
    let mut answered = Vec::with_capacity(events.len());
    for (index, repeat) in repeat_of.iter().enumerate() {
        let outcome = match repeat {
            Some(first) => match outcomes[*first].clone() {
                Some(Appended::Created(event) | Appended::Existing(event)) => {
                    Appended::Existing(event)
                }
                None => unreachable!("every first occurrence has an outcome"),
            },
            None => outcomes[index]
                .clone()
                .expect("every first occurrence has an outcome"),
        };
        answered.push(outcome);
    }
    Ok(answered)
}

fn publish_error(
    topic_id: &str,
    error: &async_nats::jetstream::context::PublishError,
) -> StoreError {
    match error.kind() {
        // No stream listens on the subject: the topic was deleted meanwhile.
        PublishErrorKind::StreamNotFound => topic_not_found(topic_id),
        PublishErrorKind::MaxPayloadExceeded => StoreError::Backend(format!(
            "the event is larger than the NATS server's max_payload: {error}"
        )),
        _ => nats_error("appending an event", error),
    }
}

/// The event at `seq` of the topic's log (`None`: not held, or no such topic).
pub(super) async fn event_at(
    store: &JetStreamStore,
    topic_id: &str,
    seq: Seq,
) -> Result<Option<EventRecord>, StoreError> {
    let stream = log_stream(store, topic_id).await?;
    match stream.direct_get(seq).await {
        Ok(message) => event_from_frame(seq, &message.payload).map(Some),
        Err(error) if error.kind() == DirectGetErrorKind::NotFound => Ok(None),
        Err(error) => {
            // No stream answers a direct get: no such topic.
            if super::topics::topic(store, topic_id).await?.is_none() {
                Ok(None)
            } else {
                Err(nats_error("reading an event", error))
            }
        }
    }
}

pub(super) async fn event(
    store: &JetStreamStore,
    topic_id: &str,
    id: &str,
) -> Result<Option<EventRecord>, StoreError> {
    // Ids are the sequence numbers, in canonical decimal form.
    let Ok(seq) = id.parse::<Seq>() else {
        return Ok(None);
    };
    if seq == 0 || seq.to_string() != id {
        return Ok(None);
    }
    event_at(store, topic_id, seq).await
}

/// Reads of at most this many events are direct gets, one request each (concurrent);
/// longer ones an ordered consumer.
const DIRECT_READ_MAX: u64 = 8;

pub(super) async fn read_events(
    store: &JetStreamStore,
    topic_id: &str,
    after: Seq,
    max: usize,
) -> Result<Vec<EventRecord>, StoreError> {
    let bounds = log_bounds(store, topic_id).await?;
    // Before the first sequence held: from the first.
    let start = after.max(bounds.first.saturating_sub(1)).saturating_add(1);
    if start > bounds.head || max == 0 {
        return Ok(Vec::new());
    }
    let count = (bounds.head - start + 1).min(u64::try_from(max).unwrap_or(u64::MAX));
    if count <= DIRECT_READ_MAX {
        let events =
            try_join_all((start..start + count).map(|seq| event_at(store, topic_id, seq))).await?;
        // A trim may have removed the first of them meanwhile: the rest stays in order.
        return Ok(events.into_iter().flatten().collect());
    }
    let policy = DeliverPolicy::ByStartSequence {
        start_sequence: start,
    };
    let mut events = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(10_000));
    let Some(mut messages) = log_reader(store, topic_id, policy, false, "reading a log").await?
    else {
        return Ok(events);
    };
    let failed = |error: &dyn std::fmt::Display| nats_error("reading a log", error);
    while let Some(message) = messages.next().await {
        let message = message.map_err(|error| failed(&error))?;
        let info = message.info().map_err(|error| failed(&error))?;
        let (seq, pending) = (info.stream_sequence, info.pending);
        events.push(event_from_frame(seq, &message.payload)?);
        if events.len() as u64 >= count || pending == 0 {
            break;
        }
    }
    Ok(events)
}

/// The JetStream stream of a topic's log, without asking the server for its state.
async fn log_stream(
    store: &JetStreamStore,
    topic_id: &str,
) -> Result<async_nats::jetstream::stream::Stream<()>, StoreError> {
    store
        .inner
        .js
        .get_stream_no_info(names::log_stream(&store.inner.options.prefix, topic_id))
        .await
        .map_err(|error| nats_error("opening a log", error))
}

/// An ordered, instant-replay reader of a topic's log from `policy` (only the headers
/// when `headers_only`); `None` when there is nothing to read. `what` names the read in
/// errors.
pub(super) async fn log_reader(
    store: &JetStreamStore,
    topic_id: &str,
    policy: DeliverPolicy,
    headers_only: bool,
    what: &'static str,
) -> Result<Option<push::Ordered>, StoreError> {
    let failed = |error: &dyn std::fmt::Display| nats_error(what, error);
    let consumer = log_stream(store, topic_id)
        .await?
        .create_consumer(push::OrderedConfig {
            deliver_subject: store.inner.js.client().new_inbox(),
            deliver_policy: policy,
            replay_policy: ReplayPolicy::Instant,
            headers_only,
            ..Default::default()
        })
        .await
        .map_err(|error| failed(&error))?;
    if consumer.cached_info().num_pending == 0 {
        return Ok(None);
    }
    consumer
        .messages()
        .await
        .map(Some)
        .map_err(|error| failed(&error))
}
