//! Reading one measurement for a SELECT: DataFusion filters (time bounds and WHERE, which the
//! table provider prunes with), projects the inputs and sorts by series then time; the rows
//! are then cut into series.

use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray, TimestampNanosecondArray};
use datafusion::arrow::compute::cast as cast_arrow;
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
use super::plan::{AggFn, Plan};
use super::subquery::SEQ;
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
pub(crate) fn resolve(
    table: &TableSchema,
    name: &str,
    cast_to: Option<DataType>,
) -> Option<ColumnKind> {
    use tidemark_catalog::FieldType as F;
    let (_, kind) = table.column(name)?;
    match (cast_to, kind) {
        (Some(DataType::Tag), ColumnKind::Tag) => Some(kind),
        (Some(DataType::Tag), _) => None,
        (Some(_), ColumnKind::Tag) => None,
        // A cast 1.x cannot make reads nothing: the field is missing for this query (it
        // neither shows nor makes rows), as 1.x finds no field of that type.
        (Some(DataType::String), ColumnKind::Field(f)) if f != F::String => None,
        (Some(DataType::Boolean), ColumnKind::Field(f)) if f != F::Boolean => None,
        (
            Some(DataType::Float | DataType::Integer | DataType::Unsigned),
            ColumnKind::Field(F::String | F::Boolean),
        ) => None,
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

/// Whether `table` is a subquery's result read by a raw query: its rows then keep the order
/// the subqueries gave them ([`SEQ`]), as 1.x reads a lone subquery's iterator as it comes
/// (a sorted merge of one input is that input) and merges several by time.
fn keeps_source_order(plan: &Plan, table: &TableSchema) -> bool {
    !plan.aggregate
        && plan.transforms.is_empty()
        && !plan.descending
        && plan.providers.contains_key(&table.name)
}

/// Whether the aggregates answer by the order 1.x feeds them a group's points in: its
/// statements are ordered, so a reducer reads the series merged by time, points of several
/// series at one time as the heap gives them ([`merge_order`]), and `mode()` (on ties),
/// `percentile()` (the time of equal values) and `stddev()` (the rounding) show it. The rows
/// then need their series.
fn fed_in_merge_order(plan: &Plan) -> bool {
    plan.aggregate
        && !plan.descending
        && plan
            .aggs
            .iter()
            .any(|a| matches!(a.func, AggFn::Mode | AggFn::Percentile(_) | AggFn::Stddev))
        // integral() needs the rows in time order.
        && !plan.aggs.iter().any(|a| matches!(a.func, AggFn::Integral(_)))
}

/// What orders the rows of a series: the time, or the subqueries' order.
fn order_column(plan: &Plan, table: &TableSchema) -> Expr {
    column(if keeps_source_order(plan, table) {
        SEQ
    } else {
        "time"
    })
}

/// The tags of a raw query's rows besides the GROUP BY ones (sorted): with those, the series
/// a row belongs to.
fn tiebreak_tags<'t>(plan: &Plan, table: &'t TableSchema) -> Vec<&'t str> {
    if (plan.aggregate && !fed_in_merge_order(plan)) || keeps_source_order(plan, table) {
        return Vec::new();
    }
    table
        .sort_key()
        .into_iter()
        .filter(|t| !plan.group_tags.iter().any(|g| g == t))
        .collect()
}

