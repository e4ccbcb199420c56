//! The streamed merge, and cold partitions: once a (table, day) partition has taken no writes for
//! [`CompactConfig::cold`](super::CompactConfig), its files are rewritten as one, as InfluxDB
//! fully compacts a shard that went cold.
//!
//! Persistence and compaction leave a day in files of at most about two million rows (memory
//! bounds them; a split's are about one million), so at a thousand series each file holds
//! under two thousand rows of a series. Every series change costs the delta pages of each
//! integer column a wide miniblock, and one file per day has the fewest: on a 1,000-host TSBS
//! day, five files take 0.314 bytes per value and one 0.296 (BENCHMARKS.md).
//!
//! Overlapping files are rewritten too (the direct read path, which needs every point in one
//! file, is off for a day that has them): runs always take such a set whole (`cold_runs`).
//! Compaction sends an overlapping set too large to merge in memory through the same merge
//! at once, with cuts that split its output by time (`merge_sorted`).
//!
//! The rewrite is a stream, never the whole partition in memory. The files are read a batch at
//! a time; each round takes, from every file whose next series sorts first, that series' rows
//! up to the earliest of those files' last times in their current batches. Unread rows of the
//! series are all later than that, so a round's rows can be written before the next. Where
//! only one file has rows in a round (files of a day that do not overlap: nearly always) they
//! are written as they are; where several have, they are merged point by point as compaction
//! merges them (`sort_dedupe`: fields merge, the newest value wins). Row groups are written as
//! they fill, the outputs' together. Memory is the inputs' bytes, about one row group of rows,
//! and the outputs' bytes.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::SortOptions;
use arrow::datatypes::{SchemaRef, TimestampNanosecondType};
use arrow::row::{Row, RowConverter, Rows, SortField};
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStoreExt;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use parquet::file::properties::WriterProperties;
use tidemark_catalog::{Id, ParquetFile};

use super::compact::{by_day, components, next_level, object_bytes};
use super::delta_pages::FileEncoder;
use super::persist::{writer_properties, IntegerEncoding};
use super::{Engine, State};
use crate::dedupe::sort_dedupe;
use crate::error::{Error, Result};
use crate::read::widen;
use crate::schema::TIME_COLUMN;

/// Rows decoded from an input file at a time (in tests, fewer than a series has, so that
/// series runs cross batches).
const READ_BATCH_ROWS: usize = if cfg!(test) { 64 } else { 8192 };

/// The runs of one partition's files a cold rewrite merges: maximal runs of adjacent
/// components (files connected by overlapping times, taken whole so that no file outside a run
/// overlaps one inside it), cut where their objects would pass `max_bytes` together, of two
/// files or more, oldest file first. A component larger than `max_bytes` on its own is left as
/// it is.
pub(super) fn cold_runs(files: Vec<ParquetFile>, max_bytes: u64) -> Vec<Vec<ParquetFile>> {
    let mut out = Vec::new();
    let mut run: Vec<ParquetFile> = Vec::new();
    let mut run_bytes = 0u64;
    let mut flush = |run: &mut Vec<ParquetFile>| {
        if run.len() >= 2 {
            let mut run = std::mem::take(run);
            run.sort_by_key(|f| (f.created_at, f.id));
            out.push(run);
        }
        run.clear();
    };
    for component in components(files) {
        let bytes = object_bytes(&component);
        if bytes > max_bytes {
            flush(&mut run);
            run_bytes = 0;
            continue;
        }
        if run_bytes + bytes > max_bytes {
            flush(&mut run);
            run_bytes = 0;
        }
        run_bytes += bytes;
        run.extend(component);
    }
    flush(&mut run);
    out
}

/// (bucket, table id, day) of every partition the buffer holds rows of: those are not cold.
fn buffered_partitions(state: &State) -> HashSet<(Id, Id, i32)> {
    let mut out = HashSet::new();
    for buffers in [state.frozen.as_ref(), Some(&state.active)]
        .into_iter()
        .flatten()
    {
        for ((bucket, _), table) in buffers {
            for (day, partition) in &table.partitions {
                if partition.rows() > 0 {
                    out.insert((*bucket, table.schema.table_id, *day));
                }
            }
        }
    }
    out
}

