//! Who is using the console, and whether an action may run.
//!
//! * A script sends `Authorization: Bearer <credential>` (an admin's API key or JWT), as
//!   for `/admin`; such requests carry no ambient authority, so they need no CSRF token.
//! * A browser logs in once with the same credential (the token form): the hub keeps
//!   it in a server-side session and sets a cookie naming the session — `HttpOnly`
//!   (no script reads it), `SameSite=Strict` (no other site's page sends it), `Path=/console`.
//!   Every request re-checks the kept credential, so a JWT's expiry ends the session.
//! * Without inbound authentication (loopback only) anyone may use the console, as
//!   `/admin`.
//!
//! Actions are `POST` only. Made with the cookie (or with authentication off) they need
//! the page's CSRF token (per session; per process without authentication), and an
//! `Origin` / `Sec-Fetch-Site` that says the request came from the console's own page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::response::{IntoResponse as _, Response};
use http::{HeaderMap, HeaderValue, header};
use subtle::ConstantTimeEq as _;

use crate::auth::middleware::{forbidden, unauthorized};
use crate::auth::{AuthFailure, Authenticator, Role};
use crate::config::ConsoleSection;
use crate::sync::lock;

/// The session cookie's name.
pub(super) const COOKIE: &str = "tmf688_console";

/// Sessions kept at most; the one closest to expiry goes first (only admins create
/// sessions, so this bounds a careless script, not an attacker).
const MAX_SESSIONS: usize = 1024;

#[derive(Debug)]
struct Session {
    credential: String,
    csrf: String,
    expires: Instant,
}

/// The console's sessions and settings.
#[derive(Debug)]
pub(super) struct Sessions {
    auth: Option<Arc<Authenticator>>,
    map: Mutex<HashMap<String, Session>>,
    ttl: Duration,
    secure_cookie: bool,
    /// The CSRF token of every page while authentication is off.
    open_csrf: String,
}

/// How the caller got in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Via {
    /// Authentication is off.
    Open,
    /// A bearer credential on the request.
    Bearer,
    /// The session cookie (this session id).
    Session(String),
}

/// A caller allowed in.
#[derive(Debug, Clone)]
pub(super) struct Access {
    pub(super) via: Via,
    /// Who (shown in the page header).
    pub(super) who: String,
    /// The token actions must carry (none for bearer callers).
    pub(super) csrf: Option<String>,
}

/// Why a caller is not let in.
#[derive(Debug)]
pub(super) enum Denied {
    /// No credentials (or an ended session): show the login form.
    Login,
    /// Bad credentials or not an admin: this answer.
    Answer(Box<Response>),
}

impl Sessions {
    pub(super) fn new(auth: Option<Arc<Authenticator>>, config: &ConsoleSection) -> Self {
        Self {
            auth,
            map: Mutex::default(),
            ttl: Duration::from_secs(config.session_minutes.max(1).saturating_mul(60)),
            secure_cookie: config.secure_cookie,
            open_csrf: random_hex().unwrap_or_else(|error| {
                tracing::error!(%error, "console: actions are refused");
                String::new()
            }),
        }
    }

    /// Whether a login is needed at all.
    pub(super) fn login_required(&self) -> bool {
        self.auth.is_some()
    }

    /// Who the request comes from, if allowed in.
    pub(super) fn authorize(&self, headers: &HeaderMap) -> Result<Access, Denied> {
        let Some(auth) = &self.auth else {
            return Ok(Access {
                via: Via::Open,
                who: "anyone (authentication is off)".into(),
                csrf: Some(self.open_csrf.clone()),
            });
        };
        if headers.contains_key(header::AUTHORIZATION) {
            let principal = auth
                .authenticate(headers)
                .map_err(|failure| Denied::Answer(Box::new(unauthorized(&failure))))?;
            if principal.role != Role::Admin {
                return Err(Denied::Answer(Box::new(not_admin(
                    &principal.name,
                    principal.role,
                ))));
            }
            return Ok(Access {
                via: Via::Bearer,
                who: principal.name,
                csrf: None,
            });
        }
        let Some(id) = session_cookie(headers) else {
            return Err(Denied::Login);
        };
        let (credential, csrf) = {
            let map = lock(&self.map);
            match map.get(id) {
                Some(session) if session.expires > Instant::now() => {
                    (session.credential.clone(), session.csrf.clone())
                }
                _ => return Err(Denied::Login),
            }
        };
        match auth.authenticate_credential(&credential) {
            Ok(principal) if principal.role == Role::Admin => Ok(Access {
                via: Via::Session(id.to_owned()),
                who: principal.name,
                csrf: Some(csrf),
            }),
            _ => {
                // Expired JWT, or the key is gone: the session ends.
                lock(&self.map).remove(id);
                Err(Denied::Login)
            }
        }
    }

