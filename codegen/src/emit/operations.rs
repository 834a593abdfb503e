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

use super::{doc, ident, param_type_tokens, type_tokens};
use crate::ir::{self, Api, Operation, Param, Response, Style, TypeRef};

/// The `operations` module.
pub fn emit(api: &Api, server: bool, client: bool) -> TokenStream {
    let items = api.operations.iter().map(|op| {
        let query = emit_query(op, client);
        let headers = emit_headers(op, client);
        let response = emit_response(op, server, client);
        quote! { #query #headers #response }
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

/// Name of the struct of `op`'s header and cookie parameters, if it has any.
pub fn headers_type(op: &Operation) -> Option<proc_macro2::Ident> {
    (!op.header_params.is_empty() || !op.cookie_params.is_empty())
        .then(|| ident(&format!("{}Headers", op.type_prefix)))
}

/// A parameter's wire description, `crate::params::ParamSpec { .. }`.
pub fn param_spec(p: &Param) -> TokenStream {
    let name = &p.http_name;
    let style = ident(match p.wire.style {
        Style::Form => "Form",
        Style::Simple => "Simple",
        Style::Label => "Label",
        Style::Matrix => "Matrix",
        Style::SpaceDelimited => "SpaceDelimited",
        Style::PipeDelimited => "PipeDelimited",
        Style::TabDelimited => "TabDelimited",
        Style::DeepObject => "DeepObject",
    });
    let explode = p.wire.explode;
    let shape = match &p.wire.shape {
        ir::Shape::Scalar => quote! { crate::params::Shape::Scalar },
        ir::Shape::Array => quote! { crate::params::Shape::Array },
        ir::Shape::Object(properties) => {
            quote! { crate::params::Shape::Object(&[#(#properties),*]) }
        }
    };
    quote! {
        crate::params::ParamSpec { name: #name, style: crate::params::Style::#style, explode: #explode, shape: #shape }
    }
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

fn emit_query(op: &Operation, client: bool) -> TokenStream {
    let Some(name) = query_type(op) else {
        return TokenStream::new();
    };
    let doc_line = format!(" Query parameters of `{}`.", op.id);
    let fields = op.query_params.iter().map(|p| {
        let field = ident(&p.name);
        let ty = param_type_tokens(&p.ty);
        let docs = doc(p.doc.as_deref());
        quote! { #docs pub #field: ::std::option::Option<#ty>, }
    });
    let specs = op.query_params.iter().map(param_spec);
    let parse = op.query_params.iter().enumerate().map(|(index, p)| {
        let field = ident(&p.name);
        quote! { #field: pairs.read(&Self::PARAMS[#index])?, }
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
    let push = op.query_params.iter().enumerate().map(|(index, p)| {
        let field = ident(&p.name);
        quote! {
            if let Some(value) = &self.#field {
                crate::params::write_query(&mut query, &Self::PARAMS[#index], value)?;
            }
        }
    });
    let to_query = client.then(|| {
        quote! {
            /// The query string (without `?`): documented parameters first, each in its
            /// style, then the filters.
            pub fn to_query_string(&self) -> ::std::result::Result<::std::string::String, crate::support::ClientError> {
                let mut query = ::std::string::String::new();
                #( #push )*
                crate::params::write_filters(&mut query, &self.filters);
                Ok(query)
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
            /// How each documented parameter is written, in field order.
            pub const PARAMS: &'static [crate::params::ParamSpec] = &[#(#specs),*];

            /// Reads the documented parameters from `pairs`; the rest become `filters`.
            pub fn from_pairs(pairs: &crate::params::RawPairs) -> ::std::result::Result<Self, crate::support::ApiError> {
                let query = Self { #( #parse )* filters: pairs.rest(Self::PARAMS)? };
                #( #required )*
                Ok(query)
            }

            #to_query
        }
    }
}

/// The struct of an operation's header and cookie parameters (cookies travel in the
/// `Cookie` header): read from the request's headers, written as headers by the client.
fn emit_headers(op: &Operation, client: bool) -> TokenStream {
    let Some(name) = headers_type(op) else {
        return TokenStream::new();
    };
    let doc_line = format!(" Header and cookie parameters of `{}`.", op.id);
    let all: Vec<&Param> = op.header_params.iter().chain(&op.cookie_params).collect();
    let fields = all.iter().map(|p| {
        let field = ident(&p.name);
        let ty = param_type_tokens(&p.ty);
        let docs = doc(p.doc.as_deref());
        quote! { #docs pub #field: ::std::option::Option<#ty>, }
    });
    let specs = all.iter().map(|p| param_spec(p));
    let headers = op.header_params.len();
    let read = all.iter().enumerate().map(|(index, p)| {
        let field = ident(&p.name);
        if index < headers {
            quote! { #field: crate::params::read_header(headers, &Self::PARAMS[#index])?, }
        } else {
            quote! { #field: cookies.read(&Self::PARAMS[#index])?, }
        }
    });
    let cookies = (!op.cookie_params.is_empty())
        .then(|| quote! { let cookies = crate::params::RawPairs::cookies(headers)?; });
    let required = all.iter().filter(|p| p.required).map(|p| {
        let field = ident(&p.name);
        let message = format!("parameter `{}` is required", p.http_name);
        quote! {
            if value.#field.is_none() {
                return Err(crate::support::ApiError::bad_request(#message));
            }
        }
    });
    let write = all.iter().enumerate().map(|(index, p)| {
        let field = ident(&p.name);
        let http = p.http_name.to_ascii_lowercase();
        if index < headers {
            quote! {
                if let Some(value) = &self.#field
                    && let Some(value) = crate::params::write_header(&Self::PARAMS[#index], value)?
                {
                    map.append(::http::HeaderName::from_static(#http), value);
                }
            }
        } else {
            quote! {
                if let Some(value) = &self.#field {
                    crate::params::write_cookie(&mut cookies, &Self::PARAMS[#index], value)?;
                }
            }
        }
    });
    let cookie_header = (!op.cookie_params.is_empty()).then(|| {
        quote! {
            if !cookies.is_empty() {
                let value = ::http::HeaderValue::from_str(&cookies.join("; "))
                    .map_err(|e| crate::support::ClientError::Encode(e.to_string()))?;
                map.append(::http::header::COOKIE, value);
            }
        }
    });
    let cookie_list = (!op.cookie_params.is_empty())
        .then(|| quote! { let mut cookies = ::std::vec::Vec::new(); });
    let to_map = client.then(|| {
        quote! {
            /// The parameters as request headers (cookies in one `Cookie` header).
            pub fn to_header_map(&self) -> ::std::result::Result<::http::HeaderMap, crate::support::ClientError> {
                let mut map = ::http::HeaderMap::new();
                #cookie_list
                #( #write )*
                #cookie_header
                Ok(map)
            }
        }
    });
    quote! {
        #[doc = #doc_line]
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct #name {
            #( #fields )*
        }

        impl #name {
            /// How each parameter is written, in field order (headers, then cookies).
            pub const PARAMS: &'static [crate::params::ParamSpec] = &[#(#specs),*];

            /// Reads the parameters from the request's headers.
            pub fn from_headers(headers: &::http::HeaderMap) -> ::std::result::Result<Self, crate::support::ApiError> {
                #cookies
                let value = Self { #( #read )* };
                #( #required )*
                Ok(value)
            }

            #to_map
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
    let ty = param_type_tokens(&header.ty);
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
