//! The direct path (`select/direct.rs`) against the DataFusion path: the same statements over
//! the same persisted files, through a query engine with the direct path and one without,
//! must give identical answers.

use std::sync::Arc;

use super::{NOW, SEC, T0};
use crate::direct::{DirectCache, Run, BLOCK};
use crate::tests::{fixture, Fixture};
use crate::{QueryConfig, QueryEngine};

/// cpu: hosts a, b, c (regions east, west, east) and d (no region), every 10 s for 10 min;
/// integer `idle`, float `usage`, a sparse float `temp`, a string `note` on host a. mem: one
/// series. Written and persisted in two halves, so there are two files per table.
async fn persisted() -> Fixture {
    let f = fixture().await;
    for half in 0..2i64 {
        let mut lp = String::new();
        for i in (half * 30)..(half * 30 + 30) {
            let t = T0 + i * 10 * SEC;
            for (h, host, region) in [
                (0, "a", ",region=east"),
                (1, "b", ",region=west"),
                (2, "c", ",region=east"),
                (3, "d", ""),
            ] {
                let usage = ((i * 7 + h * 13) % 41) as f64 + 0.25 * h as f64;
                let idle = 100 - (i + h * 3) % 9;
                let mut fields = format!("usage={usage},idle={idle}i");
                if i % 3 == 0 {
                    fields.push_str(&format!(",temp={}", 20.0 + (i % 5) as f64));
                }
                if h == 0 && i % 4 == 0 {
                    fields.push_str(&format!(",note=\"n{i}\""));
                }
                lp.push_str(&format!("cpu,host={host}{region} {fields} {t}\n"));
            }
            lp.push_str(&format!("mem,host=a free={}i,used={}.5 {t}\n", 1000 - i, i));
        }
        f.write(&lp).await;
        f.persist().await;
    }
    f
}

