//! Matching operations and pairing the schemas they use.
//!
//! Operations match on `operationId` and on method + path (path parameter names
//! ignored); one that matches on only one of them is renamed or moved. Inside matched
//! operations, the types found in the same place (parameter, body, response, then
//! field by field) are compared: primitives at once, named schemas as *pairs*
//! `(old, new)` that are compared once, with every place they are used in (request,
//! response) known first — so each schema's changes are reported once, in its own
//! group, and classified for how it is used.

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, Diff, Effect, Group, Kind, Uses};
use crate::ir::{Additional, Api, Fallback, Operation, Param, TypeDef, TypeKind, TypeRef};

pub(super) struct Comparison<'a> {
    old: &'a Api,
    new: &'a Api,
    changes: Vec<Change>,
    /// Schema pairs `(old, new)` and where they are used.
    pairs: BTreeMap<(String, String), Uses>,
    /// Pairs whose uses grew since they were last walked.
    pending: BTreeSet<(String, String)>,
}

/// The shape of a type, aliases resolved.
enum Shape<'a> {
    Prim(&'a TypeRef),
    Enum,
    Object,
}

impl<'a> Comparison<'a> {
    pub(super) fn new(old: &'a Api, new: &'a Api) -> Self {
        Self {
            old,
            new,
            changes: Vec::new(),
            pairs: BTreeMap::new(),
            pending: BTreeSet::new(),
        }
    }

    pub(super) fn run(mut self) -> Diff {
        let (old_base, new_base) = (
            strip_root(&self.old.base_path),
            strip_root(&self.new.base_path),
        );
        if old_base != new_base {
            self.changes.push(Change {
                group: Group::Api,
                kind: Kind::BasePathChanged,
                location: "base path".into(),
                detail: format!(
                    "{} → {}",
                    show(&self.old.base_path),
                    show(&self.new.base_path)
                ),
                breaks_server: true,
                breaks_client: true,
            });
        }
        self.operations();
        while let Some(pair) = self.pending.pop_first() {
            self.walk_pair(&pair.0, &pair.1);
        }
        let pairs = std::mem::take(&mut self.pairs);
        for ((old, new), uses) in &pairs {
            self.compare_pair(old, new, *uses);
        }
        Diff {
            changes: self.changes,
            ..Diff::default()
        }
    }

    // ---- operations ------------------------------------------------------------

    fn operations(&mut self) {
        let key = |o: &Operation| (o.method.clone(), normalize_path(&o.path));
        let mut new_left: Vec<&Operation> = self.new.operations.iter().collect();
        let mut matched: Vec<(&Operation, &Operation, Option<Kind>)> = Vec::new();
        let mut old_left = Vec::new();
        // Same id and same place, then same id, then same place.
        for old in &self.old.operations {
            match new_left
                .iter()
                .position(|n| n.id == old.id && key(n) == key(old))
            {
                Some(i) => matched.push((old, new_left.remove(i), None)),
                None => old_left.push(old),
            }
        }
        let mut still_left = Vec::new();
        for old in old_left {
            match new_left.iter().position(|n| n.id == old.id) {
                Some(i) => matched.push((old, new_left.remove(i), Some(Kind::OperationMoved))),
                None => still_left.push(old),
            }
        }
        let mut removed = Vec::new();
        for old in still_left {
            match new_left.iter().position(|n| key(n) == key(old)) {
                Some(i) => matched.push((old, new_left.remove(i), Some(Kind::OperationRenamed))),
                None => removed.push(old),
            }
        }
        for old in removed {
            self.push_fixed(
                Group::Operation(old.id.clone()),
                Kind::OperationRemoved,
                "operation".into(),
                format!("{} {} removed", old.method, old.path),
                (true, true),
            );
        }
        for new in new_left {
            self.push_fixed(
                Group::Operation(new.id.clone()),
                Kind::OperationAdded,
                "operation".into(),
                format!("{} {} added (in {})", new.method, new.path, new.trait_name),
                (true, false),
            );
        }
        matched.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        for (old, new, how) in matched {
            self.operation(old, new, how);
        }
    }

