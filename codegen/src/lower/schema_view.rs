//! One view over `openapiv3`'s schema representation.
//!
//! `openapiv3` gives a typed schema (`Type::Object`…) when the keywords fit one shape
//! and an `AnySchema` grab-bag when they mix (an object that also has `allOf`, say).
//! The lowering only wants to ask "what is this?", so both are folded into [`Shape`].

use openapiv3::{
    AdditionalProperties, AnySchema, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};

/// A property: name and schema.
pub type Property<'s> = (&'s String, &'s ReferenceOr<Box<Schema>>);

/// What a schema is, whichever way `openapiv3` stored it.
pub enum Shape<'s> {
    /// `type: string`, with its format and enum values (`None` = `null` listed).
    String {
        format: Option<String>,
        values: Vec<Option<String>>,
    },
    /// `type: integer`, with its enum values (those that are integers).
    Integer {
        format: Option<String>,
        values: Vec<i64>,
    },
    /// `type: number`.
    Number,
    /// `type: boolean`.
    Boolean,
    /// An object (possibly without properties).
    Object {
        properties: Vec<Property<'s>>,
        required: &'s [String],
        additional: Option<&'s AdditionalProperties>,
    },
    /// `type: array`.
    Array {
        items: Option<&'s ReferenceOr<Box<Schema>>>,
    },
    /// `allOf`, plus properties written beside it (an `AnySchema`).
    AllOf {
        members: &'s [ReferenceOr<Schema>],
        extra: Option<&'s AnySchema>,
    },
    /// `oneOf` / `anyOf`.
    Union { members: &'s [ReferenceOr<Schema>] },
    /// Anything else: any JSON.
    Any,
}

fn format_name<T: std::fmt::Debug>(
    format: &VariantOrUnknownOrEmpty<T>,
    known: impl Fn(&T) -> &'static str,
) -> Option<String> {
    match format {
        VariantOrUnknownOrEmpty::Item(item) => Some(known(item).to_owned()),
        VariantOrUnknownOrEmpty::Unknown(other) => Some(other.clone()),
        VariantOrUnknownOrEmpty::Empty => None,
    }
}

/// Classifies a schema.
pub fn shape(schema: &Schema) -> Shape<'_> {
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => Shape::String {
            format: format_name(&s.format, |f| match f {
                StringFormat::Date => "date",
                StringFormat::DateTime => "date-time",
                StringFormat::Password => "password",
                StringFormat::Byte => "byte",
                StringFormat::Binary => "binary",
            }),
            values: s.enumeration.clone(),
        },
        SchemaKind::Type(Type::Integer(i)) => Shape::Integer {
            format: format_name(&i.format, |f| match f {
                openapiv3::IntegerFormat::Int32 => "int32",
                openapiv3::IntegerFormat::Int64 => "int64",
            }),
            values: i.enumeration.iter().flatten().copied().collect(),
        },
        SchemaKind::Type(Type::Number(_)) => Shape::Number,
        SchemaKind::Type(Type::Boolean(_)) => Shape::Boolean,
        SchemaKind::Type(Type::Object(o)) => Shape::Object {
            properties: o.properties.iter().collect(),
            required: &o.required,
            additional: o.additional_properties.as_ref(),
        },
        SchemaKind::Type(Type::Array(a)) => Shape::Array {
            items: a.items.as_ref(),
        },
        SchemaKind::AllOf { all_of } => Shape::AllOf {
            members: all_of,
            extra: None,
        },
        SchemaKind::OneOf { one_of: members } | SchemaKind::AnyOf { any_of: members } => {
            Shape::Union { members }
        }
        SchemaKind::Not { .. } => Shape::Any,
        SchemaKind::Any(any) => any_shape(any),
    }
}

fn any_shape(any: &AnySchema) -> Shape<'_> {
    if !any.all_of.is_empty() {
        return Shape::AllOf {
            members: &any.all_of,
            extra: Some(any),
        };
    }
    if !any.one_of.is_empty() {
        return Shape::Union {
            members: &any.one_of,
        };
    }
    if !any.any_of.is_empty() {
        return Shape::Union {
            members: &any.any_of,
        };
    }
    match any.typ.as_deref() {
        Some("string") => Shape::String {
            format: any.format.clone(),
            values: any
                .enumeration
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect(),
        },
        Some("integer") => Shape::Integer {
            format: any.format.clone(),
            values: any
                .enumeration
                .iter()
                .filter_map(serde_json::Value::as_i64)
                .collect(),
        },
        Some("number") => Shape::Number,
        Some("boolean") => Shape::Boolean,
        Some("array") => Shape::Array {
            items: any.items.as_ref(),
        },
        Some("object") => Shape::Object {
            properties: any.properties.iter().collect(),
            required: &any.required,
            additional: any.additional_properties.as_ref(),
        },
        _ if !any.properties.is_empty() => Shape::Object {
            properties: any.properties.iter().collect(),
            required: &any.required,
            additional: any.additional_properties.as_ref(),
        },
        _ if any.items.is_some() => Shape::Array {
            items: any.items.as_ref(),
        },
        _ if !any.enumeration.is_empty()
            && any.enumeration.iter().all(|v| v.is_string() || v.is_null()) =>
        {
            Shape::String {
                format: None,
                values: any
                    .enumeration
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            }
        }
        _ => Shape::Any,
    }
}
