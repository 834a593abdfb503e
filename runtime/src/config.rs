//! The server's configuration file (TOML), as read by `tmf688-server --config <file>`.
//!
//! Every setting is optional: what the file leaves out, command-line flags and
//! environment variables (which override the file) or the built-in defaults supply.
//! `examples/server/config.example.toml` documents every key.
//!
//! ```
//! let config = tmf688_runtime::config::Config::from_toml(r#"
//!     listen = "0.0.0.0:8080"
//!     log_format = "json"
//!     [paging]
//!     default_limit = 50
//!     [[auth.api_keys]]
//!     name = "provider-a"
//!     role = "provider"
//!     sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
//! "#).unwrap();
//! assert_eq!(config.paging.default_limit, Some(50));
//! assert!(config.auth.is_configured());
//! ```

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

use crate::auth::AuthConfig;

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// `[paging]`: list operations.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PagingSection {
    /// Page size when the request gives no `limit`.
    pub default_limit: Option<usize>,
    /// Largest page.
    pub max_limit: Option<usize>,
}

/// Who may scrape `GET /metrics` (`[metrics] auth`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsAuth {
    /// The admin role's bearer credential, as the operator API (the default; open
    /// when authentication is off, like `/admin`).
    #[default]
    Admin,
    /// Anyone who reaches the port (a scraper on a private network).
    Open,
    /// `Authorization: Bearer <scrape token>` whose SHA-256 is `token_sha256`, or an
    /// admin credential.
    Token,
}

/// `[metrics]`: the Prometheus endpoint `GET /metrics`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    /// Who may scrape: `admin` (default), `open` or `token`.
    pub auth: MetricsAuth,
    /// With `auth = "token"`: the SHA-256 (64 hex digits) of the scrape token, which
    /// is stored nowhere else (`printf %s "$TOKEN" | sha256sum`).
    pub token_sha256: Option<String>,
}

impl MetricsSection {
    /// `Ok` when the settings fit together (a token mode has a well-formed hash).
    pub fn validate(&self) -> Result<(), String> {
        match (&self.auth, &self.token_sha256) {
            (MetricsAuth::Token, None) => Err(
                "[metrics] auth = \"token\" needs token_sha256 (the scrape token's SHA-256)".into(),
            ),
            (MetricsAuth::Token, Some(hash))
                if crate::auth::api_key::decode_hex(hash).is_none() =>
            {
                Err("[metrics] token_sha256 must be 64 hex digits (a SHA-256)".into())
            }
            (MetricsAuth::Admin | MetricsAuth::Open, Some(_)) => {
                Err("[metrics] token_sha256 is only used with auth = \"token\"".into())
            }
            _ => Ok(()),
        }
    }
}

/// `[console]`: the operator console at `/console`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSection {
    /// Serve it (default true; it needs the admin role once authentication is on).
    pub enabled: bool,
    /// How long a browser login lasts, in minutes (default 480). A session re-checks
    /// its credential on every request, so a JWT's own expiry ends it sooner.
    pub session_minutes: u64,
    /// Mark the session cookie `Secure` (set it when the console is reached through
    /// HTTPS, e.g. behind a TLS-terminating proxy) (default false).
    pub secure_cookie: bool,
}

impl Default for ConsoleSection {
    fn default() -> Self {
        Self {
            enabled: true,
            session_minutes: 480,
            secure_cookie: false,
        }
    }
}

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: Option<SocketAddr>,
    /// `pretty` or `json`.
    pub log_format: Option<LogFormat>,
    /// Log filter (tracing `EnvFilter` syntax).
    pub log: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: Option<usize>,
    /// How long a request head may take, in ms ([`crate::ServeConfig`]).
    pub header_read_timeout_ms: Option<u64>,
    /// How long a request body may take after its head, in ms (then 408).
    pub body_read_timeout_ms: Option<u64>,
    /// How long a kept-alive connection may wait for its next request, in ms.
    pub idle_timeout_ms: Option<u64>,
    /// Connections served at once (the server lowers it to fit its open-file limit).
    pub max_connections: Option<usize>,
    /// Connections served at once for one peer (IPv4 address, IPv6 /64); default a
    /// quarter of `max_connections`.
    pub max_connections_per_ip: Option<usize>,
    /// Longest request target accepted, in bytes (longer: 414).
    pub max_uri_bytes: Option<usize>,
    /// Most header field bytes (names and values) accepted (more: 431).
    pub max_header_bytes: Option<usize>,
    /// Base paths of the profile not served (e.g. `["/psi/event/v2"]`).
    pub disabled_base_paths: Option<Vec<String>>,
    /// Listen on a non-loopback address without authentication (see the server's
    /// `--allow-unauthenticated`).
    pub allow_unauthenticated: Option<bool>,
    /// PostgreSQL URL: with it the server keeps everything in that database
    /// ([`crate::PgStore`]); without it, in memory.
    pub database_url: Option<String>,
    /// Size of the PostgreSQL connection pool.
    pub database_max_connections: Option<u32>,
    /// NATS URL (`nats://host:4222`, JetStream enabled): with it the server keeps
    /// everything in JetStream ([`crate::JetStreamStore`]). Exclusive with
    /// `database_url`.
    pub nats_url: Option<String>,
    /// Prefix of the JetStream streams and buckets (default `tmf688`).
    pub nats_prefix: Option<String>,
    /// Replicas of every JetStream stream and bucket: 1 on a single server, 3 in a
    /// cluster (default 1).
    pub nats_replicas: Option<usize>,
    /// `[paging]`.
    pub paging: PagingSection,
    /// `[quotas]`: what one principal may create.
    pub quotas: crate::service::Quotas,
    /// `[scans]`: what a filtered `listEvent` no index answers may cost.
    pub scans: crate::service::ScanLimits,
    /// `[auth]`: `[[auth.api_keys]]` and `[[auth.jwt]]`.
    pub auth: AuthConfig,
    /// `[metrics]`: who may scrape `GET /metrics`.
    pub metrics: MetricsSection,
    /// `[console]`: the operator console.
    pub console: ConsoleSection,
    /// `[delivery]`: the delivery engine (retries, callback hosts, outbound auth).
    #[serde(default)]
    pub delivery: crate::delivery::DeliveryConfig,
    /// `[retention]`: how long topic logs keep their events, per topic; dead letters
    /// (defaults: `max_age = "7d"`, no `max_events`, no `max_undelivered_age`, a pass
    /// every minute; see [`crate::delivery::retention`]).
    #[serde(default)]
    pub retention: crate::delivery::RetentionConfig,
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("could not read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the structure.
    #[error("{0}")]
    Parse(String),
}

