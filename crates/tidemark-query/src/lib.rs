//! The query engine: SQL over one bucket, answered by DataFusion from the write engine's
//! buffered rows and Parquet files.
//!
//! Each query gets its own DataFusion session whose default catalog `public` holds the bucket's
//! tables as schema `iox` (InfluxDB 3's names), with `information_schema` enabled. Each table
//! is a [`TableProvider`](datafusion::datasource::TableProvider) (`table.rs`) that turns the
//! filters' time range into the chunks that can hold matching rows, reads files through the
//! engine's object store, and de-duplicates only where chunks overlap (`dedupe.rs`).
//!
//! Planning and execution run on a Tokio runtime owned by the [`QueryEngine`] (`runtime.rs`),
//! so CPU-heavy queries never stall the runtime that serves connections.
//!
//! **Invariant:** this crate never writes. Sessions refuse DDL, DML and `SET`-like statements,
//! and nothing here calls a write method of the engine or the object store.

mod catalog;
mod dedupe;
mod direct;
mod error;
mod influxql;
mod runtime;
mod table;
mod time_range;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::information_schema::{INFORMATION_SCHEMA, INFORMATION_SCHEMA_TABLES};
use datafusion::common::{ParamValues, ScalarValue, TableReference};
use datafusion::datasource::TableType;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use tidemark_catalog::Bucket;
use tidemark_storage::Engine;

pub use error::{Error, Result};
pub use influxql::{InfluxQlChecks, InfluxQlOptions, GROUP_KEY_METADATA, MEASUREMENT_COLUMN};
pub use runtime::QueryStream;

/// Where the engine's object store is registered in every session's runtime environment.
const STORE_URL: &str = "tidemark://objects/";

/// How the query engine runs.
#[derive(Debug, Clone)]
pub struct QueryConfig {
    /// Worker threads of the query runtime.
    pub threads: usize,
    /// How many partitions DataFusion splits a plan into.
    pub target_partitions: usize,
    /// Memory all running queries may use together, in bytes; `None` is unbounded.
    pub memory_limit: Option<usize>,
    /// Bytes of decoded column chunks and series indexes kept for the direct path of small
    /// InfluxQL queries (`direct/`); 0 turns that path off.
    pub direct_cache_bytes: usize,
    /// How long one query (or InfluxQL statement) may run, from planning to its last batch;
    /// `None` is unbounded. A query past it stops with [`Error::Timeout`].
    pub timeout: Option<std::time::Duration>,
}

/// The default of [`QueryConfig::direct_cache_bytes`].
pub const DEFAULT_DIRECT_CACHE_BYTES: usize = 512 * 1024 * 1024;

impl Default for QueryConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            threads: cores,
            target_partitions: cores,
            memory_limit: None,
            direct_cache_bytes: DEFAULT_DIRECT_CACHE_BYTES,
            timeout: None,
        }
    }
}

/// A query parameter's value (`$name` in the SQL).
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    String(String),
}

/// Named parameters, without the `$`.
pub type Params = BTreeMap<String, Param>;

impl Param {
    fn scalar(&self) -> ScalarValue {
        match self {
            Self::Null => ScalarValue::Null,
            Self::Bool(b) => ScalarValue::Boolean(Some(*b)),
            Self::Int(i) => ScalarValue::Int64(Some(*i)),
            Self::UInt(u) => ScalarValue::UInt64(Some(*u)),
            Self::Float(f) => ScalarValue::Float64(Some(*f)),
            Self::String(s) => ScalarValue::Utf8(Some(s.clone())),
        }
    }
}

/// A running query: its schema (known before the first batch) and its batches.
pub struct QueryOutput {
    pub schema: SchemaRef,
    pub stream: QueryStream,
}

