//! The TMF630 query language of list operations: attribute filters, `fields=`
//! projection and `offset`/`limit` paging (DESIGN §5).
//!
//! * Filters: `name=value` on any attribute, dot-notation into nested objects
//!   (`event.productOrder.state=completed`); a list matches if any element does; a
//!   comma is an OR of values (`eventType=A,B`); operators as suffixes
//!   (`eventTime.gt=...`, `.gte`, `.lt`, `.lte`, `.ne`, `.eq`) or in brackets
//!   (`eventTime[gt]=...`). Several parameters are a conjunction.
//! * Comparison by the attribute's type in the API's schema ([`Schema`]):
//!   - attributes typed `format: date-time` (`eventTime`, `timeOccurred`, the date-times
//!     of the topic's payload type) compare as **instants**: offsets and fractions are
//!     honoured (`12:30:00+02:00` = `10:30:00Z`, `.5` = `.500000`, `Z` = `+00:00`), and a
//!     date-time without an offset (`2026-01-01T10:00:00`, as the TMF guide writes them)
//!     is taken as **UTC**. A filter value that is not a date-time is a 400; a stored
//!     value that is not one matches nothing (and `.ne` everything);
//!   - JSON numbers compare **numerically on their exact value** ([`decimal`]: no
//!     rounding through `f64`, so `123456789012345678901234567890` >
//!     `123456789012345678901234567889`), equality included: `1e2` = `100` = `100.0`,
//!     `-0` = `0`. A filter value that is not a number matches no number;
//!   - strings by text (lexicographically; a string that looks like a date is still a
//!     string), except that ordering operators compare two numeric texts as numbers
//!     (`priority.lt=10` on `"3"`); booleans by `true`/`false`; `null` by `null`.

use serde_json::{Map, Value};
use tmf688_api::support::{ApiError, DateTime};

pub mod decimal;
mod schema;

pub use schema::Schema;

