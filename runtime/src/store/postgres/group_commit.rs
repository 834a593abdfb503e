//! Group commit ([`group_append`]): concurrent appends to one topic are written
//! together, in one append transaction (`append.rs`), by a committer task per busy
//! topic. The queues live in [`PgStore`](super::PgStore) (`appends`), with what the
//! `NOTIFY` listener of this process needs to tell its own appends from others'
//! ([`AppendQueues::settled`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::PgPool;
use tokio::sync::{oneshot, watch};

use super::append::append_tx;
use crate::store::{Appended, NewEvent, Seq, StoreError};
use crate::sync::lock;

/// Appends waiting for their topic's committer.
#[derive(Debug, Default)]
pub(super) struct AppendQueue {
    pending: Vec<PendingAppend>,
    /// A group is being written (its callers not answered yet).
    writing: bool,
    /// The head of the log after the last group this committer wrote.
    head: Seq,
}

#[derive(Debug)]
struct PendingAppend {
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<Vec<Appended>, StoreError>>,
}

/// The most events one group transaction takes.
const GROUP_MAX_EVENTS: usize = 2000;

/// Group commit: concurrent appends to one topic share a transaction (and so one
/// commit, one WAL flush). The first caller for an idle topic spawns its committer,
/// which takes whatever is queued, writes it in one transaction, answers each
/// caller, and repeats until the queue is empty. The committer is a task of its own,
/// so a caller that goes away (a client hanging up) does not abandon the others; its
/// events are then committed or not, as one piece.
pub(super) async fn group_append(
    pool: &PgPool,
    appends: &AppendQueues,
    topic_id: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<Appended>, StoreError> {
    let (reply, answer) = oneshot::channel();
    let start_committer = {
        let mut queues = lock(&appends.queues);
        let idle = !queues.contains_key(topic_id);
        queues
            .entry(topic_id.to_owned())
            .or_default()
            .pending
            .push(PendingAppend { events, reply });
        idle
    };
    if start_committer {
        tokio::spawn(commit_appends(
            pool.clone(),
            appends.clone(),
            topic_id.to_owned(),
        ));
    }
    answer
        .await
        .map_err(|_| StoreError::Backend("the append was abandoned".into()))?
}

/// Appends waiting for their committers, by topic (a topic has an entry while its
/// committer runs). Cheap to clone (shared).
#[derive(Debug, Clone)]
pub(super) struct AppendQueues {
    queues: Arc<Mutex<HashMap<String, AppendQueue>>>,
    /// Bumped each time a committer answered a group's callers.
    answered: watch::Sender<u64>,
}

impl Default for AppendQueues {
    fn default() -> Self {
        Self {
            queues: Arc::default(),
            answered: watch::channel(0).0,
        }
    }
}

/// The longest [`AppendQueues::settled`] holds a notice.
const SETTLE_MAX: Duration = Duration::from_millis(50);

impl AppendQueues {
    /// Waits until an append of `topic` reaching `head`, announced by `NOTIFY`, is
    /// settled in this process: at once when this process's committer for the topic is
    /// not writing a group whose outcome it does not know yet (or already knows a head
    /// at least as high); otherwise until that group's callers were answered (at most
    /// [`SETTLE_MAX`]).
    ///
    /// Why: the notice of an append made *here* races the answer to the append
    /// (PostgreSQL signals the listening connection at commit, in parallel with the
    /// result going back on the committer's). Passed on first, it woke this process's
    /// workers before the service had put the event in their tail cache, and each of
    /// them read the event back from the database: one `SELECT` per hub for about half
    /// of the events in the latency scenario. Held until the answer, the notice finds
    /// the event in the cache (a no-op wake-up). A notice of another process's append
    /// is delayed at most by one group of this one's on the same topic.
    pub(super) async fn settled(&self, topic: &str, head: Seq) {
        let mut answered = self.answered.subscribe();
        let writing = lock(&self.queues)
            .get(topic)
            .is_some_and(|queue| queue.writing && queue.head < head);
        if writing {
            let _ = tokio::time::timeout(SETTLE_MAX, answered.changed()).await;
        }
    }

    /// A committer answered the callers of a group that took the log of `topic_id` to
    /// `head` (0: none created).
    fn answered(&self, topic_id: &str, head: Seq) {
        if let Some(queue) = lock(&self.queues).get_mut(topic_id) {
            queue.writing = false;
            queue.head = queue.head.max(head);
        }
        self.answered.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// The committer of one topic (see [`group_append`]).
async fn commit_appends(pool: PgPool, queues: AppendQueues, topic_id: String) {
    loop {
        let group: Vec<PendingAppend> = {
            let mut all = lock(&queues.queues);
            let Some(queue) = all.get_mut(&topic_id) else {
                return;
            };
            if queue.pending.is_empty() {
                // Idle again: the next caller starts a new committer.
                all.remove(&topic_id);
                return;
            }
            queue.writing = true;
            let mut size = 0;
            let take = queue
                .pending
                .iter()
                .take_while(|p| {
                    size += p.events.len();
                    size <= GROUP_MAX_EVENTS
                })
                .count()
                .max(1);
            queue.pending.drain(..take).collect()
        };
        if let [_] = group.as_slice() {
            let single = group.into_iter().next().expect("one append");
            let outcome = append_tx(&pool, &topic_id, single.events).await;
            let head = outcome.as_deref().map_or(0, head_of);
            let _ = single.reply.send(outcome);
            queues.answered(&topic_id, head);
            continue;
        }
        let sizes: Vec<usize> = group.iter().map(|p| p.events.len()).collect();
        let all: Vec<NewEvent> = group.iter().flat_map(|p| p.events.clone()).collect();
        match append_tx(&pool, &topic_id, all).await {
            Ok(outcomes) => {
                let head = head_of(&outcomes);
                let mut outcomes = outcomes.into_iter();
                for (pending, size) in group.into_iter().zip(sizes) {
                    let _ = pending
                        .reply
                        .send(Ok(outcomes.by_ref().take(size).collect()));
                }
                queues.answered(&topic_id, head);
            }
            // One bad append must not fail the others: each on its own.
            Err(_) => {
                let mut head = 0;
                for pending in group {
                    let outcome = append_tx(&pool, &topic_id, pending.events).await;
                    head = head.max(outcome.as_deref().map_or(0, head_of));
                    let _ = pending.reply.send(outcome);
                }
                queues.answered(&topic_id, head);
            }
        }
    }
}

/// The highest sequence `outcomes` created (0: none).
fn head_of(outcomes: &[Appended]) -> Seq {
    outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            Appended::Created(record) => Some(record.seq),
            Appended::Existing(_) => None,
        })
        .max()
        .unwrap_or(0)
}
