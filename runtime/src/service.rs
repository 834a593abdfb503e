//! [`Hub688`]: the event hub, implementing every generated handler trait over a
//! [`Store`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tmf688_api::models::{
    Event, EventCreate, EventCreateEvent, EventSubscription, EventSubscriptionInput, Hub,
    HubCreate, Topic, TopicChangeEvent, TopicCreate, TopicCreateEvent, TopicDeleteEvent,
};
use tmf688_api::operations::{
    CreateEventResponse, CreateHubResponse, CreateTopicResponse, DeleteHubResponse,
    DeleteTopicResponse, ListEventQuery, ListEventResponse, ListHubQuery, ListHubResponse,
    ListTopicQuery, ListTopicResponse, ListenToEventCreateEventResponse,
    ListenToTopicChangeEventResponse, ListenToTopicCreateEventResponse,
    ListenToTopicDeleteEventResponse, RegisterListenerResponse, RetrieveEventQuery,
    RetrieveEventResponse, RetrieveHubQuery, RetrieveHubResponse, RetrieveTopicQuery,
    RetrieveTopicResponse, UnregisterListenerResponse,
};
use tmf688_api::profile::{self, TopicPayload};
use tmf688_api::server::{
    EventApi, EventsSubscriptionApi, HubApi, NotificationListenersClientSideApi, RequestContext,
    TopicApi,
};
use tmf688_api::support::{ApiError, Projection, encode_path_segment};

use crate::auth::middleware::forbidden;
use crate::auth::{Principal, Role};
use crate::delivery::notifications::{self, NOTIFICATIONS_TOPIC};
use crate::query::{Fields, Filter, Page, PagingConfig};
use crate::store::{
    Appended, EventRecord, HubStart, NewEvent, NewHub, NewTopic, Seq, Store, StoreError,
};

/// How the hub behaves.
#[derive(Clone, Debug, Default)]
pub struct HubConfig {
    /// Paging of list operations.
    pub paging: PagingConfig,
}

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
            config,
            delivery: Arc::default(),
            listening: AtomicBool::new(listening),
            listeners_checked: Mutex::new(Some(Instant::now())),
        })
    }

    /// Whether notifications should be written: a listener was registered here, or the
    /// store (asked at most once a second: another replica may have registered one)
    /// has one.
    async fn listening(&self) -> bool {
        if self.listening.load(Ordering::Relaxed) {
            return true;
        }
        let due = {
            let mut checked = self
                .listeners_checked
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let due = checked.is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
            if due {
                *checked = Some(Instant::now());
            }
            due
        };
        if due && let Ok(hubs) = self.store.hubs(NOTIFICATIONS_TOPIC).await {
            let any = !hubs.is_empty();
            self.listening.store(any, Ordering::Relaxed);
            return any;
        }
        false
    }

    /// Appends a notification of `event_type` about `resource` (under `key` in the
    /// payload) to the notifications log, when someone listens.
    async fn notify(&self, event_type: &str, key: &str, resource: impl Serialize) {
        if !self.listening().await {
            return;
        }
        let resource = match serde_json::to_value(resource) {
            Ok(value) => value,
            Err(error) => {
                tracing::error!(%error, event_type, "notification not encoded");
                return;
            }
        };
        let (event_id, body) = notifications::build(event_type, key, resource);
        match self
            .store
            .append_events(NOTIFICATIONS_TOPIC, vec![NewEvent { event_id, body }])
            .await
        {
            Ok(outcomes) => {
                for outcome in outcomes {
                    if let Appended::Created(record) = outcome {
                        self.delivery.event_stored(NOTIFICATIONS_TOPIC, &record);
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, event_type, "notification lost: the store failed");
            }
        }
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

    async fn require_topic(&self, topic_id: &str) -> Result<(), ApiError> {
        match self.store.topic(topic_id).await.map_err(store_error)? {
            Some(_) => Ok(()),
            None => Err(topic_not_found(topic_id)),
        }
    }
}

fn to_bytes<T: Serialize>(value: &T) -> Result<Bytes, StoreError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|error| StoreError::Backend(format!("could not encode JSON: {error}")))
}

