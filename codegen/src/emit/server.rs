//! Handler traits and routers → `server.rs`.
//!
//! One trait per tag. Each method receives the request context, the path parameters
//! as arguments, the query struct and the typed body, and returns the operation's
//! response enum — so only documented statuses can be answered on success — or an
//! [`ApiError`](crate::support::ApiError) for any failure. Framework failures (bad JSON,
//! unknown path, wrong method, wrong media type) are answered with TMF `Error` bodies
//! before a handler runs. Provider and listener (notification receiver) traits get
//! separate routers: neither side has to stub the other's API.
//!
//! The arguments and locals of a method and its handler are the names in
//! [`emitted::OPERATION_LOCALS`](crate::ir::names::emitted::OPERATION_LOCALS); path
//! parameters are named around them (and traits around
//! [`emitted::SERVER_ITEMS`](crate::ir::names::emitted::SERVER_ITEMS)).

use proc_macro2::TokenStream;
use quote::quote;

use super::operations::{headers_type, param_spec, query_type, response_type, route_path};
use super::{doc, ident, param_type_tokens, type_tokens};
use crate::ir::{Api, Operation, TraitDef, TypeRef};

/// The `server` module.
pub fn emit(api: &Api) -> TokenStream {
    let traits = api.traits.iter().map(|t| emit_trait(api, t));
    let provider: Vec<&TraitDef> = api.traits.iter().filter(|t| !t.listener).collect();
    let listener: Vec<&TraitDef> = api.traits.iter().filter(|t| t.listener).collect();
    let provider_router = emit_combined_router(
        "router",
        " The provider API: every non-listener trait, with TMF `Error` answers for unknown paths and methods.",
        &provider,
    );
    let listener_router = emit_combined_router(
        "listener_router",
        " The listener API (notification receivers), apart from the provider API.",
        &listener,
    );
    quote! {
        //! Handler traits (one per tag) and the axum routers that serve them.
        pub use crate::support::{ApiError, RequestContext};

        #( #traits )*
        #provider_router
        #listener_router
    }
}

