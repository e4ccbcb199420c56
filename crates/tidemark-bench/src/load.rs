//! The loader: replays generated batch files over keep-alive HTTP/1.1 connections, waits until a
//! count query sees every row, and reads the server's costs from `/proc`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;

use crate::generate::Manifest;
use crate::procfs;
use crate::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Api {
    /// `POST /write?db=&precision=n` (InfluxDB 1.x).
    V1,
    /// `POST /api/v2/write?org=&bucket=&precision=ns` (InfluxDB 2 and 3).
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CountQuery {
    /// InfluxQL `SELECT count(usage_user) FROM cpu` on `GET /query`.
    V1,
    /// `SELECT count(*) AS n FROM cpu` on `GET /api/v3/query_sql`.
    Sql,
    /// Do not wait for visibility.
    None,
}

/// Where and how to write.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Base URL, e.g. `http://127.0.0.1:8086`.
    pub(crate) url: String,
    pub(crate) api: Api,
    pub(crate) org: String,
    pub(crate) bucket: String,
    /// The v1 database, also the database of count queries.
    pub(crate) db: String,
    pub(crate) token: Option<String>,
    pub(crate) user: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) count_query: CountQuery,
}

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) workers: usize,
    pub(crate) gzip: bool,
    /// Give up waiting for the count after this long.
    pub(crate) visible_timeout: Duration,
    /// The server process, for CPU, memory and I/O figures.
    pub(crate) pid: Option<u32>,
    /// Reset the server's `VmHWM` just before the load.
    pub(crate) reset_peak_rss: bool,
    /// Hold every body in memory before the clock starts when the data is at most this big.
    pub(crate) preload_max_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ServerReport {
    pub(crate) pid: u32,
    pub(crate) clock_ticks_per_second: u64,
    /// The process's CPU seconds when the load started (the base of the figures below).
    pub(crate) cpu_seconds_at_start: f64,
    /// Server CPU seconds (user + system, all threads) from the first request to the last
    /// acknowledgement.
    pub(crate) cpu_seconds_to_ack: f64,
    /// The same, up to the count query that saw every row (includes the count queries).
    pub(crate) cpu_seconds_to_visible: Option<f64>,
    /// rows / cpu_seconds_to_ack.
    pub(crate) rows_per_cpu_second: f64,
    /// `VmHWM` after the load, in bytes.
    pub(crate) peak_rss_bytes: Option<u64>,
    /// Whether the peak was reset just before the load (else it is the process-lifetime peak).
    pub(crate) peak_rss_reset: bool,
    /// `/proc/PID/io` write_bytes during the load, when readable.
    pub(crate) write_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct LoadReport {
    pub(crate) url: String,
    pub(crate) api: Api,
    pub(crate) workers: usize,
    pub(crate) gzip: bool,
    pub(crate) requests: usize,
    pub(crate) rows: u64,
    pub(crate) values: u64,
    /// Line-protocol bytes (before gzip).
    pub(crate) bytes: u64,
    /// Bytes of request bodies as sent.
    pub(crate) wire_bytes: u64,
    pub(crate) ack_seconds: f64,
    pub(crate) rows_per_second_ack: f64,
    pub(crate) count_query: CountQuery,
    pub(crate) visible_seconds: Option<f64>,
    pub(crate) rows_per_second_visible: Option<f64>,
    /// Rows the count query saw before the load.
    pub(crate) count_before: Option<u64>,
    /// Rows the final count query saw.
    pub(crate) count_seen: Option<u64>,
    pub(crate) server: Option<ServerReport>,
}

/// Some bodies, in memory or on disk.
#[derive(Debug)]
enum Bodies {
    Memory(Vec<(Bytes, u64)>),
    Disk(Vec<PathBuf>),
}

fn gzip(body: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 8),
        flate2::Compression::default(),
    );
    enc.write_all(body)?;
    Ok(enc.finish()?)
}

fn count_lines(body: &[u8]) -> u64 {
    body.iter().filter(|&&b| b == b'\n').count() as u64
}

impl Target {
    fn with_auth(&self, mut req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(token) = &self.token {
            req = req.header(reqwest::header::AUTHORIZATION, format!("Token {token}"));
        }
        req
    }

