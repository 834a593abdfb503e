//! JWTs verified with configured keys (jsonwebtoken over aws-lc, the crypto rustls
//! already uses).
//!
//! Each `[[auth.jwt]]` entry is one key for one algorithm: a shared secret for
//! HS256/HS384/HS512, a PEM public key for RS*/PS* (RSA), ES256/ES384 (EC) and EdDSA.
//! A token is tried with every entry of its header's `alg` (never with another
//! algorithm: no algorithm confusion). Once its signature verifies, its registered
//! claims must pass, with the entry's `leeway_seconds` (default 60, at most 300) of
//! clock skew:
//!
//! * `exp`: required, a number, not more than the leeway in the past;
//! * `nbf`, `iat`: optional; when present a number, not more than the leeway in the
//!   future;
//! * `iss`: with `issuer` configured, required and exactly that string; otherwise not
//!   checked;
//! * `aud`: with `audience` configured, required and either that string or a list
//!   holding it; without `audience`, a token carrying any `aud` is refused (it was
//!   meant for someone else).
//!
//! The principal is the `name_claim` (default `sub`; at most
//! [`OWNER_MAX_BYTES`](crate::limits::OWNER_MAX_BYTES) bytes, no control characters),
//! its role the `role_claim` (default `role`; a dot path such as `realm_access.roles`
//! reaches into objects; on a list, the first element that names a role counts).
//!
//! **Parties** (need-to-know, [`crate::access`]): an entry's `subjects` lists the
//! names its tokens may carry, and each of them speaks for the party of that id. A
//! token naming anyone else is refused (401): a key trusted for one party's IdP
//! cannot mint another party's name. An entry without `subjects` accepts any name,
//! but its principals speak for no party — they see only events that name no party
//! (the server warns about such entries at start-up).

use std::collections::HashSet;
use std::path::PathBuf;
use std::str::FromStr as _;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::principal::{AuthConfigError, Issuer, Principal, Role};
use crate::limits::{OWNER, shown};

fn default_role_claim() -> String {
    "role".into()
}

fn default_name_claim() -> String {
    "sub".into()
}

/// Clock skew tolerated on `exp`, `nbf` and `iat` unless `leeway_seconds` says otherwise.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 60;

/// The largest `leeway_seconds`: it absorbs clock skew, it must not extend a token's life.
pub const MAX_LEEWAY_SECONDS: u64 = 300;

/// `[[auth.jwt]]`: one verification key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// The algorithm: `HS256`, `HS384`, `HS512`, `RS256`, `RS384`, `RS512`, `PS256`,
    /// `PS384`, `PS512`, `ES256`, `ES384` or `EdDSA`.
    pub alg: String,
    /// HS*: the shared secret.
    #[serde(default)]
    pub secret: Option<String>,
    /// HS*: the environment variable holding the shared secret (keeps it out of the file).
    #[serde(default)]
    pub secret_env: Option<String>,
    /// RS*/PS*/ES*/EdDSA: the public key, PEM.
    #[serde(default)]
    pub public_key_pem: Option<String>,
    /// RS*/PS*/ES*/EdDSA: a file holding the public key, PEM.
    #[serde(default)]
    pub public_key_file: Option<PathBuf>,
    /// The `iss` tokens must carry, exactly (a token without `iss` is refused). Without
    /// it, `iss` is not checked.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The `aud` tokens must carry (the string, or a list holding it; a token without
    /// `aud` is refused). Without it, a token carrying any `aud` is refused.
    #[serde(default)]
    pub audience: Option<String>,
    /// The claim holding the role (default `role`; dot path into objects).
    #[serde(default = "default_role_claim")]
    pub role_claim: String,
    /// The claim naming the principal (default `sub`).
    #[serde(default = "default_name_claim")]
    pub name_claim: String,
    /// Clock skew tolerated on `exp` (past) and `nbf`/`iat` (future), in seconds
    /// (default [`DEFAULT_LEEWAY_SECONDS`], at most [`MAX_LEEWAY_SECONDS`]).
    #[serde(default)]
    pub leeway_seconds: Option<u64>,
    /// The names (`name_claim`) this key may vouch for; each speaks for the party of
    /// that id. A token naming another is refused. `None`: any name, speaking for no
    /// party (sees only events naming no party). Must not be empty when given.
    #[serde(default)]
    pub subjects: Option<Vec<String>>,
}

