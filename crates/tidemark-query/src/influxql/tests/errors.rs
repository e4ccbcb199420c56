//! The user's mistakes answer with InfluxDB 1.x's texts, as statement errors.

use super::cpu;

const CASES: &[(&str, &str)] = &[
    ("SELECT foo(usage) FROM cpu", "undefined function foo()"),
    (
        "SELECT mean(usage), idle FROM cpu",
        "mixing aggregate and non-aggregate queries is not supported",
    ),
    (
        "SELECT mean(usage, idle) FROM cpu",
        "invalid number of arguments for mean, expected 1, got 2",
    ),
    (
        "SELECT usage FROM cpu GROUP BY time(1m)",
        "GROUP BY requires at least one aggregate function",
    ),
    (
        "SELECT max(usage), min(usage), host FROM cpu",
        "mixing multiple selector functions with tags or fields is not supported",
    ),
    (
        "SELECT top(usage, 2), mean(usage) FROM cpu",
        "selector function top() cannot be combined with other functions",
    ),
    (
        "SELECT mean(1) FROM cpu",
        "expected field argument in mean()",
    ),
    (
        "SELECT derivative(usage) FROM cpu GROUP BY time(1m)",
        "aggregate function required inside the call to derivative",
    ),
    (
        "SELECT usage FROM cpu WHERE host = $h",
        "missing parameter: h",
    ),
    (
        "SHOW DATABASES",
        "SHOW DATABASES is not handled by the query engine (the service layer answers it)",
    ),
    (
        "SELECT count(usage, idle) FROM cpu",
        "invalid number of arguments for count, expected 1, got 2",
    ),
    (
        "SELECT top(usage) FROM cpu",
        "invalid number of arguments for top, expected at least 2, got 1",
    ),
    (
        "SELECT top(usage, 0) FROM cpu",
        "limit (0) in top function must be at least 1",
    ),
    (
        "SELECT percentile(usage) FROM cpu",
        "invalid number of arguments for percentile, expected 2, got 1",
    ),
    (
        "SELECT distinct(usage), mean(usage) FROM cpu",
        "aggregate function distinct() cannot be combined with other functions or fields",
    ),
    (
        "SELECT usage FROM cpu fill(none)",
        "fill(none) must be used with a function",
    ),
    (
        "SELECT derivative(mean(usage)) FROM cpu",
        "derivative aggregate requires a GROUP BY interval",
    ),
    (
        "SELECT holt_winters(usage, 1, 1) FROM cpu",
        "must use aggregate function with holt_winters",
    ),
    (
        "SELECT mean(*::tag) FROM cpu",
        "unable to use tag wildcard in mean()",
    ),
    (
        "SELECT time FROM cpu",
        "at least 1 non-time field must be queried",
    ),
    (
        "SELECT moving_average(usage, 1) FROM cpu",
        "moving_average window must be greater than 1, got 1",
    ),
];

#[tokio::test]
async fn statement_errors_have_1x_texts() {
    let f = cpu().await;
    for (q, want) in CASES {
        assert_eq!(f.iql_err(q).await, *want, "{q}");
    }
    let bad_regex = f.iql_err("SELECT usage FROM cpu WHERE host =~ /(/").await;
    assert!(
        bad_regex.starts_with("error parsing regexp: "),
        "{bad_regex}"
    );
}

