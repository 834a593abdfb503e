//! Persistence, shaped for the delivery model (DESIGN §4): an append-only **log per
//! topic** with a monotonically increasing sequence number, and **hubs** that are
//! consumers with a **cursor** (the last sequence delivered to them).
//!
//! Resources are kept as compact, validated JSON bytes (what the client sent, minus the
//! server-assigned `id`/`href`); the service decodes them into the generated models when
//! it answers. `href`s are not stored: the same store serves several base paths.
//!
//! The trait is async and uses `impl Future + Send` so that a Postgres implementation
//! fits without boxing; writes of events are batched ([`Store::append_events`]).

pub mod index;
pub mod jetstream;
pub mod memory;
pub mod postgres;

use std::future::Future;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::mpsc;

pub use index::{EventKeys, IndexKey};
pub use jetstream::{JetStreamOptions, JetStreamStore};
pub use memory::MemoryStore;
pub use postgres::PgStore;

/// Who registered a hub or listener: a principal's name within the namespace of the
/// credential that authenticated it (DESIGN §4b: identity = (issuer, name)). An API key
/// named `provider-a` and a JWT whose `sub` is `provider-a` are different owners.
///
/// Two owners are the same owner when issuer and name are: [`Owner::reach`] is what
/// the owner could read when it registered, not part of who it is.
#[derive(Clone, Debug)]
pub struct Owner {
    /// The namespace: `api-key`, `jwt:<issuer>` (or `jwt:#<n>` for the n-th
    /// `[[auth.jwt]]` entry without an `issuer`), or `unknown` for owners recorded
    /// before identities were namespaced (no caller matches those; an admin does).
    pub issuer: String,
    /// The principal's name in that namespace (the API key's name, the JWT's `sub`).
    pub name: String,
    /// Which events need-to-know lets its hubs receive, fixed at registration from
    /// the registering principal (admin, its bound party, or none).
    pub reach: Reach,
}

impl Owner {
    /// An owner that speaks for no party ([`Reach::Unaddressed`]; see
    /// [`Owner::with_reach`]).
    pub fn new(issuer: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            name: name.into(),
            reach: Reach::Unaddressed,
        }
    }

    /// The same owner with another reach.
    #[must_use]
    pub fn with_reach(mut self, reach: Reach) -> Self {
        self.reach = reach;
        self
    }
}

impl PartialEq for Owner {
    fn eq(&self, other: &Self) -> bool {
        self.issuer == other.issuer && self.name == other.name
    }
}

impl Eq for Owner {}

impl std::hash::Hash for Owner {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.issuer.hash(state);
        self.name.hash(state);
    }
}

/// What need-to-know lets a hub (or listener) receive, decided when it is registered
/// from who registered it ([`crate::access`], DESIGN §4b).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reach {
    /// Every event: registered by an admin (as admins read everything).
    Everything,
    /// Events naming this party id among their related parties, and events naming
    /// none: the registering credential's bound party.
    Party(String),
    /// Only events naming no party: the registering credential speaks for no party
    /// (a JWT entry without `subjects`, an owner recorded before parties were bound).
    Unaddressed,
}

impl Reach {
    /// As stored in PostgreSQL's `owner_reach` column: `all`, `none` or
    /// `party:<id>`.
    pub fn to_column(&self) -> String {
        match self {
            Self::Everything => "all".into(),
            Self::Party(party) => format!("party:{party}"),
            Self::Unaddressed => "none".into(),
        }
    }

    /// From the `owner_reach` column (anything unknown reads as the narrowest reach).
    pub fn from_column(text: &str) -> Self {
        match text {
            "all" => Self::Everything,
            _ => text
                .strip_prefix("party:")
                .map_or(Self::Unaddressed, |party| Self::Party(party.to_owned())),
        }
    }
}

/// A position in a topic's log. The first event of a topic has sequence 1; a cursor of
/// 0 means "nothing delivered yet".
pub type Seq = u64;

/// What can go wrong in a store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The topic (or hub, listener) the call refers to does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The write conflicts with existing data (e.g. a topic name already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend failed. Not the client's fault.
    #[error("store backend failure: {0}")]
    Backend(String),
    /// The backend cannot be reached right now (connection lost, database restarting):
    /// nothing was written that a retry would duplicate; try again shortly.
    #[error("store backend unavailable: {0}")]
    Unavailable(String),
}

