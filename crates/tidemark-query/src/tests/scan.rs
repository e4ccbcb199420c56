//! The table provider: buffered rows, Parquet files, de-duplication and time pruning.

use super::{fixture, fixture_with_retention, table};

const DAY: i64 = 86_400_000_000_000;

#[tokio::test]
async fn buffered_rows_are_read_under_every_table_name() {
    let f = fixture().await;
    f.write("cpu,host=a usage=1,idle=2i 10\ncpu,host=b usage=3 20")
        .await;
    let expected = table(&[
        "+------+------+-------------------------------+-------+",
        "| host | idle | time                          | usage |",
        "+------+------+-------------------------------+-------+",
        "| a    | 2    | 1970-01-01T00:00:00.000000010 | 1.0   |",
        "| b    |      | 1970-01-01T00:00:00.000000020 | 3.0   |",
        "+------+------+-------------------------------+-------+",
    ]);
    for name in ["cpu", "iox.cpu", "public.iox.cpu"] {
        assert_eq!(
            f.query(&format!("SELECT * FROM {name} ORDER BY time"))
                .await,
            expected
        );
    }
}

#[tokio::test]
async fn duplicates_merge_within_the_buffer_and_across_chunks() {
    let f = fixture().await;
    // Twice the same point in the buffer: fields merge, the later value wins.
    f.write("cpu,host=a usage=1,idle=2i 10").await;
    f.write("cpu,host=a usage=5 10").await;
    f.persist().await;
    // A newer write of the persisted point, in the buffer.
    f.write("cpu,host=a note=\"new\" 10\ncpu,host=b usage=9 10")
        .await;
    let merged = table(&[
        "+------+------+------+-------------------------------+-------+",
        "| host | idle | note | time                          | usage |",
        "+------+------+------+-------------------------------+-------+",
        "| a    | 2    | new  | 1970-01-01T00:00:00.000000010 | 5.0   |",
        "| b    |      |      | 1970-01-01T00:00:00.000000010 | 9.0   |",
        "+------+------+------+-------------------------------+-------+",
    ]);
    assert_eq!(f.query("SELECT * FROM cpu ORDER BY host").await, merged);
    // The same once everything is in two overlapping files.
    f.persist().await;
    assert_eq!(f.query("SELECT * FROM cpu ORDER BY host").await, merged);
    assert!(f
        .plan("SELECT * FROM cpu")
        .await
        .contains("DedupeExec: chunks=2"));
    assert_eq!(
        f.query("SELECT count(*) AS n FROM cpu").await,
        table(&["+---+", "| n |", "+---+", "| 2 |", "+---+"])
    );
}

#[tokio::test]
async fn a_field_filter_never_resurrects_an_overwritten_value() {
    let f = fixture().await;
    f.write("cpu,host=a usage=10 10").await;
    f.persist().await;
    f.write("cpu,host=a usage=1 10").await;
    assert_eq!(
        f.query("SELECT usage FROM cpu WHERE usage > 5").await,
        table(&["++", "++"])
    );
    assert_eq!(
        f.query("SELECT usage FROM cpu WHERE usage < 5").await,
        table(&[
            "+-------+",
            "| usage |",
            "+-------+",
            "| 1.0   |",
            "+-------+"
        ])
    );
    // Tag filters may go below the merge: they drop whole series.
    assert_eq!(
        f.query("SELECT usage FROM cpu WHERE host = 'b'").await,
        table(&["++", "++"])
    );
}

#[tokio::test]
async fn non_overlapping_files_are_read_without_a_merge() {
    let f = fixture().await;
    for day in 0..4 {
        f.write(&format!(
            "m,t=x v={day} {}\nm,t=y v=1 {}",
            day * DAY + 5,
            day * DAY + 6
        ))
        .await;
        f.persist().await;
    }
    let plan = f.plan("SELECT sum(v) FROM m").await;
    assert!(!plan.contains("DedupeExec"), "{plan}");
    assert!(plan.contains("DataSourceExec"), "{plan}");
    // Their row counts are exact, so a bare count reads no file at all.
    let plan = f.plan("SELECT count(*) FROM m").await;
    assert!(!plan.contains("DataSourceExec"), "{plan}");
    assert!(plan.contains("PlaceholderRowExec"), "{plan}");
    assert_eq!(
        f.query("SELECT count(*) AS n FROM m").await,
        table(&["+---+", "| n |", "+---+", "| 8 |", "+---+"])
    );
    // With a filter the count is no longer known in advance.
    let plan = f.plan("SELECT count(*) FROM m WHERE t = 'x'").await;
    assert!(plan.contains("DataSourceExec"), "{plan}");
    assert_eq!(
        f.query("SELECT count(*) AS n FROM m WHERE t = 'x'").await,
        table(&["+---+", "| n |", "+---+", "| 4 |", "+---+"])
    );
    assert_eq!(
        f.query("SELECT count(*) AS n, sum(v) AS s FROM m").await,
        table(&[
            "+---+------+",
            "| n | s    |",
            "+---+------+",
            "| 8 | 10.0 |",
            "+---+------+"
        ])
    );
}

