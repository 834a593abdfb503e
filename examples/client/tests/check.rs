//! `tmf688-client check` against our own hub (in-process, loopback, with a delivery
//! engine: every mandatory check passes, exit 0, the JSON report parses) and against a
//! deliberately broken peer written here (the report names its faults, exit 1); an
//! unreachable peer exits 3. Loopback addresses only.

use std::collections::HashMap;
use std::process::Output;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

mod common;

/// Runs `tmf688-client --url <url> check <args>`.
async fn check(url: &str, args: &[&str]) -> Output {
    client(url, &[&["check"], args].concat()).await
}

/// Runs `tmf688-client --url <url> <args>` off the runtime's workers.
async fn client(url: &str, args: &[&str]) -> Output {
    let mut command = common::client_command(url, args);
    tokio::task::spawn_blocking(move || command.output().expect("the client runs"))
        .await
        .unwrap()
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "stdout is not JSON: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The check `id` of a JSON report.
fn find<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

fn outcome<'a>(report: &'a Value, id: &str) -> &'a str {
    find(report, id)["outcome"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_hub_passes_every_mandatory_check() {
    let (url, server, engine) = common::serve_with_delivery().await;

    let output = check(&url, &["--json"]).await;
    let report = report(&output);
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert_eq!(report["format"], "tmf688-check/1");
    assert_eq!(report["outcome"], "pass");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["summary"]["mandatory_failed"], 0, "{report:#}");
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["outcome"], "pass", "{check:#}");
    }
    assert_eq!(report["delivery"]["published"], 20);
    assert_eq!(report["delivery"]["delivered"], 20);
    assert_eq!(report["delivery"]["duplicates"], 0);
    assert_eq!(report["delivery"]["in_order"], true);
    // The scratch topic and the hubs are gone again.
    let topics = reqwest::get(format!("{url}/tmf-api/event/v4/topic"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let topics: Value = serde_json::from_slice(&topics).unwrap();
    assert_eq!(topics.as_array().unwrap().len(), 3, "{topics:#}");
    assert!(
        report["cleanup"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().starts_with("DELETE /topic/check-"))
    );

    // The text report, on the PSI base path and an existing topic.
    let output = check(
        &format!("{url}/psi-api/event/v2"),
        &["--topic", "alarm", "--events", "5"],
    )
    .await;
    let text = String::from_utf8_lossy(&output.stdout);
    println!("{text}");
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("PASS mandatory delivery.all"), "{text}");
    assert!(text.contains("SKIP optional  topics.create"), "{text}");
    assert!(text.contains("pass: "), "{text}");

    server.abort();
    engine.shutdown().await;
}

/// A hub whose pages are smaller than its topic list (`[paging] default_limit = 2,
/// max_limit = 5`: `GET /topic` answers 206 with 2 of 3+ topics) passes: the kit
/// follows the pages. On a PSI base path without `--topic`, createTopic is not served
/// (405): `topics.create` is skipped with the reason and the checks run on `alarm`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_pages_and_psi_paths_without_topic_pass() {
    let config = tmf688_runtime::HubConfig {
        paging: tmf688_runtime::PagingConfig {
            default_limit: 2,
            max_limit: 5,
        },
        ..Default::default()
    };
    let (url, server, engine) = common::serve_configured(config).await;

    for (base, topics, create) in [
        ("/psi-api/event/v2", 3, "skip"),
        ("/tmf-api/event/v4", 3, "pass"),
    ] {
        let output = check(&format!("{url}{base}"), &["--json", "--events", "5"]).await;
        let report = report(&output);
        assert_eq!(output.status.code(), Some(0), "{base}: {report:#}");
        assert_eq!(report["summary"]["mandatory_failed"], 0, "{report:#}");
        assert_eq!(outcome(&report, "topics.list"), "pass", "{report:#}");
        let list = find(&report, "topics.list");
        let detail = list["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!(
                "206 (partial pages, 2 requests) answered JSON arrays of {topics} topics"
            )),
            "{list:#}"
        );
        assert_eq!(
            list["evidence"][1]["request"], "GET /topic?offset=2",
            "{list:#}"
        );
        assert_eq!(outcome(&report, "topics.psi"), "pass", "{report:#}");
        assert_eq!(outcome(&report, "topics.create"), create, "{report:#}");
        for check in report["checks"].as_array().unwrap() {
            if check["id"] != "topics.create" {
                assert_eq!(check["outcome"], "pass", "{base}: {check:#}");
            }
        }
    }
    let psi = check(
        &format!("{url}/psi-api/event/v2"),
        &["--json", "--events", "5"],
    )
    .await;
    let psi = report(&psi);
    let create = find(&psi, "topics.create")["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        create.starts_with("405: this base path does not serve createTopic")
            && create.ends_with("the event checks run on alarm"),
        "{create}"
    );
    assert_eq!(psi["topic"], "alarm", "{psi:#}");

    server.abort();
    engine.shutdown().await;
}

