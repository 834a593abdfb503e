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

/// `[[auth.api_keys]]`: one key.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// The principal's name (recorded as the owner of the hubs it registers).
    pub name: String,
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

fn decode_hex(text: &str) -> Option<[u8; 32]> {
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
        found.map(|entry| Principal::new(entry.name.clone(), entry.role, Issuer::ApiKey))
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
                role: Role::Provider,
                sha256: sha256_hex("key-one"),
            },
            ApiKeyConfig {
                name: "ops".into(),
                role: Role::Admin,
                sha256: sha256_hex("key-two").to_uppercase(),
            },
        ])
        .unwrap();
        assert_eq!(
            keys.find("key-one"),
            Some(Principal::new("p1", Role::Provider, Issuer::ApiKey))
        );
        assert_eq!(
            keys.find("key-two"),
            Some(Principal::new("ops", Role::Admin, Issuer::ApiKey))
        );
        assert_eq!(keys.find("key-three"), None);
        assert_eq!(keys.find(""), None);
    }

    #[test]
    fn rejects_bad_hashes() {
        let bad = |sha256: &str| {
            ApiKeys::from_config(&[ApiKeyConfig {
                name: "x".into(),
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
