//! Runs the TSBS query families (`queries.rs`) against one server, one query at a time, and
//! reports latency percentiles, rows returned and server CPU per query.
//!
//! Every execution of a family is a different instance (new hosts and window), as in TSBS; the
//! warm-up instances come first and are not timed. Latency is the wall time from sending the
//! request to having the whole body; parsing the answer comes after the clock stops.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::answers::{self, Answer};
use crate::generate::{self, Manifest};
use crate::queries::{self, DataRange, Family};
use crate::{procfs, table, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Lang {
    /// InfluxQL on the v1 `GET /query`.
    Influxql,
    /// SQL on `GET /api/v3/query_sql?format=json`.
    Sql,
}

/// Where to send queries and how to authenticate.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) url: String,
    pub(crate) db: String,
    /// Sent as `Authorization: Token ...`.
    pub(crate) token: Option<String>,
    /// v1 `u=` / `p=`.
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
}

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) families: Vec<Family>,
    pub(crate) range: DataRange,
    pub(crate) seed: u64,
    pub(crate) warmup: usize,
    pub(crate) runs: usize,
    /// The server, for CPU per query.
    pub(crate) pid: Option<u32>,
    /// Keep the parsed InfluxQL answers (for cross-checking two systems), up to
    /// `MAX_KEPT_ROWS` rows per family.
    pub(crate) keep_answers: bool,
}

/// Rows of answers kept per family for the cross-check: parsed JSON takes about 100 bytes a
/// value, and high-cpu-all over a large data set answers millions of 21-value rows per query.
/// The first instance is always kept, whatever its size.
pub(crate) const MAX_KEPT_ROWS: usize = 1_000_000;

/// One family's figures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FamilyResult {
    pub(crate) family: &'static str,
    pub(crate) lang: Lang,
    /// Timed executions (after the warm-up).
    pub(crate) runs: usize,
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p95_ms: Option<f64>,
    pub(crate) mean_ms: Option<f64>,
    /// Median rows per answer over the timed executions.
    pub(crate) rows: Option<f64>,
    /// Server CPU (user + system) over the timed executions, per query; clock-tick resolution.
    pub(crate) cpu_ms_per_query: Option<f64>,
    /// The first instance's query text, for the record.
    pub(crate) example: String,
    /// Why the family stopped, when a query failed.
    pub(crate) error: Option<String>,
    /// Warm-up and timed answers in instance order (InfluxQL with `keep_answers` only), the
    /// first instances up to `MAX_KEPT_ROWS` rows.
    #[serde(skip)]
    pub(crate) answers: Vec<Answer>,
}

/// The `q`-quantile (0..=1) of `values` by linear interpolation between the closest ranks (the
/// usual "type 7" definition); `None` for no values.
pub(crate) fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn request(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    lang: Lang,
    text: &str,
) -> reqwest::RequestBuilder {
    let base = endpoint.url.trim_end_matches('/');
    let mut req = match lang {
        Lang::Influxql => {
            let mut q = vec![("db", endpoint.db.as_str()), ("q", text)];
            if let Some(u) = &endpoint.user {
                q.push(("u", u));
            }
            if let Some(p) = &endpoint.password {
                q.push(("p", p));
            }
            client.get(format!("{base}/query")).query(&q)
        }
        Lang::Sql => client.get(format!("{base}/api/v3/query_sql")).query(&[
            ("db", endpoint.db.as_str()),
            ("q", text),
            ("format", "json"),
        ]),
    };
    if let Some(token) = &endpoint.token {
        req = req.header(reqwest::header::AUTHORIZATION, format!("Token {token}"));
    }
    req
}

/// Sends one query; gives the time to the whole body and the body.
async fn execute(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    lang: Lang,
    text: &str,
) -> Result<(Duration, String)> {
    let started = Instant::now();
    let resp = request(client, endpoint, lang, text).send().await?;
    let status = resp.status();
    let body = resp.text().await?;
    let elapsed = started.elapsed();
    if !status.is_success() {
        let mut end = body.len().min(300);
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        return Err(format!("{status}: {}", &body[..end]).into());
    }
    Ok((elapsed, body))
}

/// Rows of an answer, and the answer itself for InfluxQL.
fn parse(lang: Lang, body: &str) -> Result<(usize, Option<Answer>)> {
    match lang {
        Lang::Influxql => {
            let a = answers::parse_v1(body)?;
            Ok((a.rows(), Some(a)))
        }
        Lang::Sql => Ok((answers::sql_rows(body)?, None)),
    }
}

