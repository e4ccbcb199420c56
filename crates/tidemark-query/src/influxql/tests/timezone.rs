//! tz(): local time strings, windows on the zone's wall clock, zoned output times.

use super::cpu;

const CASES: &[(&str, &str)] = &[
    (
        "SELECT count(usage) FROM cpu WHERE time >= '2023-12-31T00:00:00Z' AND time < '2024-01-02T00:00:00Z' GROUP BY time(1d) tz('America/Chicago')",
        r#"+------------------+---------------------------+-------+
| iox::measurement | time                      | count |
+------------------+---------------------------+-------+
| cpu              | 2023-12-30T00:00:00-06:00 | 0     |
| cpu              | 2023-12-31T00:00:00-06:00 | 12    |
| cpu              | 2024-01-01T00:00:00-06:00 | 0     |
+------------------+---------------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT usage FROM cpu WHERE host = 'a' AND time >= '2024-01-01 01:00:30' tz('Europe/Paris')",
        r#"+------------------+---------------------------+-------+
| iox::measurement | time                      | usage |
+------------------+---------------------------+-------+
| cpu              | 2024-01-01T01:00:30+01:00 | 3.5   |
| cpu              | 2024-01-01T01:00:40+01:00 | 4.5   |
| cpu              | 2024-01-01T01:00:50+01:00 | 5.5   |
+------------------+---------------------------+-------+
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
