//! A hub's worker: it owns the hub's cursor, reads the topic's log after it (from the
//! tail cache of what this process appended last, else from the store), skips events
//! that do not qualify (filters, need-to-know), delivers the next qualifying one
//! ([`super::deliver`]) and moves the cursor only after a 2xx — so per-hub order and
//! at-least-once hold, and a slow or dead callback holds up its own worker only. With
//! nothing new it sleeps on the topic's watch ([`DeliveryHooks::event_appended`]), not
//! on a timer. A halted hub waits for an operator's resume or replay; an active one
//! takes an operator's request between two events of its backlog.
//!
//! [`DeliveryHooks::event_appended`]: super::DeliveryHooks::event_appended

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;

use super::filter::HubFilter;
use super::mailbox::{self, Control};
use super::notifications;
use super::shared::Shared;
use super::status::HubCell;
use super::tail::LogEvent;
use crate::access::Scope;
use crate::store::{DeadLetterKind, HubProgress, HubState, NewDeadLetter, Seq, Store, StoreError};
use crate::sync::lock;

/// What delivering one event came to.
pub(super) enum Step {
    Delivered,
    Gone,
    Halted,
    Control(Control),
    Exit,
}

/// One hub's worker task (started by the supervisor).
pub(super) struct Worker<S> {
    pub(super) shared: Arc<Shared<S>>,
    pub(super) generation: u64,
    /// The hub's epoch when this worker started (its progress is fenced on it).
    pub(super) epoch: u64,
    /// Failed attempts at the next event stored by an earlier worker (a restart or
    /// another replica): the retry budget continues from there.
    pub(super) carried_attempts: u32,
    /// The hub (id, topic, callback, owner) and its live status, shared with the
    /// operator API through the worker's handle.
    pub(super) hub: Arc<HubCell>,
    pub(super) filter: HubFilter,
    /// `{base path}/topic/{topic}/event/`: an event's `href` without its id.
    pub(super) href_prefix: String,
    pub(super) control: mailbox::Receiver,
    pub(super) topic: watch::Receiver<Seq>,
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) cursor: Seq,
    pub(super) halted: bool,
    /// Where the last delivery went ([`super::deliver`]).
    pub(super) route: Option<Arc<super::deliver::Route>>,
}

impl<S: Store> Worker<S> {
    /// The task's body. Boxed: an `async fn` keeps its argument twice in its state
    /// (once as given, once as the local it moves into), and the worker is the largest
    /// part of an idle hub's task (the bench's `memory per idle hub` row).
    pub(super) async fn run(mut self: Box<Self>) {
        self.run_loop().await;
        let mut workers = lock(&self.shared.workers);
        if workers
            .get(&self.hub.id)
            .is_some_and(|handle| handle.generation == self.generation)
        {
            workers.remove(&self.hub.id);
        }
        drop(workers);
        tracing::debug!(hub = %self.hub.id, "delivery worker ended");
    }

    /// Whether to send nothing more: shutdown, the hub removed or no longer held, or
    /// its lease possibly lapsed (the worker ends; the next claim restarts it from the
    /// stored cursor if the hub is still held).
    pub(super) fn stopping(&self) -> bool {
        *self.shutdown.borrow()
            || self.hub.revoked.load(Ordering::SeqCst)
            || !self.shared.lease_valid()
    }

    async fn run_loop(&mut self) {
        let batch_size = self.shared.config.batch_size;
        loop {
            if self.stopping() {
                return;
            }
            // The waits below listen to the mailbox only, not to the engine's shutdown
            // watch: the engine's shutdown posts a `Stop` to every worker (a third
            // future in each wait would add to every idle hub's task).
            if self.halted {
                let control = self.control.recv().await;
                if !Box::pin(self.apply(control)).await {
                    return;
                }
                continue;
            }
            self.topic.borrow_and_update();
            // What this process appended last is at hand; the store has the rest.
            let recent =
                self.shared
                    .hooks
                    .recent_events(&self.hub.topic_id, self.cursor, batch_size);
            let read = match recent {
                Some(recent) => Ok(recent),
                // Boxed, as the work below: see there.
                None => Box::pin(self.shared.store.read_events(
                    &self.hub.topic_id,
                    self.cursor,
                    batch_size,
                ))
                .await
                .map(|events| {
                    events
                        .into_iter()
                        .map(|e| Arc::new(LogEvent::new(e)))
                        .collect()
                }),
            };
            let batch = match read {
                Ok(batch) => batch,
                Err(StoreError::NotFound(_)) => return,
                Err(error) => {
                    tracing::error!(hub = %self.hub.id, %error, "delivery: could not read the log");
                    // Not held across the wait below (it would size every idle task).
                    drop(error);
                    let pause = Duration::from_millis(self.shared.config.retry.initial_delay_ms);
                    let control = tokio::select! {
                        () = tokio::time::sleep(pause) => None,
                        control = self.control.recv() => Some(control),
                    };
                    if let Some(control) = control
                        && !Box::pin(self.apply(control)).await
                    {
                        return;
                    }
                    continue;
                }
            };
            if batch.is_empty() {
                let control = tokio::select! {
                    changed = self.topic.changed() => if changed.is_err() { return } else { None },
                    control = self.control.recv() => Some(control),
                };
                if let Some(control) = control
                    && !Box::pin(self.apply(control)).await
                {
                    return;
                }
                continue;
            }
            // Boxed: the task of an idle worker is only as large as its waiting
            // states (10,000 idle hubs: the bench's `memory per idle hub` row); one
            // allocation per batch.
            if !Box::pin(self.work_through(&batch)).await {
                return;
            }
        }
    }

