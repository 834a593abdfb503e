//! `tmf688-client check`: a conformance run against any TMF688 / PSI hub (ours or a
//! partner's). Each check is mandatory or optional and ends pass, fail or skip with
//! the evidence (request, status, headers, body excerpt); see `report.rs`.
//!
//! Groups, in the order they run (one file each): `topics` (list, PSI topics, a
//! scratch topic), `hubs` (register, deregister twice), `events` (create, retrieve,
//! `fields`, paging), `errors` (TMF `Error` bodies), `delivery` (a local receiver
//! registered as a hub, N events, order, duplicates, latency). What the run created
//! is removed at the end, on failure too (events cannot be deleted in TMF688).
//!
//! Exit codes: 0 every mandatory check passed; 1 a mandatory check failed or was
//! skipped; 3 the peer could not be reached at all; 4 bad input (e.g. the receiver
//! could not bind); 2 usage (clap).

mod delivery;
mod errors;
mod events;
mod hubs;
pub mod report;
mod topics;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tmf688_api::support::encode_path_segment;

use crate::Failure;
use report::{Evidence, Level, Report};

/// What `check` was asked for.
#[derive(Debug, Clone)]
pub struct CheckArgs {
    /// The API base URL (with its base path).
    pub base: String,
    pub token: Option<String>,
    pub json: bool,
    /// Run the event checks on this topic instead of a scratch topic.
    pub topic: Option<String>,
    pub bind: SocketAddr,
    pub callback_host: Option<String>,
    /// Events published for the delivery checks.
    pub events: usize,
    /// How long to wait for delivery.
    pub timeout: Duration,
}

/// The headers the checks look at, kept in the evidence.
const EVIDENCE_HEADERS: [&str; 4] = [
    "content-type",
    "location",
    "x-total-count",
    "x-result-count",
];
/// Body excerpt length in the evidence.
const EXCERPT: usize = 160;

/// An answer of the peer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    pub evidence: Evidence,
}

impl Answer {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the content type is JSON (`application/json` or `+json`).
    pub fn is_json_type(&self) -> bool {
        self.header("content-type").is_some_and(|value| {
            let essence = value.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("application/json") || essence.ends_with("+json")
        })
    }
}

/// A transport failure, with what was tried.
#[derive(Debug)]
pub struct Unreachable {
    pub evidence: Evidence,
}

/// The peer's HTTP API, raw: every answer is kept as evidence.
pub struct Peer {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Peer {
    fn new(base: String, token: Option<String>) -> Result<Self, Failure> {
        if let Some(token) = &token {
            http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                Failure::Input("--token must be printable ASCII without line breaks".into())
            })?;
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| Failure::Input(format!("could not build the HTTP client: {error}")))?;
        Ok(Self { base, token, http })
    }

    /// `method path` (path relative to the base, segments already encoded) with an
    /// optional JSON body (sent as is: it may be malformed on purpose).
    pub async fn send(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Answer, Unreachable> {
        let request_line = format!("{method} {path}");
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let failed = |error: reqwest::Error| Unreachable {
            evidence: Evidence {
                request: request_line.clone(),
                error: Some(error_chain(&error)),
                ..Evidence::default()
            },
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(failed)?.to_vec();
        let mut kept = BTreeMap::new();
        for name in EVIDENCE_HEADERS {
            if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
                kept.insert(name.to_owned(), value.to_owned());
            }
        }
        let evidence = Evidence {
            request: request_line,
            status: Some(status),
            headers: kept,
            body: (!body.is_empty()).then(|| excerpt(&body)),
            error: None,
        };
        Ok(Answer {
            status,
            headers,
            body,
            evidence,
        })
    }

    pub async fn get(&self, path: &str) -> Result<Answer, Unreachable> {
        self.send(http::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Answer, Unreachable> {
        self.send(http::Method::POST, path, Some(body.to_string().as_bytes()))
            .await
    }

    pub async fn delete(&self, path: &str) -> Result<Answer, Unreachable> {
        self.send(http::Method::DELETE, path, None).await
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(&format!(": {text}"));
        }
        source = cause.source();
    }
    message
}

/// The first [`EXCERPT`] characters of a body, on one line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT)
        .collect();
    if text.chars().count() > EXCERPT {
        out.push('…');
    }
    out
}

