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
        pub use crate::support::{CallbackError, CallbackErrorKind, ClientError};

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

        /// The connector a [`CallbackClient`] connects with: TCP through the resolver
        /// `R`, and rustls (the platform's roots) for https callbacks with the `tls`
        /// feature; without it, https callbacks fail to connect.
        #[cfg(feature = "tls")]
        type CallbackConnector<R> = ::hyper_rustls::HttpsConnector<::hyper_util::client::legacy::connect::HttpConnector<R>>;
        #[cfg(not(feature = "tls"))]
        type CallbackConnector<R> = ::hyper_util::client::legacy::connect::HttpConnector<R>;

        /// The system's resolver (`getaddrinfo` on a blocking thread): a default
        /// [`CallbackClient`]'s.
        pub use ::hyper_util::client::legacy::connect::dns::GaiResolver;
        /// The host name a [`CallbackResolver`] is asked for (without port).
        pub use ::hyper_util::client::legacy::connect::dns::Name;

        /// A DNS resolver for a [`CallbackClient`]: a `tower_service::Service` from a
        /// host [`Name`] to its socket addresses (their ports are replaced with the
        /// callback's). It is asked when a connection is made, not when a URL is
        /// given, so it is the place to refuse addresses (e.g. private ones: SSRF).
        /// IP-literal hosts are not resolved.
        pub trait CallbackResolver:
            ::tower_service::Service<
                Name,
                Response: ::std::iter::Iterator<Item = ::std::net::SocketAddr>,
                Error: ::std::convert::Into<::std::boxed::Box<dyn ::std::error::Error + ::std::marker::Send + ::std::marker::Sync>>,
                Future: ::std::marker::Send,
            > + ::std::clone::Clone + ::std::marker::Send + ::std::marker::Sync + 'static
        {
        }

        impl<R> CallbackResolver for R where
            R: ::tower_service::Service<
                Name,
                Response: ::std::iter::Iterator<Item = ::std::net::SocketAddr>,
                Error: ::std::convert::Into<::std::boxed::Box<dyn ::std::error::Error + ::std::marker::Send + ::std::marker::Sync>>,
                Future: ::std::marker::Send,
            > + ::std::clone::Clone + ::std::marker::Send + ::std::marker::Sync + 'static
        {
        }

        /// POSTs notifications to callback URLs registered by subscribers, over
        /// hyper-util's pooled HTTP/1.1 client: keep-alive connections per host, no
        /// redirects followed, no proxy, `TCP_NODELAY`, at most
        /// [`body_limit`](CallbackClientBuilder::body_limit) bytes of an answer kept.
        /// Cloning shares the pool. Needs a Tokio runtime.
        #[derive(Clone, Debug)]
        pub struct CallbackClient<R = GaiResolver> {
            http: ::hyper_util::client::legacy::Client<CallbackConnector<R>, ::http_body_util::Full<::bytes::Bytes>>,
            body_limit: usize,
            request_timeout: ::std::option::Option<::std::time::Duration>,
        }

        /// Settings of a [`CallbackClient`] (see [`CallbackClient::builder`]).
        #[derive(Clone, Debug)]
        pub struct CallbackClientBuilder {
            connect_timeout: ::std::option::Option<::std::time::Duration>,
            request_timeout: ::std::option::Option<::std::time::Duration>,
            pool_max_idle_per_host: usize,
            pool_idle_timeout: ::std::option::Option<::std::time::Duration>,
            body_limit: usize,
        }

        impl ::std::default::Default for CallbackClientBuilder {
            fn default() -> Self {
                Self {
                    connect_timeout: None,
                    request_timeout: None,
                    pool_max_idle_per_host: usize::MAX,
                    pool_idle_timeout: Some(::std::time::Duration::from_secs(90)),
                    body_limit: CallbackClient::<GaiResolver>::DEFAULT_BODY_LIMIT,
                }
            }
        }

        impl CallbackClientBuilder {
            /// How long making a TCP connection may take (each address tried gets a
            /// share); default: no limit.
            pub fn connect_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.connect_timeout = Some(timeout);
                self
            }

            /// How long one POST may take, from connecting to the end of the kept
            /// answer; default: no limit. Exceeded: [`CallbackError::is_timeout`].
            pub fn request_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.request_timeout = Some(timeout);
                self
            }

            /// Idle keep-alive connections kept per host (`host:port`); default: no cap.
            pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
                self.pool_max_idle_per_host = max;
                self
            }

            /// How long an idle connection is kept; default 90 s.
            pub fn pool_idle_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.pool_idle_timeout = Some(timeout);
                self
            }

            /// Keeps at most `limit` bytes of each answer (default
            /// [`CallbackClient::DEFAULT_BODY_LIMIT`]); the rest is not read.
            pub fn body_limit(mut self, limit: usize) -> Self {
                self.body_limit = limit;
                self
            }

            /// A client resolving host names with the system's resolver.
            ///
            /// # Errors
            /// With the `tls` feature, when the platform's certificate verifier cannot
            /// be set up.
            pub fn build(self) -> ::std::result::Result<CallbackClient, CallbackError> {
                self.build_with_resolver(GaiResolver::new())
            }

            /// A client resolving host names with `resolver`.
            ///
            /// # Errors
            /// With the `tls` feature, when the platform's certificate verifier cannot
            /// be set up.
            pub fn build_with_resolver<R: CallbackResolver>(self, resolver: R) -> ::std::result::Result<CallbackClient<R>, CallbackError> {
                let mut tcp = ::hyper_util::client::legacy::connect::HttpConnector::new_with_resolver(resolver);
                tcp.set_nodelay(true);
                tcp.set_connect_timeout(self.connect_timeout);
                #[cfg(feature = "tls")]
                let connector = {
                    tcp.enforce_http(false);
                    ::hyper_rustls::HttpsConnectorBuilder::new()
                        .with_provider_and_platform_verifier(::rustls::crypto::aws_lc_rs::default_provider())
                        .map_err(|error| CallbackError::new(crate::support::CallbackErrorKind::Setup, Some(error.into())))?
                        .https_or_http()
                        .enable_http1()
                        .wrap_connector(tcp)
                };
                #[cfg(not(feature = "tls"))]
                let connector = tcp;
                let mut http = ::hyper_util::client::legacy::Client::builder(::hyper_util::rt::TokioExecutor::new());
                http.pool_max_idle_per_host(self.pool_max_idle_per_host)
                    .pool_idle_timeout(self.pool_idle_timeout)
                    .pool_timer(::hyper_util::rt::TokioTimer::new());
                Ok(CallbackClient {
                    http: http.build(connector),
                    body_limit: self.body_limit,
                    request_timeout: self.request_timeout,
                })
            }
        }

        impl ::std::default::Default for CallbackClient {
            /// [`CallbackClient::builder`]`().build()`.
            ///
            /// # Panics
            /// With the `tls` feature, when the platform's certificate verifier cannot
            /// be set up.
            fn default() -> Self {
                CallbackClientBuilder::default().build().expect("the platform's certificate verifier")
            }
        }

        impl CallbackClient {
            /// How much of a callback's answer is kept by default (64 KiB): callbacks
            /// are not trusted to answer briefly.
            pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

            /// Settings for a client: timeouts, pool, body limit, resolver.
            pub fn builder() -> CallbackClientBuilder {
                CallbackClientBuilder::default()
            }
        }

        impl<R: CallbackResolver> CallbackClient<R> {
            /// Keeps at most `limit` bytes of each answer; the rest is not read.
            pub fn with_body_limit(mut self, limit: usize) -> Self {
                self.body_limit = limit;
                self
            }

            /// POSTs an already serialized JSON body with extra headers (auth,
            /// signatures) to `callback`, a URL (any `#fragment` is not sent).
            pub async fn post_bytes(&self, callback: &str, body: ::bytes::Bytes, headers: &::http::HeaderMap) -> ::std::result::Result<CallbackOutcome, ClientError> {
                let target = callback.split_once('#').map_or(callback, |(url, _)| url);
                let uri = ::http::Uri::try_from(target)
                    .map_err(|error| CallbackError::new(crate::support::CallbackErrorKind::Url, Some(error.into())))?;
                self.post(uri, body, headers.clone()).await
            }

            /// POSTs `body` as `application/json;charset=utf-8` (unless `headers` give
            /// another `Content-Type`) with `headers` to `callback`: what it answered
            /// (any status), its body cut at the body limit.
            pub async fn post(&self, callback: ::http::Uri, body: ::bytes::Bytes, headers: ::http::HeaderMap) -> ::std::result::Result<CallbackOutcome, ClientError> {
                let exchange = self.exchange(callback, body, headers);
                match self.request_timeout {
                    Some(timeout) => match ::tokio::time::timeout(timeout, exchange).await {
                        Ok(outcome) => outcome,
                        Err(_) => Err(CallbackError::new(crate::support::CallbackErrorKind::Timeout, None).into()),
                    },
                    None => exchange.await,
                }
            }

            async fn exchange(&self, callback: ::http::Uri, body: ::bytes::Bytes, mut headers: ::http::HeaderMap) -> ::std::result::Result<CallbackOutcome, ClientError> {
                headers
                    .entry(::http::header::CONTENT_TYPE)
                    .or_insert(::http::HeaderValue::from_static("application/json;charset=utf-8"));
                let mut request = ::http::Request::new(::http_body_util::Full::new(body));
                *request.method_mut() = ::http::Method::POST;
                *request.uri_mut() = callback;
                *request.headers_mut() = headers;
                let response = self.http.request(request).await.map_err(CallbackError::from_client)?;
                let (parts, mut body) = response.into_parts();
                let mut kept = ::bytes::BytesMut::new();
                while kept.len() < self.body_limit {
                    match ::http_body_util::BodyExt::frame(&mut body).await {
                        Some(Ok(frame)) => {
                            if let Ok(chunk) = frame.into_data() {
                                let room = self.body_limit - kept.len();
                                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                            }
                        }
                        Some(Err(error)) => {
                            return Err(CallbackError::new(crate::support::CallbackErrorKind::Body, Some(error.into())).into());
                        }
                        None => break,
                    }
                }
                Ok(CallbackOutcome { status: parts.status, headers: parts.headers, body: kept.freeze() })
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
