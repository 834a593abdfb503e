//! `tmf688-server --database-url`: a crash test with real processes. While 4 clients
//! publish 10,000 events to a server with 5 hubs, the server is killed with SIGKILL at a
//! random moment and restarted on the
//! same database: every event that got a 201 is in the log and is delivered to every
//! hub, in log order, none twice after receiver de-duplication; hubs and cursors come
//! back from the database. And a 60 s callback outage across a restart: the cursor waits in
//! the database, and everything arrives in order once the callback is back. And two
//! replicas sharing 20 hubs through leases, one SIGKILLed mid-stream: the other takes
//! its hubs and every hub receives the whole log in order. And retention SIGKILLed
//! mid-trim: the log stays whole from its first sequence to the head, nothing a hub is
//! owed goes, and after a restart the trim finishes at the hub's cursor.
//!
//! Each test creates its own database; without a reachable PostgreSQL the test is
//! skipped loudly, or fails under `TMF688_REQUIRE_POSTGRES=1` (see runtime/STORAGE.md).

mod common;
#[path = "../../../runtime/tests/pg_common/mod.rs"]
mod pg_common;

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};
use tmf688_runtime::Store as _;

use common::{Running, server_command};

const PSI: &str = "/psi-api/event/v2";

/// Starts the server on `database_url` and a free loopback port; waits until it
/// listens.
fn start(database_url: &str) -> Running {
    start_with(database_url, None)
}

fn start_with(database_url: &str, config: Option<&std::path::Path>) -> Running {
    let mut command = server_command(&["--log", "warn,tmf688_server=info"]);
    command.args(["--database-url", database_url]);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let server = common::start(command);
    assert_eq!(
        server.listening["store"], "postgres",
        "{}",
        server.listening
    );
    server
}

/// Captures what is POSTed, by path; answers 503 while `down`.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, String)>>>,
    down: Arc<std::sync::atomic::AtomicBool>,
    refused: Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    async fn start(&self) -> String {
        async fn receive(State(receiver): State<Receiver>, uri: Uri, body: Bytes) -> StatusCode {
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let event_id = value["eventId"].as_str().unwrap_or_default().to_owned();
            if receiver.down.load(Ordering::SeqCst) {
                receiver.refused.fetch_add(1, Ordering::SeqCst);
                return StatusCode::SERVICE_UNAVAILABLE;
            }
            receiver
                .got
                .lock()
                .unwrap()
                .push((uri.path().to_owned(), event_id));
            StatusCode::CREATED
        }
        let app = Router::new()
            .fallback(axum::routing::post(receive))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    /// The eventIds received at `path`, first arrivals only (a receiver's de-duplication).
    fn deduplicated(&self, path: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .filter(|(_, id)| seen.insert(id.clone()))
            .map(|(_, id)| id.clone())
            .collect()
    }
}

async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<u16, reqwest::Error> {
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let status = response.status().as_u16();
    let _ = response.bytes().await?;
    Ok(status)
}

fn event(writer: usize, n: usize) -> Value {
    json!({
        "@type": "ProductOrderStateChangeEvent",
        "eventId": format!("w{writer}-{n}"),
        "eventType": "ProductOrderStateChangeEvent",
        "event": {"productOrder": {"id": format!("po-{writer}-{n}"), "state": "completed"}}
    })
}

