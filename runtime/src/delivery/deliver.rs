//! Delivering one event to a hub's callback: the request (the stored body with `id`
//! and `href` first, or a listener notification as stored), outbound authentication
//! and Standard Webhooks signing per callback host, the in-flight budget, and retries
//! with backoff (or `Retry-After`) until a 2xx, a 410 Gone, the end of the budget (the
//! hub halts), an operator's request, shutdown, or — when leasing — the lease lapsing.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;
use tmf688_api::support::{ClientError, encode_path_segment};

use super::budget::{Places, authority_of};
use super::mailbox::Control;
use super::notifications;
use super::retry;
use super::status::{AttemptRecord, DeliveryState, rfc3339};
use super::worker::{Step, Worker};
use crate::store::{EventRecord, Store};
use crate::sync::lock;

/// Where a worker's deliveries to one target (the hub's callback, or a listener's
/// URL) go, worked out once rather than per delivery: the allow-list's verdict (the
/// engine's configuration does not change while it runs; host names are checked
/// again by the guarded resolver whenever a connection is made), the URI sent to and
/// the allow-list entry's index, and the budget's shares for its authority and owner.
#[derive(Debug)]
pub(super) struct Route {
    target: String,
    verdict: Result<(http::Uri, usize), String>,
    places: Places,
    /// `Content-Type` and `Host` (as the client would write it), built once.
    headers: http::HeaderMap,
}

/// The `Host` header for `uri`: its host, with the port unless it is the scheme's
/// default (what hyper-util would otherwise format for every request).
fn host_header(uri: &http::Uri) -> Option<http::HeaderValue> {
    let host = uri.host()?;
    let default = match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    };
    let value = match uri.port_u16() {
        Some(port) if port != default => format!("{host}:{port}"),
        _ => host.to_owned(),
    };
    http::HeaderValue::from_str(&value).ok()
}

/// What one attempt came to.
enum Attempt {
    Delivered(StatusCode),
    Gone,
    Failed {
        status: Option<StatusCode>,
        error: String,
        retry_after: Option<Duration>,
    },
}

/// The stored event body with `id` and `href` first, without re-encoding it.
fn render(body: &[u8], id: &str, href: &str) -> Bytes {
    let mut out = Vec::with_capacity(body.len() + id.len() + href.len() + 24);
    out.extend_from_slice(b"{\"id\":");
    let _ = serde_json::to_writer(&mut out, id);
    out.extend_from_slice(b",\"href\":");
    let _ = serde_json::to_writer(&mut out, href);
    let rest = body.trim_ascii_start();
    match rest.strip_prefix(b"{") {
        Some(inner) if inner.trim_ascii_start().starts_with(b"}") => out.push(b'}'),
        Some(inner) => {
            out.push(b',');
            out.extend_from_slice(inner);
        }
        None => out.push(b'}'), // not an object: cannot happen for stored events
    }
    Bytes::from(out)
}

