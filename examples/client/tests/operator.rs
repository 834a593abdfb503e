//! The operator commands and bulk publishing of `tmf688-client` against a real hub
//! (delivery engine, authentication) on a loopback port: `hubs` (table and `--json`),
//! `resume`, `replay --from / --from-time`, `metrics`, `dead-letters`, refusals shown
//! as the server's TMF `Error` with its status, and `publish --ndjson / --count` with
//! `--concurrency` (no progress bar when not on a terminal).

mod common;

use std::io::Write as _;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tmf688_runtime::auth::{ApiKeyConfig, AuthConfig, Role, sha256_hex};
use tmf688_runtime::delivery::{DeliveryConfig, DeliveryEngine, DeliveryState, RetryConfig};
use tmf688_runtime::{AppConfig, Authenticator, Hub688, HubConfig, MemoryStore, app_with};

const ADMIN: &str = "cli-admin-key";
const PROVIDER: &str = "cli-provider-key";
const TMF: &str = "/tmf-api/event/v4";

struct Hub {
    url: String,
    engine: DeliveryEngine<MemoryStore>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn key(name: &str, role: Role, key: &str) -> ApiKeyConfig {
    ApiKeyConfig {
        name: name.into(),
        role,
        sha256: sha256_hex(key),
        party: None,
    }
}

/// A hub halting a callback after one failed attempt.
async fn hub() -> Hub {
    let auth = Authenticator::from_config(&AuthConfig {
        api_keys: vec![
            key("ops", Role::Admin, ADMIN),
            key("provider-a", Role::Provider, PROVIDER),
        ],
        jwt: Vec::new(),
    })
    .unwrap();
    let hub = Hub688::new(Arc::new(MemoryStore::new()), HubConfig::default())
        .await
        .unwrap();
    let config = DeliveryConfig {
        retry: RetryConfig {
            initial_delay_ms: 10,
            max_attempts: 1,
            ..RetryConfig::default()
        },
        ..DeliveryConfig::default()
    };
    let engine = DeliveryEngine::start(&hub, config).await.unwrap();
    let app = app_with(
        Arc::new(hub),
        &AppConfig {
            auth: Some(Arc::new(auth)),
            ..AppConfig::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Hub { url, engine, task }
}

/// Runs the client with `token` on its own thread (the server runs on this one's).
async fn client(url: &str, token: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = common::client_command(url, args);
    command
        .env("TMF688_TOKEN", token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("the client binary runs");
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
}

async fn register_halting(hub: &Hub) -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let callback = format!("http://{}/listener", closed.local_addr().unwrap());
    drop(closed);
    let answer = reqwest::Client::new()
        .post(format!("{}{TMF}/topic/alarm/hub", hub.url))
        .bearer_auth(PROVIDER)
        .header("content-type", "application/json")
        .body(json!({"callback": callback}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let body: Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    let output = client(
        &hub.url,
        PROVIDER,
        &["publish", "alarm"],
        Some(&event("a-1")),
    )
    .await;
    exit(&output, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while hub
        .engine
        .status(&id)
        .is_none_or(|status| status.state != DeliveryState::Halted)
    {
        assert!(Instant::now() < deadline, "the hub did not halt");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    id
}

fn event(id: &str) -> String {
    json!({
        "@type": "AlarmCreateEvent",
        "eventId": id,
        "eventType": "AlarmCreateEvent",
        "event": {"id": id}
    })
    .to_string()
}

async fn total_events(hub: &Hub, topic: &str) -> u64 {
    let answer = reqwest::Client::new()
        .get(format!("{}{TMF}/topic/{topic}/event?limit=1", hub.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    answer.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_list_resume_and_replay_hubs() {
    let hub = hub().await;
    let id = register_halting(&hub).await;

    // The status table: header, the halted hub with its owner and lag.
    let output = client(&hub.url, ADMIN, &["hubs"], None).await;
    exit(&output, 0);
    let table = stdout(&output);
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("STATE  "), "{table}");
    let row = lines.next().unwrap();
    for cell in [
        "halted",
        id.as_str(),
        "alarm",
        "provider-a (api-key)",
        "127.0.0.1:",
    ] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
    assert!(stderr(&output).contains("1 hubs: 1 halted, 0 retrying"));
    // The same as JSON, through a base path in --url too.
    let output = client(
        &format!("{}{TMF}", hub.url),
        ADMIN,
        &["hubs", "--json"],
        None,
    )
    .await;
    exit(&output, 0);
    let hubs: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(hubs[0]["hubId"], json!(id));
    assert_eq!(hubs[0]["state"], "halted");
    assert_eq!(hubs[0]["lag"], 1);

    // Not an admin: the server's TMF Error, with its status, exit 1.
    let output = client(&hub.url, PROVIDER, &["hubs"], None).await;
    exit(&output, 1);
    assert!(
        stderr(&output).contains("the server answered 403 Forbidden")
            && stderr(&output).contains("needs the admin role"),
        "{}",
        stderr(&output)
    );

    // Resume and replay; a bad replay is the server's 400 with its message.
    let output = client(&hub.url, ADMIN, &["resume", &id], None).await;
    exit(&output, 0);
    assert!(stderr(&output).contains(&format!("resumed hub {id}")));
    let output = client(&hub.url, ADMIN, &["replay", &id, "--from", "1"], None).await;
    exit(&output, 0);
    assert!(
        stderr(&output).contains("replays from sequence 1"),
        "{}",
        stderr(&output)
    );
    let output = client(
        &hub.url,
        ADMIN,
        &["replay", &id, "--from-time", "2024-05-01T00:00:00+02:00"],
        None,
    )
    .await;
    exit(&output, 0);
    let output = client(&hub.url, ADMIN, &["replay", &id, "--from", "99"], None).await;
    exit(&output, 1);
    assert!(
        stderr(&output).contains("the server answered 400")
            && stderr(&output).contains("`from` is a sequence number"),
        "{}",
        stderr(&output)
    );
    let output = client(&hub.url, ADMIN, &["replay", &id], None).await;
    exit(&output, 2);
    let output = client(&hub.url, ADMIN, &["resume", "no-such-hub"], None).await;
    exit(&output, 1);
    assert!(stderr(&output).contains("404"), "{}", stderr(&output));
    // Dead letters of a hub that does not exist: the server's 404 (whether or not this
    // build lists dead letters yet).
    let output = client(&hub.url, ADMIN, &["dead-letters", "no-such-hub"], None).await;
    exit(&output, 1);
    assert!(
        stderr(&output).contains("answered 404"),
        "{}",
        stderr(&output)
    );

    // Metrics: the Prometheus text, or the counters as JSON.
    let output = client(&hub.url, ADMIN, &["metrics"], None).await;
    exit(&output, 0);
    assert!(stdout(&output).contains("# TYPE tmf688_delivery_failed_attempts_total counter"));
    assert!(stdout(&output).contains(&format!("tmf688_hub_lag{{hub=\"{id}\",topic=\"alarm\"}}")));
    let output = client(&hub.url, ADMIN, &["metrics", "--json"], None).await;
    exit(&output, 0);
    let counters: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(
        counters["failedAttempts"].as_u64().unwrap() >= 1,
        "{counters}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_publishing_from_ndjson_and_copies() {
    let hub = hub().await;
    let lines: Vec<String> = (1..=40).map(|n| event(&format!("n-{n}"))).collect();
    let dir = std::env::temp_dir().join(format!("tmf688-ndjson-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.ndjson");
    // A blank line is passed over.
    std::fs::write(&file, format!("{}\n\n", lines.join("\n"))).unwrap();
    let path = file.to_str().unwrap();

    let output = client(
        &hub.url,
        PROVIDER,
        &["publish", "alarm", "--ndjson", path, "--concurrency", "4"],
        None,
    )
    .await;
    exit(&output, 0);
    assert!(
        stderr(&output).contains("published 40 events to alarm"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stderr(&output).contains("ETA"),
        "no progress bar when not on a terminal"
    );
    assert_eq!(total_events(&hub, "alarm").await, 40);

    // From stdin, in order with the default concurrency of 1.
    let output = client(
        &hub.url,
        PROVIDER,
        &["publish", "inquiry", "--ndjson", "-"],
        Some(&lines[..5].join("\n")),
    )
    .await;
    exit(&output, 0);
    assert_eq!(total_events(&hub, "inquiry").await, 5);

    // A malformed line stops the run there; what came before stays published.
    let broken = format!(
        "{}\n{}\n{{not json\n{}\n",
        event("b-1"),
        event("b-2"),
        event("b-3")
    );
    std::fs::write(&file, broken).unwrap();
    let output = client(
        &hub.url,
        PROVIDER,
        &["publish", "order", "--ndjson", path],
        None,
    )
    .await;
    exit(&output, 4);
    assert!(
        stderr(&output).contains("line 3 is not a valid Event_Create")
            && stderr(&output).contains("2 events were published before"),
        "{}",
        stderr(&output)
    );
    assert_eq!(total_events(&hub, "order").await, 2);

    // A refusal by the server stops it too, shown as the server's error.
    let output = client(
        &hub.url,
        PROVIDER,
        &[
            "publish",
            "no-such-topic",
            "--count",
            "3",
            "--concurrency",
            "2",
        ],
        Some(&event("c")),
    )
    .await;
    exit(&output, 1);
    assert!(
        stderr(&output).contains("the server answered 404"),
        "{}",
        stderr(&output)
    );

    // N copies, concurrently.
    let output = client(
        &hub.url,
        PROVIDER,
        &["publish", "alarm", "--count", "25", "--concurrency", "5"],
        Some(&event("copy")),
    )
    .await;
    exit(&output, 0);
    assert!(
        stderr(&output).contains("published 25 events"),
        "{}",
        stderr(&output)
    );
    assert_eq!(total_events(&hub, "alarm").await, 65);
    // Conflicting flags are a usage error.
    let output = client(
        &hub.url,
        PROVIDER,
        &["publish", "alarm", "--ndjson", path, "--count", "2"],
        None,
    )
    .await;
    exit(&output, 2);
    let _ = std::fs::remove_dir_all(&dir);
}
