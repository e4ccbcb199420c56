//! The write path in-process: `Engine::write` of a TSBS body, and the sort/de-duplication that
//! persistence does before encoding Parquet.
//!
//! `cargo bench -p tidemark-storage --bench write`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;

use std::hint::black_box;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tidemark_storage::dedupe::sort_dedupe;
use tidemark_storage::engine::{encode_parquet_with, IntegerEncoding};
use tokio::runtime::Runtime;

use tidemark_tsbs::CpuOnly;

const HOSTS: usize = 100;
/// 100 hosts × 50 epochs: 5,000 lines, about 1.6 MB, like one TSBS loader batch.
const BODY_EPOCHS: usize = 50;
/// 6 h at 10 s: 2,160 epochs, 216,000 rows with 100 hosts.
const SIX_HOURS_EPOCHS: usize = 6 * 360;
/// Persist (untimed) once the buffer holds this many bodies, so it stays bounded.
const BODIES_PER_PERSIST: u64 = 40;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `write/tsbs_body`: one 5,000-line body through parse, validation, WAL append (no fsync:
/// `sync: false`, so the figure is the CPU path) and buffer apply.
///
/// Every iteration writes the next 50 epochs, so no write is a duplicate of an earlier one and
/// the buffer sees new rows as in a real load. Bodies are generated outside the timing. To keep
/// the buffer (and memory) bounded, the engine persists, untimed, every 40 bodies
/// (200,000 rows): each timed write therefore lands in a buffer of 0 to 195,000 rows, as between
/// a server's persistences.
fn write_body(c: &mut Criterion) {
    let rt = runtime();
    let f = rt.block_on(fixture::open());
    let bucket = rt.block_on(f.bucket("b"));
    let mut gen = CpuOnly::tsbs(HOSTS);
    let mut since_persist = 0u64;

    let mut group = c.benchmark_group("write");
    group.throughput(Throughput::Elements((HOSTS * BODY_EPOCHS) as u64));
    group.bench_function("tsbs_body", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                if since_persist == BODIES_PER_PERSIST {
                    rt.block_on(f.engine.persist()).unwrap();
                    since_persist = 0;
                }
                let body = gen.body(BODY_EPOCHS);
                let start = Instant::now();
                let lines = rt.block_on(f.write(&bucket, black_box(&body)));
                timed += start.elapsed();
                assert_eq!(lines, HOSTS * BODY_EPOCHS);
                since_persist += 1;
            }
            timed
        })
    });
    group.finish();
}

/// The engine's own buffer after writing 100 hosts × 6 h (216,000 rows), concatenated: the real
/// schema (dictionary tags, Int64 fields, nanosecond timestamps) with rows in arrival
/// (time-major) order. Also the table's sort key.
fn six_hours(rt: &Runtime) -> (RecordBatch, Vec<String>) {
    let f = rt.block_on(fixture::open());
    let bucket = rt.block_on(f.bucket("b"));
    let mut gen = CpuOnly::tsbs(HOSTS);
    for _ in 0..SIX_HOURS_EPOCHS / BODY_EPOCHS {
        rt.block_on(f.write(&bucket, &gen.body(BODY_EPOCHS)));
    }
    let rest = SIX_HOURS_EPOCHS % BODY_EPOCHS;
    rt.block_on(f.write(&bucket, &gen.body(rest)));
    let data = f
        .engine
        .table_data(bucket.id, "cpu", i64::MIN, i64::MAX)
        .unwrap()
        .unwrap();
    let schema = std::sync::Arc::clone(data.schema.arrow_schema());
    let sort_key = data
        .schema
        .sort_key()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let batch = concat_batches(&schema, &data.batches).unwrap();
    assert_eq!(batch.num_rows(), HOSTS * SIX_HOURS_EPOCHS);
    (batch, sort_key)
}

/// `persist/sort_dedupe`: sorting the 216,000-row batch by series and time, as persistence does;
/// time-major arrival order is the worst case for the sort.
fn persist_sort_dedupe(c: &mut Criterion) {
    let rt = runtime();
    let (batch, sort_key) = six_hours(&rt);
    let sort_key: Vec<&str> = sort_key.iter().map(String::as_str).collect();
    let schema = batch.schema();
    let batches = [batch];
    // No duplicates in TSBS data: every row survives.
    assert_eq!(
        sort_dedupe(&schema, &sort_key, &batches)
            .unwrap()
            .num_rows(),
        HOSTS * SIX_HOURS_EPOCHS
    );

    let mut group = c.benchmark_group("persist");
    group.throughput(Throughput::Elements((HOSTS * SIX_HOURS_EPOCHS) as u64));
    group.bench_function("sort_dedupe", |b| {
        b.iter(|| sort_dedupe(&schema, &sort_key, black_box(&batches)).unwrap())
    });
    group.finish();
}

