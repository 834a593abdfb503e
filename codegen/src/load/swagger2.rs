//! Swagger 2.0 → OpenAPI 3.0, on JSON values, before anything is typed.
//!
//! TMF v4 documents are Swagger 2.0. The conversion is structural and loses nothing the
//! generator uses: `definitions` become `components/schemas` (an empty schema such as
//! TMF's `Any: {}` stays empty, i.e. any JSON), body parameters become request bodies,
//! response `schema`/`headers` get OpenAPI 3 `content`/`schema` wrappers, the string
//! form of `discriminator` becomes an object, and `x-nullable` becomes `nullable`.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result, escape_pointer};

/// Whether `document` declares `swagger: "2.0"`.
pub fn is_swagger2(document: &Value) -> bool {
    document.get("swagger").and_then(Value::as_str) == Some("2.0")
}

/// Converts a Swagger 2.0 document to OpenAPI 3.0.3.
pub fn convert(file: &Path, mut document: Value) -> Result<Value> {
    let root = document
        .as_object_mut()
        .ok_or_else(|| Error::invalid(file, "", "expected a mapping"))?;
    let consumes = media_types(root.get("consumes"));
    let produces = media_types(root.get("produces"));

    // Global parameters: body ones become request bodies, the rest stay parameters.
    let mut parameters = Map::new();
    let mut request_bodies = Map::new();
    if let Some(Value::Object(globals)) = root.remove("parameters") {
        for (name, parameter) in globals {
            if parameter.get("in").and_then(Value::as_str) == Some("body") {
                request_bodies.insert(name, body_to_request_body(&parameter, &consumes));
            } else {
                parameters.insert(name, convert_parameter(parameter));
            }
        }
    }
    let body_names: Vec<String> = request_bodies.keys().cloned().collect();

    let mut responses = Map::new();
    if let Some(Value::Object(globals)) = root.remove("responses") {
        for (name, response) in globals {
            responses.insert(name, convert_response(response, &produces));
        }
    }

    let mut schemas = match root.remove("definitions") {
        Some(Value::Object(definitions)) => definitions,
        Some(_) => {
            return Err(Error::invalid(
                file,
                "/definitions",
                "expected a mapping of schemas",
            ));
        }
        None => Map::new(),
    };
    for schema in schemas.values_mut() {
        convert_schema(schema);
    }

    let mut paths = match root.remove("paths") {
        Some(Value::Object(paths)) => paths,
        Some(_) => {
            return Err(Error::invalid(
                file,
                "/paths",
                "expected a mapping of paths",
            ));
        }
        None => Map::new(),
    };
    for (path, item) in paths.iter_mut() {
        let pointer = format!("/paths/{}", escape_pointer(path));
        let item = item
            .as_object_mut()
            .ok_or_else(|| Error::invalid(file, &pointer, "expected a path item mapping"))?;
        let shared = item.remove("parameters").unwrap_or(Value::Array(vec![]));
        for (method, operation) in item.iter_mut() {
            if let Value::Object(operation) = operation {
                convert_operation(operation, &shared, &consumes, &produces, &body_names);
            } else if !method.starts_with("x-") {
                return Err(Error::invalid(
                    file,
                    format!("{pointer}/{method}"),
                    "expected an operation mapping",
                ));
            }
        }
    }

    let base_path = root
        .remove("basePath")
        .and_then(|v| v.as_str().map(str::to_owned));
    let mut out = Map::new();
    out.insert("openapi".into(), json!("3.0.3"));
    out.insert(
        "info".into(),
        root.remove("info")
            .unwrap_or_else(|| json!({"title": "API", "version": "0"})),
    );
    if let Some(base) = base_path {
        out.insert(
            "servers".into(),
            json!([{ "url": base.trim_end_matches('/') }]),
        );
    }
    if let Some(tags) = root.remove("tags") {
        out.insert("tags".into(), tags);
    }
    out.insert("paths".into(), Value::Object(paths));
    let mut components = Map::new();
    components.insert("schemas".into(), Value::Object(schemas));
    if !parameters.is_empty() {
        components.insert("parameters".into(), Value::Object(parameters));
    }
    if !request_bodies.is_empty() {
        components.insert("requestBodies".into(), Value::Object(request_bodies));
    }
    if !responses.is_empty() {
        components.insert("responses".into(), Value::Object(responses));
    }
    out.insert("components".into(), Value::Object(components));
    for (key, value) in root.iter() {
        if key.starts_with("x-") || key == "externalDocs" {
            out.insert(key.clone(), value.clone());
        }
    }
    let mut out = Value::Object(out);
    rewrite_refs(&mut out, &body_names);
    Ok(out)
}

