//! The generated router over real HTTP: failures the framework detects before a
//! handler runs are TMF `Error` bodies with the right 4xx status — never axum's
//! plain-text 422 — and well-formed requests reach the handler.

use std::sync::Arc;

use serde_json::{Value, json};
use tmf688_api::server;
use tmf688_tests::{Unimplemented, serve};

async fn base() -> String {
    let api = Arc::new(Unimplemented);
    let app = axum::Router::new()
        .nest("/tmf-api/event/v4", server::router(api.clone()))
        .nest("/listener", server::listener_router(api));
    format!("http://{}", serve(app).await)
}

async fn tmf_error(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], json!(status.to_string()), "{body}");
    assert!(
        body["reason"].is_string() && body["code"].is_string(),
        "{body}"
    );
    body
}

#[tokio::test]
async fn framework_failures_are_tmf_errors() {
    let base = base().await;
    let http = reqwest::Client::new();
    let url = format!("{base}/tmf-api/event/v4/topic/order/event");

    let bad_json = http
        .post(&url)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    tmf_error(bad_json, 400).await;

    let missing = http
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"@type": "Event", "event": {}}"#)
        .send()
        .await
        .unwrap();
    let body = tmf_error(missing, 400).await;
    assert!(
        body["message"].as_str().unwrap().contains("eventId"),
        "{body}"
    );

    let text = http
        .post(&url)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    tmf_error(text, 415).await;

    let unknown = http
        .get(format!("{base}/tmf-api/event/v4/nothing/here"))
        .send()
        .await
        .unwrap();
    tmf_error(unknown, 404).await;

    let wrong_method = http.put(&url).send().await.unwrap();
    tmf_error(wrong_method, 405).await;

    let bad_offset = http.get(format!("{url}?offset=ten")).send().await.unwrap();
    let body = tmf_error(bad_offset, 400).await;
    assert!(
        body["message"].as_str().unwrap().contains("offset"),
        "{body}"
    );
}

#[tokio::test]
async fn well_formed_requests_reach_the_handler() {
    let base = base().await;
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{base}/tmf-api/event/v4/topic/order/event"))
        .header("content-type", "application/json;charset=utf-8")
        .body(r#"{"@type": "Event", "eventId": "e1", "event": {"productOrder": {"id": "1"}}, "eventTime": "2019-11-02T14:20:54"}"#)
        .send()
        .await
        .unwrap();
    let body = tmf_error(created, 501).await;
    assert_eq!(
        body["message"],
        json!(r#"createEvent reached the handler with ["order"]"#)
    );

    let listed = http
        .get(format!("{base}/tmf-api/event/v4/topic/order/event?fields=eventType&offset=0&limit=5&eventType=X"))
        .send()
        .await
        .unwrap();
    tmf_error(listed, 501).await;

    let notified = http
        .post(format!("{base}/listener/listener/topicCreateEvent"))
        .json(&json!({"eventId": "n1", "eventType": "TopicCreateEvent", "event": {"topic": {"id": "t", "name": "t"}}}))
        .send()
        .await
        .unwrap();
    tmf_error(notified, 501).await;
}
