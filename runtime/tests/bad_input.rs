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

// ---------------------------------------------------------------------------------
// What a store is handed: the same answer on every store (issue 11). PostgreSQL used
// to answer 500 where the memory store answered 201: text columns refuse NUL, and its
// B-tree indexes refuse keys over ~2.7 KB. `runtime/src/limits.rs` now decides, above
// the stores.

/// A server for one test, with a body limit that lets over-long values through (so
/// that the value's limit, not the body's, is what is tested).
async fn server() -> common::Server {
    common::spawn(AppConfig {
        max_body_bytes: 16 * 1024,
        ..AppConfig::default()
    })
    .await
}

/// `len` bytes of letters and digits that do not compress (a PostgreSQL index compresses
/// repetitive keys, which would hide a key that is too long), different for each `tag`.
fn filler(len: usize, tag: u64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ tag.wrapping_mul(0x2545_F491_4F6C_DD1D);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(ALPHABET[usize::try_from(state % 62).unwrap()])
        })
        .collect()
}

/// What a value is tried with.
#[derive(Clone, Copy, Debug)]
enum Variant {
    /// A NUL character in the middle.
    Nul,
    /// Another character that is refused in the middle (C0, DEL or C1 control).
    Control(char),
    /// One byte over the limit.
    OverLong,
    /// Exactly at the limit: accepted.
    AtLimit,
}

const VARIANTS: &[Variant] = &[
    Variant::Nul,
    Variant::Control('\u{1}'),
    Variant::Control('\n'),
    Variant::Control('\u{1b}'),
    Variant::Control('\u{7f}'),
    Variant::Control('\u{85}'),
    Variant::OverLong,
    Variant::AtLimit,
];

impl Variant {
    /// The value: `make(len)` builds a valid one of exactly `len` bytes.
    fn value(self, limit: usize, make: &dyn Fn(usize) -> String) -> String {
        match self {
            Self::Nul => spliced(&make(24), '\0'),
            Self::Control(c) => spliced(&make(24), c),
            Self::OverLong => make(limit + 1),
            Self::AtLimit => make(limit),
        }
    }
}

/// 201 when `accepted`, else a 400 TMF `Error` whose message names `names`.
fn created_or_refused(answer: &common::Answer, accepted: bool, names: &str) -> Result<(), String> {
    match (accepted, answer.status) {
        (true, 201) => Ok(()),
        (true, status) => Err(format!("status {status}: {}", answer.text)),
        (false, _) => answer.tmf_error(400, names),
    }
}

/// `value` with `c` in its middle.
fn spliced(value: &str, c: char) -> String {
    let middle = value.len() / 2;
    format!("{}{c}{}", &value[..middle], &value[middle..])
}

/// One value the service hands to a store, in a body.
struct Stored {
    field: &'static str,
    /// Its limit in bytes.
    limit: usize,
    /// A valid value of exactly `len` bytes, unique for `tag`.
    make: fn(len: usize, tag: u64) -> String,
    /// Where it is POSTed.
    path: String,
    /// The request body holding the value.
    body: fn(value: &str, tag: u64) -> Value,
    /// The word a refusal names.
    names: &'static str,
}

fn callback(len: usize, tag: u64) -> String {
    let base = "http://127.0.0.1:9/";
    format!("{base}{}", filler(len - base.len(), tag))
}

fn stored_values() -> Vec<Stored> {
    let mut values = vec![
        Stored {
            field: "eventId",
            limit: 256,
            make: filler,
            path: format!("{TMF}/topic/alarm/event"),
            body: |value, _| event(value),
            names: "eventId",
        },
        Stored {
            field: "topic name",
            limit: 256,
            make: filler,
            path: format!("{TMF}/topic"),
            body: |value, _| json!({"name": value}),
            names: "name",
        },
    ];
    // Hubs and listeners take the same two values.
    for (kind, path) in [
        ("hub", format!("{TMF}/topic/alarm/hub")),
        ("listener", format!("{TMF}/hub")),
    ] {
        values.push(Stored {
            field: if kind == "hub" {
                "hub callback"
            } else {
                "listener callback"
            },
            limit: 1024,
            make: callback,
            path: path.clone(),
            body: |value, _| json!({"callback": value}),
            names: "callback",
        });
        values.push(Stored {
            field: if kind == "hub" {
                "hub query"
            } else {
                "listener query"
            },
            limit: 1024,
            make: |len, tag| format!("eventType={}", filler(len - "eventType=".len(), tag)),
            path,
            body: |value, tag| json!({"callback": callback(40, tag), "query": value}),
            names: "query",
        });
    }
    values
}