fn media_types(value: Option<&Value>) -> Vec<String> {
    let listed: Vec<String> = value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        vec!["application/json".to_owned()]
    } else {
        listed
    }
}

fn convert_operation(
    operation: &mut Map<String, Value>,
    shared: &Value,
    consumes: &[String],
    produces: &[String],
    body_names: &[String],
) {
    let consumes = if operation.contains_key("consumes") {
        media_types(operation.get("consumes"))
    } else {
        consumes.to_vec()
    };
    let produces = if operation.contains_key("produces") {
        media_types(operation.get("produces"))
    } else {
        produces.to_vec()
    };
    operation.remove("consumes");
    operation.remove("produces");
    operation.remove("schemes");

    // Path-level parameters apply unless the operation overrides (same name and place).
    let mut all: Vec<Value> = operation
        .remove("parameters")
        .and_then(|p| {
            if let Value::Array(a) = p {
                Some(a)
            } else {
                None
            }
        })
        .unwrap_or_default();
    if let Value::Array(shared) = shared {
        for parameter in shared {
            let key = (parameter.get("name"), parameter.get("in"));
            if !all.iter().any(|p| (p.get("name"), p.get("in")) == key) {
                all.push(parameter.clone());
            }
        }
    }

    let mut parameters = Vec::new();
    let mut form = Map::new();
    let mut form_required = Vec::new();
    for parameter in all {
        if let Some(reference) = parameter.get("$ref").and_then(Value::as_str) {
            let name = reference.rsplit('/').next().unwrap_or_default();
            if body_names.iter().any(|b| b == name) {
                operation.insert(
                    "requestBody".into(),
                    json!({ "$ref": format!("#/components/requestBodies/{name}") }),
                );
            } else {
                parameters.push(parameter);
            }
            continue;
        }
        match parameter.get("in").and_then(Value::as_str) {
            Some("body") => {
                operation.insert(
                    "requestBody".into(),
                    body_to_request_body(&parameter, &consumes),
                );
            }
            Some("formData") => {
                let name = parameter
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if parameter.get("required").and_then(Value::as_bool) == Some(true) {
                    form_required.push(Value::String(name.clone()));
                }
                form.insert(name, simple_schema(&parameter));
            }
            _ => parameters.push(convert_parameter(parameter)),
        }
    }
    if !form.is_empty() {
        let content_type = consumes
            .iter()
            .find(|c| c.contains("form"))
            .cloned()
            .unwrap_or_else(|| "application/x-www-form-urlencoded".into());
        operation.insert(
            "requestBody".into(),
            json!({ "content": { content_type: { "schema": {
                "type": "object", "properties": form, "required": form_required } } } }),
        );
    }
    if !parameters.is_empty() {
        operation.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(Value::Object(responses)) = operation.get_mut("responses") {
        for response in responses.values_mut() {
            *response = convert_response(std::mem::take(response), &produces);
        }
    }
}

fn body_to_request_body(parameter: &Value, consumes: &[String]) -> Value {
    let mut schema = parameter.get("schema").cloned().unwrap_or(json!({}));
    convert_schema(&mut schema);
    let mut content = Map::new();
    for media_type in consumes {
        content.insert(media_type.clone(), json!({ "schema": schema.clone() }));
    }
    let mut body = Map::new();
    if let Some(description) = parameter.get("description") {
        body.insert("description".into(), description.clone());
    }
    body.insert("content".into(), Value::Object(content));
    body.insert(
        "required".into(),
        parameter
            .get("required")
            .cloned()
            .unwrap_or(Value::Bool(false)),
    );
    Value::Object(body)
}

/// The keywords a Swagger 2.0 non-body parameter or header shares with a schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
];

fn simple_schema(parameter: &Value) -> Value {
    let mut schema = Map::new();
    for keyword in SCHEMA_KEYWORDS {
        if let Some(value) = parameter.get(*keyword) {
            schema.insert((*keyword).to_owned(), value.clone());
        }
    }
    let mut schema = Value::Object(schema);
    convert_schema(&mut schema);
    schema
}