/// A peer that gets many things wrong: 500 on createTopic, 200 on create without `href`, text/plain
/// errors, no paging headers, `fields` ignored, a deleted hub deletes again with 204,
/// and every event delivered twice with each pair swapped.
#[derive(Default)]
struct Broken {
    events: Mutex<Vec<Value>>,
    callbacks: Mutex<HashMap<String, String>>,
    held: Mutex<Option<Value>>,
    http: reqwest::Client,
}

type Shared = State<Arc<Broken>>;

fn text(status: StatusCode, body: &str) -> Response {
    (status, [("content-type", "text/plain")], body.to_owned()).into_response()
}

fn json_answer(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn broken_topics() -> Response {
    json_answer(StatusCode::OK, &json!([{"id": "alarm", "name": "alarm"}]))
}

async fn broken_topic(Path(topic): Path<String>) -> Response {
    if topic == "alarm" {
        json_answer(StatusCode::OK, &json!({"id": "alarm", "name": "alarm"}))
    } else {
        text(StatusCode::NOT_FOUND, "no such topic")
    }
}

async fn broken_hub(State(peer): Shared, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or_default();
    let id = format!("h{}", peer.callbacks.lock().unwrap().len() + 1);
    let callback = body["callback"].as_str().unwrap_or_default().to_owned();
    peer.callbacks.lock().unwrap().insert(id.clone(), callback);
    json_answer(
        StatusCode::CREATED,
        &json!({"id": id, "callback": body["callback"]}),
    )
}

async fn broken_unhub(State(peer): Shared, Path((_, id)): Path<(String, String)>) -> StatusCode {
    peer.callbacks.lock().unwrap().remove(&id);
    StatusCode::NO_CONTENT
}

async fn broken_create(State(peer): Shared, body: Bytes) -> Response {
    let Ok(mut event) = serde_json::from_slice::<Value>(&body) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "oops");
    };
    let id = format!("{}", peer.events.lock().unwrap().len() + 1);
    event["id"] = json!(id);
    peer.events.lock().unwrap().push(event.clone());
    // Deliver in swapped pairs, twice each.
    let held = peer.held.lock().unwrap().take();
    let batch = match held {
        None => {
            *peer.held.lock().unwrap() = Some(event.clone());
            Vec::new()
        }
        Some(previous) => vec![event.clone(), previous],
    };
    let callbacks: Vec<String> = peer.callbacks.lock().unwrap().values().cloned().collect();
    for callback in callbacks {
        for delivered in &batch {
            for _ in 0..2 {
                let _ = peer
                    .http
                    .post(&callback)
                    .header("content-type", "application/json")
                    .body(delivered.to_string())
                    .send()
                    .await;
            }
        }
    }
    json_answer(StatusCode::OK, &event)
}

async fn broken_list(State(peer): Shared) -> Response {
    json_answer(
        StatusCode::OK,
        &Value::Array(peer.events.lock().unwrap().clone()),
    )
}

