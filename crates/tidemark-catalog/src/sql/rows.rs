//! Reading columns out of rows. A value that does not decode means the stored data broke an
//! assumption of this code: `Error::Internal`, naming the column.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{Error, Id, Result};

fn decode_err(col: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("column {col}: {e}"))
}

pub(super) fn text(row: &AnyRow, col: &str) -> Result<String> {
    row.try_get::<String, _>(col)
        .map_err(|e| decode_err(col, e))
}

pub(super) fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>> {
    row.try_get::<Option<String>, _>(col)
        .map_err(|e| decode_err(col, e))
}

pub(super) fn int(row: &AnyRow, col: &str) -> Result<i64> {
    row.try_get::<i64, _>(col).map_err(|e| decode_err(col, e))
}

pub(super) fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    row.try_get::<Option<i64>, _>(col)
        .map_err(|e| decode_err(col, e))
}

/// An integer stored wider than its type (every integer column is 64 bits).
pub(super) fn narrow<T: TryFrom<i64>>(row: &AnyRow, col: &str) -> Result<T> {
    let v = int(row, col)?;
    T::try_from(v).map_err(|_| decode_err(col, format!("{v} is out of range")))
}

/// Flags are stored as 0/1 integers on both backends.
pub(super) fn flag(row: &AnyRow, col: &str) -> Result<bool> {
    match int(row, col)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(decode_err(col, format!("flag is {other}, not 0 or 1"))),
    }
}

pub(super) fn id(row: &AnyRow, col: &str) -> Result<Id> {
    let s = text(row, col)?;
    s.parse()
        .map_err(|e| decode_err(col, format!("{s:?}: {e}")))
}

/// Parses a text column with one of the model's `parse` functions.
pub(super) fn parsed<T>(row: &AnyRow, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let s = text(row, col)?;
    parse(&s).ok_or_else(|| decode_err(col, format!("unknown value {s:?}")))
}
