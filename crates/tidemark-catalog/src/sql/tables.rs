//! Tables (one per measurement of a bucket) and their columns.
//!
//! Columns are only ever appended, never changed or removed (until the table goes with its
//! bucket), so a snapshot that already holds everything a request asks for answers it without
//! a write: [`plan`] on the result of [`get`]. Changes serialise per table — on PostgreSQL by
//! locking the table's row, or the bucket's row when the table is to be created (which keeps
//! the count of tables per bucket exact); SQLite's write transactions already exclude each
//! other.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{Any, Executor};

use super::errors::{db, on_insert};
use super::{id_text, rows, Dialect};
use crate::{Column, ColumnKind, Entity, Error, FieldType, Id, Nanos, Result, SchemaLimits, Table};

/// The column every table has; never stored.
const TIME: &str = "time";

/// An upsert's table name and columns: without `time`, each name once, in the order given.
pub(super) struct Request {
    name: String,
    columns: Vec<Column>,
}

impl Request {
    /// Checks the columns against each other and against `time`: a name given twice with two
    /// kinds is a conflict, as if the first were stored already.
    pub(super) fn new(name: &str, columns: &[Column]) -> Result<Self> {
        let mut seen = HashMap::<&str, ColumnKind>::new();
        seen.insert(TIME, ColumnKind::Time);
        let mut kept = Vec::new();
        for c in columns {
            if c.kind == ColumnKind::Time && c.name != TIME {
                return Err(Error::Invalid(format!(
                    "column \"{}\" of measurement \"{name}\" cannot be a time column: only \
                     \"{TIME}\" is",
                    c.name
                )));
            }
            match seen.get(c.name.as_str()) {
                Some(&kind) if kind == c.kind => {}
                Some(&kind) => return Err(conflict(&c.name, name, kind, c.kind)),
                None => {
                    seen.insert(&c.name, c.kind);
                    kept.push(c.clone());
                }
            }
        }
        Ok(Self {
            name: name.to_owned(),
            columns: kept,
        })
    }
}

fn kind_phrase(kind: ColumnKind) -> String {
    match kind {
        ColumnKind::Time => "the time column".to_owned(),
        ColumnKind::Tag => "a tag".to_owned(),
        ColumnKind::Field(t @ (FieldType::Integer | FieldType::UInteger)) => {
            format!("an {} field", t.as_str())
        }
        ColumnKind::Field(t) => format!("a {} field", t.as_str()),
    }
}

fn conflict(column: &str, table: &str, existing: ColumnKind, requested: ColumnKind) -> Error {
    Error::Conflict(format!(
        "column \"{column}\" of measurement \"{table}\" is {} and cannot be written as {}",
        kind_phrase(existing),
        kind_phrase(requested)
    ))
}

/// The columns `request` adds to `table`, in request order; `Conflict` if one of them is
/// there with another kind.
pub(super) fn plan(table: &Table, request: &Request) -> Result<Vec<Column>> {
    let stored: HashMap<&str, ColumnKind> = table
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.kind))
        .collect();
    let mut additions = Vec::new();
    for c in &request.columns {
        match stored.get(c.name.as_str()) {
            Some(&kind) if kind == c.kind => {}
            Some(&kind) => return Err(conflict(&c.name, &table.name, kind, c.kind)),
            None => additions.push(c.clone()),
        }
    }
    Ok(additions)
}

/// Tables with their columns, from rows of the join below, ordered by table and position.
fn collect(rows: &[AnyRow]) -> Result<Vec<Table>> {
    let mut tables: Vec<Table> = Vec::new();
    for row in rows {
        let id = rows::id(row, "id")?;
        if tables.last().is_none_or(|t| t.id != id) {
            tables.push(Table {
                id,
                bucket_id: rows::id(row, "bucket_id")?,
                name: rows::text(row, "name")?,
                columns: Vec::new(),
                explicit: rows::flag(row, "explicit")?,
            });
        }
        if let Some(name) = rows::opt_text(row, "column_name")? {
            let kind = rows::parsed(row, "kind", ColumnKind::parse)?;
            if let Some(table) = tables.last_mut() {
                table.columns.push(Column { name, kind });
            }
        }
    }
    Ok(tables)
}