impl Config {
    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|error| ConfigError::Parse(error.to_string()))
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text).map_err(|error| match error {
            ConfigError::Parse(why) => ConfigError::Parse(format!("{}: {why}", path.display())),
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_all_defaults() {
        let config = Config::from_toml("").unwrap();
        assert!(config.listen.is_none());
        assert!(!config.auth.is_configured());
    }

    #[test]
    fn reads_every_section() {
        let config = Config::from_toml(
            r#"
            listen = "127.0.0.1:9999"
            log_format = "json"
            log = "debug"
            max_body_bytes = 2048
            header_read_timeout_ms = 5000
            body_read_timeout_ms = 20000
            idle_timeout_ms = 30000
            max_connections = 500
            max_uri_bytes = 4096
            max_header_bytes = 8192
            database_url = "postgres://u@127.0.0.1:5432/db"
            database_max_connections = 4
            [paging]
            default_limit = 10
            max_limit = 20
            [[auth.api_keys]]
            name = "ops"
            role = "admin"
            sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            [[auth.jwt]]
            alg = "HS256"
            secret = "0123456789abcdef0123456789abcdef"
            issuer = "https://idp.example"
            role_claim = "realm_access.roles"
            "#,
        )
        .unwrap();
        assert_eq!(config.listen, Some("127.0.0.1:9999".parse().unwrap()));
        assert_eq!(config.log_format, Some(LogFormat::Json));
        assert_eq!(config.max_body_bytes, Some(2048));
        assert_eq!(
            (
                config.header_read_timeout_ms,
                config.body_read_timeout_ms,
                config.idle_timeout_ms
            ),
            (Some(5000), Some(20000), Some(30000))
        );
        assert_eq!(
            (
                config.max_connections,
                config.max_uri_bytes,
                config.max_header_bytes
            ),
            (Some(500), Some(4096), Some(8192))
        );
        assert_eq!(
            config.database_url.as_deref(),
            Some("postgres://u@127.0.0.1:5432/db")
        );
        assert_eq!(config.database_max_connections, Some(4));
        assert_eq!(config.paging.max_limit, Some(20));
        assert_eq!(config.auth.api_keys[0].role, crate::auth::Role::Admin);
        assert_eq!(config.auth.jwt[0].role_claim, "realm_access.roles");
        assert_eq!(config.auth.jwt[0].name_claim, "sub");
        crate::auth::Authenticator::from_config(&config.auth).unwrap();
    }

    #[test]
    fn the_documented_example_loads() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/server/config.example.toml"
        ));
        let config = Config::load(path).unwrap();
        let auth = crate::auth::Authenticator::from_config(&config.auth).unwrap();
        assert_eq!(auth.counts(), (2, 0));
        // The example states the defaults.
        assert_eq!(
            config.retention,
            crate::delivery::RetentionConfig::default()
        );
        assert_eq!(
            auth.authenticate_credential("example-provider-key-do-not-use"),
            Ok(crate::auth::Principal::new(
                "provider-a",
                crate::auth::Role::Provider,
                crate::auth::Issuer::ApiKey
            )
            .with_party(Some("provider-a".into())))
        );
    }

    #[test]
    fn metrics_and_console_sections() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config.metrics.auth, MetricsAuth::Admin);
        assert!(config.console.enabled);
        assert_eq!(config.console.session_minutes, 480);
        let token = Config::from_toml(&format!(
            "[metrics]\nauth = \"token\"\ntoken_sha256 = \"{}\"\n[console]\nenabled = false",
            crate::auth::sha256_hex("scrape")
        ))
        .unwrap();
        assert_eq!(token.metrics.validate(), Ok(()));
        assert!(!token.console.enabled);
        for (text, why) in [
            ("[metrics]\nauth = \"token\"", "needs token_sha256"),
            (
                "[metrics]\nauth = \"token\"\ntoken_sha256 = \"abc\"",
                "64 hex digits",
            ),
            (
                "[metrics]\nauth = \"open\"\ntoken_sha256 = \"abc\"",
                "only used with",
            ),
        ] {
            let error = Config::from_toml(text)
                .unwrap()
                .metrics
                .validate()
                .unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
        assert!(Config::from_toml("[metrics]\nauth = \"everyone\"").is_err());
    }

    #[test]
    fn errors_name_the_problem() {
        let error = |text: &str| Config::from_toml(text).unwrap_err().to_string();
        assert!(error("lissen = \"x\"").contains("lissen"));
        assert!(error("listen = \"nowhere\"").contains("listen"));
        assert!(
            error("[[auth.api_keys]]\nname = \"x\"\nrole = \"boss\"\nsha256 = \"\"")
                .contains("unknown role \"boss\"")
        );
    }
}
