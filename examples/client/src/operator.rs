//! The operator commands, over the hub's operator API (`/admin`, `/metrics`; they need
//! the admin role once the hub authenticates callers): `hubs` (a status table, halted
//! and retrying hubs first), `resume`, `replay --from K | --from-time T`,
//! `dead-letters ID`, `metrics`. Listings print a table, or JSON with `--json`.
//! A refusal is shown as the server's TMF `Error` (status, reason, message).

use reqwest::Method;
use serde_json::Value;
use tmf688_api::models;
use tmf688_api::support::encode_path_segment;

use crate::Failure;

/// The operator API of the hub at `url` (its scheme and authority; a base path given
/// with `--url` is dropped: `/admin` and `/metrics` are at the root).
#[derive(Debug)]
pub struct Operator {
    root: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Operator {
    pub fn new(url: &str, token: Option<&str>) -> Result<Self, Failure> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|error| Failure::Input(format!("--url {url:?} is not a URL: {error}")))?;
        let root = parsed.origin().ascii_serialization();
        if root == "null" {
            return Err(Failure::Input(format!("--url {url:?} has no host")));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| Failure::Transport(error.to_string()))?;
        Ok(Self {
            root,
            http,
            token: token.map(str::to_owned),
        })
    }

    /// Sends a request; the body of a 2xx answer, else the server's error.
    async fn call(&self, method: Method, path: &str) -> Result<(String, String), Failure> {
        let mut request = self.http.request(method, format!("{}{path}", self.root));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|error| Failure::Transport(format!("{path}: {error}")))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response
            .text()
            .await
            .map_err(|error| Failure::Transport(format!("{path}: {error}")))?;
        if status.is_success() {
            return Ok((content_type, text));
        }
        Err(match serde_json::from_str::<models::Error>(&text) {
            Ok(error) => Failure::Api(status.as_u16(), Box::new(error)),
            Err(_) => Failure::Transport(format!(
                "{path}: the server answered {status} without a TMF Error: {}",
                text.chars().take(200).collect::<String>()
            )),
        })
    }

    async fn json(&self, method: Method, path: &str) -> Result<Value, Failure> {
        let (_, text) = self.call(method, path).await?;
        if text.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .map_err(|error| Failure::Transport(format!("{path}: the answer is not JSON: {error}")))
    }

    /// `hubs`: every hub's delivery status.
    pub async fn hubs(&self, json: bool) -> Result<(), Failure> {
        let mut hubs = self.json(Method::GET, "/admin/hubs").await?;
        let list = hubs
            .as_array_mut()
            .ok_or_else(|| Failure::Transport("/admin/hubs did not answer a JSON array".into()))?;
        // Halted first, then retrying, each by lag (largest first): what needs an
        // operator comes first, as on the console.
        list.sort_by(|a, b| {
            let key = |hub: &Value| {
                let rank = match hub["state"].as_str() {
                    Some("halted") => 0,
                    Some("retrying") => 1,
                    _ => 2,
                };
                (rank, std::cmp::Reverse(hub["lag"].as_u64().unwrap_or(0)))
            };
            key(a).cmp(&key(b))
        });
        if json {
            return crate::print_json(&hubs);
        }
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|hub| {
                let text = |key: &str| match &hub[key] {
                    Value::String(text) => text.clone(),
                    Value::Null => "-".into(),
                    other => other.to_string(),
                };
                let last = match (hub.get("lastStatus"), hub.get("lastError")) {
                    (_, Some(Value::String(error))) => shorten(error, 50),
                    (Some(status), _) => status.to_string(),
                    _ => "-".into(),
                };
                vec![
                    text("state"),
                    text("hubId"),
                    text("topicId"),
                    text("owner"),
                    callback_host(&text("callback")),
                    text("lag"),
                    format!("{}/{}", text("cursor"), text("head")),
                    text("attempts"),
                    last,
                ]
            })
            .collect();
        print_table(
            &[
                "STATE",
                "HUB",
                "TOPIC",
                "OWNER",
                "CALLBACK",
                "LAG",
                "CURSOR/HEAD",
                "ATTEMPTS",
                "LAST",
            ],
            &rows,
        );
        let count = |state: &str| list.iter().filter(|h| h["state"] == state).count();
        eprintln!(
            "{} hubs: {} halted, {} retrying",
            list.len(),
            count("halted"),
            count("retrying")
        );
        Ok(())
    }

    /// `resume ID`.
    pub async fn resume(&self, id: &str) -> Result<(), Failure> {
        let path = format!("/admin/hubs/{}/resume", encode_path_segment(id));
        self.json(Method::POST, &path).await?;
        eprintln!("resumed hub {id}: delivery continues from its cursor");
        Ok(())
    }

    /// `replay ID --from K` / `--from-time T`.
    pub async fn replay(
        &self,
        id: &str,
        from: Option<u64>,
        from_time: Option<&str>,
    ) -> Result<(), Failure> {
        let query = match (from, from_time) {
            (Some(from), None) => format!("from={from}"),
            (None, Some(time)) => format!("fromTime={}", url_encode(time)),
            _ => {
                return Err(Failure::Input(
                    "give exactly one of --from K and --from-time T".into(),
                ));
            }
        };
        let path = format!("/admin/hubs/{}/replay?{query}", encode_path_segment(id));
        let answer = self.json(Method::POST, &path).await?;
        eprintln!(
            "hub {id} replays from sequence {}",
            answer["from"]
                .as_u64()
                .map_or_else(|| "?".into(), |s| s.to_string())
        );
        Ok(())
    }

    /// `dead-letters ID`: what the hub gave up on (`GET /admin/hubs/{id}/dead-letters`).
    pub async fn dead_letters(&self, id: &str, json: bool) -> Result<(), Failure> {
        let path = format!("/admin/hubs/{}/dead-letters", encode_path_segment(id));
        let answer = self.json(Method::GET, &path).await?;
        if json {
            return crate::print_json(&answer);
        }
        // The listing is an array of objects (or an object holding one): one row each,
        // the columns the first entry has.
        let list = match &answer {
            Value::Array(list) => list.clone(),
            Value::Object(map) => map
                .values()
                .find_map(|value| value.as_array().cloned())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        if list.is_empty() {
            eprintln!("hub {id} has no dead letters");
            return Ok(());
        }
        let columns: Vec<String> = list[0]
            .as_object()
            .map(|map| map.keys().cloned().collect())
            .unwrap_or_default();
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|entry| {
                columns
                    .iter()
                    .map(|column| match &entry[column] {
                        Value::String(text) => shorten(text, 60),
                        Value::Null => "-".into(),
                        other => shorten(&other.to_string(), 60),
                    })
                    .collect()
            })
            .collect();
        let header: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        print_table(&header, &rows);
        Ok(())
    }

    /// `metrics`: the Prometheus text of `/metrics`, or with `--json` the engine's
    /// counters (`/admin/delivery/metrics`).
    pub async fn metrics(&self, json: bool) -> Result<(), Failure> {
        if json {
            let counters = self.json(Method::GET, "/admin/delivery/metrics").await?;
            return crate::print_json(&counters);
        }
        let (_, text) = self.call(Method::GET, "/metrics").await?;
        print!("{text}");
        Ok(())
    }
}

/// `host:port` of a callback URL.
fn callback_host(callback: &str) -> String {
    match reqwest::Url::parse(callback) {
        Ok(url) => match (url.host_str(), url.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            _ => shorten(callback, 40),
        },
        Err(_) => shorten(callback, 40),
    }
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A query value, percent-encoded (`+` and `:` in a time must arrive as themselves).
fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Columns padded to their widest cell (in characters), two spaces apart.
fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (n, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if n + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(width - cell.chars().count() + 2));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_api_is_at_the_root_of_the_url() {
        for (url, root) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            (
                "http://127.0.0.1:8080/psi-api/event/v2",
                "http://127.0.0.1:8080",
            ),
            (
                "https://hub.example/tmf-api/event/v4/",
                "https://hub.example",
            ),
        ] {
            assert_eq!(Operator::new(url, None).unwrap().root, root);
        }
        assert!(Operator::new("not a url", None).is_err());
    }

    #[test]
    fn times_are_encoded_for_the_query() {
        assert_eq!(
            url_encode("2024-05-01T00:00:00+02:00"),
            "2024-05-01T00%3A00%3A00%2B02%3A00"
        );
    }
}
