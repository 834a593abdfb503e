//! The PostgreSQL store: the `Store` contract (topics, the log with sequences and
//! `eventId` de-duplication, reads after a cursor, hubs with cursor/state/owner,
//! listeners), concurrency, durability across a reconnect, and delivery end to end.
//!
//! Each test creates its own database (see `pg_common`); without a reachable server
//! they are skipped loudly, or fail under `TMF688_REQUIRE_POSTGRES=1`.

mod pg_common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value, json};
use tmf688_runtime::delivery::{DeliveryConfig, DeliveryEngine, RetryConfig};
use tmf688_runtime::store::{
    AppendNotice, Appended, EventRecord, HubProgress, HubStart, HubState, NewEvent, NewHub,
    NewListener, NewTopic, Owner,
};
use tmf688_runtime::{
    AppConfig, Hub688, HubConfig, PgStore, ServeConfig, Store, StoreError, app_with,
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
        attempts: 0,
        last_error: None,
        state: HubState::Active,
    }
}

/// Saves one hub's progress as `replica` (epoch 0); whether the store took it.
async fn save(store: &PgStore, hub: &str, cursor: u64, replica: &str) -> bool {
    store
        .save_progress(&[progress(hub, 0, cursor)], replica)
        .await
        .unwrap()
        .is_empty()
}

fn created_seq(outcome: &Appended) -> Option<u64> {
    match outcome {
        Appended::Created(record) => Some(record.seq),
        Appended::Existing(_) => None,
    }
}

#[tokio::test]
async fn topics_create_conflict_list_delete() {
    let db = test_db!("topics");
    let store = db.store().await;
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
    assert_eq!(id_taken.name, "other");
    // A server-assigned id.
    let auto = store
        .create_topic(new_topic(None, "with spaces"))
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
    assert_eq!(listed, ["t", "other", "with spaces"]);
    // Bodies come back byte for byte.
    let again = store.topic("t").await.unwrap().unwrap();
    assert_eq!(again.body, t.body);
    assert_eq!(store.topic("nope").await.unwrap(), None);

    store
        .append_events("t", vec![new_event("a")])
        .await
        .unwrap();
    store
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
    // The name is free again, and the new log starts at 1.
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    let out = store
        .append_events("t", vec![new_event("a")])
        .await
        .unwrap();
    assert_eq!(created_seq(&out[0]), Some(1));
}

#[tokio::test]
async fn log_sequences_dedup_and_cursor_reads() {
    let db = test_db!("log");
    let store = db.store().await;
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
    // Across calls: the stored one comes back, with its body.
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
    // Another topic has its own log and its own eventIds.
    let u = store
        .append_events("u", vec![new_event("a")])
        .await
        .unwrap();
    assert_eq!(created_seq(&u[0]), Some(1));
    // An empty batch is fine; an unknown topic is not.
    assert_eq!(store.append_events("t", vec![]).await.unwrap(), vec![]);
    assert!(matches!(
        store.append_events("nope", vec![new_event("x")]).await,
        Err(StoreError::NotFound(_))
    ));

    assert_eq!(store.head("t").await.unwrap(), 3);
    assert_eq!(store.head("u").await.unwrap(), 1);
    assert!(matches!(
        store.head("nope").await,
        Err(StoreError::NotFound(_))
    ));
    let after_1 = store.read_events("t", 1, 10).await.unwrap();
    assert_eq!(
        after_1
            .iter()
            .map(|e| (e.seq, e.event_id.as_str()))
            .collect::<Vec<_>>(),
        [(2, "b"), (3, "c")]
    );
    assert_eq!(store.read_events("t", 0, 2).await.unwrap().len(), 2);
    assert_eq!(
        store.read_events("t", 0, usize::MAX).await.unwrap().len(),
        3
    );
    assert_eq!(store.read_events("t", 3, 10).await.unwrap(), vec![]);
    assert_eq!(store.read_events("t", u64::MAX, 10).await.unwrap(), vec![]);
    assert!(matches!(
        store.read_events("nope", 0, 10).await,
        Err(StoreError::NotFound(_))
    ));
    // Body bytes are kept verbatim (key order, spacing): `json`, not `jsonb`.
    let first = store.event("t", "1").await.unwrap().unwrap();
    assert_eq!(first.body, new_event("a").body);
    assert_eq!(store.event("t", "2").await.unwrap().unwrap().event_id, "b");
    for bad in ["02", "0", "-1", "x", "4", ""] {
        assert_eq!(store.event("t", bad).await.unwrap(), None, "{bad:?}");
    }
    assert_eq!(store.event("nope", "1").await.unwrap(), None);
}

