//! The NATS JetStream store: the `Store` contract (topics, the log with sequences and
//! `eventId` de-duplication, reads after a cursor, hubs with cursor/state/owner and
//! fenced progress, retention, listeners) and what is particular to JetStream:
//! de-duplication between two store instances (two processes' connections), a
//! duplicate `eventId` with a different body answered 409 over HTTP, and logs, hubs and
//! `eventId`s that survive reopening the store.
//!
//! Each test gets its own namespace of streams and buckets (see `js_common`); without a
//! reachable server they are skipped loudly, or fail under `TMF688_REQUIRE_NATS=1` /
//! `CI=true`.

mod js_common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde_json::{Value, json};
use tmf688_runtime::store::{
    Appended, EventRecord, HubProgress, HubStart, HubState, NewEvent, NewHub, NewListener,
    NewTopic, Owner,
};
use tmf688_runtime::{
    AppConfig, Hub688, HubConfig, JetStreamOptions, JetStreamStore, ServeConfig, Store, StoreError,
    app_with,
};

fn new_topic(id: Option<&str>, name: &str) -> NewTopic {
    NewTopic {
        id: id.map(str::to_owned),
        name: name.into(),
        body: Bytes::from(format!(r#"{{"name":"{name}","@type":"Topic"}}"#)),
    }
}

fn new_event(event_id: &str) -> NewEvent {
    NewEvent {
        event_id: event_id.into(),
        publisher: String::new(),
        body: Bytes::from(format!(r#"{{"eventId":"{event_id}","b":1,"a":[2]}}"#)),
    }
}

fn new_hub(topic: &str, callback: &str, query: Option<&str>, owner: Option<&str>) -> NewHub {
    NewHub {
        topic_id: topic.into(),
        callback: callback.into(),
        query: query.map(str::to_owned),
        body: Bytes::from(format!(r#"{{"callback":"{callback}"}}"#)),
        owner: owner.map(|name| Owner::new("api-key", name)),
        base_path: Some("/psi-api/event/v2".into()),
        start: HubStart::Head,
    }
}

fn progress(hub: &str, epoch: u64, cursor: u64) -> HubProgress {
    HubProgress {
        hub_id: hub.into(),
        epoch,
        cursor,
        attempts: 2,
        last_error: Some("503".into()),
        state: HubState::Active,
    }
}

fn created_seq(outcome: &Appended) -> Option<u64> {
    match outcome {
        Appended::Created(record) => Some(record.seq),
        Appended::Existing(_) => None,
    }
}

#[tokio::test]
async fn topics_create_conflict_list_delete() {
    let nats = test_nats!("topics");
    let store = nats.store().await;
    let t = store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    assert_eq!(t.id, "t");
    // Taken name (with another id): a conflict naming the topic that has it. Taken id
    // (with another name): created, with a fresh id.
    let name_taken = store.create_topic(new_topic(Some("u"), "t")).await;
    assert!(
        matches!(&name_taken, Err(StoreError::Conflict(why))
            if why == "a topic named \"t\" already exists (id \"t\")"),
        "{name_taken:?}"
    );
    let id_taken = store
        .create_topic(new_topic(Some("t"), "other"))
        .await
        .unwrap();
    assert!(id_taken.id.starts_with("topic-"), "{}", id_taken.id);
    let auto = store
        .create_topic(new_topic(None, "with spaces / and ünïcode"))
        .await
        .unwrap();
    assert!(auto.id.starts_with("topic-"), "{}", auto.id);
    let listed: Vec<String> = store
        .topics()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(listed, ["t", "other", "with spaces / and ünïcode"]);
    assert_eq!(store.topic("t").await.unwrap().unwrap().body, t.body);
    assert_eq!(store.topic("nope").await.unwrap(), None);

    store
        .append_events("t", vec![new_event("a")])
        .await
        .unwrap();
    let (hub, _) = store
        .create_hub(new_hub("t", "http://127.0.0.1:1/cb", None, None))
        .await
        .unwrap();
    assert!(store.delete_topic("t").await.unwrap());
    assert!(!store.delete_topic("t").await.unwrap());
    assert!(matches!(
        store.read_events("t", 0, 10).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.hubs("t").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.hub_by_id(&hub.id).await.unwrap(), None);
    // The name is free again, the new log starts at 1, and its eventIds are new.
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    let out = store
        .append_events("t", vec![new_event("a")])
        .await
        .unwrap();
    assert_eq!(created_seq(&out[0]), Some(1));
}

#[tokio::test]
async fn log_sequences_dedup_and_cursor_reads() {
    let nats = test_nats!("log");
    let store = nats.store().await;
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    store.create_topic(new_topic(Some("u"), "u")).await.unwrap();
    let out = store
        .append_events("t", vec![new_event("a"), new_event("b"), new_event("a")])
        .await
        .unwrap();
    assert_eq!(
        out.iter().map(created_seq).collect::<Vec<_>>(),
        [Some(1), Some(2), None]
    );
    assert!(matches!(&out[2], Appended::Existing(r) if r.seq == 1 && r.id == "1"));
    let again = store
        .append_events("t", vec![new_event("c"), new_event("b")])
        .await
        .unwrap();
    assert_eq!(created_seq(&again[0]), Some(3));
    match &again[1] {
        Appended::Existing(r) => {
            assert_eq!((r.seq, r.event_id.as_str()), (2, "b"));
            assert_eq!(r.body, new_event("b").body);
        }
        other => panic!("{other:?}"),
    }
    // One publisher's eventId is not another's.
    let mut other = new_event("a");
    other.publisher = "api-key\u{1f}bob".into();
    let theirs = store.append_events("t", vec![other]).await.unwrap();
    assert_eq!(created_seq(&theirs[0]), Some(4));
    let u = store
        .append_events("u", vec![new_event("a")])
        .await
        .unwrap();
    assert_eq!(created_seq(&u[0]), Some(1));
    assert_eq!(store.append_events("t", vec![]).await.unwrap(), vec![]);
    assert!(matches!(
        store.append_events("nope", vec![new_event("x")]).await,
        Err(StoreError::NotFound(_))
    ));

    assert_eq!(store.head("t").await.unwrap(), 4);
    assert!(matches!(
        store.head("nope").await,
        Err(StoreError::NotFound(_))
    ));
    let after_1 = store.read_events("t", 1, 10).await.unwrap();
    assert_eq!(
        after_1
            .iter()
            .map(|e| (e.seq, e.event_id.as_str(), e.publisher.as_str()))
            .collect::<Vec<_>>(),
        [(2, "b", ""), (3, "c", ""), (4, "a", "api-key\u{1f}bob")]
    );
    assert_eq!(store.read_events("t", 0, 2).await.unwrap().len(), 2);
    assert_eq!(store.read_events("t", 4, 10).await.unwrap(), vec![]);
    assert_eq!(store.read_events("t", u64::MAX, 10).await.unwrap(), vec![]);
    // Long reads (an ordered consumer rather than one request per event).
    let many: Vec<NewEvent> = (0..50).map(|i| new_event(&format!("m{i}"))).collect();
    store.append_events("u", many).await.unwrap();
    let log = store.read_events("u", 0, usize::MAX).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=51).collect::<Vec<_>>()
    );
    assert_eq!(store.read_events("u", 10, 20).await.unwrap()[19].seq, 30);
    // Bodies are kept verbatim.
    assert_eq!(
        store.event("t", "1").await.unwrap().unwrap().body,
        new_event("a").body
    );
    for bad in ["02", "0", "-1", "x", "5", ""] {
        assert_eq!(store.event("t", bad).await.unwrap(), None, "{bad:?}");
    }
    assert_eq!(store.event("nope", "1").await.unwrap(), None);
}

/// Two store instances (two connections, as two server processes) appending to one
/// topic, with eventIds both send: gapless sequences, each eventId stored once, and
/// both answers name the stored event.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_store_instances_share_sequences_and_deduplicate() {
    let nats = test_nats!("two_writers");
    let stores = [Arc::new(nats.store().await), Arc::new(nats.store().await)];
    stores[0]
        .create_topic(new_topic(Some("t"), "t"))
        .await
        .unwrap();
    let per_writer = 25;
    let mut tasks = Vec::new();
    for (p, store) in stores.iter().enumerate() {
        for w in 0..3 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut answers = Vec::new();
                for i in 0..per_writer {
                    let batch = vec![
                        new_event(&format!("p{p}w{w}-{i}")),
                        new_event(&format!("both-{w}-{i}")),
                    ];
                    let out = store.append_events("t", batch).await.unwrap();
                    assert!(matches!(out[0], Appended::Created(_)), "{out:?}");
                    answers.push(out[1].clone());
                }
                answers
            }));
        }
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.unwrap());
    }
    let log = stores[1].read_events("t", 0, usize::MAX).await.unwrap();
    assert_eq!(log.len(), 2 * 3 * per_writer + 3 * per_writer);
    for (i, event) in log.iter().enumerate() {
        assert_eq!(event.seq, i as u64 + 1, "gapless");
    }
    for w in 0..3 {
        for i in 0..per_writer {
            let id = format!("both-{w}-{i}");
            let stored: Vec<&EventRecord> = log.iter().filter(|e| e.event_id == id).collect();
            assert_eq!(stored.len(), 1, "{id} stored once");
            let mine: Vec<&EventRecord> = answers
                .iter()
                .filter_map(|a| match a {
                    Appended::Created(r) | Appended::Existing(r) if r.event_id == id => Some(r),
                    _ => None,
                })
                .collect();
            assert_eq!(mine.len(), 2, "{id}");
            assert!(mine.iter().all(|r| r.seq == stored[0].seq), "{id}");
            let created = answers
                .iter()
                .filter(|a| matches!(a, Appended::Created(r) if r.event_id == id))
                .count();
            assert_eq!(created, 1, "{id} created once");
        }
    }
}