    fn operation(&mut self, old: &Operation, new: &Operation, how: Option<Kind>) {
        let group = Group::Operation(new.id.clone());
        match how {
            Some(Kind::OperationRenamed) => self.push_fixed(
                group.clone(),
                Kind::OperationRenamed,
                "operationId".into(),
                format!(
                    "{} → {} (Rust method {} → {})",
                    old.id, new.id, old.name, new.name
                ),
                (true, true),
            ),
            Some(kind) => self.push_fixed(
                group.clone(),
                kind,
                "method and path".into(),
                format!("{} {} → {} {}", old.method, old.path, new.method, new.path),
                (true, true),
            ),
            None => {}
        }
        if old.trait_name != new.trait_name {
            self.push_fixed(
                group.clone(),
                Kind::OperationTraitChanged,
                "handler trait".into(),
                format!("{} → {}", old.trait_name, new.trait_name),
                (true, true),
            );
        }
        self.parameters(&group, old, new);
        self.request_body(&group, old, new);
        self.responses(&group, old, new);
    }

    fn parameters(&mut self, group: &Group, old: &Operation, new: &Operation) {
        // Path parameters by position: a new name for the same segment is a rename.
        for (index, (o, n)) in old.path_params.iter().zip(&new.path_params).enumerate() {
            if o.http_name != n.http_name {
                self.push(
                    group.clone(),
                    Kind::ParameterRenamed,
                    format!("path parameter #{}", index + 1),
                    format!("{} → {}", o.http_name, n.http_name),
                    Effect::Neutral,
                    Uses::REQUEST,
                );
            }
            self.param_type(group, "path", o, n);
        }
        let (old_params, new_params) = (others_of(old), others_of(new));
        for (location, o) in &old_params {
            let found = new_params
                .iter()
                .find(|(_, n)| n.http_name.eq_ignore_ascii_case(&o.http_name))
                .copied()
                .or_else(|| {
                    new.path_params
                        .iter()
                        .find(|n| n.http_name == o.http_name)
                        .map(|n| ("path", n))
                });
            let Some((new_location, n)) = found else {
                self.push(
                    group.clone(),
                    Kind::ParameterRemoved,
                    format!("{location} parameter {}", o.http_name),
                    format!("removed ({})", required_word(o.required)),
                    Effect::Removed {
                        was_required: o.required,
                    },
                    Uses::REQUEST,
                );
                continue;
            };
            let label = format!("{new_location} parameter {}", n.http_name);
            if *location != new_location {
                self.push(
                    group.clone(),
                    Kind::ParameterLocationChanged,
                    label.clone(),
                    format!("{location} → {new_location}"),
                    Effect::Replaced,
                    Uses::REQUEST,
                );
            }
            if o.required != n.required {
                self.push_required(
                    group,
                    Kind::ParameterRequiredChanged,
                    label,
                    o.required,
                    n.required,
                    Uses::REQUEST,
                );
            }
            self.param_type(group, new_location, o, n);
        }
        for (location, n) in &new_params {
            let existed = old_params
                .iter()
                .any(|(_, o)| o.http_name.eq_ignore_ascii_case(&n.http_name))
                || old.path_params.iter().any(|o| o.http_name == n.http_name);
            if !existed {
                self.push_added(
                    group,
                    Kind::ParameterAdded,
                    format!("{location} parameter {}", n.http_name),
                    n.required,
                    &n.ty,
                    Uses::REQUEST,
                );
            }
        }
    }

    fn param_type(&mut self, group: &Group, location: &str, o: &Param, n: &Param) {
        if let Some((effect, detail)) = self.slot(&o.ty, &n.ty, Uses::REQUEST) {
            self.push(
                group.clone(),
                Kind::ParameterTypeChanged,
                format!("{location} parameter {}", n.http_name),
                detail,
                effect,
                Uses::REQUEST,
            );
        }
    }

