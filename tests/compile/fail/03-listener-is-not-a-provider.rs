//! A type implementing only the listener side cannot serve the provider API.
use std::sync::Arc;

use tmf688_api::models;
use tmf688_api::operations::*;
use tmf688_api::server::{self, ApiError, NotificationListenersClientSideApi, RequestContext};

struct Listener;

impl NotificationListenersClientSideApi for Listener {
    async fn listen_to_event_create_event(&self, _: RequestContext, _: models::EventCreateEvent) -> Result<ListenToEventCreateEventResponse, ApiError> {
        Err(ApiError::bad_request("no"))
    }
    async fn listen_to_topic_change_event(&self, _: RequestContext, _: models::TopicChangeEvent) -> Result<ListenToTopicChangeEventResponse, ApiError> {
        Err(ApiError::bad_request("no"))
    }
    async fn listen_to_topic_create_event(&self, _: RequestContext, _: models::TopicCreateEvent) -> Result<ListenToTopicCreateEventResponse, ApiError> {
        Err(ApiError::bad_request("no"))
    }
    async fn listen_to_topic_delete_event(&self, _: RequestContext, _: models::TopicDeleteEvent) -> Result<ListenToTopicDeleteEventResponse, ApiError> {
        Err(ApiError::bad_request("no"))
    }
}

fn main() {
    let _listener = server::listener_router(Arc::new(Listener));
    let _provider = server::router(Arc::new(Listener));
}
