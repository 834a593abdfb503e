//! Parameters on the wire, per OpenAPI 3.0 `style` × `explode` × location: the client
//! writes path segments, query strings, headers and cookies with [`ParamSpec`]s the
//! generator emits, and the server reads them back with the same specs.
//!
//! Every element (an array item, an object key or value) is percent-encoded before the
//! style's delimiters are put between elements, so a delimiter inside a value (`,` in
//! `in,progress`) stays data: `status=open&status=in%2Cprogress` (form, exploded) and
//! `status=open,in%2Cprogress` (form, not exploded) both read back as the two values.
//!
//! Label arrays and objects are written as RFC 6570 writes them (`.a,b` unexploded,
//! `.a.b` exploded); OpenAPI 3.0.3's table shows `.a.b` for both, so the server splits
//! unexploded label values on `,` and `.` alike (the client encodes both inside elements).
//!
//! Header arrays and objects are HTTP lists (RFC 9110 §5.6.1): recipients split them on
//! `,`, trim spaces and tabs around elements and ignore empty elements. So the client
//! also encodes spaces and tabs at an element's edges (`%20`, `%09`; inside it they stay
//! as they are) and the server decodes after trimming: `[" lead", "trail "]` reads back
//! as sent. An empty element has no form that survives (percent-encoding leaves it
//! empty), so the client refuses it (`ClientError::Encode`) instead of sending a list
//! that reads back shorter; an empty array is an empty header value, read back as `[]`.
//!
//! An empty matrix array is written `;name` (exploded or not) and read back as `[]`,
//! while `[""]` is `;name=`. RFC 6570 writes nothing for an empty list, but a path
//! parameter cannot be an empty segment (it would reach another route), so `;name`
//! stands for it, as RFC 6570 writes an empty string.

use ::std::string::String;
use ::std::vec::Vec;

/// How a parameter is written (OpenAPI 3.0 `style`, plus Swagger 2.0's `tsv`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `name=value` (query, cookie).
    Form,
    /// `a,b` (path, header).
    Simple,
    /// `.a,b` (path).
    Label,
    /// `;name=a,b` (path).
    Matrix,
    /// `name=a%20b` (query arrays and objects).
    SpaceDelimited,
    /// `name=a|b` (query arrays and objects).
    PipeDelimited,
    /// `name=a%09b`: Swagger 2.0 `collectionFormat: tsv`, which OpenAPI 3.0 has no
    /// style for (query arrays).
    TabDelimited,
    /// `name[key]=value` (query objects).
    DeepObject,
}

/// The shape of a parameter's value, which decides how its text is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One value.
    Scalar,
    /// A list of values.
    Array,
    /// Properties; for exploded `form` objects, the declared ones (they are written as
    /// query parameters of their own and read back by name).
    Object(&'static [&'static str]),
}

/// A documented parameter, as the generator saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    /// Its name in the document.
    pub name: &'static str,
    /// `style` (or the location's default).
    pub style: Style,
    /// `explode` (or the style's default).
    pub explode: bool,
    /// What its schema is.
    pub shape: Shape,
}

impl ParamSpec {
    /// The delimiter between elements of an unexploded array or object.
    fn delimiter(&self) -> char {
        match self.style {
            Style::SpaceDelimited => ' ',
            Style::PipeDelimited => '|',
            Style::TabDelimited => '\t',
            _ => ',',
        }
    }

    /// Whether a query or cookie pair named `name` belongs to this parameter.
    fn claims(&self, name: &str) -> bool {
        name == self.name
            || (self.style == Style::DeepObject
                && name.strip_prefix(self.name).is_some_and(|rest| rest.starts_with('[') && rest.ends_with(']')))
            || (self.style == Style::Form && self.explode && matches!(self.shape, Shape::Object(properties) if properties.contains(&name)))
    }
}

/// Everything but RFC 3986 `unreserved` is encoded inside an element.
const COMPONENT: &::percent_encoding::AsciiSet = &::percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Label elements also encode `.`, their delimiter (and so never form a dot segment).
const LABEL: &::percent_encoding::AsciiSet = &COMPONENT.add(b'.');

