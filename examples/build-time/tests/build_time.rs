//! The API generated at build time is the checked-in one: same document, same profile,
//! and its listener router serves typed notifications over a real loopback socket.

use std::sync::{Arc, Mutex};

use example_build_time::{models, operations, profile, server};
use server::{ApiError, NotificationListenersClientSideApi, RequestContext};

#[test]
fn same_document_and_profile_as_the_checked_in_crate() {
    assert_eq!(example_build_time::OPENAPI_JSON, tmf688_api::OPENAPI_JSON);
    let paths = |list: &[(&str, &[&str])]| {
        list.iter()
            .map(|(p, o)| (p.to_string(), o.len()))
            .collect::<Vec<_>>()
    };
    let ours: Vec<_> = profile::BASE_PATHS
        .iter()
        .map(|b| (b.path, b.operations))
        .collect();
    let theirs: Vec<_> = tmf688_api::profile::BASE_PATHS
        .iter()
        .map(|b| (b.path, b.operations))
        .collect();
    assert_eq!(paths(&ours), paths(&theirs));
}

/// Records the eventIds it is notified of.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

fn subscription() -> models::EventSubscription {
    models::EventSubscription::new("1".into(), "http://127.0.0.1/listener".into())
}

impl NotificationListenersClientSideApi for Recorder {
    async fn listen_to_event_create_event(
        &self,
        _: RequestContext,
        body: models::EventCreateEvent,
    ) -> Result<operations::ListenToEventCreateEventResponse, ApiError> {
        self.0
            .lock()
            .unwrap()
            .push(body.event_id.unwrap_or_default());
        Ok(operations::ListenToEventCreateEventResponse::Created(
            subscription(),
        ))
    }
    async fn listen_to_topic_change_event(
        &self,
        _: RequestContext,
        _: models::TopicChangeEvent,
    ) -> Result<operations::ListenToTopicChangeEventResponse, ApiError> {
        Err(ApiError::bad_request("not expected"))
    }
    async fn listen_to_topic_create_event(
        &self,
        _: RequestContext,
        _: models::TopicCreateEvent,
    ) -> Result<operations::ListenToTopicCreateEventResponse, ApiError> {
        Err(ApiError::bad_request("not expected"))
    }
    async fn listen_to_topic_delete_event(
        &self,
        _: RequestContext,
        _: models::TopicDeleteEvent,
    ) -> Result<operations::ListenToTopicDeleteEventResponse, ApiError> {
        Err(ApiError::bad_request("not expected"))
    }
}

#[tokio::test]
async fn the_generated_listener_router_serves_typed_notifications() {
    let recorder = Arc::new(Recorder::default());
    let app = server::listener_router(recorder.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/listener/eventCreateEvent",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let http = reqwest::Client::new();
    let sent = http
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"eventId": "n-1", "eventType": "EventCreateEvent", "event": {}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    assert_eq!(*recorder.0.lock().unwrap(), ["n-1"]);

    // What the framework refuses is a TMF Error body, as in the checked-in crate.
    let bad = http
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(&bad.bytes().await.unwrap()).unwrap();
    assert_eq!(body["@type"], "Error");
}
