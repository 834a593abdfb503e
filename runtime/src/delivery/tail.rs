//! [`TailCache`]: the events this process appended most recently, per topic, so that
//! its hub workers deliver them without reading them back from the store. With
//! PostgreSQL that read would be one `SELECT` per hub per event — 10,000 queries a
//! second for 1,000 events/s to 10 hubs — and it dominated the end-to-end latency.
//!
//! Only committed events enter (the service adds an event once the store returned it),
//! and a read answers only a run of consecutive sequences starting right after the
//! reader's cursor: an event appended through another replica, or evicted, is missing
//! from the run, and the reader falls back to the store. The cache can be stale or
//! sparse, never wrong: logs are append-only and events immutable.
//!
//! Entries are [`LogEvent`]s: the JSON of an event is parsed at most once for all the
//! hubs whose filters look at it (with 1,000 filtered hubs on a topic, a parse per hub
//! per event was most of what a subscriber cost).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use serde_json::Value;

use crate::store::{EventRecord, Seq};

/// An event of a topic's log as the delivery workers handle it: the stored record and,
/// once a filter asked for it, its parsed JSON (shared by every hub reading it).
#[derive(Debug)]
pub struct LogEvent {
    /// The event as stored.
    pub record: EventRecord,
    value: OnceLock<Option<Value>>,
}

impl LogEvent {
    /// Wraps a stored event.
    pub fn new(record: EventRecord) -> Self {
        Self {
            record,
            value: OnceLock::new(),
        }
    }

    /// The event's JSON, parsed on first use (`None`: the stored body is not JSON,
    /// which the service never stores).
    pub fn value(&self) -> Option<&Value> {
        self.value
            .get_or_init(|| serde_json::from_slice(&self.record.body).ok())
            .as_ref()
    }
}

/// The default number of events kept per topic.
pub const DEFAULT_CAPACITY: usize = 1024;

/// Recent events per topic (bounded; the oldest go first).
#[derive(Debug)]
pub struct TailCache {
    topics: RwLock<HashMap<String, BTreeMap<Seq, Arc<LogEvent>>>>,
    capacity: usize,
}

impl Default for TailCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl TailCache {
    /// A cache keeping up to `capacity` events per topic (0: keeps nothing).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            topics: RwLock::default(),
            capacity,
        }
    }

    /// Adds a committed event of `topic`.
    pub fn insert(&self, topic: &str, event: &EventRecord) {
        if self.capacity == 0 {
            return;
        }
        let mut topics = self.topics.write().unwrap_or_else(PoisonError::into_inner);
        let events = match topics.get_mut(topic) {
            Some(events) => events,
            None => topics.entry(topic.to_owned()).or_default(),
        };
        events.insert(event.seq, Arc::new(LogEvent::new(event.clone())));
        while events.len() > self.capacity {
            events.pop_first();
        }
    }

    /// Up to `max` events of `topic` following `after` without a gap; `None` when the
    /// cache does not hold the event right after `after` (read the store).
    pub fn read(&self, topic: &str, after: Seq, max: usize) -> Option<Vec<Arc<LogEvent>>> {
        let topics = self.topics.read().unwrap_or_else(PoisonError::into_inner);
        let events = topics.get(topic)?;
        let run: Vec<Arc<LogEvent>> = (after + 1..)
            .zip(events.range(after + 1..))
            .take_while(|(expected, (seq, _))| expected == *seq)
            .take(max)
            .map(|(_, (_, event))| event.clone())
            .collect();
        (!run.is_empty()).then_some(run)
    }

    /// Forgets a deleted topic.
    pub fn forget(&self, topic: &str) {
        self.topics
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(topic);
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn event(seq: Seq) -> EventRecord {
        EventRecord {
            seq,
            id: seq.to_string(),
            event_id: format!("e-{seq}"),
            publisher: String::new(),
            body: Bytes::from_static(b"{}"),
        }
    }

    fn seqs(run: Option<Vec<Arc<LogEvent>>>) -> Option<Vec<Seq>> {
        run.map(|run| run.iter().map(|e| e.record.seq).collect())
    }

    #[test]
    fn answers_only_gapless_runs_after_the_cursor() {
        let cache = TailCache::with_capacity(4);
        assert_eq!(seqs(cache.read("t", 0, 10)), None);
        // Out of order, with 3 missing (appended through another replica, say).
        for seq in [2, 1, 4, 5] {
            cache.insert("t", &event(seq));
        }
        assert_eq!(seqs(cache.read("t", 0, 10)), Some(vec![1, 2]));
        assert_eq!(seqs(cache.read("t", 0, 1)), Some(vec![1]));
        assert_eq!(
            seqs(cache.read("t", 2, 10)),
            None,
            "3 is missing: read the store"
        );
        assert_eq!(seqs(cache.read("t", 3, 10)), Some(vec![4, 5]));
        assert_eq!(seqs(cache.read("t", 5, 10)), None);
        assert_eq!(seqs(cache.read("other", 0, 10)), None);
        // Bounded: the oldest go first.
        cache.insert("t", &event(6));
        assert_eq!(seqs(cache.read("t", 0, 10)), None);
        assert_eq!(seqs(cache.read("t", 1, 10)), Some(vec![2]));
        cache.forget("t");
        assert_eq!(seqs(cache.read("t", 3, 10)), None);
        // One parse, shared by every reader.
        cache.insert(
            "j",
            &EventRecord {
                body: Bytes::from_static(br#"{"a":1}"#),
                ..event(1)
            },
        );
        let first = cache.read("j", 0, 1).unwrap().remove(0);
        let second = cache.read("j", 0, 1).unwrap().remove(0);
        assert!(std::ptr::eq(
            first.value().unwrap(),
            second.value().unwrap()
        ));
        assert_eq!(first.value().unwrap()["a"], 1);
        let off = TailCache::with_capacity(0);
        off.insert("t", &event(1));
        assert_eq!(seqs(off.read("t", 0, 10)), None);
    }
}
