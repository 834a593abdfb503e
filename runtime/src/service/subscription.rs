//! What registering a hub (`POST /topic/{id}/hub`) and a listener (`POST /hub`) share:
//! the callback must be an http(s) URL of an allowed host (PSI-01-02-02-03: 422
//! otherwise), the `query` a valid filter, and the caller within its hub quota.

use tmf688_api::server::RequestContext;
use tmf688_api::support::ApiError;

use crate::query::{Filter, Schema};
use crate::store::{Owner, Store};

use super::Hub688;
use super::access::owner;

/// A registration's checked parts.
pub(super) struct Subscription {
    /// The callback URL, trimmed.
    pub(super) callback: String,
    /// The filter, `None` when absent or blank.
    pub(super) query: Option<String>,
    /// Who registers it.
    pub(super) owner: Option<Owner>,
}

impl<S: Store> Hub688<S> {
    /// Checks a registration's `callback` and `query` (over events of `schema`: a
    /// date-time compared with a value that is not one is a 400) and the caller's quota.
    pub(super) async fn subscription(
        &self,
        ctx: &RequestContext,
        callback: &str,
        query: Option<&str>,
        schema: &Schema,
    ) -> Result<Subscription, ApiError> {
        let trimmed = callback.trim();
        let scheme_only = ["http://", "https://"].contains(&trimmed);
        if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) || scheme_only {
            return Err(ApiError::bad_request(format!(
                "`callback` must be an http(s) URL, got {callback:?}"
            )));
        }
        let query = query
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned);
        if let Some(query) = &query {
            check_filter("query", query, schema)?;
        }
        self.delivery.check_callback(trimmed).await?;
        let owner = owner(ctx);
        self.check_hub_quota(owner.as_ref()).await?;
        Ok(Subscription {
            callback: trimmed.to_owned(),
            query,
            owner,
        })
    }
}

/// 400 unless `query` parses as a filter over `schema`; the message names the
/// attribute holding it (`query`, `headerQuery`, `contentQuery`). Such filters are
/// applied at delivery, where one that does not parse could only be ignored.
pub(super) fn check_filter(attribute: &str, query: &str, schema: &Schema) -> Result<(), ApiError> {
    Filter::parse_query_string(query, schema)
        .map(drop)
        .map_err(|error| {
            ApiError::bad_request(format!(
                "`{attribute}` is not a valid filter: {}",
                error.message()
            ))
        })
}
