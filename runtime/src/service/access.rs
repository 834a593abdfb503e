//! Who may do what beyond the role checks of the auth middleware: the caller's
//! identity, and the ownership rule for removing hubs and listeners.

use tmf688_api::server::RequestContext;
use tmf688_api::support::ApiError;

use crate::auth::middleware::forbidden;
use crate::auth::{Principal, Role};

/// The authenticated caller, when authentication is on.
pub(super) fn principal(ctx: &RequestContext) -> Option<&Principal> {
    ctx.extensions.get::<Principal>()
}

/// Only the principal that registered a hub (or listener), or an admin, may remove it.
/// Without authentication (no principal) anyone may; a registration without a
/// recorded owner (made while authentication was off) only an admin may.
pub(super) fn may_remove(
    ctx: &RequestContext,
    owner: Option<&str>,
    kind: &str,
    id: &str,
) -> Result<(), ApiError> {
    let Some(caller) = principal(ctx) else {
        return Ok(());
    };
    if caller.role == Role::Admin || owner == Some(caller.name.as_str()) {
        return Ok(());
    }
    Err(forbidden(match owner {
        Some(_) => format!(
            "{kind} {id:?} was registered by another principal; only it or an admin may delete it"
        ),
        None => format!(
            "{kind} {id:?} was registered without authentication; only an admin may delete it"
        ),
    }))
}
