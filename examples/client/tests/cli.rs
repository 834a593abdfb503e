//! The `tmf688-client` binary against a real hub on a loopback port: topics, topic
//! create/delete, publish from stdin, events with filters and fields, subscribe and
//! unsubscribe, listen (registers on start, deregisters on SIGINT, `--count`), bearer
//! tokens, exit codes.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;
use tmf688_runtime::auth::{ApiKeyConfig, AuthConfig, Role, sha256_hex};
use tmf688_runtime::{AppConfig, Authenticator, Hub688, HubConfig, MemoryStore, app_with};

const BIN: &str = env!("CARGO_BIN_EXE_tmf688-client");
const DEADLINE: Duration = Duration::from_secs(20);

struct Server {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn server(config: AppConfig) -> Server {
    let hub = Hub688::new(Arc::new(MemoryStore::new()), HubConfig::default())
        .await
        .unwrap();
    let app = app_with(Arc::new(hub), &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server { url, task }
}

/// Runs the client to completion (blocking this worker; the server runs on another).
fn client(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = common::client_command(url, args);
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the client binary runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "stdout is not JSON: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
}

async fn get(url: &str, token: Option<&str>) -> Value {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

async fn post_json(url: &str, body: &Value) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn alarm_event(event_id: &str) -> Value {
    json!({
        "@type": "AlarmCreateEvent",
        "eventId": event_id,
        "eventType": "AlarmCreateEvent",
        "event": {"id": "a1", "perceivedSeverity": "major"}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_and_topic_create_delete() {
    let server = server(AppConfig::default()).await;
    let output = client(&server.url, &["topics"], None);
    ok(&output);
    let topics = stdout_json(&output);
    let ids: Vec<&str> = topics
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["order", "inquiry", "alarm"]);
    assert!(stderr(&output).contains("3 of 3"), "{}", stderr(&output));

    let output = client(&server.url, &["topic", "create", "billing"], None);
    ok(&output);
    assert_eq!(stdout_json(&output)["id"], "billing");
    assert!(stderr(&output).contains("/topic/billing"));
    let output = client(&server.url, &["topic", "delete", "billing"], None);
    ok(&output);
    // Deleting it again: the server's 404, exit code 1.
    let output = client(&server.url, &["topic", "delete", "billing"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("404"), "{}", stderr(&output));
    // A profile topic: 409 with the reason.
    let output = client(&server.url, &["topic", "delete", "order"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("PSI profile"),
        "{}",
        stderr(&output)
    );
    // The PSI base path works as --url too.
    let output = client(
        &format!("{}/psi-api/event/v2", server.url),
        &["topics"],
        None,
    );
    ok(&output);
    assert_eq!(
        stdout_json(&output)[0]["href"],
        "/psi-api/event/v2/topic/order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_from_stdin_and_list_events_with_filter_and_fields() {
    let server = server(AppConfig::default()).await;
    let output = client(
        &server.url,
        &["publish", "alarm"],
        Some(&alarm_event("e-1").to_string()),
    );
    ok(&output);
    let event = stdout_json(&output);
    assert_eq!(event["eventId"], "e-1");
    assert!(event["id"].is_string());
    // --count N publishes N events with suffixed ids and prints the rate.
    let mut other = alarm_event("e-many");
    other["eventType"] = json!("AlarmStateChangeEvent");
    let output = client(
        &server.url,
        &["publish", "alarm", "--count", "4"],
        Some(&other.to_string()),
    );
    ok(&output);
    assert!(
        stderr(&output).contains("published 4 events"),
        "{}",
        stderr(&output)
    );

    let output = client(
        &server.url,
        &[
            "events",
            "alarm",
            "--filter",
            "eventType=AlarmStateChangeEvent",
            "--fields",
            "eventId",
        ],
        None,
    );
    ok(&output);
    let events = stdout_json(&output);
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 4);
    for event in events {
        let mut keys: Vec<&str> = event
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        // fields= keeps id, href and @type besides what was asked for.
        assert_eq!(keys, ["@type", "eventId", "href", "id"], "{event}");
        assert!(event["eventId"].as_str().unwrap().starts_with("e-many-"));
    }
    // Paging: 206 is reported on stderr.
    let output = client(&server.url, &["events", "alarm", "--limit", "2"], None);
    ok(&output);
    assert_eq!(stdout_json(&output).as_array().unwrap().len(), 2);
    assert!(stderr(&output).contains("2 of 5"), "{}", stderr(&output));
    assert!(stderr(&output).contains("206"), "{}", stderr(&output));

    // Bad input: not JSON (exit 4), missing eventId is filled in, a bad filter (exit 1).
    let output = client(&server.url, &["publish", "alarm"], Some("{nope"));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let output = client(
        &server.url,
        &["events", "alarm", "--filter", "eventType[zz]=1"],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("400"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_and_unsubscribe() {
    let server = server(AppConfig::default()).await;
    let hubs = format!("{}/tmf-api/event/v4/topic/order/hub", server.url);
    let output = client(
        &server.url,
        &[
            "subscribe",
            "order",
            "http://127.0.0.1:9/cb",
            "--query",
            "eventType=ProductOrderCreateEvent",
        ],
        None,
    );
    ok(&output);
    let hub = stdout_json(&output);
    let id = hub["id"].as_str().unwrap().to_owned();
    assert_eq!(hub["query"], "eventType=ProductOrderCreateEvent");
    assert_eq!(get(&hubs, None).await.as_array().unwrap().len(), 1);

    let output = client(&server.url, &["unsubscribe", "order", &id], None);
    ok(&output);
    assert_eq!(get(&hubs, None).await, json!([]));
    let output = client(&server.url, &["unsubscribe", "order", &id], None);
    assert_eq!(output.status.code(), Some(1));
}

/// A running `listen`, its stdout lines arriving on a channel.
struct Listening {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Listening {
    fn start(url: &str, args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .arg("--url")
            .arg(url)
            .arg("listen")
            .args(args)
            .env_remove("TMF688_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    fn next_line(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(DEADLINE)
            .expect("an event line before the deadline");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"))
    }

    fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the exit, with a deadline.
    fn wait(&mut self) -> std::process::ExitStatus {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < end,
                "listen did not exit before the deadline"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hubs of `topic`, once there are `n` of them (polled until the deadline).
async fn hubs_once(url: &str, token: Option<&str>, n: usize) -> Vec<Value> {
    let end = Instant::now() + DEADLINE;
    loop {
        let hubs = get(url, token).await;
        let hubs = hubs.as_array().unwrap();
        if hubs.len() == n {
            return hubs.clone();
        }
        assert!(
            Instant::now() < end,
            "expected {n} hubs before the deadline, have {hubs:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_registers_prints_dedups_and_deregisters_on_sigint() {
    let server = server(AppConfig::default()).await;
    let hubs = format!("{}/psi-api/event/v2/topic/alarm/hub", server.url);
    assert_eq!(get(&hubs, None).await, json!([]));

    let mut listening = Listening::start(&server.url, &["alarm"]);
    let registered = hubs_once(&hubs, None, 1).await;
    let callback = registered[0]["callback"].as_str().unwrap().to_owned();
    assert!(
        callback.starts_with("http://127.0.0.1:")
            && callback.ends_with("/psi-api/event/v2/topic/alarm/event"),
        "{callback}"
    );

    // Deliver as a hub would: the receiver answers 201, prints each eventId once.
    assert_eq!(post_json(&callback, &alarm_event("d-1")).await, 201);
    assert_eq!(listening.next_line()["eventId"], "d-1");
    assert_eq!(post_json(&callback, &alarm_event("d-1")).await, 201); // redelivery
    assert_eq!(post_json(&callback, &alarm_event("d-2")).await, 201);
    assert_eq!(listening.next_line()["eventId"], "d-2");

    listening.interrupt();
    let status = listening.wait();
    assert!(status.success(), "{status:?}");
    assert_eq!(get(&hubs, None).await, json!([]), "deregistered on SIGINT");
    // Nothing else was printed (the duplicate was not).
    let rest: Vec<String> = listening.lines.try_iter().collect();
    assert!(rest.is_empty(), "{rest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_count_exits_after_n_distinct_events_with_a_token() {
    let key = "cli-test-provider-key";
    let auth = Authenticator::from_config(&AuthConfig {
        api_keys: vec![ApiKeyConfig {
            name: "cli".into(),
            party: None,
            role: Role::Provider,
            sha256: sha256_hex(key),
        }],
        jwt: vec![],
    })
    .unwrap();
    let server = server(AppConfig {
        auth: Some(Arc::new(auth)),
        ..AppConfig::default()
    })
    .await;
    let hubs = format!("{}/tmf-api/event/v4/topic/alarm/hub", server.url);

    // Without the token: 401, exit code 1, nothing registered.
    let output = client(&server.url, &["listen", "alarm", "--count", "1"], None);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("401"), "{}", stderr(&output));

    let mut listening = Listening::start(&server.url, &["--token", key, "alarm", "--count", "2"]);
    let registered = hubs_once(&hubs, Some(key), 1).await;
    let callback = registered[0]["callback"].as_str().unwrap().to_owned();
    assert_eq!(post_json(&callback, &alarm_event("c-1")).await, 201);
    assert_eq!(post_json(&callback, &alarm_event("c-1")).await, 201);
    assert_eq!(post_json(&callback, &alarm_event("c-2")).await, 201);
    assert_eq!(listening.next_line()["eventId"], "c-1");
    assert_eq!(listening.next_line()["eventId"], "c-2");
    let status = listening.wait();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        get(&hubs, Some(key)).await,
        json!([]),
        "deregistered after --count"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_hub_exits_3() {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = client(&format!("http://127.0.0.1:{port}"), &["topics"], None);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_receives_what_publish_sends_through_the_delivery_engine() {
    let (url, task, engine) = common::serve_with_delivery().await;
    let server = Server { url, task };
    let hubs = format!("{}/tmf-api/event/v4/topic/alarm/hub", server.url);

    // Issue 4's acceptance: `listen` + `publish --count 1000` show all 1,000 events.
    let mut listening = Listening::start(&server.url, &["alarm", "--count", "1000"]);
    hubs_once(&hubs, None, 1).await;
    let output = client(
        &server.url,
        &["publish", "alarm", "--count", "1000"],
        Some(&alarm_event("p").to_string()),
    );
    ok(&output);
    // Delivered in the original order, each once.
    for n in 1..=1000 {
        assert_eq!(listening.next_line()["eventId"], format!("p-{n}"));
    }
    let status = listening.wait();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        get(&hubs, None).await,
        json!([]),
        "deregistered after --count"
    );
    engine.shutdown().await;
}