    fn request_body(&mut self, group: &Group, old: &Operation, new: &Operation) {
        let location = "request body".to_owned();
        match (&old.body, &new.body) {
            (None, None) => {}
            (None, Some(n)) => self.push(
                group.clone(),
                Kind::RequestBodyAdded,
                location,
                format!("{} ({})", describe(&n.ty), required_word(n.required)),
                if n.required {
                    Effect::AddedRequired
                } else {
                    Effect::AddedOptional
                },
                Uses::REQUEST,
            ),
            (Some(o), None) => self.push(
                group.clone(),
                Kind::RequestBodyRemoved,
                location,
                format!("{} removed", describe(&o.ty)),
                Effect::Removed {
                    was_required: o.required,
                },
                Uses::REQUEST,
            ),
            (Some(o), Some(n)) => {
                if o.required != n.required {
                    self.push_required(
                        group,
                        Kind::RequestBodyRequiredChanged,
                        location.clone(),
                        o.required,
                        n.required,
                        Uses::REQUEST,
                    );
                }
                if let Some((effect, detail)) = self.slot(&o.ty, &n.ty, Uses::REQUEST) {
                    self.push(
                        group.clone(),
                        Kind::RequestBodyTypeChanged,
                        location,
                        detail,
                        effect,
                        Uses::REQUEST,
                    );
                }
            }
        }
    }

    fn responses(&mut self, group: &Group, old: &Operation, new: &Operation) {
        let status = |s: Option<u16>| s.map_or("default".to_owned(), |s| s.to_string());
        for o in &old.responses {
            let location = format!("response {}", status(o.status));
            let Some(n) = new.responses.iter().find(|n| n.status == o.status) else {
                // The handler can no longer answer it; a client merely stops seeing it.
                self.push_fixed(
                    group.clone(),
                    Kind::ResponseStatusRemoved,
                    location,
                    "status removed".into(),
                    (true, false),
                );
                continue;
            };
            match (&o.body, &n.body) {
                (None, None) => {}
                (None, Some(b)) => self.push(
                    group.clone(),
                    Kind::ResponseBodyAdded,
                    location,
                    describe(b),
                    Effect::AddedRequired,
                    Uses::RESPONSE,
                ),
                (Some(b), None) => self.push(
                    group.clone(),
                    Kind::ResponseBodyRemoved,
                    location,
                    format!("{} removed", describe(b)),
                    Effect::Removed { was_required: true },
                    Uses::RESPONSE,
                ),
                (Some(ob), Some(nb)) => {
                    if let Some((effect, detail)) = self.slot(ob, nb, Uses::RESPONSE) {
                        self.push(
                            group.clone(),
                            Kind::ResponseBodyTypeChanged,
                            location,
                            detail,
                            effect,
                            Uses::RESPONSE,
                        );
                    }
                }
            }
        }
        for n in &new.responses {
            if !old.responses.iter().any(|o| o.status == n.status) {
                // A new outcome the client must handle; the server may use it or not.
                let body = n
                    .body
                    .as_ref()
                    .map(|b| format!(" ({})", describe(b)))
                    .unwrap_or_default();
                self.push_fixed(
                    group.clone(),
                    Kind::ResponseStatusAdded,
                    format!("response {}", status(n.status)),
                    format!("status added{body}"),
                    (false, true),
                );
            }
        }
    }

    // ---- types -----------------------------------------------------------------

