//! The API's own notifications (TMF630 register-listener pattern): listeners registered
//! with `POST /hub` receive TopicCreateEvent, EventCreateEvent and TopicDeleteEvent at
//! `{callback}/listener/...`, in order, retried like any delivery, filtered by their
//! `query`; the reserved notifications topic is invisible through the API.

mod delivery_common;

use std::time::Duration;

use axum::response::IntoResponse;
use delivery_common::*;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use tmf688_api::models::{EventCreateEvent, TopicCreateEvent, TopicDeleteEvent};
use tmf688_runtime::delivery::DeliveryConfig;

async fn listen(hub: &TestHub, callback: &str, query: Option<&str>) -> String {
    let mut body = json!({"callback": callback});
    if let Some(query) = query {
        body["query"] = json!(query);
    }
    let (status, value) = hub
        .request(Method::POST, &format!("{TMF}/hub"), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{value}");
    value["id"].as_str().unwrap().to_owned()
}

/// (path, eventType) of the acknowledged notifications under `prefix`, in order.
fn received(receiver: &TestReceiver, prefix: &str) -> Vec<(String, String)> {
    receiver
        .hits()
        .iter()
        .filter(|h| h.answered.is_success() && h.path.starts_with(prefix))
        .map(|h| {
            (
                h.path[prefix.len()..].to_owned(),
                h.body["eventType"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pair(path: &str, event_type: &str) -> (String, String) {
    (path.to_owned(), event_type.to_owned())
}

#[tokio::test]
async fn listeners_receive_the_api_notifications() {
    let hub = TestHub::start(fast_config(10)).await;
    let receiver = TestReceiver::start(ok()).await;
    // The flaky listener fails the first attempt of each notification.
    let flaky = TestReceiver::start(answer(|seen, _| {
        if seen == 0 {
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        } else {
            StatusCode::CREATED.into_response()
        }
    }))
    .await;
    let all = listen(&hub, &receiver.url("/all"), None).await;
    listen(
        &hub,
        &receiver.url("/created"),
        Some("eventType=TopicCreateEvent"),
    )
    .await;
    listen(
        &hub,
        &receiver.url("/sales"),
        Some("eventType=EventCreateEvent&event.event.domain=sales"),
    )
    .await;
    let retried = listen(&hub, &flaky.url("/flaky"), None).await;
    for id in [&all, &retried] {
        hub.wait_worker(id).await;
    }

    // Create a topic, post two events (one to a profile topic), delete the topic.
    let (status, topic) = hub
        .request(
            Method::POST,
            &format!("{TMF}/topic"),
            Some(json!({"name": "tickets"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{topic}");
    hub.publish(
        TMF,
        "tickets",
        json!({"@type": "TicketEvent", "eventId": "t-1", "domain": "sales", "event": {"state": "open"}}),
    )
    .await;
    let mut order = order_event(2);
    order["domain"] = json!("billing");
    hub.publish(PSI, "order", order).await;
    let (status, _) = hub
        .request(Method::DELETE, &format!("{TMF}/topic/tickets"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let expected = vec![
        pair("/listener/topicCreateEvent", "TopicCreateEvent"),
        pair("/listener/eventCreateEvent", "EventCreateEvent"),
        pair("/listener/eventCreateEvent", "EventCreateEvent"),
        pair("/listener/topicDeleteEvent", "TopicDeleteEvent"),
    ];
    receiver
        .wait_for("four notifications", Duration::from_secs(5), |hits| {
            hits.iter().filter(|h| h.path.starts_with("/all")).count() == 4
        })
        .await;
    assert_eq!(received(&receiver, "/all"), expected, "in order");
    flaky
        .wait_for("retried to the end", Duration::from_secs(5), |hits| {
            hits.iter().filter(|h| h.answered.is_success()).count() == 4
        })
        .await;
    assert_eq!(
        received(&flaky, "/flaky"),
        expected,
        "each retried, in order, once"
    );
    assert_eq!(flaky.hits().len(), 8, "one failure and one success each");
    eventually(
        "the engine counted it all",
        Duration::from_secs(5),
        || async {
            let status = hub.status(&retried);
            (status.delivered, status.failed_attempts, status.lag) == (4, 4, 0)
        },
    )
    .await;

    // Filtered listeners get only what matches.
    eventually(
        "filtered listeners quiet",
        Duration::from_secs(5),
        || async {
            received(&receiver, "/created").len() == 1 && received(&receiver, "/sales").len() == 1
        },
    )
    .await;
    assert_eq!(
        received(&receiver, "/created"),
        [pair("/listener/topicCreateEvent", "TopicCreateEvent")]
    );
    assert_eq!(
        received(&receiver, "/sales"),
        [pair("/listener/eventCreateEvent", "EventCreateEvent")]
    );

    // The bodies are the generated notification models.
    let hits: Vec<Value> = receiver
        .hits()
        .iter()
        .filter(|h| h.path.starts_with("/all"))
        .map(|h| h.body.clone())
        .collect();
    let created: TopicCreateEvent = serde_json::from_value(hits[0].clone()).unwrap();
    let created_topic = created.event.unwrap().topic.unwrap();
    assert_eq!(created_topic.id.as_deref(), Some("tickets"));
    assert_eq!(created_topic.name.as_deref(), Some("tickets"));
    assert_eq!(
        created_topic.href.as_deref(),
        Some(format!("{TMF}/topic/tickets").as_str())
    );
    assert!(created.event_id.is_some() && created.event_time.is_some());
    let first: EventCreateEvent = serde_json::from_value(hits[1].clone()).unwrap();
    let event = first.event.unwrap().event.unwrap();
    assert_eq!(event.event_id.as_deref(), Some("t-1"));
    assert_eq!(
        event.href.as_deref(),
        Some(format!("{TMF}/topic/tickets/event/1").as_str())
    );
    let second: EventCreateEvent = serde_json::from_value(hits[2].clone()).unwrap();
    let event = second.event.unwrap().event.unwrap();
    assert_eq!(event.event_id.as_deref(), Some("e-2"));
    assert_eq!(event.correlation_id.as_deref(), Some("corr-2"));
    assert_eq!(
        event.href.as_deref(),
        Some(format!("{PSI}/topic/order/event/1").as_str()),
        "the href of the base path the event was posted to"
    );
    let deleted: TopicDeleteEvent = serde_json::from_value(hits[3].clone()).unwrap();
    assert_eq!(
        deleted.event.unwrap().topic.unwrap().id.as_deref(),
        Some("tickets")
    );
    let ids: std::collections::HashSet<&str> = hits
        .iter()
        .map(|h| h["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "each notification has its own eventId");

    // A duplicate event (same eventId and content) is no new event: no notification.
    // Then the listener deregisters: nothing more reaches it once the engine has
    // stopped its worker (which on PostgreSQL takes a round trip or two after the 204:
    // `a_deregistered_listener_gets_nothing_more`).
    let (status, _) = hub
        .request(Method::DELETE, &format!("{TMF}/hub/{all}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    eventually(
        "the deregistered listener's worker stopped",
        Duration::from_secs(5),
        || async { hub.engine.status(&all).is_none() },
    )
    .await;
    let mut order = order_event(2);
    order["domain"] = json!("billing");
    hub.publish(PSI, "order", order).await;
    hub.publish(PSI, "order", order_event(3)).await;
    flaky
        .wait_for("the next notification", Duration::from_secs(5), |hits| {
            hits.iter().filter(|h| h.answered.is_success()).count() == 5
        })
        .await;
    let last = flaky.hits().last().unwrap().body.clone();
    assert_eq!(
        last["event"]["event"]["eventId"], "e-3",
        "the duplicate was not notified"
    );
    assert_eq!(received(&receiver, "/all").len(), 4, "deregistered");
}

/// A listener deregistered with `DELETE /hub/{id}` gets nothing that is published after
/// the 204: the worker is stopped before the DELETE is answered, not at the engine's
/// next reconciliation (which with PostgreSQL takes several database round trips).
#[tokio::test]
async fn a_deregistered_listener_gets_nothing_more() {
    let hub = TestHub::start(fast_config(10)).await;
    let receiver = TestReceiver::start(ok()).await;
    let gone = listen(&hub, &receiver.url("/gone"), None).await;
    // Notified of the same events: when it has one, the other would have had it too.
    let witness = listen(&hub, &receiver.url("/witness"), None).await;
    for id in [&gone, &witness] {
        hub.wait_worker(id).await;
    }
    hub.publish(PSI, "order", order_event(1)).await;
    receiver
        .wait_for("both notified", Duration::from_secs(5), |hits| {
            hits.len() == 2
        })
        .await;

    let (status, _) = hub
        .request(Method::DELETE, &format!("{TMF}/hub/{gone}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    hub.publish(PSI, "order", order_event(2)).await;
    receiver
        .wait_for(
            "the witness notified of e-2",
            Duration::from_secs(5),
            |hits| {
                hits.iter()
                    .filter(|h| h.path.starts_with("/witness"))
                    .count()
                    == 2
            },
        )
        .await;
    eventually("the worker stopped", Duration::from_secs(5), || async {
        hub.engine.status(&gone).is_none()
    })
    .await;
    assert_eq!(
        received(&receiver, "/gone"),
        [pair("/listener/eventCreateEvent", "EventCreateEvent")],
        "only the notification from before the deregistration"
    );
}

/// The reserved notifications topic is invisible; listeners go through the callback
/// allow-list and the query check like hubs; listener deletion 404s when unknown.
#[tokio::test]
async fn the_notifications_topic_is_reserved() {
    let hub = TestHub::start(DeliveryConfig::default()).await;
    let listener = listen(&hub, "http://127.0.0.1:9/l", None).await;
    let (_, topics) = hub
        .request(Method::GET, &format!("{TMF}/topic"), None)
        .await;
    let names: Vec<&str> = topics
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["order", "inquiry", "alarm"]);
    for (method, path, body) in [
        (Method::GET, "/topic/%24notifications", None),
        (Method::DELETE, "/topic/%24notifications", None),
        (Method::GET, "/topic/%24notifications/event", None),
        (
            Method::POST,
            "/topic/%24notifications/event",
            Some(json!({"@type": "X", "eventId": "x", "event": {}})),
        ),
        (Method::GET, "/topic/%24notifications/hub", None),
        (
            Method::POST,
            "/topic/%24notifications/hub",
            Some(json!({"callback": "http://127.0.0.1:9/x"})),
        ),
        (
            Method::GET,
            &format!("/topic/%24notifications/hub/{listener}"),
            None,
        ),
    ] {
        let (status, value) = hub
            .request(method.clone(), &format!("{TMF}{path}"), body)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {value}");
        assert_eq!(value["@type"], "Error");
    }
    let (status, value) = hub
        .request(
            Method::POST,
            &format!("{TMF}/topic"),
            Some(json!({"name": "$notifications"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{value}");
    assert!(value["message"].as_str().unwrap().contains("reserved"));

    let (status, value) = hub
        .request(
            Method::POST,
            &format!("{TMF}/hub"),
            Some(json!({"callback": "http://example.com/l"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{value}");
    let (status, value) = hub
        .request(
            Method::POST,
            &format!("{TMF}/hub"),
            Some(json!({"callback": "http://127.0.0.1:9/l", "query": "eventType[x]=1"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{value}");
    let (status, _) = hub
        .request(Method::DELETE, &format!("{TMF}/hub/{listener}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = hub
        .request(Method::DELETE, &format!("{TMF}/hub/{listener}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
