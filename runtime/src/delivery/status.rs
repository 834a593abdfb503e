//! Per-hub delivery status (kept in memory, shown by the operator API) and engine-wide
//! counters (the metrics hooks: lag, attempts by outcome, delivery latency).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Mutex;

use serde::Serialize;

use crate::store::{HubRecord, HubState, Owner, Seq};
use crate::sync::lock;

/// Where a hub's delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Delivering, or waiting for new events.
    Active,
    /// The last attempt failed; the next one is scheduled.
    Retrying,
    /// The retry budget is spent; waits for an operator's resume.
    Halted,
}

/// One delivery attempt, for the bounded attempt log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    /// When it started (RFC 3339, UTC).
    pub at: String,
    /// The event's sequence in the topic's log.
    pub seq: Seq,
    /// The event's `eventId`.
    pub event_id: String,
    /// `delivered`, `failed`, `gone` or `unauthorized-retried`.
    pub outcome: &'static str,
    /// The HTTP status answered, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What went wrong, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
}

/// A hub's delivery status.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HubStatus {
    /// The hub.
    pub hub_id: String,
    /// Its topic.
    pub topic_id: String,
    /// Its callback.
    pub callback: String,
    /// Who registered it: `name (issuer)` (absent: registered while authentication
    /// was off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The server replica delivering it, when several share a store (absent: none
    /// holds its lease right now, or the store is not shared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<String>,
    /// Active, retrying or halted.
    pub state: DeliveryState,
    /// The last sequence delivered (or skipped as not qualifying).
    pub cursor: Seq,
    /// The last sequence of the topic's log.
    pub head: Seq,
    /// Log positions behind (`head - cursor`; events that do not qualify count too).
    pub lag: u64,
    /// Consecutive failed attempts on the current event.
    pub attempts: u32,
    /// When the next attempt is due, while retrying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    /// The status of the last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    /// The last error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Why retention halted the hub (events it was not delivered within
    /// `max_undelivered_age` were given up and recorded as a dead letter: see
    /// `GET /admin/hubs/{id}/dead-letters`). Absent for a halt after the retry budget
    /// (`lastError` says why) and once the hub is resumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub halt_reason: Option<String>,
    /// When an event was last delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<String>,
    /// Events delivered since start.
    pub delivered: u64,
    /// Failed attempts since start.
    pub failed_attempts: u64,
    /// Events skipped since start (filters, need-to-know).
    pub skipped: u64,
    /// The last attempts, oldest first.
    pub attempt_log: VecDeque<AttemptRecord>,
}

impl HubStatus {
    /// A fresh status: nothing attempted, at `cursor`.
    pub fn new(hub_id: &str, topic_id: &str, callback: &str, cursor: Seq, halted: bool) -> Self {
        let live = LiveStatus::new(cursor, halted);
        Self::compose(hub_id, topic_id, callback, None, None, live, cursor)
    }

    /// A hub's status as its worker here knows it: its cell, the replica delivering it
    /// (when replicas share the store) and its topic's head.
    pub(crate) fn of(cell: &HubCell, replica: Option<String>, head: Seq) -> Self {
        Self::compose(
            &cell.id,
            &cell.topic_id,
            &cell.callback,
            cell.owner.as_ref(),
            replica,
            lock(&cell.live).clone(),
            head,
        )
    }

    /// The status of a hub as stored (cursor, state, retry state, holder): what a
    /// replica knows of a hub another one delivers.
    pub fn from_record(hub: &HubRecord) -> Self {
        Self::compose(
            &hub.id,
            &hub.topic_id,
            &hub.callback,
            hub.owner.as_ref(),
            hub.holder.clone(),
            LiveStatus::from_record(hub),
            hub.cursor,
        )
    }

