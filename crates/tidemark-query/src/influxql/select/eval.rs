//! A series' rows to result rows: raw rows, or windows of aggregates with fill, then
//! transformations, in time order.

use tidemark_influxql::Fill;

use super::super::value::Value;
use super::functions::{aggregate, integral_windows, math, transform, Point};
use super::holt_winters::forecast_points;
use super::plan::{AggFn, Ex, Interval, Plan, TransformFn};
use super::scan::Series;

/// One result row of a series.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) time: i64,
    pub(crate) values: Vec<Value>,
}

/// What an expression reads, for one row.
struct Cells<'a> {
    inputs: &'a [Vec<Value>],
    /// The input row raw references read (the selected point's row for selectors).
    row: Option<usize>,
    aggs: &'a [Value],
    transforms: &'a [Option<Value>],
}

fn eval(e: &Ex, c: &Cells<'_>) -> Value {
    match e {
        Ex::Input(i) => c
            .row
            .and_then(|r| c.inputs.get(*i).and_then(|col| col.get(r)))
            .cloned()
            .unwrap_or(Value::Null),
        Ex::Lit(v) => v.clone(),
        Ex::Bin(l, op, r) => eval(l, c).binary(*op, &eval(r, c)),
        Ex::Math(m, args) => {
            let args: Vec<Value> = args.iter().map(|a| eval(a, c)).collect();
            math(*m, &args)
        }
        Ex::Agg(i) => c.aggs.get(*i).cloned().unwrap_or(Value::Null),
        Ex::Transform(i) => c
            .transforms
            .get(*i)
            .cloned()
            .flatten()
            .unwrap_or(Value::Null),
    }
}

/// Applies the plan's transformations over `base` (one entry per row, in time order) and
/// evaluates the fields; without transformations every row is kept.
fn finish(
    plan: &Plan,
    times: &[i64],
    rows: &[(Option<usize>, Vec<Value>)],
    inputs: &[Vec<Value>],
    default_unit: i64,
) -> Vec<Row> {
    if let Some(t) = plan.transforms.first() {
        if let TransformFn::HoltWinters { h, m, fit } = t.func {
            // A forecast has rows of its own, past the data: it is the query's only field.
            let points: Vec<(i64, f64)> = rows
                .iter()
                .zip(times)
                .filter_map(|((row, aggs), &time)| {
                    let c = Cells {
                        inputs,
                        row: *row,
                        aggs,
                        transforms: &[],
                    };
                    eval(&t.inner, &c).as_f64().map(|v| (time, v))
                })
                .collect();
            return forecast_points(&points, h, m, fit, default_unit)
                .into_iter()
                .map(|(time, v)| Row {
                    time,
                    values: vec![Value::Float(v)],
                })
                .collect();
        }
    }
    let outputs: Vec<Vec<Option<Value>>> = plan
        .transforms
        .iter()
        .map(|t| {
            let inner: Vec<Value> = rows
                .iter()
                .map(|(row, aggs)| {
                    eval(
                        &t.inner,
                        &Cells {
                            inputs,
                            row: *row,
                            aggs,
                            transforms: &[],
                        },
                    )
                })
                .collect();
            if plan.descending {
                // 1.x transforms in the query's order: newest first.
                let times: Vec<i64> = times.iter().rev().copied().collect();
                let inner: Vec<Value> = inner.into_iter().rev().collect();
                let mut out = transform(t.func, &times, &inner, default_unit, true);
                out.reverse();
                out
            } else {
                transform(t.func, times, &inner, default_unit, false)
            }
        })
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    let mut cells: Vec<Option<Value>> = vec![None; outputs.len()];
    for (i, (row, aggs)) in rows.iter().enumerate() {
        for (k, o) in outputs.iter().enumerate() {
            cells[k] = o.get(i).cloned().flatten();
        }
        if !outputs.is_empty() && cells.iter().all(Option::is_none) {
            continue;
        }
        let c = Cells {
            inputs,
            row: *row,
            aggs,
            transforms: &cells,
        };
        out.push(Row {
            time: times.get(i).copied().unwrap_or(0),
            values: plan.fields.iter().map(|f| eval(&f.expr, &c)).collect(),
        });
    }
    out
}

