//! [`HubApi`]: registering, removing, listing and retrieving a topic's hubs (the
//! subscriptions the delivery engine serves).

use tmf688_api::models::{Hub, HubCreate};
use tmf688_api::operations::{
    CreateHubResponse, DeleteHubResponse, ListHubQuery, ListHubResponse, RetrieveHubQuery,
    RetrieveHubResponse,
};
use tmf688_api::server::{HubApi, RequestContext};
use tmf688_api::support::ApiError;

use crate::query::{Fields, Filter, Page, Schema};
use crate::store::{HubStart, NewHub, Store, StoreError};

use super::access::{require_visible, viewer};
use super::errors::{store_error, topic_not_found, visible};
use super::listing::{count, list};
use super::render::{Render, child_href};
use super::subscription::Subscription;
use super::validate;
use super::{Hub688, to_bytes};

/// The answer for a hub that does not exist, or that the caller may not see.
fn hub_not_found(topic_id: &str, id: &str) -> ApiError {
    ApiError::not_found(format!("topic {topic_id:?} has no hub with id {id:?}"))
}

impl<S: Store> HubApi for Hub688<S> {
    async fn create_hub(
        &self,
        ctx: RequestContext,
        topic_id: String,
        body: HubCreate,
    ) -> Result<CreateHubResponse, ApiError> {
        visible(&topic_id)?;
        validate::new_hub(&ctx, &body)?;
        let Subscription {
            callback,
            query,
            owner,
        } = self
            .subscription(
                &ctx,
                body.callback.as_str(),
                body.query.as_deref(),
                &Schema::event(&topic_id),
            )
            .await?;
        let new = NewHub {
            topic_id: topic_id.clone(),
            callback,
            query,
            body: to_bytes(&body).map_err(store_error)?,
            owner,
            base_path: Some(ctx.base_path.clone()),
            start: HubStart::Head,
        };
        let (record, created) = self
            .store
            .create_hub(new)
            .await
            .map_err(|error| match error {
                StoreError::NotFound(_) => topic_not_found(&topic_id),
                other => store_error(other),
            })?;
        if created {
            tracing::info!(topic = %topic_id, hub = %record.id, callback = %record.callback, "hub registered");
            self.delivery.hubs_changed();
        } else {
            tracing::debug!(topic = %topic_id, hub = %record.id, "hub already registered");
        }
        let href = child_href(&ctx, &topic_id, "hub", &record.id);
        let hub: Hub = Render {
            id: &record.id,
            href: href.clone(),
            fields: None,
        }
        .to_model(&record.body)?;
        Ok(CreateHubResponse::Created {
            body: hub,
            location: Some(href),
        })
    }

    async fn delete_hub(
        &self,
        ctx: RequestContext,
        topic_id: String,
        id: String,
    ) -> Result<DeleteHubResponse, ApiError> {
        visible(&topic_id)?;
        validate::path_id("hub", &id)?;
        let absent = || hub_not_found(&topic_id, &id);
        if let Some(record) = self.store.hub(&topic_id, &id).await.map_err(store_error)? {
            require_visible(&ctx, record.owner.as_ref(), absent)?;
        }
        if self
            .store
            .delete_hub(&topic_id, &id)
            .await
            .map_err(store_error)?
        {
            tracing::info!(topic = %topic_id, hub = %id, "hub deregistered");
            self.delivery.hub_removed(&id);
            return Ok(DeleteHubResponse::NoContent);
        }
        self.require_topic(&topic_id).await?;
        Err(absent())
    }

    async fn list_hub(
        &self,
        ctx: RequestContext,
        topic_id: String,
        query: ListHubQuery,
    ) -> Result<ListHubResponse, ApiError> {
        visible(&topic_id)?;
        let filter = Filter::from_pairs(&query.filters, &Schema::of("Hub"))?;
        let fields = Fields::parse(query.fields.as_deref());
        let page = Page::new(query.offset, query.limit, &self.config.paging)?;
        let records = self
            .store
            .hubs(&topic_id)
            .await
            .map_err(|error| match error {
                StoreError::NotFound(_) => topic_not_found(&topic_id),
                other => store_error(other),
            })?;
        // Another principal's hubs are not listed (nor counted).
        let viewer = viewer(&ctx);
        let maps = records
            .iter()
            .filter(|r| viewer.sees_owned(r.owner.as_ref()))
            .map(|r| {
                Render {
                    id: &r.id,
                    href: child_href(&ctx, &topic_id, "hub", &r.id),
                    fields: None,
                }
                .to_map(&r.body)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let listing = list::<Hub>(maps, &filter, fields.as_ref(), page)?;
        let x_total_count = count(listing.total);
        let x_result_count = count(listing.page.len());
        let body = listing.page;
        Ok(if listing.complete {
            ListHubResponse::Ok {
                body,
                x_total_count,
                x_result_count,
            }
        } else {
            ListHubResponse::PartialContent {
                body,
                x_total_count,
                x_result_count,
            }
        })
    }

    async fn retrieve_hub(
        &self,
        ctx: RequestContext,
        topic_id: String,
        id: String,
        query: RetrieveHubQuery,
    ) -> Result<RetrieveHubResponse, ApiError> {
        visible(&topic_id)?;
        validate::path_id("hub", &id)?;
        let fields = Fields::parse(query.fields.as_deref());
        let Some(record) = self.store.hub(&topic_id, &id).await.map_err(store_error)? else {
            self.require_topic(&topic_id).await?;
            return Err(hub_not_found(&topic_id, &id));
        };
        require_visible(&ctx, record.owner.as_ref(), || {
            hub_not_found(&topic_id, &id)
        })?;
        let hub = Render {
            id: &record.id,
            href: child_href(&ctx, &topic_id, "hub", &record.id),
            fields: fields.as_ref(),
        }
        .to_projection(&record.body)?;
        Ok(RetrieveHubResponse::Ok(hub))
    }
}
