//! `tidemark-bench`: generates TSBS `cpu-only` line protocol, replays it to a server over HTTP,
//! runs the TSBS query families against a server, and runs tidemark and InfluxDB 1.6 side by
//! side (ingest, then queries with their answers cross-checked). See BENCHMARKS.md for the
//! figures it gave.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

mod answers;
mod check;
mod compare;
mod compare_queries;
mod generate;
mod load;
mod procfs;
mod queries;
mod query;
mod servers;
mod table;

pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Parser)]
#[command(
    name = "tidemark-bench",
    version,
    about = "Ingest and query benchmarks for tidemark and its peers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write TSBS cpu-only line protocol into batch files plus manifest.json.
    Generate(GenerateArgs),
    /// Replay generated files to a server and report throughput and server costs.
    Load(LoadArgs),
    /// Run the TSBS query families against a server: latency percentiles, rows, server CPU.
    Query(query::QueryArgs),
    /// Start tidemark and InfluxDB 1.6, load the same data into each, run the query families,
    /// print the tables.
    Compare(compare::CompareArgs),
    /// Check the JSON of `compare --json-out` (for CI): counts match, every figure is there,
    /// query answers agree.
    CheckCompare(CheckArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The JSON file.
    file: PathBuf,
    /// The number of rows every run must have sent and counted.
    #[arg(long)]
    rows: Option<u64>,
}

/// What to generate (shared by `generate` and `compare`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DataArgs {
    /// Number of hosts (series).
    #[arg(long, default_value_t = 100)]
    hosts: usize,
    /// Time span: `10m`, `6h`, `1d`, `1h30m`.
    #[arg(long, default_value = "6h")]
    duration: String,
    /// Seconds between a host's rows.
    #[arg(long, default_value = "10s")]
    interval: String,
    /// Random seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 123)]
    seed: u64,
    /// First timestamp (RFC 3339 or epoch seconds); default: now - duration, aligned to the
    /// interval (`compare`: UTC midnight of that day, so the data sits in one daily partition).
    #[arg(long)]
    start: Option<String>,
    /// Lines per file (one file is one write request).
    #[arg(long, default_value_t = 5000)]
    batch_size: usize,
}

impl DataArgs {
    pub(crate) fn spec(&self, midnight: bool) -> Result<generate::Spec> {
        let duration = generate::parse_duration(&self.duration)?;
        let interval = generate::parse_duration(&self.interval)?;
        if interval.is_zero() {
            return Err("--interval must be positive".into());
        }
        let start_ns = match &self.start {
            Some(s) => generate::parse_start(s)?,
            None if midnight && duration <= Duration::from_secs(86_400) => {
                generate::midnight_start(duration)
            }
            None => generate::recent_start(duration, interval),
        };
        Ok(generate::Spec {
            hosts: self.hosts,
            duration,
            interval,
            seed: self.seed,
            start_ns,
            batch_size: self.batch_size,
        })
    }
}