async fn run_family(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    lang: Lang,
    family: &Family,
    plan: &Plan,
) -> FamilyResult {
    let instances = queries::instances(family, &plan.range, plan.seed, plan.warmup + plan.runs);
    let render = |i| match lang {
        Lang::Influxql => queries::influxql(family, i),
        Lang::Sql => queries::sql(family, i),
    };
    let mut result = FamilyResult {
        family: family.name,
        lang,
        runs: 0,
        p50_ms: None,
        p95_ms: None,
        mean_ms: None,
        rows: None,
        cpu_ms_per_query: None,
        example: instances.first().map(render).unwrap_or_default(),
        error: None,
        answers: Vec::new(),
    };
    let ticks = procfs::clock_ticks();
    let cpu = || plan.pid.and_then(|p| procfs::cpu_seconds(p, ticks).ok());
    let (mut latencies, mut rows) = (Vec::new(), Vec::new());
    let mut cpu_start = None;
    for (n, instance) in instances.iter().enumerate() {
        let timed = n >= plan.warmup;
        if n == plan.warmup {
            cpu_start = cpu();
        }
        let text = render(instance);
        let outcome = match execute(client, endpoint, lang, &text).await {
            Ok((elapsed, body)) => parse(lang, &body).map(|parsed| (elapsed, parsed)),
            Err(e) => Err(e),
        };
        match outcome {
            Ok((elapsed, (n_rows, answer))) => {
                if timed {
                    latencies.push(elapsed.as_secs_f64() * 1000.0);
                    rows.push(n_rows as f64);
                }
                let kept: usize = result.answers.iter().map(Answer::rows).sum();
                if let (true, true, Some(a)) = (plan.keep_answers, kept < MAX_KEPT_ROWS, answer) {
                    result.answers.push(a);
                }
            }
            Err(e) => {
                result.error = Some(format!("{e} (query: {text})"));
                break;
            }
        }
    }
    if result.error.is_none() && !latencies.is_empty() {
        if let (Some(a), Some(b)) = (cpu_start, cpu()) {
            result.cpu_ms_per_query = Some((b - a) * 1000.0 / latencies.len() as f64);
        }
    }
    result.runs = latencies.len();
    result.p50_ms = quantile(&latencies, 0.5);
    result.p95_ms = quantile(&latencies, 0.95);
    result.mean_ms = mean(&latencies);
    result.rows = quantile(&rows, 0.5);
    result
}

/// Every family of `plan` in `lang`, one after the other; a failing family records its error
/// and the others still run.
pub(crate) async fn run(endpoint: &Endpoint, lang: Lang, plan: &Plan) -> Result<Vec<FamilyResult>> {
    let client = crate::load::client()?;
    let mut out = Vec::new();
    for family in &plan.families {
        out.push(run_family(&client, endpoint, lang, family, plan).await);
    }
    Ok(out)
}

#[derive(Debug, clap::Args)]
pub(crate) struct QueryArgs {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8086")]
    url: String,
    #[arg(long, value_enum, default_value = "influxql")]
    api: Lang,
    /// Database (v1 `db=`, SQL `db=`).
    #[arg(long, default_value = "benchmark")]
    db: String,
    /// Sent as `Authorization: Token ...`.
    #[arg(long, env = "TIDEMARK_BENCH_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// v1 user (`u=`).
    #[arg(long, short = 'u')]
    user: Option<String>,
    /// v1 password (`p=`).
    #[arg(
        long,
        short = 'p',
        env = "TIDEMARK_BENCH_PASSWORD",
        hide_env_values = true
    )]
    password: Option<String>,
    /// Comma-separated family names (default: all).
    #[arg(long)]
    families: Option<String>,
    /// Timed executions per family.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Untimed executions per family before the timed ones.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// The directory `generate` wrote: hosts and time range from its manifest.json.
    #[arg(long, conflicts_with_all = ["hosts", "start", "duration"])]
    data: Option<PathBuf>,
    /// Hosts in the loaded data (without --data).
    #[arg(long, requires_all = ["start", "duration"])]
    hosts: Option<usize>,
    /// First timestamp of the loaded data: RFC 3339 or epoch seconds (without --data).
    #[arg(long)]
    start: Option<String>,
    /// Time span of the loaded data, e.g. `6h` (without --data).
    #[arg(long)]
    duration: Option<String>,
    /// Seed of the query parameters; the same seed gives the same queries.
    #[arg(long, default_value_t = 123)]
    seed: u64,
    /// The server's PID, for server CPU per query.
    #[arg(long)]
    pid: Option<u32>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

/// The data range of a manifest.
pub(crate) fn range_of(m: &Manifest) -> DataRange {
    DataRange {
        hosts: m.hosts,
        start_ns: m.start_ns,
        end_ns: m.end_ns,
    }
}

