//! [`EventsSubscriptionApi`]: registering and unregistering listeners of the API's own
//! notifications (`/hub`), kept as hubs of the reserved notifications topic.

use std::sync::atomic::Ordering;

use tmf688_api::models::{EventSubscription, EventSubscriptionInput};
use tmf688_api::operations::{RegisterListenerResponse, UnregisterListenerResponse};
use tmf688_api::server::{EventsSubscriptionApi, RequestContext};
use tmf688_api::support::{ApiError, encode_path_segment};

use crate::delivery::notifications::NOTIFICATIONS_TOPIC;
use crate::query::Schema;
use crate::store::{HubStart, NewHub, Store};

use super::access::require_visible;
use super::errors::store_error;
use super::subscription::Subscription;
use super::validate;
use super::{Hub688, to_bytes};

impl<S: Store> EventsSubscriptionApi for Hub688<S> {
    async fn register_listener(
        &self,
        ctx: RequestContext,
        body: EventSubscriptionInput,
    ) -> Result<RegisterListenerResponse, ApiError> {
        validate::new_listener(&ctx, &body)?;
        let Subscription {
            callback,
            query,
            owner,
        } = self
            .subscription(
                &ctx,
                &body.callback,
                body.query.as_deref(),
                &Schema::notifications(),
            )
            .await?;
        // A listener is a hub of the reserved notifications topic: the delivery engine
        // serves it like any hub (see `delivery::notifications`).
        let new = NewHub {
            topic_id: NOTIFICATIONS_TOPIC.to_owned(),
            callback,
            query,
            body: to_bytes(&body).map_err(store_error)?,
            owner,
            base_path: Some(ctx.base_path.clone()),
            start: HubStart::Head,
        };
        let (record, created) = self.store.create_hub(new).await.map_err(store_error)?;
        self.listening.store(true, Ordering::Relaxed);
        if created {
            tracing::info!(listener = %record.id, callback = %record.callback, "listener registered");
            self.delivery.hubs_changed();
        }
        let location = format!("{}/hub/{}", ctx.base_path, encode_path_segment(&record.id));
        Ok(RegisterListenerResponse::Created {
            body: EventSubscription {
                id: record.id,
                callback: record.callback,
                query: body.query.map(Some),
                additional_properties: body.additional_properties,
            },
            location: Some(location),
        })
    }

    async fn unregister_listener(
        &self,
        ctx: RequestContext,
        id: String,
    ) -> Result<UnregisterListenerResponse, ApiError> {
        validate::path_id("listener", &id)?;
        let absent = || ApiError::not_found(format!("there is no listener with id {id:?}"));
        if let Some(record) = self
            .store
            .hub(NOTIFICATIONS_TOPIC, &id)
            .await
            .map_err(store_error)?
        {
            require_visible(&ctx, record.owner.as_ref(), absent)?;
        }
        if self
            .store
            .delete_hub(NOTIFICATIONS_TOPIC, &id)
            .await
            .map_err(store_error)?
        {
            tracing::info!(listener = %id, "listener unregistered");
            self.delivery.hub_removed(&id);
            if let Ok(left) = self.store.hubs(NOTIFICATIONS_TOPIC).await {
                self.listening.store(!left.is_empty(), Ordering::Relaxed);
            }
            Ok(UnregisterListenerResponse::NoContent)
        } else {
            Err(absent())
        }
    }
}
