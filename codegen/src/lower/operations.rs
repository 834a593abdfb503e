//! Paths → operations: parameters, bodies and responses, typed through the type space.

use std::collections::BTreeMap;

use openapiv3::{
    Components, OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, RequestBody, Response,
    StatusCode,
};

use super::params::{self, Place};
use super::types::TypeSpace;
use crate::error::{Error, Result, escape_pointer, unescape_pointer};
use crate::ir::names::{Scope, camel, emitted, snake, status_variant};
use crate::ir::{self, Body, Operation, Param, TraitDef, TypeRef, Wire};

/// Lowers every operation; returns them with their traits.
pub fn lower(
    openapi: &OpenAPI,
    space: &mut TypeSpace<'_>,
    file: &std::path::Path,
) -> Result<(Vec<Operation>, Vec<TraitDef>)> {
    let components = openapi.components.as_ref();
    let mut methods = Scope::with_reserved(emitted::CLIENT_METHODS);
    let mut prefixes = Scope::default();
    let mut traits: BTreeMap<String, TraitDef> = BTreeMap::new();
    // Tags that differ only in spelling (`foo bar`, `fooBar`) get traits of their own.
    let mut trait_names: BTreeMap<String, String> = BTreeMap::new();
    let mut trait_scope = Scope::with_reserved(emitted::SERVER_ITEMS);
    let tag_docs: BTreeMap<&str, Option<String>> = openapi
        .tags
        .iter()
        .map(|t| (t.name.as_str(), t.description.clone()))
        .collect();
    let mut operations = Vec::new();

    for (path, item) in openapi.paths.iter() {
        let path_pointer = format!("/paths/{}", escape_pointer(path));
        let ReferenceOr::Item(item) = item else {
            return Err(Error::invalid(
                file,
                path_pointer,
                "path item $refs are not supported",
            ));
        };
        for (method, op) in item.iter() {
            let pointer = format!("{path_pointer}/{method}");
            let id = op
                .operation_id
                .clone()
                .unwrap_or_else(|| format!("{method}{}", camel(path)));
            let name = methods.claim(snake(&id));
            let type_prefix = prefixes.claim(camel(&id));
            let tag = op.tags.first().cloned().unwrap_or_else(|| "default".into());
            let trait_name = trait_names
                .entry(tag.clone())
                .or_insert_with(|| trait_scope.claim(format!("{}Api", camel(&tag))))
                .clone();
            let listener =
                tag.to_ascii_lowercase().contains("listener") || path.starts_with("/listener");
            traits
                .entry(trait_name.clone())
                .or_insert_with(|| TraitDef {
                    name: trait_name.clone(),
                    tag: tag.clone(),
                    doc: tag_docs.get(tag.as_str()).cloned().flatten(),
                    listener,
                });

            let mut operation = Operation {
                id: id.clone(),
                name,
                type_prefix: type_prefix.clone(),
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                trait_name,
                summary: op.summary.clone(),
                description: op.description.clone(),
                path_params: vec![],
                query_params: vec![],
                header_params: vec![],
                cookie_params: vec![],
                body: None,
                responses: vec![],
                roles: vec![],
            };

            // Operation parameters override path-level ones with the same name and place.
            let mut parameters: Vec<(&Parameter, String)> = Vec::new();
            for (index, parameter) in op.parameters.iter().enumerate() {
                let at = format!("{pointer}/parameters/{index}");
                parameters.push((resolve(parameter, components, file, &at)?, at));
            }
            for (index, parameter) in item.parameters.iter().enumerate() {
                let at = format!("{path_pointer}/parameters/{index}");
                let parameter = resolve(parameter, components, file, &at)?;
                let data = parameter.parameter_data_ref();
                if !parameters.iter().any(|(p, _)| {
                    p.parameter_data_ref().name == data.name
                        && std::mem::discriminant(*p) == std::mem::discriminant(parameter)
                }) {
                    parameters.push((parameter, at));
                }
            }
            // Path parameters are arguments beside the emitter's own; query parameters are
            // fields beside `filters`. One scope for both keeps them apart from each other.
            let mut scope = Scope::reserving(&[emitted::OPERATION_LOCALS, emitted::QUERY_FIELDS]);
            for (parameter, at) in parameters {
                let data = parameter.parameter_data_ref();
                let ty = match &data.format {
                    ParameterSchemaOrContent::Schema(schema) => space.type_of(
                        schema,
                        &format!("{at}/schema"),
                        &format!("{type_prefix}{}", camel(&data.name)),
                    )?,
                    ParameterSchemaOrContent::Content(_) => TypeRef::String,
                };
                let place = match parameter {
                    Parameter::Path { style, .. } => Place::Path(style),
                    Parameter::Query { style, .. } => Place::Query(style),
                    Parameter::Header { .. } => Place::Header,
                    Parameter::Cookie { .. } => Place::Cookie,
                };
                let wire = params::wire(place, data, &ty, &space.types, file, &at)?;
                let param = Param {
                    name: scope.claim(snake(&data.name)),
                    http_name: data.name.clone(),
                    doc: data.description.clone(),
                    ty,
                    required: data.required,
                    wire,
                };
                match parameter {
                    Parameter::Path { .. } => operation.path_params.push(Param {
                        required: true,
                        ..param
                    }),
                    Parameter::Query { .. } => operation.query_params.push(param),
                    Parameter::Header { .. } => operation.header_params.push(param),
                    Parameter::Cookie { .. } => operation.cookie_params.push(param),
                }
            }
            // Path parameters in the order they appear in the path.
            let order: Vec<String> = path
                .split('{')
                .skip(1)
                .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_owned()))
                .collect();
            for name in &order {
                if !operation.path_params.iter().any(|p| &p.http_name == name) {
                    operation.path_params.push(Param {
                        name: scope.claim(snake(name)),
                        http_name: name.clone(),
                        doc: None,
                        ty: TypeRef::String,
                        required: true,
                        wire: Wire::simple_scalar(),
                    });
                }
            }
            operation.path_params.sort_by_key(|p| {
                order
                    .iter()
                    .position(|n| n == &p.http_name)
                    .unwrap_or(usize::MAX)
            });

            if let Some(body) = &op.request_body {
                let at = format!("{pointer}/requestBody");
                let body = resolve(body, components, file, &at)?;
                if let Some((content_type, media)) = pick_content(&body.content) {
                    let ty = match &media.schema {
                        Some(schema) => space.type_of(
                            schema,
                            &format!("{at}/content/{}/schema", escape_pointer(content_type)),
                            &format!("{type_prefix}Body"),
                        )?,
                        None => TypeRef::Any,
                    };
                    operation.body = Some(Body {
                        ty,
                        required: body.required,
                        content_type: content_type.clone(),
                        media_types: body.content.keys().cloned().collect(),
                        doc: body.description.clone(),
                    });
                }
            }

            let mut seen_statuses = Vec::new();
            let mut entries: Vec<(Option<u16>, &ReferenceOr<Response>, String)> = Vec::new();
            for (status, response) in &op.responses.responses {
                let status_text = status.to_string();
                let at = format!("{pointer}/responses/{}", escape_pointer(&status_text));
                match status {
                    StatusCode::Code(code) => entries.push((Some(*code), response, at)),
                    // `2XX`-style ranges answer like `default` (first one wins).
                    StatusCode::Range(_) => entries.push((None, response, at)),
                }
            }
            if let Some(default) = &op.responses.default {
                entries.push((None, default, format!("{pointer}/responses/default")));
            }
            for (status, response, at) in entries {
                if seen_statuses.contains(&status) {
                    continue;
                }
                seen_statuses.push(status);
                let response = resolve(response, components, file, &at)?;
                let variant = status
                    .map(status_variant)
                    .unwrap_or_else(|| "Default".into());
                let body = match pick_content(&response.content) {
                    Some((content_type, media)) => match &media.schema {
                        Some(schema) => Some(space.type_of(
                            schema,
                            &format!("{at}/content/{}/schema", escape_pointer(content_type)),
                            &format!("{type_prefix}{variant}Body"),
                        )?),
                        None => Some(TypeRef::Any),
                    },
                    None => None,
                };
                let mut header_scope = Scope::with_reserved(emitted::RESPONSE_FIELDS);
                let mut headers = Vec::new();
                for (name, header) in &response.headers {
                    let header_at = format!("{at}/headers/{}", escape_pointer(name));
                    let header = match header {
                        ReferenceOr::Item(header) => header,
                        ReferenceOr::Reference { reference } => {
                            let key = reference
                                .strip_prefix("#/components/headers/")
                                .map(unescape_pointer);
                            match key.and_then(|k| components.and_then(|c| c.headers.get(&k))) {
                                Some(ReferenceOr::Item(header)) => header,
                                _ => {
                                    return Err(Error::DanglingRef {
                                        location: crate::error::Location::new(file, header_at),
                                        reference: reference.clone(),
                                        why: "expected a header in #/components/headers".into(),
                                    });
                                }
                            }
                        }
                    };
                    let ty = match &header.format {
                        ParameterSchemaOrContent::Schema(schema) => space.type_of(
                            schema,
                            &format!("{header_at}/schema"),
                            &format!("{type_prefix}{}", camel(name)),
                        )?,
                        ParameterSchemaOrContent::Content(_) => TypeRef::String,
                    };
                    headers.push(Param {
                        name: header_scope.claim(snake(name)),
                        http_name: name.clone(),
                        doc: header.description.clone(),
                        ty: simple_header_type(ty),
                        required: header.required,
                        wire: Wire::simple_scalar(),
                    });
                }
                let projectable = operation
                    .query_params
                    .iter()
                    .any(|p| p.http_name == "fields")
                    && status.is_some_and(|s| (200..300).contains(&s));
                operation.responses.push(ir::Response {
                    status,
                    variant,
                    doc: Some(response.description.clone()).filter(|d| !d.is_empty()),
                    body,
                    media_types: response.content.keys().cloned().collect(),
                    headers,
                    projectable,
                });
            }
            operations.push(operation);
        }
    }
    operations.sort_by(|a, b| (&a.trait_name, &a.id).cmp(&(&b.trait_name, &b.id)));
    Ok((operations, traits.into_values().collect()))
}

