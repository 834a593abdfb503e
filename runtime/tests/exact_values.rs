//! Exact numbers and date-time instants, end to end over a real server on loopback and
//! a real callback receiver, on the store `TMF688_TEST_STORE` names (memory by default,
//! `postgres` for PostgreSQL):
//!
//! * numbers: POST → list/retrieve → callback keep every digit; filters compare them
//!   numerically on the exact value (`1e2` = `100`, `-0` = `0`); `eventId`
//!   de-duplication tells a changed 30th digit (409) from the same number (201 again);
//!   the generated models type a payload's integers exactly (a PSI order item's
//!   `quantity` of `1e2`, `1.0` or 30 digits is accepted and kept; `1.5` is a 400);
//! * date-times typed so by the schema (`eventTime`, the alarm payload's
//!   `alarmRaisedTime`) compare as instants in list filters, `raisedBefore` /
//!   `raisedAfter`, hub queries and `replay?fromTime`; a string that merely looks like
//!   a date compares as text; a bad date-time in a date-time comparison is a 400.
#[path = "delivery_common/mod.rs"]
mod delivery_common;

use std::time::Duration;

use delivery_common::{PSI, TMF, TestHub, TestReceiver, fast_config, ok};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const TOPIC: &str = "alarm";

/// Sends a raw JSON body (numbers such as `1E+400` cannot go through `json!`).
async fn post_raw(hub: &TestHub, path: &str, body: &str) -> (StatusCode, Value) {
    let response = hub
        .http
        .post(format!("{}{path}", hub.url))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
    (status, value)
}

async fn get(hub: &TestHub, path: &str) -> (StatusCode, Value) {
    hub.request(Method::GET, path, None).await
}

/// The eventIds a list answers, sorted.
async fn listed(hub: &TestHub, query: &str) -> Result<Vec<String>, String> {
    let (status, body) = get(hub, &format!("{TMF}/topic/{TOPIC}/event?{query}")).await;
    if status != StatusCode::OK {
        return Err(format!("{status}: {body}"));
    }
    let mut ids: Vec<String> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    Ok(ids)
}

fn number_text(value: &Value) -> String {
    match value {
        Value::Number(n) => n.as_str().to_owned(),
        other => format!("not a number: {other}"),
    }
}

/// (eventId, the number as sent, as it comes back). serde_json keeps every digit and
/// writes the exponent marker as `e` with its sign (`1E+400` → `1e+400`, `1e2` →
/// `1e+2`): the same number, spelt canonically.
const NUMBERS: &[(&str, &str, &str)] = &[
    (
        "big",
        "123456789012345678901234567890",
        "123456789012345678901234567890",
    ),
    (
        "big-negative",
        "-123456789012345678901234567890",
        "-123456789012345678901234567890",
    ),
    ("e2", "1e2", "1e+2"),
    ("hundred", "100", "100"),
    ("huge-exponent", "1E+400", "1e+400"),
    ("tiny-exponent", "1e-400", "1e-400"),
    ("negative-zero", "-0", "-0"),
    (
        "tiny-float",
        "4.9406564584124654e-324",
        "4.9406564584124654e-324",
    ),
    (
        "huge-float",
        "1.7976931348623157e308",
        "1.7976931348623157e+308",
    ),
    (
        "decimal",
        "0.10000000000000000000000000001",
        "0.10000000000000000000000000001",
    ),
];

fn number_event(id: &str, number: &str) -> String {
    format!(
        r#"{{"@type":"AlarmCreateEvent","eventId":"{id}","eventType":"AlarmCreateEvent","event":{{"id":"a-{id}","n":{number}}}}}"#
    )
}

