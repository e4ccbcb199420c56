//! The storage engine's one error type.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("corrupt WAL file {path}: {detail}")]
    Corrupt { path: String, detail: String },
    #[error("the WAL is shut down")]
    WalClosed,
    #[error("write request too large for one WAL record")]
    RecordTooLarge,
    #[error("catalog: {0}")]
    Catalog(#[from] tidemark_catalog::Error),
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// Whether the failure is the machine's (disk full, I/O error, object store down) rather than
    /// the request's: such writes get 503 with `Retry-After`, never a success.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Io { .. } | Self::WalClosed | Self::ObjectStore(_) | Self::Catalog(_)
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
