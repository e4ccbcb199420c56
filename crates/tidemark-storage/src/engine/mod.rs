//! The engine: one per server. It owns the WAL, the buffer, the schema cache and the list of
//! persisted files, and answers writes and the queries' requests for table data.

mod apply;
mod cold;
mod compact;
mod delta_pages;
mod persist;
mod validate;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use object_store::ObjectStore;
use tidemark_catalog::{Bucket, BucketFilter, Catalog, Id, ParquetFile, SchemaLimits};
use tidemark_lp::{LineError, Precision};

use crate::buffer::{Partition, TableBuffer};
use crate::error::{Error, Result};
use crate::schema::TableSchema;
use crate::wal::{Wal, WalConfig};

pub use compact::{CompactConfig, CompactReport};
pub use persist::{encode_parquet_with, IntegerEncoding, PersistConfig, PersistReport};

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub wal: WalConfig,
    pub limits: SchemaLimits,
    pub persist: PersistConfig,
    pub compact: CompactConfig,
    /// The directory behind a local-file object store. object_store's `LocalFileSystem` never
    /// fsyncs, so the engine does, for each file it writes, before the WAL that file replaces
    /// is released.
    pub local_object_root: Option<std::path::PathBuf>,
}

/// One write request, already authorised and resolved to a bucket.
#[derive(Debug, Clone, Copy)]
pub struct WriteRequest<'a> {
    pub bucket: &'a Bucket,
    pub body: &'a [u8],
    /// `None` infers each timestamp's unit from its magnitude (InfluxDB 3 Core's `auto`).
    pub precision: Option<Precision>,
    /// The time given to lines without a timestamp (nanoseconds).
    pub now: i64,
    /// When false, one bad line refuses the whole request.
    pub accept_partial: bool,
    /// When false, the acknowledgement does not wait for the fsync (`no_sync`).
    pub sync: bool,
}

/// What happened to a write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Lines written.
    pub lines_written: usize,
    /// Refused lines, in line order; at most [`MAX_LINE_ERRORS`] of them.
    pub errors: Vec<LineError>,
    /// Every refused line, counted even past the cap.
    pub rejected: usize,
    /// The original text of each refused line kept in `errors` (same order).
    pub error_lines: Vec<String>,
}

fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// How many line errors one answer lists, as InfluxDB.
pub const MAX_LINE_ERRORS: usize = 100;

/// Buffered rows, by (bucket, table name).
type Buffers = HashMap<(Id, String), TableBuffer>;

#[derive(Debug, Default)]
struct State {
    schemas: HashMap<(Id, String), Arc<TableSchema>>,
    active: Buffers,
    active_bytes: usize,
    /// When the oldest row of `active` arrived.
    active_since: Option<Instant>,
    /// A buffer being persisted: queries still read it until its files are registered.
    frozen: Option<Buffers>,
    /// The WAL sequence the frozen buffer was cut at: every record up to it is in `frozen` (or
    /// was persisted before).
    frozen_cut: Option<u64>,
    /// Persisted files by (bucket, table id).
    files: HashMap<(Id, Id), Vec<ParquetFile>>,
    /// Retention in seconds by bucket (0 or absent: for ever).
    retention: HashMap<Id, i64>,
    /// Objects no longer registered, to delete once their grace period is over.
    pending_deletes: Vec<(Instant, String)>,
}

/// The data a query reads for one table.
#[derive(Debug)]
pub struct TableData {
    pub schema: Arc<TableSchema>,
    /// Rows older than this have expired under the bucket's retention: a scan must not return
    /// them (files and batches may still hold some).
    pub min_time: i64,
    /// Buffered rows, oldest first, in `schema`'s Arrow schema.
    pub batches: Vec<RecordBatch>,
    /// Persisted files whose time range meets the query's.
    pub files: Vec<ParquetFile>,
}

/// A table's persisted files in a time range, without its buffered rows: what
/// [`Engine::table_files`] gives a reader of files alone.
#[derive(Debug, Clone)]
pub struct TableFiles {
    /// As [`TableData::min_time`].
    pub min_time: i64,
    /// Persisted files whose time range meets the query's.
    pub files: Vec<ParquetFile>,
    /// Whether the buffer also holds rows of the table in the range (which are not in
    /// `files`).
    pub buffered: bool,
}