/// Headers are scalars on the wire; anything fancier is kept as its text.
fn simple_header_type(ty: TypeRef) -> TypeRef {
    match ty {
        TypeRef::Integer { .. } | TypeRef::Number | TypeRef::Boolean | TypeRef::String => ty,
        _ => TypeRef::String,
    }
}

/// The JSON media type of a content map, else its first entry.
fn pick_content<T>(content: &indexmap::IndexMap<String, T>) -> Option<(&String, &T)> {
    content
        .iter()
        .find(|(k, _)| k.contains("json"))
        .or_else(|| content.iter().next())
}

/// Component sections an operation's `$ref`s point into.
trait Component: Sized {
    /// The reference prefix, e.g. `#/components/parameters/`.
    const PREFIX: &'static str;
    /// The section.
    fn section(components: &Components) -> &indexmap::IndexMap<String, ReferenceOr<Self>>;
}

impl Component for Parameter {
    const PREFIX: &'static str = "#/components/parameters/";
    fn section(components: &Components) -> &indexmap::IndexMap<String, ReferenceOr<Self>> {
        &components.parameters
    }
}

impl Component for RequestBody {
    const PREFIX: &'static str = "#/components/requestBodies/";
    fn section(components: &Components) -> &indexmap::IndexMap<String, ReferenceOr<Self>> {
        &components.request_bodies
    }
}

impl Component for Response {
    const PREFIX: &'static str = "#/components/responses/";
    fn section(components: &Components) -> &indexmap::IndexMap<String, ReferenceOr<Self>> {
        &components.responses
    }
}

/// Follows `$ref`s (at most 16) to the component itself.
fn resolve<'a, T: Component>(
    item: &'a ReferenceOr<T>,
    components: Option<&'a Components>,
    file: &std::path::Path,
    at: &str,
) -> Result<&'a T> {
    let mut current = item;
    for _ in 0..16 {
        match current {
            ReferenceOr::Item(item) => return Ok(item),
            ReferenceOr::Reference { reference } => {
                let found = reference
                    .strip_prefix(T::PREFIX)
                    .map(unescape_pointer)
                    .and_then(|name| components.and_then(|c| T::section(c).get(&name)));
                current = found.ok_or_else(|| Error::DanglingRef {
                    location: crate::error::Location::new(file, at),
                    reference: reference.clone(),
                    why: format!("expected a reference to {}<name> that exists", T::PREFIX),
                })?;
            }
        }
    }
    Err(Error::invalid(
        file,
        at,
        "$ref chain longer than 16 (a loop?)",
    ))
}
