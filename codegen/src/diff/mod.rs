//! `tmfgen diff`: what an implementer must change when a spec moves from A to B.
//!
//! Both documents go through the same load → lower pipeline, and the comparison is on
//! the [`crate::ir`], so a Swagger 2.0 document and its OpenAPI 3.0 successor compare
//! alike. [`compare`] matches operations and walks the types they use, pairing the old
//! and new schema found in the same place (a renamed schema is still compared field by
//! field); [`report`] prints the result as text or JSON.
//!
//! Every [`Change`] says whether it breaks a **server implementer** (who implements the
//! generated traits: accepts requests, produces responses) and a **client user** (who
//! calls the generated client: produces requests, reads responses). The rules are in
//! [`Effect::breaks`].

mod compare;
pub mod report;

use std::path::Path;

use crate::error::Result;
use crate::ir::Api;

/// Loads and lowers both documents and compares them.
pub fn diff(old: &Path, new: &Path, profile: Option<&Path>) -> Result<Diff> {
    let old_api = lower(old, profile)?;
    let new_api = lower(new, profile)?;
    Ok(compare(&old_api, &new_api))
}

fn lower(spec: &Path, profile: Option<&Path>) -> Result<Api> {
    let loaded = crate::load::load(spec, profile)?;
    crate::lower::lower(&loaded)
}

/// Compares two lowered APIs.
pub fn compare(old: &Api, new: &Api) -> Diff {
    let mut diff = compare::Comparison::new(old, new).run();
    diff.old_version = old.version.clone();
    diff.new_version = new.version.clone();
    diff
}

/// The result of a comparison.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    /// `info.version` of the old document.
    pub old_version: String,
    /// `info.version` of the new document.
    pub new_version: String,
    /// Every change, in report order (API, then operations, then schemas).
    pub changes: Vec<Change>,
}

impl Diff {
    /// Whether some change breaks `audience`.
    pub fn breaks(&self, audience: Audience) -> bool {
        self.changes.iter().any(|c| c.breaks(audience))
    }
}

/// Whom a change can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Implementers of the generated handler traits.
    Server,
    /// Users of the generated client.
    Client,
    /// Either.
    Any,
}

/// What a change is attached to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// The API as a whole (base path).
    Api,
    /// An operation, by its new `operationId` (old one when removed).
    Operation(String),
    /// A schema (Rust type name), as `new` or `new (was old)`.
    Schema(String),
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What it is attached to.
    pub group: Group,
    /// What kind of change.
    pub kind: Kind,
    /// Where in the group (`query parameter limit`, `field quantity`, `response 201`).
    pub location: String,
    /// What changed (`string → enum StateType`, `required → optional`).
    pub detail: String,
    /// Breaks implementers of the generated traits.
    pub breaks_server: bool,
    /// Breaks users of the generated client.
    pub breaks_client: bool,
}

impl Change {
    /// Whether it breaks `audience`.
    pub fn breaks(&self, audience: Audience) -> bool {
        match audience {
            Audience::Server => self.breaks_server,
            Audience::Client => self.breaks_client,
            Audience::Any => self.breaks_server || self.breaks_client,
        }
    }
}

/// The kinds of change, as named in the JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// The base path of the API changed.
    BasePathChanged,
    /// A new operation.
    OperationAdded,
    /// An operation is gone.
    OperationRemoved,
    /// Same method and path, another `operationId` (another Rust method name).
    OperationRenamed,
    /// Same `operationId`, another method or path.
    OperationMoved,
    /// The operation belongs to another handler trait (tag).
    OperationTraitChanged,
    /// A new parameter.
    ParameterAdded,
    /// A parameter is gone.
    ParameterRemoved,
    /// A path parameter has another name (same position).
    ParameterRenamed,
    /// Required ↔ optional.
    ParameterRequiredChanged,
    /// The parameter's type changed.
    ParameterTypeChanged,
    /// Query ↔ header ↔ path ↔ cookie.
    ParameterLocationChanged,
    /// The parameter is written otherwise (`style`, `explode`): only changes that
    /// change the text on the wire for some value (`explode` of a scalar does not).
    ParameterStyleChanged,
    /// A request body appeared.
    RequestBodyAdded,
    /// The request body is gone.
    RequestBodyRemoved,
    /// Required ↔ optional.
    RequestBodyRequiredChanged,
    /// The request body's type changed.
    RequestBodyTypeChanged,
    /// The request body's media types (`content`) changed.
    RequestBodyMediaTypeChanged,
    /// A new documented status.
    ResponseStatusAdded,
    /// A documented status is gone.
    ResponseStatusRemoved,
    /// A response body appeared.
    ResponseBodyAdded,
    /// A response body is gone.
    ResponseBodyRemoved,
    /// The response body's type changed.
    ResponseBodyTypeChanged,
    /// The response body's media types (`content`) changed.
    ResponseBodyMediaTypeChanged,
    /// A new property.
    FieldAdded,
    /// A property is gone.
    FieldRemoved,
    /// Required ↔ optional.
    FieldRequiredChanged,
    /// `nullable` changed.
    FieldNullableChanged,
    /// The property's type changed (narrowed, widened or replaced).
    FieldTypeChanged,
    /// New values of a string enum.
    EnumValuesAdded,
    /// Values of a string enum are gone.
    EnumValuesRemoved,
    /// New `@type` tags (or union members).
    VariantsAdded,
    /// `@type` tags (or union members) are gone.
    VariantsRemoved,
    /// The schema is another kind of type (object ↔ `@type` hierarchy ↔ enum…).
    SchemaKindChanged,
    /// Undeclared properties are now rejected, or now accepted.
    AdditionalPropertiesChanged,
    /// The same place uses a schema of another name (the Rust type is renamed).
    SchemaRenamed,
}

