//! SELECT (temporary during construction).
use datafusion::arrow::array::RecordBatch;
use tidemark_influxql::{ExplainStatement, SelectStatement};
use super::{statement_error, Env};
use crate::error::Result;
pub(crate) async fn select(_env: &mut Env, _s: &SelectStatement) -> Result<RecordBatch> {
    Err(statement_error("SELECT"))
}
pub(crate) async fn explain(_env: &mut Env, _s: &ExplainStatement) -> Result<RecordBatch> {
    Err(statement_error("EXPLAIN"))
}
