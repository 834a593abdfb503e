//! What the hub agrees to keep: the limits and the characters every value handed to a
//! [`Store`](crate::Store) must respect, decided here — above the stores — so that
//! every store answers a request alike.
//!
//! Without this, each store decided for itself: the memory store kept anything, while
//! PostgreSQL failed (500) on a NUL character (its `text` columns refuse it) and on keys
//! over ~2.7 KB (its B-tree indexes refuse them). A value is now refused before it
//! reaches any store, with a TMF `Error`:
//!
//! * **400** for a value a request asks us to store (`eventId`, a topic `name`, a hub's
//!   or listener's `callback` and `query`, the caller's principal name as a hub's owner);
//! * **404** for an id in a path that cannot name anything (every id the hub hands out
//!   fits the rules below): it is not found, like any unknown id.
//!
//! | value | at most (bytes of UTF-8) | why that much |
//! | --- | --- | --- |
//! | ids in paths (topic, event, hub, listener) | [`ID_MAX_BYTES`] = 256 | ours are `topic-N`, `hub-N`, decimal sequences, or a topic name of at most 128 plain characters |
//! | `eventId` | [`EVENT_ID_MAX_BYTES`] = 256 | peers send UUIDs (36) or short counters (`00001`) |
//! | topic `name` | [`NAME_MAX_BYTES`] = 256 | the profile's are `order`, `inquiry`, `alarm` |
//! | `callback` | [`CALLBACK_MAX_BYTES`] = 1,024 | a PSI callback is a peer's base URL + `/psi-api/event/v2/topic/{id}/event`: ~100 |
//! | hub / listener `query` | [`QUERY_MAX_BYTES`] = 1,024 | filters such as `eventType=AlarmCreateEvent&event.perceivedSeverity=critical` |
//! | owner (principal name) | [`OWNER_MAX_BYTES`] = 256 | API key names and JWT `sub`s |
//!
//! The callback and query limits are also what PostgreSQL's hub identity index (topic
//! id, callback, query, owner) can hold: 128 + 1,024 + 1,024 + 256 bytes plus headers
//! stay under the B-tree's 2,704-byte row limit even when nothing compresses (tested
//! with random text at every limit).
//!
//! **Characters refused** in all of them: the Unicode control characters (category
//! `Cc`: U+0000–U+001F, U+007F–U+009F — NUL, tab, line breaks, escape, DEL, C1
//! controls). Everything else is allowed: names and ids may be in any script. A
//! `callback` must also be an absolute URI ([`tmf688_api::support::Uri`], RFC 3986:
//! ASCII, no spaces; the generated models check hubs' as they parse them).
//!
//! Not checked here because no store is handed them as keys: event payloads and the
//! rest of a body, kept as JSON (a `"\u0000"` escape inside a payload is valid JSON,
//! and PostgreSQL's `json` type keeps it as written), and list filters, matched in the
//! process.

use tmf688_api::support::ApiError;

/// Ids in paths: topic, event, hub and listener ids.
pub const ID_MAX_BYTES: usize = 256;
/// An event's `eventId`.
pub const EVENT_ID_MAX_BYTES: usize = 256;
/// A topic's `name`.
pub const NAME_MAX_BYTES: usize = 256;
/// A hub's or listener's `callback` URL.
pub const CALLBACK_MAX_BYTES: usize = 1024;
/// A hub's or listener's `query`.
pub const QUERY_MAX_BYTES: usize = 1024;
/// The name of the principal owning a hub or listener.
pub const OWNER_MAX_BYTES: usize = 256;

/// A kind of value and its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// How a message names it, e.g. `` `eventId` ``.
    pub what: &'static str,
    /// Its maximum length in bytes (UTF-8).
    pub max_bytes: usize,
}

/// `eventId`.
pub const EVENT_ID: Limit = Limit::new("`eventId`", EVENT_ID_MAX_BYTES);
/// A topic's `name`.
pub const TOPIC_NAME: Limit = Limit::new("`name`", NAME_MAX_BYTES);
/// A `callback`.
pub const CALLBACK: Limit = Limit::new("`callback`", CALLBACK_MAX_BYTES);
/// A hub's or listener's `query`.
pub const QUERY: Limit = Limit::new("`query`", QUERY_MAX_BYTES);
/// The caller's principal name, as the owner of what it registers.
pub const OWNER: Limit = Limit::new("the caller's principal name", OWNER_MAX_BYTES);
/// An id in a path.
pub const ID: Limit = Limit::new("an id", ID_MAX_BYTES);

