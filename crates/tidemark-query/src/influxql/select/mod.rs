//! SELECT: `plan.rs` checks the statement and expands the projection, `compile.rs` turns
//! each field into aggregate calls, transformations and math over input columns; each
//! measurement is then read either by `pushdown.rs` (aggregates DataFusion computes itself,
//! one row per window) or by `scan.rs` (filtered, sorted rows cut into series), and
//! `eval.rs` applies windows, fill and transformations (`functions.rs`, `technical.rs`).
//! Subqueries run first and become in-memory measurements (`subquery.rs`). Rows are then
//! ordered, paged per series and shaped into one batch.

mod compile;
mod direct;
mod direct_acc;
mod direct_pred;
mod eval;
mod functions;
mod gosort;
mod holt_winters;
mod plan;
mod pushdown;
mod scan;
mod subquery;
mod technical;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType as ArrowType, TimeUnit};
use datafusion::common::TableReference;
use datafusion::datasource::TableProvider;
use datafusion::prelude::DataFrame;
use tidemark_catalog::{ColumnKind, FieldType};
use tidemark_influxql::{DataType, ExplainStatement, Expr as Ix, Literal, SelectStatement, Source};
use tidemark_storage::schema::TableSchema;

use super::output::MEASUREMENT_COLUMN;
use super::output::{self, infer_type, strings, timestamp_type, Column, TagKeyColumn};
use super::value::Value;
use super::{statement_error, Env};
use crate::catalog::{CATALOG, SCHEMA};
use crate::error::{Error, Result};
use eval::Row;
use plan::{AggFn, Ex, Plan, TransformFn};

/// A SELECT being run: its plan and series when done.
type Running<'a> = Pin<Box<dyn Future<Output = Result<(Plan, Vec<SeriesRows>)>> + Send + 'a>>;

/// Subquery results by measurement name.
type Providers = HashMap<String, Arc<dyn TableProvider>>;

/// A series' result: measurement, GROUP BY tag values, rows.
pub(crate) type SeriesRows = (Arc<str>, Vec<Arc<str>>, Vec<Row>);

/// How many windows one series may have: beyond this a GROUP BY time is a mistake (1ns
/// windows over a year) that would exhaust memory.
const MAX_WINDOWS: i64 = 10_000_000;

pub(crate) async fn select(env: &mut Env, s: &SelectStatement) -> Result<RecordBatch> {
    let (plan, series) = run(env, s).await?;
    shape(&plan, series)
}

/// A DataFrame over `table`: the bucket's table, or a subquery's result.
pub(crate) async fn table_frame(env: &Env, plan: &Plan, table: &TableSchema) -> Result<DataFrame> {
    if let Some(provider) = plan.providers.get(&table.name) {
        return Ok(env.ctx()?.read_table(Arc::clone(provider))?);
    }
    let reference = TableReference::full(CATALOG, SCHEMA, table.name.as_str());
    Ok(env.ctx()?.table(reference).await?)
}

/// The measurements of `s`'s FROM: the bucket's, and subqueries' results as tables.
async fn sources(env: &mut Env, s: &SelectStatement) -> Result<(Vec<Arc<TableSchema>>, Providers)> {
    let plain: Vec<Source> = s
        .from
        .iter()
        .filter(|f| matches!(f, Source::Measurement(_)))
        .cloned()
        .collect();
    let mut measurements = if plain.is_empty() {
        Vec::new()
    } else {
        env.measurements(&plain)?
    };
    let mut providers = Providers::new();
    let mut subs = Vec::new();
    for f in &s.from {
        if let Source::Subquery(inner) = f {
            let inner = with_outer_tags(inner, s);
            subs.push(run(env, &inner).await?);
        }
    }
    for (table, provider) in subquery::tables(subs)? {
        if measurements.iter().any(|m| m.name == table.name) {
            return Err(statement_error(format!(
                "measurement {} is both a table and a subquery result",
                table.name
            )));
        }
        providers.insert(table.name.clone(), provider);
        measurements.push(table);
    }
    measurements.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((measurements, providers))
}

