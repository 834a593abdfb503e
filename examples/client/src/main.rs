//! `tmf688-client`: a command-line client of a TMF688 / PSI event hub, over the
//! generated `tmf688_api::client::Client`.
//!
//! Run with (a server on the default address, see `tmf688-server`):
//!
//! ```text
//! cargo run --release --bin tmf688-client -- topics
//! cargo run --release --bin tmf688-client -- topic create billing
//! echo '{"@type":"AlarmCreateEvent","eventId":"e-1","eventType":"AlarmCreateEvent","event":{"id":"a1"}}' \
//!   | cargo run --release --bin tmf688-client -- publish alarm
//! cargo run --release --bin tmf688-client -- publish alarm --file event.json --count 1000
//! cargo run --release --bin tmf688-client -- events alarm --filter eventType=AlarmCreateEvent --fields eventId,eventType --limit 10
//! cargo run --release --bin tmf688-client -- subscribe order http://127.0.0.1:9090/psi-api/event/v2/topic/order/event
//! cargo run --release --bin tmf688-client -- unsubscribe order hub-1
//! cargo run --release --bin tmf688-client -- --url http://127.0.0.1:8080/psi-api/event/v2 topics
//! cargo run --release --bin tmf688-client -- listen order                 # Ctrl-C deregisters
//! cargo run --release --bin tmf688-client -- --token "$KEY" listen alarm --count 10
//! cargo run --release --bin tmf688-client -- publish alarm --ndjson events.ndjson --concurrency 8
//!
//! # operators (the hub's /admin and /metrics; admin role once it authenticates)
//! cargo run --release --bin tmf688-client -- hubs                 # halted and retrying first
//! cargo run --release --bin tmf688-client -- hubs --json
//! cargo run --release --bin tmf688-client -- resume hub-7
//! cargo run --release --bin tmf688-client -- replay hub-7 --from 120
//! cargo run --release --bin tmf688-client -- replay hub-7 --from-time 2024-05-01T00:00:00Z
//! cargo run --release --bin tmf688-client -- dead-letters hub-7
//! cargo run --release --bin tmf688-client -- metrics              # Prometheus text
//! ```
//!
//! `--token` / `TMF688_TOKEN` sends `Authorization: Bearer <token>` (an API key or a
//! JWT) when the hub has authentication configured.
//!
//! Results go to stdout as JSON; counts, locations and progress to stderr.
//! Exit codes: 0 success, 1 the server answered with an error, 2 usage, 3 the server
//! could not be reached or answered something undocumented, 4 bad input (file, JSON).

mod check;
mod listen;
mod operator;
mod paths;
mod publish;
mod receiver;

use std::io::{IsTerminal as _, Read as _};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use serde_json::Value;
use tmf688_api::client::{BASE_PATH, Client, ClientError};
use tmf688_api::models::{self, EventCreate, HubCreate, TopicCreate};
use tmf688_api::operations::{
    CreateEventResponse, CreateHubResponse, CreateTopicResponse, DeleteHubResponse,
    DeleteTopicResponse, ListEventQuery, ListEventResponse, ListTopicQuery, ListTopicResponse,
};

/// A command-line client of a TMF688 / PSI event hub.
#[derive(Debug, Parser)]
#[command(name = "tmf688-client", version, about)]
struct Cli {
    /// The hub: scheme, host and port, optionally with the API base path (without a
    /// path, the TMF688 base path `/tmf-api/event/v4` is used).
    #[arg(
        long,
        env = "TMF688_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    url: String,