#[tokio::test]
async fn numbers_are_exact_from_post_to_callback() {
    let hub = TestHub::start(fast_config(5)).await;
    let receiver = TestReceiver::start(ok()).await;
    let filtered = TestReceiver::start(ok()).await;
    hub.register(TMF, TOPIC, &receiver.url("/all"), None).await;
    hub.register(
        TMF,
        TOPIC,
        &filtered.url("/big"),
        Some("event.n.gt=123456789012345678901234567889"),
    )
    .await;

    for (id, sent, _) in NUMBERS {
        let (status, body) = post_raw(
            &hub,
            &format!("{TMF}/topic/{TOPIC}/event"),
            &number_event(id, sent),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{id}: {body}");
    }

    // List (filtered by eventId) and retrieve: every digit kept.
    let mut failures = Vec::new();
    for (id, sent, kept) in NUMBERS {
        let (_, list) = get(&hub, &format!("{TMF}/topic/{TOPIC}/event?eventId={id}")).await;
        let listed = number_text(&list[0]["event"]["n"]);
        let event_id = list[0]["id"].as_str().unwrap_or_default().to_owned();
        let (_, one) = get(&hub, &format!("{TMF}/topic/{TOPIC}/event/{event_id}")).await;
        let retrieved = number_text(&one["event"]["n"]);
        if listed != *kept || retrieved != *kept {
            failures.push(format!(
                "{id}: sent {sent}, listed {listed}, retrieved {retrieved}"
            ));
        }
    }

    // Delivered to the callback with every digit.
    receiver
        .wait_for("every event delivered", Duration::from_secs(10), |hits| {
            hits.len() >= NUMBERS.len()
        })
        .await;
    for hit in receiver.hits() {
        let (_, sent, kept) = NUMBERS
            .iter()
            .find(|(id, _, _)| *id == hit.event_id())
            .unwrap();
        let delivered = number_text(&hit.body["event"]["n"]);
        if delivered != *kept {
            failures.push(format!(
                "{}: sent {sent}, delivered {delivered}",
                hit.event_id()
            ));
        }
    }

    // Filters compare the exact value (query, the eventIds it lists).
    let filters: &[(&str, &[&str])] = &[
        (
            "event.n.gt=123456789012345678901234567889",
            &["big", "huge-exponent", "huge-float"],
        ),
        (
            "event.n.gt=123456789012345678901234567890",
            &["huge-exponent", "huge-float"],
        ),
        ("event.n=123456789012345678901234567890", &["big"]),
        ("event.n=123456789012345678901234567891", &[]),
        ("event.n=100", &["e2", "hundred"]),
        ("event.n=1e2", &["e2", "hundred"]),
        ("event.n=100.000", &["e2", "hundred"]),
        (
            "event.n.ne=100",
            &[
                "big",
                "big-negative",
                "decimal",
                "huge-exponent",
                "huge-float",
                "negative-zero",
                "tiny-exponent",
                "tiny-float",
            ],
        ),
        ("event.n=0", &["negative-zero"]),
        ("event.n=-0.0", &["negative-zero"]),
        ("event.n.lt=0", &["big-negative"]),
        ("event.n.gte=1E400", &["huge-exponent"]),
        ("event.n.gt=0&event.n.lt=1e-399", &["tiny-exponent"]),
        ("event.n.gt=1e-400&event.n.lt=1e-300", &["tiny-float"]),
        (
            "event.n.gt=1.7976931348623156e308&event.n.lt=1e309",
            &["huge-float"],
        ),
        ("event.n=0.1", &[]),
        ("event.n.gt=0.1&event.n.lt=0.2", &["decimal"]),
        ("event.n.gt=abc", &[]),
    ];
    for (query, expected) in filters {
        match listed(&hub, query).await {
            Ok(ids) if ids == *expected => {}
            other => failures.push(format!("?{query}: expected {expected:?}, got {other:?}")),
        }
    }

    // The hub query: only the three numbers above the 30-digit bound.
    filtered
        .wait_for("the big numbers", Duration::from_secs(10), |hits| {
            hits.len() >= 3
        })
        .await;
    let mut got: Vec<String> = filtered.acknowledged();
    got.sort();
    if got != ["big", "huge-exponent", "huge-float"] {
        failures.push(format!("hub query delivered {got:?}"));
    }

    // De-duplication on the exact value: another 30th digit is another event (409);
    // the same number, as written or written otherwise, is the same event (201 again).
    let dedup: &[(&str, &str, StatusCode)] = &[
        (
            "big",
            "123456789012345678901234567891",
            StatusCode::CONFLICT,
        ),
        ("big", "123456789012345678901234567890", StatusCode::CREATED),
        (
            "big",
            "1.23456789012345678901234567890e29",
            StatusCode::CREATED,
        ),
        ("big", "1.2345678901234568e+29", StatusCode::CONFLICT),
        ("e2", "100", StatusCode::CREATED),
        ("e2", "100.0000000000000000000001", StatusCode::CONFLICT),
        ("negative-zero", "0", StatusCode::CREATED),
        ("tiny-exponent", "1e-401", StatusCode::CONFLICT),
    ];
    for (id, number, expected) in dedup {
        let (status, body) = post_raw(
            &hub,
            &format!("{TMF}/topic/{TOPIC}/event"),
            &number_event(id, number),
        )
        .await;
        if status != *expected {
            failures.push(format!("again {id} with {number}: {status} {body}"));
        }
    }
    assert_eq!(
        hub.log(TOPIC).await.len(),
        NUMBERS.len(),
        "no duplicate stored"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Exponents past any machine integer (review of issue 12, item 7): l = 1e10^17,
/// m = 1e(10^17 + 1) and n = 10e10^17 (= m) compare exactly in filters and in the
/// eventId de-duplication; a retry judged a duplicate is answered with the stored text.
#[tokio::test]
async fn long_exponents_compare_exactly_and_retries_get_the_stored_text() {
    let hub = TestHub::start(fast_config(5)).await;
    let events = [
        ("l", "1e100000000000000000"),
        ("m", "1e100000000000000001"),
        ("n", "10e100000000000000000"),
        ("big", "123456789012345678901234567890"),
    ];
    for (id, number) in events {
        let (status, body) = post_raw(
            &hub,
            &format!("{TMF}/topic/{TOPIC}/event"),
            &number_event(id, number),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{id}: {body}");
    }
    let mut failures = Vec::new();
    let filters: &[(&str, &[&str])] = &[
        ("event.n=1e100000000000000001", &["m", "n"]),
        ("event.n=10e100000000000000000", &["m", "n"]),
        ("event.n=1e100000000000000000", &["l"]),
        ("event.n.gt=1e100000000000000000", &["m", "n"]),
        ("event.n.gte=1e100000000000000000", &["l", "m", "n"]),
        ("event.n.lt=1e100000000000000001", &["big", "l"]),
        (
            "event.n.lte=0.1e100000000000000002",
            &["big", "l", "m", "n"],
        ),
        ("event.n.gt=1e100000000000000001", &[]),
        (
            "event.n.gt=1e99999999999999999999999999999999999999999",
            &[],
        ),
        (
            "event.n.lt=1e99999999999999999999999999999999999999999",
            &["big", "l", "m", "n"],
        ),
        ("event.n.ne=1e100000000000000001", &["big", "l"]),
    ];
    for (query, expected) in filters {
        match listed(&hub, query).await {
            Ok(ids) if ids == *expected => {}
            other => failures.push(format!("?{query}: expected {expected:?}, got {other:?}")),
        }
    }
    // (eventId, number sent again, status).
    let dedup: &[(&str, &str, StatusCode)] = &[
        ("l", "1e100000000000000001", StatusCode::CONFLICT),
        ("l", "10e99999999999999999", StatusCode::CREATED),
        ("m", "1e100000000000000000", StatusCode::CONFLICT),
        ("n", "1e100000000000000001", StatusCode::CREATED),
        ("n", "100e99999999999999999", StatusCode::CREATED),
        ("n", "1e100000000000000002", StatusCode::CONFLICT),
        (
            "big",
            "123456789012345678901234567890.0",
            StatusCode::CREATED,
        ),
        (
            "big",
            "1.23456789012345678901234567890e29",
            StatusCode::CREATED,
        ),
    ];
    for (id, number, expected) in dedup {
        let (status, body) = post_raw(
            &hub,
            &format!("{TMF}/topic/{TOPIC}/event"),
            &number_event(id, number),
        )
        .await;
        if status != *expected {
            failures.push(format!("again {id} with {number}: {status} {body}"));
            continue;
        }
        if status != StatusCode::CREATED {
            continue;
        }
        // The answer is the stored event: its text, not the retry's spelling.
        let (_, stored) = get(
            &hub,
            &format!("{TMF}/topic/{TOPIC}/event/{}", body["id"].as_str().unwrap()),
        )
        .await;
        let (answered, kept) = (
            number_text(&body["event"]["n"]),
            number_text(&stored["event"]["n"]),
        );
        if answered != kept || answered == *number {
            failures.push(format!(
                "again {id} with {number}: answered {answered}, stored {kept}"
            ));
        }
    }
    assert_eq!(
        hub.log(TOPIC).await.len(),
        events.len(),
        "no duplicate stored"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Explicit nulls (review of issue 12, item 8). An attribute `Event_Create` declares
/// (none nullable) given `null` is refused with a 400 naming it, on the PSI paths as on
/// the TMF path, and nothing is stored; an attribute it does not declare keeps its null
/// as written, stored, listed, retrieved and delivered (PSI: every attribute is kept),
/// as does a null inside the payload.
#[tokio::test]
async fn explicit_nulls_are_kept_as_written_or_refused_by_name() {
    let hub = TestHub::start(fast_config(5)).await;
    let receiver = TestReceiver::start(ok()).await;
    hub.register(PSI, TOPIC, &receiver.url("/all"), None).await;
    let mut failures = Vec::new();
    // (base path, body, the attribute named in the 400)
    let refused: &[(&str, Value, &str)] = &[
        (PSI, json!({"@type": null, "eventType": "x"}), "@type"),
        (PSI, json!({"event": null, "eventType": "x"}), "event"),
        (
            PSI,
            json!({"eventTime": null, "eventType": "x"}),
            "eventTime",
        ),
        (PSI, json!({"eventId": null, "eventType": "x"}), "eventId"),
        (PSI, json!({"eventType": null}), "eventType"),
        (PSI, json!({"timeOccurred": null}), "timeOccurred"),
        (PSI, json!({"relatedParty": null}), "relatedParty"),
        (PSI, json!({"@schemaLocation": null}), "@schemaLocation"),
        (
            "/event/v2",
            json!({"eventType": "x", "eventTime": null}),
            "eventTime",
        ),
        (
            TMF,
            json!({"@type": "AlarmCreateEvent", "eventId": "t", "event": {"id": "a"}, "eventTime": null}),
            "eventTime",
        ),
        (
            TMF,
            json!({"@type": null, "eventId": "t", "event": {"id": "a"}}),
            "@type",
        ),
    ];
    for (base, body, attribute) in refused {
        let (status, answer) = hub
            .request(
                Method::POST,
                &format!("{base}/topic/{TOPIC}/event"),
                Some(body.clone()),
            )
            .await;
        let message = answer["message"].as_str().unwrap_or_default();
        if status != StatusCode::BAD_REQUEST
            || answer["code"] != "400"
            || !message.starts_with(&format!("`{attribute}` is null"))
        {
            failures.push(format!("{base} {body}: {status} {answer}"));
        }
    }
    assert!(hub.log(TOPIC).await.is_empty(), "nothing refused is stored");

    // Undeclared attributes and payload attributes keep their null.
    let kept = json!({
        "eventId": "nulls",
        "eventType": "AlarmCreateEvent",
        "vendorNote": null,
        "value": null,
        "event": {"id": "a-nulls", "note": null}
    });
    let (status, created) = hub
        .request(
            Method::POST,
            &format!("{PSI}/topic/{TOPIC}/event"),
            Some(kept.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let (_, retrieved) = get(&hub, &format!("{PSI}/topic/{TOPIC}/event/{id}")).await;
    let (_, listed) = get(&hub, &format!("{PSI}/topic/{TOPIC}/event?eventId=nulls")).await;
    receiver
        .wait_for("the event delivered", Duration::from_secs(10), |hits| {
            hits.iter().any(|h| h.event_id() == "nulls")
        })
        .await;
    let delivered = receiver
        .hits()
        .into_iter()
        .find(|h| h.event_id() == "nulls")
        .unwrap()
        .body;
    let stored = hub.log(TOPIC).await.remove(0);
    for (what, event) in [
        ("answered", &created),
        ("retrieved", &retrieved),
        ("listed", &listed[0]),
        ("stored", &stored),
        ("delivered", &delivered),
    ] {
        let object = event.as_object().unwrap();
        for attribute in ["vendorNote", "value"] {
            if object.get(attribute) != Some(&Value::Null) {
                failures.push(format!("{what}: {attribute} not kept as null: {event}"));
            }
        }
        if event["event"].as_object().and_then(|e| e.get("note")) != Some(&Value::Null) {
            failures.push(format!("{what}: event.note not kept as null: {event}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (eventId, an order item's `quantity` as sent, as stored and delivered). `quantity`
/// is `type: integer` in the PSI profile: any number with no fractional part is one
/// (JSON Schema), of any size.
const QUANTITIES: &[(&str, &str, &str)] = &[
    ("q-exponent", "1e2", "1e+2"),
    ("q-point-zero", "1.0", "1.0"),
    (
        "q-30-digits",
        "123456789012345678901234567890",
        "123456789012345678901234567890",
    ),
    ("q-negative-zero", "-0", "-0"),
    ("q-huge", "1e400", "1e+400"),
];

fn order_with_quantity(id: &str, quantity: &str) -> String {
    format!(
        r#"{{"eventId":"{id}","eventType":"ProductOrderCreateEvent","event":{{"id":"o-{id}","productOrderItem":[{{"id":"1","quantity":{quantity}}}]}}}}"#
    )
}

/// The review's PSI repro (issue 12, generated models): POST on the PSI path with an
/// order item quantity `1e2`, `1.0` or 30 digits is a 201, and the quantity is stored and
/// delivered as written; a fractional quantity is a 400 naming its JSON path.
#[tokio::test]
async fn psi_order_quantities_are_exact_integers() {
    let hub = TestHub::start(fast_config(5)).await;
    let receiver = TestReceiver::start(ok()).await;
    hub.register(PSI, "order", &receiver.url("/orders"), None)
        .await;
    for (id, sent, _) in QUANTITIES {
        let (status, body) = post_raw(
            &hub,
            &format!("{PSI}/topic/order/event"),
            &order_with_quantity(id, sent),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "quantity {sent}: {body}");
    }
    let quantity = |event: &Value| number_text(&event["event"]["productOrderItem"][0]["quantity"]);
    let mut failures = Vec::new();
    let stored = hub.log("order").await;
    receiver
        .wait_for("every order delivered", Duration::from_secs(10), |hits| {
            hits.len() >= QUANTITIES.len()
        })
        .await;
    let delivered = receiver.hits();
    for (id, sent, kept) in QUANTITIES {
        let in_log = stored.iter().find(|e| e["eventId"] == *id).map(quantity);
        let at_callback = delivered
            .iter()
            .find(|hit| hit.event_id() == *id)
            .map(|hit| quantity(&hit.body));
        if in_log.as_deref() != Some(kept) || at_callback.as_deref() != Some(kept) {
            failures.push(format!(
                "{id}: sent {sent}, stored {in_log:?}, delivered {at_callback:?}"
            ));
        }
    }
    for sent in ["1.5", "1e-400", "2.000000000000000000001"] {
        let (status, body) = post_raw(
            &hub,
            &format!("{PSI}/topic/order/event"),
            &order_with_quantity("q-fraction", sent),
        )
        .await;
        let text = body.to_string();
        if status != StatusCode::BAD_REQUEST
            || body["code"].is_null()
            || !text.contains("productOrderItem[0].quantity")
            || !text.contains(&format!("number {sent}, expected an integer"))
        {
            failures.push(format!(
                "quantity {sent}: expected a 400 naming productOrderItem[0].quantity, got {status} {body}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (eventId, eventTime, alarmRaisedTime): A 10:00:00.5Z, B 10:30Z, C 10:45Z, D a leap
/// day (2024-02-29T23:00-02:00 = 2024-03-01T01:00Z). Each event also carries its
/// eventTime as `event.note`, a string attribute the schema does not type.
const TIMES: &[(&str, &str)] = &[
    ("A", "2026-01-01T10:00:00.500Z"),
    ("B", "2026-01-01T12:30:00+02:00"),
    ("C", "2026-01-01T09:45:00-01:00"),
    ("D", "2024-02-29T23:00:00-02:00"),
];

fn timed_event(id: &str, time: &str) -> String {
    format!(
        r#"{{"@type":"AlarmCreateEvent","eventId":"{id}","eventType":"AlarmCreateEvent","eventTime":"{time}","event":{{"id":"a-{id}","alarmRaisedTime":"{time}","note":"{time}"}}}}"#
    )
}

#[tokio::test]
async fn date_times_compare_as_instants() {
    let hub = TestHub::start(fast_config(5)).await;
    let receiver = TestReceiver::start(ok()).await;
    let since_ten = TestReceiver::start(ok()).await;
    let hub_id = hub.register(TMF, TOPIC, &receiver.url("/all"), None).await;
    hub.register(
        TMF,
        TOPIC,
        &since_ten.url("/since-ten"),
        Some("eventTime.gt=2026-01-01T10:00:00Z"),
    )
    .await;
    for (id, time) in TIMES {
        let (status, body) = post_raw(
            &hub,
            &format!("{TMF}/topic/{TOPIC}/event"),
            &timed_event(id, time),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{id}: {body}");
    }

    let mut failures = Vec::new();
    let rows: &[(&str, &[&str])] = &[
        ("eventTime.gt=2026-01-01T10:00:00Z", &["A", "B", "C"]),
        ("eventTime=2026-01-01T10:30:00Z", &["B"]),
        ("eventTime=2026-01-01T10:30:00%2B00:00", &["B"]),
        ("eventTime=2026-01-01T10:30:00.000-00:00", &["B"]),
        ("eventTime=2026-01-01T11:30:00%2B01:00", &["B"]),
        ("eventTime=2026-01-01T10:30", &["B"]),
        ("eventTime=2026-01-01T10:00:00.5Z", &["A"]),
        ("eventTime=2026-01-01T10:00:00.500000Z", &["A"]),
        ("eventTime=2026-01-01T10:00:00Z", &[]),
        ("eventTime.ne=2026-01-01T10:00:00.50Z", &["B", "C", "D"]),
        // Without an offset: UTC.
        ("eventTime.lt=2026-01-01T10:30:00", &["A", "D"]),
        ("eventTime.gte=2026-01-01T10:30:00", &["B", "C"]),
        ("eventTime.lte=2026-01-01T10:45:00", &["A", "B", "C", "D"]),
        ("eventTime[gt]=2026-01-01T10:44:59.999999999Z", &["C"]),
        // The leap day, with its offset carrying it into March.
        ("eventTime=2024-03-01T01:00:00Z", &["D"]),
        (
            "eventTime.gt=2024-02-29T23:30:00Z&eventTime.lt=2024-03-01T01:00:00.001Z",
            &["D"],
        ),
        ("eventTime.lt=2024-02-29T23:00:00Z", &[]),
        // Alternatives (OR) are instants too.
        (
            "eventTime=2026-01-01T10:45:00Z,2024-03-01T01:00:00Z",
            &["C", "D"],
        ),
        // PSI's raisedBefore / raisedAfter: eventTime < / > the instant.
        ("raisedAfter=2026-01-01T10:30:00Z", &["C"]),
        ("raisedBefore=2026-01-01T10:30:00Z", &["A", "D"]),
        (
            "raisedAfter=2026-01-01T10:00:00&raisedBefore=2026-01-01T11:40:00%2B01:00",
            &["A", "B"],
        ),
        // A payload date-time of the topic's type (Alarm.alarmRaisedTime).
        (
            "event.alarmRaisedTime.gt=2026-01-01T10:00:00Z",
            &["A", "B", "C"],
        ),
        ("event.alarmRaisedTime=2026-01-01T10:30:00Z", &["B"]),
        // A string that merely looks like a date-time compares as text.
        ("event.note.gt=2026-01-01T10:00:00Z", &["B"]),
        ("event.note=2026-01-01T10:30:00Z", &[]),
        ("event.note=2026-01-01T12:30:00%2B02:00", &["B"]),
        ("event.note=yesterday", &[]),
    ];
    for (query, expected) in rows {
        match listed(&hub, query).await {
            Ok(ids) if ids == *expected => {}
            other => failures.push(format!("?{query}: expected {expected:?}, got {other:?}")),
        }
    }

    // Not a date-time where one is compared: 400 with a TMF Error.
    for query in [
        "eventTime.gt=yesterday",
        "eventTime=2023-02-29T00:00:00Z",
        "eventTime=2026-01-01T24:00:00Z",
        "eventTime=2026-01-01",
        "eventTime=2026-01-01T10:00:00Z,soon",
        "event.alarmRaisedTime.lt=1767261600",
        "raisedBefore=yesterday",
        "raisedAfter=2026-13-01T00:00:00Z",
    ] {
        let (status, body) = get(&hub, &format!("{TMF}/topic/{TOPIC}/event?{query}")).await;
        if status != StatusCode::BAD_REQUEST || body["code"].is_null() || body["reason"].is_null() {
            failures.push(format!(
                "?{query}: expected a 400 TMF Error, got {status} {body}"
            ));
        }
    }
    let (status, body) = hub
        .request(
            Method::POST,
            &format!("{TMF}/topic/{TOPIC}/hub"),
            Some(serde_json::json!({
                "callback": receiver.url("/bad"),
                "query": "eventTime.gt=tomorrow"
            })),
        )
        .await;
    if status != StatusCode::BAD_REQUEST {
        failures.push(format!("hub with a bad date-time query: {status} {body}"));
    }

    // The hub query at delivery: A, B and C, not D.
    since_ten
        .wait_for("A, B, C", Duration::from_secs(10), |hits| hits.len() >= 3)
        .await;
    receiver
        .wait_for("every event", Duration::from_secs(10), |hits| {
            hits.len() >= 4
        })
        .await;
    let mut got = since_ten.acknowledged();
    got.sort();
    if got != ["A", "B", "C"] {
        failures.push(format!("hub query eventTime.gt delivered {got:?}"));
    }

    // replay?fromTime: the first event at or after 10:40Z is C (B, at 12:30+02:00, is
    // 10:30Z: as text it would have come first).
    let (status, body) = hub
        .request(
            Method::POST,
            &format!("/admin/hubs/{hub_id}/replay?fromTime=2026-01-01T10:40:00Z"),
            None,
        )
        .await;
    if status != StatusCode::ACCEPTED || body["from"] != 3 {
        failures.push(format!("replay?fromTime: {status} {body}"));
    }
    let (status, body) = hub
        .request(
            Method::POST,
            &format!("/admin/hubs/{hub_id}/replay?fromTime=2026-01-01T11:40:00%2B01:00"),
            None,
        )
        .await;
    if status != StatusCode::ACCEPTED || body["from"] != 3 {
        failures.push(format!("replay?fromTime with an offset: {status} {body}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A topic's `headerQuery`/`contentQuery` are filters applied at delivery: one with an
/// impossible date-time for a date-time attribute is refused when the topic is
/// created, not ignored later.
#[tokio::test]
async fn topic_queries_with_impossible_date_times_are_refused_at_creation() {
    let hub = TestHub::start(fast_config(3)).await;
    let cases = [
        (
            r#"{"name": "q-1", "headerQuery": "eventTime.gt=2024-02-30T00:00:00Z"}"#,
            Some("headerQuery"),
        ),
        (
            r#"{"name": "q-2", "headerQuery": "eventTime.lt=soon"}"#,
            Some("headerQuery"),
        ),
        // A topic the profile does not type has an untyped payload: text, not a date.
        (
            r#"{"name": "alarm-2", "contentQuery": "alarmRaisedTime.gte=2024-13-01T00:00:00Z"}"#,
            None,
        ),
        (
            // A query is a query string: `+` is a space there, an offset's plus is `%2B`.
            r#"{"name": "q-3", "headerQuery": "eventTime.gt=2024-02-29T00:00:00%2B02:00"}"#,
            None,
        ),
        (
            r#"{"name": "q-4", "headerQuery": "title=2024-02-30"}"#,
            None,
        ),
    ];
    for (body, refused) in cases {
        let (status, answer) = post_raw(&hub, &format!("{TMF}/topic"), body).await;
        match refused {
            Some(attribute) => {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
                assert_eq!(answer["@type"], "Error");
                let message = answer["message"].as_str().unwrap_or_default();
                assert!(message.contains(attribute), "{body}: {message}");
            }
            None => assert_eq!(status, StatusCode::CREATED, "{body}: {answer}"),
        }
    }
}
