//! The README's client and curl commands, run as written (through `sh`) against a real
//! hub on a loopback port: `cargo run --release --bin tmf688-client --` becomes the
//! built binary and `127.0.0.1:8080` the test server's address. Commands that start
//! servers or block (`tmf688-server`, `listen`) are covered by other tests
//! (`examples/server/tests/`, `cli.rs`). A block that starts the server with
//! `--config examples/server/config.example.toml` runs against a hub configured from
//! that file (authentication on).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;
use tmf688_runtime::config::Config;
use tmf688_runtime::{AppConfig, Authenticator, Hub688, HubConfig, MemoryStore, app_with};

const BIN: &str = env!("CARGO_BIN_EXE_tmf688-client");
const CLIENT: &str = "cargo run --release --bin tmf688-client --";

struct Server {
    addr: String,
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
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server { addr, task }
}

/// The ```sh blocks of the README, each as commands (continuation lines joined).
fn sh_blocks(readme: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    let mut pending = String::new();
    for line in readme.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(commands), text) => {
                let text = text.trim_end();
                if let Some(head) = text.strip_suffix('\\') {
                    pending.push_str(head);
                    pending.push(' ');
                } else {
                    pending.push_str(text);
                    if !pending.trim().is_empty() {
                        commands.push(std::mem::take(&mut pending));
                    }
                    pending.clear();
                }
            }
            (None, _) => {}
        }
    }
    blocks
}

fn runnable(command: &str) -> bool {
    (command.contains(CLIENT) || command.trim_start().starts_with("curl "))
        && !command.contains(" listen ")
}

fn run(command: &str, addr: &str, have_curl: bool) -> Option<String> {
    if command.trim_start().starts_with("curl ") && !have_curl {
        eprintln!("SKIPPED (curl is not installed): {command}");
        return None;
    }
    let script = command
        .replace(CLIENT, &format!("'{BIN}'"))
        .replace("127.0.0.1:8080", addr);
    let output = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env_remove("TMF688_URL")
        .env_remove("TMF688_TOKEN")
        .env("TMF688_URL", format!("http://{addr}"))
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Some(format!(
            "{command}\n  exit {:?}\n  stdout: {stdout}\n  stderr: {stderr}",
            output.status.code()
        ));
    }
    let error = serde_json::from_str::<Value>(&stdout).is_ok_and(|v| v["@type"] == "Error");
    error.then(|| format!("{command}\n  answered a TMF Error: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_commands_work_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let have_curl = Command::new("curl").arg("--version").output().is_ok();
    let example_config = "--config examples/server/config.example.toml";

    let mut failures = Vec::new();
    let mut ran = 0;
    for block in sh_blocks(&readme) {
        let commands: Vec<&String> = block.iter().filter(|c| runnable(c)).collect();
        if commands.is_empty() {
            continue;
        }
        let config = if block.iter().any(|c| c.contains(example_config)) {
            let file = Config::load(&root.join("examples/server/config.example.toml")).unwrap();
            let auth = Authenticator::from_config(&file.auth).unwrap();
            AppConfig {
                auth: Some(Arc::new(auth)),
                ..AppConfig::default()
            }
        } else {
            AppConfig::default()
        };
        let server = server(config).await;
        for command in commands {
            ran += 1;
            if let Some(failure) = run(command, &server.addr, have_curl) {
                failures.push(failure);
            }
        }
    }
    assert!(
        ran >= 10,
        "expected the README to hold the client/curl examples, ran {ran}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
