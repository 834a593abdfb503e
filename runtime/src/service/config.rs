//! [`HubConfig`]: how the service behaves — paging of list operations and the
//! [`Quotas`] on what may be created.

use serde::Deserialize;

use crate::query::PagingConfig;

/// How the hub behaves.
#[derive(Clone, Debug, Default)]
pub struct HubConfig {
    /// Paging of list operations.
    pub paging: PagingConfig,
    /// What one principal may create (`[quotas]`).
    pub quotas: Quotas,
}

/// What may be created (`[quotas]` of the server configuration): past a quota the
/// create operation answers 403 with a TMF `Error` (reason `Quota exceeded`). Checked
/// before the write, so concurrent registrations may overshoot by the few in flight.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quotas {
    /// Hubs and listeners one owner (principal, or all unauthenticated callers
    /// together) may have registered at once. 0: no limit. Default 10,000.
    pub max_hubs_per_owner: u64,
    /// Topics the hub may hold (the profile's included). 0: no limit. Default 100,000.
    pub max_topics: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            max_hubs_per_owner: 10_000,
            max_topics: 100_000,
        }
    }
}
