//! What moves while a hub is delivered — cursor, retry state, halt — and operators'
//! resume and replay. Every change is a read-modify-write of the hub's document fenced
//! by its revision ([`kv::modify`]): a worker's progress and an operator's action never
//! overwrite each other, and progress from an older epoch is refused.

use futures_util::future::try_join_all;

use super::JetStreamStore;
use super::kv::{self, Change};
use super::names;
use super::records::HubDoc;
use super::retention::log_bounds;
use crate::store::{HubProgress, HubRecord, HubState, Seq, StoreError};

fn hub_not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("hub {id:?}"))
}

/// The key of hub `hub_id`'s document and its topic (`None`: no such hub).
async fn locate(
    store: &JetStreamStore,
    hub_id: &str,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(store
        .hub_topic(hub_id)
        .await?
        .map(|topic| (names::hub_key(&topic, hub_id), topic)))
}

/// Applies `change` to the hub's document (absent: [`StoreError::NotFound`]).
async fn change_hub<R>(
    store: &JetStreamStore,
    hub_id: &str,
    mut change: impl FnMut(&mut HubDoc) -> R,
) -> Result<R, StoreError> {
    let (key, _) = locate(store, hub_id)
        .await?
        .ok_or_else(|| hub_not_found(hub_id))?;
    kv::modify(
        &store.inner.buckets.hubs,
        "hub",
        &key,
        |current: Option<HubDoc>| {
            let mut doc = current.ok_or_else(|| hub_not_found(hub_id))?;
            let answer = change(&mut doc);
            Ok(Change::Write(doc, answer))
        },
    )
    .await
}

/// The head of the hub's topic's log (a cursor never passes it).
async fn head_of(store: &JetStreamStore, hub_id: &str) -> Result<Seq, StoreError> {
    let (_, topic) = locate(store, hub_id)
        .await?
        .ok_or_else(|| hub_not_found(hub_id))?;
    Ok(log_bounds(store, &topic).await?.head)
}

pub(super) async fn set_cursor(
    store: &JetStreamStore,
    hub_id: &str,
    cursor: Seq,
) -> Result<(), StoreError> {
    let head = head_of(store, hub_id).await?;
    change_hub(store, hub_id, |doc| doc.cursor = cursor.min(head)).await
}

pub(super) async fn set_hub_state(
    store: &JetStreamStore,
    hub_id: &str,
    state: HubState,
) -> Result<(), StoreError> {
    change_hub(store, hub_id, |doc| doc.halted = state == HubState::Halted).await
}

pub(super) async fn save_progress(
    store: &JetStreamStore,
    progress: &[HubProgress],
    _replica: &str,
) -> Result<Vec<String>, StoreError> {
    let refused = try_join_all(progress.iter().map(|saved| async move {
        let Some((key, _)) = locate(store, &saved.hub_id).await? else {
            return Ok(None); // removed: ignored
        };
        kv::modify(
            &store.inner.buckets.hubs,
            "hub",
            &key,
            |current: Option<HubDoc>| {
                let Some(mut doc) = current else {
                    return Ok(Change::Keep(None));
                };
                if doc.epoch != saved.epoch {
                    return Ok(Change::Keep(Some(saved.hub_id.clone())));
                }
                doc.cursor = saved.cursor;
                doc.attempts = saved.attempts;
                doc.last_error.clone_from(&saved.last_error);
                if saved.state == HubState::Active {
                    doc.halt_reason = None;
                }
                doc.halted = saved.state == HubState::Halted;
                Ok(Change::Write(doc, None))
            },
        )
        .await
    }))
    .await?;
    Ok(refused.into_iter().flatten().collect())
}

pub(super) async fn operate_hub(
    store: &JetStreamStore,
    hub_id: &str,
    cursor: Option<Seq>,
) -> Result<HubRecord, StoreError> {
    let head = head_of(store, hub_id).await?;
    change_hub(store, hub_id, |doc| {
        if let Some(cursor) = cursor {
            doc.cursor = cursor.min(head);
        }
        doc.halted = false;
        doc.halt_reason = None;
        doc.attempts = 0;
        doc.last_error = None;
        doc.epoch += 1;
        doc.record()
    })
    .await
}