/// Publishes from `writers` concurrent clients until the server stops answering,
/// recording in `acknowledged` the eventIds that got a 201 (or 200: already there).
async fn publish_until_killed(
    url: &str,
    writers: usize,
    per_writer: usize,
    acknowledged: Arc<Mutex<Vec<String>>>,
) {
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let url = format!("{url}{PSI}/topic/order/event");
        let acknowledged = acknowledged.clone();
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for n in 0..per_writer {
                let body = event(writer, n);
                match post(&http, &url, &body).await {
                    Ok(200 | 201) => acknowledged
                        .lock()
                        .unwrap()
                        .push(body["eventId"].as_str().unwrap().to_owned()),
                    Ok(status) => panic!("unexpected {status}"),
                    Err(_) => return, // killed
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_publishing_loses_nothing_acknowledged() {
    let db = test_db!("crash");
    let receiver = Receiver::default();
    let callback_base = receiver.start().await;
    let hubs = ["/a", "/b", "/c", "/d", "/e"];

    let server = start(&db.url);
    let http = reqwest::Client::new();
    for hub in hubs {
        let status = post(
            &http,
            &format!("{}{PSI}/topic/order/hub", server.url),
            &json!({"callback": format!("{callback_base}{hub}")}),
        )
        .await
        .unwrap();
        assert_eq!(status, 201);
    }

    // 4 clients publish 10,000 events (2,500 each); SIGKILL at a random moment of the
    // stream: when a random number of them (20..9,000) has been acknowledged, so the
    // kill falls mid-stream however fast or loaded the machine is.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let kill_at = 20 + (nanos as usize % 8_981);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let publishing = tokio::spawn({
        let url = server.url.clone();
        let acknowledged = acknowledged.clone();
        async move { publish_until_killed(&url, 4, 2_500, acknowledged).await }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    while acknowledged.lock().unwrap().len() < kill_at {
        assert!(
            Instant::now() < deadline,
            "only {} of {kill_at} events acknowledged",
            acknowledged.lock().unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    drop(server); // SIGKILL, then reaped
    publishing.await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();

    // Every acknowledged event is in the log; so may be those that got no answer.
    let store = db.store().await;
    let log: Vec<String> = store
        .read_events("order", 0, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    let in_log: HashSet<&String> = log.iter().collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !in_log.contains(id))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    assert!(
        log.len() <= acknowledged.len() + 4,
        "at most one unanswered per client"
    );

    // Restarted on the same database: the hubs and their cursors come back, and every
    // hub receives the whole log in order.
    let server = start(&db.url);
    let deadline = Instant::now() + Duration::from_secs(240);
    for hub in hubs {
        loop {
            let got = receiver.deduplicated(hub);
            if got.len() >= log.len() {
                assert_eq!(got, log, "hub {hub}: the log, in order, once");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "hub {hub}: {} of {} delivered",
                got.len(),
                log.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let hubs_after: Vec<_> = store.hubs("order").await.unwrap();
    assert_eq!(hubs_after.len(), hubs.len());
    eprintln!(
        "crash test: killed at the {kill_at}th acknowledgement, {} acknowledged, {} in the log, delivered to {} hubs",
        acknowledged.len(),
        log.len(),
        hubs.len()
    );
    drop(server);
    store.close().await;
}

/// Retention killed mid-trim: 10,000 events, a hub whose callback is down registered
/// after the first 5,000 (so it still owes the last 5,000), `max_events = 100`. The
/// server trims in small batches and is SIGKILLed once the log's first sequence has
/// moved but before the trim is done. After the kill the log is consistent (every
/// sequence from the first to the head is there, none of what the hub is owed is gone);
/// restarted, the trim finishes exactly at the hub's cursor, and once the callback is
/// back the hub receives its 5,000 events in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_a_trim_loses_nothing_that_should_stay() {
    use tmf688_runtime::store::NewEvent;

    let db = test_db!("trimcrash");
    let receiver = Receiver::default();
    receiver.down.store(true, Ordering::SeqCst);
    let callback = format!("{}/slow", receiver.start().await);
    let dir = std::env::temp_dir().join(format!("tmf688-trimcrash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("server.toml");
    // One replica id across the restarts (a restarted node keeps its name): its leases,
    // the trimmer's included, are its own again at once.
    std::fs::write(
        &config,
        "[delivery]\nreplica_id = \"trim-node\"\nlease_ms = 1000\n\
         [delivery.retry]\nmax_attempts = 1000000\ninitial_delay_ms = 50\nmax_delay_ms = 200\n\
         [retention]\ninterval = \"off\"\nmax_events = 100\nbatch_size = 25\nbatch_pause_ms = 5\n",
    )
    .unwrap();
    let append = |store: tmf688_runtime::PgStore, range: std::ops::RangeInclusive<usize>| async move {
        let events: Vec<NewEvent> = range
            .map(|n| NewEvent::anonymous(format!("w0-{n}"), Bytes::from(event(0, n).to_string())))
            .collect();
        for chunk in events.chunks(1_000) {
            store.append_events("order", chunk.to_vec()).await.unwrap();
        }
    };

    // The log and the hub, with the trimmer off.
    let server = start_with(&db.url, Some(&config));
    let store = db.store().await;
    append(store.clone(), 1..=5_000).await;
    let http = reqwest::Client::new();
    let status = post(
        &http,
        &format!("{}{PSI}/topic/order/hub", server.url),
        &json!({"callback": callback}),
    )
    .await
    .unwrap();
    assert_eq!(status, 201);
    append(store.clone(), 5_001..=10_000).await;
    drop(server);

    // The trimmer on (every 50 ms), killed mid-trim: once a random part (1..4,000 of
    // the 5,000 events it removes in all, 25 per batch) is gone.
    let kill_after = 1 + u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
            % 4_000,
    );
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("interval = \"off\"", "interval = \"50ms\""),
    )
    .unwrap();
    let server = start_with(&db.url, Some(&config));
    let deadline = Instant::now() + Duration::from_secs(60);
    let first_at_kill = loop {
        let first = store.log_bounds("order").await.unwrap().first;
        if first > kill_after {
            break first;
        }
        assert!(Instant::now() < deadline, "the trim did not start");
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    drop(server); // SIGKILL, then reaped
    assert!(
        first_at_kill < 5_001,
        "killed after the trim ended: {first_at_kill}"
    );
    let check = |bounds: tmf688_runtime::store::LogBounds,
                 log: &[tmf688_runtime::store::EventRecord]| {
        assert_eq!(bounds.head, 10_000);
        assert!(
            bounds.first <= 5_001,
            "trimmed past the hub's cursor: {bounds:?}"
        );
        let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
        let expected: Vec<u64> = (bounds.first..=bounds.head).collect();
        assert!(
            seqs == expected,
            "the log is not first..=head without gaps: {bounds:?}, {} events",
            log.len()
        );
        assert_eq!(bounds.trimmed, bounds.first - 1, "{bounds:?}");
    };
    let bounds = store.log_bounds("order").await.unwrap();
    let log = store.read_events("order", 0, usize::MAX).await.unwrap();
    check(bounds, &log);
    let hub = store.hubs("order").await.unwrap().remove(0);
    assert_eq!(hub.cursor, 5_000, "the hub's cursor");
    eprintln!(
        "trim crash test: killed with the first sequence past {kill_after} ({first_at_kill}; after the kill: {}), of 5,001 when done",
        bounds.first
    );

    // Restarted: the trim finishes at the hub's cursor, not past it.
    let server = start_with(&db.url, Some(&config));
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.log_bounds("order").await.unwrap().first < 5_001 {
        assert!(Instant::now() < deadline, "the trim did not finish");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let bounds = store.log_bounds("order").await.unwrap();
    assert_eq!(bounds.first, 5_001, "{bounds:?}");
    check(
        bounds,
        &store.read_events("order", 0, usize::MAX).await.unwrap(),
    );
    let (status, topics) = {
        let response = http
            .get(format!("{}/admin/topics", server.url))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.bytes().await.unwrap();
        (status, serde_json::from_slice::<Value>(&body).unwrap())
    };
    assert_eq!(status, 200);
    assert_eq!(
        (
            &topics[0]["firstSeq"],
            &topics[0]["events"],
            &topics[0]["trimmed"]
        ),
        (&json!(5_001), &json!(5_000), &json!(5_000)),
        "{topics}"
    );

    // The callback is back: the hub gets what it was owed, in order.
    receiver.down.store(false, Ordering::SeqCst);
    let expected: Vec<String> = (5_001..=10_000).map(|n| format!("w0-{n}")).collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got = receiver.deduplicated("/slow");
        if got.len() >= expected.len() {
            assert_eq!(got, expected, "the hub's backlog, in order, once");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of 5,000 delivered",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(server);
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The callback is down (503) while events are published, the server is SIGKILLed and
/// restarted during the outage, more events come; when the callback is back it
/// receives everything, in order, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callback_outage_across_a_restart() {
    let db = test_db!("outage");
    let receiver = Receiver::default();
    // The callback is down for 60 s (the outage), across a server restart.
    const OUTAGE: Duration = Duration::from_secs(60);
    receiver.down.store(true, Ordering::SeqCst);
    let outage_started = tokio::time::Instant::now();
    let callback_base = receiver.start().await;
    // Fast retries that never give up within the test.
    let config = std::env::temp_dir().join(format!("{}.toml", db.name));
    std::fs::write(
        &config,
        "[delivery.retry]\ninitial_delay_ms = 20\nmultiplier = 2.0\nmax_delay_ms = 200\n\
         max_attempts = 10000\n",
    )
    .unwrap();

    let http = reqwest::Client::new();
    let server = start_with(&db.url, Some(&config));
    let status = post(
        &http,
        &format!("{}{PSI}/topic/order/hub", server.url),
        &json!({"callback": format!("{callback_base}/a")}),
    )
    .await
    .unwrap();
    assert_eq!(status, 201);
    let mut published = Vec::new();
    for n in 0..20 {
        let body = event(0, n);
        let url = format!("{}{PSI}/topic/order/event", server.url);
        assert_eq!(post(&http, &url, &body).await.unwrap(), 201);
        published.push(body["eventId"].as_str().unwrap().to_owned());
    }
    // The first event is being retried.
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.refused.load(Ordering::SeqCst) < 3 {
        assert!(Instant::now() < deadline, "no delivery attempts");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(server); // SIGKILL during the outage

    let server = start_with(&db.url, Some(&config));
    for n in 20..40 {
        let body = event(0, n);
        let url = format!("{}{PSI}/topic/order/event", server.url);
        assert_eq!(post(&http, &url, &body).await.unwrap(), 201);
        published.push(body["eventId"].as_str().unwrap().to_owned());
    }
    assert!(receiver.deduplicated("/a").is_empty());
    // Not a synchronisation: the outage lasts its simulated length, retried throughout.
    tokio::time::sleep_until(outage_started + OUTAGE).await;
    assert!(receiver.deduplicated("/a").is_empty());
    receiver.down.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = receiver.deduplicated("/a");
        if got.len() >= published.len() {
            assert_eq!(got, published, "in order, once");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} delivered",
            got.len(),
            published.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Nothing is sent twice once acknowledged.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.got.lock().unwrap().len(), published.len());
    drop(server);
    let _ = std::fs::remove_file(&config);
}

/// How many hubs each replica holds (`lease_owner` -> count; unleased hubs under "").
async fn lease_owners(store: &tmf688_runtime::PgStore) -> std::collections::BTreeMap<String, i64> {
    let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT CASE WHEN lease_until > now() THEN lease_owner END AS owner, count(*) \
         FROM hubs GROUP BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(owner, n)| (owner.unwrap_or_default(), n))
        .collect()
}

/// Two replicas on one database share 20 hubs through leases; events are published to
/// both; one replica is SIGKILLed mid-stream. The other takes its hubs once their
/// leases (1 s here) expire and delivers on: every hub receives the whole log, in log
/// order, after de-duplication on eventId (redeliveries after the kill are allowed).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_delivery_and_take_over_after_sigkill() {
    const HUBS: usize = 20;
    let db = test_db!("replicas");
    let receiver = Receiver::default();
    let callback_base = receiver.start().await;
    let configs: Vec<std::path::PathBuf> = ["a", "b"]
        .iter()
        .map(|replica| {
            let path = std::env::temp_dir().join(format!("{}-{replica}.toml", db.name));
            std::fs::write(
                &path,
                format!(
                    "[delivery]\nlease_ms = 1000\nreplica_id = \"{replica}\"\n\
                     [delivery.retry]\ninitial_delay_ms = 20\nmultiplier = 2.0\n\
                     max_delay_ms = 200\nmax_attempts = 10000\n"
                ),
            )
            .unwrap();
            path
        })
        .collect();
    let a = start_with(&db.url, Some(&configs[0]));
    let b = start_with(&db.url, Some(&configs[1]));
    let store = db.store().await;
    let http = reqwest::Client::new();
    let paths: Vec<String> = (0..HUBS).map(|i| format!("/h{i}")).collect();
    for (i, path) in paths.iter().enumerate() {
        let server = if i % 2 == 0 { &a } else { &b };
        let status = post(
            &http,
            &format!("{}{PSI}/topic/order/hub", server.url),
            &json!({"callback": format!("{callback_base}{path}")}),
        )
        .await
        .unwrap();
        assert_eq!(status, 201);
    }

    // Both replicas hold a share (10 each once the first one's surplus expired).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let owners = lease_owners(&store).await;
        if owners.get("a") == Some(&10) && owners.get("b") == Some(&10) {
            break;
        }
        assert!(Instant::now() < deadline, "hubs not shared: {owners:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let held_by_a: Vec<(String,)> =
        sqlx::query_as("SELECT callback FROM hubs WHERE lease_owner = 'a'")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let paths_of_a: Vec<String> = held_by_a
        .into_iter()
        .map(|(callback,)| callback.strip_prefix(&callback_base).unwrap().to_owned())
        .collect();

    // An event published through `b` wakes delivery on `a` too (LISTEN/NOTIFY: `a`'s
    // idle workers wait on wake-ups, they do not poll).
    let probe = event(99, 0);
    let status = post(&http, &format!("{}{PSI}/topic/order/event", b.url), &probe)
        .await
        .unwrap();
    assert_eq!(status, 201);
    let deadline = Instant::now() + Duration::from_secs(30);
    for path in &paths {
        while receiver.deduplicated(path).is_empty() {
            assert!(
                Instant::now() < deadline,
                "hub {path}: the probe did not arrive"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let acknowledged = Arc::new(Mutex::new(vec![
        probe["eventId"].as_str().unwrap().to_owned(),
    ]));

    // Two clients publish to each replica; those of `a` stop when it is killed, those
    // of `b` publish 150 events each.
    let to_a = tokio::spawn({
        let url = a.url.clone();
        let acknowledged = acknowledged.clone();
        async move { publish_until_killed(&url, 2, 100_000, acknowledged).await }
    });
    let to_b = tokio::spawn({
        let url = b.url.clone();
        let acknowledged = acknowledged.clone();
        async move {
            let mut tasks = Vec::new();
            for writer in 10..12 {
                let url = format!("{url}{PSI}/topic/order/event");
                let acknowledged = acknowledged.clone();
                tasks.push(tokio::spawn(async move {
                    let http = reqwest::Client::new();
                    for n in 0..150 {
                        let body = event(writer, n);
                        let status = post(&http, &url, &body).await.unwrap();
                        assert!(status == 200 || status == 201, "{status}");
                        acknowledged
                            .lock()
                            .unwrap()
                            .push(body["eventId"].as_str().unwrap().to_owned());
                    }
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
        }
    });

    // Mid-stream: once `a` has delivered some events to its hubs and both replicas
    // took some events in.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let delivered_by_a = paths_of_a
            .iter()
            .map(|path| receiver.deduplicated(path).len())
            .min()
            .unwrap_or(0);
        if delivered_by_a >= 20 && acknowledged.lock().unwrap().len() >= 100 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a delivered {delivered_by_a} events per hub"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(a); // SIGKILL
    let killed_at = Instant::now();
    let received_at_kill = receiver.got.lock().unwrap().len();

    // `b` takes every hub once the leases of `a` expire.
    let deadline = Instant::now() + Duration::from_secs(60);
    let takeover = loop {
        let owners = lease_owners(&store).await;
        if owners.get("b") == Some(&(HUBS as i64)) {
            break killed_at.elapsed();
        }
        assert!(Instant::now() < deadline, "no take-over: {owners:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    to_a.await.unwrap();
    to_b.await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();

    // Nothing acknowledged is lost, and every hub receives the whole log in order.
    let log: Vec<String> = store
        .read_events("order", 0, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    let in_log: HashSet<&String> = log.iter().collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !in_log.contains(id))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let deadline = Instant::now() + Duration::from_secs(120);
    for path in &paths {
        loop {
            let got = receiver.deduplicated(path);
            if got.len() >= log.len() {
                assert_eq!(&got, &log, "hub {path}: the log, in order, once");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "hub {path}: {} of {} delivered",
                got.len(),
                log.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let total = receiver.got.lock().unwrap().len();
    eprintln!(
        "replica test: {} events in the log ({} acknowledged), a held {} hubs; b held all \
         {takeover:?} after the kill; {} deliveries in all ({} before the kill, {} \
         redeliveries)",
        log.len(),
        acknowledged.len(),
        paths_of_a.len(),
        total,
        received_at_kill,
        total - log.len() * HUBS
    );
    assert!(
        takeover < Duration::from_secs(20),
        "take-over took {takeover:?} with a 1 s lease"
    );
    // A graceful stop (SIGTERM) releases the leases and leaves the heartbeat table.
    let mut b = b;
    let status = Command::new("kill")
        .args(["-TERM", &b.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    while b.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "b did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let owners: Vec<(Option<String>,)> = sqlx::query_as("SELECT lease_owner FROM hubs")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert!(owners.iter().all(|(owner,)| owner.is_none()), "{owners:?}");
    let (replicas,): (i64,) = sqlx::query_as("SELECT count(*) FROM replicas")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(replicas, 1, "only the killed replica's row is left");
    drop(b);
    store.close().await;
    for config in configs {
        let _ = std::fs::remove_file(config);
    }
}

/// Ingest rate over HTTP with PostgreSQL (run by hand, in release mode:
/// `cargo test --release -p tmf688-server --test server_postgres -- --ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test"]
async fn http_ingest_rate() {
    let db = test_db!("ingest");
    let server = start(&db.url);
    for clients in [1usize, 8, 32, 64] {
        let per_client = 3200 / clients;
        let started = Instant::now();
        let mut tasks = Vec::new();
        for client in 0..clients {
            let url = format!("{}{PSI}/topic/order/event", server.url);
            tasks.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                for n in 0..per_client {
                    let body = event(client + 1000 * clients, n);
                    assert_eq!(post(&http, &url, &body).await.unwrap(), 201);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let elapsed = started.elapsed().as_secs_f64();
        let total = clients * per_client;
        println!(
            "{clients:>3} clients: {total} events in {elapsed:.2} s = {:.0} events/s",
            total as f64 / elapsed
        );
    }
}