#[tokio::test]
async fn the_time_range_prunes_files_and_partitions() {
    let f = fixture().await;
    for day in 0..3 {
        f.write(&format!("m,t=x v={day} {}", day * DAY + 5)).await;
        f.persist().await;
    }
    f.write(&format!("m,t=x v=3 {}", 3 * DAY + 5)).await;
    let all = f.plan("SELECT * FROM m").await;
    assert_eq!(all.matches(".parquet").count(), 3, "{all}");
    let from_day_one = format!(
        "SELECT v FROM m WHERE time >= to_timestamp_nanos({DAY}) AND time < to_timestamp_nanos({})",
        2 * DAY
    );
    let plan = f.plan(&from_day_one).await;
    assert_eq!(plan.matches(".parquet").count(), 1, "{plan}");
    assert!(
        !plan.contains("DedupeExec"),
        "the buffer (day 3) is not read: {plan}"
    );
    assert_eq!(
        f.query(&from_day_one).await,
        table(&["+-----+", "| v   |", "+-----+", "| 1.0 |", "+-----+"])
    );
    let between = "SELECT v FROM m WHERE time BETWEEN '1970-01-03T00:00:00Z' AND '1970-01-04T00:00:00Z' ORDER BY v";
    assert_eq!(f.plan(between).await.matches(".parquet").count(), 1);
    assert_eq!(
        f.query(between).await,
        table(&["+-----+", "| v   |", "+-----+", "| 2.0 |", "+-----+"])
    );
    // A range that holds nothing reads nothing.
    let none = "SELECT v FROM m WHERE time > '2000-01-01T00:00:00Z'";
    assert!(!f.plan(none).await.contains(".parquet"));
    assert_eq!(f.query(none).await, table(&["++", "++"]));
}

#[tokio::test]
async fn files_without_later_columns_read_as_nulls() {
    let f = fixture().await;
    f.write("cpu,host=a usage=1 10").await;
    f.persist().await;
    f.write(&format!(
        "cpu,host=b,region=eu usage=2,extra=3i {}",
        DAY + 10
    ))
    .await;
    f.persist().await;
    assert_eq!(
        f.query("SELECT host, region, extra, usage FROM cpu ORDER BY time")
            .await,
        table(&[
            "+------+--------+-------+-------+",
            "| host | region | extra | usage |",
            "+------+--------+-------+-------+",
            "| a    |        |       | 1.0   |",
            "| b    | eu     | 3     | 2.0   |",
            "+------+--------+-------+-------+",
        ])
    );
    assert_eq!(
        f.query("SELECT host FROM cpu WHERE region IS NULL").await,
        table(&["+------+", "| host |", "+------+", "| a    |", "+------+"])
    );
}

#[tokio::test]
async fn rows_past_retention_are_hidden() {
    let f = fixture_with_retention(3600).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default();
    let two_hours = 2 * 3600 * 1_000_000_000;
    f.write(&format!(
        "m,t=x v=1 {}\nm,t=x v=2 {}",
        now - two_hours,
        now - 1_000
    ))
    .await;
    assert_eq!(
        f.query("SELECT v FROM m").await,
        table(&["+-----+", "| v   |", "+-----+", "| 2.0 |", "+-----+"])
    );
    assert_eq!(
        f.query("SELECT count(*) AS n FROM m").await,
        table(&["+---+", "| n |", "+---+", "| 1 |", "+---+"])
    );
}

#[tokio::test]
async fn files_overlapping_at_their_edges_merge_only_the_overlap() {
    let f = fixture().await;
    // Two files overlapping at times 20..=30, with one point written twice there.
    f.write("m,t=x v=1 10\nm,t=x v=2 20\nm,t=x v=3 30").await;
    f.persist().await;
    f.write("m,t=x v=30 30\nm,t=y v=4 20\nm,t=x v=5 40").await;
    f.persist().await;
    let plan = f.plan("SELECT t, v, time FROM m").await;
    // Each file's edge outside the overlap is read directly; only times 20..=30 are merged.
    assert_eq!(plan.matches("DedupeExec").count(), 1, "{plan}");
    assert_eq!(plan.matches("DataSourceExec").count(), 4, "{plan}");
    assert_eq!(
        f.query("SELECT t, v, time FROM m ORDER BY t, time").await,
        table(&[
            "+---+------+-------------------------------+",
            "| t | v    | time                          |",
            "+---+------+-------------------------------+",
            "| x | 1.0  | 1970-01-01T00:00:00.000000010 |",
            "| x | 2.0  | 1970-01-01T00:00:00.000000020 |",
            "| x | 30.0 | 1970-01-01T00:00:00.000000030 |",
            "| x | 5.0  | 1970-01-01T00:00:00.000000040 |",
            "| y | 4.0  | 1970-01-01T00:00:00.000000020 |",
            "+---+------+-------------------------------+",
        ])
    );
    assert_eq!(
        f.query("SELECT count(*) AS n FROM m").await,
        table(&["+---+", "| n |", "+---+", "| 5 |", "+---+"])
    );
}