/// Every value handed to a store × {NUL, control characters, one byte too long, at
/// the limit}: 400 with a TMF `Error` naming the field, or 201 at the limit — on the
/// memory store and on PostgreSQL alike.
#[tokio::test]
async fn stored_values_are_checked_alike_on_every_store() {
    let server = server().await;
    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    let mut tried = 0;
    for (index, stored) in stored_values().iter().enumerate() {
        for (n, variant) in VARIANTS.iter().enumerate() {
            let tag = u64::try_from(index * 100 + n).unwrap();
            let value = variant.value(stored.limit, &|len| (stored.make)(len, tag));
            let body = (stored.body)(&value, tag);
            let answer = common::json(
                &http,
                "POST",
                &format!("{}{}", server.url, stored.path),
                None,
                Some(&body),
            )
            .await;
            tried += 1;
            let accepted = matches!(variant, Variant::AtLimit);
            let outcome = created_or_refused(&answer, accepted, stored.names);
            if let Err(why) = outcome {
                failures.push(format!("{} × {variant:?}: {why}", stored.field));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {tried} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The worst case of PostgreSQL's hub identity index (topic, callback, query, owner):
/// a callback and a query both at their limits, neither compressible.
#[tokio::test]
async fn a_hub_with_every_value_at_its_limit_is_stored() {
    let server = server().await;
    let http = reqwest::Client::new();
    let query = format!("eventType={}", filler(1024 - "eventType=".len(), 7));
    let body = json!({"callback": callback(1024, 8), "query": query});
    let url = format!("{}{TMF}/topic/alarm/hub", server.url);
    let created = common::json(&http, "POST", &url, None, Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    // Registering it again finds it (idempotent), through the same index.
    let again = common::json(&http, "POST", &url, None, Some(&body)).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.json()["id"], created.json()["id"]);
}

/// Path ids that cannot name anything (NUL or control characters, over 256 bytes) are
/// not found (404 with a TMF `Error`), like any unknown id — never a store failure. An
/// id at the limit reaches the store and is simply not found.
#[tokio::test]
async fn path_ids_that_cannot_exist_are_not_found_on_every_store() {
    let server = server().await;
    let http = reqwest::Client::new();
    // (method, path with `{}` for the id, the word the message names, body)
    let templates: Vec<(&str, String, &str, Option<Value>)> = vec![
        ("GET", format!("{TMF}/topic/{{}}"), "topic", None),
        ("DELETE", format!("{TMF}/topic/{{}}"), "topic", None),
        ("GET", format!("{TMF}/topic/{{}}/event"), "topic", None),
        (
            "POST",
            format!("{TMF}/topic/{{}}/event"),
            "topic",
            Some(event("p-1")),
        ),
        ("GET", format!("{TMF}/topic/{{}}/event/1"), "topic", None),
        (
            "GET",
            format!("{TMF}/topic/alarm/event/{{}}"),
            "event",
            None,
        ),
        ("GET", format!("{TMF}/topic/{{}}/hub"), "topic", None),
        (
            "POST",
            format!("{PSI}/topic/{{}}/hub"),
            "topic",
            Some(json!({"callback": "http://127.0.0.1:9/p"})),
        ),
        ("GET", format!("{TMF}/topic/alarm/hub/{{}}"), "hub", None),
        ("DELETE", format!("{PSI}/topic/alarm/hub/{{}}"), "hub", None),
        ("GET", format!("{TMF}/topic/{{}}/hub/hub-1"), "topic", None),
        ("DELETE", format!("{TMF}/hub/{{}}"), "listener", None),
    ];
    // Percent-encoded as they travel in a URL.
    let ids = [
        ("NUL", "a%00b".to_owned()),
        ("SOH", "a%01b".to_owned()),
        ("ESC", "a%1Bb".to_owned()),
        ("DEL", "a%7Fb".to_owned()),
        ("C1 (U+0085)", "a%C2%85b".to_owned()),
        ("257 bytes", filler(257, 1)),
        ("3000 bytes", filler(3000, 2)),
        ("256 bytes (at the limit)", filler(256, 3)),
    ];
    let mut failures = Vec::new();
    for (method, template, names, body) in &templates {
        for (label, id) in &ids {
            let path = template.replace("{}", id);
            let answer = common::json(
                &http,
                method,
                &format!("{}{path}", server.url),
                None,
                body.as_ref(),
            )
            .await;
            if let Err(why) = answer.tmf_error(404, names) {
                failures.push(format!("{method} {template} with {label}: {why}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        templates.len() * ids.len(),
        failures.join("\n")
    );
}

/// The issue's instance: an `eventId` with a NUL, or 3,000 characters long, was stored
/// by the memory store (201) and failed PostgreSQL (500). Now 400 on both.
#[tokio::test]
async fn event_id_with_nul_or_3000_characters_is_400_on_every_store() {
    let server = server().await;
    let http = reqwest::Client::new();
    let url = format!("{}{TMF}/topic/alarm/event", server.url);
    let mut failures = Vec::new();
    // Repeated characters compress in PostgreSQL's index; random ones do not.
    for event_id in ["e\u{0}1".to_owned(), "e".repeat(3000), filler(3000, 9)] {
        let answer = common::json(&http, "POST", &url, None, Some(&event(&event_id))).await;
        if let Err(why) = answer.tmf_error(400, "eventId") {
            failures.push(format!("eventId of {} bytes: {why}", event_id.len()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A payload may hold any JSON string, `\u0000` included: both stores keep it and
/// answer it back exactly (PostgreSQL's `json` type keeps the escape as written).
#[tokio::test]
async fn nul_inside_the_payload_is_stored_and_answered_exactly() {
    let server = server().await;
    let http = reqwest::Client::new();
    let url = format!("{}{TMF}/topic/alarm/event", server.url);
    let mut body = event("nul-in-payload");
    body["event"]["note"] = json!("a\u{0}b\u{1b}c");
    body["note"] = json!("x\u{0}y");
    let created = common::json(&http, "POST", &url, None, Some(&body)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json()["event"]["note"], "a\u{0}b\u{1b}c");
    let href = created.json()["id"].as_str().unwrap().to_owned();
    let read = common::json(&http, "GET", &format!("{url}/{href}"), None, None).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json()["event"]["note"], "a\u{0}b\u{1b}c");
    assert_eq!(read.json()["note"], "x\u{0}y");
    // The same again is the same event (de-duplication compares the stored body).
    let again = common::json(&http, "POST", &url, None, Some(&body)).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.json()["id"], created.json()["id"]);
    // And the list answers it too.
    let list = common::json(&http, "GET", &url, None, None).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json()[0]["event"]["note"], "a\u{0}b\u{1b}c");
}

/// The caller's principal name is stored as the owner of what it registers, and
/// logged: a name the store cannot keep or a log line would print raw never becomes a
/// principal. An API key with such a name is a configuration error at start-up (JWT
/// subjects: a 401, `jwt_claims`); a name at the limit owns hubs and listeners on
/// every store.
#[tokio::test]
async fn principal_names_that_cannot_own_a_hub_are_refused_on_every_store() {
    use tmf688_api::profile::Role;
    use tmf688_runtime::auth::{ApiKeyConfig, AuthConfig, sha256_hex};
    // (principal name, accepted; else the configuration error names …)
    let names = [
        ("a\u{0}b".to_owned(), Some("U+0000")),
        ("a\u{1b}b".to_owned(), Some("U+001B")),
        (filler(257, 1), Some("257 bytes")),
        (filler(256, 2), None),
    ];
    let config = |n: usize, name: &str| AuthConfig {
        api_keys: vec![ApiKeyConfig {
            name: name.to_owned(),
            party: None,
            role: Role::Provider,
            sha256: sha256_hex(&format!("key-{n}")),
        }],
        ..AuthConfig::default()
    };
    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    for (n, (name, refusal)) in names.iter().enumerate() {
        let label = format!("{} bytes {:?}…", name.len(), &name[..3]);
        let auth = match (
            tmf688_runtime::Authenticator::from_config(&config(n, name)),
            refusal,
        ) {
            (Err(error), Some(needle)) if error.0.contains(needle) => continue,
            (Ok(auth), None) => auth,
            (outcome, _) => {
                failures.push(format!("{label}: configuration {outcome:?}"));
                continue;
            }
        };
        let server = common::spawn(AppConfig {
            auth: Some(std::sync::Arc::new(auth)),
            ..AppConfig::default()
        })
        .await;
        for (path, body) in [
            (
                format!("{PSI}/topic/alarm/hub"),
                json!({"callback": format!("http://127.0.0.1:9/h{n}")}),
            ),
            (
                format!("{TMF}/hub"),
                json!({"callback": format!("http://127.0.0.1:9/l{n}")}),
            ),
        ] {
            let answer = common::json(
                &http,
                "POST",
                &format!("{}{path}", server.url),
                Some(&format!("key-{n}")),
                Some(&body),
            )
            .await;
            if let Err(why) = created_or_refused(&answer, true, "principal") {
                failures.push(format!("{path} as {label}: {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The issue's instance, `"eventTime": "2024-02-30T12:00:00Z"`, was stored (201): the
/// generated `DateTime` checked only the shape. A date-time must now name a real
/// instant, and a `format: uri` value must be an absolute URI — on every store.
#[tokio::test]
async fn impossible_date_times_and_uris_are_400_on_every_store() {
    let server = server().await;
    let http = reqwest::Client::new();
    let url = format!("{}{TMF}/topic/alarm/event", server.url);
    // (attribute, value, accepted)
    let cases = [
        ("eventTime", "2024-02-30T12:00:00Z", false),
        ("eventTime", "2023-02-29T12:00:00Z", false),
        ("eventTime", "2024-02-29T12:00:00Z", true),
        ("eventTime", "2024-04-31T12:00:00Z", false),
        ("eventTime", "2024-13-01T12:00:00Z", false),
        ("eventTime", "2024-05-01T24:00:00Z", false),
        ("eventTime", "2024-05-01T12:60:00Z", false),
        ("eventTime", "2024-05-01T12:00:61Z", false),
        ("eventTime", "2016-12-31T23:59:60Z", true),
        ("eventTime", "2016-12-31T12:59:60Z", false),
        ("eventTime", "2024-05-01T12:00:00+24:00", false),
        ("eventTime", "2019-11-02T14:20:54", true),
        ("eventTime", "2019-11-02T14:20:54.123456+05:30", true),
        ("timeOccurred", "2024-02-30T12:00:00Z", false),
        ("@schemaLocation", "http://xx/Event.schema.json", true),
        ("@schemaLocation", "Event.schema.json", false),
        ("@schemaLocation", "http://xx/Event schema.json", false),
        ("@schemaLocation", "http://xx:port/Event.schema.json", false),
    ];
    let mut failures = Vec::new();
    for (n, (attribute, value, accepted)) in cases.iter().enumerate() {
        let body = with(event(&format!("t-{n}")), attribute, json!(value));
        let answer = common::json(&http, "POST", &url, None, Some(&body)).await;
        let outcome = created_or_refused(&answer, *accepted, attribute);
        if let Err(why) = outcome {
            failures.push(format!("{attribute} = {value:?}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What an earlier version stored before these rules (an impossible `eventTime`, a
/// relative `@schemaLocation`, a callback with a space) is still answered, as stored —
/// a stricter model must not turn reading old data into a 500.
#[tokio::test]
async fn what_was_stored_before_the_rules_is_still_answered() {
    use tmf688_runtime::Store as _;
    use tmf688_runtime::store::{HubStart, NewEvent, NewHub};
    let (hub, db) = common::hub(tmf688_runtime::HubConfig::default()).await;
    let mut legacy = event("legacy");
    legacy["eventTime"] = json!("2024-02-30T12:00:00Z");
    legacy["@schemaLocation"] = json!("Event.schema.json");
    let appended = hub
        .store()
        .append_events(
            "alarm",
            vec![NewEvent {
                event_id: "legacy".into(),
                publisher: String::new(),
                body: legacy.to_string().into_bytes().into(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(appended.len(), 1);
    let callback = "http://127.0.0.1:9/a b";
    let (legacy_hub, _) = hub
        .store()
        .create_hub(NewHub {
            topic_id: "alarm".into(),
            callback: callback.into(),
            query: None,
            body: json!({"callback": callback})
                .to_string()
                .into_bytes()
                .into(),
            owner: None,
            base_path: Some(TMF.into()),
            start: HubStart::Head,
        })
        .await
        .unwrap();
    let server = common::serve(
        tmf688_runtime::app_with(std::sync::Arc::new(hub), &AppConfig::default()),
        db,
    )
    .await;
    let http = reqwest::Client::new();
    let events = format!("{}{TMF}/topic/alarm/event", server.url);
    let hubs = format!("{}{TMF}/topic/alarm/hub", server.url);
    for (url, pointer, expected) in [
        (events.clone(), "/0/eventTime", "2024-02-30T12:00:00Z"),
        (
            format!("{events}?eventId=legacy"),
            "/0/eventTime",
            "2024-02-30T12:00:00Z",
        ),
        (
            format!("{events}/1"),
            "/@schemaLocation",
            "Event.schema.json",
        ),
        (hubs.clone(), "/0/callback", callback),
        (format!("{hubs}/{}", legacy_hub.id), "/callback", callback),
    ] {
        let answer = common::json(&http, "GET", &url, None, None).await;
        assert_eq!(answer.status, 200, "{url}: {}", answer.text);
        assert_eq!(
            answer.json().pointer(pointer),
            Some(&json!(expected)),
            "{url}: {}",
            answer.text
        );
    }
}

/// No id the hub hands out or accepts is a path dot-segment or empty: a topic named
/// `.` or `..` would get an id no URL can reach (clients and proxies remove such
/// segments), so the name is refused; names around them are plain ids and reachable.
/// Server-assigned ids (topics with other names, hubs, listeners, events) are checked
/// to be reachable too.
#[tokio::test]
async fn no_id_is_a_dot_segment_or_empty() {
    let server = server().await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{TMF}{path}", server.url);
    // (name, refused with a message naming …, or None: created under an id that works)
    let names: &[(&str, Option<&str>)] = &[
        (".", Some("dot-segment")),
        ("..", Some("dot-segment")),
        ("", Some("empty")),
        (" ", Some("empty")),
        ("...", None),
        (".hidden", None),
        ("a..b", None),
        ("v1.", None),
        ("~", None),
        ("a b", None),
        ("./x", None),
    ];
    let mut failures = Vec::new();
    for (name, refusal) in names {
        let answer = common::json(
            &http,
            "POST",
            &url("/topic"),
            None,
            Some(&json!({"name": name})),
        )
        .await;
        let outcome = match refusal {
            Some(needle) => answer.tmf_error(400, needle),
            None if answer.status != 201 => Err(format!("{} {}", answer.status, answer.text)),
            None => {
                let id = answer.json()["id"].as_str().unwrap_or_default().to_owned();
                let reached = common::json(
                    &http,
                    "GET",
                    &url(&format!("/topic/{}", encode(&id))),
                    None,
                    None,
                )
                .await;
                if matches!(id.as_str(), "" | "." | "..") || reached.json()["name"] != json!(name) {
                    Err(format!("id {id:?}: {} {}", reached.status, reached.text))
                } else {
                    Ok(())
                }
            }
        };
        if let Err(why) = outcome {
            failures.push(format!("name {name:?}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Ids the server makes up: hubs, listeners, events (with and without eventId).
    let hub = common::json(
        &http,
        "POST",
        &url("/topic/order/hub"),
        None,
        Some(&json!({"callback": "http://127.0.0.1:9/h"})),
    )
    .await;
    let listener = common::json(
        &http,
        "POST",
        &url("/hub"),
        None,
        Some(&json!({"callback": "http://127.0.0.1:9/l"})),
    )
    .await;
    let event = common::json(
        &http,
        "POST",
        &url("/topic/alarm/event"),
        None,
        Some(&event("..")),
    )
    .await;
    for (what, answer) in [("hub", &hub), ("listener", &listener), ("event", &event)] {
        let id = answer.json()["id"].as_str().unwrap_or_default().to_owned();
        assert!(
            answer.status == 201 && !matches!(id.as_str(), "" | "." | ".."),
            "{what}: {} {}",
            answer.status,
            answer.text
        );
    }
}

/// A path segment, percent-encoded where it must be.
fn encode(segment: &str) -> String {
    segment
        .replace('%', "%25")
        .replace(' ', "%20")
        .replace('/', "%2F")
}
