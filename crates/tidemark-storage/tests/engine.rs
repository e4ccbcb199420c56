//! The engine against a real SQLite catalog and a local object store: writes, validation,
//! duplicates, replay after a restart, persistence.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::util::pretty::pretty_format_batches;
use tidemark_catalog::{
    Bucket, BucketType, Catalog, CatalogConfig, NewBucket, NewOrg, SchemaLimits, SchemaType,
};
use tidemark_lp::Precision;
use tidemark_storage::dedupe::sort_dedupe;
use tidemark_storage::read::read_parquet;
use tidemark_storage::wal::{Recovery, WalConfig};
use tidemark_storage::{Engine, EngineConfig, PersistConfig, WriteOutcome, WriteRequest};

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
    catalog: Arc<dyn Catalog>,
    bucket: Bucket,
}

async fn fixture(schema_type: SchemaType) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let catalog = tidemark_catalog::open(&CatalogConfig::Sqlite {
        path: dir.join("catalog.sqlite"),
    })
    .await
    .unwrap();
    let org = catalog
        .create_org(NewOrg {
            name: "o".into(),
            description: String::new(),
        })
        .await
        .unwrap();
    let bucket = catalog
        .create_bucket(NewBucket {
            org_id: org.id,
            name: "b".into(),
            description: String::new(),
            bucket_type: BucketType::User,
            retention_seconds: 0,
            shard_group_duration_seconds: None,
            schema_type,
        })
        .await
        .unwrap();
    Fixture {
        _tmp: tmp,
        dir,
        catalog,
        bucket,
    }
}

fn config(dir: &Path, limits: SchemaLimits) -> EngineConfig {
    EngineConfig {
        wal: WalConfig {
            dir: dir.join("wal"),
            flush_window: Duration::from_millis(1),
            recovery: Recovery::Strict,
            segment_max_bytes: 1 << 20,
        },
        limits,
        persist: PersistConfig::default(),
        compact: tidemark_storage::CompactConfig::default(),
        local_object_root: Some(dir.join("objects")),
    }
}

async fn open(f: &Fixture) -> Arc<Engine> {
    open_with(f, |_| {}).await
}

async fn open_with(f: &Fixture, change: impl FnOnce(&mut EngineConfig)) -> Arc<Engine> {
    let objects = f.dir.join("objects");
    std::fs::create_dir_all(&objects).unwrap();
    let store = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(&objects).unwrap());
    let mut config = config(&f.dir, SchemaLimits::default());
    change(&mut config);
    Engine::open(config, Arc::clone(&f.catalog), store)
        .await
        .unwrap()
        .0
}

async fn write(engine: &Engine, bucket: &Bucket, body: &str) -> WriteOutcome {
    write_with(engine, bucket, body, true).await
}

async fn write_with(
    engine: &Engine,
    bucket: &Bucket,
    body: &str,
    accept_partial: bool,
) -> WriteOutcome {
    engine
        .write(WriteRequest {
            bucket,
            body: body.as_bytes(),
            precision: Some(Precision::Nanosecond),
            now: 1_000,
            accept_partial,
            sync: true,
        })
        .await
        .unwrap()
}

/// How many files the catalog lists for the fixture's bucket.
async fn file_count(f: &Fixture) -> usize {
    f.catalog
        .list_parquet_files(f.bucket.id)
        .await
        .unwrap()
        .len()
}

/// The table as a query sees it: buffered batches and files (read back), merged.
async fn rows(engine: &Engine, bucket: &Bucket, table: &str) -> String {
    let data = engine
        .table_data(bucket.id, table, i64::MIN, i64::MAX)
        .unwrap()
        .unwrap();
    let schema = Arc::clone(data.schema.arrow_schema());
    let mut batches: Vec<RecordBatch> = Vec::new();
    for file in &data.files {
        let store = engine.object_store();
        batches.extend(read_parquet(&store, &file.path, &schema).await.unwrap());
    }
    batches.extend(data.batches);
    let merged = sort_dedupe(&schema, &data.schema.sort_key(), &batches).unwrap();
    pretty_format_batches(&[merged]).unwrap().to_string()
}