/// Sequences, `eventId`s, hubs and their progress survive reopening the store (a
/// server restart). The repeated `eventId` is answered from the store's `eventId`
/// record before anything is published (the duplicate window is the shortest
/// JetStream allows, 100 ms, and plays no part).
#[tokio::test]
async fn state_survives_reopening_the_store() {
    let nats = test_nats!("reopen");
    let options = JetStreamOptions {
        duplicate_window: Duration::from_millis(100),
        ..nats.options()
    };
    let hub_id;
    {
        let store = JetStreamStore::connect(&nats.url, options.clone())
            .await
            .unwrap();
        store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
        store
            .append_events("t", vec![new_event("a"), new_event("b")])
            .await
            .unwrap();
        let (hub, _) = store
            .create_hub(new_hub("t", "http://127.0.0.1:9/cb", None, Some("alice")))
            .await
            .unwrap();
        hub_id = hub.id;
        assert!(
            store
                .save_progress(&[progress(&hub_id, 0, 1)], "r")
                .await
                .unwrap()
                .is_empty()
        );
    }
    let store = JetStreamStore::connect(&nats.url, options).await.unwrap();
    assert_eq!(store.head("t").await.unwrap(), 2);
    let out = store
        .append_events("t", vec![new_event("a"), new_event("c")])
        .await
        .unwrap();
    assert!(
        matches!(&out[0], Appended::Existing(r) if r.seq == 1),
        "{out:?}"
    );
    assert_eq!(created_seq(&out[1]), Some(3));
    let hub = store.hub_by_id(&hub_id).await.unwrap().unwrap();
    assert_eq!(
        (
            hub.cursor,
            hub.attempts,
            hub.last_error.as_deref(),
            hub.owner.map(|o| o.name)
        ),
        (1, 2, Some("503"), Some("alice".to_owned()))
    );
    let (same, created) = store
        .create_hub(new_hub("t", "http://127.0.0.1:9/cb", None, Some("alice")))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(same.id, hub_id);
}

