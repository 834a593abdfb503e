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
//! * `DELETE /admin/hubs/{id}`: removes the hub, whoever registered it (its worker
//!   stops first). 204.
//! * `POST /admin/hubs/{id}/replay?from=K` (or `?fromTime=2024-05-01T00:00:00Z`): moves
//!   the cursor back so that the events from sequence K (or from the first event at or
//!   after that `eventTime`) are sent again; resumes a halted hub. 202. `K` is at
//!   least the log's first sequence and at most the head + 1 (re-send nothing: the
//!   cursor stays at the head); `fromTime` is a date-time (RFC 3339, or without offset
//!   as the TMF guide writes them). A `K` before the first sequence (removed by
//!   retention) is a 410 naming the first sequence; anything else is a 400: a cursor
//!   beyond the head would skip every event published until the log caught up with it.
//! * `GET /admin/hubs/{id}/dead-letters`: what the hub gave up on, as a JSON array of
//!   [`DeadLetter`](super::dead_letters::DeadLetter)s (shape there): ranges expired by
//!   retention's `max_undelivered_age`, the backlog of a hub removed after a 410 (still
//!   listed under its id), and a halted hub's backlog (id `backlog`). 404 when the hub
//!   neither exists nor has any recorded.
//! * `POST /admin/hubs/{id}/dead-letters/{letter}/replay`: re-sends the range from its
//!   first event still held (the hub's cursor moves back there; the hub resumes). 202
//!   with a [`DeadLetterReplay`](super::dead_letters::DeadLetterReplay) naming the part
//!   re-sent and the part retention removed; 404 for an unknown dead letter, 409 when
//!   the hub was removed, 410 when the whole range was removed by retention.
//! * `GET /admin/topics`: every topic's log — events held, first and last sequence,
//!   events removed so far, retention limits — as a JSON array of
//!   [`TopicLog`](super::dead_letters::TopicLog)s (shape there).
//! * `POST /admin/retention/trim`: one retention pass now (the trimmer's periodic one,
//!   [`super::trimmer`]); 200 with its [`TrimReport`](super::trimmer::TrimReport)
//!   (`{"ran": true, "topics": [{"topicId", "removed", "firstSeq", "lastSeq"}],
//!   "expired": [{"hubId", "topicId", "deadLetterId", "first", "last"}]}`; `ran` is
//!   false when another replica holds the trimmer's lease). 409 when retention is not
//!   configured.
//!
//! Every answer is JSON; errors are TMF `Error` bodies (also for a malformed path or
//! query: they are parsed here, not by axum's extractors, whose rejections are plain
//! text). A hub id that cannot exist ([`crate::limits::path_id`]) is a 404.
//! * `GET /admin/delivery/metrics`: engine-wide counters.
//! * `GET /admin/metrics`: the counters and this replica's per-hub lag, cursor, failed
//!   attempts and halted flag in the Prometheus text format, for a scraper.
//!
//! Bad input (a hub id that is not UTF-8, a query that does not fit) is answered 400
//! with a TMF `Error`, like everything else the server refuses.

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse as _;
use axum::response::Response;
use axum::routing::{get, post};
use http::StatusCode;
use tmf688_api::support::{ApiError, json_response};

use super::operator::{AdminError, Operator, ReplayFrom};
use super::shared::Shared;
use crate::store::Store;

pub(crate) fn router<S: Store>(shared: Arc<Shared<S>>) -> Router {
    Router::new()
        .route("/admin/hubs", get(list::<S>))
        .route("/admin/hubs/{id}", get(one::<S>).delete(delete::<S>))
        .route("/admin/hubs/{id}/resume", post(resume::<S>))
        .route("/admin/hubs/{id}/replay", post(replay::<S>))
        .route("/admin/hubs/{id}/dead-letters", get(dead_letters::<S>))
        .route(
            "/admin/hubs/{id}/dead-letters/{letter}/replay",
            post(replay_dead_letter::<S>),
        )
        .route("/admin/topics", get(topics::<S>))
        .route("/admin/retention/trim", post(trim::<S>))
        .route("/admin/delivery/metrics", get(metrics::<S>))
        .route("/admin/metrics", get(prometheus_metrics::<S>))
        .with_state(shared)
}

