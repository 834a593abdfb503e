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
