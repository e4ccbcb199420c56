//! InfluxQL (InfluxDB 1.x's query language) over a bucket, answered in InfluxDB 3's Arrow
//! shape for InfluxQL (see `output.rs`).
//!
//! - `show.rs`: the schema statements (measurements, tag keys and values, field keys, series,
//!   cardinalities), answered from table schemas and DataFusion scans of the tag columns;
//! - `select/`: SELECT and EXPLAIN. DataFusion scans and filters each measurement (time and
//!   tag predicates reach the table provider, which prunes by them) and, where SQL has the
//!   words, aggregates by `date_bin` windows and tags itself; the InfluxQL semantics SQL lacks
//!   (series, fill, selectors with companion fields, derivatives and the other
//!   transformations, technical analysis and Holt-Winters forecasts, per-series LIMIT, subqueries, `tz()`) are applied
//!   to the ordered rows here.
//! - `condition.rs`: WHERE and time expressions; `value.rs`: cells and 1.x arithmetic;
//!   `output.rs`: the Arrow result.
//!
//! Errors the user caused carry 1.x's exact text as [`Error::Statement`]. Not implemented:
//! `SELECT INTO` (this crate never writes).

mod condition;
mod output;
mod select;
mod show;
mod value;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool, MemoryReservation};
use datafusion::prelude::SessionContext;
use tidemark_catalog::Id;
use tidemark_influxql::{MeasurementName, Source, Statement};
use tidemark_storage::schema::TableSchema;
use tidemark_storage::Engine;

use crate::direct::{Answered, DirectCache};
use crate::error::{Error, Result};

pub use condition::InfluxQlChecks;
pub use output::{GROUP_KEY_METADATA, MEASUREMENT_COLUMN};

/// How an InfluxQL statement runs.
#[derive(Debug, Clone, Default)]
pub struct InfluxQlOptions {
    /// `now()`, in nanoseconds since the epoch: fixed once per request so that every statement
    /// of it sees the same instant.
    pub now: i64,
    /// When set, `SHOW TAG VALUES` (always) and `SHOW MEASUREMENTS`/`SHOW TAG KEYS` with a
    /// WHERE look only at rows this many nanoseconds before `now` unless the WHERE bounds time
    /// (InfluxDB 3's `influxql_metadata_cutoff`). `None` scans everything, as 1.x does.
    pub metadata_cutoff: Option<i64>,
}

pub(crate) fn statement_error(message: impl Into<String>) -> Error {
    Error::Statement(message.into())
}

/// Makes the DataFusion session of a statement, when it needs one.
pub(crate) type MakeSession = Box<dyn Fn() -> Result<SessionContext> + Send + Sync>;

/// The bucket's persisted files, for the direct path (`select/direct.rs`).
#[derive(Clone)]
pub(crate) struct DirectSource {
    pub(crate) engine: Arc<Engine>,
    pub(crate) bucket: Id,
    pub(crate) cache: Arc<DirectCache>,
    pub(crate) answered: Answered,
}

/// Marks a statement tried on the caller's thread rather than the query runtime
/// (`QueryEngine::influxql`). It must stay small: what needs DataFusion, an uncached series
/// index, or more than `values` values declines, and the statement runs again there. The mark
/// is a flag rather than an error, so an answer is discarded even if the error that ends the
/// attempt were caught on its way up.
#[derive(Debug, Clone)]
pub(crate) struct Inline {
    declined: Arc<std::sync::atomic::AtomicBool>,
    /// The most values (rows times columns) the direct path may read.
    pub(crate) values: usize,
}

impl Inline {
    pub(crate) fn new(values: usize) -> Self {
        Self {
            declined: Arc::default(),
            values,
        }
    }

    /// Declines the attempt; the error only ends it.
    pub(crate) fn decline(&self) -> Error {
        self.declined
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Error::Internal("the statement needs the query runtime".to_owned())
    }