/// The write engine.
#[derive(Debug)]
pub struct Engine {
    catalog: Arc<dyn Catalog>,
    store: Arc<dyn ObjectStore>,
    wal: Wal,
    config: EngineConfig,
    /// Writers hold it shared from their WAL append until their rows are in the buffer; the
    /// persister holds it exclusively while it cuts the WAL and freezes the buffer, so that
    /// every record up to the cut is in the frozen buffer.
    gate: tokio::sync::RwLock<()>,
    /// One persistence at a time.
    persisting: tokio::sync::Mutex<()>,
    state: Mutex<State>,
    /// Counts the times files were added (persistence, compaction), for readers that prepare
    /// something per file ahead of queries.
    files_added: tokio::sync::watch::Sender<u64>,
}

/// What opening the engine found.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    pub wal: crate::wal::OpenReport,
    pub replayed_records: usize,
    pub replayed_rows: usize,
    pub took: Duration,
}

impl Engine {
    /// Loads the schema and file lists, opens the WAL and replays what is not persisted.
    pub async fn open(
        config: EngineConfig,
        catalog: Arc<dyn Catalog>,
        store: Arc<dyn ObjectStore>,
    ) -> Result<(Arc<Self>, OpenReport)> {
        let started = Instant::now();
        let mut state = State::default();
        for bucket in catalog.list_buckets(&BucketFilter::default()).await? {
            state.retention.insert(bucket.id, bucket.retention_seconds);
            for table in catalog.list_tables(bucket.id).await? {
                state.schemas.insert(
                    (bucket.id, table.name.clone()),
                    Arc::new(TableSchema::new(&table)),
                );
            }
            for file in catalog.list_parquet_files(bucket.id).await? {
                state
                    .files
                    .entry((file.bucket_id, file.table_id))
                    .or_default()
                    .push(file);
            }
        }
        let wal_config = config.wal.clone();
        let (wal, replay, wal_report) = tokio::task::spawn_blocking(move || Wal::open(wal_config))
            .await
            .map_err(|e| Error::Internal(format!("WAL open task: {e}")))??;
        let engine = Arc::new(Self {
            catalog,
            store,
            wal,
            config,
            gate: tokio::sync::RwLock::new(()),
            persisting: tokio::sync::Mutex::new(()),
            state: Mutex::new(state),
            files_added: tokio::sync::watch::Sender::new(0),
        });
        let mut report = OpenReport {
            wal: wal_report,
            ..Default::default()
        };
        for record in &replay {
            report.replayed_rows += engine.replay(&record.payload).await?;
            report.replayed_records += 1;
        }
        report.took = started.elapsed();
        Ok((engine, report))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(&self.store)
    }

    /// The directory behind the object store when it is local files.
    pub fn local_object_root(&self) -> Option<&std::path::Path> {
        self.config.local_object_root.as_deref()
    }

    /// The tables of a bucket, by name.
    pub fn tables(&self, bucket: Id) -> Vec<Arc<TableSchema>> {
        let state = self.state();
        let mut tables: Vec<Arc<TableSchema>> = state
            .schemas
            .iter()
            .filter(|((b, _), _)| *b == bucket)
            .map(|(_, s)| Arc::clone(s))
            .collect();
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        tables
    }

    pub fn table(&self, bucket: Id, name: &str) -> Option<Arc<TableSchema>> {
        self.state()
            .schemas
            .get(&(bucket, name.to_owned()))
            .cloned()
    }

    /// The rows a query over `[min, max]` (nanoseconds, inclusive) of one table must read.
    /// Expired rows (under the bucket's retention) are left out or flagged by `min_time`.
    pub fn table_data(
        &self,
        bucket: Id,
        name: &str,
        min: i64,
        max: i64,
    ) -> Result<Option<TableData>> {
        let mut batches = Vec::new();
        let files = self.table_parts(bucket, name, min, max, |schema, p| {
            batches.extend(p.snapshot(schema)?);
            Ok(())
        })?;
        Ok(files.map(|(schema, f)| TableData {
            min_time: f.min_time,
            schema,
            batches,
            files: f.files,
        }))
    }

