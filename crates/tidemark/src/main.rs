//! The `tidemark` command: parses flags, sets up logging, and hands over to `tidemark-server`.
//! Wiring only; nothing here decides how the server behaves.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use tidemark_catalog::SchemaLimits;
use tidemark_server::ServerConfig;
use tidemark_storage::wal::Recovery;
use tidemark_storage::{CompactConfig, PersistConfig};

/// mimalloc returns freed memory to the system promptly and fragments less than glibc's
/// allocator under the buffer's pattern (large builders growing, sealed, then dropped after
/// persistence): the peak RSS of a 1,000-host day of TSBS data drops markedly (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "tidemark",
    version,
    about = "A time-series database that speaks InfluxDB"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(Serve),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum WalRecovery {
    /// Refuse to start, naming the file and offset.
    Strict,
    /// Drop the rest of the damaged segment, log it loudly, and start.
    SkipCorrupt,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
struct Serve {
    /// Where the catalog, the WAL and the local object store live.
    #[arg(long, env = "TIDEMARK_DATA_DIR", default_value = "./tidemark-data")]
    data_dir: PathBuf,

    /// Address for HTTP and gRPC (one port for both).
    #[arg(long, env = "TIDEMARK_BIND", default_value = "127.0.0.1:8086")]
    bind: String,

    /// The operator token to create on the first start (default: generate one).
    #[arg(long, env = "TIDEMARK_OPERATOR_TOKEN", hide_env_values = true)]
    operator_token: Option<String>,

    /// Name of the org created on the first start.
    #[arg(long, env = "TIDEMARK_ORG_NAME", default_value = "default")]
    org_name: String,

    /// Catalog location: a postgres:// URL (default: SQLite in the data directory).
    #[arg(long, env = "TIDEMARK_CATALOG")]
    catalog: Option<String>,

    /// Where Parquet files go: `file` (under the data directory), `memory` (lost on exit; for
    /// tests), or `s3://bucket/prefix` (credentials from the usual AWS_* variables).
    #[arg(long, env = "TIDEMARK_OBJECT_STORE", default_value = "file")]
    object_store: String,

    /// How long the WAL waits to gather more writes into one fsync, in milliseconds.
    #[arg(long, env = "TIDEMARK_WAL_FLUSH_WINDOW_MS", default_value_t = 2)]
    wal_flush_window_ms: u64,

    /// What to do on finding a corrupt record inside the WAL at start-up.
    #[arg(
        long,
        env = "TIDEMARK_WAL_RECOVERY",
        value_enum,
        default_value = "strict"
    )]
    wal_recovery: WalRecovery,

    /// Largest number of tables (measurements) in a bucket.
    #[arg(long, env = "TIDEMARK_MAX_TABLES_PER_BUCKET", default_value_t = 500)]
    max_tables_per_bucket: usize,

    /// Largest number of columns (tags, fields and time) in a table.
    #[arg(long, env = "TIDEMARK_MAX_COLUMNS_PER_TABLE", default_value_t = 200)]
    max_columns_per_table: usize,

    /// Persist the in-memory buffer to Parquet once it holds this many MiB.
    #[arg(long, env = "TIDEMARK_PERSIST_BUFFER_MIB", default_value_t = 256)]
    persist_buffer_mib: usize,

    /// Persist the in-memory buffer once its oldest row is this many seconds old.
    #[arg(long, env = "TIDEMARK_PERSIST_MAX_AGE_SECONDS", default_value_t = 600)]
    persist_max_age_seconds: u64,

    /// Rewrite a day of a table as one file once it has taken no writes for this many seconds
    /// (its files then take less space and fewer reads), as InfluxDB fully compacts a shard
    /// that went cold.
    #[arg(long, env = "TIDEMARK_COMPACT_COLD_SECONDS", default_value_t = 600)]
    compact_cold_seconds: u64,

    /// MiB of decoded column chunks and series indexes of persisted files kept for small
    /// InfluxQL queries, which then skip DataFusion (0 turns that path off).
    #[arg(long, env = "TIDEMARK_QUERY_CACHE_MIB", default_value_t = 512)]
    query_cache_mib: usize,

    /// Longest a query (an SQL query, or one InfluxQL statement) may run, planning to last
    /// row, in seconds; past it the query stops with "query-timeout limit exceeded" (0: none).
    #[arg(long, env = "TIDEMARK_QUERY_TIMEOUT_SECONDS", default_value_t = 300.0)]
    query_timeout_seconds: f64,

    /// MiB of memory all running queries may hold together (sorts, aggregations, InfluxQL
    /// rows); a query that needs more fails with "resources exhausted". 0: half of the
    /// machine's memory.
    #[arg(long, env = "TIDEMARK_QUERY_MEMORY_LIMIT_MIB", default_value_t = 0)]
    query_memory_limit_mib: usize,

    /// Let the kernel back this process's memory with transparent huge pages (Linux). Off by
    /// default: the write path's short-lived buffers then make it zero (and, when memory is
    /// fragmented, compact) 2 MiB at a time, which took a third of the server's CPU in a load.
    #[arg(long, env = "TIDEMARK_TRANSPARENT_HUGE_PAGES")]
    transparent_huge_pages: bool,

    /// Log line format.
    #[arg(long, env = "TIDEMARK_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,

    /// Which logs to keep, in `tracing` env-filter syntax.
    #[arg(long, env = "TIDEMARK_LOG_FILTER", default_value = "info")]
    log_filter: String,
}

