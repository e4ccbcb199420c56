//! Tests over a real engine: a SQLite catalog and a local object store in a temporary
//! directory, rows written as line protocol, files made by the engine's own persistence.

mod catalog;
mod direct;
mod scan;

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::physical_plan::displayable;
use futures::TryStreamExt;
use tidemark_catalog::{
    Bucket, BucketType, CatalogConfig, NewBucket, NewOrg, SchemaLimits, SchemaType,
};
use tidemark_lp::Precision;
use tidemark_storage::wal::{Recovery, WalConfig};
use tidemark_storage::{Engine, EngineConfig, PersistConfig, WriteRequest};

use crate::{Params, QueryConfig, QueryEngine};

pub(crate) struct Fixture {
    _tmp: tempfile::TempDir,
    pub(crate) engine: Arc<Engine>,
    pub(crate) bucket: Bucket,
    pub(crate) query: QueryEngine,
}

pub(crate) async fn fixture() -> Fixture {
    fixture_with_retention(0).await
}

pub(crate) async fn fixture_with_retention(retention_seconds: i64) -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_owned();
    let catalog = tidemark_catalog::open(&CatalogConfig::Sqlite {
        path: dir.join("catalog.sqlite"),
    })
    .await
    .expect("catalog");
    let org = catalog
        .create_org(NewOrg {
            name: "o".into(),
            description: String::new(),
        })
        .await
        .expect("org");
    let bucket = catalog
        .create_bucket(NewBucket {
            org_id: org.id,
            name: "b".into(),
            description: String::new(),
            bucket_type: BucketType::User,
            retention_seconds,
            shard_group_duration_seconds: None,
            schema_type: SchemaType::Implicit,
        })
        .await
        .expect("bucket");
    let objects = dir.join("objects");
    std::fs::create_dir_all(&objects).expect("objects dir");
    let store =
        Arc::new(object_store::local::LocalFileSystem::new_with_prefix(&objects).expect("store"));
    let config = EngineConfig {
        wal: WalConfig {
            dir: dir.join("wal"),
            flush_window: Duration::from_millis(1),
            recovery: Recovery::Strict,
            segment_max_bytes: 1 << 20,
        },
        limits: SchemaLimits::default(),
        persist: PersistConfig::default(),
        compact: tidemark_storage::CompactConfig::default(),
        local_object_root: Some(objects),
    };
    let (engine, _) = Engine::open(config, catalog, store).await.expect("engine");
    let query = QueryEngine::new(
        Arc::clone(&engine),
        QueryConfig {
            threads: 2,
            target_partitions: 2,
            memory_limit: None,
            direct_cache_bytes: crate::DEFAULT_DIRECT_CACHE_BYTES,
            timeout: None,
        },
    )
    .expect("query engine");
    Fixture {
        _tmp: tmp,
        engine,
        bucket,
        query,
    }
}

impl Fixture {
    pub(crate) async fn write(&self, lp: &str) {
        let out = self
            .engine
            .write(WriteRequest {
                bucket: &self.bucket,
                body: lp.as_bytes(),
                precision: Some(Precision::Nanosecond),
                now: 1,
                accept_partial: false,
                sync: true,
            })
            .await
            .expect("write");
        assert!(out.errors.is_empty(), "{:?}", out.errors);
    }

    pub(crate) async fn persist(&self) {
        self.engine.persist().await.expect("persist");
    }

    pub(crate) async fn try_query(&self, sql: &str, params: &Params) -> crate::Result<String> {
        let out = self.query.sql(&self.bucket, sql, params).await?;
        let batches: Vec<_> = out.stream.try_collect().await?;
        for b in &batches {
            assert_eq!(b.schema(), out.schema, "batches carry the announced schema");
        }
        Ok(pretty_format_batches(&batches).expect("pretty").to_string())
    }

    pub(crate) async fn query(&self, sql: &str) -> String {
        self.try_query(sql, &Params::new()).await.expect("query")
    }

    /// The physical plan DataFusion would run.
    pub(crate) async fn plan(&self, sql: &str) -> String {
        let ctx = self.query.context(&self.bucket).expect("context");
        let df = ctx.sql(sql).await.expect("sql");
        let plan = df.create_physical_plan().await.expect("plan");
        let text = displayable(plan.as_ref()).indent(false).to_string();
        text
    }
}

/// Lines of a pretty table as one string, for comparisons that read well.
pub(crate) fn table(lines: &[&str]) -> String {
    lines.join("\n")
}