impl std::fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field("alg", &self.alg)
            .field("secret", &self.secret.as_ref().map(|_| "<secret>"))
            .field("secret_env", &self.secret_env)
            .field("public_key_file", &self.public_key_file)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("role_claim", &self.role_claim)
            .field("name_claim", &self.name_claim)
            .field("leeway_seconds", &self.leeway_seconds)
            .field("subjects", &self.subjects)
            .finish_non_exhaustive()
    }
}

/// A configured key, ready to verify.
pub struct JwtVerifier {
    alg: Algorithm,
    key: DecodingKey,
    validation: Validation,
    /// Whether `aud` must be absent (no `audience` configured).
    refuse_aud: bool,
    role_claim: String,
    name_claim: String,
    issuer: Issuer,
    /// `subjects`: the names it may vouch for, each its own party (`None`: any name,
    /// no party).
    subjects: Option<HashSet<String>>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("alg", &self.alg)
            .field("iss", &self.validation.iss)
            .field("aud", &self.validation.aud)
            .field("leeway", &self.validation.leeway)
            .field("role_claim", &self.role_claim)
            .field("subjects", &self.subjects)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// The verifier of one `[[auth.jwt]]` entry.
    /// `issuer` is the namespace of the names it vouches for ([`Issuer::Jwt`]).
    pub fn from_config(config: &JwtConfig, issuer: Issuer) -> Result<Self, AuthConfigError> {
        let alg = Algorithm::from_str(config.alg.trim()).map_err(|_| {
            AuthConfigError(format!(
                "unknown `alg` {:?} (HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA)",
                config.alg
            ))
        })?;
        let hmac = matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512);
        let key = if hmac {
            if config.public_key_pem.is_some() || config.public_key_file.is_some() {
                return Err(AuthConfigError(format!(
                    "{alg:?} takes a `secret` or `secret_env`, not a public key"
                )));
            }
            let secret = match (&config.secret, &config.secret_env) {
                (Some(secret), None) => secret.clone(),
                (None, Some(var)) => std::env::var(var).map_err(|_| {
                    AuthConfigError(format!(
                        "`secret_env`: environment variable {var} is not set"
                    ))
                })?,
                _ => {
                    return Err(AuthConfigError(format!(
                        "{alg:?} needs exactly one of `secret` and `secret_env`"
                    )));
                }
            };
            if secret.len() < 16 {
                return Err(AuthConfigError(format!(
                    "the {alg:?} secret is too short ({} bytes; use at least 32 random bytes)",
                    secret.len()
                )));
            }
            DecodingKey::from_secret(secret.as_bytes())
        } else {
            if config.secret.is_some() || config.secret_env.is_some() {
                return Err(AuthConfigError(format!(
                    "{alg:?} takes `public_key_pem` or `public_key_file`, not a secret"
                )));
            }
            let pem = match (&config.public_key_pem, &config.public_key_file) {
                (Some(pem), None) => pem.clone(),
                (None, Some(path)) => std::fs::read_to_string(path).map_err(|error| {
                    AuthConfigError(format!(
                        "`public_key_file`: could not read {}: {error}",
                        path.display()
                    ))
                })?,
                _ => {
                    return Err(AuthConfigError(format!(
                        "{alg:?} needs exactly one of `public_key_pem` and `public_key_file`"
                    )));
                }
            };
            let pem = pem.as_bytes();
            match alg {
                Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
                Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
                _ => DecodingKey::from_rsa_pem(pem),
            }
            .map_err(|error| {
                AuthConfigError(format!(
                    "the public key is not a valid {alg:?} PEM: {error}"
                ))
            })?
        };
        let leeway = config.leeway_seconds.unwrap_or(DEFAULT_LEEWAY_SECONDS);
        if leeway > MAX_LEEWAY_SECONDS {
            return Err(AuthConfigError(format!(
                "`leeway_seconds` = {leeway} is more than {MAX_LEEWAY_SECONDS} (it is for clock skew)"
            )));
        }
        // jsonwebtoken checks the signature, `iss` and `aud`: a configured `iss`/`aud`
        // is also a required one (otherwise it would only be compared when present).
        // `check_claims` adds what it does not do, and the times: jsonwebtoken reads
        // `exp`/`nbf` through serde's `deserialize_any`, which with serde_json's
        // `arbitrary_precision` (exact numbers, on in this workspace) hands it a
        // fractional NumericDate (`1767225600.5`, valid per RFC 7519) as a map it
        // refuses; `check_claims` reads them from the claims as numbers.
        let mut validation = Validation::new(alg);
        validation.leeway = leeway;
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = true;
        let mut required = Vec::new();
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        if let Some(audience) = &config.audience {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        if config.role_claim.trim().is_empty() || config.name_claim.trim().is_empty() {
            return Err(AuthConfigError(
                "`role_claim` and `name_claim` must not be empty".into(),
            ));
        }
        let subjects = match &config.subjects {
            None => None,
            Some(list) if list.is_empty() => {
                return Err(AuthConfigError(
                    "`subjects` is empty: no token could be accepted (list the names this \
                     key may vouch for, or leave it out)"
                        .into(),
                ));
            }
            Some(list) => {
                for subject in list {
                    check_name(subject).map_err(|why| {
                        AuthConfigError(format!("`subjects`: {} {why}", shown(subject)))
                    })?;
                }
                Some(list.iter().cloned().collect())
            }
        };
        Ok(Self {
            alg,
            key,
            validation,
            refuse_aud: config.audience.is_none(),
            role_claim: config.role_claim.clone(),
            name_claim: config.name_claim.clone(),
            issuer,
            subjects,
        })
    }

