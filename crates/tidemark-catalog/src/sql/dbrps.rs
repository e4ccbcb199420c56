//! DBRP mappings and their default flag.
//!
//! Invariant: each (org, database) with mappings has exactly one default. The partial unique
//! index `dbrps_one_default` guarantees "at most one"; the code here keeps "at least one". Every
//! change first locks the org ([`orgs::lock`]) so that concurrent changes to the same database's
//! mappings see each other's results, and clears an old default before setting a new one (the
//! index is checked per statement).

use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{Any, Executor};

use super::errors::{db, on_insert, on_unique};
use super::{buckets, id_text, opt_id_text, orgs, rows, Dialect};
use crate::{Dbrp, DbrpFilter, DbrpPatch, Entity, Error, Id, NewDbrp, Result};

macro_rules! dbrp_columns {
    () => {
        "id, org_id, bucket_id, db_name, rp_name, is_default"
    };
}

fn from_row(row: &AnyRow) -> Result<Dbrp> {
    Ok(Dbrp {
        id: rows::id(row, "id")?,
        org_id: rows::id(row, "org_id")?,
        bucket_id: rows::id(row, "bucket_id")?,
        database: rows::text(row, "db_name")?,
        retention_policy: rows::text(row, "rp_name")?,
        default: rows::flag(row, "is_default")?,
    })
}

fn conflict() -> String {
    "another DBRP mapping with same orgID, db, and rp exists".to_owned()
}

pub(super) async fn create(
    conn: &mut AnyConnection,
    dialect: Dialect,
    new: &NewDbrp,
) -> Result<Dbrp> {
    orgs::lock(conn, dialect, new.org_id).await?;
    let Some(bucket) = buckets::get(&mut *conn, new.bucket_id).await? else {
        return Err(Error::NotFound(Entity::Bucket));
    };
    if bucket.org_id != new.org_id {
        return Err(Error::Invalid(
            "bucket does not belong to the organization".to_owned(),
        ));
    }
    let has_default = current_default(conn, new.org_id, &new.database)
        .await?
        .is_some();
    let default = new.default || !has_default;
    if default && has_default {
        clear_default(conn, new.org_id, &new.database).await?;
    }
    let dbrp = Dbrp {
        id: Id::random(),
        org_id: new.org_id,
        bucket_id: new.bucket_id,
        database: new.database.clone(),
        retention_policy: new.retention_policy.clone(),
        default,
    };
    sqlx::query(concat!(
        "INSERT INTO dbrps (",
        dbrp_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6)"
    ))
    .bind(id_text(dbrp.id))
    .bind(id_text(dbrp.org_id))
    .bind(id_text(dbrp.bucket_id))
    .bind(&dbrp.database)
    .bind(&dbrp.retention_policy)
    .bind(i64::from(dbrp.default))
    .execute(&mut *conn)
    .await
    // Bucket and org deletions take the org's lock too, so the bucket cannot vanish before
    // this commits; should it all the same, say so rather than fail obscurely.
    .map_err(|e| on_insert(e, conflict, Entity::Bucket))?;
    Ok(dbrp)
}

pub(super) async fn get<'c>(
    exec: impl Executor<'c, Database = Any>,
    id: Id,
) -> Result<Option<Dbrp>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        dbrp_columns!(),
        " FROM dbrps WHERE id = $1"
    ))
    .bind(id_text(id))
    .fetch_optional(exec)
    .await
    .map_err(db)?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list<'c>(
    exec: impl Executor<'c, Database = Any>,
    filter: &DbrpFilter,
) -> Result<Vec<Dbrp>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        dbrp_columns!(),
        " FROM dbrps",
        " WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR id = $2)",
        " AND ($3 IS NULL OR bucket_id = $3) AND ($4 IS NULL OR is_default = $4)",
        " AND ($5 IS NULL OR db_name = $5) AND ($6 IS NULL OR rp_name = $6)",
        " ORDER BY id"
    ))
    .bind(opt_id_text(filter.org_id))
    .bind(opt_id_text(filter.id))
    .bind(opt_id_text(filter.bucket_id))
    .bind(filter.default.map(i64::from))
    .bind(filter.database.as_deref())
    .bind(filter.retention_policy.as_deref())
    .fetch_all(exec)
    .await
    .map_err(db)?;
    rows.iter().map(from_row).collect()
}

/// Reads the mapping with its org locked: the org comes from the mapping, and the mapping may
/// change until the lock is held, so it is read again.
async fn get_locked(conn: &mut AnyConnection, dialect: Dialect, id: Id) -> Result<Dbrp> {
    let Some(unlocked) = get(&mut *conn, id).await? else {
        return Err(Error::NotFound(Entity::Dbrp));
    };
    orgs::lock(conn, dialect, unlocked.org_id).await?;
    get(&mut *conn, id)
        .await?
        .ok_or(Error::NotFound(Entity::Dbrp))
}