impl Engine {
    /// Cold runs to rewrite: (bucket, table, day, files oldest first). A partition is cold
    /// when the buffer holds none of its rows and its newest file was written at least
    /// `cold` before `now` (nanoseconds); `now = i64::MAX` counts every quiet partition as cold.
    pub(super) fn cold_candidates(&self, now: i64) -> Vec<(Id, Id, i32, Vec<ParquetFile>)> {
        let cfg = self.config.compact;
        let cold_ns = i64::try_from(cfg.cold.as_nanos()).unwrap_or(i64::MAX);
        let written_before = now.saturating_sub(cold_ns);
        let state = self.state();
        let buffered = buffered_partitions(&state);
        let mut out = Vec::new();
        for ((bucket, table), files) in &state.files {
            for (day, group) in by_day(files) {
                if buffered.contains(&(*bucket, *table, day))
                    || group.iter().any(|f| f.created_at > written_before)
                {
                    continue;
                }
                for run in cold_runs(group, cfg.cold_max_bytes) {
                    out.push((*bucket, *table, day, run));
                }
            }
        }
        out
    }

    /// Rewrites a run of files through the streamed merge, as up to `outputs` files of about as
    /// many rows each, cut by time (`time_cuts`); `None` when the table is gone or the catalog
    /// no longer has every file of the run. Returns the rows written.
    pub(super) async fn rewrite_streamed(
        &self,
        bucket: Id,
        table_id: Id,
        day: i32,
        files: &[ParquetFile],
        outputs: usize,
    ) -> Result<Option<usize>> {
        let Some(schema) = self.schema_by_id(bucket, table_id) else {
            return Ok(None);
        };
        let arrow = Arc::clone(schema.arrow_schema());
        let key: Vec<String> = schema.sort_key().into_iter().map(str::to_owned).collect();
        let mut inputs = Vec::with_capacity(files.len());
        for f in files {
            inputs.push(
                self.store
                    .get(&ObjectPath::from(f.path.as_str()))
                    .await?
                    .bytes()
                    .await?,
            );
        }
        let expected: i64 = files.iter().map(|f| f.row_count).sum();
        let min_time = files.iter().map(|f| f.min_time).min().unwrap_or(0);
        let max_time = files.iter().map(|f| f.max_time).max().unwrap_or(0);
        let props = writer_properties(&arrow, IntegerEncoding::PERSIST)?;
        let merged = tokio::task::spawn_blocking(move || {
            let cuts = if outputs > 1 {
                time_cuts(&inputs, (min_time, max_time), outputs)?
            } else {
                Vec::new()
            };
            merge_sorted(inputs, &arrow, &key, props, &cuts)
        })
        .await
        .map_err(|e| Error::Internal(format!("streamed merge task: {e}")))??;
        let written: usize = merged.outputs.iter().map(|o| o.rows).sum();
        if i64::try_from(merged.rows_in).ok() != Some(expected)
            || merged.rows > merged.rows_in
            || written != merged.rows
        {
            return Err(Error::Internal(format!(
                "streamed merge read {} rows from files that hold {expected}, and wrote {} \
                 ({written} in its files)",
                merged.rows_in, merged.rows
            )));
        }
        tracing::debug!(
            files = files.len(),
            rows = merged.rows,
            outputs = merged.outputs.len(),
            peak_pending_rows = merged.peak_pending,
            "streamed merge"
        );
        let level = next_level(files);
        let mut new = Vec::with_capacity(merged.outputs.len());
        for output in merged.outputs.into_iter().filter(|o| o.rows > 0) {
            let uploaded = self
                .upload_encoded(
                    bucket,
                    table_id,
                    day,
                    output.bytes,
                    (output.rows, output.min_time, output.max_time),
                    level,
                )
                .await;
            match uploaded {
                Ok(file) => new.push(file),
                Err(e) => {
                    self.delete_objects(new.into_iter().map(|f| f.path).collect())
                        .await;
                    return Err(e);
                }
            }
        }
        Ok(self
            .swap_files(bucket, table_id, files, new)
            .await?
            .then_some(merged.rows))
    }
}