    /// Whether it binds its tokens' names to parties (`subjects` configured).
    pub fn binds_parties(&self) -> bool {
        self.subjects.is_some()
    }

    fn verify(&self, token: &str) -> Result<Principal, Refusal> {
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation)
            .map_err(|error| Refusal {
            bad_signature: matches!(error.kind(), ErrorKind::InvalidSignature),
            why: self.explain(token, &error),
        })?;
        let claims = data.claims;
        self.check_claims(&claims, jsonwebtoken::get_current_timestamp())
            .and_then(|()| self.principal(&claims))
            .map_err(|why| Refusal {
                bad_signature: false,
                why,
            })
    }

    /// What jsonwebtoken's validation leaves open: `aud` present although no audience
    /// is configured (in any shape, including `[]` or `null`), an `iss` that is a list,
    /// and the times `exp`, `nbf`, `iat` (integers or fractions of seconds).
    fn check_claims(&self, claims: &Map<String, Value>, now: u64) -> Result<(), String> {
        if self.refuse_aud && claims.contains_key("aud") {
            return Err(
                "the JWT names an audience (aud), but its key is configured without `audience`"
                    .into(),
            );
        }
        if self.validation.iss.is_some() && !claims.get("iss").is_some_and(Value::is_string) {
            return Err("the JWT's issuer (iss) is not accepted".into());
        }
        match numeric_date(claims, "exp")? {
            None => return Err("the JWT has no `exp` claim".into()),
            Some(exp) if exp.saturating_add(self.validation.leeway) < now => {
                return Err("the JWT has expired".into());
            }
            Some(_) => {}
        }
        let latest = now.saturating_add(self.validation.leeway);
        for (claim, what) in [
            ("nbf", "is not valid yet (nbf)"),
            ("iat", "was issued in the future (iat)"),
        ] {
            if numeric_date(claims, claim)?.is_some_and(|at| at > latest) {
                return Err(format!("the JWT {what}"));
            }
        }
        Ok(())
    }

    /// Why jsonwebtoken refused a token whose signature this key verified or not. Its
    /// "missing claim" also stands for a claim that is present but not a whole number
    /// of seconds it can hold (e.g. `exp: 1e30` or `1.5e9`): the claims are then read
    /// again, signature still verified, to say which it is.
    fn explain(&self, token: &str, error: &jsonwebtoken::errors::Error) -> String {
        if let ErrorKind::MissingRequiredClaim(claim) = error.kind() {
            let mut relaxed = Validation::new(self.alg);
            relaxed.validate_exp = false;
            relaxed.validate_nbf = false;
            relaxed.validate_aud = false;
            relaxed.set_required_spec_claims::<&str>(&[]);
            let present = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &relaxed)
                .ok()
                .and_then(|data| data.claims.get(claim.as_str()).cloned());
            if let Some(value) = present {
                let kind = match value {
                    Value::Number(_) => {
                        "a number that is not a whole number of seconds since 1970 within range"
                    }
                    Value::Null => "null",
                    Value::String(_) => "a string",
                    _ => "not a number",
                };
                return format!(
                    "the JWT's `{claim}` claim is malformed: {kind} (expected a NumericDate, whole seconds since 1970)"
                );
            }
        }
        describe(error)
    }

    /// The principal named by the verified claims.
    fn principal(&self, claims: &Map<String, Value>) -> Result<Principal, String> {
        let name = claims
            .get(&self.name_claim)
            .and_then(Value::as_str)
            .filter(|name| !name.trim().is_empty())
            .ok_or_else(|| format!("the token has no `{}` claim", self.name_claim))?;
        // Refused before the name reaches a log line or an owner record.
        check_name(name).map_err(|why| format!("the token's `{}` claim {why}", self.name_claim))?;
        let party = match &self.subjects {
            None => None,
            Some(subjects) if subjects.contains(name) => Some(name.to_owned()),
            Some(_) => {
                return Err(format!(
                    "the token's `{}` claim names a principal its key is not trusted for \
                     (not among the entry's `subjects`)",
                    self.name_claim
                ));
            }
        };
        let role = role_at(claims, &self.role_claim).ok_or_else(|| {
            format!(
                "the token's `{}` claim names no role (expected one of: {})",
                self.role_claim,
                Role::ALL
                    .iter()
                    .map(Role::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        Ok(Principal::new(name, role, self.issuer.clone()).with_party(party))
    }
}

/// A principal name (or a configured subject) the hub can store and log as is.
fn check_name(name: &str) -> Result<(), crate::limits::Refusal> {
    OWNER.check(name)
}

/// Whether `credential` has the shape of a JWS compact serialization.
pub fn looks_like_jwt(credential: &str) -> bool {
    credential.split('.').count() == 3 && credential.starts_with("eyJ")
}

/// Why one verifier refused a token.
struct Refusal {
    /// Only because this key did not sign it (claims are checked after the signature).
    bad_signature: bool,
    why: String,
}

/// Verifies `token` with each verifier of its algorithm, the first success wins. A
/// refusal gives the reason of the entry whose key signed the token, if any, rather
/// than another entry's "bad signature".
pub fn verify_any(verifiers: &[JwtVerifier], token: &str) -> Result<Principal, String> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|error| format!("malformed JWT: {}", describe(&error)))?;
    let mut reason: Option<Refusal> = None;
    for verifier in verifiers.iter().filter(|v| v.alg == header.alg) {
        match verifier.verify(token) {
            Ok(principal) => return Ok(principal),
            Err(refusal) => {
                if reason.as_ref().is_none_or(|kept| kept.bad_signature) {
                    reason = Some(refusal);
                }
            }
        }
    }
    Err(reason.map_or_else(
        || format!("JWTs signed with {:?} are not accepted", header.alg),
        |refusal| refusal.why,
    ))
}

/// The last second a NumericDate may name: 9999-12-31T23:59:59Z, the end of the
/// four-digit years of RFC 3339. Later "dates" (`exp: 1e30`) are tokens that never
/// expire in disguise, refused as malformed.
const LAST_NUMERIC_DATE: u64 = 253_402_300_799;

/// A NumericDate claim (seconds since 1970, as jsonwebtoken reads `exp`): `None`
/// when absent, an error when it is anything but a non-negative number of seconds up
/// to [`LAST_NUMERIC_DATE`].
fn numeric_date(claims: &Map<String, Value>, claim: &str) -> Result<Option<u64>, String> {
    let Some(value) = claims.get(claim) else {
        return Ok(None);
    };
    let seconds = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .filter(|seconds| *seconds <= LAST_NUMERIC_DATE as f64)
            .map(|seconds| seconds.round() as u64)
    });
    seconds
        .filter(|seconds| *seconds <= LAST_NUMERIC_DATE)
        .map(Some)
        .ok_or_else(|| format!("the JWT's `{claim}` claim is malformed (not seconds since 1970)"))
}

