//! Bad input over a real loopback server: every case gets the right 4xx status and a
//! TMF `Error` body whose message names the problem — never a 5xx, never axum's
//! text/plain rejections.

mod common;

use serde_json::{Value, json};
use tmf688_runtime::AppConfig;

const TMF: &str = "/tmf-api/event/v4";
const PSI: &str = "/psi-api/event/v2";
const JSON: Option<&str> = Some("application/json");

/// One bad request and what it must get.
struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    body: Option<Vec<u8>>,
    status: u16,
    /// A word the message must contain (case-insensitive).
    names: &'static str,
}

fn case(
    name: &'static str,
    method: &'static str,
    path: impl Into<String>,
    body: Option<Value>,
    status: u16,
    names: &'static str,
) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        content_type: body.as_ref().and(JSON),
        body: body.map(|b| b.to_string().into_bytes()),
        status,
        names,
    }
}

fn raw(
    name: &'static str,
    method: &'static str,
    path: impl Into<String>,
    content_type: Option<&'static str>,
    body: &[u8],
    status: u16,
    names: &'static str,
) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        content_type,
        body: Some(body.to_vec()),
        status,
        names,
    }
}

fn event(event_id: &str) -> Value {
    json!({
        "@type": "AlarmCreateEvent",
        "eventId": event_id,
        "eventType": "AlarmCreateEvent",
        "event": {"id": "a1", "perceivedSeverity": "major"}
    })
}

fn without(mut value: Value, key: &str) -> Value {
    value.as_object_mut().unwrap().remove(key);
    value
}

fn with(mut value: Value, key: &str, new: Value) -> Value {
    value[key] = new;
    value
}

