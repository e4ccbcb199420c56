//! Subqueries: the inner result is read as measurements by the outer query.

use super::cpu;

const CASES: &[(&str, &str)] = &[
    (
        "SELECT max(m) FROM (SELECT mean(usage) AS m FROM cpu GROUP BY host)",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | max  |
+------------------+---------------------+------+
| cpu              | 1970-01-01T00:00:00 | 25.0 |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT m FROM (SELECT mean(usage) AS m FROM cpu GROUP BY host) GROUP BY host",
        r#"+------------------+---------------------+------+------+
| iox::measurement | time                | host | m    |
+------------------+---------------------+------+------+
| cpu              | 1970-01-01T00:00:00 | a    | 3.0  |
| cpu              | 1970-01-01T00:00:00 | b    | 25.0 |
+------------------+---------------------+------+------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":2,"is_projected":false,"tag_key":"host"}]}"#,
    ),
    (
        "SELECT mean(usage) FROM (SELECT usage, host FROM cpu WHERE host = 'a')",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | mean |
+------------------+---------------------+------+
| cpu              | 1970-01-01T00:00:00 | 3.0  |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT sum(m) FROM (SELECT max(usage) AS m FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:01:00Z' GROUP BY time(20s), host) WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:01:00Z' GROUP BY time(20s)",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | sum  |
+------------------+---------------------+------+
| cpu              | 2024-01-01T00:00:00 | 11.5 |
| cpu              | 2024-01-01T00:00:20 | 33.5 |
| cpu              | 2024-01-01T00:00:40 | 55.5 |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT * FROM (SELECT usage FROM cpu WHERE usage > 40), (SELECT free FROM mem)",
        r#"+------------------+---------------------+------+-------+
| iox::measurement | time                | free | usage |
+------------------+---------------------+------+-------+
| cpu              | 2024-01-01T00:00:50 |      | 50.0  |
| mem              | 2024-01-01T00:00:00 | 10   |       |
+------------------+---------------------+------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        // The subquery is grouped by the outer GROUP BY tags too (1.x), so region reaches it.
        "SELECT max(usage) FROM (SELECT usage FROM cpu) GROUP BY region",
        r#"+------------------+---------------------+--------+------+
| iox::measurement | time                | region | max  |
+------------------+---------------------+--------+------+
| cpu              | 2024-01-01T00:00:50 | east   | 5.5  |
| cpu              | 2024-01-01T00:00:50 | west   | 50.0 |
+------------------+---------------------+--------+------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":2,"is_projected":false,"tag_key":"region"}]}"#,
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
