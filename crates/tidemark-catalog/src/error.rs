//! The catalog's one error type. The server maps it to HTTP and gRPC statuses; nothing here knows them.

/// The kinds of record, for "not found" messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Org,
    User,
    Bucket,
    Authorization,
    Dbrp,
    Table,
    ParquetFile,
}

impl Entity {
    /// The noun InfluxDB uses in its messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Org => "organization",
            Self::User => "user",
            Self::Bucket => "bucket",
            Self::Authorization => "authorization",
            Self::Dbrp => "dbrp",
            Self::Table => "table",
            Self::ParquetFile => "parquet file",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The record does not exist (or was deleted concurrently).
    #[error("{} not found", .0.noun())]
    NotFound(Entity),
    /// A uniqueness invariant would be broken; the message says which.
    #[error("{0}")]
    Conflict(String),
    /// A schema limit (tables per bucket, columns per table) would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// The request names records that do not fit together (e.g. a DBRP mapping to another org's bucket).
    #[error("{0}")]
    Invalid(String),
    /// The database could not be reached or failed; nothing was changed.
    #[error("catalog unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The stored data or the backend broke an assumption of this code.
    #[error("catalog internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
