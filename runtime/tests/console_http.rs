//! The operator console and `/metrics` over HTTP, on a real server with a delivery
//! engine (the browser itself is `tests/console/browser.rs`): who gets in (admin bearer,
//! browser login, nobody else), the session cookie's flags, CSRF and same-origin checks
//! on actions, the actions' answers (resume, replay, delete, bad input), the security
//! headers, `[console] enabled`, `DELETE /admin/hubs/{id}`, and `/metrics` under each
//! `[metrics] auth`. Runs on both stores (`TMF688_TEST_STORE=postgres`).

mod common;

use std::sync::Arc;

use common::{Answer, Server, send};
use serde_json::json;
use tmf688_runtime::auth::{ApiKeyConfig, AuthConfig, Role, sha256_hex};
use tmf688_runtime::config::{ConsoleSection, MetricsAuth, MetricsSection};
use tmf688_runtime::delivery::{DeliveryConfig, DeliveryEngine};
use tmf688_runtime::{AppConfig, Authenticator, HubConfig, app_with};

const ADMIN: &str = "console-admin-key";
const PROVIDER: &str = "console-provider-key";
const SCRAPE: &str = "console-scrape-token";
const TMF: &str = "/tmf-api/event/v4";

fn key(name: &str, role: Role, key: &str) -> ApiKeyConfig {
    ApiKeyConfig {
        name: name.into(),
        role,
        sha256: sha256_hex(key),
        party: None,
    }
}

struct Hub {
    server: Server,
    http: reqwest::Client,
    /// A hub whose callback refuses connections (a closed loopback port).
    hub_id: String,
    _engine: DeliveryEngine<common::TestStore>,
}

