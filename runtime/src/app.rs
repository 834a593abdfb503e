//! The HTTP application: the generated provider router nested under every base path
//! of the profile, each base path restricted to the operations it lists, plus
//! `/health`, `/openapi.json` and TMF `Error` answers for everything else; with a
//! delivery engine, `/admin`, `/metrics` and the operator console.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, OriginalUri, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, Method, StatusCode, header};
use tmf688_api::profile::{self, BasePath};
use tmf688_api::server::{self, NotificationListenersClientSideApi};
use tmf688_api::support::{self, ApiError};

use crate::auth::{self, Authenticator};
use crate::config::{ConsoleSection, MetricsSection};
use crate::service::Hub688;
use crate::store::Store;

/// HTTP-level settings.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// The largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// Inbound authentication and the role matrix; `None`: every caller may call
    /// every operation (only for trusted networks, e.g. loopback).
    pub auth: Option<Arc<Authenticator>>,
    /// Base paths of the profile not to serve (e.g. `/psi/event/v2`): requests there
    /// get 404. Check a configured list with [`check_disabled_base_paths`].
    pub disabled_base_paths: Vec<String>,
    /// Who may scrape `GET /metrics` (default: as `/admin`).
    pub metrics: MetricsSection,
    /// The operator console at `/console` (default: on, as `/admin`).
    pub console: ConsoleSection,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            auth: None,
            disabled_base_paths: Vec::new(),
            metrics: MetricsSection::default(),
            console: ConsoleSection::default(),
        }
    }
}

/// `Ok` when every entry names a base path of the profile (`profile::BASE_PATHS`,
/// trailing `/` ignored) and at least one stays served; otherwise what is wrong.
pub fn check_disabled_base_paths(disabled: &[String]) -> Result<(), String> {
    for path in disabled {
        if profile::base_path(path.trim_end_matches('/')).is_none() {
            let known: Vec<&str> = profile::BASE_PATHS.iter().map(|b| b.path).collect();
            return Err(format!(
                "disabled base path {path:?} is not a base path of the profile ({})",
                known.join(", ")
            ));
        }
    }
    if profile::BASE_PATHS.iter().all(|b| is_disabled(disabled, b)) {
        return Err("every base path of the profile is disabled: nothing would be served".into());
    }
    Ok(())
}

fn is_disabled(disabled: &[String], base: &BasePath) -> bool {
    disabled
        .iter()
        .any(|d| d.trim_end_matches('/') == base.path)
}

/// The application with the default [`AppConfig`].
pub fn app<S: Store>(hub: Arc<Hub688<S>>) -> Router {
    app_with(hub, &AppConfig::default())
}

/// The application: the provider API under every `profile::BASE_PATHS` path not
/// disabled in `config` (each serving only its listed operations and checking request
/// bodies against its own mandatory attributes), `GET /health`, `GET /openapi.json`,
/// and TMF `Error` bodies for unknown paths and methods. With a delivery engine
/// attached, also its operator API (`/admin`), `GET /metrics` and the operator console
/// (`/console`).
pub fn app_with<S: Store>(hub: Arc<Hub688<S>>, config: &AppConfig) -> Router {
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi));
    for base in profile::BASE_PATHS {
        if is_disabled(&config.disabled_base_paths, base) {
            continue;
        }
        let mut api = server::router(hub.clone());
        // Standard Webhooks signatures on createEvent, when `[[delivery.inbound_signatures]]`
        // asks for them (inside authentication: a caller is authenticated first).
        let hooks = hub.delivery_hooks().clone();
        api = api.route_layer(middleware::from_fn(move |request: Request, next: Next| {
            crate::delivery::inbound::verify_inbound(hooks.clone(), request, next)
        }));
        if let Some(auth) = &config.auth {
            let auth = auth.clone();
            let prefix: Arc<str> = Arc::from(base.path);
            api = api.route_layer(middleware::from_fn(move |request: Request, next: Next| {
                auth::middleware::require_role(auth.clone(), prefix.clone(), request, next)
            }));
        }
        let api = api.layer(middleware::from_fn(move |request: Request, next: Next| {
            only_served(base, request, next)
        }));
        router = router.nest(base.path, api);
    }
    // The delivery engine's operator API, when an engine is attached (admin role
    // only when authentication is on).
    if let Some(mut admin) = hub.delivery_hooks().admin_router() {
        if let Some(auth) = &config.auth {
            let auth = auth.clone();
            admin = admin.route_layer(middleware::from_fn(move |request: Request, next: Next| {
                auth::middleware::require_admin(auth.clone(), request, next)
            }));
        }
        router = router.merge(admin);
    }
    // `/metrics` and the console: over the same operator controls as `/admin`, each
    // checking its own access (bearer, session cookie, scrape token).
    if let Some(operator) = hub.delivery_hooks().operator() {
        router = router.merge(crate::metrics::router(
            operator.clone(),
            config.auth.clone(),
            &config.metrics,
        ));
        if config.console.enabled {
            router = router.merge(crate::console::router(
                hub.clone(),
                operator,
                config.auth.clone(),
                &config.console,
            ));
        }
    }
    router
        .fallback(support::not_found)
        .method_not_allowed_fallback(support::method_not_allowed)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
}

