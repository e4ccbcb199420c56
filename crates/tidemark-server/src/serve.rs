//! Start-up: data directory, catalog, first-start bootstrap, and one listener for HTTP and gRPC.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::Request;
use axum::Router;
use tidemark_catalog::CatalogConfig;
use tower::ServiceExt;

use crate::http::AppState;
use crate::metrics::Metrics;
use crate::service::{Service, Started};

/// Everything `tidemark serve` is told.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    pub bind: String,
    pub operator_token: Option<String>,
    pub org_name: String,
    /// A `postgres://` URL; `None` keeps the catalog in SQLite inside the data directory.
    pub catalog_url: Option<String>,
    /// `file` (under the data directory), `memory`, or `s3://bucket/prefix`.
    pub object_store: String,
    pub wal_flush_window: std::time::Duration,
    pub wal_recovery: tidemark_storage::wal::Recovery,
    pub limits: tidemark_catalog::SchemaLimits,
    pub persist: tidemark_storage::PersistConfig,
    pub compact: tidemark_storage::CompactConfig,
    /// Bytes the direct path of small InfluxQL queries may keep decoded (0: off).
    pub query_cache_bytes: usize,
    /// How long one query may run; `None`: for ever.
    pub query_timeout: Option<std::time::Duration>,
    /// Memory all running queries may hold together; `None`: unbounded.
    pub query_memory_limit: Option<usize>,
}

/// Why the server could not start. Each renders as one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data directory {path} is not usable: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("catalog: {0}")]
    Catalog(#[from] tidemark_catalog::Error),
    #[error("first start: {0}")]
    Bootstrap(crate::error::Error),
    #[error("cannot write the operator token to {path}: {source}")]
    TokenFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("--catalog must be a postgres:// or postgresql:// URL, got {0:?}")]
    CatalogUrl(String),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("storage: {0}")]
    Storage(#[from] tidemark_storage::Error),
    #[error("--object-store: {0}")]
    ObjectStore(String),
    #[error("query engine: {0}")]
    Query(#[from] tidemark_query::Error),
}

fn prepare_data_dir(dir: &Path) -> Result<(), StartError> {
    let err = |source| StartError::DataDir {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    // Creating a file proves we can write here before anything else depends on it.
    let probe = dir.join(".tidemark-write-probe");
    std::fs::write(&probe, b"").map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)?;
    Ok(())
}

fn catalog_config(config: &ServerConfig) -> Result<CatalogConfig, StartError> {
    match &config.catalog_url {
        None => Ok(CatalogConfig::Sqlite {
            path: config.data_dir.join("catalog.sqlite"),
        }),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(CatalogConfig::Postgres { url: url.clone() })
        }
        Some(other) => Err(StartError::CatalogUrl(other.clone())),
    }
}

fn object_store(config: &ServerConfig) -> Result<Arc<dyn object_store::ObjectStore>, StartError> {
    let err = |e: object_store::Error| StartError::ObjectStore(e.to_string());
    match config.object_store.as_str() {
        "file" => {
            let dir = config.data_dir.join("objects");
            std::fs::create_dir_all(&dir).map_err(|source| StartError::DataDir {
                path: dir.clone(),
                source,
            })?;
            Ok(Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix(&dir).map_err(err)?,
            ))
        }
        "memory" => Ok(Arc::new(object_store::memory::InMemory::new())),
        url if url.starts_with("s3://") => {
            let parsed = url
                .strip_prefix("s3://")
                .map(|rest| rest.split_once('/').unwrap_or((rest, "")))
                .ok_or_else(|| StartError::ObjectStore(format!("bad URL {url}")))?;
            let (bucket, prefix) = parsed;
            let s3 = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()
                .map_err(err)?;
            if prefix.is_empty() {
                Ok(Arc::new(s3))
            } else {
                Ok(Arc::new(object_store::prefix::PrefixStore::new(s3, prefix)))
            }
        }
        other => Err(StartError::ObjectStore(format!(
            "{other:?} is not file, memory or an s3:// URL"
        ))),
    }
}

/// Writes the generated operator token where only its owner can read it.
fn write_token_file(path: &Path, token: &str) -> Result<(), StartError> {
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| StartError::TokenFile {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    file.write_all(format!("{token}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(err)
}

/// The one listener's service: gRPC requests (by content type) go to the gRPC router, the rest
/// to the REST router.
fn one_port(rest: Router, grpc: Router) -> Router {
    Router::new().fallback_service(tower::service_fn(move |req: Request| {
        let is_grpc = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
        let target = if is_grpc { grpc.clone() } else { rest.clone() };
        target.oneshot(req)
    }))
}

/// Runs the server until `shutdown` completes, then drains connections and returns.
pub async fn run(
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    prepare_data_dir(&config.data_dir)?;
    let catalog = tidemark_catalog::open(&catalog_config(&config)?).await?;
    let engine_config = tidemark_storage::EngineConfig {
        wal: tidemark_storage::wal::WalConfig {
            dir: config.data_dir.join("wal"),
            flush_window: config.wal_flush_window,
            recovery: config.wal_recovery,
            segment_max_bytes: 64 * 1024 * 1024,
        },
        limits: config.limits,
        persist: config.persist,
        compact: config.compact,
        local_object_root: (config.object_store == "file").then(|| config.data_dir.join("objects")),
    };
    let (engine, report) =
        tidemark_storage::Engine::open(engine_config, Arc::clone(&catalog), object_store(&config)?)
            .await?;
    tracing::info!(
        records = report.replayed_records,
        rows = report.replayed_rows,
        torn_tail_bytes = report.wal.torn_tail_bytes,
        took_ms = report.took.as_millis() as u64,
        "replayed the WAL"
    );
    let (stop_background, background) = tokio::sync::watch::channel(false);
    let persister = engine.spawn_persister(background);
    let query = tidemark_query::QueryEngine::new(
        Arc::clone(&engine),
        tidemark_query::QueryConfig {
            direct_cache_bytes: config.query_cache_bytes,
            timeout: config.query_timeout,
            memory_limit: config.query_memory_limit,
            ..tidemark_query::QueryConfig::default()
        },
    )?;
    let service = Arc::new(Service::new(catalog, engine, Arc::new(query)));

    match service
        .start(&config.org_name, config.operator_token.as_deref())
        .await
        .map_err(StartError::Bootstrap)?
    {
        Started::Initialized {
            org,
            generated_token,
            ..
        } => {
            tracing::info!(org = %org.name, org_id = %org.id, "first start: created the org and the operator token");
            if let Some(token) = generated_token {
                let path = config.data_dir.join("operator-token");
                write_token_file(&path, &token)?;
                println!("operator token (shown once): {token}");
                println!("operator token written to {}", path.display());
            } else {
                println!("operator token: the one given with --operator-token");
            }
        }
        Started::Existing => {
            if config.operator_token.is_some() {
                tracing::warn!("the catalog was initialised before; --operator-token is ignored");
            }
        }
    }

    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.bind.clone(),
            source,
        })?;
    let addr: SocketAddr = listener.local_addr().map_err(StartError::Serve)?;

    let grpc = crate::grpc::router(Arc::clone(&service)).await;
    let state = AppState {
        service,
        metrics: Arc::new(Metrics::new()),
    };
    let app = one_port(crate::http::router(state), grpc);
    println!("tidemark listening on http://{addr} (HTTP/1.1, HTTP/2 and gRPC)");
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, "listening");

    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(StartError::Serve)?;
    let _ = stop_background.send(true);
    let _ = persister.await;
    tracing::info!("stopped");
    Ok(())
}
