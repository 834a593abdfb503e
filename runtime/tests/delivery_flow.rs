//! Delivery engine, the normal flow: two hubs of ours PSI style, filters, the callback
//! allow-list, isolation of a dead callback, graceful shutdown.

mod delivery_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::response::IntoResponse;
use bytes::Bytes;
use delivery_common::*;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use tmf688_runtime::Store as _;
use tmf688_runtime::delivery::{CallbackHost, DeliveryConfig, OutboundAuth};
use tmf688_runtime::store::{HubStart, NewHub, Owner, Reach};

/// PSI acceptance: hub A registers hub B's `.../topic/order/event` as a callback on
/// A's `order` topic and vice versa; 1,000 events posted to A arrive at B exactly once
/// each, in order, with `correlationId` intact (and B's forwards back to A are
/// acknowledged by A's eventId de-duplication without storing twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn psi_two_hubs_exactly_once_in_order() {
    let a = TestHub::start(fast_config(10)).await;
    let b = TestHub::start(fast_config(10)).await;
    let a_to_b = a
        .register(
            PSI,
            "order",
            &format!("{}{PSI}/topic/order/event", b.url),
            None,
        )
        .await;
    let b_to_a = b
        .register(
            PSI,
            "order",
            &format!("{}{PSI}/topic/order/event", a.url),
            None,
        )
        .await;
    const N: usize = 1000;
    let started = Instant::now();
    for n in 0..N {
        a.publish(PSI, "order", order_event(n)).await;
    }
    eventually("A and B quiet, every event delivered both ways", Duration::from_secs(60), || async {
        let (sa, sb) = (a.engine.status(&a_to_b), b.engine.status(&b_to_a));
        matches!((sa, sb), (Some(sa), Some(sb)) if sa.cursor == N as u64 && sb.cursor == N as u64)
    })
    .await;
    let elapsed = started.elapsed();
    let log_b = b.log("order").await;
    assert_eq!(log_b.len(), N, "B stored every event exactly once");
    for (n, event) in log_b.iter().enumerate() {
        assert_eq!(event["eventId"], format!("e-{n}"), "in order");
        assert_eq!(event["correlationId"], format!("corr-{n}"));
        assert_eq!(event["event"]["productOrder"]["id"], format!("po-{n}"));
        assert!(
            event.get("id").is_none() && event.get("href").is_none(),
            "A's id/href are not stored by B"
        );
    }
    assert_eq!(
        a.log("order").await.len(),
        N,
        "A de-duplicated B's forwards"
    );
    let sa = a.status(&a_to_b);
    assert_eq!((sa.delivered, sa.failed_attempts, sa.lag), (N as u64, 0, 0));
    let sb = b.status(&b_to_a);
    assert_eq!((sb.delivered, sb.failed_attempts, sb.lag), (N as u64, 0, 0));
    eprintln!("1000 events A→B→A in {elapsed:?}");
}

/// The body is the stored TMF688 Event with `id` and `href` for the hub's base path.
#[tokio::test]
async fn body_is_the_event_with_id_and_href() {
    let hub = TestHub::start(fast_config(5)).await;
    let receiver = TestReceiver::start(ok()).await;
    hub.register(PSI, "order", &receiver.url("/psi"), None)
        .await;
    hub.register(TMF, "order", &receiver.url("/tmf"), None)
        .await;
    hub.publish(TMF, "order", order_event(0)).await;
    receiver
        .wait_for("both hubs", Duration::from_secs(5), |hits| hits.len() == 2)
        .await;
    let stored: Vec<Value> = hub
        .request(Method::GET, &format!("{TMF}/topic/order/event"), None)
        .await
        .1
        .as_array()
        .unwrap()
        .clone();
    let id = stored[0]["id"].as_str().unwrap();
    for hit in receiver.hits() {
        let base = if hit.path == "/psi" { PSI } else { TMF };
        assert_eq!(hit.body["id"], id);
        assert_eq!(hit.body["href"], format!("{base}/topic/order/event/{id}"));
        assert_eq!(hit.body["eventId"], "e-0");
        assert_eq!(
            hit.headers["content-type"],
            "application/json;charset=utf-8"
        );
    }
}

