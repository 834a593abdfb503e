//! Static API keys, configured by their SHA-256 only.
//!
//! A key is created by its owner (any long random string, e.g.
//! `openssl rand -hex 32`); the hub's configuration holds
//! `printf %s "$KEY" | sha256sum` — so a leaked configuration file leaks no key.
//! A presented key is hashed and compared with **every** configured hash in constant
//! time, so neither the comparison nor the position of a match leaks through timing.

use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::principal::{AuthConfigError, Issuer, Principal, Role, deserialize_role};
use crate::limits::{OWNER, shown};

/// `[[auth.api_keys]]`: one key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// The principal's name (recorded as the owner of the hubs it registers). At most
    /// [`OWNER_MAX_BYTES`](crate::limits::OWNER_MAX_BYTES) bytes, no control
    /// characters (else a configuration error).
    pub name: String,
    /// The party id it speaks for in need-to-know (an event's `relatedParty` id);
    /// default: `name`. Same limits as `name`.
    #[serde(default)]
    pub party: Option<String>,
    /// Its role.
    #[serde(deserialize_with = "deserialize_role")]
    pub role: Role,
    /// SHA-256 of the key, 64 hex digits.
    pub sha256: String,
}

impl std::fmt::Debug for ApiKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyConfig")
            .field("name", &self.name)
            .field("party", &self.party)
            .field("role", &self.role)
            .field("sha256", &"<hash>")
            .finish()
    }
}

/// SHA-256 of `key`, lower-case hex: what `sha256` holds in the configuration.
pub fn sha256_hex(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    hex
}

/// A SHA-256 written as 64 hex digits (surrounding blanks ignored), as bytes.
pub(crate) fn decode_hex(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        let high = digit(pair[0])?;
        let low = digit(pair[1])?;
        out[i] = u8::try_from(high * 16 + low).ok()?;
    }
    Some(out)
}

struct Entry {
    name: String,
    party: String,
    role: Role,
    hash: [u8; 32],
}

/// The configured API keys.
pub struct ApiKeys {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.entries
                    .iter()
                    .map(|e| format!("{} ({})", e.name, e.role)),
            )
            .finish()
    }
}

impl ApiKeys {
    /// The keys of the configuration; fails on a malformed hash or a repeated one.
    pub fn from_config(config: &[ApiKeyConfig]) -> Result<Self, AuthConfigError> {
        let mut entries: Vec<Entry> = Vec::with_capacity(config.len());
        for (index, key) in config.iter().enumerate() {
            if key.name.trim().is_empty() {
                return Err(AuthConfigError(format!(
                    "auth.api_keys[{index}]: `name` must not be empty"
                )));
            }
            // Refused here rather than at the first request: a name reaches logs and
            // owner records, and must be one the hub can store and print as is.
            let party = key.party.clone().unwrap_or_else(|| key.name.clone());
            for (field, value) in [("name", &key.name), ("party", &party)] {
                OWNER.check(value).map_err(|why| {
                    AuthConfigError(format!(
                        "auth.api_keys[{index}]: `{field}` {} {why}",
                        shown(value)
                    ))
                })?;
            }
            if party.trim().is_empty() {
                return Err(AuthConfigError(format!(
                    "auth.api_keys[{index}]: `party` must not be empty"
                )));
            }
            let hash = decode_hex(&key.sha256).ok_or_else(|| {
                AuthConfigError(format!(
                    "auth.api_keys[{index}] ({}): `sha256` must be 64 hex digits (the SHA-256 of the key, e.g. `printf %s \"$KEY\" | sha256sum`)",
                    key.name
                ))
            })?;
            if let Some(other) = entries.iter().find(|e| e.hash == hash) {
                return Err(AuthConfigError(format!(
                    "auth.api_keys[{index}] ({}): the same key is already configured for {:?}",
                    key.name, other.name
                )));
            }
            entries.push(Entry {
                name: key.name.clone(),
                party,
                role: key.role,
                hash,
            });
        }
        Ok(Self { entries })
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The principal whose key is `presented`.
    pub fn find(&self, presented: &str) -> Option<Principal> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        // Compare with every entry, without stopping at a match.
        for entry in &self.entries {
            if bool::from(entry.hash.ct_eq(&digest)) {
                found = Some(entry);
            }
        }
        found.map(|entry| {
            Principal::new(entry.name.clone(), entry.role, Issuer::ApiKey)
                .with_party(Some(entry.party.clone()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_like_sha256sum() {
        // printf %s abc | sha256sum
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn finds_the_key_by_its_hash() {
        let keys = ApiKeys::from_config(&[
            ApiKeyConfig {
                name: "p1".into(),
                party: None,
                role: Role::Provider,
                sha256: sha256_hex("key-one"),
            },
            ApiKeyConfig {
                name: "ops".into(),
                party: Some("operator".into()),
                role: Role::Admin,
                sha256: sha256_hex("key-two").to_uppercase(),
            },
        ])
        .unwrap();
        assert_eq!(
            keys.find("key-one"),
            Some(
                Principal::new("p1", Role::Provider, Issuer::ApiKey).with_party(Some("p1".into()))
            )
        );
        assert_eq!(
            keys.find("key-two"),
            Some(
                Principal::new("ops", Role::Admin, Issuer::ApiKey)
                    .with_party(Some("operator".into()))
            )
        );
        assert_eq!(keys.find("key-three"), None);
        assert_eq!(keys.find(""), None);
    }

    #[test]
    fn rejects_names_that_could_not_be_stored_or_logged() {
        let bad = |name: &str, party: Option<&str>| {
            ApiKeys::from_config(&[ApiKeyConfig {
                name: name.into(),
                party: party.map(Into::into),
                role: Role::Pss,
                sha256: sha256_hex("k"),
            }])
            .map(|_| ())
            .map_err(|error| error.0)
        };
        // (name, party, refusal naming …)
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            ("pss-b", None, None),
            ("pss-b", Some("party-b"), None),
            ("pss\nb", None, Some("control character U+000A")),
            ("pss\u{1b}[31mb", None, Some("U+001B")),
            ("pss\u{85}", None, Some("U+0085")),
            (&"x".repeat(257), None, Some("257 bytes")),
            ("pss-b", Some("p\u{0}"), Some("`party`")),
            ("pss-b", Some(" "), Some("`party` must not be empty")),
        ];
        for (name, party, refusal) in cases {
            match (bad(name, *party), refusal) {
                (Ok(()), None) => {}
                (Err(why), Some(needle)) if why.contains(needle) => {}
                (outcome, _) => panic!("{name:?} {party:?}: {outcome:?}"),
            }
        }
    }

    #[test]
    fn rejects_bad_hashes() {
        let bad = |sha256: &str| {
            ApiKeys::from_config(&[ApiKeyConfig {
                name: "x".into(),
                party: None,
                role: Role::Pss,
                sha256: sha256.into(),
            }])
            .unwrap_err()
            .0
        };
        assert!(bad("abc").contains("64 hex digits"));
        assert!(bad(&"g".repeat(64)).contains("64 hex digits"));
    }
}