    /// A bearer token (API key or JWT) sent as `Authorization: Bearer <token>`.
    #[arg(long, env = "TMF688_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the topics.
    Topics,
    /// Create or delete a topic.
    Topic {
        #[command(subcommand)]
        action: TopicAction,
    },
    /// List the events of a topic.
    Events {
        /// The topic id.
        topic: String,
        /// First-level attributes to return (comma-separated); id, href, @type always come.
        #[arg(long)]
        fields: Option<String>,
        /// An attribute filter `name=value` (TMF630: `eventTime.gt=...`, `a=x,y`); repeatable.
        #[arg(long = "filter", value_name = "NAME=VALUE")]
        filters: Vec<String>,
        /// Index of the first event.
        #[arg(long)]
        offset: Option<i64>,
        /// Number of events at most.
        #[arg(long)]
        limit: Option<i64>,
    },
    /// Publish an event (JSON `Event_Create`) from a file or stdin to a topic, N
    /// copies of it, or every line of an NDJSON file; bulk runs show a progress bar
    /// (rate, ETA) when stdout and stderr are terminals, and print the rate.
    Publish {
        /// The topic id.
        topic: String,
        /// The file holding the event (default: stdin).
        #[arg(long, short, conflicts_with = "ndjson")]
        file: Option<std::path::PathBuf>,
        /// Publish N copies, with eventIds suffixed `-1` … `-N`.
        #[arg(long, default_value_t = 1, conflicts_with = "ndjson")]
        count: u64,
        /// Publish every line of this file (one `Event_Create` per line; `-`: stdin).
        #[arg(long, value_name = "FILE")]
        ndjson: Option<std::path::PathBuf>,
        /// Requests in flight at once (1 keeps the events' order in the topic's log).
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
    },
    /// Operators: every hub's delivery status (state, owner, callback host, lag, last
    /// answer), halted and retrying hubs first.
    Hubs {
        /// Print the statuses as JSON (as `/admin/hubs` answers them).
        #[arg(long)]
        json: bool,
    },
    /// Operators: resume a halted hub (a retrying one retries now).
    Resume {
        /// The hub id.
        id: String,
    },
    /// Operators: re-send a hub's events from a sequence or an eventTime (resumes a
    /// halted hub).
    Replay {
        /// The hub id.
        id: String,
        /// The first sequence of the topic's log to send again (1: its first event).
        #[arg(
            long,
            conflicts_with = "from_time",
            required_unless_present = "from_time"
        )]
        from: Option<u64>,
        /// From the first event whose eventTime is at or after this date-time (RFC 3339).
        #[arg(long, value_name = "TIME")]
        from_time: Option<String>,
    },
    /// Operators: what a hub gave up on (`GET /admin/hubs/{id}/dead-letters`).
    DeadLetters {
        /// The hub id.
        id: String,
        /// Print the listing as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Operators: the hub's Prometheus metrics (`/metrics`), or its delivery counters
    /// as JSON.
    Metrics {
        /// Print the delivery counters as JSON (`/admin/delivery/metrics`).
        #[arg(long)]
        json: bool,
    },
    /// Register a callback on a topic (create a hub).
    Subscribe {
        /// The topic id.
        topic: String,
        /// The URL events are POSTed to.
        callback: String,
        /// A filter, e.g. `eventType=ProductOrderStateChangeEvent`.
        #[arg(long)]
        query: Option<String>,
    },
    /// Deregister a callback (delete a hub).
    Unsubscribe {
        /// The topic id.
        topic: String,
        /// The hub id.
        id: String,
    },
    /// Run a local callback receiver, register it on a topic, print each event as one
    /// JSON line as it arrives (once per eventId), deregister on Ctrl-C or SIGTERM.
    Listen {
        /// The topic id.
        topic: String,
        /// Local address to receive on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: std::net::SocketAddr,
        /// Host name or address the hub reaches this receiver at (default: the bound
        /// address).
        #[arg(long)]
        callback_host: Option<String>,
        /// A filter for the hub, e.g. `eventType=AlarmCreateEvent`.
        #[arg(long)]
        query: Option<String>,
        /// Exit (deregistering) after N distinct events.
        #[arg(long)]
        count: Option<u64>,
    },
    /// Check a peer hub (TMF688 or PSI) for conformance: topics, hubs, events, fields,
    /// paging, TMF Error bodies and delivery to a local receiver; prints a report.
    /// Exit 0 when every mandatory check passes, 1 when one does not, 3 unreachable.
    Check {
        /// Print the report as one JSON document (format `tmf688-check/1`).
        #[arg(long)]
        json: bool,
        /// Run the event checks on this topic (default: a scratch topic the run
        /// creates and deletes, else `alarm`).
        #[arg(long)]
        topic: Option<String>,
        /// Local address of the callback receiver (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: std::net::SocketAddr,
        /// Host name or address the peer reaches the receiver at (default: the bound
        /// address).
        #[arg(long)]
        callback_host: Option<String>,
        /// Events published for the delivery checks.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(2..))]
        events: u16,
        /// Seconds to wait for the delivery of those events.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
}

#[derive(Debug, Subcommand)]
enum TopicAction {
    /// Create a topic.
    Create {
        /// Its name (also its id when URL-safe).
        name: String,
    },
    /// Delete a topic.
    Delete {
        /// Its id.
        id: String,
    },
}

/// Why the command failed, and the exit code that says so.
#[derive(Debug)]
enum Failure {
    /// The server answered with a TMF error.
    Api(u16, Box<models::Error>),
    /// Transport failure or undocumented answer.
    Transport(String),
    /// Bad input on our side.
    Input(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Api(..) => 1,
            Self::Transport(_) => 3,
            Self::Input(_) => 4,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Api(status, error) => {
                write!(f, "the server answered {status} {}", error.reason)?;
                if let Some(message) = &error.message {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Self::Transport(message) | Self::Input(message) => f.write_str(message),
        }
    }
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Self {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !message.contains(&cause_text) {
                message.push_str(&format!(": {cause_text}"));
            }
            source = cause.source();
        }
        Self::Transport(message)
    }
}

/// Turns the error variants of a generated response enum into a [`Failure`].
trait IntoFailure {
    fn into_failure(self) -> Failure;
}

macro_rules! into_failure {
    ($($ty:ident { $($variant:ident = $status:literal),* $(,)? })*) => {$(
        impl IntoFailure for $ty {
            fn into_failure(self) -> Failure {
                match self {
                    $( $ty::$variant(error) => Failure::Api($status, Box::new(error)), )*
                    #[allow(unreachable_patterns)]
                    _ => Failure::Transport("unexpected success variant".into()),
                }
            }
        }
    )*};
}

into_failure! {
    ListTopicResponse { BadRequest = 400, Unauthorized = 401, Forbidden = 403, NotFound = 404, MethodNotAllowed = 405, Conflict = 409, InternalServerError = 500 }
    CreateTopicResponse { BadRequest = 400, Unauthorized = 401, Forbidden = 403, MethodNotAllowed = 405, Conflict = 409, InternalServerError = 500 }
    DeleteTopicResponse { BadRequest = 400, Unauthorized = 401, Forbidden = 403, NotFound = 404, MethodNotAllowed = 405, Conflict = 409, InternalServerError = 500 }
    ListEventResponse { BadRequest = 400, Unauthorized = 401, Forbidden = 403, NotFound = 404, MethodNotAllowed = 405, Conflict = 409, InternalServerError = 500 }
    CreateEventResponse { BadRequest = 400, Unauthorized = 401, Forbidden = 403, NotFound = 404, MethodNotAllowed = 405, Conflict = 409, InternalServerError = 500 }
    CreateHubResponse { BadRequest = 400, Unauthorized = 401, Forbidden = 403, NotFound = 404, MethodNotAllowed = 405, Conflict = 409, InternalServerError = 500 }
    DeleteHubResponse { BadRequest = 400, Unauthorized = 401, Forbidden = 403, NotFound = 404, MethodNotAllowed = 405, Conflict = 409, InternalServerError = 500 }
}

/// `http://host:port` → `http://host:port/tmf-api/event/v4`; a URL with a path is kept.
fn base_url(url: &str) -> String {
    let url = url.trim_end_matches('/');
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    if after_scheme.contains('/') {
        url.to_owned()
    } else {
        format!("{url}{BASE_PATH}")
    }
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| Failure::Input(format!("could not print the result: {error}")))?;
    println!("{text}");
    Ok(())
}

