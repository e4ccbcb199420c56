//! InfluxQL's functions over the points of one window (aggregates and selectors), over the
//! rows of one series (transformations), and over single values (math).

use std::cmp::Ordering;
use std::collections::HashMap;

use super::super::value::Value;
use super::gosort;
use super::plan::{AggFn, Math, TransformFn};
use super::technical::Indicator;

/// A point a function gives: its time, value, and the row it came from (for selectors, whose
/// companion fields and tags are read from that row).
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub(crate) time: i64,
    pub(crate) value: Value,
    pub(crate) row: Option<usize>,
}

/// `func` over rows `rows` of a series, whose inputs are `cols` and times `times`; `input`
/// is the aggregated column. Null values are not points.
pub(crate) fn aggregate(
    func: &AggFn,
    times: &[i64],
    cols: &[Vec<Value>],
    input: usize,
    rows: std::ops::Range<usize>,
    window: i64,
) -> Vec<Point> {
    let Some(values) = cols.get(input) else {
        return Vec::new();
    };
    let pts: Vec<(i64, &Value, usize)> = rows
        .filter_map(|i| {
            let v = values.get(i)?;
            (!v.is_null()).then(|| (times.get(i).copied().unwrap_or(0), v, i))
        })
        .collect();
    if pts.is_empty() {
        return Vec::new();
    }
    let one = |value: Value| {
        vec![Point {
            time: window,
            value,
            row: None,
        }]
    };
    let numbers = || pts.iter().filter_map(|(_, v, _)| v.as_f64());
    let pick = |i: usize| {
        let (t, v, r) = pts[i];
        vec![Point {
            time: t,
            value: v.clone(),
            row: Some(r),
        }]
    };
    match func {
        AggFn::Count => one(Value::Int(pts.len() as i64)),
        AggFn::CountDistinct => {
            let mut vs: Vec<&Value> = pts.iter().map(|(_, v, _)| *v).collect();
            vs.sort_by(|a, b| a.total_cmp(b));
            vs.dedup_by(|a, b| a.total_cmp(b) == Ordering::Equal);
            one(Value::Int(vs.len() as i64))
        }
        AggFn::Mean => {
            let (sum, n) = numbers().fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
            if n == 0 {
                return Vec::new();
            }
            one(Value::Float(sum / n as f64))
        }
        AggFn::Sum => one(pts.iter().skip(1).fold(pts[0].1.clone(), |acc, (_, v, _)| {
            acc.binary(tidemark_influxql::BinaryOp::Add, v)
        })),
        AggFn::Median => {
            let mut xs: Vec<f64> = numbers().collect();
            if xs.is_empty() {
                return Vec::new();
            }
            xs.sort_by(f64::total_cmp);
            let n = xs.len();
            let m = if n % 2 == 1 {
                xs[n / 2]
            } else {
                (xs[n / 2 - 1] + xs[n / 2]) / 2.0
            };
            one(Value::Float(m))
        }
        AggFn::Mode => one(mode(&pts)),
        AggFn::Spread => {
            let max = pts.iter().map(|p| p.1).max_by(|a, b| a.total_cmp(b));
            let min = pts.iter().map(|p| p.1).min_by(|a, b| a.total_cmp(b));
            match (max, min) {
                (Some(a), Some(b)) => one(a.binary(tidemark_influxql::BinaryOp::Sub, b)),
                _ => Vec::new(),
            }
        }
        AggFn::Stddev => {
            let xs: Vec<f64> = numbers().collect();
            if xs.len() < 2 {
                return one(Value::Null);
            }
            // 1.x's running mean, then the squares around it: the last digits follow it.
            let mut mean = 0.0;
            for (n, x) in xs.iter().enumerate() {
                mean += (x - mean) / (n + 1) as f64;
            }
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len() - 1) as f64;
            one(Value::Float(var.sqrt()))
        }
        AggFn::Distinct => {
            // 1.x lists each value once, in the order the points first show it.
            let mut first: Vec<usize> = (0..pts.len()).collect();
            first.sort_by(|&a, &b| pts[a].1.total_cmp(pts[b].1).then(a.cmp(&b)));
            first.dedup_by(|a, b| pts[*a].1.total_cmp(pts[*b].1) == Ordering::Equal);
            first.sort_unstable();
            first
                .into_iter()
                .map(|i| Point {
                    time: window,
                    value: pts[i].1.clone(),
                    row: None,
                })
                .collect()
        }
        AggFn::Integral(unit) => {
            let mut area = 0.0;
            for w in pts.windows(2) {
                let (t0, v0, _) = w[0];
                let (t1, v1, _) = w[1];
                if let (Some(a), Some(b)) = (v0.as_f64(), v1.as_f64()) {
                    area += (a + b) / 2.0 * (t1 as f64 - t0 as f64) / *unit as f64;
                }
            }
            one(Value::Float(area))
        }
        // 1.x breaks ties in time by the larger value.
        AggFn::First => {
            let mut best = 0;
            for (i, p) in pts.iter().enumerate() {
                let b = pts[best];
                if p.0 < b.0 || (p.0 == b.0 && p.1.total_cmp(b.1) == Ordering::Greater) {
                    best = i;
                }
            }
            pick(best)
        }
        AggFn::Last => {
            let mut best = 0;
            for (i, p) in pts.iter().enumerate() {
                let b = pts[best];
                if p.0 > b.0 || (p.0 == b.0 && p.1.total_cmp(b.1) == Ordering::Greater) {
                    best = i;
                }
            }
            pick(best)
        }
        AggFn::Max | AggFn::Min => {
            let want = if *func == AggFn::Max {
                Ordering::Greater
            } else {
                Ordering::Less
            };
            let mut best = 0;
            for (i, p) in pts.iter().enumerate() {
                if p.1.total_cmp(pts[best].1) == want {
                    best = i;
                }
            }
            pick(best)
        }
        AggFn::Percentile(p) => {
            let i = (pts.len() as f64 * p / 100.0 + 0.5).floor() as i64 - 1;
            let Some(i) = usize::try_from(i).ok().filter(|&i| i < pts.len()) else {
                return Vec::new();
            };
            // Which of equal values lands at the rank (and so the time answered) is the one
            // Go's unstable sort puts there.
            let mut order: Vec<usize> = (0..pts.len()).collect();
            gosort::sort(&mut order, |&a, &b| {
                pts[a].1.total_cmp(pts[b].1) == Ordering::Less
            });
            pick(order[i])
        }
        AggFn::Top(n, tags) | AggFn::Bottom(n, tags) => {
            let top = matches!(func, AggFn::Top(..));
            let better = |a: usize, b: usize| -> bool {
                let c = pts[a].1.total_cmp(pts[b].1);
                let c = if top { c } else { c.reverse() };
                c == Ordering::Greater || (c == Ordering::Equal && pts[a].0 < pts[b].0)
            };
            let mut candidates: Vec<usize> = if tags.is_empty() {
                (0..pts.len()).collect()
            } else {
                // The best point of each combination of the tag arguments.
                let mut best: HashMap<Vec<String>, usize> = HashMap::new();
                for (i, pt) in pts.iter().enumerate() {
                    let key: Vec<String> = tags
                        .iter()
                        .map(|&t| match cols.get(t).and_then(|c| c.get(pt.2)) {
                            Some(Value::Str(s)) => s.to_string(),
                            _ => String::new(),
                        })
                        .collect();
                    match best.get(&key) {
                        Some(&b) if !better(i, b) => {}
                        _ => {
                            best.insert(key, i);
                        }
                    }
                }
                best.into_values().collect()
            };
            candidates.sort_by(|&a, &b| {
                if better(a, b) {
                    Ordering::Less
                } else if better(b, a) {
                    Ordering::Greater
                } else {
                    Ordering::Equal
                }
            });
            candidates.truncate(*n);
            // By time; points at the same time stay best first (1.x sorts the heap's points by
            // value, then stably by time).
            candidates.sort_by_key(|&i| pts[i].0);
            candidates.into_iter().flat_map(pick).collect()
        }
        AggFn::Sample(n) => {
            let mut chosen: Vec<usize> = (0..pts.len().min(*n)).collect();
            // Reservoir sampling with a fixed seed, so a query answers the same each time.
            let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
            for i in *n..pts.len() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let j = (state % (i as u64 + 1)) as usize;
                if j < *n {
                    chosen[j] = i;
                }
            }
            chosen.sort_unstable();
            chosen.into_iter().flat_map(pick).collect()
        }
    }
}

