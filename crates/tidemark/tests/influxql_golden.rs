//! InfluxQL golden files: every query of `tests/influxql/queries/*.txt` against tidemark's v1
//! `/query`, compared with what InfluxDB 1.6 answered (`tests/influxql/expected/<id>.json`,
//! made by `scripts/influxql-goldens.sh`). See `tests/influxql/README.md`.
//!
//! Each data set `tests/influxql/data/<stem>.lp` is written to database `<stem>` first; its
//! answer is compared too, as case `write-<stem>`. Answers are compared by HTTP status
//! (`expected/statuses.txt`) and as JSON values: floats within 1e-9 relative, everything else
//! exactly. Cases listed in
//! `tests/influxql/known-differences.txt` may differ, and must: one that matches again fails the
//! test until it is taken off the list, so the list only shrinks. `UPDATE_KNOWN=1` rewrites it.
//!
//! `TIDEMARK_GOLDEN_URL` (with `TIDEMARK_GOLDEN_TOKEN`, empty for none) runs the cases against
//! that server instead of a fresh tidemark; `TIDEMARK_GOLDEN_STRICT=1` ignores the list so that
//! every case must match (what `scripts/influxql-goldens.sh --run` sets for InfluxDB itself).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{TestServer, OPERATOR_TOKEN};
use serde_json::Value;

/// How many differences of one case are printed; the first ones locate the problem.
const MAX_DIFFS: usize = 8;

/// The start of the reasons `UPDATE_KNOWN=1` writes itself.
const GENERATED: &str = "not yet supported: ";

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/influxql")
}

/// One query line: `id<TAB>db<TAB>query[<TAB>params]`, `db` `-` for none.
#[derive(Debug)]
struct Query {
    id: String,
    db: Option<String>,
    q: String,
    params: Vec<(String, String)>,
}

/// The files of a suite directory with this extension, sorted so runs are reproducible.
fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(suite().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_str().unwrap().to_owned()
}

fn queries() -> Vec<Query> {
    let mut out = Vec::new();
    for path in files("queries", "txt") {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            assert!(
                (3..=4).contains(&cols.len()),
                "{}:{}: want id<TAB>db<TAB>query[<TAB>params]",
                path.display(),
                n + 1
            );
            let params = cols.get(3).map_or_else(Vec::new, |p| {
                form_urlencoded::parse(p.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            });
            out.push(Query {
                id: cols[0].to_owned(),
                db: (cols[1] != "-").then(|| cols[1].to_owned()),
                q: cols[2].to_owned(),
                params,
            });
        }
    }
    out
}

/// Where the cases run: a fresh tidemark, or the server of `TIDEMARK_GOLDEN_URL`.
struct Target {
    base: String,
    token: Option<String>,
    client: reqwest::Client,
    _server: Option<TestServer>,
}

impl Target {
    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    }

    /// A fresh tidemark that persists its buffer within a second, to answer from files.
    async fn persisting() -> Self {
        let mut options = common::Options::standard();
        options.extra_args = vec!["--persist-max-age-seconds".into(), "1".into()];
        let server = TestServer::start_with(options).await;
        Self {
            base: format!("http://{}", server.addr),
            token: Some(OPERATOR_TOKEN.to_owned()),
            client: Self::client(),
            _server: Some(server),
        }
    }

    /// Waits until the server's `/metrics` shows no buffered rows.
    async fn wait_persisted(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (_, body) = self
                .send(reqwest::Method::GET, "/metrics", &[], vec![])
                .await;
            let text = body.as_str().unwrap_or_default().to_owned();
            if text.lines().any(|l| l == "tidemark_buffered_rows 0") {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the buffer was not persisted within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn start() -> Self {
        let client = Self::client();
        if let Ok(url) = std::env::var("TIDEMARK_GOLDEN_URL") {
            let token = std::env::var("TIDEMARK_GOLDEN_TOKEN")
                .ok()
                .filter(|t| !t.is_empty());
            return Self {
                base: url.trim_end_matches('/').to_owned(),
                token,
                client,
                _server: None,
            };
        }
        let server = TestServer::start().await;
        Self {
            base: format!("http://{}", server.addr),
            token: Some(OPERATOR_TOKEN.to_owned()),
            client,
            _server: Some(server),
        }
    }

    /// Sends a request; the status and the body as JSON, `null` when empty, a JSON string when
    /// not JSON (so a plain-text answer shows up in the diff instead of aborting the run).
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .query(params)
            .body(body);
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Token {t}"));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        format!("{}...", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

fn numbers_equal(e: &serde_json::Number, a: &serde_json::Number) -> bool {
    if !e.is_f64() && !a.is_f64() {
        return e == a;
    }
    let (x, y) = (e.as_f64().unwrap(), a.as_f64().unwrap());
    x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
}

/// Appends the differences between `expected` and `actual` at `path` to `out`.
fn diff(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    if out.len() >= MAX_DIFFS {
        return;
    }
    let at = if path.is_empty() { "body" } else { path };
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) if numbers_equal(e, a) => {}
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!("{at}: {} elements, got {}", e.len(), a.len()));
            }
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                diff(&format!("{path}[{i}]"), e, a, out);
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                let key_path = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match a.get(k) {
                    Some(w) => diff(&key_path, v, w, out),
                    None => out.push(format!("{at}: missing key {k:?} (expected {})", show(v))),
                }
            }
            for (k, w) in a {
                if !e.contains_key(k) {
                    out.push(format!("{at}: unexpected key {k:?} = {}", show(w)));
                }
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{at}: expected {}, got {}", show(e), show(a))),
    }
    out.truncate(MAX_DIFFS);
}

