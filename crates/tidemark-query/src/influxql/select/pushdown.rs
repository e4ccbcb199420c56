//! Aggregates DataFusion computes itself: when every aggregate of a query is one SQL has
//! (count, sum, mean, min, max, first, last, spread, median) and no raw field rides
//! along, the scan groups by the GROUP BY tags and `date_bin` window and returns one row per
//! window, so millions of points never reach the row evaluator (TSBS's `max(usage_user) ...
//! GROUP BY time(1m)`, `mean(*) ... GROUP BY time(1h), hostname`, `last(x) GROUP BY host`).
//! Fill, ordering and paging then work on the windows as for any aggregate.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::{coalesce, date_bin};
use datafusion::functions_aggregate::expr_fn::{avg, count, count_distinct, max, median, min, sum};
use datafusion::functions_aggregate::first_last::{first_value_udaf, last_value_udaf};
use datafusion::logical_expr::{cast, lit, ExprFunctionExt};
use datafusion::prelude::{DataFrame, Expr};
use tidemark_catalog::{ColumnKind, FieldType};
use tidemark_influxql::DataType;
use tidemark_storage::schema::TableSchema;

use super::super::condition::{self, bounds_filter};
use super::super::value::{column_values, Value};
use super::super::Env;
use super::plan::{AggFn, Ex, Plan};
use crate::error::Result;

/// The windows of one series: start (or selected point's time) and each aggregate's value.
#[derive(Debug)]
pub(crate) struct Windows {
    pub(crate) measurement: Arc<str>,
    pub(crate) tags: Vec<Arc<str>>,
    pub(crate) rows: Vec<(i64, Vec<Value>)>,
}

fn column(name: &str) -> Expr {
    Expr::Column(datafusion::common::Column::from_name(name))
}

fn reads_input(e: &Ex) -> bool {
    match e {
        Ex::Input(_) => true,
        Ex::Bin(l, _, r) => reads_input(l) || reads_input(r),
        Ex::Math(_, a) => a.iter().any(reads_input),
        Ex::Transform(_) | Ex::Agg(_) | Ex::Lit(_) => false,
    }
}

/// Whether DataFusion can compute the query's aggregates. Not stddev(): SQL's (Welford's)
/// rounds differently from 1.x's (running mean, then the squares), and the last digits show.
pub(crate) fn applies(plan: &Plan) -> bool {
    // date_bin aligns windows to UTC, not to a zone's wall clock.
    plan.clock.tz.is_none()
        && plan.aggregate
        && !plan.fields.iter().any(|f| reads_input(&f.expr))
        && !plan.transforms.iter().any(|t| reads_input(&t.inner))
        && plan.aggs.iter().all(|a| {
            matches!(
                a.func,
                AggFn::Count
                    | AggFn::CountDistinct
                    | AggFn::Sum
                    | AggFn::Mean
                    | AggFn::Min
                    | AggFn::Max
                    | AggFn::First
                    | AggFn::Last
                    | AggFn::Spread
                    | AggFn::Median
            ) && plan.inputs.get(a.input).is_some_and(|i| {
                matches!(i.cast, None | Some(DataType::Field))
                    && (!needs_numbers(&a.func) || numeric_everywhere(plan, &i.name))
            })
        })
}

/// Aggregates SQL refuses over strings and booleans (1.x skips such values).
fn needs_numbers(f: &AggFn) -> bool {
    matches!(f, AggFn::Sum | AggFn::Mean | AggFn::Median | AggFn::Spread)
}

/// Whether `name` is a numeric field (or absent) in every measurement of the plan.
fn numeric_everywhere(plan: &Plan, name: &str) -> bool {
    plan.measurements.iter().all(|t| match t.column(name) {
        Some((_, ColumnKind::Field(ft))) => matches!(
            ft,
            FieldType::Float | FieldType::Integer | FieldType::UInteger
        ),
        Some(_) => false,
        None => true,
    })
}

