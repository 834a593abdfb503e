//! Inbound authentication and the profile's role matrix.
//!
//! Callers are [`Principal`]s: a name, a [`Role`] (`provider`, `pss`, `customer`,
//! `governance`, `admin`) and the [`Issuer`] whose namespace the name is in. They authenticate with `Authorization: Bearer <credential>`,
//! where the credential is either
//!
//! * an **API key** ([`api_key`]): configuration holds only its SHA-256 (hex), the
//!   presented key is hashed and compared in constant time with every configured hash;
//! * a **JWT** ([`jwt`]): verified with the configured keys (HS256/384/512 with a shared
//!   secret, RS256/384/512 and PS256/384/512 with an RSA public key, ES256/384 with an EC
//!   public key, EdDSA); `exp` required, `nbf`/`iat` honoured, each with the entry's
//!   clock-skew leeway; a configured `issuer`/`audience` makes `iss`/`aud` required
//!   and exact, and without `audience` a token carrying `aud` is refused; `sub` names
//!   the principal and a configurable claim (default `role`) gives its role.
//!
//! [`middleware::require_role`] enforces the generated per-operation role table
//! (`tmf688_api::profile::allowed_roles`): no or bad credentials get 401 with
//! `WWW-Authenticate: Bearer` and a TMF `Error` body, a role the profile does not
//! allow for the operation gets 403. The authenticated [`Principal`] goes into the
//! request extensions, where handlers find it (`RequestContext::extensions`).

pub mod api_key;
pub mod jwt;
pub mod middleware;

use std::fmt;

use http::HeaderMap;
use serde::Deserialize;
pub use tmf688_api::profile::Role;

pub use api_key::{ApiKeyConfig, ApiKeys, sha256_hex};
pub use jwt::{JwtConfig, JwtVerifier};

/// The namespace a principal's name lives in (DESIGN §4b: identity = (issuer, name)).
/// Names from different namespaces never match: an API key named `provider-a` does not
/// own what a JWT with `sub` `provider-a` registered, nor the other way round.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Issuer {
    /// `[[auth.api_keys]]`: the key's configured name.
    ApiKey,
    /// An `[[auth.jwt]]` entry: its configured `issuer` (entries with the same `issuer`,
    /// e.g. during a key rotation, share the namespace), or `#<n>` for the n-th entry
    /// (from 1) when it configures none.
    Jwt(String),
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ApiKey => f.write_str("api-key"),
            Self::Jwt(issuer) => write!(f, "jwt:{issuer}"),
        }
    }
}

/// Who is calling: a configured name, its role, and the namespace of the name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The API key's configured name, or the JWT's `sub`.
    pub name: String,
    /// What the principal may do.
    pub role: Role,
    /// Which credential kind (and JWT issuer) vouches for `name`.
    pub issuer: Issuer,
}

impl Principal {
    /// A principal.
    pub fn new(name: impl Into<String>, role: Role, issuer: Issuer) -> Self {
        Self {
            name: name.into(),
            role,
            issuer,
        }
    }

    /// Whether the profile lets this principal call `operation_id`.
    pub fn may_call(&self, operation_id: &str) -> bool {
        self.role.may_call(operation_id)
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.name, self.role, self.issuer)
    }
}

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

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuthConfigError(pub String);

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

/// Deserializes a role name (`provider`, `pss`, `customer`, `governance`, `admin`).
pub(crate) fn deserialize_role<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Role, D::Error> {
    let name = String::deserialize(deserializer)?;
    name.parse::<Role>().map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown role {name:?} (expected one of: {})",
            Role::ALL
                .iter()
                .map(Role::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}
