//! The intermediate representation: what the API *is*, independent of how it was
//! written (OpenAPI 3.0 or Swagger 2.0) and of what is emitted from it.
//!
//! Names here are already Rust names (sanitised once, in [`names`]); the original
//! spelling travels beside them for serde renames and HTTP.

pub mod names;

use std::collections::BTreeMap;

/// The whole API.
#[derive(Debug, Clone)]
pub struct Api {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`.
    pub description: Option<String>,
    /// The first server URL's path (e.g. `/tmf-api/event/v4`), empty when none.
    pub base_path: String,
    /// Named types by Rust name (ordered: deterministic output).
    pub types: BTreeMap<String, TypeDef>,
    /// Operations, ordered by trait then operation id.
    pub operations: Vec<Operation>,
    /// Handler traits (one per tag), ordered by name.
    pub traits: Vec<TraitDef>,
    /// The profile, when one was given.
    pub profile: Option<ProfileIr>,
    /// Tolerated defects of the input (shown to the user, not fatal).
    pub warnings: Vec<String>,
}

/// A named Rust type.
#[derive(Debug, Clone)]
pub struct TypeDef {
    /// Rust name.
    pub name: String,
    /// The schema's name in the document (or a path-derived name for inline schemas).
    pub original: String,
    /// Rustdoc.
    pub doc: Option<String>,
    /// What it is.
    pub kind: TypeKind,
}

/// The shape of a named type.
#[derive(Debug, Clone)]
pub enum TypeKind {
    /// An object.
    Struct(StructDef),
    /// A closed set of strings.
    StringEnum(Vec<EnumValue>),
    /// A closed set of integers: any other number is refused when read.
    IntegerEnum(Vec<IntegerValue>),
    /// A `@type` (discriminator) hierarchy, with a fallback for unknown tags.
    Tagged(TaggedDef),
    /// `oneOf`/`anyOf` without a discriminator: the first variant that fits.
    Untagged(Vec<Variant>),
    /// Another name for a type.
    Alias(TypeRef),
}

/// An object schema.
#[derive(Debug, Clone)]
pub struct StructDef {
    /// Declared properties, in document order.
    pub fields: Vec<Field>,
    /// What happens to undeclared properties.
    pub additional: Additional,
}

/// How a struct keeps properties it does not declare.
#[derive(Debug, Clone, PartialEq)]
pub enum Additional {
    /// Kept as JSON (the default: round trips lose nothing).
    Any,
    /// Kept, each typed.
    Typed(TypeRef),
    /// `additionalProperties: false`: rejected.
    Forbidden,
}

/// A property of a struct.
#[derive(Debug, Clone)]
pub struct Field {
    /// Rust name.
    pub name: String,
    /// JSON name.
    pub json_name: String,
    /// Rustdoc.
    pub doc: Option<String>,
    /// Its type (without the `Option` of optionality).
    pub ty: TypeRef,
    /// Listed in `required`.
    pub required: bool,
    /// `nullable: true`: `null` is a value of its own.
    pub nullable: bool,
    /// Boxed to break a cycle of directly contained types.
    pub boxed: bool,
}

/// A value of a string enum.
#[derive(Debug, Clone)]
pub struct EnumValue {
    /// Rust variant name.
    pub name: String,
    /// JSON value.
    pub value: String,
}

/// A value of an integer enum.
#[derive(Debug, Clone)]
pub struct IntegerValue {
    /// Rust variant name.
    pub name: String,
    /// JSON value.
    pub value: i64,
}

/// A discriminated hierarchy.
#[derive(Debug, Clone)]
pub struct TaggedDef {
    /// The discriminating property (`@type`).
    pub property: String,
    /// Tag value → variant.
    pub variants: Vec<TaggedVariant>,
    /// The type used for a tag no variant claims.
    pub fallback: Fallback,
}

/// One arm of a [`TaggedDef`].
#[derive(Debug, Clone)]
pub struct TaggedVariant {
    /// The tag value.
    pub tag: String,
    /// Rust variant name.
    pub name: String,
    /// The variant's (named) type.
    pub ty: String,
}

/// What an unknown tag deserializes into.
#[derive(Debug, Clone)]
pub enum Fallback {
    /// The hierarchy's base struct (a named type), extra attributes kept.
    Base(String),
    /// Any JSON object (a `oneOf` has no base).
    Object,
}

/// An arm of an untagged union.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Rust variant name.
    pub name: String,
    /// Its type.
    pub ty: TypeRef,
}

/// A use of a type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum TypeRef {
    /// A named type.
    Named(String),
    /// `string`.
    String,
    /// `string`/`date-time`, kept as written (offset or not).
    DateTime,
    /// `string`/`uri`, kept as written, validated as an absolute URI (RFC 3986).
    Uri,
    /// `integer` (`int32` → 32 bits).
    Integer {
        /// 32 or 64.
        bits: u8,
    },
    /// `number`.
    Number,
    /// `boolean`.
    Boolean,
    /// Anything JSON.
    Any,
    /// `array`.
    Array(Box<TypeRef>),
    /// An object used as a map.
    Map(Box<TypeRef>),
}

/// A handler trait (one per tag).
#[derive(Debug, Clone)]
pub struct TraitDef {
    /// Rust name, e.g. `EventApi`.
    pub name: String,
    /// The tag.
    pub tag: String,
    /// Rustdoc.
    pub doc: Option<String>,
    /// Whether its operations are the *listener* side (notification receivers).
    pub listener: bool,
}

/// An HTTP operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `operationId` (or one derived from method and path).
    pub id: String,
    /// Rust method name.
    pub name: String,
    /// Rust name prefix for its types (e.g. `CreateEvent`).
    pub type_prefix: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path relative to the base path, e.g. `/topic/{topicId}/event`.
    pub path: String,
    /// The handler trait (Rust name).
    pub trait_name: String,
    /// Summary line.
    pub summary: Option<String>,
    /// Longer description.
    pub description: Option<String>,
    /// Path parameters in path order.
    pub path_params: Vec<Param>,
    /// Query parameters.
    pub query_params: Vec<Param>,
    /// Request headers declared by the operation.
    pub header_params: Vec<Param>,
    /// Cookies declared by the operation.
    pub cookie_params: Vec<Param>,
    /// The JSON body.
    pub body: Option<Body>,
    /// Documented responses, by status.
    pub responses: Vec<Response>,
    /// Roles allowed to call it (from the profile; empty without a profile).
    pub roles: Vec<String>,
}

/// A parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Rust name.
    pub name: String,
    /// HTTP name.
    pub http_name: String,
    /// Rustdoc.
    pub doc: Option<String>,
    /// Type.
    pub ty: TypeRef,
    /// Required.
    pub required: bool,
    /// How it is written on the wire (`style`, `explode`, and its shape).
    pub wire: Wire,
}

/// How a parameter is written: OpenAPI 3.0 `style` and `explode` (defaults filled in),
/// and the shape of its schema, which decides how its text is split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    /// `style`.
    pub style: Style,
    /// `explode`.
    pub explode: bool,
    /// What the schema is.
    pub shape: Shape,
}

impl Wire {
    /// A scalar written as it is (`simple`): response headers.
    pub fn simple_scalar() -> Self {
        Self {
            style: Style::Simple,
            explode: false,
            shape: Shape::Scalar,
        }
    }
}

/// OpenAPI 3.0 parameter styles, plus Swagger 2.0's `collectionFormat: tsv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `form` (query, cookie).
    Form,
    /// `simple` (path, header).
    Simple,
    /// `label` (path).
    Label,
    /// `matrix` (path).
    Matrix,
    /// `spaceDelimited` (query).
    SpaceDelimited,
    /// `pipeDelimited` (query).
    PipeDelimited,
    /// Swagger 2.0 `tsv` (query), which OpenAPI 3.0 has no style for.
    TabDelimited,
    /// `deepObject` (query objects).
    DeepObject,
}