/// A topic as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicRecord {
    /// Its id (profile topics: their name).
    pub id: String,
    /// Its name (unique in the store).
    pub name: String,
    /// The `Topic_Create` body as compact JSON (no `id`/`href`).
    pub body: Bytes,
}

/// A topic to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTopic {
    /// The id to give it; `None` (or an id another topic has) lets the store assign one.
    pub id: Option<String>,
    /// Its name (must be unique, else [`StoreError::Conflict`]).
    pub name: String,
    /// The `Topic_Create` body as compact JSON.
    pub body: Bytes,
}

/// An event of a topic's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// Its position in the topic's log.
    pub seq: Seq,
    /// Its server-assigned id (unique within the topic).
    pub id: String,
    /// The sender's `eventId`; with `publisher`, the de-duplication key within the
    /// topic.
    pub event_id: String,
    /// Who published it ([`NewEvent::publisher`]).
    pub publisher: String,
    /// The `Event_Create` body as compact JSON (no `id`/`href`).
    pub body: Bytes,
}

/// The publisher of events appended without authentication, by the hub itself, or
/// before publishers were recorded (PostgreSQL migration 0007): one publisher, so a
/// single-party hub de-duplicates as it always did.
pub const ANONYMOUS_PUBLISHER: &str = "";

/// An event to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// The sender's `eventId`.
    pub event_id: String,
    /// Who publishes it: `eventId`s are de-duplicated per (topic, publisher, eventId),
    /// so that one publisher can neither find out about nor block another's events by
    /// their `eventId` (DESIGN §4b). The authenticated principal's identity
    /// (`<issuer>` U+001F `<name>`), or [`ANONYMOUS_PUBLISHER`].
    pub publisher: String,
    /// The `Event_Create` body as compact JSON.
    pub body: Bytes,
}

impl NewEvent {
    /// An event of the [`ANONYMOUS_PUBLISHER`].
    pub fn anonymous(event_id: impl Into<String>, body: Bytes) -> Self {
        Self {
            event_id: event_id.into(),
            publisher: ANONYMOUS_PUBLISHER.to_owned(),
            body,
        }
    }
}

/// The outcome of appending one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Appended {
    /// It was appended.
    Created(EventRecord),
    /// An event with the same `eventId` by the same publisher was already in the
    /// topic; nothing was written. The caller decides whether the contents agree.
    Existing(EventRecord),
}

/// Whether a hub is being delivered to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HubState {
    /// Deliveries proceed.
    #[default]
    Active,
    /// Delivery stopped after too many failed attempts; waits for a manual resume.
    Halted,
}

/// A hub (a subscription of a callback to a topic) as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubRecord {
    /// Its id (unique in the store).
    pub id: String,
    /// The topic it listens to.
    pub topic_id: String,
    /// Where events are POSTed.
    pub callback: String,
    /// Its filter, as registered (`None` when absent or empty).
    pub query: Option<String>,
    /// The `Hub_Create` body as compact JSON (no `id`/`href`).
    pub body: Bytes,
    /// The last sequence of the topic's log delivered successfully (0: none).
    pub cursor: Seq,
    /// Whether deliveries proceed.
    pub state: HubState,
    /// The principal that registered it, when authentication is on.
    pub owner: Option<Owner>,
    /// The API base path it was registered under (`/psi-api/event/v2`, ...): the
    /// `href` of each event it receives uses it. `None`: the TMF688 default.
    pub base_path: Option<String>,
    /// Failed attempts at the event after the cursor, as last stored by the delivery
    /// engine (0 once it is delivered): a replica taking the hub over continues the
    /// retry budget rather than starting it afresh.
    pub attempts: u32,
    /// The error of the last failed attempt, while `attempts > 0`.
    pub last_error: Option<String>,
    /// Bumped by every operator action made through the store
    /// ([`Store::operate_hub`]): progress saved by a worker that started from an older
    /// epoch is refused ([`Store::save_progress`]), so the operator's cursor wins.
    pub epoch: u64,
    /// The replica holding the hub's delivery lease, while it holds it (shared stores).
    pub holder: Option<String>,
    /// Why the hub was halted by retention ([`Store::expire_backlog`]: events it was
    /// not delivered within `max_undelivered_age`); cleared when it is resumed or
    /// delivers again. `None` for a halt after the retry budget (see `last_error`).
    pub halt_reason: Option<String>,
}