    /// Delivers the qualifying events of `batch` in order, moving the cursor past the
    /// rest; `false` when the worker must end.
    async fn work_through(&mut self, batch: &[Arc<LogEvent>]) -> bool {
        let mut skipped_to = None;
        for event in batch {
            // A long backlog is worked through without other awaits: give the
            // runtime's other tasks (the API's requests) their turn.
            tokio::task::coop::consume_budget().await;
            // An operator's request applies before the next event, not once the
            // backlog is delivered (a replay asked during a pass over a long log would
            // otherwise wait for the end of that pass).
            if let Some(control) = self.control.try_recv() {
                if let Some(seq) = skipped_to.take()
                    && !self.commit(seq).await
                {
                    return false;
                }
                // The next batch is read from the cursor the request left.
                return self.apply(Some(control)).await;
            }
            if !self.qualifies(event) {
                skipped_to = Some(event.record.seq);
                self.shared.metrics.skipped();
                lock(&self.hub.live).skipped += 1;
                continue;
            }
            if let Some(seq) = skipped_to.take()
                && !self.commit(seq).await
            {
                return false;
            }
            match self.deliver(&event.record).await {
                Step::Delivered => {
                    if !self.commit(event.record.seq).await {
                        return false;
                    }
                }
                Step::Gone => {
                    self.remove_gone().await;
                    return false;
                }
                Step::Halted => {
                    self.halted = true;
                    break;
                }
                Step::Control(control) => {
                    if !self.apply(Some(control)).await {
                        return false;
                    }
                    break;
                }
                Step::Exit => return false,
            }
        }
        if let Some(seq) = skipped_to
            && !self.commit(seq).await
        {
            return false;
        }
        true
    }

    /// Applies an operator's request; `false` when the worker must end.
    async fn apply(&mut self, control: Option<Control>) -> bool {
        let (resume, cursor) = match control {
            None | Some(Control::Stop) => return false,
            Some(Control::Resume) => (true, None),
            Some(Control::Replay(cursor)) => (true, Some(cursor)),
        };
        if let Some(cursor) = cursor {
            if !self.commit(cursor).await {
                return false;
            }
            tracing::info!(hub = %self.hub.id, from = cursor + 1, "delivery replay");
        }
        if resume {
            if self.halted {
                tracing::info!(hub = %self.hub.id, cursor = self.cursor, "delivery resumed");
            }
            self.halted = false;
            self.carried_attempts = 0;
            lock(&self.hub.live).set_active();
            self.save(0, None).await;
        }
        true
    }

    /// Leaves this hub's progress for the flusher: the cursor, the failed attempts at
    /// the next event and whether it is halted.
    pub(super) async fn save(&self, attempts: u32, last_error: Option<String>) {
        let progress = HubProgress {
            hub_id: self.hub.id.clone(),
            epoch: self.epoch,
            cursor: self.cursor,
            attempts,
            last_error,
            state: if self.halted {
                HubState::Halted
            } else {
                HubState::Active
            },
        };
        self.shared.record_progress(progress, self.generation).await;
    }

    /// Moves the cursor (saved by the flusher); `false` when the worker must end (its
    /// progress was refused: lease lost or hub changed elsewhere).
    async fn commit(&mut self, cursor: Seq) -> bool {
        self.cursor = cursor;
        lock(&self.hub.live).cursor = cursor;
        self.save(0, None).await;
        !self.hub.revoked.load(Ordering::SeqCst)
    }

    fn qualifies(&self, event: &LogEvent) -> bool {
        let scope = Scope::of_owner(self.hub.owner.as_ref());
        let restricted = scope.restricted_by(self.shared.policy.as_ref());
        if self.filter.is_empty() && !restricted {
            return true;
        }
        let Some(value) = event.value() else {
            tracing::error!(hub = %self.hub.id, seq = event.record.seq, "stored event is not JSON; skipped");
            return false;
        };
        // Need-to-know judges an EventCreateEvent by the event it carries.
        let judged = notifications::carried_event(value).unwrap_or(value);
        self.filter.matches(value)
            && (!restricted || scope.sees(self.shared.policy.as_ref(), judged))
    }

    async fn remove_gone(&mut self) {
        tracing::warn!(hub = %self.hub.id, callback = %self.hub.callback, "callback answered 410 Gone: hub removed");
        self.shared.metrics.gone();
        // What it gave up on (the event answered 410 and the rest of its backlog) stays
        // listed as a dead letter of the hub's id.
        let head = self
            .shared
            .store
            .head(&self.hub.topic_id)
            .await
            .unwrap_or(self.cursor + 1);
        let dead = NewDeadLetter {
            hub_id: self.hub.id.clone(),
            topic_id: self.hub.topic_id.clone(),
            callback: self.hub.callback.clone(),
            first: self.cursor + 1,
            last: head.max(self.cursor + 1),
            kind: DeadLetterKind::Gone,
            reason: "the callback answered 410 Gone: the hub was removed".into(),
        };
        if let Err(error) = self.shared.store.record_dead_letter(dead).await {
            tracing::error!(hub = %self.hub.id, %error, "could not record the removed hub's dead letter");
        }
        if let Err(error) = self
            .shared
            .store
            .delete_hub(&self.hub.topic_id, &self.hub.id)
            .await
        {
            tracing::error!(hub = %self.hub.id, %error, "could not remove the hub");
        }
        self.shared.hooks.hub_removed(&self.hub.id);
    }
}
