//! The `tmf688-server` binary: the quick start (no flags but a free port) serves the
//! three PSI topics and warns that auth is off; a non-loopback address without auth is
//! refused; `--config` / `TMF688_CONFIG` turns authentication on, flags override the
//! file; a bad file is named; SIGTERM stops it gracefully.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{DEADLINE, server_command, start};

const EXAMPLE_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");

async fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
    (status, body)
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < end,
            "the server did not exit before the deadline"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn quick_start_serves_the_psi_topics_warns_and_stops_on_sigterm() {
    let mut server = start(server_command(&[]));
    let (status, body) = get(&format!("{}/health", server.url), None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("up")));
    let (status, topics) = get(&format!("{}/psi-api/event/v2/topic", server.url), None).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = topics
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(ids, ["order", "inquiry", "alarm"]);
    let (status, spec) = get(&format!("{}/openapi.json", server.url), None).await;
    assert_eq!(status, 200);
    assert!(spec["paths"].is_object());

    let end = Instant::now() + DEADLINE;
    let warned = std::iter::from_fn(|| {
        server
            .stderr
            .recv_timeout(end.saturating_duration_since(Instant::now()))
            .ok()
    })
    .any(|line| line.contains("authentication is NOT configured"));
    assert!(warned, "a loud warning on stderr");
    terminate(&server.child);
    let status = wait_exit(&mut server.child);
    assert!(status.success(), "graceful shutdown: {status:?}");
}

#[test]
fn refuses_a_non_loopback_address_without_auth() {
    let output = server_command(&["--listen", "0.0.0.0:0"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0 without authentication"),
        "{stderr}"
    );
    assert!(stderr.contains("[[auth.api_keys]]"), "{stderr}");
}

#[tokio::test]
async fn config_file_turns_auth_on_and_flags_override_it() {
    // The example file says listen = 127.0.0.1:8080; --listen 127.0.0.1:0 wins.
    let server = start(server_command(&["--config", EXAMPLE_CONFIG]));
    assert!(!server.url.ends_with(":8080"), "{}", server.url);
    let url = format!("{}/psi-api/event/v2/topic", server.url);
    assert_eq!(get(&url, None).await.0, 401);
    assert_eq!(get(&url, Some("wrong-key")).await.0, 401);
    let (status, topics) = get(&url, Some("example-provider-key-do-not-use")).await;
    assert_eq!(status, 200, "{topics}");
    // The provider may not create topics; the operator (admin) key may list them too.
    assert_eq!(
        get(
            &format!("{}/tmf-api/event/v4/topic", server.url),
            Some("example-operator-key-do-not-use")
        )
        .await
        .0,
        200
    );
    let warning: Vec<String> = server.stderr.try_iter().collect();
    assert!(
        !warning.iter().any(|l| l.contains("NOT configured")),
        "{warning:?}"
    );

    // The same through the environment variable, on a non-loopback address: allowed
    // now that authentication is configured.
    let mut command = server_command(&[]);
    command.env("TMF688_CONFIG", EXAMPLE_CONFIG);
    let mut command_any = command;
    command_any.args(["--listen", "0.0.0.0:0"]);
    command_any.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command_any.spawn().unwrap();
    // It does not refuse: it gets as far as listening (a refusal ends stdout at once).
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("tmf688-server listening on"));
    assert!(
        listening,
        "the server listens on 0.0.0.0 with auth configured"
    );
    assert!(child.try_wait().unwrap().is_none());
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_bad_config_file_is_named() {
    let dir = std::env::temp_dir().join(format!("tmf688-server-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text, expected) in [
        ("typo.toml", "lissen = \"127.0.0.1:1\"\n", "lissen"),
        (
            "role.toml",
            "[[auth.api_keys]]\nname = \"x\"\nrole = \"boss\"\nsha256 = \"00\"\n",
            "unknown role",
        ),
        (
            "hash.toml",
            "[[auth.api_keys]]\nname = \"x\"\nrole = \"pss\"\nsha256 = \"00\"\n",
            "64 hex digits",
        ),
        ("age.toml", "[retention]\nmax_age = \"7\"\n", "no unit"),
        (
            "events.toml",
            "[retention]\nmax_events = 0\n",
            "keep nothing",
        ),
        (
            "topic.toml",
            "[retention.topics.order]\nmax_undelivered_age = \"soon\"\n",
            "not a duration",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let output = server_command(&[
            "--config",
            path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
        assert!(!output.status.success(), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
    // The retention flags are checked like the file.
    for (flag, value, expected) in [
        ("--retention-max-age", "7", "no unit"),
        ("--retention-max-events", "0", "at least 1"),
        ("--retention-interval", "1ms", "at least 10ms"),
    ] {
        let output = server_command(&[flag, value, "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert!(!output.status.success(), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{flag} {value}: {stderr}");
    }
    let output = server_command(&["--config", "/nonexistent/tmf688.toml"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/tmf688.toml"));
    let _ = std::fs::remove_dir_all(&dir);
}
