//! The write engine: line protocol in, durable and queryable rows out.
//!
//! A write is validated against its table's schema, appended to the WAL (one record per
//! request, group-committed and fsync'd before the acknowledgement), and applied to the
//! in-memory buffer, where queries see it at once. The buffer is persisted to Parquet on the
//! object store, files are compacted and expired in the background.

pub mod batch;
pub mod buffer;
pub mod dedupe;
pub mod engine;
pub mod error;
pub mod read;
pub mod schema;
pub mod wal;

pub use engine::{
    CompactConfig, CompactReport, Engine, EngineConfig, OpenReport, PersistConfig, PersistReport,
    TableData, TableFiles, WriteOutcome, WriteRequest, MAX_LINE_ERRORS,
};
pub use error::{Error, Result};
