//! The in-flight budget of deliveries, shared fairly (DESIGN §4b: no peer can starve
//! others). An attempt holds, for as long as it is in flight, one permit of each of:
//!
//! * its **owner**'s share (`pool.max_in_flight_per_owner`): all hubs of one principal
//!   together — a party registering many hubs on many hosts cannot take the budget;
//! * its callback's **authority** (`host:port`, `pool.max_in_flight_per_host`): a slow
//!   or dead callback server (one that accepts connections and never answers) holds at
//!   most this many attempts, each until its `attempt_timeout_ms`;
//! * the **global** budget (`pool.max_in_flight`).
//!
//! Permits are taken in that order (owner, authority, global) by every attempt, so
//! waiting never forms a cycle, and a hub waiting for its host's share holds nothing
//! of the global budget meanwhile. A cap of 0 means no cap. The per-owner and per-host
//! semaphores are made on first use and kept (as many as there are owners and allowed
//! callback authorities).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::PoolConfig;
use crate::store::Owner;
use crate::sync::lock;

/// What one attempt holds while it is in flight (released on drop).
#[derive(Debug)]
pub(super) struct InFlight {
    _owner: Option<OwnedSemaphorePermit>,
    _authority: Option<OwnedSemaphorePermit>,
    _global: Option<OwnedSemaphorePermit>,
}

/// Semaphores by key, each of `size` permits, made on first use (`size` 0: no cap).
#[derive(Debug)]
struct Shares<K> {
    size: usize,
    by_key: Mutex<HashMap<K, Arc<Semaphore>>>,
}

impl<K: Eq + Hash + Clone> Shares<K> {
    fn new(size: usize) -> Self {
        Self {
            size,
            by_key: Mutex::default(),
        }
    }

    /// The semaphore of `key`, made on first use (`None`: no cap).
    fn semaphore(&self, key: &K) -> Option<Arc<Semaphore>> {
        if self.size == 0 {
            return None;
        }
        Some(
            lock(&self.by_key)
                .entry(key.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.size)))
                .clone(),
        )
    }
}

/// Never closed: `acquire_owned` cannot fail.
async fn acquire(semaphore: Option<&Arc<Semaphore>>) -> Option<OwnedSemaphorePermit> {
    semaphore?.clone().acquire_owned().await.ok()
}

/// The shares an attempt to one callback authority by a hub of one owner takes from
/// (looked up once per worker and route: the semaphores are kept for good).
#[derive(Clone, Debug)]
pub(super) struct Places {
    owner: Option<Arc<Semaphore>>,
    authority: Option<Arc<Semaphore>>,
}

/// The budget of one engine.
#[derive(Debug)]
pub(super) struct Budget {
    global: Option<Arc<Semaphore>>,
    authorities: Shares<String>,
    owners: Shares<Owner>,
}

impl Budget {
    pub(super) fn new(pool: &PoolConfig) -> Self {
        Self {
            global: (pool.max_in_flight > 0).then(|| Arc::new(Semaphore::new(pool.max_in_flight))),
            authorities: Shares::new(pool.max_in_flight_per_host),
            owners: Shares::new(pool.max_in_flight_per_owner),
        }
    }

    /// The shares of attempts to `authority` (`host:port`) by hubs of `owner` (hubs
    /// without an owner share no owner cap).
    pub(super) fn places(&self, authority: &str, owner: Option<&Owner>) -> Places {
        Places {
            owner: owner.and_then(|owner| self.owners.semaphore(owner)),
            authority: self.authorities.semaphore(&authority.to_owned()),
        }
    }

    /// Waits for a place in flight within `places` and the global budget.
    pub(super) async fn enter_places(&self, places: &Places) -> InFlight {
        let owner = acquire(places.owner.as_ref()).await;
        let authority = acquire(places.authority.as_ref()).await;
        let global = acquire(self.global.as_ref()).await;
        InFlight {
            _owner: owner,
            _authority: authority,
            _global: global,
        }
    }

    /// Waits for a place in flight for an attempt to `authority` (`host:port`) by a hub
    /// of `owner` (hubs without an owner share no owner cap).
    #[cfg(test)]
    pub(super) async fn enter(&self, authority: &str, owner: Option<&Owner>) -> InFlight {
        self.enter_places(&self.places(authority, owner)).await
    }
}

/// The authority (`host:port`, the scheme's default port when absent) a callback URL
/// is sent to; the URL itself when it does not parse (it then fails its attempt).
pub(super) fn authority_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) => format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        ),
        Err(_) => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn pool(global: usize, host: usize, owner: usize) -> PoolConfig {
        PoolConfig {
            max_in_flight: global,
            max_in_flight_per_host: host,
            max_in_flight_per_owner: owner,
            ..PoolConfig::default()
        }
    }

    async fn enters(budget: &Budget, authority: &str, owner: Option<&Owner>) -> bool {
        tokio::time::timeout(Duration::from_millis(50), budget.enter(authority, owner))
            .await
            .map(std::mem::forget)
            .is_ok()
    }

    #[tokio::test]
    async fn a_dead_host_holds_its_share_only() {
        let budget = Budget::new(&pool(4, 2, 0));
        assert!(enters(&budget, "dead:80", None).await);
        assert!(enters(&budget, "dead:80", None).await);
        assert!(
            !enters(&budget, "dead:80", None).await,
            "the host's share is spent"
        );
        assert!(
            enters(&budget, "healthy:80", None).await,
            "others still get through"
        );
        assert!(enters(&budget, "other:80", None).await);
        assert!(
            !enters(&budget, "more:80", None).await,
            "the global budget is spent"
        );
    }

    #[tokio::test]
    async fn one_owner_holds_its_share_only() {
        let (a, b) = (Owner::new("api-key", "a"), Owner::new("api-key", "b"));
        let budget = Budget::new(&pool(0, 0, 2));
        assert!(enters(&budget, "h1:80", Some(&a)).await);
        assert!(enters(&budget, "h2:80", Some(&a)).await);
        assert!(!enters(&budget, "h3:80", Some(&a)).await);
        assert!(enters(&budget, "h3:80", Some(&b)).await);
        assert!(
            enters(&budget, "h3:80", None).await,
            "no owner: no owner cap"
        );
    }

    #[test]
    fn authorities() {
        for (url, authority) in [
            ("http://127.0.0.1:9000/x", "127.0.0.1:9000"),
            ("https://crm.example/x", "crm.example:443"),
            ("http://[::1]/x", "[::1]:80"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(authority_of(url), authority, "{url}");
        }
    }
}
