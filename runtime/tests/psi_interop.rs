//! What PSI peers send, on every base path of the profile (issue: PSI interoperability):
//! PSID688's `Event_Create` has no mandatory attribute, so on the PSI base paths the
//! TOD-01-02 sketch `{"eventType": "updated", "value": {...}}` is an event (the hub
//! assigns its `eventId`; `Idempotency-Key` makes retries safe), while the TMF path
//! keeps the guide's mandatory set. Base paths can be switched off. Each test runs its
//! own server on the store `TMF688_TEST_STORE` selects.

mod common;

use serde_json::{Value, json};
use tmf688_api::profile;
use tmf688_runtime::{AppConfig, check_disabled_base_paths};

const TMF: &str = "/tmf-api/event/v4";

/// The PSI base paths: every base path of the profile but the TMF one.
fn psi_base_paths() -> Vec<&'static str> {
    let paths: Vec<&str> = profile::BASE_PATHS
        .iter()
        .map(|b| b.path)
        .filter(|p| *p != TMF)
        .collect();
    // The variants PSI's own documents use (PSID688 OAS, seed diagram, ICD, TOD
    // endpoint files, reference mockup).
    for expected in [
        "/psi-api/event/v2",
        "/psi/event/v2",
        "/event/v2",
        "/eventManagement/v2",
        "/psi-api/eventManagement/v2",
    ] {
        assert!(paths.contains(&expected), "{expected} is not served");
    }
    paths
}

/// The PSI seed's sequence diagram (TOD-01-02): no eventId, no @type, no `event`.
fn sketch(order: &str) -> Value {
    json!({"eventType": "updated", "value": {"@type": "Order", "id": order}})
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    key: Option<&str>,
) -> common::Answer {
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    common::Answer {
        status,
        headers,
        text,
    }
}

fn is_assigned_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn the_psi_sketch_is_an_event_on_every_psi_base_path() {
    let server = common::spawn(AppConfig::default()).await;
    let http = reqwest::Client::new();
    let mut assigned = Vec::new();
    for (n, base) in psi_base_paths().into_iter().enumerate() {
        let body = sketch(&format!("o-{n}"));
        let created = post(
            &http,
            &format!("{}{base}/topic/order/event", server.url),
            &body,
            None,
        )
        .await;
        assert_eq!(created.status, 201, "{base}: {}", created.text);
        let event = created.json();
        let event_id = event["eventId"].as_str().unwrap_or_default().to_owned();
        assert!(
            is_assigned_id(&event_id),
            "{base}: server-assigned eventId {event_id:?}"
        );
        assert!(
            event.get("@type").is_none(),
            "{base}: absent @type stays absent: {event}"
        );
        assert!(event.get("event").is_none(), "{base}: {event}");
        assert_eq!(
            event["value"], body["value"],
            "{base}: unknown attributes are kept"
        );
        assert_eq!(event["eventType"], "updated");
        // Stored as answered: retrieve it back on the same base path.
        let href = created.header("location").expect("Location").to_owned();
        let read = common::json(&http, "GET", &format!("{}{href}", server.url), None, None).await;
        assert_eq!(read.status, 200, "{base}: {}", read.text);
        assert_eq!(read.json()["eventId"], event_id.as_str());
        assert_eq!(read.json()["value"], body["value"]);
        assigned.push(event_id);
    }
    assigned.sort();
    assigned.dedup();
    assert_eq!(
        assigned.len(),
        psi_base_paths().len(),
        "every assigned eventId is new"
    );
}

/// The TMF path keeps the guide's mandatory attributes (CORRECTIONS.md S3); the PSI
/// paths take each of these bodies.
#[tokio::test]
async fn the_tmf_path_keeps_the_guides_mandatory_attributes() {
    let server = common::spawn(AppConfig::default()).await;
    let http = reqwest::Client::new();
    let full =
        json!({"@type": "ProductOrderCreateEvent", "eventId": "e-1", "event": {"id": "po-1"}});
    for missing in ["@type", "event", "eventId"] {
        let mut body = full.clone();
        body.as_object_mut().unwrap().remove(missing);
        let url = format!("{}{TMF}/topic/order/event", server.url);
        let refused = post(&http, &url, &body, None).await;
        refused
            .tmf_error(400, &format!("missing field `{missing}`"))
            .unwrap_or_else(|why| panic!("TMF path without {missing}: {why}"));
        for base in psi_base_paths() {
            let mut body = body.clone();
            if missing != "eventId" {
                body["eventId"] = json!(format!("{base}-{missing}"));
            }
            let url = format!("{}{base}/topic/order/event", server.url);
            let created = post(&http, &url, &body, None).await;
            assert_eq!(
                created.status, 201,
                "{base} without {missing}: {}",
                created.text
            );
        }
    }
    // What is present is still checked on the PSI paths.
    for (body, needle) in [
        (json!({"eventId": ""}), "eventId"),
        (json!({"eventId": "x", "@type": " "}), "@type"),
        (
            json!({"eventId": "y", "event": "not an order"}),
            "ProductOrder",
        ),
        (json!({"eventId": 7}), "eventId"),
    ] {
        let url = format!("{}/event/v2/topic/order/event", server.url);
        let refused = post(&http, &url, &body, None).await;
        refused
            .tmf_error(400, needle)
            .unwrap_or_else(|why| panic!("{body}: {why}"));
    }
}

