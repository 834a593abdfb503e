//! Boxing fields that would make a type contain itself (TMF order items contain order
//! items). Only edges a value holds *directly* count: `Vec` and maps already allocate,
//! and enum variants of hierarchies are boxed when emitted.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{TypeDef, TypeKind, TypeRef};

/// Marks `boxed` on every struct field that closes a cycle of direct containment.
pub fn box_cycles(types: &mut BTreeMap<String, TypeDef>) {
    let edges: BTreeMap<String, BTreeSet<String>> = types
        .iter()
        .map(|(name, def)| (name.clone(), direct_targets(def)))
        .collect();
    for (name, def) in types.iter_mut() {
        if let TypeKind::Struct(s) = &mut def.kind {
            for field in &mut s.fields {
                if let TypeRef::Named(target) = &field.ty {
                    field.boxed = reaches(&edges, target, name);
                }
            }
        }
    }
}

fn direct_targets(def: &TypeDef) -> BTreeSet<String> {
    match &def.kind {
        TypeKind::Struct(s) => s
            .fields
            .iter()
            .filter_map(|f| match &f.ty {
                TypeRef::Named(target) => Some(target.clone()),
                _ => None,
            })
            .collect(),
        TypeKind::Alias(TypeRef::Named(target)) => BTreeSet::from([target.clone()]),
        _ => BTreeSet::new(),
    }
}

fn reaches(edges: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut stack = vec![from.to_owned()];
    let mut seen = BTreeSet::new();
    while let Some(node) = stack.pop() {
        if node == to {
            return true;
        }
        if seen.insert(node.clone()) {
            if let Some(next) = edges.get(&node) {
                stack.extend(next.iter().cloned());
            }
        }
    }
    false
}
