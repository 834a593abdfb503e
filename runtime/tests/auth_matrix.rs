//! Inbound authentication and the PSI role matrix over a real loopback server: each
//! role × each operation with an API key, an HS256 JWT and an RS256 JWT; 401 for
//! missing or bad credentials; hubs and listeners seen and deleted only by their owner
//! (name within its credential's namespace) or an admin, 404 for anyone else.

mod common;

use std::sync::Arc;

use common::jwt::{fixture, jwt_config};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tmf688_api::operations::{OPERATIONS, OperationInfo};
use tmf688_api::profile::{Role, allowed_roles};
use tmf688_runtime::auth::{ApiKeyConfig, AuthConfig, JwtConfig, sha256_hex};
use tmf688_runtime::{AppConfig, Authenticator};

const TMF: &str = "/tmf-api/event/v4";
const PSI: &str = "/psi-api/event/v2";
const HS_SECRET: &str = "test-only hs256 secret, 32+ bytes long";
const ISSUER: &str = "https://idp.test";
const AUDIENCE: &str = "tmf688-hub";

fn api_key(role: Role) -> String {
    format!("test-key-{role}")
}

fn auth_config() -> AuthConfig {
    let api_keys = Role::ALL
        .iter()
        .map(|role| ApiKeyConfig {
            name: format!("{role}-by-key"),
            party: None,
            role: *role,
            sha256: sha256_hex(&api_key(*role)),
        })
        .collect();
    let hs = JwtConfig {
        secret: Some(HS_SECRET.into()),
        issuer: Some(ISSUER.into()),
        audience: Some(AUDIENCE.into()),
        ..jwt_config("HS256")
    };
    let rs = JwtConfig {
        public_key_pem: Some(fixture("rsa-public.pem")),
        role_claim: "realm_access.roles".into(),
        ..jwt_config("RS256")
    };
    AuthConfig {
        api_keys,
        jwt: vec![hs, rs],
    }
}

async fn server() -> common::Server {
    let auth = Authenticator::from_config(&auth_config()).expect("valid auth config");
    common::spawn(AppConfig {
        auth: Some(Arc::new(auth)),
        ..AppConfig::default()
    })
    .await
}

fn exp() -> u64 {
    jsonwebtoken::get_current_timestamp() + 600
}

fn hs256(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(HS_SECRET.as_bytes()),
    )
    .unwrap()
}

fn rs256_with(pem: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).expect("test RSA key"),
    )
    .unwrap()
}

fn hs_token(sub: &str, role: Role) -> String {
    hs256(&json!({"sub": sub, "role": role.as_str(), "iss": ISSUER, "aud": AUDIENCE, "exp": exp()}))
}

fn rs_token(pem: &str, sub: &str, role: Role) -> String {
    // The RS256 key maps its role from a Keycloak-style list.
    rs256_with(
        pem,
        &json!({"sub": sub, "realm_access": {"roles": ["offline_access", role.as_str()]}, "exp": exp()}),
    )
}

/// The operations the provider application serves (listener operations are served by
/// the listener application only).
fn provider_operations() -> Vec<&'static OperationInfo> {
    OPERATIONS
        .iter()
        .filter(|op| op.handler_trait != "NotificationListenersClientSideApi")
        .collect()
}

/// A request for `op`: a concrete path and a body that would succeed where it can.
fn request_for(op: &OperationInfo, n: usize) -> (String, Option<Value>) {
    let first = if op.route.starts_with("/hub/") {
        "listener-404"
    } else {
        "alarm"
    };
    let path = op.route.replace("{p0}", first).replace("{p1}", "id-404");
    let body = match op.id {
        "createEvent" => Some(json!({
            "@type": "AlarmCreateEvent", "eventId": format!("m-{n}"), "eventType": "AlarmCreateEvent",
            "event": {"id": "a1"}
        })),
        "createHub" | "registerListener" => {
            Some(json!({"callback": format!("http://127.0.0.1:9/cb/{n}")}))
        }
        "createTopic" => Some(json!({"name": format!("t-{n}")})),
        _ => None,
    };
    (format!("{TMF}{path}"), body)
}

