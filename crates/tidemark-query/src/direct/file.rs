//! One persisted file as the direct reader sees it: its row groups, and its series index —
//! the runs of rows that share a series key, with their time ranges. Persistence sorts a
//! file by series key then time, so each series is one run of rows in time order.

use std::sync::Arc;

use bytes::{Buf, Bytes};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, DictionaryArray, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Int32Type, TimestampNanosecondType};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
};
use parquet::arrow::ProjectionMask;
use parquet::errors::ParquetError;
use parquet::file::metadata::PageIndexPolicy;
use parquet::file::reader::{ChunkReader, Length};
use tidemark_catalog::ParquetFile;

use super::objects::Objects;
use crate::error::{Error, Result};

/// A series key: the file's tag values in tag-name order (`None`: the series lacks the tag).
pub(crate) type SeriesKey = Arc<[Option<Arc<str>>]>;

/// The rows of one series in one file: `start..end`, times `min_time..=max_time`.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) key: SeriesKey,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) min_time: i64,
    pub(crate) max_time: i64,
}

/// A file's layout and series index, built once when a query first reads the file.
#[derive(Debug)]
pub(crate) struct FileIndex {
    pub(crate) file: ParquetFile,
    meta: ArrowReaderMetadata,
    /// The file's tag columns, sorted by name: the order of every [`SeriesKey`] here.
    pub(crate) tags: Vec<String>,
    /// The first row of each row group, then the file's row count.
    pub(crate) row_groups: Vec<usize>,
    pub(crate) runs: Vec<Run>,
    /// Whether each series is one run in time order, as persistence writes files. The direct
    /// path reads only such files (it binary-searches times within a run).
    pub(crate) sorted: bool,
    /// The time at every [`BLOCK`]th row of the file (rows 0, `BLOCK`, ...): where within a
    /// long run a time range starts and ends, to a block, without reading the run.
    marks: Vec<i64>,
}

/// Rows per block: a series' rows are read and cached a block at a time, so a query of an
/// hour of a day-long run (a file a cold day was rewritten into) reads a block or two of it.
/// A block is decoded whole, and a query over many series (8 hosts' 5 fields for an hour)
/// then walks memory no cache holds: 512-row blocks took that query from 3.1 to 2.2 ms
/// against 2,048-row ones (BENCHMARKS.md); 256 gained nothing more. Tests' series are short:
/// blocks of 8 rows cut them too.
pub(crate) const BLOCK: usize = if cfg!(test) { 8 } else { 512 };

/// Parts of a Parquet object fetched by byte range: what the sync reader needs to decode the
/// column chunks asked for, without reading the rest of the file.
struct Sparse {
    len: u64,
    parts: Vec<(u64, Bytes)>,
}

impl Sparse {
    fn find(&self, start: u64, len: Option<usize>) -> parquet::errors::Result<Bytes> {
        for (offset, bytes) in &self.parts {
            let end = offset + bytes.len() as u64;
            if start >= *offset && start < end {
                let s = usize::try_from(start - offset).unwrap_or(usize::MAX);
                let e = len.map_or(bytes.len(), |l| s.saturating_add(l));
                if e <= bytes.len() {
                    return Ok(bytes.slice(s..e));
                }
            }
        }
        Err(ParquetError::General(format!(
            "bytes at {start} were not fetched"
        )))
    }
}

