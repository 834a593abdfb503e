//! The caller of a request as the access rules of [`crate::access`] see it, and the
//! owner it records on what it registers. Hubs and listeners of another principal are
//! answered as if they did not exist (404): their ids, callbacks and queries are that
//! principal's business (DESIGN §4b).

use tmf688_api::server::RequestContext;
use tmf688_api::support::ApiError;

use crate::access::{Viewer, owner_of};
use crate::auth::Principal;
use crate::store::Owner;

/// The authenticated caller, when authentication is on.
pub(super) fn principal(ctx: &RequestContext) -> Option<&Principal> {
    ctx.extensions.get::<Principal>()
}

/// The caller, for the access rules.
pub(super) fn viewer(ctx: &RequestContext) -> Viewer<'_> {
    Viewer::of(principal(ctx))
}

/// The owner the caller records on a hub or listener it registers (`None` without
/// authentication).
pub(super) fn owner(ctx: &RequestContext) -> Option<Owner> {
    principal(ctx).map(owner_of)
}

/// Who publishes an event, for its `eventId` de-duplication
/// ([`NewEvent::publisher`](crate::store::NewEvent::publisher)): the caller's identity,
/// (issuer, name) — never the bare name, which another namespace may hold too — or the
/// one anonymous publisher without authentication.
pub(super) fn publisher(ctx: &RequestContext) -> String {
    match principal(ctx) {
        // Names hold no control character (refused at authentication), so the last
        // U+001F separates them from the issuer: no two identities give one string.
        Some(principal) => format!("{}\u{1f}{}", principal.issuer, principal.name),
        None => crate::store::ANONYMOUS_PUBLISHER.to_owned(),
    }
}

/// `Ok` when the caller sees a hub or listener registered by `owner`; otherwise the
/// same 404 as for an id that does not exist (`absent`).
pub(super) fn require_visible(
    ctx: &RequestContext,
    owner: Option<&Owner>,
    absent: impl FnOnce() -> ApiError,
) -> Result<(), ApiError> {
    if viewer(ctx).sees_owned(owner) {
        Ok(())
    } else {
        Err(absent())
    }
}
