//! What the console shows, as askama templates (`runtime/templates/console/`, HTML
//! escaped) over view models made from the engine's [`HubStatus`] and the store's
//! topics: no delivery logic here, only presentation (order, shortening, labels).

use std::cmp::Reverse;

use askama::Template;

use crate::delivery::dead_letters::DeadLetter;
use crate::delivery::{DeliveryState, HubStatus};
use crate::store::Seq;

/// Rows shown at most in a table: the page stays small with ten thousand hubs (the
/// ones needing attention come first; the CLI and `/admin/hubs` list them all).
pub(super) const MAX_ROWS: usize = 200;

/// A message above a panel after an action.
#[derive(Debug, Clone)]
pub(super) struct Flash {
    /// `ok` or `error` (the CSS class).
    pub(super) class: &'static str,
    pub(super) text: String,
}

impl Flash {
    pub(super) fn ok(text: impl Into<String>) -> Self {
        Self {
            class: "ok",
            text: text.into(),
        }
    }
    pub(super) fn error(text: impl Into<String>) -> Self {
        Self {
            class: "error",
            text: text.into(),
        }
    }
}

/// Only a message (a detail that cannot be shown).
#[derive(Debug, Template)]
#[template(
    source = "<p class=\"flash {{ flash.class }}\">{{ flash.text }}</p>",
    ext = "html"
)]
pub(super) struct FlashOnly {
    pub(super) flash: Flash,
}

/// The whole page.
#[derive(Debug, Template)]
#[template(path = "console/page.html")]
pub(super) struct Page {
    pub(super) who: String,
    /// Show the log-out button (a browser session).
    pub(super) logout: bool,
    pub(super) csrf: String,
    pub(super) hubs: HubsPanel,
    pub(super) topics: TopicsPanel,
    /// A hub's detail, when the page was asked for with one.
    pub(super) detail: Option<Detail>,
}

/// The token login form.
#[derive(Debug, Template)]
#[template(path = "console/login.html")]
pub(super) struct Login {
    pub(super) error: Option<String>,
}

/// The hubs table (polled).
#[derive(Debug, Template)]
#[template(path = "console/hubs.html")]
pub(super) struct HubsPanel {
    pub(super) rows: Vec<HubRow>,
    /// Hubs not shown (beyond [`MAX_ROWS`]).
    pub(super) more: usize,
    pub(super) total: usize,
    pub(super) halted: usize,
    pub(super) retrying: usize,
    pub(super) csrf: String,
    pub(super) flash: Option<Flash>,
}

impl HubsPanel {
    /// The panel over `statuses`: halted hubs first, then retrying ones, each by lag
    /// (largest first), then by topic and id.
    pub(super) fn new(mut statuses: Vec<HubStatus>, csrf: String, flash: Option<Flash>) -> Self {
        statuses.sort_by(|a, b| {
            (rank(a.state), Reverse(a.lag), &a.topic_id, &a.hub_id).cmp(&(
                rank(b.state),
                Reverse(b.lag),
                &b.topic_id,
                &b.hub_id,
            ))
        });
        let count = |state| statuses.iter().filter(|s| s.state == state).count();
        let (halted, retrying, total) = (
            count(DeliveryState::Halted),
            count(DeliveryState::Retrying),
            statuses.len(),
        );
        let rows: Vec<HubRow> = statuses.iter().take(MAX_ROWS).map(HubRow::new).collect();
        Self {
            more: total - rows.len(),
            rows,
            total,
            halted,
            retrying,
            csrf,
            flash,
        }
    }
}

fn rank(state: DeliveryState) -> u8 {
    match state {
        DeliveryState::Halted => 0,
        DeliveryState::Retrying => 1,
        DeliveryState::Active => 2,
    }
}

fn state_name(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Halted => "halted",
        DeliveryState::Retrying => "retrying",
        DeliveryState::Active => "active",
    }
}

