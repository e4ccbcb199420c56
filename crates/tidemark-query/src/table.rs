//! The table provider: one table of one bucket, as its buffered rows plus its Parquet files.
//!
//! A scan asks the engine for the chunks the filters' time range can touch, then splits them:
//! - chunks whose time ranges overlap another chunk, and every buffer chunk (a buffer may hold
//!   two writes of one point), go through a [`DedupeExec`] per group of overlapping chunks;
//! - every other file is read directly by one Parquet scan (the fast path: `count(*)` over a
//!   year of non-overlapping files never merges anything).
//!
//! Filters are `Inexact`: DataFusion re-applies them to what the scan returns, so the scan may
//! use them only to skip data. Below a merge, only filters on the series key (tags and time)
//! may skip rows: skipping a newer row because of a field value would resurrect an older one.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{new_null_array, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{Column, DFSchema, ScalarValue, Statistics};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::Operator;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::{col, lit, BinaryExpr};
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::filter::FilterExecBuilder;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};
use tidemark_catalog::{ColumnKind, Id, ParquetFile};
use tidemark_storage::schema::{TableSchema, TIME_COLUMN};
use tidemark_storage::Engine;

use crate::dedupe::DedupeExec;
use crate::error::external;
use crate::time_range::TimeRange;

/// One table of one bucket, as of the query's start.
#[derive(Debug)]
pub(crate) struct BucketTable {
    pub(crate) engine: Arc<Engine>,
    pub(crate) bucket_id: Id,
    /// The table's schema when the query started; later columns stay invisible to it.
    pub(crate) schema: Arc<TableSchema>,
    pub(crate) store_url: ObjectStoreUrl,
}

/// A piece of the table that is de-duplicated within itself or not at all.
#[derive(Debug)]
enum Chunk {
    File(ParquetFile),
    /// Buffered rows of one day, in the order they were written.
    Buffer(RecordBatch),
}

#[derive(Debug)]
struct Placed {
    min: i64,
    max: i64,
    /// Position in write order: a larger one holds newer writes.
    order: usize,
    chunk: Chunk,
}

#[async_trait]
impl TableProvider for BucketTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(self.schema.arrow_schema())
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let table_schema = self.schema();
        let projection: Vec<usize> = projection
            .cloned()
            .unwrap_or_else(|| (0..table_schema.fields().len()).collect());
        let output_schema = Arc::new(table_schema.project(&projection)?);
        let range = TimeRange::from_filters(filters);
        if range.is_empty() {
            return Ok(Arc::new(EmptyExec::new(output_schema)));
        }
        let Some(data) = self
            .engine
            .table_data(self.bucket_id, &self.schema.name, range.min, range.max)
            .map_err(external)?
        else {
            return Ok(Arc::new(EmptyExec::new(output_schema)));
        };
        let placed = place(&data.files, &data.batches, &table_schema)?;
        if placed.is_empty() {
            return Ok(Arc::new(EmptyExec::new(output_schema)));
        }

        // Rows past the bucket's retention may still sit in chunks that also hold live rows;
        // a filter on time hides them, so the scan must then read time.
        let time_index = table_schema.index_of(TIME_COLUMN)?;
        let cutoff = data.min_time;
        let expires = placed.iter().any(|p| p.min < cutoff).then_some(cutoff);
        let mut scan_columns = projection.clone();
        if expires.is_some() && !scan_columns.contains(&time_index) {
            scan_columns.push(time_index);
        }

        let mut inputs: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        let (direct, groups) = split(placed);
        if !direct.is_empty() {
            let predicate = self.predicate(state, filters, false)?;
            let limit = if filters.is_empty() && expires.is_none() {
                limit
            } else {
                None
            };
            let (groups, statistics) = self.direct_groups(&direct, state);
            inputs.push(self.parquet(
                state,
                groups,
                scan_columns.clone(),
                predicate,
                limit,
                Some(statistics),
            )?);
        }
        if !groups.is_empty() {
            let key_predicate = self.predicate(state, filters, true)?;
            for group in groups {
                inputs.push(self.merge(state, group, &scan_columns, key_predicate.clone())?);
            }
        }
        let mut plan = UnionExec::try_new(inputs)?;
        if let Some(cutoff) = expires {
            let time = col(TIME_COLUMN, &plan.schema())?;
            let kept: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(
                time,
                Operator::GtEq,
                lit(ScalarValue::TimestampNanosecond(Some(cutoff), None)),
            ));
            let filter = FilterExecBuilder::new(kept, plan)
                .apply_projection(Some((0..projection.len()).collect()))?
                .build()?;
            plan = Arc::new(filter);
        }
        Ok(plan)
    }
}

