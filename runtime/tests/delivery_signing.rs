//! Standard Webhooks signatures: our deliveries are signed per callback host (verified
//! here by an independent receiver, including during a key rotation), and our
//! `createEvent` verifies them when `inbound_signatures` asks for it.

mod delivery_common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use delivery_common::*;
use hmac::{Hmac, Mac};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use tmf688_runtime::delivery::{
    CallbackHost, DeliveryConfig, DeliveryState, InboundSignatures, OutboundAuth, Secrets,
};
use tokio::net::TcpListener;

fn whsec(key: &[u8]) -> String {
    format!("whsec_{}", STANDARD.encode(key))
}

/// Loopback allowed, deliveries signed with `secrets`.
fn signing_config(secrets: &[&str], max_attempts: u32) -> DeliveryConfig {
    let mut config = fast_config(max_attempts);
    config.allowed_callback_hosts = vec![CallbackHost {
        host: "127.0.0.1".into(),
        port: None,
        auth: OutboundAuth::None,
        allow_private_addresses: true,
        signing_secrets: Secrets(secrets.iter().map(|s| (*s).to_owned()).collect()),
    }];
    config
}

/// What the verifying receiver saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    id: String,
    timestamp: u64,
    event_id: String,
    valid: bool,
    answered: StatusCode,
}

#[derive(Clone)]
struct VerifyingState {
    key: Vec<u8>,
    /// Answer 503 to the first request (to observe a retry).
    fail_first: bool,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// An independent Standard Webhooks verification (HMAC-SHA256 over
/// `id.timestamp.body`, any `v1,` entry may match, 5 minutes tolerance).
fn verify(key: &[u8], headers: &HeaderMap, body: &[u8]) -> Option<(String, u64)> {
    let id = headers.get("webhook-id")?.to_str().ok()?;
    let timestamp = headers.get("webhook-timestamp")?.to_str().ok()?;
    let signatures = headers.get("webhook-signature")?.to_str().ok()?;
    let ts: u64 = timestamp.parse().ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    if now.abs_diff(ts) > 300 {
        return None;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    signatures
        .split(' ')
        .any(|s| s == expected)
        .then(|| (id.to_owned(), ts))
}

async fn verifying(
    State(state): State<VerifyingState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let verified = verify(&state.key, &headers, &body);
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut seen = state.seen.lock().unwrap();
    let answered = if state.fail_first && seen.is_empty() {
        StatusCode::SERVICE_UNAVAILABLE
    } else if verified.is_some() {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    };
    seen.push(Seen {
        id: headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        timestamp: headers
            .get("webhook-timestamp")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or_default(),
        event_id: value["eventId"].as_str().unwrap_or_default().to_owned(),
        valid: verified.is_some(),
        answered,
    });
    answered.into_response()
}

/// Starts a receiver accepting only signatures by `key`; returns its URL and log.
async fn verifying_receiver(key: &[u8], fail_first: bool) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = VerifyingState {
        key: key.to_vec(),
        fail_first,
        seen: seen.clone(),
    };
    let app = Router::new()
        .fallback(axum::routing::post(verifying))
        .with_state(state);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/cb"), seen)
}

/// During a key rotation the hub signs with the old and the new key: a receiver that
/// knows only the old one and one that knows only the new one both accept every
/// delivery; `webhook-id` is the eventId and stays the same on a retry; a receiver
/// knowing neither refuses, and the hub halts without anything accepted.
#[tokio::test]
async fn deliveries_are_signed_with_every_key_during_rotation() {
    let (old, new) = (b"the old signing key".as_slice(), b"the new one".as_slice());
    let hub = TestHub::start(signing_config(&[&whsec(old), &whsec(new)], 3)).await;
    let (old_url, old_seen) = verifying_receiver(old, true).await;
    let (new_url, new_seen) = verifying_receiver(new, false).await;
    let (other_url, other_seen) = verifying_receiver(b"someone else", false).await;
    hub.register(PSI, "order", &old_url, None).await;
    hub.register(PSI, "order", &new_url, None).await;
    let stranger = hub.register(PSI, "order", &other_url, None).await;
    for n in 0..3 {
        hub.publish(PSI, "order", order_event(n)).await;
    }
    let accepted = |seen: &Arc<Mutex<Vec<Seen>>>| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|s| s.answered.is_success())
            .map(|s| s.event_id.clone())
            .collect::<Vec<_>>()
    };
    let expected: Vec<String> = (0..3).map(|n| format!("e-{n}")).collect();
    eventually(
        "both keys' receivers accept everything",
        Duration::from_secs(5),
        || async { accepted(&old_seen) == expected && accepted(&new_seen) == expected },
    )
    .await;
    for seen in [&old_seen, &new_seen] {
        for s in seen.lock().unwrap().iter() {
            assert!(s.valid, "{s:?}");
            assert_eq!(s.id, s.event_id, "webhook-id is the eventId");
        }
    }
    let old_seen = old_seen.lock().unwrap().clone();
    assert_eq!(old_seen[0].answered, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        (old_seen[0].id.as_str(), old_seen[1].id.as_str()),
        ("e-0", "e-0"),
        "the retry carries the same webhook-id"
    );
    assert!(old_seen[1].timestamp >= old_seen[0].timestamp);

    eventually(
        "the stranger's hub halts",
        Duration::from_secs(5),
        || async { hub.status(&stranger).state == DeliveryState::Halted },
    )
    .await;
    let other_seen = other_seen.lock().unwrap().clone();
    assert_eq!(other_seen.len(), 3);
    assert!(
        other_seen
            .iter()
            .all(|s| !s.valid && s.answered == StatusCode::UNAUTHORIZED)
    );
    assert_eq!(hub.status(&stranger).last_status, Some(401));
}

