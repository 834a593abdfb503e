//! What each operation would hand to the store, checked before it does: one call per
//! entry point, the rules in [`crate::limits`] (400 for a value to store, 404 for a
//! path id that cannot exist). Topic ids in paths are checked by
//! [`visible`](super::errors::visible), which every topic-scoped operation calls first.

use tmf688_api::models::{EventCreate, EventSubscriptionInput, HubCreate, TopicCreate};
use tmf688_api::server::RequestContext;
use tmf688_api::support::{ApiError, Uri};

use crate::limits::{self, CALLBACK, EVENT_ID, OWNER, QUERY, TOPIC_NAME};

use super::access::principal;

/// `createEvent`'s body: its `eventId` and `@type`, where present (on the PSI base
/// paths neither is mandatory; the generated handler refuses their absence elsewhere).
pub(super) fn new_event(body: &EventCreate) -> Result<(), ApiError> {
    if let Some(event_id) = &body.event_id {
        EVENT_ID.field(event_id)?;
        if event_id.trim().is_empty() {
            return Err(ApiError::bad_request("`eventId` must not be empty"));
        }
    }
    if body.at_type.as_ref().is_some_and(|t| t.trim().is_empty()) {
        return Err(ApiError::bad_request("`@type` must not be empty"));
    }
    Ok(())
}

/// `createTopic`'s body: its `name`.
pub(super) fn new_topic(body: &TopicCreate) -> Result<(), ApiError> {
    TOPIC_NAME.field(&body.name)
}

/// `createHub`'s body (`callback`, `query`) and its owner.
pub(super) fn new_hub(ctx: &RequestContext, body: &HubCreate) -> Result<(), ApiError> {
    subscription(ctx, body.callback.as_str(), body.query.as_deref())
}

/// `registerListener`'s body (`callback`, `query`) and its owner.
pub(super) fn new_listener(
    ctx: &RequestContext,
    body: &EventSubscriptionInput,
) -> Result<(), ApiError> {
    subscription(ctx, &body.callback, body.query.as_deref())
}

fn subscription(ctx: &RequestContext, callback: &str, query: Option<&str>) -> Result<(), ApiError> {
    CALLBACK.field(callback)?;
    // A hub's is a `Uri` already (`format: uri`); a listener's is held to the same.
    Uri::parse(callback)
        .map_err(|error| ApiError::bad_request(format!("`callback` is not valid: {error}")))?;
    if let Some(query) = query {
        QUERY.field(query)?;
    }
    if let Some(caller) = principal(ctx) {
        OWNER.field(&caller.name)?;
    }
    Ok(())
}

/// An event, hub or listener id in a path (`kind`: `event`, `hub`, `listener`).
pub(super) fn path_id(kind: &str, id: &str) -> Result<(), ApiError> {
    limits::path_id(kind, id)
}
