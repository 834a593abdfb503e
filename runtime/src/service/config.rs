//! [`HubConfig`]: how the service behaves — paging of list operations, the
//! [`Quotas`] on what may be created and the [`ScanLimits`] of filtered listings.

use serde::Deserialize;

use crate::query::PagingConfig;

/// How the hub behaves.
#[derive(Clone, Debug, Default)]
pub struct HubConfig {
    /// Paging of list operations.
    pub paging: PagingConfig,
    /// What one principal may create (`[quotas]`).
    pub quotas: Quotas,
    /// What a `listEvent` that reads a topic's log may cost (`[scans]`).
    pub scans: ScanLimits,
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

/// What a `listEvent` costs when no index answers its filter whole (`[scans]` of the
/// server configuration): a filter on an attribute without an index, a need-to-know
/// restricted caller, or an indexed filter that selects many events. Such a listing
/// examines events one by one (parse, filter, need-to-know) to count them all
/// (`X-Total-Count`) and keep its page.
///
/// * At most `max_events_per_request` events are examined for one request; a listing
///   that would need more is answered **400** with a TMF `Error` (code
///   `SCAN_LIMIT`) asking to narrow the filter with an indexed attribute (`eventId`,
///   `eventType`, an `eventTime` range, `raisedAfter`/`raisedBefore`) — never a page
///   or a count that is not the whole truth.
/// * At most `max_concurrent` such listings run at once, over all callers; others wait
///   their turn. Each yields to the API's other requests between batches of events, so
///   scans cannot starve `/health` or the publishers.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanLimits {
    /// Events one listing may examine. 0: no limit. Default 200,000 (about 0.3 s of
    /// one core for the guide's 1.4 KB events).
    pub max_events_per_request: u64,
    /// Listings examining events at once, for all callers together (at least 1).
    /// Default 2.
    pub max_concurrent: usize,
}

impl Default for ScanLimits {
    fn default() -> Self {
        Self {
            max_events_per_request: 200_000,
            max_concurrent: 2,
        }
    }
}
