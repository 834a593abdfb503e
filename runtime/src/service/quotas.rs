//! Enforcing the [`Quotas`]: what one principal may create, so that a careless or hostile
//! peer cannot grow the hub without bound (DESIGN §4b). Past a quota: 403 with a TMF
//! `Error` whose reason is `Quota exceeded`.

use http::StatusCode;
use tmf688_api::support::ApiError;

use crate::delivery::notifications;
use crate::store::{Owner, Store};

use super::errors::store_error;
use super::{Hub688, Quotas};

fn exceeded(message: String) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "Quota exceeded", message)
}

impl<S: Store> Hub688<S> {
    /// `Ok` while `owner` may register one more hub or listener.
    pub(super) async fn check_hub_quota(&self, owner: Option<&Owner>) -> Result<(), ApiError> {
        let Quotas {
            max_hubs_per_owner: max,
            ..
        } = self.config.quotas;
        if max == 0 {
            return Ok(());
        }
        let count = self.store.count_hubs_of(owner).await.map_err(store_error)?;
        if count >= max {
            return Err(exceeded(format!(
                "{} registered {count} hubs and listeners, the most one owner may have ({max}); remove some first",
                owner.map_or("unauthenticated callers".to_owned(), |o| format!(
                    "{:?}",
                    o.name
                ))
            )));
        }
        Ok(())
    }

    /// `Ok` while one more topic may be created.
    pub(super) async fn check_topic_quota(&self) -> Result<(), ApiError> {
        let max = self.config.quotas.max_topics;
        if max == 0 {
            return Ok(());
        }
        // The reserved notifications topic is not the API's (nor anyone's) to count.
        let count = self
            .store
            .topics()
            .await
            .map_err(store_error)?
            .iter()
            .filter(|topic| !notifications::is_reserved(&topic.id))
            .count() as u64;
        if count >= max {
            return Err(exceeded(format!(
                "the hub holds {count} topics, the most it may ({max}); delete some first"
            )));
        }
        Ok(())
    }
}
