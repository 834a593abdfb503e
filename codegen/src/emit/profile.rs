//! The profile → `profile.rs`: roles, base paths, topics and their typed payloads.

use proc_macro2::TokenStream;
use quote::quote;

use super::{doc, ident};
use crate::ir::{Api, ProfileIr};

/// The `profile` module (only when a profile was given).
pub fn emit(api: &Api, profile: &ProfileIr) -> TokenStream {
    let role_variants = profile.roles.iter().map(|r| {
        let variant = ident(&r.variant);
        let docs = doc(Some(&r.description));
        quote! { #docs #variant, }
    });
    let role_names = profile.roles.iter().map(|r| {
        let variant = ident(&r.variant);
        let name = &r.name;
        quote! { Self::#variant => #name, }
    });
    let role_parse = profile.roles.iter().map(|r| {
        let variant = ident(&r.variant);
        let name = &r.name;
        quote! { #name => Ok(Self::#variant), }
    });
    let all_roles = profile.roles.iter().map(|r| {
        let variant = ident(&r.variant);
        quote! { Role::#variant }
    });
    let allowed_arms = api.operations.iter().map(|op| {
        let id = &op.id;
        let roles = op
            .roles
            .iter()
            .filter_map(|name| profile.roles.iter().find(|r| &r.name == name))
            .map(|r| {
                let variant = ident(&r.variant);
                quote! { Role::#variant }
            });
        quote! { #id => &[#(#roles),*], }
    });
    let base_paths = profile.base_paths.iter().map(|b| {
        let path = &b.path;
        let description = b.description.clone().unwrap_or_default();
        let operations = &b.operations;
        let mandatory = b.mandatory.iter().map(|(schema, attributes)| {
            quote! { (#schema, &[#(#attributes),*]) }
        });
        quote! { BasePath { path: #path, description: #description, operations: &[#(#operations),*], mandatory: &[#(#mandatory),*] }, }
    });
    let document_mandatory = profile.relaxed.iter().map(|r| {
        let schema = &r.schema;
        let attributes = &r.document;
        quote! { (#schema, &[#(#attributes),*]) }
    });
    let capabilities = profile.capabilities.iter().map(|c| {
        let name = &c.name;
        let requirement = match &c.requirement {
            Some(r) => quote! { Some(#r) },
            None => quote! { None },
        };
        let operations = &c.operations;
        let roles = &c.roles;
        quote! { Capability { name: #name, requirement: #requirement, operations: &[#(#operations),*], roles: &[#(#roles),*] }, }
    });
    let topics = profile.topics.iter().map(|t| {
        let name = &t.name;
        let payload = &t.payload;
        let description = t.description.clone().unwrap_or_default();
        let event_types = &t.event_types;
        quote! { TopicProfile { name: #name, description: #description, payload_type: #payload, event_types: &[#(#event_types),*] }, }
    });
    let payload_variants = profile.topics.iter().map(|t| {
        let variant = ident(&t.variant);
        let payload = ident(&t.payload);
        let line = format!(" An event of topic `{}`.", t.name);
        quote! { #[doc = #line] #variant(::std::boxed::Box<crate::models::#payload>), }
    });
    let payload_parse = profile.topics.iter().map(|t| {
        let variant = ident(&t.variant);
        let name = &t.name;
        let wrapper = heck::ToLowerCamelCase::to_lower_camel_case(t.payload.as_str());
        quote! { #name => crate::support::from_value_exact_at(&unwrap_entity(payload, #wrapper)).map(|p| Self::#variant(::std::boxed::Box::new(p))), }
    });
    let payload_check = profile.topics.iter().map(|t| {
        let name = &t.name;
        let payload = ident(&t.payload);
        let wrapper = heck::ToLowerCamelCase::to_lower_camel_case(t.payload.as_str());
        quote! { #name => crate::support::from_value_exact_at::<crate::models::#payload>(entity(payload, #wrapper)).map(drop), }
    });
    let title = profile
        .title
        .clone()
        .unwrap_or_else(|| profile.name.clone());
    let title_doc = format!(" Profile `{}`: {title}.", profile.name);
    quote! {
        //! The topic profile: who may call what, where the API is mounted, which topics
        //! always exist and what their events carry.
        #![doc = ""]
        #![doc = #title_doc]

        /// A caller's role.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Role { #( #role_variants )* }

        impl Role {
            /// Every role.
            pub const ALL: &'static [Role] = &[#(#all_roles),*];

            /// The name used in configuration.
            pub fn as_str(&self) -> &'static str {
                match self { #( #role_names )* }
            }

            /// Whether this role may call the operation `operation_id`.
            pub fn may_call(&self, operation_id: &str) -> bool {
                allowed_roles(operation_id).contains(self)
            }
        }

        impl ::std::str::FromStr for Role {
            type Err = ::std::string::String;
            fn from_str(name: &str) -> ::std::result::Result<Self, Self::Err> {
                match name {
                    #( #role_parse )*
                    other => Err(format!("unknown role {other:?}")),
                }
            }
        }

        impl ::std::fmt::Display for Role {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// The roles allowed to call `operation_id` (none for an unknown id).
        pub fn allowed_roles(operation_id: &str) -> &'static [Role] {
            match operation_id {
                #( #allowed_arms )*
                _ => &[],
            }
        }

        /// A base path the API is served under.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct BasePath {
            /// E.g. `/tmf-api/event/v4`.
            pub path: &'static str,
            /// What it is for.
            pub description: &'static str,
            /// Operation ids served there.
            pub operations: &'static [&'static str],
            /// (schema, JSON names): the attributes a request body of the schema must
            /// carry here, for each schema whose mandatory attributes differ between
            /// base paths (profile `mandatory`).
            pub mandatory: &'static [(&'static str, &'static [&'static str])],
        }

        impl BasePath {
            /// Whether `operation_id` is served under this base path.
            pub fn serves(&self, operation_id: &str) -> bool {
                self.operations.contains(&operation_id)
            }

            /// The attributes mandatory here in a request body of `schema`, when the
            /// profile makes them depend on the base path.
            pub fn mandatory_of(&self, schema: &str) -> ::std::option::Option<&'static [&'static str]> {
                self.mandatory.iter().find(|(s, _)| *s == schema).map(|(_, attributes)| *attributes)
            }
        }

        /// Every base path of the profile.
        pub const BASE_PATHS: &[BasePath] = &[ #( #base_paths )* ];

        /// The base path served at `path` (e.g. `/psi-api/event/v2`).
        pub fn base_path(path: &str) -> ::std::option::Option<&'static BasePath> {
            BASE_PATHS.iter().find(|b| b.path == path)
        }

        /// (schema, JSON names): the document's own mandatory attributes of each schema
        /// that some base path relaxes; they apply where no base path is known (e.g. a
        /// router mounted at the root).
        pub const DOCUMENT_MANDATORY: &[(&str, &[&str])] = &[ #( #document_mandatory ),* ];

        /// Refuses (400, `missing field `…``) a request body of `schema` that lacks an
        /// attribute mandatory on the base path `prefix`; `has` tells whether the body carries an
        /// attribute (by JSON name).
        pub fn require_mandatory(
            prefix: &str,
            schema: &str,
            has: impl Fn(&str) -> bool,
        ) -> ::std::result::Result<(), crate::support::ApiError> {
            let mandatory = base_path(prefix)
                .and_then(|b| b.mandatory_of(schema))
                .or_else(|| DOCUMENT_MANDATORY.iter().find(|(s, _)| *s == schema).map(|(_, a)| *a))
                .unwrap_or_default();
            match mandatory.iter().find(|attribute| !has(attribute)) {
                Some(attribute) => Err(crate::support::ApiError::bad_request(format!(
                    "missing field `{attribute}` (mandatory on {})",
                    if prefix.is_empty() { "this API" } else { prefix }
                ))),
                None => Ok(()),
            }
        }

        /// A row of the role matrix.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct Capability {
            /// Name.
            pub name: &'static str,
            /// The requirement it traces to.
            pub requirement: ::std::option::Option<&'static str>,
            /// Operation ids.
            pub operations: &'static [&'static str],
            /// Role names.
            pub roles: &'static [&'static str],
        }

        /// The role matrix.
        pub const CAPABILITIES: &[Capability] = &[ #( #capabilities )* ];

        /// A topic that always exists.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct TopicProfile {
            /// Name, also its id.
            pub name: &'static str,
            /// What it carries.
            pub description: &'static str,
            /// The model type of its events' `event` payload.
            pub payload_type: &'static str,
            /// Known event types.
            pub event_types: &'static [&'static str],
        }

        /// The topics of the profile.
        pub const TOPICS: &[TopicProfile] = &[ #( #topics )* ];

        /// The payload of an event, typed by its topic.
        #[derive(Clone, Debug, PartialEq)]
        pub enum TopicPayload {
            #( #payload_variants )*
            /// A topic the profile does not type.
            Other(::serde_json::Value),
        }

        impl TopicPayload {
            /// Types `payload` (an Event's `event` attribute) by the topic it was posted to.
            /// Both placements seen in practice are accepted: the entity itself (PSI) or
            /// the entity under its resource name, e.g. `{"alarm": {...}}` (TMF samples).
            pub fn parse(topic: &str, payload: ::serde_json::Value) -> ::std::result::Result<Self, ::serde_json::Error> {
                match topic {
                    #( #payload_parse )*
                    _ => Ok(Self::Other(payload)),
                }
            }
        }

        impl TopicPayload {
            /// Whether `payload` is a valid payload for `topic`, without copying it (both
            /// placements accepted, as in [`TopicPayload::parse`]).
            pub fn check(topic: &str, payload: &::serde_json::Value) -> ::std::result::Result<(), ::serde_json::Error> {
                match topic {
                    #( #payload_check )*
                    _ => Ok(()),
                }
            }
        }

        /// `{"alarm": {...}}` → `{...}`, by reference.
        fn entity<'a>(payload: &'a ::serde_json::Value, wrapper: &str) -> &'a ::serde_json::Value {
            match payload.as_object() {
                Some(map) if map.len() == 1 => map.get(wrapper).unwrap_or(payload),
                _ => payload,
            }
        }

        /// `{"alarm": {...}}` → `{...}`; anything else unchanged.
        fn unwrap_entity(payload: ::serde_json::Value, wrapper: &str) -> ::serde_json::Value {
            match payload {
                ::serde_json::Value::Object(mut map) if map.len() == 1 && map.contains_key(wrapper) => {
                    map.remove(wrapper).unwrap_or_default()
                }
                other => other,
            }
        }
    }
}