#[tokio::test]
async fn writes_are_queryable_at_once_and_duplicates_merge() {
    let f = fixture(SchemaType::Implicit).await;
    let engine = open(&f).await;
    let out = write(
        &engine,
        &f.bucket,
        "cpu,host=a usage=1,idle=2i 10\ncpu,host=b usage=3 10\ncpu,host=a usage=5 10\ncpu,host=a state=\"ok\" 10",
    )
    .await;
    assert_eq!(out.lines_written, 4);
    assert!(out.errors.is_empty());
    let expected = "\
+------+------+-------+-------------------------------+-------+
| host | idle | state | time                          | usage |
+------+------+-------+-------------------------------+-------+
| a    | 2    | ok    | 1970-01-01T00:00:00.000000010 | 5.0   |
| b    |      |       | 1970-01-01T00:00:00.000000010 | 3.0   |
+------+------+-------+-------------------------------+-------+";
    assert_eq!(rows(&engine, &f.bucket, "cpu").await, expected);
}

#[tokio::test]
async fn bad_lines_are_refused_one_by_one_and_the_rest_kept() {
    let f = fixture(SchemaType::Implicit).await;
    let engine = open(&f).await;
    write(&engine, &f.bucket, "m f=1 1").await;
    let out = write(
        &engine,
        &f.bucket,
        "m f=2 2\nm f=3i 3\nnot line protocol\nm,f=x g=1 4\nm g=1 5",
    )
    .await;
    assert_eq!(out.lines_written, 2);
    let errors: Vec<String> = out.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].starts_with("error writing line 2 (1-based): field type conflict: input field \"f\" on measurement \"m\" is type integer, already exists as type float"), "{}", errors[0]);
    assert!(
        errors[1].starts_with("error parsing line 3 (1-based)"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("line 4") && errors[2].contains("iox::column_type::tag"),
        "{}",
        errors[2]
    );
    // Nothing is written when partial writes are refused.
    let out = write_with(&engine, &f.bucket, "m f=9 9\nm f=\"s\" 10", false).await;
    assert_eq!(out.lines_written, 0);
    assert_eq!(out.rejected, 1);
    assert!(!rows(&engine, &f.bucket, "m").await.contains("9.0"));
}

#[tokio::test]
async fn explicit_buckets_refuse_measurements_without_a_schema() {
    let f = fixture(SchemaType::Explicit).await;
    let engine = open(&f).await;
    let out = write(&engine, &f.bucket, "m f=1 1").await;
    assert_eq!(out.lines_written, 0);
    assert!(
        out.errors[0].to_string().contains("no schema"),
        "{:?}",
        out.errors
    );
}

#[tokio::test]
async fn column_limit_refuses_the_lines_that_pass_it() {
    let f = fixture(SchemaType::Implicit).await;
    let objects = f.dir.join("objects");
    std::fs::create_dir_all(&objects).unwrap();
    let store = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(&objects).unwrap());
    let limits = SchemaLimits {
        max_tables_per_bucket: 2,
        max_columns_per_table: 3,
    };
    let (engine, _) = Engine::open(config(&f.dir, limits), Arc::clone(&f.catalog), store)
        .await
        .unwrap();
    assert_eq!(
        write(&engine, &f.bucket, "m a=1,b=2 1").await.lines_written,
        1
    );
    let out = write(&engine, &f.bucket, "m c=1 2").await;
    assert_eq!(out.lines_written, 0);
    assert!(out.errors[0].message.contains("limit"), "{:?}", out.errors);
    write(&engine, &f.bucket, "n a=1 1").await;
    let out = write(&engine, &f.bucket, "third a=1 1").await;
    assert!(out.errors[0].message.contains("tables"), "{:?}", out.errors);
}

#[tokio::test]
async fn acknowledged_writes_survive_a_restart_through_the_wal() {
    let f = fixture(SchemaType::Implicit).await;
    {
        let engine = open(&f).await;
        for i in 0..20 {
            write(&engine, &f.bucket, &format!("m,t=x v={i} {i}")).await;
        }
    }
    let engine = open(&f).await;
    assert_eq!(engine.buffered_rows(), 20);
    assert!(rows(&engine, &f.bucket, "m").await.contains("19.0"));
}