fn cases() -> Vec<Case> {
    let events = format!("{TMF}/topic/alarm/event");
    let hubs = format!("{TMF}/topic/alarm/hub");
    let topics = format!("{TMF}/topic");
    let hub = |callback: Value| json!({"callback": callback});
    vec![
        // Malformed or mistyped bodies.
        raw(
            "malformed JSON",
            "POST",
            &events,
            JSON,
            b"{not json",
            400,
            "invalid JSON",
        ),
        raw(
            "truncated JSON",
            "POST",
            &events,
            JSON,
            br#"{"@type": "X", "eventId": "#,
            400,
            "invalid JSON",
        ),
        case(
            "JSON array instead of object",
            "POST",
            &events,
            Some(json!([event("e1")])),
            400,
            "invalid JSON",
        ),
        raw(
            "empty body",
            "POST",
            &events,
            JSON,
            b"",
            400,
            "body is required",
        ),
        case(
            "event: missing eventId",
            "POST",
            &events,
            Some(without(event("e1"), "eventId")),
            400,
            "eventId",
        ),
        case(
            "event: missing @type",
            "POST",
            &events,
            Some(without(event("e1"), "@type")),
            400,
            "@type",
        ),
        case(
            "event: missing event",
            "POST",
            &events,
            Some(without(event("e1"), "event")),
            400,
            "event",
        ),
        case(
            "event: eventId is a number",
            "POST",
            &events,
            Some(with(event("e1"), "eventId", json!(42))),
            400,
            "eventId",
        ),
        case(
            "event: empty eventId",
            "POST",
            &events,
            Some(with(event(""), "eventId", json!("  "))),
            400,
            "eventId",
        ),
        case(
            "event: eventTime not a date-time",
            "POST",
            &events,
            Some(with(event("e1"), "eventTime", json!("yesterday"))),
            400,
            "eventTime",
        ),
        case(
            "event: payload does not fit Alarm",
            "POST",
            &events,
            Some(with(
                event("e1"),
                "event",
                json!({"perceivedSeverity": {"not": "text"}}),
            )),
            400,
            "Alarm",
        ),
        case(
            "event: same eventId, other content",
            "POST",
            &events,
            Some(with(event("e-dup"), "eventType", json!("Other"))),
            409,
            "e-dup",
        ),
        case(
            "topic: missing name",
            "POST",
            &topics,
            Some(json!({"@type": "Topic"})),
            400,
            "name",
        ),
        case(
            "topic: name is a number",
            "POST",
            &topics,
            Some(json!({"name": 123})),
            400,
            "name",
        ),
        case(
            "topic: empty name",
            "POST",
            &topics,
            Some(json!({"name": " "})),
            400,
            "name",
        ),
        case(
            "hub: missing callback",
            "POST",
            &hubs,
            Some(json!({"query": "eventType=X"})),
            400,
            "callback",
        ),
        case(
            "hub: callback is a number",
            "POST",
            &hubs,
            Some(hub(json!(7))),
            400,
            "callback",
        ),
        case(
            "hub: callback not an http URL",
            "POST",
            &hubs,
            Some(hub(json!("ftp://example.com/x"))),
            400,
            "callback",
        ),
        case(
            "hub: query not a filter",
            "POST",
            &hubs,
            Some(json!({"callback": "http://127.0.0.1:9/cb", "query": "eventType[x]=1"})),
            400,
            "query",
        ),
        case(
            "listener: missing callback",
            "POST",
            format!("{TMF}/hub"),
            Some(json!({})),
            400,
            "callback",
        ),
        // Media type and size.
        raw(
            "text/plain body",
            "POST",
            &events,
            Some("text/plain"),
            event("e1").to_string().as_bytes(),
            415,
            "application/json",
        ),
        raw(
            "XML body on topic",
            "POST",
            &topics,
            Some("application/xml"),
            b"<topic/>",
            415,
            "application/json",
        ),
        case(
            "oversized body",
            "POST",
            &events,
            Some(with(
                event("big"),
                "event",
                json!({"blob": "x".repeat(8192)}),
            )),
            413,
            "size limit",
        ),
        // Unknown ids.
        case(
            "event on unknown topic",
            "POST",
            format!("{TMF}/topic/nope/event"),
            Some(event("e1")),
            404,
            "nope",
        ),
        case(
            "list events of unknown topic",
            "GET",
            format!("{TMF}/topic/nope/event"),
            None,
            404,
            "nope",
        ),
        case(
            "unknown topic",
            "GET",
            format!("{TMF}/topic/nope"),
            None,
            404,
            "nope",
        ),
        case(
            "unknown event",
            "GET",
            format!("{events}/e-404"),
            None,
            404,
            "e-404",
        ),
        case(
            "unknown hub",
            "GET",
            format!("{hubs}/hub-404"),
            None,
            404,
            "hub-404",
        ),
        case(
            "delete unknown hub",
            "DELETE",
            format!("{PSI}/topic/alarm/hub/hub-404"),
            None,
            404,
            "hub-404",
        ),
        case(
            "hub on unknown topic",
            "POST",
            format!("{PSI}/topic/nope/hub"),
            Some(hub(json!("http://127.0.0.1:9/cb"))),
            404,
            "nope",
        ),
        case(
            "delete unknown topic",
            "DELETE",
            format!("{topics}/nope"),
            None,
            404,
            "nope",
        ),
        case(
            "delete unknown listener",
            "DELETE",
            format!("{TMF}/hub/listener-404"),
            None,
            404,
            "listener-404",
        ),
        case(
            "delete a profile topic",
            "DELETE",
            format!("{topics}/order"),
            None,
            409,
            "PSI profile",
        ),
        // Query parameters.
        case(
            "negative offset",
            "GET",
            format!("{events}?offset=-1"),
            None,
            400,
            "offset",
        ),
        case(
            "offset not a number",
            "GET",
            format!("{events}?offset=first"),
            None,
            400,
            "offset",
        ),
        case(
            "negative limit",
            "GET",
            format!("{events}?limit=-5"),
            None,
            400,
            "limit",
        ),
        case(
            "limit not a number",
            "GET",
            format!("{events}?limit=many"),
            None,
            400,
            "limit",
        ),
        case(
            "filter with unknown operator",
            "GET",
            format!("{events}?eventTime[around]=2020"),
            None,
            400,
            "around",
        ),
        case(
            "filter with an empty path segment",
            "GET",
            format!("{events}?event..id=a1"),
            None,
            400,
            "event..id",
        ),
        case(
            "hub list: malformed filter",
            "GET",
            format!("{hubs}?callback[~]=x"),
            None,
            400,
            "callback",
        ),
        case(
            "malformed filter name",
            "GET",
            format!("{events}?eventType[zz]=1"),
            None,
            400,
            "eventType[zz]",
        ),
        // Paths and methods.
        case(
            "unknown path",
            "GET",
            format!("{TMF}/nothing/here"),
            None,
            404,
            "/nothing/here",
        ),
        case(
            "unknown base path",
            "GET",
            "/tmf-api/event/v3/topic",
            None,
            404,
            "/tmf-api/event/v3/topic",
        ),
        case(
            "method not supported",
            "PUT",
            &topics,
            Some(json!({"name": "x"})),
            405,
            "PUT",
        ),
        case(
            "PSI path: createTopic not served",
            "POST",
            format!("{PSI}/topic"),
            Some(json!({"name": "x"})),
            405,
            "createTopic",
        ),
        case(
            "PSI path: deleteTopic not served",
            "DELETE",
            format!("{PSI}/topic/order"),
            None,
            405,
            "deleteTopic",
        ),
        case(
            "PSI alias: registerListener not served",
            "POST",
            "/psi/event/v2/hub",
            Some(json!({"callback": "http://127.0.0.1:9/cb"})),
            404,
            "/psi/event/v2/hub",
        ),
    ]
}

#[tokio::test]
async fn bad_input_gets_4xx_with_a_tmf_error_naming_the_problem() {
    let server = common::spawn(AppConfig {
        max_body_bytes: 4096,
        ..AppConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    // State some cases rely on: an event whose eventId a later case reuses.
    let first = common::json(
        &http,
        "POST",
        &format!("{}{TMF}/topic/alarm/event", server.url),
        None,
        Some(&event("e-dup")),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);

    let cases = cases();
    assert!(cases.len() >= 25, "the table must hold at least 25 cases");
    let mut failures = Vec::new();
    for case in &cases {
        let answer = common::send(
            &http,
            case.method,
            &format!("{}{}", server.url, case.path),
            None,
            case.content_type,
            case.body.clone(),
        )
        .await;
        if let Err(why) = answer.tmf_error(case.status, case.names) {
            failures.push(format!(
                "{} ({} {}): {why}",
                case.name, case.method, case.path
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
