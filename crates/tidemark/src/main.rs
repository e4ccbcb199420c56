//! The `tidemark` command: parses flags, sets up logging, and hands over to `tidemark-server`.
//! Wiring only; nothing here decides how the server behaves.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tidemark_server::ServerConfig;

#[derive(Debug, Parser)]
#[command(name = "tidemark", version, about = "A time-series database that speaks InfluxDB")]
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
    };
    match runtime.block_on(tidemark_server::run(config, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