#[tokio::test]
async fn hubs_dedup_progress_fences_and_operator_actions() {
    let nats = test_nats!("hubs");
    let store = nats.store().await;
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    store
        .append_events("t", vec![new_event("a"), new_event("b")])
        .await
        .unwrap();
    let cb = "http://127.0.0.1:9/cb";
    let (first, created) = store
        .create_hub(new_hub("t", cb, None, None))
        .await
        .unwrap();
    assert!(created);
    assert_eq!((first.cursor, first.state), (2, HubState::Active));
    let (again, created) = store
        .create_hub(new_hub("t", cb, None, None))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, first);
    let variants = [
        new_hub("t", cb, Some("a=1"), None),
        new_hub("t", cb, None, Some("alice")),
        new_hub("t", cb, None, Some("")),
        new_hub("t", "http://127.0.0.1:9/other", None, None),
    ];
    let mut ids = vec![first.id.clone()];
    for variant in variants {
        let (hub, created) = store.create_hub(variant.clone()).await.unwrap();
        assert!(created, "{variant:?}");
        ids.push(hub.id);
    }
    let listed: Vec<String> = store
        .hubs("t")
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(listed, ids, "registration order");
    // Every topic's hubs in one call: topics in creation order, then registration order.
    store.create_topic(new_topic(Some("u"), "u")).await.unwrap();
    let (on_u, _) = store
        .create_hub(new_hub("u", cb, None, None))
        .await
        .unwrap();
    let all: Vec<String> = store
        .all_hubs()
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(all, [ids.clone(), vec![on_u.id]].concat());
    assert_eq!(
        store
            .count_hubs_of(Some(&Owner::new("api-key", "alice")))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.count_hubs_of(None).await.unwrap(), 4);
    let mut beginning = new_hub("t", "http://127.0.0.1:9/replay", None, None);
    beginning.start = HubStart::Beginning;
    assert_eq!(store.create_hub(beginning).await.unwrap().0.cursor, 0);
    assert!(matches!(
        store.create_hub(new_hub("nope", cb, None, None)).await,
        Err(StoreError::NotFound(_))
    ));

    // Cursor (never past the head) and state.
    store.set_cursor(&first.id, 99).await.unwrap();
    store
        .set_hub_state(&first.id, HubState::Halted)
        .await
        .unwrap();
    let stored = store.hub("t", &first.id).await.unwrap().unwrap();
    assert_eq!((stored.cursor, stored.state), (2, HubState::Halted));
    assert!(matches!(
        store.set_cursor("hub-nope", 1).await,
        Err(StoreError::NotFound(_))
    ));
    // Progress of the current epoch is saved; an operator's action bumps the epoch and
    // refuses the progress of workers started before it.
    assert!(
        store
            .save_progress(&[progress(&first.id, 0, 1)], "r")
            .await
            .unwrap()
            .is_empty()
    );
    let operated = store.operate_hub(&first.id, Some(0)).await.unwrap();
    assert_eq!(
        (
            operated.cursor,
            operated.state,
            operated.attempts,
            operated.epoch
        ),
        (0, HubState::Active, 0, 1)
    );
    assert_eq!(
        store
            .save_progress(
                &[progress(&first.id, 0, 2), progress("hub-gone", 0, 1)],
                "r"
            )
            .await
            .unwrap(),
        vec![first.id.clone()]
    );
    let stored = store.hub_by_id(&first.id).await.unwrap().unwrap();
    assert_eq!((stored.cursor, stored.epoch), (0, 1));

    // A hub belongs to its topic; deleting frees its identity.
    assert_eq!(store.hub("other", &first.id).await.unwrap(), None);
    assert!(!store.delete_hub("other", &first.id).await.unwrap());
    assert!(store.delete_hub("t", &first.id).await.unwrap());
    assert!(!store.delete_hub("t", &first.id).await.unwrap());
    let (fresh, created) = store
        .create_hub(new_hub("t", cb, None, None))
        .await
        .unwrap();
    assert!(created);
    assert_ne!(fresh.id, first.id);
}

