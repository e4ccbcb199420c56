//! `compare`: tidemark and InfluxDB 1.6 side by side on the same generated data.
//!
//! Each system runs alone (the other is not started), from a fresh throwaway directory, on
//! loopback ports: start it, create the database, reset its peak RSS, load, wait for the count,
//! wait for its data to settle on disk (tidemark: the buffer persisted to Parquet and the WAL
//! released; InfluxDB: the cache snapshotted to TSM, the WAL emptied, full compaction done),
//! measure, kill it. Several runs alternate the order and the table shows medians.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::generate::{self, Manifest};
use crate::load::{self, Api, CountQuery, LoadReport, Target};
use crate::{procfs, table, DataArgs, Result};

const DB: &str = "benchmark";
const TOKEN: &str = "tidemark-bench-operator-token-0123456789abcdef";
const ORG: &str = "default";
/// A WAL directory at most this big holds no rows any more (just an empty segment).
const SMALL_WAL: u64 = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum System {
    Tidemark,
    Influxdb,
}

impl System {
    fn name(self) -> &'static str {
        match self {
            System::Tidemark => "tidemark",
            System::Influxdb => "influxdb",
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct CompareArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Use this generated directory instead of generating one.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Concurrent keep-alive connections per load.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Gzip the bodies.
    #[arg(long)]
    gzip: bool,
    /// The tidemark binary.
    #[arg(long, default_value = "target/release/tidemark")]
    tidemark: PathBuf,
    /// tidemark's write API (InfluxDB 1.6 always gets v1).
    #[arg(long, value_enum, default_value = "v2")]
    tidemark_api: Api,
    /// tidemark's loopback port.
    #[arg(long, default_value_t = 18181)]
    tidemark_port: u16,
    /// tidemark's --persist-max-age-seconds: how soon the buffer goes to Parquet.
    #[arg(long, default_value_t = 5)]
    persist_max_age: u64,
    /// More arguments for `tidemark serve` (repeatable), e.g. `--tidemark-arg=--wal-flush-window-ms=5`.
    #[arg(long, allow_hyphen_values = true)]
    tidemark_arg: Vec<String>,
    /// The influxd binary (installed from Debian's `influxdb` package if missing).
    #[arg(long, default_value = "influxd")]
    influxd: PathBuf,
    /// Do not install InfluxDB when influxd is missing; fail instead.
    #[arg(long)]
    no_install: bool,
    /// InfluxDB's loopback HTTP port.
    #[arg(long, default_value_t = 18086)]
    influx_port: u16,
    /// InfluxDB's loopback RPC (backup/restore) port.
    #[arg(long, default_value_t = 18088)]
    influx_rpc_port: u16,
    /// InfluxDB's cache-snapshot-write-cold-duration, seconds.
    #[arg(long, default_value_t = 2)]
    influx_snapshot_cold: u64,
    /// InfluxDB's compact-full-write-cold-duration, seconds.
    #[arg(long, default_value_t = 10)]
    influx_full_compaction_cold: u64,
    /// Run only this system.
    #[arg(long, value_enum)]
    only: Option<System>,
    /// Repeat the pair this many times (alternating the order); the table shows medians.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Seconds to wait for the data to settle on disk before failing.
    #[arg(long, default_value_t = 300)]
    settle_timeout: u64,
    /// Seconds to wait for every row to be counted after the last acknowledgement.
    #[arg(long, default_value_t = 300)]
    visible_timeout: u64,
    /// Where the throwaway directories go (default: a new directory under the system temp dir).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Keep the throwaway directories (data, logs, configs).
    #[arg(long)]
    keep: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Also write the JSON to this file.
    #[arg(long)]
    json_out: Option<PathBuf>,
}

/// A server child process, killed when dropped.
#[derive(Debug)]
struct Server {
    system: System,
    child: Child,
    pid: u32,
    url: String,
    dir: PathBuf,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

fn command_output(program: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn find_program(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 {
        return name.is_file().then(|| name.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Installs Debian's `influxdb` without letting its service start (a `policy-rc.d` that says
/// 101 while apt runs, unless one exists already). Needs root or password-less sudo.
fn install_influxdb() -> Result<()> {
    const SCRIPT: &str = r#"set -e
created=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created=1
fi
trap 'if [ "$created" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq influxdb
"#;
    let root = command_output(Path::new("id"), &["-u"]).as_deref() == Some("0");
    let mut cmd = if root {
        Command::new("sh")
    } else if Command::new("sudo")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success())
    {
        let mut c = Command::new("sudo");
        c.args(["-n", "sh"]);
        c
    } else {
        return Err("influxd is missing and installing it needs root: run `apt-get install influxdb` (keeping its service from starting) or pass --influxd".into());
    };
    eprintln!("installing Debian's influxdb package (its service is not started)");
    let status = cmd
        .args(["-c", SCRIPT])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run the install: {e}"))?;
    if !status.success() {
        return Err(format!("installing influxdb failed: {status}").into());
    }
    Ok(())
}

fn influxd_path(args: &CompareArgs) -> Result<PathBuf> {
    if let Some(p) = find_program(&args.influxd) {
        return Ok(p);
    }
    if args.no_install {
        return Err(format!("{} not found (and --no-install)", args.influxd.display()).into());
    }
    install_influxdb()?;
    find_program(&args.influxd).ok_or_else(|| {
        format!(
            "{} still not found after installing",
            args.influxd.display()
        )
        .into()
    })
}

fn spawn(system: System, mut cmd: Command, dir: &Path, url: String) -> Result<Server> {
    let log = dir.join(format!("{}.log", system.name()));
    let out = File::create(&log)?;
    let err = out.try_clone()?;
    // Settings meant for the user's own server must not leak into this one.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("TIDEMARK_") || k.starts_with("INFLUXDB_") {
            cmd.env_remove(k);
        }
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", system.name()))?;
    Ok(Server {
        system,
        pid: child.id(),
        child,
        url,
        dir: dir.to_path_buf(),
        log,
    })
}

fn start_tidemark(args: &CompareArgs, dir: &Path) -> Result<Server> {
    let bin = find_program(&args.tidemark).ok_or_else(|| {
        format!(
            "{} not found: build it with `cargo build --release -p tidemark`",
            args.tidemark.display()
        )
    })?;
    let data = dir.join("data");
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(&data)
        .arg("--bind")
        .arg(format!("127.0.0.1:{}", args.tidemark_port))
        .arg("--operator-token")
        .arg(TOKEN)
        .arg("--org-name")
        .arg(ORG)
        .arg("--persist-max-age-seconds")
        .arg(args.persist_max_age.to_string())
        .arg("--log-filter")
        .arg("info")
        .args(&args.tidemark_arg);
    spawn(
        System::Tidemark,
        cmd,
        dir,
        format!("http://127.0.0.1:{}", args.tidemark_port),
    )
}

fn influx_config(args: &CompareArgs, dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"# Written by tidemark-bench compare.
reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"

[meta]
  dir = "{d}/meta"
  logging-enabled = false

[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  # fsync every write before acknowledging it, like tidemark's WAL
  wal-fsync-delay = "0s"
  index-version = "inmem"
  query-log-enabled = false
  trace-logging-enabled = false
  cache-snapshot-write-cold-duration = "{snap}s"
  compact-full-write-cold-duration = "{full}s"
  max-series-per-database = 0
  max-values-per-tag = 0

[retention]
  enabled = false

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http}"
  auth-enabled = false
  log-enabled = false
  write-tracing = false

[logging]
  level = "warn"
  suppress-logo = true

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false
"#,
        rpc = args.influx_rpc_port,
        http = args.influx_port,
        snap = args.influx_snapshot_cold,
        full = args.influx_full_compaction_cold,
    )
}

fn start_influx(args: &CompareArgs, influxd: &Path, dir: &Path) -> Result<Server> {
    let config = dir.join("influxdb.conf");
    std::fs::write(&config, influx_config(args, dir))?;
    let mut cmd = Command::new(influxd);
    cmd.arg("run").arg("-config").arg(&config);
    spawn(
        System::Influxdb,
        cmd,
        dir,
        format!("http://127.0.0.1:{}", args.influx_port),
    )
}

fn wait_ready(rt: &tokio::runtime::Runtime, server: &mut Server) -> Result<()> {
    let client = load::client()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = server.child.try_wait()? {
            return Err(format!(
                "{} exited at start-up ({status}); its log:\n{}",
                server.system.name(),
                server.log_tail()
            )
            .into());
        }
        let ok = rt.block_on(async {
            client
                .get(format!("{}/ping", server.url))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        });
        if ok {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{} did not answer /ping within 60 s; its log:\n{}",
                server.system.name(),
                server.log_tail()
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// tidemark: the org's ID, then a bucket that never expires.
async fn prepare_tidemark(url: &str) -> Result<()> {
    let client = load::client()?;
    let auth = format!("Token {TOKEN}");
    let resp = client
        .get(format!("{url}/api/v2/orgs"))
        .query(&[("org", ORG)])
        .header(reqwest::header::AUTHORIZATION, &auth)
        .send()
        .await?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await?;
    let org_id = body["orgs"][0]["id"]
        .as_str()
        .ok_or_else(|| format!("GET /api/v2/orgs: {status} {body}"))?
        .to_owned();
    let resp = client
        .post(format!("{url}/api/v2/buckets"))
        .header(reqwest::header::AUTHORIZATION, &auth)
        .json(&serde_json::json!({
            "orgID": org_id,
            "name": DB,
            "retentionRules": [{"type": "expire", "everySeconds": 0}],
        }))
        .send()
        .await?;
    if !resp.status().is_success() {
        let status = resp.status();
        return Err(format!(
            "POST /api/v2/buckets: {status}: {}",
            resp.text().await.unwrap_or_default()
        )
        .into());
    }
    Ok(())
}

async fn prepare_influx(url: &str) -> Result<()> {
    let client = load::client()?;
    let resp = client
        .post(format!("{url}/query"))
        .form(&[("q", format!("CREATE DATABASE {DB}"))])
        .send()
        .await?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() || text.contains("\"error\"") {
        return Err(format!("CREATE DATABASE: {status}: {text}").into());
    }
    Ok(())
}

/// Polls `dirs` every half second until their sizes stay the same for `quiet` while `ready`
/// holds; false when `timeout` passes first.
pub(crate) fn settle(
    dirs: &[PathBuf],
    quiet: Duration,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
) -> bool {
    let sizes = || -> Vec<(u64, u64)> {
        dirs.iter()
            .map(|d| procfs::dir_stats(d, &mut |_| {}))
            .collect()
    };
    let start = Instant::now();
    let mut last = sizes();
    let mut since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = sizes();
        if now != last {
            last = now;
            since = Instant::now();
        }
        if since.elapsed() >= quiet && ready() {
            return true;
        }
        if start.elapsed() >= timeout {
            return false;
        }
    }
}

pub(crate) fn settle_quiet(dirs: &[PathBuf], quiet: Duration, timeout: Duration) -> bool {
    settle(dirs, quiet, timeout, || true)
}

fn count_files(dir: &Path, extension: &str) -> u64 {
    let mut n = 0;
    procfs::dir_stats(dir, &mut |p| {
        if p.extension().is_some_and(|e| e == extension) {
            n += 1;
        }
    });
    n
}

/// One system's figures from one run.
#[derive(Debug, Clone, Serialize)]
struct RunResult {
    system: System,
    run: usize,
    load: LoadReport,
    /// Figures by metric key (see `METRICS`).
    figures: BTreeMap<&'static str, f64>,
    /// How many times tidemark persisted / compacted (from its log).
    persists: Option<usize>,
    compactions: Option<usize>,
}

struct Metric {
    key: &'static str,
    label: &'static str,
    format: fn(f64) -> String,
}

fn f2(v: f64) -> String {
    table::fixed(v, 2)
}
fn f3(v: f64) -> String {
    table::fixed(v, 3)
}

const METRICS: &[Metric] = &[
    Metric {
        key: "rows_per_second_ack",
        label: "rows/s (ack)",
        format: table::thousands,
    },
    Metric {
        key: "rows_per_second_visible",
        label: "rows/s (visible)",
        format: table::thousands,
    },
    Metric {
        key: "cpu_seconds_load",
        label: "server CPU-s (load, to last ack)",
        format: f2,
    },
    Metric {
        key: "rows_per_cpu_second_load",
        label: "rows per server CPU-s (load)",
        format: table::thousands,
    },
    Metric {
        key: "cpu_seconds_total",
        label: "server CPU-s (load + settle, no counts)",
        format: f2,
    },
    Metric {
        key: "rows_per_cpu_second_total",
        label: "rows per server CPU-s (load + settle)",
        format: table::thousands,
    },
    Metric {
        key: "peak_rss_mib",
        label: "peak RSS, MiB (load + settle)",
        format: |v| table::fixed(v, 1),
    },
    Metric {
        key: "write_mib",
        label: "bytes written, MiB (/proc io, load + settle)",
        format: |v| table::fixed(v, 1),
    },
    Metric {
        key: "persisted_mib",
        label: "data files, MiB (Parquet / TSM)",
        format: |v| table::fixed(v, 2),
    },
    Metric {
        key: "persisted_files",
        label: "data files",
        format: |v| table::fixed(v, 0),
    },
    Metric {
        key: "bytes_per_value_persisted",
        label: "disk bytes/value (data files)",
        format: f3,
    },
    Metric {
        key: "bytes_per_value_total",
        label: "disk bytes/value (whole data dir, allocated)",
        format: f3,
    },
    Metric {
        key: "settle_seconds",
        label: "seconds to settle after the load",
        format: f2,
    },
];

#[allow(clippy::too_many_arguments)]
fn run_system(
    args: &CompareArgs,
    system: System,
    run: usize,
    work: &Path,
    data: &Path,
    manifest: &Manifest,
    influxd: Option<&Path>,
    rt: &tokio::runtime::Runtime,
) -> Result<RunResult> {
    let dir = work.join(format!("{}-{run}", system.name()));
    std::fs::create_dir_all(&dir)?;
    let mut server = match system {
        System::Tidemark => start_tidemark(args, &dir)?,
        System::Influxdb => {
            let influxd = influxd.ok_or("influxd is needed")?;
            start_influx(args, influxd, &dir)?
        }
    };
    wait_ready(rt, &mut server)?;
    match system {
        System::Tidemark => rt.block_on(prepare_tidemark(&server.url))?,
        System::Influxdb => rt.block_on(prepare_influx(&server.url))?,
    }
    let target = match system {
        System::Tidemark => Target {
            url: server.url.clone(),
            api: args.tidemark_api,
            org: ORG.to_owned(),
            bucket: DB.to_owned(),
            db: DB.to_owned(),
            token: Some(TOKEN.to_owned()),
            user: None,
            password: None,
            count_query: CountQuery::Sql,
        },
        System::Influxdb => Target {
            url: server.url.clone(),
            api: Api::V1,
            org: String::new(),
            bucket: DB.to_owned(),
            db: DB.to_owned(),
            token: None,
            user: None,
            password: None,
            count_query: CountQuery::V1,
        },
    };
    let options = load::Options {
        workers: args.workers,
        gzip: args.gzip,
        visible_timeout: Duration::from_secs(args.visible_timeout),
        pid: Some(server.pid),
        reset_peak_rss: true,
        preload_max_bytes: 4 << 30,
    };
    eprintln!(
        "run {run}: loading {} rows into {} (pid {}, {})",
        manifest.rows,
        system.name(),
        server.pid,
        server.url
    );
    let ticks = procfs::clock_ticks();
    let cpu_before = procfs::cpu_seconds(server.pid, ticks)?;
    let io_before = procfs::write_bytes(server.pid);
    let report = load::run(data, &target, &options)
        .map_err(|e| format!("{}: {e}; its log:\n{}", system.name(), server.log_tail()))?;
    if report.count_before != Some(0) || report.count_seen != Some(manifest.rows) {
        return Err(format!(
            "{}: counted {:?} rows before and {:?} after, expected 0 and {}",
            system.name(),
            report.count_before,
            report.count_seen,
            manifest.rows
        )
        .into());
    }
    eprintln!(
        "run {run}: {} acknowledged {:.0} rows/s; waiting for its data to settle on disk",
        system.name(),
        report.rows_per_second_ack
    );

    let settle_start = Instant::now();
    let timeout = Duration::from_secs(args.settle_timeout);
    let data_dir = server.dir.join("data");
    let (settled, persisted_dir, wal_dir, whole) = match system {
        System::Tidemark => {
            let objects = data_dir.join("objects");
            let wal = data_dir.join("wal");
            let log = server.log.clone();
            let mut compacted_at: Option<Instant> = None;
            let settled = settle(
                std::slice::from_ref(&data_dir),
                Duration::from_secs(3),
                timeout,
                || {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    if text.contains("compacted") && compacted_at.is_none() {
                        compacted_at = Some(Instant::now());
                    }
                    // Replaced files stay for the compactor's 60 s grace period.
                    let grace_over =
                        compacted_at.is_none_or(|t| t.elapsed() >= Duration::from_secs(65));
                    procfs::dir_size(&wal) <= SMALL_WAL
                        && count_files(&objects, "parquet") > 0
                        && grace_over
                },
            );
            (settled, objects, wal, data_dir.clone())
        }
        System::Influxdb => {
            let tsm = server.dir.join("data");
            let wal = server.dir.join("wal");
            let quiet = Duration::from_secs(args.influx_full_compaction_cold + 5);
            let settled = settle(&[tsm.clone(), wal.clone()], quiet, timeout, || {
                procfs::dir_size(&wal) <= SMALL_WAL && count_files(&tsm, "tsm") > 0
            });
            (settled, tsm, wal, server.dir.clone())
        }
    };
    if !settled {
        return Err(format!(
            "{}: the data did not settle within {} s (WAL {} bytes, {} persisted files); its log:\n{}",
            system.name(),
            args.settle_timeout,
            procfs::dir_size(&wal_dir),
            count_files(&persisted_dir, if system == System::Tidemark { "parquet" } else { "tsm" }),
            server.log_tail()
        )
        .into());
    }
    let settle_seconds = settle_start.elapsed().as_secs_f64();
    // Load plus settling, without the count queries between the last acknowledgement and the
    // count that saw every row (that is query work, and tidemark's counts over the unpersisted
    // buffer cost more than InfluxDB's).
    let cpu_end = procfs::cpu_seconds(server.pid, ticks)?;
    let cpu_total = match &report.server {
        Some(s) => {
            let visible = s.cpu_seconds_to_visible.unwrap_or(s.cpu_seconds_to_ack);
            s.cpu_seconds_to_ack + (cpu_end - s.cpu_seconds_at_start - visible).max(0.0)
        }
        None => cpu_end - cpu_before,
    };
    let peak_rss = procfs::peak_rss(server.pid).ok();
    let written = match (io_before, procfs::write_bytes(server.pid)) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    // The data files themselves (apparent sizes): Parquet for tidemark, TSM for InfluxDB.
    let extension = match system {
        System::Tidemark => "parquet",
        System::Influxdb => "tsm",
    };
    let (mut persisted_bytes, mut persisted_files) = (0u64, 0u64);
    procfs::dir_stats(&persisted_dir, &mut |p| {
        if p.extension().is_some_and(|e| e == extension) {
            persisted_files += 1;
            persisted_bytes += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        }
    });
    // Everything, as allocated on disk (InfluxDB preallocates its series file sparsely).
    let whole_bytes = match system {
        // The catalog, the WAL and the objects.
        System::Tidemark => procfs::dir_allocated(&whole),
        // meta/, data/ (TSM, series file, fields index) and wal/; not the config and the log.
        System::Influxdb => ["meta", "data", "wal"]
            .iter()
            .map(|d| procfs::dir_allocated(&server.dir.join(d)))
            .sum(),
    };
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    let (persists, compactions) = match system {
        System::Tidemark => (
            Some(log.matches("persisted the buffer").count()),
            Some(log.matches("compacted").count()),
        ),
        System::Influxdb => (None, None),
    };
    drop(server);
    if !args.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }

    let values = manifest.values as f64;
    let rows = manifest.rows as f64;
    let mut figures = BTreeMap::new();
    figures.insert("rows_per_second_ack", report.rows_per_second_ack);
    if let Some(v) = report.rows_per_second_visible {
        figures.insert("rows_per_second_visible", v);
    }
    if let Some(s) = &report.server {
        figures.insert("cpu_seconds_load", s.cpu_seconds_to_ack);
        figures.insert("rows_per_cpu_second_load", s.rows_per_cpu_second);
    }
    figures.insert("cpu_seconds_total", cpu_total);
    if cpu_total > 0.0 {
        figures.insert("rows_per_cpu_second_total", rows / cpu_total);
    }
    if let Some(p) = peak_rss {
        figures.insert("peak_rss_mib", p as f64 / 1048576.0);
    }
    if let Some(w) = written {
        figures.insert("write_mib", w as f64 / 1048576.0);
    }
    figures.insert("persisted_mib", persisted_bytes as f64 / 1048576.0);
    figures.insert("persisted_files", persisted_files as f64);
    figures.insert("bytes_per_value_persisted", persisted_bytes as f64 / values);
    figures.insert("bytes_per_value_total", whole_bytes as f64 / values);
    figures.insert("settle_seconds", settle_seconds);
    Ok(RunResult {
        system,
        run,
        load: report,
        figures,
        persists,
        compactions,
    })
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

#[derive(Debug, Serialize)]
struct Target3 {
    target: &'static str,
    value: Option<f64>,
    met: Option<bool>,
}

#[derive(Debug, Serialize)]
struct Output<'a> {
    manifest: &'a Manifest,
    workers: usize,
    gzip: bool,
    tidemark_api: Api,
    persist_max_age_seconds: u64,
    tidemark_version: Option<String>,
    influxdb_version: Option<String>,
    runs: &'a [RunResult],
    medians: BTreeMap<&'static str, BTreeMap<&'static str, f64>>,
    ratios: BTreeMap<&'static str, f64>,
    targets: Vec<Target3>,
}

pub(crate) fn run(args: &CompareArgs) -> Result<()> {
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    let systems: Vec<System> = match args.only {
        Some(s) => vec![s],
        None => vec![System::Tidemark, System::Influxdb],
    };
    let influxd = if systems.contains(&System::Influxdb) {
        Some(influxd_path(args)?)
    } else {
        None
    };
    let tidemark_version = if systems.contains(&System::Tidemark) {
        let bin = find_program(&args.tidemark).ok_or_else(|| {
            format!(
                "{} not found: build it with `cargo build --release -p tidemark`",
                args.tidemark.display()
            )
        })?;
        command_output(&bin, &["--version"])
    } else {
        None
    };
    let influxdb_version = influxd
        .as_deref()
        .and_then(|p| command_output(p, &["version"]));

    let mut builder = tempfile::Builder::new();
    builder.prefix("tidemark-bench-").disable_cleanup(args.keep);
    let work = match &args.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            builder.tempdir_in(d)?
        }
        None => builder.tempdir()?,
    };
    let data = match &args.data_dir {
        Some(d) => d.clone(),
        None => {
            let d = work.path().join("lp");
            let spec = args.data.spec(true)?;
            let m = generate::generate(&spec, &d)?;
            eprintln!(
                "generated {} rows, {} bytes in {} files ({} .. {})",
                m.rows,
                m.bytes,
                m.files.len(),
                m.start,
                m.end
            );
            d
        }
    };
    let manifest = Manifest::read(&data)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    let mut results = Vec::new();
    for run in 0..args.runs {
        let mut order = systems.clone();
        if run % 2 == 1 {
            order.reverse();
        }
        for system in order {
            results.push(run_system(
                args,
                system,
                run,
                work.path(),
                &data,
                &manifest,
                influxd.as_deref(),
                &rt,
            )?);
        }
    }
    if args.keep {
        eprintln!("kept {}", work.path().display());
    }

