//! Which events a hub qualifies for (PSI-01-02-03-03/04/05): its topic (one worker
//! reads one topic's log), the hub's `query`, the topic's `headerQuery` and
//! `contentQuery`, and the need-to-know policy.
//!
//! * Hub `query`: the TMF630 filter of [`crate::query::Filter`] over the event —
//!   a conjunction of `path=value`, dot-notation into the event
//!   (`event.productOrder.state=completed`), a list matches if any element does, plus
//!   the operators (`.gt`, `.ne`, ...) and comma alternatives.
//! * Topic `headerQuery`: the same language over the event's header (every attribute
//!   but `event`); topic `contentQuery`: over the payload (`event`), paths relative to
//!   it. Both apply to every hub of the topic. A topic query that does not parse is
//!   ignored with a warning (it was accepted at topic creation).

use std::fmt::Debug;

use serde_json::Value;

use crate::query::Filter;
use crate::store::HubRecord;

/// The filters of one hub.
#[derive(Clone, Debug, Default)]
pub struct HubFilter {
    query: Filter,
    header: Filter,
    content: Filter,
}

fn parse(what: &str, query: Option<&str>) -> Filter {
    match query.map(str::trim).filter(|q| !q.is_empty()) {
        None => Filter::default(),
        Some(text) => Filter::parse_query_string(text).unwrap_or_else(|error| {
            tracing::warn!(what, query = text, error = %error.message(), "filter ignored: it does not parse");
            Filter::default()
        }),
    }
}

impl HubFilter {
    /// The filters of a hub (`query`) on a topic (`headerQuery`, `contentQuery`).
    pub fn new(
        hub_query: Option<&str>,
        header_query: Option<&str>,
        content_query: Option<&str>,
    ) -> Self {
        Self {
            query: parse("hub query", hub_query),
            header: parse("topic headerQuery", header_query),
            content: parse("topic contentQuery", content_query),
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

/// The need-to-know policy (PSI-01-02-03-04): may `hub` receive `event`?
pub trait NeedToKnow: Send + Sync + Debug + 'static {
    /// Whether the policy needs the event parsed for this hub (else `allows` is not
    /// called and the hub gets the event).
    fn applies_to(&self, hub: &HubRecord) -> bool;
    /// Whether `hub` may receive `event` (the stored TMF688 Event as JSON).
    fn allows(&self, hub: &HubRecord, event: &Value) -> bool;
}

/// The default policy: when an event names related parties, only hubs whose owner is
/// one of them (by party `id`) receive it. Events naming no party go to every hub;
/// hubs without an owner (registered while inbound authentication is off, so there is
/// no identity to compare) are not restricted.
///
/// Related parties are looked for in the event's `relatedParty`, and in the
/// `relatedParty` of the payload's resources (`event.relatedParty`,
/// `event.<resource>.relatedParty`), each as `id` or `partyOrPartyRole.id`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RelatedPartiesPolicy;

impl NeedToKnow for RelatedPartiesPolicy {
    fn applies_to(&self, hub: &HubRecord) -> bool {
        hub.owner.is_some()
    }

    fn allows(&self, hub: &HubRecord, event: &Value) -> bool {
        let Some(owner) = hub.owner.as_deref() else {
            return true;
        };
        let parties = related_party_ids(event);
        parties.is_empty() || parties.contains(&owner)
    }
}

/// No need-to-know restriction (configuration `need_to_know = false`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Unrestricted;

impl NeedToKnow for Unrestricted {
    fn applies_to(&self, _hub: &HubRecord) -> bool {
        false
    }

    fn allows(&self, _hub: &HubRecord, _event: &Value) -> bool {
        true
    }
}

/// The ids of the parties an event names (see [`RelatedPartiesPolicy`]).
pub fn related_party_ids<'a>(event: &'a Value) -> Vec<&'a str> {
    let mut ids = Vec::new();
    let mut collect = |holder: &'a Value| {
        if let Some(Value::Array(parties)) = holder.get("relatedParty") {
            for party in parties {
                let id = party.get("id").or_else(|| {
                    party
                        .get("partyOrPartyRole")
                        .and_then(|inner| inner.get("id"))
                });
                if let Some(Value::String(id)) = id {
                    ids.push(id.as_str());
                }
            }
        }
    };
    collect(event);
    if let Some(payload) = event.get("event") {
        collect(payload);
        if let Value::Object(resources) = payload {
            for resource in resources.values() {
                collect(resource);
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde_json::json;

    use super::*;
    use crate::store::HubState;

    fn hub(owner: Option<&str>) -> HubRecord {
        HubRecord {
            id: "h".into(),
            topic_id: "order".into(),
            callback: "http://127.0.0.1/".into(),
            query: None,
            body: Bytes::new(),
            cursor: 0,
            state: HubState::Active,
            owner: owner.map(str::to_owned),
            base_path: None,
            attempts: 0,
            last_error: None,
            epoch: 0,
            holder: None,
        }
    }

    #[test]
    fn hub_and_topic_queries() {
        let event = json!({"eventType": "ProductOrderStateChangeEvent", "domain": "sales",
            "event": {"productOrder": {"state": "completed", "item": [{"id": "1"}, {"id": "2"}]}}});
        let f = HubFilter::new(
            Some("eventType=ProductOrderStateChangeEvent&event.productOrder.item.id=2"),
            None,
            None,
        );
        assert!(f.matches(&event));
        let f = HubFilter::new(Some("event.productOrder.state=cancelled"), None, None);
        assert!(!f.matches(&event));
        let f = HubFilter::new(
            None,
            Some("domain=sales"),
            Some("productOrder.state=completed"),
        );
        assert!(f.matches(&event));
        let f = HubFilter::new(None, Some("event.productOrder.state=completed"), None);
        assert!(
            !f.matches(&event),
            "the header query does not see the payload"
        );
        let f = HubFilter::new(None, None, Some("productOrder.state=held"));
        assert!(!f.matches(&event));
        assert!(HubFilter::new(None, Some("a[zz]=1"), None).is_empty());
    }

    #[test]
    fn need_to_know() {
        let policy = RelatedPartiesPolicy;
        let named = json!({"event": {"productOrder": {"relatedParty": [{"id": "acme"}, {"partyOrPartyRole": {"id": "globex"}}]}}});
        let anonymous = json!({"event": {"productOrder": {}}});
        assert!(policy.allows(&hub(Some("acme")), &named));
        assert!(policy.allows(&hub(Some("globex")), &named));
        assert!(!policy.allows(&hub(Some("initech")), &named));
        assert!(policy.allows(&hub(Some("initech")), &anonymous));
        assert!(!policy.applies_to(&hub(None)));
        assert!(policy.allows(&hub(None), &named));
        let top = json!({"relatedParty": [{"id": "x"}], "event": {}});
        assert_eq!(related_party_ids(&top), vec!["x"]);
    }
}
