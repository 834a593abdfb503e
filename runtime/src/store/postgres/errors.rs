//! Driver errors as [`StoreError`]s, in one place so that every query of the store
//! answers the same way: which failures are conflicts, which mean the database cannot
//! be reached right now (the caller may retry), and the not-found errors.

use crate::store::StoreError;

/// Maps a driver error: unique violations are conflicts, a lost connection (or a
/// database shutting down or starting: SQLSTATE classes 08 and 57P) is unavailability,
/// the rest backend failures.
pub(super) fn backend(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable(error.to_string())
        }
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")) =>
        {
            StoreError::Unavailable(error.to_string())
        }
        _ => StoreError::Backend(error.to_string()),
    }
}

pub(super) fn topic_not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("topic {id:?}"))
}

pub(super) fn hub_not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!("hub {id:?}"))
}
