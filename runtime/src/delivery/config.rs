//! [`DeliveryConfig`]: how the delivery engine retries, times out, pools connections,
//! which callback hosts hubs may register, and how to authenticate to each.
//!
//! It deserializes from the `[delivery]` table of the server configuration; every field
//! has a default, so an empty table (or none) is valid. Durations are integers in
//! milliseconds (`*_ms`).
//!
//! ```toml
//! [delivery]
//! attempt_timeout_ms = 10000
//! need_to_know = true
//!
//! [delivery.retry]
//! initial_delay_ms = 500
//! multiplier = 2.0
//! max_delay_ms = 300000
//! jitter = 0.2
//! max_attempts = 12        # then the hub is halted until an operator resumes it
//!
//! [[delivery.allowed_callback_hosts]]
//! host = "crm.example.com"
//! port = 443               # optional: any port when absent
//! auth = { type = "bearer", token = "s3cr3t" }
//!
//! [[delivery.allowed_callback_hosts]]
//! host = "*.partner.example"   # any subdomain (not the apex itself)
//! auth = { type = "oauth2_client_credentials", token_url = "https://idp.partner.example/token", client_id = "hub", client_secret = "..." }
//!
//! [[delivery.allowed_callback_hosts]]
//! host = "10.1.2.3"
//! allow_private_addresses = true   # else private/loopback/link-local targets are refused
//! # Standard Webhooks signatures on every delivery to this host; during a key
//! # rotation list the old and the new secret (each signs: `v1,<a> v1,<b>`).
//! signing_secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
//!
//! # Our createEvent requires signed events (401 otherwise) on these topics.
//! [[delivery.inbound_signatures]]
//! topics = ["order"]       # absent: every topic
//! secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]   # any may match
//! tolerance_secs = 300     # webhook-timestamp skew accepted, either way
//! ```
//!
//! See [`super::signing`] for the signature scheme.
//!
//! # Default: loopback only
//!
//! When `allowed_callback_hosts` is not given, the list is **`127.0.0.1`, `localhost`
//! and `::1`, with private addresses allowed** — so the quick start and the tests work
//! on one machine, and nothing else is reachable. A deployment that delivers to real
//! systems lists their hosts; giving the list replaces the default entirely.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::signing::{InboundSignatures, InboundVerifier, Secrets, Signer};

/// The delivery engine's configuration (the server's `[delivery]` table).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    /// When to retry a failed delivery and when to give up (halt the hub).
    pub retry: RetryConfig,
    /// Bound on one delivery attempt: connecting, sending and reading the answer.
    pub attempt_timeout_ms: u64,
    /// Bound on establishing a connection (within the attempt timeout).
    pub connect_timeout_ms: u64,
    /// Connection pool and concurrency.
    pub pool: PoolConfig,
    /// How many events a hub worker reads from the log at once.
    pub batch_size: usize,
    /// On shutdown, how long in-flight attempts may run before they are abandoned
    /// (an abandoned attempt does not move the cursor: the event is sent again later).
    pub shutdown_grace_ms: u64,
    /// Need-to-know: when an event names related parties, deliver it only to hubs whose
    /// owner is one of them (hubs without an owner receive it only when this is off).
    pub need_to_know: bool,
    /// The hosts callbacks may point to, with how to authenticate to each. A hub whose
    /// callback host is not listed is refused at registration (422).
    pub allowed_callback_hosts: Vec<CallbackHost>,
    /// How many attempts each hub's status keeps in its attempt log (operator API).
    pub attempt_log_size: usize,
    /// Standard Webhooks signatures our `createEvent` requires (none by default).
    pub inbound_signatures: Vec<InboundSignatures>,
    /// With a store shared by several server replicas (PostgreSQL): how long a hub
    /// lease lasts. Leases are renewed every third of it; a replica that dies loses its
    /// hubs to the others within about this long.
    pub lease_ms: u64,
    /// How often the delivery progress of the hubs (cursors, retry state) is saved to
    /// the store, in one batched write (0: after every delivery). After a crash, what
    /// was delivered since the last save is sent again (at least once; receivers
    /// de-duplicate by `eventId`). Saving per delivery would cost one database write
    /// per delivered event.
    pub progress_flush_ms: u64,
    /// This process's name among the replicas (default: host, pid and a random
    /// suffix). Must be unique among the live replicas.
    pub replica_id: Option<String>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            retry: RetryConfig::default(),
            attempt_timeout_ms: 10_000,
            connect_timeout_ms: 3_000,
            pool: PoolConfig::default(),
            batch_size: 100,
            shutdown_grace_ms: 5_000,
            need_to_know: true,
            allowed_callback_hosts: default_hosts(),
            attempt_log_size: 20,
            inbound_signatures: Vec::new(),
            lease_ms: 5_000,
            progress_flush_ms: 100,
            replica_id: None,
        }
    }
}

