//! [`Authenticator`]: the `[auth]` configuration ([`AuthConfig`]) made ready to check a
//! request's `Authorization: Bearer` credential against the API keys and JWT keys.

use std::fmt;

use http::HeaderMap;
use serde::Deserialize;

use super::api_key::{ApiKeyConfig, ApiKeys};
use super::jwt::{self, JwtConfig, JwtVerifier};
use super::principal::{AuthConfigError, Issuer, Principal};

/// The `[auth]` section of the configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `[[auth.api_keys]]`: static keys, stored hashed.
    pub api_keys: Vec<ApiKeyConfig>,
    /// `[[auth.jwt]]`: keys that JWTs are verified with.
    pub jwt: Vec<JwtConfig>,
}

impl AuthConfig {
    /// Whether any credential is configured (otherwise authentication is off).
    pub fn is_configured(&self) -> bool {
        !self.api_keys.is_empty() || !self.jwt.is_empty()
    }
}

/// Why a request carries no usable credentials (answered 401).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not `Bearer <credential>`.
    NotBearer,
    /// A credential that no configured key accepts; the text says why (without secrets).
    Invalid(String),
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str(
                "authentication required: send `Authorization: Bearer <API key or JWT>`",
            ),
            Self::NotBearer => f.write_str(
                "the Authorization header must use the Bearer scheme: `Authorization: Bearer <API key or JWT>`",
            ),
            Self::Invalid(why) => write!(f, "invalid credentials: {why}"),
        }
    }
}

/// Checks credentials against the configured API keys and JWT keys.
#[derive(Debug)]
pub struct Authenticator {
    api_keys: ApiKeys,
    jwt: Vec<JwtVerifier>,
}

impl Authenticator {
    /// An authenticator for `config`; fails on a malformed hash, role or key.
    pub fn from_config(config: &AuthConfig) -> Result<Self, AuthConfigError> {
        let api_keys = ApiKeys::from_config(&config.api_keys)?;
        let jwt = config
            .jwt
            .iter()
            .enumerate()
            .map(|(index, jwt)| {
                let issuer = match &jwt.issuer {
                    Some(issuer) => Issuer::Jwt(issuer.clone()),
                    None => Issuer::Jwt(format!("#{}", index + 1)),
                };
                JwtVerifier::from_config(jwt, issuer).map_err(|AuthConfigError(why)| {
                    AuthConfigError(format!("auth.jwt[{index}]: {why}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for (index, verifier) in jwt.iter().enumerate() {
            if !verifier.binds_parties() {
                tracing::warn!(
                    "auth.jwt[{index}] has no `subjects`: its tokens may name anyone, so \
                     they speak for no party — they see only events naming no related \
                     party. List the names it may vouch for in `subjects` to bind them \
                     to their parties"
                );
            }
        }
        Ok(Self { api_keys, jwt })
    }

    /// How many API keys and JWT keys are configured.
    pub fn counts(&self) -> (usize, usize) {
        (self.api_keys.len(), self.jwt.len())
    }

    /// The principal the request's `Authorization: Bearer` credential belongs to.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthFailure> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Err(AuthFailure::Missing);
        };
        let value = value.to_str().map_err(|_| AuthFailure::NotBearer)?.trim();
        let (scheme, credential) = value.split_once(' ').ok_or(AuthFailure::NotBearer)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthFailure::NotBearer);
        }
        let credential = credential.trim();
        if credential.is_empty() {
            return Err(AuthFailure::NotBearer);
        }
        self.authenticate_credential(credential)
    }

    /// The principal a bearer credential (API key or JWT) belongs to.
    pub fn authenticate_credential(&self, credential: &str) -> Result<Principal, AuthFailure> {
        if let Some(principal) = self.api_keys.find(credential) {
            return Ok(principal);
        }
        if !jwt::looks_like_jwt(credential) {
            return Err(AuthFailure::Invalid("unknown API key".into()));
        }
        if self.jwt.is_empty() {
            return Err(AuthFailure::Invalid(
                "a JWT was sent but this hub accepts no JWTs".into(),
            ));
        }
        jwt::verify_any(&self.jwt, credential).map_err(AuthFailure::Invalid)
    }
}