fn counts(total: Option<i64>, result: Option<i64>, partial: bool) {
    let show = |n: Option<i64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
    eprintln!(
        "{} of {}{}",
        show(result),
        show(total),
        if partial {
            " (206 Partial Content: use --offset/--limit for more)"
        } else {
            ""
        }
    );
}

fn read_input(file: Option<&std::path::Path>) -> Result<Value, Failure> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path).map_err(|error| {
            Failure::Input(format!("could not read {}: {error}", path.display()))
        })?,
        None => {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("reading the event (JSON) from stdin; end with Ctrl-D");
            }
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .map_err(|error| Failure::Input(format!("could not read stdin: {error}")))?;
            text
        }
    };
    serde_json::from_str(&text)
        .map_err(|error| Failure::Input(format!("the event is not JSON: {error}")))
}

/// The event to publish as the `n`-th of `count`.
fn event_number(template: &Value, n: u64, count: u64) -> Result<EventCreate, Failure> {
    let mut value = template.clone();
    let Some(map) = value.as_object_mut() else {
        return Err(Failure::Input("the event must be a JSON object".into()));
    };
    let base = match map.get("eventId").and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            format!("cli-{nanos}")
        }
    };
    let event_id = if count > 1 {
        format!("{base}-{n}")
    } else {
        base
    };
    map.insert("eventId".into(), Value::String(event_id));
    serde_json::from_value(value).map_err(|error| {
        Failure::Input(format!(
            "the event is not a valid Event_Create ({error}); it needs at least \"@type\", \"eventId\" and \"event\""
        ))
    })
}

