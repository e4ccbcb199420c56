//! Raw SELECT: exact results over a small fixture.

use super::cpu;

const CASES: &[(&str, &str)] = &[
    (
        "SELECT usage FROM cpu",
        r#"+------------------+---------------------+-------+
| iox::measurement | time                | usage |
+------------------+---------------------+-------+
| cpu              | 2024-01-01T00:00:00 | 0.5   |
| cpu              | 2024-01-01T00:00:00 | 0.0   |
| cpu              | 2024-01-01T00:00:10 | 1.5   |
| cpu              | 2024-01-01T00:00:10 | 10.0  |
| cpu              | 2024-01-01T00:00:20 | 2.5   |
| cpu              | 2024-01-01T00:00:20 | 20.0  |
| cpu              | 2024-01-01T00:00:30 | 3.5   |
| cpu              | 2024-01-01T00:00:30 | 30.0  |
| cpu              | 2024-01-01T00:00:40 | 4.5   |
| cpu              | 2024-01-01T00:00:40 | 40.0  |
| cpu              | 2024-01-01T00:00:50 | 5.5   |
| cpu              | 2024-01-01T00:00:50 | 50.0  |
+------------------+---------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        // 1.x answers OFFSET without LIMIT with the one row at the offset.
        "SELECT usage FROM cpu WHERE host = 'a' OFFSET 2",
        r#"+------------------+---------------------+-------+
| iox::measurement | time                | usage |
+------------------+---------------------+-------+
| cpu              | 2024-01-01T00:00:20 | 2.5   |
+------------------+---------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT * FROM cpu WHERE host = 'a'",
        r#"+------------------+---------------------+------+------+--------+-------+
| iox::measurement | time                | host | idle | region | usage |
+------------------+---------------------+------+------+--------+-------+
| cpu              | 2024-01-01T00:00:00 | a    | 100  | east   | 0.5   |
| cpu              | 2024-01-01T00:00:10 | a    | 99   | east   | 1.5   |
| cpu              | 2024-01-01T00:00:20 | a    | 98   | east   | 2.5   |
| cpu              | 2024-01-01T00:00:30 | a    | 97   | east   | 3.5   |
| cpu              | 2024-01-01T00:00:40 | a    | 96   | east   | 4.5   |
| cpu              | 2024-01-01T00:00:50 | a    | 95   | east   | 5.5   |
+------------------+---------------------+------+------+--------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT usage, host FROM cpu GROUP BY region LIMIT 2",
        r#"+------------------+---------------------+--------+-------+------+
| iox::measurement | time                | region | usage | host |
+------------------+---------------------+--------+-------+------+
| cpu              | 2024-01-01T00:00:00 | east   | 0.5   | a    |
| cpu              | 2024-01-01T00:00:10 | east   | 1.5   | a    |
| cpu              | 2024-01-01T00:00:00 | west   | 0.0   | b    |
| cpu              | 2024-01-01T00:00:10 | west   | 10.0  | b    |
+------------------+---------------------+--------+-------+------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":2,"is_projected":false,"tag_key":"region"}]}"#,
    ),
    (
        "SELECT usage FROM cpu GROUP BY * ORDER BY time DESC LIMIT 1",
        r#"+------------------+---------------------+------+--------+-------+
| iox::measurement | time                | host | region | usage |
+------------------+---------------------+------+--------+-------+
| cpu              | 2024-01-01T00:00:50 | b    | west   | 50.0  |
| cpu              | 2024-01-01T00:00:50 | a    | east   | 5.5   |
+------------------+---------------------+------+--------+-------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":2,"is_projected":false,"tag_key":"host"},{"column_index":3,"is_projected":false,"tag_key":"region"}]}"#,
    ),
    (
        "SELECT /u/ FROM cpu,mem WHERE time >= '2024-01-01T00:00:40Z'",
        r#"+------------------+---------------------+-------+------+
| iox::measurement | time                | usage | used |
+------------------+---------------------+-------+------+
| cpu              | 2024-01-01T00:00:40 | 4.5   |      |
| cpu              | 2024-01-01T00:00:40 | 40.0  |      |
| cpu              | 2024-01-01T00:00:50 | 5.5   |      |
| cpu              | 2024-01-01T00:00:50 | 50.0  |      |
+------------------+---------------------+-------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT usage * 2 + idle, usage::integer, idle::tag FROM cpu WHERE usage > 2 AND host != 'b'",
        r#"+------------------+---------------------+------------+-------+------+
| iox::measurement | time                | usage_idle | usage | idle |
+------------------+---------------------+------------+-------+------+
| cpu              | 2024-01-01T00:00:20 | 103.0      | 2     |      |
| cpu              | 2024-01-01T00:00:30 | 104.0      | 3     |      |
| cpu              | 2024-01-01T00:00:40 | 105.0      | 4     |      |
| cpu              | 2024-01-01T00:00:50 | 106.0      | 5     |      |
+------------------+---------------------+------------+-------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT * FROM /m/",
        r#"+------------------+---------------------+------+------+------+
| iox::measurement | time                | free | host | used |
+------------------+---------------------+------+------+------+
| mem              | 2024-01-01T00:00:00 | 10   | a    | 2.5  |
+------------------+---------------------+------+------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT usage FROM cpu WHERE host =~ /^b/ AND time > 1704067220000000000 SLIMIT 1",
        r#"+------------------+---------------------+-------+
| iox::measurement | time                | usage |
+------------------+---------------------+-------+
| cpu              | 2024-01-01T00:00:30 | 30.0  |
| cpu              | 2024-01-01T00:00:40 | 40.0  |
| cpu              | 2024-01-01T00:00:50 | 50.0  |
+------------------+---------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT usage FROM cpu GROUP BY host SLIMIT 1 SOFFSET 1",
        r#"+------------------+---------------------+------+-------+
| iox::measurement | time                | host | usage |
+------------------+---------------------+------+-------+
| cpu              | 2024-01-01T00:00:00 | b    | 0.0   |
| cpu              | 2024-01-01T00:00:10 | b    | 10.0  |
| cpu              | 2024-01-01T00:00:20 | b    | 20.0  |
| cpu              | 2024-01-01T00:00:30 | b    | 30.0  |
| cpu              | 2024-01-01T00:00:40 | b    | 40.0  |
| cpu              | 2024-01-01T00:00:50 | b    | 50.0  |
+------------------+---------------------+------+-------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":2,"is_projected":false,"tag_key":"host"}]}"#,
    ),
    (
        "SELECT usage FROM nope",
        r#"(empty: iox::measurement, time, usage)
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT usage FROM cpu WHERE region = '' OR host = 'b' LIMIT 3 OFFSET 1",
        r#"+------------------+---------------------+-------+
| iox::measurement | time                | usage |
+------------------+---------------------+-------+
| cpu              | 2024-01-01T00:00:10 | 10.0  |
| cpu              | 2024-01-01T00:00:20 | 20.0  |
| cpu              | 2024-01-01T00:00:30 | 30.0  |
+------------------+---------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT usage FROM cpu ORDER BY time DESC LIMIT 3",
        r#"+------------------+---------------------+-------+
| iox::measurement | time                | usage |
+------------------+---------------------+-------+
| cpu              | 2024-01-01T00:00:50 | 50.0  |
| cpu              | 2024-01-01T00:00:50 | 5.5   |
| cpu              | 2024-01-01T00:00:40 | 40.0  |
+------------------+---------------------+-------+
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

/// A cast 1.x cannot make leaves the field out: no rows, rather than rows of nulls.
#[tokio::test]
async fn impossible_casts_read_nothing() {
    let f = cpu().await;
    let got = f
        .try_influxql("SELECT usage::string FROM cpu")
        .await
        .expect("runs");
    assert!(got.starts_with("(empty"), "{got}");
    let got = f
        .try_influxql("SELECT usage::integer FROM cpu WHERE host = 'a' LIMIT 1")
        .await
        .expect("runs");
    assert!(got.contains("| 0     |"), "{got}");
}
