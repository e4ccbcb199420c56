//! What a partition's files would take merged into fewer, larger files, with persistence's own
//! sort and encoder: the measurement behind "one file per day" in BENCHMARKS.md.
//!
//!   cargo run --release -p tidemark-storage --example merge_files -- DIR [FILES_PER_MERGE]
//!
//! DIR holds one partition's Parquet files (a day of one table, as `objects/BUCKET/TABLE/DAY`
//! in a data directory). The files are merged in name order, FILES_PER_MERGE at a time (default:
//! all of them), in memory: this is an experiment, not how compaction could do it within the
//! server's memory bound. Bytes per value count the 10 fields of a TSBS `cpu` row.

use std::path::PathBuf;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tidemark_storage::dedupe::sort_dedupe;
use tidemark_storage::engine::{encode_parquet_with, IntegerEncoding};
use tidemark_storage::schema::TIME_COLUMN;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const FIELDS: usize = 10;

fn per_value(bytes: usize, rows: usize) -> f64 {
    bytes as f64 / (rows * FIELDS).max(1) as f64
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: merge_files DIR [FILES_PER_MERGE]")?,
    );
    let per_merge: usize = match args.next() {
        Some(n) => n.parse()?,
        None => usize::MAX,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "parquet"));
    paths.sort();
    let mut files: Vec<Vec<RecordBatch>> = Vec::new();
    let mut bytes_before = 0;
    for path in &paths {
        let size = usize::try_from(std::fs::metadata(path)?.len())?;
        let batches = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path)?)?
            .with_batch_size(1 << 20)
            .build()?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        println!(
            "{}: {rows} rows, {size} bytes, {:.4} bytes per value",
            path.display(),
            per_value(size, rows)
        );
        bytes_before += size;
        files.push(batches);
    }
    let schema = files
        .iter()
        .flatten()
        .next()
        .ok_or("no Parquet files")?
        .schema();
    // Persistence's sort key: the tags by name, then time.
    let mut key: Vec<&str> = schema
        .fields()
        .iter()
        .filter(|f| matches!(f.data_type(), DataType::Dictionary(..)))
        .map(|f| f.name().as_str())
        .collect();
    key.sort_unstable();
    key.push(TIME_COLUMN);
    let (mut bytes_after, mut rows) = (0, 0);
    for group in files.chunks(per_merge.max(1)) {
        let batches: Vec<RecordBatch> = group.iter().flatten().cloned().collect();
        let sorted = sort_dedupe(&schema, &key, &batches)?;
        let bytes = encode_parquet_with(&sorted, IntegerEncoding::PERSIST)?.len();
        println!(
            "{} files merged: {} rows, {bytes} bytes, {:.4} bytes per value",
            group.len(),
            sorted.num_rows(),
            per_value(bytes, sorted.num_rows())
        );
        bytes_after += bytes;
        rows += sorted.num_rows();
    }
    println!(
        "before: {bytes_before} bytes, {:.4} bytes per value; after: {bytes_after} bytes, {:.4}",
        per_value(bytes_before, rows),
        per_value(bytes_after, rows)
    );
    Ok(())
}
