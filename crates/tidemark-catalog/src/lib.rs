//! The catalog: every piece of metadata the server keeps — orgs, users, buckets, API tokens (as
//! hashes), DBRP mappings — behind one async trait with two backends, SQLite (the embedded default)
//! and PostgreSQL (shared by several nodes).
//!
//! Invariants every backend keeps, checked by the conformance suite (`conformance` feature):
//! - every operation is one transaction: it happens whole or not at all;
//! - every org has its system buckets `_monitoring` and `_tasks`, created with it;
//! - names are unique: orgs globally, buckets per org, DBRP mappings per (org, database, rp);
//! - each (org, database) with mappings has exactly one default mapping;
//! - deleting an org deletes its buckets, tokens and mappings; deleting a bucket deletes its
//!   mappings, tables (with their columns) and Parquet file records;
//! - tokens are looked up by hash; the token itself never reaches the catalog.
//!
//! This crate never validates names or decides permissions: that is the server's service layer.
//!
//! [`open`] connects to the database a [`CatalogConfig`] names and applies the schema
//! migrations (embedded SQL files under `migrations/`, one set per backend) before returning
//! the catalog. Both backends share one implementation and the same SQL (`src/sql/`).

#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
mod id;
mod model;
mod sql;
mod table;

pub use error::{Entity, Error, Result};
pub use id::{Id, IdError};
pub use model::*;
pub use sql::{open, CatalogConfig};
pub use table::*;

use async_trait::async_trait;

/// Retention of the `_monitoring` system bucket (7 days), as InfluxDB Cloud sets it.
pub const MONITORING_RETENTION_SECONDS: i64 = 7 * 24 * 3600;
/// Retention of the `_tasks` system bucket (3 days), as InfluxDB Cloud sets it.
pub const TASKS_RETENTION_SECONDS: i64 = 3 * 24 * 3600;

/// What the first start creates.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    pub org_name: String,
    pub user_name: String,
    pub operator_token_hash: String,
}

/// The result of [`Catalog::bootstrap`].
// Produced once per process start: boxing the big variant would only complicate matching.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootstrapOutcome {
    /// This was the first start: the org, the user and the operator token were created.
    Created {
        org: Org,
        user: User,
        authorization: Authorization,
    },
    /// The catalog had been initialised before; nothing was changed.
    AlreadyInitialized,
}

/// The catalog. Lists return every matching record in a stable order (documented per method);
/// pagination and permission filtering happen in the service layer.
#[async_trait]
pub trait Catalog: Send + Sync + std::fmt::Debug + 'static {
    /// On the first call ever: creates the org (with its system buckets), the user and an operator
    /// authorization with every permission, in one transaction. Later calls change nothing.
    async fn bootstrap(&self, b: Bootstrap) -> Result<BootstrapOutcome>;

    // ---- orgs: listed by name ----
    /// Creates the org and its system buckets.
    async fn create_org(&self, new: NewOrg) -> Result<Org>;
    async fn get_org(&self, id: Id) -> Result<Option<Org>>;
    async fn get_org_by_name(&self, name: &str) -> Result<Option<Org>>;
    async fn list_orgs(&self) -> Result<Vec<Org>>;
    async fn update_org(&self, id: Id, patch: OrgPatch) -> Result<Org>;
    /// Deletes the org with its buckets (and what they hold), authorizations and DBRP mappings.
    async fn delete_org(&self, id: Id) -> Result<()>;

    // ---- users ----
    async fn create_user(&self, name: &str) -> Result<User>;
    async fn get_user(&self, id: Id) -> Result<Option<User>>;
    async fn get_user_by_name(&self, name: &str) -> Result<Option<User>>;

    // ---- buckets: listed by (name, id) ----
    async fn create_bucket(&self, new: NewBucket) -> Result<Bucket>;
    async fn get_bucket(&self, id: Id) -> Result<Option<Bucket>>;
    async fn list_buckets(&self, filter: &BucketFilter) -> Result<Vec<Bucket>>;
    async fn update_bucket(&self, id: Id, patch: BucketPatch) -> Result<Bucket>;
    /// Deletes the bucket with its DBRP mappings, tables and Parquet file records.
    async fn delete_bucket(&self, id: Id) -> Result<()>;

    // ---- authorizations: listed by (created_at, id) ----
    async fn create_authorization(&self, new: NewAuthorization) -> Result<Authorization>;
    async fn get_authorization(&self, id: Id) -> Result<Option<Authorization>>;
    async fn get_authorization_by_token_hash(&self, hash: &str) -> Result<Option<Authorization>>;
    async fn list_authorizations(&self, filter: &AuthorizationFilter)
        -> Result<Vec<Authorization>>;
    async fn update_authorization(
        &self,
        id: Id,
        patch: AuthorizationPatch,
    ) -> Result<Authorization>;
    async fn delete_authorization(&self, id: Id) -> Result<()>;

    // ---- DBRP mappings: listed by id ----
    /// Creates a mapping. The first mapping of an (org, database) becomes its default whatever
    /// `new.default` says; a new default takes the flag from the old one. The bucket must belong
    /// to the org (`Error::Invalid` otherwise; `NotFound(Bucket)` if it does not exist).
    async fn create_dbrp(&self, new: NewDbrp) -> Result<Dbrp>;
    async fn get_dbrp(&self, id: Id) -> Result<Option<Dbrp>>;
    async fn list_dbrps(&self, filter: &DbrpFilter) -> Result<Vec<Dbrp>>;
    /// Setting `default: true` moves the default here; `default: false` on the default promotes
    /// the remaining mapping with the smallest id (a sole mapping stays the default).
    async fn update_dbrp(&self, id: Id, patch: DbrpPatch) -> Result<Dbrp>;
    /// Deleting the default promotes the remaining mapping with the smallest id.
    async fn delete_dbrp(&self, id: Id) -> Result<()>;

    // ---- tables: one per measurement of a bucket ----
    /// The bucket's tables by name, each with its columns in the order they were added.
    async fn list_tables(&self, bucket_id: Id) -> Result<Vec<Table>>;
    /// Creates the table if it is missing and adds the columns it lacks, in one transaction,
    /// and returns the table as stored (columns in the order added; a column already present
    /// with the same kind is no change). A column present with another kind is
    /// `Error::Conflict` naming the column, the table and both kinds; going past `limits` is
    /// `Error::LimitExceeded` naming the table (or bucket) and the limit. `explicit` is only
    /// used when the table is created. `NotFound(Bucket)` if the bucket does not exist.
    async fn upsert_table(
        &self,
        bucket_id: Id,
        name: &str,
        columns: &[Column],
        explicit: bool,
        limits: SchemaLimits,
    ) -> Result<Table>;

    // ---- Parquet files: listed by (table_id, partition_day, min_time, id) ----
    /// Registers files in one transaction. `NotFound(Bucket)` if the bucket is gone (then
    /// nothing is registered).
    async fn add_parquet_files(&self, files: &[NewParquetFile]) -> Result<Vec<ParquetFile>>;
    async fn list_parquet_files(&self, bucket_id: Id) -> Result<Vec<ParquetFile>>;
    /// Compaction: in one transaction, removes `remove` and registers `add`.
    /// `NotFound(ParquetFile)` (and no change) if any of `remove` is no longer registered.
    async fn replace_parquet_files(
        &self,
        remove: &[Id],
        add: &[NewParquetFile],
    ) -> Result<Vec<ParquetFile>>;
    /// Retention: forgets the files (ids not registered are ignored).
    async fn delete_parquet_files(&self, ids: &[Id]) -> Result<()>;
}