/// Maps a store failure to an answer: the client's fault only for not-found/conflict.
fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound(what) => ApiError::not_found(format!("{what} does not exist")),
        StoreError::Conflict(why) => ApiError::conflict(why),
        StoreError::Backend(why) => {
            tracing::error!(error = %why, "store failure");
            ApiError::internal("the store failed; try again later")
        }
        StoreError::Unavailable(why) => {
            tracing::warn!(error = %why, "store unavailable");
            ApiError::new(
                http::StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "the store is unavailable; try again shortly",
            )
        }
    }
}

/// The authenticated caller, when authentication is on.
fn principal(ctx: &RequestContext) -> Option<&Principal> {
    ctx.extensions.get::<Principal>()
}

/// Only the principal that registered a hub (or listener), or an admin, may remove it.
/// Without authentication (no principal) anyone may; a registration without a
/// recorded owner (made while authentication was off) only an admin may.
fn may_remove(
    ctx: &RequestContext,
    owner: Option<&str>,
    kind: &str,
    id: &str,
) -> Result<(), ApiError> {
    let Some(caller) = principal(ctx) else {
        return Ok(());
    };
    if caller.role == Role::Admin || owner == Some(caller.name.as_str()) {
        return Ok(());
    }
    Err(forbidden(match owner {
        Some(_) => format!(
            "{kind} {id:?} was registered by another principal; only it or an admin may delete it"
        ),
        None => format!(
            "{kind} {id:?} was registered without authentication; only an admin may delete it"
        ),
    }))
}

fn topic_not_found(topic_id: &str) -> ApiError {
    ApiError::not_found(format!("there is no topic with id {topic_id:?}"))
}

/// The reserved notifications topic does not exist as far as the API is concerned.
fn visible(topic_id: &str) -> Result<(), ApiError> {
    if notifications::is_reserved(topic_id) {
        Err(topic_not_found(topic_id))
    } else {
        Ok(())
    }
}

fn topic_href(ctx: &RequestContext, topic_id: &str) -> String {
    format!("{}/topic/{}", ctx.base_path, encode_path_segment(topic_id))
}

fn child_href(ctx: &RequestContext, topic_id: &str, kind: &str, id: &str) -> String {
    format!(
        "{}/{kind}/{}",
        topic_href(ctx, topic_id),
        encode_path_segment(id)
    )
}

/// Whether a name can serve as a topic id in a URL as is.
fn is_plain_id(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
}

/// What a stored resource turns into in an answer.
struct Render<'a> {
    id: &'a str,
    href: String,
    fields: Option<&'a Fields>,
}

impl Render<'_> {
    /// Stored body + `id`/`href` as the model `T` (no projection).
    fn to_model<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, ApiError> {
        let map = self.to_map(body)?;
        decode_model(Value::Object(map))
    }

    /// Stored body + `id`/`href`, projected when `fields=` was given.
    fn to_projection<T: DeserializeOwned>(&self, body: &[u8]) -> Result<Projection<T>, ApiError> {
        let map = self.to_map(body)?;
        if self.fields.is_some() {
            Ok(Projection::Partial(map))
        } else {
            decode_model(Value::Object(map)).map(Projection::Full)
        }
    }

    fn to_map(&self, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
        let mut map: Map<String, Value> = serde_json::from_slice(body).map_err(|error| {
            tracing::error!(%error, "stored resource is not a JSON object");
            ApiError::internal("a stored resource could not be read")
        })?;
        // `id` and `href` first, as TMF samples write them.
        let mut out = Map::with_capacity(map.len() + 2);
        out.insert("id".into(), Value::String(self.id.to_owned()));
        out.insert("href".into(), Value::String(self.href.clone()));
        map.remove("id");
        map.remove("href");
        out.append(&mut map);
        if let Some(fields) = self.fields {
            fields.project(&mut out);
        }
        Ok(out)
    }
}

/// A rendered resource as answered: only the `fields=` asked for, or the whole model.
fn project<T: DeserializeOwned>(
    value: Value,
    fields: Option<&Fields>,
) -> Result<Projection<T>, ApiError> {
    match (fields, value) {
        (Some(fields), Value::Object(mut map)) => {
            fields.project(&mut map);
            Ok(Projection::Partial(map))
        }
        (_, value) => decode_model(value).map(Projection::Full),
    }
}