#[tokio::test]
async fn persistence_moves_rows_to_parquet_and_checkpoints_the_wal() {
    let f = fixture(SchemaType::Implicit).await;
    let engine = open(&f).await;
    write(&engine, &f.bucket, "m,t=x v=1 10\nm,t=y v=2 86400000000010").await;
    let before = rows(&engine, &f.bucket, "m").await;
    let report = engine.persist().await.unwrap();
    assert_eq!((report.files, report.rows), (2, 2));
    assert_eq!(engine.buffered_rows(), 0);
    assert_eq!(rows(&engine, &f.bucket, "m").await, before);
    // A newer write of the same point wins over the persisted one.
    write(&engine, &f.bucket, "m,t=x v=7,w=true 10").await;
    let after = rows(&engine, &f.bucket, "m").await;
    assert!(
        after.contains("| x | 1970-01-01T00:00:00.000000010 | 7.0 | true |"),
        "{after}"
    );
    drop(engine);
    // The restart replays only what was not persisted.
    let engine = open(&f).await;
    assert_eq!(engine.buffered_rows(), 1);
    assert_eq!(rows(&engine, &f.bucket, "m").await, after);
    assert_eq!(file_count(&f).await, 2);
}

#[tokio::test]
async fn compaction_merges_a_partitions_files_and_keeps_results_identical() {
    let f = fixture(SchemaType::Implicit).await;
    let engine = open(&f).await;
    // Two overlapping files (the same point rewritten) and two more in the same day.
    write(&engine, &f.bucket, "m,t=x v=1 10\nm,t=y v=2 20").await;
    engine.persist().await.unwrap();
    write(&engine, &f.bucket, "m,t=x v=5 10").await;
    engine.persist().await.unwrap();
    write(&engine, &f.bucket, "m,t=z v=3,s=\"new column\" 30").await;
    engine.persist().await.unwrap();
    write(&engine, &f.bucket, "m,t=x v=4 40").await;
    engine.persist().await.unwrap();
    assert_eq!(file_count(&f).await, 4);
    let before = rows(&engine, &f.bucket, "m").await;
    assert!(
        before.contains("5.0") && !before.contains("1.0"),
        "{before}"
    );

    let report = engine.compact().await.unwrap();
    assert_eq!((report.runs, report.files_in, report.rows_out), (1, 4, 4));
    let files = f.catalog.list_parquet_files(f.bucket.id).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].level, 1);
    assert_eq!(rows(&engine, &f.bucket, "m").await, before);
    // Nothing left to do.
    assert_eq!(engine.compact().await.unwrap().runs, 0);
}

#[tokio::test]
async fn a_merge_that_fails_does_not_stop_the_other_partitions() {
    let f = fixture(SchemaType::Implicit).await;
    let engine = open(&f).await;
    // An overlapping pair in each of two tables.
    for body in ["m,t=x v=1 10\nn,t=x v=1 10", "m,t=x v=2 10\nn,t=x v=2 10"] {
        write(&engine, &f.bucket, body).await;
        engine.persist().await.unwrap();
    }
    let files = f.catalog.list_parquet_files(f.bucket.id).await.unwrap();
    assert_eq!(files.len(), 4);
    // m's objects are gone: its merge fails, n's goes on.
    let m = engine.table_files(f.bucket.id, "m", i64::MIN, i64::MAX);
    let m_ids: Vec<_> = m.unwrap().unwrap().files.iter().map(|f| f.id).collect();
    for file in files.iter().filter(|file| m_ids.contains(&file.id)) {
        std::fs::remove_file(f.dir.join("objects").join(&file.path)).unwrap();
    }
    let report = engine.compact().await.unwrap();
    assert_eq!(
        (report.runs, report.failed, report.files_in, report.rows_out),
        (1, 1, 2, 1)
    );
    let files = f.catalog.list_parquet_files(f.bucket.id).await.unwrap();
    assert_eq!(files.len(), 3, "m's pair is left as it was, n's merged");
    // m's pair is still to merge: now, and as a cold rewrite once the day is quiet.
    assert_eq!(engine.pending_compactions(), 2);
}

