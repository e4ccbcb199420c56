//! The write path in-process: `Engine::write` of a TSBS body, and the sort/de-duplication that
//! persistence does before encoding Parquet.
//!
//! `cargo bench -p tidemark-storage --bench write`
//!
//! (Parquet encoding is not measured on its own: `encode_parquet` is private to the crate.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;

use std::hint::black_box;
use std::time::{Duration, Instant};

use arrow::compute::concat_batches;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tidemark_storage::dedupe::sort_dedupe;
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

/// `persist/sort_dedupe`: sorting a 216,000-row batch (100 hosts × 6 h) by series and time, as
/// persistence does. The batch is the engine's own buffer after the writes, concatenated: the
/// real schema (dictionary tags, Int64 fields, nanosecond timestamps) with rows in arrival
/// (time-major) order, the worst case for the sort.
fn persist_sort_dedupe(c: &mut Criterion) {
    let rt = runtime();
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
    let sort_key = data.schema.sort_key();
    let batch = concat_batches(&schema, &data.batches).unwrap();
    assert_eq!(batch.num_rows(), HOSTS * SIX_HOURS_EPOCHS);
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

criterion_group! {
    name = benches;
    // Small samples: the suite should take a few minutes, not tens.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(20);
    targets = write_body, persist_sort_dedupe
}
criterion_main!(benches);
