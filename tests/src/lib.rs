//! Test support shared by the integration tests and the trybuild cases.
//!
//! [`Unimplemented`] implements every generated handler trait by answering 501: it
//! proves the traits can be implemented and mounted, and lets tests exercise what the
//! generated router answers *before* a handler runs (bad JSON, unknown paths, wrong
//! methods and media types), which must be TMF `Error` bodies.

use std::net::SocketAddr;

use tmf688_api::models;
use tmf688_api::operations::*;
use tmf688_api::server::{
    ApiError, EventApi, EventsSubscriptionApi, HubApi, NotificationListenersClientSideApi,
    RequestContext, TopicApi,
};

/// Answers every operation with 501 Not Implemented, naming the path arguments it got.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unimplemented;

/// 501, the message naming the operation and the path arguments as the router decoded
/// them (a JSON array after "with"), so tests can check what arrived.
fn not_implemented<T>(operation: &str, path: &[&String]) -> Result<T, ApiError> {
    let path = serde_json::to_string(path).unwrap_or_default();
    Err(ApiError::new(
        axum::http::StatusCode::NOT_IMPLEMENTED,
        "Not Implemented",
        format!("{operation} reached the handler with {path}"),
    ))
}

impl EventApi for Unimplemented {
    async fn create_event(
        &self,
        _: RequestContext,
        id0: String,
        _: models::EventCreate,
    ) -> Result<CreateEventResponse, ApiError> {
        not_implemented("createEvent", &[&id0])
    }
    async fn list_event(
        &self,
        _: RequestContext,
        id0: String,
        _: ListEventQuery,
    ) -> Result<ListEventResponse, ApiError> {
        not_implemented("listEvent", &[&id0])
    }
    async fn retrieve_event(
        &self,
        _: RequestContext,
        id0: String,
        id1: String,
        _: RetrieveEventQuery,
    ) -> Result<RetrieveEventResponse, ApiError> {
        not_implemented("retrieveEvent", &[&id0, &id1])
    }
}

impl EventsSubscriptionApi for Unimplemented {
    async fn register_listener(
        &self,
        _: RequestContext,
        _: models::EventSubscriptionInput,
    ) -> Result<RegisterListenerResponse, ApiError> {
        not_implemented("registerListener", &[])
    }
    async fn unregister_listener(
        &self,
        _: RequestContext,
        id0: String,
    ) -> Result<UnregisterListenerResponse, ApiError> {
        not_implemented("unregisterListener", &[&id0])
    }
}

impl HubApi for Unimplemented {
    async fn create_hub(
        &self,
        _: RequestContext,
        id0: String,
        _: models::HubCreate,
    ) -> Result<CreateHubResponse, ApiError> {
        not_implemented("createHub", &[&id0])
    }
    async fn delete_hub(
        &self,
        _: RequestContext,
        id0: String,
        id1: String,
    ) -> Result<DeleteHubResponse, ApiError> {
        not_implemented("deleteHub", &[&id0, &id1])
    }
    async fn list_hub(
        &self,
        _: RequestContext,
        id0: String,
        _: ListHubQuery,
    ) -> Result<ListHubResponse, ApiError> {
        not_implemented("listHub", &[&id0])
    }
    async fn retrieve_hub(
        &self,
        _: RequestContext,
        id0: String,
        id1: String,
        _: RetrieveHubQuery,
    ) -> Result<RetrieveHubResponse, ApiError> {
        not_implemented("retrieveHub", &[&id0, &id1])
    }
}

impl TopicApi for Unimplemented {
    async fn create_topic(
        &self,
        _: RequestContext,
        _: models::TopicCreate,
    ) -> Result<CreateTopicResponse, ApiError> {
        not_implemented("createTopic", &[])
    }
    async fn delete_topic(
        &self,
        _: RequestContext,
        id0: String,
    ) -> Result<DeleteTopicResponse, ApiError> {
        not_implemented("deleteTopic", &[&id0])
    }
    async fn list_topic(
        &self,
        _: RequestContext,
        _: ListTopicQuery,
    ) -> Result<ListTopicResponse, ApiError> {
        not_implemented("listTopic", &[])
    }
    async fn retrieve_topic(
        &self,
        _: RequestContext,
        id0: String,
        _: RetrieveTopicQuery,
    ) -> Result<RetrieveTopicResponse, ApiError> {
        not_implemented("retrieveTopic", &[&id0])
    }
}

impl NotificationListenersClientSideApi for Unimplemented {
    async fn listen_to_event_create_event(
        &self,
        _: RequestContext,
        _: models::EventCreateEvent,
    ) -> Result<ListenToEventCreateEventResponse, ApiError> {
        not_implemented("listenToEventCreateEvent", &[])
    }
    async fn listen_to_topic_change_event(
        &self,
        _: RequestContext,
        _: models::TopicChangeEvent,
    ) -> Result<ListenToTopicChangeEventResponse, ApiError> {
        not_implemented("listenToTopicChangeEvent", &[])
    }
    async fn listen_to_topic_create_event(
        &self,
        _: RequestContext,
        _: models::TopicCreateEvent,
    ) -> Result<ListenToTopicCreateEventResponse, ApiError> {
        not_implemented("listenToTopicCreateEvent", &[])
    }
    async fn listen_to_topic_delete_event(
        &self,
        _: RequestContext,
        _: models::TopicDeleteEvent,
    ) -> Result<ListenToTopicDeleteEventResponse, ApiError> {
        not_implemented("listenToTopicDeleteEvent", &[])
    }
}

/// Serves `router` on a fresh loopback port; returns its address.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("bound address");
    tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("test server runs")
    });
    address
}
