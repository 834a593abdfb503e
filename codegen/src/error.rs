//! The generator's error type: every variant names where in which input it happened.

use std::fmt;
use std::path::PathBuf;

/// A place in an input document: the file, and a JSON pointer (RFC 6901) into it,
/// plus a line when the parser knows one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The input file.
    pub file: PathBuf,
    /// JSON pointer of the offending node (`""` is the whole document).
    pub pointer: String,
    /// 1-based line, when known (YAML/JSON syntax errors).
    pub line: Option<usize>,
}

impl Location {
    /// A location at `pointer` in `file`.
    pub fn new(file: impl Into<PathBuf>, pointer: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            pointer: pointer.into(),
            line: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, " at {pointer}")
    }
}

/// Everything that can go wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file could not be read or an output file written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not well-formed YAML or JSON.
    #[error("{location}: not valid YAML/JSON: {message}")]
    Syntax {
        /// Where.
        location: Location,
        /// What the parser said.
        message: String,
    },
    /// The document parsed but does not have the expected shape.
    #[error("{location}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What was expected and what was found.
        message: String,
    },
    /// A `$ref` names nothing.
    #[error("{location}: dangling $ref {reference:?}: {why}")]
    DanglingRef {
        /// Where the `$ref` is.
        location: Location,
        /// Its target.
        reference: String,
        /// Why it cannot be resolved.
        why: String,
    },
    /// `$ref`s that only refer to each other and never reach a schema.
    #[error("{location}: $ref loop with no schema in it: {}", chain.join(" -> "))]
    RefLoop {
        /// Where the loop was entered.
        location: Location,
        /// The references in the loop, in order.
        chain: Vec<String>,
    },
    /// The generated Rust did not parse: a generator bug, never an input problem.
    #[error("internal error: generated {file} does not parse: {message}")]
    Internal {
        /// The generated file.
        file: String,
        /// The parser's message.
        message: String,
    },
}

impl Error {
    /// An [`Error::Invalid`] at `pointer` in `file`.
    pub fn invalid(
        file: impl Into<PathBuf>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            location: Location::new(file, pointer),
            message: message.into(),
        }
    }
}

/// The generator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Escapes one JSON-pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Reverses [`escape_pointer`].
pub fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}
