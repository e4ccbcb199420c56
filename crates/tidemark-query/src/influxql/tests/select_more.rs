//! Raw selects: first and last rows per series (computed without sorting every row),
//! several measurements, exact time.

use super::cpu;

const CASES: &[(&str, &str)] = &[
    (
        "SELECT usage, host FROM cpu, mem GROUP BY host LIMIT 1",
        r#"+------------------+---------------------+-------+------+
| iox::measurement | time                | usage | host |
+------------------+---------------------+-------+------+
| cpu              | 2024-01-01T00:00:00 | 0.5   | a    |
| cpu              | 2024-01-01T00:00:00 | 0.0   | b    |
+------------------+---------------------+-------+------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":3,"is_projected":true,"tag_key":"host"}]}"#,
    ),
    (
        "SELECT * FROM cpu, mem GROUP BY host ORDER BY time DESC LIMIT 1",
        r#"+------------------+---------------------+------+------+------+--------+-------+------+
| iox::measurement | time                | host | free | idle | region | usage | used |
+------------------+---------------------+------+------+------+--------+-------+------+
| mem              | 2024-01-01T00:00:00 | a    | 10   |      |        |       | 2.5  |
| cpu              | 2024-01-01T00:00:50 | b    |      |      | west   | 50.0  |      |
| cpu              | 2024-01-01T00:00:50 | a    |      | 95   | east   | 5.5   |      |
+------------------+---------------------+------+------+------+--------+-------+------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":2,"is_projected":false,"tag_key":"host"}]}"#,
    ),
    (
        "SELECT usage FROM cpu GROUP BY host ORDER BY time DESC LIMIT 2 OFFSET 1",
        r#"+------------------+---------------------+------+-------+
| iox::measurement | time                | host | usage |
+------------------+---------------------+------+-------+
| cpu              | 2024-01-01T00:00:40 | b    | 40.0  |
| cpu              | 2024-01-01T00:00:30 | b    | 30.0  |
| cpu              | 2024-01-01T00:00:40 | a    | 4.5   |
| cpu              | 2024-01-01T00:00:30 | a    | 3.5   |
+------------------+---------------------+------+-------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":2,"is_projected":false,"tag_key":"host"}]}"#,
    ),
    (
        "SELECT free, used FROM mem WHERE time = '2024-01-01T00:00:00Z'",
        r#"+------------------+---------------------+------+------+
| iox::measurement | time                | free | used |
+------------------+---------------------+------+------+
| mem              | 2024-01-01T00:00:00 | 10   | 2.5  |
+------------------+---------------------+------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
];

#[tokio::test]
async fn cases() {
    let f = cpu().await;
    for (q, want) in CASES {
        let got = f
            .try_influxql(q)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(got, *want, "{q}");
    }
}

/// Persisted Parquet files (dictionary tags, pruning by time and tag statistics) answer as
/// the buffer does.
#[tokio::test]
async fn persisted_and_buffered_rows_answer_alike() {
    let f = cpu().await;
    let queries = [
        "SELECT * FROM cpu GROUP BY host ORDER BY time DESC LIMIT 2",
        "SELECT mean(usage), max(idle) FROM cpu WHERE host = 'a' AND time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:01:00Z' GROUP BY time(20s)",
        "SELECT last(usage) FROM cpu GROUP BY region",
        "SELECT mode(usage), top(usage, 1) FROM cpu",
        "SHOW TAG VALUES WITH KEY = host WHERE region = 'west'",
        "SHOW SERIES",
    ];
    let mut before = Vec::new();
    for q in queries {
        before.push(f.try_influxql(q).await.map_err(|e| e.to_string()));
    }
    f.persist().await;
    for (q, want) in queries.iter().zip(before) {
        assert_eq!(
            f.try_influxql(q).await.map_err(|e| e.to_string()),
            want,
            "{q}"
        );
    }
}