fn decode_model<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|error| {
        tracing::error!(%error, "stored resource does not fit its model");
        ApiError::internal("a stored resource could not be read")
    })
}

/// How an event of `topic_id`'s log is answered.
fn event_render<'a>(
    ctx: &RequestContext,
    topic_id: &str,
    record: &'a EventRecord,
    fields: Option<&'a Fields>,
) -> Render<'a> {
    Render {
        id: &record.id,
        href: child_href(ctx, topic_id, "event", &record.id),
        fields,
    }
}

/// How many events a filtered `listEvent` reads from the store at a time.
const LIST_SCAN_BATCH: usize = 500;

/// Filters, counts and pages resources already rendered as JSON maps.
struct Listing<T> {
    page: Vec<Projection<T>>,
    total: usize,
    complete: bool,
}

fn list<T: DeserializeOwned>(
    maps: Vec<Map<String, Value>>,
    filter: &Filter,
    fields: Option<&Fields>,
    page: Page,
) -> Result<Listing<T>, ApiError> {
    let matching: Vec<Map<String, Value>> = if filter.is_empty() {
        maps
    } else {
        maps.into_iter()
            .filter(|map| filter.matches(&Value::Object(map.clone())))
            .collect()
    };
    let total = matching.len();
    let (selected, complete) = page.apply(matching);
    let page = selected
        .into_iter()
        .map(|map| project(Value::Object(map), fields))
        .collect::<Result<Vec<Projection<T>>, ApiError>>()?;
    Ok(Listing {
        page,
        total,
        complete,
    })
}

fn count(n: usize) -> Option<i64> {
    i64::try_from(n).ok()
}