/// Buckets of the histogram `time_cuts` places cuts with: a cut falls within 1/4,096 of the
/// range of where the rows would divide exactly.
/// Rows within one bucket are never cut apart, so a set whose rows crowd into a few buckets
/// gets fewer, larger outputs.
const CUT_BUCKETS: usize = 4096;

/// The `outputs - 1` times that divide the rows of `files` (Parquet, every time within
/// `min..=max`) into `outputs` parts of about as many rows each; fewer when rows share too few
/// times. Counted from the time columns themselves, decoded alone: rows are seldom spread
/// evenly over a file's range (a late file holds a few rows of the past and many of now).
pub(super) fn time_cuts(
    files: &[Bytes],
    (min, max): (i64, i64),
    outputs: usize,
) -> Result<Vec<i64>> {
    let span = i128::from(max) - i128::from(min) + 1;
    let buckets = CUT_BUCKETS as i128;
    let mut counts = vec![0u64; CUT_BUCKETS];
    let mut total = 0u64;
    for bytes in files {
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes.clone())?;
        let time = builder
            .parquet_schema()
            .columns()
            .iter()
            .position(|c| c.name() == TIME_COLUMN)
            .ok_or_else(|| Error::Internal("streamed merge: a file has no time column".into()))?;
        let mask = ProjectionMask::leaves(builder.parquet_schema(), [time]);
        for batch in builder.with_projection(mask).build()? {
            for &t in times_of(&batch?, 0)? {
                let b = (i128::from(t) - i128::from(min)) * buckets / span;
                counts[usize::try_from(b.clamp(0, buckets - 1)).unwrap_or(0)] += 1;
                total += 1;
            }
        }
    }
    let n = outputs.max(1) as u64;
    let mut cuts = Vec::with_capacity(outputs.saturating_sub(1));
    let (mut seen, mut k) = (0u64, 1u64);
    for (b, &count) in counts.iter().enumerate() {
        seen += count;
        // Where the k-th share of the rows is reached: the start of the next bucket.
        while k < n && seen * n >= total * k {
            let next = i128::try_from(b + 1).unwrap_or(buckets);
            let at = i128::from(min) + (span * next + buckets - 1) / buckets;
            cuts.extend(i64::try_from(at).ok());
            k += 1;
        }
    }
    cuts.dedup();
    cuts.retain(|&c| c > min && c <= max);
    Ok(cuts)
}

/// What one merge wrote: a file per time range, and the rows read and written.
struct Merged {
    /// One per range of the merge's cuts, in time order; some may hold no rows.
    outputs: Vec<Output>,
    /// Rows read from the inputs, and rows written: fewer when files shared points.
    rows_in: usize,
    rows: usize,
    /// The most rows held at once for the outputs' next row groups.
    peak_pending: usize,
}

/// One merged file, encoded, with the rows it holds and their times.
struct Output {
    bytes: Vec<u8>,
    rows: usize,
    min_time: i64,
    max_time: i64,
}

/// One input file read a batch at a time, with the series keys of the current batch.
struct Input {
    reader: ParquetRecordBatchReader,
    /// The current batch and its rows' series keys; `None` once the file is read.
    current: Option<(RecordBatch, Rows)>,
    /// The first row of `current` not yet taken.
    at: usize,
    /// `series_end` for `at`, once found: a file whose rows of a series are later than
    /// another's waits rounds with the same `at`, and a run is thousands of rows.
    end: Option<usize>,
}

impl Input {
    /// The end of the run of rows from `at` in the current batch that share `at`'s series.
    fn series_end(&mut self) -> usize {
        let Some((batch, keys)) = &self.current else {
            return self.at;
        };
        if let Some(end) = self.end {
            return end;
        }
        let series = keys.row(self.at);
        let mut end = self.at + 1;
        while end < batch.num_rows() && keys.row(end) == series {
            end += 1;
        }
        self.end = Some(end);
        end
    }

    /// The times of the current batch.
    fn times(&self, time: usize) -> Result<&[i64]> {
        let Some((batch, _)) = &self.current else {
            return Ok(&[]);
        };
        times_of(batch, time)
    }

