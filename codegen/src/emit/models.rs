//! Named types → `models.rs`: serde structs and enums.

use proc_macro2::TokenStream;
use quote::quote;

use super::{doc, ident, type_tokens};
use crate::ir::{
    Additional, Api, Fallback, Field, IntegerValue, StructDef, TaggedDef, TypeDef, TypeKind,
    TypeRef, Variant,
};

/// The `models` module.
pub fn emit(api: &Api) -> TokenStream {
    let items = api.types.values().map(emit_type);
    let lifecycle = api.types.values().filter_map(|def| from_create(api, def));
    let presence = api
        .profile
        .iter()
        .flat_map(|p| &p.relaxed)
        .filter_map(|r| api.types.get(&r.rust_name))
        .filter_map(has_attribute);
    quote! {
        //! Models: one type per schema of the spec.
        #( #items )*
        #( #lifecycle )*
        #( #presence )*
    }
}

/// `has_attribute(name)` for a request body whose mandatory attributes depend on the
/// base path (profile `mandatory`): the generated handler asks it for each of them.
fn has_attribute(def: &TypeDef) -> Option<TokenStream> {
    let TypeKind::Struct(fields) = &def.kind else {
        return None;
    };
    let name = ident(&def.name);
    let arms = fields.fields.iter().map(|f| {
        let json = &f.json_name;
        let field = ident(&f.name);
        if f.required && !f.nullable {
            quote! { #json => true, }
        } else {
            quote! { #json => self.#field.is_some(), }
        }
    });
    Some(quote! {
        impl #name {
            /// Whether the attribute named `name` (its JSON name) is present.
            pub fn has_attribute(&self, name: &str) -> bool {
                match name {
                    #( #arms )*
                    _ => false,
                }
            }
        }
    })
}

/// `impl From<X_Create> for X` (TMF resource lifecycle): when `X` has every attribute
/// of `X_Create` with the same type, and the ones it adds (`id`, `href`) are optional.
fn from_create(api: &Api, resource: &TypeDef) -> Option<TokenStream> {
    let TypeKind::Struct(target) = &resource.kind else {
        return None;
    };
    let create = api
        .types
        .values()
        .find(|d| d.original == format!("{}_Create", resource.original))?;
    let TypeKind::Struct(source) = &create.kind else {
        return None;
    };
    if source.additional != target.additional {
        return None;
    }
    let mut inits = Vec::new();
    for field in &target.fields {
        let name = ident(&field.name);
        let from = source
            .fields
            .iter()
            .find(|f| f.json_name == field.json_name);
        let init = match from {
            None if !field.required => quote! { #name: ::std::option::Option::None, },
            None => return None,
            Some(from)
                if from.ty != field.ty
                    || from.nullable != field.nullable
                    || from.boxed != field.boxed =>
            {
                return None;
            }
            Some(from) => match (from.required, field.required) {
                (true, false) if !field.nullable => {
                    quote! { #name: ::std::option::Option::Some(create.#name), }
                }
                (a, b) if a == b => quote! { #name: create.#name, },
                _ => return None,
            },
        };
        inits.push(init);
    }
    if source
        .fields
        .iter()
        .any(|f| !target.fields.iter().any(|t| t.json_name == f.json_name))
    {
        return None;
    }
    let additional = (target.additional != Additional::Forbidden)
        .then(|| quote! { additional_properties: create.additional_properties, });
    let (resource_name, create_name) = (ident(&resource.name), ident(&create.name));
    let doc_line = format!(
        " The `{}` a `{}` becomes; what the server assigns is absent.",
        resource.original, create.original
    );
    Some(quote! {
        #[doc = #doc_line]
        impl ::std::convert::From<crate::models::#create_name> for crate::models::#resource_name {
            fn from(create: crate::models::#create_name) -> Self {
                Self { #( #inits )* #additional }
            }
        }
    })
}

fn emit_type(def: &TypeDef) -> TokenStream {
    let name = ident(&def.name);
    let mut docs = doc(def.doc.as_deref());
    let schema_note = format!(" Schema `{}`.", def.original);
    if def.doc.is_some() {
        docs.extend(quote! { #[doc = ""] });
    }
    docs.extend(quote! { #[doc = #schema_note] });
    match &def.kind {
        TypeKind::Struct(s) => emit_struct(&name, &docs, s),
        TypeKind::StringEnum(values) => {
            let variants = values.iter().map(|v| {
                let variant = ident(&v.name);
                let value = &v.value;
                let note = value_doc(value);
                quote! { #[serde(rename = #value)] #[doc = #note] #variant, }
            });
            let arms = values.iter().map(|v| {
                let variant = ident(&v.name);
                let value = &v.value;
                quote! { Self::#variant => #value, }
            });
            quote! {
                #docs
                #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
                pub enum #name { #( #variants )* }

                impl #name {
                    /// The value as it appears in JSON.
                    pub fn as_str(&self) -> &'static str {
                        match self { #( #arms )* }
                    }
                }

                impl ::std::fmt::Display for #name {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(self.as_str())
                    }
                }
            }
        }
        TypeKind::IntegerEnum(values) => emit_integer_enum(&name, &docs, values),
        TypeKind::Tagged(tagged) => emit_tagged(&name, &docs, tagged),
        TypeKind::Untagged(variants) => emit_untagged(&name, &docs, variants),
        TypeKind::Alias(ty) => {
            let ty = type_tokens(ty);
            quote! { #docs pub type #name = #ty; }
        }
    }
}

/// The doc line of a string enum variant: its value as a quoted Rust string literal in
/// a code span (`"in-progress"`, `" "`, `"\t"`, `""`), so that no value — a blank one
/// included — gives an empty or misleading doc line.
fn value_doc(value: &str) -> String {
    let literal = format!("{value:?}");
    // A code span is delimited by a run of backticks longer than any inside it.
    let mut longest = 0;
    let mut run = 0;
    for c in literal.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let note = if value.is_empty() {
        " (the empty string)"
    } else if value.trim().is_empty() {
        " (only whitespace)"
    } else {
        ""
    };
    format!(" {fence}{literal}{fence}{note}")
}

fn emit_struct(name: &proc_macro2::Ident, docs: &TokenStream, def: &StructDef) -> TokenStream {
    let fields = def.fields.iter().map(emit_field);
    let additional = match &def.additional {
        Additional::Any => quote! {
            /// Attributes the schema does not declare, kept so that nothing is lost.
            #[serde(flatten)]
            pub additional_properties: ::serde_json::Map<::std::string::String, ::serde_json::Value>,
        },
        Additional::Typed(ty) => {
            let ty = type_tokens(ty);
            quote! {
                /// Attributes the schema does not declare (typed by `additionalProperties`).
                #[serde(flatten)]
                pub additional_properties: ::std::collections::BTreeMap<::std::string::String, #ty>,
            }
        }
        Additional::Forbidden => TokenStream::new(),
    };
    let deny = if def.additional == Additional::Forbidden {
        quote! { #[serde(deny_unknown_fields)] }
    } else {
        TokenStream::new()
    };
    let required: Vec<&Field> = def
        .fields
        .iter()
        .filter(|f| f.required && !f.nullable)
        .collect();
    let default = required.is_empty().then(|| quote! { Default, });
    let constructor = (!required.is_empty()).then(|| constructor(name, def, &required));
    quote! {
        #docs
        #[derive(Clone, Debug, #default PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #deny
        pub struct #name {
            #( #fields )*
            #additional
        }
        #constructor
    }
}

/// `new(required…)`: every optional attribute absent.
fn constructor(name: &proc_macro2::Ident, def: &StructDef, required: &[&Field]) -> TokenStream {
    let args = required.iter().map(|f| {
        let name = ident(&f.name);
        let ty = type_tokens(&f.ty);
        quote! { #name: #ty }
    });
    let inits = def.fields.iter().map(|f| {
        let name = ident(&f.name);
        match (f.required && !f.nullable, f.boxed) {
            (true, true) => quote! { #name: ::std::boxed::Box::new(#name), },
            (true, false) => quote! { #name, },
            (false, _) => quote! { #name: ::std::option::Option::None, },
        }
    });
    let additional = (def.additional != Additional::Forbidden)
        .then(|| quote! { additional_properties: ::std::default::Default::default(), });
    let allow = (required.len() > 7).then(|| quote! { #[allow(clippy::too_many_arguments)] });
    quote! {
        impl #name {
            /// A value with the required attributes and every optional one absent.
            #allow
            pub fn new(#( #args ),*) -> Self {
                Self { #( #inits )* #additional }
            }
        }
    }
}

fn emit_field(field: &Field) -> TokenStream {
    let name = ident(&field.name);
    let json_name = &field.json_name;
    let docs = doc(field.doc.as_deref());
    let mut ty = type_tokens(&field.ty);
    if field.boxed {
        ty = quote! { ::std::boxed::Box<#ty> };
    }
    match (field.required, field.nullable) {
        (true, false) => quote! {
            #docs
            #[serde(rename = #json_name)]
            pub #name: #ty,
        },
        (true, true) => quote! {
            #docs
            #[serde(rename = #json_name)]
            pub #name: ::std::option::Option<#ty>,
        },
        (false, false) => quote! {
            #docs
            #[serde(rename = #json_name, default, skip_serializing_if = "::std::option::Option::is_none")]
            pub #name: ::std::option::Option<#ty>,
        },
        (false, true) => quote! {
            #docs
            /// `Some(None)` is an explicit `null`; `None` is absent.
            #[serde(
                rename = #json_name,
                default,
                deserialize_with = "crate::support::double_option",
                skip_serializing_if = "::std::option::Option::is_none"
            )]
            pub #name: ::std::option::Option<::std::option::Option<#ty>>,
        },
    }
}

/// A closed set of integers: serialized as the number; read from any JSON number of
/// the same value (`1.0` for `1`), and a number outside the set is refused when read
/// (serde's `invalid value` error, which the support module reports with its JSON
/// path).
fn emit_integer_enum(
    name: &proc_macro2::Ident,
    docs: &TokenStream,
    values: &[IntegerValue],
) -> TokenStream {
    let variants = values.iter().map(|v| {
        let variant = ident(&v.name);
        let note = format!(" `{}`", v.value);
        quote! { #[doc = #note] #variant, }
    });
    let to_value = values.iter().map(|v| {
        let variant = ident(&v.name);
        let value = proc_macro2::Literal::i64_unsuffixed(v.value);
        quote! { Self::#variant => #value, }
    });
    let from_value = values.iter().map(|v| {
        let variant = ident(&v.name);
        let value = proc_macro2::Literal::i64_unsuffixed(v.value);
        quote! { #value => ::std::option::Option::Some(Self::#variant), }
    });
    let expected = format!(
        "one of {}",
        values
            .iter()
            .map(|v| v.value.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    quote! {
        #docs
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #name { #( #variants )* }

        impl #name {
            /// The value as it appears in JSON.
            pub fn value(&self) -> i64 {
                match self { #( #to_value )* }
            }

            /// The variant for `value`, if it is one of the enum's.
            pub fn from_value(value: i64) -> ::std::option::Option<Self> {
                match value {
                    #( #from_value )*
                    _ => ::std::option::Option::None,
                }
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.value(), f)
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.value())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                // Any number whose value is a member (`1`, `1.0`, `1e0`), as JSON Schema's enum.
                let value = <crate::support::Integer as ::serde::Deserialize>::deserialize(deserializer)?;
                value.as_i64().and_then(Self::from_value).ok_or_else(|| {
                    let unexpected = format!("integer `{value}`");
                    <D::Error as ::serde::de::Error>::invalid_value(::serde::de::Unexpected::Other(&unexpected), &#expected)
                })
            }
        }
    }
}

fn emit_tagged(name: &proc_macro2::Ident, docs: &TokenStream, tagged: &TaggedDef) -> TokenStream {
    let property = &tagged.property;
    let variants = tagged.variants.iter().map(|v| {
        let variant = ident(&v.name);
        let ty = type_tokens(&TypeRef::Named(v.ty.clone()));
        let note = format!(" `{property}` = `{}`.", v.tag);
        quote! { #[doc = #note] #variant(::std::boxed::Box<#ty>), }
    });
    let fallback_ty = match &tagged.fallback {
        Fallback::Base(base) => {
            let ty = type_tokens(&TypeRef::Named(base.clone()));
            quote! { ::std::boxed::Box<#ty> }
        }
        Fallback::Object => {
            quote! { ::serde_json::Map<::std::string::String, ::serde_json::Value> }
        }
    };
    let fallback_build = match &tagged.fallback {
        Fallback::Base(_) => {
            quote! { ::serde_json::from_value(value).map(|v| Self::Other(::std::boxed::Box::new(v))) }
        }
        Fallback::Object => quote! {
            match value {
                ::serde_json::Value::Object(map) => Ok(Self::Other(map)),
                other => ::serde_json::from_value::<::serde_json::Map<::std::string::String, ::serde_json::Value>>(other).map(Self::Other),
            }
        },
    };
    let serialize_arms = tagged.variants.iter().map(|v| {
        let variant = ident(&v.name);
        quote! { Self::#variant(value) => ::serde::Serialize::serialize(value, serializer), }
    });
    let deserialize_arms = tagged.variants.iter().map(|v| {
        let variant = ident(&v.name);
        let tag = &v.tag;
        quote! { Some(#tag) => ::serde_json::from_value(value).map(|v| Self::#variant(::std::boxed::Box::new(v))), }
    });
    let unknown_doc =
        format!(" Any other `{property}` (or none): the base attributes, extra ones kept.");
    quote! {
        #docs
        #[doc = ""]
        #[doc = " Polymorphic: the variant is chosen by the discriminator; an unknown value falls back to `Other`."]
        #[derive(Clone, Debug, PartialEq)]
        pub enum #name {
            #( #variants )*
            #[doc = #unknown_doc]
            Other(#fallback_ty),
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match self {
                    #( #serialize_arms )*
                    Self::Other(value) => ::serde::Serialize::serialize(value, serializer),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                let tag = value.get(#property).and_then(::serde_json::Value::as_str).map(::std::borrow::ToOwned::to_owned);
                let parsed = match tag.as_deref() {
                    #( #deserialize_arms )*
                    _ => #fallback_build,
                };
                parsed.map_err(::serde::de::Error::custom)
            }
        }
    }
}

fn emit_untagged(
    name: &proc_macro2::Ident,
    docs: &TokenStream,
    variants: &[Variant],
) -> TokenStream {
    let attempts = variants.iter().map(|v| {
        let variant = ident(&v.name);
        let ty = type_tokens(&v.ty);
        let build = match &v.ty {
            TypeRef::Named(_) => quote! { Self::#variant(::std::boxed::Box::new(parsed)) },
            _ => quote! { Self::#variant(parsed) },
        };
        quote! {
            if let Ok(parsed) = crate::support::from_value_exact::<#ty>(&value) {
                return Ok(#build);
            }
        }
    });
    let variants = variants.iter().map(|v| {
        let variant = ident(&v.name);
        let ty = type_tokens(&v.ty);
        match &v.ty {
            TypeRef::Named(_) => quote! { #variant(::std::boxed::Box<#ty>), },
            _ => quote! { #variant(#ty), },
        }
    });
    let no_fit = format!("data did not match any variant of untagged enum {name}");
    // Read through a `serde_json::Value`, not serde's `untagged` buffering: that buffer
    // cannot carry serde_json's exact (`arbitrary_precision`) numbers into typed fields.
    quote! {
        #docs
        #[doc = ""]
        #[doc = " One of several shapes: the first that fits is chosen."]
        #[derive(Clone, Debug, PartialEq, ::serde::Serialize)]
        #[serde(untagged)]
        pub enum #name { #( #variants )* }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(deserializer)?;
                #( #attempts )*
                Err(::serde::de::Error::custom(#no_fit))
            }
        }
    }
}