/// `GET /admin/metrics` is the Prometheus text format: the counters after two
/// deliveries, and the hub's cursor and lag.
#[tokio::test]
async fn prometheus_metrics_count_deliveries_and_show_each_hub() {
    let hub = TestHub::start(fast_config(5)).await;
    let receiver = TestReceiver::start(ok()).await;
    let id = hub.register(PSI, "order", &receiver.url("/cb"), None).await;
    for n in 0..2 {
        hub.publish(PSI, "order", order_event(n)).await;
    }
    receiver
        .wait_for("two deliveries", Duration::from_secs(5), |hits| {
            hits.len() == 2
        })
        .await;
    eventually("cursor 2", Duration::from_secs(5), || async {
        hub.status(&id).cursor == 2
    })
    .await;
    let response = hub
        .http
        .get(format!("{}/admin/metrics", hub.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        response.headers()
    );
    let text = response.text().await.unwrap();
    for line in [
        "# TYPE tmf688_deliveries_total counter".to_owned(),
        "tmf688_deliveries_total 2".to_owned(),
        format!(r#"tmf688_hub_cursor{{hub="{id}",topic="order"}} 2"#),
        format!(r#"tmf688_hub_lag{{hub="{id}",topic="order"}} 0"#),
        format!(r#"tmf688_hub_halted{{hub="{id}",topic="order"}} 0"#),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

/// Hub query (positive and negative, conjunction, list element), topic headerQuery and
/// contentQuery, need-to-know, and topic isolation.
#[tokio::test]
async fn filters_select_what_each_hub_receives() {
    let hub = TestHub::start(fast_config(5)).await;
    let receiver = TestReceiver::start(ok()).await;
    let url = |p: &str| receiver.url(p);
    let mut hubs = vec![
        hub.register(
            TMF,
            "order",
            &url("/completed"),
            Some("event.productOrder.state=completed"),
        )
        .await,
        hub.register(
            TMF,
            "order",
            &url("/cancelled"),
            Some("event.productOrder.state=cancelled"),
        )
        .await,
        hub.register(
            TMF,
            "order",
            &url("/sales"),
            Some("eventType=ProductOrderStateChangeEvent&domain=sales"),
        )
        .await,
        hub.register(
            TMF,
            "order",
            &url("/billing"),
            Some("eventType=ProductOrderStateChangeEvent&domain=billing"),
        )
        .await,
        hub.register(
            TMF,
            "order",
            &url("/item2"),
            Some("event.productOrder.productOrderItem.id=2"),
        )
        .await,
        hub.register(TMF, "inquiry", &url("/inquiry"), None).await,
    ];
    // Topics with a headerQuery / contentQuery.
    let (status, _) = hub
        .request(
            Method::POST,
            &format!("{TMF}/topic"),
            Some(json!({"name": "tickets", "contentQuery": "state=open"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = hub
        .request(
            Method::POST,
            &format!("{TMF}/topic"),
            Some(json!({"name": "audits", "headerQuery": "domain=sales"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    hubs.push(hub.register(TMF, "tickets", &url("/tickets"), None).await);
    hubs.push(hub.register(TMF, "audits", &url("/audits"), None).await);
    // Need-to-know: hubs owned by principals (registered directly in the store, as the
    // authenticated API would).
    for owner in ["acme", "initech"] {
        let (record, _) = hub
            .hub
            .store()
            .create_hub(NewHub {
                topic_id: "order".into(),
                callback: url(&format!("/owner-{owner}")),
                query: None,
                body: Bytes::from(json!({"callback": url(&format!("/owner-{owner}"))}).to_string()),
                owner: Some(Owner::new("api-key", owner).with_reach(Reach::Party(owner.into()))),
                base_path: None,
                start: HubStart::Head,
            })
            .await
            .unwrap();
        hubs.push(record.id);
    }
    hub.hub.delivery_hooks().hubs_changed();
    for id in &hubs {
        hub.wait_worker(id).await;
    }

    let mut completed = order_event(1);
    completed["event"]["productOrder"]["productOrderItem"] = json!([{"id": "1"}, {"id": "2"}]);
    completed["relatedParty"] = json!([{"id": "acme", "role": "customer"}]);
    hub.publish(TMF, "order", completed).await;
    let mut cancelled = order_event(2);
    cancelled["event"]["productOrder"]["state"] = json!("cancelled");
    cancelled["domain"] = json!("billing");
    hub.publish(TMF, "order", cancelled).await;
    for (n, state) in [(3, "open"), (4, "closed")] {
        hub.publish(
            TMF,
            "tickets",
            json!({"@type": "TicketEvent", "eventId": format!("e-{n}"), "event": {"state": state}}),
        )
        .await;
    }
    for (n, domain) in [(5, "sales"), (6, "billing")] {
        hub.publish(TMF, "audits", json!({"@type": "AuditEvent", "eventId": format!("e-{n}"), "domain": domain, "event": {}})).await;
    }
    // Quiet: every hub's cursor at its topic's head (skipped events move it too).
    eventually(
        "every hub went through its topic",
        Duration::from_secs(5),
        || async {
            hubs.iter().enumerate().all(|(i, id)| {
                let s = hub.status(id);
                s.cursor == s.head && (s.head > 0) == (i != 5)
            })
        },
    )
    .await;
    let hits = receiver.hits();
    let at = |path: &str| acknowledged_at(&hits, path);
    assert_eq!(at("/completed"), ["e-1"]);
    assert_eq!(at("/cancelled"), ["e-2"]);
    assert_eq!(at("/sales"), ["e-1"]);
    assert_eq!(at("/billing"), ["e-2"]);
    assert_eq!(at("/item2"), ["e-1"], "a list matches if any element does");
    assert!(
        at("/inquiry").is_empty(),
        "a hub only receives its topic's events"
    );
    assert_eq!(at("/tickets"), ["e-3"], "topic contentQuery");
    assert_eq!(at("/audits"), ["e-5"], "topic headerQuery");
    assert_eq!(
        at("/owner-acme"),
        ["e-1", "e-2"],
        "named party; and an event naming nobody"
    );
    assert_eq!(
        at("/owner-initech"),
        ["e-2"],
        "need-to-know: not a related party of e-1"
    );
    assert_eq!(hits.len(), 10, "nothing else was sent");
}

/// PSI-01-02-02-03: callback hosts outside the allow-list, or private addresses not
/// explicitly allowed, are refused with 422 and a TMF Error.
#[tokio::test]
async fn callback_hosts_are_checked_at_registration() {
    let hub = TestHub::start(DeliveryConfig::default()).await;
    for callback in [
        "http://example.com/cb",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/cb",
    ] {
        assert_refused(&hub, PSI, callback, "not an allowed callback host").await;
    }
    // The default allows loopback.
    hub.register(PSI, "order", "http://127.0.0.1:9/cb", None)
        .await;
    hub.register(PSI, "order", "http://localhost:9/cb", None)
        .await;

    // Listed but private without allow_private_addresses: refused.
    let config = DeliveryConfig {
        allowed_callback_hosts: vec![
            CallbackHost {
                host: "127.0.0.1".into(),
                port: None,
                auth: OutboundAuth::None,
                allow_private_addresses: false,
                signing_secrets: Default::default(),
            },
            CallbackHost {
                host: "localhost".into(),
                port: Some(8443),
                auth: OutboundAuth::None,
                allow_private_addresses: true,
                signing_secrets: Default::default(),
            },
        ],
        ..DeliveryConfig::default()
    };
    let strict = TestHub::start(config).await;
    let (status, body) = strict
        .request(
            Method::POST,
            &format!("{TMF}/topic/order/hub"),
            Some(json!({"callback": "http://127.0.0.1:9/cb"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("private"),
        "{body}"
    );
    let (status, _) = strict
        .request(
            Method::POST,
            &format!("{TMF}/topic/order/hub"),
            Some(json!({"callback": "http://localhost:9/cb"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "port not allowed");
    strict
        .register(TMF, "order", "http://localhost:8443/cb", None)
        .await;
}

/// Issue 11: an allow-listed literal that is not globally reachable (IANA
/// special-purpose registries) is refused with 422 unless its entry sets
/// `allow_private_addresses`. A literal is checked without connecting or resolving,
/// so these addresses see no traffic.
#[tokio::test]
async fn special_purpose_literals_are_refused_at_registration() {
    let entry = |host: &str| CallbackHost {
        host: host.into(),
        port: None,
        auth: OutboundAuth::None,
        allow_private_addresses: false,
        signing_secrets: Default::default(),
    };
    let config = DeliveryConfig {
        allowed_callback_hosts: vec![entry("198.18.0.1"), entry("[2001::1]")],
        ..DeliveryConfig::default()
    };
    let hub = TestHub::start(config).await;
    for callback in ["http://198.18.0.1/cb", "http://[2001::1]:8080/cb"] {
        assert_refused(&hub, TMF, callback, "non-public address").await;
    }
}

/// Registering `callback` on the topic `order` under `base` is refused with 422 and a
/// TMF `Error` whose message contains `reason`.
async fn assert_refused(hub: &TestHub, base: &str, callback: &str, reason: &str) {
    let (status, body) = hub
        .request(
            Method::POST,
            &format!("{base}/topic/order/hub"),
            Some(json!({"callback": callback})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{callback}: {body}"
    );
    assert_eq!(body["code"], "422");
    assert_eq!(body["@type"], "Error");
    assert!(body["message"].as_str().unwrap().contains(reason), "{body}");
}

/// A dead callback (accepting connections, never answering) does not hold up 10
/// healthy hubs of the same topic; shutdown abandons its in-flight attempt within the
/// grace bound and keeps its cursor.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_callback_does_not_stall_the_others() {
    let mut config = fast_config(5);
    config.attempt_timeout_ms = 20_000;
    config.shutdown_grace_ms = 300;
    let hub = TestHub::start(config).await;
    let dead = TestReceiver::start(Arc::new(|_, _, _: &http::HeaderMap| {
        Box::pin(async {
            std::future::pending::<()>().await;
            StatusCode::OK.into_response()
        })
    }))
    .await;
    let healthy = TestReceiver::start(ok()).await;
    let dead_hub = hub.register(TMF, "alarm", &dead.url("/dead"), None).await;
    for n in 0..10 {
        hub.register(TMF, "alarm", &healthy.url(&format!("/h{n}")), None)
            .await;
    }
    const N: usize = 50;
    let started = Instant::now();
    for n in 0..N {
        hub.publish(TMF, "alarm", json!({"@type": "AlarmCreateEvent", "eventId": format!("e-{n}"), "event": {"alarm": {"id": format!("a{n}")}}})).await;
    }
    healthy
        .wait_for(
            "10 healthy hubs got every event",
            Duration::from_secs(10),
            |hits| hits.len() == 10 * N,
        )
        .await;
    let elapsed = started.elapsed();
    let hits = healthy.hits();
    let expected: Vec<String> = (0..N).map(|n| format!("e-{n}")).collect();
    for n in 0..10 {
        assert_eq!(
            acknowledged_at(&hits, &format!("/h{n}")),
            expected,
            "hub {n} in order"
        );
    }
    let stuck = hub.status(&dead_hub);
    assert_eq!((stuck.cursor, stuck.delivered), (0, 0));
    assert!(elapsed < Duration::from_secs(10));
    eprintln!("10 healthy hubs × {N} events next to a dead one: {elapsed:?}");

    let stopping = Instant::now();
    hub.engine.shutdown().await;
    let took = stopping.elapsed();
    assert!(took < Duration::from_millis(2000), "shutdown took {took:?}");
    let record = hub
        .hub
        .store()
        .hub("alarm", &dead_hub)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.cursor, 0,
        "the abandoned attempt did not move the cursor"
    );
}