/// The aggregate expressions of aggregate `k` over `c` (non-null rows only): its value, and
/// for spread its minimum; for a selector whose time is the point's, that time.
fn agg_exprs(plan: &Plan, k: usize, c: Expr) -> Result<Vec<Expr>> {
    let Some(a) = plan.aggs.get(k) else {
        return Ok(Vec::new());
    };
    let present = c.clone().is_not_null();
    let time = column("time");
    // 1.x breaks ties in time by the larger value, for first and for last.
    let by_time = |value_asc: bool| {
        vec![
            time.clone().sort(true, true),
            c.clone().sort(value_asc, false),
        ]
    };
    let mut out = match a.func {
        AggFn::Count => vec![count(c.clone())],
        AggFn::CountDistinct => vec![count_distinct(c.clone())],
        AggFn::Sum => vec![sum(c.clone())],
        AggFn::Mean => vec![avg(c.clone())],
        AggFn::Min => vec![min(c.clone())],
        AggFn::Max | AggFn::Spread => vec![max(c.clone())],
        // As floats: the median of two integers may fall between them.
        AggFn::Median => vec![median(cast(c.clone(), ArrowType::Float64))],
        AggFn::First => vec![first_value_udaf()
            .call(vec![c.clone()])
            .order_by(by_time(false))
            .filter(present.clone())
            .build()?],
        AggFn::Last => vec![last_value_udaf()
            .call(vec![c.clone()])
            .order_by(by_time(true))
            .filter(present.clone())
            .build()?],
        _ => Vec::new(),
    };
    if a.func == AggFn::Spread {
        out.push(min(c.clone()));
    }
    if plan.point_time {
        out.push(match a.func {
            AggFn::First => min(time.clone()).filter(present).build()?,
            AggFn::Last => max(time.clone()).filter(present).build()?,
            AggFn::Max | AggFn::Min => first_value_udaf()
                .call(vec![time.clone()])
                .order_by(vec![
                    c.clone().sort(a.func == AggFn::Min, false),
                    time.clone().sort(true, true),
                ])
                .filter(present)
                .build()?,
            _ => lit(ScalarValue::Null),
        });
    }
    Ok(out)
}

/// The aggregation of `table` for `plan`; with where each aggregate's outputs are among the
/// columns after the group columns, and how many group columns there are. `None` when the
/// table has none of the aggregated fields.
pub(crate) async fn frame(
    env: &Env,
    plan: &Plan,
    table: &TableSchema,
) -> Result<Option<(DataFrame, Vec<(usize, usize)>, usize)>> {
    let mut df = super::table_frame(env, plan, table).await?;
    if let Some(f) = bounds_filter(&plan.bounds) {
        df = df.filter(f)?;
    }
    if let Some(rest) = &plan.rest {
        df = df.filter(condition::to_filter(rest, table, plan.clock)?)?;
    }
    let mut group: Vec<Expr> = Vec::new();
    for (i, tag) in plan.group_tags.iter().enumerate() {
        let e = match table.column(tag) {
            Some((_, ColumnKind::Tag)) => {
                coalesce(vec![cast(column(tag), ArrowType::Utf8), lit("")])
            }
            _ => lit(""),
        };
        group.push(e.alias(format!("__g{i}")));
    }
    if let Some(iv) = plan.interval {
        let stride = lit(ScalarValue::new_interval_mdn(0, 0, iv.every));
        let origin = lit(ScalarValue::TimestampNanosecond(Some(iv.offset), None));
        group.push(date_bin(stride, column("time"), origin).alias("__w"));
    }
    let mut aggs: Vec<Expr> = Vec::new();
    // Where each aggregate's outputs start among `aggs`, and how many it has.
    let mut slots: Vec<(usize, usize)> = Vec::new();
    let mut any_field = false;
    for (k, a) in plan.aggs.iter().enumerate() {
        let name = plan
            .inputs
            .get(a.input)
            .map(|i| i.name.as_str())
            .unwrap_or("");
        let c = match table.column(name) {
            Some((_, ColumnKind::Field(_))) => {
                any_field = true;
                column(name)
            }
            _ => lit(ScalarValue::Float64(None)),
        };
        let exprs = agg_exprs(plan, k, c)?;
        slots.push((aggs.len(), exprs.len()));
        for e in exprs {
            let alias = format!("__a{}", aggs.len());
            aggs.push(e.alias(alias));
        }
    }
    if !any_field {
        return Ok(None);
    }
    let groups = group.len();
    let sort: Vec<_> = (0..groups)
        .map(|i| {
            let name = if plan.interval.is_some() && i == groups - 1 {
                "__w".to_owned()
            } else {
                format!("__g{i}")
            };
            column(&name).sort(true, true)
        })
        .collect();
    let mut df = df.aggregate(group, aggs)?;
    if groups > 0 {
        df = df.sort(sort)?;
    }
    Ok(Some((df, slots, groups)))
}

