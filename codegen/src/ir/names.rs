//! Turning spec names into Rust names, once: case conversion, reserved words,
//! characters Rust does not allow, and collisions.

use std::collections::BTreeSet;

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Keywords that cannot be identifiers (raw identifiers cannot spell `self`, `Self`,
/// `super`, `crate`, so every keyword gets a `_` suffix instead, uniformly).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield", "union",
];

/// Names the standard prelude brings into every module, which emitted code uses
/// unqualified (`Some(..)`, `Ok(..)`…): no generated type or variant takes one.
pub const PRELUDE: &[&str] = &[
    "Option",
    "Result",
    "Some",
    "None",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "ToString",
    "ToOwned",
    "Clone",
    "Copy",
    "Default",
    "Drop",
    "Eq",
    "PartialEq",
    "Ord",
    "PartialOrd",
    "Send",
    "Sync",
    "Sized",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "Into",
    "Iterator",
    "Extend",
    "IntoIterator",
    "AsRef",
    "AsMut",
    "Debug",
    "Hash",
];

/// The identifiers the emitter introduces, per scope. Every name that comes from the
/// document is claimed in a [`Scope`] that reserves the list of its scope, so a
/// parameter, property, schema or operation can never shadow or duplicate one.
pub mod emitted {
    /// Bound or used by bare name in an operation's functions: the server trait
    /// method and its axum handler, the client method (`emit/server.rs`,
    /// `emit/client.rs`). Path parameters are arguments beside them.
    pub const OPERATION_LOCALS: &[&str] = &[
        "ctx",
        "query",
        "headers",
        "body",
        "api",
        "request",
        "call",
        "operation",
        "url",
        "bytes",
        "raw",
        "e",
        "self",
        "crate",
        "super",
    ];
    /// Fields of a query struct that are not parameters (`emit/operations.rs`).
    pub const QUERY_FIELDS: &[&str] = &["filters"];
    /// Fields of a response variant that are not headers, and the local its
    /// `IntoResponse` arm builds (`emit/operations.rs`).
    pub const RESPONSE_FIELDS: &[&str] = &["body", "status", "response"];
    /// Inherent methods of `client::Client` (`emit/client.rs`); operations are methods too.
    pub const CLIENT_METHODS: &[&str] = &[
        "new",
        "with_client",
        "with_bearer_token",
        "with_header",
        "base_url",
        "send",
        "clone",
        "fmt",
        "client",
    ];
    /// Items of the `server` module beside the handler traits (`emit/server.rs`).
    pub const SERVER_ITEMS: &[&str] = &["ApiError", "RequestContext"];
    /// Fields every struct may have beside its properties (`emit/models.rs`).
    pub const STRUCT_FIELDS: &[&str] = &["additional_properties"];
    /// The variant of a discriminated enum for unknown tags (`emit/models.rs`).
    pub const TAGGED_VARIANTS: &[&str] = &["Other"];
}

/// Replaces characters that cannot appear in an identifier by word breaks and spells
/// out a leading `@` (TMF meta-attributes: `@type` → `at_type`).
fn words(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 3);
    for (index, c) in name.chars().enumerate() {
        match c {
            '@' if index == 0 => out.push_str("at_"),
            '+' => out.push_str("_plus_"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ => out.push('_'),
        }
    }
    out
}

