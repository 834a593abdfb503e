//! Schemas → named Rust types (the type space).
//!
//! Every component schema gets a Rust name up front (so references resolve in any
//! order); inline object and enum schemas get names derived from where they sit.
//! `allOf` is flattened into one struct; a `discriminator` becomes a tagged enum with a
//! fallback for tags it does not know; `oneOf`/`anyOf` without one become untagged
//! enums.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use openapiv3::{AdditionalProperties, AnySchema, Components, Discriminator, ReferenceOr, Schema};

use super::schema_view::{Shape, shape};
use crate::error::{Error, Location, Result, escape_pointer, unescape_pointer};
use crate::ir::names::{Scope, camel, emitted, enum_variants, snake, type_name};
use crate::ir::{
    Additional, EnumValue, Fallback, Field, IntegerValue, StructDef, TaggedDef, TaggedVariant,
    TypeDef, TypeKind, TypeRef, Variant,
};

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// The named types of an API, built from its component schemas and inline schemas.
pub struct TypeSpace<'a> {
    file: PathBuf,
    schemas: BTreeMap<&'a str, &'a ReferenceOr<Schema>>,
    /// Component name → Rust name.
    names: BTreeMap<String, String>,
    scope: Scope,
    /// Built types by Rust name.
    pub types: BTreeMap<String, TypeDef>,
    /// Components that allOf-reference a component (for implicit discriminator mappings).
    children: BTreeMap<String, Vec<String>>,
    /// Tolerated defects of the input, for the user.
    pub warnings: Vec<String>,
}

impl<'a> TypeSpace<'a> {
    /// Names every component schema.
    pub fn new(file: &Path, components: Option<&'a Components>) -> Self {
        let mut space = Self {
            file: file.to_owned(),
            schemas: BTreeMap::new(),
            names: BTreeMap::new(),
            scope: Scope::default(),
            types: BTreeMap::new(),
            children: BTreeMap::new(),
            warnings: Vec::new(),
        };
        if let Some(components) = components {
            for (name, schema) in &components.schemas {
                space.schemas.insert(name.as_str(), schema);
                let rust = space.scope.claim(type_name(name));
                space.names.insert(name.clone(), rust);
            }
            for (name, schema) in &components.schemas {
                if let ReferenceOr::Item(schema) = schema {
                    for parent in all_of_refs(schema) {
                        space.children.entry(parent).or_default().push(name.clone());
                    }
                }
            }
        }
        space
    }

    fn location(&self, pointer: &str) -> Location {
        Location::new(&self.file, pointer)
    }

    /// The Rust name of component `name`, if it exists.
    pub fn rust_name(&self, component: &str) -> Option<&str> {
        self.names.get(component).map(String::as_str)
    }

    /// Builds every component schema.
    pub fn build_components(&mut self) -> Result<()> {
        let names: Vec<(String, String)> = self
            .names
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (component, rust) in names {
            let pointer = format!("/components/schemas/{}", escape_pointer(&component));
            let schema = self.schemas[component.as_str()];
            let def = match schema {
                ReferenceOr::Reference { reference } => {
                    match self.follow_aliases(&component, reference, &pointer) {
                        Ok(target) => TypeDef {
                            name: rust.clone(),
                            original: component.clone(),
                            doc: Some(format!("Alias of `{target}`.")),
                            kind: TypeKind::Alias(TypeRef::Named(self.names[&target].clone())),
                        },
                        Err(error @ Error::DanglingRef { .. })
                            if error_reference(&error).starts_with(SCHEMA_PREFIX) =>
                        {
                            self.warnings
                                .push(format!("{error}; generated as any JSON"));
                            TypeDef {
                                name: rust.clone(),
                                original: component.clone(),
                                doc: Some(format!(
                                    "`{reference}`, which the document does not define: any JSON."
                                )),
                                kind: TypeKind::Alias(TypeRef::Any),
                            }
                        }
                        Err(error) => return Err(error),
                    }
                }
                ReferenceOr::Item(schema) => {
                    let doc = doc_of(schema);
                    let kind = self.named_kind(&component, &rust, schema, &pointer)?;
                    TypeDef {
                        name: rust.clone(),
                        original: component.clone(),
                        doc,
                        kind,
                    }
                }
            };
            self.types.insert(rust, def);
        }
        Ok(())
    }

