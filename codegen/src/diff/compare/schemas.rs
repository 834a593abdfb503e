//! Types: the change in one place, schema pairs and their uses, and each pair's
//! changes (fields, enum values, tags, kind).

use super::{Comparison, describe, required_word};
use crate::diff::{Effect, Group, Kind, Uses};
use crate::ir::{Additional, Api, Fallback, TypeDef, TypeKind, TypeRef};

/// The shape of a type, aliases resolved.
enum Shape<'a> {
    Prim(&'a TypeRef),
    Enum,
    Object,
}

impl<'a> Comparison<'a> {
    /// Compares the types in one place. Named schemas found on both sides become a
    /// pair (compared later, in their own group); the result is the change of the
    /// place itself, if any.
    pub(super) fn slot(
        &mut self,
        old: &TypeRef,
        new: &TypeRef,
        uses: Uses,
    ) -> Option<(Effect, String)> {
        let (o, n) = (resolve(self.old, old), resolve(self.new, new));
        match (o, n) {
            (TypeRef::Array(a), TypeRef::Array(b)) => self
                .slot(a, b, uses)
                .map(|(effect, detail)| (effect, format!("items: {detail}"))),
            (TypeRef::Map(a), TypeRef::Map(b)) => self
                .slot(a, b, uses)
                .map(|(effect, detail)| (effect, format!("map values: {detail}"))),
            (TypeRef::Named(a), TypeRef::Named(b)) => {
                let (sa, sb) = (shape(self.old, a), shape(self.new, b));
                match (&sa, &sb) {
                    (Shape::Object, Shape::Object) | (Shape::Enum, Shape::Enum) => {
                        self.pair(a, b, uses);
                        None
                    }
                    _ => Some((
                        Effect::Replaced,
                        format!("{} → {}", describe(o), describe(n)),
                    )),
                }
            }
            _ => {
                let (sa, sb) = (shape_of(self.old, o), shape_of(self.new, n));
                let effect = prim_effect(&sa, &sb)?;
                Some((
                    effect,
                    format!(
                        "{} → {} ({})",
                        describe(o),
                        describe(n),
                        effect_word(effect)
                    ),
                ))
            }
        }
    }

    fn pair(&mut self, old: &str, new: &str, uses: Uses) {
        let key = (old.to_owned(), new.to_owned());
        match self.pairs.get_mut(&key) {
            Some(known) => {
                let grown = known.union(uses);
                if grown != *known {
                    *known = grown;
                    self.pending.insert(key);
                }
            }
            None => {
                self.pairs.insert(key.clone(), uses);
                self.pending.insert(key);
            }
        }
    }

    /// Pairs the schemas used inside a pair, so that their uses are known.
    pub(super) fn walk_pair(&mut self, old: &str, new: &str) {
        let uses = self.pairs[&(old.to_owned(), new.to_owned())];
        let (Some(od), Some(nd)) = (self.old.types.get(old), self.new.types.get(new)) else {
            return;
        };
        for (a, b) in inner_pairs(od, nd) {
            self.slot(&a, &b, uses);
        }
    }

