//! The PSI topic profile: a YAML file beside the OpenAPI document (format in
//! `spec/README.md`). It names the base paths to serve, the roles and which operations
//! each may call, and the topics with their payload schemas, which are bundled into the
//! document here so that they are generated like any other schema.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::bundle::Bundler;
use super::{path_to_pointer, read_value};
use crate::error::{Error, Result};

/// A loaded profile. Names in it are checked against the document when lowering.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Where the profile was read from (for error messages).
    #[serde(skip)]
    pub file: PathBuf,
    /// Short name (`psi`).
    pub profile: String,
    /// Human title.
    #[serde(default)]
    pub title: Option<String>,
    /// The document this profiles, relative to the profile.
    #[serde(default)]
    pub document: Option<String>,
    /// Base paths the server mounts.
    #[serde(rename = "basePaths")]
    pub base_paths: Vec<BasePath>,
    /// Role name → description, in file order.
    pub roles: indexmap::IndexMap<String, String>,
    /// The role matrix.
    pub capabilities: Vec<Capability>,
    /// Topics that always exist.
    pub topics: Vec<Topic>,
    /// Payload schemas (bundled into the document).
    #[serde(default)]
    pub schemas: serde_json::Map<String, Value>,
    /// Schema name → the document's own `required` list, for every schema that a
    /// base path's `mandatory` relaxes (filled by [`relax`]).
    #[serde(skip)]
    pub document_mandatory: indexmap::IndexMap<String, Vec<String>>,
}

/// One base path and the operations served under it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasePath {
    /// E.g. `/psi-api/event/v2`.
    pub path: String,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// `all`, or a list of operation ids.
    pub operations: Operations,
    /// Schema name → the attributes mandatory in a request body of that schema on
    /// this base path, where they differ from the document's `required` (PSID688's
    /// `Event_Create` declares none, the TMF guide three).
    #[serde(default)]
    pub mandatory: indexmap::IndexMap<String, Vec<String>>,
}

/// Which operations a base path serves.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Operations {
    /// The word `all`.
    All(AllWord),
    /// Listed operation ids.
    Listed(Vec<String>),
}

/// The literal `all`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllWord {
    /// Every operation of the document.
    All,
}

/// A row of the role matrix: which roles may call which operations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    /// E.g. `Register Event Callback`.
    pub name: String,
    /// The PSI requirement id it traces to.
    #[serde(default)]
    pub requirement: Option<String>,
    /// Operation ids.
    pub operations: Vec<String>,
    /// Role names.
    pub roles: Vec<String>,
}

/// A topic that always exists.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Name (and id).
    pub name: String,
    /// What it carries.
    #[serde(default)]
    pub description: Option<String>,
    /// The schema of the `event` payload.
    pub payload: String,
    /// Event types seen on it.
    #[serde(default, rename = "eventTypes")]
    pub event_types: Vec<String>,
}

/// Reads the profile at `path` and bundles its schemas into the document.
pub fn load(path: &Path, spec: &Path, bundler: &mut Bundler) -> Result<Profile> {
    let value = read_value(path)?;
    let mut profile: Profile = serde_path_to_error::deserialize(&value).map_err(|e| {
        Error::invalid(
            path,
            path_to_pointer(e.path()),
            format!("not a valid profile: {}", e.inner()),
        )
    })?;
    profile.file = path.to_owned();
    if let Some(document) = &profile.document {
        let named = path.parent().unwrap_or(Path::new(".")).join(document);
        if !bundler.is_main(&named) {
            return Err(Error::invalid(
                path,
                "/document",
                format!(
                    "the profile is written for {} but the spec given is {}",
                    named.display(),
                    spec.display()
                ),
            ));
        }
    }
    bundler.insert_schemas(&profile.schemas, path, "/schemas")?;
    Ok(profile)
}

/// The document as the types are generated from it: every schema named under a base
/// path's `mandatory` requires only what is mandatory on *every* base path (the
/// document's `required` where a base path says nothing), so that one Rust type reads
/// the request bodies of all base paths; the generated handlers then check the rest
/// per base path. Records the document's own lists in `profile.document_mandatory`.
///
/// Errors name the profile file and the pointer of an unknown schema or attribute.
pub fn relax(profile: &mut Profile, document: &Value) -> Result<Value> {
    let mut relaxed = document.clone();
    let file = profile.file.clone();
    let mut everywhere: indexmap::IndexMap<String, Vec<String>> = indexmap::IndexMap::new();
    for (index, base) in profile.base_paths.iter().enumerate() {
        for (schema, attributes) in &base.mandatory {
            let pointer = format!(
                "/basePaths/{index}/mandatory/{}",
                crate::error::escape_pointer(schema)
            );
            let node = document
                .pointer(&format!(
                    "/components/schemas/{}",
                    crate::error::escape_pointer(schema)
                ))
                .ok_or_else(|| {
                    Error::invalid(
                        &file,
                        &pointer,
                        format!("unknown schema {schema:?}: not under components/schemas of the document"),
                    )
                })?;
            let properties = node.get("properties").and_then(Value::as_object);
            for (j, attribute) in attributes.iter().enumerate() {
                if !properties.is_some_and(|p| p.contains_key(attribute)) {
                    return Err(Error::invalid(
                        &file,
                        format!("{pointer}/{j}"),
                        format!("schema {schema:?} has no property {attribute:?}"),
                    ));
                }
            }
            let declared: Vec<String> = node
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            profile
                .document_mandatory
                .entry(schema.clone())
                .or_insert_with(|| declared.clone());
            let kept = everywhere.entry(schema.clone()).or_insert(declared);
            kept.retain(|a| attributes.contains(a));
        }
    }
    for (schema, kept) in everywhere {
        // A base path that says nothing about the schema keeps the document's list,
        // so intersecting the overrides is enough: the document's list contains `kept`.
        let node = relaxed
            .pointer_mut(&format!(
                "/components/schemas/{}",
                crate::error::escape_pointer(&schema)
            ))
            .and_then(Value::as_object_mut)
            .expect("checked above");
        if kept.is_empty() {
            node.remove("required");
        } else {
            node.insert("required".into(), Value::from(kept));
        }
    }
    Ok(relaxed)
}
