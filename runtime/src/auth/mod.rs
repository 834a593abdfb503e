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
mod authenticator;
pub mod jwt;
pub mod middleware;
mod principal;

pub use api_key::{ApiKeyConfig, ApiKeys, sha256_hex};
pub use authenticator::{AuthConfig, AuthFailure, Authenticator};
pub use jwt::{JwtConfig, JwtVerifier};
pub use principal::{AuthConfigError, Issuer, Principal, Role};
