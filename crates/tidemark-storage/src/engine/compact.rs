//! Compaction and retention: the background work that keeps the number of files a query reads
//! bounded and expired rows gone.
//!
//! Compaction works on the files of one (table, day) partition, in time order. Files whose time
//! ranges overlap form a component that is only ever merged whole; a merge takes a run of
//! adjacent components, so no file outside it overlaps a file inside it, and the age of the
//! merged file never has to order its rows against another file's (the merge itself orders
//! duplicates by file age). A run is merged when it holds overlapping files, or when it is
//! `min_files` small files. Every in-memory merge holds at most `max_rows` rows, and a file of
//! `target_rows` or more is left alone: a partition ends up with about rows / `target_rows`
//! files however long the server runs, and memory stays bounded however large a day grows.
//! An overlapping set of more than `max_rows` rows (late writes into a busy day chain files
//! into one) goes through the streamed merge of `cold.rs` at once, into files cut by time, each
//! about `target_rows`, so the day does not wait to go cold to lose its overlaps. A later
//! persisted file overlaps only the pieces its times reach: rows a few seconds late touch the
//! last piece, which merges in memory; rows hours late (persistence writes them in the same
//! file as the current ones) make a set that is split again, one rewrite of up to
//! `cold_max_bytes` per persistence that holds them.
//! Replaced objects are deleted after a grace period, so that a query that listed them before
//! the swap can still read them. A partition that has gone cold is then rewritten as one file,
//! streamed (`cold.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tidemark_catalog::{Id, NewParquetFile, ParquetFile};

use super::Engine;
use crate::buffer::day_of;
use crate::dedupe::sort_dedupe;
use crate::error::{Error, Result};
use crate::read::read_parquet;

#[derive(Debug, Clone, Copy)]
pub struct CompactConfig {
    /// Merge this many adjacent small files even when none overlap.
    pub min_files: usize,
    /// A file with at least this many rows is big enough; it is merged only to remove overlaps.
    pub target_rows: i64,
    /// The most rows one in-memory merge holds; an overlapping set of more goes through the
    /// streamed merge, split by time.
    pub max_rows: i64,
    /// How long a replaced or expired object stays readable before it is deleted.
    pub delete_grace: Duration,
    /// A partition with no buffered rows whose newest file is this old is cold: its files are
    /// rewritten as one.
    pub cold: Duration,
    /// The most bytes of objects one streamed merge reads (it holds them, and about as many
    /// written, in memory): a larger cold partition is rewritten in runs of this size, and a
    /// larger overlapping set is not split.
    pub cold_max_bytes: u64,
}

impl Default for CompactConfig {
    fn default() -> Self {
        Self {
            min_files: 4,
            target_rows: 1_000_000,
            max_rows: 2_000_000,
            delete_grace: Duration::from_secs(60),
            cold: Duration::from_secs(600),
            cold_max_bytes: 128 * 1024 * 1024,
        }
    }
}

/// What one round of compaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// Merges done (each of one run of files in one partition).
    pub runs: usize,
    pub files_in: usize,
    pub rows_out: usize,
    /// Of `runs`, rewrites of cold partitions.
    pub cold_runs: usize,
    /// Of `runs`, overlapping sets split by the streamed merge.
    pub splits: usize,
    /// Merges that failed (each logged); the others went on.
    pub failed: usize,
}

impl CompactReport {
    /// Counts a merge of `files` that wrote `rows` (`None`: it did not take place).
    fn add(&mut self, files: &[ParquetFile], rows: Option<usize>) -> bool {
        let Some(rows) = rows else { return false };
        self.runs += 1;
        self.files_in += files.len();
        self.rows_out += rows;
        true
    }

    /// Counts and logs a merge that failed: one partition's broken object must not stop every
    /// other partition's compaction.
    fn fail(&mut self, (bucket, table, day): (Id, Id, i32), error: &Error) {
        self.failed += 1;
        tracing::error!(%bucket, %table, day, %error, "a merge failed; it is retried next round");
    }
}

/// The total size of `files`' objects.
pub(super) fn object_bytes(files: &[ParquetFile]) -> u64 {
    files
        .iter()
        .map(|f| u64::try_from(f.size_bytes).unwrap_or(0))
        .sum()
}

