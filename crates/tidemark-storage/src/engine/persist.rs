//! Persistence: the buffer becomes Parquet files on the object store, registered in the
//! catalog, after which the WAL segments it came from are released.
//!
//! Order matters for durability: cut the WAL and freeze the buffer together (under the write
//! gate), write and upload every file, register them all in one catalog transaction, make them
//! visible and drop the frozen buffer together (under the state lock), and only then checkpoint
//! the WAL. A crash at any point leaves every acknowledged row in the WAL or in a registered file
//! (or both: replaying rows already persisted is harmless, duplicates merge).

use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use tidemark_catalog::{Id, NewParquetFile};

use super::{Buffers, Engine};
use crate::dedupe::sort_dedupe;
use crate::error::{Error, Result};
use crate::schema::TIME_COLUMN;

#[derive(Debug, Clone, Copy)]
pub struct PersistConfig {
    /// Persist when the buffer holds about this many bytes.
    pub max_buffer_bytes: usize,
    /// Persist when the oldest buffered row is this old.
    pub max_age: Duration,
    /// How often the background task looks.
    pub check_interval: Duration,
}

impl Default for PersistConfig {
    fn default() -> Self {
        Self {
            max_buffer_bytes: 256 * 1024 * 1024,
            max_age: Duration::from_secs(600),
            check_interval: Duration::from_secs(1),
        }
    }
}

/// What one persistence did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersistReport {
    pub files: usize,
    pub rows: usize,
    pub bytes: usize,
}

/// `yyyy-mm-dd` of a day number (days since 1970-01-01).
pub(crate) fn date_of_day(day: i32) -> String {
    let (y, m, d) = crate::buffer::civil_date(i64::from(day));
    format!("{y:04}-{m:02}-{d:02}")
}

/// How persistence writes Int64 and UInt64 fields (every other column is written one way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntegerEncoding {
    /// `DELTA_BINARY_PACKED` with nibble- or byte-aligned miniblocks and a fixed min_delta
    /// (`delta_pages`) where that compresses smaller than arrow-rs's bit-packed ones.
    pub byte_aligned: bool,
    /// The zstd level of these columns.
    pub zstd_level: i32,
}

impl IntegerEncoding {
    /// What persistence and compaction write. Level 1: on these pages zstd spends bits on short
    /// matches, which levels 2 to 12 do no better at (their files are 2 to 4% larger); only the
    /// optimal-parsing levels (15 and up) are smaller, by 3.5%, at 5 to 10 times the encode CPU
    /// (`persist/encode_parquet` bench on TSBS data).
    pub const PERSIST: Self = Self {
        byte_aligned: true,
        zstd_level: 1,
    };
    /// arrow-rs's own `DELTA_BINARY_PACKED` at the zstd level of the other columns: what
    /// persistence wrote before `PERSIST`, kept for the benches' comparison.
    pub const ARROW_RS: Self = Self {
        byte_aligned: false,
        zstd_level: 3,
    };
}

pub(super) fn writer_properties(
    schema: &arrow::datatypes::Schema,
    integers: IntegerEncoding,
) -> Result<WriterProperties> {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        // Sorted timestamps delta-encode to almost nothing; a dictionary would not help them.
        .set_column_dictionary_enabled(TIME_COLUMN.into(), false)
        .set_column_encoding(TIME_COLUMN.into(), Encoding::DELTA_BINARY_PACKED)
        .set_max_row_group_row_count(Some(1024 * 1024));
    // Rows are sorted by series then time, so an integer field is a run of slowly changing
    // values per series: its deltas pack into a few bits. On TSBS data arrow-rs's delta pages
    // halve a dictionary-encoded column (0.39 against 0.82 bytes per value), and the aligned
    // pages of `delta_pages` take that to 0.31 (BENCHMARKS.md).
    for field in schema.fields() {
        if matches!(
            field.data_type(),
            arrow::datatypes::DataType::Int64 | arrow::datatypes::DataType::UInt64
        ) {
            let name = field.name().as_str();
            builder = builder
                .set_column_dictionary_enabled(name.into(), false)
                .set_column_encoding(name.into(), Encoding::DELTA_BINARY_PACKED)
                .set_column_compression(
                    name.into(),
                    Compression::ZSTD(ZstdLevel::try_new(integers.zstd_level)?),
                );
        }
    }
    Ok(builder.build())
}