#[derive(Debug, clap::Args)]
struct GenerateArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Directory for the files (created if missing).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
struct LoadArgs {
    /// Directory written by `generate`.
    #[arg(long)]
    data: PathBuf,
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8086")]
    url: String,
    #[arg(long, value_enum, default_value = "v2")]
    api: load::Api,
    /// v2: org name or ID.
    #[arg(long, default_value = "default")]
    org: String,
    /// v2: bucket name or ID.
    #[arg(long, default_value = "benchmark")]
    bucket: String,
    /// v1: database; also the database of count queries (default: the bucket).
    #[arg(long)]
    db: Option<String>,
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
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Gzip every body (compressed before the clock starts when the data is preloaded).
    #[arg(long)]
    gzip: bool,
    /// How to check that every row is visible.
    #[arg(long, value_enum, default_value = "sql")]
    count_query: load::CountQuery,
    /// Seconds to wait for the count after the last acknowledgement.
    #[arg(long, default_value_t = 300)]
    visible_timeout: u64,
    /// The server's PID, for CPU seconds, peak RSS and bytes written.
    #[arg(long)]
    pid: Option<u32>,
    /// A file holding the server's PID.
    #[arg(long, conflicts_with = "pid")]
    pid_file: Option<PathBuf>,
    /// Reset the server's peak RSS (VmHWM) before the load; otherwise it is the lifetime peak.
    #[arg(long)]
    reset_peak_rss: bool,
    /// The server's data directory: report its size (file sizes, and blocks allocated, which
    /// leaves out sparse preallocation) once it has stopped changing.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Seconds the data directory must stay unchanged to count as settled.
    #[arg(long, default_value_t = 5)]
    settle_quiet: u64,
    /// Give up settling after this many seconds (and report the size then).
    #[arg(long, default_value_t = 120)]
    settle_timeout: u64,
    /// Hold the bodies in memory when the data is at most this many MiB.
    #[arg(long, default_value_t = 4096)]
    preload_max_mib: u64,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

fn run_generate(args: &GenerateArgs) -> Result<()> {
    let spec = args.data.spec(false)?;
    let started = std::time::Instant::now();
    let m = generate::generate(&spec, &args.out)?;
    eprintln!(
        "generated {} rows ({} values, {} bytes) in {} files, {} .. {}, in {:.1} s",
        m.rows,
        m.values,
        m.bytes,
        m.files.len(),
        m.start,
        m.end,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run_load(args: &LoadArgs) -> Result<()> {
    let pid = match (&args.pid, &args.pid_file) {
        (Some(p), _) => Some(*p),
        (None, Some(f)) => Some(procfs::read_pid_file(f)?),
        (None, None) => None,
    };
    let target = load::Target {
        url: args.url.clone(),
        api: args.api,
        org: args.org.clone(),
        bucket: args.bucket.clone(),
        db: args.db.clone().unwrap_or_else(|| args.bucket.clone()),
        token: args.token.clone(),
        user: args.user.clone(),
        password: args.password.clone(),
        count_query: args.count_query,
    };
    let options = load::Options {
        workers: args.workers,
        gzip: args.gzip,
        visible_timeout: Duration::from_secs(args.visible_timeout),
        pid,
        reset_peak_rss: args.reset_peak_rss,
        preload_max_bytes: args.preload_max_mib.saturating_mul(1024 * 1024),
    };
    let report = load::run(&args.data, &target, &options)?;
    let disk = args.data_dir.as_ref().map(|dir| {
        let settled = servers::settle_quiet(
            std::slice::from_ref(dir),
            Duration::from_secs(args.settle_quiet),
            Duration::from_secs(args.settle_timeout),
        );
        let (bytes, files) = procfs::dir_stats(dir, &mut |_| {});
        let allocated = procfs::dir_allocated(dir);
        serde_json::json!({
            "dir": dir,
            "bytes": bytes,
            "allocated_bytes": allocated,
            "files": files,
            "settled": settled,
            "bytes_per_value": allocated as f64 / report.values as f64,
        })
    });
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        if let (Some(obj), Some(disk)) = (v.as_object_mut(), disk) {
            obj.insert("disk".into(), disk);
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let mut rows = vec![
        vec!["rows".into(), table::thousands(report.rows as f64)],
        vec!["requests".into(), report.requests.to_string()],
        vec![
            "rows/s (ack)".into(),
            table::thousands(report.rows_per_second_ack),
        ],
        vec![
            "rows/s (visible)".into(),
            table::opt(report.rows_per_second_visible, table::thousands),
        ],
        vec![
            "seconds to last ack".into(),
            table::fixed(report.ack_seconds, 3),
        ],
        vec![
            "seconds to visible".into(),
            table::opt(report.visible_seconds, |v| table::fixed(v, 3)),
        ],
    ];
    if let Some(s) = &report.server {
        rows.push(vec![
            "server CPU-s (to ack)".into(),
            table::fixed(s.cpu_seconds_to_ack, 2),
        ]);
        rows.push(vec![
            "rows per server CPU-s".into(),
            table::thousands(s.rows_per_cpu_second),
        ]);
        rows.push(vec![
            if s.peak_rss_reset {
                "peak RSS, MiB (load)"
            } else {
                "peak RSS, MiB (lifetime)"
            }
            .into(),
            table::opt(s.peak_rss_bytes.map(|b| b as f64), table::mib),
        ]);
        rows.push(vec![
            "write_bytes, MiB".into(),
            table::opt(s.write_bytes.map(|b| b as f64), table::mib),
        ]);
    }
    if let Some(d) = &disk {
        rows.push(vec![
            "disk, MiB (file sizes)".into(),
            table::mib(d["bytes"].as_f64().unwrap_or(f64::NAN)),
        ]);
        rows.push(vec![
            "disk, MiB (allocated)".into(),
            table::mib(d["allocated_bytes"].as_f64().unwrap_or(f64::NAN)),
        ]);
        rows.push(vec![
            "disk bytes/value (allocated)".into(),
            table::fixed(d["bytes_per_value"].as_f64().unwrap_or(f64::NAN), 3),
        ]);
    }
    print!("{}", table::render(&["metric", "value"], &rows));
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Generate(a) => run_generate(a),
        Command::Load(a) => run_load(a),
        Command::Query(a) => query::run_command(a),
        Command::Compare(a) => compare::run(a),
        Command::CheckCompare(a) => check::check(&a.file, a.rows),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
