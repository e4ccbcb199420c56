//! Direct reads of persisted files, without DataFusion, for the small InfluxQL queries that
//! dashboards repeat (one host, one hour, one field): planning a DataFusion query and opening a
//! Parquet reader costs milliseconds, more than such a query's whole answer is worth.
//!
//! A [`DirectCache`] keeps, within a byte budget and least recently used first out:
//! - each file's series index ([`FileIndex`]): the rows of each series, with their time range,
//!   so that a tag predicate selects series without reading a row, and time bounds cut rows by
//!   binary search;
//! - decoded column pieces (one column of one series within one row group, decoded from the
//!   pages holding it), so a repeated query decodes nothing.
//!
//! The caller (`influxql/select/direct.rs`) decides when this path applies; everything here is
//! read-only and exact. Files are immutable, so cached entries never go stale: a file that
//! compaction replaced is simply no longer asked for, and ages out.

mod file;
mod objects;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use datafusion::arrow::array::{Array, ArrayRef};
use object_store::ObjectStore;

use objects::Objects;
use tidemark_catalog::{Id, ParquetFile};

use crate::error::Result;

pub(crate) use file::{FileIndex, Run, BLOCK};

/// The measurement reads one statement's direct path answered. They count in
/// [`DirectCache::answers`] only once the statement's answer stands: an attempt on the caller's
/// thread that declines is run again on the query runtime.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answered(Arc<std::sync::atomic::AtomicU64>);

impl Answered {
    pub(crate) fn add(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// How many file-set verdicts (`overlap_free`) are remembered.
const MAX_VERDICTS: usize = 256;

#[derive(Debug, Default)]
struct State {
    files: HashMap<Id, (Arc<FileIndex>, usize, u64)>,
    /// (file, piece's rows, column index in the file) → the piece, its bytes, last use.
    chunks: HashMap<(Id, PieceKey, usize), (ArrayRef, usize, u64)>,
    verdicts: HashMap<Vec<Id>, bool>,
    /// Bytes of every entry, and of the series indexes (`files`) alone.
    bytes: usize,
    index_bytes: usize,
    tick: u64,
}

impl State {
    /// Block `(start, end)` of row group `g` as a slice of its run's whole piece, when a query
    /// that read whole runs (lastpoint) cached that: blocks and whole runs are separate
    /// entries, and a time range should not decode again what is in memory.
    fn block_of_run(
        &mut self,
        index: &FileIndex,
        (start, end, g): (usize, usize, usize),
        column: usize,
        tick: u64,
    ) -> Option<ArrayRef> {
        let run = index
            .runs
            .get(index.runs.partition_point(|r| r.end <= start))?;
        let whole = (
            run.start.max(*index.row_groups.get(g)?),
            run.end.min(*index.row_groups.get(g + 1)?),
        );
        if whole == (start, end) || whole.0 > start || whole.1 < end {
            return None;
        }
        let entry = self.chunks.get_mut(&(index.file.id, whole, column))?;
        entry.2 = tick;
        Some(entry.0.slice(start - whole.0, end - start))
    }

    /// Drops the least recently used entries not used at `keep_tick` until within `budget`.
    fn evict(&mut self, budget: usize, keep_tick: u64) {
        if self.bytes <= budget {
            return;
        }
        enum Victim {
            File(Id),
            Chunk((Id, PieceKey, usize)),
        }
        let mut victims: Vec<(u64, usize, Victim)> = self
            .files
            .iter()
            .filter(|(_, e)| e.2 != keep_tick)
            .map(|(k, e)| (e.2, e.1, Victim::File(*k)))
            .chain(
                self.chunks
                    .iter()
                    .filter(|(_, e)| e.2 != keep_tick)
                    .map(|(k, e)| (e.2, e.1, Victim::Chunk(*k))),
            )
            .collect();
        victims.sort_by_key(|v| v.0);
        for (_, bytes, victim) in victims {
            if self.bytes <= budget {
                break;
            }
            match victim {
                Victim::File(id) => {
                    self.files.remove(&id);
                    self.index_bytes = self.index_bytes.saturating_sub(bytes);
                }
                Victim::Chunk(key) => {
                    self.chunks.remove(&key);
                }
            }
            self.bytes = self.bytes.saturating_sub(bytes);
        }
    }
}

/// Series indexes and decoded column pieces of persisted files (see the module docs).
#[derive(Debug)]
pub(crate) struct DirectCache {
    objects: Objects,
    budget: usize,
    state: Mutex<State>,
    answers: std::sync::atomic::AtomicU64,
}

/// The columns a query reads from one file: its index, and the pieces it asked for (a
/// piece is the rows of one series within one row group, keyed by its first file row).
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) index: Arc<FileIndex>,
    /// The columns asked for, with their index in the file.
    columns: Vec<(String, usize)>,
    /// (piece's rows, column index in the file) → the piece.
    chunks: HashMap<(PieceKey, usize), ArrayRef>,
}

/// A piece of a file: its first and end rows.
pub(crate) type PieceKey = (usize, usize);

