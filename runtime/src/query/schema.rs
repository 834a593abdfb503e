//! Which attributes a filter compares as instants: those the API's schema types
//! `format: date-time` (never guessed from how a value looks: a string attribute that
//! merely resembles a date compares as text).
//!
//! The schemas are the generated crate's embedded OpenAPI document
//! ([`tmf688_api::OPENAPI_JSON`], the profile's payload schemas bundled in it): an
//! event's own attributes (`Event`: `eventTime`, `timeOccurred`), and on a topic the
//! profile types, its payload's (`event.alarmRaisedTime` on `alarm`, also under the
//! resource name, `event.alarm.alarmRaisedTime`, the other placement the profile
//! accepts). References, `allOf`/`oneOf`/`anyOf` and arrays (whose items a path reaches
//! through, as filters do) are followed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use tmf688_api::profile;

/// The date-time attribute paths of a resource (dot-joined).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    date_times: HashSet<String>,
}

/// How deep into nested objects paths are collected.
const MAX_DEPTH: usize = 8;

fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| serde_json::from_str(tmf688_api::OPENAPI_JSON).unwrap_or_default())
}

fn named(name: &str) -> Option<&'static Value> {
    document().pointer(&format!("/components/schemas/{name}"))
}

impl Schema {
    /// No typed attribute: every value compares by its JSON type.
    pub fn untyped() -> Arc<Self> {
        static UNTYPED: OnceLock<Arc<Schema>> = OnceLock::new();
        UNTYPED.get_or_init(Arc::default).clone()
    }

    /// The components schema `name` (e.g. `Topic`, `Hub`).
    pub fn of(name: &str) -> Self {
        let mut schema = Self::default();
        if let Some(root) = named(name) {
            schema.collect(root, "", &mut Vec::new());
        }
        schema
    }

    /// An event of `topic`: the `Event` schema, and the payload type the profile gives
    /// the topic (if any) under `event`.
    pub fn event(topic: &str) -> Arc<Self> {
        static CACHE: OnceLock<HashMap<&'static str, Arc<Schema>>> = OnceLock::new();
        static PLAIN: OnceLock<Arc<Schema>> = OnceLock::new();
        let by_topic = CACHE.get_or_init(|| {
            profile::TOPICS
                .iter()
                .map(|topic| {
                    let mut schema = Self::of("Event");
                    schema.add_payload(topic.payload_type, "event.");
                    (topic.name, Arc::new(schema))
                })
                .collect()
        });
        by_topic
            .get(topic)
            .cloned()
            .unwrap_or_else(|| PLAIN.get_or_init(|| Arc::new(Self::of("Event"))).clone())
    }

    /// The payload (`event`) of an event of `topic`, paths relative to it (a topic's
    /// `contentQuery`).
    pub fn payload(topic: &str) -> Self {
        let mut schema = Self::default();
        if let Some(payload) = profile::TOPICS.iter().find(|t| t.name == topic) {
            schema.add_payload(payload.payload_type, "");
        }
        schema
    }

    /// The API's own notifications (`TopicCreateEvent`, `EventCreateEvent`, ...).
    pub fn notifications() -> Arc<Self> {
        static NOTIFICATIONS: OnceLock<Arc<Schema>> = OnceLock::new();
        NOTIFICATIONS
            .get_or_init(|| {
                let mut schema = Self::default();
                for name in [
                    "EventCreateEvent",
                    "TopicCreateEvent",
                    "TopicChangeEvent",
                    "TopicDeleteEvent",
                ] {
                    schema.date_times.extend(Self::of(name).date_times);
                }
                Arc::new(schema)
            })
            .clone()
    }

    /// Whether the attribute at `path` is typed `format: date-time`.
    pub fn is_date_time(&self, path: &[String]) -> bool {
        !self.date_times.is_empty() && self.date_times.contains(&path.join("."))
    }

    /// The payload type at `prefix` and under its resource name (`ProductOrder` →
    /// `productOrder`), the two placements [`profile::TopicPayload`] accepts.
    fn add_payload(&mut self, payload_type: &str, prefix: &str) {
        let Some(root) = named(payload_type) else {
            return;
        };
        let mut chars = payload_type.chars();
        let wrapper: String = chars
            .next()
            .map(|first| first.to_lowercase().chain(chars).collect())
            .unwrap_or_default();
        self.collect(root, prefix, &mut Vec::new());
        self.collect(root, &format!("{prefix}{wrapper}."), &mut Vec::new());
    }

    /// Adds the date-time paths of `schema` under `prefix`; `stack` holds the
    /// references being followed (no cycles).
    fn collect(&mut self, schema: &'static Value, prefix: &str, stack: &mut Vec<&'static str>) {
        if stack.len() > MAX_DEPTH {
            return;
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap_or_default();
            if stack.contains(&name) {
                return;
            }
            if let Some(target) = named(name) {
                stack.push(name);
                self.collect(target, prefix, stack);
                stack.pop();
            }
            return;
        }
        for combinator in ["allOf", "oneOf", "anyOf"] {
            for part in schema
                .get(combinator)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.collect(part, prefix, stack);
            }
        }
        if let Some(items) = schema.get("items") {
            self.collect(items, prefix, stack);
        }
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (name, property) in properties {
            let path = format!("{prefix}{name}");
            if is_date_time(property) {
                self.date_times.insert(path.clone());
            }
            self.collect(property, &format!("{path}."), stack);
        }
    }
}

/// `format: date-time`, directly, through a reference, or on array items.
fn is_date_time(schema: &'static Value) -> bool {
    if schema.get("format").and_then(Value::as_str) == Some("date-time") {
        return true;
    }
    if let Some(items) = schema.get("items") {
        return is_date_time(items);
    }
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => named(reference.rsplit('/').next().unwrap_or_default())
            .is_some_and(|target| target.get("$ref").is_none() && is_date_time(target)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<String> {
        text.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn date_times_come_from_the_schema() {
        let alarm = Schema::event("alarm");
        for typed in [
            "eventTime",
            "timeOccurred",
            "event.alarmRaisedTime",
            "event.alarm.alarmRaisedTime",
        ] {
            assert!(alarm.is_date_time(&path(typed)), "{typed}");
        }
        for untyped in ["eventType", "event.alarmType", "event", "description"] {
            assert!(!alarm.is_date_time(&path(untyped)), "{untyped}");
        }
        let order = Schema::event("order");
        assert!(order.is_date_time(&path("event.orderDate")));
        assert!(!order.is_date_time(&path("event.alarmRaisedTime")));
        let custom = Schema::event("billing");
        assert!(custom.is_date_time(&path("eventTime")));
        assert!(!custom.is_date_time(&path("event.orderDate")));
        assert!(Schema::payload("alarm").is_date_time(&path("alarmRaisedTime")));
        assert!(Schema::notifications().is_date_time(&path("eventTime")));
    }
}
