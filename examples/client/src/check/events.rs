//! Events: create (201 with `id` and `href`), retrieve by id, `fields=eventId` on
//! retrieve and list (keeps `id`/`href`/`@type` when the full answer has them, drops
//! the rest), paging (`limit=1`: `X-Total-Count`, `X-Result-Count`, 200 vs 206).

use serde_json::{Map, Value, json};
use tmf688_api::support::encode_path_segment;

use super::report::Level::Mandatory;
use super::{Run, answer_or_fail, location, topic_path};

/// An event for `topic` with `eventId` `event_id`: an alarm unless the topic is a PSI
/// order or inquiry topic (whose payload type the hub may check).
pub fn event_body(topic: &str, event_id: &str) -> Value {
    let event_type = match topic {
        "order" => "ProductOrderCreateEvent",
        "inquiry" => "CustomerInquiryCreateEvent",
        _ => "AlarmCreateEvent",
    };
    json!({
        "@type": event_type,
        "eventId": event_id,
        "eventType": event_type,
        "event": {"id": event_id}
    })
}

/// Attributes `fields=` always keeps when the resource has them.
const ALWAYS: [&str; 3] = ["id", "href", "@type"];

pub async fn run(run: &mut Run, topic: &str) {
    let first = format!("{}-e1", run.run_id);
    let created = create(run, topic, &first).await;
    // A second event, so that `limit=1` leaves one out.
    let second = format!("{}-e2", run.run_id);
    let _ = run
        .peer
        .post(
            &format!("{}/event", topic_path(topic)),
            &event_body(topic, &second),
        )
        .await;
    match created {
        Some((id, full)) => {
            retrieve(run, topic, &id, &first).await;
            retrieve_fields(run, topic, &id, &full).await;
        }
        None => {
            for check in ["event.retrieve", "event.fields_retrieve"] {
                run.report.skip(check, Mandatory, "no event id from create");
            }
        }
    }
    list_fields(run, topic, &first).await;
    paging(run, topic).await;
}

/// `POST /topic/{topic}/event`: `event.create`, `event.location`; the id and body.
async fn create(
    run: &mut Run,
    topic: &str,
    event_id: &str,
) -> Option<(String, Map<String, Value>)> {
    let path = format!("{}/event", topic_path(topic));
    let result = run.peer.post(&path, &event_body(topic, event_id)).await;
    let answer = answer_or_fail!(run, "event.create", Mandatory, result);
    let body = match answer.json() {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    };
    let id = body
        .as_ref()
        .and_then(|b| b.get("id").and_then(Value::as_str).map(str::to_owned))
        // An id that cannot be a path segment ("..") is no usable id.
        .filter(|id| crate::paths::is_safe(id));
    let href = body
        .as_ref()
        .and_then(|b| b.get("href").and_then(Value::as_str));
    let mut problems = Vec::new();
    if answer.status != 201 {
        problems.push(format!("{} instead of 201", answer.status));
    }
    if id.is_none() {
        problems.push("no id in the answer".to_owned());
    }
    if href.is_none() {
        problems.push("no href in the answer".to_owned());
    }
    let detail = if problems.is_empty() {
        format!("201 with id {} and href", id.as_deref().unwrap_or_default())
    } else {
        problems.join("; ")
    };
    let evidence = vec![answer.evidence.clone()];
    run.report.verdict(
        "event.create",
        Mandatory,
        problems.is_empty(),
        detail,
        evidence.clone(),
    );
    location(run, "event.location", &answer);
    Some((id?, body?))
}

/// `GET /topic/{topic}/event/{id}`: 200, the same `id` and `eventId`.
async fn retrieve(run: &mut Run, topic: &str, id: &str, event_id: &str) -> Option<()> {
    let path = format!("{}/event/{}", topic_path(topic), encode_path_segment(id));
    let answer = answer_or_fail!(run, "event.retrieve", Mandatory, run.peer.get(&path).await);
    let body = answer.json().unwrap_or(Value::Null);
    let mut problems = Vec::new();
    if answer.status != 200 {
        problems.push(format!("{} instead of 200", answer.status));
    }
    if body.get("id").and_then(Value::as_str) != Some(id) {
        problems.push(format!("id is not {id}"));
    }
    if body.get("eventId").and_then(Value::as_str) != Some(event_id) {
        problems.push(format!("eventId is not {event_id}"));
    }
    let detail = if problems.is_empty() {
        "200 with the event created".to_owned()
    } else {
        problems.join("; ")
    };
    run.report.verdict(
        "event.retrieve",
        Mandatory,
        problems.is_empty(),
        detail,
        vec![answer.evidence],
    );
    Some(())
}

