//! The operator API of the delivery engine (mounted by [`crate::app_with`] when an
//! engine is attached). It is not part of TMF688; it needs the admin role once inbound
//! authentication is on.
//!
//! * `GET /admin/hubs`: every hub's [`HubStatus`](super::status::HubStatus) (cursor,
//!   head, lag, state, attempts, last status/error/success, bounded attempt log). With
//!   several replicas on one database, any replica answers for every hub: its own
//!   workers' live status, and the stored state (cursor, retry state, holding
//!   `replica`) of hubs another replica delivers. Resume and replay of such a hub go
//!   through the store, which tells the replica holding it.
//! * `GET /admin/hubs/{id}`: one hub's.
//! * `POST /admin/hubs/{id}/resume`: a halted hub continues, in order, from its cursor
//!   (a retrying one retries now). 202.
//! * `POST /admin/hubs/{id}/replay?from=K` (or `?fromTime=2024-05-01T00:00:00Z`): moves
//!   the cursor back so that the events from sequence K (or from the first event at or
//!   after that `eventTime`) are sent again; resumes a halted hub. 202.
//! * `GET /admin/delivery/metrics`: engine-wide counters.
//! * `GET /admin/metrics`: the counters and this replica's per-hub lag, cursor, failed
//!   attempts and halted flag in the Prometheus text format, for a scraper.
//!
//! Bad input (a hub id that is not UTF-8, a query that does not fit) is answered 400
//! with a TMF `Error`, like everything else the server refuses.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use http::StatusCode;
use serde::Deserialize;
use tmf688_api::support::{ApiError, json_response};

use super::operator::AdminError;
use super::shared::Shared;
use crate::store::{Seq, Store};

pub(crate) fn router<S: Store>(shared: Arc<Shared<S>>) -> Router {
    Router::new()
        .route("/admin/hubs", get(list::<S>))
        .route("/admin/hubs/{id}", get(one::<S>))
        .route("/admin/hubs/{id}/resume", post(resume::<S>))
        .route("/admin/hubs/{id}/replay", post(replay::<S>))
        .route("/admin/delivery/metrics", get(metrics::<S>))
        .route("/admin/metrics", get(prometheus_metrics::<S>))
        .with_state(shared)
}

/// The `{id}` of the path (axum's own rejection is plain text).
fn hub_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

fn admin_error(error: AdminError) -> ApiError {
    match error {
        AdminError::NotFound(_) => ApiError::not_found(error.to_string()),
        AdminError::Invalid(_) => ApiError::bad_request(error.to_string()),
        AdminError::Store(_) => {
            tracing::error!(%error, "operator API");
            ApiError::internal("the store failed; try again later")
        }
    }
}

async fn list<S: Store>(State(shared): State<Arc<Shared<S>>>) -> Result<Response, ApiError> {
    let mut statuses = shared.all_statuses().await.map_err(admin_error)?;
    statuses.sort_by(|a, b| (&a.topic_id, &a.hub_id).cmp(&(&b.topic_id, &b.hub_id)));
    Ok(json_response(StatusCode::OK, &statuses))
}

async fn one<S: Store>(
    State(shared): State<Arc<Shared<S>>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = hub_id(path)?;
    let status = shared.any_status(&id).await.map_err(admin_error)?;
    Ok(json_response(StatusCode::OK, &status))
}

async fn resume<S: Store>(
    State(shared): State<Arc<Shared<S>>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = hub_id(path)?;
    shared.resume(&id).await.map_err(admin_error)?;
    tracing::info!(hub = %id, "operator: resume");
    let status = shared.any_status(&id).await.ok();
    Ok(json_response(StatusCode::ACCEPTED, &status))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReplayQuery {
    from: Option<Seq>,
    from_time: Option<String>,
}

async fn replay<S: Store>(
    State(shared): State<Arc<Shared<S>>>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ReplayQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = hub_id(path)?;
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let from = match (query.from, query.from_time) {
        (Some(from), None) => from,
        (None, Some(time)) => shared.seq_at_time(&id, &time).await.map_err(admin_error)?,
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of `from` (a sequence number) and `fromTime` (an eventTime)",
            ));
        }
    };
    shared.replay(&id, from).await.map_err(admin_error)?;
    tracing::info!(hub = %id, from, "operator: replay");
    Ok(json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({"hubId": id, "from": from}),
    ))
}

async fn metrics<S: Store>(State(shared): State<Arc<Shared<S>>>) -> Response {
    json_response(StatusCode::OK, &shared.metrics())
}

async fn prometheus_metrics<S: Store>(State(shared): State<Arc<Shared<S>>>) -> Response {
    use axum::response::IntoResponse as _;
    let mut hubs = shared.statuses();
    hubs.sort_by(|a, b| (&a.topic_id, &a.hub_id).cmp(&(&b.topic_id, &b.hub_id)));
    let text = super::prometheus::render(&shared.metrics(), &hubs);
    (
        [(http::header::CONTENT_TYPE, super::prometheus::CONTENT_TYPE)],
        text,
    )
        .into_response()
}
