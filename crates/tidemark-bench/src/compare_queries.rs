//! The query half of `compare`: after a system has loaded and settled, run the TSBS query
//! families against it (InfluxQL on v1 `/query` for both systems, and SQL for tidemark), with
//! the same seeded parameters for both; then cross-check tidemark's InfluxQL answers against
//! InfluxDB's instance by instance, and summarise latencies, speedups and targets.

use serde::Serialize;

use crate::answers;
use crate::compare::System;
use crate::generate::Manifest;
use crate::queries;
use crate::query::{self, Endpoint, FamilyResult, Lang, Plan};
use crate::{table, Result};

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct QueryFlags {
    /// Skip the query families (ingest figures only).
    #[arg(long)]
    pub(crate) no_queries: bool,
    /// Timed executions per query family and system.
    #[arg(long, default_value_t = 20)]
    pub(crate) query_runs: usize,
    /// Untimed executions per query family before the timed ones.
    #[arg(long, default_value_t = 3)]
    pub(crate) query_warmup: usize,
    /// Comma-separated query families (default: all).
    #[arg(long)]
    pub(crate) query_families: Option<String>,
    /// Seed of the query parameters (the same for both systems).
    #[arg(long, default_value_t = 123)]
    pub(crate) query_seed: u64,
}

/// One system's query figures from one run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SystemQueries {
    pub(crate) influxql: Vec<FamilyResult>,
    /// tidemark only.
    pub(crate) sql: Vec<FamilyResult>,
}

/// Runs the families against a loaded, settled server.
pub(crate) fn run(
    rt: &tokio::runtime::Runtime,
    system: System,
    endpoint: &Endpoint,
    pid: u32,
    manifest: &Manifest,
    flags: &QueryFlags,
) -> Result<SystemQueries> {
    let plan = Plan {
        families: queries::select(flags.query_families.as_deref())?,
        range: query::range_of(manifest),
        seed: flags.query_seed,
        warmup: flags.query_warmup,
        runs: flags.query_runs,
        pid: Some(pid),
        keep_answers: true,
    };
    let influxql = rt.block_on(query::run(endpoint, Lang::Influxql, &plan))?;
    let sql = match system {
        System::Tidemark => rt.block_on(query::run(
            endpoint,
            Lang::Sql,
            &Plan {
                keep_answers: false,
                ..plan
            },
        ))?,
        System::Influxdb => Vec::new(),
    };
    Ok(SystemQueries { influxql, sql })
}

/// One family across systems and runs (medians over runs).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct FamilySummary {
    pub(crate) family: &'static str,
    pub(crate) tidemark_p50_ms: Option<f64>,
    pub(crate) influxdb_p50_ms: Option<f64>,
    /// influxdb p50 / tidemark p50: above 1 means tidemark is faster.
    pub(crate) speedup: Option<f64>,
    pub(crate) tidemark_sql_p50_ms: Option<f64>,
    pub(crate) tidemark_cpu_ms_per_query: Option<f64>,
    pub(crate) influxdb_cpu_ms_per_query: Option<f64>,
    /// Median rows per answer (InfluxDB's when it ran, else tidemark's).
    pub(crate) rows: Option<f64>,
    /// Whether every instance's InfluxQL answer matched; `None` unless both systems ran.
    pub(crate) answers_equal: Option<bool>,
    pub(crate) instances_compared: usize,
    /// The first difference or failure, when not equal.
    pub(crate) difference: Option<String>,
    /// Failed queries, as `system lang: error`.
    pub(crate) errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct QuerySummary {
    pub(crate) families: Vec<FamilySummary>,
    /// Geometric mean of the per-family speedups.
    pub(crate) geomean_speedup: Option<f64>,
    /// The smallest per-family speedup.
    pub(crate) min_speedup: Option<f64>,
    /// Whether both systems ran (else there are no speedups and no verdicts).
    pub(crate) both_systems: bool,
}

fn median(values: Vec<f64>) -> Option<f64> {
    query::quantile(&values, 0.5)
}

