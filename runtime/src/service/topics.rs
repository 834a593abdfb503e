//! [`TopicApi`]: creating, deleting, listing and retrieving topics.

use tmf688_api::models::{Topic, TopicCreate};
use tmf688_api::operations::{
    CreateTopicResponse, DeleteTopicResponse, ListTopicQuery, ListTopicResponse,
    RetrieveTopicQuery, RetrieveTopicResponse,
};
use tmf688_api::profile;
use tmf688_api::server::{RequestContext, TopicApi};
use tmf688_api::support::ApiError;

use crate::delivery::notifications;
use crate::query::{Fields, Filter, Page, Schema};
use crate::store::{NewTopic, Store};

use super::errors::{store_error, topic_not_found, visible};
use super::listing::{count, list};
use super::render::{Render, topic_href};
use super::subscription::check_filter;
use super::validate;
use super::{Hub688, to_bytes};

/// Whether a name can serve as a topic id in a URL as is: unreserved characters only,
/// and never a dot-segment (`.` and `..` are removed from paths by every client and
/// proxy, RFC 3986 §5.2.4: such a topic could not be reached).
fn is_plain_id(name: &str) -> bool {
    !name.is_empty()
        && !is_dot_segment(name)
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// `.` or `..`: a path segment that URL resolution removes.
fn is_dot_segment(name: &str) -> bool {
    matches!(name, "." | "..")
}

impl<S: Store> TopicApi for Hub688<S> {
    async fn create_topic(
        &self,
        ctx: RequestContext,
        body: TopicCreate,
    ) -> Result<CreateTopicResponse, ApiError> {
        validate::new_topic(&body)?;
        if body.name.trim().is_empty() {
            return Err(ApiError::bad_request("`name` must not be empty"));
        }
        // Refused rather than given a `topic-N` id: a topic called `..` would name
        // `/topic/..` in every other peer's configuration, which no client can send.
        if is_dot_segment(&body.name) {
            return Err(ApiError::bad_request(format!(
                "`name` {:?} is a path dot-segment, which cannot name a topic in a URL",
                body.name
            )));
        }
        if notifications::is_reserved(&body.name) {
            return Err(ApiError::conflict(format!(
                "the topic name {:?} is reserved",
                body.name
            )));
        }
        check_topic_queries(&body)?;
        self.check_topic_quota().await?;
        let id = is_plain_id(&body.name).then(|| body.name.clone());
        let new = NewTopic {
            id,
            name: body.name.clone(),
            body: to_bytes(&body).map_err(store_error)?,
        };
        let record = self.store.create_topic(new).await.map_err(store_error)?;
        tracing::info!(topic = %record.id, name = %record.name, "topic created");
        let href = topic_href(&ctx, &record.id);
        let topic: Topic = Render {
            id: &record.id,
            href: href.clone(),
            fields: None,
        }
        .to_model(&record.body)?;
        self.notify(notifications::TOPIC_CREATE, "topic", &topic)
            .await;
        Ok(CreateTopicResponse::Created {
            body: topic,
            location: Some(href),
        })
    }

    async fn delete_topic(
        &self,
        ctx: RequestContext,
        id: String,
    ) -> Result<DeleteTopicResponse, ApiError> {
        visible(&id)?;
        if profile::TOPICS.iter().any(|t| t.name == id) {
            return Err(ApiError::conflict(format!(
                "topic {id:?} is required by the PSI profile and cannot be deleted"
            )));
        }
        // What the TopicDeleteEvent carries: the topic as it was.
        let before = self.store.topic(&id).await.map_err(store_error)?;
        if self.store.delete_topic(&id).await.map_err(store_error)? {
            tracing::info!(topic = %id, "topic deleted");
            self.delivery.topic_deleted(&id);
            if let Some(record) = before {
                let topic: Result<Topic, _> = Render {
                    id: &record.id,
                    href: topic_href(&ctx, &record.id),
                    fields: None,
                }
                .to_model(&record.body);
                if let Ok(topic) = topic {
                    self.notify(notifications::TOPIC_DELETE, "topic", &topic)
                        .await;
                }
            }
            Ok(DeleteTopicResponse::NoContent)
        } else {
            Err(topic_not_found(&id))
        }
    }

    async fn list_topic(
        &self,
        ctx: RequestContext,
        query: ListTopicQuery,
    ) -> Result<ListTopicResponse, ApiError> {
        let filter = Filter::from_pairs(&query.filters, &Schema::of("Topic"))?;
        let fields = Fields::parse(query.fields.as_deref());
        let page = Page::new(query.offset, query.limit, &self.config.paging)?;
        let records = self.store.topics().await.map_err(store_error)?;
        let maps = records
            .iter()
            .filter(|r| !notifications::is_reserved(&r.id))
            .map(|r| {
                Render {
                    id: &r.id,
                    href: topic_href(&ctx, &r.id),
                    fields: None,
                }
                .to_map(&r.body)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let listing = list::<Topic>(maps, &filter, fields.as_ref(), page)?;
        let x_total_count = count(listing.total);
        let x_result_count = count(listing.page.len());
        let body = listing.page;
        Ok(if listing.complete {
            ListTopicResponse::Ok {
                body,
                x_total_count,
                x_result_count,
            }
        } else {
            ListTopicResponse::PartialContent {
                body,
                x_total_count,
                x_result_count,
            }
        })
    }

    async fn retrieve_topic(
        &self,
        ctx: RequestContext,
        id: String,
        query: RetrieveTopicQuery,
    ) -> Result<RetrieveTopicResponse, ApiError> {
        visible(&id)?;
        let fields = Fields::parse(query.fields.as_deref());
        let record = self
            .store
            .topic(&id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| topic_not_found(&id))?;
        let topic = Render {
            id: &record.id,
            href: topic_href(&ctx, &record.id),
            fields: fields.as_ref(),
        }
        .to_projection(&record.body)?;
        Ok(RetrieveTopicResponse::Ok(topic))
    }
}

/// A new topic's `headerQuery` (over the Event without its payload) and
/// `contentQuery` (over the payload) must parse as filters over the schema the topic's
/// events will have: they are applied at delivery, where one that does not parse
/// could only be ignored. 400 names the attribute and what is wrong (e.g. a date-time
/// attribute compared with `2024-02-30`).
fn check_topic_queries(body: &TopicCreate) -> Result<(), ApiError> {
    let checks = [
        (
            "headerQuery",
            body.header_query.as_deref(),
            Schema::event(&body.name),
        ),
        (
            "contentQuery",
            body.content_query.as_deref(),
            std::sync::Arc::new(Schema::payload(&body.name)),
        ),
    ];
    for (attribute, query, schema) in checks {
        let Some(query) = query.map(str::trim).filter(|q| !q.is_empty()) else {
            continue;
        };
        check_filter(attribute, query, &schema)?;
    }
    Ok(())
}
