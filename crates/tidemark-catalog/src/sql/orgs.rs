//! Orgs, users and the first-start bootstrap.

use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{Any, Executor};

use super::errors::{db, is_unique_violation, on_unique};
use super::{auths, buckets, id_text, rows, tables, Dialect};
use crate::{
    Action, AuthStatus, Bootstrap, BootstrapOutcome, BucketType, Entity, Error, Id, Nanos,
    NewAuthorization, NewBucket, NewOrg, Org, OrgPatch, Permission, Resource, ResourceType, Result,
    SchemaType, User, MONITORING_RETENTION_SECONDS, TASKS_RETENTION_SECONDS,
};

/// The `meta` key whose presence means the catalog was bootstrapped.
const BOOTSTRAPPED_KEY: &str = "bootstrapped_at";

macro_rules! org_columns {
    () => {
        "id, name, description, created_at, updated_at"
    };
}

fn org_from_row(row: &AnyRow) -> Result<Org> {
    Ok(Org {
        id: rows::id(row, "id")?,
        name: rows::text(row, "name")?,
        description: rows::text(row, "description")?,
        created_at: rows::int(row, "created_at")?,
        updated_at: rows::int(row, "updated_at")?,
    })
}

fn org_conflict(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("organization with name {name} already exists")
}

/// The system buckets every org has, as InfluxDB creates them.
fn system_buckets(org_id: Id) -> [NewBucket; 2] {
    let system = |name: &str, description: &str, retention_seconds| NewBucket {
        org_id,
        name: name.to_owned(),
        description: description.to_owned(),
        bucket_type: BucketType::System,
        retention_seconds,
        shard_group_duration_seconds: None,
        schema_type: SchemaType::Implicit,
    };
    [
        system(
            "_monitoring",
            "System bucket for monitoring logs",
            MONITORING_RETENTION_SECONDS,
        ),
        system(
            "_tasks",
            "System bucket for task logs",
            TASKS_RETENTION_SECONDS,
        ),
    ]
}

/// Inserts the org and its system buckets.
pub(super) async fn create(conn: &mut AnyConnection, new: &NewOrg, now: Nanos) -> Result<Org> {
    let org = Org {
        id: Id::random(),
        name: new.name.clone(),
        description: new.description.clone(),
        created_at: now,
        updated_at: now,
    };
    sqlx::query(concat!(
        "INSERT INTO orgs (",
        org_columns!(),
        ") VALUES ($1, $2, $3, $4, $5)"
    ))
    .bind(id_text(org.id))
    .bind(&org.name)
    .bind(&org.description)
    .bind(org.created_at)
    .bind(org.updated_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| on_unique(e, org_conflict(&new.name)))?;
    for bucket in system_buckets(org.id) {
        buckets::insert(conn, &bucket, now).await?;
    }
    Ok(org)
}

pub(super) async fn get<'c>(
    exec: impl Executor<'c, Database = Any>,
    id: Id,
) -> Result<Option<Org>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        org_columns!(),
        " FROM orgs WHERE id = $1"
    ))
    .bind(id_text(id))
    .fetch_optional(exec)
    .await
    .map_err(db)?;
    row.as_ref().map(org_from_row).transpose()
}

pub(super) async fn get_by_name<'c>(
    exec: impl Executor<'c, Database = Any>,
    name: &str,
) -> Result<Option<Org>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        org_columns!(),
        " FROM orgs WHERE name = $1"
    ))
    .bind(name)
    .fetch_optional(exec)
    .await
    .map_err(db)?;
    row.as_ref().map(org_from_row).transpose()
}

pub(super) async fn list<'c>(exec: impl Executor<'c, Database = Any>) -> Result<Vec<Org>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        org_columns!(),
        " FROM orgs ORDER BY name"
    ))
    .fetch_all(exec)
    .await
    .map_err(db)?;
    rows.iter().map(org_from_row).collect()
}

/// `updated_at` always moves forward, even if the clock did not.
pub(super) async fn update(
    conn: &mut AnyConnection,
    id: Id,
    patch: &OrgPatch,
    now: Nanos,
) -> Result<Org> {
    let row = sqlx::query(concat!(
        "UPDATE orgs SET name = COALESCE($2, name), description = COALESCE($3, description), ",
        "updated_at = CASE WHEN $4 > updated_at THEN $4 ELSE updated_at + 1 END ",
        "WHERE id = $1 RETURNING ",
        org_columns!()
    ))
    .bind(id_text(id))
    .bind(patch.name.as_deref())
    .bind(patch.description.as_deref())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| on_unique(e, org_conflict(patch.name.as_deref().unwrap_or_default())))?;
    row.as_ref()
        .map(org_from_row)
        .transpose()?
        .ok_or(Error::NotFound(Entity::Org))
}

