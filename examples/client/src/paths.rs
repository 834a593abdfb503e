//! Path segments: every id the client puts in a path (topic, hub, event) goes through
//! `tmf688_api::support::encode_path_segment`, which percent-encodes everything but
//! the unreserved characters. That leaves `.` and `..`, which are unreserved but are
//! dot segments: the URL parser resolves them (`/topic/../hub` → `/hub`), and their
//! encoded forms (`%2E`, `%2e%2e`) are dot segments too (WHATWG URL). No encoding can
//! carry them, so they are refused here, as is the empty id (`/topic//hub`).

use crate::Failure;

/// Whether `value` can be sent as one path segment and arrive as itself.
pub fn is_safe(value: &str) -> bool {
    !matches!(value, "" | "." | "..")
}

/// `value` if it can be a path segment, else bad input naming `what`.
pub fn segment(value: String, what: &str) -> Result<String, Failure> {
    if is_safe(&value) {
        Ok(value)
    } else {
        Err(Failure::Input(format!(
            "{what} {value:?} cannot be sent in a URL path (empty or a dot segment)"
        )))
    }
}

#[cfg(test)]
mod tests {
    //! The generated client's URL building against a loopback server that records the
    //! path it got: every id arrives as exactly one segment that decodes to itself.

    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::{OriginalUri, State};
    use http::StatusCode;
    use tmf688_api::client::Client;
    use tmf688_api::operations::RetrieveEventQuery;

    use super::{is_safe, segment};

    fn decode(segment: &str) -> Vec<u8> {
        let bytes = segment.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    #[tokio::test]
    async fn every_id_arrives_as_one_segment_that_decodes_to_itself() {
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let app = Router::new()
            .fallback(
                |State(seen): State<Arc<Mutex<Vec<String>>>>, OriginalUri(uri): OriginalUri| async move {
                    seen.lock().unwrap().push(uri.path().to_owned());
                    StatusCode::IM_A_TEAPOT
                },
            )
            .with_state(Arc::clone(&seen));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/tmf-api/event/v4", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let client = Client::new(base);

        // (id, safe: sent as is; unsafe: refused by `segment`)
        let table: &[(&str, bool)] = &[
            ("plain", true),
            ("a.b", true),
            ("...", true),
            (".hidden", true),
            ("a/b", true),
            ("../hub", true),
            ("a%2Fb", true),
            ("%", true),
            ("%2e%2e", true),
            ("a?b=c", true),
            ("a#frag", true),
            ("a b", true),
            ("a+b", true),
            ("ünï", true),
            ("日本", true),
            ("a\\b", true),
            ("", false),
            (".", false),
            ("..", false),
        ];
        for &(id, safe) in table {
            assert_eq!(is_safe(id), safe, "{id:?}");
            if !safe {
                assert!(segment(id.to_owned(), "the id").is_err(), "{id:?}");
                continue;
            }
            // As a topic id and as an event id, in one request.
            let _ = client
                .retrieve_event(id, id, &RetrieveEventQuery::default())
                .await;
            let path = seen.lock().unwrap().pop().expect("the request arrived");
            let rest = path
                .strip_prefix("/tmf-api/event/v4/topic/")
                .unwrap_or_else(|| panic!("{id:?} left the base path: {path}"));
            let parts: Vec<&str> = rest.split('/').collect();
            assert_eq!(parts.len(), 3, "{id:?} → {path}");
            assert_eq!(parts[1], "event", "{id:?} → {path}");
            assert_eq!(decode(parts[0]), id.as_bytes(), "{id:?} → {path}");
            assert_eq!(decode(parts[2]), id.as_bytes(), "{id:?} → {path}");
        }
        server.abort();
    }
}