macro_rules! select_tables {
    () => {
        "SELECT t.id, t.bucket_id, t.name, t.explicit, c.name AS column_name, c.kind \
         FROM tables t LEFT JOIN columns c ON c.table_id = t.id "
    };
}

/// The table with its columns, in one statement (so from one snapshot).
pub(super) async fn get<'c>(
    exec: impl Executor<'c, Database = Any>,
    bucket_id: Id,
    name: &str,
) -> Result<Option<Table>> {
    let rows = sqlx::query(concat!(
        select_tables!(),
        "WHERE t.bucket_id = $1 AND t.name = $2 ORDER BY c.position"
    ))
    .bind(id_text(bucket_id))
    .bind(name)
    .fetch_all(exec)
    .await
    .map_err(db)?;
    Ok(collect(&rows)?.pop())
}

/// The bucket's tables by name, in one statement. An unknown bucket has none.
pub(super) async fn list<'c>(
    exec: impl Executor<'c, Database = Any>,
    bucket_id: Id,
) -> Result<Vec<Table>> {
    let rows = sqlx::query(concat!(
        select_tables!(),
        "WHERE t.bucket_id = $1 ORDER BY t.name, c.position"
    ))
    .bind(id_text(bucket_id))
    .fetch_all(exec)
    .await
    .map_err(db)?;
    collect(&rows)
}

/// Creates the table if missing and appends the columns it lacks. The caller has checked
/// nothing: this reads everything again under the locks.
pub(super) async fn upsert(
    conn: &mut AnyConnection,
    dialect: Dialect,
    bucket_id: Id,
    request: &Request,
    explicit: bool,
    limits: SchemaLimits,
    now: Nanos,
) -> Result<Table> {
    let mut table = match get_locked(conn, dialect, bucket_id, &request.name).await? {
        Some(table) => table,
        None => {
            lock_bucket(conn, dialect, bucket_id).await?;
            // Another upsert may have created it while this one waited for the bucket.
            match get_locked(conn, dialect, bucket_id, &request.name).await? {
                Some(table) => table,
                None => create(conn, bucket_id, &request.name, explicit, limits, now).await?,
            }
        }
    };
    let additions = plan(&table, request)?;
    if additions.is_empty() {
        return Ok(table);
    }
    // `time` counts too.
    let n = table.columns.len() + additions.len() + 1;
    if n > limits.max_columns_per_table {
        return Err(Error::LimitExceeded(format!(
            "table \"{}\" would have {n} columns; the limit is {} columns per table",
            table.name, limits.max_columns_per_table
        )));
    }
    for column in additions {
        let position = i64::try_from(table.columns.len())
            .map_err(|_| Error::Internal("too many columns".to_owned()))?;
        sqlx::query("INSERT INTO columns (table_id, position, name, kind) VALUES ($1, $2, $3, $4)")
            .bind(id_text(table.id))
            .bind(position)
            .bind(&column.name)
            .bind(column.kind.as_str())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        table.columns.push(column);
    }
    Ok(table)
}

/// [`get`], after locking the table's row (PostgreSQL) so that its columns cannot change until
/// the transaction ends. The read comes after the lock, so it sees what the last holder added.
async fn get_locked(
    conn: &mut AnyConnection,
    dialect: Dialect,
    bucket_id: Id,
    name: &str,
) -> Result<Option<Table>> {
    if dialect == Dialect::Postgres {
        let row = sqlx::query(
            "SELECT id FROM tables WHERE bucket_id = $1 AND name = $2 FOR NO KEY UPDATE",
        )
        .bind(id_text(bucket_id))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
        if row.is_none() {
            return Ok(None);
        }
    }
    get(&mut *conn, bucket_id, name).await
}