    /// Takes rows `at..end` of the current batch, reading the next batch once this one is used.
    fn take(&mut self, end: usize, keyed: &Keyed) -> Result<Option<RecordBatch>> {
        let Some((batch, _)) = &self.current else {
            return Ok(None);
        };
        if end == self.at {
            return Ok(None);
        }
        let taken = batch.slice(self.at, end - self.at);
        self.at = end;
        self.end = None;
        if end == batch.num_rows() {
            self.current = keyed.next(&mut self.reader)?;
            self.at = 0;
        }
        Ok(Some(taken))
    }
}

/// The times of `batch`, whose column `time` is the time column.
fn times_of(batch: &RecordBatch, time: usize) -> Result<&[i64]> {
    batch
        .column(time)
        .as_primitive_opt::<TimestampNanosecondType>()
        .map(|t| t.values().as_ref())
        .ok_or_else(|| Error::Internal("streamed merge: time is not a timestamp".to_owned()))
}

/// Reads batches and gives each its series keys.
struct Keyed<'a> {
    schema: &'a SchemaRef,
    key_columns: Vec<usize>,
    converter: RowConverter,
}

impl Keyed<'_> {
    fn next(&self, reader: &mut ParquetRecordBatchReader) -> Result<Option<(RecordBatch, Rows)>> {
        for batch in reader.by_ref() {
            let batch = widen(&batch?, self.schema)?;
            if batch.num_rows() == 0 {
                continue;
            }
            let columns: Vec<_> = self
                .key_columns
                .iter()
                .map(|&i| Arc::clone(batch.column(i)))
                .collect();
            let rows = self.converter.convert_columns(&columns)?;
            return Ok(Some((batch, rows)));
        }
        Ok(None)
    }
}