    /// Follows a chain of pure `$ref` components to a real schema; a loop is an error.
    fn follow_aliases(&self, start: &str, reference: &str, pointer: &str) -> Result<String> {
        let mut chain = vec![start.to_owned()];
        let mut reference = reference.to_owned();
        loop {
            let target = self.component_of(&reference, pointer)?;
            if chain.contains(&target) {
                chain.push(target);
                return Err(Error::RefLoop {
                    location: self.location(pointer),
                    chain,
                });
            }
            chain.push(target.clone());
            match self.schemas[target.as_str()] {
                ReferenceOr::Reference { reference: next } => reference = next.clone(),
                ReferenceOr::Item(_) => return Ok(target),
            }
        }
    }

    /// The component a `$ref` names.
    fn component_of(&self, reference: &str, pointer: &str) -> Result<String> {
        let dangling = |why: &str| Error::DanglingRef {
            location: self.location(pointer),
            reference: reference.to_owned(),
            why: why.to_owned(),
        };
        let name = reference
            .strip_prefix(SCHEMA_PREFIX)
            .ok_or_else(|| dangling("expected a reference to #/components/schemas/<name>"))?;
        let name = unescape_pointer(name);
        if self.schemas.contains_key(name.as_str()) {
            Ok(name)
        } else {
            Err(dangling("no such schema in components/schemas"))
        }
    }

