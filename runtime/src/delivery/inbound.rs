//! The inbound half of Standard Webhooks signatures as an axum middleware on the
//! event-create routes: `createEvent` on a topic listed in
//! `[[delivery.inbound_signatures]]` passes only with a valid, fresh signature (401
//! with a TMF `Error` otherwise). The scheme itself is [`super::signing`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode};
use tmf688_api::support::ApiError;

use super::hooks::DeliveryHooks;

fn unauthorized(message: String) -> Response {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "Invalid webhook signature",
        message,
    )
    .into_response()
}

/// Route layer on the provider routes: a `POST .../topic/{id}/event` to a topic that
/// [`InboundVerifier::requires`](super::signing::InboundVerifier::requires) signatures for is let through only with a valid one
/// (401 otherwise). Other requests pass untouched.
pub async fn verify_inbound(hooks: Arc<DeliveryHooks>, request: Request, next: Next) -> Response {
    use axum::RequestExt as _;
    use axum::RequestPartsExt as _;
    if request.method() != Method::POST || !request.uri().path().ends_with("/event") {
        return next.run(request).await;
    }
    let Some(inbound) = hooks.inbound().filter(|v| !v.is_empty()) else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.with_limited_body().into_parts();
    let topic = match parts.extract::<Path<HashMap<String, String>>>().await {
        Ok(Path(params)) if params.len() == 1 => params.into_values().next().unwrap_or_default(),
        _ => return next.run(Request::from_parts(parts, body)).await,
    };
    if !inbound.requires(&topic) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload Too Large",
                "request body exceeds the size limit (or could not be read)",
            )
            .into_response();
        }
    };
    if let Err(message) = inbound.verify(&topic, &parts.headers, &bytes, SystemTime::now()) {
        tracing::info!(topic, %message, "event refused: webhook signature");
        return unauthorized(format!(
            "events of topic {topic:?} must carry a valid Standard Webhooks signature: {message}"
        ));
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