impl Length for Sparse {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for Sparse {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(self.find(start, None)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.find(start, Some(length))
    }
}

fn is_tag(t: &DataType) -> bool {
    matches!(t, DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8)
}

impl FileIndex {
    /// Reads the file's footer, tag and time columns, and cuts the rows into runs.
    pub(crate) async fn load(objects: &Objects, file: &ParquetFile) -> Result<Self> {
        let bytes = objects.get(&file.path).await?;
        // With the page index, a row selection skips the pages it does not need.
        let meta = ArrowReaderMetadata::load(
            &bytes,
            ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional),
        )?;
        let schema = Arc::clone(meta.schema());
        let mut tags: Vec<(usize, String)> = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| is_tag(f.data_type()))
            .map(|(i, f)| (i, f.name().clone()))
            .collect();
        tags.sort_by(|a, b| a.1.cmp(&b.1));
        let time = schema
            .index_of(tidemark_storage::schema::TIME_COLUMN)
            .map_err(|_| Error::Internal(format!("{} has no time column", file.path)))?;
        let mut row_groups = vec![0usize];
        for rg in meta.metadata().row_groups() {
            let rows = usize::try_from(rg.num_rows()).unwrap_or(0);
            row_groups.push(row_groups.last().copied().unwrap_or(0) + rows);
        }
        let mut roots: Vec<usize> = tags.iter().map(|(i, _)| *i).collect();
        roots.push(time);
        let mask = ProjectionMask::roots(meta.metadata().file_metadata().schema_descr(), roots);
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(bytes, meta.clone())
            .with_projection(mask)
            .with_batch_size(64 * 1024)
            .build()?;
        let names: Vec<String> = tags.into_iter().map(|(_, n)| n).collect();
        // Batch by batch, so a large file's tag columns are never decoded whole.
        let mut runs = Vec::new();
        let mut at = 0;
        let mut sorted = true;
        let mut marks = Vec::new();
        for batch in reader {
            let batch = batch?;
            sorted &= cut_runs(&batch, &names, at, &mut runs)?;
            if let Some(time) = batch
                .column_by_name(tidemark_storage::schema::TIME_COLUMN)
                .and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>())
            {
                let first = at.next_multiple_of(BLOCK) - at;
                marks.extend(time.values().iter().skip(first).step_by(BLOCK));
            }
            at += batch.num_rows();
        }
        let distinct: std::collections::HashSet<&SeriesKey> = runs.iter().map(|r| &r.key).collect();
        sorted &= distinct.len() == runs.len();
        Ok(Self {
            file: file.clone(),
            meta,
            tags: names,
            row_groups,
            runs,
            sorted,
            marks,
        })
    }

    /// Whether rows `start..end` are exactly one run.
    pub(crate) fn is_run(&self, start: usize, end: usize) -> bool {
        let i = self.runs.partition_point(|r| r.start < start);
        self.runs
            .get(i)
            .is_some_and(|r| r.start == start && r.end == end)
    }

    /// The rows of `run` that can hold times within `[lo, hi]`: the whole run, or less by whole
    /// blocks (a range starts at the run's start or at a block boundary, so that its pieces
    /// are the whole run's). Needs the run in time order.
    pub(crate) fn rows_within(&self, run: &Run, lo: i64, hi: i64) -> (usize, usize) {
        if run.min_time >= lo && run.max_time <= hi {
            return (run.start, run.end);
        }
        // The block boundaries strictly inside the run, with the times at them.
        let first = run.start / BLOCK + 1;
        let last = run.end.div_ceil(BLOCK).min(self.marks.len());
        let inner = self.marks.get(first..last).unwrap_or_default();
        // Rows before a boundary whose time is below `lo` are all below it; rows from a
        // boundary whose time is above `hi` on are all above it.
        let below = inner.partition_point(|&t| t < lo);
        let start = match below {
            0 => run.start,
            k => (first + k - 1) * BLOCK,
        };
        let above = inner.partition_point(|&t| t <= hi);
        let end = if first + above < last {
            (first + above) * BLOCK
        } else {
            run.end
        };
        (start, end.max(start))
    }

    /// Where tag `name` sits in this file's series keys.
    pub(crate) fn tag_position(&self, name: &str) -> Option<usize> {
        self.tags.iter().position(|t| t == name)
    }

    /// Where column `name` is in the file's schema, if it has it.
    pub(crate) fn column_index(&self, name: &str) -> Option<usize> {
        self.meta.schema().index_of(name).ok()
    }

    /// The bytes of column `col` of row group `rg` (whose first file row is `first`) that rows
    /// `ranges` need: the dictionary page if any, and the data pages holding those rows,
    /// adjacent pages merged. A series is a few hundred rows of a page of thousands, so
    /// fetching the whole column chunk copied megabytes per query. Without an offset index,
    /// the whole chunk.
    fn page_ranges(
        &self,
        rg: usize,
        col: usize,
        first: usize,
        ranges: &[(usize, usize)],
    ) -> Vec<std::ops::Range<u64>> {
        let Some(chunk) = self
            .meta
            .metadata()
            .row_groups()
            .get(rg)
            .and_then(|g| g.columns().get(col))
        else {
            return Vec::new();
        };
        let whole = || {
            let (start, len) = chunk.byte_range();
            std::iter::once(start..start + len).collect()
        };
        let Some(pages) = self
            .meta
            .metadata()
            .offset_index()
            .and_then(|o| o.get(rg))
            .and_then(|g| g.get(col))
            .map(|o| o.page_locations())
            .filter(|p| !p.is_empty())
        else {
            return whole();
        };
        let as_u64 = |v: i64| u64::try_from(v).unwrap_or(0);
        let mut out: Vec<std::ops::Range<u64>> = Vec::new();
        let mut push = |r: std::ops::Range<u64>| match out.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ => out.push(r),
        };
        if let Some(dict) = chunk.dictionary_page_offset() {
            push(as_u64(dict)..as_u64(pages[0].offset));
        }
        for (i, page) in pages.iter().enumerate() {
            let start = first + usize::try_from(page.first_row_index).unwrap_or(0);
            let end = pages.get(i + 1).map_or(usize::MAX, |next| {
                first + usize::try_from(next.first_row_index).unwrap_or(0)
            });
            if ranges.iter().any(|&(s, e)| s < end && e > start) {
                let offset = as_u64(page.offset);
                push(offset..offset + u64::try_from(page.compressed_page_size).unwrap_or(0));
            }
        }
        out
    }

    /// The rows `ranges` (sorted, disjoint, within row group `rg`, as file rows) of the named
    /// columns (those the file has), one array per column with the ranges' rows in order. Only
    /// the columns' chunks are fetched, and only the pages holding those rows are decoded.
    pub(crate) async fn read_rows(
        &self,
        objects: &Objects,
        rg: usize,
        ranges: &[(usize, usize)],
        columns: &[&str],
    ) -> Result<Vec<(String, ArrayRef)>> {
        let schema = Arc::clone(self.meta.schema());
        let mut roots: Vec<usize> = columns
            .iter()
            .filter_map(|c| schema.index_of(c).ok())
            .collect();
        roots.sort_unstable();
        roots.dedup();
        if rg >= self.meta.metadata().num_row_groups() {
            return Ok(Vec::new());
        }
        let (first, end) = (
            self.row_groups.get(rg).copied().unwrap_or(0),
            self.row_groups.get(rg + 1).copied().unwrap_or(0),
        );
        // Flat schemas: a root column is the leaf of the same index.
        let byte_ranges: Vec<std::ops::Range<u64>> = roots
            .iter()
            .flat_map(|&i| self.page_ranges(rg, i, first, ranges))
            .collect();
        let parts = objects.get_ranges(&self.file.path, &byte_ranges).await?;
        let sparse = Sparse {
            len: u64::try_from(self.file.size_bytes).unwrap_or(0),
            parts: byte_ranges.iter().map(|r| r.start).zip(parts).collect(),
        };
        let mut selectors = Vec::new();
        let mut at = first;
        for &(s, e) in ranges {
            let (s, e) = (s.clamp(at, end), e.clamp(at, end));
            if s > at {
                selectors.push(RowSelector::skip(s - at));
            }
            if e > s {
                selectors.push(RowSelector::select(e - s));
            }
            at = e.max(at);
        }
        if end > at {
            selectors.push(RowSelector::skip(end - at));
        }
        let selected: usize = ranges.iter().map(|(s, e)| e.saturating_sub(*s)).sum();
        let mask =
            ProjectionMask::roots(self.meta.metadata().file_metadata().schema_descr(), roots);
        let batches = ParquetRecordBatchReaderBuilder::new_with_metadata(sparse, self.meta.clone())
            .with_projection(mask)
            .with_row_groups(vec![rg])
            .with_row_selection(RowSelection::from(selectors))
            .with_batch_size(selected.max(1))
            .build()?
            .collect::<std::result::Result<Vec<RecordBatch>, _>>()?;
        let Some(first) = batches.first() else {
            return Ok(Vec::new());
        };
        let batch = datafusion::arrow::compute::concat_batches(&first.schema(), &batches)?;
        Ok(batch
            .schema()
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, c)| (f.name().clone(), Arc::clone(c)))
            .collect())
    }
}

