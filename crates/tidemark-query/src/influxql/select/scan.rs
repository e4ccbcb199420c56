//! Reading one measurement for a SELECT: DataFusion filters (time bounds and WHERE, which the
//! table provider prunes with), projects the inputs and sorts by series then time; the rows
//! are then cut into series.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray, TimestampNanosecondArray};
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn::{first_value, last_value};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{cast, lit, ExprFunctionExt, SortExpr};
use datafusion::prelude::{DataFrame, Expr};
use tidemark_catalog::ColumnKind;
use tidemark_influxql::DataType;
use tidemark_storage::schema::TableSchema;

use super::super::condition::{self, bounds_filter};
use super::super::value::{column_values, Value};
use super::super::Env;
use super::plan::Plan;
use crate::error::{Error, Result};

/// The rows of one series, in time order (reversed for `ORDER BY time DESC` when the scan
/// already limited them).
#[derive(Debug)]
pub(crate) struct Series {
    pub(crate) measurement: Arc<str>,
    /// Values of the GROUP BY tags ("" when absent).
    pub(crate) tags: Vec<Arc<str>>,
    pub(crate) times: Vec<i64>,
    /// One vector per plan input.
    pub(crate) cols: Vec<Vec<Value>>,
}

fn column(name: &str) -> Expr {
    Expr::Column(datafusion::common::Column::from_name(name))
}

/// How an input reads in `table`: a tag, a field, or nothing.
fn resolve(table: &TableSchema, name: &str, cast_to: Option<DataType>) -> Option<ColumnKind> {
    let (_, kind) = table.column(name)?;
    match (cast_to, kind) {
        (Some(DataType::Tag), ColumnKind::Tag) => Some(kind),
        (Some(DataType::Tag), _) => None,
        (Some(_), ColumnKind::Tag) => None,
        _ => Some(kind),
    }
}

/// Inputs whose non-null values make a row worth reading: the fields of a raw query, the
/// aggregated fields of an aggregate one.
fn drivers(plan: &Plan) -> Vec<usize> {
    if plan.aggregate {
        let mut v: Vec<usize> = plan.aggs.iter().map(|a| a.input).collect();
        v.sort_unstable();
        v.dedup();
        return v;
    }
    (0..plan.inputs.len()).collect()
}

/// Whether the scan can apply LIMIT/OFFSET itself: a raw query over one series.
pub(crate) fn scan_limits(plan: &Plan) -> bool {
    !plan.aggregate && plan.transforms.is_empty() && plan.group_tags.is_empty() && plan.limit > 0
}

/// For a raw query with LIMIT over several series: how many rows of each series can show.
fn per_series_rows(plan: &Plan) -> Option<u64> {
    let rows = plan.offset.checked_add(plan.limit)?;
    (!plan.aggregate && plan.transforms.is_empty() && !plan.group_tags.is_empty() && plan.limit > 0)
        .then(|| u64::try_from(rows).ok())
        .flatten()
}

