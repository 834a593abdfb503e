//! Ids in URL paths, end to end: every operation of the generated TMF688 client with a
//! path parameter, against the generated router on a loopback port whose handlers
//! (`Unimplemented`) report the path arguments they got. An id arrives at the intended
//! operation as exactly itself, whatever it holds (`/`, `%`, `?`, `#`, space,
//! non-ASCII); the dot segments `.` and `..` — which URL parsers resolve in every
//! encoding, `%2E` included — and the empty id are refused by the client before
//! anything is sent. A peer that does send `%2E%2E` (a raw HTTP request) gets it read
//! as the literal id `..`, never as a step up the path.

use std::io::{Read, Write};
use std::sync::Arc;

use serde_json::{Value, json};
use tmf688_api::client::{Client, ClientError};
use tmf688_api::models::{EventCreate, HubCreate};
use tmf688_api::operations::*;
use tmf688_api::server;
use tmf688_tests::{Unimplemented, serve};

const BASE: &str = "/tmf-api/event/v4";

/// Ids that must arrive as themselves.
const IDS: &[&str] = &[
    "plain", "a.b", "...", "/", "a/b", "../x", "%", "%2E%2E", "%2e", "?", "a?b=c", "#", "a#b", " ",
    "a b", "+", "ü", "日本", ";", ",", "a,b", "=", "\\",
];

/// What a call answered: the operation and path arguments the handler reported.
fn reached(result: Result<impl std::fmt::Debug, ClientError>) -> (String, Vec<String>) {
    match result {
        Err(ClientError::UnexpectedStatus { status, body }) => {
            assert_eq!(status.as_u16(), 501, "{body}");
            let body: Value = serde_json::from_str(&body).unwrap();
            let message = body["message"].as_str().unwrap();
            let (operation, args) = message.split_once(" reached the handler with ").unwrap();
            (operation.to_owned(), serde_json::from_str(args).unwrap())
        }
        other => panic!("expected the handler's 501, got {other:?}"),
    }
}

/// The client's refusal (`ClientError::Encode`), which names the reason.
fn refused(outcome: Result<(String, Vec<String>), String>, id: &str) {
    match outcome {
        Err(message) => assert!(message.contains("segment"), "{id:?}: {message}"),
        Ok(reached) => panic!("{id:?} was sent and reached {reached:?}"),
    }
}

async fn client() -> (Client, std::net::SocketAddr) {
    let app = axum::Router::new().nest(BASE, server::router(Arc::new(Unimplemented)));
    let address = serve(app).await;
    (Client::new(format!("http://{address}{BASE}")), address)
}

fn bodies() -> (EventCreate, HubCreate) {
    let event =
        serde_json::from_value(json!({"@type": "Event", "eventId": "e1", "event": {}})).unwrap();
    let hub = serde_json::from_value(json!({"callback": "http://127.0.0.1:9/listener"})).unwrap();
    (event, hub)
}

/// Every path operation with `topic` and `id`: (operation id, its result's report or
/// refusal), calls in a fixed order.
async fn call_all(
    client: &Client,
    topic: &str,
    id: &str,
) -> Vec<(
    &'static str,
    Vec<String>,
    Result<(String, Vec<String>), String>,
)> {
    let (event, hub) = bodies();
    let mut out = Vec::new();
    macro_rules! call {
        ($op:literal, [$($arg:expr),*], $call:expr) => {
            let result = $call.await;
            let outcome = match result {
                Err(ClientError::Encode(message)) => Err(message),
                other => Ok(reached(other)),
            };
            out.push(($op, vec![$($arg.to_owned()),*], outcome));
        };
    }
    call!("createEvent", [topic], client.create_event(topic, &event));
    call!(
        "listEvent",
        [topic],
        client.list_event(topic, &ListEventQuery::default())
    );
    call!(
        "retrieveEvent",
        [topic, id],
        client.retrieve_event(topic, id, &RetrieveEventQuery::default())
    );
    call!("unregisterListener", [id], client.unregister_listener(id));
    call!("createHub", [topic], client.create_hub(topic, &hub));
    call!("deleteHub", [topic, id], client.delete_hub(topic, id));
    call!(
        "listHub",
        [topic],
        client.list_hub(topic, &ListHubQuery::default())
    );
    call!(
        "retrieveHub",
        [topic, id],
        client.retrieve_hub(topic, id, &RetrieveHubQuery::default())
    );
    call!("deleteTopic", [id], client.delete_topic(id));
    call!(
        "retrieveTopic",
        [id],
        client.retrieve_topic(id, &RetrieveTopicQuery::default())
    );
    out
}

#[tokio::test]
async fn every_path_operation_carries_any_id_to_its_own_route() {
    let (client, _) = client().await;
    for id in IDS {
        // As the topic and as the resource id, together.
        for (operation, args, outcome) in call_all(&client, id, id).await {
            let (reached, got) =
                outcome.unwrap_or_else(|e| panic!("{operation} {id:?}: refused: {e}"));
            assert_eq!(reached, operation, "{id:?} reached another operation");
            assert_eq!(got, args, "{operation} {id:?}");
        }
    }
}

#[tokio::test]
async fn dot_segments_and_empty_ids_are_refused_before_sending() {
    let (client, _) = client().await;
    for bad in ["", ".", ".."] {
        for (topic, id) in [(bad, "ok"), ("alarm", bad)] {
            for (operation, args, outcome) in call_all(&client, topic, id).await {
                if args.iter().any(|a| a == bad) {
                    refused(outcome, bad);
                } else {
                    let (reached, got) = outcome.unwrap_or_else(|e| panic!("{operation}: {e}"));
                    assert_eq!((reached.as_str(), got), (operation, args));
                }
            }
        }
    }
}

/// Sends `request` as is (no URL parser between) and returns the whole answer.
async fn raw_http(address: std::net::SocketAddr, request: String) -> String {
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_server_reads_encoded_dot_segments_as_literal_ids() {
    let (_, address) = client().await;
    for (method, path, operation, args) in [
        ("GET", "/topic/%2E%2E", "retrieveTopic", json!([".."])),
        (
            "DELETE",
            "/topic/alarm/hub/%2E%2E",
            "deleteHub",
            json!(["alarm", ".."]),
        ),
        (
            "DELETE",
            "/topic/%2e/hub/%2e%2E",
            "deleteHub",
            json!([".", ".."]),
        ),
        (
            "DELETE",
            "/topic/alarm/hub/..",
            "deleteHub",
            json!(["alarm", ".."]),
        ),
    ] {
        let answer = raw_http(
            address,
            format!("{method} {BASE}{path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 501"), "{path}: {answer}");
        let (_, body) = answer.split_once("\r\n\r\n").unwrap();
        let body: Value = serde_json::from_str(body).unwrap();
        let expected = format!("{operation} reached the handler with {args}");
        assert_eq!(body["message"], json!(expected), "{path}");
    }
}
