//! Matching operations and pairing the schemas they use.
//!
//! Operations match on `operationId` and on method + path (path parameter names
//! ignored); one that matches on only one of them is renamed or moved. Inside matched
//! operations, the types found in the same place (parameter, body, response, then
//! field by field) are compared: primitives at once, named schemas as *pairs*
//! `(old, new)` that are compared once, with every place they are used in (request,
//! response) known first — so each schema's changes are reported once, in its own
//! group, and classified for how it is used.

mod operations;
mod schemas;

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, Diff, Effect, Group, Kind, Uses};
use crate::ir::{Api, TypeRef};

pub(super) struct Comparison<'a> {
    old: &'a Api,
    new: &'a Api,
    changes: Vec<Change>,
    /// Schema pairs `(old, new)` and where they are used.
    pairs: BTreeMap<(String, String), Uses>,
    /// Pairs whose uses grew since they were last walked.
    pending: BTreeSet<(String, String)>,
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

fn describe(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named(name) => name.clone(),
        TypeRef::String => "string".into(),
        TypeRef::DateTime => "date-time".into(),
        TypeRef::Uri => "uri".into(),
        TypeRef::Integer { bits } => format!("int{bits}"),
        TypeRef::Number => "number".into(),
        TypeRef::Boolean => "boolean".into(),
        TypeRef::Any => "any".into(),
        TypeRef::Array(item) => format!("[{}]", describe(item)),
        TypeRef::Map(value) => format!("map<{}>", describe(value)),
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