use decimal::Decimal;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=` or `.eq`
    Eq,
    /// `.ne`: no value at the path equals any listed value (a missing attribute matches).
    Ne,
    /// `.gt`
    Gt,
    /// `.gte`
    Gte,
    /// `.lt`
    Lt,
    /// `.lte`
    Lte,
}

impl Op {
    fn from_suffix(suffix: &str) -> Option<Self> {
        Some(match suffix {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "gt" => Self::Gt,
            "gte" => Self::Gte,
            "lt" => Self::Lt,
            "lte" => Self::Lte,
            _ => return None,
        })
    }
}

/// One condition: an attribute path, an operator and alternative values.
#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    /// The path, split on dots.
    pub path: Vec<String>,
    /// The operator.
    pub op: Op,
    /// Alternatives (OR).
    pub values: Vec<String>,
    /// The alternatives as date-times, when the schema types the attribute so.
    date_times: Option<Vec<DateTime>>,
}

/// A conjunction of clauses; the empty filter matches everything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    clauses: Vec<Clause>,
}

impl Filter {
    /// Builds a filter from query parameters (the generated `filters` field: every
    /// parameter that is not `fields`, `offset` or `limit`) over resources of `schema`.
    pub fn from_pairs(pairs: &[(String, String)], schema: &Schema) -> Result<Self, ApiError> {
        let mut clauses = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            clauses.push(parse_clause(key, value, schema)?);
        }
        Ok(Self { clauses })
    }

    /// Builds a filter from a query string such as a hub's `query`
    /// (`eventType=A&event.state=completed`) over resources of `schema`.
    pub fn parse_query_string(query: &str, schema: &Schema) -> Result<Self, ApiError> {
        let query = query.trim().trim_start_matches('?');
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|error| {
            ApiError::bad_request(format!("malformed query {query:?}: {error}"))
        })?;
        Self::from_pairs(&pairs, schema)
    }

    /// Adds a clause (e.g. one a named parameter stands for).
    pub fn push(&mut self, key: &str, value: &str, schema: &Schema) -> Result<(), ApiError> {
        self.clauses.push(parse_clause(key, value, schema)?);
        Ok(())
    }

    /// Whether there is no condition.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The clauses.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// Whether `resource` satisfies every clause.
    pub fn matches(&self, resource: &Value) -> bool {
        self.clauses.iter().all(|clause| clause.matches(resource))
    }
}

fn parse_clause(key: &str, value: &str, schema: &Schema) -> Result<Clause, ApiError> {
    let key = key.trim();
    let (path, op) = if let Some(open) = key.strip_suffix(']').and_then(|k| k.rfind('[')) {
        let op_text = &key[open + 1..key.len() - 1];
        let op = Op::from_suffix(op_text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown filter operator [{op_text}] in {key:?} (known: eq, ne, gt, gte, lt, lte)"
            ))
        })?;
        (&key[..open], op)
    } else {
        match key.rsplit_once('.') {
            Some((path, suffix)) => match Op::from_suffix(suffix) {
                Some(op) => (path, op),
                None => (key, Op::Eq),
            },
            None => (key, Op::Eq),
        }
    };
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(ApiError::bad_request(format!(
            "malformed filter attribute {key:?}"
        )));
    }
    let path: Vec<String> = path.split('.').map(str::to_owned).collect();
    let values: Vec<String> = value.split(',').map(str::to_owned).collect();
    let date_times = if schema.is_date_time(&path) {
        let parsed = values
            .iter()
            .map(|value| {
                DateTime::parse(value.trim()).map_err(|error| {
                    ApiError::bad_request(format!(
                        "filter {key:?} compares a date-time attribute: {error}"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Some(parsed)
    } else {
        None
    };
    Ok(Clause {
        path,
        op,
        values,
        date_times,
    })
}

impl Clause {
    /// The alternatives as date-times, when the schema types the attribute
    /// `format: date-time` (they compare as instants).
    pub fn date_times(&self) -> Option<&[DateTime]> {
        self.date_times.as_deref()
    }

    /// Whether `resource` satisfies this clause.
    pub fn matches(&self, resource: &Value) -> bool {
        let mut leaves = Vec::new();
        collect(resource, &self.path, &mut leaves);
        let (op, negate) = match self.op {
            Op::Ne => (Op::Eq, true),
            op => (op, false),
        };
        let any = match &self.date_times {
            Some(wanted) => leaves.iter().any(|leaf| {
                let Some(instant) = leaf.as_str().and_then(|text| DateTime::parse(text).ok())
                else {
                    return false;
                };
                let instant = instant.instant();
                wanted
                    .iter()
                    .any(|w| holds(Some(instant.cmp(&w.instant())), op))
            }),
            None => leaves
                .iter()
                .any(|leaf| self.values.iter().any(|v| compare(leaf, v, op))),
        };
        any != negate
    }
}

/// The values at `path`, fanning out over arrays.
fn collect<'a>(value: &'a Value, path: &[String], out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| collect(item, path, out)),
        _ => match path.split_first() {
            None => out.push(value),
            Some((head, rest)) => {
                if let Some(next) = value.as_object().and_then(|map| map.get(head)) {
                    collect(next, rest, out);
                }
            }
        },
    }
}

fn compare(leaf: &Value, wanted: &str, op: Op) -> bool {
    use std::cmp::Ordering;
    let ordering = match leaf {
        Value::String(text) => match (Decimal::parse(text), Decimal::parse(wanted)) {
            (Some(a), Some(b)) if op != Op::Eq => Some(a.cmp(&b)),
            _ => Some(text.as_str().cmp(wanted)),
        },
        Value::Number(number) => match (Decimal::parse(number.as_str()), Decimal::parse(wanted)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => None,
        },
        Value::Bool(flag) => match wanted {
            "true" => Some(flag.cmp(&true)),
            "false" => Some(flag.cmp(&false)),
            _ => None,
        },
        Value::Null => (wanted == "null").then_some(Ordering::Equal),
        Value::Array(_) | Value::Object(_) => None,
    };
    holds(ordering, op)
}

/// Whether `ordering` (of the stored value to the wanted one) satisfies `op`.
fn holds(ordering: Option<std::cmp::Ordering>, op: Op) -> bool {
    use std::cmp::Ordering;
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        Op::Eq | Op::Ne => ordering == Ordering::Equal,
        Op::Gt => ordering == Ordering::Greater,
        Op::Gte => ordering != Ordering::Less,
        Op::Lt => ordering == Ordering::Less,
        Op::Lte => ordering != Ordering::Greater,
    }
}

/// A `fields=` selection of first-level attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fields {
    names: Vec<String>,
}

/// Attributes every projection keeps.
pub const ALWAYS_KEPT: &[&str] = &["id", "href", "@type"];

impl Fields {
    /// Parses `a,b,c`; `None` for an absent or empty parameter (everything). A dotted
    /// name selects its first-level attribute.
    pub fn parse(fields: Option<&str>) -> Option<Self> {
        let names: Vec<String> = fields?
            .split(',')
            .map(|name| name.trim().split('.').next().unwrap_or_default().to_owned())
            .filter(|name| !name.is_empty())
            .collect();
        (!names.is_empty()).then_some(Self { names })
    }

    /// Whether first-level attribute `name` is selected (or always kept).
    pub fn keeps(&self, name: &str) -> bool {
        ALWAYS_KEPT.contains(&name) || self.names.iter().any(|n| n == name)
    }

    /// Drops the attributes not selected; `also_keep` lists attributes the caller
    /// cannot do without (e.g. those a typed model requires).
    pub fn project(&self, map: &mut Map<String, Value>) {
        map.retain(|name, _| self.keeps(name));
    }
}

/// Paging limits of list operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PagingConfig {
    /// The page size when the request gives no `limit`.
    pub default_limit: usize,
    /// The largest page served; a larger `limit` is reduced to it.
    pub max_limit: usize,
}

impl Default for PagingConfig {
    fn default() -> Self {
        Self {
            default_limit: 100,
            max_limit: 1000,
        }
    }
}

/// A requested page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// Index of the first item.
    pub offset: usize,
    /// Number of items at most.
    pub limit: usize,
}

impl Page {
    /// Validates `offset`/`limit` (negative → 400) and applies the defaults.
    pub fn new(
        offset: Option<i64>,
        limit: Option<i64>,
        config: &PagingConfig,
    ) -> Result<Self, ApiError> {
        let offset = match offset {
            None => 0,
            Some(n) => usize::try_from(n)
                .map_err(|_| ApiError::bad_request(format!("offset must be 0 or more, got {n}")))?,
        };
        let limit = match limit {
            None => config.default_limit,
            Some(n) => usize::try_from(n)
                .map_err(|_| ApiError::bad_request(format!("limit must be 0 or more, got {n}")))?
                .min(config.max_limit),
        };
        Ok(Self { offset, limit })
    }

    /// The page of `items`, and whether it is all of them.
    pub fn apply<T>(&self, items: Vec<T>) -> (Vec<T>, bool) {
        let total = items.len();
        let page: Vec<T> = items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        let complete = page.len() == total;
        (page, complete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(pairs: &[(&str, &str)]) -> Filter {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Filter::from_pairs(&pairs, &Schema::event("alarm")).unwrap()
    }

    #[test]
    fn filters_equality_or_paths_lists_and_operators() {
        let event = json!({
            "eventType": "AlarmCreateEvent",
            "priority": "3",
            "eventTime": "2021-01-02T10:00:00Z",
            "event": {"alarm": {"severity": "major", "count": 7}},
            "relatedParty": [{"id": "p1"}, {"id": "p2"}],
            "flag": true
        });
        assert!(filter(&[("eventType", "AlarmCreateEvent")]).matches(&event));
        assert!(filter(&[("eventType", "X,AlarmCreateEvent")]).matches(&event));
        assert!(!filter(&[("eventType", "X")]).matches(&event));
        assert!(filter(&[("event.alarm.severity", "major")]).matches(&event));
        assert!(filter(&[("relatedParty.id", "p2")]).matches(&event));
        assert!(!filter(&[("relatedParty.id", "p3")]).matches(&event));
        assert!(filter(&[("event.alarm.count.gt", "6")]).matches(&event));
        assert!(!filter(&[("event.alarm.count.gt", "7")]).matches(&event));
        assert!(filter(&[("event.alarm.count.gte", "7")]).matches(&event));
        assert!(filter(&[("event.alarm.count[lt]", "10")]).matches(&event));
        assert!(
            filter(&[("priority.lt", "10")]).matches(&event),
            "numeric text"
        );
        assert!(filter(&[("eventTime.gte", "2021-01-01T00:00:00Z")]).matches(&event));
        assert!(!filter(&[("eventTime.lt", "2021-01-01T00:00:00Z")]).matches(&event));
        assert!(filter(&[("eventType.ne", "X")]).matches(&event));
        assert!(!filter(&[("eventType.ne", "AlarmCreateEvent")]).matches(&event));
        assert!(filter(&[("missing.ne", "X")]).matches(&event));
        assert!(!filter(&[("missing", "X")]).matches(&event));
        assert!(filter(&[("flag", "true")]).matches(&event));
        assert!(
            !filter(&[("eventType", "AlarmCreateEvent"), ("flag", "false")]).matches(&event),
            "conjunction"
        );
        let untyped = Schema::untyped();
        assert!(Filter::from_pairs(&[("a[zz]".into(), "1".into())], &untyped).is_err());
        assert!(Filter::from_pairs(&[("a..b".into(), "1".into())], &untyped).is_err());
        assert!(
            Filter::parse_query_string("eventType=A&event.state=completed", &untyped)
                .unwrap()
                .matches(&json!({"eventType": "A", "event": {"state": "completed"}}))
        );
    }

    #[test]
    fn fields_keep_id_href_type() {
        let fields = Fields::parse(Some("name, event.x")).unwrap();
        let mut map =
            json!({"id": "1", "href": "/h", "@type": "T", "name": "n", "event": {}, "other": 1})
                .as_object()
                .cloned()
                .unwrap();
        fields.project(&mut map);
        let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["@type", "event", "href", "id", "name"]);
        assert_eq!(Fields::parse(Some(" , ")), None);
    }

    #[test]
    fn paging() {
        let config = PagingConfig {
            default_limit: 2,
            max_limit: 3,
        };
        let page = Page::new(None, None, &config).unwrap();
        assert_eq!(page.apply(vec![1, 2, 3]), (vec![1, 2], false));
        let page = Page::new(Some(1), Some(10), &config).unwrap();
        assert_eq!(page.limit, 3);
        assert_eq!(page.apply(vec![1, 2, 3]), (vec![2, 3], false));
        assert_eq!(
            Page::new(Some(0), Some(5), &config).unwrap().apply(vec![1]),
            (vec![1], true)
        );
        assert!(Page::new(Some(-1), None, &config).is_err());
        assert!(Page::new(None, Some(-1), &config).is_err());
    }
}
