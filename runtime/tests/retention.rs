//! Retention and dead letters, on memory and (with `TMF688_TEST_STORE=postgres`) on
//! PostgreSQL: the trimmer removes what every hub passed and is older than `max_age`
//! (or beyond `max_events`); a slow hub keeps its backlog; `max_undelivered_age` halts
//! a hub and records the range as a dead letter, listed and replayed through the
//! operator API; listing, retrieve, `X-Total-Count` and replay are right after a trim.
//!
//! Time does not come from sleeping: the trimmer's clock is moved forward (events
//! appended now are "8 days old" to it), and passes run when the test asks
//! (`POST /admin/retention/trim`); everything else waits on conditions with deadlines.

mod delivery_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use delivery_common::test_store::TestStore;

use axum::response::IntoResponse;
use delivery_common::*;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use tmf688_runtime::delivery::retention::{Limit, RetentionConfig};

const DAY: u64 = 86_400;

/// The trimmer's clock: the system's, `ahead` seconds in the future.
#[derive(Clone, Default)]
struct TestClock {
    ahead: Arc<AtomicU64>,
}

impl TestClock {
    fn advance_days(&self, days: u64) {
        self.ahead.store(days * DAY, Ordering::SeqCst);
    }
}

/// A hub whose retention runs only when asked, on `clock`.
async fn hub_with(config: RetentionConfig, clock: &TestClock, max_attempts: u32) -> TestHub {
    let hub = TestHub::start(fast_config(max_attempts)).await;
    let ahead = clock.ahead.clone();
    hub.engine
        .start_retention_with_clock(
            RetentionConfig {
                interval: Limit::Off,
                ..config
            },
            Arc::new(move || SystemTime::now() + Duration::from_secs(ahead.load(Ordering::SeqCst))),
        )
        .unwrap();
    hub
}

fn max_age_days(days: u64) -> RetentionConfig {
    RetentionConfig {
        max_age: Limit::On(Duration::from_secs(days * DAY)),
        ..RetentionConfig::default()
    }
}

/// One pass now; its report.
async fn trim(hub: &TestHub) -> Value {
    let (status, report) = hub
        .request(Method::POST, "/admin/retention/trim", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["ran"], true, "{report}");
    report
}

/// `/admin/topics`' entry for `topic`.
async fn topic_log(hub: &TestHub, topic: &str) -> Value {
    let (status, topics) = hub.request(Method::GET, "/admin/topics", None).await;
    assert_eq!(status, StatusCode::OK, "{topics}");
    topics
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topicId"] == topic)
        .cloned()
        .unwrap_or_else(|| panic!("{topic} in {topics}"))
}

