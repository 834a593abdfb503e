//! How each parameter is written: `style` and `explode` with OpenAPI 3.0's defaults per
//! location (query and cookie `form`, path and header `simple`; `explode` true for
//! `form` only), Swagger 2.0's `tsv` (carried as `x-collectionFormat` by the loader),
//! and the shape of the schema.
//!
//! Combinations the specification leaves undefined are **refused**, not guessed: a style
//! outside its location (caught with the allowed list when the document is loaded),
//! `deepObject` for anything but an object or unexploded, and the delimited styles for
//! a scalar (OpenAPI 3.0's style table marks them n/a). The error names the file, the
//! JSON pointer of the parameter, the parameter and its schema.

use std::collections::BTreeMap;
use std::path::Path;

use openapiv3::{ParameterData, PathStyle, QueryStyle};

use crate::error::{Error, Result};
use crate::ir::{Shape, Style, TypeDef, TypeKind, TypeRef, Wire};

/// Where a parameter is, with its declared style.
pub enum Place<'a> {
    /// `in: path`.
    Path(&'a PathStyle),
    /// `in: query`.
    Query(&'a QueryStyle),
    /// `in: header`.
    Header,
    /// `in: cookie`.
    Cookie,
}

/// The wire form of a parameter of type `ty`, or why the document leaves it undefined.
pub fn wire(
    place: Place<'_>,
    data: &ParameterData,
    ty: &TypeRef,
    types: &BTreeMap<String, TypeDef>,
    file: &Path,
    at: &str,
) -> Result<Wire> {
    let format = data
        .extensions
        .get("x-collectionFormat")
        .and_then(|v| v.as_str());
    let tsv = format == Some("tsv");
    if let (Some(format), false) = (format, matches!(place, Place::Query(_))) {
        return Err(Error::invalid(
            file,
            at,
            format!(
                "parameter `{}`: Swagger 2.0 collectionFormat {format} has no OpenAPI 3.0 style outside a query (only csv, written as simple)",
                data.name
            ),
        ));
    }
    let style = match place {
        Place::Query(_) if tsv => Style::TabDelimited,
        Place::Query(QueryStyle::Form) | Place::Cookie => Style::Form,
        Place::Query(QueryStyle::SpaceDelimited) => Style::SpaceDelimited,
        Place::Query(QueryStyle::PipeDelimited) => Style::PipeDelimited,
        Place::Query(QueryStyle::DeepObject) => Style::DeepObject,
        Place::Path(PathStyle::Simple) | Place::Header => Style::Simple,
        Place::Path(PathStyle::Label) => Style::Label,
        Place::Path(PathStyle::Matrix) => Style::Matrix,
    };
    let explode = data.explode.unwrap_or(style == Style::Form);
    let shape = shape(ty, types);
    let refuse = |why: &str| {
        Err(Error::invalid(
            file,
            at,
            format!(
                "parameter `{}` (schema: {}): {why}",
                data.name,
                describe(ty, types)
            ),
        ))
    };
    match (style, &shape) {
        (Style::DeepObject, Shape::Object(_)) if !explode => {
            refuse("style deepObject is only defined with explode: true (OpenAPI 3.0 style values)")
        }
        (Style::DeepObject, Shape::Scalar | Shape::Array) => {
            refuse("style deepObject is only defined for objects (OpenAPI 3.0 style values)")
        }
        (Style::SpaceDelimited | Style::PipeDelimited | Style::TabDelimited, Shape::Scalar) => {
            refuse(
                "a delimited style is only defined for arrays and objects (OpenAPI 3.0 style values)",
            )
        }
        _ => Ok(Wire {
            style,
            explode,
            shape,
        }),
    }
}

/// Scalar, array or object, following named types and aliases.
fn shape(ty: &TypeRef, types: &BTreeMap<String, TypeDef>) -> Shape {
    match ty {
        TypeRef::Array(_) => Shape::Array,
        TypeRef::Map(_) => Shape::Object(vec![]),
        TypeRef::Named(name) => match types.get(name).map(|t| &t.kind) {
            Some(TypeKind::Struct(def)) => {
                Shape::Object(def.fields.iter().map(|f| f.json_name.clone()).collect())
            }
            Some(TypeKind::Alias(inner)) => shape(inner, types),
            Some(TypeKind::Tagged(_)) => Shape::Object(vec![]),
            _ => Shape::Scalar,
        },
        _ => Shape::Scalar,
    }
}

/// A schema in a few words, for error messages.
fn describe(ty: &TypeRef, types: &BTreeMap<String, TypeDef>) -> String {
    match ty {
        TypeRef::Named(name) => match types.get(name) {
            Some(def) => match &def.kind {
                TypeKind::Struct(_) => format!("object {}", def.original),
                TypeKind::StringEnum(_) | TypeKind::IntegerEnum(_) => {
                    format!("enum {}", def.original)
                }
                TypeKind::Alias(inner) => describe(inner, types),
                _ => def.original.clone(),
            },
            None => name.clone(),
        },
        TypeRef::Array(item) => format!("array of {}", describe(item, types)),
        TypeRef::Map(item) => format!("map of {}", describe(item, types)),
        TypeRef::String | TypeRef::DateTime | TypeRef::Uri => "string".into(),
        TypeRef::Integer { .. } => "integer".into(),
        TypeRef::Number => "number".into(),
        TypeRef::Boolean => "boolean".into(),
        TypeRef::Any => "any".into(),
    }
}
