//! The indexed lookups of the [`Store`](super::Store) contract: which predicates over a
//! topic's events a store may answer from an index ([`IndexKey`]), the keys an event is
//! indexed under ([`EventKeys`], read from its stored body), and [`EventIndex`], the
//! in-process index of the memory store.
//!
//! An index only *narrows*: the service still applies the whole TMF630 filter and
//! need-to-know to every candidate, so a store may return more than the key selects
//! (a time range is kept at microsecond precision and widened to whole microseconds),
//! never less.

use std::collections::HashMap;

use serde::Deserializer as _;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use tmf688_api::support::DateTime;

use super::Seq;

/// A predicate over a topic's events that a store can answer from an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexKey {
    /// The sender's `eventId` is one of these (any publisher's). Exact.
    EventId(Vec<String>),
    /// The `eventType` attribute (a JSON string) is one of these. Exact.
    EventType(Vec<String>),
    /// `eventTime` names an instant within these bounds, in microseconds since
    /// 1970-01-01T00:00:00Z, both inclusive (`None`: unbounded), compared on the instant
    /// truncated to the microsecond: a superset of the exact range the filter asks.
    /// Events without a date-time `eventTime` are not candidates.
    EventTime {
        /// The smallest key selected.
        from_us: Option<i64>,
        /// The largest key selected.
        to_us: Option<i64>,
    },
}

impl IndexKey {
    /// Whether an event with these keys is selected (and `event_id` its eventId).
    pub fn selects(&self, event_id: &str, keys: &EventKeys) -> bool {
        match self {
            Self::EventId(ids) => ids.iter().any(|id| id == event_id),
            Self::EventType(types) => keys
                .event_type
                .as_ref()
                .is_some_and(|event_type| types.contains(event_type)),
            Self::EventTime { from_us, to_us } => keys.event_time_us.is_some_and(|time| {
                from_us.is_none_or(|from| time >= from) && to_us.is_none_or(|to| time <= to)
            }),
        }
    }
}

/// What an event is indexed under, read from its stored `Event_Create` body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventKeys {
    /// `eventType` when it is a JSON string without U+0000 (which no `text` column
    /// holds; a filter value holding one is not answered by an index).
    pub event_type: Option<String>,
    /// `eventTime` when it is a date-time: its instant in microseconds since the epoch,
    /// truncated ([`micros`]).
    pub event_time_us: Option<i64>,
}

impl EventKeys {
    /// The keys of a stored body (compact JSON; nothing for one that is not an object).
    ///
    /// Reads the body only up to where both attributes have been seen: the service
    /// writes `eventType` and `eventTime` before the `event` payload, which is most of
    /// the body, and every append computes these keys (about a tenth of a
    /// `createEvent`'s work when the whole body was read). A body holding an attribute
    /// twice (which the service never writes: it stores what its typed model
    /// serializes) is indexed under the first.
    pub fn of(body: &[u8]) -> Self {
        let mut keys = Self::default();
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        // `Err` when the visitor stopped before the end of the object, or the body is
        // not an object: what it found is kept either way.
        let _ = deserializer.deserialize_map(KeysVisitor(&mut keys));
        keys
    }
}

/// Reads [`EventKeys`] from an object, stopping once both are known.
struct KeysVisitor<'a>(&'a mut EventKeys);

impl<'de> Visitor<'de> for KeysVisitor<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let text = |value: Option<serde_json::Value>| match value {
            Some(serde_json::Value::String(text)) => Some(text),
            _ => None,
        };
        let (mut event_type, mut event_time) = (None, None);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "eventType" if event_type.is_none() => event_type = Some(map.next_value()?),
                "eventTime" if event_time.is_none() => event_time = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            if event_type.is_some() && event_time.is_some() {
                break;
            }
        }
        self.0.event_type = text(event_type).filter(|t| !t.contains('\0'));
        self.0.event_time_us = text(event_time)
            .and_then(|t| DateTime::parse(&t).ok())
            .map(|time| micros(&time));
        // After an early stop the deserializer reports the rest of the object as
        // unread (an error `of` ignores).
        Ok(())
    }
}

