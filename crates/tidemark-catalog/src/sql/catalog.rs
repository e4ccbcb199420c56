//! [`Catalog`] for [`SqlCatalog`]: each write is one transaction around the functions of the
//! table modules; each read is one statement on the pool.

use async_trait::async_trait;

use super::{auths, buckets, dbrps, files, now, orgs, tables, SqlCatalog};
use crate::{
    Authorization, AuthorizationFilter, AuthorizationPatch, Bootstrap, BootstrapOutcome, Bucket,
    BucketFilter, BucketPatch, Catalog, Column, Dbrp, DbrpFilter, DbrpPatch, Id, NewAuthorization,
    NewBucket, NewDbrp, NewOrg, NewParquetFile, Org, OrgPatch, ParquetFile, Result, SchemaLimits,
    Table, User,
};

#[async_trait]
impl Catalog for SqlCatalog {
    async fn bootstrap(&self, b: Bootstrap) -> Result<BootstrapOutcome> {
        let mut tx = self.begin_write().await?;
        let outcome = orgs::bootstrap(&mut tx, &b, now()).await?;
        if matches!(outcome, BootstrapOutcome::Created { .. }) {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn create_org(&self, new: NewOrg) -> Result<Org> {
        let mut tx = self.begin_write().await?;
        let org = orgs::create(&mut tx, &new, now()).await?;
        tx.commit().await?;
        Ok(org)
    }

    async fn get_org(&self, id: Id) -> Result<Option<Org>> {
        orgs::get(&self.pool, id).await
    }

    async fn get_org_by_name(&self, name: &str) -> Result<Option<Org>> {
        orgs::get_by_name(&self.pool, name).await
    }

    async fn list_orgs(&self) -> Result<Vec<Org>> {
        orgs::list(&self.pool).await
    }

    async fn update_org(&self, id: Id, patch: OrgPatch) -> Result<Org> {
        let mut tx = self.begin_write().await?;
        let org = orgs::update(&mut tx, id, &patch, now()).await?;
        tx.commit().await?;
        Ok(org)
    }

    async fn delete_org(&self, id: Id) -> Result<()> {
        let mut tx = self.begin_write().await?;
        orgs::delete(&mut tx, self.dialect, id).await?;
        tx.commit().await
    }

    async fn create_user(&self, name: &str) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let user = orgs::create_user(&mut tx, name, now()).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn get_user(&self, id: Id) -> Result<Option<User>> {
        orgs::get_user(&self.pool, id).await
    }

    async fn get_user_by_name(&self, name: &str) -> Result<Option<User>> {
        orgs::get_user_by_name(&self.pool, name).await
    }

    async fn create_bucket(&self, new: NewBucket) -> Result<Bucket> {
        let mut tx = self.begin_write().await?;
        let bucket = buckets::insert(&mut tx, &new, now()).await?;
        tx.commit().await?;
        Ok(bucket)
    }

    async fn get_bucket(&self, id: Id) -> Result<Option<Bucket>> {
        buckets::get(&self.pool, id).await
    }

    async fn list_buckets(&self, filter: &BucketFilter) -> Result<Vec<Bucket>> {
        buckets::list(&self.pool, filter).await
    }

    async fn update_bucket(&self, id: Id, patch: BucketPatch) -> Result<Bucket> {
        let mut tx = self.begin_write().await?;
        let bucket = buckets::update(&mut tx, id, &patch, now()).await?;
        tx.commit().await?;
        Ok(bucket)
    }

    async fn delete_bucket(&self, id: Id) -> Result<()> {
        let mut tx = self.begin_write().await?;
        buckets::delete(&mut tx, self.dialect, id).await?;
        tx.commit().await
    }

    async fn create_authorization(&self, new: NewAuthorization) -> Result<Authorization> {
        let mut tx = self.begin_write().await?;
        let auth = auths::insert(&mut tx, &new, now()).await?;
        tx.commit().await?;
        Ok(auth)
    }

    async fn get_authorization(&self, id: Id) -> Result<Option<Authorization>> {
        auths::get(&self.pool, id).await
    }

    async fn get_authorization_by_token_hash(&self, hash: &str) -> Result<Option<Authorization>> {
        auths::get_by_token_hash(&self.pool, hash).await
    }

    async fn list_authorizations(
        &self,
        filter: &AuthorizationFilter,
    ) -> Result<Vec<Authorization>> {
        auths::list(&self.pool, filter).await
    }

    async fn update_authorization(
        &self,
        id: Id,
        patch: AuthorizationPatch,
    ) -> Result<Authorization> {
        let mut tx = self.begin_write().await?;
        let auth = auths::update(&mut tx, id, &patch, now()).await?;
        tx.commit().await?;
        Ok(auth)
    }

    async fn delete_authorization(&self, id: Id) -> Result<()> {
        let mut tx = self.begin_write().await?;
        auths::delete(&mut tx, id).await?;
        tx.commit().await
    }

    async fn create_dbrp(&self, new: NewDbrp) -> Result<Dbrp> {
        let mut tx = self.begin_write().await?;
        let dbrp = dbrps::create(&mut tx, self.dialect, &new).await?;
        tx.commit().await?;
        Ok(dbrp)
    }

    async fn get_dbrp(&self, id: Id) -> Result<Option<Dbrp>> {
        dbrps::get(&self.pool, id).await
    }

    async fn list_dbrps(&self, filter: &DbrpFilter) -> Result<Vec<Dbrp>> {
        dbrps::list(&self.pool, filter).await
    }

    async fn update_dbrp(&self, id: Id, patch: DbrpPatch) -> Result<Dbrp> {
        let mut tx = self.begin_write().await?;
        let dbrp = dbrps::update(&mut tx, self.dialect, id, &patch).await?;
        tx.commit().await?;
        Ok(dbrp)
    }

    async fn delete_dbrp(&self, id: Id) -> Result<()> {
        let mut tx = self.begin_write().await?;
        dbrps::delete(&mut tx, self.dialect, id).await?;
        tx.commit().await
    }

    async fn list_tables(&self, bucket_id: Id) -> Result<Vec<Table>> {
        tables::list(&self.pool, bucket_id).await
    }

    /// A request that adds nothing is answered from one read, without the write lock.
    async fn upsert_table(
        &self,
        bucket_id: Id,
        name: &str,
        columns: &[Column],
        explicit: bool,
        limits: SchemaLimits,
    ) -> Result<Table> {
        let request = tables::Request::new(name, columns)?;
        if let Some(table) = tables::get(&self.pool, bucket_id, name).await? {
            if tables::plan(&table, &request)?.is_empty() {
                return Ok(table);
            }
        }
        let mut tx = self.begin_write().await?;
        let table = tables::upsert(
            &mut tx,
            self.dialect,
            bucket_id,
            &request,
            explicit,
            limits,
            now(),
        )
        .await?;
        tx.commit().await?;
        Ok(table)
    }

    async fn add_parquet_files(&self, new: &[NewParquetFile]) -> Result<Vec<ParquetFile>> {
        let mut tx = self.begin_write().await?;
        let added = files::insert(&mut tx, new, now()).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn list_parquet_files(&self, bucket_id: Id) -> Result<Vec<ParquetFile>> {
        files::list(&self.pool, bucket_id).await
    }

    async fn replace_parquet_files(
        &self,
        remove: &[Id],
        add: &[NewParquetFile],
    ) -> Result<Vec<ParquetFile>> {
        let mut tx = self.begin_write().await?;
        files::remove(&mut tx, remove, true).await?;
        let added = files::insert(&mut tx, add, now()).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn delete_parquet_files(&self, ids: &[Id]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        files::remove(&mut tx, ids, false).await?;
        tx.commit().await
    }
}