/// Same content, whatever the order of object keys.
fn same_json(a: &[u8], b: &[u8]) -> bool {
    a == b
        || matches!(
            (serde_json::from_slice::<Value>(a), serde_json::from_slice::<Value>(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

impl<S: Store> TopicApi for Hub688<S> {
    async fn create_topic(
        &self,
        ctx: RequestContext,
        body: TopicCreate,
    ) -> Result<CreateTopicResponse, ApiError> {
        if body.name.trim().is_empty() {
            return Err(ApiError::bad_request("`name` must not be empty"));
        }
        if notifications::is_reserved(&body.name) {
            return Err(ApiError::conflict(format!(
                "the topic name {:?} is reserved",
                body.name
            )));
        }
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
        let filter = Filter::from_pairs(&query.filters)?;
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

impl<S: Store> EventApi for Hub688<S> {
    async fn create_event(
        &self,
        ctx: RequestContext,
        topic_id: String,
        mut body: EventCreate,
    ) -> Result<CreateEventResponse, ApiError> {
        visible(&topic_id)?;
        // An event forwarded by another hub carries that hub's `id`/`href`: ours replace
        // them (and they must not take part in the eventId de-duplication).
        body.additional_properties.remove("id");
        body.additional_properties.remove("href");
        if body.event_id.trim().is_empty() {
            return Err(ApiError::bad_request("`eventId` must not be empty"));
        }
        if body.at_type.trim().is_empty() {
            return Err(ApiError::bad_request("`@type` must not be empty"));
        }
        // The profile types the payload of its topics: reject what does not fit.
        if let Err(error) = TopicPayload::check(&topic_id, &body.event) {
            let payload_type = profile::TOPICS
                .iter()
                .find(|t| t.name == topic_id)
                .map_or("its payload type", |t| t.payload_type);
            return Err(ApiError::bad_request(format!(
                "`event` is not a valid {payload_type} for topic {topic_id:?}: {error}"
            )));
        }
        let new = NewEvent {
            event_id: body.event_id.clone(),
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
        let filter = Filter::from_pairs(&query.filters)?;
        let fields = Fields::parse(query.fields.as_deref());
        let page = Page::new(query.offset, query.limit, &self.config.paging)?;
        let not_found = |error| match error {
            StoreError::NotFound(_) => topic_not_found(&topic_id),
            other => store_error(other),
        };
        // The log holds sequences 1..=head without gaps, so a page of the unfiltered
        // log is a range read and the total is the head: long logs are not read whole.
        let head = self.store.head(&topic_id).await.map_err(not_found)?;
        let (body, total) = if filter.is_empty() {
            let records = self
                .store
                .read_events(
                    &topic_id,
                    Seq::try_from(page.offset).unwrap_or(Seq::MAX),
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
                    None => {
                        let mut event: Event =
                            serde_json::from_slice(&record.body).map_err(|error| {
                                tracing::error!(%error, "stored event does not fit its model");
                                ApiError::internal("a stored event could not be read")
                            })?;
                        event.id = Some(record.id.clone());
                        event.href = Some(child_href(&ctx, &topic_id, "event", &record.id));
                        Ok(Projection::Full(event))
                    }
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            (body, usize::try_from(head).unwrap_or(usize::MAX))
        } else {
            // Filtered: the log is scanned in batches, keeping only the page.
            let (mut body, mut matched, mut after) = (Vec::new(), 0usize, 0);
            while after < head {
                let batch = self
                    .store
                    .read_events(&topic_id, after, LIST_SCAN_BATCH)
                    .await
                    .map_err(not_found)?;
                let Some(last) = batch.last() else { break };
                after = last.seq;
                for record in batch.iter().filter(|record| record.seq <= head) {
                    let full = event_render(&ctx, &topic_id, record, None).to_map(&record.body)?;
                    let value = Value::Object(full);
                    if !filter.matches(&value) {
                        continue;
                    }
                    if matched >= page.offset && body.len() < page.limit {
                        body.push(project(value, fields.as_ref())?);
                    }
                    matched += 1;
                }
            }
            (body, matched)
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
        let fields = Fields::parse(query.fields.as_deref());
        let Some(record) = self
            .store
            .event(&topic_id, &id)
            .await
            .map_err(store_error)?
        else {
            self.require_topic(&topic_id).await?;
            return Err(ApiError::not_found(format!(
                "topic {topic_id:?} has no event with id {id:?}"
            )));
        };
        let event = Render {
            id: &record.id,
            href: child_href(&ctx, &topic_id, "event", &record.id),
            fields: fields.as_ref(),
        }
        .to_projection(&record.body)?;
        Ok(RetrieveEventResponse::Ok(event))
    }
}

impl<S: Store> HubApi for Hub688<S> {
    async fn create_hub(
        &self,
        ctx: RequestContext,
        topic_id: String,
        body: HubCreate,
    ) -> Result<CreateHubResponse, ApiError> {
        visible(&topic_id)?;
        let callback = body.callback.trim();
        if !(callback.starts_with("http://") || callback.starts_with("https://"))
            || callback.len() <= "http://".len()
        {
            return Err(ApiError::bad_request(format!(
                "`callback` must be an http(s) URL, got {:?}",
                body.callback
            )));
        }
        let query = body
            .query
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned);
        if let Some(query) = &query {
            Filter::parse_query_string(query).map_err(|error| {
                ApiError::bad_request(format!(
                    "`query` is not a valid filter: {}",
                    error.message()
                ))
            })?;
        }
        // The callback host allow-list and SSRF guard (PSI-01-02-02-03): 422.
        self.delivery.check_callback(callback).await?;
        let new = NewHub {
            topic_id: topic_id.clone(),
            callback: callback.to_owned(),
            query,
            body: to_bytes(&body).map_err(store_error)?,
            owner: principal(&ctx).map(|p| p.name.clone()),
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
        if let Some(record) = self.store.hub(&topic_id, &id).await.map_err(store_error)? {
            may_remove(&ctx, record.owner.as_deref(), "hub", &id)?;
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
        Err(ApiError::not_found(format!(
            "topic {topic_id:?} has no hub with id {id:?}"
        )))
    }

    async fn list_hub(
        &self,
        ctx: RequestContext,
        topic_id: String,
        query: ListHubQuery,
    ) -> Result<ListHubResponse, ApiError> {
        visible(&topic_id)?;
        let filter = Filter::from_pairs(&query.filters)?;
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
        let maps = records
            .iter()
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
        let fields = Fields::parse(query.fields.as_deref());
        let Some(record) = self.store.hub(&topic_id, &id).await.map_err(store_error)? else {
            self.require_topic(&topic_id).await?;
            return Err(ApiError::not_found(format!(
                "topic {topic_id:?} has no hub with id {id:?}"
            )));
        };
        let hub = Render {
            id: &record.id,
            href: child_href(&ctx, &topic_id, "hub", &record.id),
            fields: fields.as_ref(),
        }
        .to_projection(&record.body)?;
        Ok(RetrieveHubResponse::Ok(hub))
    }
}

impl<S: Store> EventsSubscriptionApi for Hub688<S> {
    async fn register_listener(
        &self,
        ctx: RequestContext,
        body: EventSubscriptionInput,
    ) -> Result<RegisterListenerResponse, ApiError> {
        let callback = body.callback.trim();
        if !(callback.starts_with("http://") || callback.starts_with("https://")) {
            return Err(ApiError::bad_request(format!(
                "`callback` must be an http(s) URL, got {:?}",
                body.callback
            )));
        }
        let query = body
            .query
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned);
        if let Some(query) = &query {
            Filter::parse_query_string(query).map_err(|error| {
                ApiError::bad_request(format!(
                    "`query` is not a valid filter: {}",
                    error.message()
                ))
            })?;
        }
        // The same allow-list and SSRF guard as for hubs (422).
        self.delivery.check_callback(callback).await?;
        // A listener is a hub of the reserved notifications topic: the delivery engine
        // serves it like any hub (see `delivery::notifications`).
        let new = NewHub {
            topic_id: NOTIFICATIONS_TOPIC.to_owned(),
            callback: callback.to_owned(),
            query,
            body: to_bytes(&body).map_err(store_error)?,
            owner: principal(&ctx).map(|p| p.name.clone()),
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
        if let Some(record) = self
            .store
            .hub(NOTIFICATIONS_TOPIC, &id)
            .await
            .map_err(store_error)?
        {
            may_remove(&ctx, record.owner.as_deref(), "listener", &id)?;
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
            Err(ApiError::not_found(format!(
                "there is no listener with id {id:?}"
            )))
        }
    }
}

/// The acknowledgement of a received notification.
fn acknowledge(ctx: &RequestContext, kind: &str, id: Option<&str>) -> EventSubscription {
    tracing::info!(kind, id = id.unwrap_or("-"), path = %ctx.uri.path(), "notification received");
    EventSubscription {
        id: id.unwrap_or_default().to_owned(),
        callback: ctx.uri.path().to_owned(),
        query: None,
        additional_properties: Map::new(),
    }
}

/// The hub as a listener of another hub's API notifications: acknowledges and logs.
/// Served only where mounted explicitly ([`crate::listener_app`]).
impl<S: Store> NotificationListenersClientSideApi for Hub688<S> {
    async fn listen_to_event_create_event(
        &self,
        ctx: RequestContext,
        body: EventCreateEvent,
    ) -> Result<ListenToEventCreateEventResponse, ApiError> {
        Ok(ListenToEventCreateEventResponse::Created(acknowledge(
            &ctx,
            "EventCreateEvent",
            body.event_id.as_deref(),
        )))
    }

    async fn listen_to_topic_change_event(
        &self,
        ctx: RequestContext,
        body: TopicChangeEvent,
    ) -> Result<ListenToTopicChangeEventResponse, ApiError> {
        Ok(ListenToTopicChangeEventResponse::Created(acknowledge(
            &ctx,
            "TopicChangeEvent",
            body.event_id.as_deref(),
        )))
    }

    async fn listen_to_topic_create_event(
        &self,
        ctx: RequestContext,
        body: TopicCreateEvent,
    ) -> Result<ListenToTopicCreateEventResponse, ApiError> {
        Ok(ListenToTopicCreateEventResponse::Created(acknowledge(
            &ctx,
            "TopicCreateEvent",
            body.event_id.as_deref(),
        )))
    }

    async fn listen_to_topic_delete_event(
        &self,
        ctx: RequestContext,
        body: TopicDeleteEvent,
    ) -> Result<ListenToTopicDeleteEventResponse, ApiError> {
        Ok(ListenToTopicDeleteEventResponse::Created(acknowledge(
            &ctx,
            "TopicDeleteEvent",
            body.event_id.as_deref(),
        )))
    }
}

impl<S: Store> crate::delivery::HubService<S> for Hub688<S> {
    fn store(&self) -> &Arc<S> {
        &self.store
    }
    fn delivery_hooks(&self) -> &Arc<crate::delivery::DeliveryHooks> {
        &self.delivery
    }
}