/// A transformation over a series' values in time order, aligned with them: `None` where the
/// transformation gives no point.
///
/// With `descending` the values come newest first, as 1.x feeds them for `ORDER BY time
/// DESC`: a derivative then divides by the positive time between the points.
pub(crate) fn transform(
    func: TransformFn,
    times: &[i64],
    values: &[Value],
    default_unit: i64,
    descending: bool,
) -> Vec<Option<Value>> {
    use tidemark_influxql::BinaryOp;
    let mut out = vec![None; values.len()];
    let mut prev: Option<(i64, &Value)> = None;
    let mut sum: Option<Value> = None;
    let mut window: std::collections::VecDeque<f64> = std::collections::VecDeque::new();
    let mut indicator: Option<Indicator> = None;
    let mut count = 0usize;
    for (i, v) in values.iter().enumerate() {
        if v.is_null() {
            continue;
        }
        let t = times.get(i).copied().unwrap_or(0);
        out[i] = match func {
            TransformFn::Derivative { unit, non_negative } => match prev {
                Some((t0, v0)) if t != t0 => {
                    let unit = unit.unwrap_or(default_unit) as f64;
                    match (v.as_f64(), v0.as_f64()) {
                        (Some(a), Some(b)) => {
                            let dt = if descending {
                                t0 as f64 - t as f64
                            } else {
                                t as f64 - t0 as f64
                            };
                            let d = (a - b) / (dt / unit);
                            (!non_negative || d >= 0.0).then_some(Value::Float(d))
                        }
                        _ => None,
                    }
                }
                _ => None,
            },
            TransformFn::Difference { non_negative } => match prev {
                Some((_, v0)) => {
                    let d = v.binary(BinaryOp::Sub, v0);
                    let negative = d.as_f64().is_some_and(|x| x < 0.0);
                    (!(non_negative && negative)).then_some(d)
                }
                None => None,
            },
            TransformFn::MovingAverage(n) => {
                window.push_back(v.as_f64().unwrap_or(0.0));
                if window.len() > n {
                    window.pop_front();
                }
                (window.len() == n).then(|| Value::Float(window.iter().sum::<f64>() / n as f64))
            }
            TransformFn::CumulativeSum => {
                let next = match &sum {
                    None => v.clone(),
                    Some(s) => s.binary(BinaryOp::Add, v),
                };
                sum = Some(next.clone());
                Some(next)
            }
            TransformFn::Technical {
                kind,
                period,
                hold,
                simple_warmup,
            } => {
                let ind =
                    indicator.get_or_insert_with(|| Indicator::new(kind, period, simple_warmup));
                let hold = hold.unwrap_or_else(|| ind.warm_count());
                count += 1;
                let x = ind.add(v.as_f64().unwrap_or(0.0));
                (count > hold && !(kind.hides_infinite() && x.is_infinite()))
                    .then_some(Value::Float(x))
            }
            // Forecasts replace the rows (see `eval::finish`); nothing aligns with a row.
            TransformFn::HoltWinters { .. } => None,
            TransformFn::Elapsed(unit) => {
                prev.map(|(t0, _)| Value::Int(t.saturating_sub(t0) / unit.max(1)))
            }
        };
        prev = Some((t, v));
    }
    out
}