fn statements() -> Vec<String> {
    let b = format!("time >= {T0} AND time < {}", T0 + 600 * SEC);
    [
        format!("SELECT max(usage) FROM cpu WHERE host = 'a' AND {b} GROUP BY time(1m)"),
        format!("SELECT mean(usage), max(idle), min(idle), count(usage), sum(idle), sum(usage), first(usage), last(idle), spread(idle) FROM cpu WHERE {b} GROUP BY time(2m), host"),
        "SELECT last(usage) FROM cpu GROUP BY host".into(),
        "SELECT first(usage) FROM cpu GROUP BY region".into(),
        "SELECT max(idle) FROM cpu".into(),
        "SELECT min(usage) FROM cpu WHERE region = 'east'".into(),
        format!("SELECT count(temp) FROM cpu WHERE {b} GROUP BY time(1m) fill(0)"),
        format!("SELECT mean(usage) FROM cpu WHERE host =~ /[ab]/ AND {b} GROUP BY time(1m), host fill(previous)"),
        format!("SELECT max(usage) FROM cpu WHERE (host = 'a' OR host = 'c') AND {b} GROUP BY time(1m) ORDER BY time DESC LIMIT 3"),
        format!("SELECT * FROM cpu WHERE usage > 20 AND host = 'b' AND {b}"),
        "SELECT usage, idle, host FROM cpu WHERE host = 'a' LIMIT 5 OFFSET 2".into(),
        "SELECT usage FROM cpu WHERE host = 'a' ORDER BY time DESC LIMIT 4".into(),
        "SELECT * FROM cpu GROUP BY host".into(),
        "SELECT * FROM cpu WHERE region = 'east'".into(),
        format!("SELECT max(usage) FROM cpu WHERE region != 'west' AND idle > 96 AND {b} GROUP BY time(1m)"),
        "SELECT sum(idle) FROM cpu WHERE region = '' GROUP BY host".into(),
        "SELECT mean(nosuch) FROM cpu".into(),
        format!("SELECT max(usage) FROM cpu, mem WHERE {b} GROUP BY time(5m)"),
        "SELECT last(free) FROM mem".into(),
        format!("SELECT count(usage) FROM cpu WHERE host !~ /a/ AND {b} GROUP BY time(3m, 20s)"),
        format!("SELECT mean(usage) FROM cpu WHERE time >= {} AND time <= {} GROUP BY time(1m)", T0 + 95 * SEC, T0 + 305 * SEC),
        "SELECT usage::integer, idle::float FROM cpu WHERE host = 'b' LIMIT 3".into(),
        "SELECT max(usage) * 2, min(idle) + 1 FROM cpu GROUP BY host".into(),
        "SELECT derivative(usage) FROM cpu WHERE host = 'a' LIMIT 5".into(),
        "SELECT mean(usage) FROM cpu WHERE time > now() - 5m GROUP BY time(1m)".into(),
        "SELECT first(usage), last(usage) FROM cpu WHERE host = 'd'".into(),
        "SELECT idle FROM cpu WHERE idle >= 97 AND host = 'c'".into(),
        "SELECT max(usage) FROM cpu WHERE usage < 10.5 OR host = 'b' GROUP BY host".into(),
        "SELECT * FROM mem".into(),
        "SELECT note FROM cpu WHERE host = 'a'".into(),
        format!("SELECT count(usage) FROM /c.*/ WHERE {b} GROUP BY time(1m)"),
        format!("SELECT spread(usage) FROM cpu WHERE {b} GROUP BY time(1m), host fill(none) SLIMIT 2"),
        format!("SELECT min(usage), max(usage) FROM cpu WHERE {b} GROUP BY *"),
        "SELECT mean(idle) FROM cpu WHERE idle = 100 OR idle = 92.0 GROUP BY host".into(),
        "SELECT max(usage) FROM cpu WHERE host = 'nobody'".into(),
        format!("SELECT last(usage) FROM cpu WHERE time > {} GROUP BY host", NOW + 3600 * SEC),
        // ORDER BY time DESC LIMIT: only the newest windows are read, unless a group has no
        // row in them (the range runs 5 minutes past the data), or the fill needs more.
        format!("SELECT max(usage) FROM cpu WHERE {b} GROUP BY time(1m) ORDER BY time DESC LIMIT 2"),
        format!("SELECT count(temp), mean(idle) FROM cpu WHERE {b} GROUP BY time(1m), host fill(0) ORDER BY time DESC LIMIT 2 OFFSET 1"),
        format!("SELECT max(usage) FROM cpu WHERE time >= {T0} AND time < {} GROUP BY time(1m), host ORDER BY time DESC LIMIT 3", T0 + 900 * SEC),
        format!("SELECT max(usage) FROM cpu WHERE time >= {T0} AND time < {} GROUP BY time(1m) fill(previous) ORDER BY time DESC LIMIT 7", T0 + 900 * SEC),
        format!("SELECT max(temp) FROM cpu WHERE time >= {T0} AND time < {} GROUP BY time(20s) fill(none) ORDER BY time DESC LIMIT 2", T0 + 900 * SEC),
        format!("SELECT max(usage) FROM cpu WHERE host = 'a' AND time >= {T0} AND time < {} GROUP BY time(1m) ORDER BY time DESC LIMIT 2", T0 + 301 * SEC),
    ]
    .into()
}

async fn reference(f: &Fixture) -> QueryEngine {
    with_cache(f, 0)
}

fn with_cache(f: &Fixture, direct_cache_bytes: usize) -> QueryEngine {
    QueryEngine::new(
        Arc::clone(&f.engine),
        QueryConfig {
            threads: 2,
            target_partitions: 2,
            memory_limit: None,
            direct_cache_bytes,
            timeout: None,
        },
    )
    .expect("query engine")
}

/// A read larger than half the cache goes to DataFusion whole, and answers the same.
#[tokio::test]
async fn reads_larger_than_half_the_cache_take_the_datafusion_path() {
    let f = persisted().await;
    let datafusion = reference(&f).await;
    let small = with_cache(&f, 2048);
    compare_with(&f, &small, &datafusion).await;
    // Only reads of one series (or none) fit in 1 KiB: far fewer than with the default.
    compare(&f, &datafusion).await;
    let (few, all) = (small.direct_answers(), f.query.direct_answers());
    assert!(few * 2 < all, "{few} of {all} reads fit in 1 KiB");
}

async fn compare(f: &Fixture, datafusion: &QueryEngine) {
    compare_with(f, &f.query, datafusion).await;
}