/// Merges Parquet files sorted by (series, time), each free of duplicate points and given
/// oldest first, into files in `schema` (see the module doc): one per range of times that
/// `cuts` (ascending) divide the line into, the first from `i64::MIN` and the last to
/// `i64::MAX`. Every series' rows are sorted by time, so a round's run splits into ranges by
/// binary search and each file stays sorted by (series, time).
fn merge_sorted(
    files: Vec<Bytes>,
    schema: &SchemaRef,
    key: &[String],
    props: WriterProperties,
    cuts: &[i64],
) -> Result<Merged> {
    let key_columns = key
        .iter()
        .map(|name| {
            schema
                .index_of(name)
                .map_err(|_| Error::Internal(format!("sort key column {name} is not in the table")))
        })
        .collect::<Result<Vec<_>>>()?;
    let time = schema
        .index_of(TIME_COLUMN)
        .map_err(|_| Error::Internal("streamed merge: the table has no time column".to_owned()))?;
    let key_names: Vec<&str> = key.iter().map(String::as_str).collect();
    // The order persistence sorts series in: tag values as strings, a missing tag first.
    let fields = key_columns
        .iter()
        .map(|&i| {
            SortField::new_with_options(
                schema.field(i).data_type().clone(),
                SortOptions {
                    descending: false,
                    nulls_first: true,
                },
            )
        })
        .collect();
    let keyed = Keyed {
        schema,
        key_columns,
        converter: RowConverter::new(fields)?,
    };
    let mut inputs = Vec::with_capacity(files.len());
    for bytes in files {
        let mut reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?
            .with_batch_size(READ_BATCH_ROWS)
            .build()?;
        let current = keyed.next(&mut reader)?;
        inputs.push(Input {
            reader,
            current,
            at: 0,
            end: None,
        });
    }

    let mut sinks = Vec::with_capacity(cuts.len() + 1);
    for _ in 0..=cuts.len() {
        sinks.push(Sink::new(schema, props.clone())?);
    }
    let group_rows = sinks[0].out.rows_per_group();
    let (mut rows_in, mut rows, mut pending, mut peak_pending) = (0usize, 0usize, 0usize, 0usize);
    loop {
        // The inputs whose next series sorts first, oldest first.
        let holders: Vec<usize> = {
            let fronts: Vec<(usize, Row<'_>)> = inputs
                .iter()
                .enumerate()
                .filter_map(|(i, input)| Some((i, input.current.as_ref()?.1.row(input.at))))
                .collect();
            let Some(least) = fronts.iter().map(|(_, r)| *r).min() else {
                break;
            };
            fronts
                .iter()
                .filter(|(_, r)| *r == least)
                .map(|(i, _)| *i)
                .collect()
        };
        let ends: Vec<usize> = holders.iter().map(|&i| inputs[i].series_end()).collect();
        // Every holder's rows of the series up to the earliest of their batches' last times:
        // the rows still unread, in any file, are later than that. One holder's batch is used
        // up to its run's end, so each round makes progress.
        let mut bound = i64::MAX;
        for (&i, &end) in holders.iter().zip(&ends) {
            if let Some(&last) = inputs[i].times(time)?.get(end - 1) {
                bound = bound.min(last);
            }
        }
        let mut parts = Vec::with_capacity(holders.len());
        for (&i, &end) in holders.iter().zip(&ends) {
            let input = &mut inputs[i];
            let at = input.at;
            let cut = at + input.times(time)?[at..end].partition_point(|&t| t <= bound);
            if let Some(part) = input.take(cut, &keyed)? {
                rows_in += part.num_rows();
                parts.push(part);
            }
        }
        // Files overlap only where their parts here do: those are merged point by point.
        let run = match parts.len() {
            0 => {
                return Err(Error::Internal(
                    "streamed merge: a merge round took no rows".to_owned(),
                ))
            }
            1 => parts.remove(0),
            _ => sort_dedupe(schema, &key_names, &parts)?,
        };
        rows += run.num_rows();
        // The outputs share one budget: each pending slice holds its whole decoded batch, so
        // an output that fills slowly would otherwise keep many batches alive.
        if pending > 0 && pending + run.num_rows() > group_rows {
            for sink in &mut sinks {
                sink.flush()?;
            }
            pending = 0;
        }
        pending += run.num_rows();
        peak_pending = peak_pending.max(pending);
        let times = times_of(&run, time)?;
        let mut start = 0;
        for (k, sink) in sinks.iter_mut().enumerate() {
            let end = match cuts.get(k) {
                Some(&cut) => start + times[start..].partition_point(|&t| t < cut),
                None => times.len(),
            };
            if end > start {
                sink.push(run.slice(start, end - start), times[start], times[end - 1]);
            }
            start = end;
        }
    }
    let outputs = sinks
        .into_iter()
        .map(Sink::finish)
        .collect::<Result<Vec<_>>>()?;
    Ok(Merged {
        outputs,
        rows_in,
        rows,
        peak_pending,
    })
}

/// One output of a merge: its encoder and the series runs waiting for its next row group.
struct Sink {
    out: FileEncoder<Vec<u8>>,
    pending: Vec<RecordBatch>,
    rows: usize,
    min_time: i64,
    max_time: i64,
}

impl Sink {
    fn new(schema: &SchemaRef, props: WriterProperties) -> Result<Self> {
        Ok(Self {
            out: FileEncoder::new(Arc::clone(schema), props, Vec::new())?,
            pending: Vec::new(),
            rows: 0,
            min_time: i64::MAX,
            max_time: i64::MIN,
        })
    }

    /// Adds a series run whose times go from `first` to `last`.
    fn push(&mut self, run: RecordBatch, first: i64, last: i64) {
        self.rows += run.num_rows();
        self.min_time = self.min_time.min(first);
        self.max_time = self.max_time.max(last);
        self.pending.push(run);
    }

    /// Writes the pending runs as one row group.
    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = &self.pending;
        self.out.write_group(|c| {
            let parts: Vec<&dyn Array> = pending.iter().map(|b| b.column(c).as_ref()).collect();
            Ok(arrow::compute::concat(&parts)?)
        })?;
        self.pending.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<Output> {
        self.flush()?;
        Ok(Output {
            bytes: self.out.finish()?,
            rows: self.rows,
            min_time: self.min_time,
            max_time: self.max_time,
        })
    }
}

#[cfg(test)]
mod tests;
