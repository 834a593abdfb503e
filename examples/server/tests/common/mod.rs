//! Shared by the tests that start the `tmf688-server` binary: start it on a free
//! loopback port with JSON logs and wait until it listens.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_tmf688-server");
pub const DEADLINE: Duration = Duration::from_secs(20);
/// How long the server may take to listen (a database to migrate first).
const START_DEADLINE: Duration = Duration::from_secs(30);

pub struct Running {
    pub child: Child,
    pub url: String,
    pub stderr: mpsc::Receiver<String>,
    /// The JSON log lines before the one saying where it listens.
    pub startup: Vec<Value>,
    /// The `fields` of the line saying where it listens (`store`, `topics`).
    pub listening: Value,
}

impl Running {
    /// The `fields` of the start-up log line whose message starts with `message`.
    pub fn startup_fields(&self, message: &str) -> Option<&Value> {
        self.startup
            .iter()
            .map(|log| &log["fields"])
            .find(|fields| {
                fields["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(message))
            })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn server_command(args: &[&str]) -> Command {
    let mut command = without_settings_env(Command::new(BIN));
    command.args(args);
    command
}

/// The server under open-file limits of `soft` and `hard`, set by the shell that starts
/// it (`start` appends its own arguments).
pub fn server_command_with_open_files(soft: u64, hard: u64, args: &[&str]) -> Command {
    let mut command = without_settings_env(Command::new("sh"));
    let limits = format!("ulimit -S -n {soft} && ulimit -H -n {hard} && exec \"$0\" \"$@\"");
    command.args(["-c", &limits, BIN]).args(args);
    command
}

/// `command` without the environment variables that would change the server's settings.
fn without_settings_env(mut command: Command) -> Command {
    for var in [
        "TMF688_CONFIG",
        "TMF688_LISTEN",
        "TMF688_LOG_FORMAT",
        "TMF688_ALLOW_UNAUTHENTICATED",
        "TMF688_DISABLED_BASE_PATHS",
        "TMF688_RETENTION_MAX_AGE",
        "TMF688_RETENTION_MAX_EVENTS",
        "TMF688_RETENTION_MAX_UNDELIVERED_AGE",
        "TMF688_RETENTION_INTERVAL",
        "DATABASE_URL",
        "TMF688_NATS_URL",
        "TMF688_NATS_PREFIX",
        "TMF688_NATS_REPLICAS",
        "RUST_LOG",
    ] {
        command.env_remove(var);
    }
    command
}

/// Starts the server with JSON logs on a free loopback port, and waits until it says
/// where it listens.
pub fn start(mut command: Command) -> Running {
    command
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the server binary runs");
    let (out_tx, out_rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out_tx.send(line);
        }
    });
    let (err_tx, stderr) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = err_tx.send(line);
        }
    });
    let end = Instant::now() + START_DEADLINE;
    let mut startup = Vec::new();
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let Ok(line) = out_rx.recv_timeout(left) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server did not log where it listens before the deadline \
                 (with --database-url: is the database reachable?)"
            );
        };
        let Ok(log) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let message = log["fields"]["message"].as_str().unwrap_or_default();
        if let Some(addr) = message.strip_prefix("tmf688-server listening on ") {
            let url = format!("http://{addr}");
            let listening = log["fields"].clone();
            return Running {
                child,
                url,
                stderr,
                startup,
                listening,
            };
        }
        startup.push(log);
    }
}