/// Header elements encode only what would end them or could not be sent: `%`, the
/// delimiters `,` and `=`, controls, and (always) non-ASCII bytes; spaces and tabs at
/// their edges are encoded by [`header_element`].
const HEADER: &::percent_encoding::AsciiSet = &::percent_encoding::CONTROLS.add(b'%').add(b',').add(b'=');

fn encode(text: &str, set: &'static ::percent_encoding::AsciiSet) -> String {
    ::percent_encoding::utf8_percent_encode(text, set).to_string()
}

/// Percent-encodes everything in `text` but RFC 3986 `unreserved` characters: one path
/// segment, query name or value that decodes to `text` (`.` and `..` excepted, which
/// URL parsers resolve whatever their encoding: see [`write_path`]).
pub fn encode_component(text: &str) -> String {
    encode(text, COMPONENT)
}

{% if client %}
use crate::support::ClientError;

/// A value taken apart for writing: the texts of its elements, not yet encoded.
enum Wire {
    Absent,
    Scalar(String),
    Array(Vec<String>),
    Object(Vec<(String, String)>),
}

/// The text of one element: strings as they are, other scalars as JSON, and (where no
/// style says how to write them) nested arrays and objects as JSON text.
fn text(value: ::serde_json::Value) -> String {
    match value {
        ::serde_json::Value::String(text) => text,
        ::serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn wire<T: ::serde::Serialize>(value: &T) -> ::std::result::Result<Wire, ClientError> {
    Ok(match ::serde_json::to_value(value).map_err(|e| ClientError::Encode(e.to_string()))? {
        ::serde_json::Value::Null => Wire::Absent,
        ::serde_json::Value::Array(items) => Wire::Array(items.into_iter().map(text).collect()),
        ::serde_json::Value::Object(map) => Wire::Object(map.into_iter().map(|(k, v)| (k, text(v))).collect()),
        other => Wire::Scalar(text(other)),
    })
}

/// The elements of an object, flattened to `k,v,k2,v2` or `k=v,k2=v2`, each encoded.
fn object_elements(pairs: &[(String, String)], explode: bool, set: &'static ::percent_encoding::AsciiSet) -> Vec<String> {
    if explode {
        pairs.iter().map(|(k, v)| format!("{}={}", encode(k, set), encode(v, set))).collect()
    } else {
        pairs.iter().flat_map(|(k, v)| [encode(k, set), encode(v, set)]).collect()
    }
}

/// Appends `name=value` to a query string being built (both already encoded).
fn push_pair(query: &mut String, name: &str, value: &str) {
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(name);
    query.push('=');
    query.push_str(value);
}

/// Appends a documented query parameter to `query` (the text after `?`).
pub fn write_query<T: ::serde::Serialize>(query: &mut String, spec: &ParamSpec, value: &T) -> ::std::result::Result<(), ClientError> {
    let name = encode(spec.name, COMPONENT);
    match wire(value)? {
        Wire::Absent => {}
        Wire::Scalar(text) => push_pair(query, &name, &encode(&text, COMPONENT)),
        Wire::Array(items) if spec.explode => {
            for item in &items {
                push_pair(query, &name, &encode(item, COMPONENT));
            }
        }
        Wire::Array(items) => {
            let elements = delimitable(spec, items)?;
            push_pair(query, &name, &join_query(spec, &elements));
        }
        Wire::Object(pairs) => match spec.style {
            Style::DeepObject => {
                for (key, value) in &pairs {
                    push_pair(query, &format!("{name}%5B{}%5D", encode(key, COMPONENT)), &encode(value, COMPONENT));
                }
            }
            Style::Form if spec.explode => {
                for (key, value) in &pairs {
                    push_pair(query, &encode(key, COMPONENT), &encode(value, COMPONENT));
                }
            }
            _ => {
                let flat: Vec<String> = pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
                let elements = delimitable(spec, flat)?;
                push_pair(query, &name, &join_query(spec, &elements));
            }
        },
    }
    Ok(())
}

/// Refuses elements holding a delimiter that percent-encoding cannot tell apart: a
/// space delimiter is written `%20`, as a space inside an element would be (the same
/// for tabs).
fn delimitable(spec: &ParamSpec, items: Vec<String>) -> ::std::result::Result<Vec<String>, ClientError> {
    let delimiter = spec.delimiter();
    if matches!(delimiter, ' ' | '\t') && let Some(item) = items.iter().find(|i| i.contains(delimiter)) {
        return Err(ClientError::Encode(format!(
            "parameter `{}` ({:?}) cannot carry {item:?}: its delimiter is inside",
            spec.name, spec.style
        )));
    }
    Ok(items.iter().map(|i| encode(i, COMPONENT)).collect())
}

fn join_query(spec: &ParamSpec, elements: &[String]) -> String {
    match spec.style {
        Style::SpaceDelimited => elements.join("%20"),
        Style::TabDelimited => elements.join("%09"),
        Style::PipeDelimited => elements.join("|"),
        _ => elements.join(","),
    }
}

/// Appends undocumented `name=value` pairs (TMF630 filters) to `query`, encoded.
pub fn write_filters(query: &mut String, filters: &[(String, String)]) {
    for (name, value) in filters {
        push_pair(query, &encode(name, COMPONENT), &encode(value, COMPONENT));
    }
}

/// One path segment for a parameter. A segment that would be empty, `.` or `..` is
/// refused: URL parsers resolve dot segments, and their encoded forms (`%2E`, `%2e%2E`)
/// too (WHATWG URL, which `reqwest` follows), so no encoding reaches the intended
/// resource with them; an empty segment would reach another route.
pub fn write_path<T: ::serde::Serialize>(spec: &ParamSpec, value: &T) -> ::std::result::Result<String, ClientError> {
    let segment = match (spec.style, wire(value)?) {
        (_, Wire::Absent) => String::new(),
        (Style::Label, Wire::Scalar(text)) => format!(".{}", encode(&text, LABEL)),
        (Style::Label, Wire::Array(items)) => {
            let items: Vec<String> = items.iter().map(|i| encode(i, LABEL)).collect();
            format!(".{}", items.join(if spec.explode { "." } else { "," }))
        }
        (Style::Label, Wire::Object(pairs)) => {
            format!(".{}", object_elements(&pairs, spec.explode, LABEL).join(if spec.explode { "." } else { "," }))
        }
        (Style::Matrix, Wire::Scalar(text)) => format!(";{}={}", spec.name, encode(&text, COMPONENT)),
        (Style::Matrix, Wire::Array(items)) if items.is_empty() => format!(";{}", spec.name),
        (Style::Matrix, Wire::Array(items)) if spec.explode => {
            items.iter().map(|i| format!(";{}={}", spec.name, encode(i, COMPONENT))).collect()
        }
        (Style::Matrix, Wire::Array(items)) => {
            let items: Vec<String> = items.iter().map(|i| encode(i, COMPONENT)).collect();
            format!(";{}={}", spec.name, items.join(","))
        }
        (Style::Matrix, Wire::Object(pairs)) if spec.explode => {
            object_elements(&pairs, true, COMPONENT).iter().map(|e| format!(";{e}")).collect()
        }
        (Style::Matrix, Wire::Object(pairs)) => format!(";{}={}", spec.name, object_elements(&pairs, false, COMPONENT).join(",")),
        (_, Wire::Scalar(text)) => encode(&text, COMPONENT),
        (_, Wire::Array(items)) => items.iter().map(|i| encode(i, COMPONENT)).collect::<Vec<_>>().join(","),
        (_, Wire::Object(pairs)) => object_elements(&pairs, spec.explode, COMPONENT).join(","),
    };
    if matches!(segment.as_str(), "" | "." | "..") {
        return Err(ClientError::Encode(format!(
            "path parameter `{}` cannot be {segment:?}: empty and dot segments never reach the resource (URL parsers resolve `.`, `..` and their encoded forms)",
            spec.name
        )));
    }
    Ok(segment)
}

/// A header parameter's value (`simple`): a scalar as it is (it must be a valid header
/// value), array and object elements encoded (`%`, `,`, `=`, controls, non-ASCII, and
/// spaces and tabs at their edges). Errors: an empty array element or unexploded object
/// key or value (an HTTP list ignores empty elements: it would read back shorter), or a
/// scalar that is not a valid header value.
pub fn write_header<T: ::serde::Serialize>(spec: &ParamSpec, value: &T) -> ::std::result::Result<::std::option::Option<::http::HeaderValue>, ClientError> {
    let text = match wire(value)? {
        Wire::Absent => return Ok(None),
        Wire::Scalar(text) => text,
        Wire::Array(items) => items.iter().map(|i| header_element(spec, i, false)).collect::<::std::result::Result<Vec<_>, _>>()?.join(","),
        Wire::Object(pairs) if spec.explode => pairs
            .iter()
            .map(|(k, v)| Ok(format!("{}={}", header_element(spec, k, true)?, header_element(spec, v, true)?)))
            .collect::<::std::result::Result<Vec<_>, ClientError>>()?
            .join(","),
        Wire::Object(pairs) => pairs
            .iter()
            .flat_map(|(k, v)| [k, v])
            .map(|e| header_element(spec, e, false))
            .collect::<::std::result::Result<Vec<_>, _>>()?
            .join(","),
    };
    ::http::HeaderValue::from_str(&text)
        .map(Some)
        .map_err(|_| ClientError::Encode(format!("header parameter `{}` cannot carry {text:?}", spec.name)))
}

/// One element of a header list, encoded so that it survives the list syntax: `HEADER`
/// inside, spaces and tabs at the edges (which recipients trim) as `%20` / `%09`. An
/// empty element is refused unless it is one side of an exploded `k=v` (then not
/// empty on the wire).
fn header_element(spec: &ParamSpec, text: &str, part: bool) -> ::std::result::Result<String, ClientError> {
    if text.is_empty() && !part {
        return Err(ClientError::Encode(format!(
            "header parameter `{}` cannot carry an empty element: HTTP lists ignore empty elements (RFC 9110 §5.6.1), so it would read back shorter",
            spec.name
        )));
    }
    let edge = |c: char| c == ' ' || c == '\t';
    let inner = text.trim_start_matches(edge);
    let lead = &text[..text.len() - inner.len()];
    let middle = inner.trim_end_matches(edge);
    let trail = &inner[middle.len()..];
    let spaces = |run: &str| run.chars().map(|c| if c == ' ' { "%20" } else { "%09" }).collect::<String>();
    Ok(format!("{}{}{}", spaces(lead), encode(middle, HEADER), spaces(trail)))
}

/// Appends a cookie parameter (`form`) as `name=value` pairs to `cookies` (joined with
/// `; ` into one `Cookie` header by the caller); elements encoded.
pub fn write_cookie<T: ::serde::Serialize>(cookies: &mut Vec<String>, spec: &ParamSpec, value: &T) -> ::std::result::Result<(), ClientError> {
    let name = encode(spec.name, COMPONENT);
    match wire(value)? {
        Wire::Absent => {}
        Wire::Scalar(text) => cookies.push(format!("{name}={}", encode(&text, COMPONENT))),
        Wire::Array(items) if spec.explode => {
            cookies.extend(items.iter().map(|i| format!("{name}={}", encode(i, COMPONENT))));
        }
        Wire::Array(items) => {
            let items: Vec<String> = items.iter().map(|i| encode(i, COMPONENT)).collect();
            cookies.push(format!("{name}={}", items.join(",")));
        }
        Wire::Object(pairs) if spec.explode => cookies.extend(object_elements(&pairs, true, COMPONENT)),
        Wire::Object(pairs) => cookies.push(format!("{name}={}", object_elements(&pairs, false, COMPONENT).join(","))),
    }
    Ok(())
}
{% endif %}

{% if server %}
use crate::support::ApiError;

/// Query or cookie pairs as received: names decoded, values still encoded (a style's
/// delimiters are only told from data before decoding).
#[derive(Clone, Debug, Default)]
pub struct RawPairs {
    pairs: Vec<(String, String)>,
    /// `+` means a space (query strings, by the form convention; not cookies).
    plus_is_space: bool,
}

impl RawPairs {
    /// The pairs of a query string.
    pub fn query(query: ::std::option::Option<&str>) -> ::std::result::Result<Self, ApiError> {
        let mut pairs = Vec::new();
        for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            pairs.push((decode(name, true)?, value.to_owned()));
        }
        Ok(Self { pairs, plus_is_space: true })
    }

    /// The pairs of every `Cookie` header.
    pub fn cookies(headers: &::http::HeaderMap) -> ::std::result::Result<Self, ApiError> {
        let mut pairs = Vec::new();
        for header in headers.get_all(::http::header::COOKIE) {
            let header = header.to_str().map_err(|_| ApiError::bad_request("a Cookie header is not text"))?;
            for pair in header.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                pairs.push((decode(name, false)?, value.to_owned()));
            }
        }
        Ok(Self { pairs, plus_is_space: false })
    }

    /// A documented parameter, if it was sent.
    pub fn read<T: ::serde::de::DeserializeOwned>(&self, spec: &ParamSpec) -> ::std::result::Result<::std::option::Option<T>, ApiError> {
        let plus = self.plus_is_space;
        let named: Vec<&str> = self.pairs.iter().filter(|(k, _)| k == spec.name).map(|(_, v)| v.as_str()).collect();
        let parsed = match spec.shape {
            Shape::Scalar => match named.first() {
                None => return Ok(None),
                Some(raw) => Parsed::Scalar(decode(raw, plus)?),
            },
            Shape::Array if spec.explode => {
                if named.is_empty() {
                    return Ok(None);
                }
                Parsed::Array(named.iter().map(|raw| decode(raw, plus)).collect::<::std::result::Result<_, _>>()?)
            }
            Shape::Array => match named.first() {
                None => return Ok(None),
                Some(raw) => Parsed::Array(split_query(spec, raw, plus)?),
            },
            Shape::Object(_) if spec.style == Style::DeepObject => {
                let mut object = Vec::new();
                for (name, raw) in &self.pairs {
                    if let Some(key) = name.strip_prefix(spec.name).and_then(|r| r.strip_prefix('[')).and_then(|r| r.strip_suffix(']')) {
                        object.push((key.to_owned(), decode(raw, plus)?));
                    }
                }
                if object.is_empty() {
                    return Ok(None);
                }
                Parsed::Object(object)
            }
            Shape::Object(properties) if spec.style == Style::Form && spec.explode => {
                let mut object = Vec::new();
                for (name, raw) in &self.pairs {
                    if properties.contains(&name.as_str()) {
                        object.push((name.clone(), decode(raw, plus)?));
                    }
                }
                if object.is_empty() {
                    return Ok(None);
                }
                Parsed::Object(object)
            }
            Shape::Object(_) => match named.first() {
                None => return Ok(None),
                Some(raw) => Parsed::Object(pairs_of(spec, split_query(spec, raw, plus)?)?),
            },
        };
        parsed.typed(spec.name).map(Some)
    }

    /// The pairs no documented parameter claims (TMF630 filters), decoded, in order.
    pub fn rest(&self, documented: &[ParamSpec]) -> ::std::result::Result<Vec<(String, String)>, ApiError> {
        self.pairs
            .iter()
            .filter(|(name, _)| !documented.iter().any(|spec| spec.claims(name)))
            .map(|(name, raw)| Ok((name.clone(), decode(raw, self.plus_is_space)?)))
            .collect()
    }
}

