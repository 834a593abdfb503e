//! `listEvent` with a filter, or for a caller need-to-know restricts: which index of the
//! store the filter can use ([`plan`]), and the listing itself — from the index's
//! count and a page of its candidates when the index answers the whole filter, else by
//! examining candidates (the index's, or the whole log's) one by one, in batches that
//! yield to other requests, under the [`ScanLimits`] (a place among the scans running
//! at once, a budget of events examined per request).
//!
//! The index only narrows what is examined: every candidate still goes through the
//! whole TMF630 filter and need-to-know, so the answer is what a scan of the log gives.

use serde_json::Value;
use tmf688_api::models::Event;
use tmf688_api::server::RequestContext;
use tmf688_api::support::{ApiError, Projection};

use crate::query::{Fields, Filter, Op, Page};
use crate::store::index::micros;
use crate::store::{EventRecord, IndexKey, Seq, Store, StoreError};

use super::Hub688;
use super::access::viewer;
use super::config::ScanLimits;
use super::errors::{store_error, topic_not_found};
use super::render::{event_render, project};

/// How many events are read and examined between two yields to other tasks (about a
/// millisecond of work for the guide's 1.4 KB events).
const SCAN_BATCH: usize = 256;

/// What the store's indexes can do for a filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Plan {
    /// The most selective indexed predicate among the filter's clauses: `eventId`,
    /// else `eventType`, else an `eventTime` range (every `eventTime` clause that
    /// bounds it). `None`: the log is read.
    pub(super) key: Option<IndexKey>,
    /// The key is the whole filter (its one clause, an equality on `eventId` or
    /// `eventType`): the store's count is the number of matches.
    pub(super) exact: bool,
}

