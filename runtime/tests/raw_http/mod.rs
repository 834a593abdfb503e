//! HTTP/1.1 over raw sockets, for tests that need what a client library hides: a
//! connection held open, a partial request, the moment the server closes. Shared by
//! `runtime/tests/serve.rs` and `examples/server/tests/limits.rs`.
#![allow(dead_code)] // each test binary uses a different part

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// An HTTP answer read off a raw socket.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The status line and header fields, lower-cased.
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// A TMF `Error` with this status: JSON, `code`, `reason`, `message`, `status`.
    pub fn assert_tmf_error(&self, status: u16, needle: &str) {
        let body = self.json();
        assert_eq!(self.status, status, "{}\n{body}", self.head);
        assert!(
            self.head
                .contains("content-type: application/json;charset=utf-8"),
            "{}",
            self.head
        );
        assert_eq!(body["code"], status.to_string(), "{body}");
        assert_eq!(body["status"], status.to_string(), "{body}");
        assert_eq!(body["@type"], "Error", "{body}");
        assert!(
            body["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{body}"
        );
        assert!(
            body["message"].as_str().is_some_and(|m| m.contains(needle)),
            "the message names {needle:?}: {body}"
        );
    }
}

/// Reads one answer (head and `content-length` body), leaving the connection open.
pub async fn read_answer(stream: &mut TcpStream) -> std::io::Result<Answer> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
                let body = buffer[end + 4..end + 4 + length].to_vec();
                return Ok(Answer { status, head, body });
            }
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// Sends `request` on a new connection and reads the answer.
pub async fn exchange(address: &str, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    timeout(Duration::from_secs(10), read_answer(&mut stream))
        .await
        .expect("an answer before the deadline")
        .expect("an answer")
}

/// Waits until the server closes `stream` (EOF or reset), at most `within`; returns
/// how long that took from `since`. Data instead of a close is an error.
pub async fn closed_by_server(
    stream: &mut TcpStream,
    since: Instant,
    within: Duration,
) -> Result<Duration, String> {
    let mut byte = [0u8; 1];
    match timeout(within, stream.read(&mut byte)).await {
        Ok(Ok(0) | Err(_)) => Ok(since.elapsed()),
        Ok(Ok(_)) => Err("the server sent data instead of closing".into()),
        Err(_) => Err(format!("still open after {within:?}")),
    }
}