    /// Compares the types in one place. Named schemas found on both sides become a
    /// pair (compared later, in their own group); the result is the change of the
    /// place itself, if any.
    fn slot(&mut self, old: &TypeRef, new: &TypeRef, uses: Uses) -> Option<(Effect, String)> {
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
    fn walk_pair(&mut self, old: &str, new: &str) {
        let uses = self.pairs[&(old.to_owned(), new.to_owned())];
        let (Some(od), Some(nd)) = (self.old.types.get(old), self.new.types.get(new)) else {
            return;
        };
        for (a, b) in inner_pairs(od, nd) {
            self.slot(&a, &b, uses);
        }
    }

    fn compare_pair(&mut self, old: &str, new: &str, uses: Uses) {
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

    // ---- recording ---------------------------------------------------------------

    fn push(
        &mut self,
        group: Group,
        kind: Kind,
        location: String,
        detail: String,
        effect: Effect,
        uses: Uses,
    ) {
        let (server, client) = effect.breaks(uses);
        self.push_fixed(group, kind, location, detail, (server, client));
    }

    fn push_fixed(
        &mut self,
        group: Group,
        kind: Kind,
        location: String,
        detail: String,
        (breaks_server, breaks_client): (bool, bool),
    ) {
        self.changes.push(Change {
            group,
            kind,
            location,
            detail,
            breaks_server,
            breaks_client,
        });
    }

    /// Values (enum values, tags) removed from a set narrow it, added ones widen it.
    fn push_set<'v>(
        &mut self,
        group: &Group,
        (removed_kind, added_kind): (Kind, Kind),
        location: &str,
        old: impl Iterator<Item = &'v str>,
        new: impl Iterator<Item = &'v str>,
        uses: Uses,
    ) {
        let (old, new): (BTreeSet<&str>, BTreeSet<&str>) = (old.collect(), new.collect());
        let removed: Vec<&str> = old.difference(&new).copied().collect();
        let added: Vec<&str> = new.difference(&old).copied().collect();
        for (kind, values, word, effect) in [
            (removed_kind, removed, "removed", Effect::Narrowed),
            (added_kind, added, "added", Effect::Widened),
        ] {
            if !values.is_empty() {
                let detail = format!("{word}: {}", list(&values));
                self.push(group.clone(), kind, location.into(), detail, effect, uses);
            }
        }
    }

    fn push_required(
        &mut self,
        group: &Group,
        kind: Kind,
        location: String,
        was: bool,
        now: bool,
        uses: Uses,
    ) {
        let effect = if now {
            Effect::BecameRequired
        } else {
            Effect::BecameOptional
        };
        let detail = format!("{} → {}", required_word(was), required_word(now));
        self.push(group.clone(), kind, location, detail, effect, uses);
    }

    fn push_added(
        &mut self,
        group: &Group,
        kind: Kind,
        location: String,
        required: bool,
        ty: &TypeRef,
        uses: Uses,
    ) {
        let effect = if required {
            Effect::AddedRequired
        } else {
            Effect::AddedOptional
        };
        let detail = format!("added ({}, {})", required_word(required), describe(ty));
        self.push(group.clone(), kind, location, detail, effect, uses);
    }
}

fn others_of(op: &Operation) -> Vec<(&'static str, &Param)> {
    let mut all: Vec<(&'static str, &Param)> =
        op.query_params.iter().map(|p| ("query", p)).collect();
    all.extend(op.header_params.iter().map(|p| ("header", p)));
    all
}

/// `/productOrder/{id}` and `/productOrder/{productOrderId}` are the same place.
fn normalize_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "{}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
        .trim_end_matches('/')
        .to_owned()
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
        Some(TypeKind::StringEnum(_)) => Shape::Enum,
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

fn describe(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named(name) => name.clone(),
        TypeRef::String => "string".into(),
        TypeRef::DateTime => "date-time".into(),
        TypeRef::Integer { bits } => format!("int{bits}"),
        TypeRef::Number => "number".into(),
        TypeRef::Boolean => "boolean".into(),
        TypeRef::Any => "any".into(),
        TypeRef::Array(item) => format!("[{}]", describe(item)),
        TypeRef::Map(value) => format!("map<{}>", describe(value)),
    }
}

fn kind_word(kind: &TypeKind) -> &'static str {
    match kind {
        TypeKind::Struct(_) => "object",
        TypeKind::StringEnum(_) => "string enum",
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

fn required_word(required: bool) -> &'static str {
    if required { "required" } else { "optional" }
}

fn list(values: &[&str]) -> String {
    const MAX: usize = 8;
    let shown: Vec<&str> = values.iter().take(MAX).copied().collect();
    let more = values.len().saturating_sub(MAX);
    let mut text = shown.join(", ");
    if more > 0 {
        text.push_str(&format!(" … and {more} more"));
    }
    text
}

/// `{apiRoot}/tmf-api/x/v4` is served at `/tmf-api/x/v4`: a leading server variable
/// is the host part.
fn strip_root(path: &str) -> &str {
    match path.strip_prefix('{').and_then(|rest| rest.split_once('}')) {
        Some((_, rest)) => rest,
        None => path,
    }
}

fn show(path: &str) -> &str {
    if path.is_empty() { "(none)" } else { path }
}
