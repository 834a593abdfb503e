//! The callback host allow-list and the SSRF guard (PSI ADR035, PSI-01-02-02-03).
//!
//! * At registration ([`CallbackGuard::check_registration`]): the callback must be an
//!   http(s) URL whose host (and port) an entry of
//!   [`DeliveryConfig::allowed_callback_hosts`] covers; unless that entry sets
//!   `allow_private_addresses`, the host must not be, nor resolve to, a loopback,
//!   private, link-local or otherwise non-public address: one that a row of the IANA
//!   special-purpose address registries does not call globally reachable
//!   ([`special_purpose`], through [`is_public`]).
//! * At delivery: the same allow-list check before every attempt (the configuration
//!   may have changed since), IP literals are checked directly, and host names go
//!   through [`GuardedResolver`], which drops non-public addresses for hosts not
//!   allowed them — so DNS rebinding after registration does not reach inside.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tmf688_api::client::Name;
use url::{Host, Url};

use super::config::{CallbackHost, DeliveryConfig};
use super::special_purpose;

/// Whether `ip` is a public address: globally reachable according to the IANA
/// special-purpose address registries ([`special_purpose`]). The one test of an
/// address for the guard: IP literals at registration and delivery, and every
/// address a host name resolves to.
pub fn is_public(ip: IpAddr) -> bool {
    special_purpose::is_globally_reachable(ip)
}

/// The refusal of a non-public address, naming the registry row that makes it so.
fn not_public(ip: IpAddr) -> Option<String> {
    special_purpose::why_not_global(ip).map(|why| {
        format!(
            "{ip} is a loopback, private or otherwise non-public address ({why}), which is \
             not allowed for this host"
        )
    })
}

/// A host name as the guard compares **and** resolves it: lower-case, without the
/// root's trailing dot (`localhost.` is `localhost`). One form for both, so that what
/// the allow-list judged is what is looked up.
fn normalised(domain: &str) -> String {
    domain.trim_end_matches('.').to_ascii_lowercase()
}

/// The addresses of a name that is loopback by definition (RFC 6761 §6.3: `localhost`
/// and the names under it), given without asking any resolver: such a name never
/// leaves the machine as a DNS query. IPv4 first (what local receivers listen on most).
fn loopback_name(host: &str) -> Option<[IpAddr; 2]> {
    (host == "localhost" || host.ends_with(".localhost"))
        .then_some([Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()])
}

/// The host of a URL as the allow-list compares it: lower-case, IPv6 without brackets.
fn host_text(url: &Url) -> Option<String> {
    Some(match url.host()? {
        Host::Domain(domain) => normalised(domain),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    })
}

/// Checks callback URLs against the configuration.
#[derive(Clone, Debug)]
pub struct CallbackGuard {
    config: Arc<DeliveryConfig>,
    resolve_timeout: Duration,
}

impl CallbackGuard {
    /// A guard over `config`.
    pub fn new(config: Arc<DeliveryConfig>) -> Self {
        Self {
            config,
            resolve_timeout: Duration::from_secs(3),
        }
    }