/// A subquery grouped by the outer query's GROUP BY tags too, as 1.x runs it (its
/// `IteratorOptions.GroupBy` are the union): the outer query can only group by tags the
/// subquery's rows carry.
fn with_outer_tags(inner: &SelectStatement, outer: &SelectStatement) -> SelectStatement {
    let mut inner = inner.clone();
    for d in &outer.group_by {
        let tag = match d {
            Ix::VarRef(v) if v.name != "time" => d,
            Ix::Wildcard(_) | Ix::Literal(Literal::Regex(_)) => d,
            _ => continue,
        };
        if !inner.group_by.contains(tag) {
            inner.group_by.push(tag.clone());
        }
    }
    inner
}

/// Plans and runs `s`, giving its series' rows (subqueries run first, recursively).
fn run<'a>(env: &'a mut Env, s: &'a SelectStatement) -> Running<'a> {
    Box::pin(async move {
        let (measurements, providers) = sources(env, s).await?;
        let mut plan = plan::plan(s, measurements, env.options.now)?;
        plan.providers = providers;
        let pushed = pushdown::applies(&plan);
        let mut all: Vec<scan::Series> = Vec::new();
        let mut windows: Vec<pushdown::Windows> = Vec::new();
        if !plan.bounds.is_empty() {
            for table in plan.measurements.clone() {
                match direct::read(env, &plan, &table, pushed).await? {
                    Some(direct::Read::Windows(w)) => windows.extend(w),
                    Some(direct::Read::Series(s)) => all.extend(s),
                    None if pushed => windows.extend(pushdown::scan(env, &plan, &table).await?),
                    None => all.extend(scan::scan(env, &plan, &table).await?),
                }
            }
        }
        // GROUP BY time: windows from the lower bound (else the first point) to the upper bound
        // (else now).
        let range = match plan.interval {
            Some(iv) => {
                let first_seen = all
                    .iter()
                    .filter_map(|s| s.times.first().copied())
                    .chain(windows.iter().filter_map(|w| w.rows.first().map(|r| r.0)))
                    .min();
                let lo = plan.bounds.min.or(first_seen);
                let hi = plan.bounds.max.unwrap_or(env.options.now);
                match lo {
                    Some(lo) if lo <= hi => {
                        let (first, last) = (iv.window(lo), iv.window(hi));
                        if last.saturating_sub(first) / iv.every >= MAX_WINDOWS {
                            return Err(statement_error(format!(
                            "too many windows: GROUP BY time({}ns) over this range gives more than {MAX_WINDOWS}",
                            iv.every
                        )));
                        }
                        Some((first, last))
                    }
                    _ => None,
                }
            }
            None => None,
        };
        let limited_by_scan = scan::scan_limits(&plan);
        let mut evaluated: Vec<SeriesRows> = Vec::new();
        for s in &all {
            let rows = if !plan.aggregate {
                eval::raw(&plan, s)
            } else if plan.interval.is_some() && range.is_none() {
                Vec::new()
            } else {
                eval::aggregated(&plan, s, range)
            };
            evaluated.push((Arc::clone(&s.measurement), s.tags.clone(), rows));
        }
        for w in windows {
            let rows = eval::from_windows(&plan, w.rows, range);
            evaluated.push((w.measurement, w.tags, rows));
        }
        let mut series: Vec<SeriesRows> = Vec::new();
        for (m, tags, mut rows) in evaluated {
            env.reserve(rows.len() * (24 + plan.fields.len() * 32))?;
            if !limited_by_scan {
                if plan.descending {
                    rows.reverse();
                }
                let end = if plan.limit > 0 {
                    plan.offset.saturating_add(plan.limit)
                } else {
                    usize::MAX
                };
                rows = rows.into_iter().take(end).skip(plan.offset).collect();
            }
            if !rows.is_empty() {
                series.push((m, tags, rows));
            }
        }
        if plan.descending {
            // 1.x merges series newest first in reverse order of measurement and tags too.
            series.reverse();
        }
        let series: Vec<_> = series
            .into_iter()
            .skip(plan.soffset)
            .take(if plan.slimit > 0 {
                plan.slimit
            } else {
                usize::MAX
            })
            .collect();
        Ok((plan, series))
    })
}