/// Extends `runs` (runs of rows with one series key) with `batch`, whose first row is row
/// `at` of the file; `tags` are the tag columns by name, and `time` is read too. False when a
/// run's times go backwards.
fn cut_runs(batch: &RecordBatch, tags: &[String], at: usize, runs: &mut Vec<Run>) -> Result<bool> {
    let cols: Vec<&DictionaryArray<Int32Type>> = tags
        .iter()
        .map(|t| {
            batch
                .column_by_name(t)
                .and_then(|c| c.as_any().downcast_ref::<DictionaryArray<Int32Type>>())
                .ok_or_else(|| Error::Internal(format!("tag {t} is not a dictionary")))
        })
        .collect::<Result<_>>()?;
    let values: Vec<&StringArray> = cols
        .iter()
        .map(|c| {
            c.values()
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| Error::Internal("tag values are not strings".to_owned()))
        })
        .collect::<Result<_>>()?;
    let time = batch
        .column_by_name(tidemark_storage::schema::TIME_COLUMN)
        .and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>())
        .ok_or_else(|| Error::Internal("time is not a timestamp".to_owned()))?
        .values();
    let key_at = |row: usize| -> SeriesKey {
        cols.iter()
            .zip(&values)
            .map(|(c, v)| {
                c.key(row)
                    .and_then(|k| (k < v.len()).then(|| Arc::from(v.value(k))))
            })
            .collect()
    };
    let n = batch.num_rows();
    if n == 0 {
        return Ok(true);
    }
    // Where a new series starts: column by column over the keys, in loops the compiler
    // vectorises (a row-by-row test of every tag was most of an index build). Within a batch
    // the dictionary is shared, so equal keys mean equal values.
    let mut starts = vec![false; n];
    for c in &cols {
        let keys = c.keys();
        let k = keys.values();
        match keys.nulls().filter(|n| n.null_count() > 0) {
            None => {
                for (s, w) in starts[1..].iter_mut().zip(k.windows(2)) {
                    *s |= w[0] != w[1];
                }
            }
            // A null's key is arbitrary: two nulls are the same value whatever their keys.
            Some(nulls) => {
                for (i, s) in starts.iter_mut().enumerate().skip(1) {
                    let (a, b) = (nulls.is_valid(i - 1), nulls.is_valid(i));
                    *s |= a != b || (b && k[i] != k[i - 1]);
                }
            }
        }
    }
    starts[0] = runs.last().is_none_or(|r| *r.key != *key_at(0));
    let mut sorted = true;
    for (s, w) in starts[1..].iter().zip(time.windows(2)) {
        sorted &= *s || w[1] > w[0];
    }
    let mut row = 0;
    while row < n {
        let end = starts[row + 1..]
            .iter()
            .position(|s| *s)
            .map_or(n, |p| row + 1 + p);
        let span = &time[row..end];
        let (lo, hi) = if sorted {
            (span[0], span[span.len() - 1])
        } else {
            (
                span.iter().copied().min().unwrap_or(i64::MAX),
                span.iter().copied().max().unwrap_or(i64::MIN),
            )
        };
        match runs.last_mut() {
            Some(r) if !starts[row] => {
                sorted &= lo > r.max_time;
                r.end = at + end;
                r.min_time = r.min_time.min(lo);
                r.max_time = r.max_time.max(hi);
            }
            _ => runs.push(Run {
                key: key_at(row),
                start: at + row,
                end: at + end,
                min_time: lo,
                max_time: hi,
            }),
        }
        row = end;
    }
    Ok(sorted)
}
