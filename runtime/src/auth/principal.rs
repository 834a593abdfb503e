//! Who is calling: a [`Principal`] (name, role, and the [`Issuer`] whose namespace the
//! name is in), and the errors of an unusable `[auth]` configuration.

use std::fmt;

use serde::Deserialize;
pub use tmf688_api::profile::Role;

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

/// Who is calling: a configured name, its role, the namespace of the name, and the
/// party it speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The API key's configured name, or the JWT's `sub`.
    pub name: String,
    /// What the principal may do.
    pub role: Role,
    /// Which credential kind (and JWT issuer) vouches for `name`.
    pub issuer: Issuer,
    /// The party id need-to-know compares with an event's related parties
    /// ([`crate::access`]), as the configuration binds it to the credential: an API
    /// key's `party` (default: its name), a JWT's `sub` when its `[[auth.jwt]]` entry
    /// lists it in `subjects`. `None`: the credential speaks for no party, so the
    /// principal sees only events that name no party. Never taken from a bare name: a
    /// JWT entry trusted for one party's IdP cannot mint another party's id.
    pub party: Option<String>,
}

impl Principal {
    /// A principal that speaks for no party (see [`Principal::with_party`]).
    pub fn new(name: impl Into<String>, role: Role, issuer: Issuer) -> Self {
        Self {
            name: name.into(),
            role,
            issuer,
            party: None,
        }
    }

    /// The same principal, speaking for `party`.
    #[must_use]
    pub fn with_party(mut self, party: Option<String>) -> Self {
        self.party = party;
        self
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

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuthConfigError(pub String);

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