/// One hub in the table.
#[derive(Debug, Clone)]
pub(super) struct HubRow {
    pub(super) id: String,
    /// `id` as a URL path segment.
    pub(super) path: String,
    pub(super) topic: String,
    pub(super) owner: String,
    pub(super) callback: String,
    pub(super) callback_host: String,
    pub(super) state: &'static str,
    pub(super) attempts: u32,
    pub(super) lag: u64,
    pub(super) cursor: Seq,
    pub(super) head: Seq,
    /// When and how the last attempt went (`—` when none is known).
    pub(super) last_at: String,
    pub(super) last_answer: String,
    pub(super) last_ok: bool,
    pub(super) next_attempt_at: Option<String>,
    pub(super) replica: Option<String>,
}

impl HubRow {
    pub(super) fn new(status: &HubStatus) -> Self {
        let last = status.attempt_log.back();
        let (last_at, last_answer, last_ok) = match last {
            Some(attempt) => (
                attempt.at.clone(),
                answer(attempt.status, attempt.error.as_deref(), attempt.outcome),
                attempt.outcome == "delivered",
            ),
            // A hub this replica does not deliver: what the store keeps of it.
            None if status.last_status.is_some() || status.last_error.is_some() => (
                "—".into(),
                answer(status.last_status, status.last_error.as_deref(), "failed"),
                false,
            ),
            None => ("—".into(), "no attempt yet".into(), true),
        };
        Self {
            id: status.hub_id.clone(),
            path: path_segment(&status.hub_id),
            topic: status.topic_id.clone(),
            owner: status.owner.clone().unwrap_or_else(|| "—".into()),
            callback: status.callback.clone(),
            callback_host: callback_host(&status.callback),
            state: state_name(status.state),
            attempts: status.attempts,
            lag: status.lag,
            cursor: status.cursor,
            head: status.head,
            last_at,
            last_answer,
            last_ok,
            next_attempt_at: status.next_attempt_at.clone(),
            replica: status.replica.clone(),
        }
    }
}

/// `200`, `503: connection refused`, `timeout` …: an attempt's answer in a few words.
fn answer(status: Option<u16>, error: Option<&str>, outcome: &str) -> String {
    let error = error.map(|e| shorten(e, 80));
    match (status, error) {
        // `answered 503 Service Unavailable` says it already.
        (Some(status), Some(error)) if error.contains(&status.to_string()) => error,
        (Some(status), Some(error)) => format!("{status}: {error}"),
        (Some(status), None) => format!("{status} {outcome}"),
        (None, Some(error)) => error,
        (None, None) => outcome.to_owned(),
    }
}

