//! NATS JetStream for tests: each test gets its own namespace — a prefix of its own
//! for every stream and bucket (`tmft_<pid>_<n>`), so tests run in parallel on one
//! server — removed when the [`TestNats`] goes out of scope, also when the test panics.
//!
//! The server is `TMF688_NATS_URL` when set, otherwise `nats://127.0.0.1:4222` (a local
//! `nats-server -js`; runtime/STORAGE.md). When none is reachable the tests print a loud
//! `NATS TESTS SKIPPED` and pass — unless `TMF688_REQUIRE_NATS=1` or `CI=true`, which
//! turn that into a failure.
#![allow(dead_code)]

use std::io::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tmf688_runtime::{JetStreamOptions, JetStreamStore};

/// The server used when `TMF688_NATS_URL` is not set.
pub const DEFAULT_URL: &str = "nats://127.0.0.1:4222";

/// What starts the prefix of every test namespace.
const TEST_PREFIX: &str = "tmft_";

/// The namespace of one test.
#[derive(Debug)]
pub struct TestNats {
    /// The server's URL.
    pub url: String,
    /// The namespace's prefix.
    pub prefix: String,
}

fn required() -> bool {
    std::env::var("TMF688_REQUIRE_NATS").is_ok_and(|v| v == "1" || v == "true")
        || std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The server's URL.
pub fn url() -> String {
    std::env::var("TMF688_NATS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

impl TestNats {
    /// A fresh namespace; `None` (after saying so loudly) when no server is reachable
    /// and NATS is not required.
    pub async fn create(tag: &str) -> Option<Self> {
        let url = url();
        let connected =
            tokio::time::timeout(Duration::from_secs(5), async_nats::connect(&url)).await;
        let client = match connected {
            Ok(Ok(client)) => client,
            Ok(Err(error)) => return skip(tag, &url, &error.to_string()),
            Err(_) => return skip(tag, &url, "timed out connecting"),
        };
        remove_stale(&client).await;
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let prefix = format!(
            "{TEST_PREFIX}{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        Some(Self { url, prefix })
    }

    /// The options of a store in this namespace.
    pub fn options(&self) -> JetStreamOptions {
        JetStreamOptions {
            prefix: self.prefix.clone(),
            ..JetStreamOptions::default()
        }
    }

    /// A store in this namespace (a new connection each time: two stores are two
    /// processes' views of the same data).
    pub async fn store(&self) -> JetStreamStore {
        JetStreamStore::connect(&self.url, self.options())
            .await
            .expect("connect to NATS")
    }
}

/// Removes the namespaces of test processes that are gone (killed before their `Drop`
/// ran): their prefixes carry the process id.
async fn remove_stale(client: &async_nats::Client) {
    use futures_util::TryStreamExt as _;
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let js = async_nats::jetstream::new(client.clone());
    let Ok(names) = js.stream_names().try_collect::<Vec<String>>().await else {
        return;
    };
    for name in names {
        let rest = name.strip_prefix("KV_").unwrap_or(&name);
        let Some(pid) = rest
            .strip_prefix(TEST_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let _ = js.delete_stream(&name).await;
    }
}

fn skip<T>(tag: &str, url: &str, why: &str) -> Option<T> {
    if required() {
        panic!(
            "NATS JetStream is required (TMF688_REQUIRE_NATS=1 or CI=true) but {url} is not \
             reachable: {why}"
        );
    }
    // Straight to stderr: the harness would swallow `eprintln!` for a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** NATS TESTS SKIPPED ({tag}): no NATS JetStream at {url} ({why}). Set \
         TMF688_NATS_URL or start `nats-server -js` (runtime/STORAGE.md); \
         TMF688_REQUIRE_NATS=1 makes this a failure. ***\n"
    );
    None
}

impl Drop for TestNats {
    fn drop(&mut self) {
        // Drop cannot await: a thread with its own runtime does it, also during a panic.
        let url = self.url.clone();
        let prefix = format!("{}_", self.prefix);
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to remove the test namespace");
            runtime.block_on(async move {
                use futures_util::TryStreamExt as _;
                let Ok(client) = async_nats::connect(&url).await else {
                    return;
                };
                let js = async_nats::jetstream::new(client);
                let Ok(names) = js.stream_names().try_collect::<Vec<String>>().await else {
                    return;
                };
                for name in names {
                    if name
                        .strip_prefix("KV_")
                        .unwrap_or(&name)
                        .starts_with(&prefix)
                    {
                        let _ = js.delete_stream(&name).await;
                    }
                }
            });
        });
        let _ = done.join();
    }
}

/// Creates the test's namespace, or returns from the test (skipped) when there is no
/// server.
#[macro_export]
macro_rules! test_nats {
    ($tag:expr) => {
        match $crate::js_common::TestNats::create($tag).await {
            Some(nats) => nats,
            None => return,
        }
    };
}
