//! Bundling: references into other files become local references.
//!
//! A referenced node from another file is copied into the main document's
//! `components` (under its own name) and the reference is rewritten to point at the
//! copy; the copy's own references are treated the same way, relative to its file.
//! This is how a profile's payload schemas (`#/schemas/ProductOrder`) and the document
//! schemas they use (`tmf688.yaml#/components/schemas/RelatedParty`) meet in one
//! document. A reference to a file that does not exist is not fatal: the node becomes
//! any-JSON and a warning says so (PSI documents point at sibling files that are not
//! published with them).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::{read_value, swagger2};
use crate::error::{Error, Location, Result, escape_pointer, unescape_pointer};

/// Component sections a copied node may land in; anything else is a schema.
const SECTIONS: &[&str] = &[
    "parameters",
    "responses",
    "requestBodies",
    "headers",
    "examples",
];

/// Copies externally referenced nodes into the main document.
#[derive(Debug)]
pub struct Bundler {
    main: PathBuf,
    main_display: PathBuf,
    document: Value,
    files: HashMap<PathBuf, Value>,
    imported: BTreeMap<(PathBuf, String), String>,
    /// Every other file read so far, in reading order (for a build script's
    /// `rerun-if-changed`).
    read: Vec<PathBuf>,
    warnings: Vec<String>,
}

impl Bundler {
    /// Starts with the main document.
    pub fn new(file: &Path, document: Value) -> Result<Self> {
        Ok(Self {
            main: canonical(file),
            main_display: file.to_owned(),
            document,
            files: HashMap::new(),
            imported: BTreeMap::new(),
            read: Vec::new(),
            warnings: Vec::new(),
        })
    }

    /// The main document (as bundled so far).
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Whether `file` is the main document.
    pub fn is_main(&self, file: &Path) -> bool {
        canonical(file) == self.main
    }

    /// Imports the node at `pointer` in `file` as `components/<section>/<name>` of the main
    /// document and returns the local reference to it. `from` is where the reference is.
    pub fn import(
        &mut self,
        file: &Path,
        pointer: &str,
        from: &Location,
    ) -> Result<Option<String>> {
        let file = canonical(file);
        if file == self.main {
            return Ok(Some(format!("#{pointer}")));
        }
        let key = (file.clone(), pointer.to_owned());
        if let Some(local) = self.imported.get(&key) {
            return Ok(Some(local.clone()));
        }
        if !file.exists() {
            self.warnings.push(format!(
                "{from}: $ref into {} which does not exist; generated as any JSON",
                file.display()
            ));
            return Ok(None);
        }
        if !self.files.contains_key(&file) {
            self.read.push(file.clone());
            let mut value = read_value(&file)?;
            if swagger2::is_swagger2(&value) {
                value = swagger2::convert(&file, value)?;
            }
            self.files.insert(file.clone(), value);
        }
        let node =
            self.files[&file]
                .pointer(pointer)
                .cloned()
                .ok_or_else(|| Error::DanglingRef {
                    location: from.clone(),
                    reference: format!("{}#{pointer}", file.display()),
                    why: "no such node in that file".into(),
                })?;

        let segments: Vec<String> = pointer.split('/').skip(1).map(unescape_pointer).collect();
        let name = segments
            .last()
            .cloned()
            .unwrap_or_else(|| "Imported".into());
        let section = match segments.len() {
            n if n >= 2 && SECTIONS.contains(&segments[n - 2].as_str()) => segments[n - 2].clone(),
            _ => "schemas".to_owned(),
        };
        let name = self.free_name(&section, &name);
        let local = format!("#/components/{section}/{}", escape_pointer(&name));
        self.imported.insert(key, local.clone());

        let mut node = node;
        let location = Location::new(&file, pointer);
        self.rewrite(&mut node, &file, &location)?;
        self.components(&section).insert(name, node);
        Ok(Some(local))
    }

