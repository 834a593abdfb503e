//! Names on the NATS server: the streams of the topics' logs, their subjects, the
//! key-value buckets and the keys in them. Everything a store creates starts with its
//! prefix (`JetStreamOptions::prefix`), so several stores — or tests — share one server
//! without seeing each other.
//!
//! Topic ids, names, `eventId`s and callbacks may hold characters that stream names,
//! subjects and keys may not (keys: `[-/_=.a-zA-Z0-9]`): they are hashed (SHA-256, hex)
//! into names. A record always holds the original values, so nothing is read back from
//! a hash.

use sha2::{Digest, Sha256};

/// What a prefix may hold: it is part of stream and bucket names and of subjects.
pub(super) fn valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.len() <= 32
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// SHA-256 of length-prefixed parts, hex: no two different lists of parts share an
/// input (a part may contain any byte).
fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let hash = hasher.finalize();
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A topic's key: 32 hex digits (128 bits of its id's hash) — in its log's stream name
/// and subject, and in the keys of its records.
pub(super) fn topic_key(topic_id: &str) -> String {
    let mut key = digest(&["topic", topic_id]);
    key.truncate(32);
    key
}

/// A hub's, listener's or dead letter's id as a key: as it is when it is made of
/// key-safe characters (every id the store assigns: `hub-7`), else `=` and its hash (a
/// looked-up id from a request, which then finds nothing).
pub(super) fn id_key(id: &str) -> String {
    if !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        id.to_owned()
    } else {
        format!("={}", digest(&["id", id]))
    }
}

/// The stream holding a topic's log.
pub(super) fn log_stream(prefix: &str, topic_id: &str) -> String {
    format!("{prefix}_log_{}", topic_key(topic_id))
}

/// The subject a topic's events are published on (the only subject of its stream).
pub(super) fn log_subject(prefix: &str, topic_id: &str) -> String {
    format!("{prefix}.log.{}", topic_key(topic_id))
}

/// Key of an event's de-duplication record: `<topic key>.<hash of (eventId,
/// publisher)>`.
pub(super) fn event_id_key(topic_id: &str, event_id: &str, publisher: &str) -> String {
    format!(
        "{}.{}",
        topic_key(topic_id),
        digest(&["event", event_id, publisher])
    )
}

/// The `Nats-Msg-Id` of an event reserved at `revision` of its de-duplication record:
/// JetStream's own duplicate window catches a concurrent or retried publish of it
/// (see `events.rs`).
pub(super) fn message_id(event_id: &str, publisher: &str, revision: u64) -> String {
    format!("{}.{revision}", digest(&["event", event_id, publisher]))
}

/// Key (in the names bucket) that makes a topic name unique.
pub(super) fn topic_name_key(name: &str) -> String {
    format!("topic.{}", digest(&["name", name]))
}

/// Key (in the names bucket) that makes a hub's identity unique: (topic, callback,
/// query, owner) with absent = absent.
pub(super) fn hub_identity_key(
    topic_id: &str,
    callback: &str,
    query: Option<&str>,
    owner: Option<(&str, &str)>,
) -> String {
    let query = query.map_or_else(|| "\u{0}absent".to_owned(), |q| format!("={q}"));
    let (issuer, name) = owner.unwrap_or(("\u{0}absent", ""));
    format!(
        "hub.{}",
        digest(&["hub", topic_id, callback, &query, issuer, name])
    )
}

/// Key (in the names bucket) giving a hub's topic, for look-ups by hub id alone.
pub(super) fn hub_topic_key(hub_id: &str) -> String {
    format!("hubtopic.{}", id_key(hub_id))
}

/// A hub record's key: `<topic key>.<hub id key>` (a topic's hubs are one subject
/// filter: `<topic key>.*`).
pub(super) fn hub_key(topic_id: &str, hub_id: &str) -> String {
    format!("{}.{}", topic_key(topic_id), id_key(hub_id))
}

/// A dead letter's key: `<hub id key>.<id, 20 digits>` (a hub's are one filter, in
/// id order).
pub(super) fn dead_letter_key(hub_id: &str, id: u64) -> String {
    format!("{}.{id:020}", id_key(hub_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_and_distinct() {
        assert_eq!(topic_key("a").len(), 32);
        assert_ne!(topic_key("a"), topic_key("b"));
        assert_eq!(id_key("hub-7"), "hub-7");
        assert!(id_key("../x").starts_with('='));
        assert_ne!(message_id("ab", "c", 1), message_id("a", "bc", 1));
        assert_ne!(message_id("a", "b", 1), message_id("a", "b", 2));
        assert_ne!(
            hub_identity_key("t", "cb", None, None),
            hub_identity_key("t", "cb", Some(""), None)
        );
        assert!(valid_prefix("tmf688_test-1"));
        assert!(!valid_prefix("a.b"));
        assert!(!valid_prefix(""));
    }
}
