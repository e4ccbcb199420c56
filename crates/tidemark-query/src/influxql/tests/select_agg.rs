//! Aggregates, selectors, GROUP BY time with fill, transformations: exact results.

use super::cpu;

const CASES: &[(&str, &str)] = &[
    (
        "SELECT count(usage), mean(usage), sum(idle), median(usage), mode(usage), spread(idle), stddev(usage) FROM cpu",
        r#"+------------------+---------------------+-------+------+-----+--------+------+--------+-----------------+
| iox::measurement | time                | count | mean | sum | median | mode | spread | stddev          |
+------------------+---------------------+-------+------+-----+--------+------+--------+-----------------+
| cpu              | 1970-01-01T00:00:00 | 12    | 14.0 | 585 | 5.0    | 0.0  | 5      | 17.107946053861 |
+------------------+---------------------+-------+------+-----+--------+------+--------+-----------------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT mean(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:01:00Z' GROUP BY time(20s), host",
        r#"+------------------+---------------------+------+------+
| iox::measurement | time                | host | mean |
+------------------+---------------------+------+------+
| cpu              | 2024-01-01T00:00:00 | a    | 1.0  |
| cpu              | 2024-01-01T00:00:20 | a    | 3.0  |
| cpu              | 2024-01-01T00:00:40 | a    | 5.0  |
| cpu              | 2024-01-01T00:00:00 | b    | 5.0  |
| cpu              | 2024-01-01T00:00:20 | b    | 25.0 |
| cpu              | 2024-01-01T00:00:40 | b    | 45.0 |
+------------------+---------------------+------+------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":2,"is_projected":false,"tag_key":"host"}]}"#,
    ),
    (
        "SELECT count(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:02:00Z' GROUP BY time(30s)",
        r#"+------------------+---------------------+-------+
| iox::measurement | time                | count |
+------------------+---------------------+-------+
| cpu              | 2024-01-01T00:00:00 | 6     |
| cpu              | 2024-01-01T00:00:30 | 6     |
| cpu              | 2024-01-01T00:01:00 | 0     |
| cpu              | 2024-01-01T00:01:30 | 0     |
+------------------+---------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT max(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:02:00Z' GROUP BY time(30s) fill(previous)",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | max  |
+------------------+---------------------+------+
| cpu              | 2024-01-01T00:00:00 | 20.0 |
| cpu              | 2024-01-01T00:00:30 | 50.0 |
| cpu              | 2024-01-01T00:01:00 | 50.0 |
| cpu              | 2024-01-01T00:01:30 | 50.0 |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT mean(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:02:00Z' GROUP BY time(20s) fill(linear)",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | mean |
+------------------+---------------------+------+
| cpu              | 2024-01-01T00:00:00 | 3.0  |
| cpu              | 2024-01-01T00:00:20 | 14.0 |
| cpu              | 2024-01-01T00:00:40 | 25.0 |
| cpu              | 2024-01-01T00:01:00 |      |
| cpu              | 2024-01-01T00:01:20 |      |
| cpu              | 2024-01-01T00:01:40 |      |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT mean(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:02:00Z' GROUP BY time(20s) fill(none)",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | mean |
+------------------+---------------------+------+
| cpu              | 2024-01-01T00:00:00 | 3.0  |
| cpu              | 2024-01-01T00:00:20 | 14.0 |
| cpu              | 2024-01-01T00:00:40 | 25.0 |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT mean(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:02:00Z' GROUP BY time(20s) fill(-1)",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | mean |
+------------------+---------------------+------+
| cpu              | 2024-01-01T00:00:00 | 3.0  |
| cpu              | 2024-01-01T00:00:20 | 14.0 |
| cpu              | 2024-01-01T00:00:40 | 25.0 |
| cpu              | 2024-01-01T00:01:00 | -1.0 |
| cpu              | 2024-01-01T00:01:20 | -1.0 |
| cpu              | 2024-01-01T00:01:40 | -1.0 |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT last(usage), host FROM cpu",
        r#"+------------------+---------------------+------+------+
| iox::measurement | time                | last | host |
+------------------+---------------------+------+------+
| cpu              | 2024-01-01T00:00:50 | 50.0 | b    |
+------------------+---------------------+------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT last(usage) FROM cpu GROUP BY host",
        r#"+------------------+---------------------+------+------+
| iox::measurement | time                | host | last |
+------------------+---------------------+------+------+
| cpu              | 2024-01-01T00:00:50 | a    | 5.5  |
| cpu              | 2024-01-01T00:00:50 | b    | 50.0 |
+------------------+---------------------+------+------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":2,"is_projected":false,"tag_key":"host"}]}"#,
    ),
    (
        "SELECT max(usage), min(usage) FROM cpu",
        r#"+------------------+---------------------+------+-----+
| iox::measurement | time                | max  | min |
+------------------+---------------------+------+-----+
| cpu              | 1970-01-01T00:00:00 | 50.0 | 0.0 |
+------------------+---------------------+------+-----+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT top(usage, 3) FROM cpu",
        r#"+------------------+---------------------+------+
| iox::measurement | time                | top  |
+------------------+---------------------+------+
| cpu              | 2024-01-01T00:00:30 | 30.0 |
| cpu              | 2024-01-01T00:00:40 | 40.0 |
| cpu              | 2024-01-01T00:00:50 | 50.0 |
+------------------+---------------------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        // Points at the same time come best first.
        "SELECT top(usage, host, 2) FROM cpu",
        r#"+------------------+---------------------+------+------+
| iox::measurement | time                | top  | host |
+------------------+---------------------+------+------+
| cpu              | 2024-01-01T00:00:50 | 50.0 | b    |
| cpu              | 2024-01-01T00:00:50 | 5.5  | a    |
+------------------+---------------------+------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT bottom(usage, 2), host FROM cpu",
        r#"+------------------+---------------------+--------+------+
| iox::measurement | time                | bottom | host |
+------------------+---------------------+--------+------+
| cpu              | 2024-01-01T00:00:00 | 0.0    | b    |
| cpu              | 2024-01-01T00:00:00 | 0.5    | a    |
+------------------+---------------------+--------+------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT percentile(usage, 50) FROM cpu",
        r#"+------------------+---------------------+------------+
| iox::measurement | time                | percentile |
+------------------+---------------------+------------+
| cpu              | 2024-01-01T00:00:40 | 4.5        |
+------------------+---------------------+------------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT distinct(host) FROM cpu",
        r#"(empty: iox::measurement, time, distinct)
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT count(distinct(usage)) FROM cpu",
        r#"+------------------+---------------------+-------+
| iox::measurement | time                | count |
+------------------+---------------------+-------+
| cpu              | 1970-01-01T00:00:00 | 12    |
+------------------+---------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT mean(*) FROM cpu",
        r#"+------------------+---------------------+-----------+------------+
| iox::measurement | time                | mean_idle | mean_usage |
+------------------+---------------------+-----------+------------+
| cpu              | 1970-01-01T00:00:00 | 97.5      | 14.0       |
+------------------+---------------------+-----------+------------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT integral(usage) FROM cpu GROUP BY host",
        r#"+------------------+---------------------+------+----------+
| iox::measurement | time                | host | integral |
+------------------+---------------------+------+----------+
| cpu              | 1970-01-01T00:00:00 | a    | 150.0    |
| cpu              | 1970-01-01T00:00:00 | b    | 1250.0   |
+------------------+---------------------+------+----------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":2,"is_projected":false,"tag_key":"host"}]}"#,
    ),
    (
        "SELECT sample(usage, 2) FROM cpu WHERE host = 'a'",
        r#"+------------------+---------------------+--------+
| iox::measurement | time                | sample |
+------------------+---------------------+--------+
| cpu              | 2024-01-01T00:00:10 | 1.5    |
| cpu              | 2024-01-01T00:00:50 | 5.5    |
+------------------+---------------------+--------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT derivative(usage, 10s) FROM cpu WHERE host = 'a'",
        r#"+------------------+---------------------+------------+
| iox::measurement | time                | derivative |
+------------------+---------------------+------------+
| cpu              | 2024-01-01T00:00:10 | 1.0        |
| cpu              | 2024-01-01T00:00:20 | 1.0        |
| cpu              | 2024-01-01T00:00:30 | 1.0        |
| cpu              | 2024-01-01T00:00:40 | 1.0        |
| cpu              | 2024-01-01T00:00:50 | 1.0        |
+------------------+---------------------+------------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT difference(usage), non_negative_difference(idle) FROM cpu WHERE host = 'a'",
        r#"+------------------+---------------------+------------+-------------------------+
| iox::measurement | time                | difference | non_negative_difference |
+------------------+---------------------+------------+-------------------------+
| cpu              | 2024-01-01T00:00:10 | 1.0        |                         |
| cpu              | 2024-01-01T00:00:20 | 1.0        |                         |
| cpu              | 2024-01-01T00:00:30 | 1.0        |                         |
| cpu              | 2024-01-01T00:00:40 | 1.0        |                         |
| cpu              | 2024-01-01T00:00:50 | 1.0        |                         |
+------------------+---------------------+------------+-------------------------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT moving_average(usage, 3), cumulative_sum(usage) FROM cpu WHERE host = 'b'",
        r#"+------------------+---------------------+----------------+----------------+
| iox::measurement | time                | moving_average | cumulative_sum |
+------------------+---------------------+----------------+----------------+
| cpu              | 2024-01-01T00:00:00 |                | 0.0            |
| cpu              | 2024-01-01T00:00:10 |                | 10.0           |
| cpu              | 2024-01-01T00:00:20 | 10.0           | 30.0           |
| cpu              | 2024-01-01T00:00:30 | 20.0           | 60.0           |
| cpu              | 2024-01-01T00:00:40 | 30.0           | 100.0          |
| cpu              | 2024-01-01T00:00:50 | 40.0           | 150.0          |
+------------------+---------------------+----------------+----------------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT elapsed(usage, 1s) FROM cpu WHERE host = 'b'",
        r#"+------------------+---------------------+---------+
| iox::measurement | time                | elapsed |
+------------------+---------------------+---------+
| cpu              | 2024-01-01T00:00:10 | 10      |
| cpu              | 2024-01-01T00:00:20 | 10      |
| cpu              | 2024-01-01T00:00:30 | 10      |
| cpu              | 2024-01-01T00:00:40 | 10      |
| cpu              | 2024-01-01T00:00:50 | 10      |
+------------------+---------------------+---------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT derivative(mean(usage)) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:01:00Z' GROUP BY time(20s)",
        r#"+------------------+---------------------+------------+
| iox::measurement | time                | derivative |
+------------------+---------------------+------------+
| cpu              | 2024-01-01T00:00:20 | 11.0       |
| cpu              | 2024-01-01T00:00:40 | 11.0       |
+------------------+---------------------+------------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT abs(usage - 30), sqrt(usage), round(usage), pow(usage, 2) FROM cpu WHERE host = 'b'",
        r#"+------------------+---------------------+------+--------------------+-------+--------+
| iox::measurement | time                | abs  | sqrt               | round | pow    |
+------------------+---------------------+------+--------------------+-------+--------+
| cpu              | 2024-01-01T00:00:00 | 30.0 | 0.0                | 0.0   | 0.0    |
| cpu              | 2024-01-01T00:00:10 | 20.0 | 3.1622776601683795 | 10.0  | 100.0  |
| cpu              | 2024-01-01T00:00:20 | 10.0 | 4.47213595499958   | 20.0  | 400.0  |
| cpu              | 2024-01-01T00:00:30 | 0.0  | 5.477225575051661  | 30.0  | 900.0  |
| cpu              | 2024-01-01T00:00:40 | 10.0 | 6.324555320336759  | 40.0  | 1600.0 |
| cpu              | 2024-01-01T00:00:50 | 20.0 | 7.0710678118654755 | 50.0  | 2500.0 |
+------------------+---------------------+------+--------------------+-------+--------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT max(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' GROUP BY time(1m) ORDER BY time DESC LIMIT 5",
        r#"+------------------+---------------------+-----+
| iox::measurement | time                | max |
+------------------+---------------------+-----+
| cpu              | 2024-01-01T00:10:00 |     |
| cpu              | 2024-01-01T00:09:00 |     |
| cpu              | 2024-01-01T00:08:00 |     |
| cpu              | 2024-01-01T00:07:00 |     |
| cpu              | 2024-01-01T00:06:00 |     |
+------------------+---------------------+-----+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        "SELECT mean(usage) * 2, mean(usage) FROM cpu GROUP BY time(1m)",
        r#"+------------------+---------------------+------+--------+
| iox::measurement | time                | mean | mean_1 |
+------------------+---------------------+------+--------+
| cpu              | 2024-01-01T00:00:00 | 28.0 | 14.0   |
| cpu              | 2024-01-01T00:01:00 |      |        |
| cpu              | 2024-01-01T00:02:00 |      |        |
| cpu              | 2024-01-01T00:03:00 |      |        |
| cpu              | 2024-01-01T00:04:00 |      |        |
| cpu              | 2024-01-01T00:05:00 |      |        |
| cpu              | 2024-01-01T00:06:00 |      |        |
| cpu              | 2024-01-01T00:07:00 |      |        |
| cpu              | 2024-01-01T00:08:00 |      |        |
| cpu              | 2024-01-01T00:09:00 |      |        |
| cpu              | 2024-01-01T00:10:00 |      |        |
+------------------+---------------------+------+--------+
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

/// TSBS-shaped queries: DataFusion aggregates (no row reaches the evaluator) and the time and
/// tag predicates reach the scan.
#[tokio::test]
async fn simple_aggregates_run_in_datafusion_with_pushed_predicates() {
    let f = cpu().await;
    let plan = f
        .try_influxql(
            "EXPLAIN SELECT max(usage) FROM cpu WHERE host = 'a' AND time >= '2024-01-01T00:00:00Z' \
             AND time < '2024-01-01T00:01:00Z' GROUP BY time(1m)",
        )
        .await
        .expect("explain");
    assert!(plan.contains("AggregateExec"), "{plan}");
    assert!(plan.contains("date_bin"), "{plan}");
    assert!(
        plan.contains("full_filters=[") || plan.contains("filters=["),
        "{plan}"
    );
    assert!(plan.contains("host"), "{plan}");
}

/// The DataFusion path and the row evaluator agree (mode forces the latter).
#[tokio::test]
async fn pushed_and_evaluated_aggregates_agree() {
    let f = cpu().await;
    let range = "WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:01:30Z'";
    for agg in [
        "count", "sum", "mean", "min", "max", "first", "last", "spread", "stddev", "median",
    ] {
        for group in [
            "",
            "GROUP BY time(20s)",
            "GROUP BY time(20s), host fill(previous)",
            "GROUP BY host",
        ] {
            // A lone selector takes its point's time, which a second aggregate changes.
            if !group.contains("time(") && ["first", "last", "min", "max"].contains(&agg) {
                continue;
            }
            let pushed = f
                .try_influxql(&format!("SELECT {agg}(usage) FROM cpu {range} {group}"))
                .await
                .expect("pushed");
            let evaluated = f
                .try_influxql(&format!(
                    "SELECT {agg}(usage), mode(usage) FROM cpu {range} {group}"
                ))
                .await
                .expect("evaluated");
            let strip = |s: &str| -> Vec<String> {
                s.lines()
                    .map(|l| {
                        // Drop the mode column (the last one) from the evaluated table.
                        let cells: Vec<&str> = l.split(['|', '+']).collect();
                        cells[..cells.len().saturating_sub(2)].join("|")
                    })
                    .collect()
            };
            let p: Vec<String> = pushed
                .lines()
                .map(|l| {
                    let cells: Vec<&str> = l.split(['|', '+']).collect();
                    cells[..cells.len().saturating_sub(1)].join("|")
                })
                .collect();
            let e = strip(&evaluated);
            assert_eq!(
                p[..p.len() - 1],
                e[..e.len() - 1],
                "{agg} {group}\n{pushed}\n{evaluated}"
            );
        }
    }
}

const MORE: &[(&str, &str)] = &[
    (
        "SELECT count(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:01:00Z' GROUP BY time(30s, 15s)",
        r#"+------------------+---------------------+-------+
| iox::measurement | time                | count |
+------------------+---------------------+-------+
| cpu              | 2023-12-31T23:59:45 | 4     |
| cpu              | 2024-01-01T00:00:15 | 6     |
| cpu              | 2024-01-01T00:00:45 | 2     |
+------------------+---------------------+-------+
{"measurement_column_index":0,"tag_key_columns":[]}"#,
    ),
    (
        // Newest first, series come in reverse order too (1.x's merge).
        "SELECT sum(usage) FROM cpu, mem WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:00:20Z' GROUP BY time(10s), host ORDER BY time DESC",
        r#"+------------------+---------------------+------+------+
| iox::measurement | time                | host | sum  |
+------------------+---------------------+------+------+
| cpu              | 2024-01-01T00:00:10 | b    | 10.0 |
| cpu              | 2024-01-01T00:00:00 | b    | 0.0  |
| cpu              | 2024-01-01T00:00:10 | a    | 1.5  |
| cpu              | 2024-01-01T00:00:00 | a    | 0.5  |
+------------------+---------------------+------+------+
{"measurement_column_index":0,"tag_key_columns":[{"column_index":2,"is_projected":false,"tag_key":"host"}]}"#,
    ),
    (
        "SELECT mean(usage), host FROM cpu GROUP BY host",
        "",
    ),
];

#[tokio::test]
async fn offsets_descending_windows_and_series() {
    let f = cpu().await;
    for (q, want) in MORE {
        match f.try_influxql(q).await {
            Ok(got) => assert_eq!(got, *want, "{q}"),
            Err(crate::Error::Statement(m)) => assert!(want.is_empty(), "{q}: {m}"),
            Err(e) => panic!("{q}: {e}"),
        }
    }
}

#[tokio::test]
async fn exponential_moving_averages_follow_1x() {
    let f = cpu().await;
    let got = f
        .try_influxql("SELECT exponential_moving_average(usage, 3) FROM cpu WHERE host = 'b'")
        .await
        .expect("ema");
    let values: Vec<String> = got
        .lines()
        .filter(|l| l.starts_with("| cpu"))
        .map(|l| l.rsplit('|').nth(1).unwrap_or("").trim().to_owned())
        .collect();
    let want = [
        40.0 / 3.0,
        21.666_666_666_666_668,
        30.833_333_333_333_336,
        40.416_666_666_666_67,
    ];
    assert_eq!(values.len(), want.len(), "{got}");
    for (v, w) in values.iter().zip(want) {
        let v: f64 = v.parse().expect("number");
        assert!((v - w).abs() < 1e-9, "{v} vs {w}\n{got}");
    }
    // DEMA and TEMA over windows, hold period and simple warmup accepted.
    for q in [
        "SELECT double_exponential_moving_average(mean(usage), 2) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:01:00Z' GROUP BY time(10s)",
        "SELECT triple_exponential_moving_average(usage, 2, 0, 'simple') FROM cpu",
    ] {
        let out = f.try_influxql(q).await.expect(q);
        assert!(out.lines().any(|l| l.starts_with("| cpu")), "{q}\n{out}");
    }
    assert_eq!(
        f.iql_err("SELECT exponential_moving_average(usage, 0) FROM cpu")
            .await,
        "exponential_moving_average period must be greater than or equal to 1"
    );
}

/// The values shown by `q` (last column of each row).
async fn shown(f: &crate::tests::Fixture, q: &str) -> Vec<String> {
    let got = f
        .try_influxql(q)
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    got.lines()
        .filter(|l| l.starts_with("| cpu"))
        .map(|l| l.rsplit('|').nth(1).unwrap_or("").trim().to_owned())
        .collect()
}

#[tokio::test]
async fn technical_indicators_hold_their_warm_up_and_compute() {
    let f = cpu().await;
    // host b rises steadily: 0, 10, ..., 50.
    let b = "FROM cpu WHERE host = 'b'";
    assert_eq!(
        shown(&f, &format!("SELECT relative_strength_index(usage, 2) {b}")).await,
        ["100.0", "100.0", "100.0", "100.0"]
    );
    assert_eq!(
        shown(
            &f,
            &format!("SELECT kaufmans_efficiency_ratio(usage, 2) {b}")
        )
        .await,
        ["1.0", "1.0", "1.0", "1.0"]
    );
    assert_eq!(
        shown(
            &f,
            &format!("SELECT chande_momentum_oscillator(usage, 3) {b}")
        )
        .await,
        ["100.0", "100.0", "100.0", "100.0"]
    );
    assert_eq!(
        shown(
            &f,
            &format!("SELECT kaufmans_adaptive_moving_average(usage, 2) {b}")
        )
        .await
        .len(),
        4
    );
    assert_eq!(
        shown(
            &f,
            &format!("SELECT triple_exponential_derivative(usage, 2) {b}")
        )
        .await
        .len(),
        4
    );
    // An explicit hold period of 0 shows every point.
    assert_eq!(
        shown(
            &f,
            &format!("SELECT kaufmans_efficiency_ratio(usage, 2, 0) {b}")
        )
        .await,
        ["0.0", "1.0", "1.0", "1.0", "1.0", "1.0"]
    );
    assert_eq!(
        f.iql_err("SELECT kaufmans_efficiency_ratio(usage, 2, 0, 'simple') FROM cpu").await,
        "invalid number of arguments for kaufmans_efficiency_ratio, expected at least 2 but no more than 3, got 4"
    );
}

/// 1.x interpolates at window edges: with points 0, 10, ..., 50 (every 10s), windows of 20s
/// share the area between 10s and 20s at the edge, and the last window holds 40s to 50s.
#[tokio::test]
async fn integral_over_windows_interpolates_at_edges() {
    let f = cpu().await;
    let q = "SELECT integral(usage) FROM cpu WHERE host = 'b' AND time >= '2024-01-01T00:00:00Z' \
             AND time < '2024-01-01T00:01:00Z' GROUP BY time(20s) fill(none)";
    // Window 0-20s: 0→10 (50) + 10→20 (150) = 200; 20-40s: 250 + 350 = 600; 40-60s: 450.
    assert_eq!(shown(&f, q).await, ["200.0", "600.0", "450.0"]);
}

/// 1.x never fills integral(): a window with no area is left out, even with fill(null).
#[tokio::test]
async fn integral_windows_are_not_filled() {
    let f = cpu().await;
    let q = "SELECT integral(usage) FROM cpu WHERE host = 'b' AND time >= '2024-01-01T00:00:00Z' \
             AND time < '2024-01-01T00:02:00Z' GROUP BY time(20s)";
    assert_eq!(shown(&f, q).await, ["200.0", "600.0", "450.0"]);
}

/// Holt-Winters forecasts continue a steady rise.
#[tokio::test]
async fn holt_winters_forecasts_past_the_data() {
    let f = cpu().await;
    let q = "SELECT holt_winters(mean(usage), 3, 0) FROM cpu WHERE host = 'b' AND \
             time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:01:00Z' GROUP BY time(10s)";
    let got = f.try_influxql(q).await.expect("forecast");
    let rows: Vec<&str> = got.lines().filter(|l| l.starts_with("| cpu")).collect();
    assert_eq!(rows.len(), 3, "{got}");
    assert!(rows[0].contains("2024-01-01T00:01:00"), "{got}");
    let first: f64 = rows[0]
        .rsplit('|')
        .nth(1)
        .unwrap_or("")
        .trim()
        .parse()
        .expect("number");
    assert!(first > 50.0 && first < 70.0, "{got}");
    let fit = f
        .try_influxql(&q.replace("holt_winters(", "holt_winters_with_fit("))
        .await
        .expect("fit");
    assert_eq!(
        fit.lines().filter(|l| l.starts_with("| cpu")).count(),
        9,
        "{fit}"
    );
}

/// With ORDER BY time DESC, 1.x transforms newest first: differences change sign and sit on
/// the older point.
#[tokio::test]
async fn transformations_run_in_the_query_order() {
    let f = cpu().await;
    let b = "FROM cpu WHERE host = 'b' ORDER BY time DESC LIMIT 2";
    assert_eq!(
        shown(&f, &format!("SELECT difference(usage) {b}")).await,
        ["-10.0", "-10.0"]
    );
    assert_eq!(
        shown(&f, &format!("SELECT derivative(usage, 10s) {b}")).await,
        ["-10.0", "-10.0"]
    );
    assert_eq!(
        shown(&f, &format!("SELECT cumulative_sum(usage) {b}")).await,
        ["50.0", "90.0"]
    );
    let times = f
        .try_influxql(&format!("SELECT difference(usage) {b}"))
        .await
        .expect("difference");
    assert!(times.contains("2024-01-01T00:00:40"), "{times}");
}

/// The median of integers falls between them (DataFusion's integer median would not).
#[tokio::test]
async fn the_median_of_integers_is_a_float() {
    let f = cpu().await;
    // idle of host a: 100, 99, 98, 97, 96, 95.
    assert_eq!(shown(&f, "SELECT median(idle) FROM cpu").await, ["97.5"]);
}

/// `GROUP BY time(0s)` is no time grouping in 1.x: one row for the whole range.
#[tokio::test]
async fn a_zero_interval_groups_by_no_time() {
    let f = cpu().await;
    let range = "WHERE time >= '2024-01-01T00:00:00Z' AND time < '2024-01-01T00:01:00Z'";
    let zero = f
        .try_influxql(&format!(
            "SELECT count(usage) FROM cpu {range} GROUP BY time(0s)"
        ))
        .await
        .expect("runs");
    let none = f
        .try_influxql(&format!("SELECT count(usage) FROM cpu {range}"))
        .await
        .expect("runs");
    assert_eq!(zero, none);
    assert!(zero.contains("| 12    |"), "{zero}");
}

/// Transformations of windows read one window before the range, as 1.x does: the range's
/// first window has one to compare with.
#[tokio::test]
async fn window_transformations_look_one_window_back() {
    let f = cpu().await;
    let got = f
        .try_influxql(
            "SELECT difference(max(usage)) FROM cpu WHERE host = 'a' AND time >= '2024-01-01T00:00:20Z' AND time < '2024-01-01T00:01:00Z' GROUP BY time(20s)",
        )
        .await
        .expect("runs");
    assert!(
        got.contains("| 2024-01-01T00:00:20 | 2.0        |"),
        "{got}"
    );
    assert!(
        got.contains("| 2024-01-01T00:00:40 | 2.0        |"),
        "{got}"
    );
    assert!(!got.contains("00:00:00"), "{got}");
}