/// Locks the bucket's row (PostgreSQL), serialising the creation of its tables; `NotFound` if
/// there is no such bucket. `NO KEY UPDATE` does not block inserts that merely reference it.
async fn lock_bucket(conn: &mut AnyConnection, dialect: Dialect, bucket_id: Id) -> Result<()> {
    let sql = match dialect {
        Dialect::Sqlite => "SELECT id FROM buckets WHERE id = $1",
        Dialect::Postgres => "SELECT id FROM buckets WHERE id = $1 FOR NO KEY UPDATE",
    };
    let row = sqlx::query(sql)
        .bind(id_text(bucket_id))
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    row.map(|_| ()).ok_or(Error::NotFound(Entity::Bucket))
}

/// Inserts a table without columns. The caller holds the bucket's lock.
async fn create(
    conn: &mut AnyConnection,
    bucket_id: Id,
    name: &str,
    explicit: bool,
    limits: SchemaLimits,
    now: Nanos,
) -> Result<Table> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tables WHERE bucket_id = $1")
        .bind(id_text(bucket_id))
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    let n = count.saturating_add(1);
    if usize::try_from(n).map_or(true, |n| n > limits.max_tables_per_bucket) {
        return Err(Error::LimitExceeded(format!(
            "bucket would have {n} tables; the limit is {} tables per bucket",
            limits.max_tables_per_bucket
        )));
    }
    let table = Table {
        id: Id::random(),
        bucket_id,
        name: name.to_owned(),
        columns: Vec::new(),
        explicit,
    };
    sqlx::query(
        "INSERT INTO tables (id, bucket_id, name, explicit, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_text(table.id))
    .bind(id_text(bucket_id))
    .bind(name)
    .bind(i64::from(explicit))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| on_insert(e, || format!("table {name} already exists"), Entity::Bucket))?;
    Ok(table)
}

/// What is deleted before the rows that own it: file records, columns, tables. `$1` is a
/// bucket id or an org id.
const DELETE_FOR_BUCKET: [&str; 3] = [
    "DELETE FROM parquet_files WHERE bucket_id = $1",
    "DELETE FROM columns WHERE table_id IN (SELECT id FROM tables WHERE bucket_id = $1)",
    "DELETE FROM tables WHERE bucket_id = $1",
];
const DELETE_FOR_ORG: [&str; 3] = [
    "DELETE FROM parquet_files WHERE bucket_id IN (SELECT id FROM buckets WHERE org_id = $1)",
    "DELETE FROM columns WHERE table_id IN (SELECT t.id FROM tables t \
     JOIN buckets b ON b.id = t.bucket_id WHERE b.org_id = $1)",
    "DELETE FROM tables WHERE bucket_id IN (SELECT id FROM buckets WHERE org_id = $1)",
];

/// Deletes the bucket's tables, columns and file records. The foreign keys cascade too; as in
/// [`super::orgs::delete`], deleting explicitly keeps this independent of SQLite's
/// `foreign_keys` setting. The bucket's row is locked first, as an upsert creating a table
/// does, so that the two cannot deadlock.
pub(super) async fn delete_for_bucket(
    conn: &mut AnyConnection,
    dialect: Dialect,
    bucket_id: Id,
) -> Result<()> {
    lock_buckets(
        conn,
        dialect,
        "SELECT id FROM buckets WHERE id = $1 FOR UPDATE",
        bucket_id,
    )
    .await?;
    run_all(conn, &DELETE_FOR_BUCKET, bucket_id).await
}

/// [`delete_for_bucket`] for every bucket of the org.
pub(super) async fn delete_for_org(
    conn: &mut AnyConnection,
    dialect: Dialect,
    org_id: Id,
) -> Result<()> {
    lock_buckets(
        conn,
        dialect,
        "SELECT id FROM buckets WHERE org_id = $1 FOR UPDATE",
        org_id,
    )
    .await?;
    run_all(conn, &DELETE_FOR_ORG, org_id).await
}

async fn lock_buckets(
    conn: &mut AnyConnection,
    dialect: Dialect,
    sql: &'static str,
    id: Id,
) -> Result<()> {
    if dialect == Dialect::Postgres {
        sqlx::query(sql)
            .bind(id_text(id))
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

async fn run_all(conn: &mut AnyConnection, statements: &[&'static str], id: Id) -> Result<()> {
    let id = id_text(id);
    for &sql in statements {
        sqlx::query(sql)
            .bind(&id)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}