/// The role at a dot path of the claims; a list gives its first role.
fn role_at(claims: &Map<String, Value>, path: &str) -> Option<Role> {
    let mut segments = path.split('.');
    let mut value = claims.get(segments.next()?)?;
    for segment in segments {
        value = value.get(segment)?;
    }
    match value {
        Value::String(name) => name.parse().ok(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .find_map(|name| name.parse().ok()),
        _ => None,
    }
}

/// A verification failure in words, without echoing the token.
fn describe(error: &jsonwebtoken::errors::Error) -> String {
    match error.kind() {
        ErrorKind::InvalidSignature => "bad JWT signature".into(),
        ErrorKind::ExpiredSignature => "the JWT has expired".into(),
        ErrorKind::ImmatureSignature => "the JWT is not valid yet (nbf)".into(),
        ErrorKind::InvalidIssuer => "the JWT's issuer (iss) is not accepted".into(),
        ErrorKind::InvalidAudience => "the JWT's audience (aud) is not accepted".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the JWT has no `{claim}` claim"),
        ErrorKind::InvalidClaimFormat(claim) => format!("the JWT's `{claim}` claim is malformed"),
        ErrorKind::InvalidAlgorithm => "the JWT's algorithm does not fit the key".into(),
        other => format!("the JWT could not be verified ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn finds_roles_at_paths() {
        let c =
            claims(serde_json::json!({"role": "pss", "realm_access": {"roles": ["x", "admin"]}}));
        assert_eq!(role_at(&c, "role"), Some(Role::Pss));
        assert_eq!(role_at(&c, "realm_access.roles"), Some(Role::Admin));
        assert_eq!(role_at(&c, "realm_access"), None);
        assert_eq!(role_at(&c, "missing"), None);
    }

    fn hs(secret: &str) -> JwtConfig {
        JwtConfig {
            alg: "HS256".into(),
            secret: Some(secret.into()),
            secret_env: None,
            public_key_pem: None,
            public_key_file: None,
            issuer: None,
            audience: None,
            role_claim: default_role_claim(),
            name_claim: default_name_claim(),
            leeway_seconds: None,
            subjects: None,
        }
    }

    #[test]
    fn config_errors_are_explained() {
        let error = |config: JwtConfig| {
            JwtVerifier::from_config(&config, Issuer::Jwt("#1".into()))
                .unwrap_err()
                .0
        };
        assert!(error(hs("short")).contains("too short"));
        assert!(
            error(JwtConfig {
                alg: "XX1".into(),
                ..hs("0123456789abcdef0123")
            })
            .contains("unknown `alg`")
        );
        assert!(
            error(JwtConfig {
                alg: "RS256".into(),
                ..hs("0123456789abcdef0123")
            })
            .contains("not a secret")
        );
        assert!(
            error(JwtConfig {
                alg: "RS256".into(),
                secret: None,
                public_key_pem: Some("not pem".into()),
                ..hs("x")
            })
            .contains("not a valid")
        );
        assert!(
            error(JwtConfig {
                leeway_seconds: Some(MAX_LEEWAY_SECONDS + 1),
                ..hs("0123456789abcdef0123")
            })
            .contains("leeway_seconds")
        );
        JwtVerifier::from_config(
            &JwtConfig {
                leeway_seconds: Some(MAX_LEEWAY_SECONDS),
                ..hs("0123456789abcdef0123")
            },
            Issuer::Jwt("#1".into()),
        )
        .unwrap();
    }

    #[test]
    fn verifies_hs256() {
        let secret = "0123456789abcdef0123456789abcdef";
        let verifier = JwtVerifier::from_config(&hs(secret), Issuer::Jwt("#1".into())).unwrap();
        let exp = jsonwebtoken::get_current_timestamp() + 600;
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "pss-b", "role": "pss", "exp": exp}),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        assert!(looks_like_jwt(&token));
        assert_eq!(
            verify_any(std::slice::from_ref(&verifier), &token),
            Ok(Principal::new("pss-b", Role::Pss, Issuer::Jwt("#1".into())))
        );
        let wrong = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "pss-b", "role": "pss", "exp": exp}),
            &jsonwebtoken::EncodingKey::from_secret(b"another secret, also long enough"),
        )
        .unwrap();
        assert_eq!(
            verify_any(std::slice::from_ref(&verifier), &wrong),
            Err("bad JWT signature".into())
        );
        let no_exp = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "pss-b", "role": "pss"}),
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        assert!(
            verify_any(std::slice::from_ref(&verifier), &no_exp)
                .unwrap_err()
                .contains("exp")
        );
    }
}
