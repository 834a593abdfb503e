//! `listEvent` through the store's indexes (`eventId`, `eventType`, `eventTime` ranges,
//! `raisedAfter`/`raisedBefore`) and the bounded scans of the rest ([scans]).
//!
//! * Table-driven: every filter shape × paging × viewer (an admin, a need-to-know
//!   restricted provider) is asked of two servers over **one** store — one using its
//!   indexes, one through `ScanOnly` (the same store with the `Store` trait's
//!   defaults for the indexed lookups: the log is scanned) — and the answers (status,
//!   `X-Total-Count`, `X-Result-Count`, body) must be identical.
//! * A listing that would examine more events than `[scans] max_events_per_request` is
//!   a 400 TMF `Error`; the indexed filters stay within a tiny budget.
//! * Many clients scanning a large log at once do not stop `/health` from answering.
//!
//! Runs on the in-memory store, and on PostgreSQL with `TMF688_TEST_STORE=postgres`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use tmf688_api::profile::Role;
use tmf688_runtime::auth::{ApiKeyConfig, AuthConfig, sha256_hex};
use tmf688_runtime::store::{NewEvent, NewTopic};
use tmf688_runtime::{AppConfig, Authenticator, Hub688, HubConfig, ScanLimits, Store, app_with};

use common::test_store::ScanOnly;
use common::{Server, TestStore};

const TOPIC: &str = "billing";
const EVENTS: &str = "/tmf-api/event/v4/topic/billing/event";

fn auth() -> AppConfig {
    let key = |name: &str, role: Role| ApiKeyConfig {
        name: name.into(),
        party: None,
        role,
        sha256: sha256_hex(&format!("key-{name}")),
    };
    let config = AuthConfig {
        api_keys: vec![key("provider-a", Role::Provider), key("ops", Role::Admin)],
        jwt: Vec::new(),
    };
    AppConfig {
        auth: Some(Arc::new(Authenticator::from_config(&config).unwrap())),
        ..AppConfig::default()
    }
}

/// The body of the `i`-th event: eventTypes, eventTimes (offsets, fractions, none,
/// absent), related parties and publishers vary with `i`.
fn event(i: usize) -> NewEvent {
    let mut body = json!({
        "@type": "Event",
        "eventId": format!("e{}", i % 250),
        "event": {"n": i},
    });
    match i % 17 {
        0 => {}
        5 => body["eventType"] = json!(" A"),
        _ => body["eventType"] = json!(["A", "B", "C"][i % 3]),
    }
    // One event a minute from 2026-01-01T00:00Z, written in several ways.
    let (hour, minute) = (i / 60, i % 60);
    let time = match i % 6 {
        0 => Some(format!("2026-01-01T{hour:02}:{minute:02}:00Z")),
        1 => Some(format!("2026-01-01T{:02}:{minute:02}:00+02:00", hour + 2)),
        2 => Some(format!("2026-01-01T{hour:02}:{minute:02}:00")),
        3 => Some(format!("2026-01-01T{hour:02}:{minute:02}:00.1234567Z")),
        4 => Some(format!(
            "2025-12-31T{:02}:{minute:02}:00.5-01:00",
            hour + 23
        )),
        _ => (i % 12 == 5).then(|| format!("2026-01-01t{hour:02}:{minute:02}z")),
    };
    if let Some(time) = time {
        body["eventTime"] = json!(time);
    }
    match i % 5 {
        0 => body["relatedParty"] = json!([{"id": "provider-a"}]),
        1 => body["relatedParty"] = json!([{"id": "provider-b"}]),
        _ => {}
    }
    NewEvent {
        event_id: format!("e{}", i % 250),
        // eventIds e0..e49 are used by two publishers.
        publisher: if i < 250 {
            String::new()
        } else {
            "other".into()
        },
        body: Bytes::from(body.to_string()),
    }
}