/// Files connected by overlapping time ranges, in time order.
pub(super) fn components(mut files: Vec<ParquetFile>) -> Vec<Vec<ParquetFile>> {
    files.sort_by_key(|f| (f.min_time, f.max_time));
    let mut out: Vec<Vec<ParquetFile>> = Vec::new();
    let mut max = i64::MIN;
    for f in files {
        match out.last_mut() {
            Some(component) if f.min_time <= max => {
                max = max.max(f.max_time);
                component.push(f);
            }
            _ => {
                max = f.max_time;
                out.push(vec![f]);
            }
        }
    }
    out
}

/// A table's files by partition day.
pub(super) fn by_day(files: &[ParquetFile]) -> BTreeMap<i32, Vec<ParquetFile>> {
    let mut out: BTreeMap<i32, Vec<ParquetFile>> = BTreeMap::new();
    for f in files {
        out.entry(f.partition_day).or_default().push(f.clone());
    }
    out
}

/// The level of a file merged from `files`: one above theirs.
pub(super) fn next_level(files: &[ParquetFile]) -> i16 {
    files
        .iter()
        .map(|f| f.level)
        .max()
        .unwrap_or(0)
        .saturating_add(1)
}

/// How compaction merges a run of files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Merge {
    /// Read whole, sorted and written as one file: at most `max_rows` rows.
    InMemory,
    /// An overlapping set of more than `max_rows` rows, through the streamed merge of
    /// `cold.rs`, into at most this many files cut by time, each about `target_rows`.
    Split(usize),
}

/// The most files one split writes: the outputs share the merge's row-group budget, so more
/// would make their row groups small.
const MAX_SPLIT_OUTPUTS: i64 = 16;

/// Adjacent components gathering into one in-memory merge.
#[derive(Default)]
struct Gathering {
    files: Vec<ParquetFile>,
    rows: i64,
    overlaps: bool,
}

/// The runs of one partition's files worth merging now (see the module doc).
fn merge_runs(files: Vec<ParquetFile>, cfg: &CompactConfig) -> Vec<(Vec<ParquetFile>, Merge)> {
    let mut out = Vec::new();
    let mut run = Gathering::default();
    let flush = |out: &mut Vec<_>, run: Gathering| {
        if run.files.len() >= 2 && (run.overlaps || run.files.len() >= cfg.min_files) {
            out.push((run.files, Merge::InMemory));
        }
    };
    for component in components(files) {
        let rows: i64 = component.iter().map(|f| f.row_count).sum();
        let overlaps = component.len() > 1;
        if overlaps && rows > cfg.max_rows {
            flush(&mut out, std::mem::take(&mut run));
            // The streamed merge holds its inputs' objects: a set of more bytes waits. A late
            // write into a day the cold rewrite already joined is split too, and the day joined
            // again once cold: two rewrites where waiting would take one, but no hours-long
            // wait with the direct path off when the day is still taking writes.
            if object_bytes(&component) <= cfg.cold_max_bytes {
                let target = cfg.target_rows.max(1);
                let outputs = ((rows + target - 1) / target).clamp(2, MAX_SPLIT_OUTPUTS);
                let outputs = usize::try_from(outputs).unwrap_or(2);
                out.push((component, Merge::Split(outputs)));
            }
            continue;
        }
        let mergeable = rows <= cfg.max_rows && (overlaps || rows < cfg.target_rows);
        if !mergeable {
            flush(&mut out, std::mem::take(&mut run));
            continue;
        }
        if run.rows + rows > cfg.max_rows {
            flush(&mut out, std::mem::take(&mut run));
        }
        run.rows += rows;
        run.overlaps |= overlaps;
        run.files.extend(component);
    }
    flush(&mut out, run);
    out
}

impl Engine {
    /// Runs worth merging now: (bucket, table, day, files oldest first, how).
    fn compaction_candidates(&self) -> Vec<(Id, Id, i32, Vec<ParquetFile>, Merge)> {
        let cfg = self.config.compact;
        let state = self.state();
        let mut out = Vec::new();
        for ((bucket, table), files) in &state.files {
            for (day, group) in by_day(files) {
                for (mut run, merge) in merge_runs(group, &cfg) {
                    run.sort_by_key(|f| (f.created_at, f.id));
                    out.push((*bucket, *table, day, run, merge));
                }
            }
        }
        out
    }

