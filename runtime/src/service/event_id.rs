//! Server-assigned `eventId`s, for events created without one where the profile
//! allows it (PSID688's `Event_Create` declares no mandatory attribute; the PSI base
//! paths of `spec/psi-profile.yaml` serve it that way).
//!
//! * Without an `Idempotency-Key` header: 128 random bits from the operating system
//!   (`getrandom`), as 32 lowercase hex digits, so that no peer can predict, and
//!   occupy, the id the hub will give another peer's event.
//! * With `Idempotency-Key: K` (draft-ietf-httpapi-idempotency-key-header; a sender
//!   that retries a request sends the same key): `idem-` and the first 32 hex digits
//!   of SHA-256 over (caller's namespace, caller's name, K). A retry gets the same
//!   eventId, so the topic's eventId de-duplication answers it with the event already
//!   stored (same content) or 409 (different content), exactly as for a sender's own
//!   eventId. Keys of different callers never meet.
//!
//! An `eventId` in the body always wins over the header. Either form is a valid path
//! segment (never empty, `.` or `..`).

use sha2::{Digest, Sha256};
use tmf688_api::server::RequestContext;
use tmf688_api::support::ApiError;

use super::access::principal;

/// The request header a sender without `eventId` may use to make retries safe.
pub(super) const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The longest `Idempotency-Key` accepted (the draft sets none; UUIDs have 36).
const MAX_KEY_LEN: usize = 255;

/// The eventId for an event created without one. Errors: 400 for an
/// `Idempotency-Key` that is empty, longer than 255 characters or not visible ASCII;
/// 500 when the operating system has no randomness to give.
pub(super) fn assign(ctx: &RequestContext) -> Result<String, ApiError> {
    match idempotency_key(ctx)? {
        Some(key) => Ok(derived(ctx, key)),
        None => random(),
    }
}

/// The header's value, unquoted (the draft writes it as a Structured Field string,
/// `"8e03978e-…"`; bare tokens are taken as they are).
fn idempotency_key(ctx: &RequestContext) -> Result<Option<&str>, ApiError> {
    let Some(value) = ctx.headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let invalid = |why: &str| ApiError::bad_request(format!("`Idempotency-Key` {why}"));
    let text = value
        .to_str()
        .map_err(|_| invalid("must be visible ASCII"))?
        .trim();
    let key = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if key.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(invalid(&format!("is longer than {MAX_KEY_LEN} characters")));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(invalid("must be visible ASCII"));
    }
    Ok(Some(key))
}

fn derived(ctx: &RequestContext, key: &str) -> String {
    let mut digest = Sha256::new();
    // Length-prefixed parts: ("a", "bc") and ("ab", "c") hash differently.
    let (issuer, name) = match principal(ctx) {
        Some(caller) => (caller.issuer.to_string(), caller.name.as_str()),
        None => (String::new(), ""),
    };
    for part in [issuer.as_bytes(), name.as_bytes(), key.as_bytes()] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    format!("idem-{}", hex(&digest.finalize()[..16]))
}

fn random() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|error| ApiError::internal(format!("no randomness for an eventId: {error}")))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
