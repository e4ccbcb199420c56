//! The server's one error type, and the one table that maps it to HTTP and gRPC statuses.
//!
//! Every error the server returns, from any layer, becomes an [`Error`] with one of InfluxDB's
//! error codes; `status_table` is the only place that knows what status a code gets.

use std::fmt;

use tidemark_catalog::{Entity, IdError};

/// InfluxDB's machine-readable error codes (the spec's `ErrorCode` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InternalError,
    NotImplemented,
    NotFound,
    Conflict,
    Invalid,
    UnprocessableEntity,
    EmptyValue,
    Unavailable,
    Forbidden,
    TooManyRequests,
    Unauthorized,
    MethodNotAllowed,
    RequestTooLarge,
    UnsupportedMediaType,
    /// A token was given but does not let the caller in: unknown, inactive, or without the
    /// permission. HTTP answers 401 `unauthorized` as InfluxDB 2 does; gRPC answers
    /// PERMISSION_DENIED as InfluxDB 3's Flight service does (no token at all is
    /// `Unauthorized`, UNAUTHENTICATED).
    PermissionDenied,
    /// A query ran past `--query-timeout-seconds` and was stopped.
    Timeout,
}

/// The status table: `(code, wire text, HTTP status, gRPC code)`.
const STATUS_TABLE: [(ErrorCode, &str, u16, tonic::Code); 16] = [
    (
        ErrorCode::InternalError,
        "internal error",
        500,
        tonic::Code::Internal,
    ),
    (
        ErrorCode::NotImplemented,
        "not implemented",
        501,
        tonic::Code::Unimplemented,
    ),
    (ErrorCode::NotFound, "not found", 404, tonic::Code::NotFound),
    (
        ErrorCode::Conflict,
        "conflict",
        422,
        tonic::Code::AlreadyExists,
    ),
    (
        ErrorCode::Invalid,
        "invalid",
        400,
        tonic::Code::InvalidArgument,
    ),
    (
        ErrorCode::UnprocessableEntity,
        "unprocessable entity",
        422,
        tonic::Code::InvalidArgument,
    ),
    (
        ErrorCode::EmptyValue,
        "empty value",
        400,
        tonic::Code::InvalidArgument,
    ),
    (
        ErrorCode::Unavailable,
        "unavailable",
        503,
        tonic::Code::Unavailable,
    ),
    (
        ErrorCode::Forbidden,
        "forbidden",
        403,
        tonic::Code::PermissionDenied,
    ),
    (
        ErrorCode::TooManyRequests,
        "too many requests",
        429,
        tonic::Code::ResourceExhausted,
    ),
    (
        ErrorCode::Unauthorized,
        "unauthorized",
        401,
        tonic::Code::Unauthenticated,
    ),
    (
        ErrorCode::MethodNotAllowed,
        "method not allowed",
        405,
        tonic::Code::Unimplemented,
    ),
    (
        ErrorCode::RequestTooLarge,
        "request too large",
        413,
        tonic::Code::ResourceExhausted,
    ),
    (
        ErrorCode::UnsupportedMediaType,
        "unsupported media type",
        415,
        tonic::Code::InvalidArgument,
    ),
    (
        ErrorCode::PermissionDenied,
        "unauthorized",
        401,
        tonic::Code::PermissionDenied,
    ),
    // InfluxDB 2's codes have none for this; a gateway's timeout status is the closest.
    (
        ErrorCode::Timeout,
        "request timeout",
        504,
        tonic::Code::DeadlineExceeded,
    ),
];

/// The longest error message a query error carries, as InfluxDB 3 caps them.
pub const MAX_QUERY_MESSAGE: usize = 2000;

/// What `Retry-After` says on a 503 or 429.
const RETRY_AFTER_SECONDS: u32 = 5;

