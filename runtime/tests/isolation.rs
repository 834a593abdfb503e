//! Multi-party isolation over a real loopback server (DESIGN §4b): what one principal
//! may see or change of another's events, hubs and listeners. Table-driven: every
//! read and remove operation × each kind of viewer (the owner, another provider, a
//! PSS, a JWT principal with the owner's name from another namespace, an admin) ×
//! owned or not × need-to-know on or off.
//!
//! Runs on the in-memory store, and on PostgreSQL with `TMF688_TEST_STORE=postgres`.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tmf688_api::profile::Role;
use tmf688_runtime::auth::{ApiKeyConfig, AuthConfig, JwtConfig, sha256_hex};
use tmf688_runtime::delivery::{DeliveryConfig, DeliveryEngine};
use tmf688_runtime::{AppConfig, Authenticator, HubConfig, app_with};

const TMF: &str = "/tmf-api/event/v4";
const HS_SECRET: &str = "test-only hs256 secret, 32+ bytes long";
const ISSUER: &str = "https://idp.test";

/// The callers of the table. Keys are `key-<name>`; `jwt-provider-a` is a JWT whose
/// `sub` is `provider-a` — the API key's name, in another namespace.
const VIEWERS: [&str; 5] = ["provider-a", "provider-b", "pss-x", "ops", "jwt-provider-a"];

fn token(viewer: &str) -> String {
    match viewer {
        "jwt-provider-a" => jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &json!({"sub": "provider-a", "role": "provider", "iss": ISSUER,
                    "exp": jsonwebtoken::get_current_timestamp() + 600}),
            &EncodingKey::from_secret(HS_SECRET.as_bytes()),
        )
        .unwrap(),
        name => format!("key-{name}"),
    }
}

fn auth() -> AuthConfig {
    let key = |name: &str, role: Role| ApiKeyConfig {
        name: name.into(),
        role,
        sha256: sha256_hex(&format!("key-{name}")),
    };
    AuthConfig {
        api_keys: vec![
            key("provider-a", Role::Provider),
            key("provider-b", Role::Provider),
            key("pss-x", Role::Pss),
            key("ops", Role::Admin),
        ],
        jwt: vec![JwtConfig {
            alg: "HS256".into(),
            secret: Some(HS_SECRET.into()),
            secret_env: None,
            public_key_pem: None,
            public_key_file: None,
            issuer: Some(ISSUER.into()),
            audience: None,
            role_claim: "role".into(),
            name_claim: "sub".into(),
            leeway_seconds: None,
        }],
    }
}

struct Hub {
    server: common::Server,
    _engine: DeliveryEngine<common::TestStore>,
    http: reqwest::Client,
}

