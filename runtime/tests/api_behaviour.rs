//! Behaviour of the whole application over HTTP: topics, events, hubs and listeners
//! with the TMF630 query language and paging, the PSI base paths, health and the OpenAPI
//! document, the listener application, and the PSI sequence through the generated
//! client. Each test runs its own server on a loopback port (`common`), on the store
//! `TMF688_TEST_STORE` selects (memory by default, PostgreSQL in `scripts/test`'s
//! second pass).

mod common;

use std::sync::Arc;

use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use tmf688_runtime::query::PagingConfig;
use tmf688_runtime::{AppConfig, HubConfig, app_with, listener_app};

const TMF: &str = "/tmf-api/event/v4";
const PSI: &str = "/psi-api/event/v2";

/// A server with small pages (default 3, at most 5: the paging tests count on it) and
/// a 4 KiB body limit.
struct TestApp {
    server: common::Server,
    http: reqwest::Client,
}

async fn test_app() -> TestApp {
    let config = HubConfig {
        paging: PagingConfig {
            default_limit: 3,
            max_limit: 5,
        },
        ..HubConfig::default()
    };
    let (hub, db) = common::hub(config).await;
    let app = app_with(
        Arc::new(hub),
        &AppConfig {
            max_body_bytes: 4096,
            ..AppConfig::default()
        },
    );
    TestApp {
        server: common::serve(app, db).await,
        http: reqwest::Client::new(),
    }
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// `method uri` (a path on the server) with an optional JSON body; the answer's body
/// must be JSON or empty.
async fn call(app: &TestApp, method: Method, uri: &str, body: Option<Value>) -> Answer {
    let mut request = app.http.request(method, format!("{}{uri}", app.server.url));
    if let Some(body) = body {
        request = request
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("the whole body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!("not JSON: {}", String::from_utf8_lossy(&bytes));
        })
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// A raw POST (content type and body as given); its status.
async fn post_raw(app: &TestApp, uri: &str, content_type: &str, body: &'static str) -> StatusCode {
    app.http
        .post(format!("{}{uri}", app.server.url))
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("the server answers")
        .status()
}

fn event(event_id: &str, event_type: &str, severity: &str) -> Value {
    json!({
        "@type": "AlarmCreateEvent",
        "eventId": event_id,
        "eventType": event_type,
        "eventTime": "2021-06-01T10:00:00Z",
        "event": {"alarm": {"id": "a1", "perceivedSeverity": severity}},
        "vendorExtension": {"kept": true}
    })
}

fn assert_tmf_error(answer: &Answer, status: StatusCode) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["code"], status.as_u16().to_string());
    assert!(answer.body["reason"].is_string(), "{}", answer.body);
}

#[tokio::test]
async fn profile_topics_exist_and_cannot_be_deleted() {
    let app = test_app().await;
    let answer = call(&app, Method::GET, &format!("{PSI}/topic"), None).await;
    assert_eq!(answer.status, StatusCode::OK);
    let ids: Vec<&str> = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["order", "inquiry", "alarm"]);
    assert_eq!(answer.body[0]["href"], format!("{PSI}/topic/order"));
    assert_eq!(answer.header("X-Total-Count"), Some("3"));
    assert_eq!(answer.header("X-Result-Count"), Some("3"));

    let answer = call(&app, Method::DELETE, &format!("{TMF}/topic/order"), None).await;
    assert_tmf_error(&answer, StatusCode::CONFLICT);
    assert!(answer.body["message"].as_str().unwrap().contains("profile"));
}

