//! Which events a hub qualifies for (PSI-01-02-03-03/05): its topic (one worker
//! reads one topic's log), the hub's `query`, the topic's `headerQuery` and
//! `contentQuery`. The need-to-know policy (PSI-01-02-03-04), which every read path
//! applies too, is [`crate::access`].
//!
//! * Hub `query`: the TMF630 filter of [`crate::query::Filter`] over the event —
//!   a conjunction of `path=value`, dot-notation into the event
//!   (`event.productOrder.state=completed`), a list matches if any element does, plus
//!   the operators (`.gt`, `.ne`, ...) and comma alternatives.
//! * Topic `headerQuery`: the same language over the event's header (every attribute
//!   but `event`); topic `contentQuery`: over the payload (`event`), paths relative to
//!   it. Both apply to every hub of the topic. A topic query that does not parse is
//!   ignored with a warning (it was accepted at topic creation).
//! * Attribute types come from the schema ([`Schema`]): `eventTime`, `timeOccurred`
//!   and the date-times of the topic's payload type compare as instants, numbers on
//!   their exact value (see [`crate::query`]).

use serde_json::Value;

use super::notifications::NOTIFICATIONS_TOPIC;
use crate::query::{Filter, Schema};

/// The filters of one hub.
#[derive(Clone, Debug, Default)]
pub struct HubFilter {
    query: Filter,
    header: Filter,
    content: Filter,
}

fn parse(what: &str, query: Option<&str>, schema: &Schema) -> Filter {
    match query.map(str::trim).filter(|q| !q.is_empty()) {
        None => Filter::default(),
        Some(text) => Filter::parse_query_string(text, schema).unwrap_or_else(|error| {
            tracing::warn!(what, query = text, error = %error.message(), "filter ignored: it does not parse");
            Filter::default()
        }),
    }
}

impl HubFilter {
    /// The filters of a hub (`query`) on `topic` (`headerQuery`, `contentQuery`).
    pub fn new(
        topic: &str,
        hub_query: Option<&str>,
        header_query: Option<&str>,
        content_query: Option<&str>,
    ) -> Self {
        let events = if topic == NOTIFICATIONS_TOPIC {
            Schema::notifications()
        } else {
            Schema::event(topic)
        };
        Self {
            query: parse("hub query", hub_query, &events),
            header: parse("topic headerQuery", header_query, &events),
            content: parse("topic contentQuery", content_query, &Schema::payload(topic)),
        }
    }

    /// Whether every event passes (no need to parse them).
    pub fn is_empty(&self) -> bool {
        self.query.is_empty() && self.header.is_empty() && self.content.is_empty()
    }

    /// Whether `event` (the stored TMF688 Event as JSON) passes every filter.
    pub fn matches(&self, event: &Value) -> bool {
        if !self.query.matches(event) {
            return false;
        }
        if !self.header.is_empty() {
            let mut header = event.clone();
            if let Value::Object(map) = &mut header {
                map.remove("event");
            }
            if !self.header.matches(&header) {
                return false;
            }
        }
        self.content.is_empty()
            || self
                .content
                .matches(event.get("event").unwrap_or(&Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn hub_and_topic_queries() {
        let event = json!({"eventType": "ProductOrderStateChangeEvent", "domain": "sales",
            "event": {"productOrder": {"state": "completed", "item": [{"id": "1"}, {"id": "2"}]}}});
        let f = HubFilter::new(
            "order",
            Some("eventType=ProductOrderStateChangeEvent&event.productOrder.item.id=2"),
            None,
            None,
        );
        assert!(f.matches(&event));
        let f = HubFilter::new(
            "order",
            Some("event.productOrder.state=cancelled"),
            None,
            None,
        );
        assert!(!f.matches(&event));
        let f = HubFilter::new(
            "order",
            None,
            Some("domain=sales"),
            Some("productOrder.state=completed"),
        );
        assert!(f.matches(&event));
        let f = HubFilter::new(
            "order",
            None,
            Some("event.productOrder.state=completed"),
            None,
        );
        assert!(
            !f.matches(&event),
            "the header query does not see the payload"
        );
        let f = HubFilter::new("order", None, None, Some("productOrder.state=held"));
        assert!(!f.matches(&event));
        assert!(HubFilter::new("order", None, Some("a[zz]=1"), None).is_empty());
    }
}