fn method_signature(op: &Operation) -> TokenStream {
    let name = ident(&op.name);
    let path_args = op.path_params.iter().map(|p| {
        let arg = ident(&p.name);
        let ty = param_type_tokens(&p.ty);
        quote! { #arg: #ty, }
    });
    let query = query_type(op).map(|q| quote! { query: crate::operations::#q, });
    let headers = headers_type(op).map(|h| quote! { headers: crate::operations::#h, });
    let body = op.body.as_ref().map(|b| {
        let ty = body_type(&b.ty, &b.content_type);
        if b.required {
            quote! { body: #ty, }
        } else {
            quote! { body: ::std::option::Option<#ty>, }
        }
    });
    let response = response_type(op);
    // `&self`, `ctx`, the path parameters, the query, the headers and the body.
    let arguments = 2
        + op.path_params.len()
        + usize::from(!op.query_params.is_empty())
        + usize::from(headers_type(op).is_some())
        + usize::from(op.body.is_some());
    let allow = (arguments > 7).then(|| quote! { #[allow(clippy::too_many_arguments)] });
    quote! {
        #allow
        fn #name(&self, ctx: RequestContext, #( #path_args )* #query #headers #body)
            -> impl ::std::future::Future<Output = ::std::result::Result<crate::operations::#response, ApiError>> + Send
    }
}

fn is_json(content_type: &str) -> bool {
    content_type.contains("json")
}

fn body_type(ty: &TypeRef, content_type: &str) -> TokenStream {
    if is_json(content_type) {
        type_tokens(ty)
    } else {
        quote! { ::axum::body::Bytes }
    }
}

fn emit_trait(api: &Api, def: &TraitDef) -> TokenStream {
    let name = ident(&def.name);
    let ops: Vec<&Operation> = api
        .operations
        .iter()
        .filter(|o| o.trait_name == def.name)
        .collect();
    let trait_doc = format!(" Operations tagged `{}`.", def.tag);
    let docs = doc(def.doc.as_deref());
    let methods = ops.iter().map(|op| {
        let signature = method_signature(op);
        let summary = doc(op.summary.as_deref());
        let description = doc(op.description.as_deref());
        let http = format!(" `{} {}` (`{}`).", op.method, op.path, op.id);
        let roles = (!op.roles.is_empty()).then(|| {
            let line = format!(" Roles allowed by the profile: {}.", op.roles.join(", "));
            quote! { #[doc = ""] #[doc = #line] }
        });
        quote! {
            #summary
            #[doc = ""]
            #description
            #[doc = ""]
            #[doc = #http]
            #roles
            #signature;
        }
    });
    let handlers = ops.iter().map(|op| {
        let index = api
            .operations
            .iter()
            .position(|o| o.id == op.id)
            .unwrap_or_default();
        emit_handler(
            api,
            &name,
            op,
            proc_macro2::Literal::usize_unsuffixed(index),
        )
    });
    let router_fn = ident(&format!("{}_router", crate::ir::names::snake(&def.name)));
    let router_doc = format!(
        " The routes of [`{}`], paths relative to the base path.",
        def.name
    );
    let mut by_path: Vec<(String, Vec<&Operation>)> = Vec::new();
    for op in &ops {
        let path = route_path(&op.path);
        match by_path.iter_mut().find(|(p, _)| p == &path) {
            Some((_, list)) => list.push(op),
            None => by_path.push((path, vec![op])),
        }
    }
    let routes = by_path.iter().map(|(path, ops)| {
        let methods = ops.iter().map(|op| {
            let handler = ident(&format!("handle_{}", op.name));
            let method = ident(&op.method.to_ascii_lowercase());
            quote! { .#method(#handler::<A>) }
        });
        quote! { .route(#path, ::axum::routing::MethodRouter::new() #( #methods )*) }
    });
    quote! {
        #[doc = #trait_doc]
        #[doc = ""]
        #docs
        pub trait #name: Send + Sync + 'static {
            #( #methods )*
        }

        #( #handlers )*

        #[doc = #router_doc]
        pub fn #router_fn<A: #name>(api: ::std::sync::Arc<A>) -> ::axum::Router {
            ::axum::Router::new()
                #( #routes )*
                .with_state(api)
        }
    }
}

fn emit_handler(
    api: &Api,
    trait_name: &proc_macro2::Ident,
    op: &Operation,
    index: proc_macro2::Literal,
) -> TokenStream {
    let handler = ident(&format!("handle_{}", op.name));
    let method = ident(&op.name);
    let path_reads = op.path_params.iter().enumerate().map(|(index, p)| {
        let arg = ident(&p.name);
        let http = &p.http_name;
        let spec = param_spec(p);
        quote! {
            let #arg = crate::params::read_path(&#spec, &call.raw_path_param(operation.route, #index, #http)?)?;
        }
    });
    let path_args = op.path_params.iter().map(|p| ident(&p.name));
    let query = query_type(op).map(|q| {
        quote! { let query = crate::operations::#q::from_pairs(&call.raw_query()?)?; }
    });
    let query_arg = query_type(op).map(|_| quote! { query, });
    let headers = headers_type(op).map(|h| {
        quote! { let headers = crate::operations::#h::from_headers(call.headers())?; }
    });
    let headers_arg = headers_type(op).map(|_| quote! { headers, });
    let body = op
        .body
        .as_ref()
        .map(|b| match (is_json(&b.content_type), b.required) {
            (true, true) => quote! { let body = call.required_json_body()?; },
            (true, false) => quote! { let body = call.json_body()?; },
            (false, true) => quote! { let body = call.raw_body(); },
            (false, false) => {
                quote! { let body = Some(call.raw_body()).filter(|b| !b.is_empty()); }
            }
        });
    let body_arg = op.body.as_ref().map(|_| quote! { body, });
    let mandatory = mandatory_check(api, op);
    quote! {
        async fn #handler<A: #trait_name>(
            ::axum::extract::State(api): ::axum::extract::State<::std::sync::Arc<A>>,
            request: ::axum::extract::Request,
        ) -> ::axum::response::Response {
            crate::support::respond(
                async move {
                    let call = crate::support::Call::read(request).await?;
                    let operation = &crate::operations::OPERATIONS[#index];
                    #( #path_reads )*
                    #query
                    #headers
                    #body
                    #mandatory
                    api.#method(call.context(operation), #( #path_args, )* #query_arg #headers_arg #body_arg).await
                }
                .await,
            )
        }
    }
}

/// For a request body whose schema the profile relaxes on some base path: refuse it
/// when it lacks an attribute mandatory on the base path it came in on.
fn mandatory_check(api: &Api, op: &Operation) -> Option<TokenStream> {
    let body = op
        .body
        .as_ref()
        .filter(|b| b.required && is_json(&b.content_type))?;
    let TypeRef::Named(name) = &body.ty else {
        return None;
    };
    let relaxed = api
        .profile
        .as_ref()?
        .relaxed
        .iter()
        .find(|r| &r.rust_name == name)?;
    let schema = &relaxed.schema;
    let ty = ident(name);
    Some(quote! {
        crate::profile::require_mandatory(call.base_path(), #schema, |attribute| {
            crate::models::#ty::has_attribute(&body, attribute)
        })?;
    })
}

fn emit_combined_router(name: &str, doc_line: &str, traits: &[&TraitDef]) -> TokenStream {
    if traits.is_empty() {
        return TokenStream::new();
    }
    let name = ident(name);
    let bounds = traits.iter().map(|t| ident(&t.name));
    let merges = traits.iter().map(|t| {
        let router_fn = ident(&format!("{}_router", crate::ir::names::snake(&t.name)));
        quote! { .merge(#router_fn(api.clone())) }
    });
    quote! {
        #[doc = #doc_line]
        #[doc = ""]
        #[doc = " Mount it under a base path with `Router::nest`; handlers see that prefix in `RequestContext::base_path`."]
        pub fn #name<A: #( #bounds )+*>(api: ::std::sync::Arc<A>) -> ::axum::Router {
            ::axum::Router::new()
                #( #merges )*
                .fallback(crate::support::not_found)
                .method_not_allowed_fallback(crate::support::method_not_allowed)
        }
    }
}
