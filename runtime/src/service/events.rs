//! [`EventApi`]: publishing events to a topic's log (with `eventId` de-duplication),
//! listing (paged, optionally filtered) and retrieving them.

use serde_json::Value;
use tmf688_api::models::{Event, EventCreate};
use tmf688_api::operations::{
    CreateEventResponse, ListEventQuery, ListEventResponse, RetrieveEventQuery,
    RetrieveEventResponse,
};
use tmf688_api::profile::{self, TopicPayload};
use tmf688_api::server::{EventApi, RequestContext};
use tmf688_api::support::{ApiError, Projection};

use crate::delivery::notifications;
use crate::query::{Fields, Filter, Page, Schema, decimal};
use crate::store::{Appended, NewEvent, Seq, Store, StoreError};

use super::access::{publisher, viewer};
use super::errors::{store_error, topic_not_found, visible};
use super::event_id;
use super::listing::count;
use super::render::{Render, child_href, event_render};
use super::validate;
use super::{Hub688, to_bytes};

/// Same content, whatever the order of object keys, numbers compared on their exact
/// value: a retry that writes `100` for `1e2` is the same event (acknowledged again),
/// one that changes the 30th digit of a number is not (409).
fn same_json(a: &[u8], b: &[u8]) -> bool {
    a == b
        || matches!(
            (serde_json::from_slice::<Value>(a), serde_json::from_slice::<Value>(b)),
            (Ok(x), Ok(y)) if decimal::same_json(&x, &y)
        )
}

impl<S: Store> EventApi for Hub688<S> {
    async fn create_event(
        &self,
        ctx: RequestContext,
        topic_id: String,
        mut body: EventCreate,
    ) -> Result<CreateEventResponse, ApiError> {
        visible(&topic_id)?;
        validate::new_event(&body)?;
        // An event forwarded by another hub carries that hub's `id`/`href`: ours replace
        // them (and they must not take part in the eventId de-duplication).
        body.additional_properties.remove("id");
        body.additional_properties.remove("href");
        // The profile types the payload of its topics: reject what does not fit.
        if let Some(Err(error)) = body
            .event
            .as_ref()
            .map(|payload| TopicPayload::check(&topic_id, payload))
        {
            let payload_type = profile::TOPICS
                .iter()
                .find(|t| t.name == topic_id)
                .map_or("its payload type", |t| t.payload_type);
            return Err(ApiError::bad_request(format!(
                "`event` is not a valid {payload_type} for topic {topic_id:?}: {error}"
            )));
        }
        // Where the profile lets a sender leave `eventId` out (PSI base paths), the hub
        // assigns one: stored, answered and delivered (as `webhook-id`) like a sender's.
        let event_id = match &body.event_id {
            Some(event_id) => event_id.clone(),
            None => body.event_id.insert(event_id::assign(&ctx)?).clone(),
        };
        // De-duplicated per publisher: another principal's eventId is no key to its
        // events (neither found out about nor blocked; DESIGN §4b).
        let new = NewEvent {
            event_id,
            publisher: publisher(&ctx),
            body: to_bytes(&body).map_err(store_error)?,
        };
        let mut outcomes = self
            .store
            .append_events(&topic_id, vec![new.clone()])
            .await
            .map_err(|error| match error {
                StoreError::NotFound(_) => topic_not_found(&topic_id),
                other => store_error(other),
            })?;
        let mut created = false;
        let record = match outcomes.pop() {
            Some(Appended::Created(record)) => {
                tracing::debug!(topic = %topic_id, id = %record.id, event_id = %record.event_id, seq = record.seq, "event stored");
                self.delivery.event_stored(&topic_id, &record);
                created = true;
                record
            }
            Some(Appended::Existing(record)) => {
                if !same_json(&record.body, &new.body) {
                    return Err(ApiError::conflict(format!(
                        "topic {topic_id:?} already holds an event with eventId {:?} (id {:?}) and different content",
                        record.event_id, record.id
                    )));
                }
                tracing::debug!(topic = %topic_id, id = %record.id, event_id = %record.event_id, "duplicate event (same content) acknowledged");
                record
            }
            None => return Err(ApiError::internal("the store appended nothing")),
        };
        let href = child_href(&ctx, &topic_id, "event", &record.id);
        // What is stored is `body` (or, for a retry, the same content): answer from it
        // rather than parsing the stored bytes back.
        let mut event = Event::from(body);
        event.id = Some(record.id.clone());
        event.href = Some(href.clone());
        if created {
            self.notify(notifications::EVENT_CREATE, "event", &event)
                .await;
        }
        Ok(CreateEventResponse::Created {
            body: event,
            location: Some(href),
        })
    }

