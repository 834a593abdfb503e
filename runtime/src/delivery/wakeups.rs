//! Appends, removals and operator changes made through other processes (a store shared
//! by replicas, [`Store::subscribe_appends`]) fed into the same wake-ups as local ones.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::shared::Shared;
use crate::store::{AppendNotice, Store};

/// Feeds appends made through other processes into the same wake-up as local ones.
pub(super) async fn wake_on_appends<S: Store>(
    shared: Arc<Shared<S>>,
    mut notices: mpsc::UnboundedReceiver<AppendNotice>,
) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let notice = tokio::select! {
            notice = notices.recv() => notice,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        match notice {
            None => return,
            Some(AppendNotice::Appended { topic, head }) => {
                shared.hooks.event_appended(&topic, head);
            }
            Some(AppendNotice::HubRemoved { hub }) => {
                shared.hooks.hub_removed(&hub);
            }
            Some(AppendNotice::ReplicasChanged) => {
                // A replica joined or left, or handed leases back: claim the share now.
                shared.hooks.hubs_changed();
            }
            Some(AppendNotice::HubChanged { hub, epoch }) => {
                // A worker that started before an operator's change restarts from the
                // stored state; a hub registered elsewhere may be this replica's to take.
                if shared
                    .stop_worker_if(&hub, |handle| handle.epoch < epoch)
                    .is_some()
                {
                    tracing::info!(%hub, epoch, "hub changed by an operator: its worker restarts from the stored state");
                }
                shared.hooks.hubs_changed();
            }
            Some(AppendNotice::Lost) => {
                tracing::warn!("append notifications may have been lost: re-reading the heads");
                let Ok(topics) = shared.store.topics().await else {
                    continue;
                };
                for topic in topics {
                    if let Ok(head) = shared.store.head(&topic.id).await {
                        shared.hooks.event_appended(&topic.id, head);
                    }
                }
            }
        }
    }
}
