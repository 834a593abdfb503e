//! Reading and writing the key-value buckets: documents with their revisions, writes
//! fenced by a revision (compare-and-set: JetStream's `Nats-Expected-Last-Subject-Sequence`),
//! read-modify-write loops, and listings of many keys in one ordered consumer; NATS
//! errors as [`StoreError`]s.

use std::fmt::Display;

use async_nats::jetstream::consumer::{DeliverPolicy, ReplayPolicy, push};
use async_nats::jetstream::kv::{self, CreateErrorKind, Operation, UpdateErrorKind};
use futures_util::StreamExt as _;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::records::{decode, encode};
use crate::store::StoreError;

/// A NATS failure as a store error: a timeout (server gone, no quorum) is
/// [`StoreError::Unavailable`] — the client may retry — anything else a backend failure.
pub(super) fn nats_error(what: &str, error: impl Display) -> StoreError {
    let text = error.to_string();
    if text.contains("timed out") || text.contains("broken pipe") || text.contains("no responders")
    {
        StoreError::Unavailable(format!("{what}: {text}"))
    } else {
        StoreError::Backend(format!("{what}: {text}"))
    }
}

/// The document at `key` and its revision (`None`: no such key, or deleted).
pub(super) async fn get<T: DeserializeOwned>(
    bucket: &kv::Store,
    what: &str,
    key: &str,
) -> Result<Option<(T, u64)>, StoreError> {
    match bucket.entry(key).await {
        Ok(Some(entry)) if entry.operation == Operation::Put => {
            Ok(Some((decode(what, &entry.value)?, entry.revision)))
        }
        Ok(_) => Ok(None),
        Err(error) => Err(nats_error(&format!("reading a {what}"), error)),
    }
}

/// Writes `value` at `key` if the key is at `revision` (`None`: if it does not exist,
/// or was deleted). `Ok(None)`: it was not (someone else wrote first); `Ok(Some(new
/// revision))`: written.
pub(super) async fn put_if<T: Serialize>(
    bucket: &kv::Store,
    what: &str,
    key: &str,
    value: &T,
    revision: Option<u64>,
) -> Result<Option<u64>, StoreError> {
    let bytes = encode(value);
    match revision {
        None => match bucket.create(key, bytes).await {
            Ok(revision) => Ok(Some(revision)),
            Err(error) if error.kind() == CreateErrorKind::AlreadyExists => Ok(None),
            Err(error) => Err(nats_error(&format!("creating a {what}"), error)),
        },
        Some(revision) => match bucket.update(key, bytes, revision).await {
            Ok(revision) => Ok(Some(revision)),
            Err(error) if error.kind() == UpdateErrorKind::WrongLastRevision => Ok(None),
            Err(error) => Err(nats_error(&format!("updating a {what}"), error)),
        },
    }
}

/// Deletes `key` (purging its history) if it is at `revision`; `false` when it was
/// not.
pub(super) async fn delete_if(
    bucket: &kv::Store,
    what: &str,
    key: &str,
    revision: u64,
) -> Result<bool, StoreError> {
    match bucket.purge_expect_revision(key, Some(revision)).await {
        Ok(()) => Ok(true),
        Err(error) if error.to_string().contains("wrong last sequence") => Ok(false),
        Err(error) => Err(nats_error(&format!("deleting a {what}"), error)),
    }
}

/// Deletes `key` whatever its revision.
pub(super) async fn delete(bucket: &kv::Store, what: &str, key: &str) -> Result<(), StoreError> {
    bucket
        .purge(key)
        .await
        .map_err(|error| nats_error(&format!("deleting a {what}"), error))
}

/// What a read-modify-write step decided.
pub(super) enum Change<T, R> {
    /// Write this document (at the revision read), then answer `R`.
    Write(T, R),
    /// Write nothing; answer `R`.
    Keep(R),
}

/// Read-modify-write of the document at `key`, fenced by its revision: `change` sees
/// the current document (`None`: absent) and decides; when another writer got in
/// between, it runs again on the newer document. Every change to a hub goes through
/// this, so an operator's action and a worker's progress never overwrite each other.
pub(super) async fn modify<T, R>(
    bucket: &kv::Store,
    what: &str,
    key: &str,
    mut change: impl FnMut(Option<T>) -> Result<Change<T, R>, StoreError>,
) -> Result<R, StoreError>
where
    T: DeserializeOwned + Serialize,
{
    loop {
        let current = get::<T>(bucket, what, key).await?;
        let revision = current.as_ref().map(|(_, revision)| *revision);
        match change(current.map(|(doc, _)| doc))? {
            Change::Keep(answer) => return Ok(answer),
            Change::Write(doc, answer) => {
                if put_if(bucket, what, key, &doc, revision).await?.is_some() {
                    return Ok(answer);
                }
            }
        }
    }
}

/// Every document whose key matches `pattern` (a subject filter over keys: `a.*`,
/// `>`), with its key, read with one ordered consumer (the last value per key; deleted
/// keys skipped) rather than one request per key; `inbox` is where it delivers
/// ([`super::JetStreamStore::inbox`]).
pub(super) async fn list<T: DeserializeOwned>(
    bucket: &kv::Store,
    inbox: String,
    what: &str,
    pattern: &str,
) -> Result<Vec<(String, T)>, StoreError> {
    let failed = |error: &dyn Display| nats_error(&format!("listing {what} records"), error);
    let consumer = bucket
        .stream
        .create_consumer(push::OrderedConfig {
            deliver_subject: inbox,
            filter_subject: format!("{}{pattern}", bucket.prefix),
            deliver_policy: DeliverPolicy::LastPerSubject,
            replay_policy: ReplayPolicy::Instant,
            ..Default::default()
        })
        .await
        .map_err(|error| failed(&error))?;
    let mut found = Vec::new();
    if consumer.cached_info().num_pending == 0 {
        return Ok(found);
    }
    let mut messages = consumer.messages().await.map_err(|error| failed(&error))?;
    while let Some(message) = messages.next().await {
        let message = message.map_err(|error| failed(&error))?;
        let info = message.info().map_err(|error| failed(&error))?;
        let pending = info.pending;
        let deleted = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get("KV-Operation"))
            .is_some_and(|operation| operation.as_str() != "PUT");
        if !deleted {
            let key = message
                .subject
                .as_str()
                .strip_prefix(bucket.prefix.as_str())
                .unwrap_or_default()
                .to_owned();
            found.push((key, decode(what, &message.payload)?));
        }
        if pending == 0 {
            break;
        }
    }
    Ok(found)
}
