//! Compaction and retention: the background work that keeps the number of files a query reads
//! bounded and expired rows gone.
//!
//! Compaction merges all files of one (table, day) partition into one, when there are many or
//! when they overlap in time (late or rewritten data). All of a partition's files, never a
//! subset: a file's age then always orders duplicates correctly, since any file made later holds
//! newer writes. Replaced objects are deleted after a grace period, so that a query that
//! listed them before the swap can still read them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tidemark_catalog::{Id, ParquetFile};

use super::Engine;
use crate::buffer::day_of;
use crate::dedupe::sort_dedupe;
use crate::error::{Error, Result};
use crate::read::read_parquet;

#[derive(Debug, Clone, Copy)]
pub struct CompactConfig {
    /// Merge a partition once it has this many files.
    pub min_files: usize,
    /// Leave a partition alone when merging it would hold more rows than this in memory.
    pub max_rows: i64,
    /// How long a replaced or expired object stays readable before it is deleted.
    pub delete_grace: Duration,
}

impl Default for CompactConfig {
    fn default() -> Self {
        Self {
            min_files: 4,
            max_rows: 20_000_000,
            delete_grace: Duration::from_secs(60),
        }
    }
}

/// What one round of compaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactReport {
    pub partitions: usize,
    pub files_in: usize,
    pub rows_out: usize,
}

fn overlapping(files: &[ParquetFile]) -> bool {
    let mut ranges: Vec<(i64, i64)> = files.iter().map(|f| (f.min_time, f.max_time)).collect();
    ranges.sort_unstable();
    ranges.windows(2).any(|w| w[1].0 <= w[0].1)
}

impl Engine {
    /// Partitions worth merging now: (bucket, table, day, files oldest first).
    fn compaction_candidates(&self) -> Vec<(Id, Id, i32, Vec<ParquetFile>)> {
        let cfg = self.config.compact;
        let state = self.state();
        let mut out = Vec::new();
        for ((bucket, table), files) in &state.files {
            let mut by_day: BTreeMap<i32, Vec<ParquetFile>> = BTreeMap::new();
            for f in files {
                by_day.entry(f.partition_day).or_default().push(f.clone());
            }
            for (day, mut group) in by_day {
                let rows: i64 = group.iter().map(|f| f.row_count).sum();
                if group.len() < 2 || rows > cfg.max_rows {
                    continue;
                }
                if group.len() >= cfg.min_files || overlapping(&group) {
                    group.sort_by_key(|f| (f.created_at, f.id));
                    out.push((*bucket, *table, day, group));
                }
            }
        }
        out
    }

    /// Merges every partition that needs it.
    pub async fn compact(&self) -> Result<CompactReport> {
        let _one = self.persisting.lock().await;
        let mut report = CompactReport::default();
        for (bucket, table_id, day, files) in self.compaction_candidates() {
            let Some(schema) = self.schema_by_id(bucket, table_id) else {
                continue;
            };
            let arrow = Arc::clone(schema.arrow_schema());
            let mut batches = Vec::new();
            for f in &files {
                batches.extend(read_parquet(&self.store, &f.path, &arrow).await?);
            }
            let merged = sort_dedupe(&arrow, &schema.sort_key(), &batches)?;
            let level = files
                .iter()
                .map(|f| f.level)
                .max()
                .unwrap_or(0)
                .saturating_add(1);
            let new = self.upload(bucket, table_id, day, &merged, level).await?;
            let new_path = new.path.clone();
            let remove: Vec<Id> = files.iter().map(|f| f.id).collect();
            let added = match self.catalog.replace_parquet_files(&remove, &[new]).await {
                Ok(added) => added,
                Err(tidemark_catalog::Error::NotFound(_)) => {
                    // Retention or a bucket delete got there first; try again next round.
                    self.delete_objects(vec![new_path]).await;
                    continue;
                }
                Err(e) => {
                    self.delete_objects(vec![new_path]).await;
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
            report.partitions += 1;
            report.files_in += files.len();
            report.rows_out += merged.num_rows();
        }
        Ok(report)
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