/// `GET path`: status, `X-Total-Count`, body.
async fn list(hub: &TestHub, path: &str) -> (StatusCode, Option<u64>, Value) {
    let response = hub
        .http
        .get(format!("{}{path}", hub.url))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let total = response
        .headers()
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let bytes = response.bytes().await.unwrap();
    (
        status,
        total,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn ids_of(page: &Value) -> Vec<String> {
    page.as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

fn event_ids(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|n| format!("e-{n}")).collect()
}

/// The hub's stored and live status through the operator API.
async fn hub_status(hub: &TestHub, id: &str) -> Value {
    let (status, body) = hub
        .request(Method::GET, &format!("/admin/hubs/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn wait_cursor(hub: &TestHub, id: &str, cursor: u64) {
    eventually(
        &format!("{id} at cursor {cursor}"),
        Duration::from_secs(10),
        || async { hub.engine.status(id).is_some_and(|s| s.cursor == cursor) },
    )
    .await;
}

fn is_tmf_error(body: &Value, status: StatusCode) {
    assert_eq!(body["@type"], "Error", "{body}");
    assert_eq!(body["code"], status.as_u16().to_string(), "{body}");
}

/// max_age: what every hub passed and is old enough goes; listing, total, retrieve and
/// replay then start at the first sequence held.
#[tokio::test]
async fn max_age_trims_what_every_hub_passed() {
    let clock = TestClock::default();
    let hub = hub_with(max_age_days(7), &clock, 10).await;
    let receiver = TestReceiver::start(ok()).await;
    let id = hub.register(PSI, "order", &receiver.url("/cb"), None).await;
    for n in 1..=10 {
        hub.publish(PSI, "order", order_event(n)).await;
    }
    receiver
        .wait_for("10 delivered", Duration::from_secs(10), |hits| {
            hits.len() >= 10
        })
        .await;
    wait_cursor(&hub, &id, 10).await;

    // Not old enough yet: nothing goes.
    let report = trim(&hub).await;
    assert_eq!(report["topics"], json!([]), "{report}");
    let log = topic_log(&hub, "order").await;
    assert_eq!(
        (
            &log["firstSeq"],
            &log["lastSeq"],
            &log["events"],
            &log["trimmed"]
        ),
        (&json!(1), &json!(10), &json!(10), &json!(0)),
        "{log}"
    );
    assert_eq!(log["retention"]["maxAgeSeconds"], 7 * DAY, "{log}");

    // Eight days later every event is older than max_age and delivered: all go.
    clock.advance_days(8);
    let report = trim(&hub).await;
    assert_eq!(
        report["topics"],
        json!([{"topicId": "order", "removed": 10, "firstSeq": 11, "lastSeq": 10}]),
        "{report}"
    );
    let log = topic_log(&hub, "order").await;
    assert_eq!(
        (&log["firstSeq"], &log["events"], &log["trimmed"]),
        (&json!(11), &json!(0), &json!(10)),
        "{log}"
    );
    let (status, total, page) = list(&hub, &format!("{PSI}/topic/order/event")).await;
    assert_eq!((status, total, page), (StatusCode::OK, Some(0), json!([])));

    // New events after the trim: sequences go on from 11.
    clock.advance_days(0);
    for n in 11..=15 {
        let mut event = order_event(n);
        event["eventTime"] = json!(format!("2026-01-01T00:00:{n}Z"));
        hub.publish(PSI, "order", event).await;
    }
    receiver
        .wait_for("15 delivered", Duration::from_secs(10), |hits| {
            hits.len() >= 15
        })
        .await;
    let (status, total, page) = list(&hub, &format!("{PSI}/topic/order/event")).await;
    assert_eq!((status, total), (StatusCode::OK, Some(5)), "{page}");
    assert_eq!(ids_of(&page), ["11", "12", "13", "14", "15"]);
    let (status, total, page) =
        list(&hub, &format!("{PSI}/topic/order/event?offset=2&limit=2")).await;
    assert_eq!(
        (status, total),
        (StatusCode::PARTIAL_CONTENT, Some(5)),
        "{page}"
    );
    assert_eq!(ids_of(&page), ["13", "14"]);
    // A filtered list counts what is held only.
    let (status, total, page) = list(
        &hub,
        &format!("{PSI}/topic/order/event?eventType=ProductOrderStateChangeEvent&offset=4"),
    )
    .await;
    assert_eq!(
        (status, total),
        (StatusCode::PARTIAL_CONTENT, Some(5)),
        "{page}"
    );
    assert_eq!(ids_of(&page), ["15"]);

    // Retrieve: a removed event is a 404 that says so; a held one is there.
    let (status, body) = hub
        .request(Method::GET, &format!("{PSI}/topic/order/event/3"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    is_tmf_error(&body, StatusCode::NOT_FOUND);
    assert!(
        body["message"].as_str().unwrap().contains("retention"),
        "{body}"
    );
    let (status, body) = hub
        .request(Method::GET, &format!("{PSI}/topic/order/event/12"), None)
        .await;
    assert_eq!((status, &body["eventId"]), (StatusCode::OK, &json!("e-12")));

    // Replay before the first sequence: 410 naming it; from it: re-sent.
    let (status, body) = hub
        .request(
            Method::POST,
            &format!("/admin/hubs/{id}/replay?from=3"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    is_tmf_error(&body, StatusCode::GONE);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("first sequence is 11"),
        "{body}"
    );
    let (status, body) = hub
        .request(
            Method::POST,
            &format!("/admin/hubs/{id}/replay?from=14"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    receiver
        .wait_for("14, 15 again", Duration::from_secs(10), |hits| {
            hits.len() >= 17
        })
        .await;
    let acknowledged = receiver.acknowledged();
    assert_eq!(acknowledged[15..], ["e-14", "e-15"]);
    // fromTime before every held event starts at the first held one.
    let (status, body) = hub
        .request(
            Method::POST,
            &format!("/admin/hubs/{id}/replay?fromTime=2000-01-01T00:00:00Z"),
            None,
        )
        .await;
    assert_eq!(
        (status, &body["from"]),
        (StatusCode::ACCEPTED, &json!(11)),
        "{body}"
    );

    // Prometheus: the topic's first sequence and what was trimmed.
    let text = hub
        .http
        .get(format!("{}/admin/metrics", hub.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"tmf688_topic_first_seq{topic="order"} 11"#,
        r#"tmf688_topic_trimmed_events_total{topic="order"} 10"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

/// max_events keeps the newest N, and only what every hub passed.
#[tokio::test]
async fn max_events_keeps_the_newest() {
    let clock = TestClock::default();
    let config = RetentionConfig {
        max_age: Limit::Off,
        max_events: Limit::On(4),
        batch_size: 3,
        ..RetentionConfig::default()
    };
    let hub = hub_with(config, &clock, 10).await;
    let receiver = TestReceiver::start(ok()).await;
    let id = hub.register(PSI, "order", &receiver.url("/cb"), None).await;
    for n in 1..=10 {
        hub.publish(PSI, "order", order_event(n)).await;
    }
    wait_cursor(&hub, &id, 10).await;
    let report = trim(&hub).await;
    assert_eq!(report["topics"][0]["removed"], 6, "{report}");
    let (status, total, page) = list(&hub, &format!("{PSI}/topic/order/event")).await;
    assert_eq!((status, total), (StatusCode::OK, Some(4)));
    assert_eq!(ids_of(&page), ["7", "8", "9", "10"]);
}

/// A hub that keeps failing (retrying, not halted) keeps everything after its cursor,
/// however old; once it catches up, the log is trimmed.
#[tokio::test]
async fn an_active_slow_hub_keeps_its_backlog() {
    let clock = TestClock::default();
    let hub = hub_with(max_age_days(7), &clock, 1_000).await;
    let fast = TestReceiver::start(ok()).await;
    let slow = TestReceiver::start(answer(|_, _| {
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    }))
    .await;
    let fast_id = hub.register(PSI, "order", &fast.url("/fast"), None).await;
    let slow_id = hub.register(PSI, "order", &slow.url("/slow"), None).await;
    for n in 1..=10 {
        hub.publish(PSI, "order", order_event(n)).await;
    }
    wait_cursor(&hub, &fast_id, 10).await;
    slow.wait_for("the slow hub tried", Duration::from_secs(10), |hits| {
        hits.len() >= 2
    })
    .await;
    clock.advance_days(30);
    let report = trim(&hub).await;
    assert_eq!(
        report,
        json!({"ran": true, "topics": [], "expired": [], "deadLettersRemoved": 0})
    );
    let log = topic_log(&hub, "order").await;
    assert_eq!(
        (&log["firstSeq"], &log["events"]),
        (&json!(1), &json!(10)),
        "{log}"
    );
    let status = hub_status(&hub, &slow_id).await;
    assert_ne!(status["state"], "halted", "{status}");
    let (_, letters) = hub
        .request(
            Method::GET,
            &format!("/admin/hubs/{slow_id}/dead-letters"),
            None,
        )
        .await;
    assert_eq!(letters, json!([]));

    // It recovers and gets the whole backlog, in order; then the log can go.
    slow.set_behaviour(ok());
    slow.wait_for("the backlog delivered", Duration::from_secs(15), |hits| {
        hits.iter().filter(|h| h.answered.is_success()).count() >= 10
    })
    .await;
    assert_eq!(slow.acknowledged(), event_ids(1..=10));
    wait_cursor(&hub, &slow_id, 10).await;
    let report = trim(&hub).await;
    assert_eq!(report["topics"][0]["removed"], 10, "{report}");
}

/// max_undelivered_age: a hub not delivered its events within it is halted with the
/// reason, the range is a dead letter (listed; replayed while the log holds it); the
/// other hub is not affected, and the log is trimmed past the range.
#[tokio::test]
async fn max_undelivered_age_halts_with_a_dead_letter_range() {
    let clock = TestClock::default();
    let config = RetentionConfig {
        max_age: Limit::On(Duration::from_secs(7 * DAY)),
        max_undelivered_age: Limit::On(Duration::from_secs(DAY)),
        ..RetentionConfig::default()
    };
    let hub = hub_with(config, &clock, 1_000).await;
    let fast = TestReceiver::start(ok()).await;
    let slow = TestReceiver::start(answer(|_, _| {
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    }))
    .await;
    let fast_id = hub.register(PSI, "order", &fast.url("/fast"), None).await;
    let slow_id = hub.register(PSI, "order", &slow.url("/slow"), None).await;
    for n in 1..=10 {
        hub.publish(PSI, "order", order_event(n)).await;
    }
    wait_cursor(&hub, &fast_id, 10).await;
    slow.wait_for("the slow hub tried", Duration::from_secs(10), |hits| {
        !hits.is_empty()
    })
    .await;

    // Two days: undelivered for longer than a day, not older than max_age.
    clock.advance_days(2);
    let report = trim(&hub).await;
    assert_eq!(report["topics"], json!([]), "{report}");
    let expired = &report["expired"];
    assert_eq!(expired.as_array().unwrap().len(), 1, "{report}");
    assert_eq!(
        (
            &expired[0]["hubId"],
            &expired[0]["first"],
            &expired[0]["last"]
        ),
        (&json!(slow_id), &json!(1), &json!(10)),
        "{report}"
    );
    let letter_id = expired[0]["deadLetterId"].as_str().unwrap().to_owned();
    eventually("the slow hub halted", Duration::from_secs(10), || async {
        hub_status(&hub, &slow_id).await["state"] == "halted"
    })
    .await;
    let status = hub_status(&hub, &slow_id).await;
    assert!(
        status["haltReason"]
            .as_str()
            .unwrap()
            .contains("max_undelivered_age"),
        "{status}"
    );
    assert_eq!(status["cursor"], 10, "{status}");
    assert_eq!(hub_status(&hub, &fast_id).await["state"], "active");

    let (status, letters) = hub
        .request(
            Method::GET,
            &format!("/admin/hubs/{slow_id}/dead-letters"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{letters}");
    assert_eq!(letters.as_array().unwrap().len(), 1, "{letters}");
    let letter = &letters[0];
    assert_eq!(
        (
            &letter["id"],
            &letter["kind"],
            &letter["first"],
            &letter["last"],
            &letter["count"]
        ),
        (
            &json!(letter_id),
            &json!("expired"),
            &json!(1),
            &json!(10),
            &json!(10)
        ),
        "{letter}"
    );
    assert_eq!(letter["held"], json!({"first": 1, "last": 10}), "{letter}");
    assert_eq!(letter["replayable"], true);

    // Replayed while held: the callback is back, the range arrives, the hub is active.
    slow.set_behaviour(ok());
    let (status, replay) = hub
        .request(
            Method::POST,
            &format!("/admin/hubs/{slow_id}/dead-letters/{letter_id}/replay"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replay}");
    assert_eq!(
        (&replay["from"], &replay["resent"], replay.get("gone")),
        (&json!(1), &json!({"first": 1, "last": 10}), None),
        "{replay}"
    );
    slow.wait_for("the range re-sent", Duration::from_secs(10), |hits| {
        hits.iter().filter(|h| h.answered.is_success()).count() >= 10
    })
    .await;
    assert_eq!(slow.acknowledged(), event_ids(1..=10));
    eventually("the slow hub active", Duration::from_secs(10), || async {
        let status = hub_status(&hub, &slow_id).await;
        status["state"] == "active" && status.get("haltReason").is_none()
    })
    .await;

    // The same again, but this time the events also pass max_age: the range is
    // recorded, then removed; replaying it says what is gone.
    slow.set_behaviour(answer(|_, _| {
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    }));
    clock.advance_days(0);
    wait_cursor(&hub, &slow_id, 10).await;
    for n in 11..=14 {
        hub.publish(PSI, "order", order_event(n)).await;
    }
    wait_cursor(&hub, &fast_id, 14).await;
    clock.advance_days(8);
    let report = trim(&hub).await;
    assert_eq!(
        (
            &report["expired"][0]["first"],
            &report["expired"][0]["last"]
        ),
        (&json!(11), &json!(14)),
        "{report}"
    );
    assert_eq!(report["topics"][0]["removed"], 14, "{report}");
    let (_, letters) = hub
        .request(
            Method::GET,
            &format!("/admin/hubs/{slow_id}/dead-letters"),
            None,
        )
        .await;
    let last = letters.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["first"], &last["last"]),
        (&json!(11), &json!(14)),
        "{letters}"
    );
    assert_eq!(
        (last.get("held"), &last["replayable"]),
        (None, &json!(false))
    );
    let (status, body) = hub
        .request(
            Method::POST,
            &format!(
                "/admin/hubs/{slow_id}/dead-letters/{}/replay",
                last["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    is_tmf_error(&body, StatusCode::GONE);
    assert!(
        body["message"].as_str().unwrap().contains("11..=14"),
        "{body}"
    );
}

/// A hub removed after a 410 keeps its dead letter under its id; a halted hub's
/// backlog is listed too; bad input is a TMF Error.
#[tokio::test]
async fn gone_and_halted_hubs_list_their_dead_letters() {
    let clock = TestClock::default();
    let hub = hub_with(max_age_days(7), &clock, 2).await;
    let gone = TestReceiver::start(answer(|_, _| StatusCode::GONE.into_response())).await;
    let failing = TestReceiver::start(answer(|_, _| {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }))
    .await;
    let gone_id = hub.register(PSI, "order", &gone.url("/gone"), None).await;
    let halted_id = hub
        .register(PSI, "order", &failing.url("/halt"), None)
        .await;
    for n in 1..=3 {
        hub.publish(PSI, "order", order_event(n)).await;
    }
    eventually("the 410 hub recorded", Duration::from_secs(10), || async {
        let (_, letters) = hub
            .request(
                Method::GET,
                &format!("/admin/hubs/{gone_id}/dead-letters"),
                None,
            )
            .await;
        letters.as_array().is_some_and(|l| !l.is_empty())
    })
    .await;
    let (_, letters) = hub
        .request(
            Method::GET,
            &format!("/admin/hubs/{gone_id}/dead-letters"),
            None,
        )
        .await;
    assert_eq!(
        (&letters[0]["kind"], &letters[0]["first"]),
        (&json!("gone"), &json!(1))
    );
    assert_eq!(letters[0]["replayable"], false, "{letters}");
    let (status, body) = hub
        .request(
            Method::POST,
            &format!(
                "/admin/hubs/{gone_id}/dead-letters/{}/replay",
                letters[0]["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    is_tmf_error(&body, StatusCode::CONFLICT);

    eventually(
        "the failing hub halted",
        Duration::from_secs(10),
        || async { hub_status(&hub, &halted_id).await["state"] == "halted" },
    )
    .await;
    let (_, letters) = hub
        .request(
            Method::GET,
            &format!("/admin/hubs/{halted_id}/dead-letters"),
            None,
        )
        .await;
    assert_eq!(
        (
            &letters[0]["id"],
            &letters[0]["kind"],
            &letters[0]["first"],
            &letters[0]["last"]
        ),
        (&json!("backlog"), &json!("halted"), &json!(1), &json!(3)),
        "{letters}"
    );
    // Replaying the backlog resumes the hub.
    failing.set_behaviour(ok());
    let (status, body) = hub
        .request(
            Method::POST,
            &format!("/admin/hubs/{halted_id}/dead-letters/backlog/replay"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    failing
        .wait_for("the backlog delivered", Duration::from_secs(10), |hits| {
            hits.iter().filter(|h| h.answered.is_success()).count() >= 3
        })
        .await;

    for (path, expected) in [
        (
            format!("/admin/hubs/{halted_id}/dead-letters/abc/replay"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/admin/hubs/{halted_id}/dead-letters/999999/replay"),
            StatusCode::NOT_FOUND,
        ),
        (
            "/admin/hubs/hub-nope/dead-letters/1/replay".into(),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/admin/hubs/{halted_id}/replay?from=0"),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, body) = hub.request(Method::POST, &path, None).await;
        assert_eq!(status, expected, "{path}: {body}");
        is_tmf_error(&body, expected);
    }
    let (status, body) = hub
        .request(Method::GET, "/admin/hubs/hub-nope/dead-letters", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    is_tmf_error(&body, StatusCode::NOT_FOUND);

    // Dead-letter records have their own retention (default 30 days): a month on,
    // the removed hub's record is gone, and with it the hub's last trace.
    let gone_letters = format!("/admin/hubs/{gone_id}/dead-letters");
    clock.advance_days(29);
    assert_eq!(trim(&hub).await["deadLettersRemoved"], 0);
    assert_eq!(
        hub.request(Method::GET, &gone_letters, None).await.0,
        StatusCode::OK
    );
    clock.advance_days(31);
    let report = trim(&hub).await;
    assert_eq!(report["deadLettersRemoved"], 1, "{report}");
    let (status, body) = hub.request(Method::GET, &gone_letters, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    is_tmf_error(&body, StatusCode::NOT_FOUND);
}

/// Without retention attached, `/admin/topics` still answers (no limits) and a pass
/// asked for is a 409.
#[tokio::test]
async fn without_retention_topics_show_and_trim_is_refused() {
    let hub = TestHub::start(fast_config(3)).await;
    hub.publish(PSI, "order", order_event(1)).await;
    let (status, topics) = hub.request(Method::GET, "/admin/topics", None).await;
    assert_eq!(status, StatusCode::OK);
    let order = topics
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topicId"] == "order")
        .unwrap();
    assert_eq!(
        (&order["events"], order.get("retention")),
        (&json!(1), None)
    );
    let (status, body) = hub
        .request(Method::POST, "/admin/retention/trim", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    is_tmf_error(&body, StatusCode::CONFLICT);
}

/// The store contract, on the store itself: trims remove a prefix in bounded batches
/// and never pass a hub's cursor; an expiry halts the hub, records the range and
/// bumps the epoch (a stale worker's progress is refused); one replica at a time
/// holds the trimmer (PostgreSQL; a store of one process always grants it).
#[tokio::test]
async fn the_store_trims_a_prefix_never_past_a_cursor() {
    use tmf688_runtime::Store as _;
    use tmf688_runtime::store::{HubProgress, HubStart, HubState, NewEvent, NewHub, NewTopic};

    let (store, _db) = TestStore::create("retention_store").await;
    store
        .create_topic(NewTopic {
            id: Some("t".into()),
            name: "t".into(),
            body: bytes::Bytes::from_static(b"{}"),
        })
        .await
        .unwrap();
    let events = (1..=10)
        .map(|n| {
            NewEvent::anonymous(
                format!("e-{n}"),
                bytes::Bytes::from(format!(r#"{{"n":{n}}}"#)),
            )
        })
        .collect();
    store.append_events("t", events).await.unwrap();
    let (hub, _) = store
        .create_hub(NewHub {
            topic_id: "t".into(),
            callback: "http://127.0.0.1:9/cb".into(),
            query: None,
            body: bytes::Bytes::from_static(b"{}"),
            owner: None,
            base_path: None,
            start: HubStart::Beginning,
        })
        .await
        .unwrap();
    store.set_cursor(&hub.id, 6).await.unwrap();

    // At most 4 per call, never past the cursor (6), however far asked.
    assert_eq!(store.trim_events("t", 100, 4).await.unwrap(), 4);
    assert_eq!(store.trim_events("t", 100, 4).await.unwrap(), 2);
    assert_eq!(store.trim_events("t", 100, 4).await.unwrap(), 0);
    let bounds = store.log_bounds("t").await.unwrap();
    assert_eq!(
        (bounds.first, bounds.head, bounds.trimmed, bounds.len()),
        (7, 10, 6, 4)
    );
    let held: Vec<u64> = store
        .read_events("t", 0, usize::MAX)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(held, [7, 8, 9, 10]);
    assert_eq!(store.event("t", "6").await.unwrap(), None);
    assert_eq!(
        store.event("t", "7").await.unwrap().unwrap().event_id,
        "e-7"
    );
    // A trimmed eventId may be used again: it is a new event, after the head.
    let again = store
        .append_events(
            "t",
            vec![NewEvent::anonymous("e-1", bytes::Bytes::from_static(b"{}"))],
        )
        .await
        .unwrap();
    assert!(matches!(&again[0], tmf688_runtime::store::Appended::Created(r) if r.seq == 11));
    // Appended now: nothing of the log was appended an hour from now.
    let later = SystemTime::now() + Duration::from_secs(3600);
    assert_eq!(store.seq_stored_since("t", 6, later).await.unwrap(), 12);
    assert_eq!(
        store
            .seq_stored_since("t", 0, SystemTime::UNIX_EPOCH)
            .await
            .unwrap(),
        7
    );

    // Expiry: cursor 6 -> 9, halted with the reason, epoch bumped, the range recorded.
    let before = store.hub_by_id(&hub.id).await.unwrap().unwrap();
    let dead = store
        .expire_backlog(&hub.id, 9, "too old")
        .await
        .unwrap()
        .expect("a range");
    assert_eq!(
        (dead.first, dead.last, dead.reason.as_str()),
        (7, 9, "too old")
    );
    let after = store.hub_by_id(&hub.id).await.unwrap().unwrap();
    assert_eq!(
        (
            after.cursor,
            after.state,
            after.halt_reason.as_deref(),
            after.epoch
        ),
        (9, HubState::Halted, Some("too old"), before.epoch + 1)
    );
    // Still halted: the next range continues the same dead letter.
    let dead = store
        .expire_backlog(&hub.id, 10, "older")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((dead.first, dead.last), (7, 10));
    assert_eq!(store.dead_letters(&hub.id).await.unwrap().len(), 1);
    assert_eq!(
        store.expire_backlog(&hub.id, 5, "behind").await.unwrap(),
        None
    );
    // A worker started before the expiry cannot move the cursor back.
    let stale = HubProgress {
        hub_id: hub.id.clone(),
        epoch: before.epoch,
        cursor: 7,
        attempts: 0,
        last_error: None,
        state: HubState::Active,
    };
    if !store.shared() {
        assert_eq!(
            store.save_progress(&[stale], "r").await.unwrap(),
            std::slice::from_ref(&hub.id)
        );
    }
    // Resumed: active, no reason.
    let resumed = store.operate_hub(&hub.id, None).await.unwrap();
    assert_eq!(
        (resumed.state, resumed.halt_reason),
        (HubState::Active, None)
    );

    // The trimmer's lease: one replica at a time; the holder renews it.
    let ttl = Duration::from_secs(30);
    assert!(store.claim_trimmer("a", ttl).await.unwrap());
    assert!(store.claim_trimmer("a", ttl).await.unwrap());
    assert_eq!(
        store.claim_trimmer("b", ttl).await.unwrap(),
        !store.shared()
    );
    if store.shared() {
        // A lapsed lease goes to whoever claims next.
        assert!(
            store
                .claim_trimmer("a", Duration::from_millis(1))
                .await
                .unwrap()
        );
        eventually("a's lease lapsed", Duration::from_secs(5), || async {
            store.claim_trimmer("b", ttl).await.unwrap()
        })
        .await;
        assert!(!store.claim_trimmer("a", ttl).await.unwrap());
    }
}