    /// Merges every partition that needs it.
    pub async fn compact(&self) -> Result<CompactReport> {
        let _one = self.persisting.lock().await;
        let mut report = CompactReport::default();
        for (bucket, table_id, day, files, merge) in self.compaction_candidates() {
            let rows = match merge {
                Merge::InMemory => self.merge_in_memory(bucket, table_id, day, &files).await,
                Merge::Split(outputs) => {
                    self.rewrite_streamed(bucket, table_id, day, &files, outputs)
                        .await
                }
            };
            match rows {
                Ok(rows) => {
                    if report.add(&files, rows) && merge != Merge::InMemory {
                        report.splits += 1;
                    }
                }
                Err(e) => report.fail((bucket, table_id, day), &e),
            }
        }
        for (bucket, table_id, day, files) in self.cold_candidates(super::now_nanos()) {
            match self
                .rewrite_streamed(bucket, table_id, day, &files, 1)
                .await
            {
                Ok(rows) => {
                    if report.add(&files, rows) {
                        report.cold_runs += 1;
                    }
                }
                Err(e) => report.fail((bucket, table_id, day), &e),
            }
        }
        Ok(report)
    }

    /// Merges `files` in memory into one file; `None` when the table is gone or the catalog no
    /// longer has every one of them. Returns the rows written.
    async fn merge_in_memory(
        &self,
        bucket: Id,
        table_id: Id,
        day: i32,
        files: &[ParquetFile],
    ) -> Result<Option<usize>> {
        let Some(schema) = self.schema_by_id(bucket, table_id) else {
            return Ok(None);
        };
        let arrow = Arc::clone(schema.arrow_schema());
        let mut batches = Vec::new();
        for f in files {
            batches.extend(read_parquet(&self.store, &f.path, &arrow).await?);
        }
        let merged = sort_dedupe(&arrow, &schema.sort_key(), &batches)?;
        let new = self
            .upload(bucket, table_id, day, &merged, next_level(files))
            .await?;
        Ok(self
            .swap_files(bucket, table_id, files, vec![new])
            .await?
            .then_some(merged.num_rows()))
    }

    /// Merge runs due now, counting cold partitions' as due whatever their age: work the
    /// background task has still to do once writes stop.
    pub fn pending_compactions(&self) -> usize {
        self.compaction_candidates().len() + self.cold_candidates(i64::MAX).len()
    }

    /// Replaced objects not yet deleted (their grace period is running).
    pub fn pending_deletes(&self) -> usize {
        self.state().pending_deletes.len()
    }

    /// Puts `new` in the place of `files` in the catalog and the file list, and schedules the
    /// objects of `files` for deletion. False (and `new`'s objects deleted) when the catalog no
    /// longer has every one of `files`: retention or a bucket delete got there first.
    pub(super) async fn swap_files(
        &self,
        bucket: Id,
        table_id: Id,
        files: &[ParquetFile],
        new: Vec<NewParquetFile>,
    ) -> Result<bool> {
        let new_paths: Vec<String> = new.iter().map(|f| f.path.clone()).collect();
        let remove: Vec<Id> = files.iter().map(|f| f.id).collect();
        let added = match self.catalog.replace_parquet_files(&remove, &new).await {
            Ok(added) => added,
            Err(tidemark_catalog::Error::NotFound(_)) => {
                self.delete_objects(new_paths).await;
                return Ok(false);
            }
            Err(e) => {
                self.delete_objects(new_paths).await;
                return Err(Error::Catalog(e));
            }
        };
        {
            let mut state = self.state();
            let list = state.files.entry((bucket, table_id)).or_default();
            list.retain(|f| !remove.contains(&f.id));
            list.extend(added);
            let due = Instant::now() + self.config.compact.delete_grace;
            state
                .pending_deletes
                .extend(files.iter().map(|f| (due, f.path.clone())));
        }
        self.added_files();
        Ok(true)
    }

