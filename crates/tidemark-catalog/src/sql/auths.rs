//! Authorizations (API tokens, stored by hash).

use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{Any, Executor};

use super::errors::{db, on_insert};
use super::{id_text, opt_id_text, orgs, rows};
use crate::{
    AuthStatus, Authorization, AuthorizationFilter, AuthorizationPatch, Entity, Error, Id, Nanos,
    NewAuthorization, Permission, Result,
};

macro_rules! auth_columns {
    () => {
        "id, org_id, user_id, token_hash, description, status, permissions, created_at, updated_at"
    };
}

fn from_row(row: &AnyRow) -> Result<Authorization> {
    let permissions = rows::text(row, "permissions")?;
    let permissions: Vec<Permission> = serde_json::from_str(&permissions)
        .map_err(|e| Error::Internal(format!("column permissions: {e}")))?;
    Ok(Authorization {
        id: rows::id(row, "id")?,
        org_id: rows::id(row, "org_id")?,
        user_id: rows::id(row, "user_id")?,
        token_hash: rows::text(row, "token_hash")?,
        description: rows::text(row, "description")?,
        status: rows::parsed(row, "status", AuthStatus::parse)?,
        permissions,
        created_at: rows::int(row, "created_at")?,
        updated_at: rows::int(row, "updated_at")?,
    })
}

/// Inserts an authorization; `NotFound(Org)` or `NotFound(User)` if either does not exist.
pub(super) async fn insert(
    conn: &mut AnyConnection,
    new: &NewAuthorization,
    now: Nanos,
) -> Result<Authorization> {
    if !orgs::exists(conn, new.org_id).await? {
        return Err(Error::NotFound(Entity::Org));
    }
    if !orgs::user_exists(conn, new.user_id).await? {
        return Err(Error::NotFound(Entity::User));
    }
    let permissions = serde_json::to_string(&new.permissions)
        .map_err(|e| Error::Internal(format!("permissions do not serialize: {e}")))?;
    let auth = Authorization {
        id: Id::random(),
        org_id: new.org_id,
        user_id: new.user_id,
        token_hash: new.token_hash.clone(),
        description: new.description.clone(),
        status: new.status,
        permissions: new.permissions.clone(),
        created_at: now,
        updated_at: now,
    };
    sqlx::query(concat!(
        "INSERT INTO authorizations (",
        auth_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(id_text(auth.id))
    .bind(id_text(auth.org_id))
    .bind(id_text(auth.user_id))
    .bind(&auth.token_hash)
    .bind(&auth.description)
    .bind(auth.status.as_str())
    .bind(permissions)
    .bind(auth.created_at)
    .bind(auth.updated_at)
    .execute(&mut *conn)
    .await
    // Users are never deleted, so a vanished parent can only be the org.
    .map_err(|e| {
        on_insert(
            e,
            || "an authorization with this token already exists".to_owned(),
            Entity::Org,
        )
    })?;
    Ok(auth)
}

pub(super) async fn get<'c>(
    exec: impl Executor<'c, Database = Any>,
    id: Id,
) -> Result<Option<Authorization>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        auth_columns!(),
        " FROM authorizations WHERE id = $1"
    ))
    .bind(id_text(id))
    .fetch_optional(exec)
    .await
    .map_err(db)?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn get_by_token_hash<'c>(
    exec: impl Executor<'c, Database = Any>,
    hash: &str,
) -> Result<Option<Authorization>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        auth_columns!(),
        " FROM authorizations WHERE token_hash = $1"
    ))
    .bind(hash)
    .fetch_optional(exec)
    .await
    .map_err(db)?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list<'c>(
    exec: impl Executor<'c, Database = Any>,
    filter: &AuthorizationFilter,
) -> Result<Vec<Authorization>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        auth_columns!(),
        " FROM authorizations",
        " WHERE ($1 IS NULL OR org_id = $1) AND ($2 IS NULL OR user_id = $2)",
        " AND ($3 IS NULL OR token_hash = $3)",
        " ORDER BY created_at, id"
    ))
    .bind(opt_id_text(filter.org_id))
    .bind(opt_id_text(filter.user_id))
    .bind(filter.token_hash.as_deref())
    .fetch_all(exec)
    .await
    .map_err(db)?;
    rows.iter().map(from_row).collect()
}

/// `updated_at` always moves forward, even if the clock did not.
pub(super) async fn update(
    conn: &mut AnyConnection,
    id: Id,
    patch: &AuthorizationPatch,
    now: Nanos,
) -> Result<Authorization> {
    let row = sqlx::query(concat!(
        "UPDATE authorizations SET description = COALESCE($2, description), ",
        "status = COALESCE($3, status), ",
        "updated_at = CASE WHEN $4 > updated_at THEN $4 ELSE updated_at + 1 END ",
        "WHERE id = $1 RETURNING ",
        auth_columns!()
    ))
    .bind(id_text(id))
    .bind(patch.description.as_deref())
    .bind(patch.status.map(AuthStatus::as_str))
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?;
    row.as_ref()
        .map(from_row)
        .transpose()?
        .ok_or(Error::NotFound(Entity::Authorization))
}

pub(super) async fn delete(conn: &mut AnyConnection, id: Id) -> Result<()> {
    let done = sqlx::query("DELETE FROM authorizations WHERE id = $1")
        .bind(id_text(id))
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(Entity::Authorization));
    }
    Ok(())
}