/// Only a taken NAME is a 409, and its message names the topic that has it; a topic
/// whose id would be another topic's (`a b` got `topic-N`, then a topic named
/// `topic-N`) gets a fresh generated id (review of issue 12, item 11).
#[tokio::test]
async fn topic_ids_taken_by_another_topic_get_a_fresh_id() {
    let app = test_app().await;
    let topics = format!("{TMF}/topic");
    let create =
        |name: &'static str| call(&app, Method::POST, &topics, Some(json!({"name": name})));
    let spaced = create("a b").await;
    assert_eq!(spaced.status, StatusCode::CREATED, "{}", spaced.body);
    let generated = spaced.body["id"].as_str().unwrap().to_owned();
    assert_ne!(generated, "a b");

    // A topic named like the generated id: created, with another id.
    let named = call(
        &app,
        Method::POST,
        &format!("{TMF}/topic"),
        Some(json!({"name": generated})),
    )
    .await;
    assert_eq!(named.status, StatusCode::CREATED, "{}", named.body);
    assert_eq!(named.body["name"], generated);
    let fresh = named.body["id"].as_str().unwrap().to_owned();
    assert_ne!(fresh, generated);
    assert_ne!(fresh, "a b");
    // Both reachable under their ids, each the topic it was created as.
    for (id, name) in [(&generated, "a b"), (&fresh, generated.as_str())] {
        let got = call(&app, Method::GET, &format!("{TMF}/topic/{id}"), None).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.body);
        assert_eq!(got.body["name"], name, "{}", got.body);
    }

    // Taken names: 409 naming the topic that has the name, whichever it is.
    for (name, id) in [("a b", &generated), (generated.as_str(), &fresh)] {
        let again = call(
            &app,
            Method::POST,
            &format!("{TMF}/topic"),
            Some(json!({"name": name})),
        )
        .await;
        assert_tmf_error(&again, StatusCode::CONFLICT);
        let message = again.body["message"].as_str().unwrap();
        assert!(
            message.contains(&format!(
                "a topic named {name:?} already exists (id {id:?})"
            )),
            "{message}"
        );
    }
    let conflict = create("alarm").await;
    assert_tmf_error(&conflict, StatusCode::CONFLICT);
    assert!(
        conflict.body["message"]
            .as_str()
            .unwrap()
            .contains(r#"a topic named "alarm" already exists (id "alarm")"#),
        "{}",
        conflict.body
    );
}