pub(super) async fn update(
    conn: &mut AnyConnection,
    dialect: Dialect,
    id: Id,
    patch: &DbrpPatch,
) -> Result<Dbrp> {
    let current = get_locked(conn, dialect, id).await?;
    if let Some(rp) = &patch.retention_policy {
        sqlx::query("UPDATE dbrps SET rp_name = $2 WHERE id = $1")
            .bind(id_text(id))
            .bind(rp)
            .execute(&mut *conn)
            .await
            .map_err(|e| on_unique(e, conflict))?;
    }
    match patch.default {
        Some(true) if !current.default => {
            clear_default(conn, current.org_id, &current.database).await?;
            set_default(conn, id, true).await?;
        }
        Some(false) if current.default => {
            // A sole mapping stays the default: there is nothing to promote.
            if let Some(next) = smallest_other(conn, &current).await? {
                set_default(conn, id, false).await?;
                set_default(conn, next, true).await?;
            }
        }
        _ => {}
    }
    get(&mut *conn, id)
        .await?
        .ok_or(Error::NotFound(Entity::Dbrp))
}

pub(super) async fn delete(conn: &mut AnyConnection, dialect: Dialect, id: Id) -> Result<()> {
    let current = get_locked(conn, dialect, id).await?;
    sqlx::query("DELETE FROM dbrps WHERE id = $1")
        .bind(id_text(id))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    if current.default {
        promote_if_none(conn, current.org_id, &current.database).await?;
    }
    Ok(())
}

/// Deletes a bucket's mappings, promoting a new default in each database that loses its
/// default. The caller holds the org's lock.
pub(super) async fn delete_for_bucket(
    conn: &mut AnyConnection,
    org_id: Id,
    bucket_id: Id,
) -> Result<()> {
    let defaults = list(
        &mut *conn,
        &DbrpFilter {
            bucket_id: Some(bucket_id),
            default: Some(true),
            ..DbrpFilter::default()
        },
    )
    .await?;
    sqlx::query("DELETE FROM dbrps WHERE bucket_id = $1")
        .bind(id_text(bucket_id))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    for dbrp in defaults {
        promote_if_none(conn, org_id, &dbrp.database).await?;
    }
    Ok(())
}

async fn current_default(
    conn: &mut AnyConnection,
    org_id: Id,
    database: &str,
) -> Result<Option<Id>> {
    let row =
        sqlx::query("SELECT id FROM dbrps WHERE org_id = $1 AND db_name = $2 AND is_default = 1")
            .bind(id_text(org_id))
            .bind(database)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
    row.as_ref().map(|r| rows::id(r, "id")).transpose()
}

async fn clear_default(conn: &mut AnyConnection, org_id: Id, database: &str) -> Result<()> {
    sqlx::query(
        "UPDATE dbrps SET is_default = 0 WHERE org_id = $1 AND db_name = $2 AND is_default = 1",
    )
    .bind(id_text(org_id))
    .bind(database)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

async fn set_default(conn: &mut AnyConnection, id: Id, default: bool) -> Result<()> {
    sqlx::query("UPDATE dbrps SET is_default = $2 WHERE id = $1")
        .bind(id_text(id))
        .bind(i64::from(default))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// The mapping with the smallest id in the same (org, database), other than `dbrp`.
async fn smallest_other(conn: &mut AnyConnection, dbrp: &Dbrp) -> Result<Option<Id>> {
    let row = sqlx::query(
        "SELECT id FROM dbrps WHERE org_id = $1 AND db_name = $2 AND id <> $3 ORDER BY id LIMIT 1",
    )
    .bind(id_text(dbrp.org_id))
    .bind(&dbrp.database)
    .bind(id_text(dbrp.id))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    row.as_ref().map(|r| rows::id(r, "id")).transpose()
}

/// Makes the mapping with the smallest id the default of its (org, database), unless the
/// database still has a default or no mappings at all.
async fn promote_if_none(conn: &mut AnyConnection, org_id: Id, database: &str) -> Result<()> {
    if current_default(conn, org_id, database).await?.is_some() {
        return Ok(());
    }
    let row =
        sqlx::query("SELECT id FROM dbrps WHERE org_id = $1 AND db_name = $2 ORDER BY id LIMIT 1")
            .bind(id_text(org_id))
            .bind(database)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
    if let Some(row) = row {
        set_default(conn, rows::id(&row, "id")?, true).await?;
    }
    Ok(())
}