fn default_hosts() -> Vec<CallbackHost> {
    ["127.0.0.1", "localhost", "::1"]
        .into_iter()
        .map(|host| CallbackHost {
            host: host.to_owned(),
            port: None,
            auth: OutboundAuth::None,
            allow_private_addresses: true,
            signing_secrets: Secrets::default(),
        })
        .collect()
}

/// The retry schedule: delay `n` (after the `n`-th failed attempt, from 1) is
/// `min(initial * multiplier^(n-1), max)`, then randomised by ± `jitter` of itself.
/// A `Retry-After` from the callback replaces the computed delay, clamped to
/// [`retry_after_floor_ms`, `retry_after_cap_ms`].
///
/// [`retry_after_floor_ms`]: RetryConfig::retry_after_floor_ms
/// [`retry_after_cap_ms`]: RetryConfig::retry_after_cap_ms
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Delay after the first failure.
    pub initial_delay_ms: u64,
    /// Growth factor of the delay per further failure (at least 1).
    pub multiplier: f64,
    /// Largest computed delay.
    pub max_delay_ms: u64,
    /// Randomisation, as a fraction of the delay, in [0, 1]: 0.2 means ± 20 %.
    pub jitter: f64,
    /// Consecutive failed attempts on one event after which the hub is halted
    /// (at least 1). The hub keeps its cursor; an operator resumes it.
    pub max_attempts: u32,
    /// Smallest delay honoured from a `Retry-After` header.
    pub retry_after_floor_ms: u64,
    /// Largest delay honoured from a `Retry-After` header.
    pub retry_after_cap_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            initial_delay_ms: 500,
            multiplier: 2.0,
            max_delay_ms: 5 * 60 * 1000,
            jitter: 0.2,
            max_attempts: 12,
            retry_after_floor_ms: 100,
            retry_after_cap_ms: 10 * 60 * 1000,
        }
    }
}

/// The outbound HTTP connection pool and fan-out concurrency.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PoolConfig {
    /// Idle keep-alive connections kept per host.
    pub max_idle_per_host: usize,
    /// How long an idle connection is kept.
    pub idle_timeout_ms: u64,
    /// How many deliveries may be in flight at once across all hubs (each hub has at
    /// most one). 0: no limit.
    pub max_in_flight: usize,
    /// How many of them may go to one callback authority (`host:port`) at once, so
    /// that a slow or dead callback server cannot take the whole budget (each of its
    /// attempts holds a place until `attempt_timeout_ms`). 0: no limit.
    pub max_in_flight_per_host: usize,
    /// How many of them may belong to the hubs of one owner (principal) at once, so
    /// that one party cannot take the budget with hubs on many hosts. 0: no limit.
    pub max_in_flight_per_owner: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            // As many as may be in flight to one host (`max_in_flight_per_host`): with
            // fewer, a host at its share closes and reopens connections all the time
            // (fan-out to 1,000 hubs on one sink: a TCP connect per delivery).
            max_idle_per_host: 256,
            idle_timeout_ms: 90_000,
            max_in_flight: 1024,
            max_in_flight_per_host: 256,
            max_in_flight_per_owner: 512,
        }
    }
}

/// A host callbacks may point to.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CallbackHost {
    /// A host name, an IP address, or `*.domain` for any subdomain of `domain`.
    /// Compared case-insensitively.
    pub host: String,
    /// The only port allowed; any port when absent.
    #[serde(default)]
    pub port: Option<u16>,
    /// How to authenticate when delivering to this host.
    #[serde(default)]
    pub auth: OutboundAuth,
    /// Whether the host may be (or resolve to) a loopback, private, link-local or
    /// otherwise non-public address. Off by default: the SSRF guard refuses those.
    #[serde(default)]
    pub allow_private_addresses: bool,
    /// Standard Webhooks signing secrets (`whsec_...`): every delivery to this host is
    /// signed with each of them (several during a key rotation). None: not signed.
    #[serde(default)]
    pub signing_secrets: Secrets,
}

