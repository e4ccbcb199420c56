//! The query path in-process: `QueryEngine::sql` and collecting every batch, over 216,000 TSBS
//! `cpu-only` rows (100 hosts × 6 h at 10 s), persisted to Parquet or still buffered.
//!
//! `cargo bench -p tidemark-query --bench query`
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The engine fixture lives with the storage benches; one copy for both.
#[path = "../../tidemark-storage/benches/fixture/mod.rs"]
mod fixture;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use datafusion::arrow::array::RecordBatch;
use futures::TryStreamExt;
use tidemark_catalog::Bucket;
use tidemark_query::{Params, QueryConfig, QueryEngine};

use tidemark_tsbs::CpuOnly;

const HOSTS: usize = 100;
const BODY_EPOCHS: usize = 50;
/// 6 h at 10 s.
const EPOCHS: usize = 6 * 360;
const ROWS: u64 = (HOSTS * EPOCHS) as u64;

/// Runs `sql` and collects every batch, returning the batches so the work cannot be skipped.
async fn run(query: &QueryEngine, bucket: &Bucket, sql: &str) -> Vec<RecordBatch> {
    let out = query.sql(bucket, sql, &Params::new()).await.unwrap();
    out.stream.try_collect().await.unwrap()
}

async fn count(query: &QueryEngine, bucket: &Bucket) -> i64 {
    let batches = run(query, bucket, "SELECT count(*) FROM cpu").await;
    batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int64Array>()
        .unwrap()
        .value(0)
}

fn bench(c: &mut Criterion) {
    // One runtime for the whole bench: the engine's WAL task lives on it. The query engine
    // runs plans on its own runtime (`QueryConfig::threads`).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (f, persisted, buffered, query) = rt.block_on(setup());
    assert_eq!(rt.block_on(count(&query, &persisted)), ROWS as i64);
    assert_eq!(rt.block_on(count(&query, &buffered)), ROWS as i64);

    // TSBS single-groupby-1-1-1: one host, one hour, a max per minute. The hour starts 2 h in.
    let from = tidemark_tsbs::TSBS_START_NS + 2 * 3_600_000_000_000;
    let single_groupby = format!(
        "SELECT date_bin(INTERVAL '1 minute', time) AS minute, max(usage_user) FROM cpu \
         WHERE hostname = 'host_1' AND time >= to_timestamp_nanos({from}) \
         AND time < to_timestamp_nanos({}) GROUP BY minute",
        from + 3_600_000_000_000
    );
    assert_eq!(
        rt.block_on(run(&query, &persisted, &single_groupby))
            .iter()
            .map(RecordBatch::num_rows)
            .sum::<usize>(),
        60
    );

    let max_per_minute = "SELECT date_bin(INTERVAL '1 minute', time) AS minute, \
                          max(usage_user) FROM cpu GROUP BY minute";
    // Throughput in rows scanned: every row for the full scans; for one host's hour, the 360
    // rows that qualify (pruning decides how many more are actually read).
    let cases: [(&str, &Bucket, &str, u64); 4] = [
        (
            "count_parquet",
            &persisted,
            "SELECT count(*) FROM cpu",
            ROWS,
        ),
        ("max_per_minute_parquet", &persisted, max_per_minute, ROWS),
        ("single_groupby_parquet", &persisted, &single_groupby, 360),
        ("count_buffer", &buffered, "SELECT count(*) FROM cpu", ROWS),
    ];
    let mut group = c.benchmark_group("query");
    for (name, bucket, sql, rows) in cases {
        group.throughput(Throughput::Elements(rows));
        group.bench_function(name, |b| {
            b.iter(|| rt.block_on(run(&query, bucket, black_box(sql))))
        });
    }
    group.finish();
    drop(f);
}

/// Two buckets with the same 216,000 rows: `persisted` moved to Parquet files by the engine's
/// own persistence, `buffered` written afterwards and left in the in-memory buffer.
async fn setup() -> (fixture::Fixture, Bucket, Bucket, QueryEngine) {
    let f = fixture::open().await;
    let persisted = f.bucket("persisted").await;
    let buffered = f.bucket("buffered").await;
    write_six_hours(&f, &persisted).await;
    f.engine.persist().await.unwrap();
    write_six_hours(&f, &buffered).await;
    let query = QueryEngine::new(
        Arc::clone(&f.engine),
        QueryConfig {
            threads: 2,
            target_partitions: 2,
            memory_limit: None,
            direct_cache_bytes: tidemark_query::DEFAULT_DIRECT_CACHE_BYTES,
            timeout: None,
        },
    )
    .unwrap();
    (f, persisted, buffered, query)
}

async fn write_six_hours(f: &fixture::Fixture, bucket: &Bucket) {
    // Same seed for both buckets: identical rows.
    let mut gen = CpuOnly::tsbs(HOSTS);
    for _ in 0..EPOCHS / BODY_EPOCHS {
        f.write(bucket, &gen.body(BODY_EPOCHS)).await;
    }
    f.write(bucket, &gen.body(EPOCHS % BODY_EPOCHS)).await;
}

criterion_group! {
    name = benches;
    // Small samples: the suite should take a few minutes, not tens.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(20);
    targets = bench
}
criterion_main!(benches);
