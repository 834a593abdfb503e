//! Example: an implementer filling the generated `tmf688-api` traits with their own
//! logic, without the `tmf688-runtime` crate.
//!
//! `ReadOnlyHub` is a read-only, logging event hub: it lists the profile's topics,
//! has no events and no hubs, refuses every write with a TMF `Error` (405), and logs
//! every call. It also implements the listener trait, so it can be registered as a
//! receiver of another hub's notifications and log what arrives.
//!
//! Run with:
//!
//! ```text
//! cargo run --bin example-logging-impl                # listens on 127.0.0.1:8081
//! curl -s http://127.0.0.1:8081/tmf-api/event/v4/topic
//! curl -s -X POST http://127.0.0.1:8081/tmf-api/event/v4/topic/order/event \
//!      -H 'Content-Type: application/json' -d '{"@type":"X","eventId":"1","event":{}}'   # 405
//! curl -s -X POST http://127.0.0.1:8081/listener/listener/eventCreateEvent \
//!      -H 'Content-Type: application/json' -d '{"eventId":"n-1"}'                        # 201, logged
//! ```

use std::sync::Arc;

use http::StatusCode;
use tmf688_api::models::{
    self, EventCreate, EventCreateEvent, EventSubscription, EventSubscriptionInput, HubCreate,
    Topic, TopicChangeEvent, TopicCreate, TopicCreateEvent, TopicDeleteEvent,
};
use tmf688_api::operations::{
    CreateEventResponse, CreateHubResponse, CreateTopicResponse, DeleteHubResponse,
    DeleteTopicResponse, ListEventQuery, ListEventResponse, ListHubQuery, ListHubResponse,
    ListTopicQuery, ListTopicResponse, ListenToEventCreateEventResponse,
    ListenToTopicChangeEventResponse, ListenToTopicCreateEventResponse,
    ListenToTopicDeleteEventResponse, RegisterListenerResponse, RetrieveEventQuery,
    RetrieveEventResponse, RetrieveHubQuery, RetrieveHubResponse, RetrieveTopicQuery,
    RetrieveTopicResponse, UnregisterListenerResponse,
};
use tmf688_api::profile;
use tmf688_api::server::{
    self, EventApi, EventsSubscriptionApi, HubApi, NotificationListenersClientSideApi,
    RequestContext, TopicApi,
};
use tmf688_api::support::ApiError;
use tmf688_api::support::Projection;

/// A read-only hub that logs every call.
#[derive(Debug, Default)]
struct ReadOnlyHub;

/// The 405 every write gets. Returning `Err(ApiError)` works for any operation; the
/// typed variants (e.g. `CreateEventResponse::MethodNotAllowed`) are the alternative.
fn read_only(ctx: &RequestContext) -> ApiError {
    tracing::warn!(method = %ctx.method, path = %ctx.uri.path(), "write refused: this hub is read-only");
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method Not Allowed",
        "this example hub is read-only",
    )
}

fn topic(ctx: &RequestContext, name: &str) -> Topic {
    Topic {
        id: Some(name.to_owned()),
        href: Some(format!("{}/topic/{name}", ctx.base_path)),
        content_query: None,
        header_query: None,
        name: Some(name.to_owned()),
        at_base_type: None,
        at_schema_location: None,
        at_type: Some("Topic".to_owned()),
        additional_properties: Default::default(),
    }
}

fn known_topic(id: &str) -> Result<(), ApiError> {
    if profile::TOPICS.iter().any(|t| t.name == id) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no topic {id:?}")))
    }
}

impl TopicApi for ReadOnlyHub {
    async fn create_topic(
        &self,
        ctx: RequestContext,
        body: TopicCreate,
    ) -> Result<CreateTopicResponse, ApiError> {
        tracing::info!(name = %body.name, "createTopic");
        Err(read_only(&ctx))
    }

    async fn delete_topic(
        &self,
        ctx: RequestContext,
        id: String,
    ) -> Result<DeleteTopicResponse, ApiError> {
        tracing::info!(%id, "deleteTopic");
        Err(read_only(&ctx))
    }

    async fn list_topic(
        &self,
        ctx: RequestContext,
        query: ListTopicQuery,
    ) -> Result<ListTopicResponse, ApiError> {
        tracing::info!(?query, "listTopic");
        // This implementation ignores `fields=` and always answers whole topics.
        let body: Vec<Projection<Topic>> = profile::TOPICS
            .iter()
            .map(|t| topic(&ctx, t.name).into())
            .collect();
        let n = i64::try_from(body.len()).ok();
        Ok(ListTopicResponse::Ok {
            body,
            x_total_count: n,
            x_result_count: n,
        })
    }

    async fn retrieve_topic(
        &self,
        ctx: RequestContext,
        id: String,
        _query: RetrieveTopicQuery,
    ) -> Result<RetrieveTopicResponse, ApiError> {
        tracing::info!(%id, "retrieveTopic");
        known_topic(&id)?;
        Ok(RetrieveTopicResponse::Ok(topic(&ctx, &id).into()))
    }
}

