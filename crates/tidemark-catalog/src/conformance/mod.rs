//! The conformance suite: every behaviour the [`Catalog`] trait promises, run against a real
//! backend. Integration tests instantiate it with [`catalog_conformance_tests!`], once per
//! backend; each case becomes its own `#[tokio::test]` on a fresh database, so failures are
//! named and cases cannot see each other's data.
//!
//! [`catalog_conformance_tests!`]: crate::catalog_conformance_tests
//!
//! ```ignore
//! struct TempSqlite(tempfile::TempDir);
//!
//! #[async_trait::async_trait]
//! impl tidemark_catalog::conformance::TestDatabase for TempSqlite {
//!     fn config(&self) -> CatalogConfig { /* ... */ }
//!     async fn remove(self) {}
//! }
//!
//! async fn fresh() -> Option<TempSqlite> { /* ... */ }
//!
//! tidemark_catalog::catalog_conformance_tests!(fresh);
//! ```
//!
//! The crate using the macro needs `tokio` (with `macros` and `rt-multi-thread`) as a
//! dependency.

mod auths;
mod buckets;
mod dbrps;
mod files;
mod orgs;
mod tables;
mod tables_concurrency;

use std::future::Future;
use std::sync::Arc;

pub use self::auths::*;
pub use self::buckets::*;
pub use self::dbrps::*;
pub use self::files::*;
pub use self::orgs::*;
pub use self::tables::*;
pub use self::tables_concurrency::*;

use crate::{
    AuthStatus, Authorization, Bucket, BucketType, Catalog, CatalogConfig, Column, ColumnKind,
    Dbrp, DbrpFilter, Error, FieldType, Id, NewAuthorization, NewBucket, NewDbrp, NewOrg,
    NewParquetFile, Org, ParquetFile, Result, SchemaLimits, SchemaType, Table, User,
};

/// A database that one test case owns.
#[async_trait::async_trait]
pub trait TestDatabase: Send + 'static {
    /// Where the catalog lives; the same database every time it is called.
    fn config(&self) -> CatalogConfig;
    /// Removes the database after the case, pass or fail; best effort.
    async fn remove(self);
}

/// Runs one case on a database from `make`; `None` from `make` means "skip" (it should say why).
/// The case runs in its own task so that the database is removed even when it panics; the
/// panic is then passed on.
pub async fn run<D, M, C, F>(make: impl FnOnce() -> M, case: C)
where
    D: TestDatabase,
    M: Future<Output = Option<D>>,
    C: FnOnce(CatalogConfig) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let Some(db) = make().await else {
        return;
    };
    let outcome = tokio::spawn(case(db.config())).await;
    db.remove().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("the test case did not finish: {e}"),
        }
    }
}

/// Generates one `#[tokio::test]` per conformance case. `$make` names an async function
/// returning `Option<impl TestDatabase>` (a fresh database per call).
#[macro_export]
macro_rules! catalog_conformance_tests {
    ($make:path) => {
        $crate::catalog_conformance_tests!(@cases $make;
            // bootstrap, orgs, users, persistence
            bootstrap_creates_everything_once,
            bootstrap_concurrent_calls_create_once,
            org_crud,
            org_names_are_unique,
            org_gets_system_buckets,
            orgs_list_by_name,
            delete_org_cascades,
            missing_org_is_not_found,
            users_create_get_and_unique,
            reopen_keeps_data_and_migrations,
            concurrent_opens_migrate_once,
            // buckets
            bucket_crud,
            bucket_names_are_unique_per_org,
            bucket_list_filters_and_order,
            bucket_needs_existing_org,
            missing_bucket_is_not_found,
            concurrent_bucket_creates_with_distinct_names,
            concurrent_bucket_creates_with_same_name,
            // authorizations
            authorization_crud,
            authorization_permissions_round_trip,
            authorization_list_filters_and_order,
            authorization_needs_org_and_user,
            authorization_token_hash_is_unique,
            missing_authorization_is_not_found,
            // DBRP mappings
            dbrp_first_mapping_is_default,
            dbrp_new_default_takes_the_flag,
            dbrp_undefault_promotes_smallest_id,
            dbrp_sole_mapping_stays_default,
            dbrp_delete_default_promotes_smallest_id,
            dbrp_org_db_rp_is_unique,
            dbrp_bucket_must_exist_in_org,
            dbrp_bucket_delete_removes_mappings,
            dbrp_list_filters,
            dbrp_defaults_are_per_org_and_database,
            missing_dbrp_is_not_found,
            concurrent_dbrp_creates_keep_one_default,
            // tables
            table_create_and_add_columns,
            table_upsert_is_idempotent,
            table_column_kind_conflict,
            table_time_column_is_implicit,
            table_column_limit,
            table_count_limit,
            table_explicit_flag_kept,
            table_needs_existing_bucket,
            concurrent_table_upserts_same_columns,
            concurrent_table_upserts_conflicting_kinds,
            concurrent_table_upserts_respect_limits,
            delete_bucket_cascades_to_tables_and_files,
            delete_org_cascades_to_tables_and_files,
            // Parquet files
            parquet_files_add_and_list_order,
            parquet_files_need_bucket_and_table,
            parquet_files_replace,
            parquet_files_replace_missing_id_changes_nothing,
            parquet_files_delete_ignores_unknown_ids,
            concurrent_parquet_file_replaces_remove_once,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::conformance::run($make, $crate::conformance::$case).await;
            }
        )*
    };
}