/// Percent-decodes one element (and `+` as a space where that is the convention).
fn decode(raw: &str, plus_is_space: bool) -> ::std::result::Result<String, ApiError> {
    let text = if plus_is_space { ::std::borrow::Cow::Owned(raw.replace('+', " ")) } else { ::std::borrow::Cow::Borrowed(raw) };
    ::percent_encoding::percent_decode_str(&text)
        .decode_utf8()
        .map(|t| t.into_owned())
        .map_err(|_| ApiError::bad_request(format!("{raw:?} is not percent-encoded UTF-8")))
}

/// Splits an unexploded query or cookie value on its style's delimiter, then decodes.
fn split_query(spec: &ParamSpec, raw: &str, plus_is_space: bool) -> ::std::result::Result<Vec<String>, ApiError> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = match spec.style {
        // The delimiter is an encoded space (or tab): `%20` or `+` (or sent bare).
        Style::SpaceDelimited => split_any(raw, &["%20", "+", " "]),
        Style::TabDelimited => split_any(raw, &["%09", "\t"]),
        // A literal `|` (OpenAPI 3.0.3's table); `%7C` is a `|` inside an element.
        Style::PipeDelimited => raw.split('|').collect(),
        _ => raw.split(',').collect(),
    };
    parts.into_iter().map(|p| decode(p, plus_is_space)).collect()
}