/// Where a topic's log begins and ends. Retention removes a *prefix* of the log
/// ([`Store::trim_events`]), so the log always holds every sequence from `first` to
/// `head`, without gaps: `head - first + 1` events (none when `first > head`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LogBounds {
    /// The first sequence still held (1 when nothing was ever trimmed; `head + 1` when
    /// every event was trimmed).
    pub first: Seq,
    /// The last sequence appended (0: none yet).
    pub head: Seq,
    /// How many events retention removed from this topic so far.
    pub trimmed: u64,
}

impl LogBounds {
    /// How many events the log holds.
    pub fn len(&self) -> u64 {
        (self.head + 1).saturating_sub(self.first)
    }

    /// Whether the log holds no event.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a hub gave events up ([`DeadLetterRecord::kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadLetterKind {
    /// Retention skipped events the hub had not been delivered within
    /// `max_undelivered_age` (the hub was halted).
    Expired,
    /// The callback answered 410 Gone: the hub was removed with this backlog.
    Gone,
}

impl DeadLetterKind {
    /// As stored and shown: `expired` or `gone`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Gone => "gone",
        }
    }

    /// From [`as_str`](Self::as_str) (anything else reads as `expired`).
    pub fn from_text(text: &str) -> Self {
        if text == "gone" {
            Self::Gone
        } else {
            Self::Expired
        }
    }
}

/// A range of a topic's log that a hub gave up on: recorded, never silently lost
/// (listed and replayed through the operator API).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetterRecord {
    /// Its id (unique in the store).
    pub id: u64,
    /// The hub (it may have been removed since: [`DeadLetterKind::Gone`]).
    pub hub_id: String,
    /// The hub's topic.
    pub topic_id: String,
    /// The hub's callback.
    pub callback: String,
    /// The first sequence given up.
    pub first: Seq,
    /// The last sequence given up (`first..=last`).
    pub last: Seq,
    /// Why.
    pub kind: DeadLetterKind,
    /// In words.
    pub reason: String,
    /// When it was recorded (or last extended), in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// A dead-letter range to record ([`Store::record_dead_letter`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDeadLetter {
    /// The hub.
    pub hub_id: String,
    /// Its topic.
    pub topic_id: String,
    /// Its callback.
    pub callback: String,
    /// The first sequence given up.
    pub first: Seq,
    /// The last sequence given up.
    pub last: Seq,
    /// Why.
    pub kind: DeadLetterKind,
    /// In words.
    pub reason: String,
}

/// How many dead letters [`Store::dead_letters`] answers at most (the latest): a hub
/// that keeps being given up on cannot make its listing grow without bound.
pub const MAX_DEAD_LETTERS: usize = 1_000;

/// Milliseconds since the Unix epoch (0 before it).
pub fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A hub's delivery progress, as the delivery engine saves it ([`Store::save_progress`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubProgress {
    /// The hub.
    pub hub_id: String,
    /// The epoch the worker started from ([`HubRecord::epoch`]).
    pub epoch: u64,
    /// The last sequence delivered or skipped.
    pub cursor: Seq,
    /// Failed attempts at the next event (0: none).
    pub attempts: u32,
    /// The last attempt's error, while `attempts > 0`.
    pub last_error: Option<String>,
    /// Halted after its retry budget, or active.
    pub state: HubState,
}

/// A hub to register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewHub {
    /// The topic.
    pub topic_id: String,
    /// The callback URL.
    pub callback: String,
    /// The filter (`None` when absent or empty).
    pub query: Option<String>,
    /// The `Hub_Create` body as compact JSON.
    pub body: Bytes,
    /// The registering principal.
    pub owner: Option<Owner>,
    /// The API base path of the registration (see [`HubRecord::base_path`]).
    pub base_path: Option<String>,
    /// Where its cursor starts: normally the topic's current head (only new events
    /// are delivered).
    pub start: HubStart,
}

/// Where a new hub's cursor starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HubStart {
    /// After the last event in the log at registration: only new events.
    #[default]
    Head,
    /// At the beginning: every event of the log is delivered.
    Beginning,
}

/// A listener of the API's own notifications (TMF630 `POST /hub`).
///
/// [`crate::Hub688`] no longer stores listeners this way: a listener is a hub of the
/// reserved notifications topic (see [`crate::delivery::notifications`]), so the
/// delivery engine serves it. These records remain for stores and tools that use them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerRecord {
    /// Its id.
    pub id: String,
    /// Where notifications are POSTed.
    pub callback: String,
    /// Its filter.
    pub query: Option<String>,
    /// The registering principal.
    pub owner: Option<Owner>,
}