    /// The parsed URL and the allow-list entry (with its index) covering it, or why not.
    pub fn allowed(&self, callback: &str) -> Result<(Url, usize, &CallbackHost), String> {
        let url = Url::parse(callback.trim())
            .map_err(|error| format!("`callback` {callback:?} is not a valid URL: {error}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("`callback` {callback:?} must be an http(s) URL"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("`callback` must not carry credentials; outbound authentication is configured per host".into());
        }
        let host = host_text(&url).ok_or_else(|| format!("`callback` {callback:?} has no host"))?;
        let port = url.port_or_known_default().unwrap_or(80);
        let (index, entry) = self
            .config
            .allowed_callback_hosts
            .iter()
            .enumerate()
            .find(|(_, entry)| entry.matches(&host, port))
            .ok_or_else(|| {
                format!(
                    "callback host {host}:{port} is not an allowed callback host of this hub \
                     (ask the operator to add it to the configuration)"
                )
            })?;
        if !entry.allow_private_addresses
            && let Ok(ip) = host.parse::<IpAddr>()
            && let Some(refusal) = not_public(ip)
        {
            return Err(format!("callback host {refusal}"));
        }
        Ok((url, index, entry))
    }

    /// The registration check: allow-list, then (for host names not allowed private
    /// addresses) every address the name resolves to must be public.
    pub async fn check_registration(&self, callback: &str) -> Result<(), String> {
        let (url, _, entry) = self.allowed(callback)?;
        if entry.allow_private_addresses {
            return Ok(());
        }
        let Some(Host::Domain(domain)) = url.host() else {
            return Ok(()); // IP literals were checked by `allowed`
        };
        let domain = normalised(domain);
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> = if let Some(loopback) = loopback_name(&domain) {
            loopback.map(|ip| SocketAddr::new(ip, port)).to_vec()
        } else {
            let lookup = tokio::net::lookup_host((domain.as_str(), port));
            match tokio::time::timeout(self.resolve_timeout, lookup).await {
                Ok(Ok(addrs)) => addrs.collect(),
                Ok(Err(error)) => {
                    return Err(format!(
                        "callback host {domain} cannot be resolved: {error}"
                    ));
                }
                Err(_) => {
                    return Err(format!(
                        "callback host {domain} cannot be resolved: timeout"
                    ));
                }
            }
        };
        if addrs.is_empty() {
            return Err(format!("callback host {domain} resolves to no address"));
        }
        if let Some(refusal) = addrs.iter().find_map(|a| not_public(a.ip())) {
            return Err(format!("callback host {domain} resolves to {refusal}"));
        }
        Ok(())
    }
}

/// What the resolver failed with (shown in an attempt's error).
type ResolveError = Box<dyn std::error::Error + Send + Sync>;

/// The addresses a host name may be called at (ports 0: the connector sets the
/// callback's), or why none.
pub type Resolving =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, ResolveError>> + Send>>;

/// The DNS resolver of the delivery client's connector (so asked whenever a
/// connection is made, not only at registration): it refuses host names no allow-list
/// entry covers and keeps only public addresses, except for hosts whose entry sets
/// `allow_private_addresses`. IP-literal hosts never reach it (the connector does not
/// resolve them); [`CallbackGuard::allowed`] checks those before every attempt.
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    config: Arc<DeliveryConfig>,
}

impl GuardedResolver {
    /// A resolver over `config`.
    pub fn new(config: Arc<DeliveryConfig>) -> Self {
        Self { config }
    }

    /// The addresses `name` may be called at.
    pub fn resolve(&self, name: Name) -> Resolving {
        let host = normalised(name.as_str());
        let entries: Vec<&CallbackHost> = self
            .config
            .allowed_callback_hosts
            .iter()
            .filter(|entry| entry.matches_host(&host))
            .collect();
        let listed = !entries.is_empty();
        let allow_private = entries.iter().any(|e| e.allow_private_addresses);
        Box::pin(async move {
            if !listed {
                return Err(format!("{host} is not an allowed callback host").into());
            }
            let found: Vec<SocketAddr> = match loopback_name(&host) {
                Some(loopback) => loopback.map(|ip| SocketAddr::new(ip, 0)).to_vec(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let addrs: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!(
                    "{host} resolves to no address that may be called (non-public addresses are refused)"
                )
                .into());
            }
            Ok(addrs.into_iter())
        })
    }
}