/// Every statement answers the same through `direct` as through `datafusion`.
async fn compare_with(f: &Fixture, direct: &QueryEngine, datafusion: &QueryEngine) {
    for q in statements() {
        let got = f.try_influxql_with(direct, &q).await;
        let expected = f.try_influxql_with(datafusion, &q).await;
        match (got, expected) {
            (Ok(d), Ok(e)) => assert_eq!(d, e, "{q}"),
            (Err(d), Err(e)) => assert_eq!(d.to_string(), e.to_string(), "{q}"),
            (d, e) => panic!("{q}: direct {d:?}, DataFusion {e:?}"),
        }
    }
}

/// A time range within a run needs only the blocks that can hold it; every row in the range
/// is among them.
#[tokio::test]
async fn a_time_range_narrows_a_run_to_the_blocks_that_hold_it() {
    let f = persisted().await;
    let cache = DirectCache::new(
        f.engine.object_store(),
        f.engine.local_object_root(),
        1 << 20,
    )
    .expect("cache");
    let indexes = cache.indexes(&f.engine.files()).await.expect("indexes");
    let aligned =
        |row: usize, run: &Run| row == run.start || row == run.end || row.is_multiple_of(BLOCK);
    let mut narrowed = 0;
    for index in &indexes {
        for run in &index.runs {
            assert_eq!(
                index.rows_within(run, i64::MIN, i64::MAX),
                (run.start, run.end)
            );
            // The fixture's rows are 10 s apart within a run.
            for row in run.start..run.end {
                let t = run.min_time + (row - run.start) as i64 * 10 * SEC;
                let (s, e) = index.rows_within(run, t, t);
                assert!(s <= row && row < e, "row {row} outside {s}..{e}");
                assert!(aligned(s, run) && aligned(e, run), "{s}..{e}");
                assert!(e - s <= 2 * BLOCK, "{s}..{e}");
                narrowed += usize::from(e - s < run.end - run.start);
            }
        }
    }
    assert!(narrowed > 100, "only {narrowed} ranges narrowed");
}

/// A time range within runs a query read whole is sliced from the cached runs, not decoded
/// again, and answers as DataFusion does.
#[tokio::test]
async fn blocks_of_runs_read_whole_come_from_the_cache() {
    let f = persisted().await;
    let datafusion = reference(&f).await;
    let whole = "SELECT max(usage), min(idle) FROM cpu GROUP BY host".to_owned();
    let part = format!(
        "SELECT max(usage), min(idle) FROM cpu WHERE time >= {} AND time <= {} GROUP BY host",
        T0 + 95 * SEC,
        T0 + 205 * SEC
    );
    let mut cached = Vec::new();
    for q in [&whole, &part] {
        let got = f.try_influxql_with(&f.query, q).await.expect("direct");
        let expected = f
            .try_influxql_with(&datafusion, q)
            .await
            .expect("datafusion");
        assert_eq!(got, expected, "{q}");
        cached.push(f.query.direct.cached_bytes());
    }
    assert_eq!(f.query.direct_answers(), 2);
    assert!(cached[0] > 0);
    assert_eq!(cached[1], cached[0], "the range decoded blocks again");
}

/// Host a's maximum usage per minute over the fixture's ten minutes.
fn host_a_per_minute() -> String {
    format!(
        "SELECT max(usage) FROM cpu WHERE host = 'a' AND time >= {T0} AND time < {} GROUP BY time(1m)",
        T0 + 600 * SEC
    )
}

#[tokio::test]
async fn direct_answers_equal_datafusion_answers() {
    let f = persisted().await;
    let datafusion = reference(&f).await;
    compare(&f, &datafusion).await;
    let answered = f.query.direct_answers();
    // Everything but the statements with several series in a raw group.
    assert!(answered >= 30, "the direct path answered only {answered}");
    assert_eq!(datafusion.direct_answers(), 0);
    // Again, from the cache.
    compare(&f, &datafusion).await;
}

#[tokio::test]
async fn buffered_or_overlapping_rows_take_the_datafusion_path() {
    let f = persisted().await;
    let datafusion = reference(&f).await;
    let host_a = host_a_per_minute();
    let directly = |before: u64| f.query.direct_answers() - before;
    // A point of host a rewritten: the buffer holds it, then a third file overlapping the first.
    f.write(&format!(
        "cpu,host=a,region=east usage=99.5,idle=1i {}\n",
        T0 + 20 * SEC
    ))
    .await;
    compare(&f, &datafusion).await;
    let before = f.query.direct_answers();
    let out = f.try_influxql(&host_a).await.expect("query");
    assert!(out.contains("99.5"), "the buffered point counts:\n{out}");
    assert_eq!(directly(before), 0, "buffered rows are never read directly");
    f.persist().await;
    compare(&f, &datafusion).await;
    let before = f.query.direct_answers();
    let out = f.try_influxql(&host_a).await.expect("query");
    assert!(out.contains("99.5"), "the rewritten point wins:\n{out}");
    assert_eq!(
        directly(before),
        0,
        "overlapping files are merged by DataFusion"
    );
    // mem's files do not overlap.
    f.try_influxql("SELECT last(free) FROM mem")
        .await
        .expect("query");
    assert_eq!(directly(before), 1);
}

