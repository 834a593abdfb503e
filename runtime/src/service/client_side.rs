//! [`NotificationListenersClientSideApi`]: the hub on the receiving side of another
//! hub's API notifications (acknowledges and logs them).

use serde_json::Map;
use tmf688_api::models::{
    EventCreateEvent, EventSubscription, TopicChangeEvent, TopicCreateEvent, TopicDeleteEvent,
};
use tmf688_api::operations::{
    ListenToEventCreateEventResponse, ListenToTopicChangeEventResponse,
    ListenToTopicCreateEventResponse, ListenToTopicDeleteEventResponse,
};
use tmf688_api::server::{NotificationListenersClientSideApi, RequestContext};
use tmf688_api::support::ApiError;

use crate::store::Store;

use super::Hub688;

/// The acknowledgement of a received notification.
fn acknowledge(ctx: &RequestContext, kind: &str, id: Option<&str>) -> EventSubscription {
    tracing::info!(kind, id = id.unwrap_or("-"), path = %ctx.uri.path(), "notification received");
    EventSubscription {
        id: id.unwrap_or_default().to_owned(),
        callback: ctx.uri.path().to_owned(),
        query: None,
        additional_properties: Map::new(),
    }
}

/// The hub as a listener of another hub's API notifications: acknowledges and logs.
/// Served only where mounted explicitly ([`crate::listener_app`]).
impl<S: Store> NotificationListenersClientSideApi for Hub688<S> {
    async fn listen_to_event_create_event(
        &self,
        ctx: RequestContext,
        body: EventCreateEvent,
    ) -> Result<ListenToEventCreateEventResponse, ApiError> {
        Ok(ListenToEventCreateEventResponse::Created(acknowledge(
            &ctx,
            "EventCreateEvent",
            body.event_id.as_deref(),
        )))
    }

    async fn listen_to_topic_change_event(
        &self,
        ctx: RequestContext,
        body: TopicChangeEvent,
    ) -> Result<ListenToTopicChangeEventResponse, ApiError> {
        Ok(ListenToTopicChangeEventResponse::Created(acknowledge(
            &ctx,
            "TopicChangeEvent",
            body.event_id.as_deref(),
        )))
    }

    async fn listen_to_topic_create_event(
        &self,
        ctx: RequestContext,
        body: TopicCreateEvent,
    ) -> Result<ListenToTopicCreateEventResponse, ApiError> {
        Ok(ListenToTopicCreateEventResponse::Created(acknowledge(
            &ctx,
            "TopicCreateEvent",
            body.event_id.as_deref(),
        )))
    }

    async fn listen_to_topic_delete_event(
        &self,
        ctx: RequestContext,
        body: TopicDeleteEvent,
    ) -> Result<ListenToTopicDeleteEventResponse, ApiError> {
        Ok(ListenToTopicDeleteEventResponse::Created(acknowledge(
            &ctx,
            "TopicDeleteEvent",
            body.event_id.as_deref(),
        )))
    }
}