/// `persist/encode_parquet/*`: encoding the sorted 216,000-row batch as one Parquet file, as
/// persistence does (`persist`), and as it did before integer fields were byte-aligned
/// (`arrow_rs`). Prints each file's size in bytes per integer field value, where those bytes
/// go, and the same for the rows with series changes smoothed away (their cost); the throughput
/// is in integer field values (rows × 10 fields).
fn persist_encode(c: &mut Criterion) {
    let rt = runtime();
    let (batch, sort_key) = six_hours(&rt);
    let sort_key: Vec<&str> = sort_key.iter().map(String::as_str).collect();
    let sorted = sort_dedupe(&batch.schema(), &sort_key, &[batch]).unwrap();
    let values = sorted
        .schema()
        .fields()
        .iter()
        .filter(|f| f.data_type() == &arrow::datatypes::DataType::Int64)
        .count()
        * sorted.num_rows();
    assert_eq!(values, HOSTS * SIX_HOURS_EPOCHS * 10);

    let mut variants = vec![
        ("arrow_rs".to_owned(), IntegerEncoding::ARROW_RS),
        ("persist".to_owned(), IntegerEncoding::PERSIST),
    ];
    // More zstd levels to compare, both ways: TIDEMARK_BENCH_ZSTD_LEVELS=1,9,19
    let levels = std::env::var("TIDEMARK_BENCH_ZSTD_LEVELS").unwrap_or_default();
    for level in levels.split(',').filter(|l| !l.is_empty()) {
        let zstd_level: i32 = level.parse().expect("a zstd level");
        for byte_aligned in [false, true] {
            let name = if byte_aligned {
                "byte_aligned"
            } else {
                "arrow_rs"
            };
            variants.push((
                format!("{name}_zstd{zstd_level}"),
                IntegerEncoding {
                    byte_aligned,
                    zstd_level,
                },
            ));
        }
    }
    // What series changes cost: the same rows with each series' walks shifted to continue
    // where the previous series' ended, so that no delta is wider than a step of a walk.
    let seamless = seamless(&sorted);
    let file =
        bytes::Bytes::from(encode_parquet_with(&seamless, IntegerEncoding::PERSIST).unwrap());
    eprintln!(
        "persist/encode_parquet/persist, no series changes: {} bytes, {:.4} bytes per integer \
         field value ({})",
        file.len(),
        file.len() as f64 / values as f64,
        breakdown(&file, values)
    );
    let mut group = c.benchmark_group("persist/encode_parquet");
    group.throughput(Throughput::Elements(values as u64));
    for (name, encoding) in variants {
        let file = bytes::Bytes::from(encode_parquet_with(&sorted, encoding).unwrap());
        let bytes = file.len();
        let read: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file.clone())
            .unwrap()
            .build()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(concat_batches(&sorted.schema(), &read).unwrap(), sorted);
        eprintln!(
            "persist/encode_parquet/{name}: {bytes} bytes, {:.4} bytes per integer field value \
             ({})",
            bytes as f64 / values as f64,
            breakdown(&file, values)
        );
        group.bench_function(&name, |b| {
            b.iter(|| encode_parquet_with(black_box(&sorted), encoding).unwrap())
        });
    }
    group.finish();
}

/// Where a file's bytes go, per integer field value: the integer columns, the other columns
/// (tags and time), and the rest (footer, page indexes).
fn breakdown(file: &bytes::Bytes, values: usize) -> String {
    let reader = ParquetRecordBatchReaderBuilder::try_new(file.clone()).unwrap();
    let (mut integers, mut others) = (0i64, 0i64);
    for group in reader.metadata().row_groups() {
        for column in group.columns() {
            let name = column.column_path().string();
            if name.starts_with("usage_") {
                integers += column.compressed_size();
            } else {
                others += column.compressed_size();
            }
        }
    }
    let per = |b: i64| b as f64 / values as f64;
    format!(
        "integer columns {:.4}, tags and time {:.4}, footer and page indexes {:.4}",
        per(integers),
        per(others),
        per(file.len() as i64 - integers - others)
    )
}

/// `sorted` (series by series, each `SIX_HOURS_EPOCHS` rows) with every `usage_*` value of a
/// series shifted by a constant, so that each series starts one step of its walk after the
/// previous series ended.
fn seamless(sorted: &RecordBatch) -> RecordBatch {
    use arrow::array::{Array, AsArray, Int64Array};
    use arrow::datatypes::Int64Type;
    let columns = sorted
        .schema()
        .fields()
        .iter()
        .zip(sorted.columns())
        .map(|(field, column)| {
            if !field.name().starts_with("usage_") {
                return std::sync::Arc::clone(column);
            }
            let values = column.as_primitive::<Int64Type>();
            assert_eq!(values.null_count(), 0);
            let mut out: Vec<i64> = Vec::with_capacity(values.len());
            let mut shift = 0;
            for (i, &v) in values.values().iter().enumerate() {
                if i > 0 && i % SIX_HOURS_EPOCHS == 0 {
                    // The new series' first step: its second value minus its first.
                    let step = values.value(i + 1) - v;
                    shift = out[i - 1] + step - v;
                }
                out.push(v + shift);
            }
            std::sync::Arc::new(Int64Array::from(out)) as arrow::array::ArrayRef
        })
        .collect();
    RecordBatch::try_new(sorted.schema(), columns).unwrap()
}

criterion_group! {
    name = benches;
    // Small samples: the suite should take a few minutes, not tens.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(20);
    targets = write_body, persist_sort_dedupe, persist_encode
}
criterion_main!(benches);
