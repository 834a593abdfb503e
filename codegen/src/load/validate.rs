//! Checks on the bundled document that `openapiv3` would accept silently or report
//! without a location: schema `type`s outside the OpenAPI 3.0 set.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result, escape_pointer};

const TYPES: &[&str] = &["string", "number", "integer", "boolean", "array", "object"];

/// Every schema under `components/schemas` (recursively) has a known `type`.
pub fn schemas(file: &Path, document: &Value) -> Result<()> {
    if let Some(Value::Object(schemas)) = document.pointer("/components/schemas") {
        for (name, schema) in schemas {
            check(
                file,
                &format!("/components/schemas/{}", escape_pointer(name)),
                schema,
            )?;
        }
    }
    Ok(())
}

fn check(file: &Path, pointer: &str, schema: &Value) -> Result<()> {
    let Value::Object(map) = schema else {
        return Ok(());
    };
    if let Some(Value::String(ty)) = map.get("type") {
        if !TYPES.contains(&ty.as_str()) {
            return Err(Error::invalid(
                file,
                format!("{pointer}/type"),
                format!(
                    "unknown schema type {ty:?}: expected one of {}",
                    TYPES.join(", ")
                ),
            ));
        }
    }
    for (key, value) in map {
        let here = format!("{pointer}/{}", escape_pointer(key));
        match key.as_str() {
            "properties" => {
                if let Value::Object(properties) = value {
                    for (name, property) in properties {
                        check(file, &format!("{here}/{}", escape_pointer(name)), property)?;
                    }
                }
            }
            "items" | "additionalProperties" | "not" => check(file, &here, value)?,
            "allOf" | "oneOf" | "anyOf" => {
                if let Value::Array(members) = value {
                    for (index, member) in members.iter().enumerate() {
                        check(file, &format!("{here}/{index}"), member)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}
