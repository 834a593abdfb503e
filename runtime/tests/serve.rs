//! `tmf688_runtime::serve` in process, over raw sockets on loopback: at the connection
//! cap a newcomer waits until the server closes a connection; graceful shutdown lets
//! the request in progress finish, closes idle connections at once and returns.
//! (Timeouts and refusals among many hostile peers: `examples/server/tests/limits.rs`.)

#[path = "raw_http/mod.rs"]
mod raw_http;

use std::sync::Arc;
use std::time::Duration;

use raw_http::{closed_by_server, exchange, read_answer};
use tmf688_runtime::{Hub688, HubConfig, MemoryStore, ServeConfig, app, serve};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

const IDLE: Duration = Duration::from_millis(1000);
/// How early a close may come: the server's clock starts a moment before ours.
const EARLY: Duration = Duration::from_millis(100);
const DEADLINE: Duration = Duration::from_secs(10);
const HEALTH: &[u8] = b"GET /health HTTP/1.1\r\nhost: hub\r\n\r\n";

struct Served {
    address: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// The application over a fresh in-memory store, served with `config` until `stop`.
async fn start(config: ServeConfig) -> Served {
    let hub = Hub688::new(Arc::new(MemoryStore::new()), HubConfig::default())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app(Arc::new(hub)), config, async {
        let _ = stopped.await;
    }));
    Served {
        address,
        stop: Some(stop),
        task,
    }
}

/// A kept-alive connection that has had one answer.
async fn answered_connection(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(HEALTH).await.unwrap();
    let answer = read_answer(&mut stream).await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.head);
    stream
}

/// With `max_connections = 2` and both held by idle keep-alive connections, a third
/// is answered only after the server has closed one of them for idleness.
#[tokio::test]
async fn at_the_cap_a_newcomer_waits_until_a_connection_closes() {
    let served = start(ServeConfig {
        max_connections: 2,
        // One peer here: the global cap is under test, not the per-peer one.
        max_connections_per_ip: Some(2),
        idle_timeout: IDLE,
        ..ServeConfig::default()
    })
    .await;
    let mut held = vec![
        answered_connection(&served.address).await,
        answered_connection(&served.address).await,
    ];
    let idle_since = Instant::now();

    let answer = exchange(&served.address, HEALTH).await;
    let waited = idle_since.elapsed();
    assert_eq!(answer.status, 200, "{}", answer.head);
    assert!(
        waited >= IDLE - EARLY,
        "answered after {waited:?}: the cap did not hold it back"
    );
    // What freed the slot: the server closed the held connections (EOF waiting).
    for stream in &mut held {
        closed_by_server(stream, idle_since, DEADLINE)
            .await
            .expect("the server closed the idle connections");
    }
}

/// On shutdown an idle keep-alive connection is closed at once (not after the 60 s
/// idle timeout), the request in progress gets its answer, and `serve` returns.
#[tokio::test]
async fn graceful_shutdown_finishes_the_request_in_progress() {
    let mut served = start(ServeConfig::default()).await;
    let mut idle = answered_connection(&served.address).await;

    // A request in progress: `Expect: 100-continue` tells when the service reads it.
    let body =
        br#"{"@type":"Event","eventId":"g-1","eventType":"AlarmCreateEvent","event":{"id":"a1"}}"#;
    let mut busy = TcpStream::connect(&served.address).await.unwrap();
    let head = format!(
        "POST /tmf-api/event/v4/topic/alarm/event HTTP/1.1\r\nhost: hub\r\n\
         content-type: application/json\r\nexpect: 100-continue\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    busy.write_all(head.as_bytes()).await.unwrap();
    let proceed = timeout(DEADLINE, read_answer(&mut busy))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(proceed.status, 100, "{}", proceed.head);

    served.stop.take().unwrap().send(()).unwrap();
    let stopped = Instant::now();
    let closed = closed_by_server(&mut idle, stopped, DEADLINE).await;
    assert!(
        closed
            .as_ref()
            .is_ok_and(|after| *after < Duration::from_secs(5)),
        "the idle connection is closed on shutdown: {closed:?}"
    );

    busy.write_all(body).await.unwrap();
    let answer = timeout(DEADLINE, read_answer(&mut busy))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer.status, 201, "{}", answer.head);
    assert!(answer.head.contains("connection: close"), "{}", answer.head);
    assert!(closed_by_server(&mut busy, stopped, DEADLINE).await.is_ok());
    timeout(DEADLINE, &mut served.task)
        .await
        .expect("serve returns once every connection is closed")
        .unwrap();
}

/// A connection from `local` (a loopback address of ours) to `address`.
async fn connect_from(local: &str, address: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    socket.connect(address.parse().unwrap()).await.unwrap()
}

/// One request on a new connection from `local`: its status, or `None` when the server
/// closed the connection without an answer.
async fn health_from(local: &str, address: &str) -> Option<u16> {
    let mut stream = connect_from(local, address).await;
    // The server may close before reading: a failed write is a refusal too.
    stream.write_all(HEALTH).await.ok()?;
    let answer = timeout(DEADLINE, read_answer(&mut stream)).await.ok()?;
    answer.ok().map(|answer| answer.status)
}

/// One peer cannot hold every connection: with `max_connections = 4` and
/// `max_connections_per_ip = 2`, a third connection from 127.0.0.1 is closed at once
/// (no answer) while 127.0.0.2 is served; once the peer closes one of its own, it gets
/// a place again.
#[tokio::test]
async fn one_peer_cannot_take_every_connection() {
    let served = start(ServeConfig {
        max_connections: 4,
        max_connections_per_ip: Some(2),
        ..ServeConfig::default()
    })
    .await;
    let address = served.address.as_str();
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect_from("127.0.0.1", address).await;
        stream.write_all(HEALTH).await.unwrap();
        let answer = read_answer(&mut stream).await.unwrap();
        assert_eq!(answer.status, 200, "{}", answer.head);
        held.push(stream);
    }
    // The third from the same peer: closed by the server without an answer.
    let mut third = connect_from("127.0.0.1", address).await;
    let closed = closed_by_server(&mut third, Instant::now(), DEADLINE).await;
    assert!(
        closed
            .as_ref()
            .is_ok_and(|after| *after < Duration::from_secs(5)),
        "a third connection from one peer is closed on accept: {closed:?}"
    );
    // Another peer is served meanwhile, twice at once.
    let mut other = Vec::new();
    for _ in 0..2 {
        let mut stream = connect_from("127.0.0.2", address).await;
        stream.write_all(HEALTH).await.unwrap();
        let answer = timeout(DEADLINE, read_answer(&mut stream))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.head);
        other.push(stream);
    }
    // The first peer closes one of its connections: it is served again (the server
    // notices the close a moment later — asked until it does).
    drop(held.pop());
    let deadline = Instant::now() + DEADLINE;
    loop {
        if health_from("127.0.0.1", address).await == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "the peer got no place back");
        tokio::task::yield_now().await;
    }
}
