//! `Event_Create` requires `@type`, `event` and `eventId`.
use tmf688_api::models::EventCreate;

fn main() {
    let _ = EventCreate { event: serde_json::json!({}) };
}