/// A listener to register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewListener {
    /// Where notifications are POSTed.
    pub callback: String,
    /// Its filter.
    pub query: Option<String>,
    /// The registering principal.
    pub owner: Option<Owner>,
}

/// An append seen by [`Store::subscribe_appends`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppendNotice {
    /// Events were appended to `topic` (by any process); its log now ends at `head`.
    Appended {
        /// The topic.
        topic: String,
        /// The last sequence of its log.
        head: Seq,
    },
    /// A hub was registered, or changed by an operator ([`Store::operate_hub`]) through
    /// any process; `epoch` is its epoch now.
    HubChanged {
        /// The hub.
        hub: String,
        /// Its epoch after the change.
        epoch: u64,
    },
    /// A hub was removed through any process.
    HubRemoved {
        /// The hub.
        hub: String,
    },
    /// A replica joined or left, or handed leases back: the fair shares changed.
    ReplicasChanged,
    /// Notices may have been lost (connection to the database lost and re-established):
    /// re-read the heads of the logs.
    Lost,
}

/// Persistence of topics, their event logs, hubs (with cursors) and API listeners.
///
/// Every method is atomic on its own. Lists come in creation order (events: log order).
pub trait Store: Send + Sync + 'static {
    /// Creates a topic. [`StoreError::Conflict`] when its name is taken (the message
    /// names that topic); when its id is another topic's, it gets a fresh `topic-N`.
    fn create_topic(
        &self,
        topic: NewTopic,
    ) -> impl Future<Output = Result<TopicRecord, StoreError>> + Send;

    /// The topic with `id`.
    fn topic(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<TopicRecord>, StoreError>> + Send;

    /// Every topic.
    fn topics(&self) -> impl Future<Output = Result<Vec<TopicRecord>, StoreError>> + Send;

    /// Deletes a topic with its log and its hubs; `false` when there was none.
    fn delete_topic(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Appends events to a topic's log, in order, as one batch. An event whose
    /// `eventId` is already in the topic (or earlier in the batch) is not written:
    /// [`Appended::Existing`] gives the stored one. [`StoreError::NotFound`] when the
    /// topic does not exist.
    fn append_events(
        &self,
        topic_id: &str,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = Result<Vec<Appended>, StoreError>> + Send;

    /// The event with server id `id` in the topic.
    fn event(
        &self,
        topic_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<EventRecord>, StoreError>> + Send;

    /// Up to `max` events of the topic's log with a sequence greater than `after`, in
    /// log order (what a hub with cursor `after` is owed next; `after = 0, max =
    /// usize::MAX` reads the whole log). [`StoreError::NotFound`] for an unknown topic.
    fn read_events(
        &self,
        topic_id: &str,
        after: Seq,
        max: usize,
    ) -> impl Future<Output = Result<Vec<EventRecord>, StoreError>> + Send;

    /// Candidate events for an indexed predicate ([`IndexKey`]: `eventId`s, `eventType`s,
    /// an `eventTime` range): up to `max` events of the topic's log with a sequence
    /// greater than `after` that `key` selects, in log order — the indexed counterpart
    /// of [`Store::read_events`], paged the same way (by sequence, so gaps in the log do
    /// not matter). Every event `key` selects is among them; a store may return more
    /// (the caller applies its whole filter on top). `Ok(None)`: the store has no index
    /// for `key`, the caller reads the log instead (the default).
    /// [`StoreError::NotFound`] for an unknown topic.
    fn indexed_events(
        &self,
        topic_id: &str,
        key: &IndexKey,
        after: Seq,
        max: usize,
    ) -> impl Future<Output = Result<Option<Vec<EventRecord>>, StoreError>> + Send {
        let _ = (topic_id, key, after, max);
        async { Ok(None) }
    }

    /// How many events of the topic `key` selects exactly, when the store can tell
    /// without reading them (`eventId`, `eventType` equality; `None` otherwise: the
    /// default). [`StoreError::NotFound`] for an unknown topic.
    fn count_indexed(
        &self,
        topic_id: &str,
        key: &IndexKey,
    ) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send {
        let _ = (topic_id, key);
        async { Ok(None) }
    }

    /// The sequence of the last event of the topic's log (0: empty), e.g. where a new
    /// hub's cursor starts. [`StoreError::NotFound`] for an unknown topic. The default
    /// reads the whole log; stores answer it directly.
    fn head(&self, topic_id: &str) -> impl Future<Output = Result<Seq, StoreError>> + Send {
        async move {
            let log = self.read_events(topic_id, 0, usize::MAX).await?;
            Ok(log.last().map_or(0, |event| event.seq))
        }
    }

    /// Where the topic's log begins and ends, and how much retention removed from it.
    /// [`StoreError::NotFound`] for an unknown topic.
    fn log_bounds(
        &self,
        topic_id: &str,
    ) -> impl Future<Output = Result<LogBounds, StoreError>> + Send;

    /// The first sequence after `after` whose event was appended at or after `since`
    /// (`head + 1` when none was): every held event between `after` and it was appended
    /// before `since`. Events are taken in log order (a prefix), which is append order.
    /// What retention's `max_age` and `max_undelivered_age` measure.
    /// [`StoreError::NotFound`] for an unknown topic.
    fn seq_stored_since(
        &self,
        topic_id: &str,
        after: Seq,
        since: SystemTime,
    ) -> impl Future<Output = Result<Seq, StoreError>> + Send;

    /// Retention: removes the oldest events of the topic's log, up to sequence `up_to`
    /// but **never past the cursor of any of its hubs** (checked by the store itself,
    /// atomically with the removal), at most `max_rows` of them in one short
    /// transaction; moves [`LogBounds::first`] after them and adds them to
    /// [`LogBounds::trimmed`]. Returns how many were removed (0: nothing to do).
    fn trim_events(
        &self,
        topic_id: &str,
        up_to: Seq,
        max_rows: usize,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Retention's `max_undelivered_age`: when the hub's cursor is before `up_to`, gives
    /// the events after it up to `up_to` up, in one transaction: the cursor moves to
    /// `up_to`, the hub is halted with `reason` ([`HubRecord::halt_reason`]), its epoch
    /// is bumped (as an operator action: progress of a worker started before is
    /// refused), and the range is recorded as a dead letter ([`DeadLetterKind::Expired`];
    /// a range that continues the hub's last expired one extends it). `None` when the
    /// cursor is at or past `up_to` already, or there is no such hub.
    fn expire_backlog(
        &self,
        hub_id: &str,
        up_to: Seq,
        reason: &str,
    ) -> impl Future<Output = Result<Option<DeadLetterRecord>, StoreError>> + Send;

    /// Records a dead-letter range (e.g. the backlog of a hub removed after a 410).
    fn record_dead_letter(
        &self,
        dead_letter: NewDeadLetter,
    ) -> impl Future<Output = Result<DeadLetterRecord, StoreError>> + Send;

    /// The dead letters recorded for `hub_id` (removed hubs included), oldest first:
    /// the latest [`MAX_DEAD_LETTERS`] at most.
    fn dead_letters(
        &self,
        hub_id: &str,
    ) -> impl Future<Output = Result<Vec<DeadLetterRecord>, StoreError>> + Send;

    /// Removes up to `max_rows` dead letters recorded (or last extended) before `before`
    /// (retention's `dead_letter_max_age`); answers how many it removed. Without it, a
    /// peer whose callbacks keep answering 410 would grow the records for ever.
    fn forget_dead_letters(
        &self,
        before: SystemTime,
        max_rows: usize,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Claims the retention trimmer for `replica` for `ttl` (renewing its own claim):
    /// with several replicas on one store, one trims at a time. The default (a store
    /// used by one process): always `true`.
    fn claim_trimmer(
        &self,
        replica: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let _ = (replica, ttl);
        async { Ok(true) }
    }

    /// Registers a hub, unless one with the same (topic, callback, query, owner)
    /// exists: then returns that one and `false`. [`StoreError::NotFound`] for an unknown topic.
    fn create_hub(
        &self,
        hub: NewHub,
    ) -> impl Future<Output = Result<(HubRecord, bool), StoreError>> + Send;

    /// The hub `id` of the topic.
    fn hub(
        &self,
        topic_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<HubRecord>, StoreError>> + Send;

    /// The hubs of the topic. [`StoreError::NotFound`] for an unknown topic.
    fn hubs(
        &self,
        topic_id: &str,
    ) -> impl Future<Output = Result<Vec<HubRecord>, StoreError>> + Send;

    /// Every hub of every topic, in one call however many topics there are (the
    /// delivery engine's supervisor reconciles its workers with it; one `hubs` call per
    /// topic was two round trips per topic on PostgreSQL, every lease renewal, with
    /// 10,000 topics).
    fn all_hubs(&self) -> impl Future<Output = Result<Vec<HubRecord>, StoreError>> + Send;

    /// How many hubs (of every topic, listeners included) `owner` has registered
    /// (`None`: those registered without authentication). For quotas.
    fn count_hubs_of(
        &self,
        owner: Option<&Owner>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes the hub `id` of the topic; `false` when there was none.
    fn delete_hub(
        &self,
        topic_id: &str,
        id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Moves a hub's cursor (forward after a delivery, backward for a replay); a cursor
    /// beyond the head of the topic's log is taken as the head.
    fn set_cursor(
        &self,
        hub_id: &str,
        cursor: Seq,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Halts or resumes a hub.
    fn set_hub_state(
        &self,
        hub_id: &str,
        state: HubState,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Registers a listener of the API's notifications.
    fn create_listener(
        &self,
        listener: NewListener,
    ) -> impl Future<Output = Result<ListenerRecord, StoreError>> + Send;

    /// Deletes a listener; `false` when there was none.
    fn delete_listener(&self, id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every listener.
    fn listeners(&self) -> impl Future<Output = Result<Vec<ListenerRecord>, StoreError>> + Send;

    /// Whether several server processes may share this store, so that the delivery
    /// engine must divide the hubs among them with leases ([`Store::lease_hubs`]). The
    /// default (`false`): this process is the only one delivering.
    fn shared(&self) -> bool {
        false
    }

    /// Claims hubs for delivery by `replica` (a name unique among the live processes)
    /// for `ttl`: renews what it holds, takes free or expired hubs up to its fair share,
    /// and returns the ids of every hub it now holds. The default: every hub (a store
    /// used by one process only).
    fn lease_hubs(
        &self,
        replica: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        let _ = (replica, ttl);
        async move {
            let mut held = Vec::new();
            for topic in self.topics().await? {
                match self.hubs(&topic.id).await {
                    Ok(hubs) => held.extend(hubs.into_iter().map(|hub| hub.id)),
                    Err(StoreError::NotFound(_)) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok(held)
        }
    }

    /// Gives up `replica`'s leases of `hub_ids` (hubs it no longer delivers, their
    /// workers ended), so that other replicas take them at once; how many it held. The
    /// default does nothing (a store used by one process only).
    fn hand_back_leases(
        &self,
        replica: &str,
        hub_ids: &[String],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = (replica, hub_ids);
        async { Ok(0) }
    }

    /// Gives up every lease of `replica` (graceful shutdown). The default does nothing.
    fn release_leases(
        &self,
        replica: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = replica;
        async { Ok(0) }
    }

    /// Saves the delivery progress of hubs, as one write (the engine batches it): each
    /// hub's cursor, attempts, last error and state — unless its epoch is no longer
    /// `progress.epoch` (an operator moved it since), or the store is shared and
    /// `replica` does not hold its lease (fencing). Returns the ids of the hubs whose
    /// progress was refused; hubs that no longer exist are ignored.
    fn save_progress(
        &self,
        progress: &[HubProgress],
        replica: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// An operator's action on a hub, made through the store so that it reaches the
    /// replica delivering it: the hub is active again with no failed attempts, its
    /// cursor moves to `cursor` when given (at most the head of the topic's log: a
    /// cursor never passes it), and its epoch is bumped (other processes
    /// hear of it through [`Store::subscribe_appends`]). Returns the hub as it is now;
    /// [`StoreError::NotFound`] when there is none.
    fn operate_hub(
        &self,
        hub_id: &str,
        cursor: Option<Seq>,
    ) -> impl Future<Output = Result<HubRecord, StoreError>> + Send;

    /// The hub with `id`, whatever its topic.
    fn hub_by_id(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<HubRecord>, StoreError>> + Send;

    /// Appends (and hub changes) made by other processes on the same store, as they
    /// commit (`None`: the store has no other writers, the service's own hooks announce
    /// every append).
    fn subscribe_appends(
        &self,
    ) -> impl Future<Output = Result<Option<mpsc::UnboundedReceiver<AppendNotice>>, StoreError>> + Send
    {
        async { Ok(None) }
    }
}
