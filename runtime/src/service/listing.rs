//! List answers: filtering, counting and paging resources already rendered as JSON
//! maps (`listTopic`, `listHub`; `listEvent` pages its log itself, see `events.rs`).

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tmf688_api::support::{ApiError, Projection};

use crate::query::{Fields, Filter, Page};

use super::render::project;

/// Filters, counts and pages resources already rendered as JSON maps.
pub(super) struct Listing<T> {
    pub(super) page: Vec<Projection<T>>,
    pub(super) total: usize,
    pub(super) complete: bool,
}

pub(super) fn list<T: DeserializeOwned>(
    maps: Vec<Map<String, Value>>,
    filter: &Filter,
    fields: Option<&Fields>,
    page: Page,
) -> Result<Listing<T>, ApiError> {
    let matching: Vec<Map<String, Value>> = if filter.is_empty() {
        maps
    } else {
        maps.into_iter()
            .filter(|map| filter.matches(&Value::Object(map.clone())))
            .collect()
    };
    let total = matching.len();
    let (selected, complete) = page.apply(matching);
    let page = selected
        .into_iter()
        .map(|map| project(Value::Object(map), fields))
        .collect::<Result<Vec<Projection<T>>, ApiError>>()?;
    Ok(Listing {
        page,
        total,
        complete,
    })
}

/// A count as the `X-Total-Count`/`X-Result-Count` headers take it.
pub(super) fn count(n: usize) -> Option<i64> {
    i64::try_from(n).ok()
}
