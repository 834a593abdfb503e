//! The in-memory [`Store`]: everything in one process, lost on exit.
//!
//! A `std::sync::RwLock` guards the state: no critical section awaits, so a blocking
//! lock held for microseconds is both correct and cheaper than an async one. Event
//! bodies are `Bytes`, so reading the log clones reference counts, not JSON.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use indexmap::IndexMap;

use super::index::{EventIndex, IndexKey};
use super::{
    Appended, DeadLetterKind, DeadLetterRecord, EventRecord, HubProgress, HubRecord, HubStart,
    HubState, ListenerRecord, LogBounds, MAX_DEAD_LETTERS, NewDeadLetter, NewEvent, NewHub,
    NewListener, NewTopic, Owner, Seq, Store, StoreError, TopicRecord, unix_ms,
};

/// A topic with its log and hubs.
#[derive(Debug)]
struct TopicState {
    record: TopicRecord,
    /// The log held: the event with sequence `n` is at index `n - first` (retention
    /// removes from the front).
    log: VecDeque<EventRecord>,
    /// When each event of `log` was appended (same index).
    stored_at: VecDeque<SystemTime>,
    /// The sequence of `log[0]` (or of the next event, when the log is empty).
    first: Seq,
    /// Events removed by retention so far.
    trimmed: u64,
    /// `eventId`s, `eventType`s and `eventTime`s → sequences: the de-duplication key
    /// (an `eventId`'s events, checked for the publisher) and the indexed lookups (of
    /// the events held: retention removes their entries with them).
    index: EventIndex,
    /// Hubs by id, in registration order.
    hubs: IndexMap<String, HubRecord>,
}

impl TopicState {
    /// The last sequence appended.
    fn head(&self) -> Seq {
        self.first + self.log.len() as Seq - 1
    }

    /// The event with sequence `seq`, if the log holds it.
    fn event_at(&self, seq: Seq) -> Option<&EventRecord> {
        let index = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        self.log.get(index)
    }
}

/// Every lookup an append, a hub's progress or a registration makes is a map lookup:
/// a hub with 10,000 topics or 10,000 hubs costs what one with three does (the bench's
/// `ingest/10,000 topics` and `memory per idle hub` rows).
#[derive(Debug, Default)]
struct State {
    /// Topics by id, in creation order.
    topics: IndexMap<String, TopicState>,
    /// Topic names → ids (names are unique).
    topic_names: HashMap<String, String>,
    /// Hub ids → their topic's id.
    hub_topics: HashMap<String, String>,
    listeners: Vec<ListenerRecord>,
    /// Dead letters in recording order.
    dead_letters: Vec<DeadLetterRecord>,
}

impl State {
    fn topic(&self, id: &str) -> Option<&TopicState> {
        self.topics.get(id)
    }

    fn topic_mut(&mut self, id: &str) -> Option<&mut TopicState> {
        self.topics.get_mut(id)
    }

    fn hub(&self, hub_id: &str) -> Option<&HubRecord> {
        let topic_id = self.hub_topics.get(hub_id)?;
        self.topics.get(topic_id)?.hubs.get(hub_id)
    }

    fn hub_mut(&mut self, hub_id: &str) -> Option<&mut HubRecord> {
        self.hub_and_head(hub_id).map(|(hub, _)| hub)
    }

    /// The hub and the head of its topic's log (a cursor never passes it).
    fn hub_and_head(&mut self, hub_id: &str) -> Option<(&mut HubRecord, Seq)> {
        let topic = self.topics.get_mut(self.hub_topics.get(hub_id)?)?;
        let head = topic.head();
        topic.hubs.get_mut(hub_id).map(|hub| (hub, head))
    }

    /// Forgets the hub ids of `hubs` (their topic is gone or they are deleted).
    fn forget_hubs<'a>(&mut self, hubs: impl IntoIterator<Item = &'a String>) {
        for id in hubs {
            self.hub_topics.remove(id);
        }
    }
}

/// Keeps everything in memory. Cheap to create; share it behind an `Arc` (the service
/// does).
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
    next_id: AtomicU64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh id with a prefix, e.g. `hub-7`.
    fn fresh_id(&self, prefix: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{prefix}-{n}")
    }
}

