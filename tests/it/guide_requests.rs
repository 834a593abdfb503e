//! Every request sample of the TMF688 user guide, sent to the reference hub through the
//! generated typed client, answers with the status and shape the guide documents
//! (201 + `Location` on create, 200 lists with counts, 204 on delete, 404 after).
//!
//! The guide's callback URLs (`http://www.tmforum.org/aListener`, `http://in.listener.com`)
//! are outside the hub's callback allow-list (PSI-01-02-02-03: registration with an
//! unknown host is refused with 422 — asserted below); the samples are otherwise sent
//! as written, with the callback pointed at a loopback address the default list allows.

use std::sync::Arc;

use tmf688_api::client::Client;
use tmf688_api::models;
use tmf688_api::operations::*;
use tmf688_runtime::{Hub688, HubConfig, MemoryStore, app};

fn sample<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/guide")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

async fn hub_client() -> Client {
    let hub = Hub688::new(Arc::new(MemoryStore::new()), HubConfig::default())
        .await
        .unwrap();
    let address = tmf688_tests::serve(app(Arc::new(hub))).await;
    let base = format!("http://{address}/tmf-api/event/v4");
    Client::new(base)
}

#[tokio::test]
async fn topic_samples() {
    let client = hub_client().await;
    for name in [
        "create_topic_request.json",
        "resource_topic_create_request.json",
    ] {
        let request: models::TopicCreate = sample(name);
        let CreateTopicResponse::Created { body, location } =
            client.create_topic(&request).await.unwrap()
        else {
            panic!("{name}: expected 201");
        };
        assert_eq!(body.name.as_deref(), Some(request.name.as_str()), "{name}");
        let id = body.id.clone().expect("server-assigned id");
        assert_eq!(
            location.as_deref(),
            Some(format!("/tmf-api/event/v4/topic/{id}").as_str())
        );
        assert_eq!(body.href.as_deref(), location.as_deref());
        assert_eq!(
            body.header_query, request.header_query,
            "{name}: attributes kept"
        );

        let RetrieveTopicResponse::Ok(topic) = client
            .retrieve_topic(&id, &RetrieveTopicQuery::default())
            .await
            .unwrap()
        else {
            panic!("{name}: expected 200");
        };
        assert_eq!(topic.full().and_then(|t| t.id), Some(id.clone()));
    }
    let ListTopicResponse::Ok {
        body,
        x_total_count,
        x_result_count,
    } = client.list_topic(&ListTopicQuery::default()).await.unwrap()
    else {
        panic!("expected 200 for the whole list");
    };
    assert_eq!(
        body.len(),
        5,
        "the profile's three topics and the two created"
    );
    assert_eq!((x_total_count, x_result_count), (Some(5), Some(5)));
}

#[tokio::test]
async fn event_samples() {
    let client = hub_client().await;
    let topic: models::TopicCreate = sample("create_topic_request.json");
    let CreateTopicResponse::Created { body: topic, .. } =
        client.create_topic(&topic).await.unwrap()
    else {
        panic!()
    };
    let topic_id = topic.id.unwrap();

    let request: models::EventCreate = sample("create_event_request.json");
    let CreateEventResponse::Created {
        body: event,
        location,
    } = client.create_event(&topic_id, &request).await.unwrap()
    else {
        panic!("expected 201");
    };
    assert_eq!(event.event_id, request.event_id);
    assert_eq!(
        event.event_time, request.event_time,
        "date-time kept as written (no offset)"
    );
    assert_eq!(
        event.additional_properties, request.additional_properties,
        "unknown attributes kept"
    );
    let id = event.id.clone().unwrap();
    assert_eq!(location.as_deref(), event.href.as_deref());

    // A sender retrying the same event gets the stored one back.
    let CreateEventResponse::Created { body: again, .. } =
        client.create_event(&topic_id, &request).await.unwrap()
    else {
        panic!("a retry is acknowledged");
    };
    assert_eq!(again.id.as_deref(), Some(id.as_str()));

    let ListEventResponse::Ok {
        body,
        x_total_count,
        ..
    } = client
        .list_event(&topic_id, &ListEventQuery::default())
        .await
        .unwrap()
    else {
        panic!("expected 200");
    };
    assert_eq!((body.len(), x_total_count), (1, Some(1)));
    let RetrieveEventResponse::Ok(found) = client
        .retrieve_event(&topic_id, &id, &RetrieveEventQuery::default())
        .await
        .unwrap()
    else {
        panic!("expected 200");
    };
    let found = found.full().expect("no fields= → the whole event");
    assert_eq!(
        serde_json::to_value(&found).unwrap(),
        serde_json::to_value(&event).unwrap()
    );

    // The list-events sample's `fields` style: a projection keeps id, href, @type.
    let query = ListEventQuery {
        fields: Some("eventType".into()),
        ..Default::default()
    };
    let ListEventResponse::Ok { body, .. } = client.list_event(&topic_id, &query).await.unwrap()
    else {
        panic!()
    };
    let projected = serde_json::to_value(&body[0]).unwrap();
    let keys: Vec<&str> = projected
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    for key in ["id", "href", "@type", "eventType"] {
        assert!(keys.contains(&key), "{keys:?}");
    }

    let missing = client
        .retrieve_event(&topic_id, "no-such-event", &RetrieveEventQuery::default())
        .await
        .unwrap();
    assert!(
        matches!(missing, RetrieveEventResponse::NotFound(_)),
        "{missing:?}"
    );
}

#[tokio::test]
async fn hub_and_listener_samples() {
    let client = hub_client().await;
    let mut request: models::HubCreate = sample("create_hub_request.json");
    // As written: the guide's host is not an allowed callback host.
    let refused = client.create_hub("alarm", &request).await.unwrap();
    let CreateHubResponse::UnprocessableEntity(error) = refused else {
        panic!("expected 422, got {refused:?}");
    };
    assert!(
        error
            .message
            .unwrap_or_default()
            .contains("www.tmforum.org")
    );

    request.callback = "http://127.0.0.1:9/aListener".parse().unwrap();
    let CreateHubResponse::Created {
        body: hub,
        location,
    } = client.create_hub("alarm", &request).await.unwrap()
    else {
        panic!("expected 201");
    };
    assert_eq!(hub.query, request.query, "the filter query is kept");
    assert_eq!(location.as_deref(), hub.href.as_deref());
    let ListHubResponse::Ok {
        body,
        x_total_count,
        ..
    } = client
        .list_hub("alarm", &ListHubQuery::default())
        .await
        .unwrap()
    else {
        panic!("expected 200");
    };
    assert_eq!((body.len(), x_total_count), (1, Some(1)));
    assert!(matches!(
        client
            .retrieve_hub("alarm", &hub.id, &RetrieveHubQuery::default())
            .await
            .unwrap(),
        RetrieveHubResponse::Ok(_)
    ));
    assert!(matches!(
        client.delete_hub("alarm", &hub.id).await.unwrap(),
        DeleteHubResponse::NoContent
    ));
    assert!(matches!(
        client.delete_hub("alarm", &hub.id).await.unwrap(),
        DeleteHubResponse::NotFound(_)
    ));

    let mut listener: models::EventSubscriptionInput = sample("register_listener_request.json");
    listener.callback = "http://127.0.0.1:9/listener".into();
    let RegisterListenerResponse::Created { body, .. } =
        client.register_listener(&listener).await.unwrap()
    else {
        panic!("expected 201");
    };
    assert_eq!(body.callback, listener.callback);
    assert!(matches!(
        client.unregister_listener(&body.id).await.unwrap(),
        UnregisterListenerResponse::NoContent
    ));
}