#[tokio::test]
async fn a_cold_partition_is_rewritten_as_one_file() {
    let f = fixture(SchemaType::Implicit).await;
    let cold = |c: &mut EngineConfig| c.compact.cold = Duration::ZERO;
    let engine = open_with(&f, cold).await;
    // Disjoint files of one day, too few for the in-memory compaction; the second adds a tag
    // and a field.
    write(&engine, &f.bucket, "m,t=x v=1i 10\nm,t=y v=2i 20").await;
    engine.persist().await.unwrap();
    write(&engine, &f.bucket, "m,t=x,u=q v=3i,w=1.5 30\nm,t=a v=4i 40").await;
    engine.persist().await.unwrap();
    write(&engine, &f.bucket, "m,t=y v=5i 50\nm,t=x v=6i 60").await;
    // The day still has buffered rows: it is not cold.
    assert_eq!(engine.pending_compactions(), 0);
    assert_eq!(engine.compact().await.unwrap().runs, 0);
    engine.persist().await.unwrap();
    let before = rows(&engine, &f.bucket, "m").await;
    assert_eq!(engine.pending_compactions(), 1);

    let report = engine.compact().await.unwrap();
    assert_eq!(
        (
            report.runs,
            report.cold_runs,
            report.files_in,
            report.rows_out
        ),
        (1, 1, 3, 6)
    );
    let files = f.catalog.list_parquet_files(f.bucket.id).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!((files[0].level, files[0].row_count), (1, 6));
    assert_eq!((files[0].min_time, files[0].max_time), (10, 60));
    assert_eq!(rows(&engine, &f.bucket, "m").await, before);
    assert_eq!(engine.pending_compactions(), 0);
    assert_eq!(engine.pending_deletes(), 3);
    assert_eq!(engine.compact().await.unwrap().runs, 0);
    drop(engine);
    let engine = open_with(&f, cold).await;
    assert_eq!(rows(&engine, &f.bucket, "m").await, before);
}

#[tokio::test]
async fn overlapping_files_too_many_to_merge_in_memory_are_split_at_once_and_joined_when_cold() {
    let f = fixture(SchemaType::Implicit).await;
    // Too small a budget for the in-memory compaction to take the overlapping pair; the day
    // goes cold only in the second half.
    let small = |c: &mut EngineConfig| c.compact.max_rows = 2;
    let engine = open_with(&f, small).await;
    write(&engine, &f.bucket, "m,t=x v=1i,w=1.5 10\nm,t=x v=2i 30").await;
    engine.persist().await.unwrap();
    // A later write of the point x@10 with a new v and no w, and y between the first's times.
    write(&engine, &f.bucket, "m,t=x v=9i 10\nm,t=y v=3i 20").await;
    engine.persist().await.unwrap();
    let before = rows(&engine, &f.bucket, "m").await;

    // The streamed merge takes the pair now, into two files that halve its 4 rows.
    let report = engine.compact().await.unwrap();
    assert_eq!(
        (
            report.runs,
            report.splits,
            report.cold_runs,
            report.files_in,
            report.rows_out
        ),
        (1, 1, 0, 2, 3)
    );
    let mut files = f.catalog.list_parquet_files(f.bucket.id).await.unwrap();
    files.sort_by_key(|f| f.min_time);
    let shape: Vec<_> = files
        .iter()
        .map(|f| (f.level, f.row_count, f.min_time, f.max_time))
        .collect();
    assert_eq!(shape, vec![(1, 1, 10, 10), (1, 2, 20, 30)]);
    let after = rows(&engine, &f.bucket, "m").await;
    assert_eq!(after, before);
    let x10 = after
        .lines()
        .find(|l| l.contains("| x ") && l.contains("00:00:00.000000010"))
        .unwrap_or_else(|| panic!("no x@10 in\n{after}"));
    assert!(x10.contains("| 9 ") && x10.contains("| 1.5 "), "{x10}");
    // Two small disjoint files: nothing to merge until the day is cold.
    assert_eq!(engine.compact().await.unwrap().runs, 0);
    drop(engine);

    let cold = |c: &mut EngineConfig| {
        small(c);
        c.compact.cold = Duration::ZERO;
    };
    let engine = open_with(&f, cold).await;
    let report = engine.compact().await.unwrap();
    assert_eq!(
        (
            report.runs,
            report.splits,
            report.cold_runs,
            report.rows_out
        ),
        (1, 0, 1, 3)
    );
    let files = f.catalog.list_parquet_files(f.bucket.id).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(
        (
            files[0].level,
            files[0].row_count,
            files[0].min_time,
            files[0].max_time
        ),
        (2, 3, 10, 30)
    );
    assert_eq!(rows(&engine, &f.bucket, "m").await, before);
    assert_eq!(engine.pending_compactions(), 0);
}