/// The rows of a raw query.
pub(crate) fn raw(plan: &Plan, s: &Series) -> Vec<Row> {
    let rows: Vec<(Option<usize>, Vec<Value>)> =
        (0..s.times.len()).map(|i| (Some(i), Vec::new())).collect();
    finish(plan, &s.times, &rows, &s.cols, 1_000_000_000)
}

/// The windows of an aggregate query: `range` is the first and last window start when the
/// query groups by time.
pub(crate) fn aggregated(plan: &Plan, s: &Series, range: Option<(i64, i64)>) -> Vec<Row> {
    let n = s.times.len();
    // (window start, rows) of each window.
    let mut windows: Vec<(i64, std::ops::Range<usize>)> = Vec::new();
    match (plan.interval, range) {
        (Some(iv), Some((first, last))) => {
            let mut at = 0usize;
            let mut w = first;
            // Rows before the first window (outside the bounds) are skipped.
            while at < n && s.times[at] < first {
                at += 1;
            }
            while w <= last {
                let next = iv.next(w);
                let end_t = next.unwrap_or(i64::MAX);
                let start = at;
                while at < n && s.times[at] < end_t {
                    at += 1;
                }
                windows.push((w, start..at));
                match next {
                    Some(next) => w = next,
                    None => break,
                }
            }
        }
        _ => windows.push((plan.bounds.min.unwrap_or(0), 0..n)),
    }
    let multi = plan.aggs.iter().any(|a| a.func.is_multi());
    // 1.x integrates across window edges, interpolating at each edge: whole-series work.
    let integrals: Vec<Option<std::collections::HashMap<i64, f64>>> = plan
        .aggs
        .iter()
        .map(|a| match (&a.func, plan.interval) {
            (AggFn::Integral(unit), Some(iv)) => s
                .cols
                .get(a.input)
                .map(|values| integral_windows(&s.times, values, *unit, &iv)),
            _ => None,
        })
        .collect();
    let mut times = Vec::with_capacity(windows.len());
    let mut rows: Vec<(Option<usize>, Vec<Value>)> = Vec::with_capacity(windows.len());
    // 1.x's fill starts from the first point an aggregate gives: a series for which no
    // window gives one (percentile() ranks out of reach) shows nothing, not filled windows.
    let mut any_point = false;
    for (start, range) in windows {
        let points: Vec<Vec<Point>> = plan
            .aggs
            .iter()
            .zip(&integrals)
            .map(|(a, integral)| match integral {
                Some(areas) => areas.get(&start).map_or_else(Vec::new, |area| {
                    vec![Point {
                        time: start,
                        value: Value::Float(*area),
                        row: None,
                    }]
                }),
                None => aggregate(&a.func, &s.times, &s.cols, a.input, range.clone(), start),
            })
            .collect();
        if points.iter().all(Vec::is_empty) {
            // 1.x builds integral() without its fill iterator: a window where only integrals
            // are asked and none has an area is left out, whatever the fill.
            let fillable = plan
                .aggs
                .iter()
                .any(|a| !matches!(a.func, AggFn::Integral(_)));
            if plan.interval.is_some() && plan.fill != Fill::None && fillable {
                times.push(start);
                rows.push((None, vec![Value::Null; plan.aggs.len()]));
            }
            continue;
        }
        any_point = true;
        if multi {
            for p in points.first().into_iter().flatten() {
                times.push(if plan.point_time { p.time } else { start });
                rows.push((p.row, vec![p.value.clone()]));
            }
            continue;
        }
        let first = points.first().and_then(|p| p.first());
        times.push(match first {
            Some(p) if plan.point_time => p.time,
            _ => start,
        });
        rows.push((
            first.and_then(|p| p.row),
            points
                .iter()
                .map(|p| p.first().map_or(Value::Null, |p| p.value.clone()))
                .collect(),
        ));
    }
    if !any_point {
        return Vec::new();
    }
    if plan.interval.is_some() {
        fill(plan, &times, &mut rows);
    }
    let unit = plan.interval.map_or(1_000_000_000, |iv: Interval| iv.every);
    finish(plan, &times, &rows, &s.cols, unit)
}