/// `host:port` of a callback URL (the whole text, shortened, when it does not parse).
fn callback_host(callback: &str) -> String {
    match url::Url::parse(callback) {
        Ok(url) => match (url.host_str(), url.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            _ => shorten(callback, 60),
        },
        Err(_) => shorten(callback, 60),
    }
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// `text` as one URL path segment: unreserved characters kept, every other byte
/// percent-encoded (hub ids are ours, but a path must never be built from raw text).
pub(super) fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The topics table (polled).
#[derive(Debug, Template)]
#[template(path = "console/topics.html")]
pub(super) struct TopicsPanel {
    pub(super) rows: Vec<TopicRow>,
    pub(super) more: usize,
    pub(super) error: Option<String>,
}

/// One topic.
#[derive(Debug, Clone)]
pub(super) struct TopicRow {
    pub(super) id: String,
    pub(super) name: String,
    /// Events in its log.
    pub(super) events: u64,
    /// Its first and last sequence (none while the log is empty).
    pub(super) first: Option<Seq>,
    pub(super) last: Seq,
    pub(super) hubs: usize,
    pub(super) halted: usize,
    /// The topic's retention limits, in words (none: retention is not configured).
    pub(super) retention: Option<String>,
}

/// One hub's detail: its live part (polled) and the replay form.
#[derive(Debug, Template)]
#[template(path = "console/detail.html")]
pub(super) struct Detail {
    pub(super) hub: HubRow,
    pub(super) live: DetailLive,
    pub(super) csrf: String,
}

/// The polled part of a hub's detail: counters and the attempt log.
#[derive(Debug, Template)]
#[template(path = "console/detail_live.html")]
pub(super) struct DetailLive {
    pub(super) hub: HubRow,
    pub(super) delivered: u64,
    pub(super) failed_attempts: u64,
    pub(super) skipped: u64,
    pub(super) last_success_at: Option<String>,
    /// Most recent first.
    pub(super) log: Vec<AttemptRow>,
    /// What the hub gave up on (as `GET /admin/hubs/{id}/dead-letters`), or why they
    /// could not be read.
    pub(super) dead_letters: Result<Vec<DeadLetterRow>, String>,
    /// The session's CSRF token, for each dead letter's replay button.
    pub(super) csrf: String,
}

/// One dead letter of a hub, as the console shows it.
#[derive(Debug, Clone)]
pub(super) struct DeadLetterRow {
    pub(super) id: String,
    /// `expired`, `gone` or `halted`.
    pub(super) kind: &'static str,
    pub(super) first: Seq,
    pub(super) last: Seq,
    pub(super) count: u64,
    pub(super) reason: String,
    pub(super) at: Option<String>,
    /// The part the log still holds, in words (`—`: retention removed all of it).
    pub(super) held: String,
    pub(super) replayable: bool,
}

impl DeadLetterRow {
    pub(super) fn new(letter: &DeadLetter) -> Self {
        Self {
            id: letter.id.clone(),
            kind: letter.kind,
            first: letter.first,
            last: letter.last,
            count: letter.count,
            reason: shorten(&letter.reason, 200),
            at: letter.at.clone(),
            held: letter.held.as_ref().map_or_else(
                || "—".to_owned(),
                |held| format!("{}–{}", held.first, held.last),
            ),
            replayable: letter.replayable,
        }
    }
}

impl DetailLive {
    pub(super) fn new(
        status: &HubStatus,
        dead_letters: Result<Vec<DeadLetterRow>, String>,
        csrf: String,
    ) -> Self {
        Self {
            hub: HubRow::new(status),
            delivered: status.delivered,
            failed_attempts: status.failed_attempts,
            skipped: status.skipped,
            last_success_at: status.last_success_at.clone(),
            log: status
                .attempt_log
                .iter()
                .rev()
                .map(|attempt| AttemptRow {
                    at: attempt.at.clone(),
                    seq: attempt.seq,
                    event_id: shorten(&attempt.event_id, 60),
                    outcome: attempt.outcome,
                    answer: answer(attempt.status, attempt.error.as_deref(), attempt.outcome),
                    duration_ms: attempt.duration_ms,
                })
                .collect(),
            dead_letters,
            csrf,
        }
    }
}

/// One attempt of the log.
#[derive(Debug, Clone)]
pub(super) struct AttemptRow {
    pub(super) at: String,
    pub(super) seq: Seq,
    pub(super) event_id: String,
    pub(super) outcome: &'static str,
    pub(super) answer: String,
    pub(super) duration_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halted_and_retrying_hubs_come_first() {
        let mut statuses = Vec::new();
        for (id, state, lag) in [
            ("a", DeliveryState::Active, 9),
            ("b", DeliveryState::Halted, 1),
            ("c", DeliveryState::Retrying, 3),
            ("d", DeliveryState::Halted, 5),
        ] {
            let mut status = HubStatus::new(id, "t", "http://127.0.0.1:9/x", 0, false);
            status.state = state;
            status.lag = lag;
            statuses.push(status);
        }
        let panel = HubsPanel::new(statuses, String::new(), None);
        let order: Vec<&str> = panel.rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(order, ["d", "b", "c", "a"]);
        assert_eq!((panel.halted, panel.retrying, panel.total), (2, 1, 4));
        assert_eq!(panel.rows[0].callback_host, "127.0.0.1:9");
    }

    #[test]
    fn text_is_escaped_and_paths_encoded() {
        let status = HubStatus::new("<b>&\"x/y", "t", "not a url <script>", 0, true);
        let html = HubsPanel::new(vec![status], "c".into(), None)
            .render()
            .unwrap();
        assert!(!html.contains("<b>&"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("/console/hubs/%3Cb%3E%26%22x%2Fy/resume"),
            "{html}"
        );
    }
}