/// The instant of `time` in microseconds since 1970-01-01T00:00:00Z, truncated toward
/// the past (the digits past the sixth of the fraction are dropped). Saturates far
/// outside years 0000–9999, which a `DateTime` cannot name.
pub fn micros(time: &DateTime) -> i64 {
    let instant = time.instant();
    let digits = instant.fraction.as_bytes();
    let fraction = (0..6).fold(0i64, |n, i| {
        n * 10 + digits.get(i).map_or(0, |d| i64::from(d - b'0'))
    });
    instant
        .seconds
        .saturating_mul(1_000_000)
        .saturating_add(fraction)
}

/// The in-process index of one topic's log (the memory store's): sequences by
/// `eventId`, by `eventType`, and `eventTime` keys in log order. Sequences that are
/// no longer in the log (the caller resolves them) are skipped by the caller.
#[derive(Debug, Default)]
pub struct EventIndex {
    by_event_id: HashMap<String, Vec<Seq>>,
    by_event_type: HashMap<String, Vec<Seq>>,
    /// (sequence, eventTime key) in log order: a time range is answered by a walk over
    /// 16-byte entries from a sequence on, not by parsing bodies.
    times: Vec<(Seq, i64)>,
}

impl EventIndex {
    /// Indexes an appended event (sequences come in increasing order).
    pub fn insert(&mut self, seq: Seq, event_id: &str, body: &[u8]) {
        self.by_event_id
            .entry(event_id.to_owned())
            .or_default()
            .push(seq);
        let keys = EventKeys::of(body);
        if let Some(event_type) = keys.event_type {
            self.by_event_type.entry(event_type).or_default().push(seq);
        }
        if let Some(time) = keys.event_time_us {
            self.times.push((seq, time));
        }
    }

    /// Forgets the entries of `removed`, the events of the log up to `up_to` that
    /// retention removed (a prefix: each list loses its front), so that counts and
    /// lookups see only what the log holds, and the index does not outgrow it.
    pub fn forget_through(&mut self, up_to: Seq, removed: &[crate::store::EventRecord]) {
        fn drain(map: &mut HashMap<String, Vec<Seq>>, key: &str, up_to: Seq) {
            if let Some(list) = map.get_mut(key) {
                let gone = list.partition_point(|&seq| seq <= up_to);
                list.drain(..gone);
                if list.is_empty() {
                    map.remove(key);
                }
            }
        }
        let mut event_ids = std::collections::HashSet::new();
        let mut event_types = std::collections::HashSet::new();
        for record in removed {
            if event_ids.insert(record.event_id.as_str()) {
                drain(&mut self.by_event_id, &record.event_id, up_to);
            }
            if let Some(event_type) = EventKeys::of(&record.body).event_type
                && !event_types.contains(&event_type)
            {
                drain(&mut self.by_event_type, &event_type, up_to);
                event_types.insert(event_type);
            }
        }
        let gone = self.times.partition_point(|&(seq, _)| seq <= up_to);
        self.times.drain(..gone);
    }

    /// The sequences of events with `event_id` (any publisher), in log order.
    pub fn event_id(&self, event_id: &str) -> &[Seq] {
        self.by_event_id.get(event_id).map_or(&[], Vec::as_slice)
    }

    /// Up to `max` sequences greater than `after` selected by `key`, in log order.
    pub fn candidates(&self, key: &IndexKey, after: Seq, max: usize) -> Vec<Seq> {
        match key {
            IndexKey::EventId(values) => merge(&self.by_event_id, values, after, max),
            IndexKey::EventType(values) => merge(&self.by_event_type, values, after, max),
            IndexKey::EventTime { from_us, to_us } => {
                let start = self.times.partition_point(|&(seq, _)| seq <= after);
                self.times[start..]
                    .iter()
                    .filter(|&&(_, time)| {
                        from_us.is_none_or(|from| time >= from) && to_us.is_none_or(|to| time <= to)
                    })
                    .map(|&(seq, _)| seq)
                    .take(max)
                    .collect()
            }
        }
    }

