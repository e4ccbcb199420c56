//! Parquet file records.
//!
//! Removals go in id order, so that concurrent compactions and retention runs over the same
//! files lock them in the same order (PostgreSQL) instead of deadlocking.

use std::collections::BTreeSet;

use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{Any, Executor};

use super::errors::{db, on_insert};
use super::{buckets, id_text, rows};
use crate::{Entity, Error, Id, Nanos, NewParquetFile, ParquetFile, Result};

macro_rules! file_columns {
    () => {
        "id, bucket_id, table_id, partition_day, path, min_time, max_time, row_count, \
         size_bytes, level, created_at"
    };
}

fn from_row(row: &AnyRow) -> Result<ParquetFile> {
    Ok(ParquetFile {
        id: rows::id(row, "id")?,
        bucket_id: rows::id(row, "bucket_id")?,
        table_id: rows::id(row, "table_id")?,
        partition_day: rows::narrow(row, "partition_day")?,
        path: rows::text(row, "path")?,
        min_time: rows::int(row, "min_time")?,
        max_time: rows::int(row, "max_time")?,
        row_count: rows::int(row, "row_count")?,
        size_bytes: rows::int(row, "size_bytes")?,
        level: rows::narrow(row, "level")?,
        created_at: rows::int(row, "created_at")?,
    })
}

/// Registers the files. `NotFound(Bucket)` if a bucket does not exist, `NotFound(Table)` if a
/// table does not, `Invalid` if a table is another bucket's, `Conflict` if an id is taken.
pub(super) async fn insert(
    conn: &mut AnyConnection,
    files: &[NewParquetFile],
    now: Nanos,
) -> Result<Vec<ParquetFile>> {
    check_owners(conn, files).await?;
    let mut added = Vec::with_capacity(files.len());
    for new in files {
        let file = ParquetFile {
            id: new.id,
            bucket_id: new.bucket_id,
            table_id: new.table_id,
            partition_day: new.partition_day,
            path: new.path.clone(),
            min_time: new.min_time,
            max_time: new.max_time,
            row_count: new.row_count,
            size_bytes: new.size_bytes,
            level: new.level,
            created_at: now,
        };
        sqlx::query(concat!(
            "INSERT INTO parquet_files (",
            file_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(id_text(file.id))
        .bind(id_text(file.bucket_id))
        .bind(id_text(file.table_id))
        .bind(i64::from(file.partition_day))
        .bind(&file.path)
        .bind(file.min_time)
        .bind(file.max_time)
        .bind(file.row_count)
        .bind(file.size_bytes)
        .bind(i64::from(file.level))
        .bind(file.created_at)
        .execute(&mut *conn)
        .await
        // The bucket (with its tables) can only vanish concurrently, after the check.
        .map_err(|e| {
            on_insert(
                e,
                || format!("parquet file {} is already registered", new.id),
                Entity::Bucket,
            )
        })?;
        added.push(file);
    }
    Ok(added)
}

/// Every bucket first (a missing bucket is the error that matters), then every table.
async fn check_owners(conn: &mut AnyConnection, files: &[NewParquetFile]) -> Result<()> {
    let bucket_ids: BTreeSet<Id> = files.iter().map(|f| f.bucket_id).collect();
    for id in bucket_ids {
        if buckets::get(&mut *conn, id).await?.is_none() {
            return Err(Error::NotFound(Entity::Bucket));
        }
    }
    let owners: BTreeSet<(Id, Id)> = files.iter().map(|f| (f.table_id, f.bucket_id)).collect();
    for (table_id, bucket_id) in owners {
        let row = sqlx::query("SELECT bucket_id FROM tables WHERE id = $1")
            .bind(id_text(table_id))
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        let Some(row) = row else {
            return Err(Error::NotFound(Entity::Table));
        };
        if rows::id(&row, "bucket_id")? != bucket_id {
            return Err(Error::Invalid(format!(
                "table {table_id} does not belong to bucket {bucket_id}"
            )));
        }
    }
    Ok(())
}

pub(super) async fn list<'c>(
    exec: impl Executor<'c, Database = Any>,
    bucket_id: Id,
) -> Result<Vec<ParquetFile>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        file_columns!(),
        " FROM parquet_files WHERE bucket_id = $1",
        " ORDER BY table_id, partition_day, min_time, id"
    ))
    .bind(id_text(bucket_id))
    .fetch_all(exec)
    .await
    .map_err(db)?;
    rows.iter().map(from_row).collect()
}

/// Forgets the files. With `all_registered`, `NotFound(ParquetFile)` if one of them is not
/// registered (the caller's transaction then rolls back the others); without, unknown ids are
/// skipped.
pub(super) async fn remove(
    conn: &mut AnyConnection,
    ids: &[Id],
    all_registered: bool,
) -> Result<()> {
    let ids: BTreeSet<Id> = ids.iter().copied().collect();
    for id in ids {
        let done = sqlx::query("DELETE FROM parquet_files WHERE id = $1")
            .bind(id_text(id))
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        if all_registered && done.rows_affected() == 0 {
            return Err(Error::NotFound(Entity::ParquetFile));
        }
    }
    Ok(())
}
