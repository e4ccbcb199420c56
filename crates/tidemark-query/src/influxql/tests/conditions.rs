//! WHERE: tags (absent reads as ""), regexes, fields, booleans, arithmetic, time forms,
//! OR across time ranges; selectors with a companion tag per window.

use super::cpu;

const CASES: &[(&str, &str)] = &[
    (
        "SELECT usage FROM cpu WHERE host !~ /a/ AND usage >= 40",
        r#"+------------------+---------------------+-------+
| iox::measurement | time                | usage |
+------------------+---------------------+-------+
| cpu              | 2024-01-01T00:00:40 | 40.0  |
| cpu              | 2024-01-01T00:00:50 | 50.0  |
+------------------+---------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT full FROM disk WHERE full = true",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | full |
+------------------+---------------------+------+
| disk             | 2024-01-01T00:00:00 | true |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT free FROM mem WHERE region = ''",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | free |
+------------------+---------------------+------+
| mem              | 2024-01-01T00:00:00 | 10   |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT free FROM mem WHERE region != 'east'",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | free |
+------------------+---------------------+------+
| mem              | 2024-01-01T00:00:00 | 10   |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT free FROM mem WHERE region =~ /^$/",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | free |
+------------------+---------------------+------+
| mem              | 2024-01-01T00:00:00 | 10   |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        // At 00:00:50 1.x's heap merge gives host b's point first (see `scan::merge_order`).
        "SELECT usage FROM cpu WHERE (host = 'a' OR usage > 45) AND time >= '2024-01-01T00:00:40Z'",
        r#"+------------------+---------------------+-------+
| iox::measurement | time                | usage |
+------------------+---------------------+-------+
| cpu              | 2024-01-01T00:00:40 | 4.5   |
| cpu              | 2024-01-01T00:00:50 | 50.0  |
| cpu              | 2024-01-01T00:00:50 | 5.5   |
+------------------+---------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT usage FROM cpu WHERE time >= now() - 10m AND time <= now() - 9m10s",
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
        "SELECT idle FROM cpu WHERE idle * 2 > 196 AND idle < 100",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | idle |
+------------------+---------------------+------+
| cpu              | 2024-01-01T00:00:10 | 99   |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT max(usage), host FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:00:40Z' GROUP BY time(20s)",
        r#"+------------------+---------------------+------+------+
| iox::measurement | time                | max  | host |
+------------------+---------------------+------+------+
| cpu              | 2024-01-01T00:00:00 | 10.0 | b    |
| cpu              | 2024-01-01T00:00:20 | 30.0 | b    |
+------------------+---------------------+------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT usage FROM cpu WHERE time > '2024-01-01T00:00:40Z' OR time < '2024-01-01T00:00:10Z'",
        r#"+------------------+---------------------+-------+
| iox::measurement | time                | usage |
+------------------+---------------------+-------+
| cpu              | 2024-01-01T00:00:00 | 0.5   |
| cpu              | 2024-01-01T00:00:00 | 0.0   |
| cpu              | 2024-01-01T00:00:50 | 5.5   |
| cpu              | 2024-01-01T00:00:50 | 50.0  |
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