impl ErrorCode {
    fn row(self) -> &'static (ErrorCode, &'static str, u16, tonic::Code) {
        // The table lists every variant once, in declaration order.
        &STATUS_TABLE[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        self.row().1
    }

    pub fn http_status(self) -> http::StatusCode {
        http::StatusCode::from_u16(self.row().2).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn grpc_code(self) -> tonic::Code {
        self.row().3
    }

    /// Seconds a client should wait before retrying, for the codes that invite a retry.
    pub fn retry_after(self) -> Option<u32> {
        matches!(self, Self::Unavailable | Self::TooManyRequests).then_some(RETRY_AFTER_SECONDS)
    }
}

/// An error as the client sees it: a code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn entity_not_found(entity: Entity) -> Self {
        Self::not_found(format!("{} not found", entity.noun()))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// No usable token: the same answer for missing, unknown and inactive tokens, so a caller
    /// cannot probe which tokens exist.
    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthorized, "unauthorized access")
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalError, message)
    }

    pub fn is(&self, code: ErrorCode) -> bool {
        self.code == code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

impl From<IdError> for Error {
    fn from(e: IdError) -> Self {
        Self::invalid(e.to_string())
    }
}

impl From<tidemark_catalog::Error> for Error {
    fn from(e: tidemark_catalog::Error) -> Self {
        use tidemark_catalog::Error as C;
        match e {
            C::NotFound(entity) => Self::entity_not_found(entity),
            C::Conflict(m) => Self::conflict(m),
            C::Invalid(m) => Self::invalid(m),
            C::LimitExceeded(m) => Self::new(ErrorCode::UnprocessableEntity, m),
            C::Unavailable(source) => {
                tracing::error!(error = %source, "catalog unavailable");
                Self::new(ErrorCode::Unavailable, "catalog unavailable")
            }
            C::Internal(m) => {
                tracing::error!(error = %m, "catalog internal error");
                Self::internal("internal error")
            }
        }
    }
}

impl From<tidemark_query::Error> for Error {
    fn from(e: tidemark_query::Error) -> Self {
        use tidemark_query::Error as Q;
        match e {
            // An InfluxQL statement's error carries 1.x's text, which v1 clients show as is.
            Q::Query(m) | Q::Statement(m) => Self::invalid(cap(m)),
            Q::ResourcesExhausted(m) => Self::new(ErrorCode::TooManyRequests, cap(m)),
            Q::Timeout(m) => Self::new(ErrorCode::Timeout, m),
            Q::Internal(m) => {
                tracing::error!(error = %m, "query failed");
                Self::internal("internal error while running the query")
            }
        }
    }
}

/// At most [`MAX_QUERY_MESSAGE`] bytes, cut at a character boundary.
fn cap(mut message: String) -> String {
    if message.len() > MAX_QUERY_MESSAGE {
        let mut end = MAX_QUERY_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
    }
    message
}

impl From<Error> for tonic::Status {
    fn from(e: Error) -> Self {
        tonic::Status::new(e.code.grpc_code(), e.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_match_their_codes() {
        for (i, row) in STATUS_TABLE.iter().enumerate() {
            assert_eq!(row.0 as usize, i, "row {i} is out of order");
        }
        assert_eq!(ErrorCode::Conflict.http_status().as_u16(), 422);
        assert_eq!(ErrorCode::Unauthorized.as_str(), "unauthorized");
        assert_eq!(ErrorCode::NotFound.grpc_code(), tonic::Code::NotFound);
        assert_eq!(ErrorCode::PermissionDenied.http_status().as_u16(), 401);
        assert_eq!(
            ErrorCode::PermissionDenied.grpc_code(),
            tonic::Code::PermissionDenied
        );
    }

    #[test]
    fn query_errors_say_who_is_to_blame_and_stay_short() {
        let long = "é".repeat(MAX_QUERY_MESSAGE);
        let e = Error::from(tidemark_query::Error::Query(long));
        assert_eq!(e.code, ErrorCode::Invalid);
        assert!(e.message.len() <= MAX_QUERY_MESSAGE && e.message.len() > MAX_QUERY_MESSAGE - 2);
        let e = Error::from(tidemark_query::Error::Internal("disk on fire".into()));
        assert_eq!(e.code, ErrorCode::InternalError);
        assert!(!e.message.contains("disk"));
    }
}
