//! Typed clients → `client.rs`: a method per operation returning the operation's
//! response enum (no `Client` for a document without operations), and a callback
//! client that POSTs events to registered callbacks.
//!
//! The arguments and locals of a method are the names in
//! [`emitted::OPERATION_LOCALS`](crate::ir::names::emitted::OPERATION_LOCALS), and the
//! client's own methods those in
//! [`emitted::CLIENT_METHODS`](crate::ir::names::emitted::CLIENT_METHODS): parameters
//! and operations are named around them.

use proc_macro2::TokenStream;
use quote::quote;

use super::operations::{headers_type, param_spec, query_type, response_type};
use super::{doc, ident, param_type_tokens, type_tokens};
use crate::ir::{Api, Operation, TypeRef};

/// The `client` module.
pub fn emit(api: &Api) -> TokenStream {
    let client = emit_client(api);
    let base_doc = format!(" The spec's base path: `{}`.", api.base_path);
    let base_path = &api.base_path;
    let typed_event = api.types.get("Event").map(|_| {
        quote! {
            /// POSTs a TMF688 `Event` to a registered callback URL.
            pub async fn post_event(&self, callback: &str, event: &crate::models::Event) -> ::std::result::Result<CallbackOutcome, crate::support::ClientError> {
                let body = ::serde_json::to_vec(event).map_err(|e| crate::support::ClientError::Encode(e.to_string()))?;
                self.post_bytes(callback, ::bytes::Bytes::from(body), &::http::HeaderMap::new()).await
            }
        }
    });
    quote! {
        //! Typed HTTP clients.
        pub use crate::support::ClientError;

        #[doc = #base_doc]
        pub const BASE_PATH: &str = #base_path;

        #client

        /// What a callback answered.
        #[derive(Clone, Debug)]
        pub struct CallbackOutcome {
            /// Status (only 2xx means delivered).
            pub status: ::http::StatusCode,
            /// Response headers (e.g. `Retry-After`).
            pub headers: ::http::HeaderMap,
            /// Response body (at most the client's body limit).
            pub body: ::bytes::Bytes,
        }

        /// POSTs notifications to callback URLs registered by subscribers.
        #[derive(Clone, Debug)]
        pub struct CallbackClient {
            http: ::reqwest::Client,
            body_limit: usize,
        }

        impl ::std::default::Default for CallbackClient {
            fn default() -> Self {
                Self::with_client(::reqwest::Client::new())
            }
        }

        impl CallbackClient {
            /// How much of a callback's answer is kept by default (64 KiB): callbacks
            /// are not trusted to answer briefly.
            pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

            /// A callback client over a configured `reqwest::Client`.
            pub fn with_client(http: ::reqwest::Client) -> Self {
                Self { http, body_limit: Self::DEFAULT_BODY_LIMIT }
            }

            /// Keeps at most `limit` bytes of each answer; the rest is not read.
            pub fn with_body_limit(mut self, limit: usize) -> Self {
                self.body_limit = limit;
                self
            }

            /// POSTs an already serialized JSON body with extra headers (auth, signatures).
            pub async fn post_bytes(&self, callback: &str, body: ::bytes::Bytes, headers: &::http::HeaderMap) -> ::std::result::Result<CallbackOutcome, ClientError> {
                let mut response = self
                    .http
                    .post(callback)
                    .header(::http::header::CONTENT_TYPE, "application/json;charset=utf-8")
                    .headers(headers.clone())
                    .body(body)
                    .send()
                    .await?;
                let status = response.status();
                let headers = response.headers().clone();
                let mut kept = ::std::vec::Vec::new();
                while kept.len() < self.body_limit {
                    match response.chunk().await? {
                        Some(chunk) => {
                            let room = self.body_limit - kept.len();
                            kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        }
                        None => break,
                    }
                }
                Ok(CallbackOutcome { status, headers, body: ::bytes::Bytes::from(kept) })
            }

            /// POSTs any serializable notification.
            pub async fn post_json<T: ::serde::Serialize>(&self, callback: &str, body: &T) -> ::std::result::Result<CallbackOutcome, ClientError> {
                let body = ::serde_json::to_vec(body).map_err(|e| ClientError::Encode(e.to_string()))?;
                self.post_bytes(callback, ::bytes::Bytes::from(body), &::http::HeaderMap::new()).await
            }

            #typed_event
        }
    }
}