fn init_logging(format: LogFormat, filter: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| format!("invalid --log-filter {filter:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|e| format!("cannot set up logging: {e}"))
}

/// Turns transparent huge pages off for this process (the flag is the process's, and holds for
/// pages it faults in from now on). mimalloc asks for huge pages on its arenas; the write path
/// allocates and frees request-sized buffers, so each fresh 2 MiB page was zeroed (and, with the
/// kernel's `defrag = madvise`, compacted) for a few requests' worth of data: 33% of server CPU
/// in `clear_page_erms` during a TSBS load, against 0.5% with 4 KiB pages (BENCHMARKS.md).
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("warning: transparent huge pages stay on: {e}");
    }
}

/// Half of the machine's memory (`MemTotal` of `/proc/meminfo`), or 4 GiB where that cannot
/// be read: the default bound on what queries may hold.
fn half_of_memory() -> usize {
    const FALLBACK: usize = 4 << 30;
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib.saturating_mul(1024) / 2)
        })
        .unwrap_or(FALLBACK)
}

/// Completes on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
    tracing::info!("shutting down");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Command::Serve(serve) = cli.command;
    if let Err(e) = init_logging(serve.log_format, &serve.log_filter) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    if !serve.transparent_huge_pages {
        disable_transparent_huge_pages();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tidemark-io")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = ServerConfig {
        data_dir: serve.data_dir,
        bind: serve.bind,
        operator_token: serve.operator_token,
        org_name: serve.org_name,
        catalog_url: serve.catalog,
        object_store: serve.object_store,
        wal_flush_window: Duration::from_millis(serve.wal_flush_window_ms),
        wal_recovery: match serve.wal_recovery {
            WalRecovery::Strict => Recovery::Strict,
            WalRecovery::SkipCorrupt => Recovery::SkipCorrupt,
        },
        limits: SchemaLimits {
            max_tables_per_bucket: serve.max_tables_per_bucket,
            max_columns_per_table: serve.max_columns_per_table,
        },
        persist: PersistConfig {
            max_buffer_bytes: serve.persist_buffer_mib.saturating_mul(1024 * 1024),
            max_age: Duration::from_secs(serve.persist_max_age_seconds),
            ..PersistConfig::default()
        },
        compact: CompactConfig {
            cold: Duration::from_secs(serve.compact_cold_seconds),
            ..CompactConfig::default()
        },
        query_cache_bytes: serve.query_cache_mib.saturating_mul(1024 * 1024),
        query_timeout: (serve.query_timeout_seconds > 0.0)
            .then(|| Duration::try_from_secs_f64(serve.query_timeout_seconds).ok())
            .flatten(),
        query_memory_limit: Some(match serve.query_memory_limit_mib {
            0 => half_of_memory(),
            mib => mib.saturating_mul(1024 * 1024),
        }),
    };
    match runtime.block_on(tidemark_server::run(config, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
