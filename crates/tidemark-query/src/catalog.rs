//! What a query's session sees: the bucket's tables as schema `iox` of catalog `public`, the
//! names InfluxDB 3 uses, so `SELECT * FROM cpu`, `FROM iox.cpu` and `information_schema`
//! queries written for InfluxDB work unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::SchemaProvider;
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::prelude::SessionContext;
use tidemark_catalog::Bucket;
use tidemark_storage::Engine;

use crate::table::BucketTable;

pub(crate) const CATALOG: &str = "public";
pub(crate) const SCHEMA: &str = "iox";

/// A bucket's tables as they were when the query started.
#[derive(Debug)]
struct BucketSchema {
    tables: BTreeMap<String, Arc<BucketTable>>,
}

#[async_trait]
impl SchemaProvider for BucketSchema {
    fn table_names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(self
            .tables
            .get(name)
            .map(|t| Arc::clone(t) as Arc<dyn TableProvider>))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.tables.contains_key(name)
    }
}

/// Puts the bucket's tables into the session's `public.iox`.
pub(crate) fn register_bucket(
    ctx: &SessionContext,
    engine: &Arc<Engine>,
    bucket: &Bucket,
    store_url: &ObjectStoreUrl,
) -> Result<()> {
    let tables = engine
        .tables(bucket.id)
        .into_iter()
        .map(|schema| {
            let table = BucketTable {
                engine: Arc::clone(engine),
                bucket_id: bucket.id,
                schema: Arc::clone(&schema),
                store_url: store_url.clone(),
            };
            (schema.name.clone(), Arc::new(table))
        })
        .collect();
    let catalog = ctx
        .catalog(CATALOG)
        .ok_or_else(|| DataFusionError::Internal(format!("catalog {CATALOG} is missing")))?;
    catalog.register_schema(SCHEMA, Arc::new(BucketSchema { tables }))?;
    Ok(())
}