pub(crate) async fn frame(
    env: &Env,
    plan: &Plan,
    table: &TableSchema,
) -> Result<Option<DataFrame>> {
    let mut df = super::table_frame(env, plan, table).await?;
    if let Some(f) = bounds_filter(&plan.bounds) {
        df = df.filter(f)?;
    }
    if let Some(rest) = &plan.rest {
        df = df.filter(condition::to_filter(rest, table, plan.clock)?)?;
    }
    let mut select: Vec<Expr> = vec![column("time")];
    for (i, tag) in plan.group_tags.iter().enumerate() {
        let e = match table.column(tag) {
            Some((_, ColumnKind::Tag)) => {
                coalesce(vec![cast(column(tag), ArrowType::Utf8), lit("")])
            }
            _ => lit(""),
        };
        select.push(e.alias(format!("__g{i}")));
    }
    let mut present: Option<Expr> = None;
    let driver = drivers(plan);
    for (i, input) in plan.inputs.iter().enumerate() {
        let e = match resolve(table, &input.name, input.cast) {
            Some(ColumnKind::Tag) => cast(column(&input.name), ArrowType::Utf8),
            Some(ColumnKind::Field(_)) => {
                if driver.contains(&i) {
                    let nn = column(&input.name).is_not_null();
                    present = Some(match present {
                        None => nn,
                        Some(p) => p.or(nn),
                    });
                }
                column(&input.name)
            }
            _ => lit(ScalarValue::Null),
        };
        select.push(e.alias(format!("__i{i}")));
    }
    // Without a field to read, the measurement contributes no rows.
    let Some(present) = present else {
        return Ok(None);
    };
    // Points of several series at one time come in series key order, as in 1.x (and the same
    // way every time): the series' other tags break the tie (read after the inputs, unused).
    let tiebreak: Vec<&str> = if plan.aggregate {
        Vec::new()
    } else {
        table
            .sort_key()
            .into_iter()
            .filter(|t| !plan.group_tags.iter().any(|g| g == t))
            .collect()
    };
    for (j, tag) in tiebreak.iter().enumerate() {
        select.push(cast(column(tag), ArrowType::Utf8).alias(format!("__s{j}")));
    }
    let inputs = plan.inputs.len();
    df = df.filter(present)?.select(select)?;
    if plan.limit == 1 && plan.offset == 0 && per_series_rows(plan).is_some() {
        // One row per series: its first or last row by an aggregation, without sorting the
        // rows (TSBS's lastpoint). Every column picks from the same row: one total order.
        let mut order = vec![column("time").sort(true, true)];
        order.extend((0..tiebreak.len()).map(|j| column(&format!("__s{j}")).sort(true, true)));
        let pick = |e: Expr| {
            if plan.descending {
                last_value(e, order.clone())
            } else {
                first_value(e, order.clone())
            }
        };
        let groups: Vec<Expr> = (0..plan.group_tags.len())
            .map(|i| column(&format!("__g{i}")))
            .collect();
        let mut aggs = vec![pick(column("time")).alias("time")];
        aggs.extend((0..inputs).map(|i| pick(column(&format!("__i{i}"))).alias(format!("__i{i}"))));
        let mut columns = vec![column("time")];
        columns.extend(groups.iter().cloned());
        columns.extend((0..inputs).map(|i| column(&format!("__i{i}"))));
        let sort = groups.iter().map(|g| g.clone().sort(true, true)).collect();
        let df = df.aggregate(groups, aggs)?.select(columns)?.sort(sort)?;
        return Ok(Some(df));
    }
    if let Some(n) = per_series_rows(plan) {
        // Only the first rows of each series (in the query's order) can be answered: number
        // them per series and keep those, so the rest are never read into the evaluator
        // (TSBS's `SELECT * FROM cpu GROUP BY hostname ORDER BY time DESC LIMIT 1`).
        let partition: Vec<Expr> = (0..plan.group_tags.len())
            .map(|i| column(&format!("__g{i}")))
            .collect();
        let order = vec![column("time").sort(!plan.descending, true)];
        let rn = row_number()
            .partition_by(partition)
            .order_by(order)
            .build()?
            .alias("__rn");
        df = df.window(vec![rn])?.filter(column("__rn").lt_eq(lit(n)))?;
    }
    let mut sort: Vec<SortExpr> = (0..plan.group_tags.len())
        .map(|i| column(&format!("__g{i}")).sort(true, true))
        .collect();
    let limited = scan_limits(plan);
    let ascending = !(limited && plan.descending);
    sort.push(column("time").sort(ascending, true));
    sort.extend((0..tiebreak.len()).map(|j| column(&format!("__s{j}")).sort(ascending, true)));
    df = df.sort(sort)?;
    if limited {
        df = df.limit(plan.offset, Some(plan.limit))?;
    }
    Ok(Some(df))
}

/// Reads `table`'s rows for `plan`, cut into series.
pub(crate) async fn scan(env: &mut Env, plan: &Plan, table: &TableSchema) -> Result<Vec<Series>> {
    let Some(df) = frame(env, plan, table).await? else {
        return Ok(Vec::new());
    };
    let batches = df.collect().await?;
    let measurement: Arc<str> = Arc::from(table.name.as_str());
    let groups = plan.group_tags.len();
    let mut out: Vec<Series> = Vec::new();
    for batch in batches {
        env.reserve(batch.get_array_memory_size().saturating_mul(3))?;
        let times = batch
            .column(0)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .ok_or_else(|| Error::Internal("time is not a timestamp".to_owned()))?
            .clone();
        let tags: Vec<StringArray> = (0..groups)
            .map(|g| {
                batch
                    .column(1 + g)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .cloned()
                    .ok_or_else(|| Error::Internal("group tag is not a string".to_owned()))
            })
            .collect::<Result<_>>()?;
        let mut cols = Vec::with_capacity(plan.inputs.len());
        for (i, input) in plan.inputs.iter().enumerate() {
            let mut values = column_values(batch.column(1 + groups + i))?;
            if let Some(c) = input.cast {
                if !matches!(c, DataType::Tag | DataType::Field) {
                    values.iter_mut().for_each(|v| *v = v.cast_to(c));
                }
            }
            cols.push(values);
        }
        for row in 0..batch.num_rows() {
            let same = out.last().is_some_and(|s| {
                s.tags
                    .iter()
                    .zip(&tags)
                    .all(|(t, a)| t.as_ref() == a.value(row))
            });
            if !same {
                out.push(Series {
                    measurement: Arc::clone(&measurement),
                    tags: tags.iter().map(|a| Arc::from(a.value(row))).collect(),
                    times: Vec::new(),
                    cols: vec![Vec::new(); plan.inputs.len()],
                });
            }
            if let Some(s) = out.last_mut() {
                s.times.push(times.value(row));
                for (c, values) in s.cols.iter_mut().zip(&cols) {
                    c.push(values.get(row).cloned().unwrap_or(Value::Null));
                }
            }
        }
    }
    Ok(out)
}