/// What is wrong with a `fields=eventId` projection of an event whose full form was
/// `full` (None: only `eventId` and [`ALWAYS`] may be there).
fn projection_problem(item: &Value, full: Option<&Map<String, Value>>) -> Option<String> {
    let Value::Object(item) = item else {
        return Some("an item is not a JSON object".to_owned());
    };
    if !item.contains_key("eventId") {
        return Some("eventId is missing".to_owned());
    }
    let extra: Vec<&str> = item
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "eventId" && !ALWAYS.contains(k))
        .collect();
    if !extra.is_empty() {
        return Some(format!("not dropped: {}", extra.join(", ")));
    }
    if let Some(full) = full {
        let lost: Vec<&str> = ALWAYS
            .into_iter()
            .filter(|k| full.contains_key(*k) && !item.contains_key(*k))
            .collect();
        if !lost.is_empty() {
            return Some(format!("dropped: {}", lost.join(", ")));
        }
    }
    None
}

/// `GET /topic/{topic}/event/{id}?fields=eventId`.
async fn retrieve_fields(
    run: &mut Run,
    topic: &str,
    id: &str,
    full: &Map<String, Value>,
) -> Option<()> {
    let path = format!(
        "{}/event/{}?fields=eventId",
        topic_path(topic),
        encode_path_segment(id)
    );
    let answer = answer_or_fail!(
        run,
        "event.fields_retrieve",
        Mandatory,
        run.peer.get(&path).await
    );
    let problem = if answer.status == 200 {
        projection_problem(&answer.json().unwrap_or(Value::Null), Some(full))
    } else {
        Some(format!("{} instead of 200", answer.status))
    };
    run.report.problem(
        "event.fields_retrieve",
        Mandatory,
        problem,
        "eventId kept, id/href/@type kept, the rest dropped",
        vec![answer.evidence],
    );
    Some(())
}

/// `GET /topic/{topic}/event?fields=eventId`: every item projected, ours among them.
async fn list_fields(run: &mut Run, topic: &str, event_id: &str) -> Option<()> {
    let path = format!("{}/event?fields=eventId", topic_path(topic));
    let answer = answer_or_fail!(
        run,
        "event.fields_list",
        Mandatory,
        run.peer.get(&path).await
    );
    let items = answer.json().and_then(|v| v.as_array().cloned());
    let problem = match (answer.status, &items) {
        (200 | 206, Some(items)) => items
            .iter()
            .find_map(|item| projection_problem(item, None))
            .or_else(|| {
                (answer.status == 200
                    && !items
                        .iter()
                        .any(|i| i["eventId"].as_str() == Some(event_id)))
                .then(|| format!("the list does not hold {event_id}"))
            }),
        (200 | 206, None) => Some("the body is not a JSON array".to_owned()),
        (status, _) => Some(format!("{status} instead of 200")),
    };
    run.report.verdict(
        "event.fields_list",
        Mandatory,
        problem.is_none(),
        problem.unwrap_or_else(|| {
            format!(
                "{} items, each only eventId (+ id/href/@type)",
                items.map_or(0, |i| i.len())
            )
        }),
        vec![answer.evidence],
    );
    Some(())
}

/// `GET /topic/{topic}/event?limit=1`: the count headers, and 206 exactly when fewer
/// than the total came.
async fn paging(run: &mut Run, topic: &str) -> Option<()> {
    let path = format!("{}/event?limit=1", topic_path(topic));
    let answer = answer_or_fail!(run, "paging.headers", Mandatory, run.peer.get(&path).await);
    let number = |name: &str| {
        answer
            .header(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let total = number("x-total-count");
    let result = number("x-result-count");
    let items = answer.json().and_then(|v| v.as_array().map(Vec::len));
    let evidence = vec![answer.evidence.clone()];
    let mut problems = Vec::new();
    if total.is_none() {
        problems.push("no X-Total-Count".to_owned());
    }
    if result.is_none() {
        problems.push("no X-Result-Count".to_owned());
    }
    if let (Some(result), Some(items)) = (result, items) {
        if result != items as u64 {
            problems.push(format!("X-Result-Count {result} but {items} items"));
        }
    }
    if items.is_some_and(|n| n > 1) {
        problems.push(format!("limit=1 answered {} items", items.unwrap_or(0)));
    }
    let detail = if problems.is_empty() {
        format!(
            "X-Total-Count {}, X-Result-Count {}",
            total.unwrap_or(0),
            result.unwrap_or(0)
        )
    } else {
        problems.join("; ")
    };
    run.report.verdict(
        "paging.headers",
        Mandatory,
        problems.is_empty(),
        detail,
        evidence.clone(),
    );
    let (status_ok, detail) = match (answer.status, total, result.or(items.map(|n| n as u64))) {
        (200 | 206, Some(total), Some(result)) => {
            let expected = if result < total { 206 } else { 200 };
            (
                answer.status == expected,
                format!(
                    "{} for {result} of {total} (expected {expected})",
                    answer.status
                ),
            )
        }
        (200 | 206, _, _) => (
            false,
            format!("{} without the counts to judge it", answer.status),
        ),
        (status, _, _) => (false, format!("{status} (expected 200 or 206)")),
    };
    run.report
        .verdict("paging.status", Mandatory, status_ok, detail, evidence);
    Some(())
}
