//! Swagger 2.0 references left in OpenAPI 3.0 documents (`$ref: '#/definitions/X'`, a
//! leftover of a conversion that published documents contain): a tolerated defect.
//! Each becomes `#/components/schemas/X` when the document defines that schema, else
//! any JSON; either way a warning names the file and the JSON pointer of the reference.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Location, escape_pointer, unescape_pointer};

const LEGACY_PREFIX: &str = "#/definitions/";

/// Rewrites every `#/definitions/…` reference of the bundled `document` (read from
/// `file`) and returns the warnings.
pub fn rewrite(file: &Path, document: &mut Value) -> Vec<String> {
    let schemas: Vec<String> = match document.pointer("/components/schemas") {
        Some(Value::Object(schemas)) => schemas.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let mut warnings = Vec::new();
    walk(document, &mut String::new(), &schemas, file, &mut warnings);
    warnings
}

fn walk(
    node: &mut Value,
    pointer: &mut String,
    schemas: &[String],
    file: &Path,
    warnings: &mut Vec<String>,
) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref")
                && let Some(name) = reference.strip_prefix(LEGACY_PREFIX)
            {
                let (reference, name) = (reference.clone(), unescape_pointer(name));
                let location = Location::new(file, pointer.clone());
                warnings.push(resolve(map, &reference, &name, schemas, &location));
                return;
            }
            for (key, value) in map.iter_mut() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape_pointer(key));
                walk(value, pointer, schemas, file, warnings);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{index}"));
                walk(item, pointer, schemas, file, warnings);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

/// Points the reference `map` holds at the component, or makes `map` any JSON; the
/// warning saying which.
fn resolve(
    map: &mut Map<String, Value>,
    reference: &str,
    name: &str,
    schemas: &[String],
    location: &Location,
) -> String {
    let what =
        format!("{location}: $ref {reference:?} is Swagger 2.0's form in an OpenAPI 3.0 document");
    if schemas.iter().any(|s| s == name) {
        let local = format!("#/components/schemas/{}", escape_pointer(name));
        map.insert("$ref".into(), Value::String(local.clone()));
        format!("{what}; resolved to {local}")
    } else {
        map.clear();
        map.insert(
            "description".into(),
            Value::String(format!("Unresolved reference {reference}: any JSON.")),
        );
        format!("{what}, and #/components/schemas has no {name:?}; generated as any JSON")
    }
}
