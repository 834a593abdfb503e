//! The report of `check`: each check with its level, outcome and evidence; printed as
//! text or as one JSON document (`--json`, shape `tmf688-check/1`, see the README).

use std::collections::BTreeMap;

use serde::Serialize;

/// Whether a check's failure fails the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Mandatory,
    Optional,
}

/// What a check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Skip,
}

/// One exchange with the peer, as seen: the request line, the status, the headers that
/// matter to the checks, the start of the body.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Evidence {
    pub request: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// A transport failure instead of an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One check's result.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub level: Level,
    pub outcome: Outcome,
    /// What was found (or why skipped), one line.
    pub detail: String,
    pub evidence: Vec<Evidence>,
}

/// Counts over all checks.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub mandatory_failed: usize,
}

/// What the delivery checks measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeliveryStats {
    pub published: usize,
    /// Distinct eventIds of this run received.
    pub delivered: usize,
    /// Extra arrivals of an eventId already received.
    pub duplicates: usize,
    pub in_order: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Latency>,
}

/// Publish-to-first-arrival latency.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Always `tmf688-check/1`; a change of shape changes it.
    pub format: &'static str,
    /// The API base URL checked.
    pub peer: String,
    /// The topic the event checks ran on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// `pass` (every mandatory check passed), `fail` or `unreachable`.
    pub outcome: &'static str,
    pub exit_code: u8,
    pub summary: Summary,
    pub checks: Vec<Check>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryStats>,
    /// What was removed again at the end (or could not be).
    pub cleanup: Vec<String>,
}

impl Report {
    pub fn new(peer: String) -> Self {
        Self {
            format: "tmf688-check/1",
            peer,
            topic: None,
            outcome: "pass",
            exit_code: 0,
            summary: Summary::default(),
            checks: Vec::new(),
            delivery: None,
            cleanup: Vec::new(),
        }
    }

    /// Adds a check.
    pub fn add(
        &mut self,
        id: &'static str,
        level: Level,
        outcome: Outcome,
        detail: impl Into<String>,
        evidence: Vec<Evidence>,
    ) {
        self.checks.push(Check {
            id,
            level,
            outcome,
            detail: detail.into(),
            evidence,
        });
    }

    /// Adds a pass or a fail.
    pub fn verdict(
        &mut self,
        id: &'static str,
        level: Level,
        passed: bool,
        detail: impl Into<String>,
        evidence: Vec<Evidence>,
    ) {
        let outcome = if passed { Outcome::Pass } else { Outcome::Fail };
        self.add(id, level, outcome, detail, evidence);
    }

    /// Adds a fail naming `problem`, or a pass saying `fine`.
    pub fn problem(
        &mut self,
        id: &'static str,
        level: Level,
        problem: Option<String>,
        fine: &str,
        evidence: Vec<Evidence>,
    ) {
        let passed = problem.is_none();
        let detail = problem.unwrap_or_else(|| fine.to_owned());
        self.verdict(id, level, passed, detail, evidence);
    }

    /// Adds a skip.
    pub fn skip(&mut self, id: &'static str, level: Level, why: impl Into<String>) {
        self.add(id, level, Outcome::Skip, why, Vec::new());
    }

    /// Counts, outcome and exit code: 0 when every mandatory check passed (a skipped
    /// mandatory check counts as not passed), 1 otherwise, 3 when unreachable.
    pub fn finish(&mut self, unreachable: bool) {
        let mut summary = Summary::default();
        for check in &self.checks {
            match check.outcome {
                Outcome::Pass => summary.passed += 1,
                Outcome::Fail => summary.failed += 1,
                Outcome::Skip => summary.skipped += 1,
            }
            if check.level == Level::Mandatory && check.outcome != Outcome::Pass {
                summary.mandatory_failed += 1;
            }
        }
        (self.outcome, self.exit_code) = if unreachable {
            ("unreachable", 3)
        } else if summary.mandatory_failed > 0 {
            ("fail", 1)
        } else {
            ("pass", 0)
        };
        self.summary = summary;
    }

    /// The report as text, one block per check.
    pub fn text(&self) -> String {
        let mut out = format!("checking {}", self.peer);
        if let Some(topic) = &self.topic {
            out.push_str(&format!(" (topic {topic})"));
        }
        out.push('\n');
        let mut previous: Option<&[Evidence]> = None;
        for check in &self.checks {
            let outcome = match check.outcome {
                Outcome::Pass => "PASS",
                Outcome::Fail => "FAIL",
                Outcome::Skip => "SKIP",
            };
            let level = match check.level {
                Level::Mandatory => "mandatory",
                Level::Optional => "optional ",
            };
            out.push_str(&format!(
                "{outcome} {level} {:<26} {}\n",
                check.id, check.detail
            ));
            // Evidence shared with the check before it is shown once.
            let lines: Vec<String> = check.evidence.iter().map(evidence_line).collect();
            let before: Vec<String> = previous
                .unwrap_or_default()
                .iter()
                .map(evidence_line)
                .collect();
            if lines != before {
                for line in lines {
                    out.push_str(&format!("       {line}\n"));
                }
            }
            previous = Some(&check.evidence);
        }
        if !self.cleanup.is_empty() {
            out.push_str(&format!("cleanup: {}\n", self.cleanup.join("; ")));
        }
        let s = &self.summary;
        out.push_str(&format!(
            "{}: {} passed, {} failed, {} skipped; {} mandatory not passed (exit {})\n",
            self.outcome, s.passed, s.failed, s.skipped, s.mandatory_failed, self.exit_code
        ));
        out
    }
}

fn evidence_line(evidence: &Evidence) -> String {
    let mut line = evidence.request.clone();
    if let Some(status) = evidence.status {
        line.push_str(&format!(" → {status}"));
    }
    if let Some(error) = &evidence.error {
        line.push_str(&format!(" → {error}"));
    }
    for (name, value) in &evidence.headers {
        line.push_str(&format!(" | {name}: {value}"));
    }
    if let Some(body) = &evidence.body {
        line.push_str(&format!(" | {body}"));
    }
    line
}
