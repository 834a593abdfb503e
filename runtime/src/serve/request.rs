//! One request's limits, each refusal a TMF `Error`: the request target (414), the
//! header fields (431), and the time the body may take to arrive (408, then the
//! connection is closed).
//!
//! These limits sit below hyper's own: its parser buffer is sized at about twice the
//! URI and header limits together ([`parser_buffer`]) and it takes twice as many header
//! fields as [`MAX_HEADER_FIELDS`], so that a head over our limits normally still
//! reaches this code and gets a TMF answer. A head larger than hyper's buffer, or with
//! more fields than it takes, gets hyper's own answer: `431` with an empty body, and
//! the connection is closed; a malformed request line or header gets hyper's empty
//! `400`. hyper offers no way to give those a body.

use std::error::Error;
use std::fmt;
use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::response::{IntoResponse as _, Response};
use http::{HeaderValue, Request, StatusCode, header};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use tmf688_api::support::ApiError;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

/// Header fields a request may carry (more: 431).
pub const MAX_HEADER_FIELDS: usize = 100;

/// hyper's read buffer for a request head: about twice our limits, so that heads over
/// them get our TMF answer rather than hyper's bare one (at least hyper's minimum).
pub(super) fn parser_buffer(max_uri_bytes: usize, max_header_bytes: usize) -> usize {
    max_uri_bytes
        .saturating_add(max_header_bytes)
        .saturating_mul(2)
        .saturating_add(8 * 1024)
}

/// hyper's limit on header fields.
pub(super) const PARSER_HEADER_FIELDS: usize = 2 * MAX_HEADER_FIELDS;

/// The per-request limits.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    pub(super) max_uri_bytes: usize,
    pub(super) max_header_bytes: usize,
    pub(super) body_read_timeout: Duration,
}

/// Answers `request` through `router`, or refuses it.
pub(super) async fn answer(router: Router, limits: Limits, request: Request<Incoming>) -> Response {
    if let Some(refusal) = limits.refuse_head(&request) {
        return refusal;
    }
    let (request, expired) = with_body_deadline(request, limits.body_read_timeout);
    let response = router
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    match expired {
        Some(expired) if expired.load(Ordering::Relaxed) => {
            body_timed_out(limits.body_read_timeout)
        }
        _ => response,
    }
}

impl Limits {
    fn refuse_head(&self, request: &Request<Incoming>) -> Option<Response> {
        let uri = request.uri();
        let uri_bytes = uri
            .path_and_query()
            .map_or(0, |target| target.as_str().len())
            + uri
                .authority()
                .map_or(0, |authority| authority.as_str().len());
        if uri_bytes > self.max_uri_bytes {
            return Some(refusal(
                StatusCode::URI_TOO_LONG,
                "URI Too Long",
                format!(
                    "the request target has {uri_bytes} bytes; at most {} are accepted",
                    self.max_uri_bytes
                ),
            ));
        }
        let headers = request.headers();
        if headers.len() > MAX_HEADER_FIELDS {
            return Some(refusal(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request Header Fields Too Large",
                format!(
                    "the request has {} header fields; at most {MAX_HEADER_FIELDS} are accepted",
                    headers.len()
                ),
            ));
        }
        let header_bytes: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        if header_bytes > self.max_header_bytes {
            return Some(refusal(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request Header Fields Too Large",
                format!(
                    "the header fields have {header_bytes} bytes (names and values); at most {} \
                     are accepted",
                    self.max_header_bytes
                ),
            ));
        }
        None
    }
}

fn refusal(status: StatusCode, reason: &str, message: String) -> Response {
    tracing::debug!(%status, %message, "request refused");
    ApiError::new(status, reason, message).into_response()
}

/// 408, and the connection is closed after it (the rest of the body may still come).
fn body_timed_out(timeout: Duration) -> Response {
    let mut response = refusal(
        StatusCode::REQUEST_TIMEOUT,
        "Request Timeout",
        format!(
            "the request body did not arrive within {} ms of its head",
            timeout.as_millis()
        ),
    );
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The request with its body bounded by `timeout` from now, and the flag its expiry
/// sets (`None`: no body, nothing to wait for).
fn with_body_deadline(
    request: Request<Incoming>,
    timeout: Duration,
) -> (Request<Body>, Option<Arc<AtomicBool>>) {
    if http_body::Body::is_end_stream(request.body()) {
        return (request.map(Body::new), None);
    }
    let expired = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + timeout;
    let flag = expired.clone();
    let request = request.map(move |inner| {
        Body::new(DeadlineBody {
            inner,
            deadline,
            timer: None,
            expired: flag,
        })
    });
    (request, Some(expired))
}

/// A body that fails once `deadline` passes before it is complete. The timer is only
/// created when the body has to be waited for.
struct DeadlineBody {
    inner: Incoming,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
    expired: Arc<AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(timer.as_mut().poll(cx));
        this.expired.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(BodyTimedOut.into())))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What a handler reading a late body sees (its answer is then replaced by a 408).
#[derive(Debug)]
struct BodyTimedOut;

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the request body did not arrive within the body read timeout")
    }
}

impl Error for BodyTimedOut {}
