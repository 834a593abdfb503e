//! Every JSON sample of the TMF688 user guide (transcribed in `tests/fixtures/guide/`,
//! fixes listed in its README) deserializes into the generated type the guide means
//! and serializes back to equal JSON: unknown attributes (`timeReceived`), date-times
//! without an offset, `null`s and empty arrays all survive.

use std::path::Path;

use serde_json::Value;
use tmf688_api::models;

fn sample(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/guide")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Deserializes `name` as `T` and asserts the round trip gives back the same JSON.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(name: &str) -> T {
    let original = sample(name);
    let typed: T = serde_json::from_value(original.clone()).unwrap_or_else(|e| {
        panic!(
            "{name} does not deserialize as {}: {e}",
            std::any::type_name::<T>()
        )
    });
    let back = serde_json::to_value(&typed).expect("serializes");
    assert_eq!(back, original, "{name} changed in the round trip");
    typed
}

#[test]
fn resources() {
    let event: models::Event = round_trip("event.json");
    let time = event.event_time.expect("the sample has an eventTime");
    assert!(
        !time.has_offset(),
        "the guide writes date-times without an offset: {time}"
    );
    assert!(
        event.additional_properties.contains_key("timeReceived"),
        "unknown attributes are kept"
    );
    round_trip::<models::Topic>("topic.json");
    round_trip::<models::Hub>("hub.json");
    round_trip::<models::Topic>("resource_topic_create_response.json");
    round_trip::<models::Event>("retrieve_event_response.json");
    round_trip::<models::Event>("create_event_response.json");
    round_trip::<models::Topic>("retrieve_topic_response.json");
    round_trip::<models::Topic>("create_topic_response.json");
    round_trip::<models::Hub>("retrieve_hub_response.json");
    round_trip::<models::Hub>("create_hub_response.json");
    round_trip::<models::EventSubscription>("register_listener_response.json");
}

#[test]
fn requests() {
    let create: models::EventCreate = round_trip("create_event_request.json");
    assert!(create.event_id.is_some_and(|id| !id.is_empty()));
    round_trip::<models::TopicCreate>("resource_topic_create_request.json");
    round_trip::<models::TopicCreate>("create_topic_request.json");
    round_trip::<models::HubCreate>("create_hub_request.json");
    round_trip::<models::EventSubscriptionInput>("register_listener_request.json");
}

#[test]
fn list_responses() {
    let events: Vec<models::Event> = round_trip("list_events_response.json");
    assert!(!events.is_empty());
    round_trip::<Vec<models::Topic>>("list_topics_response.json");
    round_trip::<Vec<models::Hub>>("list_hubs_response.json");
}

#[test]
fn notifications() {
    round_trip::<models::EventCreateEvent>("event_create_event.json");
    round_trip::<models::TopicCreateEvent>("topic_create_event.json");
    round_trip::<models::TopicChangeEvent>("topic_change_event.json");
    round_trip::<models::TopicDeleteEvent>("topic_delete_event.json");
    round_trip::<models::EventCreateEvent>("listener_notification_request.json");
}

#[test]
fn mandatory_attributes_are_enforced_per_base_path() {
    use tmf688_api::profile::require_mandatory;
    // A type's required attribute cannot be left out.
    let mut topic = sample("create_topic_request.json");
    topic.as_object_mut().unwrap().remove("name");
    let error = serde_json::from_value::<models::TopicCreate>(topic).unwrap_err();
    assert!(error.to_string().contains("name"), "{error}");
    // Event_Create's depend on the base path (profile `mandatory`): the guide's three on
    // the TMF path (and where no base path is known), none on the PSI paths.
    let mut request = sample("create_event_request.json");
    request.as_object_mut().unwrap().remove("eventId");
    let event: models::EventCreate = serde_json::from_value(request).unwrap();
    let has = |attribute: &str| event.has_attribute(attribute);
    for strict in ["/tmf-api/event/v4", ""] {
        let error = require_mandatory(strict, "Event_Create", has).unwrap_err();
        assert!(
            error
                .body
                .message
                .as_deref()
                .unwrap_or_default()
                .contains("`eventId`"),
            "{strict}: {error:?}"
        );
    }
    for lenient in ["/psi-api/event/v2", "/event/v2", "/eventManagement/v2"] {
        assert!(
            require_mandatory(lenient, "Event_Create", has).is_ok(),
            "{lenient}"
        );
    }
}

#[test]
fn profile_payloads_accept_both_placements() {
    use tmf688_api::profile::TopicPayload;
    let alarm = serde_json::json!({"id": "42", "@type": "Alarm", "state": "raised", "vendorSpecific": {"x": 1}});
    let direct = TopicPayload::parse("alarm", alarm.clone()).unwrap();
    let wrapped = TopicPayload::parse("alarm", serde_json::json!({ "alarm": alarm })).unwrap();
    assert_eq!(direct, wrapped);
    let TopicPayload::Alarm(alarm) = direct else {
        panic!("typed by topic")
    };
    assert_eq!(alarm.id.as_deref(), Some("42"));
    assert!(alarm.additional_properties.contains_key("vendorSpecific"));
    assert!(matches!(
        TopicPayload::parse("custom", Value::Null).unwrap(),
        TopicPayload::Other(_)
    ));
}