/// Two processes (two stores on one database) appending to one topic, with eventIds
/// both send: gapless sequences, each eventId stored once, and the process whose copy
/// lost gets `Existing` with the stored record (the insert-first statement fails on
/// the unique key; the locked path answers).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_appending_share_sequences_and_deduplicate() {
    let db = test_db!("two_writers");
    let stores = [Arc::new(db.store().await), Arc::new(db.store().await)];
    stores[0]
        .create_topic(new_topic(Some("t"), "t"))
        .await
        .unwrap();
    let per_writer = 60;
    let mut tasks = Vec::new();
    for (p, store) in stores.iter().enumerate() {
        for w in 0..4 {
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
    assert_eq!(log.len(), 2 * 4 * per_writer + 4 * per_writer);
    for (i, event) in log.iter().enumerate() {
        assert_eq!(event.seq, i as u64 + 1, "gapless");
    }
    // Each shared eventId: one Created, one Existing, both naming the stored event.
    for w in 0..4 {
        for i in 0..per_writer {
            let id = format!("both-{w}-{i}");
            let stored: Vec<&EventRecord> = log.iter().filter(|e| e.event_id == id).collect();
            assert_eq!(stored.len(), 1, "{id} stored once");
            let mine: Vec<&Appended> = answers
                .iter()
                .filter(|a| matches!(a, Appended::Created(r) | Appended::Existing(r) if r.event_id == id))
                .collect();
            assert_eq!(mine.len(), 2, "{id}");
            assert_eq!(
                mine.iter()
                    .filter(|a| matches!(a, Appended::Created(_)))
                    .count(),
                1,
                "{id}"
            );
            for answer in mine {
                let (Appended::Created(record) | Appended::Existing(record)) = answer;
                assert_eq!(record.seq, stored[0].seq, "{id}");
            }
        }
    }
}

/// A topic removed while appends to it are in flight leaves none of their events
/// behind (since migration 0010 a trigger, not a foreign key, removes them), and the
/// topic made again under its id starts an empty log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn removing_a_topic_during_appends_leaves_no_events_behind() {
    let db = test_db!("remove_during_appends");
    let store = Arc::new(db.store().await);
    for round in 0..5 {
        store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..8 {
            let store = store.clone();
            writers.spawn(async move {
                for n in 0..30 {
                    let id = format!("r{round}-w{w}-{n}");
                    match store.append_events("t", vec![new_event(&id)]).await {
                        Ok(_) => {}
                        Err(StoreError::NotFound(_)) => return,
                        Err(other) => panic!("{other:?}"),
                    }
                }
            });
        }
        // Remove it once some appends were acknowledged, while others are in flight.
        let deadline = Instant::now() + Duration::from_secs(30);
        while store.head("t").await.unwrap() < 10 {
            assert!(Instant::now() < deadline, "no appends acknowledged");
            tokio::task::yield_now().await;
        }
        assert!(store.delete_topic("t").await.unwrap());
        while let Some(done) = writers.join_next().await {
            done.unwrap();
        }
        let (left,): (i64,) = sqlx::query_as("SELECT count(*) FROM events WHERE topic_id = 't'")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(left, 0, "round {round}");
    }
}

/// Concurrent writers to one topic: gapless sequences 1..=n, each writer's events in
/// its own order, duplicates across writers stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_are_totally_ordered_and_deduplicated() {
    let db = test_db!("concurrent");
    let store = Arc::new(db.store().await);
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    let writers = 8;
    let per_writer = 40;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                // Batches of 1 and 2; every writer also sends the shared "dup-i".
                let mut batch = vec![new_event(&format!("w{w}-{i}"))];
                if i % 2 == 0 {
                    batch.push(new_event(&format!("dup-{i}")));
                }
                let asked: Vec<String> = batch.iter().map(|e| e.event_id.clone()).collect();
                // Group commit shares transactions between writers: each still gets
                // the outcomes of its own events, in its order.
                let out = store.append_events("t", batch).await.unwrap();
                let got: Vec<String> = out
                    .iter()
                    .map(|o| match o {
                        Appended::Created(r) | Appended::Existing(r) => r.event_id.clone(),
                    })
                    .collect();
                assert_eq!(got, asked);
                assert!(matches!(out[0], Appended::Created(_)));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let log = store.read_events("t", 0, usize::MAX).await.unwrap();
    let expected = writers * per_writer + per_writer / 2;
    assert_eq!(log.len(), expected);
    for (i, event) in log.iter().enumerate() {
        assert_eq!(event.seq, i as u64 + 1, "gapless");
        assert_eq!(event.id, event.seq.to_string());
    }
    for w in 0..writers {
        let mine: Vec<usize> = log
            .iter()
            .filter_map(|e| e.event_id.strip_prefix(&format!("w{w}-")))
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(
            mine,
            (0..per_writer).collect::<Vec<_>>(),
            "writer {w} in order"
        );
    }
}

