//! The delivery client on the wire: an https callback is spoken to in TLS (rustls on
//! the delivery path), and the attempt that cannot complete a handshake is a failed,
//! retried attempt naming the connection.

mod delivery_common;

use std::time::Duration;

use delivery_common::*;
use serde_json::json;
use tmf688_runtime::delivery::DeliveryState;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// A listener that is not a TLS server: what the engine sends to `https://` there
/// starts with a TLS handshake record (content type 22, version 3.x), and the attempt
/// fails as a connection failure, to be retried.
#[tokio::test]
async fn https_callbacks_are_spoken_to_in_tls() {
    let hub = TestHub::start(fast_config(20)).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let id = hub
        .register(TMF, "alarm", &format!("https://{addr}/cb"), None)
        .await;
    hub.publish(
        TMF,
        "alarm",
        json!({"@type": "AlarmCreateEvent", "eventId": "e-0", "event": {"alarm": {"id": "1"}}}),
    )
    .await;
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("the engine connects")
        .unwrap();
    let mut first = [0u8; 3];
    tokio::time::timeout(Duration::from_secs(10), socket.read_exact(&mut first))
        .await
        .expect("the engine sends")
        .unwrap();
    assert_eq!(first[0], 22, "a TLS handshake record, not {first:?}");
    assert_eq!(first[1], 3, "TLS 1.x record version, not {first:?}");
    drop(socket);
    drop(listener);
    eventually("a failed attempt", Duration::from_secs(10), || async {
        let s = hub.status(&id);
        s.state == DeliveryState::Retrying
            && s.last_error
                .as_deref()
                .is_some_and(|e| e.contains("connection"))
    })
    .await;
}