impl QueryOutput {
    /// An answer computed whole: one batch, streamed only when it has rows.
    pub fn from_batch(batch: datafusion::arrow::array::RecordBatch) -> Self {
        let schema = batch.schema();
        let batches = if batch.num_rows() > 0 {
            vec![Ok(batch)]
        } else {
            Vec::new()
        };
        Self {
            schema,
            stream: Box::pin(futures::stream::iter(batches)),
        }
    }
}

impl std::fmt::Debug for QueryOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryOutput")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// A table as the session's catalog lists it (the bucket's tables and `information_schema`).
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub catalog: String,
    pub schema: String,
    pub name: String,
    /// `BASE TABLE` or `VIEW`, as `information_schema.tables` says.
    pub table_type: String,
    pub arrow_schema: SchemaRef,
}

/// Prepares the direct path's series index of every new file as the engine adds files, until
/// the query runtime stops.
async fn prewarm(cache: Arc<direct::DirectCache>, engine: Arc<Engine>) {
    let mut added = engine.watch_files();
    loop {
        cache.prewarm(&engine.files()).await;
        if added.changed().await.is_err() {
            return;
        }
    }
}

/// SQL over buckets. One per server; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct QueryEngine {
    engine: Arc<Engine>,
    runtime: runtime::QueryRuntime,
    env: Arc<RuntimeEnv>,
    session: SessionConfig,
    store_url: ObjectStoreUrl,
    direct: Arc<direct::DirectCache>,
    /// The most values an InfluxQL statement on the caller's thread may read.
    inline_values: usize,
    /// InfluxQL statements answered on the caller's thread.
    inline_answers: AtomicU64,
}

/// The most values (rows times columns) an InfluxQL statement run on the caller's thread may
/// read: about half a millisecond of decoding when none is cached.
const INLINE_VALUES: usize = 1 << 17;

impl QueryEngine {
    pub fn new(engine: Arc<Engine>, config: QueryConfig) -> Result<Self> {
        let store_url = ObjectStoreUrl::parse(STORE_URL)?;
        let mut env = RuntimeEnvBuilder::new();
        if let Some(limit) = config.memory_limit {
            env = env.with_memory_limit(limit, 1.0);
        }
        let env = env.build_arc()?;
        env.register_object_store(store_url.as_ref(), engine.object_store());
        let direct = Arc::new(direct::DirectCache::new(
            engine.object_store(),
            engine.local_object_root(),
            config.direct_cache_bytes,
        )?);
        let runtime = runtime::QueryRuntime::new(config.threads, config.timeout)?;
        if direct.enabled() {
            runtime.spawn(prewarm(Arc::clone(&direct), Arc::clone(&engine)));
        }
        Ok(Self {
            runtime,
            session: session_config(&config),
            engine,
            env,
            store_url,
            direct,
            inline_values: INLINE_VALUES,
            inline_answers: AtomicU64::new(0),
        })
    }

    /// A session over `bucket`: its tables in `public.iox`, `information_schema`, no writes.
    fn context(&self, bucket: &Bucket) -> Result<SessionContext> {
        self.session_maker(bucket)()
    }

    /// How many measurement reads of InfluxQL SELECTs the direct path answered since start
    /// (the others went to DataFusion).
    pub fn direct_answers(&self) -> u64 {
        self.direct.answers()
    }

    /// How many InfluxQL statements were answered on the caller's thread, without the query
    /// runtime, since start.
    pub fn inline_answers(&self) -> u64 {
        self.inline_answers.load(Ordering::Relaxed)
    }

    /// Sets the most values a statement on the caller's thread may read.
    #[cfg(test)]
    pub(crate) fn set_inline_values(&mut self, values: usize) {
        self.inline_values = values;
    }

