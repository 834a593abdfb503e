//! PostgreSQL for tests: each test gets its own, freshly created database (so tests run
//! in parallel), dropped when the [`TestDb`] goes out of scope — also when the test
//! panics.
//!
//! The server is `DATABASE_URL` when set, otherwise `postgres://postgres@127.0.0.1:5432/postgres`
//! (a local server with trust authentication; runtime/STORAGE.md). When none is reachable the tests print a loud
//! `POSTGRES TESTS SKIPPED` and pass — unless `TMF688_REQUIRE_POSTGRES=1`, which turns
//! that into a failure (CI sets it).
#![allow(dead_code)]

use std::io::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;
use tmf688_runtime::PgStore;

/// The server used when `DATABASE_URL` is not set.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database of one test.
#[derive(Debug)]
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// The URL of the maintenance database it was created from.
    admin_url: String,
    /// Its name.
    pub name: String,
}

fn required() -> bool {
    std::env::var("TMF688_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("DATABASE_URL is a URL");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

impl TestDb {
    /// Creates a fresh database named after `tag`; `None` (after saying so loudly) when
    /// no server is reachable and Postgres is not required.
    pub async fn create(tag: &str) -> Option<Self> {
        let base = std::env::var("DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        // The maintenance database of that server: create and drop from there.
        let admin_url = with_database(&base, "postgres");
        let connected =
            tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&admin_url)).await;
        let mut admin = match connected {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => return skip(tag, &admin_url, &error.to_string()),
            Err(_) => return skip(tag, &admin_url, "timed out connecting"),
        };
        drop_stale(&mut admin).await;
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        // Identifiers are at most 63 bytes: a short tag, the process, a counter.
        let tag: String = tag
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        let name = format!(
            "tmf688_test_{tag}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("drop a stale test database");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        let _ = admin.close().await;
        Some(Self {
            url: with_database(&base, &name),
            admin_url,
            name,
        })
    }

    /// A store over this database (migrated).
    pub async fn store(&self) -> PgStore {
        PgStore::connect(&self.url, 8)
            .await
            .expect("connect to the test database")
    }
}

/// Drops the test databases of test processes that are gone (killed before their
/// `Drop` ran): their names carry the process id.
async fn drop_stale(admin: &mut PgConnection) {
    // Liveness is read from /proc: elsewhere, leave them.
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(names) = sqlx::query_as::<_, (String,)>(
        "SELECT datname FROM pg_database WHERE datname LIKE 'tmf688_test_%'",
    )
    .fetch_all(&mut *admin)
    .await
    else {
        return;
    };
    for (name,) in names {
        let mut parts = name.rsplit('_');
        let _counter = parts.next();
        let Some(pid) = parts.next().and_then(|pid| pid.parse::<u32>().ok()) else {
            continue;
        };
        if pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut *admin)
            .await;
    }
}

fn skip<T>(tag: &str, url: &str, why: &str) -> Option<T> {
    if required() {
        panic!(
            "PostgreSQL is required (TMF688_REQUIRE_POSTGRES=1) but {url} is not reachable: {why}"
        );
    }
    // Straight to stderr, not `eprintln!`: the test harness would swallow that for a
    // passing test, and a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** POSTGRES TESTS SKIPPED ({tag}): no PostgreSQL at {url} ({why}). Set DATABASE_URL \
         or start a local server (runtime/STORAGE.md); TMF688_REQUIRE_POSTGRES=1 makes this a \
         failure. ***\n"
    );
    None
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop cannot await: a thread with its own runtime does it, also during a panic.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(async move {
                let Ok(mut admin) = PgConnection::connect(&admin_url).await else {
                    return;
                };
                // FORCE: pools of the test may still hold connections.
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
                let _ = admin.close().await;
            });
        });
        let _ = done.join();
    }
}

/// Creates the test's database, or returns from the test (skipped) when there is none.
#[macro_export]
macro_rules! test_db {
    ($tag:expr) => {
        match $crate::pg_common::TestDb::create($tag).await {
            Some(db) => db,
            None => return,
        }
    };
}