fn sign(key: &[u8], id: &str, timestamp: u64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Our createEvent with `inbound_signatures` on `order`: unsigned, forged, expired,
/// future or body-tampered events get 401 with a TMF Error; a valid signature by either
/// configured secret (rotation) is accepted; other topics need none. And end to end: a
/// hub of ours signing with the right secret delivers into it, one with a wrong secret
/// is refused (and halts) without anything stored.
#[tokio::test]
async fn create_event_verifies_signatures() {
    let (k1, k2) = (
        b"receiver key one".as_slice(),
        b"receiver key two".as_slice(),
    );
    let mut config = fast_config(2);
    config.inbound_signatures = vec![InboundSignatures {
        topics: vec!["order".into()],
        secrets: Secrets(vec![whsec(k1), whsec(k2)]),
        tolerance_secs: 300,
    }];
    let b = TestHub::start(config).await;
    let url = format!("{}{PSI}/topic/order/event", b.url);
    let post = |headers: Vec<(&'static str, String)>, body: String, url: String| {
        let http = b.http.clone();
        async move {
            let mut request = http
                .post(url)
                .header("content-type", "application/json")
                .body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let bytes = response.bytes().await.unwrap();
            let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            (status, value)
        }
    };
    let body = order_event(1).to_string();
    let ts = now();
    let headers = |key: &[u8], ts: u64, body: &str| {
        vec![
            ("webhook-id", "e-1".to_owned()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", sign(key, "e-1", ts, body)),
        ]
    };
    let cases = [
        ("unsigned", vec![], "webhook-id` header is missing"),
        (
            "forged",
            headers(b"not a configured key", ts, &body),
            "matches",
        ),
        ("expired", headers(k1, ts - 600, &body), "s old"),
        ("from the future", headers(k1, ts + 600, &body), "future"),
        (
            "another body",
            headers(k1, ts, &order_event(2).to_string()),
            "matches",
        ),
        (
            "not v1",
            vec![
                ("webhook-id", "e-1".to_owned()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", "v2,AAAA".to_owned()),
            ],
            "no `v1",
        ),
    ];
    for (what, headers, message) in cases {
        let (status, error) = post(headers, body.clone(), url.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {error}");
        assert_eq!(error["@type"], "Error", "{what}");
        assert_eq!(error["code"], "401", "{what}");
        assert!(
            error["message"].as_str().unwrap().contains(message),
            "{what}: {error}"
        );
    }
    assert!(
        b.log("order").await.is_empty(),
        "nothing refused was stored"
    );
    // Valid, with either secret; a multi-signature header with one good entry too.
    let (status, value) = post(headers(k2, ts, &body), body.clone(), url.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{value}");
    let body2 = order_event(2).to_string();
    let mut two = headers(k1, ts, &body2);
    two[2].1 = format!("v1,Zm9yZ2Vk {}", sign(k1, "e-1", ts, &body2));
    let (status, value) = post(two, body2, url.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{value}");
    // Topics not listed need no signature.
    let alarm =
        json!({"@type": "AlarmCreateEvent", "eventId": "a-1", "event": {"alarm": {"id": "a"}}});
    let (status, value) = post(
        vec![],
        alarm.to_string(),
        format!("{}{PSI}/topic/alarm/event", b.url),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{value}");

    // End to end: hub A signs with k1 (B accepts), hub C with a wrong key (B refuses).
    let a = TestHub::start(signing_config(&[&whsec(k1)], 2)).await;
    a.register(PSI, "order", &url, None).await;
    let c = TestHub::start(signing_config(&[&whsec(b"wrong")], 2)).await;
    let refused = c.register(PSI, "order", &url, None).await;
    for n in 10..15 {
        a.publish(PSI, "order", order_event(n)).await;
    }
    c.publish(PSI, "order", order_event(99)).await;
    eventually("A's events stored by B", Duration::from_secs(5), || async {
        b.log("order").await.len() == 7
    })
    .await;
    eventually("C halted", Duration::from_secs(5), || async {
        c.status(&refused).state == DeliveryState::Halted
    })
    .await;
    let log = b.log("order").await;
    let ids: Vec<&str> = log.iter().map(|e| e["eventId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["e-1", "e-2", "e-10", "e-11", "e-12", "e-13", "e-14"]);
    assert_eq!(c.status(&refused).last_status, Some(401));
    let (_, list) = b
        .request(Method::GET, &format!("{PSI}/topic/order/event"), None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 7);
}