/// The shape of a parameter's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// A string, number, boolean or enum.
    Scalar,
    /// An array (its items scalars; anything else is written as JSON text).
    Array,
    /// An object or map, with its declared property names.
    Object(Vec<String>),
}

/// A request body.
#[derive(Debug, Clone)]
pub struct Body {
    /// Its type.
    pub ty: TypeRef,
    /// Required.
    pub required: bool,
    /// Content type (JSON unless the spec only lists another).
    pub content_type: String,
    /// Every media type the document lists for it, in document order (`tmfgen diff`
    /// compares them: a server or client built on another list may not interoperate).
    pub media_types: Vec<String>,
    /// Rustdoc.
    pub doc: Option<String>,
}

/// One documented response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code; `None` for `default`.
    pub status: Option<u16>,
    /// Rust variant name (`Created`, `NotFound`…).
    pub variant: String,
    /// Rustdoc.
    pub doc: Option<String>,
    /// JSON body type.
    pub body: Option<TypeRef>,
    /// Every media type the document lists for the body, in document order (empty
    /// without a body).
    pub media_types: Vec<String>,
    /// Declared headers.
    pub headers: Vec<Param>,
    /// A success body of an operation with a `fields` parameter: each resource may be
    /// a projection (only some attributes), so it is typed `support::Projection<T>`.
    pub projectable: bool,
}