    pub(crate) fn declined(&self) -> bool {
        self.declined.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// What a statement runs against: the session and the bucket's table schemas, by name.
pub(crate) struct Env {
    make_session: MakeSession,
    /// Built on first use: a statement the direct path answers never needs one.
    session: std::sync::Mutex<Option<SessionContext>>,
    pub(crate) tables: Vec<Arc<TableSchema>>,
    pub(crate) options: InfluxQlOptions,
    pub(crate) direct: Option<DirectSource>,
    /// Set when the statement runs on the caller's thread.
    pub(crate) inline: Option<Inline>,
    /// Memory held by rows the evaluator has read, counted against the session's limit.
    pub(crate) reservation: MemoryReservation,
}

impl Env {
    pub(crate) fn new(
        make_session: MakeSession,
        pool: &Arc<dyn MemoryPool>,
        mut tables: Vec<Arc<TableSchema>>,
        options: InfluxQlOptions,
    ) -> Self {
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        let reservation = MemoryConsumer::new("influxql").register(pool);
        Self {
            make_session,
            session: std::sync::Mutex::new(None),
            tables,
            options,
            direct: None,
            inline: None,
            reservation,
        }
    }

    /// The statement's DataFusion session.
    pub(crate) fn ctx(&self) -> Result<SessionContext> {
        if let Some(inline) = &self.inline {
            return Err(inline.decline());
        }
        let mut session = self
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(s) = &*session {
            return Ok(s.clone());
        }
        let s = (self.make_session)()?;
        *session = Some(s.clone());
        Ok(s)
    }

    /// Counts `bytes` more against the memory limit.
    pub(crate) fn reserve(&mut self, bytes: usize) -> Result<()> {
        self.reservation
            .try_grow(bytes)
            .map_err(|e| Error::ResourcesExhausted(e.strip_backtrace()))
    }

    /// The measurements `from` names, sorted and without duplicates (all when `from` is empty).
    /// Names that do not exist are skipped: they have no rows.
    pub(crate) fn measurements(&self, from: &[Source]) -> Result<Vec<Arc<TableSchema>>> {
        if from.is_empty() {
            return Ok(self.tables.clone());
        }
        let mut names: Vec<&str> = Vec::new();
        for source in from {
            match source {
                Source::Measurement(m) => match &m.name {
                    MeasurementName::Name(n) => names.push(n),
                    MeasurementName::Regex(re) => {
                        let re = condition::regex(&re.0)?;
                        names.extend(
                            self.tables
                                .iter()
                                .filter(|t| re.is_match(&t.name))
                                .map(|t| t.name.as_str()),
                        );
                    }
                },
                Source::Subquery(_) => {
                    return Err(statement_error("subqueries are not supported here"))
                }
            }
        }
        Ok(self
            .tables
            .iter()
            .filter(|t| names.contains(&t.name.as_str()))
            .cloned()
            .collect())
    }
}

/// Runs one statement; the answer is one batch (possibly without rows).
pub(crate) async fn execute(mut env: Env, statement: &Statement) -> Result<RecordBatch> {
    match statement {
        Statement::Select(s) => select::select(&mut env, s).await,
        Statement::Explain(e) => select::explain(&mut env, e).await,
        Statement::ShowMeasurements(s) => show::measurements(&env, s).await,
        Statement::ShowTagKeys(s) => show::tag_keys(&env, s).await,
        Statement::ShowTagValues(s) => show::tag_values(&env, s).await,
        Statement::ShowFieldKeys(s) => show::field_keys(&env, s).await,
        Statement::ShowSeries(s) => show::series(&env, s).await,
        Statement::ShowCardinality(s) => show::cardinality(&env, s).await,
        Statement::ShowDatabases => Err(not_here("SHOW DATABASES")),
        Statement::ShowRetentionPolicies(_) => Err(not_here("SHOW RETENTION POLICIES")),
        Statement::CreateDatabase(_) => Err(not_here("CREATE DATABASE")),
        Statement::DropMeasurement(_) => Err(not_here("DROP MEASUREMENT")),
        Statement::Delete(_) => Err(not_here("DELETE")),
        Statement::Unsupported(u) => Err(statement_error(format!(
            "{} is not supported",
            u.kind.name()
        ))),
    }
}

/// Statements the service layer answers, not the query engine.
fn not_here(name: &str) -> Error {
    statement_error(format!(
        "{name} is not handled by the query engine (the service layer answers it)"
    ))
}