/// The index a filter can use. Only `=`/`.eq` on `eventId` and `eventType`, and the
/// comparisons of `eventTime` (`.eq`, `.gt`, `.gte`, `.lt`, `.lte`; `raisedAfter` and
/// `raisedBefore` are `eventTime.gt`/`.lt`) qualify; `.ne`, other attributes and a
/// value holding U+0000 (which no index holds) do not.
pub(super) fn plan(filter: &Filter) -> Plan {
    let mut ids: Option<Vec<String>> = None;
    let mut types: Option<Vec<String>> = None;
    let (mut from_us, mut to_us, mut timed) = (None::<i64>, None::<i64>, false);
    for clause in filter.clauses() {
        let [attribute] = clause.path.as_slice() else {
            continue;
        };
        let equality = clause.op == Op::Eq && !clause.values.iter().any(|v| v.contains('\0'));
        let mut distinct = clause.values.clone();
        distinct.sort_unstable();
        distinct.dedup();
        match attribute.as_str() {
            "eventId" if equality && ids.as_ref().is_none_or(|v| v.len() > distinct.len()) => {
                ids = Some(distinct);
            }
            "eventType" if equality && types.as_ref().is_none_or(|v| v.len() > distinct.len()) => {
                types = Some(distinct);
            }
            "eventTime" => {
                let Some(times) = clause.date_times() else {
                    continue;
                };
                let keys = times.iter().map(micros);
                // Inclusive bounds on the instant truncated to the microsecond, one
                // more at the top: a superset (PostgreSQL rounds the keys of rows
                // stored before migration 0008 to the nearest microsecond).
                let (low, high) = match clause.op {
                    Op::Eq => (keys.clone().min(), keys.max().map(|k| k.saturating_add(1))),
                    Op::Gt | Op::Gte => (keys.min(), None),
                    Op::Lt | Op::Lte => (None, keys.max().map(|k| k.saturating_add(1))),
                    Op::Ne => continue,
                };
                timed = true;
                from_us = match (from_us, low) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                to_us = match (to_us, high) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            _ => {}
        }
    }
    let single = filter.clauses().len() == 1;
    if let Some(ids) = ids {
        return Plan {
            key: Some(IndexKey::EventId(ids)),
            exact: single,
        };
    }
    if let Some(types) = types {
        return Plan {
            key: Some(IndexKey::EventType(types)),
            exact: single,
        };
    }
    Plan {
        key: timed.then_some(IndexKey::EventTime { from_us, to_us }),
        exact: false,
    }
}

/// A listing's page and the number of events it was taken from (`X-Total-Count`).
pub(super) struct Listed {
    pub(super) body: Vec<Projection<Event>>,
    pub(super) total: usize,
}

/// Where candidates come from.
enum Source<'a> {
    Index(&'a IndexKey),
    Log,
}

impl<S: Store> Hub688<S> {
    /// The page of the topic's events that match `filter` and that the caller may see,
    /// with their number. `head` is the log's head when the listing began: events
    /// appended since are not examined, so that the count is of one moment.
    pub(super) async fn list_filtered(
        &self,
        ctx: &RequestContext,
        topic_id: &str,
        filter: &Filter,
        fields: Option<&Fields>,
        page: Page,
        head: Seq,
    ) -> Result<Listed, ApiError> {
        let not_found = |error| match error {
            StoreError::NotFound(_) => topic_not_found(topic_id),
            other => store_error(other),
        };
        let viewer = viewer(ctx);
        let policy = self.delivery.need_to_know();
        let restricted = viewer.restricted_by(policy.as_ref());
        let plan = plan(filter);
        let limits = &self.config.scans;
        let mut selected = None;
        if let Some(key) = &plan.key {
            selected = self
                .store
                .count_indexed(topic_id, key)
                .await
                .map_err(not_found)?;
            if let (true, false, Some(total)) = (plan.exact, restricted, selected) {
                return self
                    .indexed_page(ctx, topic_id, key, fields, page, total, limits)
                    .await;
            }
        }
        // Examining what the key selects (or the log) would cost more than the budget.
        if let Some(selected) = selected
            && over_budget(limits, selected)
        {
            return Err(scan_limit(topic_id, limits));
        }
        let _place = self
            .scans
            .acquire()
            .await
            .map_err(|_| ApiError::internal("the hub is shutting down"))?;
        let mut source = plan.key.as_ref().map_or(Source::Log, Source::Index);
        let (mut body, mut matched, mut examined, mut after) = (Vec::new(), 0usize, 0u64, 0);
        loop {
            let batch = match source {
                Source::Index(key) => {
                    match self
                        .store
                        .indexed_events(topic_id, key, after, SCAN_BATCH)
                        .await
                        .map_err(not_found)?
                    {
                        Some(batch) => batch,
                        None => {
                            source = Source::Log;
                            continue;
                        }
                    }
                }
                Source::Log => self
                    .store
                    .read_events(topic_id, after, SCAN_BATCH)
                    .await
                    .map_err(not_found)?,
            };
            let batch: Vec<&EventRecord> = batch.iter().filter(|r| r.seq <= head).collect();
            let Some(last) = batch.last() else { break };
            after = last.seq;
            examined += batch.len() as u64;
            if over_budget(limits, examined) {
                return Err(scan_limit(topic_id, limits));
            }
            for record in batch {
                let full = event_render(ctx, topic_id, record, None).to_map(&record.body)?;
                let value = Value::Object(full);
                if !filter.matches(&value) || !viewer.sees_event(policy.as_ref(), &value) {
                    continue;
                }
                if matched >= page.offset && body.len() < page.limit {
                    body.push(project(value, fields)?);
                }
                matched += 1;
            }
            // Other requests (health checks, publishers) run between batches.
            tokio::task::yield_now().await;
        }
        Ok(Listed {
            body,
            total: matched,
        })
    }

    /// The page when the index answers the whole filter and the caller sees every
    /// event: `total` is the store's count, and only the candidates up to the page's
    /// end are read (those before it, the offset, count against the budget).
    #[allow(clippy::too_many_arguments)]
    async fn indexed_page(
        &self,
        ctx: &RequestContext,
        topic_id: &str,
        key: &IndexKey,
        fields: Option<&Fields>,
        page: Page,
        total: u64,
        limits: &ScanLimits,
    ) -> Result<Listed, ApiError> {
        let total = usize::try_from(total).unwrap_or(usize::MAX);
        let end = page.offset.saturating_add(page.limit).min(total);
        let (mut body, mut seen, mut after) = (Vec::new(), 0usize, 0);
        while seen < end {
            if over_budget(limits, seen as u64) {
                return Err(scan_limit(topic_id, limits));
            }
            let want = (end - seen).min(SCAN_BATCH.max(page.limit));
            let Some(batch) = self
                .store
                .indexed_events(topic_id, key, after, want)
                .await
                .map_err(store_error)?
            else {
                break;
            };
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for record in &batch {
                if seen >= page.offset && body.len() < page.limit {
                    let full = event_render(ctx, topic_id, record, None).to_map(&record.body)?;
                    body.push(project(Value::Object(full), fields)?);
                }
                seen += 1;
            }
            if seen < end {
                tokio::task::yield_now().await;
            }
        }
        Ok(Listed { body, total })
    }
}

fn over_budget(limits: &ScanLimits, examined: u64) -> bool {
    limits.max_events_per_request != 0 && examined > limits.max_events_per_request
}

/// 400: the listing would examine more events than one request may.
fn scan_limit(topic_id: &str, limits: &ScanLimits) -> ApiError {
    ApiError::new(
        http::StatusCode::BAD_REQUEST,
        "Filter too broad",
        format!(
            "answering this filter would examine more than {} events of topic {topic_id:?} \
             (the hub's [scans] max_events_per_request): narrow it with an indexed \
             attribute — eventId=, eventType=, an eventTime range (eventTime.gte=, \
             eventTime.lt=, or raisedAfter=/raisedBefore=) — or list a smaller offset",
            limits.max_events_per_request
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Schema;

    fn plan_of(pairs: &[(&str, &str)]) -> Plan {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        plan(&Filter::from_pairs(&pairs, &Schema::event("alarm")).unwrap())
    }

    #[test]
    fn plans_pick_the_most_selective_index() {
        let ids = |v: &[&str]| Some(IndexKey::EventId(v.iter().map(|s| (*s).into()).collect()));
        let types = |v: &[&str]| Some(IndexKey::EventType(v.iter().map(|s| (*s).into()).collect()));
        assert_eq!(
            plan_of(&[("eventId", "b,a,b")]),
            Plan {
                key: ids(&["a", "b"]),
                exact: true
            }
        );
        assert_eq!(plan_of(&[("eventId[eq]", "a")]).key, ids(&["a"]));
        assert_eq!(
            plan_of(&[("eventType", "T"), ("eventId", "a")]),
            Plan {
                key: ids(&["a"]),
                exact: false
            }
        );
        assert_eq!(
            plan_of(&[("eventType.eq", "T")]),
            Plan {
                key: types(&["T"]),
                exact: true
            }
        );
        assert_eq!(
            plan_of(&[("eventType", "T"), ("event.x", "1")]),
            Plan {
                key: types(&["T"]),
                exact: false
            }
        );
        for unindexed in [
            &[("eventType.ne", "T")][..],
            &[("eventId.gt", "a")],
            &[("eventType", "a\0")],
            &[("event.eventType", "T")],
            &[("eventTime.ne", "2026-01-01T00:00:00Z")],
            &[("description", "x")],
        ] {
            assert_eq!(
                plan_of(unindexed),
                Plan {
                    key: None,
                    exact: false
                },
                "{unindexed:?}"
            );
        }
        let second = 1_767_225_600_000_000;
        assert_eq!(
            plan_of(&[
                ("eventTime.gt", "2026-01-01T00:00:00Z"),
                (
                    "eventTime.lt",
                    "2026-01-01T02:00:00+02:00,2026-01-01T00:00:01Z"
                ),
                ("eventTime.gte", "2025-01-01T00:00:00Z"),
            ]),
            Plan {
                key: Some(IndexKey::EventTime {
                    from_us: Some(second),
                    to_us: Some(second + 1_000_001),
                }),
                exact: false
            }
        );
    }
}