impl Hub {
    async fn start(need_to_know: bool) -> Self {
        let (hub, db) = common::hub(HubConfig::default()).await;
        let engine = DeliveryEngine::start(
            &hub,
            DeliveryConfig {
                need_to_know,
                ..DeliveryConfig::default()
            },
        )
        .await
        .unwrap();
        let config = AppConfig {
            auth: Some(Arc::new(Authenticator::from_config(&auth()).unwrap())),
            ..AppConfig::default()
        };
        let server = common::serve(app_with(Arc::new(hub), &config), db).await;
        Self {
            server,
            _engine: engine,
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        viewer: &str,
        body: Option<&Value>,
    ) -> common::Answer {
        let url = format!("{}{TMF}{path}", self.server.url);
        common::json(&self.http, method, &url, Some(&token(viewer)), body).await
    }

    /// The `eventId`s a listing answered, and its `X-Total-Count`.
    async fn listed(&self, path: &str, viewer: &str) -> (BTreeSet<String>, Option<String>) {
        let answer = self.call("GET", path, viewer, None).await;
        assert!(
            matches!(answer.status, 200 | 206),
            "{path} as {viewer}: {}",
            answer.text
        );
        let ids = answer
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventId"].as_str().unwrap_or_default().to_owned())
            .collect();
        (ids, answer.header("x-total-count").map(str::to_owned))
    }
}

/// An event published by provider-a naming `parties` as related parties.
fn event(event_id: &str, parties: &[&str]) -> Value {
    let mut event = json!({"@type": "Event", "eventId": event_id, "eventType": "X",
                           "event": {"id": event_id}});
    if !parties.is_empty() {
        event["relatedParty"] = parties
            .iter()
            .map(|p| json!({"id": p, "role": "p"}))
            .collect();
    }
    event
}

/// Which of the events each viewer sees: `a` names provider-a, `b` names provider-b,
/// `open` names nobody. Need-to-know compares party ids with principal names, so the
/// JWT principal named `provider-a` is that party too (it owns nothing of the key's).
fn expected_events(viewer: &str, need_to_know: bool) -> BTreeSet<String> {
    let all = ["a", "b", "open"];
    let seen: &[&str] = match (need_to_know, viewer) {
        (false, _) | (true, "ops") => &all,
        (true, "provider-a" | "jwt-provider-a") => &["a", "open"],
        (true, "provider-b") => &["b", "open"],
        (true, _) => &["open"],
    };
    seen.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn events_are_read_on_a_need_to_know_basis() {
    for need_to_know in [true, false] {
        let hub = Hub::start(need_to_know).await;
        let created = hub
            .call("POST", "/topic", "ops", Some(&json!({"name": "shared"})))
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let topic = created.json()["id"].as_str().unwrap().to_owned();
        let mut ids = std::collections::HashMap::new();
        for (event_id, parties) in [
            ("a", &["provider-a"][..]),
            ("b", &["provider-b"]),
            ("open", &[]),
        ] {
            let posted = hub
                .call(
                    "POST",
                    &format!("/topic/{topic}/event"),
                    "provider-a",
                    Some(&event(event_id, parties)),
                )
                .await;
            assert_eq!(posted.status, 201, "{}", posted.text);
            ids.insert(event_id, posted.json()["id"].as_str().unwrap().to_owned());
        }
        let mut failures = Vec::new();
        for viewer in VIEWERS {
            let expected = expected_events(viewer, need_to_know);
            let label = format!("need_to_know={need_to_know} viewer={viewer}");
            // listEvent: unfiltered, filtered, projected, paged — same set, same count.
            for query in ["", "?eventType=X", "?fields=eventId", "?limit=100&offset=0"] {
                let (seen, total) = hub
                    .listed(&format!("/topic/{topic}/event{query}"), viewer)
                    .await;
                if seen != expected || total != Some(expected.len().to_string()) {
                    failures.push(format!(
                        "{label} list{query}: {seen:?} total {total:?}, expected {expected:?}"
                    ));
                }
            }
            // By eventId: what the caller may not see is not found.
            for (event_id, id) in &ids {
                let (seen, _) = hub
                    .listed(&format!("/topic/{topic}/event?eventId={event_id}"), viewer)
                    .await;
                let visible = expected.contains(*event_id);
                if seen.contains(*event_id) != visible {
                    failures.push(format!("{label} list ?eventId={event_id}: {seen:?}"));
                }
                let retrieved = hub
                    .call("GET", &format!("/topic/{topic}/event/{id}"), viewer, None)
                    .await;
                let status = if visible { 200 } else { 404 };
                if retrieved.status != status {
                    failures.push(format!(
                        "{label} retrieve {event_id}: {} {}",
                        retrieved.status, retrieved.text
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

#[tokio::test]
async fn hubs_and_listeners_are_their_owners_business() {
    let hub = Hub::start(true).await;
    let secret = "http://127.0.0.1:9/secret-path?token=abc";
    let registered = hub
        .call(
            "POST",
            "/topic/order/hub",
            "provider-a",
            Some(&json!({"callback": secret})),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let hub_id = registered.json()["id"].as_str().unwrap().to_owned();
    let listener = hub
        .call(
            "POST",
            "/hub",
            "provider-a",
            Some(&json!({"callback": "http://127.0.0.1:9/l"})),
        )
        .await;
    assert_eq!(listener.status, 201, "{}", listener.text);
    let listener_id = listener.json()["id"].as_str().unwrap().to_owned();

    let mut failures = Vec::new();
    for viewer in VIEWERS {
        let sees = matches!(viewer, "provider-a" | "ops");
        let list = hub.call("GET", "/topic/order/hub", viewer, None).await;
        let listed = list
            .json()
            .as_array()
            .map(|hubs| hubs.len())
            .unwrap_or(usize::MAX);
        let count = list.header("x-total-count").map(str::to_owned);
        let expected = usize::from(sees);
        if list.status != 200
            || listed != expected
            || count != Some(expected.to_string())
            || (!sees && list.text.contains("secret-path"))
        {
            failures.push(format!(
                "{viewer} listHub: {} {count:?} {}",
                list.status, list.text
            ));
        }
        let one = hub
            .call("GET", &format!("/topic/order/hub/{hub_id}"), viewer, None)
            .await;
        if one.status != if sees { 200 } else { 404 } || (!sees && one.text.contains("secret-path"))
        {
            failures.push(format!("{viewer} retrieveHub: {} {}", one.status, one.text));
        }
        if !sees {
            // Removal by anyone else: as if the hub (listener) did not exist.
            let removed = hub
                .call(
                    "DELETE",
                    &format!("/topic/order/hub/{hub_id}"),
                    viewer,
                    None,
                )
                .await;
            if let Err(why) = removed.tmf_error(404, "no hub") {
                failures.push(format!("{viewer} deleteHub: {why}"));
            }
            let removed = hub
                .call("DELETE", &format!("/hub/{listener_id}"), viewer, None)
                .await;
            if let Err(why) = removed.tmf_error(404, "no listener") {
                failures.push(format!("{viewer} unregisterListener: {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Still there for the owner, which may remove them.
    let removed = hub
        .call(
            "DELETE",
            &format!("/topic/order/hub/{hub_id}"),
            "provider-a",
            None,
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    let removed = hub
        .call("DELETE", &format!("/hub/{listener_id}"), "provider-a", None)
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
}

#[tokio::test]
async fn the_same_callback_by_another_namespace_is_another_hub() {
    let hub = Hub::start(true).await;
    let body = json!({"callback": "http://127.0.0.1:9/same"});
    let by_key = hub
        .call("POST", "/topic/order/hub", "provider-a", Some(&body))
        .await;
    let by_jwt = hub
        .call("POST", "/topic/order/hub", "jwt-provider-a", Some(&body))
        .await;
    assert_eq!(
        (by_key.status, by_jwt.status),
        (201, 201),
        "{} {}",
        by_key.text,
        by_jwt.text
    );
    assert_ne!(
        by_key.json()["id"],
        by_jwt.json()["id"],
        "no principal is handed another's hub"
    );
    // Each registers idempotently within its own namespace.
    let again = hub
        .call("POST", "/topic/order/hub", "jwt-provider-a", Some(&body))
        .await;
    assert_eq!(again.json()["id"], by_jwt.json()["id"]);
}
