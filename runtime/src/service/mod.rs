//! [`Hub688`]: the event hub, implementing every generated handler trait over a
//! [`Store`].
//!
//! This file holds [`Hub688`] with its constructor and accessors, and its
//! [`HubService`](crate::delivery::HubService) side for the delivery engine. The rest,
//! one file each:
//! - `config.rs`: [`HubConfig`] and [`Quotas`];
//! - `topics.rs`: [`TopicApi`](tmf688_api::server::TopicApi) (`/topic`);
//! - `events.rs`: [`EventApi`](tmf688_api::server::EventApi) (`/topic/{id}/event`);
//! - `hubs.rs`: [`HubApi`](tmf688_api::server::HubApi) (`/topic/{id}/hub`);
//! - `listeners.rs`: [`EventsSubscriptionApi`](tmf688_api::server::EventsSubscriptionApi)
//!   (`/hub`: registering listeners of the API's own notifications);
//! - `client_side.rs`:
//!   [`NotificationListenersClientSideApi`](tmf688_api::server::NotificationListenersClientSideApi)
//!   (the hub receiving another hub's notifications);
//! - `render.rs`: hrefs and how a stored resource is answered (`fields=` projection);
//! - `listing.rs`: filtering, counting and paging of list answers;
//! - `event_query.rs`: listing a topic's events by a filter — the index a filter can
//!   use, and the budgeted, yielding scan of the rest ([`ScanLimits`]);
//! - `notify.rs`: writing the API's own notifications when someone listens;
//! - `access.rs`: the caller as [`crate::access`] sees it (what it may see of events,
//!   hubs and listeners), and the owner it records;
//! - `quotas.rs`: enforcing the [`Quotas`] (403 past them);
//! - `subscription.rs`: what registering a hub and a listener share (callback,
//!   query, allow-list, quota);
//! - `errors.rs`: store failures and unknown (or reserved) topics as API errors;
//! - `validate.rs`: what each operation would store, checked first ([`crate::limits`]).

mod access;
mod client_side;
mod config;
mod errors;
mod event_id;
mod event_query;
mod events;
mod hubs;
mod listeners;
mod listing;
mod notify;
mod quotas;
mod render;
mod subscription;
mod topics;
mod validate;

pub use config::{HubConfig, Quotas, ScanLimits};

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Map;
use tmf688_api::models::TopicCreate;
use tmf688_api::profile;

use crate::delivery::notifications::NOTIFICATIONS_TOPIC;
use crate::store::{NewTopic, Store, StoreError};

/// The TMF688 / PSI event hub over a store. Share it as `Arc<Hub688<S>>`.
#[derive(Debug)]
pub struct Hub688<S> {
    store: Arc<S>,
    config: HubConfig,
    /// Wakes the delivery engine and checks callbacks against its allow-list.
    delivery: Arc<crate::delivery::DeliveryHooks>,
    /// Whether API listeners exist (then notifications are written).
    listening: AtomicBool,
    /// When the store was last asked whether listeners exist.
    listeners_checked: Mutex<Option<Instant>>,
    /// Places for listings that examine events one by one ([`ScanLimits`]), shared by
    /// every request.
    scans: tokio::sync::Semaphore,
}

impl<S: Store> Hub688<S> {
    /// A hub over `store`, making sure the profile's topics exist (id = name).
    pub async fn new(store: Arc<S>, config: HubConfig) -> Result<Self, StoreError> {
        for topic in profile::TOPICS {
            if store.topic(topic.name).await?.is_some() {
                continue;
            }
            let body = TopicCreate {
                content_query: None,
                header_query: None,
                name: topic.name.to_owned(),
                at_base_type: None,
                at_schema_location: None,
                at_type: Some("Topic".to_owned()),
                additional_properties: Map::new(),
            };
            let new = NewTopic {
                id: Some(topic.name.to_owned()),
                name: topic.name.to_owned(),
                body: to_bytes(&body)?,
            };
            match store.create_topic(new).await {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other),
            }
        }
        // The reserved topic holding the API's own notifications; its hubs are the
        // listeners (`POST /hub`). Never visible through the API.
        if store.topic(NOTIFICATIONS_TOPIC).await?.is_none() {
            let new = NewTopic {
                id: Some(NOTIFICATIONS_TOPIC.to_owned()),
                name: NOTIFICATIONS_TOPIC.to_owned(),
                body: Bytes::from_static(b"{\"name\":\"$notifications\",\"@type\":\"Topic\"}"),
            };
            match store.create_topic(new).await {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other),
            }
        }
        let listening = !store.hubs(NOTIFICATIONS_TOPIC).await?.is_empty();
        Ok(Self {
            store,
            delivery: Arc::default(),
            listening: AtomicBool::new(listening),
            listeners_checked: Mutex::new(Some(Instant::now())),
            scans: tokio::sync::Semaphore::new(config.scans.max_concurrent.max(1)),
            config,
        })
    }

    /// What the delivery engine attaches to (new events, hub changes, the callback
    /// allow-list: by default loopback callbacks only).
    pub fn delivery_hooks(&self) -> &Arc<crate::delivery::DeliveryHooks> {
        &self.delivery
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }
}

/// The delivery engine reaches the service only through this (it never imports the
/// service): the store it delivers from and the hooks the service calls.
impl<S: Store> crate::delivery::HubService<S> for Hub688<S> {
    fn store(&self) -> &Arc<S> {
        &self.store
    }
    fn delivery_hooks(&self) -> &Arc<crate::delivery::DeliveryHooks> {
        &self.delivery
    }
}

/// A resource as the JSON bytes the store keeps.
fn to_bytes<T: Serialize>(value: &T) -> Result<Bytes, StoreError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|error| StoreError::Backend(format!("could not encode JSON: {error}")))
}
