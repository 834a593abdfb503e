//! Where each log begins and ends (the stream's state), retention's removal of a
//! log's prefix (a stream purge below a sequence), `max_undelivered_age`'s expiry of a
//! hub's backlog, and dead letters (bucket `deadletters`).
//!
//! Only retention removes events, and only a prefix: the stream holds every sequence
//! from its first to its last, and the events removed so far are `first - 1`.

use std::time::SystemTime;

use async_nats::jetstream::consumer::DeliverPolicy;
use futures_util::StreamExt as _;

use super::JetStreamStore;
use super::kv::{self, Change, nats_error};
use super::names;
use super::records::{DeadLetterDoc, HubDoc};
use crate::store::{
    DeadLetterKind, DeadLetterRecord, LogBounds, MAX_DEAD_LETTERS, NewDeadLetter, Seq, StoreError,
    unix_ms,
};

/// A log's bounds, and which stream holds it.
pub(super) struct LogState {
    pub bounds: LogBounds,
    /// When its stream was created (Unix nanoseconds): a topic deleted and made again
    /// has a new one.
    pub created: i128,
}

pub(super) async fn log_state(
    store: &JetStreamStore,
    topic_id: &str,
) -> Result<LogState, StoreError> {
    let name = names::log_stream(&store.inner.options.prefix, topic_id);
    let mut stream = match store.inner.js.get_stream(&name).await {
        Ok(stream) => stream,
        Err(error) => {
            return Err(if super::topics::topic(store, topic_id).await?.is_none() {
                StoreError::NotFound(format!("topic {topic_id:?}"))
            } else {
                nats_error("reading a log's state", error)
            });
        }
    };
    let info = stream
        .info()
        .await
        .map_err(|error| nats_error("reading a log's state", error))?;
    let state = &info.state;
    let head = state.last_sequence;
    // Empty: JetStream reports first = last + 1 after a purge, 0 before any message.
    let first = if state.messages == 0 {
        head + 1
    } else {
        state.first_sequence
    };
    Ok(LogState {
        bounds: LogBounds {
            first,
            head,
            trimmed: first - 1,
        },
        created: info.created.unix_timestamp_nanos(),
    })
}

pub(super) async fn log_bounds(
    store: &JetStreamStore,
    topic_id: &str,
) -> Result<LogBounds, StoreError> {
    Ok(log_state(store, topic_id).await?.bounds)
}

pub(super) async fn seq_stored_since(
    store: &JetStreamStore,
    topic_id: &str,
    after: Seq,
    since: SystemTime,
) -> Result<Seq, StoreError> {
    let bounds = log_bounds(store, topic_id).await?;
    let start = after.max(bounds.first.saturating_sub(1)).saturating_add(1);
    if start > bounds.head {
        return Ok(bounds.head + 1);
    }
    // The first message stored at or after `since` (JetStream finds it by time); the
    // log is in append order, so everything before it is older.
    let failed = |error: &dyn std::fmt::Display| nats_error("reading a log by time", error);
    let policy = DeliverPolicy::ByStartTime {
        start_time: time::OffsetDateTime::from(since),
    };
    let Some(mut messages) =
        super::events::log_reader(store, topic_id, policy, true, "reading a log by time").await?
    else {
        return Ok(bounds.head + 1);
    };
    let Some(message) = messages.next().await else {
        return Ok(bounds.head + 1);
    };
    let message = message.map_err(|error| failed(&error))?;
    let newer = message
        .info()
        .map_err(|error| failed(&error))?
        .stream_sequence;
    Ok(newer.max(start))
}

pub(super) async fn trim_events(
    store: &JetStreamStore,
    topic_id: &str,
    up_to: Seq,
    max_rows: usize,
) -> Result<u64, StoreError> {
    let bounds = log_bounds(store, topic_id).await?;
    // Never past a hub's cursor (read just before the purge: an operator's replay in
    // the same instant may lose the race, as on PostgreSQL).
    let passed = super::hubs::hub_docs(store, topic_id)
        .await?
        .iter()
        .map(|hub| hub.cursor)
        .min()
        .unwrap_or(Seq::MAX);
    let last = up_to
        .min(passed)
        .min(bounds.head)
        .min((bounds.first - 1).saturating_add(max_rows as u64));
    if last < bounds.first {
        return Ok(0);
    }
    let stream = store
        .inner
        .js
        .get_stream_no_info(names::log_stream(&store.inner.options.prefix, topic_id))
        .await
        .map_err(|error| nats_error("opening a log", error))?;
    // Removes every message below `last + 1`.
    let purged = stream
        .purge()
        .sequence(last + 1)
        .await
        .map_err(|error| nats_error("trimming a log", error))?;
    Ok(purged.purged)
}

pub(super) async fn expire_backlog(
    store: &JetStreamStore,
    hub_id: &str,
    up_to: Seq,
    reason: &str,
) -> Result<Option<DeadLetterRecord>, StoreError> {
    let Some(topic_id) = store.hub_topic(hub_id).await? else {
        return Ok(None);
    };
    let head = match log_bounds(store, &topic_id).await {
        Ok(bounds) => bounds.head,
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(other) => return Err(other),
    };
    let up_to = up_to.min(head);
    let hubs = &store.inner.buckets.hubs;
    let key = names::hub_key(&topic_id, hub_id);
    loop {
        let Some((hub, revision)) = kv::get::<HubDoc>(hubs, "hub", &key).await? else {
            return Ok(None);
        };
        if hub.cursor >= up_to {
            return Ok(None);
        }
        let first = hub.cursor + 1;
        // The dead letter is written first: a crash before the hub moves leaves a
        // record of a range that is then still delivered, never a range given up
        // without a record.
        let (record, undo) = write_dead_letter(store, &hub, first, up_to, reason).await?;
        let mut moved = hub.clone();
        moved.cursor = up_to;
        moved.halted = true;
        moved.halt_reason = Some(reason.to_owned());
        moved.attempts = 0;
        moved.last_error = None;
        moved.epoch += 1;
        if kv::put_if(hubs, "hub", &key, &moved, Some(revision))
            .await?
            .is_some()
        {
            return Ok(Some(record));
        }
        // The hub moved meanwhile: undo and look again.
        undo_dead_letter(store, undo).await?;
    }
}

