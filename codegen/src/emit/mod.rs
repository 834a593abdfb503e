//! Emission: IR → Rust token streams (one per generated module). `quote!` builds
//! them; [`crate::output`] parses, formats and writes them.

pub mod client;
pub mod models;
pub mod operations;
pub mod profile;
pub mod server;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::TypeRef;

/// An identifier (names in the IR are already valid).
pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// `#[doc = ...]` lines from spec text, made safe for rustdoc: no HTML, no link
/// brackets, no code blocks that would run as doctests, bare URLs wrapped.
pub fn doc(text: Option<&str>) -> TokenStream {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return TokenStream::new();
    };
    let lines = text.lines().map(|line| {
        let line = line
            .trim()
            .replace('\\', "\\\\")
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('[', "\\[")
            .replace(']', "\\]")
            .replace('`', "'")
            .replace('*', "\\*")
            .replace('_', "\\_")
            .replace('#', "\\#");
        let line = wrap_urls(&line);
        format!(" {line}")
    });
    quote! { #( #[doc = #lines] )* }
}

fn wrap_urls(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (index, word) in line.split(' ').enumerate() {
        if index > 0 {
            out.push(' ');
        }
        if word.starts_with("http://") || word.starts_with("https://") {
            out.push('<');
            out.push_str(word.trim_end_matches(['.', ',', ')']));
            out.push('>');
            out.push_str(&word[word.trim_end_matches(['.', ',', ')']).len()..]);
        } else {
            out.push_str(word);
        }
    }
    out
}

/// The Rust type of a type use.
pub fn type_tokens(ty: &TypeRef) -> TokenStream {
    match ty {
        TypeRef::Named(name) => {
            let name = ident(name);
            quote! { crate::models::#name }
        }
        TypeRef::String => quote! { ::std::string::String },
        TypeRef::DateTime => quote! { crate::support::DateTime },
        TypeRef::Uri => quote! { crate::support::Uri },
        // Exact whatever the `format` (README "Numbers"): a hub relays what peers wrote.
        TypeRef::Integer { .. } => quote! { crate::support::Integer },
        TypeRef::Number => quote! { crate::support::Number },
        TypeRef::Boolean => quote! { bool },
        TypeRef::Any => quote! { ::serde_json::Value },
        TypeRef::Array(item) => {
            let item = type_tokens(item);
            quote! { ::std::vec::Vec<#item> }
        }
        TypeRef::Map(value) => match value.as_ref() {
            TypeRef::Any => {
                quote! { ::serde_json::Map<::std::string::String, ::serde_json::Value> }
            }
            value => {
                let value = type_tokens(value);
                quote! { ::std::collections::BTreeMap<::std::string::String, #value> }
            }
        },
    }
}

/// The Rust type of a parameter or a response header: numbers are native there
/// (`int32` → `i32`, else `i64`; `number` → `f64`) — they are the API's own controls
/// (`limit`, `offset`, `X-Total-Count`), and a value out of range is a 400 naming the
/// parameter. Everything else is as in [`type_tokens`].
pub fn param_type_tokens(ty: &TypeRef) -> TokenStream {
    match ty {
        TypeRef::Integer { bits: 32 } => quote! { i32 },
        TypeRef::Integer { .. } => quote! { i64 },
        TypeRef::Number => quote! { f64 },
        TypeRef::Array(item) => {
            let item = param_type_tokens(item);
            quote! { ::std::vec::Vec<#item> }
        }
        TypeRef::Map(value) if !matches!(value.as_ref(), TypeRef::Any) => {
            let value = param_type_tokens(value);
            quote! { ::std::collections::BTreeMap<::std::string::String, #value> }
        }
        other => type_tokens(other),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_are_defused() {
        let tokens = super::doc(Some(
            "See <b>[x]</b> at https://example.com.\n    indented code",
        ))
        .to_string();
        assert!(tokens.contains("&lt;b&gt;\\\\[x\\\\]"), "{tokens}");
        assert!(tokens.contains("<https://example.com>."), "{tokens}");
        assert!(tokens.contains("\" indented code\""), "{tokens}");
    }
}
