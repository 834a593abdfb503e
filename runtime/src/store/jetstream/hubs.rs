//! Hub registrations: a document per hub (bucket `hubs`, `<topic key>.<hub id>`), an
//! identity record that makes (topic, callback, query, owner) unique (`names`:
//! `hub.<hash>` → hub id), and the hub's topic by id (`hubtopic.<hub id>`).
//!
//! Registration: claim the identity with create (one writer wins), write the topic
//! pointer, then the document. A registration that finds the identity claimed answers
//! that hub; when its document is not there yet (the winner is between the two
//! writes) it looks again for up to [`CLAIM_WAIT`], then takes the claim over (its
//! creator died half-way).

use std::time::Duration;

use super::JetStreamStore;
use super::kv;
use super::names;
use super::records::{HubDoc, OwnerDoc, body_text};
use crate::store::{HubRecord, HubStart, NewHub, Owner, StoreError};

/// How long a registration waits for the document of a hub whose identity another
/// registration claimed.
const CLAIM_WAIT: Duration = Duration::from_secs(2);

/// The hub `id` of the topic, with its revision.
pub(super) async fn hub(
    store: &JetStreamStore,
    topic_id: &str,
    id: &str,
) -> Result<Option<(HubDoc, u64)>, StoreError> {
    let found = kv::get::<HubDoc>(
        &store.inner.buckets.hubs,
        "hub",
        &names::hub_key(topic_id, id),
    )
    .await?;
    Ok(found.filter(|(doc, _)| doc.id == id && doc.topic_id == topic_id))
}

/// The documents of a topic's hubs, in registration order.
pub(super) async fn hub_docs(
    store: &JetStreamStore,
    topic_id: &str,
) -> Result<Vec<HubDoc>, StoreError> {
    let pattern = format!("{}.*", names::topic_key(topic_id));
    let mut docs: Vec<HubDoc> = kv::list(&store.inner.buckets.hubs, store.inbox(), "hub", &pattern)
        .await?
        .into_iter()
        .map(|(_, doc)| doc)
        .filter(|doc: &HubDoc| doc.topic_id == topic_id)
        .collect();
    docs.sort_by_key(|doc| doc.ord);
    Ok(docs)
}

pub(super) async fn hubs(
    store: &JetStreamStore,
    topic_id: &str,
) -> Result<Vec<HubRecord>, StoreError> {
    if super::topics::topic(store, topic_id).await?.is_none() {
        return Err(StoreError::NotFound(format!("topic {topic_id:?}")));
    }
    Ok(hub_docs(store, topic_id)
        .await?
        .iter()
        .map(HubDoc::record)
        .collect())
}

/// Every hub of every topic (topics in creation order, each one's hubs in registration
/// order): one listing of the hubs and one of the topics, however many topics there
/// are. A hub whose topic is gone (its removal died half-way) is left out.
pub(super) async fn all_hubs(store: &JetStreamStore) -> Result<Vec<HubRecord>, StoreError> {
    let topics: std::collections::HashMap<String, u64> = kv::list::<super::records::TopicDoc>(
        &store.inner.buckets.topics,
        store.inbox(),
        "topic",
        ">",
    )
    .await?
    .into_iter()
    .map(|(_, topic)| (topic.id, topic.ord))
    .collect();
    let mut docs: Vec<(u64, HubDoc)> =
        kv::list::<HubDoc>(&store.inner.buckets.hubs, store.inbox(), "hub", ">")
            .await?
            .into_iter()
            .filter_map(|(_, doc)| topics.get(&doc.topic_id).map(|&ord| (ord, doc)))
            .collect();
    docs.sort_by_key(|(topic_ord, doc)| (*topic_ord, doc.ord));
    Ok(docs.iter().map(|(_, doc)| doc.record()).collect())
}

pub(super) async fn hub_by_id(
    store: &JetStreamStore,
    id: &str,
) -> Result<Option<HubRecord>, StoreError> {
    let Some(topic_id) = store.hub_topic(id).await? else {
        return Ok(None);
    };
    Ok(hub(store, &topic_id, id)
        .await?
        .map(|(doc, _)| doc.record()))
}

pub(super) async fn count_hubs_of(
    store: &JetStreamStore,
    owner: Option<&Owner>,
) -> Result<u64, StoreError> {
    let docs: Vec<(String, HubDoc)> =
        kv::list(&store.inner.buckets.hubs, store.inbox(), "hub", ">").await?;
    let count = docs
        .iter()
        .filter(|(_, doc)| doc.owner.as_ref().map(OwnerDoc::owner).as_ref() == owner)
        .count();
    Ok(count as u64)
}