    /// What [`Self::context`] does, as a function to call later (or never).
    fn session_maker(&self, bucket: &Bucket) -> influxql::MakeSession {
        let (config, env, engine) = (
            self.session.clone(),
            Arc::clone(&self.env),
            Arc::clone(&self.engine),
        );
        let (bucket, store_url) = (bucket.clone(), self.store_url.clone());
        Box::new(move || {
            let state = SessionStateBuilder::new()
                .with_config(config.clone())
                .with_runtime_env(Arc::clone(&env))
                .with_default_features()
                .build();
            let ctx = SessionContext::new_with_state(state);
            catalog::register_bucket(&ctx, &engine, &bucket, &store_url)?;
            Ok(ctx)
        })
    }

    /// Runs `sql` over `bucket` with `$name` parameters bound from `params`.
    pub async fn sql(&self, bucket: &Bucket, sql: &str, params: &Params) -> Result<QueryOutput> {
        let ctx = self.context(bucket)?;
        let sql = sql.to_owned();
        let params = params.clone();
        let (schema, stream) = self
            .runtime
            .stream(async move {
                let df = bind(plan(&ctx, &sql).await?, &params)?;
                let physical = df.create_physical_plan().await?;
                let schema = physical.schema();
                let stream = datafusion::physical_plan::execute_stream(physical, ctx.task_ctx())?;
                Ok((schema, stream))
            })
            .await?;
        Ok(QueryOutput { schema, stream })
    }

    /// The schema `sql` would answer with, without running it. Parameters may stay unbound;
    /// bound ones can change the schema (`$1 + 1` is not nullable once `$1` is a number).
    pub async fn schema(&self, bucket: &Bucket, sql: &str, params: &Params) -> Result<SchemaRef> {
        let ctx = self.context(bucket)?;
        let sql = sql.to_owned();
        let params = params.clone();
        self.runtime
            .run(async move {
                let df = bind(plan(&ctx, &sql).await?, &params)?;
                Ok(Arc::new(df.schema().as_arrow().clone()))
            })
            .await
    }

    /// Runs one InfluxQL statement over `bucket`. The answer has InfluxDB 3's Arrow shape for
    /// InfluxQL: `iox::measurement` first, then (for SELECT) `time` and the projected columns,
    /// with the GROUP BY tag columns named in the schema metadata [`GROUP_KEY_METADATA`].
    /// Statements the service layer answers (SHOW DATABASES, SHOW RETENTION POLICIES, CREATE
    /// DATABASE, DROP MEASUREMENT, DELETE) are refused with [`Error::Statement`].
    pub async fn influxql(
        &self,
        bucket: &Bucket,
        statement: &tidemark_influxql::Statement,
        options: &InfluxQlOptions,
    ) -> Result<QueryOutput> {
        // A SELECT that the direct path answers from a few pieces runs right here: the
        // hand-off to the query runtime and back cost more than computing the answer (with
        // the blocking-pool page reads, 40% of single-groupby-1-1-1, BENCHMARKS.md). Anything
        // larger declines and runs there.
        if self.direct.enabled() && matches!(statement, tidemark_influxql::Statement::Select(_)) {
            let inline = influxql::Inline::new(self.inline_values);
            let (env, answered) = self.influxql_env(bucket, options, Some(inline.clone()));
            let attempt = self.runtime.here(influxql::execute(env, statement)).await;
            if !inline.declined() {
                self.direct.answered(answered.get());
                self.inline_answers.fetch_add(1, Ordering::Relaxed);
                return attempt.map(QueryOutput::from_batch);
            }
        }
        let (env, answered) = self.influxql_env(bucket, options, None);
        let statement = statement.clone();
        let batch = self
            .runtime
            .run(async move { influxql::execute(env, &statement).await })
            .await?;
        self.direct.answered(answered.get());
        Ok(QueryOutput::from_batch(batch))
    }