/// Why a value is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Longer than the limit.
    TooLong {
        /// Its length in bytes.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// Holds a control character.
    Control {
        /// The character.
        character: char,
        /// Its byte offset.
        at: usize,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLong { bytes, max } => {
                write!(f, "is {bytes} bytes long; at most {max} are accepted")
            }
            Self::Control { character, at } => write!(
                f,
                "holds the control character U+{:04X} at byte {at}; control characters \
                 (U+0000–U+001F, U+007F–U+009F) are not accepted",
                u32::from(*character)
            ),
        }
    }
}

impl Limit {
    /// A limit of `max_bytes` for values named `what`.
    pub const fn new(what: &'static str, max_bytes: usize) -> Self {
        Self { what, max_bytes }
    }

    /// Whether `value` respects the limit and holds no control character.
    pub fn check(&self, value: &str) -> Result<(), Refusal> {
        if value.len() > self.max_bytes {
            return Err(Refusal::TooLong {
                bytes: value.len(),
                max: self.max_bytes,
            });
        }
        match value.char_indices().find(|(_, c)| c.is_control()) {
            Some((at, character)) => Err(Refusal::Control { character, at }),
            None => Ok(()),
        }
    }

    /// [`Limit::check`] for a value a request asks us to store: 400 naming it.
    pub fn field(&self, value: &str) -> Result<(), ApiError> {
        self.check(value)
            .map_err(|why| ApiError::bad_request(format!("{} {} {why}", self.what, shown(value))))
    }
}

/// An id in a path that cannot exist is not found: 404 `there is no {kind} with id …`.
pub fn path_id(kind: &str, id: &str) -> Result<(), ApiError> {
    ID.check(id)
        .map_err(|_| ApiError::not_found(format!("there is no {kind} with id {}", shown(id))))
}

/// `value` for a message: quoted and escaped, cut after 64 characters.
pub fn shown(value: &str) -> String {
    const SHOWN: usize = 64;
    match value.char_indices().nth(SHOWN) {
        None => format!("{value:?}"),
        Some((cut, _)) => format!("{:?}… ({} bytes)", &value[..cut], value.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_characters() {
        let limit = Limit {
            what: "`x`",
            max_bytes: 8,
        };
        // (value, accepted)
        let cases: &[(&str, Result<(), Refusal>)] = &[
            ("", Ok(())),
            ("12345678", Ok(())),
            ("ééééé", Err(Refusal::TooLong { bytes: 10, max: 8 })),
            ("éééé", Ok(())),
            ("123456789", Err(Refusal::TooLong { bytes: 9, max: 8 })),
            (
                "a\0b",
                Err(Refusal::Control {
                    character: '\0',
                    at: 1,
                }),
            ),
            (
                "a\tb",
                Err(Refusal::Control {
                    character: '\t',
                    at: 1,
                }),
            ),
            (
                "\n",
                Err(Refusal::Control {
                    character: '\n',
                    at: 0,
                }),
            ),
            (
                "a\u{1b}",
                Err(Refusal::Control {
                    character: '\u{1b}',
                    at: 1,
                }),
            ),
            (
                "a\u{7f}",
                Err(Refusal::Control {
                    character: '\u{7f}',
                    at: 1,
                }),
            ),
            (
                "é\u{85}",
                Err(Refusal::Control {
                    character: '\u{85}',
                    at: 2,
                }),
            ),
            (
                "a\u{9f}",
                Err(Refusal::Control {
                    character: '\u{9f}',
                    at: 1,
                }),
            ),
            // Not controls: a space, format characters, other scripts.
            ("a b", Ok(())),
            ("\u{a0}\u{200b}", Ok(())),
            ("日本", Ok(())),
        ];
        for (value, expected) in cases {
            assert_eq!(&limit.check(value), expected, "{value:?}");
        }
    }

    #[test]
    fn refusals_are_400_or_404_and_name_the_value() {
        let error = EVENT_ID.field("a\0b").unwrap_err();
        assert_eq!(error.http_status, http::StatusCode::BAD_REQUEST);
        assert!(error.message().contains("`eventId`"), "{}", error.message());
        assert!(error.message().contains("U+0000"), "{}", error.message());
        let long = "x".repeat(3000);
        let error = path_id("topic", &long).unwrap_err();
        assert_eq!(error.http_status, http::StatusCode::NOT_FOUND);
        assert!(
            error.message().contains("3000 bytes"),
            "{}",
            error.message()
        );
        assert!(error.message().len() < 200, "{}", error.message());
        assert!(path_id("topic", &"x".repeat(ID_MAX_BYTES)).is_ok());
        assert_eq!(shown("a\"b"), "\"a\\\"b\"");
    }
}
