//! Per-operation types → `operations.rs`: query structs, one response enum per
//! operation (a variant per documented status, with its headers), and the table of
//! operations. The server answers with these enums and the client returns them.
//!
//! Also the per-operation names the server and client emitters share: the query and
//! response type names and the positional route path.
//!
//! A query struct's own field is in
//! [`emitted::QUERY_FIELDS`](crate::ir::names::emitted::QUERY_FIELDS), a response
//! variant's own fields and locals in
//! [`emitted::RESPONSE_FIELDS`](crate::ir::names::emitted::RESPONSE_FIELDS): parameter
//! and header names are claimed around them.

use proc_macro2::TokenStream;
use quote::quote;

use super::{doc, ident, type_tokens};
use crate::ir::{Api, Operation, Param, Response, TypeRef};

/// The `operations` module.
pub fn emit(api: &Api, server: bool, client: bool) -> TokenStream {
    let items = api.operations.iter().map(|op| {
        let query = emit_query(op, client);
        let response = emit_response(op, server, client);
        quote! { #query #response }
    });
    let table = api.operations.iter().map(|op| {
        let id = &op.id;
        let method = &op.method;
        let path = &op.path;
        let tag = &op.trait_name;
        let roles = &op.roles;
        let route = route_path(&op.path);
        quote! { OperationInfo { id: #id, method: #method, path: #path, route: #route, handler_trait: #tag, roles: &[#(#roles),*] }, }
    });
    quote! {
        //! Per-operation inputs and outputs, shared by the server and the client.
        #( #items )*

        /// Static facts about an operation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct OperationInfo {
            /// `operationId`.
            pub id: &'static str,
            /// HTTP method.
            pub method: &'static str,
            /// Path relative to the base path.
            pub path: &'static str,
            /// The path as routed: parameters named by position (`/topic/{p0}/event`),
            /// what `axum::extract::MatchedPath` shows after the base path.
            pub route: &'static str,
            /// The handler trait that serves it.
            pub handler_trait: &'static str,
            /// Roles allowed to call it (from the profile; empty without one).
            pub roles: &'static [&'static str],
        }

        /// Every operation of the spec.
        pub const OPERATIONS: &[OperationInfo] = &[ #( #table )* ];

        /// The operation with `id`.
        pub fn operation(id: &str) -> ::std::option::Option<&'static OperationInfo> {
            OPERATIONS.iter().find(|op| op.id == id)
        }

        /// The operation served at `route` (as in [`OperationInfo::route`]) for `method`.
        pub fn operation_by_route(method: &str, route: &str) -> ::std::option::Option<&'static OperationInfo> {
            OPERATIONS.iter().find(|op| op.method.eq_ignore_ascii_case(method) && op.route == route)
        }
    }
}

/// Name of the query struct of `op`, if it has query parameters.
pub fn query_type(op: &Operation) -> Option<proc_macro2::Ident> {
    (!op.query_params.is_empty()).then(|| ident(&format!("{}Query", op.type_prefix)))
}

/// Name of the response enum of `op`.
pub fn response_type(op: &Operation) -> proc_macro2::Ident {
    ident(&format!("{}Response", op.type_prefix))
}

/// Route path with positional parameter names (`{p0}`…): axum refuses two routes whose
/// parameters at one position have different names, which specs do all the time.
pub(crate) fn route_path(path: &str) -> String {
    let mut out = String::new();
    let mut index = 0;
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                out.push_str(&format!("{{p{index}}}"));
                index += 1;
                rest = &rest[open + close + 1..];
            }
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    if out.is_empty() { "/".into() } else { out }
}

fn is_list(ty: &TypeRef) -> bool {
    matches!(ty, TypeRef::Array(_))
}