    /// How many events `key` selects, when that is known without a walk (`eventId`,
    /// `eventType`).
    pub fn count(&self, key: &IndexKey) -> Option<u64> {
        let sum = |map: &HashMap<String, Vec<Seq>>, values: &[String]| {
            values
                .iter()
                .map(|value| map.get(value).map_or(0, Vec::len) as u64)
                .sum()
        };
        match key {
            IndexKey::EventId(values) => Some(sum(&self.by_event_id, values)),
            IndexKey::EventType(values) => Some(sum(&self.by_event_type, values)),
            IndexKey::EventTime { .. } => None,
        }
    }
}

/// The sequences after `after` of the lists of `values` (distinct values: disjoint
/// lists, each in log order), merged in log order, at most `max`.
fn merge(map: &HashMap<String, Vec<Seq>>, values: &[String], after: Seq, max: usize) -> Vec<Seq> {
    let lists: Vec<&[Seq]> = values
        .iter()
        .filter_map(|value| map.get(value))
        .map(|list| &list[list.partition_point(|&seq| seq <= after)..])
        .collect();
    if let [only] = lists.as_slice() {
        return only.iter().take(max).copied().collect();
    }
    let mut heads = vec![0usize; lists.len()];
    let mut out = Vec::new();
    while out.len() < max {
        let next = lists
            .iter()
            .zip(&heads)
            .enumerate()
            .filter_map(|(i, (list, &head))| list.get(head).map(|&seq| (seq, i)))
            .min();
        let Some((seq, i)) = next else { break };
        heads[i] += 1;
        out.push(seq);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_body() {
        let keys = EventKeys::of(
            br#"{"eventType":"A","eventTime":"2026-01-01T12:30:00.1234567+02:00","x":[1]}"#,
        );
        assert_eq!(keys.event_type.as_deref(), Some("A"));
        let expected = DateTime::parse("2026-01-01T10:30:00.123456Z").unwrap();
        assert_eq!(keys.event_time_us, Some(micros(&expected)));
        assert_eq!(EventKeys::of(br#"{"eventType":1}"#), EventKeys::default());
        assert_eq!(
            EventKeys::of(br#"{"eventType":"a\u0000"}"#).event_type,
            None
        );
        assert_eq!(EventKeys::of(b"[]"), EventKeys::default());
        // Read up to where both keys are known: the payload after them is not parsed.
        let keys = EventKeys::of(
            br#"{"eventTime":"2026-01-01T10:30:00.123456Z","eventType":"A","event":{"#,
        );
        assert_eq!(keys.event_type.as_deref(), Some("A"));
        assert_eq!(keys.event_time_us, Some(micros(&expected)));
        // Keys after the payload are found too.
        let keys = EventKeys::of(br#"{"event":{"eventType":"inner"},"eventType":"B"}"#);
        assert_eq!(keys.event_type.as_deref(), Some("B"));
        let early = DateTime::parse("1969-12-31T23:59:59.5Z").unwrap();
        assert_eq!(micros(&early), -500_000);
    }

    #[test]
    fn candidates_in_log_order_after_a_sequence() {
        let mut index = EventIndex::default();
        for seq in 1..=10u64 {
            let event_type = if seq % 2 == 0 { "even" } else { "odd" };
            let body = format!(
                r#"{{"eventType":"{event_type}","eventTime":"2026-01-01T00:00:{:02}Z"}}"#,
                10 - seq
            );
            index.insert(seq, &format!("e{}", seq % 3), body.as_bytes());
        }
        let types = IndexKey::EventType(vec!["even".into(), "odd".into()]);
        assert_eq!(index.candidates(&types, 3, 4), vec![4, 5, 6, 7]);
        assert_eq!(index.count(&types), Some(10));
        let ids = IndexKey::EventId(vec!["e0".into(), "e1".into()]);
        assert_eq!(index.candidates(&ids, 0, 100), vec![1, 3, 4, 6, 7, 9, 10]);
        let second = 1_767_225_600_000_000;
        let time = IndexKey::EventTime {
            from_us: Some(second + 2_000_000),
            to_us: Some(second + 4_000_000),
        };
        assert_eq!(index.candidates(&time, 0, 100), vec![6, 7, 8]);
        assert_eq!(index.count(&time), None);
    }
}
