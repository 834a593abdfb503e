//! Operations: matched, then their parameters (type, location, serialization), request
//! body and responses (type, media types) compared.

use std::collections::BTreeSet;

use super::{Comparison, describe, list, required_word};
use crate::diff::{Effect, Group, Kind, Uses};
use crate::ir::{Operation, Param, Shape, Style, Wire};

impl Comparison<'_> {
    pub(super) fn operations(&mut self) {
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
            self.param_wire(group, "path", o, n);
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
            } else {
                // (A new location writes it otherwise anyway: reported once, above.)
                self.param_wire(group, new_location, o, n);
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

    /// A parameter written otherwise breaks both sides: the old client's text is not
    /// what the new server splits, and the reverse.
    fn param_wire(&mut self, group: &Group, location: &str, o: &Param, n: &Param) {
        if written(&o.wire) != written(&n.wire) {
            self.push(
                group.clone(),
                Kind::ParameterStyleChanged,
                format!("{location} parameter {}", n.http_name),
                format!("{} → {}", style_text(&o.wire), style_text(&n.wire)),
                Effect::Replaced,
                Uses::REQUEST,
            );
        }
    }

    /// Media types listed for a body: fewer narrow what its producer may send, more
    /// widen what its consumer must read, another one replaces it (both break).
    fn media_types(
        &mut self,
        group: &Group,
        kind: Kind,
        location: &str,
        old: &[String],
        new: &[String],
        uses: Uses,
    ) {
        let (old, new) = (media_set(old), media_set(new));
        if old.is_empty() || new.is_empty() || old == new {
            return;
        }
        let removed: Vec<&str> = old.difference(&new).map(String::as_str).collect();
        let added: Vec<&str> = new.difference(&old).map(String::as_str).collect();
        let effect = match (removed.is_empty(), added.is_empty()) {
            (false, true) => Effect::Narrowed,
            (true, false) => Effect::Widened,
            _ => Effect::Replaced,
        };
        let all =
            |set: &BTreeSet<String>| list(&set.iter().map(String::as_str).collect::<Vec<_>>());
        self.push(
            group.clone(),
            kind,
            location.into(),
            format!("{} → {}", all(&old), all(&new)),
            effect,
            uses,
        );
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
                self.media_types(
                    group,
                    Kind::RequestBodyMediaTypeChanged,
                    &location,
                    &o.media_types,
                    &n.media_types,
                    Uses::REQUEST,
                );
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
                    self.media_types(
                        group,
                        Kind::ResponseBodyMediaTypeChanged,
                        &location,
                        &o.media_types,
                        &n.media_types,
                        Uses::RESPONSE,
                    );
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
}

fn others_of(op: &Operation) -> Vec<(&'static str, &Param)> {
    let mut all: Vec<(&'static str, &Param)> =
        op.query_params.iter().map(|p| ("query", p)).collect();
    all.extend(op.header_params.iter().map(|p| ("header", p)));
    all.extend(op.cookie_params.iter().map(|p| ("cookie", p)));
    all
}

/// What decides the text a parameter is written as (generated `params.rs`): `style` and
/// `explode`, except where they make no difference for its shape — `explode` of a
/// scalar; `simple` arrays (`a,b` either way); exploded delimited arrays, which are
/// repeated `name=value` pairs as with exploded `form`.
fn written(wire: &Wire) -> (Style, bool) {
    match (&wire.shape, wire.style) {
        (Shape::Scalar, style) => (style, false),
        (Shape::Array, Style::Simple) => (Style::Simple, false),
        (Shape::Array, Style::SpaceDelimited | Style::PipeDelimited | Style::TabDelimited)
            if wire.explode =>
        {
            (Style::Form, true)
        }
        (_, style) => (style, wire.explode),
    }
}

/// `form, explode` / `pipeDelimited` as the document would say it.
fn style_text(wire: &Wire) -> String {
    let style = match wire.style {
        Style::Form => "form",
        Style::Simple => "simple",
        Style::Label => "label",
        Style::Matrix => "matrix",
        Style::SpaceDelimited => "spaceDelimited",
        Style::PipeDelimited => "pipeDelimited",
        Style::TabDelimited => "tsv (Swagger 2.0)",
        Style::DeepObject => "deepObject",
    };
    if wire.explode {
        format!("{style}, explode")
    } else {
        style.to_owned()
    }
}

/// Media types by their essence (`type/subtype`, case-insensitive as RFC 9110 §8.3.1
/// says); parameters are left out: the `charset=utf-8` Swagger 2.0 documents add to JSON
/// means nothing for it (RFC 8259 §11 defines no parameter) and no reader refuses it.
fn media_set(types: &[String]) -> BTreeSet<String> {
    types
        .iter()
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .collect()
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
