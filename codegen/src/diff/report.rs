//! The text and JSON forms of a [`Diff`].
//!
//! JSON shape (`"format": "tmfgen-diff/1"`; keys are stable, new keys may be added):
//!
//! ```json
//! {
//!   "format": "tmfgen-diff/1",
//!   "old": { "spec": "a.yaml", "version": "4.0.0" },
//!   "new": { "spec": "b.yaml", "version": "5.0.0" },
//!   "breaking": { "server": true, "client": false },
//!   "summary": {
//!     "changes": 3, "breaking_server": 1, "breaking_client": 0,
//!     "by_kind": { "operation_added": { "total": 1, "server": 1, "client": 0 } }
//!   },
//!   "changes": [
//!     { "group": "operation", "name": "listAlarm", "kind": "operation_added",
//!       "location": "operation", "detail": "GET /alarm added (in AlarmApi)",
//!       "breaks": { "server": true, "client": false } }
//!   ]
//! }
//! ```
//!
//! `group` is `api`, `operation` (name: the new `operationId`, the old one when
//! removed) or `schema` (name: the Rust type, `New (was Old)` when renamed).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Change, Diff, Group, Kind};

/// How many breaking lines a group shows in the text report without `--all`.
const LINES_PER_GROUP: usize = 8;

/// Counts per kind: `(total, breaks_server, breaks_client)`.
fn by_kind(diff: &Diff) -> BTreeMap<&'static str, (usize, usize, usize)> {
    let mut counts: BTreeMap<&'static str, (usize, usize, usize)> = BTreeMap::new();
    for change in &diff.changes {
        let entry = counts.entry(change.kind.as_str()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(change.breaks_server);
        entry.2 += usize::from(change.breaks_client);
    }
    counts
}

fn group_label(group: &Group) -> (&'static str, &str) {
    match group {
        Group::Api => ("api", ""),
        Group::Operation(name) => ("operation", name),
        Group::Schema(name) => ("schema", name),
    }
}

/// The JSON report.
pub fn json(diff: &Diff, old: &str, new: &str) -> Value {
    let kinds: serde_json::Map<String, Value> = by_kind(diff)
        .into_iter()
        .map(|(kind, (total, server, client))| {
            (
                kind.to_owned(),
                json!({ "total": total, "server": server, "client": client }),
            )
        })
        .collect();
    let changes: Vec<Value> = diff
        .changes
        .iter()
        .map(|c| {
            let (group, name) = group_label(&c.group);
            json!({
                "group": group,
                "name": name,
                "kind": c.kind.as_str(),
                "location": c.location,
                "detail": c.detail,
                "breaks": { "server": c.breaks_server, "client": c.breaks_client },
            })
        })
        .collect();
    let count = |f: fn(&Change) -> bool| diff.changes.iter().filter(|c| f(c)).count();
    json!({
        "format": "tmfgen-diff/1",
        "old": { "spec": old, "version": diff.old_version },
        "new": { "spec": new, "version": diff.new_version },
        "breaking": {
            "server": diff.changes.iter().any(|c| c.breaks_server),
            "client": diff.changes.iter().any(|c| c.breaks_client),
        },
        "summary": {
            "changes": diff.changes.len(),
            "breaking_server": count(|c| c.breaks_server),
            "breaking_client": count(|c| c.breaks_client),
            "by_kind": kinds,
        },
        "changes": changes,
    })
}

fn marker(change: &Change) -> &'static str {
    match (change.breaks_server, change.breaks_client) {
        (true, true) => "BREAKS server+client",
        (true, false) => "BREAKS server       ",
        (false, true) => "BREAKS client       ",
        (false, false) => "ok                  ",
    }
}

/// The text report: summary counts first, then the changes grouped by operation and
/// schema. Without `all`, a group lists at most a few breaking changes and only counts
/// its non-breaking ones, and groups with nothing breaking are only counted.
pub fn text(diff: &Diff, old: &str, new: &str, all: bool) -> String {
    let mut out = String::new();
    let server = diff.changes.iter().filter(|c| c.breaks_server).count();
    let client = diff.changes.iter().filter(|c| c.breaks_client).count();
    let _ = writeln!(
        out,
        "{old} ({}) → {new} ({})",
        diff.old_version, diff.new_version
    );
    if diff.changes.is_empty() {
        out.push_str("no changes\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{} change{}: {server} break servers (trait implementers), {client} break clients (client users)\n",
        diff.changes.len(),
        if diff.changes.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "  {:<32} {:>6} {:>7} {:>7}",
        "kind", "total", "server", "client"
    );
    for (kind, (total, s, c)) in by_kind(diff) {
        let _ = writeln!(out, "  {kind:<32} {total:>6} {s:>7} {c:>7}");
    }

    let mut groups: Vec<(&Group, Vec<&Change>)> = Vec::new();
    for change in &diff.changes {
        match groups.iter_mut().find(|(g, _)| **g == change.group) {
            Some((_, list)) => list.push(change),
            None => groups.push((&change.group, vec![change])),
        }
    }
    // Operations only added or removed: one line each, in two lists.
    for kind in [Kind::OperationRemoved, Kind::OperationAdded] {
        let lines: Vec<&Change> = groups
            .iter()
            .filter(|(_, changes)| changes.len() == 1 && changes[0].kind == kind)
            .map(|(_, changes)| changes[0])
            .collect();
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{} ({})",
            kind.as_str().replace('_', "s "),
            lines.len()
        );
        for change in lines {
            let (_, name) = group_label(&change.group);
            let _ = writeln!(out, "  {} {name}: {}", marker(change), change.detail);
        }
    }
    groups.retain(|(_, changes)| {
        !(changes.len() == 1
            && matches!(
                changes[0].kind,
                Kind::OperationAdded | Kind::OperationRemoved
            ))
    });
    let mut quiet = 0;
    for (group, changes) in &groups {
        let breaking: Vec<&&Change> = changes
            .iter()
            .filter(|c| c.breaks_server || c.breaks_client)
            .collect();
        if breaking.is_empty() && !all {
            quiet += 1;
            continue;
        }
        let (kind, name) = group_label(group);
        let heading = format!("{kind} {name}");
        let _ = writeln!(out, "\n{}", heading.trim_end());
        let shown: Vec<&&Change> = if all {
            changes.iter().collect()
        } else {
            breaking.iter().take(LINES_PER_GROUP).copied().collect()
        };
        for change in &shown {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                marker(change),
                change.location,
                change.detail
            );
        }
        if !all {
            let more = breaking.len() - shown.len();
            let fine = changes.len() - breaking.len();
            let mut rest = Vec::new();
            if more > 0 {
                rest.push(format!("{more} more breaking"));
            }
            if fine > 0 {
                rest.push(format!("{fine} non-breaking"));
            }
            if !rest.is_empty() {
                let _ = writeln!(out, "  … {} (--all lists them)", rest.join(", "));
            }
        }
    }
    if quiet > 0 {
        let _ = writeln!(
            out,
            "\n{quiet} more operations/schemas with only non-breaking changes (--all lists them)"
        );
    }
    out
}