async fn start(metrics: MetricsSection, console: ConsoleSection, auth: bool) -> Hub {
    let (hub, db) = common::hub(HubConfig::default()).await;
    let engine = DeliveryEngine::start(&hub, DeliveryConfig::default())
        .await
        .unwrap();
    let auth = auth.then(|| {
        Arc::new(
            Authenticator::from_config(&AuthConfig {
                api_keys: vec![
                    key("ops", Role::Admin, ADMIN),
                    key("provider-a", Role::Provider, PROVIDER),
                ],
                jwt: Vec::new(),
            })
            .unwrap(),
        )
    });
    let app = app_with(
        Arc::new(hub),
        &AppConfig {
            auth,
            metrics,
            console,
            ..AppConfig::default()
        },
    );
    let server = common::serve(app, db).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let callback = format!("http://{}/listener", closed.local_addr().unwrap());
    drop(closed);
    let created = common::json(
        &http,
        "POST",
        &format!("{}{TMF}/topic/alarm/hub", server.url),
        Some(PROVIDER),
        Some(&json!({"callback": callback})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    Hub {
        hub_id: created.json()["id"].as_str().unwrap().to_owned(),
        server,
        http,
        _engine: engine,
    }
}

async fn default_hub() -> Hub {
    start(MetricsSection::default(), ConsoleSection::default(), true).await
}

/// A request with extra headers and a form body.
async fn request(
    hub: &Hub,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    form: Option<&str>,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = hub
        .http
        .request(method, format!("{}{path}", hub.server.url));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(form) = form {
        request = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

/// The page's CSRF token (the value of its `csrf` fields).
fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn only_admins_get_in_and_every_answer_is_locked_down() {
    let hub = default_hub().await;
    let admin = bearer(ADMIN);
    let provider = bearer(PROVIDER);
    for (headers, status, needle) in [
        (vec![], 401, "Log in with an admin API key"),
        (
            vec![("authorization", "Bearer wrong")],
            401,
            "invalid credentials",
        ),
        (
            vec![("authorization", provider.as_str())],
            403,
            "needs the admin role",
        ),
        (vec![("authorization", admin.as_str())], 200, "Hubs"),
    ] {
        let answer = request(&hub, "GET", "/console", &headers, None).await;
        assert_eq!(answer.status, status, "{headers:?}: {}", answer.text);
        assert!(answer.text.contains(needle), "{headers:?}: {}", answer.text);
        let csp = answer.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
        assert_eq!(answer.header("cache-control"), Some("no-store"));
    }
    // The page lists the hub, and loads only its own assets, which are served.
    let page = request(&hub, "GET", "/console", &[("authorization", &admin)], None).await;
    assert!(page.text.contains(&hub.hub_id), "{}", page.text);
    for external in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(
            !page.text.contains(external),
            "no external request: {external}"
        );
    }
    for (asset, content_type) in [
        ("htmx.min.js", "text/javascript"),
        ("console.css", "text/css"),
        ("htmx.LICENSE", "text/plain"),
    ] {
        let answer = request(&hub, "GET", &format!("/console/assets/{asset}"), &[], None).await;
        assert_eq!(answer.status, 200, "{asset}");
        assert!(
            answer
                .header("content-type")
                .unwrap()
                .starts_with(content_type)
        );
    }
    // Panels need the same credentials (htmx is sent back to the login page).
    let panel = request(
        &hub,
        "GET",
        "/console/panels/hubs",
        &[("hx-request", "true")],
        None,
    )
    .await;
    assert_eq!(panel.status, 401);
    assert_eq!(panel.header("hx-redirect"), Some("/console"));
}

#[tokio::test]
async fn browser_login_cookie_csrf_and_origin() {
    let hub = default_hub().await;
    let origin = hub.server.url.clone();
    // Wrong key, and a provider's key: the form again, saying why.
    for (token, needle) in [("nope", "not accepted"), (PROVIDER, "needs the admin role")] {
        let answer = request(
            &hub,
            "POST",
            "/console/login",
            &[("origin", &origin)],
            Some(&format!("token={token}")),
        )
        .await;
        assert_eq!(answer.status, 401);
        assert!(answer.text.contains(needle), "{}", answer.text);
        assert!(answer.header("set-cookie").is_none());
    }
    // A login posted from another site is refused.
    let answer = request(
        &hub,
        "POST",
        "/console/login",
        &[("origin", "http://evil.example")],
        Some(&format!("token={ADMIN}")),
    )
    .await;
    assert_eq!(answer.status, 403);
    // The admin's key: a session cookie, HttpOnly and SameSite=Strict, for /console.
    let login = request(
        &hub,
        "POST",
        "/console/login",
        &[("origin", &origin)],
        Some(&format!("token={ADMIN}")),
    )
    .await;
    assert_eq!(login.status, 303, "{}", login.text);
    let set_cookie = login.header("set-cookie").unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    assert!(
        !set_cookie.contains(ADMIN),
        "the key itself stays on the server"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let page = request(&hub, "GET", "/console", &[("cookie", &cookie)], None).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Log out"));
    let token = csrf(&page.text);
    let resume = format!("/console/hubs/{}/resume", hub.hub_id);
    // Actions with the cookie need the token and the same origin.
    for (headers, form, status) in [
        (vec![("cookie", cookie.as_str())], String::new(), 403),
        (
            vec![("cookie", cookie.as_str())],
            "csrf=stale".to_owned(),
            403,
        ),
        (
            vec![
                ("cookie", cookie.as_str()),
                ("origin", "http://evil.example"),
            ],
            format!("csrf={token}"),
            403,
        ),
        (
            vec![
                ("cookie", cookie.as_str()),
                ("sec-fetch-site", "cross-site"),
            ],
            format!("csrf={token}"),
            403,
        ),
        (
            vec![("cookie", cookie.as_str()), ("origin", origin.as_str())],
            format!("csrf={token}"),
            303,
        ),
        (
            vec![
                ("cookie", cookie.as_str()),
                ("origin", origin.as_str()),
                ("hx-request", "true"),
            ],
            format!("csrf={token}"),
            200,
        ),
    ] {
        let answer = request(&hub, "POST", &resume, &headers, Some(&form)).await;
        assert_eq!(answer.status, status, "{headers:?} {form}: {}", answer.text);
    }
    // A GET cannot act.
    let get = request(&hub, "GET", &resume, &[("cookie", &cookie)], None).await;
    assert_eq!(get.status, 405);
    // Logging out ends the session on the server.
    let logout = request(
        &hub,
        "POST",
        "/console/logout",
        &[("cookie", &cookie), ("origin", &origin)],
        Some(&format!("csrf={token}")),
    )
    .await;
    assert_eq!(logout.status, 303);
    assert!(logout.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = request(&hub, "GET", "/console", &[("cookie", &cookie)], None).await;
    assert_eq!(after.status, 401, "the session is gone");
}

#[tokio::test]
async fn actions_answer_what_they_did_or_what_is_wrong() {
    let hub = default_hub().await;
    let admin = bearer(ADMIN);
    let htmx = [("authorization", admin.as_str()), ("hx-request", "true")];
    let path = |action: &str| format!("/console/hubs/{}/{action}", hub.hub_id);
    for (action, form, status, needle) in [
        ("resume", "", 200, "resumed"),
        ("replay", "from=1&fromTime=", 200, "replays from sequence 1"),
        (
            "replay",
            "from=&fromTime=2024-05-01T00:00:00Z",
            200,
            "replays from sequence 1",
        ),
        ("replay", "from=abc", 400, "must be a sequence number"),
        (
            "replay",
            "from=1&fromTime=2024-05-01T00:00:00Z",
            400,
            "exactly one",
        ),
        ("replay", "", 400, "exactly one"),
        (
            "replay",
            "from=99",
            400,
            "from 1 (its first event held) to 1",
        ),
        ("replay-dead-letter", "", 400, "which dead letter"),
        ("replay-dead-letter", "deadLetter=999999", 404, "999999"),
        ("explode", "", 400, "no action"),
    ] {
        let answer = request(&hub, "POST", &path(action), &htmx, Some(form)).await;
        assert_eq!(answer.status, status, "{action} {form}: {}", answer.text);
        assert!(
            answer.text.contains(needle),
            "{action} {form}: {}",
            answer.text
        );
        assert!(
            answer.text.contains("id=\"hubs\""),
            "the refreshed hubs panel"
        );
    }
    let unknown = request(
        &hub,
        "POST",
        "/console/hubs/no-such-hub/resume",
        &htmx,
        Some(""),
    )
    .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.text.contains("no hub with id"));
    // The detail and its live part; an unknown hub's is a 404.
    let detail = request(
        &hub,
        "GET",
        &format!("/console/hubs/{}", hub.hub_id),
        &htmx,
        None,
    )
    .await;
    assert_eq!(detail.status, 200);
    assert!(detail.text.contains("Attempt log") && detail.text.contains("Replay"));
    // Its dead letters (the operator API's list): none while the hub only retries.
    assert!(
        detail.text.contains("Dead letters") && detail.text.contains("nothing given up on"),
        "{}",
        detail.text
    );
    let missing = request(&hub, "GET", "/console/hubs/nope/live", &htmx, None).await;
    assert_eq!(missing.status, 404);
    // Delete: the hub is gone for the operator API too.
    let deleted = request(&hub, "POST", &path("delete"), &htmx, Some("")).await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert!(deleted.text.contains("deleted"));
    let gone = send(
        &hub.http,
        "GET",
        &format!("{}/admin/hubs/{}", hub.server.url, hub.hub_id),
        Some(ADMIN),
        None,
        None,
    )
    .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn admin_api_deletes_a_hub() {
    let hub = default_hub().await;
    let url = format!("{}/admin/hubs/{}", hub.server.url, hub.hub_id);
    let provider = send(&hub.http, "DELETE", &url, Some(PROVIDER), None, None).await;
    provider.tmf_error(403, "admin role").unwrap();
    let deleted = send(&hub.http, "DELETE", &url, Some(ADMIN), None, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    let again = send(&hub.http, "DELETE", &url, Some(ADMIN), None, None).await;
    again.tmf_error(404, "no hub").unwrap();
    let listed = send(
        &hub.http,
        "GET",
        &format!("{}{TMF}/topic/alarm/hub/{}", hub.server.url, hub.hub_id),
        Some(PROVIDER),
        None,
        None,
    )
    .await;
    assert_eq!(listed.status, 404, "the owner no longer sees it");
}

#[tokio::test]
async fn console_can_be_turned_off() {
    let hub = start(
        MetricsSection::default(),
        ConsoleSection {
            enabled: false,
            ..ConsoleSection::default()
        },
        true,
    )
    .await;
    let answer = request(
        &hub,
        "GET",
        "/console",
        &[("authorization", &bearer(ADMIN))],
        None,
    )
    .await;
    answer.tmf_error(404, "/console").unwrap();
}

#[tokio::test]
async fn metrics_access_follows_the_configuration() {
    let token_section = MetricsSection {
        auth: MetricsAuth::Token,
        token_sha256: Some(sha256_hex(SCRAPE)),
    };
    let open_section = MetricsSection {
        auth: MetricsAuth::Open,
        token_sha256: None,
    };
    // (section, authentication on, credential, expected status)
    let cases = [
        (MetricsSection::default(), true, None, 401),
        (MetricsSection::default(), true, Some(PROVIDER), 403),
        (MetricsSection::default(), true, Some(SCRAPE), 401),
        (MetricsSection::default(), true, Some(ADMIN), 200),
        (MetricsSection::default(), false, None, 200),
        (open_section.clone(), true, None, 200),
        (token_section.clone(), true, None, 401),
        (token_section.clone(), true, Some("wrong"), 401),
        (token_section.clone(), true, Some(PROVIDER), 403),
        (token_section.clone(), true, Some(SCRAPE), 200),
        (token_section.clone(), true, Some(ADMIN), 200),
        (token_section.clone(), false, None, 401),
        (token_section.clone(), false, Some(SCRAPE), 200),
    ];
    for (section, auth, credential, status) in cases {
        let what = format!("{:?} auth={auth} {credential:?}", section.auth);
        let hub = start(section, ConsoleSection::default(), auth).await;
        let answer = send(
            &hub.http,
            "GET",
            &format!("{}/metrics", hub.server.url),
            credential,
            None,
            None,
        )
        .await;
        assert_eq!(answer.status, status, "{what}: {}", answer.text);
        if status == 200 {
            assert!(
                answer
                    .header("content-type")
                    .unwrap()
                    .starts_with("text/plain; version=0.0.4"),
                "{what}"
            );
            assert!(
                answer
                    .text
                    .contains("# TYPE tmf688_deliveries_total counter")
            );
        } else {
            answer.tmf_error(status, "").unwrap();
        }
    }
    // `/admin/metrics` stays, and stays admin-only.
    let hub = default_hub().await;
    let admin_metrics = format!("{}/admin/metrics", hub.server.url);
    let answer = send(&hub.http, "GET", &admin_metrics, Some(ADMIN), None, None).await;
    assert_eq!(answer.status, 200);
    let answer = send(&hub.http, "GET", &admin_metrics, None, None, None).await;
    assert_eq!(answer.status, 401);
}