/// The profile, resolved against the API.
#[derive(Debug, Clone)]
pub struct ProfileIr {
    /// Short name.
    pub name: String,
    /// Title.
    pub title: Option<String>,
    /// Base paths and the operation ids served under each.
    pub base_paths: Vec<BasePathIr>,
    /// Roles (Rust variant, name, description).
    pub roles: Vec<RoleIr>,
    /// The role matrix rows.
    pub capabilities: Vec<CapabilityIr>,
    /// Topics.
    pub topics: Vec<TopicIr>,
    /// Request body schemas whose mandatory attributes differ between base paths.
    pub relaxed: Vec<RelaxedIr>,
}

/// A request body schema whose mandatory attributes depend on the base path: its Rust
/// type requires only what every base path requires, and the handlers check the rest.
#[derive(Debug, Clone)]
pub struct RelaxedIr {
    /// The schema's name in the document (`Event_Create`).
    pub schema: String,
    /// Its Rust type (`EventCreate`).
    pub rust_name: String,
    /// The document's own `required` list (what applies where no base path is known).
    pub document: Vec<String>,
}

/// A base path.
#[derive(Debug, Clone)]
pub struct BasePathIr {
    /// The path.
    pub path: String,
    /// Description.
    pub description: Option<String>,
    /// Operation ids served (all of them, listed).
    pub operations: Vec<String>,
    /// For every relaxed schema: the attributes mandatory here (schema name, JSON names).
    pub mandatory: Vec<(String, Vec<String>)>,
}

/// A role.
#[derive(Debug, Clone)]
pub struct RoleIr {
    /// Rust variant name.
    pub variant: String,
    /// Name in configuration.
    pub name: String,
    /// Description.
    pub description: String,
}

/// A role-matrix row.
#[derive(Debug, Clone)]
pub struct CapabilityIr {
    /// Name.
    pub name: String,
    /// PSI requirement id.
    pub requirement: Option<String>,
    /// Operation ids.
    pub operations: Vec<String>,
    /// Role names.
    pub roles: Vec<String>,
}

/// A topic of the profile.
#[derive(Debug, Clone)]
pub struct TopicIr {
    /// Name (= id).
    pub name: String,
    /// Rust variant name.
    pub variant: String,
    /// Description.
    pub description: Option<String>,
    /// Payload type (Rust name).
    pub payload: String,
    /// Event types.
    pub event_types: Vec<String>,
}
