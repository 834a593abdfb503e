//! Two hubs of ours exchange PSID688-minimal events (no `eventId`, no `@type`, the
//! TOD-01-02 sketch) across two different PSI base path variants, the way PSI
//! describes it: hub B registers on hub A with B's own `createEvent` as the callback,
//! and a party of B listens on B. Every event reaches the party exactly once and in
//! A's order: A assigns each event its eventId, B keeps it, and any retry of A's
//! deliveries is absorbed by B's eventId de-duplication.

mod delivery_common;

use std::time::Duration;

use delivery_common::{TestHub, TestReceiver, fast_config, ok};
use serde_json::json;
use tmf688_runtime::delivery::{CallbackHost, DeliveryConfig, OutboundAuth, Secrets};

const EVENTS: usize = 1_000;

/// Loopback callbacks, signed (Standard Webhooks) so that each delivery names its
/// eventId in `webhook-id`.
fn signed_config() -> DeliveryConfig {
    let mut config = fast_config(20);
    config.allowed_callback_hosts = vec![CallbackHost {
        host: "127.0.0.1".into(),
        port: None,
        auth: OutboundAuth::None,
        allow_private_addresses: true,
        signing_secrets: Secrets(vec!["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()]),
    }];
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hubs_on_different_base_paths_exchange_minimal_events_once_in_order() {
    let a = TestHub::start(signed_config()).await;
    let b = TestHub::start(signed_config()).await;
    let party = TestReceiver::start(ok()).await;

    // B's party listens on B (the PSID688 OAS base path) ...
    b.register("/psi-api/event/v2", "order", &party.url("/party"), None)
        .await;
    // ... and B subscribes to A (A's TOD endpoint base path) with B's createEvent on
    // the ICD base path as its callback.
    let callback = format!("{}/event/v2/topic/order/event", b.url);
    a.register("/eventManagement/v2", "order", &callback, None)
        .await;

    // A provider sends A PSID688-minimal events.
    for n in 0..EVENTS {
        let (status, body) = a
            .request(
                http::Method::POST,
                "/eventManagement/v2/topic/order/event",
                Some(json!({"eventType": "updated", "value": {"@type": "Order", "id": format!("o-{n}")}})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    let a_log = a.log("order").await;
    assert_eq!(a_log.len(), EVENTS);
    let expected: Vec<String> = a_log
        .iter()
        .map(|e| e["eventId"].as_str().expect("assigned").to_owned())
        .collect();
    let orders: Vec<String> = a_log
        .iter()
        .map(|e| e["value"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        orders,
        (0..EVENTS).map(|n| format!("o-{n}")).collect::<Vec<_>>()
    );

    party
        .wait_for(
            "every event at B's party",
            Duration::from_secs(60),
            |hits| hits.iter().filter(|h| h.answered.is_success()).count() >= EVENTS,
        )
        .await;
    // Exactly once, in A's order, with A's eventIds, at B's party and in B's log.
    assert_eq!(party.acknowledged(), expected);
    let b_log = b.log("order").await;
    let b_ids: Vec<&str> = b_log
        .iter()
        .map(|e| e["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(b_ids, expected);
    for (event, hit) in b_log.iter().zip(party.hits()) {
        assert!(event.get("@type").is_none(), "@type stays absent: {event}");
        assert_eq!(hit.body["value"], event["value"]);
        assert_eq!(
            hit.headers.get("webhook-id").and_then(|v| v.to_str().ok()),
            event["eventId"].as_str(),
            "the assigned eventId is the webhook-id"
        );
    }
}