/// `Client`: only when the document has operations (without any it would be a
/// connection pool nothing reads, and dead code).
fn emit_client(api: &Api) -> TokenStream {
    if api.operations.is_empty() {
        return TokenStream::new();
    }
    let methods = api.operations.iter().map(emit_method);
    quote! {
        /// A client for every operation of the spec. `base_url` includes the base path,
        /// e.g. `http://127.0.0.1:8080/tmf-api/event/v4`.
        #[derive(Clone, Debug)]
        pub struct Client {
            base_url: ::std::string::String,
            http: ::reqwest::Client,
            headers: ::http::HeaderMap,
        }

        impl Client {
            /// A client with its own connection pool.
            pub fn new(base_url: impl Into<::std::string::String>) -> Self {
                Self::with_client(base_url, ::reqwest::Client::new())
            }

            /// A client over a configured `reqwest::Client` (timeouts, TLS, pool).
            pub fn with_client(base_url: impl Into<::std::string::String>, http: ::reqwest::Client) -> Self {
                let base_url = base_url.into().trim_end_matches('/').to_owned();
                Self { base_url, http, headers: ::http::HeaderMap::new() }
            }

            /// Sends `Authorization: Bearer <token>` with every request.
            pub fn with_bearer_token(mut self, token: &str) -> ::std::result::Result<Self, ClientError> {
                let value = ::http::HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|e| ClientError::Encode(e.to_string()))?;
                self.headers.insert(::http::header::AUTHORIZATION, value);
                Ok(self)
            }

            /// Sends `name: value` with every request.
            pub fn with_header(mut self, name: ::http::HeaderName, value: ::http::HeaderValue) -> Self {
                self.headers.insert(name, value);
                self
            }

            /// The base URL requests go to.
            pub fn base_url(&self) -> &str {
                &self.base_url
            }

            async fn send(&self, request: ::reqwest::RequestBuilder) -> ::std::result::Result<crate::support::RawResponse, ClientError> {
                let response = request.headers(self.headers.clone()).send().await?;
                crate::support::RawResponse::receive(response).await
            }

            #( #methods )*
        }

    }
}

/// Appends a literal part of a path to `url` (clippy wants a `char` for one character).
fn push_literal(literal: &str) -> TokenStream {
    let mut chars = literal.chars();
    match (chars.next(), chars.next()) {
        (None, _) => TokenStream::new(),
        (Some(c), None) => quote! { url.push(#c); },
        _ => quote! { url.push_str(#literal); },
    }
}

fn emit_method(op: &Operation) -> TokenStream {
    let name = ident(&op.name);
    let response = response_type(op);
    let summary = doc(op.summary.as_deref());
    let http = format!(" Sends `{} {}`.", op.method, op.path);
    let path_args = op.path_params.iter().map(|p| {
        let arg = ident(&p.name);
        match p.ty {
            TypeRef::String => quote! { #arg: &str, },
            _ => {
                let ty = param_type_tokens(&p.ty);
                quote! { #arg: &#ty, }
            }
        }
    });
    // Build the URL from literal segments and encoded parameters.
    let mut url_parts = Vec::new();
    let mut rest = op.path.as_str();
    let mut index = 0;
    while let Some(open) = rest.find('{') {
        url_parts.push(push_literal(&rest[..open]));
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        if let Some(param) = op.path_params.get(index) {
            let arg = ident(&param.name);
            let spec = param_spec(param);
            url_parts.push(quote! { url.push_str(&crate::params::write_path(&#spec, &#arg)?); });
        }
        index += 1;
        rest = &rest[open + close + 1..];
    }
    url_parts.push(push_literal(rest));
    let query_arg = query_type(op).map(|q| quote! { query: &crate::operations::#q, });
    // The query string is built here, not by `reqwest`: a style's delimiters must stay
    // literal while the same characters inside elements are encoded.
    let query_apply = query_type(op).map(|_| {
        quote! {
            let query = query.to_query_string()?;
            if !query.is_empty() {
                url.push('?');
                url.push_str(&query);
            }
        }
    });
    let headers_arg = headers_type(op).map(|h| quote! { headers: &crate::operations::#h, });
    let headers_apply = headers_type(op)
        .map(|_| quote! { let request = request.headers(headers.to_header_map()?); });
    let body_arg = op.body.as_ref().map(|b| {
        if b.content_type.contains("json") {
            let ty = type_tokens(&b.ty);
            quote! { body: &#ty, }
        } else {
            quote! { body: ::bytes::Bytes, }
        }
    });
    let body_apply = op.body.as_ref().map(|b| {
        let content_type = &b.content_type;
        if b.content_type.contains("json") {
            quote! {
                let bytes = ::serde_json::to_vec(body).map_err(|e| ClientError::Encode(e.to_string()))?;
                let request = request.header(::http::header::CONTENT_TYPE, #content_type).body(bytes);
            }
        } else {
            quote! { let request = request.header(::http::header::CONTENT_TYPE, #content_type).body(body); }
        }
    });
    let method = ident(&op.method);
    // `&self`, the path parameters, the query, the headers and the body.
    let arguments = 1
        + op.path_params.len()
        + usize::from(!op.query_params.is_empty())
        + usize::from(headers_type(op).is_some())
        + usize::from(op.body.is_some());
    let allow = (arguments > 7).then(|| quote! { #[allow(clippy::too_many_arguments)] });
    quote! {
        #summary
        #[doc = ""]
        #[doc = #http]
        #allow
        pub async fn #name(&self, #( #path_args )* #query_arg #headers_arg #body_arg) -> ::std::result::Result<crate::operations::#response, ClientError> {
            let mut url = self.base_url.clone();
            #( #url_parts )*
            #query_apply
            let request = self.http.request(::reqwest::Method::#method, url);
            #headers_apply
            #body_apply
            let raw = self.send(request).await?;
            crate::operations::#response::from_raw(raw)
        }
    }
}