#[tokio::test]
async fn topics_crud_filter_and_fields() {
    let app = test_app().await;
    let answer = call(
        &app,
        Method::POST,
        &format!("{TMF}/topic"),
        Some(json!({"name": "billing", "@type": "Topic"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["id"], "billing");
    assert_eq!(
        answer.header("Location"),
        Some(&*format!("{TMF}/topic/billing"))
    );
    // Same name again: conflict.
    let again = call(
        &app,
        Method::POST,
        &format!("{TMF}/topic"),
        Some(json!({"name": "billing"})),
    )
    .await;
    assert_tmf_error(&again, StatusCode::CONFLICT);
    // A name that is not URL-safe gets a generated id.
    let spaced = call(
        &app,
        Method::POST,
        &format!("{TMF}/topic"),
        Some(json!({"name": "two words"})),
    )
    .await;
    assert_eq!(spaced.status, StatusCode::CREATED);
    assert_ne!(spaced.body["id"], "two words");
    // Missing mandatory name: 400.
    let bad = call(
        &app,
        Method::POST,
        &format!("{TMF}/topic"),
        Some(json!({"headerQuery": "x"})),
    )
    .await;
    assert_tmf_error(&bad, StatusCode::BAD_REQUEST);

    let filtered = call(
        &app,
        Method::GET,
        &format!("{TMF}/topic?name=billing,alarm&fields=name"),
        None,
    )
    .await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert_eq!(
        filtered.body,
        json!([
            {"id": "alarm", "href": format!("{TMF}/topic/alarm"), "name": "alarm", "@type": "Topic"},
            {"id": "billing", "href": format!("{TMF}/topic/billing"), "name": "billing", "@type": "Topic"},
        ])
    );
    let one = call(
        &app,
        Method::GET,
        &format!("{TMF}/topic/billing?fields=id"),
        None,
    )
    .await;
    assert_eq!(
        one.body,
        json!({"id": "billing", "href": format!("{TMF}/topic/billing"), "@type": "Topic"})
    );

    let deleted = call(&app, Method::DELETE, &format!("{TMF}/topic/billing"), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = call(&app, Method::GET, &format!("{TMF}/topic/billing"), None).await;
    assert_tmf_error(&gone, StatusCode::NOT_FOUND);
    let gone = call(&app, Method::DELETE, &format!("{TMF}/topic/billing"), None).await;
    assert_tmf_error(&gone, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn events_create_retrieve_dedup_and_conflict() {
    let app = test_app().await;
    let uri = format!("{TMF}/topic/alarm/event");
    let created = call(
        &app,
        Method::POST,
        &uri,
        Some(event("e1", "AlarmCreateEvent", "major")),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let href = format!("{uri}/{id}");
    assert_eq!(created.body["href"], href);
    assert_eq!(created.header("Location"), Some(href.as_str()));
    assert_eq!(
        created.body["vendorExtension"],
        json!({"kept": true}),
        "unknown attributes kept"
    );
    assert_eq!(created.body["eventTime"], "2021-06-01T10:00:00Z");

    // Same eventId, same content: the stored event again.
    let again = call(
        &app,
        Method::POST,
        &uri,
        Some(event("e1", "AlarmCreateEvent", "major")),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["id"], created.body["id"]);
    // Same eventId, other content: 409.
    let clash = call(
        &app,
        Method::POST,
        &uri,
        Some(event("e1", "AlarmCreateEvent", "minor")),
    )
    .await;
    assert_tmf_error(&clash, StatusCode::CONFLICT);

    let fetched = call(&app, Method::GET, &href, None).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, created.body);
    // The PSI path sees the same store, with its own hrefs.
    let psi = call(
        &app,
        Method::GET,
        &format!("{PSI}/topic/alarm/event/{id}"),
        None,
    )
    .await;
    assert_eq!(psi.body["href"], format!("{PSI}/topic/alarm/event/{id}"));

    let missing = call(&app, Method::GET, &format!("{uri}/999"), None).await;
    assert_tmf_error(&missing, StatusCode::NOT_FOUND);
    let no_topic = call(
        &app,
        Method::POST,
        &format!("{TMF}/topic/nope/event"),
        Some(event("e2", "X", "major")),
    )
    .await;
    assert_tmf_error(&no_topic, StatusCode::NOT_FOUND);
    let no_topic = call(&app, Method::GET, &format!("{TMF}/topic/nope/event"), None).await;
    assert_tmf_error(&no_topic, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn events_bad_input_is_400_413_415() {
    let app = test_app().await;
    let uri = format!("{TMF}/topic/alarm/event");
    let mut no_event_id = event("e1", "X", "major");
    no_event_id.as_object_mut().unwrap().remove("eventId");
    let answer = call(&app, Method::POST, &uri, Some(no_event_id)).await;
    assert_tmf_error(&answer, StatusCode::BAD_REQUEST);
    assert!(answer.body["message"].as_str().unwrap().contains("eventId"));
    let mut no_type = event("e1", "X", "major");
    no_type.as_object_mut().unwrap().remove("@type");
    assert_tmf_error(
        &call(&app, Method::POST, &uri, Some(no_type)).await,
        StatusCode::BAD_REQUEST,
    );
    let mut bad_time = event("e1", "X", "major");
    bad_time["eventTime"] = json!("yesterday");
    assert_tmf_error(
        &call(&app, Method::POST, &uri, Some(bad_time)).await,
        StatusCode::BAD_REQUEST,
    );
    // A payload that does not fit the topic's type (alarm: perceivedSeverity is text).
    let mut bad_payload = event("e1", "X", "major");
    bad_payload["event"] = json!({"perceivedSeverity": {"not": "text"}});
    let answer = call(&app, Method::POST, &uri, Some(bad_payload)).await;
    assert_tmf_error(&answer, StatusCode::BAD_REQUEST);

    let big = json!({"@type": "X", "eventId": "big", "event": {"blob": "x".repeat(5000)}});
    assert_tmf_error(
        &call(&app, Method::POST, &uri, Some(big)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );

    assert_eq!(
        post_raw(&app, &uri, "text/plain", "{}").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        post_raw(&app, &uri, "application/json", "{not json").await,
        StatusCode::BAD_REQUEST
    );

    let bad_filter = call(&app, Method::GET, &format!("{uri}?eventType[zz]=1"), None).await;
    assert_tmf_error(&bad_filter, StatusCode::BAD_REQUEST);
    let bad_offset = call(&app, Method::GET, &format!("{uri}?offset=-1"), None).await;
    assert_tmf_error(&bad_offset, StatusCode::BAD_REQUEST);
    let bad_limit = call(&app, Method::GET, &format!("{uri}?limit=many"), None).await;
    assert_tmf_error(&bad_limit, StatusCode::BAD_REQUEST);
}

/// A log longer than what one store read returns: an unfiltered page is a range of the
/// log (total = the log's length), a filtered one is found by scanning it in batches,
/// across their boundaries, with the right total.
#[tokio::test]
async fn long_logs_page_and_filter_across_scan_batches() {
    let app = test_app().await;
    let uri = format!("{TMF}/topic/alarm/event");
    for i in 0..1100 {
        let event_type = if i % 2 == 1 {
            "AlarmClearEvent"
        } else {
            "AlarmCreateEvent"
        };
        let answer = call(
            &app,
            Method::POST,
            &uri,
            Some(event(&format!("e{i}"), event_type, "minor")),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED);
    }
    let ids = |answer: &Answer| -> Vec<String> {
        answer
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventId"].as_str().unwrap().to_owned())
            .collect()
    };
    let tail = call(
        &app,
        Method::GET,
        &format!("{uri}?offset=1097&limit=5"),
        None,
    )
    .await;
    assert_eq!(tail.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.header("X-Total-Count"), Some("1100"));
    assert_eq!(ids(&tail), ["e1097", "e1098", "e1099"]);
    // Odd events are clears: 550 of them; the 249th and 250th straddle the first batch.
    let across = call(
        &app,
        Method::GET,
        &format!("{uri}?eventType=AlarmClearEvent&offset=248&limit=2"),
        None,
    )
    .await;
    assert_eq!(across.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(across.header("X-Total-Count"), Some("550"));
    assert_eq!(ids(&across), ["e497", "e499"]);
    let last = call(
        &app,
        Method::GET,
        &format!("{uri}?eventType=AlarmClearEvent&offset=548&fields=eventId"),
        None,
    )
    .await;
    assert_eq!(last.header("X-Total-Count"), Some("550"));
    assert_eq!(ids(&last), ["e1097", "e1099"]);
    let mut kept: Vec<&String> = last.body[0].as_object().unwrap().keys().collect();
    kept.sort();
    assert_eq!(kept, ["@type", "eventId", "href", "id"], "projected");
    let beyond = call(&app, Method::GET, &format!("{uri}?offset=5000"), None).await;
    assert_eq!(beyond.header("X-Total-Count"), Some("1100"));
    assert_eq!(beyond.body, json!([]));
}

#[tokio::test]
async fn events_list_filter_fields_and_paging() {
    let app = test_app().await;
    let uri = format!("{TMF}/topic/alarm/event");
    for (i, (event_type, severity)) in [
        ("AlarmCreateEvent", "major"),
        ("AlarmStateChangeEvent", "minor"),
        ("AlarmCreateEvent", "critical"),
        ("AlarmDeleteEvent", "major"),
        ("AlarmCreateEvent", "minor"),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = call(
            &app,
            Method::POST,
            &uri,
            Some(event(&format!("e{i}"), event_type, severity)),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED);
    }

    // Default limit 3 of 5: 206 with counts.
    let page = call(&app, Method::GET, &uri, None).await;
    assert_eq!(page.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(page.header("X-Total-Count"), Some("5"));
    assert_eq!(page.header("X-Result-Count"), Some("3"));
    assert_eq!(page.body.as_array().unwrap().len(), 3);
    assert_eq!(page.body[0]["eventId"], "e0");

    let last = call(&app, Method::GET, &format!("{uri}?offset=3&limit=3"), None).await;
    assert_eq!(last.status, StatusCode::PARTIAL_CONTENT);
    let ids: Vec<&str> = last
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["e3", "e4"]);

    let all = call(&app, Method::GET, &format!("{uri}?limit=10"), None).await;
    assert_eq!(all.status, StatusCode::OK, "limit capped at 5 = everything");
    assert_eq!(all.header("X-Result-Count"), Some("5"));

    let filtered = call(
        &app,
        Method::GET,
        &format!("{uri}?eventType=AlarmCreateEvent&event.alarm.perceivedSeverity.ne=minor"),
        None,
    )
    .await;
    assert_eq!(filtered.status, StatusCode::OK);
    let ids: Vec<&str> = filtered
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["e0", "e2"]);
    assert_eq!(filtered.header("X-Total-Count"), Some("2"));

    let or = call(
        &app,
        Method::GET,
        &format!("{uri}?eventType=AlarmDeleteEvent,AlarmStateChangeEvent&fields=eventType"),
        None,
    )
    .await;
    assert_eq!(or.status, StatusCode::OK);
    let first = or.body[0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["@type", "eventType", "href", "id"]);
    assert_eq!(or.body.as_array().unwrap().len(), 2);

    let none = call(
        &app,
        Method::GET,
        &format!("{uri}?eventTime.gt=2030-01-01T00:00:00Z"),
        None,
    )
    .await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.body, json!([]));
    assert_eq!(none.header("X-Total-Count"), Some("0"));
}

#[tokio::test]
async fn hubs_register_dedup_list_delete_on_psi_path() {
    let app = test_app().await;
    let uri = format!("{PSI}/topic/order/hub");
    let body = json!({"callback": "http://127.0.0.1:9/psi-api/event/v2/topic/order/event", "query": "eventType=ProductOrderStateChangeEvent"});
    let created = call(&app, Method::POST, &uri, Some(body.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.header("Location"), Some(&*format!("{uri}/{id}")));
    assert_eq!(created.body["callback"], body["callback"]);

    let again = call(&app, Method::POST, &uri, Some(body.clone())).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["id"], id.as_str());
    let other_query = call(
        &app,
        Method::POST,
        &uri,
        Some(json!({"callback": body["callback"]})),
    )
    .await;
    assert_ne!(other_query.body["id"], id.as_str());

    let listed = call(&app, Method::GET, &format!("{uri}?fields=query"), None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body.as_array().unwrap().len(), 2);
    assert!(listed.body[0].get("query").is_some());
    let filtered = call(
        &app,
        Method::GET,
        &format!("{uri}?query=eventType=ProductOrderStateChangeEvent"),
        None,
    )
    .await;
    assert_eq!(filtered.body.as_array().unwrap().len(), 1);

    let fetched = call(&app, Method::GET, &format!("{uri}/{id}"), None).await;
    assert_eq!(fetched.body, created.body);
    let deleted = call(&app, Method::DELETE, &format!("{uri}/{id}"), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = call(&app, Method::DELETE, &format!("{uri}/{id}"), None).await;
    assert_tmf_error(&gone, StatusCode::NOT_FOUND);
    let no_topic = call(
        &app,
        Method::POST,
        &format!("{PSI}/topic/nope/hub"),
        Some(body),
    )
    .await;
    assert_tmf_error(&no_topic, StatusCode::NOT_FOUND);
    let bad_callback = call(
        &app,
        Method::POST,
        &uri,
        Some(json!({"callback": "not a url"})),
    )
    .await;
    assert_tmf_error(&bad_callback, StatusCode::BAD_REQUEST);
    let no_callback = call(&app, Method::POST, &uri, Some(json!({"query": "a=b"}))).await;
    assert_tmf_error(&no_callback, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn psi_paths_serve_only_their_operations() {
    let app = test_app().await;
    for base in [PSI, "/psi/event/v2"] {
        let listed = call(&app, Method::GET, &format!("{base}/topic"), None).await;
        assert_eq!(listed.status, StatusCode::OK);
        // createTopic / deleteTopic are not PSI operations; GET is.
        let create = call(
            &app,
            Method::POST,
            &format!("{base}/topic"),
            Some(json!({"name": "x"})),
        )
        .await;
        assert_tmf_error(&create, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(create.header("Allow"), Some("GET"));
        let delete = call(&app, Method::DELETE, &format!("{base}/topic/alarm"), None).await;
        assert_tmf_error(&delete, StatusCode::METHOD_NOT_ALLOWED);
        // registerListener (/hub) is not served there at all.
        let listener = call(
            &app,
            Method::POST,
            &format!("{base}/hub"),
            Some(json!({"callback": "http://x/y"})),
        )
        .await;
        assert_tmf_error(&listener, StatusCode::NOT_FOUND);
    }
    // The TMF path serves them (listener callbacks go through the allow-list too).
    let listener = call(
        &app,
        Method::POST,
        &format!("{TMF}/hub"),
        Some(json!({"callback": "http://127.0.0.1:9/y"})),
    )
    .await;
    assert_eq!(listener.status, StatusCode::CREATED, "{}", listener.body);
    let id = listener.body["id"].as_str().unwrap();
    assert_eq!(
        listener.header("Location"),
        Some(&*format!("{TMF}/hub/{id}"))
    );
    let removed = call(&app, Method::DELETE, &format!("{TMF}/hub/{id}"), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let removed = call(&app, Method::DELETE, &format!("{TMF}/hub/{id}"), None).await;
    assert_tmf_error(&removed, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_openapi_and_unknown_paths() {
    let app = test_app().await;
    let health = call(&app, Method::GET, "/health", None).await;
    assert_eq!(health.status, StatusCode::OK);
    let spec = call(&app, Method::GET, "/openapi.json", None).await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3."));
    assert_tmf_error(
        &call(&app, Method::GET, "/nowhere", None).await,
        StatusCode::NOT_FOUND,
    );
    assert_tmf_error(
        &call(&app, Method::GET, &format!("{TMF}/nowhere"), None).await,
        StatusCode::NOT_FOUND,
    );
    assert_tmf_error(
        &call(&app, Method::PATCH, &format!("{TMF}/topic"), None).await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
    // Listener endpoints are not part of the provider application.
    assert_tmf_error(
        &call(
            &app,
            Method::POST,
            &format!("{TMF}/listener/eventCreateEvent"),
            Some(json!({})),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn listener_app_acknowledges() {
    let (hub, db) = common::hub(HubConfig::default()).await;
    let app = TestApp {
        server: common::serve(listener_app(Arc::new(hub), "/cb"), db).await,
        http: reqwest::Client::new(),
    };
    let answer = call(
        &app,
        Method::POST,
        "/cb/listener/eventCreateEvent",
        Some(json!({"eventId": "n1", "eventType": "EventCreateEvent"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    assert_eq!(answer.body["id"], "n1");
}

/// The PSI sequence of the seed through the generated client:
/// view topics → register a callback on `order` → deregister it.
#[tokio::test]
async fn psi_sequence_over_loopback_with_generated_client() {
    use tmf688_api::client::Client;
    use tmf688_api::models::HubCreate;
    use tmf688_api::operations::{
        CreateHubResponse, DeleteHubResponse, ListTopicQuery, ListTopicResponse,
    };

    let app = test_app().await;
    let client = Client::new(format!("{}{PSI}", app.server.url));

    let ListTopicResponse::Ok {
        body,
        x_total_count,
        ..
    } = client.list_topic(&ListTopicQuery::default()).await.unwrap()
    else {
        panic!("listTopic did not answer 200");
    };
    assert_eq!(x_total_count, Some(3));
    assert!(
        body.iter()
            .filter_map(|t| t.as_full())
            .any(|t| t.id.as_deref() == Some("order"))
    );

    let hub = HubCreate {
        callback: "http://127.0.0.1:9/psi-api/event/v2/topic/order/event"
            .parse()
            .unwrap(),
        query: Some("eventType=ProductOrderStateChangeEvent".into()),
        at_base_type: None,
        at_schema_location: None,
        at_type: None,
        additional_properties: Default::default(),
    };
    let CreateHubResponse::Created { body, location } =
        client.create_hub("order", &hub).await.unwrap()
    else {
        panic!("createHub did not answer 201");
    };
    assert_eq!(location, Some(format!("{PSI}/topic/order/hub/{}", body.id)));
    assert_eq!(body.query, hub.query);

    let deleted = client.delete_hub("order", &body.id).await.unwrap();
    assert_eq!(deleted, DeleteHubResponse::NoContent);
    let again = client.delete_hub("order", &body.id).await.unwrap();
    assert!(matches!(again, DeleteHubResponse::NotFound(_)), "{again:?}");
}

/// Quotas (`[quotas]`): past `max_hubs_per_owner` hubs and listeners together, and past
/// `max_topics`, creation answers 403 `Quota exceeded`; removing one makes room.
#[tokio::test]
async fn quotas_on_hubs_and_topics() {
    let config = HubConfig {
        quotas: tmf688_runtime::Quotas {
            max_hubs_per_owner: 2,
            // The profile's three topics and one more.
            max_topics: 4,
        },
        ..HubConfig::default()
    };
    let server = common::spawn_with(config, AppConfig::default()).await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}/tmf-api/event/v4{path}", server.url);
    let hub = |n: usize| json!({"callback": format!("http://127.0.0.1:9/q{n}")});
    let first = common::json(&http, "POST", &url("/topic/order/hub"), None, Some(&hub(1))).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let listener = common::json(&http, "POST", &url("/hub"), None, Some(&hub(2))).await;
    assert_eq!(listener.status, 201, "{}", listener.text);
    let refused = common::json(&http, "POST", &url("/topic/alarm/hub"), None, Some(&hub(3))).await;
    refused.tmf_error(403, "the most").unwrap();
    let refused = common::json(&http, "POST", &url("/hub"), None, Some(&hub(4))).await;
    refused.tmf_error(403, "the most").unwrap();
    let id = first.json()["id"].as_str().unwrap().to_owned();
    let removed = common::json(
        &http,
        "DELETE",
        &url(&format!("/topic/order/hub/{id}")),
        None,
        None,
    )
    .await;
    assert_eq!(removed.status, 204);
    let again = common::json(&http, "POST", &url("/topic/alarm/hub"), None, Some(&hub(3))).await;
    assert_eq!(again.status, 201, "{}", again.text);

    let topic = |name: &str| json!({"name": name});
    let created = common::json(&http, "POST", &url("/topic"), None, Some(&topic("t1"))).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let refused = common::json(&http, "POST", &url("/topic"), None, Some(&topic("t2"))).await;
    refused.tmf_error(403, "the most").unwrap();
}