impl CallbackHost {
    /// Whether this entry covers `host:port` (`host` lower-case, without brackets).
    pub fn matches(&self, host: &str, port: u16) -> bool {
        self.port.is_none_or(|p| p == port) && self.matches_host(host)
    }

    /// Whether this entry covers `host` on some port (`host` lower-case, without
    /// brackets).
    pub fn matches_host(&self, host: &str) -> bool {
        let pattern = self
            .host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(domain) => host
                .strip_suffix(domain)
                .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => pattern == host,
        }
    }
}

/// How the engine authenticates to a callback host (PSI ADR035).
#[derive(Clone, Default, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutboundAuth {
    /// No credentials.
    #[default]
    None,
    /// A static header, e.g. an API key: `name: value`.
    Header {
        /// The header name.
        name: String,
        /// Its value.
        value: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: String,
    },
    /// `Authorization: Basic base64(username:password)`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// OAuth2 client credentials: a token is fetched from `token_url`, cached until it
    /// expires, and sent as a bearer token; a 401 from the callback refreshes it once.
    Oauth2ClientCredentials {
        /// The token endpoint.
        token_url: String,
        /// The client id.
        client_id: String,
        /// The client secret.
        client_secret: String,
        /// The scope to ask for, if any.
        #[serde(default)]
        scope: Option<String>,
    },
}

/// Secrets are not printed.
impl fmt::Debug for OutboundAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Header { name, .. } => f
                .debug_struct("Header")
                .field("name", name)
                .field("value", &"<redacted>")
                .finish(),
            Self::Bearer { .. } => f
                .debug_struct("Bearer")
                .field("token", &"<redacted>")
                .finish(),
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Self::Oauth2ClientCredentials {
                token_url,
                client_id,
                scope,
                ..
            } => f
                .debug_struct("Oauth2ClientCredentials")
                .field("token_url", token_url)
                .field("client_id", client_id)
                .field("client_secret", &"<redacted>")
                .field("scope", scope)
                .finish(),
        }
    }
}