fn describe(error: &ClientError, timeout: Duration) -> String {
    match error {
        ClientError::Callback(e) if e.is_timeout() => {
            format!("timeout: no answer within {} ms", timeout.as_millis())
        }
        ClientError::Callback(e) => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
        other => other.to_string(),
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    text.trim().to_owned()
}
impl<S: Store> Worker<S> {
    /// Delivers one event, retrying until a 2xx, a 410, the end of the budget, an
    /// operator's request or shutdown.
    pub(super) async fn deliver(&mut self, event: &EventRecord) -> Step {
        let mut href = self.href_prefix.clone();
        href.push_str(&encode_path_segment(&event.id));
        // Notifications to API listeners go as stored, each to its listener path; events
        // to hubs with the `id`/`href` of the hub's base path.
        let (body, route) = if notifications::is_reserved(&self.hub.topic_id) {
            let event_type = serde_json::from_slice::<Value>(&event.body)
                .ok()
                .and_then(|v| v.get("eventType")?.as_str().map(str::to_owned))
                .unwrap_or_default();
            let target = notifications::listener_url(&self.hub.callback, &event_type);
            (event.body.clone(), self.route_to(target))
        } else {
            let route = match &self.route {
                Some(route) if route.target == self.hub.callback => route.clone(),
                _ => self.route_to(self.hub.callback.clone()),
            };
            (render(&event.body, &event.id, &href), route)
        };
        // The Standard Webhooks message id: stable across retries and replays, and one
        // per event (receivers drop a second message with the same id). eventIds are
        // unique per publisher, not per topic (DESIGN §4b): an authenticated
        // publisher's event adds its server id, so another publisher's event with the
        // same eventId is not dropped as a duplicate of it. The anonymous publisher's
        // eventId is unique in the topic and is the id as it always was.
        let webhook_id = if event.event_id.is_empty()
            || event.event_id.len() > 256
            || http::HeaderValue::from_str(&event.event_id).is_err()
        {
            event.id.clone()
        } else if event.publisher == crate::store::ANONYMOUS_PUBLISHER {
            event.event_id.clone()
        } else {
            format!("{}.{}", event.event_id, event.id)
        };
        let config = self.shared.config.clone();
        let mut failures: u32 = std::mem::take(&mut self.carried_attempts);
        loop {
            if self.stopping() {
                return Step::Exit;
            }
            // A place in flight within this hub's owner's and callback host's shares.
            let permit = tokio::select! {
                permit = self.shared.budget.enter_places(&route.places) => permit,
                _ = self.shutdown.wait_for(|stop| *stop) => return Step::Exit,
            };
            let started_at = SystemTime::now();
            let started = Instant::now();
            // When leasing, an attempt in flight is abandoned as soon as the lease may
            // have lapsed or the hub was taken away: the replica that takes it over
            // finds the cursor before this event and sends it again, after nothing.
            let outcome = tokio::select! {
                biased;
                () = self.lease_lost() => return Step::Exit,
                outcome = self.attempt(&route, body.clone(), &webhook_id) => outcome,
            };
            drop(permit);
            let elapsed = started.elapsed();
            let mut record = AttemptRecord {
                at: rfc3339(started_at),
                seq: event.seq,
                event_id: event.event_id.clone(),
                outcome: "delivered",
                status: None,
                error: None,
                duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            };
            let capacity = config.attempt_log_size;
            match outcome {
                Attempt::Delivered(code) => {
                    self.shared.metrics.delivered(elapsed);
                    record.status = Some(code.as_u16());
                    let mut status = lock(&self.hub.live);
                    status.log(record, capacity);
                    status.set_active();
                    status.last_status = Some(code.as_u16());
                    status.last_success_at = Some(rfc3339(SystemTime::now()));
                    status.delivered += 1;
                    return Step::Delivered;
                }
                Attempt::Gone => {
                    record.outcome = "gone";
                    record.status = Some(410);
                    lock(&self.hub.live).log(record, capacity);
                    return Step::Gone;
                }
                Attempt::Failed {
                    status: code,
                    error,
                    retry_after,
                } => {
                    self.shared.metrics.failed();
                    failures += 1;
                    record.outcome = "failed";
                    record.status = code.map(|c| c.as_u16());
                    record.error = Some(error.clone());
                    tracing::debug!(hub = %self.hub.id, seq = event.seq, attempt = failures, status = ?code, %error, "delivery attempt failed");
                    let delay = match retry_after {
                        Some(asked) => retry::clamp_retry_after(&config.retry, asked),
                        None => retry::backoff(&config.retry, failures, fastrand::f64()),
                    };
                    let halt = failures >= config.retry.max_attempts;
                    {
                        let mut status = lock(&self.hub.live);
                        status.log(record, capacity);
                        status.attempts = failures;
                        status.last_status = code.map(|c| c.as_u16());
                        status.last_error = Some(error.clone());
                        status.failed_attempts += 1;
                        if halt {
                            status.state = DeliveryState::Halted;
                            status.next_attempt_at = None;
                        } else {
                            status.state = DeliveryState::Retrying;
                            status.next_attempt_at = Some(rfc3339(SystemTime::now() + delay));
                        }
                    }
                    if halt {
                        self.shared.metrics.halted();
                        tracing::warn!(hub = %self.hub.id, callback = %self.hub.callback, seq = event.seq, attempts = failures, %error, "delivery halted: retry budget spent; resume it through the operator API");
                        self.halted = true;
                        self.save(failures, Some(error)).await;
                        return Step::Halted;
                    }
                    self.save(failures, Some(error)).await;
                    let resumed = tokio::select! {
                        () = tokio::time::sleep(delay) => false,
                        control = self.control.recv() => match control {
                            Some(Control::Resume) => true,
                            Some(replay @ Control::Replay(_)) => return Step::Control(replay),
                            Some(Control::Stop) | None => return Step::Exit,
                        },
                        _ = self.shutdown.wait_for(|stop| *stop) => return Step::Exit,
                    };
                    if resumed {
                        failures = 0;
                        lock(&self.hub.live).set_active();
                        self.save(0, None).await;
                    }
                }
            }
        }
    }

    /// Completes when this worker may no longer send (never when not leasing).
    async fn lease_lost(&self) {
        if !self.shared.leasing {
            return std::future::pending().await;
        }
        loop {
            if self.hub.revoked.load(Ordering::SeqCst) || !self.shared.lease_valid() {
                return;
            }
            let now = Instant::now();
            let until = lock(&self.shared.lease_until).unwrap_or(now);
            let wait = until
                .saturating_duration_since(now)
                .min(Duration::from_millis(100));
            tokio::time::sleep(wait).await;
        }
    }

    /// The route to `target`, kept for the next deliveries to it.
    fn route_to(&mut self, target: String) -> Arc<Route> {
        if let Some(route) = &self.route
            && route.target == target
        {
            return route.clone();
        }
        let verdict = self
            .shared
            .guard
            .allowed(&target)
            .and_then(|(url, index, _)| {
                // Never sent: a fragment is not part of an HTTP request's target.
                let sent = url
                    .as_str()
                    .split_once('#')
                    .map_or(url.as_str(), |(url, _)| url);
                let uri = http::Uri::try_from(sent)
                    .map_err(|error| format!("`callback` {target:?} cannot be sent to: {error}"))?;
                Ok((uri, index))
            });
        let places = self
            .shared
            .budget
            .places(&authority_of(&target), self.hub.owner.as_ref());
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json;charset=utf-8"),
        );
        if let Ok((uri, _)) = &verdict
            && let Some(host) = host_header(uri)
        {
            headers.insert(http::header::HOST, host);
        }
        let route = Arc::new(Route {
            target,
            verdict,
            places,
            headers,
        });
        self.route = Some(route.clone());
        route
    }

    /// One POST (two when an OAuth2 token was refused with 401 and is refreshed).
    async fn attempt(&self, route: &Route, body: Bytes, webhook_id: &str) -> Attempt {
        let shared = &self.shared;
        let (uri, index) = match &route.verdict {
            Ok((uri, index)) => (uri, *index),
            Err(error) => {
                return Attempt::Failed {
                    status: None,
                    error: error.clone(),
                    retry_after: None,
                };
            }
        };
        let auth = &shared.auth[index];
        for round in 0..2 {
            let (mut headers, token) = match auth.headers(&shared.token_http).await {
                Ok((auth_headers, token)) => {
                    let mut headers = route.headers.clone();
                    headers.extend(auth_headers);
                    (headers, token)
                }
                Err(error) => {
                    return Attempt::Failed {
                        status: None,
                        error: format!("outbound authentication failed: {error}"),
                        retry_after: None,
                    };
                }
            };
            shared.signers[index].sign(&mut headers, webhook_id, SystemTime::now(), &body);
            let outcome = shared.client.post(uri.clone(), body.clone(), headers).await;
            let answer = match outcome {
                Ok(answer) => answer,
                Err(error) => {
                    return Attempt::Failed {
                        status: None,
                        error: describe(&error, shared.config.attempt_timeout()),
                        retry_after: None,
                    };
                }
            };
            let status = answer.status;
            if status.is_success() {
                return Attempt::Delivered(status);
            }
            if status == StatusCode::GONE {
                return Attempt::Gone;
            }
            if status == StatusCode::UNAUTHORIZED
                && round == 0
                && let Some(token) = token
            {
                tracing::info!(hub = %self.hub.id, "callback refused the OAuth2 token: refreshing it");
                auth.invalidate(&token).await;
                continue;
            }
            let text = snippet(&answer.body);
            return Attempt::Failed {
                status: Some(status),
                error: if text.is_empty() {
                    format!("answered {status}")
                } else {
                    format!("answered {status}: {text}")
                },
                retry_after: retry::retry_after(&answer.headers, SystemTime::now()),
            };
        }
        Attempt::Failed {
            status: Some(StatusCode::UNAUTHORIZED),
            error: "answered 401 Unauthorized, also with a fresh token".into(),
            retry_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_id_and_href_first() {
        let out = render(br#"{"eventId":"e1","event":{}}"#, "7", "/x/7");
        assert_eq!(
            &out[..],
            br#"{"id":"7","href":"/x/7","eventId":"e1","event":{}}"#
        );
        let out = render(b"{}", "7", "/x/7");
        assert_eq!(&out[..], br#"{"id":"7","href":"/x/7"}"#);
        let value: Value = serde_json::from_slice(&render(b" { \"a\" : 1 }", "q\"", "h")).unwrap();
        assert_eq!(value["id"], "q\"");
        assert_eq!(value["a"], 1);
    }
}