    let mut medians: BTreeMap<&'static str, BTreeMap<&'static str, f64>> = BTreeMap::new();
    for &system in &systems {
        let mine: Vec<&RunResult> = results.iter().filter(|r| r.system == system).collect();
        let mut m = BTreeMap::new();
        for metric in METRICS {
            if let Some(v) = median(
                mine.iter()
                    .filter_map(|r| r.figures.get(metric.key).copied())
                    .collect(),
            ) {
                m.insert(metric.key, v);
            }
        }
        medians.insert(system.name(), m);
    }
    let get = |s: System, k: &str| medians.get(s.name()).and_then(|m| m.get(k)).copied();
    let mut ratios = BTreeMap::new();
    for metric in METRICS {
        if let (Some(a), Some(b)) = (
            get(System::Tidemark, metric.key),
            get(System::Influxdb, metric.key),
        ) {
            if b != 0.0 {
                ratios.insert(metric.key, a / b);
            }
        }
    }
    let ratio = |k: &str| ratios.get(k).copied();
    let targets = vec![
        Target3 {
            target: "ingest rows/s (ack) >= 2x InfluxDB 1.6",
            value: ratio("rows_per_second_ack"),
            met: ratio("rows_per_second_ack").map(|r| r >= 2.0),
        },
        Target3 {
            target: "ingest rows/s (visible) >= 2x InfluxDB 1.6",
            value: ratio("rows_per_second_visible"),
            met: ratio("rows_per_second_visible").map(|r| r >= 2.0),
        },
        Target3 {
            target: "rows per server CPU-s (load) >= 3x InfluxDB 1.6",
            value: ratio("rows_per_cpu_second_load"),
            met: ratio("rows_per_cpu_second_load").map(|r| r >= 3.0),
        },
        Target3 {
            target: "rows per server CPU-s (load + settle) >= 3x InfluxDB 1.6",
            value: ratio("rows_per_cpu_second_total"),
            met: ratio("rows_per_cpu_second_total").map(|r| r >= 3.0),
        },
        Target3 {
            target: "tidemark bytes/value after persistence <= 0.3",
            value: get(System::Tidemark, "bytes_per_value_persisted"),
            met: get(System::Tidemark, "bytes_per_value_persisted").map(|v| v <= 0.3),
        },
    ];