/// The connector's resolver interface (hyper-util asks a `tower` service).
impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = ResolveError;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        self.resolve(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::config::OutboundAuth;

    fn config(hosts: &[(&str, bool)]) -> Arc<DeliveryConfig> {
        Arc::new(DeliveryConfig {
            allowed_callback_hosts: hosts
                .iter()
                .map(|(host, private)| CallbackHost {
                    host: (*host).to_owned(),
                    port: None,
                    auth: OutboundAuth::None,
                    allow_private_addresses: *private,
                    signing_secrets: Default::default(),
                })
                .collect(),
            ..DeliveryConfig::default()
        })
    }

    /// Loopback names, with or without the root's trailing dot and in any case, are
    /// judged and resolved as one name, without any resolver: refused at once where
    /// private addresses are not allowed (no DNS query, no 3 s wait), resolved to
    /// loopback where they are.
    #[tokio::test]
    async fn loopback_names_are_never_looked_up() {
        let strict = CallbackGuard {
            // A lookup would fail the test rather than wait.
            resolve_timeout: Duration::from_millis(1),
            ..CallbackGuard::new(config(&[("localhost", false), ("*.localhost", false)]))
        };
        for callback in [
            "http://localhost:9/x",
            "http://localhost.:9/x",
            "http://LocalHost.:9/x",
            "http://hub.localhost./x",
            "http://a.b.localhost:9/x",
        ] {
            let refused = strict.check_registration(callback).await.unwrap_err();
            assert!(
                refused.contains("resolves to 127.0.0.1 is a loopback"),
                "{callback}: {refused}"
            );
        }
        let open = CallbackGuard::new(config(&[("localhost", true), ("*.localhost", true)]));
        for callback in ["http://localhost.:9/x", "http://hub.localhost./x"] {
            open.check_registration(callback).await.unwrap();
        }
        // At delivery: the same names, answered without a lookup.
        let resolved = |hosts: &[(&str, bool)], name: &'static str| {
            let resolver = GuardedResolver::new(config(hosts));
            async move {
                resolver
                    .resolve(name.parse().unwrap())
                    .await
                    .map(|addrs| addrs.map(|a| a.ip()).collect::<Vec<_>>())
                    .map_err(|error| error.to_string())
            }
        };
        let loopback: Vec<IpAddr> = vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()];
        for name in ["localhost.", "hub.localhost."] {
            let hosts = [("localhost", true), ("*.localhost", true)];
            assert_eq!(resolved(&hosts, name).await, Ok(loopback.clone()), "{name}");
            let hosts = [("localhost", false), ("*.localhost", false)];
            let refused = resolved(&hosts, name).await.unwrap_err();
            assert!(
                refused.contains("no address that may be called"),
                "{refused}"
            );
        }
    }

    #[test]
    fn classification() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "198.18.0.1",
            "2001::1",
            "64:ff9b::10.0.0.1",
            "2002:a00:1::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "192.0.0.9",
            "2001:1::1",
            "64:ff9b::8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn registration_checks() {
        let guard = CallbackGuard::new(config(&[("127.0.0.1", false), ("localhost", true)]));
        let refused = guard
            .check_registration("http://127.0.0.1:9/x")
            .await
            .unwrap_err();
        assert!(refused.contains("private"), "{refused}");
        guard
            .check_registration("http://localhost:9/x")
            .await
            .unwrap();
        let unknown = guard
            .check_registration("http://example.com/x")
            .await
            .unwrap_err();
        assert!(
            unknown.contains("not an allowed callback host"),
            "{unknown}"
        );
        assert!(guard.check_registration("ftp://localhost/x").await.is_err());
        assert!(
            guard
                .check_registration("http://u:p@localhost/x")
                .await
                .is_err()
        );
        let default = CallbackGuard::new(Arc::new(DeliveryConfig::default()));
        default
            .check_registration("http://127.0.0.1:8080/psi-api/event/v2/topic/order/event")
            .await
            .unwrap();
        default
            .check_registration("http://[::1]:8080/")
            .await
            .unwrap();
        assert!(
            default
                .check_registration("http://169.254.169.254/latest/meta-data")
                .await
                .is_err()
        );
    }

    /// Issue 11: special-purpose literals on an allow-listed entry without
    /// `allow_private_addresses` are refused at registration, before any connection
    /// or lookup (IP literals are never resolved); globally reachable rows inside
    /// special blocks are accepted; the entry's `allow_private_addresses` still
    /// permits them. No traffic: registration of a literal only parses.
    #[tokio::test]
    async fn special_purpose_literals_at_registration() {
        let listed = [
            "198.18.0.1",
            "2001::1",
            "192.0.0.9",
            "2001:1::1",
            "64:ff9b::a00:1",
        ];
        let strict = CallbackGuard::new(config(&listed.map(|host| (host, false))));
        for callback in [
            "http://198.18.0.1/cb",
            "http://[2001::1]/cb",
            "http://[64:ff9b::a00:1]/cb",
        ] {
            let refused = strict.check_registration(callback).await.unwrap_err();
            assert!(refused.contains("non-public address"), "{refused}");
        }
        let refused = strict
            .check_registration("http://198.18.0.1:8080/cb")
            .await
            .unwrap_err();
        assert!(refused.contains("Benchmarking, RFC 2544"), "{refused}");
        let refused = strict
            .check_registration("http://[2001::1]/cb")
            .await
            .unwrap_err();
        assert!(refused.contains("TEREDO"), "{refused}");
        for callback in ["http://192.0.0.9/cb", "http://[2001:1::1]/cb"] {
            strict.check_registration(callback).await.unwrap();
        }
        // Delivery checks literals with the same function.
        assert!(strict.allowed("http://198.18.0.1/cb").is_err());
        assert!(strict.allowed("http://192.0.0.9/cb").is_ok());

        let trusted = CallbackGuard::new(config(&listed.map(|host| (host, true))));
        for callback in ["http://198.18.0.1/cb", "http://[2001::1]/cb"] {
            trusted.check_registration(callback).await.unwrap();
        }
    }
}