fn convert_parameter(parameter: Value) -> Value {
    let Value::Object(mut map) = parameter else {
        return parameter;
    };
    if map.contains_key("$ref") {
        return Value::Object(map);
    }
    let schema = simple_schema(&Value::Object(map.clone()));
    let array = map.get("type").and_then(Value::as_str) == Some("array");
    let place = map
        .get("in")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    for keyword in SCHEMA_KEYWORDS {
        map.remove(*keyword);
    }
    if let (true, Some(Value::String(format))) = (array, map.remove("collectionFormat")) {
        collection_format(&mut map, &place, &format);
    } else if array && place == "query" {
        // csv, Swagger 2.0's default: unlike OpenAPI 3.0's (form, exploded).
        collection_format(&mut map, &place, "csv");
    }
    map.remove("allowEmptyValue");
    map.insert("schema".into(), schema);
    Value::Object(map)
}

/// An array parameter's `collectionFormat` as OpenAPI 3.0 `style`/`explode`: in a
/// query, csv → form, multi → form exploded, ssv → spaceDelimited, pipes →
/// pipeDelimited, tsv → form unexploded marked `x-collectionFormat: tsv` (no OpenAPI 3.0
/// style); in a path or header, csv is the default `simple`, and any other format is
/// kept as `x-collectionFormat` for the lowering to refuse (no style writes it there).
fn collection_format(map: &mut Map<String, Value>, place: &str, format: &str) {
    let (style, explode) = match (place, format) {
        (_, "csv") if place != "query" => return,
        ("query", "csv") => ("form", false),
        ("query", "multi") => ("form", true),
        ("query", "ssv") => ("spaceDelimited", false),
        ("query", "pipes") => ("pipeDelimited", false),
        ("query", "tsv") => {
            map.insert("x-collectionFormat".into(), json!("tsv"));
            ("form", false)
        }
        _ => {
            map.insert("x-collectionFormat".into(), json!(format));
            return;
        }
    };
    map.insert("style".into(), json!(style));
    map.insert("explode".into(), json!(explode));
}

fn convert_response(response: Value, produces: &[String]) -> Value {
    let Value::Object(mut map) = response else {
        return response;
    };
    if map.contains_key("$ref") {
        return Value::Object(map);
    }
    if let Some(mut schema) = map.remove("schema") {
        convert_schema(&mut schema);
        let mut content = Map::new();
        for media_type in produces {
            content.insert(media_type.clone(), json!({ "schema": schema.clone() }));
        }
        map.insert("content".into(), Value::Object(content));
    }
    map.remove("examples");
    if let Some(Value::Object(headers)) = map.get_mut("headers") {
        for header in headers.values_mut() {
            let description = header.get("description").cloned();
            let mut converted = Map::new();
            if let Some(description) = description {
                converted.insert("description".into(), description);
            }
            converted.insert("schema".into(), simple_schema(header));
            *header = Value::Object(converted);
        }
    }
    map.entry("description").or_insert_with(|| json!(""));
    Value::Object(map)
}

/// Schema-level differences, applied recursively.
fn convert_schema(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::String(property)) = map.get("discriminator").cloned() {
                map.insert("discriminator".into(), json!({ "propertyName": property }));
            }
            if let Some(nullable) = map.remove("x-nullable") {
                map.insert("nullable".into(), nullable);
            }
            if map.get("type").and_then(Value::as_str) == Some("file") {
                map.insert("type".into(), json!("string"));
                map.insert("format".into(), json!("binary"));
            }
            for (key, value) in map.iter_mut() {
                // `properties` maps names to schemas; every other nested object is a schema
                // (items, allOf members, additionalProperties) or harmless data.
                if key == "example" || key == "default" || key == "enum" {
                    continue;
                }
                if key == "properties" {
                    if let Value::Object(properties) = value {
                        properties.values_mut().for_each(convert_schema);
                    }
                } else {
                    convert_schema(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(convert_schema),
        _ => {}
    }
}

fn rewrite_refs(value: &mut Value, body_names: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "$ref" {
                    if let Value::String(reference) = value {
                        *reference = rewrite_ref(reference, body_names);
                    }
                } else {
                    rewrite_refs(value, body_names);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, body_names)),
        _ => {}
    }
}

fn rewrite_ref(reference: &str, body_names: &[String]) -> String {
    let (file, pointer) = reference.split_once('#').unwrap_or((reference, ""));
    let pointer = if let Some(rest) = pointer.strip_prefix("/definitions/") {
        format!("/components/schemas/{rest}")
    } else if let Some(rest) = pointer.strip_prefix("/parameters/") {
        if body_names.iter().any(|b| b == rest) {
            format!("/components/requestBodies/{rest}")
        } else {
            format!("/components/parameters/{rest}")
        }
    } else if let Some(rest) = pointer.strip_prefix("/responses/") {
        format!("/components/responses/{rest}")
    } else {
        pointer.to_owned()
    };
    format!("{file}#{pointer}")
}