    /// The component a `$ref` names, or `None` (and a warning naming where the
    /// reference is) when it names a schema the document does not define: a dangling
    /// internal reference is a tolerated defect, its node is any JSON.
    fn tolerant_component_of(&mut self, reference: &str, pointer: &str) -> Result<Option<String>> {
        match self.component_of(reference, pointer) {
            Ok(name) => Ok(Some(name)),
            Err(error @ Error::DanglingRef { .. }) if reference.starts_with(SCHEMA_PREFIX) => {
                self.warnings
                    .push(format!("{error}; generated as any JSON"));
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// The schema of a component, following aliases.
    fn component_schema(&self, reference: &str, pointer: &str) -> Result<(String, &'a Schema)> {
        let name = self.component_of(reference, pointer)?;
        let name = match self.schemas[name.as_str()] {
            ReferenceOr::Reference { reference } => {
                self.follow_aliases(&name, reference, pointer)?
            }
            ReferenceOr::Item(_) => name,
        };
        match self.schemas[name.as_str()] {
            ReferenceOr::Item(schema) => Ok((name, schema)),
            ReferenceOr::Reference { .. } => unreachable!("follow_aliases ends on an item"),
        }
    }

    /// A use of a schema: a reference resolves to its named type; an inline schema is
    /// lowered, and named `hint` if it needs a name. (`openapiv3` boxes some schemas.)
    pub fn type_of<S: std::borrow::Borrow<Schema>>(
        &mut self,
        schema: &ReferenceOr<S>,
        pointer: &str,
        hint: &str,
    ) -> Result<TypeRef> {
        match schema {
            ReferenceOr::Reference { reference } => {
                Ok(match self.tolerant_component_of(reference, pointer)? {
                    Some(name) => TypeRef::Named(self.names[&name].clone()),
                    None => TypeRef::Any,
                })
            }
            ReferenceOr::Item(schema) => self.inline(schema.borrow(), pointer, hint),
        }
    }

    fn inline(&mut self, schema: &Schema, pointer: &str, hint: &str) -> Result<TypeRef> {
        match shape(schema) {
            Shape::String { format, values } => {
                if values.iter().any(Option::is_some) {
                    self.new_named(hint, schema, pointer)
                } else {
                    Ok(string_type(format.as_deref()))
                }
            }
            Shape::Integer { format, values } => {
                if values.is_empty() {
                    Ok(integer_type(format.as_deref()))
                } else {
                    self.new_named(hint, schema, pointer)
                }
            }
            Shape::Number => Ok(TypeRef::Number),
            Shape::Boolean => Ok(TypeRef::Boolean),
            Shape::Array { items } => Ok(TypeRef::Array(Box::new(match items {
                Some(items) => {
                    self.type_of(items, &format!("{pointer}/items"), &format!("{hint}Item"))?
                }
                None => TypeRef::Any,
            }))),
            Shape::Object {
                properties,
                additional,
                ..
            } if properties.is_empty() => Ok(match additional {
                Some(AdditionalProperties::Schema(value)) => TypeRef::Map(Box::new(self.type_of(
                    value,
                    &format!("{pointer}/additionalProperties"),
                    &format!("{hint}Value"),
                )?)),
                _ => TypeRef::Map(Box::new(TypeRef::Any)),
            }),
            Shape::AllOf { members, extra }
                if extra.is_none_or(|e| e.properties.is_empty()) && members.len() == 1 =>
            {
                // `allOf: [$ref]` is how OpenAPI 3.0 attaches a description to a reference.
                self.type_of(&members[0], &format!("{pointer}/allOf/0"), hint)
            }
            Shape::Any => Ok(TypeRef::Any),
            Shape::Object { .. } | Shape::AllOf { .. } | Shape::Union { .. } => {
                self.new_named(hint, schema, pointer)
            }
        }
    }

    fn new_named(&mut self, hint: &str, schema: &Schema, pointer: &str) -> Result<TypeRef> {
        let rust = self.scope.claim(type_name(hint));
        let kind = self.named_kind(hint, &rust, schema, pointer)?;
        self.types.insert(
            rust.clone(),
            TypeDef {
                name: rust.clone(),
                original: hint.to_owned(),
                doc: doc_of(schema),
                kind,
            },
        );
        Ok(TypeRef::Named(rust))
    }

    /// The kind of a named type built from `schema`.
    fn named_kind(
        &mut self,
        component: &str,
        rust: &str,
        schema: &Schema,
        pointer: &str,
    ) -> Result<TypeKind> {
        if let Some(discriminator) = &schema.schema_data.discriminator {
            if let Some(tagged) = self.tagged(component, rust, schema, discriminator, pointer)? {
                return Ok(tagged);
            }
        }
        match shape(schema) {
            Shape::String { values, format } => {
                let values: Vec<String> = values.into_iter().flatten().collect();
                if values.is_empty() {
                    return Ok(TypeKind::Alias(string_type(format.as_deref())));
                }
                let mut seen = BTreeSet::new();
                let values: Vec<String> = values
                    .into_iter()
                    .filter(|v| seen.insert(v.clone()))
                    .collect();
                let names = enum_variants(&values, &[]);
                let values = names
                    .into_iter()
                    .zip(values)
                    .map(|(name, value)| EnumValue { name, value })
                    .collect();
                Ok(TypeKind::StringEnum(values))
            }
            Shape::Integer { values, .. } if !values.is_empty() => {
                let mut seen = BTreeSet::new();
                let values: Vec<i64> = values.into_iter().filter(|v| seen.insert(*v)).collect();
                let texts: Vec<String> = values.iter().map(i64::to_string).collect();
                let names = enum_variants(&texts, &[]);
                let values = names
                    .into_iter()
                    .zip(values)
                    .map(|(name, value)| IntegerValue { name, value })
                    .collect();
                Ok(TypeKind::IntegerEnum(values))
            }
            Shape::Union { members } => {
                let mut scope = Scope::default();
                let mut variants = Vec::new();
                for (index, member) in members.iter().enumerate() {
                    let member_pointer = format!("{pointer}/{}/{index}", union_keyword(schema));
                    let ty =
                        self.type_of(member, &member_pointer, &format!("{rust}Variant{index}"))?;
                    let name = scope.claim(variant_name(&ty, index));
                    variants.push(Variant { name, ty });
                }
                Ok(TypeKind::Untagged(variants))
            }
            Shape::Object { .. } | Shape::AllOf { .. } => {
                match self.flatten(schema, pointer, rust)? {
                    Some(def) => Ok(TypeKind::Struct(def)),
                    None => {
                        // allOf of things that are not all objects: keep the first non-object.
                        let Shape::AllOf { members, .. } = shape(schema) else {
                            unreachable!("objects always flatten")
                        };
                        let first = members
                            .first()
                            .map(|m| self.type_of(m, &format!("{pointer}/allOf/0"), rust));
                        Ok(TypeKind::Alias(first.transpose()?.unwrap_or(TypeRef::Any)))
                    }
                }
            }
            other => Ok(TypeKind::Alias(match other {
                Shape::Integer { format, .. } => integer_type(format.as_deref()),
                Shape::Number => TypeRef::Number,
                Shape::Boolean => TypeRef::Boolean,
                Shape::Array { items } => TypeRef::Array(Box::new(match items {
                    Some(items) => {
                        self.type_of(items, &format!("{pointer}/items"), &format!("{rust}Item"))?
                    }
                    None => TypeRef::Any,
                })),
                _ => TypeRef::Any,
            })),
        }
    }

    /// A discriminated hierarchy, when the mapping names other schemas than this one.
    fn tagged(
        &mut self,
        component: &str,
        rust: &str,
        schema: &Schema,
        discriminator: &Discriminator,
        pointer: &str,
    ) -> Result<Option<TypeKind>> {
        let is_union = matches!(shape(schema), Shape::Union { .. });
        let mut mapping: Vec<(String, String)> = Vec::new();
        for (tag, reference) in &discriminator.mapping {
            let at = format!("{pointer}/discriminator/mapping/{}", escape_pointer(tag));
            let reference = if reference.starts_with('#') {
                reference.clone()
            } else {
                format!("{SCHEMA_PREFIX}{reference}")
            };
            // Published TMF documents map tags to schemas they do not define; such a
            // tag is simply unknown (it falls back to the base type), not an error.
            match self.component_of(&reference, &at) {
                Ok(target) => mapping.push((tag.clone(), target)),
                Err(error) => self
                    .warnings
                    .push(format!("{error}; tag {tag:?} falls back to the base type")),
            }
        }
        if mapping.is_empty() {
            // Implicit mapping: union members, or the schemas that extend this one.
            if let Shape::Union { members } = shape(schema) {
                for (index, member) in members.iter().enumerate() {
                    if let ReferenceOr::Reference { reference } = member {
                        let at = format!("{pointer}/{}/{index}", union_keyword(schema));
                        if let Some(target) = self.tolerant_component_of(reference, &at)? {
                            mapping.push((target.clone(), target));
                        }
                    }
                }
            } else if let Some(children) = self.children.get(component) {
                mapping.push((component.to_owned(), component.to_owned()));
                mapping.extend(children.iter().map(|c| (c.clone(), c.clone())));
            }
        }
        if !mapping.iter().any(|(_, target)| target != component) {
            return Ok(None);
        }

        // The base struct keeps this schema's own properties and is what unknown tags
        // (and the tags that map to this schema itself) deserialize into.
        let fallback = if is_union {
            Fallback::Object
        } else {
            let base = self.scope.claim(format!("{rust}Base"));
            let fields = self.flatten(schema, pointer, &base)?.ok_or_else(|| {
                Error::invalid(
                    &self.file,
                    pointer,
                    "a discriminator needs an object schema or a oneOf",
                )
            })?;
            self.types.insert(
                base.clone(),
                TypeDef {
                    name: base.clone(),
                    original: component.to_owned(),
                    doc: Some(format!(
                        "The attributes of `{component}` itself: what an unknown `{}` deserializes into.",
                        discriminator.property_name
                    )),
                    kind: TypeKind::Struct(fields),
                },
            );
            Fallback::Base(base)
        };
        let mut scope = Scope::with_reserved(emitted::TAGGED_VARIANTS);
        let mut variants = Vec::new();
        for (tag, target) in mapping {
            let ty = if target == component {
                match &fallback {
                    Fallback::Base(base) => base.clone(),
                    Fallback::Object => continue,
                }
            } else {
                self.names[&target].clone()
            };
            variants.push(TaggedVariant {
                name: scope.claim(camel(&tag)),
                tag,
                ty,
            });
        }
        Ok(Some(TypeKind::Tagged(TaggedDef {
            property: discriminator.property_name.clone(),
            variants,
            fallback,
        })))
    }

    /// Flattens an object or `allOf` into one struct; `None` when a member is not an object.
    fn flatten(&mut self, schema: &Schema, pointer: &str, rust: &str) -> Result<Option<StructDef>> {
        let mut parts = Parts::default();
        if !self.collect(schema, pointer, &mut parts, &mut BTreeSet::new())? {
            return Ok(None);
        }
        let mut scope = Scope::with_reserved(emitted::STRUCT_FIELDS);
        let mut fields = Vec::new();
        for (json_name, (property, at)) in parts.order.iter().map(|n| (n, &parts.properties[n])) {
            let name = scope.claim(snake(json_name));
            let hint = format!("{rust}{}", camel(json_name));
            let ty = self.type_of(property, at, &hint)?;
            let (doc, nullable) = match property {
                ReferenceOr::Item(schema) => (doc_of(schema), schema.schema_data.nullable),
                ReferenceOr::Reference { .. } => (None, false),
            };
            fields.push(Field {
                name,
                json_name: json_name.clone(),
                doc,
                ty,
                required: parts.required.contains(json_name),
                nullable,
                boxed: false,
            });
        }
        let additional = match parts.additional {
            Some((AdditionalProperties::Any(false), _)) => Additional::Forbidden,
            Some((AdditionalProperties::Schema(value), at)) => {
                match self.type_of(&value, &at, &format!("{rust}Value"))? {
                    TypeRef::Any => Additional::Any,
                    ty => Additional::Typed(ty),
                }
            }
            _ => Additional::Any,
        };
        Ok(Some(StructDef { fields, additional }))
    }

    /// Gathers properties from `schema` and, recursively, its `allOf` members.
    fn collect(
        &mut self,
        schema: &Schema,
        pointer: &str,
        parts: &mut Parts,
        seen: &mut BTreeSet<String>,
    ) -> Result<bool> {
        match shape(schema) {
            Shape::Object {
                properties,
                required,
                additional,
            } => {
                parts.add(properties, required, additional, pointer);
                Ok(true)
            }
            Shape::AllOf { members, extra } => {
                for (index, member) in members.iter().enumerate() {
                    let at = format!("{pointer}/allOf/{index}");
                    let ok = match member {
                        ReferenceOr::Reference { reference } => {
                            if self.tolerant_component_of(reference, &at)?.is_none() {
                                continue; // a dangling member adds nothing (warned)
                            }
                            let (name, target) = self.component_schema(reference, &at)?;
                            if !seen.insert(name.clone()) {
                                continue; // a schema that (indirectly) extends itself
                            }
                            let target_pointer =
                                format!("/components/schemas/{}", escape_pointer(&name));
                            self.collect(target, &target_pointer, parts, seen)?
                        }
                        ReferenceOr::Item(inline) => self.collect(inline, &at, parts, seen)?,
                    };
                    if !ok {
                        return Ok(false);
                    }
                }
                if let Some(extra) = extra {
                    parts.add_any(extra, pointer);
                }
                Ok(true)
            }
            // An `allOf` member with only a description or a discriminator adds nothing.
            Shape::Any => Ok(true),
            _ => Ok(false),
        }
    }
}

/// Properties gathered while flattening, last definition winning, first position kept.
#[derive(Default)]
struct Parts {
    order: Vec<String>,
    properties: BTreeMap<String, (ReferenceOr<Box<Schema>>, String)>,
    required: BTreeSet<String>,
    additional: Option<(AdditionalProperties, String)>,
}

impl Parts {
    fn add(
        &mut self,
        properties: Vec<(&String, &ReferenceOr<Box<Schema>>)>,
        required: &[String],
        additional: Option<&AdditionalProperties>,
        pointer: &str,
    ) {
        for (name, schema) in properties {
            if !self.properties.contains_key(name) {
                self.order.push(name.clone());
            }
            let at = format!("{pointer}/properties/{}", escape_pointer(name));
            self.properties.insert(name.clone(), (schema.clone(), at));
        }
        self.required.extend(required.iter().cloned());
        if let Some(additional) = additional {
            self.additional = Some((
                additional.clone(),
                format!("{pointer}/additionalProperties"),
            ));
        }
    }

    fn add_any(&mut self, any: &AnySchema, pointer: &str) {
        self.add(
            any.properties.iter().collect(),
            &any.required,
            any.additional_properties.as_ref(),
            pointer,
        );
    }
}

/// The reference a [`Error::DanglingRef`] is about.
fn error_reference(error: &Error) -> &str {
    match error {
        Error::DanglingRef { reference, .. } => reference,
        _ => "",
    }
}

fn union_keyword(schema: &Schema) -> &'static str {
    match &schema.schema_kind {
        openapiv3::SchemaKind::AnyOf { .. } => "anyOf",
        openapiv3::SchemaKind::Any(any) if any.one_of.is_empty() && !any.any_of.is_empty() => {
            "anyOf"
        }
        _ => "oneOf",
    }
}

fn all_of_refs(schema: &Schema) -> Vec<String> {
    let members = match &schema.schema_kind {
        openapiv3::SchemaKind::AllOf { all_of } => all_of,
        openapiv3::SchemaKind::Any(any) => &any.all_of,
        _ => return vec![],
    };
    members
        .iter()
        .filter_map(|m| match m {
            ReferenceOr::Reference { reference } => {
                reference.strip_prefix(SCHEMA_PREFIX).map(unescape_pointer)
            }
            ReferenceOr::Item(_) => None,
        })
        .collect()
}

fn variant_name(ty: &TypeRef, index: usize) -> String {
    match ty {
        TypeRef::Named(name) => name.clone(),
        TypeRef::String => "String".into(),
        TypeRef::DateTime => "DateTime".into(),
        TypeRef::Uri => "Uri".into(),
        TypeRef::Integer { .. } => "Integer".into(),
        TypeRef::Number => "Number".into(),
        TypeRef::Boolean => "Boolean".into(),
        TypeRef::Array(_) => "Array".into(),
        TypeRef::Map(_) => "Object".into(),
        TypeRef::Any => format!("Variant{index}"),
    }
}

/// Doc text of a schema: description, else title.
pub fn doc_of(schema: &Schema) -> Option<String> {
    schema
        .schema_data
        .description
        .clone()
        .or_else(|| schema.schema_data.title.clone())
        .filter(|d| !d.trim().is_empty())
}

/// The Rust type for a string format.
pub fn string_type(format: Option<&str>) -> TypeRef {
    match format {
        Some("date-time") => TypeRef::DateTime,
        Some("uri") => TypeRef::Uri,
        _ => TypeRef::String,
    }
}

/// The Rust type for an integer format.
pub fn integer_type(format: Option<&str>) -> TypeRef {
    match format {
        Some("int32") => TypeRef::Integer { bits: 32 },
        _ => TypeRef::Integer { bits: 64 },
    }
}
