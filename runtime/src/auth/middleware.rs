//! The axum middleware enforcing authentication and the role matrix.
//!
//! Apply it with `Router::route_layer` on a router nested under a base path, so that
//! it runs only for matched routes and knows the operation: `MatchedPath` minus the
//! base path is the generated `OperationInfo::route`.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use http::{HeaderValue, StatusCode, header};
use tmf688_api::operations;
use tmf688_api::support::ApiError;

use super::authenticator::{AuthFailure, Authenticator};
use super::principal::Role;

/// 401 with `WWW-Authenticate: Bearer` and a TMF `Error` body.
pub fn unauthorized(failure: &AuthFailure) -> Response {
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        failure.to_string(),
    )
    .into_response();
    let challenge = match failure {
        AuthFailure::Missing => r#"Bearer realm="tmf688""#,
        AuthFailure::NotBearer => r#"Bearer realm="tmf688", error="invalid_request""#,
        AuthFailure::Invalid(_) => r#"Bearer realm="tmf688", error="invalid_token""#,
    };
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// 403 with a TMF `Error` body.
pub fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "Forbidden", message)
}

/// Authenticates the caller, checks that its role may call the matched operation,
/// and puts the [`super::Principal`] into the request extensions.
///
/// A request whose route and method name no operation (405 answers of a matched
/// path) passes through untouched, to be answered by the router.
pub async fn require_role(
    auth: Arc<Authenticator>,
    base_path: Arc<str>,
    mut request: Request,
    next: Next,
) -> Response {
    let operation = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|matched| {
            let matched = matched.as_str();
            let route = matched.strip_prefix(&*base_path).unwrap_or(matched);
            operations::operation_by_route(request.method().as_str(), route)
        });
    let Some(operation) = operation else {
        return next.run(request).await;
    };
    let principal = match auth.authenticate(request.headers()) {
        Ok(principal) => principal,
        Err(failure) => {
            tracing::debug!(operation = operation.id, %failure, "unauthenticated request");
            return unauthorized(&failure);
        }
    };
    if !principal.may_call(operation.id) {
        tracing::info!(operation = operation.id, principal = %principal, "forbidden by the role matrix");
        let allowed: Vec<&str> = operation.roles.to_vec();
        return forbidden(format!(
            "{} (role {}) may not call {} ({} {}); allowed roles: {}",
            principal.name,
            principal.role,
            operation.id,
            operation.method,
            operation.path,
            if allowed.is_empty() {
                "none".to_owned()
            } else {
                allowed.join(", ")
            }
        ))
        .into_response();
    }
    tracing::trace!(operation = operation.id, principal = %principal, "authenticated");
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// The operator API's layer (`/admin/…`): lets through only authenticated callers
/// with the admin role (401/403 otherwise),
/// and puts the [`super::Principal`] into the request extensions.
pub async fn require_admin(auth: Arc<Authenticator>, mut request: Request, next: Next) -> Response {
    let principal = match auth.authenticate(request.headers()) {
        Ok(principal) => principal,
        Err(failure) => return unauthorized(&failure),
    };
    if principal.role != Role::Admin {
        tracing::info!(principal = %principal, path = %request.uri().path(), "operator API refused: not an admin");
        return forbidden(format!(
            "{} (role {}) may not use the operator API; it needs the admin role",
            principal.name, principal.role
        ))
        .into_response();
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}