fn finish(mut name: String, fallback: &str) -> String {
    if name.is_empty() {
        name = fallback.to_owned();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(
            0,
            if fallback.starts_with(char::is_uppercase) {
                'V'
            } else {
                'n'
            },
        );
    }
    if KEYWORDS.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// `snake_case` for fields, methods and modules.
pub fn snake(name: &str) -> String {
    finish(words(name).to_snake_case(), "value")
}

/// `UpperCamelCase` for types and variants.
pub fn camel(name: &str) -> String {
    finish(words(name).to_upper_camel_case(), "Value")
}

/// `UpperCamelCase` for a type: like [`camel`], and a name of the prelude (`Option`,
/// `Some`…) gets a `_` suffix as keywords do, so emitted code that says `Some(..)` or
/// `Option<..>` never means a generated type.
pub fn type_name(name: &str) -> String {
    let mut name = camel(name);
    if PRELUDE.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// Characters that separate words in an enum value (`in-progress`, `a.b`, `x y`).
const SEPARATORS: &[char] = &[
    '-', '_', ' ', '.', '/', ':', ',', '(', ')', '[', ']', '\'', '"',
];

/// The word a symbol is spelled as in a variant name.
fn symbol_word(c: char) -> Option<&'static str> {
    Some(match c {
        '+' => "plus",
        '-' => "minus",
        '*' => "star",
        '/' => "slash",
        '\\' => "backslash",
        '<' => "less_than",
        '>' => "greater_than",
        '=' => "equals",
        '!' => "bang",
        '%' => "percent",
        '&' => "and",
        '|' => "or",
        '#' => "hash",
        '$' => "dollar",
        '~' => "tilde",
        '^' => "caret",
        '.' => "dot",
        '@' => "at",
        '?' => "question",
        ',' => "comma",
        ':' => "colon",
        ';' => "semicolon",
        '_' => "underscore",
        ' ' => "space",
        '(' => "open_paren",
        ')' => "close_paren",
        '[' => "open_bracket",
        ']' => "close_bracket",
        '{' => "open_brace",
        '}' => "close_brace",
        '\'' => "quote",
        '"' => "double_quote",
        '`' => "backtick",
        _ => return None,
    })
}

/// The variant name of an enum value, from what the value says: a sign before a
/// number is spelled (`-1` → `Minus1`, `+1` → `Plus1`, `1` → `V1`), `""` is `Empty`,
/// separators between words break words (`in-progress` → `InProgress`), any other
/// symbol is spelled out (`>=` → `GreaterThanEquals`, `10%` → `V10Percent`), and a
/// character outside ASCII by its code point (`é` → `UE9`).
pub fn enum_variant(value: &str) -> String {
    if value.is_empty() {
        return "Empty".into();
    }
    let has_words = value.chars().any(|c| c.is_alphanumeric());
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len() + 8);
    for (index, &c) in chars.iter().enumerate() {
        let starts_word = index == 0 || SEPARATORS.contains(&chars[index - 1]);
        let before_digit = chars.get(index + 1).is_some_and(char::is_ascii_digit);
        let word = if c.is_ascii_alphanumeric() {
            out.push(c);
            continue;
        } else if !c.is_ascii() {
            format!("u{:X}", u32::from(c))
        } else if (c == '-' || c == '+') && starts_word && before_digit {
            symbol_word(c).unwrap_or_default().to_owned()
        } else if has_words && SEPARATORS.contains(&c) {
            out.push('_');
            continue;
        } else {
            symbol_word(c).map_or_else(|| format!("u{:X}", u32::from(c)), str::to_owned)
        };
        out.push('_');
        out.push_str(&word);
        out.push('_');
    }
    finish(out.to_upper_camel_case(), "Value")
}

/// Variant names for the values of one enum, unique and independent of the order the
/// document lists them in: names come from [`enum_variant`]; when two values still
/// meet on one name, the values are taken in byte order of their JSON text, the first
/// keeps the name and the others get `2`, `3`… (`in-progress` → `InProgress`,
/// `inProgress` → `InProgress2`).
pub fn enum_variants(values: &[String], reserved: &[&str]) -> Vec<String> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].cmp(&values[b]));
    let mut scope = Scope::with_reserved(reserved);
    let mut names = vec![String::new(); values.len()];
    for index in order {
        names[index] = scope.claim(enum_variant(&values[index]));
    }
    names
}

/// Hands out names unique within one scope by appending a number on collision.
#[derive(Debug, Default)]
pub struct Scope {
    taken: BTreeSet<String>,
}

impl Scope {
    /// A scope where `reserved` are already taken.
    pub fn with_reserved(reserved: &[&str]) -> Self {
        Self::reserving(&[reserved])
    }

