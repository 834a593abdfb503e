//! How stored resources are answered: their `href`s, the stored body with `id`/`href`
//! as a model, and the `fields=` projection.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tmf688_api::server::RequestContext;
use tmf688_api::support::{ApiError, Projection, encode_path_segment, from_value_exact};

use crate::query::Fields;
use crate::store::EventRecord;

pub(super) fn topic_href(ctx: &RequestContext, topic_id: &str) -> String {
    format!("{}/topic/{}", ctx.base_path, encode_path_segment(topic_id))
}

pub(super) fn child_href(ctx: &RequestContext, topic_id: &str, kind: &str, id: &str) -> String {
    format!(
        "{}/{kind}/{}",
        topic_href(ctx, topic_id),
        encode_path_segment(id)
    )
}

/// What a stored resource turns into in an answer.
pub(super) struct Render<'a> {
    pub(super) id: &'a str,
    pub(super) href: String,
    pub(super) fields: Option<&'a Fields>,
}

impl Render<'_> {
    /// Stored body + `id`/`href` as the model `T` (no projection).
    pub(super) fn to_model<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, ApiError> {
        let map = self.to_map(body)?;
        decode_model(Value::Object(map))
    }

    /// Stored body + `id`/`href`, projected when `fields=` was given.
    pub(super) fn to_projection<T: DeserializeOwned>(
        &self,
        body: &[u8],
    ) -> Result<Projection<T>, ApiError> {
        let map = self.to_map(body)?;
        if self.fields.is_some() {
            Ok(Projection::Partial(map))
        } else {
            Ok(full_or_as_stored(map))
        }
    }

    pub(super) fn to_map(&self, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
        let mut map: Map<String, Value> = serde_json::from_slice(body).map_err(|error| {
            tracing::error!(%error, "stored resource is not a JSON object");
            ApiError::internal("a stored resource could not be read")
        })?;
        // `id` and `href` first, as TMF samples write them.
        let mut out = Map::with_capacity(map.len() + 2);
        out.insert("id".into(), Value::String(self.id.to_owned()));
        out.insert("href".into(), Value::String(self.href.clone()));
        map.remove("id");
        map.remove("href");
        out.append(&mut map);
        if let Some(fields) = self.fields {
            fields.project(&mut out);
        }
        Ok(out)
    }
}

/// A rendered resource as answered: only the `fields=` asked for, or the whole model.
pub(super) fn project<T: DeserializeOwned>(
    value: Value,
    fields: Option<&Fields>,
) -> Result<Projection<T>, ApiError> {
    match (fields, value) {
        (Some(fields), Value::Object(mut map)) => {
            fields.project(&mut map);
            Ok(Projection::Partial(map))
        }
        (None, Value::Object(map)) => Ok(full_or_as_stored(map)),
        (_, value) => decode_model(value).map(Projection::Full),
    }
}

/// A stored resource as the model `T` — or, when it no longer fits (stored by an
/// earlier version, before a rule it breaks: an impossible `eventTime`, a relative
/// `@schemaLocation`), as it was stored: what was once accepted can still be read.
pub(super) fn full_or_as_stored<T: DeserializeOwned>(map: Map<String, Value>) -> Projection<T> {
    // Numbers exactly as stored (`-0`, integers beyond 64 bits): see `from_value_exact`.
    let value = Value::Object(map);
    match from_value_exact(&value) {
        Ok(model) => Projection::Full(model),
        Err(error) => {
            tracing::warn!(%error, "a stored resource does not fit its model (stored before a rule it breaks); answered as stored");
            Projection::Partial(match value {
                Value::Object(map) => map,
                _ => Map::new(), // built as an object above
            })
        }
    }
}

fn decode_model<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    from_value_exact(&value).map_err(|error| {
        tracing::error!(%error, "stored resource does not fit its model");
        ApiError::internal("a stored resource could not be read")
    })
}

/// How an event of `topic_id`'s log is answered.
pub(super) fn event_render<'a>(
    ctx: &RequestContext,
    topic_id: &str,
    record: &'a EventRecord,
    fields: Option<&'a Fields>,
) -> Render<'a> {
    Render {
        id: &record.id,
        href: child_href(ctx, topic_id, "event", &record.id),
        fields,
    }
}