    pub(super) fn compare_pair(&mut self, old: &str, new: &str, uses: Uses) {
        let group = Group::Schema(if old == new {
            new.to_owned()
        } else {
            format!("{new} (was {old})")
        });
        let (Some(od), Some(nd)) = (self.old.types.get(old), self.new.types.get(new)) else {
            return;
        };
        if old != new {
            self.push(
                group.clone(),
                Kind::SchemaRenamed,
                "schema".into(),
                format!("Rust type {old} → {new}; code that names it must follow"),
                Effect::Neutral,
                uses,
            );
        }
        match (&od.kind, &nd.kind) {
            (TypeKind::Struct(a), TypeKind::Struct(b)) => {
                for o in &a.fields {
                    let location = format!("field {}", o.json_name);
                    let Some(n) = b.fields.iter().find(|n| n.json_name == o.json_name) else {
                        self.push(
                            group.clone(),
                            Kind::FieldRemoved,
                            location,
                            format!("removed ({})", required_word(o.required)),
                            Effect::Removed {
                                was_required: o.required,
                            },
                            uses,
                        );
                        continue;
                    };
                    if o.required != n.required {
                        self.push_required(
                            &group,
                            Kind::FieldRequiredChanged,
                            location.clone(),
                            o.required,
                            n.required,
                            uses,
                        );
                    }
                    if o.nullable != n.nullable {
                        let effect = if n.nullable {
                            Effect::Widened
                        } else {
                            Effect::Narrowed
                        };
                        let detail = if n.nullable {
                            "now nullable"
                        } else {
                            "no longer nullable"
                        };
                        self.push(
                            group.clone(),
                            Kind::FieldNullableChanged,
                            location.clone(),
                            detail.into(),
                            effect,
                            uses,
                        );
                    }
                    if let Some((effect, detail)) = self.slot(&o.ty, &n.ty, uses) {
                        self.push(
                            group.clone(),
                            Kind::FieldTypeChanged,
                            location,
                            detail,
                            effect,
                            uses,
                        );
                    }
                }
                for n in &b.fields {
                    if !a.fields.iter().any(|o| o.json_name == n.json_name) {
                        let location = format!("field {}", n.json_name);
                        let kind = Kind::FieldAdded;
                        self.push_added(&group, kind, location, n.required, &n.ty, uses);
                    }
                }
                if a.additional != b.additional {
                    let effect = match (&a.additional, &b.additional) {
                        (_, Additional::Forbidden) => Effect::Narrowed,
                        (Additional::Forbidden, _) => Effect::Widened,
                        _ => Effect::Replaced,
                    };
                    let detail = format!(
                        "{} → {}",
                        additional_word(&a.additional),
                        additional_word(&b.additional)
                    );
                    self.push(
                        group.clone(),
                        Kind::AdditionalPropertiesChanged,
                        "additional properties".into(),
                        detail,
                        effect,
                        uses,
                    );
                }
            }
            (TypeKind::StringEnum(a), TypeKind::StringEnum(b)) => {
                let values = |e: &'a [crate::ir::EnumValue]| e.iter().map(|v| v.value.as_str());
                let kinds = (Kind::EnumValuesRemoved, Kind::EnumValuesAdded);
                self.push_set(&group, kinds, "enum values", values(a), values(b), uses);
            }
            (TypeKind::IntegerEnum(a), TypeKind::IntegerEnum(b)) => {
                let text = |e: &[crate::ir::IntegerValue]| -> Vec<String> {
                    e.iter().map(|v| v.value.to_string()).collect()
                };
                let (old, new) = (text(a), text(b));
                let kinds = (Kind::EnumValuesRemoved, Kind::EnumValuesAdded);
                let (old, new) = (
                    old.iter().map(String::as_str),
                    new.iter().map(String::as_str),
                );
                self.push_set(&group, kinds, "enum values", old, new, uses);
            }
            (TypeKind::Tagged(a), TypeKind::Tagged(b)) => {
                let tags = |t: &'a crate::ir::TaggedDef| t.variants.iter().map(|v| v.tag.as_str());
                let kinds = (Kind::VariantsRemoved, Kind::VariantsAdded);
                let location = format!("{} tags", b.property);
                self.push_set(&group, kinds, &location, tags(a), tags(b), uses);
            }
            (TypeKind::Untagged(a), TypeKind::Untagged(b)) if a.len() != b.len() => {
                let (kind, effect) = if b.len() > a.len() {
                    (Kind::VariantsAdded, Effect::Widened)
                } else {
                    (Kind::VariantsRemoved, Effect::Narrowed)
                };
                self.push(
                    group.clone(),
                    kind,
                    "oneOf members".into(),
                    format!("{} → {}", a.len(), b.len()),
                    effect,
                    uses,
                );
            }
            (TypeKind::Untagged(_), TypeKind::Untagged(_)) => {}
            (a, b) => {
                let detail = format!("{} → {}", kind_word(a), kind_word(b));
                self.push(
                    group.clone(),
                    Kind::SchemaKindChanged,
                    "schema".into(),
                    detail,
                    Effect::Replaced,
                    uses,
                );
            }
        }
    }
}

/// Follows aliases (bounded: alias cycles are rejected by the loader anyway).
fn resolve<'a>(api: &'a Api, mut ty: &'a TypeRef) -> &'a TypeRef {
    for _ in 0..32 {
        match ty {
            TypeRef::Named(name) => match api.types.get(name).map(|t| &t.kind) {
                Some(TypeKind::Alias(target)) => ty = target,
                _ => return ty,
            },
            _ => return ty,
        }
    }
    ty
}

fn shape<'a>(api: &'a Api, name: &'a str) -> Shape<'a> {
    match api.types.get(name).map(|t| &t.kind) {
        Some(TypeKind::StringEnum(_) | TypeKind::IntegerEnum(_)) => Shape::Enum,
        _ => Shape::Object,
    }
}