    fn compose(
        hub_id: &str,
        topic_id: &str,
        callback: &str,
        owner: Option<&Owner>,
        replica: Option<String>,
        live: LiveStatus,
        head: Seq,
    ) -> Self {
        let head = head.max(live.cursor);
        Self {
            hub_id: hub_id.to_owned(),
            topic_id: topic_id.to_owned(),
            callback: callback.to_owned(),
            owner: owner.map(|owner| format!("{} ({})", owner.name, owner.issuer)),
            replica,
            state: live.state,
            cursor: live.cursor,
            head,
            lag: head - live.cursor,
            attempts: live.attempts,
            next_attempt_at: live.next_attempt_at,
            last_status: live.last_status,
            last_error: live.last_error,
            halt_reason: live.halt_reason,
            last_success_at: live.last_success_at,
            delivered: live.delivered,
            failed_attempts: live.failed_attempts,
            skipped: live.skipped,
            attempt_log: live.attempt_log,
        }
    }
}

/// One hub as this replica's worker knows it: who the hub is (fixed for the worker's
/// life) and its [`LiveStatus`], in one allocation that the worker, its handle and the
/// operator API share. The worker reads the hub's identity from here rather than
/// keeping its own copy of the [`HubRecord`]: an idle hub's memory (the bench's
/// `memory per idle hub` row, target ≤ 4 KiB) holds each of these strings once.
#[derive(Debug)]
pub(crate) struct HubCell {
    pub(crate) id: String,
    pub(crate) topic_id: String,
    pub(crate) callback: String,
    /// Who registered it (need-to-know and the owner's in-flight share use it).
    pub(crate) owner: Option<Owner>,
    /// What the worker changes as it delivers (locked briefly, never across an await).
    pub(crate) live: Mutex<LiveStatus>,
    /// Set when the worker must stop sending (hub removed or its lease lost:
    /// [`Shared::stop_worker_if`](super::shared::Shared::stop_worker_if)).
    pub(crate) revoked: AtomicBool,
}

impl HubCell {
    /// The cell of a worker starting from `hub` as stored.
    pub(crate) fn new(hub: HubRecord) -> Self {
        let live = Mutex::new(LiveStatus::from_record(&hub));
        Self {
            id: hub.id,
            topic_id: hub.topic_id,
            callback: hub.callback,
            owner: hub.owner,
            live,
            revoked: AtomicBool::new(false),
        }
    }
}

/// The part of a [`HubStatus`] that changes while its worker delivers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LiveStatus {
    pub(crate) state: DeliveryState,
    pub(crate) cursor: Seq,
    pub(crate) attempts: u32,
    pub(crate) next_attempt_at: Option<String>,
    pub(crate) last_status: Option<u16>,
    pub(crate) last_error: Option<String>,
    pub(crate) halt_reason: Option<String>,
    pub(crate) last_success_at: Option<String>,
    pub(crate) delivered: u64,
    pub(crate) failed_attempts: u64,
    pub(crate) skipped: u64,
    pub(crate) attempt_log: VecDeque<AttemptRecord>,
}

impl LiveStatus {
    /// Where a worker starts from: the cursor, state and retry state stored.
    pub(crate) fn from_record(hub: &HubRecord) -> Self {
        Self {
            attempts: hub.attempts,
            last_error: hub.last_error.clone(),
            halt_reason: hub.halt_reason.clone(),
            ..Self::new(hub.cursor, hub.state == HubState::Halted)
        }
    }

    /// Nothing attempted yet, from `cursor`.
    fn new(cursor: Seq, halted: bool) -> Self {
        Self {
            state: if halted {
                DeliveryState::Halted
            } else {
                DeliveryState::Active
            },
            cursor,
            attempts: 0,
            next_attempt_at: None,
            last_status: None,
            last_error: None,
            halt_reason: None,
            last_success_at: None,
            delivered: 0,
            failed_attempts: 0,
            skipped: 0,
            attempt_log: VecDeque::new(),
        }
    }

    /// Delivering again: not retrying, not halted, no failed attempt pending.
    pub(crate) fn set_active(&mut self) {
        self.state = DeliveryState::Active;
        self.attempts = 0;
        self.next_attempt_at = None;
        self.halt_reason = None;
    }

    /// Drops the attempt-log entries that started before `cutoff` (an RFC 3339 time as
    /// [`rfc3339`] writes them, which sort as text).
    pub(crate) fn forget_attempts_before(&mut self, cutoff: &str) {
        while self
            .attempt_log
            .front()
            .is_some_and(|attempt| attempt.at.as_str() < cutoff)
        {
            self.attempt_log.pop_front();
        }
    }

