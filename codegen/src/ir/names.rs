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

/// Hands out names unique within one scope by appending a number on collision.
#[derive(Debug, Default)]
pub struct Scope {
    taken: BTreeSet<String>,
}

impl Scope {
    /// A scope where `reserved` are already taken.
    pub fn with_reserved(reserved: &[&str]) -> Self {
        Self {
            taken: reserved.iter().map(|s| (*s).to_owned()).collect(),
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