    /// Adds schemas under fixed names (a profile's payload schemas); the names must be
    /// free in the document. `pointer_prefix` is where they live in `file` (e.g. `/schemas`).
    pub fn insert_schemas(
        &mut self,
        schemas: &Map<String, Value>,
        file: &Path,
        pointer_prefix: &str,
    ) -> Result<()> {
        // Reserve every name first so that the schemas can refer to each other.
        for name in schemas.keys() {
            let pointer = format!("{pointer_prefix}/{}", escape_pointer(name));
            if self.components("schemas").contains_key(name) {
                return Err(Error::invalid(
                    file,
                    pointer,
                    format!("schema {name:?} is also defined by the document; rename one of them"),
                ));
            }
            self.imported.insert(
                (canonical(file), pointer),
                format!("#/components/schemas/{}", escape_pointer(name)),
            );
        }
        for (name, node) in schemas {
            let location =
                Location::new(file, format!("{pointer_prefix}/{}", escape_pointer(name)));
            let mut node = node.clone();
            self.rewrite(&mut node, file, &location)?;
            self.components("schemas").insert(name.clone(), node);
        }
        Ok(())
    }

    /// Rewrites the main document's own external references and returns it, the
    /// warnings, and the files other than the main document that references led to
    /// (canonical paths, in reading order; a missing file is not among them).
    pub fn finish(mut self) -> Result<(Value, Vec<String>, Vec<PathBuf>)> {
        // Rewrite a copy: imports made meanwhile land in `self.document`, whose names
        // are then all taken, so nothing collides when the two are merged.
        let mut document = self.document.clone();
        let main = self.main.clone();
        let location = Location::new(&self.main_display, "");
        self.rewrite(&mut document, &main, &location)?;
        if let (Some(Value::Object(all)), Some(root)) =
            (self.document.get("components"), document.as_object_mut())
        {
            let components = root.entry("components").or_insert_with(|| json!({}));
            if let Value::Object(components) = components {
                for (section, nodes) in all {
                    let target = components
                        .entry(section.clone())
                        .or_insert_with(|| json!({}));
                    if let (Value::Object(target), Value::Object(nodes)) = (target, nodes) {
                        for (name, node) in nodes {
                            target.entry(name.clone()).or_insert_with(|| node.clone());
                        }
                    }
                }
            }
        }
        Ok((document, self.warnings, self.read))
    }

    fn components(&mut self, section: &str) -> &mut Map<String, Value> {
        if !self.document.is_object() {
            self.document = json!({});
        }
        let root = self.document.as_object_mut().expect("made an object above");
        let components = root.entry("components").or_insert_with(|| json!({}));
        if !components.is_object() {
            *components = json!({});
        }
        let section = components
            .as_object_mut()
            .expect("made an object above")
            .entry(section.to_owned())
            .or_insert_with(|| json!({}));
        if !section.is_object() {
            *section = json!({});
        }
        section.as_object_mut().expect("made an object above")
    }

    fn free_name(&mut self, section: &str, wanted: &str) -> String {
        let taken = |name: &str, this: &mut Self| this.components(section).contains_key(name);
        if !taken(wanted, self) {
            return wanted.to_owned();
        }
        (2..)
            .map(|n| format!("{wanted}{n}"))
            .find(|name| !taken(name, self))
            .expect("an unbounded range always finds a free name")
    }

    /// Rewrites every `$ref` in `node`, which lives in `file`.
    fn rewrite(&mut self, node: &mut Value, file: &Path, at: &Location) -> Result<()> {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let reference = reference.clone();
                    let (target_file, pointer) =
                        reference.split_once('#').unwrap_or((&reference, ""));
                    let target = if target_file.is_empty() {
                        file.to_owned()
                    } else {
                        file.parent().unwrap_or(Path::new(".")).join(target_file)
                    };
                    if target_file.is_empty() && canonical(file) == self.main {
                        return Ok(());
                    }
                    match self.import(&target, pointer, at)? {
                        Some(local) => {
                            map.insert("$ref".into(), Value::String(local));
                        }
                        None => {
                            map.clear();
                            map.insert(
                                "description".into(),
                                Value::String(format!(
                                    "Unresolved external reference {reference}: any JSON."
                                )),
                            );
                        }
                    }
                    return Ok(());
                }
                for (key, value) in map.iter_mut() {
                    let at =
                        Location::new(&at.file, format!("{}/{}", at.pointer, escape_pointer(key)));
                    self.rewrite(value, file, &at)?;
                }
                Ok(())
            }
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    let at = Location::new(&at.file, format!("{}/{index}", at.pointer));
                    self.rewrite(item, file, &at)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}
