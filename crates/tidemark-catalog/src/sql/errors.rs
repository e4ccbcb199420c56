//! Mapping sqlx errors to the catalog's. Constraint violations only make sense in context (which
//! name clashed), so callers that expect one use [`on_unique`] or [`on_insert`] before
//! falling back to [`db`].

use sqlx::error::ErrorKind;

use crate::{Entity, Error};

/// The general mapping: the database or the connection to it failed → `Unavailable`; the data
/// or the SQL did not fit this code → `Internal`.
pub(super) fn db(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::Other => Error::Unavailable(e),
            // Callers map the violations they expect; any other one means a broken assumption.
            _ => Error::Internal(format!("unexpected constraint violation: {d}")),
        },
        sqlx::Error::RowNotFound
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Encode(_)
        | sqlx::Error::Decode(_)
        | sqlx::Error::AnyDriverError(_) => Error::Internal(e.to_string()),
        _ => Error::Unavailable(e),
    }
}

fn has_kind(e: &sqlx::Error, kind: ErrorKind) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == kind)
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    has_kind(e, ErrorKind::UniqueViolation)
}

/// A unique violation becomes `Conflict(message())`; anything else maps as in [`db`].
pub(super) fn on_unique(e: sqlx::Error, message: impl FnOnce() -> String) -> Error {
    if is_unique_violation(&e) {
        Error::Conflict(message())
    } else {
        db(e)
    }
}

/// For inserts into a table with a parent: a unique violation becomes `Conflict(message())`, a
/// foreign-key violation (the parent was deleted concurrently, after the caller checked it)
/// `NotFound(parent)`, anything else maps as in [`db`].
pub(super) fn on_insert(e: sqlx::Error, message: impl FnOnce() -> String, parent: Entity) -> Error {
    if has_kind(&e, ErrorKind::ForeignKeyViolation) {
        Error::NotFound(parent)
    } else {
        on_unique(e, message)
    }
}
