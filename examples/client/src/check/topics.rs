//! Topics: the list (mandatory), the PSI topics (optional), a scratch topic to run the
//! event checks on (optional; created and deleted unless `--topic` is given).

use serde_json::{Value, json};

use super::report::Level::{Mandatory, Optional};
use super::{Run, expected, topic_path};

/// The topics every PSI hub has.
const PSI_TOPICS: [&str; 3] = ["order", "inquiry", "alarm"];

/// `GET /topic`. Returns false when the peer could not be reached.
pub async fn run(run: &mut Run) -> bool {
    let answer = match run.peer.get("/topic").await {
        Ok(answer) => answer,
        Err(error) => {
            run.report.verdict(
                "topics.list",
                Mandatory,
                false,
                "the peer could not be reached",
                vec![error.evidence],
            );
            return false;
        }
    };
    let evidence = vec![answer.evidence.clone()];
    let topics = answer.json().and_then(|v| v.as_array().cloned());
    let passed = answer.status == 200 && topics.is_some();
    let detail = match &topics {
        Some(topics) => format!(
            "{} answered a JSON array of {} topics",
            answer.status,
            topics.len()
        ),
        None => format!(
            "{} answered no JSON array (expected 200 and [...])",
            answer.status
        ),
    };
    run.report
        .verdict("topics.list", Mandatory, passed, detail, evidence.clone());
    let Some(topics) = topics else {
        run.report
            .skip("topics.psi", Optional, "no topic list to look in");
        return true;
    };
    let names: Vec<&str> = topics.iter().filter_map(topic_name).collect();
    let missing: Vec<&str> = PSI_TOPICS
        .into_iter()
        .filter(|t| !names.contains(t))
        .collect();
    let detail = if missing.is_empty() {
        "order, inquiry and alarm are present".to_owned()
    } else {
        format!(
            "missing {} (required of a PSI hub, not of every TMF688 hub)",
            missing.join(", ")
        )
    };
    run.report
        .verdict("topics.psi", Optional, missing.is_empty(), detail, evidence);
    true
}

/// A topic's id, else its name.
fn topic_name(topic: &Value) -> Option<&str> {
    topic
        .get("id")
        .or_else(|| topic.get("name"))
        .and_then(Value::as_str)
}

/// The topic the event checks run on: `--topic`, else a scratch topic created for the
/// run, else `alarm` if the peer has it. None (and a mandatory fail) without any.
pub async fn choose_topic(run: &mut Run) -> Option<String> {
    if let Some(topic) = run.args.topic.clone() {
        run.report
            .skip("topics.create", Optional, "--topic given: no scratch topic");
        return Some(topic);
    }
    let name = run.run_id.clone();
    let body = json!({"@type": "Topic", "name": name});
    let answer = match run.peer.post("/topic", &body).await {
        Ok(answer) => answer,
        Err(error) => {
            run.report.verdict(
                "topics.create",
                Optional,
                false,
                "no answer (transport error)",
                vec![error.evidence],
            );
            return None;
        }
    };
    let id = answer
        .json()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
        // An id that cannot be a path segment ("..") is no usable id.
        .filter(|id| crate::paths::is_safe(id));
    let evidence = vec![answer.evidence.clone()];
    if let (201, Some(id)) = (answer.status, &id) {
        run.report.verdict(
            "topics.create",
            Optional,
            true,
            format!("201 with id {id}; the event checks run on it"),
            evidence,
        );
        run.created.topic = Some(id.clone());
        return Some(id.clone());
    }
    // Created all the same (wrong status or no id in the body): remove it at the end.
    if (200..300).contains(&answer.status) {
        run.created.topic = Some(id.clone().unwrap_or_else(|| name.clone()));
    }
    let fallback = "alarm";
    let has_alarm = run
        .peer
        .get(&topic_path(fallback))
        .await
        .is_ok_and(|a| a.status == 200);
    run.report.verdict(
        "topics.create",
        Optional,
        false,
        format!(
            "{} (expected 201 with an id){}",
            answer.status,
            if has_alarm {
                "; the event checks run on alarm"
            } else {
                ""
            }
        ),
        evidence,
    );
    if has_alarm {
        return Some(fallback.to_owned());
    }
    run.report.verdict(
        "topics.usable",
        Mandatory,
        false,
        "no topic to run the event checks on: give --topic",
        Vec::new(),
    );
    None
}

/// Deletes the scratch topic (optional check: 204).
pub async fn delete_scratch(run: &mut Run, topic: &str) {
    let path = topic_path(topic);
    match run.peer.delete(&path).await {
        Ok(answer) => {
            run.report
                .cleanup
                .push(format!("DELETE {path} → {}", answer.status));
            let detail = expected(answer.status, 204);
            run.report.verdict(
                "topics.delete",
                Optional,
                answer.status == 204,
                detail,
                vec![answer.evidence],
            );
        }
        Err(error) => {
            run.report.cleanup.push(format!("DELETE {path} failed"));
            run.report.verdict(
                "topics.delete",
                Optional,
                false,
                "no answer (transport error)",
                vec![error.evidence],
            );
        }
    }
}