/// The chunks in write order: files by creation (a later file holds later writes), then the
/// buffer, which holds only writes made after every file was cut from it.
fn place(
    files: &[ParquetFile],
    batches: &[RecordBatch],
    schema: &SchemaRef,
) -> Result<Vec<Placed>> {
    let mut files: Vec<&ParquetFile> = files.iter().collect();
    files.sort_by_key(|f| (f.created_at, f.id));
    let mut placed = Vec::with_capacity(files.len() + batches.len());
    for f in files {
        placed.push(Placed {
            min: f.min_time,
            max: f.max_time,
            order: placed.len(),
            chunk: Chunk::File(f.clone()),
        });
    }
    for batch in batches.iter().filter(|b| b.num_rows() > 0) {
        let (min, max) = tidemark_storage::dedupe::time_range(batch).map_err(external)?;
        placed.push(Placed {
            min,
            max,
            order: placed.len(),
            chunk: Chunk::Buffer(align(batch, schema)?),
        });
    }
    Ok(placed)
}

/// Splits chunks into files read directly and groups that must be merged (each in write order).
fn split(mut placed: Vec<Placed>) -> (Vec<ParquetFile>, Vec<Vec<Placed>>) {
    placed.sort_by_key(|p| (p.min, p.order));
    let mut groups: Vec<Vec<Placed>> = Vec::new();
    let mut group_max = i64::MIN;
    for p in placed {
        match groups.last_mut() {
            Some(group) if p.min <= group_max => {
                group_max = group_max.max(p.max);
                group.push(p);
            }
            _ => {
                group_max = p.max;
                groups.push(vec![p]);
            }
        }
    }
    let mut direct = Vec::new();
    let mut merged = Vec::new();
    for mut group in groups {
        match group.as_slice() {
            [Placed {
                chunk: Chunk::File(_),
                ..
            }] => {
                if let Some(Placed {
                    chunk: Chunk::File(f),
                    ..
                }) = group.pop()
                {
                    direct.push(f);
                }
            }
            _ => {
                group.sort_by_key(|p| p.order);
                merged.push(group);
            }
        }
    }
    (direct, merged)
}

/// A buffer batch in the query's schema: a column added since the query started is dropped.
fn align(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) => Arc::clone(c),
            None => new_null_array(f.data_type(), batch.num_rows()),
        })
        .collect();
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

fn partitioned_file(f: &ParquetFile) -> PartitionedFile {
    PartitionedFile::new(f.path.clone(), u64::try_from(f.size_bytes).unwrap_or(0))
}

/// Column references without the table qualifier, so they resolve against the table's schema.
fn unqualified(expr: Expr) -> Result<Expr> {
    expr.transform(|e| {
        Ok(match e {
            Expr::Column(c) if c.relation.is_some() => {
                Transformed::yes(Expr::Column(Column::from_name(c.name)))
            }
            other => Transformed::no(other),
        })
    })
    .data()
}

impl BucketTable {
    fn is_key_column(&self, name: &str) -> bool {
        name == TIME_COLUMN || matches!(self.schema.column(name), Some((_, ColumnKind::Tag)))
    }

    /// The filters as one predicate for skipping row groups, pages and rows; with `key_only`,
    /// just those on tags and time (see the module doc).
    fn predicate(
        &self,
        state: &dyn Session,
        filters: &[Expr],
        key_only: bool,
    ) -> Result<Option<Arc<dyn PhysicalExpr>>> {
        let usable: Vec<Expr> = filters
            .iter()
            .filter(|f| !key_only || f.column_refs().iter().all(|c| self.is_key_column(&c.name)))
            .cloned()
            .map(unqualified)
            .collect::<Result<_>>()?;
        let Some(expr) = conjunction(usable) else {
            return Ok(None);
        };
        let df_schema = DFSchema::try_from(self.schema().as_ref().clone())?;
        Ok(Some(state.create_physical_expr(expr, &df_schema)?))
    }

