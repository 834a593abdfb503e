//! Group commit ([`group_append`]): concurrent appends to one topic are written
//! together, in one append transaction (`append.rs`), by a committer task per busy
//! topic. The queues live in [`PgStore`](super::PgStore) (`appends`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::postgres::PgPool;
use tokio::sync::oneshot;

use super::append::append_tx;
use crate::store::{Appended, NewEvent, StoreError};
use crate::sync::lock;

/// Appends waiting for their topic's committer.
#[derive(Debug, Default)]
pub(super) struct AppendQueue {
    pending: Vec<PendingAppend>,
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
        let mut queues = lock(appends);
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
/// committer runs).
pub(super) type AppendQueues = Arc<Mutex<HashMap<String, AppendQueue>>>;

/// The committer of one topic (see [`group_append`]).
async fn commit_appends(pool: PgPool, queues: AppendQueues, topic_id: String) {
    loop {
        let group: Vec<PendingAppend> = {
            let mut all = lock(&queues);
            let Some(queue) = all.get_mut(&topic_id) else {
                return;
            };
            if queue.pending.is_empty() {
                // Idle again: the next caller starts a new committer.
                all.remove(&topic_id);
                return;
            }
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
            let _ = single.reply.send(outcome);
            continue;
        }
        let sizes: Vec<usize> = group.iter().map(|p| p.events.len()).collect();
        let all: Vec<NewEvent> = group.iter().flat_map(|p| p.events.clone()).collect();
        match append_tx(&pool, &topic_id, all).await {
            Ok(outcomes) => {
                let mut outcomes = outcomes.into_iter();
                for (pending, size) in group.into_iter().zip(sizes) {
                    let _ = pending
                        .reply
                        .send(Ok(outcomes.by_ref().take(size).collect()));
                }
            }
            // One bad append must not fail the others: each on its own.
            Err(_) => {
                for pending in group {
                    let outcome = append_tx(&pool, &topic_id, pending.events).await;
                    let _ = pending.reply.send(outcome);
                }
            }
        }
    }
}