    async fn list_event(
        &self,
        ctx: RequestContext,
        topic_id: String,
        query: ListEventQuery,
    ) -> Result<ListEventResponse, ApiError> {
        visible(&topic_id)?;
        // Attribute types from the schema: `eventTime` and the payload's date-times
        // compare as instants. `raisedBefore`/`raisedAfter` (PSI) are `eventTime.lt`/`.gt`.
        let schema = Schema::event(&topic_id);
        let mut filter = Filter::from_pairs(&query.filters, &schema)?;
        if let Some(before) = &query.raised_before {
            filter.push("eventTime.lt", before.as_str(), &schema)?;
        }
        if let Some(after) = &query.raised_after {
            filter.push("eventTime.gt", after.as_str(), &schema)?;
        }
        let fields = Fields::parse(query.fields.as_deref());
        let page = Page::new(query.offset, query.limit, &self.config.paging)?;
        let not_found = |error| match error {
            StoreError::NotFound(_) => topic_not_found(&topic_id),
            other => store_error(other),
        };
        // The log holds sequences first..=head without gaps (retention removes a
        // prefix), so a page of the unfiltered log is a range read and the total is
        // `head - first + 1`: long logs are not read whole.
        let bounds = self.store.log_bounds(&topic_id).await.map_err(not_found)?;
        let head = bounds.head;
        // Need-to-know (DESIGN §4b): a party lists only what its hubs would receive.
        let viewer = viewer(&ctx);
        let policy = self.delivery.need_to_know();
        let restricted = viewer.restricted_by(policy.as_ref());
        let (body, total) = if filter.is_empty() && !restricted {
            let records = self
                .store
                .read_events(
                    &topic_id,
                    (bounds.first - 1)
                        .saturating_add(Seq::try_from(page.offset).unwrap_or(Seq::MAX)),
                    page.limit,
                )
                .await
                .map_err(not_found)?;
            let body = records
                .iter()
                .filter(|record| record.seq <= head)
                .map(|record| match fields {
                    Some(_) => event_render(&ctx, &topic_id, record, fields.as_ref())
                        .to_projection(&record.body),
                    // No JSON tree: the stored bytes decode straight into the model.
                    None => match serde_json::from_slice::<Event>(&record.body) {
                        Ok(mut event) => {
                            event.id = Some(record.id.clone());
                            event.href = Some(child_href(&ctx, &topic_id, "event", &record.id));
                            Ok(Projection::Full(event))
                        }
                        // Stored before a rule it breaks: answered as stored.
                        Err(_) => {
                            event_render(&ctx, &topic_id, record, None).to_projection(&record.body)
                        }
                    },
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            (body, usize::try_from(bounds.len()).unwrap_or(usize::MAX))
        } else {
            // Filtered (or restricted): through an index where the filter allows, else
            // examined in budgeted batches (event_query.rs); what the caller may not
            // see is neither listed nor counted.
            let listed = self
                .list_filtered(&ctx, &topic_id, &filter, fields.as_ref(), page, head)
                .await?;
            (listed.body, listed.total)
        };
        let complete = body.len() == total;
        let x_total_count = count(total);
        let x_result_count = count(body.len());
        Ok(if complete {
            ListEventResponse::Ok {
                body,
                x_total_count,
                x_result_count,
            }
        } else {
            ListEventResponse::PartialContent {
                body,
                x_total_count,
                x_result_count,
            }
        })
    }

    async fn retrieve_event(
        &self,
        ctx: RequestContext,
        topic_id: String,
        id: String,
        query: RetrieveEventQuery,
    ) -> Result<RetrieveEventResponse, ApiError> {
        visible(&topic_id)?;
        validate::path_id("event", &id)?;
        let fields = Fields::parse(query.fields.as_deref());
        let absent =
            || ApiError::not_found(format!("topic {topic_id:?} has no event with id {id:?}"));
        let Some(record) = self
            .store
            .event(&topic_id, &id)
            .await
            .map_err(store_error)?
        else {
            self.require_topic(&topic_id).await?;
            // Removed by retention: say so rather than "never was".
            if let (Ok(seq), Ok(bounds)) =
                (id.parse::<Seq>(), self.store.log_bounds(&topic_id).await)
                && seq.to_string() == id
                && seq > 0
                && seq < bounds.first
            {
                return Err(ApiError::not_found(format!(
                    "topic {topic_id:?} has no event with id {id:?}: events before sequence {} \
                     were removed by retention",
                    bounds.first
                )));
            }
            return Err(absent());
        };
        // Need-to-know: an event the caller may not see is answered as absent.
        let viewer = viewer(&ctx);
        let policy = self.delivery.need_to_know();
        if viewer.restricted_by(policy.as_ref()) {
            let value: Value = serde_json::from_slice(&record.body).map_err(|error| {
                tracing::error!(%error, "stored event is not JSON");
                ApiError::internal("a stored event could not be read")
            })?;
            if !viewer.sees_event(policy.as_ref(), &value) {
                return Err(absent());
            }
        }
        let event = Render {
            id: &record.id,
            href: child_href(&ctx, &topic_id, "event", &record.id),
            fields: fields.as_ref(),
        }
        .to_projection(&record.body)?;
        Ok(RetrieveEventResponse::Ok(event))
    }
}