impl DeliveryConfig {
    /// Checks the values; the error says which one is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let retry = &self.retry;
        if !(retry.multiplier.is_finite() && retry.multiplier >= 1.0) {
            return Err(format!(
                "delivery.retry.multiplier must be at least 1, got {}",
                retry.multiplier
            ));
        }
        if !(0.0..=1.0).contains(&retry.jitter) {
            return Err(format!(
                "delivery.retry.jitter must be within [0, 1], got {}",
                retry.jitter
            ));
        }
        if retry.max_attempts == 0 {
            return Err("delivery.retry.max_attempts must be at least 1".into());
        }
        if retry.max_delay_ms < retry.initial_delay_ms {
            return Err("delivery.retry.max_delay_ms must be at least initial_delay_ms".into());
        }
        if retry.retry_after_cap_ms < retry.retry_after_floor_ms {
            return Err(
                "delivery.retry.retry_after_cap_ms must be at least retry_after_floor_ms".into(),
            );
        }
        if self.lease_ms < 100 {
            return Err("delivery.lease_ms must be at least 100".into());
        }
        if self
            .replica_id
            .as_ref()
            .is_some_and(|id| id.trim().is_empty())
        {
            return Err("delivery.replica_id must not be empty".into());
        }
        if self.attempt_timeout_ms == 0 {
            return Err("delivery.attempt_timeout_ms must be positive".into());
        }
        if self.progress_flush_ms.saturating_mul(2) > self.lease_ms {
            return Err(format!(
                "delivery.progress_flush_ms ({}) must be at most half of delivery.lease_ms ({})",
                self.progress_flush_ms, self.lease_ms
            ));
        }
        if self.batch_size == 0 {
            return Err("delivery.batch_size must be at least 1".into());
        }
        for entry in &self.allowed_callback_hosts {
            let host = entry.host.trim();
            if host.is_empty() || host == "*" || host == "*." {
                return Err(format!(
                    "delivery.allowed_callback_hosts: {:?} is not a host pattern",
                    entry.host
                ));
            }
            if host[1..].contains('*') || (host.starts_with('*') && !host.starts_with("*.")) {
                return Err(format!(
                    "delivery.allowed_callback_hosts: {:?}: only a leading `*.` wildcard is supported",
                    entry.host
                ));
            }
            Signer::new(&entry.signing_secrets).map_err(|error| {
                format!(
                    "delivery.allowed_callback_hosts: {:?}: signing_secrets: {error}",
                    entry.host
                )
            })?;
            if let OutboundAuth::Oauth2ClientCredentials { token_url, .. } = &entry.auth
                && !(token_url.starts_with("http://") || token_url.starts_with("https://"))
            {
                return Err(format!(
                    "delivery.allowed_callback_hosts: {:?}: token_url must be an http(s) URL",
                    entry.host
                ));
            }
        }
        InboundVerifier::new(&self.inbound_signatures)?;
        Ok(())
    }

    /// The entry allowing `host:port`, if any (the first that matches).
    pub fn callback_host(&self, host: &str, port: u16) -> Option<&CallbackHost> {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        self.allowed_callback_hosts
            .iter()
            .find(|entry| entry.matches(&host, port))
    }

    /// [`lease_ms`](Self::lease_ms) as a duration.
    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms)
    }

    /// [`progress_flush_ms`](Self::progress_flush_ms) as a duration.
    pub fn progress_flush(&self) -> Duration {
        Duration::from_millis(self.progress_flush_ms)
    }

    /// [`attempt_timeout_ms`](Self::attempt_timeout_ms) as a duration.
    pub fn attempt_timeout(&self) -> Duration {
        Duration::from_millis(self.attempt_timeout_ms)
    }

    /// [`shutdown_grace_ms`](Self::shutdown_grace_ms) as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_table_is_the_default() {
        let config: DeliveryConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(config, DeliveryConfig::default());
        config.validate().unwrap();
        assert!(config.callback_host("127.0.0.1", 8080).is_some());
        assert!(config.callback_host("LOCALHOST", 1).is_some());
        assert!(config.callback_host("[::1]", 1).is_some());
        assert!(config.callback_host("example.com", 80).is_none());
    }

    #[test]
    fn hosts_ports_and_wildcards() {
        let config: DeliveryConfig = serde_json::from_value(serde_json::json!({
            "allowed_callback_hosts": [
                {"host": "crm.example.com", "port": 443, "auth": {"type": "bearer", "token": "t"}},
                {"host": "*.partner.example", "auth": {"type": "oauth2_client_credentials",
                    "token_url": "https://idp/token", "client_id": "c", "client_secret": "s"}},
                {"host": "10.0.0.1", "allow_private_addresses": true, "auth": {"type": "basic", "username": "u", "password": "p"}},
                {"host": "api.example.org", "auth": {"type": "header", "name": "X-Api-Key", "value": "k"}}
            ]
        }))
        .unwrap();
        config.validate().unwrap();
        assert!(config.callback_host("crm.example.com", 443).is_some());
        assert!(config.callback_host("crm.example.com", 80).is_none());
        assert!(config.callback_host("a.partner.example", 80).is_some());
        assert!(config.callback_host("a.b.partner.example", 80).is_some());
        assert!(config.callback_host("partner.example", 80).is_none());
        assert!(config.callback_host("evilpartner.example", 80).is_none());
        assert!(
            config.callback_host("127.0.0.1", 80).is_none(),
            "the list replaces the default"
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("\"s\"") && !debug.contains("\"t\"") && !debug.contains("\"k\""));
    }

    #[test]
    fn invalid_values_are_named() {
        let mut config = DeliveryConfig::default();
        config.retry.jitter = 2.0;
        assert!(config.validate().unwrap_err().contains("jitter"));
        let mut config = DeliveryConfig::default();
        config.allowed_callback_hosts[0].host = "a.*.b".into();
        assert!(config.validate().unwrap_err().contains("wildcard"));
        assert!(serde_json::from_str::<DeliveryConfig>(r#"{"retry": {"initial": 1}}"#).is_err());
    }
}