    /// What [`Self::table_data`] gives, but of the buffer only whether it has rows in range:
    /// no buffered row is copied.
    pub fn table_files(
        &self,
        bucket: Id,
        name: &str,
        min: i64,
        max: i64,
    ) -> Result<Option<TableFiles>> {
        Ok(self
            .table_parts(bucket, name, min, max, |_, _| Ok(()))?
            .map(|(_, f)| f))
    }

    /// The table's files over `[min, max]` (after retention), calling `buffered` with each
    /// buffer partition that has rows in range.
    fn table_parts(
        &self,
        bucket: Id,
        name: &str,
        min: i64,
        max: i64,
        mut buffered: impl FnMut(&Arc<TableSchema>, &mut Partition) -> Result<()>,
    ) -> Result<Option<(Arc<TableSchema>, TableFiles)>> {
        let min_time = self
            .retention_cutoff(bucket, now_nanos())
            .unwrap_or(i64::MIN);
        let min = min.max(min_time);
        let mut state = self.state();
        let Some(schema) = state.schemas.get(&(bucket, name.to_owned())).cloned() else {
            return Ok(None);
        };
        let key = (bucket, name.to_owned());
        let mut any_buffered = false;
        let State { frozen, active, .. } = &mut *state;
        for buffers in [frozen.as_mut(), Some(active)].into_iter().flatten() {
            if let Some(t) = buffers.get_mut(&key) {
                for p in t.partitions.values_mut() {
                    if p.rows() > 0 && p.max_time >= min && p.min_time <= max {
                        any_buffered = true;
                        buffered(&schema, p)?;
                    }
                }
            }
        }
        let files = state
            .files
            .get(&(bucket, schema.table_id))
            .map(|files| {
                files
                    .iter()
                    .filter(|f| f.max_time >= min && f.min_time <= max)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some((
            schema,
            TableFiles {
                min_time,
                files,
                buffered: any_buffered,
            },
        )))
    }

    /// Every persisted file, the newest data first.
    pub fn files(&self) -> Vec<ParquetFile> {
        let mut files: Vec<ParquetFile> = self.state().files.values().flatten().cloned().collect();
        files.sort_by_key(|f| std::cmp::Reverse(f.max_time));
        files
    }

    /// Changes whenever files are added.
    pub fn watch_files(&self) -> tokio::sync::watch::Receiver<u64> {
        self.files_added.subscribe()
    }

    fn added_files(&self) {
        self.files_added.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Forgets a deleted bucket: its buffered rows, its schemas, and its files (objects too).
    /// Call after the catalog deleted the bucket (which removed its table and file records).
    pub async fn drop_bucket(&self, bucket: Id) -> Result<()> {
        let paths: Vec<String> = {
            let mut state = self.state();
            state.retention.remove(&bucket);
            state.schemas.retain(|(b, _), _| *b != bucket);
            state.active.retain(|(b, _), _| *b != bucket);
            if let Some(frozen) = state.frozen.as_mut() {
                frozen.retain(|(b, _), _| *b != bucket);
            }
            let mut paths = Vec::new();
            state.files.retain(|(b, _), files| {
                if *b == bucket {
                    paths.extend(files.iter().map(|f| f.path.clone()));
                }
                *b != bucket
            });
            paths
        };
        // Also whatever a crash left behind under the bucket's prefix.
        let prefix = object_store::path::Path::from(bucket.to_string());
        let listed: Vec<String> = {
            use futures::TryStreamExt;
            self.store
                .list(Some(&prefix))
                .map_ok(|m| m.location.to_string())
                .try_collect()
                .await?
        };
        self.delete_objects(paths.into_iter().chain(listed).collect())
            .await;
        Ok(())
    }

    /// Rows held in memory (active and being persisted), for metrics and tests.
    pub fn buffered_rows(&self) -> usize {
        let state = self.state();
        let frozen: usize = state
            .frozen
            .iter()
            .flat_map(|b| b.values())
            .map(TableBuffer::rows)
            .sum();
        frozen + state.active.values().map(TableBuffer::rows).sum::<usize>()
    }
}