/// File rows `start..end` cut at row-group boundaries, and at block boundaries unless they are
/// a whole run: (first row, end row, row group). A query that reads whole runs (lastpoint,
/// a day's aggregate) reads one piece per run and row group; one that [`FileIndex::rows_within`]
/// narrowed reads whole blocks, the same ones whichever range it asked for.
fn split(index: &FileIndex, start: usize, end: usize) -> Vec<(usize, usize, usize)> {
    let whole = index.is_run(start, end);
    let rg = &index.row_groups;
    let mut out = Vec::new();
    for g in 0..rg.len().saturating_sub(1) {
        let (s, e) = (rg[g].max(start), rg[g + 1].min(end));
        let mut at = s;
        while at < e {
            let next = if whole { e } else { (at / BLOCK + 1) * BLOCK };
            out.push((at, next.min(e), g));
            at = next;
        }
    }
    out
}

impl Loaded {
    /// The pieces of rows `start..end` (a run the load was asked for), each as (piece key,
    /// first row, end row) within the piece's arrays.
    pub(crate) fn pieces(&self, start: usize, end: usize) -> Vec<(PieceKey, usize, usize)> {
        split(&self.index, start, end)
            .into_iter()
            .map(|(s, e, _)| ((s, e), 0, e - s))
            .collect()
    }

    /// Column `name` of piece `key`; `None` when the file lacks the column.
    pub(crate) fn chunk(&self, key: PieceKey, name: &str) -> Option<&ArrayRef> {
        let (_, column) = self.columns.iter().find(|(n, _)| n == name)?;
        self.chunks.get(&(key, *column))
    }
}

/// A series identity that does not depend on which tags a file's schema has: the present
/// tags as `name=value` pairs in name order.
fn canonical_key(index: &FileIndex, run: &Run) -> String {
    let mut key = String::new();
    for (name, value) in index.tags.iter().zip(run.key.iter()) {
        if let Some(v) = value {
            key.push_str(name);
            key.push('=');
            key.push_str(v);
            key.push('\u{0}');
        }
    }
    key
}