/// A listener application (the endpoints receiving another hub's API notifications),
/// apart from the provider API, mounted under `base_path` (empty: at the root).
pub fn listener_app<L: NotificationListenersClientSideApi>(
    listener: Arc<L>,
    base_path: &str,
) -> Router {
    listener_app_with(listener, base_path, None)
}

/// [`listener_app`] with inbound authentication and the role matrix when `auth` is
/// given.
pub fn listener_app_with<L: NotificationListenersClientSideApi>(
    listener: Arc<L>,
    base_path: &str,
    auth: Option<Arc<Authenticator>>,
) -> Router {
    let base_path = base_path.trim_end_matches('/');
    let mut routes = server::listener_router(listener);
    if let Some(auth) = auth {
        let prefix: Arc<str> = Arc::from(base_path);
        routes = routes.route_layer(middleware::from_fn(move |request: Request, next: Next| {
            auth::middleware::require_role(auth.clone(), prefix.clone(), request, next)
        }));
    }
    let router = if base_path.is_empty() {
        Router::new().merge(routes)
    } else {
        Router::new().nest(base_path, routes)
    };
    router
        .fallback(support::not_found)
        .method_not_allowed_fallback(support::method_not_allowed)
}

async fn health() -> Response {
    support::json_response(StatusCode::OK, &serde_json::json!({"status": "up"}))
}

async fn openapi() -> Response {
    let mut response = tmf688_api::OPENAPI_JSON.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    response
}

/// `/topic/{p0}/event` and `/topic/{topicId}/event` both become `/topic/{}/event`.
fn normalize(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// (method, normalized path, operation id) of every operation.
fn operation_table() -> &'static [(Method, String, &'static str)] {
    static TABLE: OnceLock<Vec<(Method, String, &'static str)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        tmf688_api::operations::OPERATIONS
            .iter()
            .filter_map(|op| {
                let method = Method::from_bytes(op.method.as_bytes()).ok()?;
                Some((method, normalize(op.path), op.id))
            })
            .collect()
    })
}

/// Lets through only the operations `base` serves: another operation on a path the
/// base path serves gets 405, one on a path it does not serve at all 404.
async fn only_served(base: &'static BasePath, request: Request, next: Next) -> Response {
    let Some(matched) = request.extensions().get::<MatchedPath>() else {
        return next.run(request).await; // the fallback: already a TMF 404
    };
    let matched = matched.as_str();
    let relative = normalize(matched.strip_prefix(base.path).unwrap_or(matched));
    let table = operation_table();
    let operation = table
        .iter()
        .find(|(method, path, _)| method == request.method() && *path == relative);
    let Some((_, _, operation_id)) = operation else {
        return next.run(request).await;
    };
    if base.serves(operation_id) {
        return next.run(request).await;
    }
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().clone(), |original| original.0.clone());
    let allowed: Vec<&str> = table
        .iter()
        .filter(|(_, path, id)| *path == relative && base.serves(id))
        .map(|(method, _, _)| method.as_str())
        .collect();
    if allowed.is_empty() {
        support::not_found(uri).await.into_response()
    } else {
        let mut response = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed",
            format!(
                "{} is not offered on {} (operation {operation_id} is not part of {})",
                request.method(),
                uri.path(),
                base.path
            ),
        )
        .into_response();
        if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
            response.headers_mut().insert(header::ALLOW, value);
        }
        response
    }
}