    let output = Output {
        manifest: &manifest,
        workers: args.workers,
        gzip: args.gzip,
        tidemark_api: args.tidemark_api,
        persist_max_age_seconds: args.persist_max_age,
        tidemark_version,
        influxdb_version,
        runs: &results,
        medians,
        ratios,
        targets,
    };
    let json = serde_json::to_string_pretty(&output)?;
    if let Some(path) = &args.json_out {
        std::fs::write(path, format!("{json}\n"))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if args.json {
        println!("{json}");
    } else {
        print!("{}", render(&output, &systems));
    }
    Ok(())
}

fn render(o: &Output<'_>, systems: &[System]) -> String {
    let m = o.manifest;
    let mut out = format!(
        "{} hosts x {} .. {} = {} rows ({} values, {:.1} MB of line protocol) in {} bodies of {} lines; {} worker(s), gzip {}\n",
        m.hosts,
        m.start,
        m.end,
        table::thousands(m.rows as f64),
        table::thousands(m.values as f64),
        m.bytes as f64 / 1e6,
        m.files.len(),
        m.batch_size,
        o.workers,
        if o.gzip { "on" } else { "off" },
    );
    if systems.contains(&System::Tidemark) {
        out += &format!(
            "tidemark: {} ({} API, --persist-max-age-seconds {}); ",
            o.tidemark_version.as_deref().unwrap_or("?"),
            match o.tidemark_api {
                Api::V1 => "v1",
                Api::V2 => "v2",
            },
            o.persist_max_age_seconds
        );
    }
    if systems.contains(&System::Influxdb) {
        out += &format!(
            "influxdb: {} (v1 API, wal-fsync-delay 0s); ",
            o.influxdb_version.as_deref().unwrap_or("?")
        );
    }
    let runs = o.runs.len() / systems.len().max(1);
    out += &format!(
        "{runs} run(s){}\n\n",
        if runs > 1 { ", medians" } else { "" }
    );

    let mut header = vec!["metric"];
    header.extend(systems.iter().map(|s| s.name()));
    let both = systems.len() == 2;
    if both {
        header.push("tidemark/influxdb");
    }
    let rows: Vec<Vec<String>> = METRICS
        .iter()
        .map(|metric| {
            let mut row = vec![metric.label.to_owned()];
            for s in systems {
                row.push(table::opt(
                    o.medians
                        .get(s.name())
                        .and_then(|m| m.get(metric.key))
                        .copied(),
                    metric.format,
                ));
            }
            if both {
                row.push(table::opt(o.ratios.get(metric.key).copied(), |r| {
                    format!("{r:.2}x")
                }));
            }
            row
        })
        .collect();
    out += &table::render(&header, &rows);
    if both {
        out += "\ntargets (storage issue):\n";
        for t in &o.targets {
            let value = t.value.map_or("-".to_owned(), |v| {
                if t.target.starts_with("tidemark bytes") {
                    format!("{v:.3}")
                } else {
                    format!("{v:.2}x")
                }
            });
            let verdict = match t.met {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "not measured",
            };
            out += &format!("  {:<58} {:>8}  {verdict}\n", t.target, value);
        }
    }
    out
}

/// Checks a `compare --json-out` file: every run counted exactly `rows` rows, and every system
/// has the figures the table needs, all positive. For CI (`scripts/bench-smoke.sh`).
pub(crate) fn check(path: &Path, rows: Option<u64>) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    check_value(&v, rows)
}

fn check_value(v: &serde_json::Value, rows: Option<u64>) -> Result<()> {
    let manifest_rows = v["manifest"]["rows"].as_u64().ok_or("no manifest.rows")?;
    if manifest_rows == 0 {
        return Err("the manifest lists no rows".into());
    }
    if let Some(r) = rows {
        if r != manifest_rows {
            return Err(format!("the manifest lists {manifest_rows} rows, expected {r}").into());
        }
    }
    let runs = v["runs"].as_array().ok_or("no runs")?;
    if runs.is_empty() {
        return Err("no runs".into());
    }
    let mut problems = Vec::new();
    for r in runs {
        let who = format!("{} run {}", r["system"], r["run"]);
        let sent = r["load"]["rows"].as_u64();
        let seen = r["load"]["count_seen"].as_u64();
        if sent != Some(manifest_rows) || seen != Some(manifest_rows) {
            problems.push(format!(
                "{who}: sent {sent:?} rows and counted {seen:?}, expected {manifest_rows}"
            ));
        }
    }
    // Positive in every run; CPU figures only need to be there, since a tiny run can take
    // less than one clock tick of server CPU.
    const POSITIVE: [&str; 6] = [
        "rows_per_second_ack",
        "rows_per_second_visible",
        "peak_rss_mib",
        "persisted_files",
        "bytes_per_value_persisted",
        "bytes_per_value_total",
    ];
    const PRESENT: [&str; 2] = ["cpu_seconds_load", "cpu_seconds_total"];
    let medians = v["medians"].as_object().ok_or("no medians")?;
    if medians.is_empty() {
        return Err("no medians".into());
    }
    for (system, m) in medians {
        for key in POSITIVE {
            match m[key].as_f64() {
                Some(x) if x > 0.0 && x.is_finite() => {}
                other => problems.push(format!("{system}: {key} is {other:?}")),
            }
        }
        for key in PRESENT {
            match m[key].as_f64() {
                Some(x) if x >= 0.0 && x.is_finite() => {}
                other => problems.push(format!("{system}: {key} is {other:?}")),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; ").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let good = serde_json::json!({
            "manifest": {"rows": 300},
            "runs": [{"system": "tidemark", "run": 0, "load": {"rows": 300, "count_seen": 300}}],
            "medians": {"tidemark": {
                "rows_per_second_ack": 1.0, "rows_per_second_visible": 1.0,
                "cpu_seconds_load": 0.1, "rows_per_cpu_second_load": 3000.0,
                "cpu_seconds_total": 0.2,
                "peak_rss_mib": 50.0, "persisted_files": 1.0,
                "bytes_per_value_persisted": 2.0, "bytes_per_value_total": 9.0
            }}
        });
        check_value(&good, Some(300)).unwrap();
        assert!(check_value(&good, Some(301)).is_err());
        let mut short = good.clone();
        short["runs"][0]["load"]["count_seen"] = 299.into();
        assert!(check_value(&short, None).is_err());
        let mut zero = good.clone();
        zero["medians"]["tidemark"]["persisted_files"] = 0.0.into();
        assert!(check_value(&zero, None).is_err());
        let mut idle = good.clone();
        idle["medians"]["tidemark"]["cpu_seconds_load"] = 0.0.into();
        idle["medians"]["tidemark"]
            .as_object_mut()
            .unwrap()
            .remove("rows_per_cpu_second_load");
        check_value(&idle, None).unwrap();
        let mut missing = good;
        missing["medians"]["tidemark"]
            .as_object_mut()
            .unwrap()
            .remove("peak_rss_mib");
        assert!(check_value(&missing, None).is_err());
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0]), Some(3.0));
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN, 1.0]), Some(1.0));
    }

    #[test]
    fn influx_config_points_into_the_throwaway_dir() {
        use clap::Parser;
        #[derive(Debug, Parser)]
        struct T {
            #[command(flatten)]
            c: CompareArgs,
        }
        let t = T::parse_from(["x"]);
        let text = influx_config(&t.c, Path::new("/tmp/x"));
        assert!(text.contains("dir = \"/tmp/x/meta\""));
        assert!(text.contains("wal-dir = \"/tmp/x/wal\""));
        assert!(text.contains("wal-fsync-delay = \"0s\""));
        assert!(text.contains("bind-address = \"127.0.0.1:18086\""));
        assert!(text.contains("bind-address = \"127.0.0.1:18088\""));
        assert!(text.contains("reporting-disabled = true"));
    }
}
