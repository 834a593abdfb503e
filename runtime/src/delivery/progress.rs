//! Saving the delivery progress (cursor, retry state, halted) of every hub: workers
//! leave their latest progress in [`Shared::progress`]; a flusher saves all of it in
//! one batched write fenced on the lease and the hub's epoch every
//! `progress_flush_ms` ([`Store::save_progress`]), and on shutdown. A refused write
//! (lease lost, or an operator changed the hub through another replica) stops that
//! worker; the supervisor restarts it from the stored state if this replica still
//! holds the hub.

use std::sync::Arc;

use super::shared::{PendingProgress, Shared};
use crate::store::{HubProgress, Store};
use crate::sync::lock;

impl<S: Store> Shared<S> {
    /// Leaves a worker's latest progress for the flusher (or saves it now when
    /// `progress_flush_ms` is 0).
    pub(super) async fn record_progress(&self, progress: HubProgress, generation: u64) {
        lock(&self.progress).insert(
            progress.hub_id.clone(),
            PendingProgress {
                progress,
                generation,
            },
        );
        if self.config.progress_flush().is_zero() {
            self.flush_progress().await;
        }
    }

    /// Saves every pending progress in one write (after any flush in flight). Workers whose progress is refused
    /// stop (lease lost, or the hub changed through another replica); the supervisor
    /// restarts those this replica still holds, from the stored state.
    pub(super) async fn flush_progress(&self) {
        // One flush at a time: returning means what was recorded before is saved (or
        // kept for the next flush after a store error), even when another flush had
        // drained it first.
        let _flushing = self.flushing.lock().await;
        let pending: Vec<PendingProgress> = lock(&self.progress).drain().map(|(_, p)| p).collect();
        if pending.is_empty() {
            return;
        }
        let batch: Vec<HubProgress> = pending.iter().map(|p| p.progress.clone()).collect();
        match self.store.save_progress(&batch, &self.replica).await {
            Ok(refused) if refused.is_empty() => {}
            Ok(refused) => {
                for hub in &refused {
                    let generation = pending
                        .iter()
                        .find(|p| &p.progress.hub_id == hub)
                        .map(|p| p.generation);
                    let stopped =
                        self.stop_worker_if(hub, |handle| Some(handle.generation) == generation);
                    if stopped.is_some() {
                        tracing::warn!(%hub, "hub progress refused (lease lost or changed by an operator elsewhere): its worker restarts from the stored state if this replica holds it");
                    }
                }
                self.hooks.hubs_changed();
            }
            Err(error) => {
                // Kept for the next flush unless a newer progress replaced it. Delivery
                // goes on; after a crash the events since the last save are sent again.
                tracing::error!(%error, hubs = batch.len(), "could not save the delivery progress; will retry");
                let mut map = lock(&self.progress);
                for entry in pending {
                    map.entry(entry.progress.hub_id.clone()).or_insert(entry);
                }
            }
        }
    }
}

/// Saves the delivery progress every `progress_flush_ms` until shutdown (the engine's
/// shutdown makes the last save).
pub(super) async fn flush_progress_periodically<S: Store>(shared: Arc<Shared<S>>) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut ticks = tokio::time::interval(shared.config.progress_flush());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        shared.flush_progress().await;
    }
}
