//! Outbound authentication per callback host (PSI-01-02-03-09, ADR035): static
//! headers (API key, bearer, basic) and OAuth2 client credentials with a cached token.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderName, HeaderValue, header};
use serde::Deserialize;

use super::config::OutboundAuth;

/// How to authenticate to one allow-list entry, ready to use.
#[derive(Debug)]
pub enum HostAuth {
    /// Headers to add to every delivery (possibly none).
    Static(HeaderMap),
    /// A bearer token from an OAuth2 token endpoint.
    OAuth2(OAuth2Source),
}

/// Encodes `user:password` as in RFC 7617.
fn basic(username: &str, password: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{username}:{password}");
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

impl HostAuth {
    /// Prepares `auth`; the error names what is invalid (e.g. a header value).
    pub fn new(auth: &OutboundAuth) -> Result<Self, String> {
        let mut headers = HeaderMap::new();
        let value = |text: &str| {
            HeaderValue::from_str(text)
                .map_err(|_| "an outbound auth value is not a valid header value".to_owned())
        };
        match auth {
            OutboundAuth::None => {}
            OutboundAuth::Header { name, value: text } => {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("{name:?} is not a valid header name"))?;
                let mut v = value(text)?;
                v.set_sensitive(true);
                headers.insert(name, v);
            }
            OutboundAuth::Bearer { token } => {
                let mut v = value(&format!("Bearer {token}"))?;
                v.set_sensitive(true);
                headers.insert(header::AUTHORIZATION, v);
            }
            OutboundAuth::Basic { username, password } => {
                let mut v = value(&basic(username, password))?;
                v.set_sensitive(true);
                headers.insert(header::AUTHORIZATION, v);
            }
            OutboundAuth::Oauth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
            } => {
                return Ok(Self::OAuth2(OAuth2Source {
                    token_url: token_url.clone(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    scope: scope.clone(),
                    cached: tokio::sync::Mutex::new(None),
                    fetches: AtomicU64::new(0),
                }));
            }
        }
        Ok(Self::Static(headers))
    }

    /// The headers for one attempt, and the token used (to invalidate it on a 401).
    pub async fn headers(
        &self,
        http: &reqwest::Client,
    ) -> Result<(HeaderMap, Option<Arc<str>>), String> {
        match self {
            Self::Static(headers) => Ok((headers.clone(), None)),
            Self::OAuth2(source) => {
                let token = source.token(http).await?;
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        "the token endpoint answered a token that is not a valid header value"
                            .to_owned()
                    })?;
                value.set_sensitive(true);
                let mut headers = HeaderMap::new();
                headers.insert(header::AUTHORIZATION, value);
                Ok((headers, Some(token)))
            }
        }
    }

    /// A callback answered 401 to `token`: forget it (the next call fetches another).
    pub async fn invalidate(&self, token: &str) {
        if let Self::OAuth2(source) = self {
            let mut cached = source.cached.lock().await;
            if cached.as_ref().is_some_and(|c| &*c.token == token) {
                *cached = None;
            }
        }
    }
}

/// An OAuth2 client-credentials token source with a cache.
#[derive(Debug)]
pub struct OAuth2Source {
    token_url: String,
    client_id: String,
    client_secret: String,
    scope: Option<String>,
    cached: tokio::sync::Mutex<Option<CachedToken>>,
    fetches: AtomicU64,
}

#[derive(Debug)]
struct CachedToken {
    token: Arc<str>,
    /// When to stop using it (a little before it expires).
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl OAuth2Source {
    /// How many tokens were fetched so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A valid token: the cached one, or a new one from the token endpoint. Concurrent
    /// callers wait for one fetch.
    pub async fn token(&self, http: &reqwest::Client) -> Result<Arc<str>, String> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.token.clone());
        }
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = self.scope.as_deref() {
            form.push(("scope", scope));
        }
        let body = serde_urlencoded::to_string(&form).map_err(|e| e.to_string())?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let response = http
            .post(&self.token_url)
            .header(
                header::AUTHORIZATION,
                basic(&self.client_id, &self.client_secret),
            )
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|error| format!("token endpoint {} failed: {error}", self.token_url))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| format!("token endpoint {} failed: {error}", self.token_url))?;
        if !status.is_success() {
            return Err(format!(
                "token endpoint {} answered {status}",
                self.token_url
            ));
        }
        let token: TokenResponse = serde_json::from_slice(&bytes).map_err(|error| {
            format!(
                "token endpoint {} answered no usable token: {error}",
                self.token_url
            )
        })?;
        if token
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
        {
            return Err(format!(
                "token endpoint {} answered a token of type {:?}, not bearer",
                self.token_url, token.token_type
            ));
        }
        // Refresh a little early: 10 % of the lifetime, at most 30 s.
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(300));
        let margin = (lifetime / 10).min(Duration::from_secs(30));
        let access: Arc<str> = token.access_token.into();
        *cached = Some(CachedToken {
            token: access.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(margin),
        });
        Ok(access)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_encoding() {
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic("a", "b"), "Basic YTpi");
        assert_eq!(basic("ab", "c"), "Basic YWI6Yw==");
    }

    #[tokio::test]
    async fn static_headers() {
        let http = reqwest::Client::new();
        let auth = HostAuth::new(&OutboundAuth::Header {
            name: "X-Api-Key".into(),
            value: "k1".into(),
        })
        .unwrap();
        let (headers, token) = auth.headers(&http).await.unwrap();
        assert_eq!(headers["x-api-key"], "k1");
        assert!(token.is_none());
        let auth = HostAuth::new(&OutboundAuth::Bearer { token: "t".into() }).unwrap();
        assert_eq!(
            auth.headers(&http).await.unwrap().0["authorization"],
            "Bearer t"
        );
        assert!(
            HostAuth::new(&OutboundAuth::Header {
                name: "bad name".into(),
                value: "v".into()
            })
            .is_err()
        );
    }
}