/// How to take a dead-letter write back.
enum Undo {
    /// Delete the new record at this key.
    Remove(String),
    /// Restore this document (the record before it was extended).
    Restore(DeadLetterDoc),
}

async fn write_dead_letter(
    store: &JetStreamStore,
    hub: &HubDoc,
    first: Seq,
    last: Seq,
    reason: &str,
) -> Result<(DeadLetterRecord, Undo), StoreError> {
    let bucket = &store.inner.buckets.dead_letters;
    let at_ms = unix_ms(SystemTime::now());
    // Still halted since its last expiry: the range continues that one.
    if hub.halted
        && let Some(latest) = dead_letter_docs(store, &hub.id).await?.pop()
        && latest.kind == DeadLetterKind::Expired.as_str()
        && latest.last + 1 == first
    {
        let key = names::dead_letter_key(&hub.id, latest.id);
        let previous = latest.clone();
        let extended = kv::modify(
            bucket,
            "dead letter",
            &key,
            |current: Option<DeadLetterDoc>| {
                let mut doc = current.unwrap_or_else(|| previous.clone());
                doc.last = last;
                doc.at_ms = at_ms;
                reason.clone_into(&mut doc.reason);
                Ok(Change::Write(doc.clone(), doc))
            },
        )
        .await?;
        return Ok((extended.record(), Undo::Restore(previous)));
    }
    let doc = DeadLetterDoc {
        id: store.next_id().await?,
        hub_id: hub.id.clone(),
        topic_id: hub.topic_id.clone(),
        callback: hub.callback.clone(),
        first,
        last,
        kind: DeadLetterKind::Expired.as_str().to_owned(),
        reason: reason.to_owned(),
        at_ms,
    };
    let key = names::dead_letter_key(&hub.id, doc.id);
    kv::put_if(bucket, "dead letter", &key, &doc, None).await?;
    Ok((doc.record(), Undo::Remove(key)))
}

async fn undo_dead_letter(store: &JetStreamStore, undo: Undo) -> Result<(), StoreError> {
    let bucket = &store.inner.buckets.dead_letters;
    match undo {
        Undo::Remove(key) => kv::delete(bucket, "dead letter", &key).await,
        Undo::Restore(doc) => {
            let key = names::dead_letter_key(&doc.hub_id, doc.id);
            kv::modify(bucket, "dead letter", &key, |_: Option<DeadLetterDoc>| {
                Ok(Change::Write(doc.clone(), ()))
            })
            .await
        }
    }
}

/// A hub's dead letters, oldest first.
async fn dead_letter_docs(
    store: &JetStreamStore,
    hub_id: &str,
) -> Result<Vec<DeadLetterDoc>, StoreError> {
    let pattern = format!("{}.*", names::id_key(hub_id));
    let mut docs: Vec<DeadLetterDoc> = kv::list(
        &store.inner.buckets.dead_letters,
        store.inbox(),
        "dead letter",
        &pattern,
    )
    .await?
    .into_iter()
    .map(|(_, doc)| doc)
    .filter(|doc: &DeadLetterDoc| doc.hub_id == hub_id)
    .collect();
    docs.sort_by_key(|doc| doc.id);
    Ok(docs)
}

pub(super) async fn record_dead_letter(
    store: &JetStreamStore,
    dead_letter: NewDeadLetter,
) -> Result<DeadLetterRecord, StoreError> {
    let record = DeadLetterRecord {
        id: store.next_id().await?,
        hub_id: dead_letter.hub_id,
        topic_id: dead_letter.topic_id,
        callback: dead_letter.callback,
        first: dead_letter.first,
        last: dead_letter.last,
        kind: dead_letter.kind,
        reason: dead_letter.reason,
        at_ms: unix_ms(SystemTime::now()),
    };
    let key = names::dead_letter_key(&record.hub_id, record.id);
    kv::put_if(
        &store.inner.buckets.dead_letters,
        "dead letter",
        &key,
        &DeadLetterDoc::from_record(&record),
        None,
    )
    .await?;
    Ok(record)
}

pub(super) async fn dead_letters(
    store: &JetStreamStore,
    hub_id: &str,
) -> Result<Vec<DeadLetterRecord>, StoreError> {
    let docs = dead_letter_docs(store, hub_id).await?;
    let skip = docs.len().saturating_sub(MAX_DEAD_LETTERS);
    Ok(docs[skip..].iter().map(DeadLetterDoc::record).collect())
}

pub(super) async fn forget_dead_letters(
    store: &JetStreamStore,
    before: SystemTime,
    max_rows: usize,
) -> Result<u64, StoreError> {
    let cutoff = unix_ms(before);
    let bucket = &store.inner.buckets.dead_letters;
    let mut removed = 0;
    for (key, doc) in kv::list::<DeadLetterDoc>(bucket, store.inbox(), "dead letter", ">").await? {
        if removed >= max_rows {
            break;
        }
        if doc.at_ms < cutoff {
            kv::delete(bucket, "dead letter", &key).await?;
            removed += 1;
        }
    }
    Ok(removed as u64)
}