    /// Logs in with `credential`: the `Set-Cookie` value of a new session, or why not.
    pub(super) fn login(&self, credential: &str) -> Result<HeaderValue, String> {
        let Some(auth) = &self.auth else {
            return Err("authentication is off: no login is needed".into());
        };
        let credential = credential.trim();
        if credential.is_empty() {
            return Err("enter an admin API key or JWT".into());
        }
        let principal =
            auth.authenticate_credential(credential)
                .map_err(|failure| match failure {
                    AuthFailure::Invalid(why) => format!("not accepted: {why}"),
                    other => other.to_string(),
                })?;
        if principal.role != Role::Admin {
            return Err(format!(
                "{} has the role {}; the console needs the admin role",
                principal.name, principal.role
            ));
        }
        let id = random_hex()?;
        let csrf = random_hex()?;
        let now = Instant::now();
        {
            let mut map = lock(&self.map);
            map.retain(|_, session| session.expires > now);
            if map.len() >= MAX_SESSIONS {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, session)| session.expires)
                    .map(|(id, _)| id.clone());
                if let Some(oldest) = oldest {
                    map.remove(&oldest);
                }
            }
            map.insert(
                id.clone(),
                Session {
                    credential: credential.to_owned(),
                    csrf,
                    expires: now + self.ttl,
                },
            );
        }
        tracing::info!(principal = %principal.name, "console: login");
        HeaderValue::from_str(&self.cookie(&id, self.ttl.as_secs()))
            .map_err(|_| "could not make the session cookie".to_owned())
    }

    /// Ends the session of `access` (if any): the `Set-Cookie` value that clears it.
    pub(super) fn logout(&self, access: &Access) -> Option<HeaderValue> {
        let Via::Session(id) = &access.via else {
            return None;
        };
        lock(&self.map).remove(id);
        HeaderValue::from_str(&self.cookie("", 0)).ok()
    }

    fn cookie(&self, value: &str, max_age: u64) -> String {
        format!(
            "{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
            if self.secure_cookie { "; Secure" } else { "" }
        )
    }
}

/// 403 for a principal without the admin role.
fn not_admin(name: &str, role: Role) -> Response {
    forbidden(format!(
        "{name} (role {role}) may not use the operator console; it needs the admin role"
    ))
    .into_response()
}

/// The value of the session cookie, if the request carries it.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// `Ok` when a state-changing request may run: bearer callers always; cookie (and
/// unauthenticated) callers only from the console's own page — same origin, and the
/// page's CSRF token in the form (`csrf`).
pub(super) fn check_action(
    access: &Access,
    headers: &HeaderMap,
    csrf: Option<&str>,
) -> Result<(), Box<Response>> {
    same_origin(headers)?;
    if access.via == Via::Bearer {
        return Ok(());
    }
    let expected = access.csrf.as_deref().unwrap_or_default();
    let presented = csrf.unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(Box::new(
            forbidden(
                "the console's CSRF token is missing or stale: reload the console and try again",
            )
            .into_response(),
        ));
    }
    Ok(())
}

/// `Ok` unless the browser says the request comes from another site: an `Origin` other
/// than this host, or a `Sec-Fetch-Site` other than `same-origin` / `none`.
pub(super) fn same_origin(headers: &HeaderMap) -> Result<(), Box<Response>> {
    let refuse = |why: &str| {
        Err(Box::new(
            forbidden(format!(
                "console actions are only taken from the console's own page ({why})"
            ))
            .into_response(),
        ))
    };
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return refuse("Sec-Fetch-Site is not same-origin");
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .unwrap_or_default();
        let origin = origin.to_str().unwrap_or_default();
        let matches = origin
            .split_once("://")
            .is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && rest == host);
        if host.is_empty() || !matches {
            return refuse("Origin is another site");
        }
    }
    Ok(())
}

/// 32 random bytes as 64 lowercase hex digits (never a guessable fallback: without
/// randomness there is no session, and no action passes the CSRF check).
fn random_hex() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| format!("no randomness: {error}"))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn finds_the_session_cookie_among_others() {
        let map = headers(&[("cookie", "a=1; tmf688_console=abc; b=2")]);
        assert_eq!(session_cookie(&map), Some("abc"));
        assert_eq!(
            session_cookie(&headers(&[("cookie", "tmf688_console=")])),
            None
        );
        assert_eq!(session_cookie(&headers(&[])), None);
    }

    #[test]
    fn actions_need_the_same_origin() {
        for (pairs, allowed) in [
            (vec![("host", "127.0.0.1:8080")], true),
            (
                vec![
                    ("host", "127.0.0.1:8080"),
                    ("origin", "http://127.0.0.1:8080"),
                ],
                true,
            ),
            (
                vec![("host", "hub.example"), ("origin", "https://hub.example")],
                true,
            ),
            (
                vec![
                    ("host", "127.0.0.1:8080"),
                    ("origin", "http://evil.example"),
                ],
                false,
            ),
            (vec![("host", "127.0.0.1:8080"), ("origin", "null")], false),
            (
                vec![("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")],
                false,
            ),
            (
                vec![("host", "127.0.0.1:8080"), ("sec-fetch-site", "same-site")],
                false,
            ),
            (
                vec![
                    ("host", "127.0.0.1:8080"),
                    ("sec-fetch-site", "same-origin"),
                ],
                true,
            ),
        ] {
            assert_eq!(same_origin(&headers(&pairs)).is_ok(), allowed, "{pairs:?}");
        }
    }

    #[test]
    fn cookie_actions_need_the_csrf_token() {
        let access = Access {
            via: Via::Session("s".into()),
            who: "ops".into(),
            csrf: Some("token".into()),
        };
        let map = headers(&[("host", "h")]);
        assert!(check_action(&access, &map, Some("token")).is_ok());
        assert!(check_action(&access, &map, Some("other")).is_err());
        assert!(check_action(&access, &map, None).is_err());
        let bearer = Access {
            via: Via::Bearer,
            ..access
        };
        assert!(check_action(&bearer, &map, None).is_ok());
    }
}