#[tokio::test]
async fn hubs_dedup_cursor_state_owner() {
    let db = test_db!("hubs");
    let store = db.store().await;
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
    assert!(first.id.starts_with("hub-"));
    assert_eq!(
        (
            first.cursor,
            first.state,
            first.owner.as_ref().map(|o| o.name.as_str())
        ),
        (2, HubState::Active, None),
        "starts at the head"
    );
    // Same (topic, callback, query, owner): the same hub. NULLs compare equal.
    let (again, created) = store
        .create_hub(new_hub("t", cb, None, None))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, first);
    // Any difference makes another hub; "" is not "absent".
    let variants = [
        new_hub("t", cb, Some("a=1"), None),
        new_hub("t", cb, None, Some("alice")),
        new_hub("t", cb, None, Some("")),
        new_hub("t", cb, Some("a=1"), Some("alice")),
        new_hub("t", "http://127.0.0.1:9/other", None, None),
    ];
    let mut ids = vec![first.id.clone()];
    for variant in variants {
        let (hub, created) = store.create_hub(variant.clone()).await.unwrap();
        assert!(created, "{variant:?}");
        let (same, created) = store.create_hub(variant.clone()).await.unwrap();
        assert!(!created);
        assert_eq!(same.id, hub.id);
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
    // Every topic's hubs in one call (the supervisor's reconciliation).
    let all: Vec<String> = store
        .all_hubs()
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(all, ids, "one topic: its hubs in registration order");
    let alice = store.hub("t", &ids[2]).await.unwrap().unwrap();
    assert_eq!(alice.owner.as_ref().map(|o| o.name.as_str()), Some("alice"));
    assert_eq!(alice.query, None);
    assert_eq!(
        store
            .hub("t", &ids[1])
            .await
            .unwrap()
            .unwrap()
            .query
            .as_deref(),
        Some("a=1")
    );

    // From the beginning.
    let mut beginning = new_hub("t", "http://127.0.0.1:9/replay", None, None);
    beginning.start = HubStart::Beginning;
    assert_eq!(store.create_hub(beginning).await.unwrap().0.cursor, 0);
    assert!(matches!(
        store.create_hub(new_hub("nope", cb, None, None)).await,
        Err(StoreError::NotFound(_))
    ));

    // Cursor and state.
    store.set_cursor(&first.id, 0).await.unwrap();
    store
        .set_hub_state(&first.id, HubState::Halted)
        .await
        .unwrap();
    let stored = store.hub("t", &first.id).await.unwrap().unwrap();
    assert_eq!((stored.cursor, stored.state), (0, HubState::Halted));
    store.set_cursor(&first.id, 2).await.unwrap();
    store
        .set_hub_state(&first.id, HubState::Active)
        .await
        .unwrap();
    let stored = store.hub("t", &first.id).await.unwrap().unwrap();
    assert_eq!((stored.cursor, stored.state), (2, HubState::Active));
    assert!(matches!(
        store.set_cursor("hub-nope", 1).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.set_hub_state("hub-nope", HubState::Halted).await,
        Err(StoreError::NotFound(_))
    ));
    // A hub belongs to its topic.
    assert_eq!(store.hub("other", &first.id).await.unwrap(), None);
    assert!(!store.delete_hub("other", &first.id).await.unwrap());
    assert!(store.delete_hub("t", &first.id).await.unwrap());
    assert!(!store.delete_hub("t", &first.id).await.unwrap());
    assert_eq!(store.hub("t", &first.id).await.unwrap(), None);
    // Re-registering after a delete makes a new hub.
    let (fresh, created) = store
        .create_hub(new_hub("t", cb, None, None))
        .await
        .unwrap();
    assert!(created);
    assert_ne!(fresh.id, first.id);
}