impl Kind {
    /// The name in the JSON output and the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::BasePathChanged => "base_path_changed",
            Kind::OperationAdded => "operation_added",
            Kind::OperationRemoved => "operation_removed",
            Kind::OperationRenamed => "operation_renamed",
            Kind::OperationMoved => "operation_moved",
            Kind::OperationTraitChanged => "operation_trait_changed",
            Kind::ParameterAdded => "parameter_added",
            Kind::ParameterRemoved => "parameter_removed",
            Kind::ParameterRenamed => "parameter_renamed",
            Kind::ParameterRequiredChanged => "parameter_required_changed",
            Kind::ParameterTypeChanged => "parameter_type_changed",
            Kind::ParameterLocationChanged => "parameter_location_changed",
            Kind::ParameterStyleChanged => "parameter_style_changed",
            Kind::RequestBodyAdded => "request_body_added",
            Kind::RequestBodyRemoved => "request_body_removed",
            Kind::RequestBodyRequiredChanged => "request_body_required_changed",
            Kind::RequestBodyTypeChanged => "request_body_type_changed",
            Kind::RequestBodyMediaTypeChanged => "request_body_media_type_changed",
            Kind::ResponseStatusAdded => "response_status_added",
            Kind::ResponseStatusRemoved => "response_status_removed",
            Kind::ResponseBodyAdded => "response_body_added",
            Kind::ResponseBodyRemoved => "response_body_removed",
            Kind::ResponseBodyTypeChanged => "response_body_type_changed",
            Kind::ResponseBodyMediaTypeChanged => "response_body_media_type_changed",
            Kind::FieldAdded => "field_added",
            Kind::FieldRemoved => "field_removed",
            Kind::FieldRequiredChanged => "field_required_changed",
            Kind::FieldNullableChanged => "field_nullable_changed",
            Kind::FieldTypeChanged => "field_type_changed",
            Kind::EnumValuesAdded => "enum_values_added",
            Kind::EnumValuesRemoved => "enum_values_removed",
            Kind::VariantsAdded => "variants_added",
            Kind::VariantsRemoved => "variants_removed",
            Kind::SchemaKindChanged => "schema_kind_changed",
            Kind::AdditionalPropertiesChanged => "additional_properties_changed",
            Kind::SchemaRenamed => "schema_renamed",
        }
    }
}

/// Where a type is used: what the client sends, what the server answers, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Uses {
    /// In a request (parameter or body): the client produces it, the server reads it.
    pub request: bool,
    /// In a response: the server produces it, the client reads it.
    pub response: bool,
}

impl Uses {
    /// Request only.
    pub const REQUEST: Uses = Uses {
        request: true,
        response: false,
    };
    /// Response only.
    pub const RESPONSE: Uses = Uses {
        request: false,
        response: true,
    };

    /// Both sets.
    pub fn union(self, other: Uses) -> Uses {
        Uses {
            request: self.request || other.request,
            response: self.response || other.response,
        }
    }

    /// `request`, `response` or `request+response`.
    pub fn label(self) -> &'static str {
        match (self.request, self.response) {
            (true, true) => "request+response",
            (true, false) => "request",
            (false, true) => "response",
            (false, false) => "unused",
        }
    }
}

/// What a change does to the set of valid values in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Fewer values are valid (string → enum, number → integer, enum value removed,
    /// nullable → not).
    Narrowed,
    /// More values are valid (the reverse).
    Widened,
    /// Incompatible (string → object, array ↔ single, another kind of schema).
    Replaced,
    /// A new required field or parameter.
    AddedRequired,
    /// A new optional field or parameter.
    AddedOptional,
    /// A field or parameter is gone.
    Removed {
        /// It was required.
        was_required: bool,
    },
    /// Required → optional.
    BecameOptional,
    /// Optional → required.
    BecameRequired,
    /// Breaks nobody's wire contract (e.g. a renamed schema, a renamed path parameter).
    Neutral,
    /// Breaks both, whatever the place (an operation renamed or moved).
    Both,
}

impl Effect {
    /// `(breaks_server, breaks_client)` of this effect in a place used as `uses`.
    ///
    /// In a request the client produces and the server consumes; in a response the
    /// roles swap. The producer is broken when it must send more or other (a new
    /// required field, fewer valid values, a field now required); the consumer when it
    /// may receive less or other (a removed field, more valid values, a field now
    /// optional). One exception: a field removed from a request also breaks the client,
    /// whose generated type no longer has it.
    pub fn breaks(self, uses: Uses) -> (bool, bool) {
        let (mut server, mut client) = (false, false);
        let side = |producer: &mut bool, consumer: &mut bool, request: bool| match self {
            Effect::Narrowed | Effect::AddedRequired | Effect::BecameRequired => *producer = true,
            Effect::Widened | Effect::BecameOptional => *consumer = true,
            Effect::Replaced | Effect::Both => {
                *producer = true;
                *consumer = true;
            }
            Effect::Removed { was_required } => {
                if request {
                    *producer = true;
                    *consumer |= was_required;
                } else {
                    *consumer = true;
                }
            }
            Effect::AddedOptional | Effect::Neutral => {}
        };
        if uses.request {
            side(&mut client, &mut server, true);
        }
        if uses.response {
            side(&mut server, &mut client, false);
        }
        (server, client)
    }
}