/// The windows DataFusion aggregated (`found`, in time order), completed with the empty
/// windows of `range`, filled, and evaluated.
pub(crate) fn from_windows(
    plan: &Plan,
    found: Vec<(i64, Vec<Value>)>,
    range: Option<(i64, i64)>,
) -> Vec<Row> {
    let (mut times, mut rows) = (Vec::new(), Vec::new());
    match (plan.interval, range) {
        (Some(iv), Some((first, last))) => {
            let mut found = found.into_iter().peekable();
            let mut w = first;
            while w <= last {
                // Skip anything before this window (outside the range).
                while found.peek().is_some_and(|(t, _)| *t < w) {
                    found.next();
                }
                match found.next_if(|(t, _)| *t == w) {
                    Some((t, aggs)) => {
                        times.push(t);
                        rows.push((None, aggs));
                    }
                    None if plan.fill != Fill::None => {
                        times.push(w);
                        rows.push((None, vec![Value::Null; plan.aggs.len()]));
                    }
                    None => {}
                }
                match iv.next(w) {
                    Some(next) => w = next,
                    None => break,
                }
            }
            fill(plan, &times, &mut rows);
        }
        (Some(_), None) => {}
        (None, _) => {
            for (t, aggs) in found {
                times.push(t);
                rows.push((None, aggs));
            }
        }
    }
    let unit = plan.interval.map_or(1_000_000_000, |iv: Interval| iv.every);
    finish(plan, &times, &rows, &[], unit)
}

/// `fill(..)` over each aggregate's column of windows.
fn fill(plan: &Plan, times: &[i64], rows: &mut [(Option<usize>, Vec<Value>)]) {
    for (k, agg) in plan.aggs.iter().enumerate() {
        let is_count = matches!(agg.func, AggFn::Count | AggFn::CountDistinct);
        match &plan.fill {
            Fill::Null if is_count => fill_with(rows, k, &Value::Int(0)),
            Fill::Null | Fill::None => {}
            Fill::Integer(i) => fill_with(rows, k, &Value::Int(*i)),
            Fill::Float(f) => fill_with(rows, k, &Value::Float(*f)),
            Fill::Previous => {
                let mut last = Value::Null;
                for (_, v) in rows.iter_mut() {
                    match v.get_mut(k) {
                        Some(x) if x.is_null() => *x = last.clone(),
                        Some(x) => last = x.clone(),
                        None => {}
                    }
                }
            }
            Fill::Linear => linear(times, rows, k),
        }
    }
}

fn fill_with(rows: &mut [(Option<usize>, Vec<Value>)], k: usize, v: &Value) {
    for (_, values) in rows.iter_mut() {
        if let Some(x) = values.get_mut(k) {
            if x.is_null() {
                *x = v.clone();
            }
        }
    }
}

/// Linear interpolation between the known windows around each gap.
fn linear(times: &[i64], rows: &mut [(Option<usize>, Vec<Value>)], k: usize) {
    let known: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].1.get(k).is_some_and(|v| !v.is_null()))
        .collect();
    for pair in known.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (va, vb) = (rows[a].1[k].clone(), rows[b].1[k].clone());
        let (Some(xa), Some(xb)) = (va.as_f64(), vb.as_f64()) else {
            continue;
        };
        let (ta, tb) = (times[a] as f64, times[b] as f64);
        for i in a + 1..b {
            let x = xa + (xb - xa) * (times[i] as f64 - ta) / (tb - ta);
            rows[i].1[k] = match (&va, &vb) {
                (Value::Int(_), Value::Int(_)) => Value::Int(x as i64),
                (Value::UInt(_), Value::UInt(_)) => Value::UInt(x as u64),
                _ => Value::Float(x),
            };
        }
    }
}
