//! The supervisor: one worker per hub (per held hub when leasing). It reconciles the
//! workers with the stored hubs on start, whenever hubs are registered or removed, and
//! — with a store shared by replicas ([`Store::shared`]) — every third of the lease,
//! after claiming this replica's fair share of the hubs ([`Store::lease_hubs`]).
//! Workers of hubs this replica no longer holds are stopped and, once they ended and
//! their progress is saved, their leases are handed back so that the other replicas
//! take them at once. A worker that started from an older `epoch` than the stored hub
//! (an operator's change it missed) is restarted from the stored state.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::Value;
use tokio::task::JoinHandle;

use super::filter::HubFilter;
use super::mailbox::mailbox;
use super::shared::{Shared, WorkerHandle};
use super::status::HubCell;
use super::worker::Worker;
use crate::store::{HubState, Store, StoreError};
use crate::sync::lock;

/// Keeps one worker per hub (per held hub when leasing): on start, whenever hubs are
/// registered or removed, and every third of the lease when leasing.
pub(super) async fn supervise<S: Store>(shared: Arc<Shared<S>>) {
    let mut hubs = shared.hooks.watch_hubs();
    let mut shutdown = shared.shutdown.subscribe();
    let lease = shared.config.lease();
    loop {
        hubs.borrow_and_update();
        if shared.leasing {
            let started = Instant::now();
            match shared.store.lease_hubs(&shared.replica, lease).await {
                Ok(held) => {
                    *lock(&shared.lease_until) = Some(started + lease.mul_f64(0.9));
                    let held: HashSet<String> = held.into_iter().collect();
                    match reconcile(&shared, Some(&held)).await {
                        Ok(stopped) if !stopped.is_empty() => {
                            tokio::spawn(hand_back(shared.clone(), stopped));
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::error!(%error, "delivery: could not list hubs; will retry");
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "delivery: could not renew the hub leases; will retry");
                }
            }
        } else if let Err(error) = reconcile(&shared, None).await.map(drop) {
            tracing::error!(%error, "delivery: could not list hubs; will retry on the next change");
        }
        tokio::select! {
            changed = hubs.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(lease / 3), if shared.leasing => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

fn topic_queries(body: &[u8]) -> (Option<String>, Option<String>) {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    (text("headerQuery"), text("contentQuery"))
}

/// Starts workers for the hubs (those in `held` only, when given) and stops the rest.
///
/// Returns the workers it stopped, with their tasks (to wait for before their leases
/// are handed back).
async fn reconcile<S: Store>(
    shared: &Arc<Shared<S>>,
    held: Option<&HashSet<String>>,
) -> Result<Vec<(String, JoinHandle<()>)>, StoreError> {
    let mut present = HashSet::new();
    let hubs = shared.store.all_hubs().await?;
    // The topics' own queries, read only when a topic has hubs.
    let mut topic_bodies: HashMap<String, bytes::Bytes> = HashMap::new();
    if !hubs.is_empty() {
        for topic in shared.store.topics().await? {
            topic_bodies.insert(topic.id, topic.body);
        }
    }
    let mut queries: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    for hub in hubs {
        // A hub whose topic is gone (removed since the hubs were read) gets no worker.
        let Some(body) = topic_bodies.get(&hub.topic_id) else {
            continue;
        };
        if held.is_some_and(|held| !held.contains(&hub.id)) {
            continue;
        }
        present.insert(hub.id.clone());
        // A worker that started from an older record than this one missed an operator's
        // change applied through the store (replay, resume, expiry: the epoch bumped).
        // Its notice cannot be relied on to stop it: it may have been handled before
        // the worker was registered — an operator's replay answered while this
        // reconciliation was between reading the hubs and starting their workers — and
        // the worker would then sit at its old cursor for good. It is stopped here and
        // a new one starts from the stored state.
        if shared
            .stop_worker_if(&hub.id, |handle| handle.epoch < hub.epoch)
            .is_some()
        {
            tracing::info!(hub = %hub.id, epoch = hub.epoch, "hub changed by an operator: its worker restarts from the stored state");
        }
        let mut workers = lock(&shared.workers);
        if workers.contains_key(&hub.id) {
            continue;
        }
        let (header_query, content_query) = queries
            .entry(hub.topic_id.clone())
            .or_insert_with(|| topic_queries(body))
            .clone();
        let filter = HubFilter::new(
            &hub.topic_id,
            hub.query.as_deref(),
            header_query.as_deref(),
            content_query.as_deref(),
        );
        let (control_tx, control_rx) = mailbox();
        let halted = hub.state == HubState::Halted;
        let base_path = hub
            .base_path
            .clone()
            .unwrap_or_else(|| tmf688_api::client::BASE_PATH.to_owned());
        let href_prefix = format!(
            "{base_path}/topic/{}/event/",
            tmf688_api::support::encode_path_segment(&hub.topic_id)
        );
        let generation = shared.generations.fetch_add(1, Ordering::Relaxed);
        let epoch = hub.epoch;
        let (carried_attempts, cursor) = (hub.attempts, hub.cursor);
        let topic = shared.hooks.watch_topic(&hub.topic_id);
        let cell = Arc::new(HubCell::new(hub));
        let worker = Box::new(Worker {
            epoch,
            carried_attempts,
            generation,
            shared: shared.clone(),
            topic,
            shutdown: shared.shutdown.subscribe(),
            cursor,
            halted,
            route: None,
            hub: cell.clone(),
            filter,
            href_prefix,
            control: control_rx,
        });
        let id = worker.hub.id.clone();
        tracing::debug!(hub = %id, "delivery worker started");
        let task = tokio::spawn(worker.run());
        workers.insert(
            id,
            WorkerHandle {
                control: control_tx,
                generation,
                epoch,
                cell,
                task: Some(task),
            },
        );
    }
    let gone: Vec<String> = lock(&shared.workers)
        .keys()
        .filter(|id| !present.contains(*id))
        .cloned()
        .collect();
    let mut stopped = Vec::new();
    for id in gone {
        tracing::debug!(hub = %id, "delivery worker stopped: hub removed or not held");
        if let Some(task) = shared.stop_worker_if(&id, |_| true).and_then(|h| h.task) {
            stopped.push((id, task));
        }
    }
    Ok(stopped)
}

/// Hands back the leases of hubs this replica no longer delivers (its share shrank
/// because a replica joined) once their workers ended and their progress is saved, so
/// that the other replicas take them now rather than when the leases expire. A worker
/// that does not end within a third of the lease keeps its lease until it expires.
async fn hand_back<S: Store>(shared: Arc<Shared<S>>, stopped: Vec<(String, JoinHandle<()>)>) {
    let deadline = tokio::time::Instant::now() + shared.config.lease() / 3;
    let mut ended = Vec::with_capacity(stopped.len());
    for (hub, task) in stopped {
        if tokio::time::timeout_at(deadline, task).await.is_ok() {
            ended.push(hub);
        }
    }
    if ended.is_empty() {
        return;
    }
    // Their last progress, saved while the leases still hold.
    shared.flush_progress().await;
    match shared.store.hand_back_leases(&shared.replica, &ended).await {
        Ok(0) => {}
        Ok(released) => tracing::info!(released, "hub leases handed back to the other replicas"),
        Err(error) => tracing::warn!(%error, "could not hand back hub leases; they expire"),
    }
}