// ---- helpers for the cases ----

pub(crate) async fn open(config: &CatalogConfig) -> Arc<dyn Catalog> {
    crate::open(config).await.expect("open the catalog")
}

pub(crate) async fn org(catalog: &dyn Catalog, name: &str) -> Org {
    catalog
        .create_org(NewOrg {
            name: name.to_owned(),
            description: format!("{name} description"),
        })
        .await
        .expect("create org")
}

pub(crate) async fn user(catalog: &dyn Catalog, name: &str) -> User {
    catalog.create_user(name).await.expect("create user")
}

pub(crate) fn new_bucket(org: &Org, name: &str) -> NewBucket {
    NewBucket {
        org_id: org.id,
        name: name.to_owned(),
        description: format!("{name} description"),
        bucket_type: BucketType::User,
        retention_seconds: 3600,
        shard_group_duration_seconds: Some(600),
        schema_type: SchemaType::Explicit,
    }
}

pub(crate) async fn bucket(catalog: &dyn Catalog, org: &Org, name: &str) -> Bucket {
    catalog
        .create_bucket(new_bucket(org, name))
        .await
        .expect("create bucket")
}

pub(crate) fn new_auth(org: &Org, user: &User, token_hash: &str) -> NewAuthorization {
    NewAuthorization {
        org_id: org.id,
        user_id: user.id,
        token_hash: token_hash.to_owned(),
        description: format!("token {token_hash}"),
        status: AuthStatus::Active,
        permissions: Vec::new(),
    }
}

pub(crate) async fn auth(
    catalog: &dyn Catalog,
    org: &Org,
    user: &User,
    token_hash: &str,
) -> Authorization {
    catalog
        .create_authorization(new_auth(org, user, token_hash))
        .await
        .expect("create authorization")
}

pub(crate) async fn dbrp(
    catalog: &dyn Catalog,
    bucket: &Bucket,
    database: &str,
    retention_policy: &str,
    default: bool,
) -> Dbrp {
    catalog
        .create_dbrp(NewDbrp {
            org_id: bucket.org_id,
            bucket_id: bucket.id,
            database: database.to_owned(),
            retention_policy: retention_policy.to_owned(),
            default,
        })
        .await
        .expect("create DBRP mapping")
}

/// Asserts `result` is a conflict with exactly `message`.
#[track_caller]
pub(crate) fn assert_conflict<T: std::fmt::Debug>(result: Result<T>, message: &str) {
    match result {
        Err(Error::Conflict(m)) => assert_eq!(m, message),
        other => panic!("expected Conflict({message:?}), got {other:?}"),
    }
}

/// Asserts that every (org, database) with mappings has exactly one default.
pub(crate) async fn assert_one_default_each(catalog: &dyn Catalog) {
    let all = catalog
        .list_dbrps(&DbrpFilter::default())
        .await
        .expect("list DBRP mappings");
    let mut groups = std::collections::BTreeMap::<_, usize>::new();
    for d in &all {
        *groups.entry((d.org_id, d.database.clone())).or_default() += usize::from(d.default);
    }
    for ((org_id, database), defaults) in groups {
        assert_eq!(
            defaults, 1,
            "org {org_id} database {database:?} has {defaults} defaults: {all:#?}"
        );
    }
}

pub(crate) fn tag(name: &str) -> Column {
    Column {
        name: name.to_owned(),
        kind: ColumnKind::Tag,
    }
}

pub(crate) fn field(name: &str, t: FieldType) -> Column {
    Column {
        name: name.to_owned(),
        kind: ColumnKind::Field(t),
    }
}

/// Upserts an implicit table with the default limits.
pub(crate) async fn table(
    catalog: &dyn Catalog,
    bucket: &Bucket,
    name: &str,
    columns: &[Column],
) -> Table {
    catalog
        .upsert_table(bucket.id, name, columns, false, SchemaLimits::default())
        .await
        .expect("upsert table")
}

pub(crate) fn new_file(table: &Table, partition_day: i32, min_time: i64) -> NewParquetFile {
    let id = Id::random();
    NewParquetFile {
        id,
        bucket_id: table.bucket_id,
        table_id: table.id,
        partition_day,
        path: format!(
            "{}/{}/{partition_day}/{id}.parquet",
            table.bucket_id, table.id
        ),
        min_time,
        max_time: min_time + 1_000,
        row_count: 10,
        size_bytes: 4_096,
        level: 0,
    }
}

pub(crate) async fn files(catalog: &dyn Catalog, new: &[NewParquetFile]) -> Vec<ParquetFile> {
    catalog
        .add_parquet_files(new)
        .await
        .expect("add parquet files")
}