    /// A scope where every name of every list is already taken.
    pub fn reserving(lists: &[&[&str]]) -> Self {
        Self {
            taken: lists
                .iter()
                .flat_map(|list| list.iter())
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }

    /// `wanted`, or `wanted2`, `wanted3`… whichever is free; marks it taken.
    pub fn claim(&mut self, wanted: String) -> String {
        if self.taken.insert(wanted.clone()) {
            return wanted;
        }
        // `Self_` + 2 would not be UpperCamelCase; `Self2` is.
        let stem = if wanted.starts_with(char::is_uppercase) {
            wanted.trim_end_matches('_')
        } else {
            wanted.as_str()
        };
        let separator = if stem.ends_with(|c: char| c.is_ascii_digit()) {
            "_"
        } else {
            ""
        };
        let name = (2..)
            .map(|n| format!("{stem}{separator}{n}"))
            .find(|candidate| !self.taken.contains(candidate))
            .expect("an unbounded range always finds a free name");
        self.taken.insert(name.clone());
        name
    }
}

/// The variant name for an HTTP status.
pub fn status_variant(status: u16) -> String {
    let name = match status {
        200 => "Ok",
        201 => "Created",
        202 => "Accepted",
        203 => "NonAuthoritativeInformation",
        204 => "NoContent",
        206 => "PartialContent",
        301 => "MovedPermanently",
        302 => "Found",
        303 => "SeeOther",
        304 => "NotModified",
        307 => "TemporaryRedirect",
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        408 => "RequestTimeout",
        409 => "Conflict",
        410 => "Gone",
        412 => "PreconditionFailed",
        413 => "PayloadTooLarge",
        415 => "UnsupportedMediaType",
        422 => "UnprocessableEntity",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        other => return format!("Status{other}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_attributes_and_keywords() {
        assert_eq!(snake("@type"), "at_type");
        assert_eq!(snake("@baseType"), "at_base_type");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("self"), "self_");
        assert_eq!(camel("Self"), "Self_");
        assert_eq!(snake("1st"), "n1st");
        assert_eq!(camel("2xx"), "V2xx");
        assert_eq!(camel("in-progress"), "InProgress");
        assert_eq!(camel("Event_Create"), "EventCreate");
        assert_eq!(snake(""), "value");
    }

    #[test]
    fn enum_values_are_named_by_their_meaning() {
        assert_eq!(enum_variant("-1"), "Minus1");
        assert_eq!(enum_variant("+1"), "Plus1");
        assert_eq!(enum_variant("1"), "V1");
        assert_eq!(enum_variant(""), "Empty");
        assert_eq!(enum_variant("in-progress"), "InProgress");
        assert_eq!(enum_variant("inProgress.accepted"), "InProgressAccepted");
        assert_eq!(enum_variant("with space"), "WithSpace");
        assert_eq!(enum_variant(">="), "GreaterThanEquals");
        assert_eq!(enum_variant("-"), "Minus");
        assert_eq!(enum_variant("*"), "Star");
        assert_eq!(enum_variant("10%"), "V10Percent");
        assert_eq!(enum_variant("a+b"), "APlusB");
        assert_eq!(enum_variant("-1.5"), "Minus15");
        assert_eq!(enum_variant("Self"), "Self_");
        assert_eq!(enum_variant("2xx"), "V2xx");
        assert_eq!(enum_variant("é"), "UE9");
    }

    #[test]
    fn enum_names_do_not_depend_on_order() {
        let values = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            enum_variants(&values(&["inProgress", "in-progress"]), &[]),
            ["InProgress2", "InProgress"]
        );
        assert_eq!(
            enum_variants(&values(&["in-progress", "inProgress"]), &[]),
            ["InProgress", "InProgress2"]
        );
        assert_eq!(
            enum_variants(&values(&["-1", "1", "+1", ""]), &[]),
            ["Minus1", "V1", "Plus1", "Empty"]
        );
    }

    #[test]
    fn collisions_get_numbers() {
        let mut scope = Scope::default();
        assert_eq!(scope.claim(snake("snake_case")), "snake_case");
        assert_eq!(scope.claim(snake("snakeCase")), "snake_case2");
        assert_eq!(scope.claim("v1".into()), "v1");
        assert_eq!(scope.claim("v1".into()), "v1_2");
        assert_eq!(scope.claim(camel("Self")), "Self_");
        assert_eq!(scope.claim(camel("self")), "Self2");
    }
}