#[tokio::test]
async fn an_idempotency_key_makes_retries_of_events_without_event_id_safe() {
    let server = common::spawn(AppConfig::default()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/eventManagement/v2/topic/order/event", server.url);
    let body = sketch("o-1");

    let first = post(
        &http,
        &url,
        &body,
        Some("\"8e03978e-40d5-43e8-bc93-6894a57f9324\""),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let event_id = first.json()["eventId"].as_str().unwrap().to_owned();
    assert!(event_id.starts_with("idem-"), "{event_id}");
    // A retry (bare or quoted key alike) is the same event, stored once.
    for key in [
        "8e03978e-40d5-43e8-bc93-6894a57f9324",
        "\"8e03978e-40d5-43e8-bc93-6894a57f9324\"",
    ] {
        let retry = post(&http, &url, &body, Some(key)).await;
        assert_eq!(retry.status, 201, "{}", retry.text);
        assert_eq!(retry.json()["eventId"], event_id.as_str());
        assert_eq!(retry.json()["id"], first.json()["id"]);
    }
    // The same key with other content is a conflict, as for a reused eventId.
    let other = post(
        &http,
        &url,
        &sketch("o-2"),
        Some("8e03978e-40d5-43e8-bc93-6894a57f9324"),
    )
    .await;
    other.tmf_error(409, "eventId").unwrap();
    // Another key is another event; an eventId in the body wins over the key.
    let second = post(&http, &url, &body, Some("another")).await;
    assert_eq!(second.status, 201);
    assert_ne!(second.json()["eventId"], event_id.as_str());
    let mut own = body.clone();
    own["eventId"] = json!("mine");
    let explicit = post(
        &http,
        &url,
        &own,
        Some("8e03978e-40d5-43e8-bc93-6894a57f9324"),
    )
    .await;
    assert_eq!(explicit.json()["eventId"], "mine");

    let listed = common::json(&http, "GET", &url, None, None).await;
    assert_eq!(listed.header("x-total-count"), Some("3"), "{}", listed.text);

    // Keys that cannot be one.
    let long = "k".repeat(256);
    for key in ["", "\"\"", long.as_str(), "tab\there"] {
        let refused = post(&http, &url, &body, Some(key)).await;
        refused
            .tmf_error(400, "Idempotency-Key")
            .unwrap_or_else(|why| panic!("key {key:?}: {why}"));
    }
}

#[tokio::test]
async fn a_disabled_base_path_is_not_served() {
    let config = AppConfig {
        disabled_base_paths: vec!["/psi/event/v2".into(), "/event/v2/".into()],
        ..AppConfig::default()
    };
    let server = common::spawn(config).await;
    let http = reqwest::Client::new();
    for base in psi_base_paths() {
        let answer = common::json(
            &http,
            "GET",
            &format!("{}{base}/topic", server.url),
            None,
            None,
        )
        .await;
        if base == "/psi/event/v2" || base == "/event/v2" {
            answer
                .tmf_error(404, "")
                .unwrap_or_else(|why| panic!("{base}: {why}"));
        } else {
            assert_eq!(answer.status, 200, "{base}: {}", answer.text);
        }
    }
}

#[test]
fn disabled_base_paths_are_checked() {
    assert!(check_disabled_base_paths(&["/psi/event/v2".into()]).is_ok());
    let unknown = check_disabled_base_paths(&["/psi/event/v3".into()]).unwrap_err();
    assert!(
        unknown.contains("/psi/event/v3") && unknown.contains("/tmf-api/event/v4"),
        "{unknown}"
    );
    let all: Vec<String> = profile::BASE_PATHS
        .iter()
        .map(|b| b.path.to_owned())
        .collect();
    assert!(
        check_disabled_base_paths(&all)
            .unwrap_err()
            .contains("nothing would be served")
    );
}