    /// The files read directly, split into one group per target partition, with exact row
    /// counts: these files overlap nothing and were de-duplicated when written, so their rows
    /// are the table's rows and `count(*)` can be answered from the catalog's counts alone.
    fn direct_groups(
        &self,
        direct: &[ParquetFile],
        state: &dyn Session,
    ) -> (Vec<FileGroup>, Statistics) {
        let rows: HashMap<&str, i64> = direct
            .iter()
            .map(|f| (f.path.as_str(), f.row_count))
            .collect();
        let exact = |n: i64| {
            let mut s = Statistics::new_unknown(self.schema().as_ref());
            s.num_rows = Precision::Exact(usize::try_from(n).unwrap_or(0));
            s
        };
        let groups: Vec<FileGroup> = FileGroup::new(direct.iter().map(partitioned_file).collect())
            .split_files(state.config().target_partitions().max(1))
            .into_iter()
            .map(|g| {
                let n = g
                    .iter()
                    .map(|f| {
                        rows.get(f.object_meta.location.as_ref())
                            .copied()
                            .unwrap_or(0)
                    })
                    .sum();
                g.with_statistics(Arc::new(exact(n)))
            })
            .collect();
        (groups, exact(rows.values().sum()))
    }

    /// A Parquet scan of `groups` through the engine's object store.
    fn parquet(
        &self,
        state: &dyn Session,
        groups: Vec<FileGroup>,
        columns: Vec<usize>,
        predicate: Option<Arc<dyn PhysicalExpr>>,
        limit: Option<usize>,
        statistics: Option<Statistics>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let env = state.runtime_env();
        let store = env.object_store(&self.store_url)?;
        let reader =
            CachedParquetFileReaderFactory::new(store, env.cache_manager.get_file_metadata_cache());
        let mut source = ParquetSource::new(self.schema())
            .with_table_parquet_options(state.table_options().parquet.clone())
            .with_parquet_file_reader_factory(Arc::new(reader));
        if let Some(p) = predicate {
            source = source.with_predicate(p);
        }
        let mut config = FileScanConfigBuilder::new(self.store_url.clone(), Arc::new(source))
            .with_file_groups(groups)
            .with_projection_indices(Some(columns))?
            .with_limit(limit);
        if let Some(statistics) = statistics {
            config = config.with_statistics(statistics);
        }
        let config = config.build();
        Ok(DataSourceExec::from_data_source(config))
    }

    /// One group of overlapping chunks, merged. Each chunk reads the query's columns plus the
    /// series key, which the merge needs.
    fn merge(
        &self,
        state: &dyn Session,
        group: Vec<Placed>,
        columns: &[usize],
        key_predicate: Option<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let table_schema = self.schema();
        let mut needed: Vec<usize> = columns.to_vec();
        let mut sort_key = Vec::new();
        for name in self.schema.sort_key() {
            sort_key.push(name.to_owned());
            needed.push(table_schema.index_of(name)?);
        }
        needed.push(table_schema.index_of(TIME_COLUMN)?);
        let mut seen = HashSet::new();
        needed.retain(|i| seen.insert(*i));
        needed.sort_unstable();
        let input_schema = Arc::new(table_schema.project(&needed)?);
        let output = columns
            .iter()
            .map(|c| needed.iter().position(|n| n == c))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| {
                datafusion::error::DataFusionError::Internal("merge projection".to_owned())
            })?;

        let mut children: Vec<Arc<dyn ExecutionPlan>> = Vec::with_capacity(group.len());
        for p in group {
            children.push(match p.chunk {
                Chunk::File(f) => self.parquet(
                    state,
                    vec![FileGroup::new(vec![partitioned_file(&f)])],
                    needed.clone(),
                    key_predicate.clone(),
                    None,
                    None,
                )?,
                Chunk::Buffer(batch) => MemorySourceConfig::try_new_exec(
                    &[vec![batch]],
                    Arc::clone(&table_schema),
                    Some(needed.clone()),
                )?,
            });
        }
        Ok(Arc::new(DedupeExec::try_new(
            children,
            input_schema,
            sort_key,
            output,
        )?))
    }
}