/// Two servers over one store holding `count` events: (indexed, scanned).
async fn servers(count: usize, scans: ScanLimits) -> (Server, Server, Arc<TestStore>) {
    let (store, db) = TestStore::create("queries").await;
    let store = Arc::new(store);
    store
        .create_topic(NewTopic {
            id: Some(TOPIC.into()),
            name: TOPIC.into(),
            body: Bytes::from_static(br#"{"name":"billing"}"#),
        })
        .await
        .unwrap();
    let events: Vec<NewEvent> = (0..count).map(event).collect();
    for chunk in events.chunks(2_000) {
        store.append_events(TOPIC, chunk.to_vec()).await.unwrap();
    }
    let config = HubConfig {
        scans,
        ..HubConfig::default()
    };
    let indexed = Hub688::new(store.clone(), config.clone()).await.unwrap();
    let scanned = Hub688::new(Arc::new(ScanOnly(store.clone())), config)
        .await
        .unwrap();
    let indexed = common::serve(app_with(Arc::new(indexed), &auth()), db).await;
    let scanned = common::serve(app_with(Arc::new(scanned), &auth()), None).await;
    (indexed, scanned, store)
}

async fn get(http: &reqwest::Client, server: &Server, query: &str, viewer: &str) -> common::Answer {
    let url = format!("{}{EVENTS}?{query}", server.url);
    common::send(
        http,
        "GET",
        &url,
        Some(&format!("key-{viewer}")),
        None,
        None,
    )
    .await
}

/// The filter shapes: indexed (equalities on eventId/eventType, lists, eventTime
/// comparisons in several notations, raisedAfter/Before), indexed with more clauses on
/// top, and shapes that must not use an index (`.ne`, other operators, other
/// attributes, nested paths).
const FILTERS: &[&str] = &[
    "",
    "eventId=e3",
    "eventId=e3,e7,e3",
    "eventId=e10",
    "eventId[eq]=e40",
    "eventId.eq=e5",
    "eventId=nope",
    "eventId=e3&eventId=e3,e4",
    "eventId.ne=e5",
    "eventId.gt=e2",
    "eventType=A",
    "eventType=A,B",
    "eventType=%20A",
    "eventType=Z",
    "eventType=",
    "eventType.ne=A",
    "eventType=A&event.n.gt=100",
    "eventType=A&eventId=e3",
    "eventType=A&eventType=B",
    "eventType=a%00",
    "eventTime.gt=2026-01-01T01:00:00Z",
    "eventTime.gte=2026-01-01T03:00:00%2B02:00",
    "eventTime.lt=2026-01-01T00:30:00",
    "eventTime.lte=2026-01-01T00:03:00.1234567Z",
    "eventTime.gt=2026-01-01T00:03:00.1234566Z&eventTime.lt=2026-01-01T00:03:00.1234568Z",
    "eventTime=2026-01-01T00:06:00.000Z",
    "eventTime=2026-01-01T00:07:00Z,2026-01-01T02:09:00%2B02:00",
    "eventTime[gte]=2026-01-01T02:00:00Z&eventTime[lt]=2026-01-01T03:00:00Z",
    "eventTime.ne=2026-01-01T00:06:00Z",
    "eventTime.gt=2026-01-01T00:30:00Z&eventType=B",
    "raisedAfter=2026-01-01T04:00:00Z",
    "raisedBefore=2026-01-01T00:10:00Z",
    "raisedAfter=2025-12-31T23:59:00Z&raisedBefore=2026-01-01T00:59:30.5Z",
    "event.n.lt=10",
    "event.eventType=A",
    "relatedParty.id=provider-a",
];

/// Every filter shape, paged and projected, as an admin and as a need-to-know
/// restricted provider: the indexed server answers exactly what the scanned one does.
#[tokio::test]
async fn indexed_listings_answer_what_scans_answer() {
    let (indexed, scanned, _store) = servers(300, ScanLimits::default()).await;
    let http = reqwest::Client::new();
    let pages = [
        "",
        "&offset=0&limit=5",
        "&offset=7&limit=3",
        "&offset=290&limit=50",
    ];
    let mut compared = 0;
    let mut non_empty = 0;
    for filter in FILTERS {
        for page in pages {
            for viewer in ["ops", "provider-a"] {
                for fields in ["", "&fields=eventId"] {
                    let query = format!("{filter}{page}{fields}");
                    let a = get(&http, &indexed, &query, viewer).await;
                    let b = get(&http, &scanned, &query, viewer).await;
                    let context = format!("{viewer}: ?{query}");
                    assert!(
                        matches!(a.status, 200 | 206),
                        "{context}: {} {}",
                        a.status,
                        a.text
                    );
                    assert_eq!(a.status, b.status, "{context}");
                    for header in ["x-total-count", "x-result-count"] {
                        assert_eq!(a.header(header), b.header(header), "{context}: {header}");
                    }
                    assert_eq!(a.json(), b.json(), "{context}");
                    compared += 1;
                    if a.header("x-total-count") != Some("0") {
                        non_empty += 1;
                    }
                }
            }
        }
    }
    assert_eq!(compared, FILTERS.len() * pages.len() * 4);
    assert!(
        non_empty > compared / 2,
        "{non_empty} of {compared} found events"
    );
    // Spot checks that the table means what it says.
    let total = |answer: &common::Answer| answer.header("x-total-count").map(str::to_owned);
    assert_eq!(
        total(&get(&http, &indexed, "eventId=e10", "ops").await).as_deref(),
        Some("2")
    );
    assert_eq!(
        total(&get(&http, &indexed, "eventType=A", "ops").await).as_deref(),
        Some("88")
    );
    // Need-to-know holds through an index: e1 names provider-b.
    let hidden = get(&http, &indexed, "eventId=e1", "provider-a").await;
    assert_eq!((hidden.status, total(&hidden).as_deref()), (200, Some("0")));
    assert_eq!(hidden.json(), json!([]));
    let seen = get(&http, &indexed, "eventId=e1", "ops").await;
    assert_eq!(total(&seen).as_deref(), Some("2"));
}

/// Past `max_events_per_request`, a listing is a 400 TMF `Error` naming the indexed
/// attributes; indexed filters selecting few events answer within the same budget.
#[tokio::test]
async fn the_scan_budget_is_a_400_and_indexed_filters_stay_within_it() {
    let scans = ScanLimits {
        max_events_per_request: 100,
        max_concurrent: 2,
    };
    let (indexed, _scanned, _store) = servers(300, scans).await;
    let http = reqwest::Client::new();
    for query in ["event.n.lt=10", "eventType.ne=A", "eventId=e3&offset=0"] {
        let restricted = get(&http, &indexed, query, "provider-a").await;
        if query.starts_with("eventId") {
            assert_eq!(restricted.status, 200, "{query}: {}", restricted.text);
            continue;
        }
        restricted.tmf_error(400, "eventType=").unwrap();
        get(&http, &indexed, query, "ops")
            .await
            .tmf_error(400, "max_events_per_request")
            .unwrap();
    }
    // The index answers these whole (count and page), or narrows them below the budget.
    for (query, viewer, total) in [
        ("eventId=e3,e4", "ops", "4"),
        ("eventType=B", "ops", "88"),
        ("eventType=B&offset=60&limit=5", "ops", "88"),
        ("eventId=e3&event.n.gte=0", "provider-a", "2"),
        ("eventTime.gte=2026-01-01T04:00:00Z", "ops", "45"),
        (
            "raisedAfter=2026-01-01T04:00:00Z&raisedBefore=2026-01-01T04:30:00Z",
            "provider-a",
            "18",
        ),
    ] {
        let answer = get(&http, &indexed, query, viewer).await;
        assert!(
            matches!(answer.status, 200 | 206),
            "{query}: {} {}",
            answer.status,
            answer.text
        );
        assert_eq!(answer.header("x-total-count"), Some(total), "{query}");
    }
    // An index selecting more than the budget, for a caller the count cannot serve.
    get(&http, &indexed, "eventType=A,B", "provider-a")
        .await
        .tmf_error(400, "narrow")
        .unwrap();
}

/// Sixteen clients scanning a 50,000-event log without an index, over and over: the
/// scans run two at a time and yield between batches, so `/health` keeps answering,
/// and every scan still answers the whole truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanning_clients_do_not_starve_health() {
    let (indexed, _scanned, _store) = servers(50_000, ScanLimits::default()).await;
    let http = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    let url = Arc::new(format!(
        "{}{EVENTS}?event.n.lt=3&fields=eventId",
        indexed.url
    ));
    for _ in 0..16 {
        let (http, stop, answered, url) =
            (http.clone(), stop.clone(), answered.clone(), url.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let answer = common::send(&http, "GET", &url, Some("key-ops"), None, None).await;
                assert_eq!(answer.status, 200, "{}", answer.text);
                assert_eq!(answer.header("x-total-count"), Some("3"));
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // The scans are under way once the first has answered.
    let started = common::eventually(Duration::from_secs(120), || async {
        (answered.load(Ordering::Relaxed) > 0).then_some(())
    })
    .await;
    assert!(started.is_some(), "no scan answered within two minutes");
    for _ in 0..5 {
        let health = common::eventually(Duration::from_secs(3), || async {
            let answer = tokio::time::timeout(
                Duration::from_secs(3),
                http.get(format!("{}/health", indexed.url)).send(),
            )
            .await;
            matches!(answer, Ok(Ok(response)) if response.status() == 200).then_some(())
        })
        .await;
        assert!(
            health.is_some(),
            "/health did not answer within 3 s while 16 clients scan"
        );
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
}
