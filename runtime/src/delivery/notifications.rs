//! The API's own notifications (TMF630 register-listener pattern, DESIGN §5):
//! `TopicCreateEvent`, `TopicDeleteEvent` and `EventCreateEvent` to the listeners
//! registered with `POST /hub`, through the same delivery engine as the topics' events.
//!
//! * The notifications form one more log: a **reserved topic**,
//!   [`NOTIFICATIONS_TOPIC`], which the API never shows (listed, retrieved, posted to
//!   or subscribed to, it does not exist; its name cannot be taken).
//! * A **listener is a hub of that topic** (its id is the hub's id; `DELETE /hub/{id}`
//!   removes it). So listeners get everything hubs get: their own worker and cursor,
//!   order, at-least-once delivery, retries with backoff, halt/resume/replay and the
//!   status under `/admin/hubs`, the callback allow-list (422 at registration),
//!   outbound authentication and signing per host.
//! * The listener's `query` filters the notifications like a hub's query filters
//!   events, over the notification body: `eventType=TopicCreateEvent`,
//!   `event.event.domain=sales`, ... Need-to-know applies to an `EventCreateEvent` as
//!   to the event it carries.
//! * Each notification is POSTed to `{callback}/listener/{eventType in lowerCamelCase}`
//!   (`.../listener/topicCreateEvent`, the client-side paths of the TMF688
//!   specification, which the generated `listener_router` serves).
//! * **`TopicChangeEvent` is never sent**: no operation of this API changes a topic
//!   (there is no `PATCH /topic/{id}`; topics are created and deleted only).
//! * Notifications are written only while someone listens (a listener registered since
//!   start, or seen in the store within the last second — another replica may have
//!   registered it); a new listener, like a new hub, receives what happens after its
//!   registration. A notification is appended right after the operation that caused
//!   it succeeded; should the store fail in between, it is lost and logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::{Value, json};

use super::status::rfc3339;

/// The id (and name) of the reserved topic holding the notifications.
pub const NOTIFICATIONS_TOPIC: &str = "$notifications";

/// `TopicCreateEvent`.
pub const TOPIC_CREATE: &str = "TopicCreateEvent";
/// `TopicDeleteEvent`.
pub const TOPIC_DELETE: &str = "TopicDeleteEvent";
/// `EventCreateEvent`.
pub const EVENT_CREATE: &str = "EventCreateEvent";

/// Whether `topic` is the reserved notifications topic.
pub fn is_reserved(topic: &str) -> bool {
    topic == NOTIFICATIONS_TOPIC
}

/// Where a notification of `event_type` goes, relative to the listener's callback:
/// `/listener/topicCreateEvent`.
pub fn listener_path(event_type: &str) -> String {
    let mut chars = event_type.chars();
    let first = chars.next().map(|c| c.to_ascii_lowercase());
    let mut path = String::from("/listener/");
    path.extend(first);
    path.extend(chars);
    path
}

/// The listener URL a notification of `event_type` is POSTed to.
pub fn listener_url(callback: &str, event_type: &str) -> String {
    format!(
        "{}{}",
        callback.trim_end_matches('/'),
        listener_path(event_type)
    )
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A notification of `event_type` about `resource`, as stored in the notifications log:
/// (`eventId`, body). `key` names the resource in the payload (`topic`, `event`).
pub fn build(event_type: &str, key: &str, resource: Value) -> (String, Bytes) {
    let now = SystemTime::now();
    let nanos = now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // Unique across restarts and replicas sharing a store (time + process counter +
    // a random part).
    let event_id = format!("{nanos:x}-{n:x}-{:08x}", fastrand::u32(..));
    let body = json!({
        "@type": event_type,
        "eventId": event_id,
        "eventTime": rfc3339(now),
        "eventType": event_type,
        "event": { key: resource },
    });
    (event_id, Bytes::from(body.to_string()))
}

/// The event an `EventCreateEvent` carries (for need-to-know), if `notification` is one.
pub fn carried_event(notification: &Value) -> Option<&Value> {
    (notification.get("eventType").and_then(Value::as_str) == Some(EVENT_CREATE))
        .then(|| notification.get("event")?.get("event"))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_paths_and_bodies() {
        assert_eq!(listener_path(TOPIC_CREATE), "/listener/topicCreateEvent");
        assert_eq!(
            listener_url("http://x/cb/", EVENT_CREATE),
            "http://x/cb/listener/eventCreateEvent"
        );
        let (id, body) = build(TOPIC_DELETE, "topic", json!({"id": "t"}));
        let value: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["eventId"], id.as_str());
        assert_eq!(value["eventType"], TOPIC_DELETE);
        assert_eq!(value["event"]["topic"]["id"], "t");
        let model: tmf688_api::models::TopicDeleteEvent = serde_json::from_value(value).unwrap();
        assert_eq!(model.event.unwrap().topic.unwrap().id.as_deref(), Some("t"));
        assert_ne!(build(TOPIC_CREATE, "topic", json!({})).0, id);
        let (_, body) = build(EVENT_CREATE, "event", json!({"eventId": "e"}));
        let value: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(carried_event(&value).unwrap()["eventId"], "e");
    }
}