fn shape_of<'a>(api: &'a Api, ty: &'a TypeRef) -> Shape<'a> {
    match ty {
        TypeRef::Named(name) => shape(api, name),
        other => Shape::Prim(other),
    }
}

/// The effect of a change between two types of which at most one is named.
fn prim_effect(old: &Shape, new: &Shape) -> Option<Effect> {
    use TypeRef as T;
    let stringy = |t: &TypeRef| matches!(t, T::String | T::DateTime);
    Some(match (old, new) {
        (Shape::Prim(a), Shape::Prim(b)) if a == b => return None,
        (Shape::Prim(T::Any), _) => Effect::Narrowed,
        (_, Shape::Prim(T::Any)) => Effect::Widened,
        (Shape::Prim(T::String), Shape::Prim(T::DateTime)) => Effect::Narrowed,
        (Shape::Prim(T::DateTime), Shape::Prim(T::String)) => Effect::Widened,
        (Shape::Prim(T::Number), Shape::Prim(T::Integer { .. })) => Effect::Narrowed,
        (Shape::Prim(T::Integer { .. }), Shape::Prim(T::Number)) => Effect::Widened,
        (Shape::Prim(T::Integer { bits: a }), Shape::Prim(T::Integer { bits: b })) => {
            if b > a {
                Effect::Widened
            } else {
                Effect::Narrowed
            }
        }
        (Shape::Prim(t), Shape::Enum) if stringy(t) => Effect::Narrowed,
        (Shape::Enum, Shape::Prim(t)) if stringy(t) => Effect::Widened,
        _ => Effect::Replaced,
    })
}

/// The types in the same place inside two schemas: fields by JSON name, tagged
/// variants by tag (and a struct against a hierarchy's base), union members by index.
fn inner_pairs(old: &TypeDef, new: &TypeDef) -> Vec<(TypeRef, TypeRef)> {
    let base = |kind: &TypeKind, name: &str| -> Option<TypeRef> {
        match kind {
            TypeKind::Struct(_) => Some(TypeRef::Named(name.to_owned())),
            TypeKind::Tagged(t) => match &t.fallback {
                Fallback::Base(base) => Some(TypeRef::Named(base.clone())),
                Fallback::Object => None,
            },
            _ => None,
        }
    };
    match (&old.kind, &new.kind) {
        (TypeKind::Struct(a), TypeKind::Struct(b)) => a
            .fields
            .iter()
            .filter_map(|o| {
                let n = b.fields.iter().find(|n| n.json_name == o.json_name)?;
                Some((o.ty.clone(), n.ty.clone()))
            })
            .collect(),
        (TypeKind::Tagged(a), TypeKind::Tagged(b)) => {
            let mut pairs: Vec<(TypeRef, TypeRef)> = a
                .variants
                .iter()
                .filter_map(|o| {
                    let n = b.variants.iter().find(|n| n.tag == o.tag)?;
                    Some((TypeRef::Named(o.ty.clone()), TypeRef::Named(n.ty.clone())))
                })
                .collect();
            if let (Some(x), Some(y)) = (base(&old.kind, &old.name), base(&new.kind, &new.name)) {
                pairs.push((x, y));
            }
            pairs
        }
        (TypeKind::Struct(_), TypeKind::Tagged(_)) | (TypeKind::Tagged(_), TypeKind::Struct(_)) => {
            match (base(&old.kind, &old.name), base(&new.kind, &new.name)) {
                (Some(x), Some(y)) => vec![(x, y)],
                _ => Vec::new(),
            }
        }
        (TypeKind::Untagged(a), TypeKind::Untagged(b)) => a
            .iter()
            .zip(b)
            .map(|(o, n)| (o.ty.clone(), n.ty.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

fn kind_word(kind: &TypeKind) -> &'static str {
    match kind {
        TypeKind::Struct(_) => "object",
        TypeKind::StringEnum(_) => "string enum",
        TypeKind::IntegerEnum(_) => "integer enum",
        TypeKind::Tagged(_) => "@type hierarchy (Rust enum)",
        TypeKind::Untagged(_) => "oneOf (Rust enum)",
        TypeKind::Alias(_) => "alias",
    }
}

fn additional_word(additional: &Additional) -> String {
    match additional {
        Additional::Any => "kept as JSON".into(),
        Additional::Typed(ty) => format!("typed {}", describe(ty)),
        Additional::Forbidden => "rejected".into(),
    }
}

fn effect_word(effect: Effect) -> &'static str {
    match effect {
        Effect::Narrowed => "narrowed",
        Effect::Widened => "widened",
        _ => "incompatible",
    }
}
