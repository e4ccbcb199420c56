//! `compare`: tidemark and InfluxDB 1.6 side by side on the same generated data.
//!
//! Each system runs alone (the other is not started), from a fresh throwaway directory, on
//! loopback ports: start it, create the database, reset its peak RSS, load, wait for the count,
//! wait for its data to settle on disk (tidemark: the buffer persisted to Parquet and the WAL
//! released; InfluxDB: the cache snapshotted to TSM, the WAL emptied, full compaction done),
//! measure, run the TSBS query families (`compare_queries.rs`; not with `--no-queries`), kill
//! it. Several runs alternate the order and the tables show medians.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::compare_queries::{self, QueryFlags, QuerySummary, SystemQueries};
use crate::generate::{self, Manifest};
use crate::load::{self, Api, CountQuery, LoadReport, Target};
use crate::query::Endpoint;
use crate::servers::{self, DB, ORG, TOKEN};
use crate::{procfs, table, DataArgs, Result};

/// A WAL directory at most this big holds no rows any more (just an empty segment).
const SMALL_WAL: u64 = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum System {
    Tidemark,
    Influxdb,
}

impl System {
    pub(crate) fn name(self) -> &'static str {
        match self {
            System::Tidemark => "tidemark",
            System::Influxdb => "influxdb",
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct CompareArgs {
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// Use this generated directory instead of generating one.
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    /// Concurrent keep-alive connections per load.
    #[arg(long, default_value_t = 2)]
    pub(crate) workers: usize,
    /// Gzip the bodies.
    #[arg(long)]
    pub(crate) gzip: bool,
    /// The tidemark binary.
    #[arg(long, default_value = "target/release/tidemark")]
    pub(crate) tidemark: PathBuf,
    /// tidemark's write API (InfluxDB 1.6 always gets v1).
    #[arg(long, value_enum, default_value = "v2")]
    pub(crate) tidemark_api: Api,
    /// tidemark's loopback port.
    #[arg(long, default_value_t = 18181)]
    pub(crate) tidemark_port: u16,
    /// tidemark's --persist-max-age-seconds: how soon the buffer goes to Parquet.
    #[arg(long, default_value_t = 5)]
    pub(crate) persist_max_age: u64,
    /// More arguments for `tidemark serve` (repeatable), e.g. `--tidemark-arg=--wal-flush-window-ms=5`.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) tidemark_arg: Vec<String>,
    /// The influxd binary (installed from Debian's `influxdb` package if missing).
    #[arg(long, default_value = "influxd")]
    pub(crate) influxd: PathBuf,
    /// Do not install InfluxDB when influxd is missing; fail instead.
    #[arg(long)]
    pub(crate) no_install: bool,
    /// InfluxDB's loopback HTTP port.
    #[arg(long, default_value_t = 18086)]
    pub(crate) influx_port: u16,
    /// InfluxDB's loopback RPC (backup/restore) port.
    #[arg(long, default_value_t = 18088)]
    pub(crate) influx_rpc_port: u16,
    /// InfluxDB's cache-snapshot-write-cold-duration, seconds.
    #[arg(long, default_value_t = 2)]
    pub(crate) influx_snapshot_cold: u64,
    /// Seconds a shard (InfluxDB) or a table's day (tidemark) goes without writes before it is
    /// rewritten whole: InfluxDB's compact-full-write-cold-duration and tidemark's
    /// --compact-cold-seconds.
    #[arg(long, alias = "influx-full-compaction-cold", default_value_t = 10)]
    pub(crate) full_compaction_cold: u64,
    /// Run only this system.
    #[arg(long, value_enum)]
    pub(crate) only: Option<System>,
    /// Repeat the pair this many times (alternating the order); the table shows medians.
    #[arg(long, default_value_t = 1)]
    pub(crate) runs: usize,
    /// Seconds to wait for the data to settle on disk before failing.
    #[arg(long, default_value_t = 300)]
    pub(crate) settle_timeout: u64,
    /// Seconds to wait for every row to be counted after the last acknowledgement.
    #[arg(long, default_value_t = 300)]
    pub(crate) visible_timeout: u64,
    /// Where the throwaway directories go (default: a new directory under the system temp dir).
    #[arg(long)]
    pub(crate) work_dir: Option<PathBuf>,
    /// Keep the throwaway directories (data, logs, configs).
    #[arg(long)]
    pub(crate) keep: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Also write the JSON to this file.
    #[arg(long)]
    pub(crate) json_out: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) queries: QueryFlags,
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
    /// The query families, run after the data settled (absent with --no-queries).
    queries: Option<SystemQueries>,
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
        System::Tidemark => servers::start_tidemark(args, &dir)?,
        System::Influxdb => {
            let influxd = influxd.ok_or("influxd is needed")?;
            servers::start_influx(args, influxd, &dir)?
        }
    };
    servers::wait_ready(rt, &mut server)?;
    match system {
        System::Tidemark => rt.block_on(servers::prepare_tidemark(&server.url))?,
        System::Influxdb => rt.block_on(servers::prepare_influx(&server.url))?,
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
            let metrics = format!("{}/metrics", server.url);
            let client = reqwest::Client::new();
            let settled = servers::settle(
                std::slice::from_ref(&data_dir),
                Duration::from_secs(3),
                timeout,
                || {
                    // Everything persisted, no merge left (a day still to go cold counts), and
                    // the objects merges replaced deleted.
                    let idle = rt.block_on(servers::gauges(
                        &client,
                        &metrics,
                        &[
                            "tidemark_buffered_rows",
                            "tidemark_storage_compactions_pending",
                            "tidemark_storage_deletes_pending",
                        ],
                    ));
                    procfs::dir_size(&wal) <= SMALL_WAL
                        && servers::count_files(&objects, "parquet") > 0
                        && idle.is_ok_and(|g| g.iter().all(|&v| v == 0))
                },
            );
            (settled, objects, wal, data_dir.clone())
        }
        System::Influxdb => {
            let tsm = server.dir.join("data");
            let wal = server.dir.join("wal");
            let quiet = Duration::from_secs(args.full_compaction_cold + 5);
            let settled = servers::settle(&[tsm.clone(), wal.clone()], quiet, timeout, || {
                procfs::dir_size(&wal) <= SMALL_WAL && servers::count_files(&tsm, "tsm") > 0
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
            servers::count_files(&persisted_dir, if system == System::Tidemark { "parquet" } else { "tsm" }),
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
    // Queries come after every ingest figure was taken, so they do not count in them.
    let queries = if args.queries.no_queries {
        None
    } else {
        // Work the server does on its own after the data settled (tidemark prepares the
        // series indexes of new files) would otherwise land in the first family's timings.
        if !servers::wait_idle(server.pid, ticks, Duration::from_secs(60))? {
            eprintln!(
                "run {run}: {} still busy after 60 s; querying anyway",
                system.name()
            );
        }
        eprintln!(
            "run {run}: running the query families against {}",
            system.name()
        );
        let endpoint = Endpoint {
            url: server.url.clone(),
            db: DB.to_owned(),
            token: (system == System::Tidemark).then(|| TOKEN.to_owned()),
            user: None,
            password: None,
        };
        Some(compare_queries::run(
            rt,
            system,
            &endpoint,
            server.pid,
            manifest,
            &args.queries,
        )?)
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
        queries,
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
    /// The query families (absent with --no-queries).
    queries: Option<QuerySummary>,
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
        Some(servers::influxd_path(args)?)
    } else {
        None
    };
    let tidemark_version = if systems.contains(&System::Tidemark) {
        let bin = servers::find_program(&args.tidemark).ok_or_else(|| {
            format!(
                "{} not found: build it with `cargo build --release -p tidemark`",
                args.tidemark.display()
            )
        })?;
        servers::command_output(&bin, &["--version"])
    } else {
        None
    };
    let influxdb_version = influxd
        .as_deref()
        .and_then(|p| servers::command_output(p, &["version"]));

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
    let mut targets = vec![
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
    let query_runs: Vec<(System, usize, &SystemQueries)> = results
        .iter()
        .filter_map(|r| r.queries.as_ref().map(|q| (r.system, r.run, q)))
        .collect();
    let queries = (!query_runs.is_empty()).then(|| compare_queries::summarize(&query_runs));
    if let Some(q) = &queries {
        targets.extend(
            compare_queries::targets(q)
                .into_iter()
                .map(|(target, value, met)| Target3 { target, value, met }),
        );
    }

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
        queries,
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
    if let Some(q) = &o.queries {
        out += "\n";
        out += &compare_queries::render(q);
    }
    if both {
        out += "\ntargets (storage and query issues):\n";
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0]), Some(3.0));
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN, 1.0]), Some(1.0));
    }
}
