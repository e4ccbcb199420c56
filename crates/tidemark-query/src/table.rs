//! The table provider: one table of one bucket, as its buffered rows plus its Parquet files.
//!
//! A scan asks the engine for the chunks the filters' time range can touch, then splits them:
//! - a file that overlaps no other chunk is read directly, by one Parquet scan for all such
//!   files (the fast path: `count(*)` over a year of non-overlapping files merges nothing and
//!   is answered from the catalog's row counts);
//! - where chunks overlap, only the overlapping time windows are merged by a [`DedupeExec`];
//!   the rest of each file is read directly, restricted to the times no other chunk covers
//!   (files persisted one after another under concurrent writers overlap by a few seconds at
//!   their edges, and merging them whole would sort the table on every query);
//! - buffer chunks always go through the merge, whole: a buffer may hold two writes of one
//!   point.
//!
//! Filters are `Inexact`: DataFusion re-applies them to what the scan returns, so the scan may
//! use them only to skip data. Below a merge, only filters on the series key (tags and time)
//! may skip rows: skipping a newer row because of a field value would resurrect an older one.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
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
use tidemark_storage::schema::{align_batch, TableSchema, TIME_COLUMN};
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
        let Split {
            direct,
            parts,
            merges,
        } = split(placed);
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
        if !parts.is_empty() {
            let predicate = self.predicate(state, filters, false)?;
            for (file, ranges) in parts {
                inputs.push(self.file_part(
                    state,
                    &file,
                    &ranges,
                    &scan_columns,
                    predicate.clone(),
                )?);
            }
        }
        if !merges.is_empty() {
            let key_predicate = self.predicate(state, filters, true)?;
            for group in merges {
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
            chunk: Chunk::Buffer(align_batch(batch, schema)?),
        });
    }
    Ok(placed)
}

/// Inclusive time ranges.
type Ranges = Vec<(i64, i64)>;

/// How a scan reads its chunks (see the module doc).
#[derive(Debug, Default)]
struct Split {
    /// Files that overlap nothing: read whole, directly.
    direct: Vec<ParquetFile>,
    /// Files read directly at the times no other chunk covers.
    parts: Vec<(ParquetFile, Ranges)>,
    /// Groups merged, each in write order; a file in a group contributes only its rows at the
    /// given times (the overlap windows), a buffer chunk all of its rows.
    merges: Vec<Vec<(Placed, Option<Ranges>)>>,
}

fn split(mut placed: Vec<Placed>) -> Split {
    placed.sort_by_key(|p| (p.min, p.order));
    let mut components: Vec<Vec<Placed>> = Vec::new();
    let mut component_max = i64::MIN;
    for p in placed {
        match components.last_mut() {
            Some(component) if p.min <= component_max => {
                component_max = component_max.max(p.max);
                component.push(p);
            }
            _ => {
                component_max = p.max;
                components.push(vec![p]);
            }
        }
    }
    let mut out = Split::default();
    for mut component in components {
        if let [Placed {
            chunk: Chunk::File(_),
            ..
        }] = component.as_slice()
        {
            if let Some(Placed {
                chunk: Chunk::File(f),
                ..
            }) = component.pop()
            {
                out.direct.push(f);
            }
            continue;
        }
        let windows = overlap_windows(component.iter().map(|p| (p.min, p.max)));
        let mut group = Vec::new();
        for p in component {
            match &p.chunk {
                Chunk::Buffer(_) => group.push((p, None)),
                Chunk::File(f) => {
                    let outside = subtract((p.min, p.max), &windows);
                    if !outside.is_empty() {
                        out.parts.push((f.clone(), outside));
                    }
                    let inside = intersect((p.min, p.max), &windows);
                    if !inside.is_empty() {
                        group.push((p, Some(inside)));
                    }
                }
            }
        }
        if !group.is_empty() {
            group.sort_by_key(|(p, _)| p.order);
            out.merges.push(group);
        }
    }
    out
}

/// The times covered by at least two of `ranges` (inclusive), merged and in order.
fn overlap_windows(ranges: impl Iterator<Item = (i64, i64)>) -> Ranges {
    // Half-open [min, max + 1) in i128, so i64::MAX needs no special case; at one position,
    // ends sort before starts.
    let mut events: Vec<(i128, i32)> = Vec::new();
    for (min, max) in ranges {
        events.push((i128::from(min), 1));
        events.push((i128::from(max) + 1, -1));
    }
    events.sort_unstable();
    let mut out: Ranges = Vec::new();
    let mut coverage = 0;
    let mut start = 0i128;
    for (at, delta) in events {
        let before = coverage;
        coverage += delta;
        if before < 2 && coverage >= 2 {
            start = at;
        } else if before >= 2 && coverage < 2 && at > start {
            let (s, e) = (start as i64, (at - 1) as i64);
            match out.last_mut() {
                Some(last) if last.1.checked_add(1) == Some(s) => last.1 = e,
                _ => out.push((s, e)),
            }
        }
    }
    out
}