    /// What an InfluxQL statement over `bucket` runs against, and its count of measurement
    /// reads the direct path answered.
    fn influxql_env(
        &self,
        bucket: &Bucket,
        options: &InfluxQlOptions,
        inline: Option<influxql::Inline>,
    ) -> (influxql::Env, direct::Answered) {
        let answered = direct::Answered::default();
        let mut env = influxql::Env::new(
            self.session_maker(bucket),
            &self.env.memory_pool,
            self.engine.tables(bucket.id),
            options.clone(),
        );
        env.inline = inline;
        env.direct = Some(influxql::DirectSource {
            engine: Arc::clone(&self.engine),
            bucket: bucket.id,
            cache: Arc::clone(&self.direct),
            answered: answered.clone(),
        });
        (env, answered)
    }

    /// Every table the bucket's sessions can see, `information_schema` included.
    pub async fn tables(&self, bucket: &Bucket) -> Result<Vec<TableInfo>> {
        let ctx = self.context(bucket)?;
        self.runtime
            .run(async move {
                let mut out = Vec::new();
                for catalog_name in ctx.catalog_names() {
                    let Some(catalog) = ctx.catalog(&catalog_name) else {
                        continue;
                    };
                    // information_schema is not a schema of the catalog but a view over it
                    // that DataFusion resolves by name.
                    let mut names: Vec<(String, String)> = INFORMATION_SCHEMA_TABLES
                        .iter()
                        .map(|t| (INFORMATION_SCHEMA.to_owned(), (*t).to_owned()))
                        .collect();
                    for schema_name in catalog.schema_names() {
                        let Some(schema) = catalog.schema(&schema_name) else {
                            continue;
                        };
                        names.extend(
                            schema
                                .table_names()
                                .into_iter()
                                .map(|t| (schema_name.clone(), t)),
                        );
                    }
                    for (schema, name) in names {
                        let reference = TableReference::full(
                            catalog_name.as_str(),
                            schema.as_str(),
                            name.as_str(),
                        );
                        let table = ctx.table_provider(reference).await?;
                        out.push(TableInfo {
                            catalog: catalog_name.clone(),
                            schema,
                            name,
                            table_type: table_type_name(table.table_type()).to_owned(),
                            arrow_schema: table.schema(),
                        });
                    }
                }
                out.sort_by(|a, b| {
                    (&a.catalog, &a.schema, &a.name).cmp(&(&b.catalog, &b.schema, &b.name))
                });
                Ok(out)
            })
            .await
    }
}

/// The names `information_schema.tables` uses.
fn table_type_name(t: TableType) -> &'static str {
    match t {
        TableType::Base => "BASE TABLE",
        TableType::View => "VIEW",
        TableType::Temporary => "LOCAL TEMPORARY",
    }
}

fn session_config(config: &QueryConfig) -> SessionConfig {
    let mut session = SessionConfig::new()
        .with_default_catalog_and_schema(catalog::CATALOG, catalog::SCHEMA)
        .with_information_schema(true)
        .with_target_partitions(config.target_partitions.max(1));
    let options = session.options_mut();
    // Decode filters inside the Parquet reader, skipping rows before materialising them.
    options.execution.parquet.pushdown_filters = true;
    options.execution.parquet.reorder_filters = true;
    // Plain Utf8 everywhere: the table schemas use it, and not every Flight client reads views.
    options.execution.parquet.schema_force_view_types = false;
    options.sql_parser.map_string_types_to_utf8view = false;
    session
}

/// Parses and plans `sql`, refusing anything that would change state (DDL such as
/// `CREATE EXTERNAL TABLE`, which could read server files, DML such as `COPY`, and `SET`).
async fn plan(ctx: &SessionContext, sql: &str) -> Result<DataFrame> {
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    Ok(ctx.sql_with_options(sql, options).await?)
}

fn bind(df: DataFrame, params: &Params) -> Result<DataFrame> {
    if params.is_empty() {
        return Ok(df);
    }
    let values: HashMap<String, ScalarValue> = params
        .iter()
        .map(|(k, v)| (k.clone(), v.scalar()))
        .collect();
    Ok(df.with_param_values(ParamValues::from(values))?)
}
