//! `publish`: one event (from a file or stdin), N copies of one (`--count N`, eventIds
//! suffixed `-1` … `-N`), or an NDJSON file of events (`--ndjson FILE`, one
//! `Event_Create` per line, `-` for stdin) — with up to `--concurrency` requests in
//! flight and a progress bar (count, rate, ETA) on stderr while both stdout and stderr
//! are terminals. Bulk runs stop launching at the first refusal or malformed line,
//! wait for the requests in flight, and say how many events were published before it:
//! what the hub acknowledged stays published.

use std::io::{BufRead as _, BufReader, IsTerminal as _, Read as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use tmf688_api::client::Client;
use tmf688_api::models::EventCreate;
use tmf688_api::operations::CreateEventResponse;
use tokio::task::JoinSet;

use crate::{Failure, IntoFailure as _, event_number, print_json, read_input};

/// What to publish.
#[derive(Debug)]
pub struct PublishArgs {
    pub topic: String,
    pub file: Option<PathBuf>,
    pub ndjson: Option<PathBuf>,
    pub count: u64,
    pub concurrency: usize,
}

/// Where the events of a bulk run come from.
enum Source {
    /// The template, `count` times.
    Copies { template: Value, count: u64 },
    /// NDJSON lines (numbered from 1), read as they are published.
    Lines(Box<dyn Iterator<Item = std::io::Result<String>> + Send>),
}

impl Source {
    /// The next event and its number (the line number for NDJSON), `None` at the end.
    fn next(&mut self, sent: u64, line: &mut u64) -> Option<Result<(u64, EventCreate), Failure>> {
        match self {
            Self::Copies { template, count } => (sent < *count)
                .then(|| event_number(template, sent + 1, *count).map(|e| (sent + 1, e))),
            Self::Lines(lines) => loop {
                *line += 1;
                let text = match lines.next()? {
                    Ok(text) => text,
                    Err(error) => {
                        return Some(Err(Failure::Input(format!(
                            "could not read line {line}: {error}"
                        ))));
                    }
                };
                if text.trim().is_empty() {
                    continue;
                }
                return Some(
                    serde_json::from_str::<EventCreate>(&text)
                        .map(|event| (*line, event))
                        .map_err(|error| {
                            Failure::Input(format!(
                                "line {line} is not a valid Event_Create ({error}); it needs at \
                                 least \"@type\", \"eventId\" and \"event\""
                            ))
                        }),
                );
            },
        }
    }
}

pub async fn publish(client: &Client, args: PublishArgs) -> Result<(), Failure> {
    if args.count == 0 {
        return Err(Failure::Input("--count must be at least 1".into()));
    }
    if args.concurrency == 0 {
        return Err(Failure::Input("--concurrency must be at least 1".into()));
    }
    let (source, total) = match &args.ndjson {
        Some(path) => ndjson(path)?,
        None => {
            let template = read_input(args.file.as_deref())?;
            if args.count == 1 {
                return publish_one(client, &args.topic, &template).await;
            }
            (
                Source::Copies {
                    template,
                    count: args.count,
                },
                Some(args.count),
            )
        }
    };
    publish_many(client, &args.topic, source, total, args.concurrency).await
}

/// One event: the created event on stdout, its location on stderr.
async fn publish_one(client: &Client, topic: &str, template: &Value) -> Result<(), Failure> {
    let event = event_number(template, 1, 1)?;
    match client.create_event(topic, &event).await? {
        CreateEventResponse::Created { body, location } => {
            print_json(&body)?;
            if let Some(location) = location {
                eprintln!("created: {location}");
            }
            Ok(())
        }
        other => Err(other.into_failure()),
    }
}

/// The lines of an NDJSON file (`-`: stdin), and how many events it holds when known
/// beforehand (a file is counted first, for the ETA).
fn ndjson(path: &Path) -> Result<(Source, Option<u64>), Failure> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| Failure::Input(format!("could not read stdin: {error}")))?;
        let total = text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
        let lines: Vec<std::io::Result<String>> = text.lines().map(|l| Ok(l.to_owned())).collect();
        return Ok((Source::Lines(Box::new(lines.into_iter())), Some(total)));
    }
    let open = || {
        std::fs::File::open(path)
            .map(BufReader::new)
            .map_err(|error| Failure::Input(format!("could not read {}: {error}", path.display())))
    };
    let mut total = 0u64;
    for line in open()?.lines() {
        let line = line.map_err(|error| {
            Failure::Input(format!("could not read {}: {error}", path.display()))
        })?;
        total += u64::from(!line.trim().is_empty());
    }
    Ok((Source::Lines(Box::new(open()?.lines())), Some(total)))
}

fn progress_bar(total: Option<u64>) -> ProgressBar {
    if !(std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) {
        return ProgressBar::hidden();
    }
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::new(total),
            "[{elapsed_precise}] {wide_bar} {pos}/{len} · {rate} · ETA {eta}",
        ),
        None => (
            ProgressBar::no_length(),
            "[{elapsed_precise}] {spinner} {pos} · {rate}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.with_key(
            "rate",
            |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{:.0} events/s", state.per_sec());
            },
        ));
    }
    bar
}

/// Publishes every event of `source` with up to `concurrency` requests in flight.
async fn publish_many(
    client: &Client,
    topic: &str,
    mut source: Source,
    total: Option<u64>,
    concurrency: usize,
) -> Result<(), Failure> {
    let unit = match source {
        Source::Copies { .. } => "event",
        Source::Lines(_) => "line",
    };
    let bar = progress_bar(total);
    let started = Instant::now();
    let mut in_flight: JoinSet<Result<(), (u64, Failure)>> = JoinSet::new();
    let (mut sent, mut published, mut line) = (0u64, 0u64, 0u64);
    let mut failure: Option<(u64, Failure)> = None;
    loop {
        while failure.is_none() && in_flight.len() < concurrency {
            match source.next(sent, &mut line) {
                None => break,
                Some(Err(error)) => failure = Some((line, error)),
                Some(Ok((number, event))) => {
                    sent += 1;
                    let client = client.clone();
                    let topic = topic.to_owned();
                    in_flight.spawn(async move {
                        match client.create_event(&topic, &event).await {
                            Ok(CreateEventResponse::Created { .. }) => Ok(()),
                            Ok(other) => Err((number, other.into_failure())),
                            Err(error) => Err((number, Failure::from(error))),
                        }
                    });
                }
            }
        }
        let Some(done) = in_flight.join_next().await else {
            break;
        };
        match done {
            Ok(Ok(())) => {
                published += 1;
                bar.inc(1);
            }
            Ok(Err(refused)) => {
                if failure.is_none() {
                    failure = Some(refused);
                }
            }
            Err(error) => {
                if failure.is_none() {
                    failure = Some((
                        0,
                        Failure::Transport(format!("a request task failed: {error}")),
                    ));
                }
            }
        }
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let rate = published as f64 / seconds.max(f64::EPSILON);
    eprintln!("published {published} events to {topic} in {seconds:.3} s ({rate:.0} events/s)");
    match failure {
        None => Ok(()),
        Some((number, error)) => {
            eprintln!(
                "stopped at {unit} {number}: {published} events were published before (they \
                 stay published)"
            );
            Err(error)
        }
    }
}
