//! Failures as answers: store errors, unknown topics, and the reserved notifications
//! topic that the API does not show.

use tmf688_api::support::ApiError;

use crate::delivery::notifications;
use crate::store::{Store, StoreError};

use super::Hub688;

impl<S: Store> Hub688<S> {
    /// `Ok` when the topic exists, else its not-found answer.
    pub(super) async fn require_topic(&self, topic_id: &str) -> Result<(), ApiError> {
        match self.store.topic(topic_id).await.map_err(store_error)? {
            Some(_) => Ok(()),
            None => Err(topic_not_found(topic_id)),
        }
    }
}

/// Maps a store failure to an answer: the client's fault only for not-found/conflict.
pub(super) fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound(what) => ApiError::not_found(format!("{what} does not exist")),
        StoreError::Conflict(why) => ApiError::conflict(why),
        StoreError::Backend(why) => {
            tracing::error!(error = %why, "store failure");
            ApiError::internal("the store failed; try again later")
        }
        StoreError::Unavailable(why) => {
            tracing::warn!(error = %why, "store unavailable");
            ApiError::new(
                http::StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "the store is unavailable; try again shortly",
            )
        }
    }
}

pub(super) fn topic_not_found(topic_id: &str) -> ApiError {
    ApiError::not_found(format!("there is no topic with id {topic_id:?}"))
}

/// The reserved notifications topic does not exist as far as the API is concerned, nor
/// does an id that no topic can have ([`crate::limits::path_id`]).
pub(super) fn visible(topic_id: &str) -> Result<(), ApiError> {
    crate::limits::path_id("topic", topic_id)?;
    if notifications::is_reserved(topic_id) {
        Err(topic_not_found(topic_id))
    } else {
        Ok(())
    }
}