/// Splits `raw` at every occurrence of any of `delimiters`.
fn split_any<'a>(raw: &'a str, delimiters: &[&str]) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < raw.len() {
        match delimiters.iter().find(|d| raw[i..].starts_with(**d)) {
            Some(d) => {
                parts.push(&raw[start..i]);
                i += d.len();
                start = i;
            }
            None => i += raw[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    parts.push(&raw[start..]);
    parts
}

/// `k,v,k2,v2` → pairs.
fn pairs_of(spec: &ParamSpec, flat: Vec<String>) -> ::std::result::Result<Vec<(String, String)>, ApiError> {
    if !flat.len().is_multiple_of(2) {
        return Err(ApiError::bad_request(format!("parameter `{}`: an object needs key/value pairs, got {} elements", spec.name, flat.len())));
    }
    let mut flat = flat.into_iter();
    let mut pairs = Vec::new();
    while let (Some(k), Some(v)) = (flat.next(), flat.next()) {
        pairs.push((k, v));
    }
    Ok(pairs)
}

/// `k=v` elements → pairs (decoding each side).
fn exploded_pairs(spec: &ParamSpec, elements: &[&str]) -> ::std::result::Result<Vec<(String, String)>, ApiError> {
    elements
        .iter()
        .map(|e| {
            let (k, v) = e
                .split_once('=')
                .ok_or_else(|| ApiError::bad_request(format!("parameter `{}`: {e:?} is not key=value", spec.name)))?;
            Ok((decode(k, false)?, decode(v, false)?))
        })
        .collect()
}

/// A path parameter from its raw (still encoded) segment.
pub fn read_path<T: ::serde::de::DeserializeOwned>(spec: &ParamSpec, raw: &str) -> ::std::result::Result<T, ApiError> {
    let bad = |why: &str| ApiError::bad_request(format!("path parameter `{}` = {raw:?}: {why}", spec.name));
    let elements: Vec<&str> = match spec.style {
        Style::Label => {
            let rest = raw.strip_prefix('.').ok_or_else(|| bad("a label value starts with `.`"))?;
            match spec.shape {
                Shape::Scalar => vec![rest],
                _ if rest.is_empty() => vec![],
                _ if spec.explode => rest.split('.').collect(),
                _ => rest.split([',', '.']).collect(),
            }
        }
        Style::Matrix => {
            let rest = raw.strip_prefix(';').ok_or_else(|| bad("a matrix value starts with `;`"))?;
            let items: Vec<&str> = rest.split(';').collect();
            // `;name=value`, or a bare `;name` (`None`): an empty string for a scalar,
            // the empty list for an array (how the client writes `[]`).
            let value_of = |item: &str| -> ::std::result::Result<::std::option::Option<String>, ApiError> {
                match item.split_once('=') {
                    Some((name, value)) if decode(name, false)? == spec.name => Ok(Some(value.to_owned())),
                    None if decode(item, false)? == spec.name => Ok(None),
                    _ => Err(bad("expected `;name=value`")),
                }
            };
            match spec.shape {
                Shape::Object(_) if spec.explode => return Parsed::Object(exploded_pairs(spec, &items)?).typed(spec.name),
                Shape::Array if spec.explode => {
                    if let [item] = items.as_slice() && value_of(item)?.is_none() {
                        return Parsed::Array(Vec::new()).typed(spec.name);
                    }
                    let values = items.iter().map(|i| value_of(i).map(Option::unwrap_or_default).and_then(|v| decode(&v, false))).collect::<::std::result::Result<_, _>>()?;
                    return Parsed::Array(values).typed(spec.name);
                }
                _ => {
                    let [item] = items.as_slice() else {
                        return Err(bad("expected one `;name=value`"));
                    };
                    let value = value_of(item)?;
                    let parts: Vec<String> = match (spec.shape, value) {
                        (Shape::Scalar, value) => vec![value.unwrap_or_default()],
                        (_, None) => vec![],
                        // `;name=` is `[""]` (`[]` is `;name`); an object has no such case.
                        (Shape::Object(_), Some(value)) if value.is_empty() => vec![],
                        (_, Some(value)) => value.split(',').map(str::to_owned).collect(),
                    };
                    return Parsed::from_parts(spec, parts.iter().map(String::as_str).collect())?.typed(spec.name);
                }
            }
        }
        _ => match spec.shape {
            Shape::Scalar => vec![raw],
            _ if raw.is_empty() => vec![],
            _ => raw.split(',').collect(),
        },
    };
    Parsed::from_parts(spec, elements)?.typed(spec.name)
}

/// A header parameter (`simple`): a scalar as received, array and object elements
/// split on `,`, trimmed of spaces and tabs, empty ones ignored (RFC 9110 §5.6.1),
/// then decoded.
pub fn read_header<T: ::serde::de::DeserializeOwned>(headers: &::http::HeaderMap, spec: &ParamSpec) -> ::std::result::Result<::std::option::Option<T>, ApiError> {
    let values: Vec<&str> = headers
        .get_all(spec.name)
        .iter()
        .map(|v| v.to_str().map_err(|_| ApiError::bad_request(format!("header `{}` is not text", spec.name))))
        .collect::<::std::result::Result<_, _>>()?;
    if values.is_empty() {
        return Ok(None);
    }
    let parsed = match spec.shape {
        Shape::Scalar => Parsed::Scalar(values.join(", ")),
        _ => {
            // Several header lines are one list (RFC 9110 §5.3).
            // Optional whitespace around elements is trimmed and empty elements are
            // ignored (RFC 9110 §5.6.1); spaces an element holds at its edges came
            // encoded (`%20`) and are decoded after.
            let elements: Vec<&str> = values.iter().flat_map(|v| v.split(',')).map(|e| e.trim_matches([' ', '\t'])).filter(|e| !e.is_empty()).collect();
            Parsed::from_parts(spec, elements)?
        }
    };
    parsed.typed(spec.name).map(Some)
}

/// A value split into its elements, decoded, before it is typed.
enum Parsed {
    Scalar(String),
    Array(Vec<String>),
    Object(Vec<(String, String)>),
}

impl Parsed {
    /// From the raw elements of a path or header value (`k=v` when an exploded object).
    fn from_parts(spec: &ParamSpec, elements: Vec<&str>) -> ::std::result::Result<Self, ApiError> {
        Ok(match spec.shape {
            Shape::Scalar => Self::Scalar(decode(elements.first().copied().unwrap_or_default(), false)?),
            Shape::Array => Self::Array(elements.iter().map(|e| decode(e, false)).collect::<::std::result::Result<_, _>>()?),
            Shape::Object(_) if spec.explode => Self::Object(exploded_pairs(spec, &elements)?),
            Shape::Object(_) => Self::Object(pairs_of(spec, elements.iter().map(|e| decode(e, false)).collect::<::std::result::Result<_, _>>()?)?),
        })
    }

    /// As the parameter's type. Texts are tried as strings first, then, where that does
    /// not fit, with numbers and booleans read as such (the type decides, not the text:
    /// `"007"` stays a string where the schema says string).
    fn typed<T: ::serde::de::DeserializeOwned>(self, name: &str) -> ::std::result::Result<T, ApiError> {
        let (strings, scalars) = match self {
            Self::Scalar(text) => return crate::support::parse_param(name, &text),
            Self::Array(items) => (
                ::serde_json::Value::Array(items.iter().cloned().map(::serde_json::Value::String).collect()),
                ::serde_json::Value::Array(items.iter().map(|i| scalar(i)).collect()),
            ),
            Self::Object(pairs) => (
                ::serde_json::Value::Object(pairs.iter().map(|(k, v)| (k.clone(), ::serde_json::Value::String(v.clone()))).collect()),
                ::serde_json::Value::Object(pairs.iter().map(|(k, v)| (k.clone(), scalar(v))).collect()),
            ),
        };
        ::serde_json::from_value(strings)
            .or_else(|_| ::serde_json::from_value(scalars))
            .map_err(|error| ApiError::bad_request(format!("parameter `{name}` is not valid: {error}")))
    }
}

/// A text as a JSON number, boolean or null where it is one (an integer also where only
/// a `+` or leading zeros keep JSON from reading it: `05`, `+5`, `-0` as 0), else as a
/// string.
fn scalar(text: &str) -> ::serde_json::Value {
    let canonical = crate::support::decimal_integer(text);
    match ::serde_json::from_str::<::serde_json::Value>(canonical.as_deref().unwrap_or(text)) {
        Ok(value @ (::serde_json::Value::Number(_) | ::serde_json::Value::Bool(_) | ::serde_json::Value::Null)) => value,
        _ => ::serde_json::Value::String(text.to_owned()),
    }
}
{% endif %}