#[tokio::test]
async fn every_role_times_every_operation_with_every_kind_of_credential() {
    let server = server().await;
    let http = reqwest::Client::new();
    let private = fixture("rsa-private.pem");
    let operations = provider_operations();
    assert_eq!(operations.len(), 13, "the provider API has 13 operations");

    let mut failures = Vec::new();
    let mut checked = 0;
    let mut n = 0;
    for role in Role::ALL {
        let credentials = [
            ("API key", api_key(*role)),
            ("HS256 JWT", hs_token(&format!("{role}-hs"), *role)),
            (
                "RS256 JWT",
                rs_token(&private, &format!("{role}-rs"), *role),
            ),
        ];
        for (kind, token) in &credentials {
            for op in &operations {
                n += 1;
                let (url, body) = request_for(op, n);
                let answer = common::json(
                    &http,
                    op.method,
                    &format!("{}{url}", server.url),
                    Some(token),
                    body.as_ref(),
                )
                .await;
                checked += 1;
                let allowed = allowed_roles(op.id).contains(role);
                let outcome = if allowed {
                    if matches!(answer.status, 401 | 403) || answer.status >= 500 {
                        Err(format!("status {}: {}", answer.status, answer.text))
                    } else {
                        Ok(())
                    }
                } else {
                    answer.tmf_error(403, op.id)
                };
                if let Err(why) = outcome {
                    failures.push(format!(
                        "{role} with {kind}, {} {} ({}), allowed={allowed}: {why}",
                        op.method, url, op.id
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // PSI: customers and governance get nothing; provider and pss every PSI operation.
    for op in &operations {
        let roles = allowed_roles(op.id);
        assert!(!roles.contains(&Role::Customer) && !roles.contains(&Role::Governance));
    }
}

#[tokio::test]
async fn psi_base_path_enforces_the_same_matrix() {
    let server = server().await;
    let http = reqwest::Client::new();
    let url = format!("{}{PSI}/topic", server.url);
    for (role, status) in [
        (Role::Provider, 200),
        (Role::Pss, 200),
        (Role::Admin, 200),
        (Role::Customer, 403),
        (Role::Governance, 403),
    ] {
        let answer = common::json(&http, "GET", &url, Some(&api_key(role)), None).await;
        assert_eq!(answer.status, status, "{role}: {}", answer.text);
    }
    let answer = common::json(&http, "GET", &url, None, None).await;
    answer.tmf_error(401, "Authorization").unwrap();
    // Health and the spec stay public.
    for path in ["/health", "/openapi.json"] {
        let answer = common::json(&http, "GET", &format!("{}{path}", server.url), None, None).await;
        assert_eq!(answer.status, 200, "{path}");
    }
}

/// The delivery engine's operator API (hub status, resume/replay, metrics) needs the
/// admin role: 401 without credentials, 403 for every other role.
#[tokio::test]
async fn the_operator_api_is_for_admins_only() {
    let (hub, db) = common::hub(tmf688_runtime::HubConfig::default()).await;
    let engine = tmf688_runtime::delivery::DeliveryEngine::start(&hub, Default::default())
        .await
        .expect("the engine starts");
    let auth = Authenticator::from_config(&auth_config()).expect("valid auth config");
    let app = tmf688_runtime::app_with(
        Arc::new(hub),
        &AppConfig {
            auth: Some(Arc::new(auth)),
            ..AppConfig::default()
        },
    );
    let server = common::serve(app, db).await;
    let http = reqwest::Client::new();
    for (method, path) in [
        ("GET", "/admin/hubs"),
        ("GET", "/admin/metrics"),
        ("GET", "/admin/delivery/metrics"),
        ("POST", "/admin/hubs/hub-none/resume"),
    ] {
        let url = format!("{}{path}", server.url);
        let answer = common::json(&http, method, &url, None, None).await;
        answer
            .tmf_error(401, "Authorization")
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        for role in [Role::Provider, Role::Pss, Role::Customer, Role::Governance] {
            let answer = common::json(&http, method, &url, Some(&api_key(role)), None).await;
            answer
                .tmf_error(403, "admin")
                .unwrap_or_else(|e| panic!("{path} as {role}: {e}"));
        }
        let answer = common::json(&http, method, &url, Some(&api_key(Role::Admin)), None).await;
        let expected = if method == "POST" { 404 } else { 200 };
        assert_eq!(answer.status, expected, "{path} as admin: {}", answer.text);
    }
    engine.shutdown().await;
}

#[tokio::test]
async fn missing_or_bad_credentials_get_401_with_a_bearer_challenge() {
    let server = server().await;
    let http = reqwest::Client::new();
    let url = format!("{}{TMF}/topic", server.url);
    let other = fixture("rsa-other-private.pem");
    let private = fixture("rsa-private.pem");
    let now = jsonwebtoken::get_current_timestamp();
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("no Authorization header", None, "authentication required"),
        ("Basic scheme", Some("Basic dXNlcjpwYXNz".into()), "Bearer scheme"),
        ("Bearer without credential", Some("Bearer ".into()), "Bearer scheme"),
        ("unknown API key", Some("Bearer not-a-configured-key".into()), "unknown API key"),
        (
            "HS256 with the wrong secret",
            Some(format!(
                "Bearer {}",
                jsonwebtoken::encode(
                    &Header::new(Algorithm::HS256),
                    &json!({"sub": "x", "role": "admin", "iss": ISSUER, "aud": AUDIENCE, "exp": exp()}),
                    &EncodingKey::from_secret(b"another secret that is long enough"),
                )
                .unwrap()
            )),
            "signature",
        ),
        (
            "RS256 signed by an unknown key",
            Some(format!("Bearer {}", rs_token(&other, "x", Role::Admin))),
            "signature",
        ),
        (
            "expired HS256",
            Some(format!(
                "Bearer {}",
                hs256(&json!({"sub": "x", "role": "admin", "iss": ISSUER, "aud": AUDIENCE, "exp": now - 3600}))
            )),
            "expired",
        ),
        (
            "HS256 without exp",
            Some(format!(
                "Bearer {}",
                hs256(&json!({"sub": "x", "role": "admin", "iss": ISSUER, "aud": AUDIENCE}))
            )),
            "exp",
        ),
        (
            "HS256 from another issuer",
            Some(format!(
                "Bearer {}",
                hs256(&json!({"sub": "x", "role": "admin", "iss": "https://evil.test", "aud": AUDIENCE, "exp": exp()}))
            )),
            "issuer",
        ),
        (
            "HS256 for another audience",
            Some(format!(
                "Bearer {}",
                hs256(&json!({"sub": "x", "role": "admin", "iss": ISSUER, "aud": "other", "exp": exp()}))
            )),
            "audience",
        ),
        (
            "HS256 with an unknown role",
            Some(format!(
                "Bearer {}",
                hs256(&json!({"sub": "x", "role": "root", "iss": ISSUER, "aud": AUDIENCE, "exp": exp()}))
            )),
            "names no role",
        ),
        (
            "HS256 without sub",
            Some(format!(
                "Bearer {}",
                hs256(&json!({"role": "admin", "iss": ISSUER, "aud": AUDIENCE, "exp": exp()}))
            )),
            "sub",
        ),
        (
            "RS256 role claim missing",
            Some(format!(
                "Bearer {}",
                rs256_with(&private, &json!({"sub": "x", "role": "admin", "exp": exp()}))
            )),
            "realm_access.roles",
        ),
        (
            "unsigned (alg none)",
            Some(format!(
                "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
                "eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIiwiZXhwIjo5OTk5OTk5OTk5fQ"
            )),
            "JWT",
        ),
        (
            "HS384, an algorithm no key is configured for",
            Some(format!(
                "Bearer {}",
                jsonwebtoken::encode(
                    &Header::new(Algorithm::HS384),
                    &json!({"sub": "x", "role": "admin", "exp": exp()}),
                    &EncodingKey::from_secret(HS_SECRET.as_bytes()),
                )
                .unwrap()
            )),
            "not accepted",
        ),
    ];
    let mut failures = Vec::new();
    for (name, authorization, names) in &cases {
        let mut request = http.get(&url);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        let answer = common::Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap(),
        };
        let challenge = answer.header("www-authenticate").unwrap_or_default();
        if !challenge.starts_with("Bearer") {
            failures.push(format!("{name}: WWW-Authenticate {challenge:?}"));
        }
        if let Err(why) = answer.tmf_error(401, names) {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn only_the_owner_or_an_admin_sees_and_deletes_a_hub_or_listener() {
    let server = server().await;
    let http = reqwest::Client::new();
    let private = fixture("rsa-private.pem");
    let hubs = format!("{}{PSI}/topic/order/hub", server.url);
    let register = |callback: &str| json!({"callback": callback});
    let provider = api_key(Role::Provider);
    let pss = api_key(Role::Pss);
    let admin = api_key(Role::Admin);

    // Registered by the provider's API key.
    let created = common::json(
        &http,
        "POST",
        &hubs,
        Some(&provider),
        Some(&register("http://127.0.0.1:9/a")),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let hub_url = format!("{hubs}/{id}");

    // Another principal (even one allowed to delete hubs) may not: for it the hub
    // does not exist.
    let denied = common::json(&http, "DELETE", &hub_url, Some(&pss), None).await;
    denied.tmf_error(404, "no hub").unwrap();
    // The same callback registered by another principal is its own hub.
    let theirs = common::json(
        &http,
        "POST",
        &hubs,
        Some(&pss),
        Some(&register("http://127.0.0.1:9/a")),
    )
    .await;
    assert_eq!(theirs.status, 201);
    assert_ne!(theirs.json()["id"], created.json()["id"]);
    // The admin may; afterwards the hub is gone.
    let deleted = common::json(&http, "DELETE", &hub_url, Some(&admin), None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(
        common::json(&http, "GET", &hub_url, Some(&admin), None)
            .await
            .status,
        404
    );

    // The owner may; the owner is the principal name within its issuer's namespace: a
    // hub registered with the HS256 JWT entry (issuer ISSUER, sub "pss-b") is not the
    // RS256 entry's "pss-b" (another issuer), nor a JWT with another sub.
    let created = common::json(
        &http,
        "POST",
        &hubs,
        Some(&hs_token("pss-b", Role::Pss)),
        Some(&register("http://127.0.0.1:9/b")),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let hub_url = format!("{hubs}/{}", created.json()["id"].as_str().unwrap());
    for other in [
        rs_token(&private, "pss-c", Role::Pss),
        rs_token(&private, "pss-b", Role::Pss),
        hs_token("pss-c", Role::Pss),
    ] {
        let denied = common::json(&http, "DELETE", &hub_url, Some(&other), None).await;
        assert_eq!(denied.status, 404, "{}", denied.text);
    }
    let deleted = common::json(
        &http,
        "DELETE",
        &hub_url,
        Some(&hs_token("pss-b", Role::Pss)),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);

    // API listeners (POST /hub) follow the same rule.
    let listeners = format!("{}{TMF}/hub", server.url);
    let created = common::json(
        &http,
        "POST",
        &listeners,
        Some(&provider),
        Some(&register("http://127.0.0.1:9/l")),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let listener_url = format!("{listeners}/{}", created.json()["id"].as_str().unwrap());
    let denied = common::json(&http, "DELETE", &listener_url, Some(&pss), None).await;
    denied.tmf_error(404, "no listener").unwrap();
    let deleted = common::json(&http, "DELETE", &listener_url, Some(&provider), None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
}