/// Cross-checks tidemark against InfluxDB for one family in one run: `(instances compared,
/// first difference)`.
fn cross_check(tidemark: &FamilyResult, influxdb: &FamilyResult) -> (usize, Option<String>) {
    // The failure itself is in the family's errors.
    if influxdb.error.is_some() {
        return (0, Some("influxdb's query failed".to_owned()));
    }
    if tidemark.error.is_some() {
        return (0, Some("tidemark's query failed".to_owned()));
    }
    // Both ran every instance; each kept the first ones up to a row budget (see
    // `query::MAX_KEPT_ROWS`), so the instances both kept are compared.
    if tidemark.answers.is_empty() || influxdb.answers.is_empty() {
        return (0, Some("no answers kept to compare".to_owned()));
    }
    for (n, (t, i)) in tidemark.answers.iter().zip(&influxdb.answers).enumerate() {
        if let Some(d) = answers::difference(i, t) {
            return (n + 1, Some(format!("instance {n}: {d}")));
        }
    }
    (tidemark.answers.len().min(influxdb.answers.len()), None)
}

/// Summarises `(system, run, queries)` of every run; families in the order they ran.
pub(crate) fn summarize(runs: &[(System, usize, &SystemQueries)]) -> QuerySummary {
    let mut names: Vec<&'static str> = Vec::new();
    for (_, _, q) in runs {
        for f in &q.influxql {
            if !names.contains(&f.family) {
                names.push(f.family);
            }
        }
    }
    let both = runs.iter().any(|r| r.0 == System::Tidemark)
        && runs.iter().any(|r| r.0 == System::Influxdb);
    let families: Vec<FamilySummary> = names
        .iter()
        .map(|&name| {
            let pick = |system: System, sql: bool| -> Vec<(usize, &FamilyResult)> {
                runs.iter()
                    .filter(|r| r.0 == system)
                    .filter_map(|(_, run, q)| {
                        let list = if sql { &q.sql } else { &q.influxql };
                        list.iter().find(|f| f.family == name).map(|f| (*run, f))
                    })
                    .collect()
            };
            let (tm, ix, tm_sql) = (
                pick(System::Tidemark, false),
                pick(System::Influxdb, false),
                pick(System::Tidemark, true),
            );
            let p50 = |v: &[(usize, &FamilyResult)]| {
                median(v.iter().filter_map(|(_, f)| f.p50_ms).collect())
            };
            let cpu = |v: &[(usize, &FamilyResult)]| {
                median(v.iter().filter_map(|(_, f)| f.cpu_ms_per_query).collect())
            };
            let mut errors = Vec::new();
            for (label, list) in [
                ("tidemark influxql", &tm),
                ("influxdb influxql", &ix),
                ("tidemark sql", &tm_sql),
            ] {
                for (run, f) in list.iter() {
                    if let Some(e) = &f.error {
                        errors.push(format!("{label} (run {run}): {e}"));
                    }
                }
            }
            let (mut compared, mut difference, mut checked) = (0, None, false);
            for (run, t) in &tm {
                if let Some((_, i)) = ix.iter().find(|(r, _)| r == run) {
                    checked = true;
                    let (n, d) = cross_check(t, i);
                    compared += n;
                    if difference.is_none() {
                        difference = d.map(|d| format!("run {run}: {d}"));
                    }
                }
            }
            let (tp, ip) = (p50(&tm), p50(&ix));
            let rows_of = if ix.is_empty() { &tm } else { &ix };
            FamilySummary {
                family: name,
                tidemark_p50_ms: tp,
                influxdb_p50_ms: ip,
                speedup: match (tp, ip) {
                    (Some(t), Some(i)) if t > 0.0 => Some(i / t),
                    _ => None,
                },
                tidemark_sql_p50_ms: p50(&tm_sql),
                tidemark_cpu_ms_per_query: cpu(&tm),
                influxdb_cpu_ms_per_query: cpu(&ix),
                rows: median(rows_of.iter().filter_map(|(_, f)| f.rows).collect()),
                answers_equal: (both && checked).then_some(difference.is_none()),
                instances_compared: compared,
                difference,
                errors,
            }
        })
        .collect();
    let speedups: Vec<f64> = families.iter().filter_map(|f| f.speedup).collect();
    let geomean_speedup = (!speedups.is_empty())
        .then(|| (speedups.iter().map(|s| s.ln()).sum::<f64>() / speedups.len() as f64).exp());
    let min_speedup = speedups.iter().copied().reduce(f64::min);
    QuerySummary {
        families,
        geomean_speedup,
        min_speedup,
        both_systems: both,
    }
}