    fn v1_credentials(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(u) = &self.user {
            q.push(("u", u.clone()));
        }
        if let Some(p) = &self.password {
            q.push(("p", p.clone()));
        }
        q
    }

    fn write_request(&self, client: &reqwest::Client) -> reqwest::RequestBuilder {
        let base = self.url.trim_end_matches('/');
        let req = match self.api {
            Api::V2 => client.post(format!("{base}/api/v2/write")).query(&[
                ("org", self.org.as_str()),
                ("bucket", self.bucket.as_str()),
                ("precision", "ns"),
            ]),
            Api::V1 => client
                .post(format!("{base}/write"))
                .query(&[("db", self.db.as_str()), ("precision", "n")])
                .query(&self.v1_credentials()),
        };
        self.with_auth(req)
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
    }

    /// Rows of `cpu` the server answers a count query with.
    pub(crate) async fn count(&self, client: &reqwest::Client) -> Result<u64> {
        let base = self.url.trim_end_matches('/');
        match self.count_query {
            CountQuery::None => Err("no count query configured".into()),
            CountQuery::V1 => {
                let req = client
                    .get(format!("{base}/query"))
                    .query(&[
                        ("db", self.db.as_str()),
                        ("q", "SELECT count(usage_user) FROM cpu"),
                    ])
                    .query(&self.v1_credentials());
                let resp = self.with_auth(req).send().await?;
                let status = resp.status();
                let text = resp.text().await?;
                if !status.is_success() {
                    return Err(format!("count query: {status}: {}", clip(&text)).into());
                }
                parse_v1_count(&text)
            }
            CountQuery::Sql => {
                let req = client.get(format!("{base}/api/v3/query_sql")).query(&[
                    ("db", self.db.as_str()),
                    ("q", "SELECT count(*) AS n FROM cpu"),
                ]);
                let resp = self.with_auth(req).send().await?;
                let status = resp.status();
                let text = resp.text().await?;
                if !status.is_success() {
                    return Err(format!("count query: {status}: {}", clip(&text)).into());
                }
                parse_sql_count(&text)
            }
        }
    }
}

fn clip(text: &str) -> &str {
    let mut end = text.len().min(500);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Sums the counts of every series of an InfluxQL `SELECT count(..)` answer; no series is 0.
pub(crate) fn parse_v1_count(text: &str) -> Result<u64> {
    let v: serde_json::Value = serde_json::from_str(text)?;
    let result = v
        .get("results")
        .and_then(|r| r.get(0))
        .ok_or_else(|| format!("count query: no results in {}", clip(text)))?;
    if let Some(e) = result.get("error") {
        return Err(format!("count query: {e}").into());
    }
    let mut total = 0;
    for series in result
        .get("series")
        .and_then(|s| s.as_array())
        .into_iter()
        .flatten()
    {
        let column = series
            .get("columns")
            .and_then(|c| c.as_array())
            .and_then(|c| c.iter().position(|c| c.as_str() != Some("time")))
            .unwrap_or(1);
        for row in series
            .get("values")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            total += row
                .get(column)
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| format!("count query: bad row {row}"))?;
        }
    }
    Ok(total)
}

/// The `n` of `[{"n": 123}]`; an empty answer is 0.
pub(crate) fn parse_sql_count(text: &str) -> Result<u64> {
    let v: serde_json::Value = serde_json::from_str(text)?;
    let rows = v
        .as_array()
        .ok_or_else(|| format!("count query: not a JSON array: {}", clip(text)))?;
    match rows.first() {
        None => Ok(0),
        Some(row) => Ok(row
            .get("n")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| format!("count query: no n in {row}"))?),
    }
}

pub(crate) fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .pool_idle_timeout(None)
        .timeout(Duration::from_secs(600))
        .build()?)
}

/// The load, on its own Tokio runtime.
pub(crate) fn run(dir: &Path, target: &Target, options: &Options) -> Result<LoadReport> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run_async(dir, target, options))
}