/// The type a field has when no row says otherwise.
pub(crate) fn static_type(plan: &Plan, e: &Ex) -> ArrowType {
    let input_type = |i: usize| -> ArrowType {
        let Some(input) = plan.inputs.get(i) else {
            return ArrowType::Float64;
        };
        match input.cast {
            Some(DataType::Float) => return ArrowType::Float64,
            Some(DataType::Integer) => return ArrowType::Int64,
            Some(DataType::Unsigned) => return ArrowType::UInt64,
            Some(DataType::String | DataType::Tag) => return ArrowType::Utf8,
            Some(DataType::Boolean) => return ArrowType::Boolean,
            _ => {}
        }
        for t in &plan.measurements {
            match t.column(&input.name) {
                Some((_, ColumnKind::Tag)) => return ArrowType::Utf8,
                Some((_, ColumnKind::Field(f))) => {
                    return match f {
                        FieldType::Float => ArrowType::Float64,
                        FieldType::Integer => ArrowType::Int64,
                        FieldType::UInteger => ArrowType::UInt64,
                        FieldType::String => ArrowType::Utf8,
                        FieldType::Boolean => ArrowType::Boolean,
                    }
                }
                _ => {}
            }
        }
        ArrowType::Float64
    };
    match e {
        Ex::Input(i) => input_type(*i),
        Ex::Lit(v) => infer_type(std::slice::from_ref(v), ArrowType::Float64),
        Ex::Bin(l, op, _) => match (static_type(plan, l), op) {
            (_, tidemark_influxql::BinaryOp::Div) => ArrowType::Float64,
            (t, _) if t.is_numeric() || t == ArrowType::Boolean => t,
            _ => ArrowType::Float64,
        },
        Ex::Math(m, args) => match m {
            plan::Math::Abs | plan::Math::Floor | plan::Math::Ceil | plan::Math::Round => args
                .first()
                .map_or(ArrowType::Float64, |a| static_type(plan, a)),
            _ => ArrowType::Float64,
        },
        Ex::Agg(k) => match plan.aggs.get(*k) {
            Some(a) => match a.func {
                AggFn::Count | AggFn::CountDistinct => ArrowType::Int64,
                AggFn::Mean | AggFn::Median | AggFn::Stddev | AggFn::Integral(_) => {
                    ArrowType::Float64
                }
                _ => input_type(a.input),
            },
            None => ArrowType::Float64,
        },
        Ex::Transform(k) => match plan.transforms.get(*k) {
            Some(t) => match t.func {
                TransformFn::Derivative { .. }
                | TransformFn::MovingAverage(_)
                | TransformFn::Technical { .. }
                | TransformFn::HoltWinters { .. } => ArrowType::Float64,
                TransformFn::Elapsed(_) => ArrowType::Int64,
                _ => static_type(plan, &t.inner),
            },
            None => ArrowType::Float64,
        },
    }
}

