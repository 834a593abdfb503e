//! `GET /metrics`: the delivery engine's Prometheus text (the same exposition as
//! `/admin/metrics`, [`crate::delivery::prometheus`]) at the path scrapers look for,
//! behind the access `[metrics] auth` chooses ([`MetricsAuth`]):
//!
//! * `admin` (default): an admin's bearer credential, as `/admin` (open when inbound
//!   authentication is off, like `/admin`);
//! * `open`: anyone who reaches the port;
//! * `token`: `Authorization: Bearer <scrape token>`, checked against
//!   `token_sha256` in constant time — or an admin's credential.
//!
//! Refusals are 401/403 with a TMF `Error` body and `WWW-Authenticate: Bearer`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use http::{HeaderMap, header};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::auth::middleware::{forbidden, unauthorized};
use crate::auth::{AuthFailure, Authenticator, Role};
use crate::config::{MetricsAuth, MetricsSection};
use crate::delivery::Operator;

struct Scrape {
    operator: Arc<dyn Operator>,
    auth: Option<Arc<Authenticator>>,
    mode: MetricsAuth,
    /// The scrape token's SHA-256 (`token` mode; `None` there: nobody matches).
    token: Option<[u8; 32]>,
}

/// The `/metrics` route (mounted by [`crate::app_with`] when an engine is attached).
pub(crate) fn router(
    operator: Arc<dyn Operator>,
    auth: Option<Arc<Authenticator>>,
    section: &MetricsSection,
) -> Router {
    let token = section
        .token_sha256
        .as_deref()
        .and_then(crate::auth::api_key::decode_hex);
    if section.auth == MetricsAuth::Token && token.is_none() {
        // `MetricsSection::validate` refuses this at start-up; fail closed regardless.
        tracing::error!(
            "[metrics] auth = \"token\" without a valid token_sha256: every scrape is refused"
        );
    }
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Arc::new(Scrape {
            operator,
            auth,
            mode: section.auth,
            token,
        }))
}

async fn scrape(State(scrape): State<Arc<Scrape>>, headers: HeaderMap) -> Response {
    if let Err(response) = scrape.allow(&headers) {
        return *response;
    }
    match scrape.operator.prometheus().await {
        Ok(text) => crate::delivery::prometheus::response(text),
        Err(error) => crate::delivery::admin::admin_error(error).into_response(),
    }
}

impl Scrape {
    fn allow(&self, headers: &HeaderMap) -> Result<(), Box<Response>> {
        match self.mode {
            MetricsAuth::Open => Ok(()),
            MetricsAuth::Admin => match &self.auth {
                None => Ok(()),
                Some(auth) => admin(auth, headers),
            },
            MetricsAuth::Token => {
                let presented =
                    bearer(headers).map_err(|failure| Box::new(unauthorized(&failure)))?;
                let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
                if self
                    .token
                    .is_some_and(|token| bool::from(token.ct_eq(&digest)))
                {
                    return Ok(());
                }
                match &self.auth {
                    Some(auth) => admin(auth, headers),
                    None => Err(Box::new(unauthorized(&AuthFailure::Invalid(
                        "not the scrape token".into(),
                    )))),
                }
            }
        }
    }
}

/// `Ok` for an admin's credential.
fn admin(auth: &Authenticator, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let principal = auth
        .authenticate(headers)
        .map_err(|failure| Box::new(unauthorized(&failure)))?;
    if principal.role == Role::Admin {
        Ok(())
    } else {
        Err(Box::new(
            forbidden(format!(
                "{} (role {}) may not scrape /metrics; it needs the admin role or the scrape token",
                principal.name, principal.role
            ))
            .into_response(),
        ))
    }
}

/// The bearer credential of the request.
fn bearer(headers: &HeaderMap) -> Result<&str, AuthFailure> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthFailure::Missing)?
        .to_str()
        .map_err(|_| AuthFailure::NotBearer)?;
    match value.trim().split_once(' ') {
        Some((scheme, credential))
            if scheme.eq_ignore_ascii_case("bearer") && !credential.trim().is_empty() =>
        {
            Ok(credential.trim())
        }
        _ => Err(AuthFailure::NotBearer),
    }
}
