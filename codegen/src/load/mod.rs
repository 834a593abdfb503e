//! Loading: files → JSON values → one bundled OpenAPI 3.0 document (+ the profile).
//!
//! Every input is read into a `serde_json::Value` first (YAML or JSON), Swagger 2.0 is
//! converted to OpenAPI 3.0 on that value ([`swagger2`]), references into other files
//! (and the profile's own schemas) are copied into the main document ([`bundle`]), and
//! only then is the result read into `openapiv3` types, with the JSON path of any
//! mismatch in the error.

pub mod bundle;
mod legacy_refs;
pub mod profile;
pub mod swagger2;
mod validate;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Location, Result};
pub use profile::Profile;

/// The inputs after loading: one self-contained OpenAPI 3.0 document and its profile.
#[derive(Debug)]
pub struct Loaded {
    /// The main document's path (for error messages).
    pub file: PathBuf,
    /// The bundled document as JSON (embedded in the generated crate).
    pub json: Value,
    /// The same, read into `openapiv3` types.
    pub openapi: openapiv3::OpenAPI,
    /// The profile, when one was given.
    pub profile: Option<Profile>,
    /// Things that are not errors but that a user should know (e.g. an external
    /// reference whose file is missing, generated as any-JSON).
    pub warnings: Vec<String>,
    /// Every file read: the spec, the profile, then each file bundled through an
    /// external `$ref` (what a build script must watch: [`crate::build`]).
    pub inputs: Vec<PathBuf>,
}

/// Reads a YAML or JSON file into a JSON value; syntax errors carry the line.
pub fn read_value(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_value(path, &text)
}

/// Parses YAML or JSON text (JSON when it starts with `{`).
pub fn parse_value(path: &Path, text: &str) -> Result<Value> {
    let syntax = |line: Option<usize>, message: String| Error::Syntax {
        location: Location {
            file: path.to_owned(),
            pointer: String::new(),
            line,
        },
        message,
    };
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| syntax(Some(e.line()), e.to_string()))
    } else {
        yaml_serde::from_str(text)
            .map_err(|e| syntax(e.location().map(|l| l.line()), e.to_string()))
    }
}

/// Loads `spec` (OpenAPI 3.0.x or Swagger 2.0, YAML or JSON) and, optionally, a profile.
pub fn load(spec: &Path, profile: Option<&Path>) -> Result<Loaded> {
    let mut document = read_value(spec)?;
    if !document.is_object() {
        return Err(Error::invalid(
            spec,
            "",
            "expected an OpenAPI document (a mapping at the top level)",
        ));
    }
    if swagger2::is_swagger2(&document) {
        document = swagger2::convert(spec, document)?;
    } else {
        match document.get("openapi").and_then(Value::as_str) {
            Some(v) if v.starts_with("3.0") => {}
            Some(v) => {
                return Err(Error::invalid(
                    spec,
                    "/openapi",
                    format!(
                        "unsupported OpenAPI version {v:?}: expected 3.0.x (or a Swagger 2.0 document)"
                    ),
                ));
            }
            None => {
                return Err(Error::invalid(
                    spec,
                    "",
                    "expected an `openapi: 3.0.x` or `swagger: \"2.0\"` field",
                ));
            }
        }
    }

    let mut bundler = bundle::Bundler::new(spec, document)?;
    let mut profile = match profile {
        Some(path) => Some(profile::load(path, spec, &mut bundler)?),
        None => None,
    };
    let (mut json, mut warnings, bundled) = bundler.finish()?;
    warnings.extend(legacy_refs::rewrite(spec, &mut json));
    let inputs = std::iter::once(spec)
        .chain(profile.as_ref().map(|p| p.file.as_path()))
        .map(Path::to_owned)
        .chain(bundled)
        .collect();
    validate::schemas(spec, &json)?;

    // The embedded document stays as written; the types come from the one whose
    // request bodies fit every base path of the profile.
    let openapi = match &mut profile {
        Some(profile) => parse_openapi(spec, &profile::relax(profile, &json)?)?,
        None => parse_openapi(spec, &json)?,
    };
    Ok(Loaded {
        file: spec.to_owned(),
        json,
        openapi,
        profile,
        warnings,
        inputs,
    })
}

/// Reads the bundled JSON into `openapiv3` types; a mismatch names its JSON pointer.
fn parse_openapi(spec: &Path, json: &Value) -> Result<openapiv3::OpenAPI> {
    serde_path_to_error::deserialize(json).map_err(|e| {
        let pointer = path_to_pointer(e.path());
        Error::invalid(
            spec,
            pointer,
            format!("not a valid OpenAPI 3.0 node: {}", e.inner()),
        )
    })
}

/// Turns serde_path_to_error's dotted path into a JSON pointer.
fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push_str(&crate::error::escape_pointer(key))
            }
            Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}