/// The result batch: measurement, time, the GROUP BY tags not projected, the fields.
fn shape(plan: &Plan, series: Vec<SeriesRows>) -> Result<RecordBatch> {
    let total: usize = series.iter().map(|s| s.2.len()).sum();
    // A projected GROUP BY tag is its own column; the others are added after time.
    let projected: Vec<Option<usize>> = plan
        .group_tags
        .iter()
        .map(|tag| {
            plan.fields.iter().position(|f| match f.expr {
                Ex::Input(i) => plan.inputs.get(i).is_some_and(|inp| {
                    inp.name == *tag && matches!(inp.cast, None | Some(DataType::Tag))
                }),
                _ => false,
            })
        })
        .collect();
    let hidden: Vec<usize> = (0..plan.group_tags.len())
        .filter(|&g| projected[g].is_none())
        .collect();
    let mut measurement = Vec::with_capacity(total);
    let mut time = Vec::with_capacity(total);
    let mut tags: Vec<Vec<Value>> = vec![Vec::with_capacity(total); hidden.len()];
    let mut fields: Vec<Vec<Value>> = vec![Vec::with_capacity(total); plan.fields.len()];
    for (m, key, rows) in series {
        for row in rows {
            measurement.push(Value::Str(Arc::clone(&m)));
            time.push(Value::Int(row.time));
            for (col, &g) in tags.iter_mut().zip(&hidden) {
                col.push(Value::Str(
                    key.get(g).cloned().unwrap_or_else(|| Arc::from("")),
                ));
            }
            for (col, v) in fields.iter_mut().zip(row.values) {
                col.push(v);
            }
        }
    }
    let mut columns = vec![
        Column::new(MEASUREMENT_COLUMN, ArrowType::Utf8, measurement).not_null(),
        Column::new(
            "time",
            match plan.clock.tz {
                // The instants are the same; the zone tells encoders how to show them.
                Some(tz) => ArrowType::Timestamp(TimeUnit::Nanosecond, Some(tz.name().into())),
                None => timestamp_type(),
            },
            time,
        )
        .not_null(),
    ];
    let mut keys = Vec::new();
    for (col, &g) in tags.into_iter().zip(&hidden) {
        keys.push(TagKeyColumn {
            key: plan.group_tags[g].clone(),
            index: columns.len(),
            projected: false,
        });
        columns.push(Column::new(
            plan.group_tags[g].clone(),
            ArrowType::Utf8,
            col,
        ));
    }
    let first_field = columns.len();
    for (f, values) in plan.fields.iter().zip(fields) {
        let t = infer_type(&values, static_type(plan, &f.expr));
        columns.push(Column::new(f.name.clone(), t, values));
    }
    for (g, p) in projected.iter().enumerate() {
        if let Some(p) = p {
            keys.push(TagKeyColumn {
                key: plan.group_tags[g].clone(),
                index: first_field + p,
                projected: true,
            });
        }
    }
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    output::batch(columns, &keys)
}

/// `EXPLAIN [ANALYZE]`: DataFusion's plans of each measurement's scan.
pub(crate) async fn explain(env: &mut Env, e: &ExplainStatement) -> Result<RecordBatch> {
    let s = &e.select;
    let (measurements, providers) = sources(env, s).await?;
    let mut plan = plan::plan(s, measurements, env.options.now)?;
    plan.providers = providers;
    let (mut m, mut kinds, mut texts) = (Vec::new(), Vec::new(), Vec::new());
    for table in &plan.measurements {
        let df = if pushdown::applies(&plan) {
            pushdown::frame(env, &plan, table)
                .await?
                .map(|(df, _, _)| df)
        } else {
            scan::frame(env, &plan, table).await?
        };
        let Some(df) = df else {
            continue;
        };
        let batches = df.explain(e.verbose, e.analyze)?.collect().await?;
        for b in batches {
            let read = |i: usize| -> Result<StringArray> {
                b.column(i)
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .cloned()
                    .ok_or_else(|| Error::Internal("explain output is not text".to_owned()))
            };
            let (k, p) = (read(0)?, read(1)?);
            for i in 0..b.num_rows() {
                m.push(table.name.clone());
                kinds.push(k.value(i).to_owned());
                texts.push(p.value(i).to_owned());
            }
        }
    }
    output::batch(
        vec![
            strings(MEASUREMENT_COLUMN, &m).not_null(),
            strings("plan_type", &kinds),
            strings("plan", &texts),
        ],
        &[],
    )
}
