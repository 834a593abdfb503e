//! `tmf688-server` among hostile peers, over raw sockets on loopback: idle keep-alive
//! and slow-header connections are closed on time while `/health` stays fast; a body
//! that stops arriving is answered 408; every refusal of the framework (413, 414, 431,
//! the operator API's bad input) is a TMF `Error`; the open-file limit is raised and
//! logged. Waiting is on conditions with deadlines, never on sleeps.
//!
//! Figures (close times, `/health` latencies) are printed: `cargo test -p tmf688-server
//! --test limits -- --nocapture`.

mod common;
#[path = "../../../runtime/tests/raw_http/mod.rs"]
mod raw_http;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout};

use common::{Running, server_command, server_command_with_open_files, start};
use raw_http::{closed_by_server, exchange, read_answer};

/// The timeouts the server gets here (header, body and idle alike).
const TIMEOUT: Duration = Duration::from_millis(1000);
/// The same among 1,000 hostile sockets: setting them up may meet a dropped SYN (retried
/// after a second), and the `/health` probes must still end before the first close.
const HOSTILE_TIMEOUT: Duration = Duration::from_millis(2000);
/// How late a close may come (a loaded 2-core machine runs both processes).
const MARGIN: Duration = Duration::from_millis(1000);
/// How early: the server's clock may start a moment before ours.
const EARLY: Duration = Duration::from_millis(100);

/// The server with header, body and idle timeouts of `timeout`. Every hostile peer of
/// these tests is one loopback address: the per-peer cap is lifted so that what they
/// measure is the timeouts and the global cap.
fn start_with_timeouts(timeout: Duration) -> Running {
    let millis = timeout.as_millis().to_string();
    start(server_command(&[
        "--header-read-timeout-ms",
        &millis,
        "--body-read-timeout-ms",
        &millis,
        "--idle-timeout-ms",
        &millis,
        "--max-connections-per-ip",
        "1000000",
    ]))
}

fn address(server: &Running) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `(min, median, max)` in ms.
fn spread(mut values: Vec<Duration>) -> (f64, f64, f64) {
    values.sort();
    (
        ms(values[0]),
        ms(values[values.len() / 2]),
        ms(values[values.len() - 1]),
    )
}

/// A hostile socket: an idle keep-alive one (one answered request, then nothing) or a
/// slow-header one (a partial request line, then nothing). Says when it is set up, then
/// waits for the server to close it.
async fn hold(
    address: String,
    ready: tokio::sync::mpsc::Sender<()>,
    setting_up: Arc<Semaphore>,
    idle: bool,
    within: Duration,
) -> Result<Duration, String> {
    let turn = setting_up.acquire_owned().await.unwrap();
    let mut stream = TcpStream::connect(&address).await.unwrap();
    if idle {
        stream
            .write_all(b"GET /health HTTP/1.1\r\nhost: hub\r\n\r\n")
            .await
            .unwrap();
        let answer = read_answer(&mut stream).await.unwrap();
        assert_eq!(answer.status, 200);
    } else {
        stream.write_all(b"GET /hea").await.unwrap();
    }
    let since = Instant::now();
    drop(turn);
    ready.send(()).await.unwrap();
    closed_by_server(&mut stream, since, within).await
}

/// How long setting up the 1,000 sockets may take: the probes (200 × 2 ms) must end
/// before the first of them is closed.
const SETUP_BUDGET: Duration = Duration::from_millis(1500);