/// The optional check `check`: a created resource's answer has a `Location` header
/// (skipped when nothing was created).
pub fn location(run: &mut Run, check: &'static str, answer: &Answer) {
    let evidence = vec![answer.evidence.clone()];
    match answer.header("location") {
        Some(location) => {
            let detail = format!("Location: {location}");
            run.report
                .verdict(check, Level::Optional, true, detail, evidence);
        }
        None if (200..300).contains(&answer.status) => {
            let detail = "no Location header";
            run.report
                .verdict(check, Level::Optional, false, detail, evidence);
        }
        None => run
            .report
            .skip(check, Level::Optional, "nothing was created"),
    }
}

/// `204`, or `200 (expected 204)`.
pub fn expected(status: u16, wanted: u16) -> String {
    if status == wanted {
        status.to_string()
    } else {
        format!("{status} (expected {wanted})")
    }
}

/// `/topic/<topic>` with the topic encoded.
pub fn topic_path(topic: &str) -> String {
    format!("/topic/{}", encode_path_segment(topic))
}

/// A prefix unique to this run, for ids and names it creates.
fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("check-{nanos}")
}

/// What the run created, removed at the end.
#[derive(Default)]
pub struct Created {
    /// (topic, hub id)
    hubs: Vec<(String, String)>,
    topic: Option<String>,
}

/// State the groups share.
pub struct Run {
    pub peer: Peer,
    pub report: Report,
    pub created: Created,
    pub run_id: String,
    pub args: CheckArgs,
}

impl Run {
    /// Records a hub to remove at the end.
    pub fn created_hub(&mut self, topic: &str, id: &str) {
        self.created.hubs.push((topic.to_owned(), id.to_owned()));
    }

    /// Forgets a hub the run removed itself.
    pub fn removed_hub(&mut self, topic: &str, id: &str) {
        self.created.hubs.retain(|(t, h)| !(t == topic && h == id));
    }

    /// Removes what is left: hubs, then the scratch topic.
    async fn clean_up(&mut self) {
        for (topic, id) in std::mem::take(&mut self.created.hubs) {
            let path = hubs::hub_path(&topic, &id);
            let line = match self.peer.delete(&path).await {
                Ok(answer) => format!("DELETE {path} → {}", answer.status),
                Err(error) => format!(
                    "DELETE {path} failed: {}",
                    error.evidence.error.unwrap_or_default()
                ),
            };
            self.report.cleanup.push(line);
        }
        if let Some(topic) = self.created.topic.take() {
            topics::delete_scratch(self, &topic).await;
        }
    }
}

/// A check's answer when the peer answered, else a fail with the transport error.
macro_rules! answer_or_fail {
    ($run:expr, $id:expr, $level:expr, $result:expr) => {
        match $result {
            Ok(answer) => answer,
            Err(error) => {
                $run.report.verdict(
                    $id,
                    $level,
                    false,
                    "no answer (transport error)",
                    vec![error.evidence],
                );
                return None;
            }
        }
    };
}
pub(crate) use answer_or_fail;

/// Runs every check, prints the report, returns the exit code.
pub async fn check(args: CheckArgs) -> Result<u8, Failure> {
    let peer = Peer::new(args.base.clone(), args.token.clone())?;
    let mut run = Run {
        peer,
        report: Report::new(args.base.clone()),
        created: Created::default(),
        run_id: run_id(),
        args,
    };
    let reachable = topics::run(&mut run).await;
    let mut receiver_failure = None;
    if reachable {
        if let Some(topic) = topics::choose_topic(&mut run).await {
            run.report.topic = Some(topic.clone());
            match delivery::start_receiver(&run, &topic).await {
                Ok((receiver, arrivals)) => {
                    hubs::run(&mut run, &topic, &receiver.callback).await;
                    events::run(&mut run, &topic).await;
                    errors::run(&mut run, &topic).await;
                    delivery::run(&mut run, &topic, &receiver, &arrivals).await;
                    receiver.stop().await;
                }
                Err(failure) => receiver_failure = Some(failure),
            }
        }
        run.clean_up().await;
    }
    if let Some(failure) = receiver_failure {
        return Err(failure);
    }
    run.report.finish(!reachable);
    if run.args.json {
        let text = serde_json::to_string_pretty(&run.report)
            .map_err(|error| Failure::Input(format!("could not print the report: {error}")))?;
        println!("{text}");
    } else {
        print!("{}", run.report.text());
    }
    Ok(run.report.exit_code)
}
