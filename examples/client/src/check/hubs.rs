//! Hubs: register (201 with an `id`; `Location` optional), deregister (204), deregister
//! again (404 with a TMF `Error`).

use serde_json::{Value, json};
use tmf688_api::support::encode_path_segment;

use super::errors::expect_error;
use super::report::Level::Mandatory;
use super::{Answer, Run, answer_or_fail, expected, location, topic_path};

/// Registers `callback` on `topic` and removes it again.
pub async fn run(run: &mut Run, topic: &str, callback: &str) {
    let Some(id) = register(run, topic, callback).await else {
        run.report
            .skip("hub.deregister", Mandatory, "no hub was registered");
        run.report
            .skip("hub.deregister_again", Mandatory, "no hub was registered");
        return;
    };
    deregister(run, topic, &id).await;
}

/// `POST /topic/{topic}/hub` as the check `check` (201 with an id); the hub's id.
pub async fn register_as(
    run: &mut Run,
    topic: &str,
    callback: &str,
    check: &'static str,
) -> Option<String> {
    register_answer(run, topic, callback, check).await?.0
}

/// `hub.register` and `hub.location`; the id.
async fn register(run: &mut Run, topic: &str, callback: &str) -> Option<String> {
    let (id, answer) = register_answer(run, topic, callback, "hub.register").await?;
    location(run, "hub.location", &answer);
    id
}

async fn register_answer(
    run: &mut Run,
    topic: &str,
    callback: &str,
    check: &'static str,
) -> Option<(Option<String>, Answer)> {
    let path = format!("{}/hub", topic_path(topic));
    let body = json!({"callback": callback});
    let answer = answer_or_fail!(run, check, Mandatory, run.peer.post(&path, &body).await);
    let id = answer
        .json()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
        // An id that cannot be a path segment ("..") is no usable id.
        .filter(|id| crate::paths::is_safe(id));
    if let Some(id) = &id {
        if (200..300).contains(&answer.status) {
            run.created_hub(topic, id);
        }
    }
    let passed = answer.status == 201 && id.is_some();
    let detail = match &id {
        Some(id) if passed => format!("201 with id {id}"),
        Some(id) => format!("{} with id {id} (expected 201)", answer.status),
        None => format!("{} without an id (expected 201 with an id)", answer.status),
    };
    run.report.verdict(
        check,
        Mandatory,
        passed,
        detail,
        vec![answer.evidence.clone()],
    );
    Some((id, answer))
}

/// `DELETE` twice: 204, then 404 with a TMF `Error`.
async fn deregister(run: &mut Run, topic: &str, id: &str) {
    if deregister_as(run, topic, id, "hub.deregister")
        .await
        .is_some()
    {
        let path = hub_path(topic, id);
        delete_again(run, &path).await;
    }
}

pub fn hub_path(topic: &str, id: &str) -> String {
    format!("{}/hub/{}", topic_path(topic), encode_path_segment(id))
}

/// `DELETE /topic/{topic}/hub/{id}` as the check `check` (204). None when unanswered.
pub async fn deregister_as(
    run: &mut Run,
    topic: &str,
    id: &str,
    check: &'static str,
) -> Option<()> {
    let path = hub_path(topic, id);
    let answer = answer_or_fail!(run, check, Mandatory, run.peer.delete(&path).await);
    if (200..300).contains(&answer.status) {
        run.removed_hub(topic, id);
    }
    let detail = expected(answer.status, 204);
    run.report.verdict(
        check,
        Mandatory,
        answer.status == 204,
        detail,
        vec![answer.evidence],
    );
    Some(())
}

async fn delete_again(run: &mut Run, path: &str) -> Option<()> {
    let answer = answer_or_fail!(
        run,
        "hub.deregister_again",
        Mandatory,
        run.peer.delete(path).await
    );
    expect_error(run, "hub.deregister_again", &answer, 404);
    Some(())
}