    /// Appends to the attempt log, keeping at most `capacity` entries.
    pub(crate) fn log(&mut self, record: AttemptRecord, capacity: usize) {
        if capacity == 0 {
            return;
        }
        while self.attempt_log.len() >= capacity {
            self.attempt_log.pop_front();
        }
        self.attempt_log.push_back(record);
    }
}

/// Engine-wide counters.
#[derive(Debug, Default)]
pub struct Metrics {
    delivered: AtomicU64,
    failed_attempts: AtomicU64,
    gone: AtomicU64,
    halted: AtomicU64,
    skipped: AtomicU64,
    latency_ms_total: AtomicU64,
}

/// A snapshot of [`Metrics`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsSnapshot {
    /// Successful deliveries.
    pub delivered: u64,
    /// Failed attempts (each retry counts).
    pub failed_attempts: u64,
    /// Hubs removed after a 410.
    pub gone: u64,
    /// Times a hub was halted.
    pub halted: u64,
    /// Events skipped by filters or need-to-know.
    pub skipped: u64,
    /// Sum of the durations of successful attempts, in milliseconds.
    pub latency_ms_total: u64,
}

impl Metrics {
    pub(crate) fn delivered(&self, latency: Duration) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.latency_ms_total.fetch_add(
            u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }
    pub(crate) fn failed(&self) {
        self.failed_attempts.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn gone(&self) {
        self.gone.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn halted(&self) {
        self.halted.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn skipped(&self) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
    }

    /// The current values.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        MetricsSnapshot {
            delivered: load(&self.delivered),
            failed_attempts: load(&self.failed_attempts),
            gone: load(&self.gone),
            halted: load(&self.halted),
            skipped: load(&self.skipped),
            latency_ms_total: load(&self.latency_ms_total),
        }
    }
}

/// `time` as RFC 3339 in UTC with milliseconds (`2024-05-01T12:00:00.123Z`).
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let millis = since.subsec_millis();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil from days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Written digit by digit: this runs twice per delivery, and `format!` with its
    // padded arguments was a fifth of a worker's own cost per delivery (profile in
    // README "The delivery client").
    let mut out = String::with_capacity(24);
    let mut digits = |value: u64, width: u32, after: char| {
        for place in (0..width).rev() {
            let digit = (value / 10u64.pow(place)) % 10;
            out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
        }
        out.push(after);
    };
    digits(u64::try_from(year).unwrap_or(0), 4, '-');
    digits(u64::try_from(month).unwrap_or(0), 2, '-');
    digits(u64::try_from(day).unwrap_or(0), 2, 'T');
    digits(rem / 3600, 2, ':');
    digits((rem % 3600) / 60, 2, ':');
    digits(rem % 60, 2, '.');
    digits(u64::from(millis), 3, 'Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.789Z");
    }

    #[test]
    fn attempt_log_is_bounded() {
        let mut status = LiveStatus::new(0, false);
        for seq in 0..5 {
            status.log(
                AttemptRecord {
                    at: String::new(),
                    seq,
                    event_id: String::new(),
                    outcome: "failed",
                    status: None,
                    error: None,
                    duration_ms: 0,
                },
                3,
            );
        }
        let seqs: Vec<Seq> = status.attempt_log.iter().map(|a| a.seq).collect();
        assert_eq!(seqs, [2, 3, 4]);
    }

    #[test]
    fn attempt_log_forgets_what_is_older_than_its_age() {
        let mut status = LiveStatus::new(0, false);
        for (seq, secs) in [(1, 100), (2, 200), (3, 300)] {
            status.log(
                AttemptRecord {
                    at: rfc3339(UNIX_EPOCH + Duration::from_secs(secs)),
                    seq,
                    event_id: String::new(),
                    outcome: "delivered",
                    status: Some(200),
                    error: None,
                    duration_ms: 0,
                },
                10,
            );
        }
        status.forget_attempts_before(&rfc3339(UNIX_EPOCH + Duration::from_secs(200)));
        let seqs: Vec<Seq> = status.attempt_log.iter().map(|a| a.seq).collect();
        assert_eq!(seqs, [2, 3]);
    }
}