/// An operator error as the TMF `Error` answered for it (404, 400; 500 for the store,
/// logged, without its details).
pub fn admin_error(error: AdminError) -> ApiError {
    match error {
        AdminError::NotFound(_) | AdminError::Missing(_) => ApiError::not_found(error.to_string()),
        AdminError::Invalid(_) => ApiError::bad_request(error.to_string()),
        AdminError::Conflict(_) => ApiError::conflict(error.to_string()),
        AdminError::Gone(_) => ApiError::new(StatusCode::GONE, "Gone", error.to_string()),
        AdminError::Store(_) => {
            tracing::error!(%error, "operator API");
            ApiError::internal("the store failed; try again later")
        }
    }
}

async fn list<S: Store>(State(shared): State<Arc<Shared<S>>>) -> Result<Response, ApiError> {
    let statuses = shared.hub_statuses().await.map_err(admin_error)?;
    Ok(json_response(StatusCode::OK, &statuses))
}

/// The hub id of the path: 404 when it cannot exist, 400 when it does not decode
/// (axum's own rejection is plain text).
fn hub_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(id) = path.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    crate::limits::path_id("hub", &id)?;
    Ok(id)
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

/// `from=K` or `fromTime=T`, exactly one, nothing else.
fn replay_from(query: Option<&str>) -> Result<ReplayFrom, ApiError> {
    ReplayFrom::from_params(url::form_urlencoded::parse(
        query.unwrap_or_default().as_bytes(),
    ))
    .map_err(ApiError::bad_request)
}

async fn replay<S: Store>(
    State(shared): State<Arc<Shared<S>>>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = hub_id(path)?;
    let from = Operator::replay(&*shared, &id, replay_from(query.as_deref())?)
        .await
        .map_err(admin_error)?;
    tracing::info!(hub = %id, from, "operator: replay");
    Ok(json_response(
        StatusCode::ACCEPTED,
        &serde_json::json!({"hubId": id, "from": from}),
    ))
}

async fn delete<S: Store>(
    State(shared): State<Arc<Shared<S>>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = hub_id(path)?;
    shared.delete_hub(&id).await.map_err(admin_error)?;
    tracing::info!(hub = %id, "operator: hub removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn dead_letters<S: Store>(
    State(shared): State<Arc<Shared<S>>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = hub_id(path)?;
    let letters = shared.dead_letters(&id).await.map_err(admin_error)?;
    Ok(json_response(StatusCode::OK, &letters))
}

async fn replay_dead_letter<S: Store>(
    State(shared): State<Arc<Shared<S>>>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path((id, letter)) =
        path.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    crate::limits::path_id("hub", &id)?;
    if letter != super::dead_letters::BACKLOG && letter.parse::<u64>().is_err() {
        return Err(ApiError::not_found(format!(
            "hub {id:?} has no dead letter {} (dead letters are numbered, or `backlog`)",
            crate::limits::shown(&letter)
        )));
    }
    let replay = shared
        .replay_dead_letter(&id, &letter)
        .await
        .map_err(admin_error)?;
    tracing::info!(hub = %id, dead_letter = %letter, from = replay.from, "operator: dead letter replayed");
    Ok(json_response(StatusCode::ACCEPTED, &replay))
}

async fn topics<S: Store>(State(shared): State<Arc<Shared<S>>>) -> Result<Response, ApiError> {
    let logs = shared.topic_logs().await.map_err(admin_error)?;
    Ok(json_response(StatusCode::OK, &logs))
}

async fn trim<S: Store>(State(shared): State<Arc<Shared<S>>>) -> Result<Response, ApiError> {
    let report = shared.trim_pass().await.map_err(|error| match error {
        AdminError::Invalid(why) => ApiError::conflict(why),
        other => admin_error(other),
    })?;
    tracing::info!(
        ran = report.ran,
        topics = report.topics.len(),
        expired = report.expired.len(),
        "operator: retention pass"
    );
    Ok(json_response(StatusCode::OK, &report))
}

async fn metrics<S: Store>(State(shared): State<Arc<Shared<S>>>) -> Response {
    json_response(StatusCode::OK, &shared.metrics())
}

async fn prometheus_metrics<S: Store>(State(shared): State<Arc<Shared<S>>>) -> Response {
    match Operator::prometheus(shared.as_ref()).await {
        Ok(text) => super::prometheus::response(text),
        Err(error) => admin_error(error).into_response(),
    }
}