async fn run_async(dir: &Path, target: &Target, options: &Options) -> Result<LoadReport> {
    let manifest = Manifest::read(dir)?;
    if options.workers == 0 {
        return Err("--workers must be at least 1".into());
    }
    let paths: Vec<PathBuf> = manifest.files.iter().map(|f| dir.join(f)).collect();
    let bodies = if manifest.bytes <= options.preload_max_bytes {
        let mut v = Vec::with_capacity(paths.len());
        for p in &paths {
            let body = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let rows = count_lines(&body);
            let body = if options.gzip { gzip(&body)? } else { body };
            v.push((Bytes::from(body), rows));
        }
        Bodies::Memory(v)
    } else {
        Bodies::Disk(paths)
    };
    let requests = match &bodies {
        Bodies::Memory(v) => v.len(),
        Bodies::Disk(v) => v.len(),
    };

    let query_client = client()?;
    let count_before = match target.count_query {
        CountQuery::None => None,
        // A missing table or database is an error on some servers; it means nothing yet.
        _ => Some(target.count(&query_client).await.unwrap_or(0)),
    };
    let ticks = procfs::clock_ticks();
    let mut peak_rss_reset = false;
    if let (Some(pid), true) = (options.pid, options.reset_peak_rss) {
        match procfs::reset_peak_rss(pid) {
            Ok(()) => peak_rss_reset = true,
            Err(e) => eprintln!("warning: {e}; the peak RSS is the process-lifetime peak"),
        }
    }
    let cpu_start = options
        .pid
        .map(|pid| procfs::cpu_seconds(pid, ticks))
        .transpose()?;
    let io_start = options.pid.and_then(procfs::write_bytes);

    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let abort = Arc::new(AtomicBool::new(false));
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..options.workers {
        let client = client()?;
        let target = target.clone();
        let (bodies, next, abort, failures) = (
            Arc::clone(&bodies),
            Arc::clone(&next),
            Arc::clone(&abort),
            Arc::clone(&failures),
        );
        let gz = options.gzip;
        workers.push(tokio::spawn(async move {
            let (mut rows, mut wire) = (0u64, 0u64);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if abort.load(Ordering::Relaxed) || i >= requests {
                    break;
                }
                let prepared: Result<(Bytes, u64)> = match &*bodies {
                    Bodies::Memory(v) => Ok(v[i].clone()),
                    Bodies::Disk(paths) => match tokio::fs::read(&paths[i]).await {
                        Ok(body) => {
                            let n = count_lines(&body);
                            if gz {
                                gzip(&body).map(|b| (Bytes::from(b), n))
                            } else {
                                Ok((Bytes::from(body), n))
                            }
                        }
                        Err(e) => Err(format!("cannot read {}: {e}", paths[i].display()).into()),
                    },
                };
                let outcome = match prepared {
                    Err(e) => Err(e.to_string()),
                    Ok((body, n)) => {
                        let len = body.len() as u64;
                        let mut req = target.write_request(&client).body(body);
                        if gz {
                            req = req.header(reqwest::header::CONTENT_ENCODING, "gzip");
                        }
                        match req.send().await {
                            Ok(resp) if resp.status() == reqwest::StatusCode::NO_CONTENT => {
                                rows += n;
                                wire += len;
                                Ok(())
                            }
                            Ok(resp) => {
                                let status = resp.status();
                                let text = resp.text().await.unwrap_or_default();
                                Err(format!("batch {i}: {status}: {}", clip(&text)))
                            }
                            Err(e) => Err(format!("batch {i}: {e}")),
                        }
                    }
                };
                if let Err(e) = outcome {
                    abort.store(true, Ordering::Relaxed);
                    if let Ok(mut f) = failures.lock() {
                        f.push(e);
                    }
                    break;
                }
            }
            (rows, wire)
        }));
    }
    let (mut rows, mut wire_bytes) = (0, 0);
    for w in workers {
        let (r, b) = w.await?;
        rows += r;
        wire_bytes += b;
    }
    let ack = start.elapsed();
    let cpu_ack = options
        .pid
        .map(|pid| procfs::cpu_seconds(pid, ticks))
        .transpose()?;
    let failures = failures.lock().map(|f| f.clone()).unwrap_or_default();
    if !failures.is_empty() {
        return Err(format!(
            "{} write(s) failed (every response must be 204); aborted: {}",
            failures.len(),
            failures.join("; ")
        )
        .into());
    }
    if rows != manifest.rows {
        return Err(format!("sent {rows} rows but the manifest lists {}", manifest.rows).into());
    }

    let mut visible = None;
    let mut count_seen = None;
    if let Some(before) = count_before {
        let expected = before + rows;
        let deadline = Instant::now() + options.visible_timeout;
        let mut last_error;
        loop {
            match target.count(&query_client).await {
                Ok(n) if n == expected => {
                    visible = Some(start.elapsed());
                    count_seen = Some(n);
                    break;
                }
                Ok(n) if n > expected => {
                    return Err(format!(
                        "the count query saw {n} rows, more than the {expected} expected"
                    )
                    .into())
                }
                Ok(n) => last_error = format!("saw {n} of {expected} rows"),
                Err(e) => last_error = e.to_string(),
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the count never reached {expected} within {:?}: {last_error}",
                    options.visible_timeout
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let cpu_visible = match (options.pid, visible) {
        (Some(pid), Some(_)) => Some(procfs::cpu_seconds(pid, ticks)?),
        _ => None,
    };

    let server = match (options.pid, cpu_start, cpu_ack) {
        (Some(pid), Some(c0), Some(c1)) => {
            let cpu = (c1 - c0).max(0.0);
            Some(ServerReport {
                pid,
                clock_ticks_per_second: ticks,
                cpu_seconds_at_start: c0,
                cpu_seconds_to_ack: cpu,
                cpu_seconds_to_visible: cpu_visible.map(|c| (c - c0).max(0.0)),
                rows_per_cpu_second: if cpu > 0.0 {
                    rows as f64 / cpu
                } else {
                    f64::INFINITY
                },
                peak_rss_bytes: procfs::peak_rss(pid).ok(),
                peak_rss_reset,
                write_bytes: match (io_start, procfs::write_bytes(pid)) {
                    (Some(a), Some(b)) => Some(b.saturating_sub(a)),
                    _ => None,
                },
            })
        }
        _ => None,
    };
    let secs = ack.as_secs_f64();
    Ok(LoadReport {
        url: target.url.clone(),
        api: target.api,
        workers: options.workers,
        gzip: options.gzip,
        requests,
        rows,
        values: manifest.values,
        bytes: manifest.bytes,
        wire_bytes,
        ack_seconds: secs,
        rows_per_second_ack: rows as f64 / secs,
        count_query: target.count_query,
        visible_seconds: visible.map(|d| d.as_secs_f64()),
        rows_per_second_visible: visible.map(|d| rows as f64 / d.as_secs_f64()),
        count_before,
        count_seen,
        server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_counts() {
        let one = r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","count"],"values":[["1970-01-01T00:00:00Z",216000]]}]}]}"#;
        assert_eq!(parse_v1_count(one).unwrap(), 216_000);
        let two = r#"{"results":[{"series":[{"columns":["time","count"],"values":[[0,5]]},{"columns":["time","count"],"values":[[0,7]]}]}]}"#;
        assert_eq!(parse_v1_count(two).unwrap(), 12);
        assert_eq!(
            parse_v1_count(r#"{"results":[{"statement_id":0}]}"#).unwrap(),
            0
        );
        assert!(parse_v1_count(r#"{"results":[{"error":"database not found: x"}]}"#).is_err());
        assert!(parse_v1_count("{}").is_err());
    }

    #[test]
    fn sql_counts() {
        assert_eq!(parse_sql_count(r#"[{"n":216000}]"#).unwrap(), 216_000);
        assert_eq!(parse_sql_count("[]").unwrap(), 0);
        assert!(parse_sql_count(r#"{"code":"invalid"}"#).is_err());
    }

    #[test]
    fn gzip_round_trip_and_lines() {
        use std::io::Read;
        let body = b"cpu a=1i 1\ncpu a=2i 2\n".repeat(100);
        let z = gzip(&body).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&z[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        assert_eq!(count_lines(&body), 200);
    }
}