impl DirectCache {
    /// A cache of at most `budget` bytes over `store`; 0 turns the direct path off.
    /// `local_root`: the directory behind `store` when it is local files.
    pub(crate) fn new(
        store: Arc<dyn ObjectStore>,
        local_root: Option<&std::path::Path>,
        budget: usize,
    ) -> Result<Self> {
        Ok(Self {
            objects: Objects::new(store, local_root)?,
            budget,
            state: Mutex::new(State::default()),
            answers: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub(crate) fn enabled(&self) -> bool {
        self.budget > 0
    }

    /// Counts `n` more measurement reads the direct path answered.
    pub(crate) fn answered(&self, n: u64) {
        self.answers
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many the direct path answered so far.
    pub(crate) fn answers(&self) -> u64 {
        self.answers.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The series index of each file, reading the ones not cached.
    pub(crate) async fn indexes(&self, files: &[ParquetFile]) -> Result<Vec<Arc<FileIndex>>> {
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            out.push(self.index(f).await?);
        }
        Ok(out)
    }

    /// The series index of each file when every one is cached.
    pub(crate) fn cached_indexes(&self, files: &[ParquetFile]) -> Option<Vec<Arc<FileIndex>>> {
        files.iter().map(|f| self.cached_index(f)).collect()
    }

    fn cached_index(&self, f: &ParquetFile) -> Option<Arc<FileIndex>> {
        let mut state = self.state();
        state.tick += 1;
        let tick = state.tick;
        state.files.get_mut(&f.id).map(|e| {
            e.2 = tick;
            Arc::clone(&e.0)
        })
    }

    async fn index(&self, f: &ParquetFile) -> Result<Arc<FileIndex>> {
        if let Some(index) = self.cached_index(f) {
            return Ok(index);
        }
        let index = Arc::new(FileIndex::load(&self.objects, f).await?);
        let bytes = index_bytes(&index);
        let mut state = self.state();
        state.tick += 1;
        let tick = state.tick;
        if let Some(old) = state.files.insert(f.id, (Arc::clone(&index), bytes, tick)) {
            state.bytes = state.bytes.saturating_sub(old.1);
            state.index_bytes = state.index_bytes.saturating_sub(old.1);
        }
        state.bytes += bytes;
        state.index_bytes += bytes;
        state.evict(self.budget, tick);
        Ok(index)
    }

    /// Builds the series indexes of `files` (newest data first) not cached yet, while indexes
    /// take at most a quarter of the budget: reading a file's tag columns takes tens of
    /// milliseconds, which the first query of a new file would otherwise wait for. A file that
    /// fails here (compaction may have removed it) is left to the query that needs it.
    pub(crate) async fn prewarm(&self, files: &[ParquetFile]) {
        for f in files {
            let (cached, indexed) = {
                let state = self.state();
                (state.files.contains_key(&f.id), state.index_bytes)
            };
            if indexed >= self.budget / 4 {
                return;
            }
            if !cached {
                if let Err(e) = self.index(f).await {
                    tracing::debug!(file = %f.path, error = %e, "series index not prepared");
                }
            }
        }
    }

    /// Bytes of every cached entry.
    #[cfg(test)]
    pub(crate) fn cached_bytes(&self) -> usize {
        self.state().bytes
    }

    /// The files whose series index is cached, and the bytes those indexes take as counted.
    #[cfg(test)]
    pub(crate) fn indexed(&self) -> (Vec<Id>, usize, usize) {
        let state = self.state();
        let summed = state.files.values().map(|e| e.1).sum();
        (
            state.files.keys().copied().collect(),
            state.index_bytes,
            summed,
        )
    }

    /// Whether every file is sorted and no series has rows in two of them at overlapping
    /// times: then no point can be in two files, and the files' rows need no de-duplication.
    pub(crate) fn overlap_free(&self, files: &[Arc<FileIndex>]) -> bool {
        if !files.iter().all(|f| f.sorted) {
            return false;
        }
        if files.len() < 2 {
            return true;
        }
        let mut ids: Vec<Id> = files.iter().map(|f| f.file.id).collect();
        ids.sort_unstable();
        if let Some(v) = self.state().verdicts.get(&ids) {
            return *v;
        }
        let mut seen: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
        for f in files {
            for run in &f.runs {
                seen.entry(canonical_key(f, run))
                    .or_default()
                    .push((run.min_time, run.max_time));
            }
        }
        let free = seen.values_mut().all(|spans| {
            spans.sort_unstable();
            spans.windows(2).all(|w| w[0].1 < w[1].0)
        });
        let mut state = self.state();
        if state.verdicts.len() >= MAX_VERDICTS {
            state.verdicts.clear();
        }
        state.verdicts.insert(ids, free);
        free
    }

    /// Whether a read of about `bytes` decoded bytes fits in half the budget.
    pub(crate) fn affordable(&self, bytes: usize) -> bool {
        bytes <= self.budget / 2
    }

    /// Columns `names` of the rows `runs` (file row ranges, one per series) of `index`,
    /// reading the pieces not cached. The caller checks [`Self::affordable`] first.
    pub(crate) async fn load(
        &self,
        index: &Arc<FileIndex>,
        runs: &[(usize, usize)],
        names: &[&str],
    ) -> Result<Loaded> {
        let columns: Vec<(String, usize)> = names
            .iter()
            .filter_map(|n| index.column_index(n).map(|i| ((*n).to_owned(), i)))
            .collect();
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        let mut pieces: Vec<(usize, usize, usize)> =
            runs.iter().flat_map(|&(s, e)| split(index, s, e)).collect();
        pieces.sort_unstable();
        pieces.dedup();
        let id = index.file.id;
        let mut chunks = HashMap::new();
        // Pieces with a column not cached, by row group.
        let mut missing: std::collections::BTreeMap<usize, Vec<(usize, usize)>> =
            std::collections::BTreeMap::new();
        let tick = {
            let mut state = self.state();
            state.tick += 1;
            let tick = state.tick;
            for &(s, e, g) in &pieces {
                let mut complete = true;
                for (_, c) in &columns {
                    let cached = state.chunks.get_mut(&(id, (s, e), *c)).map(|entry| {
                        entry.2 = tick;
                        Arc::clone(&entry.0)
                    });
                    match cached.or_else(|| state.block_of_run(index, (s, e, g), *c, tick)) {
                        Some(piece) => {
                            chunks.insert(((s, e), *c), piece);
                        }
                        None => complete = false,
                    }
                }
                if !complete {
                    missing.entry(g).or_default().push((s, e));
                }
            }
            tick
        };
        for (g, ranges) in missing {
            let read = index.read_rows(&self.objects, g, &ranges, &names).await?;
            let mut state = self.state();
            for (name, array) in read {
                let Some(c) = index.column_index(&name) else {
                    continue;
                };
                let per_row = array.get_array_memory_size() / array.len().max(1);
                let mut at = 0;
                for &(s, e) in &ranges {
                    let len = (e - s).min(array.len().saturating_sub(at));
                    let piece = array.slice(at, len);
                    at += len;
                    let bytes = per_row.saturating_mul(len) + 64;
                    state.bytes += bytes;
                    if let Some(old) = state
                        .chunks
                        .insert((id, (s, e), c), (Arc::clone(&piece), bytes, tick))
                    {
                        state.bytes = state.bytes.saturating_sub(old.1);
                    }
                    chunks.insert(((s, e), c), piece);
                }
            }
            state.evict(self.budget, tick);
        }
        Ok(Loaded {
            index: Arc::clone(index),
            columns,
            chunks,
        })
    }
}

fn index_bytes(index: &FileIndex) -> usize {
    index
        .runs
        .iter()
        .map(|r| {
            64 + r
                .key
                .iter()
                .map(|v| 16 + v.as_ref().map_or(0, |s| s.len() + 16))
                .sum::<usize>()
        })
        .sum::<usize>()
        + 1024
}