/// A math function; null (or a non-number) in, null out.
pub(crate) fn math(m: Math, args: &[Value]) -> Value {
    let first = args.first().unwrap_or(&Value::Null);
    // Integer-preserving functions.
    match (m, first) {
        (Math::Abs, Value::Int(i)) => return Value::Int(i.wrapping_abs()),
        (Math::Abs | Math::Floor | Math::Ceil | Math::Round, Value::UInt(u)) => {
            return Value::UInt(*u)
        }
        (Math::Floor | Math::Ceil | Math::Round, Value::Int(i)) => return Value::Int(*i),
        _ => {}
    }
    let Some(x) = first.as_f64() else {
        return Value::Null;
    };
    let y = args.get(1).and_then(Value::as_f64);
    let r = match m {
        Math::Abs => x.abs(),
        Math::Sin => x.sin(),
        Math::Cos => x.cos(),
        Math::Tan => x.tan(),
        Math::Asin => x.asin(),
        Math::Acos => x.acos(),
        Math::Atan => x.atan(),
        Math::Exp => x.exp(),
        Math::Ln => x.ln(),
        Math::Log2 => x.log2(),
        Math::Log10 => x.log10(),
        Math::Sqrt => x.sqrt(),
        Math::Floor => x.floor(),
        Math::Ceil => x.ceil(),
        Math::Round => x.round(),
        Math::Atan2 | Math::Log | Math::Pow => {
            let Some(y) = y else {
                return Value::Null;
            };
            match m {
                Math::Atan2 => x.atan2(y),
                Math::Log => x.ln() / y.ln(),
                _ => x.powf(y),
            }
        }
    };
    Value::Float(r)
}