/// Reads `table`'s windows for `plan` (see [`applies`]).
pub(crate) async fn scan(env: &mut Env, plan: &Plan, table: &TableSchema) -> Result<Vec<Windows>> {
    let Some((df, slots, groups)) = frame(env, plan, table).await? else {
        return Ok(Vec::new());
    };
    let batches = df.collect().await?;
    let measurement: Arc<str> = Arc::from(table.name.as_str());
    let tags_n = plan.group_tags.len();
    let start = plan.bounds.min.unwrap_or(0);
    let mut out: Vec<Windows> = Vec::new();
    for b in batches {
        env.reserve(b.get_array_memory_size())?;
        let tags: Vec<StringArray> = (0..tags_n)
            .map(|i| {
                b.column(i)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .cloned()
                    .unwrap_or_else(|| StringArray::from(vec![""; b.num_rows()]))
            })
            .collect();
        let windows = match plan.interval {
            Some(_) => column_values(b.column(tags_n))?,
            None => vec![Value::Int(start); b.num_rows()],
        };
        let values: Vec<Vec<Value>> = (groups..b.num_columns())
            .map(|i| column_values(b.column(i)))
            .collect::<Result<_>>()?;
        for row in 0..b.num_rows() {
            let same = out.last().is_some_and(|w| {
                w.tags
                    .iter()
                    .zip(&tags)
                    .all(|(t, a)| t.as_ref() == a.value(row))
            });
            if !same {
                out.push(Windows {
                    measurement: Arc::clone(&measurement),
                    tags: tags.iter().map(|a| Arc::from(a.value(row))).collect(),
                    rows: Vec::new(),
                });
            }
            let cell = |i: usize| values.get(i).and_then(|v| v.get(row)).cloned();
            let mut time = match windows.get(row) {
                Some(Value::Int(t)) => *t,
                _ => start,
            };
            let mut aggs = Vec::with_capacity(plan.aggs.len());
            for (k, &(at, n)) in slots.iter().enumerate() {
                let v = cell(at).unwrap_or(Value::Null);
                let v = match plan.aggs.get(k).map(|a| &a.func) {
                    Some(AggFn::Spread) => v.binary(
                        tidemark_influxql::BinaryOp::Sub,
                        &cell(at + 1).unwrap_or(Value::Null),
                    ),
                    Some(AggFn::Median) => v.as_f64().map_or(Value::Null, Value::Float),
                    // No point is no count: fill decides what an empty window shows.
                    Some(AggFn::Count | AggFn::CountDistinct) if v == Value::Int(0) => Value::Null,
                    _ => v,
                };
                if plan.point_time && n > 0 {
                    if let Some(Value::Int(t)) = cell(at + n - 1) {
                        time = t;
                    }
                }
                aggs.push(v);
            }
            // A window where no aggregate found a point does not exist (fill adds it back).
            if aggs.iter().all(Value::is_null) {
                continue;
            }
            if let Some(w) = out.last_mut() {
                w.rows.push((time, aggs));
            }
        }
    }
    out.retain(|w| !w.rows.is_empty());
    Ok(out)
}