#[tokio::test]
async fn retention_trims_behind_cursors_and_records_dead_letters() {
    let nats = test_nats!("retention");
    let store = nats.store().await;
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    let events: Vec<NewEvent> = (0..10).map(|i| new_event(&format!("e{i}"))).collect();
    store.append_events("t", events).await.unwrap();
    let bounds = store.log_bounds("t").await.unwrap();
    assert_eq!((bounds.first, bounds.head, bounds.trimmed), (1, 10, 0));
    let mut slow = new_hub("t", "http://127.0.0.1:9/slow", None, None);
    slow.start = HubStart::Beginning;
    let (slow, _) = store.create_hub(slow).await.unwrap();
    store.set_cursor(&slow.id, 4).await.unwrap();
    // Never past a hub's cursor, at most max_rows per call.
    assert_eq!(store.trim_events("t", 8, 3).await.unwrap(), 3);
    assert_eq!(store.trim_events("t", 8, 100).await.unwrap(), 1);
    assert_eq!(store.trim_events("t", 8, 100).await.unwrap(), 0);
    let bounds = store.log_bounds("t").await.unwrap();
    assert_eq!((bounds.first, bounds.head, bounds.trimmed), (5, 10, 4));
    assert_eq!(store.read_events("t", 0, 2).await.unwrap()[0].seq, 5);
    assert_eq!(store.event("t", "4").await.unwrap(), None);
    // A trimmed event's eventId is free again (as on the other stores).
    let out = store
        .append_events("t", vec![new_event("e0")])
        .await
        .unwrap();
    assert_eq!(created_seq(&out[0]), Some(11));
    // Everything was stored before now, nothing before the epoch.
    assert_eq!(
        store
            .seq_stored_since("t", 0, SystemTime::now() + Duration::from_secs(60))
            .await
            .unwrap(),
        12
    );
    assert_eq!(
        store
            .seq_stored_since("t", 6, SystemTime::UNIX_EPOCH)
            .await
            .unwrap(),
        7
    );
    // max_undelivered_age: the backlog up to 8 given up, the hub halted, a dead letter;
    // a second expiry while still halted extends it.
    let expired = store
        .expire_backlog(&slow.id, 8, "too old")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((expired.first, expired.last), (5, 8));
    let hub = store.hub_by_id(&slow.id).await.unwrap().unwrap();
    assert_eq!(
        (hub.cursor, hub.state, hub.epoch, hub.halt_reason.as_deref()),
        (8, HubState::Halted, 1, Some("too old"))
    );
    let extended = store
        .expire_backlog(&slow.id, 10, "older")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (extended.id, extended.first, extended.last),
        (expired.id, 5, 10)
    );
    assert_eq!(store.expire_backlog(&slow.id, 10, "x").await.unwrap(), None);
    let letters = store.dead_letters(&slow.id).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!((letters[0].last, letters[0].reason.as_str()), (10, "older"));
    assert_eq!(
        store
            .forget_dead_letters(SystemTime::now() + Duration::from_secs(1), 10)
            .await
            .unwrap(),
        1
    );
    assert!(store.dead_letters(&slow.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn listeners_create_list_delete() {
    let nats = test_nats!("listeners");
    let store = nats.store().await;
    let a = store
        .create_listener(NewListener {
            callback: "http://127.0.0.1:9/a".into(),
            query: Some("eventType=X".into()),
            owner: Some(Owner::new("api-key", "alice")),
        })
        .await
        .unwrap();
    let b = store
        .create_listener(NewListener {
            callback: "http://127.0.0.1:9/b".into(),
            query: None,
            owner: None,
        })
        .await
        .unwrap();
    assert_eq!(store.listeners().await.unwrap(), vec![a.clone(), b.clone()]);
    assert!(store.delete_listener(&a.id).await.unwrap());
    assert!(!store.delete_listener(&a.id).await.unwrap());
    assert!(!store.delete_listener("../x").await.unwrap());
    assert_eq!(store.listeners().await.unwrap(), vec![b]);
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
    (status, value)
}

/// Over HTTP on a JetStream store: a repeated event is acknowledged with the stored
/// one; the same `eventId` with a different body is a 409 naming it — also from a
/// second server on the same store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_event_id_with_another_body_is_a_conflict() {
    let nats = test_nats!("conflict");
    let mut urls = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let hub = Hub688::new(Arc::new(nats.store().await), HubConfig::default())
            .await
            .unwrap();
        let app = app_with(Arc::new(hub), &AppConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}", listener.local_addr().unwrap()));
        tasks.push(tokio::spawn(tmf688_runtime::serve(
            listener,
            app,
            ServeConfig::default(),
            std::future::pending(),
        )));
    }
    let http = reqwest::Client::new();
    let event = json!({"@type": "Event", "eventId": "e-1", "eventType": "X", "event": {"n": 1}});
    let (status, first) = post(
        &http,
        format!("{}/tmf-api/event/v4/topic/order/event", urls[0]),
        event.clone(),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = post(
        &http,
        format!("{}/tmf-api/event/v4/topic/order/event", urls[1]),
        event,
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {again}");
    assert_eq!(again["id"], first["id"]);
    let changed = json!({"@type": "Event", "eventId": "e-1", "eventType": "X", "event": {"n": 2}});
    for url in &urls {
        let (status, error) = post(
            &http,
            format!("{url}/tmf-api/event/v4/topic/order/event"),
            changed.clone(),
        )
        .await;
        assert_eq!(status, 409, "{error}");
        assert!(
            error["reason"].as_str().is_some() || error["message"].as_str().is_some(),
            "{error}"
        );
    }
    for task in tasks {
        task.abort();
    }
}
