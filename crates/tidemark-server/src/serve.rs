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
    let service = Arc::new(Service::new(catalog));

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

    let state = AppState {
        service,
        metrics: Arc::new(Metrics::new()),
    };
    let app = one_port(crate::http::router(state), crate::grpc::router().await);
    println!("tidemark listening on http://{addr} (HTTP/1.1, HTTP/2 and gRPC)");
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, "listening");

    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(StartError::Serve)?;
    tracing::info!("stopped");
    Ok(())
}