/// Odd but parseable statements answer (rows or an error), never panic.
#[tokio::test]
async fn odd_statements_never_panic() {
    let f = cpu().await;
    for q in [
        "SELECT mean(usage) FROM cpu WHERE time > -9223372036854775806 GROUP BY time(1ns)",
        "SELECT count(usage) FROM cpu WHERE time >= 9223372036854775000 GROUP BY time(1h)",
        "SELECT usage FROM cpu WHERE time < -9223372036854775806",
        "SELECT top(usage, 9223372036854775807) FROM cpu",
        "SELECT sample(usage, 9223372036854775807) FROM cpu",
        "SELECT percentile(usage, 1000) FROM cpu",
        "SELECT percentile(usage, -5) FROM cpu",
        "SELECT usage FROM cpu LIMIT 9223372036854775807 OFFSET 9223372036854775807",
        "SELECT elapsed(usage, 1ns) FROM cpu",
        "SELECT moving_average(usage, 100000) FROM cpu",
        "SELECT usage % 0, idle % 0, idle / 0, -idle FROM cpu",
        "SELECT mean(full), sum(full), max(full) FROM disk",
        "SELECT sum(host) FROM cpu",
        "SELECT usage FROM cpu WHERE usage = 'x' OR host = 5 OR time = 5",
        "SELECT usage FROM cpu WHERE time > now() + 10000w",
        "SELECT * FROM cpu GROUP BY /nomatch/",
        "SELECT ln(-1), log(usage, 0), acos(5) FROM cpu",
        "SELECT derivative(usage, 1ns) FROM cpu",
        "SELECT mean(usage) FROM cpu GROUP BY time(1m, now())",
        "SELECT difference(host) FROM cpu",
        "SHOW TAG VALUES WITH KEY =~ /.*/ WHERE usage > 1",
        "SHOW SERIES WHERE time > 0 LIMIT 0 OFFSET 100",
        "EXPLAIN ANALYZE SELECT mode(usage) FROM cpu",
        "SELECT count(usage) FROM (SELECT usage FROM (SELECT usage FROM cpu))",
    ] {
        let _ = f.try_influxql(q).await;
    }
}

/// Rows the evaluator holds count against the session's memory limit.
#[tokio::test]
async fn the_memory_limit_holds() {
    let f = cpu().await;
    let mut lp = String::new();
    for i in 0..20_000i64 {
        lp.push_str(&format!(
            "big,host=h{} v={i}.5,s=\"some text {i}\" {}\n",
            i % 7,
            super::T0 + i
        ));
    }
    f.write(&lp).await;
    let small = crate::QueryEngine::new(
        std::sync::Arc::clone(&f.engine),
        crate::QueryConfig {
            threads: 1,
            target_partitions: 1,
            memory_limit: Some(256 * 1024),
            direct_cache_bytes: crate::DEFAULT_DIRECT_CACHE_BYTES,
            timeout: None,
        },
    )
    .expect("engine");
    let statement = tidemark_influxql::parse_statement("SELECT * FROM big").expect("parse");
    let options = crate::InfluxQlOptions {
        now: super::NOW,
        metadata_cutoff: None,
    };
    match small.influxql(&f.bucket, &statement, &options).await {
        Err(crate::Error::ResourcesExhausted(_)) => {}
        Err(e) => panic!("expected resources exhausted, got {e:?}"),
        Ok(_) => panic!("expected resources exhausted, got rows"),
    }
}

/// Regexes that do not compile read as Go's `regexp` errors, as 1.x shows them.
#[test]
fn regex_errors_read_like_go() {
    use crate::influxql::condition::regex_error;
    for (pattern, want) in [
        ("[", "error parsing regexp: missing closing ]: `[`"),
        ("a[bc", "error parsing regexp: missing closing ]: `[bc`"),
        ("(a", "error parsing regexp: missing closing ): `(a`"),
        ("a)", "error parsing regexp: unexpected ): `a)`"),
        (
            "*a",
            "error parsing regexp: missing argument to repetition operator: `*`",
        ),
        (
            "[z-a]",
            "error parsing regexp: invalid character class range: `z-a`",
        ),
        (
            "a\\",
            "error parsing regexp: trailing backslash at end of expression: ``",
        ),
        (
            "\\q",
            "error parsing regexp: invalid escape sequence: `\\q`",
        ),
    ] {
        let e = regex::Regex::new(pattern).expect_err(pattern);
        assert_eq!(regex_error(pattern, &e), want, "{pattern}");
    }
}