#[tokio::test]
async fn partitions_written_recently_are_not_cold() {
    let f = fixture(SchemaType::Implicit).await;
    let engine = open(&f).await;
    for body in ["m,t=x v=1i 10", "m,t=x v=2i 20"] {
        write(&engine, &f.bucket, body).await;
        engine.persist().await.unwrap();
    }
    // Waiting to go cold counts as work to do; nothing is rewritten yet.
    assert_eq!(engine.pending_compactions(), 1);
    assert_eq!(engine.compact().await.unwrap().runs, 0);
    assert_eq!(file_count(&f).await, 2);
}

#[tokio::test]
async fn retention_hides_expired_rows_and_deletes_their_files() {
    let f = fixture(SchemaType::Implicit).await;
    let engine = open(&f).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let hour = 3_600_000_000_000i64;
    let old = now - 3 * 24 * hour;
    write(&engine, &f.bucket, &format!("m v=1 {old}\nm v=2 {now}")).await;
    engine.persist().await.unwrap();
    assert_eq!(file_count(&f).await, 2);

    engine.set_retention(f.bucket.id, 24 * 3600);
    let data = engine
        .table_data(f.bucket.id, "m", i64::MIN, i64::MAX)
        .unwrap()
        .unwrap();
    assert!(data.min_time > old && data.min_time < now);
    assert_eq!(data.files.len(), 1, "the expired day's file is not read");

    assert_eq!(engine.expire(now).await.unwrap(), 1);
    let files = f.catalog.list_parquet_files(f.bucket.id).await.unwrap();
    assert_eq!(files.len(), 1);
    assert!(files[0].min_time >= now - hour);
}

#[tokio::test]
async fn a_failed_persistence_retries_without_releasing_newer_wal_records() {
    let f = fixture(SchemaType::Implicit).await;
    let engine = open(&f).await;
    write(&engine, &f.bucket, "m,t=a v=1 10").await;
    // The object store fails: its directory is gone and a file stands in its way.
    let objects = f.dir.join("objects");
    std::fs::remove_dir_all(&objects).unwrap();
    std::fs::write(&objects, b"in the way").unwrap();
    assert!(engine.persist().await.is_err());
    // Rows written while the frozen buffer waits live only in the active buffer and the WAL.
    write(&engine, &f.bucket, "m,t=b v=2 20").await;
    std::fs::remove_file(&objects).unwrap();
    std::fs::create_dir_all(&objects).unwrap();
    let report = engine.persist().await.unwrap();
    assert_eq!(report.rows, 1, "the retry persists the frozen rows only");
    let before = rows(&engine, &f.bucket, "m").await;
    drop(engine);
    // After a crash the newer row comes back from the WAL.
    let engine = open(&f).await;
    assert_eq!(engine.buffered_rows(), 1);
    assert_eq!(rows(&engine, &f.bucket, "m").await, before);
    assert!(
        before.contains("| b ") && before.contains("| a "),
        "{before}"
    );
}

/// `table_files` gives `table_data`'s files and retention cut, and of the buffer only whether
/// it holds rows in the range.
#[tokio::test]
async fn table_files_tell_buffered_rows_apart_without_copying_them() {
    let f = fixture(SchemaType::Implicit).await;
    let engine = open(&f).await;
    write(&engine, &f.bucket, "m,t=a v=1 10\nm,t=a v=2 20").await;
    engine.persist().await.unwrap();
    write(&engine, &f.bucket, "m,t=a v=3 30").await;
    let same = |min: i64, max: i64| {
        let files = engine
            .table_files(f.bucket.id, "m", min, max)
            .unwrap()
            .unwrap();
        let data = engine
            .table_data(f.bucket.id, "m", min, max)
            .unwrap()
            .unwrap();
        assert_eq!(files.min_time, data.min_time);
        assert_eq!(files.files, data.files);
        assert_eq!(files.buffered, !data.batches.is_empty(), "{min}..={max}");
        files
    };
    let all = same(i64::MIN, i64::MAX);
    assert_eq!((all.files.len(), all.buffered), (1, true));
    let persisted = same(0, 25);
    assert_eq!((persisted.files.len(), persisted.buffered), (1, false));
    let buffered = same(25, 40);
    assert_eq!((buffered.files.len(), buffered.buffered), (0, true));
    assert!(engine
        .table_files(f.bucket.id, "nosuch", i64::MIN, i64::MAX)
        .unwrap()
        .is_none());
}
