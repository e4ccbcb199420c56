//! The crate's one error type. It says who is to blame, because the protocols answer the two
//! differently: the user's mistakes (bad SQL, an unknown table, a missing parameter) go back with
//! DataFusion's message; internal failures are logged and answered vaguely.

use arrow::error::ArrowError;
use datafusion::error::DataFusionError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The query cannot be planned or run as written: the message is for the user.
    #[error("{0}")]
    Query(String),
    /// An InfluxQL statement is invalid as written; the message is InfluxDB 1.x's own text
    /// (`undefined function foo()`), which v1 clients show as the statement's error.
    #[error("{0}")]
    Statement(String),
    /// The query needs more memory or other resources than it may have.
    #[error("{0}")]
    ResourcesExhausted(String),
    /// The query ran past the configured timeout and was stopped.
    #[error("{0}")]
    Timeout(String),
    /// Something failed that is not the user's fault (storage, object store, a bug).
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether the user's query is at fault (as opposed to the server).
    pub fn is_user_error(&self) -> bool {
        matches!(self, Self::Query(_) | Self::Statement(_))
    }
}

/// Arrow errors raised while evaluating the user's expressions (a bad cast, a division by zero)
/// are the user's; the rest (IPC, I/O, schema mismatches) are ours.
fn arrow_is_user_error(e: &ArrowError) -> bool {
    matches!(
        e,
        ArrowError::CastError(_)
            | ArrowError::ComputeError(_)
            | ArrowError::DivideByZero
            | ArrowError::ArithmeticOverflow(_)
            | ArrowError::InvalidArgumentError(_)
            | ArrowError::ParseError(_)
    )
}

/// Who is to blame for a DataFusion error, looking through the wrappers DataFusion adds.
fn classify(e: &DataFusionError) -> fn(String) -> Error {
    match e {
        DataFusionError::SQL(..)
        | DataFusionError::Plan(_)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_)
        | DataFusionError::Configuration(_)
        | DataFusionError::Execution(_) => Error::Query,
        DataFusionError::ArrowError(a, _) if arrow_is_user_error(a) => Error::Query,
        DataFusionError::ResourcesExhausted(_) => Error::ResourcesExhausted,
        DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
            classify(inner)
        }
        DataFusionError::Shared(inner) => classify(inner),
        DataFusionError::Collection(all) => all.first().map_or(Error::Internal, classify),
        DataFusionError::External(source) => match source.downcast_ref::<DataFusionError>() {
            Some(inner) => classify(inner),
            None => match source.downcast_ref::<Error>() {
                Some(Error::Query(_)) => Error::Query,
                Some(Error::Statement(_)) => Error::Statement,
                Some(Error::ResourcesExhausted(_)) => Error::ResourcesExhausted,
                _ => Error::Internal,
            },
        },
        _ => Error::Internal,
    }
}

impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Self {
        let make = classify(&e);
        make(e.strip_backtrace())
    }
}

impl From<ArrowError> for Error {
    fn from(e: ArrowError) -> Self {
        if arrow_is_user_error(&e) {
            Self::Query(e.to_string())
        } else {
            Self::Internal(e.to_string())
        }
    }
}

impl From<parquet::errors::ParquetError> for Error {
    fn from(e: parquet::errors::ParquetError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<tidemark_storage::Error> for Error {
    fn from(e: tidemark_storage::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

/// Carries a storage error through DataFusion, which only knows its own error type.
pub(crate) fn external(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blame() {
        let plan = DataFusionError::Plan("table 'x' not found".into());
        assert!(Error::from(plan).is_user_error());
        let wrapped = DataFusionError::Context(
            "while planning".into(),
            Box::new(DataFusionError::Execution("bad".into())),
        );
        assert!(Error::from(wrapped).is_user_error());
        let io = DataFusionError::IoError(std::io::Error::other("disk"));
        assert!(matches!(Error::from(io), Error::Internal(_)));
        let oom = DataFusionError::ResourcesExhausted("memory".into());
        assert!(matches!(Error::from(oom), Error::ResourcesExhausted(_)));
        let div = DataFusionError::ArrowError(Box::new(ArrowError::DivideByZero), None);
        assert!(Error::from(div).is_user_error());
        let ours = external(Error::Query("no".into()));
        assert!(Error::from(ours).is_user_error());
    }
}