/// Deletes the org and everything in it. The foreign keys cascade too; deleting explicitly, in
/// dependency order, keeps this independent of SQLite's per-connection `foreign_keys` setting.
/// The lock comes first so that a concurrent DBRP change in the org finishes before (and its
/// rows are deleted too) instead of deadlocking with this.
pub(super) async fn delete(conn: &mut AnyConnection, dialect: Dialect, id: Id) -> Result<()> {
    lock(conn, dialect, id).await?;
    tables::delete_for_org(conn, dialect, id).await?;
    let id = id_text(id);
    for sql in [
        "DELETE FROM dbrps WHERE org_id = $1",
        "DELETE FROM authorizations WHERE org_id = $1",
        "DELETE FROM buckets WHERE org_id = $1",
    ] {
        sqlx::query(sql)
            .bind(&id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    let done = sqlx::query("DELETE FROM orgs WHERE id = $1")
        .bind(&id)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(Entity::Org));
    }
    Ok(())
}

/// Locks the org's row until the transaction ends, serialising the changes that keep an
/// invariant spanning several rows of the org (one default DBRP mapping per database). SQLite
/// needs nothing: its write transactions already exclude each other. `NO KEY UPDATE` does not
/// block inserts that merely reference the org.
pub(super) async fn lock(conn: &mut AnyConnection, dialect: Dialect, id: Id) -> Result<()> {
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT id FROM orgs WHERE id = $1 FOR NO KEY UPDATE")
            .bind(id_text(id))
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

pub(super) async fn exists(conn: &mut AnyConnection, id: Id) -> Result<bool> {
    let row = sqlx::query("SELECT id FROM orgs WHERE id = $1")
        .bind(id_text(id))
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    Ok(row.is_some())
}

// ---- users ----

macro_rules! user_columns {
    () => {
        "id, name, created_at"
    };
}

fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: rows::id(row, "id")?,
        name: rows::text(row, "name")?,
        created_at: rows::int(row, "created_at")?,
    })
}

pub(super) async fn create_user(conn: &mut AnyConnection, name: &str, now: Nanos) -> Result<User> {
    let user = User {
        id: Id::random(),
        name: name.to_owned(),
        created_at: now,
    };
    sqlx::query(concat!(
        "INSERT INTO users (",
        user_columns!(),
        ") VALUES ($1, $2, $3)"
    ))
    .bind(id_text(user.id))
    .bind(&user.name)
    .bind(user.created_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| on_unique(e, || format!("user with name {name} already exists")))?;
    Ok(user)
}

pub(super) async fn get_user<'c>(
    exec: impl Executor<'c, Database = Any>,
    id: Id,
) -> Result<Option<User>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id_text(id))
    .fetch_optional(exec)
    .await
    .map_err(db)?;
    row.as_ref().map(user_from_row).transpose()
}

pub(super) async fn get_user_by_name<'c>(
    exec: impl Executor<'c, Database = Any>,
    name: &str,
) -> Result<Option<User>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE name = $1"
    ))
    .bind(name)
    .fetch_optional(exec)
    .await
    .map_err(db)?;
    row.as_ref().map(user_from_row).transpose()
}

pub(super) async fn user_exists(conn: &mut AnyConnection, id: Id) -> Result<bool> {
    Ok(get_user(&mut *conn, id).await?.is_some())
}

// ---- bootstrap ----

/// Every permission there is: read and write on every resource type, in every org.
fn operator_permissions() -> Vec<Permission> {
    ResourceType::ALL
        .iter()
        .flat_map(|&resource_type| {
            [Action::Read, Action::Write].map(|action| Permission {
                action,
                resource: Resource {
                    resource_type,
                    id: None,
                    org_id: None,
                },
            })
        })
        .collect()
}

/// The `meta` row is written first: a concurrent bootstrap (another node on the same
/// PostgreSQL) waits on it and then sees the unique violation, so exactly one of them creates.
pub(super) async fn bootstrap(
    conn: &mut AnyConnection,
    b: &Bootstrap,
    now: Nanos,
) -> Result<BootstrapOutcome> {
    let done = sqlx::query("SELECT value FROM meta WHERE key = $1")
        .bind(BOOTSTRAPPED_KEY)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    if done.is_some() {
        return Ok(BootstrapOutcome::AlreadyInitialized);
    }
    let marked = sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
        .bind(BOOTSTRAPPED_KEY)
        .bind(now.to_string())
        .execute(&mut *conn)
        .await;
    match marked {
        Err(e) if is_unique_violation(&e) => return Ok(BootstrapOutcome::AlreadyInitialized),
        other => other.map_err(db)?,
    };

    let org = create(
        conn,
        &NewOrg {
            name: b.org_name.clone(),
            description: String::new(),
        },
        now,
    )
    .await?;
    let user = create_user(conn, &b.user_name, now).await?;
    let authorization = auths::insert(
        conn,
        &NewAuthorization {
            org_id: org.id,
            user_id: user.id,
            token_hash: b.operator_token_hash.clone(),
            // InfluxDB's onboarding names the operator token this way.
            description: format!("{}'s Token", b.user_name),
            status: AuthStatus::Active,
            permissions: operator_permissions(),
        },
        now,
    )
    .await?;
    Ok(BootstrapOutcome::Created {
        org,
        user,
        authorization,
    })
}