#[tokio::test]
async fn listeners_create_list_delete() {
    let db = test_db!("listeners");
    let store = db.store().await;
    assert_eq!(store.listeners().await.unwrap(), vec![]);
    let a = store
        .create_listener(NewListener {
            callback: "http://127.0.0.1:9/a".into(),
            query: Some("eventType=TopicCreateEvent".into()),
            owner: Some(Owner::new("api-key", "ops")),
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
    assert!(a.id.starts_with("listener-"));
    assert_eq!(store.listeners().await.unwrap(), vec![a.clone(), b.clone()]);
    assert!(store.delete_listener(&a.id).await.unwrap());
    assert!(!store.delete_listener(&a.id).await.unwrap());
    assert_eq!(store.listeners().await.unwrap(), vec![b]);
}

/// A second start on an existing database migrates nothing and sees everything: what
/// was acknowledged before survives the "restart".
#[tokio::test]
async fn restart_on_an_existing_database() {
    let db = test_db!("restart");
    let store = db.store().await;
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    store
        .append_events("t", vec![new_event("a"), new_event("b")])
        .await
        .unwrap();
    let (hub, _) = store
        .create_hub(new_hub("t", "http://127.0.0.1:9/cb", None, Some("o")))
        .await
        .unwrap();
    store.set_cursor(&hub.id, 1).await.unwrap();
    store.close().await;

    // Two processes starting at once on the same database.
    let (again, twin) = tokio::join!(db.store(), db.store());
    for store in [&again, &twin] {
        let log = store.read_events("t", 0, usize::MAX).await.unwrap();
        assert_eq!(log.len(), 2);
        let stored = store.hub("t", &hub.id).await.unwrap().unwrap();
        assert_eq!(
            (
                stored.cursor,
                stored.owner.as_ref().map(|o| o.name.as_str())
            ),
            (1, Some("o"))
        );
    }
    let out = again
        .append_events("t", vec![new_event("b"), new_event("c")])
        .await
        .unwrap();
    assert_eq!(
        out.iter().map(created_seq).collect::<Vec<_>>(),
        [None, Some(3)]
    );
    let applied: (i64,) = sqlx::query_as("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(again.pool())
        .await
        .unwrap();
    assert_eq!(
        applied.0,
        tmf688_runtime::store::postgres::MIGRATOR.iter().count() as i64
    );
}

/// A callback receiver: the bodies it got, in order.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Value>>>,
    /// While set, the receiver answers 503 and keeps nothing.
    refuse: Arc<AtomicBool>,
}

impl Receiver {
    async fn start(&self) -> String {
        async fn receive(State(receiver): State<Receiver>, body: Bytes) -> StatusCode {
            if receiver.refuse.load(Ordering::SeqCst) {
                return StatusCode::SERVICE_UNAVAILABLE;
            }
            let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            receiver.got.lock().unwrap().push(value);
            StatusCode::CREATED
        }
        let app = Router::new()
            .fallback(axum::routing::post(receive))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/listener/order")
    }

    fn event_ids(&self) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|v| v["eventId"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    async fn wait_for(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.got.lock().unwrap().len() < count {
            assert!(
                Instant::now() < deadline,
                "timed out: {} of {count} delivered",
                self.got.lock().unwrap().len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A hub server over a `PgStore` with its delivery engine, on a loopback port.
struct PgHub {
    url: String,
    hub: Arc<Hub688<PgStore>>,
    engine: DeliveryEngine<PgStore>,
    task: tokio::task::JoinHandle<()>,
}

impl PgHub {
    async fn start(db: &pg_common::TestDb) -> Self {
        Self::start_with(db, DeliveryConfig::default()).await
    }

    async fn start_with(db: &pg_common::TestDb, config: DeliveryConfig) -> Self {
        let hub = Hub688::new(Arc::new(db.store().await), HubConfig::default())
            .await
            .unwrap();
        let engine = DeliveryEngine::start(&hub, config).await.unwrap();
        let hub = Arc::new(hub);
        let app = app_with(hub.clone(), &AppConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(tmf688_runtime::serve(
            listener,
            app,
            ServeConfig::default(),
            std::future::pending(),
        ));
        Self {
            url,
            hub,
            engine,
            task,
        }
    }

    /// Registers a hub of `order` with `callback` on the PSI path; its id.
    async fn register(&self, http: &reqwest::Client, callback: &str) -> String {
        let (status, hub) = post(
            http,
            format!("{}/psi-api/event/v2/topic/order/hub", self.url),
            json!({"callback": callback}),
        )
        .await;
        assert_eq!(status, 201, "{hub}");
        hub["id"].as_str().unwrap().to_owned()
    }

    async fn stop(self) {
        self.task.abort();
        self.engine.shutdown().await;
        self.hub.store().close().await;
    }
}

fn order_event(n: usize) -> Value {
    json!({
        "@type": "ProductOrderStateChangeEvent",
        "eventId": format!("e-{n}"),
        "eventType": "ProductOrderStateChangeEvent",
        "event": {"productOrder": {"id": format!("po-{n}"), "state": "completed"}}
    })
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
    let bytes = response.bytes().await.unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

/// Over HTTP: a hub registered on a PgStore server receives every acknowledged event
/// once, in order; the cursor is in the database, so after a restart of the server
/// only new events are delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delivery_end_to_end_survives_a_restart() {
    let db = test_db!("delivery");
    let receiver = Receiver::default();
    let callback = receiver.start().await;
    let http = reqwest::Client::new();
    const PSI: &str = "/psi-api/event/v2";

    let server = PgHub::start(&db).await;
    let hub_id = server.register(&http, &callback).await;
    for n in 0..30 {
        let (status, body) = post(
            &http,
            format!("{}{PSI}/topic/order/event", server.url),
            order_event(n),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    // A duplicate eventId is acknowledged without storing twice.
    let (status, _) = post(
        &http,
        format!("{}{PSI}/topic/order/event", server.url),
        order_event(3),
    )
    .await;
    assert!(status == 200 || status == 201, "{status}");
    receiver.wait_for(30).await;
    let expected: Vec<String> = (0..30).map(|n| format!("e-{n}")).collect();
    assert_eq!(receiver.event_ids(), expected);
    // The cursor reaches the database after the 2xx.
    let store = server.hub.store().clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stored = store.hub("order", &hub_id).await.unwrap().unwrap();
        if stored.cursor == 30 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "cursor stuck at {}",
            stored.cursor
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.stop().await;

    // Restart: the hub and its cursor come back from the database.
    let server = PgHub::start(&db).await;
    for n in 30..40 {
        let (status, body) = post(
            &http,
            format!("{}{PSI}/topic/order/event", server.url),
            order_event(n),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    receiver.wait_for(40).await;
    // Give a wrongly re-sent event a moment to show up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let expected: Vec<String> = (0..40).map(|n| format!("e-{n}")).collect();
    assert_eq!(receiver.event_ids(), expected, "nothing twice, in order");
    let log = server
        .hub
        .store()
        .read_events("order", 0, usize::MAX)
        .await
        .unwrap();
    assert_eq!(log.len(), 40);
    server.stop().await;
}

/// PostgreSQL drops every connection of the hub (an administrator's
/// `pg_terminate_backend`, a failover): the hub reconnects on its own — appends,
/// leases, progress and the LISTEN connection — and every acknowledged event is still
/// delivered, in order, once after de-duplication. An append retries on another
/// connection; one still answered 503 while connections are re-established is retried
/// by the client (safe: `eventId`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_dropped_by_the_database_are_reestablished() {
    let db = test_db!("dropped");
    let receiver = Receiver::default();
    let callback = receiver.start().await;
    let http = reqwest::Client::new();
    const PSI: &str = "/psi-api/event/v2";
    let server = PgHub::start(&db).await;
    server.register(&http, &callback).await;
    let publish = async |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, body) = post(
                &http,
                format!("{}{PSI}/topic/order/event", server.url),
                order_event(n),
            )
            .await;
            if status == 201 || status == 200 {
                return;
            }
            assert_eq!(status, 503, "a lost connection is unavailability: {body}");
            assert!(
                Instant::now() < deadline,
                "e-{n} never acknowledged: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    for n in 0..10 {
        publish(n).await;
    }
    receiver.wait_for(10).await;
    let killed: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&db.name)
    .fetch_all(&other_connection(&db).await)
    .await
    .unwrap();
    assert!(!killed.is_empty(), "the hub had connections to drop");
    for n in 10..30 {
        publish(n).await;
    }
    let expected: Vec<String> = (0..30).map(|n| format!("e-{n}")).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut seen = Vec::new();
        for id in receiver.event_ids() {
            if !seen.contains(&id) {
                seen.push(id);
            }
        }
        if seen == expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "delivered (deduplicated): {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop().await;
}

/// A pool on `db` that is not the hub's.
async fn other_connection(db: &pg_common::TestDb) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&db.url)
        .await
        .unwrap()
}

/// A replica that joins gets its share at once: it announces itself, the replica
/// holding everything claims its smaller share at once, hands the surplus back when
/// those workers ended, and the newcomer takes it — well before any lease would
/// expire (leases of 60 s here, lease rounds every 20 s: only the announcements can
/// move the hubs within the test's 15 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_joining_replica_gets_its_share_without_waiting_for_leases() {
    let db = test_db!("rebalance");
    let receiver = Receiver::default();
    let callback = receiver.start().await;
    let http = reqwest::Client::new();
    let config = |replica: &str| DeliveryConfig {
        lease_ms: 60_000,
        replica_id: Some(replica.into()),
        ..DeliveryConfig::default()
    };
    let a = PgHub::start_with(&db, config("a")).await;
    for n in 0..4 {
        a.register(&http, &format!("{callback}/{n}")).await;
    }
    let pool = other_connection(&db).await;
    let holders = async || -> Vec<Option<String>> {
        sqlx::query_as::<_, (Option<String>,)>(
            "SELECT lease_owner FROM hubs WHERE topic_id = 'order' ORDER BY lease_owner",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(owner,)| owner)
        .collect()
    };
    let wait_for = async |expected: [&str; 4]| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let now = holders().await;
            if now
                .iter()
                .map(Option::as_deref)
                .eq(expected.iter().copied().map(Some))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "holders {now:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    wait_for(["a", "a", "a", "a"]).await;
    let b = PgHub::start_with(&db, config("b")).await;
    wait_for(["a", "a", "b", "b"]).await;
    // Both deliver: an event reaches the four hubs.
    let (status, body) = post(
        &http,
        format!("{}/psi-api/event/v2/topic/order/event", b.url),
        order_event(0),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    receiver.wait_for(4).await;
    // A replica that leaves hands everything back at once too.
    b.stop().await;
    wait_for(["a", "a", "a", "a"]).await;
    a.stop().await;
}

/// With two replicas on one database, what the one delivering a hub knows is in the
/// database for the other: the base path the hub was registered under (the `href` of
/// its events), its retry state and halt (the other's operator API shows them, with
/// the holding replica), and operator actions made through the other replica (resume,
/// replay) reach the holder.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_hub_state_and_operator_actions() {
    let db = test_db!("operator");
    let receiver = Receiver::default();
    let callback = receiver.start().await;
    let http = reqwest::Client::new();
    const PSI: &str = "/psi-api/event/v2";
    let config = |replica: &str| DeliveryConfig {
        retry: RetryConfig {
            initial_delay_ms: 20,
            max_attempts: 2,
            ..RetryConfig::default()
        },
        lease_ms: 2_000,
        progress_flush_ms: 50,
        replica_id: Some(replica.into()),
        ..DeliveryConfig::default()
    };
    // Registered through `b` on the PSI path; `b` stops (handing its lease back) and
    // `a` delivers the hub from then on, `b` joining again after `a` holds it.
    let b = PgHub::start_with(&db, config("b")).await;
    let hub_id = b.register(&http, &callback).await;
    b.stop().await;
    let a = PgHub::start_with(&db, config("a")).await;
    let admin = |hub: &PgHub| format!("{}/admin/hubs/{hub_id}", hub.url);
    let get = async |url: String| -> Value {
        let bytes = http.get(url).send().await.unwrap().bytes().await.unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null)
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(admin(&a)).await["replica"] != "a" {
        assert!(Instant::now() < deadline, "a never took the hub");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let b = PgHub::start_with(&db, config("b")).await;

    // An event published through `b` fails at the callback until `a` halts the hub;
    // `b`'s operator API shows it from the database.
    receiver.refuse.store(true, Ordering::SeqCst);
    let (status, body) = post(
        &http,
        format!("{}{PSI}/topic/order/event", b.url),
        order_event(0),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let seen = loop {
        let seen = get(admin(&b)).await;
        if seen["state"] == "halted" {
            break seen;
        }
        assert!(Instant::now() < deadline, "not halted: {seen}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(seen["replica"], "a", "{seen}");
    assert_eq!(seen["attempts"], 2, "{seen}");
    assert_eq!(seen["cursor"], 0, "{seen}");
    assert!(
        seen["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("503")),
        "{seen}"
    );
    let listed: Value = get(format!("{}/admin/hubs", b.url)).await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["hubId"] == hub_id.as_str()),
        "{listed}"
    );

    // Resumed through `b`: `a` delivers, with the href of the PSI path.
    receiver.refuse.store(false, Ordering::SeqCst);
    let resumed = http
        .post(format!("{}/resume", admin(&b)))
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 202);
    receiver.wait_for(1).await;
    let delivered = receiver.got.lock().unwrap()[0].clone();
    assert_eq!(delivered["eventId"], "e-0");
    assert_eq!(
        delivered["href"],
        format!("{PSI}/topic/order/event/1"),
        "{delivered}"
    );
    // Replayed through `b` from the first event: `a` sends it again.
    let replayed = http
        .post(format!("{}/replay?from=1", admin(&b)))
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 202);
    receiver.wait_for(2).await;
    assert_eq!(receiver.event_ids(), ["e-0", "e-0"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = get(admin(&b)).await;
        if seen["state"] == "active" && seen["cursor"] == 1 && seen["attempts"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "not caught up: {seen}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.stop().await;
    a.stop().await;
}

/// Ingest rate of single-event appends from concurrent writers to one topic (run by
/// hand: `cargo test --release -p tmf688-runtime --test pg_store -- --ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test"]
async fn append_rate() {
    let db = test_db!("rate");
    let store = Arc::new(db.store().await);
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    for writers in [1usize, 8, 32] {
        let per_writer = 4000 / writers;
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..per_writer {
                    let event = new_event(&format!("r{writers}-w{w}-{i}"));
                    store.append_events("t", vec![event]).await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let elapsed = started.elapsed();
        let total = writers * per_writer;
        if writers == 32 {
            // Also: batches of 32 from one caller (what a full group costs).
            let t = Instant::now();
            for i in 0..50 {
                let batch = (0..32).map(|j| new_event(&format!("b-{i}-{j}"))).collect();
                store.append_events("t", batch).await.unwrap();
            }
            println!(
                "batch of 32: {:.2} ms",
                t.elapsed().as_secs_f64() * 1000.0 / 50.0
            );
        }
        println!(
            "{writers:>3} writers: {total} events in {:.2} s = {:.0} events/s",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64()
        );
    }
}

/// Leases divide hubs between replicas: claims skip held hubs, renewals keep them,
/// release and expiry free them, and only the holder saves a hub's progress.
#[tokio::test]
async fn leases_divide_hubs_between_replicas() {
    let db = test_db!("leases");
    let store = db.store().await;
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..5 {
        let callback = format!("http://127.0.0.1:9/h{n}");
        ids.push(
            store
                .create_hub(new_hub("t", &callback, None, None))
                .await
                .unwrap()
                .0
                .id,
        );
    }
    let minute = Duration::from_secs(60);
    let a = store.claim_hubs("a", minute, 3).await.unwrap();
    assert_eq!(a, ids[..3]);
    let b = store.claim_hubs("b", minute, 10).await.unwrap();
    assert_eq!(b, ids[3..]);
    // Renewing takes nothing new when nothing is free.
    assert_eq!(store.claim_hubs("a", minute, 10).await.unwrap(), a);
    // Fencing: only the holder moves the cursor.
    assert!(!save(&store, &a[0], 7, "b").await);
    assert!(save(&store, &a[0], 7, "a").await);
    assert_eq!(store.hub("t", &a[0]).await.unwrap().unwrap().cursor, 7);
    // A graceful stop hands the hubs over at once.
    assert_eq!(store.release_hubs("a").await.unwrap(), 3);
    assert_eq!(store.claim_hubs("b", minute, 10).await.unwrap(), ids);
    // A replica that stops renewing loses its hubs when the leases expire.
    store.release_hubs("b").await.unwrap();
    let short = Duration::from_millis(50);
    assert_eq!(store.claim_hubs("a", short, 10).await.unwrap(), ids);
    assert_eq!(
        store.claim_hubs("b", minute, 10).await.unwrap(),
        Vec::<String>::new()
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(store.claim_hubs("b", minute, 10).await.unwrap(), ids);
    assert_eq!(
        store.claim_hubs("a", short, 10).await.unwrap(),
        Vec::<String>::new()
    );
    assert!(!save(&store, &ids[0], 1, "a").await);
}

/// Every committed append is announced to listeners on other connections, with the
/// topic's new head; appends that store nothing (duplicates) are not.
#[tokio::test]
async fn appends_are_announced() {
    let db = test_db!("notify");
    let store = db.store().await;
    let other_process = db.store().await;
    let mut listener = other_process.listen_appends().await.unwrap();
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    store
        .append_events("t", vec![new_event("a"), new_event("b")])
        .await
        .unwrap();
    store
        .append_events("t", vec![new_event("a")])
        .await
        .unwrap();
    store
        .append_events("t", vec![new_event("c")])
        .await
        .unwrap();
    for head in [2, 3] {
        let announced = tokio::time::timeout(Duration::from_secs(5), listener.next())
            .await
            .expect("announced")
            .unwrap();
        assert_eq!(announced, ("t".to_owned(), head));
    }
}

/// `claim_share` (what the delivery engine calls): each live replica gets
/// `ceil(hubs / replicas)`; a replica holding more renews only its share and lets the
/// rest expire to the newcomer; `save_progress` tells a lost lease from a removed
/// hub; leaving hands everything over.
#[tokio::test]
async fn fair_shares_between_replicas() {
    let db = test_db!("shares");
    let store = db.store().await;
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..6 {
        let callback = format!("http://127.0.0.1:9/h{n}");
        ids.push(
            store
                .create_hub(new_hub("t", &callback, None, None))
                .await
                .unwrap()
                .0
                .id,
        );
    }
    let ttl = Duration::from_secs(3);
    let minute = Duration::from_secs(60);
    // Alone, `a` takes everything.
    assert_eq!(
        sorted(store.lease_hubs("a", ttl).await.unwrap()),
        sorted(ids.clone())
    );
    // `b` joins: nothing is free yet, and `a` now renews only its share (3).
    assert_eq!(
        store.lease_hubs("b", minute).await.unwrap(),
        Vec::<String>::new()
    );
    // Once the surplus of `a` expires, `b` takes it; `a` keeps renewing its share.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let a = sorted(store.lease_hubs("a", ttl).await.unwrap());
        assert_eq!(a, sorted(ids[..3].to_vec()));
        let b = sorted(store.lease_hubs("b", minute).await.unwrap());
        if b == sorted(ids[3..].to_vec()) {
            break;
        }
        assert!(b.is_empty(), "{b:?}");
        assert!(std::time::Instant::now() < deadline, "no hand-over");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Fencing through the trait.
    assert!(save(&store, &ids[3], 5, "b").await);
    assert!(!save(&store, &ids[3], 9, "a").await);
    let stored = store.hub("t", &ids[3]).await.unwrap().unwrap();
    assert_eq!((stored.cursor, stored.holder.as_deref()), (5, Some("b")));
    // A removed hub is not a refusal; the rest of the batch is saved.
    assert!(store.delete_hub("t", &ids[5]).await.unwrap());
    let batch = [progress(&ids[5], 0, 1), progress(&ids[4], 0, 2)];
    assert_eq!(
        store.save_progress(&batch, "b").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(store.hub("t", &ids[4]).await.unwrap().unwrap().cursor, 2);
    // `b` leaves gracefully: `a`, alone again, takes the rest at once.
    assert_eq!(store.release_leases("b").await.unwrap(), 2);
    assert_eq!(
        sorted(store.lease_hubs("a", minute).await.unwrap()),
        sorted(ids[..5].to_vec())
    );
}

/// What every replica must see of a hub lives in the database: the base path of its
/// registration, its retry state (saved by the holder), and the epoch an operator's
/// action bumps — which fences out progress saved by a worker started before it, and
/// is announced to the other processes.
#[tokio::test]
async fn hub_progress_epochs_and_operator_actions() {
    let db = test_db!("progress");
    let store = db.store().await;
    let other_process = db.store().await;
    let mut notices = other_process.subscribe_appends().await.unwrap().unwrap();
    store.create_topic(new_topic(Some("t"), "t")).await.unwrap();
    let (hub, _) = store
        .create_hub(new_hub("t", "http://127.0.0.1:9/h", None, None))
        .await
        .unwrap();
    assert_eq!(hub.base_path.as_deref(), Some("/psi-api/event/v2"));
    assert_eq!(
        (hub.epoch, hub.attempts, hub.holder.as_deref()),
        (0, 0, None)
    );
    let mut next_hub_notice = async || loop {
        let notice = tokio::time::timeout(Duration::from_secs(5), notices.recv())
            .await
            .expect("a notice within 5 s")
            .expect("the channel is open");
        if let AppendNotice::HubChanged { hub, epoch } = notice {
            return (hub, epoch);
        }
    };
    assert_eq!(next_hub_notice().await, (hub.id.clone(), 0));
    assert_eq!(
        store
            .lease_hubs("a", Duration::from_secs(60))
            .await
            .unwrap(),
        vec![hub.id.clone()]
    );
    // The holder saves a failing hub's retry state, then halts it.
    let failing = HubProgress {
        attempts: 3,
        last_error: Some("HTTP 503".into()),
        state: HubState::Halted,
        ..progress(&hub.id, 0, 0)
    };
    assert!(
        store
            .save_progress(&[failing], "a")
            .await
            .unwrap()
            .is_empty()
    );
    let stored = store.hub_by_id(&hub.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.attempts, stored.last_error.as_deref(), stored.state),
        (3, Some("HTTP 503"), HubState::Halted)
    );
    // An operator (through any replica) resumes it and replays from the start.
    let operated = store.operate_hub(&hub.id, Some(0)).await.unwrap();
    assert_eq!(
        (
            operated.state,
            operated.attempts,
            operated.last_error,
            operated.epoch
        ),
        (HubState::Active, 0, None, 1)
    );
    assert_eq!(next_hub_notice().await, (hub.id.clone(), 1));
    // The worker started at epoch 0 can no longer save; one started at epoch 1 can.
    assert_eq!(
        store
            .save_progress(&[progress(&hub.id, 0, 9)], "a")
            .await
            .unwrap(),
        vec![hub.id.clone()]
    );
    assert!(
        store
            .save_progress(&[progress(&hub.id, 1, 4)], "a")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.hub_by_id(&hub.id).await.unwrap().unwrap().cursor, 4);
    assert!(matches!(
        store.operate_hub("hub-none", None).await,
        Err(StoreError::NotFound(_))
    ));
    // A removal is announced too (the holder stops its worker at once).
    assert!(store.delete_hub("t", &hub.id).await.unwrap());
    let removed = loop {
        let notice = tokio::time::timeout(Duration::from_secs(5), notices.recv())
            .await
            .expect("a notice within 5 s")
            .expect("the channel is open");
        if let AppendNotice::HubRemoved { hub } = notice {
            break hub;
        }
    };
    assert_eq!(removed, hub.id);
    assert!(!store.delete_hub("t", &hub.id).await.unwrap());
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// A database written before migrations 0006 (owner reach) and 0007 (event
/// publishers): its events stay readable and belong to the anonymous publisher (whose
/// retry still finds them; an authenticated publisher's same eventId is a new event),
/// and its owned hubs get the reach the migration promises — an API key owner's name
/// as its party, a JWT or unknown owner none.
#[tokio::test]
async fn rows_from_before_bound_parties_and_publishers_stay_readable() {
    use tmf688_runtime::store::Reach;
    use tmf688_runtime::store::postgres::MIGRATOR;
    let db = test_db!("upgrade");
    let before = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(
            MIGRATOR
                .iter()
                .filter(|m| m.version <= 5)
                .cloned()
                .collect(),
        ),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    let pool = other_connection(&db).await;
    before.run(&pool).await.unwrap();
    sqlx::raw_sql(
        r#"INSERT INTO topics (id, name, body, last_seq) VALUES ('t', 't', '{}', 1);
           INSERT INTO events (topic_id, seq, event_id, body)
                VALUES ('t', 1, 'old', '{"eventId":"old"}');
           INSERT INTO hubs (id, topic_id, callback, owner, owner_issuer, body) VALUES
                ('hub-k', 't', 'http://127.0.0.1:9/k', 'provider-a', 'api-key', '{}'),
                ('hub-j', 't', 'http://127.0.0.1:9/j', 'provider-a', 'jwt:https://idp', '{}'),
                ('hub-u', 't', 'http://127.0.0.1:9/u', 'provider-a', 'unknown', '{}'),
                ('hub-n', 't', 'http://127.0.0.1:9/n', NULL, NULL, '{}');"#,
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = db.store().await;
    let log = store.read_events("t", 0, 10).await.unwrap();
    assert_eq!(
        log.iter()
            .map(|e| (e.event_id.as_str(), e.publisher.as_str(), &e.body[..]))
            .collect::<Vec<_>>(),
        [("old", "", &br#"{"eventId":"old"}"#[..])]
    );
    for (id, reach) in [
        ("hub-k", Some(Reach::Party("provider-a".into()))),
        ("hub-j", Some(Reach::Unaddressed)),
        ("hub-u", Some(Reach::Unaddressed)),
        ("hub-n", None),
    ] {
        let hub = store.hub("t", id).await.unwrap().unwrap();
        assert_eq!(hub.owner.map(|o| o.reach), reach, "{id}");
    }
    let body = Bytes::from_static(br#"{"eventId":"old"}"#);
    let out = store
        .append_events(
            "t",
            vec![
                NewEvent::anonymous("old", body.clone()),
                NewEvent {
                    event_id: "old".into(),
                    publisher: "api-key\u{1f}provider-b".into(),
                    body,
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        out.iter().map(created_seq).collect::<Vec<_>>(),
        [None, Some(2)]
    );
}