fn emit_query(op: &Operation, client: bool) -> TokenStream {
    let Some(name) = query_type(op) else {
        return TokenStream::new();
    };
    let doc_line = format!(" Query parameters of `{}`.", op.id);
    let fields = op.query_params.iter().map(|p| {
        let field = ident(&p.name);
        let ty = type_tokens(&p.ty);
        let docs = doc(p.doc.as_deref());
        quote! { #docs pub #field: ::std::option::Option<#ty>, }
    });
    let parse = op.query_params.iter().map(|p| {
        let field = ident(&p.name);
        let http = &p.http_name;
        if is_list(&p.ty) {
            quote! {
                let values: ::std::vec::Vec<&str> = pairs.iter().filter(|(k, _)| k == #http).map(|(_, v)| v.as_str()).collect();
                if !values.is_empty() {
                    query.#field = Some(crate::support::parse_list_param(#http, &values)?);
                }
            }
        } else {
            quote! {
                if let Some((_, value)) = pairs.iter().find(|(k, _)| k == #http) {
                    query.#field = Some(crate::support::parse_param(#http, value)?);
                }
            }
        }
    });
    let required = op.query_params.iter().filter(|p| p.required).map(|p| {
        let field = ident(&p.name);
        let message = format!("query parameter `{}` is required", p.http_name);
        quote! {
            if query.#field.is_none() {
                return Err(crate::support::ApiError::bad_request(#message));
            }
        }
    });
    let known = op.query_params.iter().map(|p| &p.http_name);
    let push = op.query_params.iter().map(|p| {
        let field = ident(&p.name);
        let http = &p.http_name;
        quote! {
            if let Some(value) = &self.#field {
                crate::support::push_query(&mut pairs, #http, value)?;
            }
        }
    });
    let to_pairs = client.then(|| {
        quote! {
            /// The query as name/value pairs (documented parameters first, then filters).
            pub fn to_pairs(&self) -> ::std::result::Result<::std::vec::Vec<(::std::string::String, ::std::string::String)>, crate::support::ClientError> {
                let mut pairs = ::std::vec::Vec::new();
                #( #push )*
                pairs.extend(self.filters.iter().cloned());
                Ok(pairs)
            }
        }
    });
    quote! {
        #[doc = #doc_line]
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct #name {
            #( #fields )*
            /// Every other query parameter, in order: attribute filters such as
            /// `eventType=X` or `eventTime.gt=...` (TMF630), never dropped.
            pub filters: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
        }

        impl #name {
            /// Reads the documented parameters from `pairs`; the rest become `filters`.
            pub fn from_pairs(pairs: ::std::vec::Vec<(::std::string::String, ::std::string::String)>) -> ::std::result::Result<Self, crate::support::ApiError> {
                let mut query = Self::default();
                #( #parse )*
                #( #required )*
                const KNOWN: &[&str] = &[#(#known),*];
                query.filters = pairs.into_iter().filter(|(k, _)| !KNOWN.contains(&k.as_str())).collect();
                Ok(query)
            }

            #to_pairs
        }
    }
}

/// Whether a response variant has named fields (body and headers), a tuple (body
/// only) or nothing.
enum Shape {
    Unit,
    Tuple,
    Struct,
}

fn shape(response: &Response) -> Shape {
    match (
        &response.body,
        response.headers.is_empty(),
        response.status.is_none(),
    ) {
        (_, _, true) => Shape::Struct,
        (None, true, _) => Shape::Unit,
        (Some(_), true, _) => Shape::Tuple,
        (_, false, _) => Shape::Struct,
    }
}

/// The Rust type of a response body; success bodies of operations with `fields=` hold
/// projections.
fn body_tokens(response: &Response) -> Option<TokenStream> {
    let body = response.body.as_ref()?;
    if !response.projectable {
        return Some(type_tokens(body));
    }
    let project = |ty: &TypeRef| {
        let ty = type_tokens(ty);
        quote! { crate::support::Projection<#ty> }
    };
    Some(match body {
        TypeRef::Named(_) => project(body),
        TypeRef::Array(item) if matches!(item.as_ref(), TypeRef::Named(_)) => {
            let item = project(item);
            quote! { ::std::vec::Vec<#item> }
        }
        other => type_tokens(other),
    })
}

fn header_field_type(header: &Param) -> TokenStream {
    let ty = type_tokens(&header.ty);
    if header.required {
        ty
    } else {
        quote! { ::std::option::Option<#ty> }
    }
}

fn emit_response(op: &Operation, server: bool, client: bool) -> TokenStream {
    let name = response_type(op);
    let doc_line = format!(" The documented responses of `{}`.", op.id);
    let variants = op.responses.iter().map(|r| {
        let variant = ident(&r.variant);
        let status_doc = match r.status {
            Some(status) => format!(" {status}: {}", r.doc.as_deref().unwrap_or("")),
            None => format!(" Any other status: {}", r.doc.as_deref().unwrap_or("")),
        };
        let status_doc = status_doc.trim_end().to_owned();
        match shape(r) {
            Shape::Unit => quote! { #[doc = #status_doc] #variant, },
            Shape::Tuple => {
                let body = body_tokens(r);
                quote! { #[doc = #status_doc] #variant(#body), }
            }
            Shape::Struct => {
                let status = r.status.is_none().then(|| {
                    quote! {
                        /// The status received or to send.
                        status: ::http::StatusCode,
                    }
                });
                let body = body_tokens(r).map(|b| {
                    quote! {
                        /// The body.
                        body: #b,
                    }
                });
                let headers = r.headers.iter().map(|h| {
                    let field = ident(&h.name);
                    let ty = header_field_type(h);
                    let header_doc = format!(" Header `{}`.", h.http_name);
                    quote! { #[doc = #header_doc] #field: #ty, }
                });
                quote! { #[doc = #status_doc] #variant { #status #body #( #headers )* }, }
            }
        }
    });

    let server_impl = server.then(|| {
        let arms = op.responses.iter().map(|r| {
            let variant = ident(&r.variant);
            let status = match r.status {
                Some(code) => quote! { ::http::StatusCode::from_u16(#code).unwrap_or(::http::StatusCode::INTERNAL_SERVER_ERROR) },
                None => quote! { status },
            };
            let build = match &r.body {
                Some(_) => quote! { crate::support::json_response(#status, &body) },
                None => quote! { crate::support::empty_response(#status) },
            };
            let set_headers = r.headers.iter().map(|h| {
                let field = ident(&h.name);
                let http = &h.http_name;
                if h.required {
                    quote! { crate::support::set_header(&mut response, #http, Some(&#field)); }
                } else {
                    quote! { crate::support::set_header(&mut response, #http, #field.as_ref()); }
                }
            });
            let header_names = r.headers.iter().map(|h| ident(&h.name));
            let status_binding = r.status.is_none().then(|| quote! { status, });
            match shape(r) {
                Shape::Unit => quote! { Self::#variant => #build, },
                Shape::Tuple => quote! { Self::#variant(body) => #build, },
                Shape::Struct => {
                    let body_binding = r.body.as_ref().map(|_| quote! { body, });
                    if r.headers.is_empty() {
                        quote! { Self::#variant { #status_binding #body_binding } => #build, }
                    } else {
                        quote! {
                            Self::#variant { #status_binding #body_binding #( #header_names, )* } => {
                                let mut response = #build;
                                #( #set_headers )*
                                response
                            }
                        }
                    }
                }
            }
        });
        quote! {
            impl ::axum::response::IntoResponse for #name {
                fn into_response(self) -> ::axum::response::Response {
                    match self { #( #arms )* }
                }
            }
        }
    });

    let client_impl = client.then(|| {
        let mut default_arm = quote! { _ => Err(raw.unexpected()), };
        let arms: Vec<TokenStream> = op
            .responses
            .iter()
            .filter_map(|r| {
                let variant = ident(&r.variant);
                let headers: Vec<TokenStream> = r
                    .headers
                    .iter()
                    .map(|h| {
                        let field = ident(&h.name);
                        let http = &h.http_name;
                        if h.required {
                            quote! { #field: raw.required_header(#http)?, }
                        } else {
                            quote! { #field: raw.header(#http)?, }
                        }
                    })
                    .collect();
                let body = r.body.as_ref().map(|_| quote! { body: raw.json()?, });
                let build = match shape(r) {
                    Shape::Unit => quote! { Ok(Self::#variant) },
                    Shape::Tuple => quote! { Ok(Self::#variant(raw.json()?)) },
                    Shape::Struct => {
                        let status = r.status.is_none().then(|| quote! { status: raw.status, });
                        quote! { Ok(Self::#variant { #status #body #( #headers )* }) }
                    }
                };
                match r.status {
                    Some(code) => Some(quote! { #code => #build, }),
                    None => {
                        default_arm = quote! { _ => #build, };
                        None
                    }
                }
            })
            .collect();
        quote! {
            impl #name {
                /// Matches a received response to the documented statuses.
                pub fn from_raw(raw: crate::support::RawResponse) -> ::std::result::Result<Self, crate::support::ClientError> {
                    match raw.status.as_u16() {
                        #( #arms )*
                        #default_arm
                    }
                }
            }
        }
    });

    let status_arms = op.responses.iter().map(|r| {
        let variant = ident(&r.variant);
        let pattern = match shape(r) {
            Shape::Unit => quote! { Self::#variant },
            Shape::Tuple => quote! { Self::#variant(..) },
            Shape::Struct if r.status.is_none() => quote! { Self::#variant { status, .. } },
            Shape::Struct => quote! { Self::#variant { .. } },
        };
        let status = match r.status {
            Some(code) => quote! { ::http::StatusCode::from_u16(#code).unwrap_or(::http::StatusCode::INTERNAL_SERVER_ERROR) },
            None => quote! { *status },
        };
        quote! { #pattern => #status, }
    });
    quote! {
        #[doc = #doc_line]
        #[derive(Clone, Debug, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        pub enum #name { #( #variants )* }

        impl #name {
            /// The HTTP status of this response.
            pub fn status(&self) -> ::http::StatusCode {
                match self { #( #status_arms )* }
            }
        }
        #server_impl
        #client_impl
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn route_paths_are_positional() {
        assert_eq!(
            super::route_path("/topic/{topicId}/hub/{id}"),
            "/topic/{p0}/hub/{p1}"
        );
        assert_eq!(super::route_path("/hub"), "/hub");
        assert_eq!(super::route_path(""), "/");
    }
}
