//! Schema migrations: numbered SQL files embedded in the binary, applied in order on start, each
//! in its own transaction together with its row in `schema_migrations`.
//!
//! sqlx's own migrator needs its `macros` feature; this is small enough to own. Concurrent
//! starts are safe: on PostgreSQL every migration transaction first takes a transaction-scoped
//! advisory lock, on SQLite `BEGIN IMMEDIATE` takes the database's write lock; either way the
//! second migrator waits, then sees the version applied and skips it.

use sqlx::AnyConnection;
use sqlx::{Connection, Row};

use super::errors::db;
use super::{now, Dialect};
use crate::{Error, Result};

struct Migration {
    version: i64,
    sql: &'static str,
}

const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../../migrations/sqlite/0002_tables_and_files.sql"),
    },
];

const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        sql: include_str!("../../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        sql: include_str!("../../migrations/postgres/0002_tables_and_files.sql"),
    },
];

/// An arbitrary constant naming the migration lock among the database's advisory locks.
const PG_MIGRATION_LOCK: i64 = 0x7469_6465_6d61_726b; // "tidemark"

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
     (version BIGINT PRIMARY KEY NOT NULL, applied_at BIGINT NOT NULL)";

fn migrations(dialect: Dialect) -> &'static [Migration] {
    match dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    }
}

/// Applies the migrations not applied yet. Refuses a schema newer than this code knows: running
/// old code against it could corrupt it.
pub(super) async fn run(conn: &mut AnyConnection, dialect: Dialect) -> Result<()> {
    let known = migrations(dialect);
    for migration in known {
        if apply(conn, dialect, migration).await? {
            tracing::info!(version = migration.version, "applied catalog migration");
        }
    }
    let newest_known = known.last().map_or(0, |m| m.version);
    if let Some(&(newest, _)) = applied(conn).await?.last() {
        if newest > newest_known {
            return Err(Error::Internal(format!(
                "the catalog's schema is at version {newest}, newer than this server's \
                 {newest_known}: run a newer server"
            )));
        }
    }
    Ok(())
}

/// Applies one migration unless it was applied before; says whether it applied it.
async fn apply(conn: &mut AnyConnection, dialect: Dialect, migration: &Migration) -> Result<bool> {
    let mut tx = conn.begin_with(dialect.begin_write()).await.map_err(db)?;
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    // Under the lock: concurrent `CREATE TABLE IF NOT EXISTS` can fail on PostgreSQL.
    sqlx::raw_sql(CREATE_TABLE)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let done = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
        .bind(migration.version)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    if done.is_some() {
        return Ok(false);
    }
    sqlx::raw_sql(migration.sql)
        .execute(&mut *tx)
        .await
        .map_err(|e| match e {
            // The database rejected the migration itself; retrying will not help.
            sqlx::Error::Database(d) => Error::Internal(format!(
                "catalog migration {} failed: {d}",
                migration.version
            )),
            e => db(e),
        })?;
    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
        .bind(migration.version)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(true)
}

/// The applied migrations as (version, applied_at), oldest first.
pub(crate) async fn applied(conn: &mut AnyConnection) -> Result<Vec<(i64, i64)>> {
    let rows = sqlx::query("SELECT version, applied_at FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    rows.iter()
        .map(|row| {
            let version = row.try_get::<i64, _>("version");
            let applied_at = row.try_get::<i64, _>("applied_at");
            version.and_then(|v| applied_at.map(|a| (v, a))).map_err(db)
        })
        .collect()
}