/// 500 idle keep-alive connections (one answered request, then nothing) and 500
/// slow-header ones (a partial request line, then nothing) against a server with 2 s
/// timeouts: each is closed by the server within the timeout plus a margin, and
/// `/health`, asked 200 times meanwhile (a new connection each), keeps p99 < 50 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_header_connections_are_closed_while_health_stays_fast() {
    // Both processes hold every socket: take the test's own hard limit too.
    let own_limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let server = start_with_timeouts(HOSTILE_TIMEOUT);
    let open_files = server
        .startup_fields("open-file limit")
        .expect("the server logs its open-file limit")
        .clone();
    assert_eq!(open_files["soft"], open_files["hard"], "{open_files}");
    let cap = server.startup_fields("connection limits").unwrap()["max_connections"]
        .as_u64()
        .unwrap();
    // 500 + 500 unless a limit is lower (room kept for the probes and the rest).
    let per_group = 500
        .min(own_limit.saturating_sub(100) / 2)
        .min(cap.saturating_sub(50) / 2);
    eprintln!(
        "open files: test {own_limit}, server {open_files}; server max_connections {cap}; \
         {per_group} idle + {per_group} slow-header sockets"
    );
    assert!(
        per_group >= 100,
        "the open-file limits leave too little room"
    );
    let address = address(&server);

    // Each hostile socket: set up, say so, then wait for the server to close it.
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(2 * per_group as usize);
    let mut idle = Vec::new();
    let mut slow_header = Vec::new();
    // A few at a time: a burst of 1,000 SYNs would overflow the listen backlog (128),
    // and a dropped SYN is retried only after a second.
    let setting_up = Arc::new(Semaphore::new(32));
    for _ in 0..per_group {
        for (group, is_idle) in [(&mut idle, true), (&mut slow_header, false)] {
            let socket = hold(
                address.clone(),
                ready_tx.clone(),
                setting_up.clone(),
                is_idle,
                HOSTILE_TIMEOUT + MARGIN,
            );
            group.push(tokio::spawn(socket));
        }
    }
    drop(ready_tx);
    let setup = Instant::now();
    let all_open = timeout(SETUP_BUDGET, async {
        for _ in 0..2 * per_group {
            ready_rx.recv().await.expect("every socket is set up");
        }
    })
    .await;
    eprintln!("set up in {:.0} ms", ms(setup.elapsed()));
    assert!(
        all_open.is_ok(),
        "the hostile sockets were not all set up within {SETUP_BUDGET:?}"
    );

    // /health meanwhile: 200 requests, one every 2 ms (all before the first close).
    let mut latencies = Vec::new();
    let mut pace = tokio::time::interval(Duration::from_millis(2));
    for _ in 0..200 {
        pace.tick().await;
        let started = Instant::now();
        let answer = exchange(
            &address,
            b"GET /health HTTP/1.1\r\nhost: hub\r\nconnection: close\r\n\r\n",
        )
        .await;
        latencies.push(started.elapsed());
        assert_eq!(answer.status, 200, "{}", answer.head);
    }

    let mut idle_closes = Vec::new();
    for task in idle {
        idle_closes.push(task.await.unwrap().expect("an idle connection is closed"));
    }
    let mut header_closes = Vec::new();
    for task in slow_header {
        header_closes.push(
            task.await
                .unwrap()
                .expect("a slow-header connection is closed"),
        );
    }

    let mut sorted = latencies.clone();
    sorted.sort();
    let p50 = sorted[sorted.len() / 2];
    let p99 = sorted[sorted.len() * 99 / 100 - 1];
    let (idle_min, idle_median, idle_max) = spread(idle_closes.clone());
    let (head_min, head_median, head_max) = spread(header_closes.clone());
    eprintln!(
        "/health over {} requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        sorted.len(),
        ms(p50),
        ms(p99),
        ms(sorted[sorted.len() - 1])
    );
    eprintln!(
        "idle closed after {idle_min:.0}/{idle_median:.0}/{idle_max:.0} ms (min/median/max); \
         slow-header after {head_min:.0}/{head_median:.0}/{head_max:.0} ms; timeout {} ms",
        HOSTILE_TIMEOUT.as_millis()
    );
    assert!(p99 < Duration::from_millis(50), "p99 {:.2} ms", ms(p99));
    for close in idle_closes.iter().chain(&header_closes) {
        assert!(
            *close >= HOSTILE_TIMEOUT - EARLY && *close <= HOSTILE_TIMEOUT + MARGIN,
            "closed after {close:?}: not the timeout's doing"
        );
    }
}

/// The case: an open-file limit of 1,024 and 1,100 slow-header sockets. The
/// server raises its soft limit to the hard one, caps connections at half of it (the
/// rest is kept for the database pool and deliveries); the sockets over the cap wait
/// in the listen backlog, every one is closed by the header timeout, and `/health` is
/// answered within two timeouts (at worst it waits in the backlog for a slot).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_1024_open_files_1100_slow_sockets_delay_health_by_at_most_two_timeouts() {
    let own_limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    if own_limit < 1_300 || hard < 1_024 {
        eprintln!("SKIPPED: this process may open only {own_limit} files (hard {hard})");
        return;
    }
    let server = start(server_command_with_open_files(
        256,
        1_024,
        &[
            "--header-read-timeout-ms",
            "1000",
            "--max-connections-per-ip",
            "1000000",
        ],
    ));
    let open_files = server.startup_fields("open-file limit").unwrap().clone();
    assert_eq!(
        (
            &open_files["soft_before"],
            &open_files["soft"],
            &open_files["hard"]
        ),
        (&256.into(), &1_024.into(), &1_024.into()),
        "{open_files}"
    );
    let cap = &server.startup_fields("connection limits").unwrap()["max_connections"];
    assert_eq!(
        cap, 512,
        "half the limit: 128 + 1,024 deliveries would take it all"
    );
    let address = address(&server);

    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(1_100);
    let setting_up = Arc::new(Semaphore::new(32));
    let sockets: Vec<_> = (0..1_100)
        .map(|_| {
            let socket = hold(
                address.clone(),
                ready_tx.clone(),
                setting_up.clone(),
                false,
                3 * TIMEOUT + MARGIN,
            );
            tokio::spawn(socket)
        })
        .collect();
    drop(ready_tx);
    let setup = Instant::now();
    for _ in 0..1_100 {
        ready_rx.recv().await.expect("every socket is set up");
    }
    eprintln!("set up in {:.0} ms", ms(setup.elapsed()));

    let asked = Instant::now();
    let answer = exchange(
        &address,
        b"GET /health HTTP/1.1\r\nhost: hub\r\nconnection: close\r\n\r\n",
    )
    .await;
    let waited = asked.elapsed();
    assert_eq!(answer.status, 200, "{}", answer.head);
    let mut closes = Vec::new();
    for socket in sockets {
        closes.push(
            socket
                .await
                .unwrap()
                .expect("a slow-header socket is closed"),
        );
    }
    let late = closes
        .iter()
        .filter(|c| **c > TIMEOUT + TIMEOUT / 2)
        .count();
    let (first, median, last) = spread(closes);
    eprintln!(
        "1,024 open files, 1,100 slow-header sockets: /health answered after {:.0} ms; \
         sockets closed after {first:.0}/{median:.0}/{last:.0} ms (min/median/max), {late} \
         of them after 1.5 timeouts (accepted once a slot was free)",
        ms(waited)
    );
    assert!(waited <= 2 * TIMEOUT + MARGIN, "/health waited {waited:?}");
}