/// A small SELECT is answered on the caller's thread. One that would read more than the
/// inline limit, or that needs DataFusion, declines and runs again on the query runtime: the
/// same answer, and its direct reads counted once.
#[tokio::test]
async fn small_selects_are_answered_on_the_callers_thread() {
    let f = persisted().await;
    let datafusion = reference(&f).await;
    let host_a = host_a_per_minute();
    let counts = |q: &QueryEngine| (q.inline_answers(), q.direct_answers());
    let expected = f
        .try_influxql_with(&datafusion, &host_a)
        .await
        .expect("query");
    // The first read builds the series indexes, which the caller's thread never does.
    assert_eq!(f.try_influxql(&host_a).await.expect("query"), expected);
    let before = counts(&f.query);
    assert_eq!(f.try_influxql(&host_a).await.expect("query"), expected);
    let after = counts(&f.query);
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));

    // Two hosts in one raw group need DataFusion's merge: declined, no direct read.
    let east = "SELECT * FROM cpu WHERE region = 'east'";
    let before = counts(&f.query);
    assert_eq!(
        f.try_influxql(east).await.expect("query"),
        f.try_influxql_with(&datafusion, east).await.expect("query")
    );
    assert_eq!(counts(&f.query), before);

    // With room for no value on the caller's thread, the same read runs on the query runtime.
    let mut strict = with_cache(&f, 64 << 20);
    strict.set_inline_values(0);
    for _ in 0..2 {
        assert_eq!(
            f.try_influxql_with(&strict, &host_a).await.expect("query"),
            expected
        );
    }
    assert_eq!(counts(&strict), (0, 2));
    compare_with(&f, &strict, &datafusion).await;
}

/// `last` and `first` alone read a series' newest (oldest) file first, and the others only
/// where that file has no value in range: the answers stay DataFusion's.
#[tokio::test]
async fn lone_selectors_fall_back_to_older_files_without_a_value() {
    let f = fixture().await;
    let t = |i: i64| T0 + i * 60 * SEC;
    for lp in [
        format!("m,host=a v=1i,w=5i {}\nm,host=b v=1i {}", t(0), t(0)),
        format!("m,host=a v=2i {}\nm,host=b v=3i,w=7i {}", t(1), t(1)),
        format!("m,host=a v=4i {}", t(2)),
    ] {
        f.write(&lp).await;
        f.persist().await;
    }
    let datafusion = reference(&f).await;
    let before = f.query.direct_answers();
    let statements = [
        "SELECT last(w) FROM m GROUP BY host".to_owned(),
        "SELECT last(v), last(w) FROM m GROUP BY host".to_owned(),
        "SELECT first(w) FROM m GROUP BY host".to_owned(),
        "SELECT first(v) FROM m GROUP BY host".to_owned(),
        "SELECT last(v) FROM m GROUP BY host".to_owned(),
        "SELECT last(v) FROM m".to_owned(),
        "SELECT first(w) FROM m".to_owned(),
        format!("SELECT last(v) FROM m WHERE time < {} GROUP BY host", t(2)),
        format!("SELECT first(v) FROM m WHERE time > {} GROUP BY host", t(0)),
        format!("SELECT last(v) FROM m WHERE time > {} GROUP BY host", t(2)),
    ];
    for q in &statements {
        assert_eq!(
            f.try_influxql(q).await.expect("query"),
            f.try_influxql_with(&datafusion, q).await.expect("query"),
            "{q}"
        );
    }
    assert_eq!(
        f.query.direct_answers() - before,
        statements.len() as u64,
        "each answered directly"
    );
    let got = f
        .try_influxql("SELECT last(w) FROM m GROUP BY host")
        .await
        .expect("query");
    assert!(got.contains('5') && got.contains('7'), "{got}");
}
