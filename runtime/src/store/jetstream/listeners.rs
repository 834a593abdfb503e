//! Listeners of the API's notifications: a document per listener (bucket
//! `listeners`, key: its id).

use super::JetStreamStore;
use super::kv;
use super::names;
use super::records::{ListenerDoc, OwnerDoc};
use crate::store::{ListenerRecord, NewListener, StoreError};

pub(super) async fn create_listener(
    store: &JetStreamStore,
    listener: NewListener,
) -> Result<ListenerRecord, StoreError> {
    let ord = store.next_id().await?;
    let doc = ListenerDoc {
        id: format!("listener-{ord}"),
        callback: listener.callback,
        query: listener.query,
        owner: listener.owner.as_ref().map(OwnerDoc::from_owner),
        ord,
    };
    kv::put_if(
        &store.inner.buckets.listeners,
        "listener",
        &names::id_key(&doc.id),
        &doc,
        None,
    )
    .await?;
    Ok(doc.record())
}

pub(super) async fn delete_listener(store: &JetStreamStore, id: &str) -> Result<bool, StoreError> {
    let bucket = &store.inner.buckets.listeners;
    let key = names::id_key(id);
    match kv::get::<ListenerDoc>(bucket, "listener", &key).await? {
        Some((doc, revision)) if doc.id == id => {
            kv::delete_if(bucket, "listener", &key, revision).await
        }
        _ => Ok(false),
    }
}

pub(super) async fn listeners(store: &JetStreamStore) -> Result<Vec<ListenerRecord>, StoreError> {
    let mut docs: Vec<ListenerDoc> = kv::list(
        &store.inner.buckets.listeners,
        store.inbox(),
        "listener",
        ">",
    )
    .await?
    .into_iter()
    .map(|(_, doc)| doc)
    .collect();
    docs.sort_by_key(|doc| doc.ord);
    Ok(docs.iter().map(ListenerDoc::record).collect())
}