fn topic_not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("topic {id:?}"))
}

impl Store for MemoryStore {
    async fn create_topic(&self, topic: NewTopic) -> Result<TopicRecord, StoreError> {
        let mut state = self.write();
        // Only a taken name is a conflict; an id taken by another topic (a topic
        // named `topic-5` after `a b` got `topic-5`) is replaced by a fresh one.
        if let Some(existing) = state.topic_names.get(&topic.name) {
            return Err(StoreError::Conflict(format!(
                "a topic named {:?} already exists (id {existing:?})",
                topic.name
            )));
        }
        let mut id = match topic.id {
            Some(id) => id,
            None => self.fresh_id("topic"),
        };
        while state.topics.contains_key(&id) {
            id = self.fresh_id("topic");
        }
        let record = TopicRecord {
            id,
            name: topic.name,
            body: topic.body,
        };
        state
            .topic_names
            .insert(record.name.clone(), record.id.clone());
        state.topics.insert(
            record.id.clone(),
            TopicState {
                record: record.clone(),
                log: VecDeque::new(),
                stored_at: VecDeque::new(),
                first: 1,
                trimmed: 0,
                index: EventIndex::default(),
                hubs: IndexMap::new(),
            },
        );
        Ok(record)
    }

    async fn topic(&self, id: &str) -> Result<Option<TopicRecord>, StoreError> {
        Ok(self.read().topic(id).map(|t| t.record.clone()))
    }

    async fn topics(&self) -> Result<Vec<TopicRecord>, StoreError> {
        Ok(self
            .read()
            .topics
            .values()
            .map(|t| t.record.clone())
            .collect())
    }

    async fn delete_topic(&self, id: &str) -> Result<bool, StoreError> {
        let mut state = self.write();
        // `shift_remove` keeps the creation order of the others (O(topics), rare).
        let Some(topic) = state.topics.shift_remove(id) else {
            return Ok(false);
        };
        state.topic_names.remove(&topic.record.name);
        state.forget_hubs(topic.hubs.keys());
        Ok(true)
    }