impl EventApi for ReadOnlyHub {
    async fn create_event(
        &self,
        ctx: RequestContext,
        topic_id: String,
        body: EventCreate,
    ) -> Result<CreateEventResponse, ApiError> {
        tracing::info!(topic = %topic_id, event_id = ?body.event_id, r#type = ?body.at_type, "createEvent");
        // The typed variant, for once, instead of `Err(ApiError)`.
        let error = read_only(&ctx);
        Ok(CreateEventResponse::MethodNotAllowed(models::Error {
            code: error.body.code,
            reason: error.body.reason,
            message: error.body.message,
            status: error.body.status,
            reference_error: None,
            at_base_type: None,
            at_schema_location: None,
            at_type: Some("Error".to_owned()),
            additional_properties: Default::default(),
        }))
    }

    async fn list_event(
        &self,
        _ctx: RequestContext,
        topic_id: String,
        query: ListEventQuery,
    ) -> Result<ListEventResponse, ApiError> {
        tracing::info!(topic = %topic_id, filters = ?query.filters, "listEvent");
        known_topic(&topic_id)?;
        Ok(ListEventResponse::Ok {
            body: Vec::new(),
            x_total_count: Some(0),
            x_result_count: Some(0),
        })
    }

    async fn retrieve_event(
        &self,
        _ctx: RequestContext,
        topic_id: String,
        id: String,
        _query: RetrieveEventQuery,
    ) -> Result<RetrieveEventResponse, ApiError> {
        tracing::info!(topic = %topic_id, %id, "retrieveEvent");
        known_topic(&topic_id)?;
        Err(ApiError::not_found(format!("no event {id:?}")))
    }
}

impl HubApi for ReadOnlyHub {
    async fn create_hub(
        &self,
        ctx: RequestContext,
        topic_id: String,
        body: HubCreate,
    ) -> Result<CreateHubResponse, ApiError> {
        tracing::info!(topic = %topic_id, callback = %body.callback, "createHub");
        Err(read_only(&ctx))
    }

    async fn delete_hub(
        &self,
        ctx: RequestContext,
        topic_id: String,
        id: String,
    ) -> Result<DeleteHubResponse, ApiError> {
        tracing::info!(topic = %topic_id, %id, "deleteHub");
        Err(read_only(&ctx))
    }

    async fn list_hub(
        &self,
        _ctx: RequestContext,
        topic_id: String,
        _query: ListHubQuery,
    ) -> Result<ListHubResponse, ApiError> {
        tracing::info!(topic = %topic_id, "listHub");
        known_topic(&topic_id)?;
        Ok(ListHubResponse::Ok {
            body: Vec::new(),
            x_total_count: Some(0),
            x_result_count: Some(0),
        })
    }

    async fn retrieve_hub(
        &self,
        _ctx: RequestContext,
        topic_id: String,
        id: String,
        _query: RetrieveHubQuery,
    ) -> Result<RetrieveHubResponse, ApiError> {
        tracing::info!(topic = %topic_id, %id, "retrieveHub");
        known_topic(&topic_id)?;
        Err(ApiError::not_found(format!("no hub {id:?}")))
    }
}

impl EventsSubscriptionApi for ReadOnlyHub {
    async fn register_listener(
        &self,
        ctx: RequestContext,
        body: EventSubscriptionInput,
    ) -> Result<RegisterListenerResponse, ApiError> {
        tracing::info!(callback = %body.callback, "registerListener");
        Err(read_only(&ctx))
    }

    async fn unregister_listener(
        &self,
        ctx: RequestContext,
        id: String,
    ) -> Result<UnregisterListenerResponse, ApiError> {
        tracing::info!(%id, "unregisterListener");
        Err(read_only(&ctx))
    }
}

fn received(ctx: &RequestContext, kind: &str, event_id: Option<&str>) -> EventSubscription {
    tracing::info!(
        kind,
        event_id = event_id.unwrap_or("-"),
        "notification received"
    );
    EventSubscription {
        id: event_id.unwrap_or_default().to_owned(),
        callback: ctx.uri.path().to_owned(),
        query: None,
        additional_properties: Default::default(),
    }
}

impl NotificationListenersClientSideApi for ReadOnlyHub {
    async fn listen_to_event_create_event(
        &self,
        ctx: RequestContext,
        body: EventCreateEvent,
    ) -> Result<ListenToEventCreateEventResponse, ApiError> {
        Ok(ListenToEventCreateEventResponse::Created(received(
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
        Ok(ListenToTopicChangeEventResponse::Created(received(
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
        Ok(ListenToTopicCreateEventResponse::Created(received(
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
        Ok(ListenToTopicDeleteEventResponse::Created(received(
            &ctx,
            "TopicDeleteEvent",
            body.event_id.as_deref(),
        )))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let hub = Arc::new(ReadOnlyHub);
    // The provider API under the TMF688 base path, the listener API apart under
    // `/listener` — the generated crate keeps the two routers separate.
    let app = axum::Router::new()
        .nest(
            tmf688_api::client::BASE_PATH,
            server::router(Arc::clone(&hub)),
        )
        .nest("/listener", server::listener_router(hub))
        .fallback(tmf688_api::support::not_found);
    let addr = std::env::var("LOGGING_IMPL_LISTEN").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(
        "read-only logging hub on http://{addr}{}",
        tmf688_api::client::BASE_PATH
    );
    axum::serve(listener, app).await?;
    Ok(())
}
