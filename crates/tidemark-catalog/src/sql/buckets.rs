//! Buckets.

use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{Any, Executor};

use super::errors::{db, on_insert, on_unique};
use super::{dbrps, id_text, opt_id_text, orgs, rows, tables, Dialect};
use crate::{
    Bucket, BucketFilter, BucketPatch, BucketType, Entity, Error, Id, Nanos, NewBucket, Result,
    SchemaType,
};

macro_rules! bucket_columns {
    () => {
        "id, org_id, name, description, bucket_type, retention_seconds, \
         shard_group_duration_seconds, schema_type, created_at, updated_at"
    };
}

fn from_row(row: &AnyRow) -> Result<Bucket> {
    Ok(Bucket {
        id: rows::id(row, "id")?,
        org_id: rows::id(row, "org_id")?,
        name: rows::text(row, "name")?,
        description: rows::text(row, "description")?,
        bucket_type: rows::parsed(row, "bucket_type", BucketType::parse)?,
        retention_seconds: rows::int(row, "retention_seconds")?,
        shard_group_duration_seconds: rows::opt_int(row, "shard_group_duration_seconds")?,
        schema_type: rows::parsed(row, "schema_type", SchemaType::parse)?,
        created_at: rows::int(row, "created_at")?,
        updated_at: rows::int(row, "updated_at")?,
    })
}

fn conflict(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("bucket with name {name} already exists")
}

/// Inserts a bucket; `NotFound(Org)` if the org does not exist.
pub(super) async fn insert(
    conn: &mut AnyConnection,
    new: &NewBucket,
    now: Nanos,
) -> Result<Bucket> {
    if !orgs::exists(conn, new.org_id).await? {
        return Err(Error::NotFound(Entity::Org));
    }
    let bucket = Bucket {
        id: Id::random(),
        org_id: new.org_id,
        name: new.name.clone(),
        description: new.description.clone(),
        bucket_type: new.bucket_type,
        retention_seconds: new.retention_seconds,
        shard_group_duration_seconds: new.shard_group_duration_seconds,
        schema_type: new.schema_type,
        created_at: now,
        updated_at: now,
    };
    sqlx::query(concat!(
        "INSERT INTO buckets (",
        bucket_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(id_text(bucket.id))
    .bind(id_text(bucket.org_id))
    .bind(&bucket.name)
    .bind(&bucket.description)
    .bind(bucket.bucket_type.as_str())
    .bind(bucket.retention_seconds)
    .bind(bucket.shard_group_duration_seconds)
    .bind(bucket.schema_type.as_str())
    .bind(bucket.created_at)
    .bind(bucket.updated_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| on_insert(e, conflict(&new.name), Entity::Org))?;
    Ok(bucket)
}

pub(super) async fn get<'c>(
    exec: impl Executor<'c, Database = Any>,
    id: Id,
) -> Result<Option<Bucket>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        bucket_columns!(),
        " FROM buckets WHERE id = $1"
    ))
    .bind(id_text(id))
    .fetch_optional(exec)
    .await
    .map_err(db)?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list<'c>(
    exec: impl Executor<'c, Database = Any>,
    filter: &BucketFilter,
) -> Result<Vec<Bucket>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        bucket_columns!(),
        " FROM buckets",
        " WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR id = $2)",
        " AND ($3 IS NULL OR name = $3)",
        " ORDER BY name, id"
    ))
    .bind(opt_id_text(filter.org_id))
    .bind(opt_id_text(filter.id))
    .bind(filter.name.as_deref())
    .fetch_all(exec)
    .await
    .map_err(db)?;
    rows.iter().map(from_row).collect()
}

/// `updated_at` always moves forward, even if the clock did not. `$5` says whether to set the
/// shard group duration at all, since `$6` may be a NULL that clears it.
pub(super) async fn update(
    conn: &mut AnyConnection,
    id: Id,
    patch: &BucketPatch,
    now: Nanos,
) -> Result<Bucket> {
    let row = sqlx::query(concat!(
        "UPDATE buckets SET name = COALESCE($2, name), description = COALESCE($3, description), ",
        "retention_seconds = COALESCE($4, retention_seconds), ",
        "shard_group_duration_seconds = ",
        "CASE WHEN $5 = 1 THEN $6 ELSE shard_group_duration_seconds END, ",
        "updated_at = CASE WHEN $7 > updated_at THEN $7 ELSE updated_at + 1 END ",
        "WHERE id = $1 RETURNING ",
        bucket_columns!()
    ))
    .bind(id_text(id))
    .bind(patch.name.as_deref())
    .bind(patch.description.as_deref())
    .bind(patch.retention_seconds)
    .bind(i64::from(patch.shard_group_duration_seconds.is_some()))
    .bind(patch.shard_group_duration_seconds.flatten())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| on_unique(e, conflict(patch.name.as_deref().unwrap_or_default())))?;
    row.as_ref()
        .map(from_row)
        .transpose()?
        .ok_or(Error::NotFound(Entity::Bucket))
}

/// Deletes the bucket with its DBRP mappings (promoting a new default where one of them was),
/// tables and file records.
pub(super) async fn delete(conn: &mut AnyConnection, dialect: Dialect, id: Id) -> Result<()> {
    let Some(bucket) = get(&mut *conn, id).await? else {
        return Err(Error::NotFound(Entity::Bucket));
    };
    orgs::lock(conn, dialect, bucket.org_id).await?;
    dbrps::delete_for_bucket(conn, bucket.org_id, id).await?;
    tables::delete_for_bucket(conn, dialect, id).await?;
    let done = sqlx::query("DELETE FROM buckets WHERE id = $1")
        .bind(id_text(id))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(Entity::Bucket));
    }
    Ok(())
}