async fn broken_retrieve(State(peer): Shared, Path((_, id)): Path<(String, String)>) -> Response {
    let events = peer.events.lock().unwrap().clone();
    match events.into_iter().find(|e| e["id"] == id) {
        Some(event) => json_answer(StatusCode::OK, &event),
        None => text(StatusCode::NOT_FOUND, "not found"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_peer_is_named_and_exits_1() {
    let app = Router::new()
        .route(
            "/tmf-api/event/v4/topic",
            // A 405 would be a base path that does not serve createTopic (skipped);
            // a 500 is a fault.
            get(broken_topics).post(|| async { text(StatusCode::INTERNAL_SERVER_ERROR, "no") }),
        )
        .route("/tmf-api/event/v4/topic/{topic}", get(broken_topic))
        .route("/tmf-api/event/v4/topic/{topic}/hub", post(broken_hub))
        .route(
            "/tmf-api/event/v4/topic/{topic}/hub/{id}",
            delete(broken_unhub),
        )
        .route(
            "/tmf-api/event/v4/topic/{topic}/event",
            get(broken_list).post(broken_create),
        )
        .route(
            "/tmf-api/event/v4/topic/{topic}/event/{id}",
            get(broken_retrieve),
        )
        .with_state(Arc::new(Broken::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let output = check(&url, &["--json", "--timeout", "5"]).await;
    let report = report(&output);
    assert_eq!(output.status.code(), Some(1), "{report:#}");
    assert_eq!(report["outcome"], "fail");
    assert_eq!(report["topic"], "alarm", "falls back to alarm");
    let expected_failures = [
        "topics.psi",
        "topics.create",
        "hub.location",
        "hub.deregister_again",
        "event.create",
        "event.fields_retrieve",
        "event.fields_list",
        "paging.headers",
        "paging.status",
        "error.malformed_json",
        "error.unknown_id",
        "delivery.order",
        "delivery.duplicates",
    ];
    for id in expected_failures {
        assert_eq!(
            outcome(&report, id),
            "fail",
            "{id}: {:#}",
            find(&report, id)
        );
    }
    for id in [
        "topics.list",
        "hub.register",
        "hub.deregister",
        "event.retrieve",
        "delivery.all",
    ] {
        assert_eq!(
            outcome(&report, id),
            "pass",
            "{id}: {:#}",
            find(&report, id)
        );
    }
    let create = find(&report, "event.create");
    assert!(
        create["detail"]
            .as_str()
            .unwrap()
            .contains("200 instead of 201"),
        "{create:#}"
    );
    assert_eq!(create["evidence"][0]["status"], 200);
    assert!(
        find(&report, "error.unknown_id")["detail"]
            .as_str()
            .unwrap()
            .contains("text/plain"),
        "{report:#}"
    );
    assert_eq!(report["delivery"]["duplicates"], 20);
    assert_eq!(report["delivery"]["in_order"], false);

    // The text report names the same faults.
    let output = check(&url, &["--events", "4", "--timeout", "5"]).await;
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL mandatory event.create"), "{text}");
    assert!(text.contains("FAIL optional  delivery.order"), "{text}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_peer_exits_3() {
    // A port nothing listens on: bind one, note it, close it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let output = check(&url, &["--json"]).await;
    let report = report(&output);
    assert_eq!(output.status.code(), Some(3), "{report:#}");
    assert_eq!(report["outcome"], "unreachable");
    assert_eq!(outcome(&report, "topics.list"), "fail");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segment_ids_are_refused_before_any_request() {
    // Nothing listens there: exit 4 (bad input), not 3, shows no request was tried.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let cases: [&[&str]; 5] = [
        &["unsubscribe", "alarm", ".."],
        &["unsubscribe", ".", "h1"],
        &["events", ".."],
        &["topic", "delete", ".."],
        &["check", "--topic", ".."],
    ];
    let output = check(&url, &["--token", "line\nbreak"]).await;
    assert_eq!(
        output.status.code(),
        Some(4),
        "a token that cannot be a header"
    );
    for args in cases {
        let output = client(&url, args).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(stderr.contains("dot segment"), "{args:?}: {stderr}");
    }
}
