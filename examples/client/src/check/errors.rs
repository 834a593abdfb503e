//! TMF `Error` bodies: malformed JSON → 400, an unknown event id → 404, each with a JSON
//! body holding `code` and `reason` (mandatory) and `message` (optional).

use serde_json::Value;
use tmf688_api::support::encode_path_segment;

use super::report::Level::{Mandatory, Optional};
use super::{Answer, Run, answer_or_fail, topic_path};

/// What is wrong with an answer's TMF `Error` body, if anything (`code` and `reason`
/// as strings, a JSON content type).
pub fn error_body_problem(answer: &Answer) -> Option<String> {
    let Some(Value::Object(body)) = answer.json() else {
        return Some(format!(
            "{}: the body is not a JSON object (content-type {})",
            answer.status,
            answer.header("content-type").unwrap_or("none")
        ));
    };
    if !answer.is_json_type() {
        return Some(format!(
            "{}: a JSON body sent as {}",
            answer.status,
            answer.header("content-type").unwrap_or("no content-type")
        ));
    }
    let missing: Vec<&str> = ["code", "reason"]
        .into_iter()
        .filter(|name| !body.get(*name).is_some_and(Value::is_string))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{}: the Error body has no {}",
            answer.status,
            missing.join(" or ")
        )
    })
}

/// The check `check`: `answer` is `status` with a TMF `Error` body.
pub fn expect_error(run: &mut Run, check: &'static str, answer: &Answer, status: u16) {
    let problem = if answer.status == status {
        error_body_problem(answer)
    } else {
        Some(format!("{} (expected {status})", answer.status))
    };
    let fine = format!("{status} with a TMF Error body (code, reason)");
    run.report.problem(
        check,
        Mandatory,
        problem,
        &fine,
        vec![answer.evidence.clone()],
    );
}

pub async fn run(run: &mut Run, topic: &str) {
    let malformed = malformed_json(run, topic).await;
    unknown_event(run, topic).await;
    match malformed {
        Some(answer) => {
            let has = answer
                .json()
                .is_some_and(|v| v.get("message").is_some_and(Value::is_string));
            let detail = if has {
                "the 400 Error body has a message"
            } else {
                "the 400 Error body has no message"
            };
            run.report.verdict(
                "error.message",
                Optional,
                has,
                detail,
                vec![answer.evidence],
            );
        }
        None => run
            .report
            .skip("error.message", Optional, "no 400 answer to look at"),
    }
}

/// `POST` a body that is not JSON: 400 with a TMF `Error`.
async fn malformed_json(run: &mut Run, topic: &str) -> Option<Answer> {
    let path = format!("{}/event", topic_path(topic));
    let body = br#"{"@type": "AlarmCreateEvent", "eventId": "#;
    let result = run.peer.send(http::Method::POST, &path, Some(body)).await;
    let answer = answer_or_fail!(run, "error.malformed_json", Mandatory, result);
    expect_error(run, "error.malformed_json", &answer, 400);
    (answer.status == 400).then_some(answer)
}

/// `GET` an event id that does not exist: 404 with a TMF `Error`.
async fn unknown_event(run: &mut Run, topic: &str) -> Option<()> {
    let id = format!("{}-no-such-event", run.run_id);
    let path = format!("{}/event/{}", topic_path(topic), encode_path_segment(&id));
    let answer = answer_or_fail!(
        run,
        "error.unknown_id",
        Mandatory,
        run.peer.get(&path).await
    );
    expect_error(run, "error.unknown_id", &answer, 404);
    Some(())
}