/// The two query targets: `(label, value, met)`, measured only when both systems ran. A
/// family without a speedup (a failed query) misses both.
pub(crate) fn targets(s: &QuerySummary) -> [(&'static str, Option<f64>, Option<bool>); 2] {
    let complete = s.families.iter().all(|f| f.speedup.is_some());
    let verdict = |v: Option<f64>, floor: f64| {
        s.both_systems
            .then(|| complete && v.is_some_and(|v| v >= floor))
    };
    [
        (
            "every query family p50 no slower than InfluxDB 1.6",
            s.min_speedup,
            verdict(s.min_speedup, 1.0),
        ),
        (
            "geometric mean of query p50 speedups >= 2x",
            s.geomean_speedup,
            verdict(s.geomean_speedup, 2.0),
        ),
    ]
}

/// The second table, then the differences and failures.
pub(crate) fn render(s: &QuerySummary) -> String {
    let ms = |v: Option<f64>| table::opt(v, |x| table::fixed(x, 2));
    let rows: Vec<Vec<String>> = s
        .families
        .iter()
        .map(|f| {
            vec![
                f.family.to_owned(),
                ms(f.tidemark_p50_ms),
                ms(f.influxdb_p50_ms),
                table::opt(f.speedup, |r| format!("{r:.2}x")),
                ms(f.tidemark_sql_p50_ms),
                table::opt(f.rows, table::thousands),
                ms(f.tidemark_cpu_ms_per_query),
                ms(f.influxdb_cpu_ms_per_query),
                match f.answers_equal {
                    Some(true) => "yes",
                    Some(false) => "NO",
                    None => "-",
                }
                .to_owned(),
            ]
        })
        .collect();
    let mut out = table::render(
        &[
            "query family (p50 ms)",
            "tidemark",
            "influxdb",
            "influxdb/tidemark",
            "tidemark SQL",
            "rows",
            "tidemark CPU-ms/q",
            "influxdb CPU-ms/q",
            "answers equal",
        ],
        &rows,
    );
    for f in &s.families {
        if let Some(d) = &f.difference {
            out += &format!("{}: {d}\n", f.family);
        }
        for e in &f.errors {
            out += &format!("{}: {e}\n", f.family);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(family: &'static str, p50: Option<f64>, answer: &str) -> FamilyResult {
        FamilyResult {
            family,
            lang: Lang::Influxql,
            runs: 1,
            p50_ms: p50,
            p95_ms: p50,
            mean_ms: p50,
            rows: Some(1.0),
            cpu_ms_per_query: Some(1.0),
            example: String::new(),
            error: p50.is_none().then(|| "400: unsupported".to_owned()),
            answers: vec![answers::parse_v1(answer).unwrap()],
        }
    }

    const A: &str = r#"{"results":[{"series":[{"name":"cpu","columns":["time","max"],"values":[["2024-01-01T00:00:00Z",7]]}]}]}"#;
    const B: &str = r#"{"results":[{"series":[{"name":"cpu","columns":["time","max"],"values":[["2024-01-01T00:00:00Z",8]]}]}]}"#;

    #[test]
    fn summary_speedups_and_checks() {
        let tm = SystemQueries {
            influxql: vec![
                result("a", Some(1.0), A),
                result("b", Some(2.0), A),
                result("c", None, A),
            ],
            sql: vec![result("a", Some(0.5), A)],
        };
        let ix = SystemQueries {
            influxql: vec![
                result("a", Some(4.0), A),
                result("b", Some(2.0), B),
                result("c", Some(3.0), A),
            ],
            sql: vec![],
        };
        let s = summarize(&[(System::Tidemark, 0, &tm), (System::Influxdb, 0, &ix)]);
        let [a, b, c] = &s.families[..] else {
            panic!("three families expected: {s:?}");
        };
        assert_eq!(a.speedup, Some(4.0));
        assert_eq!(a.tidemark_sql_p50_ms, Some(0.5));
        assert_eq!(a.answers_equal, Some(true));
        assert_eq!(a.instances_compared, 1);
        assert_eq!(b.speedup, Some(1.0));
        assert_eq!(b.answers_equal, Some(false));
        assert!(b.difference.as_deref().unwrap().contains("row 0"));
        assert_eq!(c.speedup, None);
        assert_eq!(c.answers_equal, Some(false));
        assert_eq!(
            c.difference.as_deref(),
            Some("run 0: tidemark's query failed")
        );
        assert_eq!(c.errors.len(), 1);
        assert!((s.geomean_speedup.unwrap() - 2.0).abs() < 1e-12);
        assert_eq!(s.min_speedup, Some(1.0));
        // c has no speedup: both targets are missed although the figures would meet them.
        let t = targets(&s);
        assert_eq!(t[0].2, Some(false));
        assert_eq!(t[1].2, Some(false));
        let text = render(&s);
        assert!(text.contains("4.00x"));
        assert!(text.contains("NO"));
    }

    #[test]
    fn one_system_has_no_verdict() {
        let ix = SystemQueries {
            influxql: vec![result("a", Some(4.0), A)],
            sql: vec![],
        };
        let s = summarize(&[(System::Influxdb, 0, &ix)]);
        assert_eq!(s.families[0].answers_equal, None);
        assert_eq!(s.families[0].speedup, None);
        assert_eq!(s.geomean_speedup, None);
        assert_eq!(targets(&s)[1].2, None);
    }

    #[test]
    fn only_the_instances_both_kept_are_compared() {
        let mut t = result("a", Some(1.0), A);
        t.answers.push(answers::parse_v1(B).unwrap());
        let i = result("a", Some(2.0), A);
        assert_eq!(cross_check(&t, &i), (1, None));
        let mut none = i.clone();
        none.answers.clear();
        assert_eq!(cross_check(&t, &none).0, 0);
        assert!(cross_check(&t, &none).1.is_some());
        let mut later = i;
        later.answers.push(answers::parse_v1(A).unwrap());
        assert_eq!(
            cross_check(&t, &later)
                .1
                .as_deref()
                .map(|d| d.starts_with("instance 1:")),
            Some(true)
        );
    }

    #[test]
    fn every_tidemark_query_failing_misses_the_targets() {
        let tm = SystemQueries {
            influxql: vec![result("a", None, A)],
            sql: vec![],
        };
        let ix = SystemQueries {
            influxql: vec![result("a", Some(4.0), A)],
            sql: vec![],
        };
        let s = summarize(&[(System::Tidemark, 0, &tm), (System::Influxdb, 0, &ix)]);
        assert_eq!(s.geomean_speedup, None);
        assert_eq!(targets(&s).map(|t| t.2), [Some(false), Some(false)]);
    }

    #[test]
    fn targets_met() {
        let tm = SystemQueries {
            influxql: vec![result("a", Some(1.0), A), result("b", Some(1.0), A)],
            sql: vec![],
        };
        let ix = SystemQueries {
            influxql: vec![result("a", Some(8.0), A), result("b", Some(1.0), A)],
            sql: vec![],
        };
        let s = summarize(&[(System::Tidemark, 0, &tm), (System::Influxdb, 0, &ix)]);
        let t = targets(&s);
        assert_eq!(t[0].2, Some(true));
        // sqrt(8 * 1) = 2.83
        assert_eq!(t[1].2, Some(true));
    }
}