/// A tag key or value as 1.x writes it in a series key.
fn escape_key_part(s: &str, out: &mut String) {
    for c in s.chars() {
        if matches!(c, ',' | '=' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The order 1.x gives a raw query's rows of one tag set. It reads each series (sorted by
/// series key, reversed for `ORDER BY time DESC`) and merges them by time with Go's
/// `container/heap`, which is not stable: points of several series at the same time come in
/// the order the heap happens to give, and only an auxiliary string value (the first
/// selected column, by name, that differs) breaks such a tie. `keys` are the rows' series keys,
/// `times` their times, in the order they were read (ascending, or descending when
/// `rows_descending`); the answer is that order of row indices, in the query's direction.
pub(crate) fn merge_order(
    keys: &[Arc<str>],
    times: &[i64],
    aux: &[&[Value]],
    descending: bool,
    rows_descending: bool,
) -> Vec<usize> {
    let mut by_key: std::collections::BTreeMap<&str, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        by_key.entry(k).or_default().push(i);
    }
    let mut series: Vec<Vec<usize>> = by_key.into_values().collect();
    if descending {
        series.reverse();
    }
    if descending != rows_descending {
        series.iter_mut().for_each(|s| s.reverse());
    }
    // 1.x's sortedMergeHeap.Less.
    let less = |a: usize, b: usize| -> bool {
        let (ta, tb) = (times[a], times[b]);
        if ta != tb {
            return if descending { ta > tb } else { ta < tb };
        }
        for col in aux {
            match (col.get(a), col.get(b)) {
                (Some(Value::Str(x)), Some(Value::Str(y))) if x == y => continue,
                (Some(Value::Str(x)), Some(Value::Str(y))) => {
                    return if descending { x > y } else { x < y };
                }
                _ => return false,
            }
        }
        false
    };
    // (next row, series, position of the next row in its series)
    let mut heap: Vec<(usize, usize, usize)> = series
        .iter()
        .enumerate()
        .filter_map(|(k, s)| s.first().map(|&r| (r, k, 1)))
        .collect();
    let down = |heap: &mut Vec<(usize, usize, usize)>, i0: usize, n: usize| {
        let mut i = i0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            let j2 = j1 + 1;
            if j2 < n && less(heap[j2].0, heap[j1].0) {
                j = j2;
            }
            if !less(heap[j].0, heap[i].0) {
                break;
            }
            heap.swap(i, j);
            i = j;
        }
    };
    let n = heap.len();
    for i in (0..n / 2).rev() {
        down(&mut heap, i, n);
    }
    let mut out = Vec::with_capacity(keys.len());
    while !heap.is_empty() {
        let last = heap.len() - 1;
        heap.swap(0, last);
        down(&mut heap, 0, last);
        let Some((row, k, at)) = heap.pop() else {
            break;
        };
        out.push(row);
        if let Some(&next) = series[k].get(at) {
            heap.push((next, k, at + 1));
            // up
            let mut j = heap.len() - 1;
            while j > 0 {
                let i = (j - 1) / 2;
                if !less(heap[j].0, heap[i].0) {
                    break;
                }
                heap.swap(i, j);
                j = i;
            }
        }
    }
    out
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
    // Points of several series at one time come in series key order (the same way every
    // time): the series' other tags break the tie, and are read after the inputs to put ties
    // in 1.x's order (`merge_order`).
    let tiebreak = tiebreak_tags(plan, table);
    for (j, tag) in tiebreak.iter().enumerate() {
        select.push(cast(column(tag), ArrowType::Utf8).alias(format!("__s{j}")));
    }
    if keeps_source_order(plan, table) {
        // Last, after any column the rows are read from.
        select.push(column(SEQ));
    }
    let inputs = plan.inputs.len();
    df = df.filter(present)?.select(select)?;
    if plan.limit == 1 && plan.offset == 0 && per_series_rows(plan).is_some() {
        // One row per series: its first or last row by an aggregation, without sorting the
        // rows (TSBS's lastpoint). Every column picks from the same row: one total order.
        let mut order = vec![order_column(plan, table).sort(true, true)];
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
        let order = vec![order_column(plan, table).sort(!plan.descending, true)];
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
    sort.push(order_column(plan, table).sort(ascending, true));
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
    let tiebreak = tiebreak_tags(plan, table);
    // Each tag of the series key (sorted): a GROUP BY tag (its index) or a tiebreak column.
    let key_parts: Vec<(&str, Result<usize, usize>)> = table
        .sort_key()
        .into_iter()
        .filter_map(|t| {
            if let Some(g) = plan.group_tags.iter().position(|g| g == t) {
                Some((t, Ok(g)))
            } else {
                tiebreak.iter().position(|s| *s == t).map(|j| (t, Err(j)))
            }
        })
        .collect();
    let mut keys: Vec<Vec<Arc<str>>> = Vec::new();
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
        // (The one-row-per-series path reads no tiebreak columns: it has no ties.)
        let others: Vec<StringArray> = (0..tiebreak.len())
            .filter_map(|j| batch.columns().get(1 + groups + plan.inputs.len() + j))
            .map(|c| {
                cast_arrow(c, &ArrowType::Utf8)?
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .cloned()
                    .ok_or_else(|| Error::Internal("tag is not a string".to_owned()))
            })
            .collect::<Result<_>>()?;
        let keyed = others.len() == tiebreak.len();
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
                keys.push(Vec::new());
            }
            if keyed && !tiebreak.is_empty() {
                let mut key = String::new();
                for (name, part) in &key_parts {
                    let value = match part {
                        Ok(g) => tags.get(*g).map(|a| a.value(row)),
                        Err(j) => others
                            .get(*j)
                            .filter(|a| a.is_valid(row))
                            .map(|a| a.value(row)),
                    };
                    if let Some(v) = value.filter(|v| !v.is_empty()) {
                        key.push(',');
                        escape_key_part(name, &mut key);
                        key.push('=');
                        escape_key_part(v, &mut key);
                    }
                }
                if let Some(k) = keys.last_mut() {
                    k.push(Arc::from(key));
                }
            }
            if let Some(s) = out.last_mut() {
                s.times.push(times.value(row));
                for (c, values) in s.cols.iter_mut().zip(&cols) {
                    c.push(values.get(row).cloned().unwrap_or(Value::Null));
                }
            }
        }
    }
    if !tiebreak.is_empty() {
        // 1.x's auxiliary fields: the inputs by name.
        let mut aux: Vec<usize> = (0..plan.inputs.len()).collect();
        aux.sort_by(|&a, &b| plan.inputs[a].name.cmp(&plan.inputs[b].name));
        let rows_descending = scan_limits(plan) && plan.descending;
        for (s, keys) in out.iter_mut().zip(&keys) {
            let tied = s.times.windows(2).any(|w| w[0] == w[1]);
            if !tied || keys.len() != s.times.len() {
                continue;
            }
            // A reducer's input has no auxiliary fields to break ties with.
            let columns: Vec<&[Value]> = if plan.aggregate {
                Vec::new()
            } else {
                aux.iter().map(|&i| s.cols[i].as_slice()).collect()
            };
            let mut order = merge_order(keys, &s.times, &columns, plan.descending, rows_descending);
            if plan.descending && !rows_descending {
                // The rows stay ascending here; the query's order reverses them later.
                order.reverse();
            }
            s.times = order.iter().map(|&i| s.times[i]).collect();
            for c in &mut s.cols {
                *c = order.iter().map(|&i| c[i].clone()).collect();
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(series: &[(&str, &[i64])], descending: bool) -> Vec<(i64, String)> {
        // Rows as the scan reads them: by time, then series key.
        let mut rows: Vec<(i64, Arc<str>)> = series
            .iter()
            .flat_map(|(k, ts)| ts.iter().map(move |&t| (t, Arc::from(*k))))
            .collect();
        rows.sort();
        let keys: Vec<Arc<str>> = rows.iter().map(|r| Arc::clone(&r.1)).collect();
        let times: Vec<i64> = rows.iter().map(|r| r.0).collect();
        merge_order(&keys, &times, &[], descending, false)
            .into_iter()
            .map(|i| (times[i], keys[i].to_string()))
            .collect()
    }

    /// Ties in time come as 1.x's heap merge gives them (InfluxDB 1.6's answers).
    #[test]
    fn ties_follow_1x_heap_merge() {
        let m: &[(&str, &[i64])] = &[
            ("", &[5, 45]),
            (",t=a", &[0, 10, 20, 30, 40]),
            (",t=a,u=x", &[50]),
            (",t=b", &[0, 15, 25, 35]),
            (",u=y", &[55]),
        ];
        let asc = order(m, false);
        assert_eq!(&asc[..2], &[(0, ",t=a".into()), (0, ",t=b".into())]);
        // Descending, the series are read in reverse, and the heap still puts t=a first.
        let desc = order(m, true);
        assert_eq!(desc[0], (55, ",u=y".into()));
        assert_eq!(&desc[11..], &[(0, ",t=a".into()), (0, ",t=b".into())]);
        let temps: &[(&str, &[i64])] = &[
            (",floor=1,room=kitchen", &[0, 300, 600]),
            (",room=attic", &[600]),
        ];
        assert_eq!(
            &order(temps, true)[..2],
            &[
                (600, ",room=attic".into()),
                (600, ",floor=1,room=kitchen".into())
            ]
        );
    }
}
