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
        party: None,
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
            subjects: None,
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
        Self::start_with(
            auth(),
            DeliveryConfig {
                need_to_know,
                ..DeliveryConfig::default()
            },
        )
        .await
    }

    async fn start_with(auth: AuthConfig, delivery: DeliveryConfig) -> Self {
        let (hub, db) = common::hub(HubConfig::default()).await;
        let engine = DeliveryEngine::start(&hub, delivery).await.unwrap();
        let config = AppConfig {
            auth: Some(Arc::new(Authenticator::from_config(&auth).unwrap())),
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
        self.call_with(method, path, &token(viewer), body).await
    }

    async fn call_with(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> common::Answer {
        let url = format!("{}{TMF}{path}", self.server.url);
        common::json(&self.http, method, &url, Some(token), body).await
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
/// `open` names nobody. Need-to-know compares party ids with the party a credential is
/// bound to, never with a bare name: the JWT principal named `provider-a` comes from an
/// entry without `subjects`, so it speaks for no party and sees only `open`.
fn expected_events(viewer: &str, need_to_know: bool) -> BTreeSet<String> {
    let all = ["a", "b", "open"];
    let seen: &[&str] = match (need_to_know, viewer) {
        (false, _) | (true, "ops") => &all,
        (true, "provider-a") => &["a", "open"],
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

/// One delivery: (path, eventId, `webhook-id`).
type Hit = (String, String, Option<String>);

/// What a loopback receiver was sent, in arrival order.
#[derive(Clone, Default)]
struct Received {
    hits: Arc<std::sync::Mutex<Vec<Hit>>>,
    notify: Arc<tokio::sync::Notify>,
}

impl Received {
    /// A receiver on a loopback port; its base URL.
    async fn start(&self) -> String {
        async fn take(
            axum::extract::State(received): axum::extract::State<Received>,
            uri: http::Uri,
            headers: http::HeaderMap,
            body: axum::body::Bytes,
        ) -> http::StatusCode {
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            // A listener gets an EventCreateEvent: the event it carries counts.
            let event_id = value["event"]["event"]["eventId"]
                .as_str()
                .or(value["eventId"].as_str())
                .unwrap_or_default()
                .to_owned();
            let webhook_id = headers
                .get("webhook-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            received
                .hits
                .lock()
                .unwrap()
                .push((uri.path().to_owned(), event_id, webhook_id));
            received.notify.notify_waiters();
            http::StatusCode::CREATED
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .fallback(axum::routing::post(take))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    /// The eventIds sent to paths starting with `prefix`, in order.
    fn at(&self, prefix: &str) -> Vec<String> {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|(path, ..)| path.starts_with(prefix))
            .map(|(_, event_id, _)| event_id.clone())
            .collect()
    }

    /// Waits (woken by each delivery, 10 s at most) until every prefix got `last`.
    async fn wait_for_last(&self, prefixes: &[String], last: &str) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if prefixes
                .iter()
                .all(|p| self.at(p).iter().any(|e| e == last))
            {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "timed out waiting for {last} at {prefixes:?}: {:?}",
                    self.hits.lock().unwrap()
                );
            }
        }
    }
}

const IDP_B: &str = "https://idp-b.test";
const IDP_B_SECRET: &str = "test-only secret of pss-b's IdP, 32+ bytes";

/// A JWT from the IdP trusted for pss-b only (`subjects = ["pss-b"]`), or from the
/// entry without `subjects` ([`ISSUER`]).
fn jwt(issuer: &str, sub: &str, role: &str) -> String {
    let secret = if issuer == IDP_B {
        IDP_B_SECRET
    } else {
        HS_SECRET
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": sub, "role": role, "iss": issuer,
                "exp": jsonwebtoken::get_current_timestamp() + 600}),
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The credentials of the party table: API keys bound to their names (and one bound
/// to provider-a by an explicit `party`), a JWT entry bound to `pss-b` by `subjects`,
/// one without `subjects`.
fn bound_auth() -> AuthConfig {
    let mut auth = auth();
    auth.api_keys.push(ApiKeyConfig {
        name: "provider-a-batch".into(),
        party: Some("provider-a".into()),
        role: Role::Provider,
        sha256: sha256_hex("key-provider-a-batch"),
    });
    auth.jwt.push(JwtConfig {
        secret: Some(IDP_B_SECRET.into()),
        issuer: Some(IDP_B.into()),
        subjects: Some(vec!["pss-b".into()]),
        ..auth.jwt[0].clone()
    });
    auth
}

/// Need-to-know follows the party a credential is bound to, never a bare name, and
/// applies alike to list, retrieve, `?eventId=`, hubs (push) and listeners; an admin's
/// hubs and listeners receive everything, as an admin reads everything.
#[tokio::test]
async fn parties_are_bound_to_credentials_on_every_read_and_push_path() {
    let hub = Hub::start_with(bound_auth(), DeliveryConfig::default()).await;
    // A JWT from pss-b's IdP naming provider-a: not a principal at all.
    for token in [
        jwt(IDP_B, "provider-a", "provider"),
        jwt(IDP_B, "provider-a", "admin"),
    ] {
        let refused = hub
            .call_with("GET", "/topic/order/event", &token, None)
            .await;
        if let Err(why) = refused.tmf_error(401, "subjects") {
            panic!("a JWT naming a subject its key is not trusted for: {why}");
        }
    }
    // (viewer, token, eventIds seen among a = provider-a's, b = pss-b's, open)
    let table: Vec<(&str, String, &[&str])> = vec![
        ("key provider-a", "key-provider-a".into(), &["a", "open"]),
        (
            "key party=provider-a",
            "key-provider-a-batch".into(),
            &["a", "open"],
        ),
        ("key provider-b", "key-provider-b".into(), &["open"]),
        (
            "jwt subjects=[pss-b]",
            jwt(IDP_B, "pss-b", "pss"),
            &["b", "open"],
        ),
        (
            "jwt no subjects, sub provider-a",
            jwt(ISSUER, "provider-a", "provider"),
            &["open"],
        ),
        (
            "jwt no subjects, sub pss-b",
            jwt(ISSUER, "pss-b", "pss"),
            &["open"],
        ),
        ("admin key", "key-ops".into(), &["a", "b", "open"]),
        (
            "admin jwt, no subjects",
            jwt(ISSUER, "auditor", "admin"),
            &["a", "b", "open"],
        ),
    ];
    let received = Received::default();
    let base = received.start().await;
    // Each registers a hub on `order` and a listener of EventCreateEvents.
    for (n, (viewer, token, _)) in table.iter().enumerate() {
        let body = json!({"callback": format!("{base}/hub-{n}")});
        let registered = hub
            .call_with("POST", "/topic/order/hub", token, Some(&body))
            .await;
        assert_eq!(registered.status, 201, "{viewer}: {}", registered.text);
        let body = json!({"callback": format!("{base}/listener-{n}"),
                          "query": "eventType=EventCreateEvent"});
        let registered = hub.call_with("POST", "/hub", token, Some(&body)).await;
        assert_eq!(registered.status, 201, "{viewer}: {}", registered.text);
    }
    let mut ids = std::collections::HashMap::new();
    for (event_id, parties) in [
        ("a", &["provider-a"][..]),
        ("b", &["pss-b"]),
        ("open", &[]),
        ("last", &[]),
    ] {
        let posted = hub
            .call(
                "POST",
                "/topic/order/event",
                "ops",
                Some(&event(event_id, parties)),
            )
            .await;
        assert_eq!(posted.status, 201, "{}", posted.text);
        ids.insert(event_id, posted.json()["id"].as_str().unwrap().to_owned());
    }
    // Delivery is in order per hub: once `last` is in, the others were decided.
    let prefixes: Vec<String> = (0..table.len())
        .flat_map(|n| [format!("/hub-{n}"), format!("/listener-{n}")])
        .collect();
    received.wait_for_last(&prefixes, "last").await;

    let mut failures = Vec::new();
    for (n, (viewer, token, sees)) in table.iter().enumerate() {
        let mut expected: Vec<String> = sees.iter().map(|s| (*s).to_owned()).collect();
        expected.push("last".into());
        for path in [format!("/hub-{n}"), format!("/listener-{n}")] {
            let got = received.at(&path);
            if got != expected {
                failures.push(format!(
                    "{viewer} push {path}: {got:?}, expected {expected:?}"
                ));
            }
        }
        let listed = hub
            .call_with("GET", "/topic/order/event?fields=eventId", token, None)
            .await;
        let mut seen: Vec<String> = listed
            .json()
            .as_array()
            .map(|events| {
                events
                    .iter()
                    .map(|e| e["eventId"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        seen.sort();
        let mut sorted = expected.clone();
        sorted.sort();
        if seen != sorted || listed.header("x-total-count") != Some(&sorted.len().to_string()) {
            failures.push(format!("{viewer} list: {} {seen:?}", listed.status));
        }
        for (event_id, id) in &ids {
            let visible = expected.iter().any(|e| e == event_id);
            let one = hub
                .call_with("GET", &format!("/topic/order/event/{id}"), token, None)
                .await;
            if one.status != if visible { 200 } else { 404 } {
                failures.push(format!("{viewer} retrieve {event_id}: {}", one.status));
            }
            let filtered = hub
                .call_with(
                    "GET",
                    &format!("/topic/order/event?eventId={event_id}"),
                    token,
                    None,
                )
                .await;
            let count = filtered.json().as_array().map_or(usize::MAX, Vec::len);
            if count != usize::from(visible) {
                failures.push(format!("{viewer} ?eventId={event_id}: {}", filtered.text));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `eventId`s are de-duplicated per publisher: a publisher's retry finds its own
/// event; another publisher's event with the same eventId is its own event — no 409,
/// no id of the other's record, no way to block it — and is delivered with its own
/// `webhook-id`.
#[tokio::test]
async fn event_ids_are_each_publishers_own() {
    let received = Received::default();
    let base = received.start().await;
    let delivery = DeliveryConfig {
        allowed_callback_hosts: vec![tmf688_runtime::delivery::CallbackHost {
            host: "127.0.0.1".into(),
            port: None,
            auth: tmf688_runtime::delivery::OutboundAuth::None,
            allow_private_addresses: true,
            signing_secrets: tmf688_runtime::delivery::Secrets(vec![
                "whsec_dGVzdC1vbmx5IHNpZ25pbmcga2V5".into(),
            ]),
        }],
        ..DeliveryConfig::default()
    };
    let hub = Hub::start_with(auth(), delivery).await;
    let registered = hub
        .call(
            "POST",
            "/topic/order/hub",
            "ops",
            Some(&json!({"callback": format!("{base}/audit")})),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);

    let post = |viewer: &'static str, event: Value| {
        let hub = &hub;
        async move {
            hub.call("POST", "/topic/order/event", viewer, Some(&event))
                .await
        }
    };
    // provider-a's event, naming only provider-a (hidden from provider-b).
    let hidden = event("x", &["provider-a"]);
    let a = post("provider-a", hidden.clone()).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let a_id = a.json()["id"].as_str().unwrap().to_owned();
    // Same publisher: a retry is the same record; other content is its own conflict.
    let retry = post("provider-a", hidden.clone()).await;
    assert_eq!(
        (retry.status, retry.json()["id"].as_str()),
        (201, Some(a_id.as_str()))
    );
    let changed = post("provider-a", event("x", &["provider-b"])).await;
    changed.tmf_error(409, "different content").unwrap();
    // Another publisher, same eventId and content: its own event, not provider-a's.
    let b = post("provider-b", hidden.clone()).await;
    let b_id = b.json()["id"].as_str().unwrap_or_default().to_owned();
    assert!(b.status == 201 && b_id != a_id, "{}", b.text);
    // Other content: a conflict with its own event, naming only that one.
    let b_changed = post("provider-b", event("x", &[])).await;
    b_changed.tmf_error(409, &format!("{b_id:?}")).unwrap();
    assert!(
        !b_changed.text.contains(&format!("{a_id:?}")),
        "{}",
        b_changed.text
    );
    // provider-b still cannot read provider-a's event.
    let read = hub
        .call(
            "GET",
            &format!("/topic/order/event/{a_id}"),
            "provider-b",
            None,
        )
        .await;
    assert_eq!(read.status, 404);
    // Squatting: provider-b takes an eventId first; provider-a's publish is not blocked.
    let squat = post("provider-b", event("y", &[])).await;
    assert_eq!(squat.status, 201, "{}", squat.text);
    let own = post("provider-a", event("y", &["provider-a"])).await;
    assert_eq!(own.status, 201, "{}", own.text);
    assert_ne!(own.json()["id"], squat.json()["id"]);
    post("ops", event("last", &[])).await;

    // `?eventId=` finds each publisher's event, as need-to-know lets the caller see.
    let all = hub
        .call("GET", "/topic/order/event?eventId=x", "ops", None)
        .await;
    assert_eq!(all.json().as_array().map(Vec::len), Some(2), "{}", all.text);
    let mine = hub
        .call("GET", "/topic/order/event?eventId=y", "provider-a", None)
        .await;
    assert_eq!(
        mine.json().as_array().map(Vec::len),
        Some(2),
        "{}",
        mine.text
    );

    // Delivered: each event once, each with its own webhook-id.
    received.wait_for_last(&["/audit".to_owned()], "last").await;
    let hits = received.hits.lock().unwrap().clone();
    let x: Vec<_> = hits.iter().filter(|(_, e, _)| e == "x").collect();
    assert_eq!(x.len(), 2, "{hits:?}");
    let webhook_ids: BTreeSet<_> = hits.iter().map(|(_, _, w)| w.clone()).collect();
    assert_eq!(
        webhook_ids.len(),
        hits.len(),
        "one webhook-id per event: {hits:?}"
    );
    assert!(webhook_ids.iter().all(Option::is_some), "{hits:?}");
}