/// Makes a file written under `root` durable: the file, then each directory up to `root`, so
/// that a new directory entry survives a power loss too.
fn sync_local_object(root: &std::path::Path, relative: &str) -> Result<()> {
    let io = |what: &std::path::Path| {
        let what = what.display().to_string();
        move |source| Error::Io {
            context: format!("fsync {what}"),
            source,
        }
    };
    let file = root.join(relative);
    std::fs::File::open(&file)
        .and_then(|f| f.sync_all())
        .map_err(io(&file))?;
    let mut dir = file.parent();
    while let Some(d) = dir {
        std::fs::File::open(d)
            .and_then(|f| f.sync_all())
            .map_err(io(d))?;
        if d == root {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

/// Encodes a sorted batch as one Parquet file, as persistence and compaction write it.
pub(crate) fn encode_parquet(batch: &arrow::array::RecordBatch) -> Result<Vec<u8>> {
    encode_parquet_with(batch, IntegerEncoding::PERSIST)
}

/// [`encode_parquet`] with another encoding of integer fields (public for the benches).
pub fn encode_parquet_with(
    batch: &arrow::array::RecordBatch,
    integers: IntegerEncoding,
) -> Result<Vec<u8>> {
    let props = writer_properties(&batch.schema(), integers)?;
    if integers.byte_aligned {
        return super::delta_pages::encode(batch, props);
    }
    let mut buf = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(buf)
}

impl Engine {
    /// Whether the buffer is due for persistence.
    pub fn persist_due(&self) -> bool {
        let state = self.state();
        let cfg = self.config.persist;
        state.frozen.is_some()
            || state.active_bytes >= cfg.max_buffer_bytes
            || state
                .active_since
                .is_some_and(|t| t.elapsed() >= cfg.max_age)
    }

    /// Persists everything buffered now.
    pub async fn persist(&self) -> Result<PersistReport> {
        let _one = self.persisting.lock().await;
        // A frozen buffer left by a failed attempt goes first, with the WAL cut it was frozen
        // at: checkpointing a later cut would release records whose rows are only in the
        // active buffer.
        let existing_cut = self.state().frozen_cut;
        let last_seq = match existing_cut {
            Some(cut) => cut,
            None => {
                let _gate = self.gate.write().await;
                let cut = self.wal.rotate().await?;
                let mut state = self.state();
                let active = std::mem::take(&mut state.active);
                state.frozen = Some(active);
                state.frozen_cut = Some(cut);
                state.active_bytes = 0;
                state.active_since = None;
                cut
            }
        };
        let mut files = Vec::new();
        let mut report = PersistReport::default();
        let work = self.frozen_partitions()?;
        for (bucket, name, table_id, day, batches, sort_key) in work {
            let Some(schema) = self.schema_by_id(bucket, table_id) else {
                continue;
            };
            let sorted = sort_dedupe(
                schema.arrow_schema(),
                &sort_key.iter().map(String::as_str).collect::<Vec<_>>(),
                &batches,
            )?;
            drop(batches);
            if sorted.num_rows() == 0 {
                continue;
            }
            // Queries read the frozen rows until the file is registered: let them read the
            // sorted copy, so the unsorted one can go now rather than after the upload.
            self.replace_frozen(bucket, &name, day, &sorted);
            let file = self.upload(bucket, table_id, day, &sorted, 0).await?;
            report.files += 1;
            report.rows += sorted.num_rows();
            report.bytes += file.size_bytes as usize;
            files.push(file);
        }
        // Files of buckets deleted meanwhile are not registered (and their objects go).
        let mut gone = Vec::new();
        for bucket in files
            .iter()
            .map(|f| f.bucket_id)
            .collect::<std::collections::BTreeSet<_>>()
        {
            if self.catalog.get_bucket(bucket).await?.is_none() {
                gone.push(bucket);
            }
        }
        let (dropped, files): (Vec<_>, Vec<_>) =
            files.into_iter().partition(|f| gone.contains(&f.bucket_id));
        self.delete_objects(dropped.into_iter().map(|f| f.path).collect())
            .await;
        let registered = match self.catalog.add_parquet_files(&files).await {
            Ok(r) => r,
            Err(e) => {
                self.delete_objects(files.iter().map(|f| f.path.clone()).collect())
                    .await;
                return Err(Error::Catalog(e));
            }
        };
        {
            let mut state = self.state();
            for f in registered {
                state
                    .files
                    .entry((f.bucket_id, f.table_id))
                    .or_default()
                    .push(f);
            }
            state.frozen = None;
            state.frozen_cut = None;
        }
        self.added_files();
        self.wal.checkpoint(last_seq).await?;
        Ok(report)
    }

    /// Snapshots of every partition of the frozen buffer: (bucket, table name, table id, day,
    /// rows, sort key).
    #[allow(clippy::type_complexity)]
    fn frozen_partitions(
        &self,
    ) -> Result<
        Vec<(
            Id,
            String,
            Id,
            i32,
            Vec<arrow::array::RecordBatch>,
            Vec<String>,
        )>,
    > {
        let mut state = self.state();
        let mut out = Vec::new();
        let schemas = state.schemas.clone();
        let Some(frozen): Option<&mut Buffers> = state.frozen.as_mut() else {
            return Ok(out);
        };
        for ((bucket, name), table) in frozen.iter_mut() {
            let Some(schema) = schemas.get(&(*bucket, name.clone())) else {
                continue;
            };
            let sort_key: Vec<String> = schema.sort_key().into_iter().map(str::to_owned).collect();
            for (day, partition) in table.partitions.iter_mut() {
                if partition.rows() > 0 {
                    out.push((
                        *bucket,
                        name.clone(),
                        schema.table_id,
                        *day,
                        partition.snapshot(schema)?,
                        sort_key.clone(),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Replaces one frozen partition's rows by the same rows sorted and de-duplicated.
    fn replace_frozen(&self, bucket: Id, name: &str, day: i32, sorted: &arrow::array::RecordBatch) {
        let mut state = self.state();
        let partition = state
            .frozen
            .as_mut()
            .and_then(|f| f.get_mut(&(bucket, name.to_owned())))
            .and_then(|t| t.partitions.get_mut(&day));
        if let Some(p) = partition {
            p.replace(sorted.clone());
        }
    }

    pub(super) fn schema_by_id(
        &self,
        bucket: Id,
        table_id: Id,
    ) -> Option<Arc<crate::schema::TableSchema>> {
        self.state()
            .schemas
            .iter()
            .find(|((b, _), s)| *b == bucket && s.table_id == table_id)
            .map(|(_, s)| Arc::clone(s))
    }

    /// Writes one sorted batch as a Parquet object and describes it for the catalog.
    pub(crate) async fn upload(
        &self,
        bucket: Id,
        table_id: Id,
        day: i32,
        batch: &arrow::array::RecordBatch,
        level: i16,
    ) -> Result<NewParquetFile> {
        let (min_time, max_time) = crate::dedupe::time_range(batch)?;
        let bytes = encode_parquet(batch)?;
        self.upload_encoded(
            bucket,
            table_id,
            day,
            bytes,
            (batch.num_rows(), min_time, max_time),
            level,
        )
        .await
    }

    /// Stores an encoded Parquet file of `(rows, min_time, max_time)` durably and describes it
    /// for the catalog.
    pub(super) async fn upload_encoded(
        &self,
        bucket: Id,
        table_id: Id,
        day: i32,
        bytes: Vec<u8>,
        (rows, min_time, max_time): (usize, i64, i64),
        level: i16,
    ) -> Result<NewParquetFile> {
        let id = Id::random();
        let path = format!("{bucket}/{table_id}/{}/{id}.parquet", date_of_day(day));
        let size = bytes.len();
        self.store
            .put(&ObjectPath::from(path.as_str()), PutPayload::from(bytes))
            .await?;
        if let Some(root) = &self.config.local_object_root {
            let root = root.clone();
            let relative = path.clone();
            tokio::task::spawn_blocking(move || sync_local_object(&root, &relative))
                .await
                .map_err(|e| Error::Internal(format!("fsync task: {e}")))??;
        }
        Ok(NewParquetFile {
            id,
            bucket_id: bucket,
            table_id,
            partition_day: day,
            path,
            min_time,
            max_time,
            row_count: rows as i64,
            size_bytes: size as i64,
            level,
        })
    }

    pub(crate) async fn delete_objects(&self, paths: Vec<String>) {
        for path in paths {
            if let Err(e) = self.store.delete(&ObjectPath::from(path.as_str())).await {
                tracing::warn!(%path, error = %e, "could not delete an object; it is orphaned");
            }
        }
    }

    /// Persists when the buffer is due, compacts, and expires, in the background, until
    /// `shutdown` fires.
    pub fn spawn_persister(
        self: &Arc<Self>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(engine.config.persist.check_interval);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = shutdown.changed() => return,
                }
                if engine.persist_due() {
                    match engine.persist().await {
                        Ok(r) => tracing::info!(
                            files = r.files,
                            rows = r.rows,
                            bytes = r.bytes,
                            "persisted the buffer"
                        ),
                        Err(e) => {
                            tracing::error!(error = %e, "persisting the buffer failed; will retry")
                        }
                    }
                }
                match engine.compact().await {
                    Ok(r) if r.runs > 0 => tracing::info!(
                        runs = r.runs,
                        cold_runs = r.cold_runs,
                        splits = r.splits,
                        failed = r.failed,
                        files_in = r.files_in,
                        rows = r.rows_out,
                        "compacted"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "compaction failed; will retry"),
                }
                match engine.expire(super::now_nanos()).await {
                    Ok(n) if n > 0 => tracing::info!(files = n, "deleted expired files"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "retention failed; will retry"),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{DictionaryArray, Float64Array, Int64Array, RecordBatch, UInt64Array};
    use arrow::datatypes::{DataType, Field, Int32Type, Schema};
    use parquet::basic::Encoding;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    use super::{date_of_day, encode_parquet};

    /// Integer fields are delta-encoded, tags stay dictionary-encoded, floats keep the default.
    #[test]
    fn encodings_by_column_type() {
        let schema = Schema::new(vec![
            Field::new(
                "host",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
            Field::new("i", DataType::Int64, true),
            Field::new("u", DataType::UInt64, true),
            Field::new("f", DataType::Float64, true),
        ]);
        let n = 1000;
        let host: DictionaryArray<Int32Type> =
            (0..n).map(|i| if i < 500 { "a" } else { "b" }).collect();
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(host),
                Arc::new(Int64Array::from_iter_values(
                    (0..n).map(|i| i64::from(i % 7)),
                )),
                Arc::new(UInt64Array::from_iter_values(
                    (0..n).map(|i| u64::from(i as u32)),
                )),
                Arc::new(Float64Array::from_iter_values((0..n).map(f64::from))),
            ],
        )
        .unwrap();
        let bytes = bytes::Bytes::from(encode_parquet(&batch).unwrap());
        let reader = SerializedFileReader::new(bytes).unwrap();
        let rg = reader.metadata().row_group(0);
        let encodings = |i: usize| rg.column(i).encodings().collect::<Vec<_>>();
        assert!(
            encodings(0).contains(&Encoding::RLE_DICTIONARY),
            "{:?}",
            encodings(0)
        );
        for i in [1, 2] {
            assert!(
                encodings(i).contains(&Encoding::DELTA_BINARY_PACKED),
                "{:?}",
                encodings(i)
            );
            assert!(
                !encodings(i).contains(&Encoding::RLE_DICTIONARY),
                "{:?}",
                encodings(i)
            );
        }
        assert!(
            encodings(3).contains(&Encoding::RLE_DICTIONARY),
            "{:?}",
            encodings(3)
        );
    }

    #[test]
    fn dates() {
        assert_eq!(date_of_day(0), "1970-01-01");
        assert_eq!(date_of_day(-1), "1969-12-31");
        assert_eq!(date_of_day(19_723), "2024-01-01");
        assert_eq!(date_of_day(11_016), "2000-02-29");
    }
}
