//! The API's own notifications (topic created/deleted, event created): built and
//! appended to the reserved notifications log, but only while someone listens.

use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::delivery::notifications::{self, NOTIFICATIONS_TOPIC};
use crate::store::{Appended, NewEvent, Store};

use super::Hub688;

impl<S: Store> Hub688<S> {
    /// Whether notifications should be written: a listener was registered here, or the
    /// store (asked at most once a second: another replica may have registered one)
    /// has one.
    async fn listening(&self) -> bool {
        if self.listening.load(Ordering::Relaxed) {
            return true;
        }
        let due = {
            let mut checked = self
                .listeners_checked
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let due = checked.is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
            if due {
                *checked = Some(Instant::now());
            }
            due
        };
        if due && let Ok(hubs) = self.store.hubs(NOTIFICATIONS_TOPIC).await {
            let any = !hubs.is_empty();
            self.listening.store(any, Ordering::Relaxed);
            return any;
        }
        false
    }

    /// Appends a notification of `event_type` about `resource` (under `key` in the
    /// payload) to the notifications log, when someone listens.
    pub(super) async fn notify(&self, event_type: &str, key: &str, resource: impl Serialize) {
        if !self.listening().await {
            return;
        }
        let resource = match serde_json::to_value(resource) {
            Ok(value) => value,
            Err(error) => {
                tracing::error!(%error, event_type, "notification not encoded");
                return;
            }
        };
        let (event_id, body) = notifications::build(event_type, key, resource);
        match self
            .store
            .append_events(
                NOTIFICATIONS_TOPIC,
                vec![NewEvent::anonymous(event_id, body)],
            )
            .await
        {
            Ok(outcomes) => {
                for outcome in outcomes {
                    if let Appended::Created(record) = outcome {
                        self.delivery.event_stored(NOTIFICATIONS_TOPIC, &record);
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, event_type, "notification lost: the store failed");
            }
        }
    }
}