fn range_from_args(args: &QueryArgs) -> Result<DataRange> {
    if let Some(dir) = &args.data {
        return Ok(range_of(&Manifest::read(dir)?));
    }
    match (&args.hosts, &args.start, &args.duration) {
        (Some(hosts), Some(start), Some(duration)) => {
            let start_ns = generate::parse_start(start)?;
            let span = i64::try_from(generate::parse_duration(duration)?.as_nanos())
                .map_err(|_| "--duration is too long")?;
            Ok(DataRange {
                hosts: *hosts,
                start_ns,
                end_ns: start_ns.saturating_add(span),
            })
        }
        _ => Err("give --data <dir>, or --hosts, --start and --duration of the loaded data".into()),
    }
}

pub(crate) fn run_command(args: &QueryArgs) -> Result<()> {
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let range = range_from_args(args)?;
    if range.hosts == 0 || range.end_ns <= range.start_ns {
        return Err("the data has no hosts or an empty time range".into());
    }
    let plan = Plan {
        families: queries::select(args.families.as_deref())?,
        range,
        seed: args.seed,
        warmup: args.warmup,
        runs: args.runs,
        pid: args.pid,
        keep_answers: false,
    };
    let endpoint = Endpoint {
        url: args.url.clone(),
        db: args.db.clone(),
        token: args.token.clone(),
        user: args.user.clone(),
        password: args.password.clone(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let results = rt.block_on(run(&endpoint, args.api, &plan))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        print!("{}", render(&results));
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.error.is_some())
        .map(|r| r.family)
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed: {}", failed.join(", ")).into())
    }
}

/// The per-family table, with errors listed under it.
pub(crate) fn render(results: &[FamilyResult]) -> String {
    let ms = |v: Option<f64>| table::opt(v, |x| table::fixed(x, 2));
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            vec![
                r.family.to_owned(),
                ms(r.p50_ms),
                ms(r.p95_ms),
                ms(r.mean_ms),
                table::opt(r.rows, table::thousands),
                ms(r.cpu_ms_per_query),
                if r.error.is_some() { "FAILED" } else { "ok" }.to_owned(),
            ]
        })
        .collect();
    let mut out = table::render(
        &[
            "family",
            "p50 ms",
            "p95 ms",
            "mean ms",
            "rows",
            "server CPU-ms/query",
            "status",
        ],
        &rows,
    );
    for r in results {
        if let Some(e) = &r.error {
            out += &format!("{}: {e}\n", r.family);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[4.0], 0.95), Some(4.0));
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        // h = 19 * 0.95 = 18.05: between 19 and 20.
        let p95 = quantile(&v, 0.95).unwrap();
        assert!((p95 - 19.05).abs() < 1e-12, "{p95}");
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&v, 1.0), Some(20.0));
        assert_eq!(quantile(&[f64::NAN, 5.0], 0.5), Some(5.0));
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
        assert_eq!(mean(&[]), None);
    }

    #[test]
    fn requests() {
        let client = reqwest::Client::new();
        let e = Endpoint {
            url: "http://h:1/".into(),
            db: "benchmark".into(),
            token: Some("t".into()),
            user: Some("u".into()),
            password: None,
        };
        let r = request(&client, &e, Lang::Influxql, "SELECT 1")
            .build()
            .unwrap();
        assert_eq!(r.url().path(), "/query");
        assert_eq!(r.url().query(), Some("db=benchmark&q=SELECT+1&u=u"));
        assert_eq!(r.headers()[reqwest::header::AUTHORIZATION], "Token t");
        let r = request(&client, &e, Lang::Sql, "SELECT 1").build().unwrap();
        assert_eq!(r.url().path(), "/api/v3/query_sql");
        assert_eq!(r.url().query(), Some("db=benchmark&q=SELECT+1&format=json"));
    }

    #[test]
    fn ranges_from_the_command_line() {
        use clap::Parser;
        #[derive(Debug, Parser)]
        struct T {
            #[command(flatten)]
            q: QueryArgs,
        }
        let t = T::parse_from(["x", "--hosts", "10", "--start", "60", "--duration", "1h"]);
        assert_eq!(
            range_from_args(&t.q).unwrap(),
            DataRange {
                hosts: 10,
                start_ns: 60_000_000_000,
                end_ns: 3_660_000_000_000
            }
        );
        let t = T::parse_from(["x"]);
        assert!(range_from_args(&t.q).is_err());
        assert!(T::try_parse_from(["x", "--hosts", "10"]).is_err());
        assert!(T::try_parse_from([
            "x",
            "--data",
            "d",
            "--hosts",
            "10",
            "--start",
            "1",
            "--duration",
            "1h"
        ])
        .is_err());
    }
}
