//! Topics: the list (mandatory), the PSI topics (optional), a scratch topic to run the
//! event checks on (optional; created and deleted unless `--topic` is given).

use serde_json::{Value, json};

use super::report::Evidence;
use super::report::Level::{Mandatory, Optional};
use super::{Answer, Run, expected, topic_path};

/// The topics every PSI hub has.
const PSI_TOPICS: [&str; 3] = ["order", "inquiry", "alarm"];

/// Pages fetched at most while following a partial list (a peer that answers 206
/// forever is not followed forever).
const MAX_PAGES: usize = 100;

/// `GET /topic`, following the pages of a partial answer (206, TMF630: `offset` moved
/// past what came, until `X-Total-Count` topics came, an empty page or a 200). Returns
/// false when the peer could not be reached.
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
    let mut evidence = vec![answer.evidence.clone()];
    let first_page = answer.json().and_then(|v| v.as_array().cloned());
    let (topics, problem) = match (answer.status, first_page) {
        (200, Some(topics)) => (Some(topics), None),
        (206, Some(page)) => {
            let (topics, problem) = follow_pages(run, page, &answer, &mut evidence).await;
            (Some(topics), problem)
        }
        (status, Some(topics)) => (
            Some(topics),
            Some(format!(
                "{status} (expected 200, or 206 for a partial page)"
            )),
        ),
        (status, None) => (
            None,
            Some(format!(
                "{status} answered no JSON array (expected 200 or 206 and [...])"
            )),
        ),
    };
    let count = topics.as_ref().map_or(0, Vec::len);
    let detail = match &problem {
        Some(problem) => problem.clone(),
        None if answer.status == 206 => format!(
            "206 (partial pages, {} requests) answered JSON arrays of {count} topics in all",
            evidence.len()
        ),
        None => format!("{} answered a JSON array of {count} topics", answer.status),
    };
    run.report.verdict(
        "topics.list",
        Mandatory,
        problem.is_none(),
        detail,
        evidence.clone(),
    );
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

/// The topics of every page after a first 206 page: the next page starts at `offset` =
/// the topics so far, in the peer's default page size. Ends at `X-Total-Count` topics
/// (when the peer sends it), a 200, an empty page or [`MAX_PAGES`]; a page that is not
/// a 200/206 JSON array is the problem returned.
async fn follow_pages(
    run: &Run,
    first: Vec<Value>,
    answer: &Answer,
    evidence: &mut Vec<Evidence>,
) -> (Vec<Value>, Option<String>) {
    let total = |answer: &Answer| {
        answer
            .header("x-total-count")
            .and_then(|v| v.trim().parse::<usize>().ok())
    };
    let mut total_count = total(answer);
    let mut topics = first;
    let mut last_len = topics.len();
    for _ in 1..MAX_PAGES {
        if last_len == 0 || total_count.is_some_and(|t| topics.len() >= t) {
            return (topics, None);
        }
        let path = format!("/topic?offset={}", topics.len());
        let answer = match run.peer.get(&path).await {
            Ok(answer) => answer,
            Err(error) => {
                evidence.push(error.evidence);
                return (topics, Some(format!("{path}: no answer (transport error)")));
            }
        };
        evidence.push(answer.evidence.clone());
        let Some(page) = answer.json().and_then(|v| v.as_array().cloned()) else {
            let problem = format!("{path} answered {} and no JSON array", answer.status);
            return (topics, Some(problem));
        };
        if !matches!(answer.status, 200 | 206) {
            let problem = format!("{path} answered {} (expected 200 or 206)", answer.status);
            return (topics, Some(problem));
        }
        total_count = total(&answer).or(total_count);
        last_len = page.len();
        topics.extend(page);
        if answer.status == 200 {
            return (topics, None);
        }
    }
    let problem = format!(
        "still 206 after {MAX_PAGES} pages ({} topics, X-Total-Count {})",
        topics.len(),
        total_count.map_or_else(|| "absent".to_owned(), |t| t.to_string())
    );
    (topics, Some(problem))
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
    // PSI base paths do not serve createTopic (PSID688 has no topic operations but the
    // list): a 405 is the peer's profile, not a fault.
    let not_served = answer.status == 405;
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
    let on_alarm = if has_alarm {
        "; the event checks run on alarm"
    } else {
        ""
    };
    if not_served {
        run.report.skip(
            "topics.create",
            Optional,
            format!("405: this base path does not serve createTopic (as PSI paths){on_alarm}"),
        );
    } else {
        run.report.verdict(
            "topics.create",
            Optional,
            false,
            format!("{} (expected 201 with an id){on_alarm}", answer.status),
            evidence,
        );
    }
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