/// The parts of `range` outside `windows` (sorted, disjoint).
fn subtract(range: (i64, i64), windows: &[(i64, i64)]) -> Ranges {
    let mut out = Vec::new();
    let mut from = i128::from(range.0);
    let to = i128::from(range.1);
    for &(s, e) in windows {
        let (s, e) = (i128::from(s), i128::from(e));
        if e < from || s > to {
            continue;
        }
        if s > from {
            out.push((from as i64, (s - 1) as i64));
        }
        from = e + 1;
    }
    if from <= to {
        out.push((from as i64, to as i64));
    }
    out
}

/// The parts of `range` inside `windows` (sorted, disjoint).
fn intersect(range: (i64, i64), windows: &[(i64, i64)]) -> Ranges {
    windows
        .iter()
        .filter(|&&(s, e)| e >= range.0 && s <= range.1)
        .map(|&(s, e)| (s.max(range.0), e.min(range.1)))
        .collect()
}

/// `time` within one of `ranges`, over `schema`.
fn time_in(ranges: &[(i64, i64)], schema: &SchemaRef) -> Result<Arc<dyn PhysicalExpr>> {
    let ts = |v: i64| lit(ScalarValue::TimestampNanosecond(Some(v), None));
    let mut any: Option<Arc<dyn PhysicalExpr>> = None;
    for &(s, e) in ranges {
        let time = col(TIME_COLUMN, schema)?;
        let lower: Arc<dyn PhysicalExpr> =
            Arc::new(BinaryExpr::new(Arc::clone(&time), Operator::GtEq, ts(s)));
        let upper: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(time, Operator::LtEq, ts(e)));
        let both: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(lower, Operator::And, upper));
        any = Some(match any {
            None => both,
            Some(prev) => Arc::new(BinaryExpr::new(prev, Operator::Or, both)),
        });
    }
    any.ok_or_else(|| datafusion::error::DataFusionError::Internal("no time ranges".to_owned()))
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

    /// One file read directly at `ranges` of time only, with the query's `columns`.
    fn file_part(
        &self,
        state: &dyn Session,
        file: &ParquetFile,
        ranges: &[(i64, i64)],
        columns: &[usize],
        predicate: Option<Arc<dyn PhysicalExpr>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let table_schema = self.schema();
        let time_index = table_schema.index_of(TIME_COLUMN)?;
        let mut read = columns.to_vec();
        if !read.contains(&time_index) {
            read.push(time_index);
        }
        let keep_pruning = time_in(ranges, &table_schema)?;
        let predicate = Some(match predicate {
            Some(p) => {
                Arc::new(BinaryExpr::new(p, Operator::And, keep_pruning)) as Arc<dyn PhysicalExpr>
            }
            None => keep_pruning,
        });
        let scan = self.parquet(
            state,
            vec![FileGroup::new(vec![partitioned_file(file)])],
            read,
            predicate,
            None,
            None,
        )?;
        let keep = time_in(ranges, &scan.schema())?;
        Ok(Arc::new(
            FilterExecBuilder::new(keep, scan)
                .apply_projection(Some((0..columns.len()).collect()))?
                .build()?,
        ))
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
        group: Vec<(Placed, Option<Ranges>)>,
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
        for (p, ranges) in group {
            let child: Arc<dyn ExecutionPlan> = match p.chunk {
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
            };
            children.push(match ranges {
                Some(ranges) => {
                    let keep = time_in(&ranges, &child.schema())?;
                    Arc::new(FilterExecBuilder::new(keep, child).build()?)
                }
                None => child,
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

#[cfg(test)]
mod tests {
    use super::{intersect, overlap_windows, subtract};

    #[test]
    fn windows_are_where_two_ranges_meet() {
        assert_eq!(overlap_windows([(0, 10), (20, 30)].into_iter()), vec![]);
        assert_eq!(
            overlap_windows([(0, 10), (10, 30)].into_iter()),
            vec![(10, 10)]
        );
        assert_eq!(
            overlap_windows([(0, 10), (5, 30), (25, 40), (28, 29)].into_iter()),
            vec![(5, 10), (25, 30)]
        );
        // Adjacent windows merge; extreme times do not overflow.
        assert_eq!(
            overlap_windows(
                [
                    (0, 9),
                    (5, 20),
                    (10, 15),
                    (i64::MAX - 1, i64::MAX),
                    (i64::MAX, i64::MAX)
                ]
                .into_iter()
            ),
            vec![(5, 15), (i64::MAX, i64::MAX)]
        );
    }

    #[test]
    fn ranges_split_around_windows() {
        let w = [(5, 10), (25, 30)];
        assert_eq!(subtract((0, 40), &w), vec![(0, 4), (11, 24), (31, 40)]);
        assert_eq!(subtract((5, 10), &w), vec![]);
        assert_eq!(
            subtract((i64::MIN, i64::MAX), &[]),
            vec![(i64::MIN, i64::MAX)]
        );
        assert_eq!(intersect((0, 27), &w), vec![(5, 10), (25, 27)]);
        assert_eq!(intersect((11, 24), &w), vec![]);
    }
}
