//! `tmf688-server --nats-url`: a crash test with real processes on NATS JetStream.
//! While 4 clients publish 5,000 events to a server with 3 hubs, the server is killed
//! with SIGKILL at a random moment and restarted on the same streams and buckets:
//! every event that got a 201 is in the log and is delivered to every hub, in log
//! order, none twice after receiver de-duplication; hubs and cursors come back from the
//! key-value buckets.
//!
//! The test runs in its own namespace (`--nats-prefix`, see runtime/tests/js_common);
//! without a reachable NATS it is skipped loudly, or fails under
//! `TMF688_REQUIRE_NATS=1` / `CI=true` (see runtime/STORAGE.md).

mod common;
#[path = "../../../runtime/tests/js_common/mod.rs"]
mod js_common;

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};
use tmf688_runtime::Store as _;

use common::Running;
use js_common::TestNats;

const PSI: &str = "/psi-api/event/v2";

/// Starts the server on the test's namespace and a free loopback port; waits until it
/// listens.
fn start(nats: &TestNats) -> Running {
    let mut command = common::server_command(&["--log", "warn,tmf688_server=info"]);
    command.args(["--nats-url", &nats.url, "--nats-prefix", &nats.prefix]);
    let server = common::start(command);
    assert_eq!(
        server.listening["store"], "jetstream",
        "{}",
        server.listening
    );
    server
}

/// Captures what is POSTed, by path.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, String)>>>,
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    async fn start(&self) -> String {
        async fn receive(State(receiver): State<Receiver>, uri: Uri, body: Bytes) -> StatusCode {
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let event_id = value["eventId"].as_str().unwrap_or_default().to_owned();
            receiver.calls.fetch_add(1, Ordering::SeqCst);
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
    let nats = test_nats!("crash");
    let receiver = Receiver::default();
    let callback_base = receiver.start().await;
    let hubs = ["/a", "/b", "/c"];

    let server = start(&nats);
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

    // 4 clients publish 5,000 events (1,250 each); SIGKILL when a random number of
    // them (20..4,500) has been acknowledged, so the kill falls mid-stream however fast
    // or loaded the machine is.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let kill_at = 20 + (nanos as usize % 4_481);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let publishing = tokio::spawn({
        let url = server.url.clone();
        let acknowledged = acknowledged.clone();
        async move { publish_until_killed(&url, 4, 1_250, acknowledged).await }
    });
    let deadline = Instant::now() + Duration::from_secs(180);
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

    // Every acknowledged event is in the log (once); so may be those that got no answer.
    let store = nats.store().await;
    let log: Vec<String> = store
        .read_events("order", 0, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    let in_log: HashSet<&String> = log.iter().collect();
    assert_eq!(in_log.len(), log.len(), "each eventId once in the log");
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !in_log.contains(id))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    assert!(
        log.len() <= acknowledged.len() + 4,
        "at most one unanswered per client"
    );

    // Restarted on the same streams and buckets: the hubs and their cursors come back,
    // and every hub receives the whole log in order.
    let server = start(&nats);
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
    assert_eq!(store.hubs("order").await.unwrap().len(), hubs.len());
    eprintln!(
        "crash test (JetStream): killed at the {kill_at}th acknowledgement, {} acknowledged, \
         {} in the log, delivered to {} hubs ({} callbacks)",
        acknowledged.len(),
        log.len(),
        hubs.len(),
        receiver.calls.load(Ordering::SeqCst)
    );
    drop(server);
}