    async fn append_events(
        &self,
        topic_id: &str,
        events: Vec<NewEvent>,
    ) -> Result<Vec<Appended>, StoreError> {
        let mut state = self.write();
        let topic = state
            .topic_mut(topic_id)
            .ok_or_else(|| topic_not_found(topic_id))?;
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            let existing = topic
                .index
                .event_id(&event.event_id)
                .iter()
                .filter_map(|&seq| topic.event_at(seq))
                .find(|stored| stored.publisher == event.publisher);
            if let Some(stored) = existing {
                outcomes.push(Appended::Existing(stored.clone()));
                continue;
            }
            let seq = topic.head() + 1;
            let record = EventRecord {
                seq,
                id: seq.to_string(),
                event_id: event.event_id,
                publisher: event.publisher,
                body: event.body,
            };
            topic.index.insert(seq, &record.event_id, &record.body);
            topic.log.push_back(record.clone());
            topic.stored_at.push_back(SystemTime::now());
            outcomes.push(Appended::Created(record));
        }
        Ok(outcomes)
    }

    async fn event(&self, topic_id: &str, id: &str) -> Result<Option<EventRecord>, StoreError> {
        let state = self.read();
        let Some(topic) = state.topic(topic_id) else {
            return Ok(None);
        };
        // Ids are the sequence numbers, in canonical decimal form.
        let Ok(seq) = id.parse::<Seq>() else {
            return Ok(None);
        };
        if seq == 0 || seq.to_string() != id {
            return Ok(None);
        }
        Ok(topic.event_at(seq).cloned())
    }

    async fn read_events(
        &self,
        topic_id: &str,
        after: Seq,
        max: usize,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let state = self.read();
        let topic = state
            .topic(topic_id)
            .ok_or_else(|| topic_not_found(topic_id))?;
        // Before the first sequence held: from the first.
        let start = usize::try_from(after.saturating_sub(topic.first - 1))
            .unwrap_or(usize::MAX)
            .min(topic.log.len());
        Ok(topic.log.range(start..).take(max).cloned().collect())
    }

    async fn indexed_events(
        &self,
        topic_id: &str,
        key: &IndexKey,
        after: Seq,
        max: usize,
    ) -> Result<Option<Vec<EventRecord>>, StoreError> {
        let state = self.read();
        let topic = state
            .topic(topic_id)
            .ok_or_else(|| topic_not_found(topic_id))?;
        // From the first event held.
        let after = after.max(topic.first - 1);
        let events = topic
            .index
            .candidates(key, after, max)
            .into_iter()
            .filter_map(|seq| topic.event_at(seq).cloned())
            .collect();
        Ok(Some(events))
    }

    async fn count_indexed(
        &self,
        topic_id: &str,
        key: &IndexKey,
    ) -> Result<Option<u64>, StoreError> {
        let state = self.read();
        let topic = state
            .topic(topic_id)
            .ok_or_else(|| topic_not_found(topic_id))?;
        Ok(topic.index.count(key))
    }

    async fn head(&self, topic_id: &str) -> Result<Seq, StoreError> {
        let state = self.read();
        let topic = state
            .topic(topic_id)
            .ok_or_else(|| topic_not_found(topic_id))?;
        Ok(topic.head())
    }

    async fn log_bounds(&self, topic_id: &str) -> Result<LogBounds, StoreError> {
        let state = self.read();
        let topic = state
            .topic(topic_id)
            .ok_or_else(|| topic_not_found(topic_id))?;
        Ok(LogBounds {
            first: topic.first,
            head: topic.head(),
            trimmed: topic.trimmed,
        })
    }

    async fn seq_stored_since(
        &self,
        topic_id: &str,
        after: Seq,
        since: SystemTime,
    ) -> Result<Seq, StoreError> {
        let state = self.read();
        let topic = state
            .topic(topic_id)
            .ok_or_else(|| topic_not_found(topic_id))?;
        let start = usize::try_from(after.saturating_sub(topic.first - 1))
            .unwrap_or(usize::MAX)
            .min(topic.log.len());
        let newer = topic
            .stored_at
            .range(start..)
            .position(|at| *at >= since)
            .map_or(topic.log.len(), |offset| start + offset);
        Ok(topic.first + newer as Seq)
    }

    async fn trim_events(
        &self,
        topic_id: &str,
        up_to: Seq,
        max_rows: usize,
    ) -> Result<u64, StoreError> {
        let mut state = self.write();
        let topic = state
            .topic_mut(topic_id)
            .ok_or_else(|| topic_not_found(topic_id))?;
        // Never past a hub's cursor: what a hub has not passed stays.
        let passed = topic
            .hubs
            .values()
            .map(|h| h.cursor)
            .min()
            .unwrap_or(Seq::MAX);
        let up_to = up_to.min(passed).min(topic.head());
        let count = usize::try_from((up_to + 1).saturating_sub(topic.first))
            .unwrap_or(usize::MAX)
            .min(max_rows);
        let removed: Vec<EventRecord> = topic.log.drain(..count).collect();
        topic.stored_at.drain(..count);
        if let Some(last) = removed.last() {
            topic.index.forget_through(last.seq, &removed);
        }
        topic.first += count as Seq;
        topic.trimmed += count as u64;
        Ok(count as u64)
    }

    async fn expire_backlog(
        &self,
        hub_id: &str,
        up_to: Seq,
        reason: &str,
    ) -> Result<Option<DeadLetterRecord>, StoreError> {
        let mut state = self.write();
        let Some((hub, head)) = state.hub_and_head(hub_id) else {
            return Ok(None);
        };
        let up_to = up_to.min(head);
        if hub.cursor >= up_to {
            return Ok(None);
        }
        let first = hub.cursor + 1;
        // Still halted since its last expiry (not resumed, not replayed): the range
        // continues that one.
        let continues = hub.state == HubState::Halted;
        hub.cursor = up_to;
        hub.state = HubState::Halted;
        hub.halt_reason = Some(reason.to_owned());
        hub.attempts = 0;
        hub.last_error = None;
        hub.epoch += 1;
        let (topic_id, callback) = (hub.topic_id.clone(), hub.callback.clone());
        let at_ms = unix_ms(SystemTime::now());
        // A range that continues the hub's last expired one (the hub halted since)
        // extends it.
        if let Some(last) = state
            .dead_letters
            .iter_mut()
            .rev()
            .find(|d| d.hub_id == hub_id)
            .filter(|d| continues && d.kind == DeadLetterKind::Expired && d.last + 1 == first)
        {
            last.last = up_to;
            last.at_ms = at_ms;
            reason.clone_into(&mut last.reason);
            return Ok(Some(last.clone()));
        }
        let record = DeadLetterRecord {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            hub_id: hub_id.to_owned(),
            topic_id,
            callback,
            first,
            last: up_to,
            kind: DeadLetterKind::Expired,
            reason: reason.to_owned(),
            at_ms,
        };
        state.dead_letters.push(record.clone());
        Ok(Some(record))
    }

    async fn record_dead_letter(
        &self,
        dead_letter: NewDeadLetter,
    ) -> Result<DeadLetterRecord, StoreError> {
        let record = DeadLetterRecord {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            hub_id: dead_letter.hub_id,
            topic_id: dead_letter.topic_id,
            callback: dead_letter.callback,
            first: dead_letter.first,
            last: dead_letter.last,
            kind: dead_letter.kind,
            reason: dead_letter.reason,
            at_ms: unix_ms(SystemTime::now()),
        };
        self.write().dead_letters.push(record.clone());
        Ok(record)
    }

    async fn dead_letters(&self, hub_id: &str) -> Result<Vec<DeadLetterRecord>, StoreError> {
        let state = self.read();
        let mut latest: Vec<DeadLetterRecord> = state
            .dead_letters
            .iter()
            .rev()
            .filter(|d| d.hub_id == hub_id)
            .take(MAX_DEAD_LETTERS)
            .cloned()
            .collect();
        latest.reverse();
        Ok(latest)
    }

    async fn forget_dead_letters(
        &self,
        before: SystemTime,
        max_rows: usize,
    ) -> Result<u64, StoreError> {
        let cutoff = unix_ms(before);
        let mut state = self.write();
        let mut removed = 0;
        state.dead_letters.retain(|d| {
            let forget = d.at_ms < cutoff && removed < max_rows;
            removed += usize::from(forget);
            !forget
        });
        Ok(removed as u64)
    }

    async fn create_hub(&self, hub: NewHub) -> Result<(HubRecord, bool), StoreError> {
        let id = self.fresh_id("hub");
        let mut state = self.write();
        let topic = state
            .topic_mut(&hub.topic_id)
            .ok_or_else(|| topic_not_found(&hub.topic_id))?;
        if let Some(existing) = topic
            .hubs
            .values()
            .find(|h| h.callback == hub.callback && h.query == hub.query && h.owner == hub.owner)
        {
            return Ok((existing.clone(), false));
        }
        let cursor = match hub.start {
            HubStart::Head => topic.head(),
            HubStart::Beginning => 0,
        };
        let record = HubRecord {
            id,
            topic_id: hub.topic_id,
            callback: hub.callback,
            query: hub.query,
            body: hub.body,
            cursor,
            state: HubState::Active,
            owner: hub.owner,
            base_path: hub.base_path,
            attempts: 0,
            last_error: None,
            epoch: 0,
            holder: None,
            halt_reason: None,
        };
        topic.hubs.insert(record.id.clone(), record.clone());
        state
            .hub_topics
            .insert(record.id.clone(), record.topic_id.clone());
        Ok((record, true))
    }

    async fn hub(&self, topic_id: &str, id: &str) -> Result<Option<HubRecord>, StoreError> {
        let state = self.read();
        Ok(state.topic(topic_id).and_then(|t| t.hubs.get(id)).cloned())
    }

    async fn hubs(&self, topic_id: &str) -> Result<Vec<HubRecord>, StoreError> {
        let state = self.read();
        let topic = state
            .topic(topic_id)
            .ok_or_else(|| topic_not_found(topic_id))?;
        Ok(topic.hubs.values().cloned().collect())
    }

    async fn all_hubs(&self) -> Result<Vec<HubRecord>, StoreError> {
        let state = self.read();
        Ok(state
            .topics
            .values()
            .flat_map(|t| t.hubs.values().cloned())
            .collect())
    }

    async fn count_hubs_of(&self, owner: Option<&Owner>) -> Result<u64, StoreError> {
        let state = self.read();
        let count = state
            .topics
            .values()
            .flat_map(|t| t.hubs.values())
            .filter(|h| h.owner.as_ref() == owner)
            .count();
        Ok(count as u64)
    }

    async fn delete_hub(&self, topic_id: &str, id: &str) -> Result<bool, StoreError> {
        let mut state = self.write();
        let Some(topic) = state.topic_mut(topic_id) else {
            return Ok(false);
        };
        if topic.hubs.shift_remove(id).is_none() {
            return Ok(false);
        }
        state.hub_topics.remove(id);
        Ok(true)
    }

    async fn set_cursor(&self, hub_id: &str, cursor: Seq) -> Result<(), StoreError> {
        let mut state = self.write();
        let (hub, head) = state
            .hub_and_head(hub_id)
            .ok_or_else(|| StoreError::NotFound(format!("hub {hub_id:?}")))?;
        hub.cursor = cursor.min(head);
        Ok(())
    }

    async fn set_hub_state(&self, hub_id: &str, hub_state: HubState) -> Result<(), StoreError> {
        let mut state = self.write();
        let hub = state
            .hub_mut(hub_id)
            .ok_or_else(|| StoreError::NotFound(format!("hub {hub_id:?}")))?;
        hub.state = hub_state;
        Ok(())
    }

    async fn save_progress(
        &self,
        progress: &[HubProgress],
        _replica: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut state = self.write();
        let mut refused = Vec::new();
        for saved in progress {
            let Some(hub) = state.hub_mut(&saved.hub_id) else {
                continue;
            };
            if hub.epoch != saved.epoch {
                refused.push(saved.hub_id.clone());
                continue;
            }
            hub.cursor = saved.cursor;
            hub.attempts = saved.attempts;
            hub.last_error.clone_from(&saved.last_error);
            if saved.state == HubState::Active {
                hub.halt_reason = None;
            }
            hub.state = saved.state;
        }
        Ok(refused)
    }

    async fn operate_hub(
        &self,
        hub_id: &str,
        cursor: Option<Seq>,
    ) -> Result<HubRecord, StoreError> {
        let mut state = self.write();
        let (hub, head) = state
            .hub_and_head(hub_id)
            .ok_or_else(|| StoreError::NotFound(format!("hub {hub_id:?}")))?;
        if let Some(cursor) = cursor {
            hub.cursor = cursor.min(head);
        }
        hub.state = HubState::Active;
        hub.halt_reason = None;
        hub.attempts = 0;
        hub.last_error = None;
        hub.epoch += 1;
        Ok(hub.clone())
    }

    async fn hub_by_id(&self, id: &str) -> Result<Option<HubRecord>, StoreError> {
        Ok(self.read().hub(id).cloned())
    }

    async fn create_listener(&self, listener: NewListener) -> Result<ListenerRecord, StoreError> {
        let record = ListenerRecord {
            id: self.fresh_id("listener"),
            callback: listener.callback,
            query: listener.query,
            owner: listener.owner,
        };
        self.write().listeners.push(record.clone());
        Ok(record)
    }

    async fn delete_listener(&self, id: &str) -> Result<bool, StoreError> {
        let mut state = self.write();
        let before = state.listeners.len();
        state.listeners.retain(|l| l.id != id);
        Ok(state.listeners.len() != before)
    }

    async fn listeners(&self) -> Result<Vec<ListenerRecord>, StoreError> {
        Ok(self.read().listeners.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn new_topic(name: &str) -> NewTopic {
        NewTopic {
            id: Some(name.into()),
            name: name.into(),
            body: Bytes::from_static(b"{}"),
        }
    }

    fn new_event(event_id: &str) -> NewEvent {
        NewEvent {
            event_id: event_id.into(),
            publisher: String::new(),
            body: Bytes::from(format!(r#"{{"eventId":"{event_id}"}}"#)),
        }
    }

    #[tokio::test]
    async fn log_sequences_dedup_and_cursor_reads() {
        let store = MemoryStore::new();
        store.create_topic(new_topic("t")).await.unwrap();
        assert!(matches!(
            store.create_topic(new_topic("t")).await,
            Err(StoreError::Conflict(_))
        ));
        let out = store
            .append_events("t", vec![new_event("a"), new_event("b"), new_event("a")])
            .await
            .unwrap();
        assert!(matches!(&out[0], Appended::Created(r) if r.seq == 1));
        assert!(matches!(&out[1], Appended::Created(r) if r.seq == 2));
        assert!(matches!(&out[2], Appended::Existing(r) if r.seq == 1));
        assert_eq!(store.head("t").await.unwrap(), 2);
        assert!(store.head("nope").await.is_err());
        let after_1 = store.read_events("t", 1, 10).await.unwrap();
        assert_eq!(after_1.len(), 1);
        assert_eq!(after_1[0].event_id, "b");
        assert_eq!(store.read_events("t", 5, 10).await.unwrap(), vec![]);
        assert_eq!(store.event("t", "2").await.unwrap().unwrap().event_id, "b");
        assert_eq!(store.event("t", "02").await.unwrap(), None);
        assert!(store.append_events("nope", vec![]).await.is_err());
    }

    #[tokio::test]
    async fn hubs_dedup_start_at_head_and_move_cursors() {
        let store = MemoryStore::new();
        store.create_topic(new_topic("t")).await.unwrap();
        store
            .append_events("t", vec![new_event("a")])
            .await
            .unwrap();
        let hub = NewHub {
            topic_id: "t".into(),
            callback: "http://x/cb".into(),
            query: None,
            body: Bytes::from_static(b"{}"),
            owner: None,
            base_path: Some("/psi-api/event/v2".into()),
            start: HubStart::Head,
        };
        let (first, created) = store.create_hub(hub.clone()).await.unwrap();
        assert!(created);
        assert_eq!(first.cursor, 1);
        let (again, created) = store.create_hub(hub.clone()).await.unwrap();
        assert!(!created);
        assert_eq!(again.id, first.id);
        let all = store.all_hubs().await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].id, first.id);
        store.set_cursor(&first.id, 0).await.unwrap();
        store
            .set_hub_state(&first.id, HubState::Halted)
            .await
            .unwrap();
        let stored = store.hub("t", &first.id).await.unwrap().unwrap();
        assert_eq!((stored.cursor, stored.state), (0, HubState::Halted));
        assert_eq!(stored.base_path.as_deref(), Some("/psi-api/event/v2"));
        // Progress is saved for the current epoch only; an operator's action bumps it.
        let progress = |epoch, cursor| HubProgress {
            hub_id: first.id.clone(),
            epoch,
            cursor,
            attempts: 2,
            last_error: Some("503".into()),
            state: HubState::Active,
        };
        assert!(
            store
                .save_progress(&[progress(0, 1)], "r")
                .await
                .unwrap()
                .is_empty()
        );
        let operated = store.operate_hub(&first.id, Some(0)).await.unwrap();
        assert_eq!(
            (
                operated.cursor,
                operated.state,
                operated.attempts,
                operated.epoch
            ),
            (0, HubState::Active, 0, 1)
        );
        assert_eq!(
            store.save_progress(&[progress(0, 1)], "r").await.unwrap(),
            vec![first.id.clone()]
        );
        assert!(
            store
                .save_progress(&[progress(1, 1)], "r")
                .await
                .unwrap()
                .is_empty()
        );
        let stored = store.hub_by_id(&first.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.cursor, stored.attempts, stored.last_error.as_deref()),
            (1, 2, Some("503"))
        );
        assert!(store.delete_hub("t", &first.id).await.unwrap());
        assert!(!store.delete_hub("t", &first.id).await.unwrap());
        assert!(store.delete_topic("t").await.unwrap());
        assert!(store.hubs("t").await.is_err());
    }
}