    /// Sets a bucket's retention (0 keeps rows for ever). Queries stop seeing older rows at once.
    pub fn set_retention(&self, bucket: Id, seconds: i64) {
        self.state().retention.insert(bucket, seconds);
    }

    /// The oldest time a query of the bucket may see, given the time now; `None` if unbounded.
    pub fn retention_cutoff(&self, bucket: Id, now: i64) -> Option<i64> {
        let seconds = self.state().retention.get(&bucket).copied().unwrap_or(0);
        (seconds > 0).then(|| now.saturating_sub(seconds.saturating_mul(1_000_000_000)))
    }

    /// Deletes files whose rows have all expired, drops expired buffer partitions, and deletes
    /// objects whose grace period is over.
    pub async fn expire(&self, now: i64) -> Result<usize> {
        let (expired, paths): (Vec<Id>, Vec<String>) = {
            let mut state = self.state();
            let cutoffs: Vec<(Id, i64)> = state
                .retention
                .iter()
                .filter(|(_, s)| **s > 0)
                .map(|(b, s)| (*b, now.saturating_sub(s.saturating_mul(1_000_000_000))))
                .collect();
            let mut ids = Vec::new();
            let mut paths = Vec::new();
            for (bucket, cutoff) in &cutoffs {
                for ((b, _), files) in state.files.iter() {
                    if b == bucket {
                        for f in files.iter().filter(|f| f.max_time < *cutoff) {
                            ids.push(f.id);
                            paths.push(f.path.clone());
                        }
                    }
                }
                let cutoff_day = day_of(*cutoff);
                for ((b, _), table) in state.active.iter_mut() {
                    if b == bucket {
                        table
                            .partitions
                            .retain(|day, p| *day >= cutoff_day || p.max_time >= *cutoff);
                    }
                }
            }
            (ids, paths)
        };
        if !expired.is_empty() {
            self.catalog.delete_parquet_files(&expired).await?;
            let mut state = self.state();
            for files in state.files.values_mut() {
                files.retain(|f| !expired.contains(&f.id));
            }
            let due = Instant::now() + self.config.compact.delete_grace;
            state
                .pending_deletes
                .extend(paths.into_iter().map(|p| (due, p)));
        }
        let ready: Vec<String> = {
            let mut state = self.state();
            let nowi = Instant::now();
            let (ready, later): (Vec<_>, Vec<_>) = std::mem::take(&mut state.pending_deletes)
                .into_iter()
                .partition(|(due, _)| *due <= nowi);
            state.pending_deletes = later;
            ready.into_iter().map(|(_, p)| p).collect()
        };
        self.delete_objects(ready).await;
        Ok(expired.len())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use tidemark_catalog::{Id, ParquetFile};

    use super::{merge_runs, CompactConfig, Merge};

    /// File `n` of `rows` rows (and as many bytes) over `[min, max]`.
    pub(in crate::engine) fn file(n: u64, min: i64, max: i64, rows: i64) -> ParquetFile {
        ParquetFile {
            id: Id::from_u64(n).unwrap(),
            bucket_id: Id::from_u64(1000).unwrap(),
            table_id: Id::from_u64(2000).unwrap(),
            partition_day: 0,
            path: format!("{n}.parquet"),
            min_time: min,
            max_time: max,
            row_count: rows,
            size_bytes: rows,
            level: 0,
            created_at: n as i64,
        }
    }

    pub(in crate::engine) fn ids(runs: &[Vec<ParquetFile>]) -> Vec<Vec<u64>> {
        runs.iter()
            .map(|r| {
                let mut v: Vec<u64> = r.iter().map(|f| f.id.get()).collect();
                v.sort_unstable();
                v
            })
            .collect()
    }

    /// The runs `merge_runs` merges in memory; fails on any other kind.
    fn in_memory(runs: Vec<(Vec<ParquetFile>, Merge)>) -> Vec<Vec<u64>> {
        let runs: Vec<Vec<ParquetFile>> = runs
            .into_iter()
            .map(|(run, merge)| {
                assert_eq!(merge, Merge::InMemory);
                run
            })
            .collect();
        ids(&runs)
    }

    fn cfg() -> CompactConfig {
        CompactConfig {
            min_files: 3,
            target_rows: 100,
            max_rows: 250,
            ..CompactConfig::default()
        }
    }

    #[test]
    fn overlapping_files_merge_even_when_few() {
        let runs = merge_runs(vec![file(1, 0, 10, 5), file(2, 5, 20, 5)], &cfg());
        assert_eq!(in_memory(runs), vec![vec![1, 2]]);
    }

    #[test]
    fn small_disjoint_files_wait_for_min_files() {
        let two = vec![file(1, 0, 10, 5), file(2, 20, 30, 5)];
        assert!(merge_runs(two, &cfg()).is_empty());
        let three = vec![file(1, 0, 10, 5), file(2, 20, 30, 5), file(3, 40, 50, 5)];
        assert_eq!(in_memory(merge_runs(three, &cfg())), vec![vec![1, 2, 3]]);
    }

    #[test]
    fn big_files_are_left_alone_and_split_runs() {
        let files = vec![
            file(1, 0, 10, 5),
            file(2, 20, 30, 5),
            file(3, 40, 50, 150),
            file(4, 60, 70, 5),
            file(5, 80, 90, 5),
            file(6, 100, 110, 5),
        ];
        // 1 and 2 are too few on their side of the big file 3; 4..6 merge.
        assert_eq!(in_memory(merge_runs(files, &cfg())), vec![vec![4, 5, 6]]);
    }

    #[test]
    fn merges_never_exceed_max_rows() {
        let files = (0..6)
            .map(|i| file(i + 1, i as i64 * 10, i as i64 * 10 + 5, 90))
            .collect();
        // 90 + 90 fits in 250, a third does not: runs of two are too few to merge disjoint files.
        assert!(merge_runs(files, &cfg()).is_empty());
    }

    #[test]
    fn overlapping_sets_over_max_rows_are_split_by_the_streamed_merge() {
        // 1 and 2 overlap with 300 rows: more than one in-memory merge may hold, so they are
        // merged alone, streamed, into 300 / target_rows files; the small files beside them
        // still wait for min_files.
        let files = vec![
            file(1, 0, 10, 200),
            file(2, 5, 20, 100),
            file(3, 30, 40, 5),
            file(4, 50, 60, 5),
        ];
        let runs = merge_runs(files, &cfg());
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].1, Merge::Split(3));
        assert_eq!(ids(&[runs[0].0.clone()]), vec![vec![1, 2]]);
        // A run of min_files small files before the set is merged on its own.
        let files = vec![
            file(1, 0, 10, 5),
            file(2, 20, 30, 5),
            file(3, 40, 50, 5),
            file(4, 60, 70, 200),
            file(5, 65, 80, 100),
        ];
        let runs = merge_runs(files, &cfg());
        let kinds: Vec<Merge> = runs.iter().map(|(_, m)| *m).collect();
        assert_eq!(kinds, vec![Merge::InMemory, Merge::Split(3)]);
        let files: Vec<Vec<ParquetFile>> = runs.into_iter().map(|(r, _)| r).collect();
        assert_eq!(ids(&files), vec![vec![1, 2, 3], vec![4, 5]]);
        // No more outputs than MAX_SPLIT_OUTPUTS, however small target_rows.
        let tiny = CompactConfig {
            target_rows: 1,
            ..cfg()
        };
        let runs = merge_runs(vec![file(1, 0, 10, 200), file(2, 5, 20, 100)], &tiny);
        assert_eq!(runs[0].1, Merge::Split(16));
        // 251 rows make three files of at most about target_rows, and two at a target of 200.
        let runs = merge_runs(vec![file(1, 0, 10, 200), file(2, 5, 20, 51)], &cfg());
        assert_eq!(runs[0].1, Merge::Split(3));
        let cfg = CompactConfig {
            target_rows: 200,
            ..cfg()
        };
        let runs = merge_runs(vec![file(1, 0, 10, 200), file(2, 5, 20, 51)], &cfg);
        assert_eq!(runs[0].1, Merge::Split(2));
        // A set whose objects are more than a streamed merge holds waits.
        let cfg = CompactConfig {
            cold_max_bytes: 299,
            ..cfg
        };
        assert!(merge_runs(vec![file(1, 0, 10, 200), file(2, 5, 20, 100)], &cfg).is_empty());
    }
}