/// The HTTP status of each case (`expected/statuses.txt`).
fn expected_statuses() -> BTreeMap<String, u16> {
    let path = suite().join("expected/statuses.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, status) = l.split_once('\t').unwrap();
            (id.to_owned(), status.parse().unwrap())
        })
        .collect()
}

fn expected(id: &str) -> Value {
    let path = suite().join("expected").join(format!("{id}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/influxql-goldens.sh to regenerate the goldens",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// The list of allowed differences: id and reason.
fn read_known(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l.split_once('\t').unwrap_or((l, ""));
            (id.trim().to_owned(), reason.trim().to_owned())
        })
        .collect()
}

fn write_known(path: &Path, ids: &[String], old: &BTreeMap<String, String>, diffs: &Diffs) {
    let mut text = String::from(
        "# Cases allowed to differ from InfluxDB 1.6 (id<TAB>reason). The golden test fails when\n\
         # an unlisted case differs and when a listed case matches, so this list only shrinks.\n\
         # UPDATE_KNOWN=1 cargo test -p tidemark --test influxql_golden rewrites it.\n",
    );
    for id in ids {
        let Some(d) = diffs.get(id) else { continue };
        // Reasons written by hand stay; generated ones follow the current first difference.
        let reason = old
            .get(id)
            .filter(|r| !r.is_empty() && !r.starts_with(GENERATED))
            .cloned()
            .unwrap_or_else(|| {
                let first: String = d[0].chars().take(100).collect();
                format!("{GENERATED}{first}")
            });
        // One line per case: a reason must not break the format.
        let reason = reason.replace(['\t', '\n', '\r'], " ");
        writeln!(text, "{id}\t{reason}").unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// The differences of each case that does not match.
type Diffs = BTreeMap<String, Vec<String>>;

/// Every case's answer (the status and body), in case order.
type Answers = Vec<(String, (u16, Value))>;

/// Writes every data set to `target`, then (after `settle`) runs every query.
async fn answers<F: std::future::Future<Output = ()>>(
    target: &Target,
    queries: &[Query],
    settle: impl FnOnce() -> F,
) -> Answers {
    let mut out = Answers::new();
    for path in files("data", "lp") {
        let db = stem(&path);
        // InfluxDB 1.x writes only into existing databases; tidemark creates them on write, so
        // what this answers is not part of the comparison.
        let create = format!("CREATE DATABASE \"{db}\"");
        target
            .send(reqwest::Method::POST, "/query", &[("q", &create)], vec![])
            .await;
        let body = std::fs::read(&path).unwrap();
        let params = [("db", db.as_str()), ("precision", "ns")];
        let answer = target
            .send(reqwest::Method::POST, "/write", &params, body)
            .await;
        out.push((format!("write-{db}"), answer));
    }
    settle().await;
    for query in queries {
        let mut params: Vec<(&str, &str)> = vec![("q", &query.q)];
        if let Some(db) = &query.db {
            params.push(("db", db));
        }
        params.extend(query.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let answer = target
            .send(reqwest::Method::GET, "/query", &params, vec![])
            .await;
        out.push((query.id.clone(), answer));
    }
    out
}

/// The same cases answered from Parquet files (after the buffer is persisted) as from the
/// buffer: persisted data takes other read paths (the direct path of small queries, file
/// scans), which must not change any answer.
#[tokio::test(flavor = "multi_thread")]
async fn influxql_answers_from_files_equal_answers_from_the_buffer() {
    if std::env::var("TIDEMARK_GOLDEN_URL").is_ok() {
        return;
    }
    let queries = queries();
    let buffered = answers(&Target::start().await, &queries, || async {}).await;
    let target = Target::persisting().await;
    let persisted = answers(&target, &queries, || target.wait_persisted()).await;
    let mut problems = Vec::new();
    for ((id, (status_b, body_b)), (_, (status_p, body_p))) in buffered.iter().zip(&persisted) {
        let mut out = Vec::new();
        if status_b != status_p {
            out.push(format!(
                "status: {status_b} from the buffer, {status_p} from files"
            ));
        }
        diff("", body_b, body_p, &mut out);
        if !out.is_empty() {
            problems.push(format!(
                "{id} (expected: from the buffer; got: from files):\n    {}",
                out.join("\n    ")
            ));
        }
    }
    assert_eq!(buffered.len(), persisted.len());
    // The direct path took part: most SELECTs here are small aggregates over one measurement.
    let (_, metrics) = target
        .send(reqwest::Method::GET, "/metrics", &[], vec![])
        .await;
    let figure = |name: &str| -> u64 {
        metrics
            .as_str()
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let direct = figure("tidemark_influxql_direct_reads");
    assert!(
        direct >= 100,
        "the direct path answered only {direct} reads"
    );
    // And most of those on the connection's thread, so the answers above came that way too.
    let inline = figure("tidemark_influxql_inline_statements");
    assert!(
        inline >= 50,
        "only {inline} statements were answered on the connection's thread"
    );
    assert!(
        problems.is_empty(),
        "{} case(s) answer differently from files:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn influxql_goldens() {
    let target = Target::start().await;
    let queries = queries();
    let mut ids: Vec<String> = Vec::new();
    let mut diffs = Diffs::new();
    let statuses = expected_statuses();
    // TIDEMARK_GOLDEN_DUMP=<dir> writes every answer there (`<id>.json`), to compare whole.
    let dump = std::env::var_os("TIDEMARK_GOLDEN_DUMP").map(std::path::PathBuf::from);
    let mut check = |id: String, (status, body): (u16, Value)| {
        if let Some(dir) = &dump {
            std::fs::create_dir_all(dir).unwrap();
            let text = format!(
                "{status}\n{}\n",
                serde_json::to_string_pretty(&body).unwrap()
            );
            std::fs::write(dir.join(format!("{id}.json")), text).unwrap();
        }
        let mut out = Vec::new();
        match statuses.get(&id) {
            Some(&want) if want == status => {}
            Some(want) => out.push(format!("status: expected {want}, got {status}")),
            None => out.push(format!("status: none in statuses.txt, got {status}")),
        }
        diff("", &expected(&id), &body, &mut out);
        if !out.is_empty() {
            diffs.insert(id.clone(), out);
        }
        ids.push(id);
    };

    for (id, answer) in answers(&target, &queries, || async {}).await {
        check(id, answer);
    }

    let mut problems = Vec::new();
    let mut unique = BTreeSet::new();
    for id in &ids {
        if !unique.insert(id) {
            problems.push(format!("{id}: duplicate case id"));
        }
    }
    // Goldens without a case are left over from a removed query: regenerate.
    for path in files("expected", "json") {
        if !unique.contains(&stem(&path)) {
            problems.push(format!("{}: no such case", path.display()));
        }
    }
    for id in statuses.keys() {
        if !unique.contains(id) {
            problems.push(format!("expected/statuses.txt: {id}: no such case"));
        }
    }

    let strict = std::env::var("TIDEMARK_GOLDEN_STRICT").is_ok_and(|v| v == "1");
    let known_path = suite().join("known-differences.txt");
    let known = if strict {
        BTreeMap::new()
    } else {
        read_known(&known_path)
    };
    if std::env::var("UPDATE_KNOWN").is_ok_and(|v| v == "1") {
        assert!(!strict, "UPDATE_KNOWN=1 with TIDEMARK_GOLDEN_STRICT=1");
        write_known(&known_path, &ids, &known, &diffs);
        println!("rewrote {}", known_path.display());
    } else {
        for (id, d) in &diffs {
            if !known.contains_key(id) {
                problems.push(format!("{id} differs:\n    {}", d.join("\n    ")));
            }
        }
        for id in known.keys() {
            if !unique.contains(id) {
                problems.push(format!(
                    "{id} is listed as a known difference but is no case"
                ));
            } else if !diffs.contains_key(id) {
                problems.push(format!(
                    "{id} matches now: take it off known-differences.txt"
                ));
            }
        }
    }
    println!(
        "{} cases: {} match, {} differ ({} listed as known)",
        ids.len(),
        ids.len() - diffs.len(),
        diffs.len(),
        known.len()
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