/// 1.x's `mode()` of a window's points (time, value, row), in the order they came.
///
/// Booleans: true unless false is more frequent. Other values: sorted by value with Go's
/// unstable sort, the longest run wins; between runs of equal length, a later (larger) run
/// wins unless its first point (in sorted order) is later than the point at which the
/// earlier winner reached that length. With all values distinct, that is the smallest.
fn mode(pts: &[(i64, &Value, usize)]) -> Value {
    if let [(_, v, _)] = pts {
        return (*v).clone();
    }
    if pts.iter().all(|(_, v, _)| matches!(v, Value::Bool(_))) {
        let trues = pts
            .iter()
            .filter(|(_, v, _)| matches!(v, Value::Bool(true)))
            .count();
        return Value::Bool(trues * 2 >= pts.len());
    }
    let mut sorted: Vec<(i64, &Value)> = pts.iter().map(|(t, v, _)| (*t, *v)).collect();
    gosort::sort(&mut sorted, |a, b| a.1.total_cmp(b.1) == Ordering::Less);
    let Some(&(t0, v0)) = sorted.first() else {
        return Value::Null;
    };
    let (mut most_freq, mut curr_freq) = (0usize, 0usize);
    let (mut curr_mode, mut most_mode) = (v0, v0);
    let (mut most_time, mut curr_time) = (t0, t0);
    for &(t, v) in &sorted {
        if v.total_cmp(curr_mode) != Ordering::Equal {
            curr_freq = 1;
            curr_mode = v;
            curr_time = t;
            continue;
        }
        curr_freq += 1;
        if most_freq > curr_freq || (most_freq == curr_freq && curr_time > most_time) {
            continue;
        }
        most_freq = curr_freq;
        most_mode = v;
        most_time = t;
    }
    most_mode.clone()
}

/// 1.x's integral with GROUP BY time: the trapezoids of the whole series, cut at each window's
/// end by interpolating there, so the area between a window's last point and the next
/// window's first point is shared by the two. Gives each window's area by its start.
pub(crate) fn integral_windows(
    times: &[i64],
    values: &[Value],
    unit: i64,
    iv: &super::plan::Interval,
) -> std::collections::HashMap<i64, f64> {
    let mut out = std::collections::HashMap::new();
    let unit = unit.max(1) as f64;
    let mut prev: Option<(i64, f64)> = None;
    let (mut start, mut end) = (0i64, 0i64);
    let mut sum = 0.0;
    for (&t, v) in times.iter().zip(values) {
        let Some(v) = v.as_f64() else {
            continue;
        };
        let Some((mut pt, mut pv)) = prev else {
            prev = Some((t, v));
            start = iv.window(t);
            end = iv.next(start).unwrap_or(i64::MAX);
            continue;
        };
        if pt == t {
            prev = Some((t, v));
            continue;
        }
        if t >= end {
            if pt != end {
                let at_end = pv + (v - pv) * ((end as f64 - pt as f64) / (t as f64 - pt as f64));
                sum += 0.5 * (at_end + pv) * ((end as f64 - pt as f64) / unit);
                pv = at_end;
                pt = end;
            }
            out.insert(start, sum);
            start = iv.window(t);
            end = iv.next(start).unwrap_or(i64::MAX);
            sum = 0.0;
        }
        sum += 0.5 * (v + pv) * ((t as f64 - pt as f64) / unit);
        prev = Some((t, v));
    }
    if prev.is_some_and(|(pt, _)| pt != start) {
        out.insert(start, sum);
    }
    out
}