fn identity_key(
    doc_topic: &str,
    callback: &str,
    query: Option<&str>,
    owner: Option<&Owner>,
) -> String {
    names::hub_identity_key(
        doc_topic,
        callback,
        query,
        owner.map(|owner| (owner.issuer.as_str(), owner.name.as_str())),
    )
}

pub(super) async fn create_hub(
    store: &JetStreamStore,
    new: NewHub,
) -> Result<(HubRecord, bool), StoreError> {
    if super::topics::topic(store, &new.topic_id).await?.is_none() {
        return Err(StoreError::NotFound(format!("topic {:?}", new.topic_id)));
    }
    let identity = identity_key(
        &new.topic_id,
        &new.callback,
        new.query.as_deref(),
        new.owner.as_ref(),
    );
    let body = body_text(&new.body)?;
    let names_bucket = store.names();
    let mut waited = Duration::ZERO;
    loop {
        let claimed = kv::get::<String>(names_bucket, "hub identity", &identity).await?;
        let revision = match &claimed {
            Some((hub_id, revision)) => {
                if let Some((doc, _)) = hub(store, &new.topic_id, hub_id).await? {
                    return Ok((doc.record(), false));
                }
                if waited < CLAIM_WAIT {
                    // Its registration is between its two writes: look again shortly.
                    let pause = Duration::from_millis(20);
                    tokio::time::sleep(pause).await;
                    waited += pause;
                    continue;
                }
                Some(*revision)
            }
            None => None,
        };
        let ord = store.next_id().await?;
        let id = format!("hub-{ord}");
        if kv::put_if(names_bucket, "hub identity", &identity, &id, revision)
            .await?
            .is_none()
        {
            continue; // another registration won: answer its hub
        }
        let cursor = match new.start {
            HubStart::Head => {
                super::retention::log_bounds(store, &new.topic_id)
                    .await?
                    .head
            }
            HubStart::Beginning => 0,
        };
        let doc = HubDoc {
            id: id.clone(),
            topic_id: new.topic_id.clone(),
            callback: new.callback.clone(),
            query: new.query.clone(),
            body,
            owner: new.owner.as_ref().map(OwnerDoc::from_owner),
            base_path: new.base_path.clone(),
            cursor,
            halted: false,
            attempts: 0,
            last_error: None,
            epoch: 0,
            halt_reason: None,
            ord,
        };
        kv::put_if(
            names_bucket,
            "hub topic",
            &names::hub_topic_key(&id),
            &new.topic_id,
            None,
        )
        .await?;
        kv::put_if(
            &store.inner.buckets.hubs,
            "hub",
            &names::hub_key(&new.topic_id, &id),
            &doc,
            None,
        )
        .await?;
        return Ok((doc.record(), true));
    }
}

/// Removes a hub's document, identity and topic pointer.
pub(super) async fn forget_hub(store: &JetStreamStore, doc: &HubDoc) -> Result<(), StoreError> {
    kv::delete(
        &store.inner.buckets.hubs,
        "hub",
        &names::hub_key(&doc.topic_id, &doc.id),
    )
    .await?;
    let identity = identity_key(
        &doc.topic_id,
        &doc.callback,
        doc.query.as_deref(),
        doc.owner.as_ref().map(OwnerDoc::owner).as_ref(),
    );
    // Only while it still names this hub (a later registration may own it).
    if let Some((holder, revision)) =
        kv::get::<String>(store.names(), "hub identity", &identity).await?
        && holder == doc.id
    {
        kv::delete_if(store.names(), "hub identity", &identity, revision).await?;
    }
    kv::delete(store.names(), "hub topic", &names::hub_topic_key(&doc.id)).await?;
    crate::sync::lock(&store.inner.hub_topics).remove(&doc.id);
    Ok(())
}

pub(super) async fn delete_hub(
    store: &JetStreamStore,
    topic_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let Some((doc, revision)) = hub(store, topic_id, id).await? else {
        return Ok(false);
    };
    if !kv::delete_if(
        &store.inner.buckets.hubs,
        "hub",
        &names::hub_key(topic_id, id),
        revision,
    )
    .await?
    {
        // Changed meanwhile (progress saved): delete whatever it is now.
        if hub(store, topic_id, id).await?.is_none() {
            return Ok(false);
        }
    }
    forget_hub(store, &doc).await?;
    Ok(true)
}