/// Headers complete, the body stops halfway: 408 with a TMF `Error` and
/// `Connection: close` within the body timeout, then the connection is closed.
#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408_and_closed() {
    let server = start_with_timeouts(TIMEOUT);
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    stream
        .write_all(
            b"POST /tmf-api/event/v4/topic/alarm/event HTTP/1.1\r\nhost: hub\r\n\
              content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"eventId\":",
        )
        .await
        .unwrap();
    let since = Instant::now();
    let answer = timeout(TIMEOUT + MARGIN, read_answer(&mut stream))
        .await
        .expect("answered within the body timeout and the margin")
        .unwrap();
    let answered = since.elapsed();
    eprintln!(
        "slow body answered {} after {:.0} ms",
        answer.status,
        ms(answered)
    );
    answer.assert_tmf_error(408, "did not arrive within 1000 ms");
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    assert!(answered >= TIMEOUT - EARLY, "{answered:?}");
    closed_by_server(&mut stream, since, MARGIN)
        .await
        .expect("closed after the 408");
}

/// 413, 414 and 431 (too many bytes, too many fields) are TMF `Error`s; beyond about
/// twice the head limits hyper answers a bare 431 itself and closes (documented in
/// `runtime/src/serve/request.rs`); the operator API's bad input is a TMF 400.
#[tokio::test]
async fn refusals_are_tmf_errors() {
    let server = start(server_command(&[
        "--max-body-bytes",
        "1024",
        "--max-uri-bytes",
        "2048",
        "--max-header-bytes",
        "4096",
    ]));
    let address = address(&server);
    let event = |length: usize| {
        let body = format!(
            "{{\"eventId\":\"e\",\"eventType\":\"AlarmCreateEvent\",\"event\":{{\"id\":\"{}\"}}}}",
            "x".repeat(length)
        );
        format!(
            "POST /tmf-api/event/v4/topic/alarm/event HTTP/1.1\r\nhost: hub\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let fields: String = (0..150).map(|n| format!("x-{n}: v\r\n")).collect();
    let refused = [
        (event(2000), 413, "size limit"),
        (
            format!(
                "GET /health?q={} HTTP/1.1\r\nhost: hub\r\n\r\n",
                "a".repeat(3000)
            ),
            414,
            "at most 2048",
        ),
        (
            format!(
                "GET /health HTTP/1.1\r\nhost: hub\r\nx-big: {}\r\n\r\n",
                "a".repeat(5000)
            ),
            431,
            "at most 4096",
        ),
        (
            format!("GET /health HTTP/1.1\r\nhost: hub\r\n{fields}\r\n"),
            431,
            "at most 100",
        ),
        // The operator API (the engine is attached; no auth on loopback).
        (
            "POST /admin/hubs/h1/replay?from=abc HTTP/1.1\r\nhost: hub\r\n\r\n".to_owned(),
            400,
            "from",
        ),
        (
            "GET /admin/hubs/%FF HTTP/1.1\r\nhost: hub\r\n\r\n".to_owned(),
            400,
            "UTF-8",
        ),
    ];
    for (request, status, needle) in refused {
        exchange(&address, request.as_bytes())
            .await
            .assert_tmf_error(status, needle);
    }

    // Past hyper's parser buffer (2 × (2048 + 4096) + 8192 bytes): its own bare 431.
    let huge = format!(
        "GET /health HTTP/1.1\r\nhost: hub\r\nx-big: {}\r\n\r\n",
        "a".repeat(30_000)
    );
    let mut stream = TcpStream::connect(&address).await.unwrap();
    stream.write_all(huge.as_bytes()).await.unwrap();
    let answer = read_answer(&mut stream).await.unwrap();
    assert_eq!(
        (answer.status, answer.body.len()),
        (431, 0),
        "{}",
        answer.head
    );
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
}

/// A zero timeout or cap is refused at start-up, naming the flag.
#[test]
fn zero_limits_are_refused() {
    for flag in [
        "--header-read-timeout-ms",
        "--body-read-timeout-ms",
        "--idle-timeout-ms",
        "--max-connections",
        "--max-connections-per-ip",
        "--max-uri-bytes",
        "--max-header-bytes",
    ] {
        let output = server_command(&[flag, "0", "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert!(!output.status.success(), "{flag} 0 accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("{flag} must be at least 1")),
            "{stderr}"
        );
    }
}