/// The operator API of the hub `--url` names.
fn operator(url: &str, token: Option<&str>) -> Result<operator::Operator, Failure> {
    operator::Operator::new(url, token.filter(|t| !t.is_empty()))
}

/// Runs the command; the exit code on success (`check` may end 1 with a report).
async fn run(cli: Cli) -> Result<u8, Failure> {
    let mut client = Client::new(base_url(&cli.url));
    if let Some(token) = cli.token.as_deref().filter(|t| !t.is_empty()) {
        client = client.with_bearer_token(token).map_err(|_| {
            Failure::Input("--token must be printable ASCII without line breaks".into())
        })?;
    }
    match cli.command {
        Command::Topics => match client.list_topic(&ListTopicQuery::default()).await? {
            ListTopicResponse::Ok {
                body,
                x_total_count,
                x_result_count,
            } => {
                print_json(&body)?;
                counts(x_total_count, x_result_count, false);
            }
            ListTopicResponse::PartialContent {
                body,
                x_total_count,
                x_result_count,
            } => {
                print_json(&body)?;
                counts(x_total_count, x_result_count, true);
            }
            other => return Err(other.into_failure()),
        },
        Command::Topic {
            action: TopicAction::Create { name },
        } => {
            let body = TopicCreate {
                content_query: None,
                header_query: None,
                name,
                at_base_type: None,
                at_schema_location: None,
                at_type: Some("Topic".into()),
                additional_properties: Default::default(),
            };
            match client.create_topic(&body).await? {
                CreateTopicResponse::Created { body, location } => {
                    print_json(&body)?;
                    if let Some(location) = location {
                        eprintln!("created: {location}");
                    }
                }
                other => return Err(other.into_failure()),
            }
        }
        Command::Topic {
            action: TopicAction::Delete { id },
        } => match client
            .delete_topic(&paths::segment(id.clone(), "the topic id")?)
            .await?
        {
            DeleteTopicResponse::NoContent => eprintln!("deleted topic {id}"),
            other => return Err(other.into_failure()),
        },
        Command::Events {
            topic,
            fields,
            filters,
            offset,
            limit,
        } => {
            let filters = filters
                .iter()
                .map(|filter| {
                    filter
                        .split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .ok_or_else(|| {
                            Failure::Input(format!("--filter {filter:?} is not NAME=VALUE"))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let query = ListEventQuery {
                fields,
                offset,
                limit,
                filters,
                ..ListEventQuery::default()
            };
            match client
                .list_event(&paths::segment(topic, "the topic id")?, &query)
                .await?
            {
                ListEventResponse::Ok {
                    body,
                    x_total_count,
                    x_result_count,
                } => {
                    print_json(&body)?;
                    counts(x_total_count, x_result_count, false);
                }
                ListEventResponse::PartialContent {
                    body,
                    x_total_count,
                    x_result_count,
                } => {
                    print_json(&body)?;
                    counts(x_total_count, x_result_count, true);
                }
                other => return Err(other.into_failure()),
            }
        }
        Command::Publish {
            topic,
            file,
            count,
            ndjson,
            concurrency,
        } => {
            publish::publish(
                &client,
                publish::PublishArgs {
                    topic: paths::segment(topic, "the topic id")?,
                    file,
                    ndjson,
                    count,
                    concurrency,
                },
            )
            .await?;
        }
        Command::Hubs { json } => operator(&cli.url, cli.token.as_deref())?.hubs(json).await?,
        Command::Resume { id } => {
            operator(&cli.url, cli.token.as_deref())?
                .resume(&paths::segment(id, "the hub id")?)
                .await?;
        }
        Command::Replay {
            id,
            from,
            from_time,
        } => {
            operator(&cli.url, cli.token.as_deref())?
                .replay(
                    &paths::segment(id, "the hub id")?,
                    from,
                    from_time.as_deref(),
                )
                .await?;
        }
        Command::DeadLetters { id, json } => {
            operator(&cli.url, cli.token.as_deref())?
                .dead_letters(&paths::segment(id, "the hub id")?, json)
                .await?;
        }
        Command::Metrics { json } => {
            operator(&cli.url, cli.token.as_deref())?
                .metrics(json)
                .await?;
        }
        Command::Subscribe {
            topic,
            callback,
            query,
        } => {
            let body = HubCreate {
                callback: tmf688_api::support::Uri::parse(&callback)
                    .map_err(|error| Failure::Input(error.to_string()))?,
                query,
                at_base_type: None,
                at_schema_location: None,
                at_type: None,
                additional_properties: Default::default(),
            };
            match client
                .create_hub(&paths::segment(topic, "the topic id")?, &body)
                .await?
            {
                CreateHubResponse::Created { body, location } => {
                    print_json(&body)?;
                    if let Some(location) = location {
                        eprintln!("registered: {location}");
                    }
                }
                other => return Err(other.into_failure()),
            }
        }
        Command::Unsubscribe { topic, id } => match client
            .delete_hub(
                &paths::segment(topic.clone(), "the topic id")?,
                &paths::segment(id.clone(), "the hub id")?,
            )
            .await?
        {
            DeleteHubResponse::NoContent => eprintln!("deregistered hub {id} of topic {topic}"),
            other => return Err(other.into_failure()),
        },
        Command::Listen {
            topic,
            bind,
            callback_host,
            query,
            count,
        } => {
            listen::listen(
                &client,
                listen::ListenArgs {
                    topic: paths::segment(topic, "the topic id")?,
                    bind,
                    callback_host,
                    query,
                    count,
                },
            )
            .await?;
        }
        Command::Check {
            json,
            topic,
            bind,
            callback_host,
            events,
            timeout,
        } => {
            let topic = topic.map(|t| paths::segment(t, "--topic")).transpose()?;
            return check::check(check::CheckArgs {
                base: base_url(&cli.url),
                token: cli.token.filter(|t| !t.is_empty()),
                json,
                topic,
                bind,
                callback_host,
                events: usize::from(events),
                timeout: std::time::Duration::from_secs(timeout),
            })
            .await;
        }
    }
    Ok(0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let url = base_url(&cli.url);
    match run(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            match &failure {
                Failure::Transport(_) => eprintln!("error: {url}: {failure}"),
                _ => eprintln!("error: {failure}"),
            }
            ExitCode::from(failure.exit_code())
        }
    }
}
