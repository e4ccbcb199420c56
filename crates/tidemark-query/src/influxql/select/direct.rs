//! The direct path of a SELECT: the same windows as `pushdown.rs` and the same series as
//! `scan.rs`, computed from the cached series indexes and column chunks of `crate::direct`
//! instead of a DataFusion plan. It answers the small repeated queries of dashboards in
//! microseconds rather than milliseconds.
//!
//! It applies when the measurement's rows in range are all persisted in files that no
//! series overlaps across (nothing to de-duplicate), the condition compiles
//! (`direct_pred.rs`), and:
//! - for an aggregate query DataFusion would compute: every aggregate is count, sum, mean,
//!   min, max, first, last or spread over an integer or float field;
//! - for a raw query: each series group holds one series (so no ties between series to order).
//!
//! Otherwise [`read`] answers `None` and the DataFusion path runs; its answers are the
//! reference, and `tests/direct.rs` checks the two agree.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, UInt64Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::TimestampNanosecondType;
use tidemark_catalog::{ColumnKind, FieldType};
use tidemark_influxql::{DataType, Fill};
use tidemark_storage::schema::{TableSchema, TIME_COLUMN};

use super::super::value::{column_values, Value};
use super::super::{DirectSource, Env};
use super::direct_acc::Acc;
use super::direct_pred::{Col, Compiled, Tri};
use super::plan::{AggFn, Plan};
use super::pushdown::Windows;
use super::scan::{self, Series};
use crate::direct::{FileIndex, Loaded, PieceKey};
use crate::error::Result;

/// What the direct path read: windows (aggregates) or series (raw rows).
pub(crate) enum Read {
    Windows(Vec<Windows>),
    Series(Vec<Series>),
}

/// More windows than this in one group go to DataFusion, which does not hold them all.
const MAX_DENSE_WINDOWS: i64 = 1 << 20;

/// One selected series in one file, with its tags by condition slot.
#[derive(Debug, Clone)]
struct Pick {
    file: usize,
    run: usize,
    check_rows: bool,
}

/// Reads `table` for `plan` directly, or `None` when the DataFusion path must.
pub(crate) async fn read(
    env: &mut Env,
    plan: &Plan,
    table: &TableSchema,
    pushed: bool,
) -> Result<Option<Read>> {
    let Some(src) = env.direct.clone() else {
        return Ok(None);
    };
    if !src.cache.enabled() || plan.providers.contains_key(&table.name) {
        return Ok(None);
    }
    if pushed {
        if !aggregates_apply(plan, table) {
            return Ok(None);
        }
    } else if plan.aggregate {
        return Ok(None);
    }
    let Some(cond) = Compiled::new(plan.rest.as_ref(), table) else {
        return Ok(None);
    };
    let lo = plan.bounds.min.unwrap_or(i64::MIN);
    let hi = plan.bounds.max.unwrap_or(i64::MAX);
    // Only whether the buffer has rows in range matters here: they are not read directly.
    let Some(data) = src.engine.table_files(src.bucket, &table.name, lo, hi)? else {
        return Ok(Some(empty(pushed)));
    };
    if data.buffered {
        return Ok(None);
    }
    let lo = lo.max(data.min_time);
    let indexes = match &env.inline {
        // Reading a file's tag columns takes milliseconds: not on the caller's thread.
        Some(inline) => src
            .cache
            .cached_indexes(&data.files)
            .ok_or_else(|| inline.decline())?,
        None => src.cache.indexes(&data.files).await?,
    };
    if !src.cache.overlap_free(&indexes) {
        return Ok(None);
    }

    // Series, by group: tag tests decided per series, before reading any row.
    let mut groups: BTreeMap<Vec<Arc<str>>, Vec<Pick>> = BTreeMap::new();
    for (f, index) in indexes.iter().enumerate() {
        let cond_pos: Vec<Option<usize>> =
            cond.tags.iter().map(|t| index.tag_position(t)).collect();
        let group_pos: Vec<Option<usize>> = plan
            .group_tags
            .iter()
            .map(|t| match table.column(t) {
                Some((_, ColumnKind::Tag)) => index.tag_position(t),
                _ => None,
            })
            .collect();
        for (r, run) in index.runs.iter().enumerate() {
            if run.max_time < lo || run.min_time > hi {
                continue;
            }
            let tags = tag_values(&run.key, &cond_pos);
            let check_rows = match cond.pred.series(&tags) {
                Tri::False => continue,
                Tri::True => false,
                Tri::Rows => true,
            };
            let key: Vec<Arc<str>> = group_pos
                .iter()
                .map(|p| {
                    p.and_then(|p| run.key.get(p).cloned().flatten())
                        .unwrap_or_else(|| Arc::from(""))
                })
                .collect();
            groups.entry(key).or_default().push(Pick {
                file: f,
                run: r,
                check_rows,
            });
        }
    }

    let scope = Scope {
        plan,
        table,
        cond: &cond,
        indexes: &indexes,
        lo: newest_windows(plan).map_or(lo, |first| first.max(lo)),
        hi,
        pushed,
    };
    // `last` alone (or `first`), without windows or a condition on rows: a series' answer is
    // in the newest (oldest) of its files with a value in range, since its files hold
    // disjoint times. So that file is read alone first, and the rest only for a group it
    // leaves without a value: lastpoint reads one of a day's 5–6 files.
    if let Some(newest) = lone_selector(plan, &groups) {
        let narrowed = narrow(&indexes, &groups, newest);
        if narrowed.len() == groups.len() {
            if let Some(Read::Windows(out)) = scope.compute(env, &src, &narrowed).await? {
                let complete = out.len() == narrowed.len()
                    && out
                        .iter()
                        .all(|w| w.rows.iter().all(|(_, v)| !v.iter().any(Value::is_null)));
                if complete {
                    src.answered.add();
                    return Ok(Some(Read::Windows(out)));
                }
            }
        }
    }
    let mut read = scope.compute(env, &src, &groups).await?;
    // A group with no row in the newest windows still shows them (filled), so it needs the
    // rest of the range read to exist: such a query reads the whole range.
    if scope.lo > lo && matches!(&read, Some(Read::Windows(w)) if w.len() < groups.len()) {
        read = Scope { lo, ..scope }.compute(env, &src, &groups).await?;
    }
    if read.is_some() {
        src.answered.add();
    }
    Ok(read)
}

/// `ORDER BY time DESC LIMIT n` over windows that fill with null or a number shows only the
/// newest `offset + n` windows of the range, whatever rows come before them: the start of the
/// oldest of those, when that is all a query shows (groupby-orderby-limit reads 5 minutes of
/// an hour). Other fills, and transforms, look at earlier windows; without both bounds, the
/// windows depend on the data.
fn newest_windows(plan: &Plan) -> Option<i64> {
    let iv = plan.interval?;
    let hi = plan.bounds.max?;
    plan.bounds.min?;
    let fills = matches!(plan.fill, Fill::Null | Fill::Integer(_) | Fill::Float(_));
    if !plan.descending
        || plan.limit == 0
        || !fills
        || !plan.transforms.is_empty()
        || plan.clock.tz.is_some()
    {
        return None;
    }
    let shown = i64::try_from(plan.offset.checked_add(plan.limit)?).ok()?;
    Some(
        iv.window(hi)
            .saturating_sub(shown.saturating_sub(1).saturating_mul(iv.every)),
    )
}

/// Whether every aggregate is `last` (`Some(true)`) or every one `first` (`Some(false)`),
/// with no windows and no row to test.
fn lone_selector(plan: &Plan, groups: &BTreeMap<Vec<Arc<str>>, Vec<Pick>>) -> Option<bool> {
    if plan.interval.is_some() || groups.values().flatten().any(|p| p.check_rows) {
        return None;
    }
    let all = |f: AggFn| !plan.aggs.is_empty() && plan.aggs.iter().all(|a| a.func == f);
    if all(AggFn::Last) {
        Some(true)
    } else if all(AggFn::First) {
        Some(false)
    } else {
        None
    }
}

/// Each group's newest (or oldest) pick, for the groups of one series; a group of several
/// series is left out, which the caller takes as "not narrowed".
fn narrow(
    indexes: &[Arc<FileIndex>],
    groups: &BTreeMap<Vec<Arc<str>>, Vec<Pick>>,
    newest: bool,
) -> BTreeMap<Vec<Arc<str>>, Vec<Pick>> {
    let run = |p: &Pick| indexes.get(p.file).and_then(|i| i.runs.get(p.run));
    let mut out = BTreeMap::new();
    for (key, picks) in groups {
        let Some((first, rest)) = picks.split_first() else {
            continue;
        };
        let Some(series) = run(first) else {
            continue;
        };
        let one_series = rest.iter().all(|p| {
            indexes[p.file].tags == indexes[first.file].tags
                && run(p).is_some_and(|r| r.key == series.key)
        });
        if !one_series {
            continue;
        }
        let best = picks.iter().max_by_key(|p| {
            run(p).map_or(i64::MIN, |r| if newest { r.max_time } else { -r.min_time })
        });
        if let Some(best) = best {
            out.insert(key.clone(), vec![best.clone()]);
        }
    }
    out
}

/// What a read computes its groups within.
struct Scope<'a> {
    plan: &'a Plan,
    table: &'a TableSchema,
    cond: &'a Compiled,
    indexes: &'a [Arc<FileIndex>],
    lo: i64,
    hi: i64,
    pushed: bool,
}

impl Scope<'_> {
    /// Reads the columns of `groups`' picks and computes each group; `None` when the
    /// DataFusion path must.
    async fn compute(
        &self,
        env: &mut Env,
        src: &DirectSource,
        groups: &BTreeMap<Vec<Arc<str>>, Vec<Pick>>,
    ) -> Result<Option<Read>> {
        let (plan, table, cond, indexes) = (self.plan, self.table, self.cond, self.indexes);
        // The columns each file must give, for the row groups its picked series span.
        let mut columns: Vec<&str> = vec![TIME_COLUMN];
        columns.extend(cond.fields.iter().map(String::as_str));
        if self.pushed {
            columns.extend(
                plan.aggs
                    .iter()
                    .filter_map(|a| field_name(plan, table, a.input)),
            );
        } else {
            columns.extend(
                plan.inputs
                    .iter()
                    .filter(|i| {
                        matches!(
                            scan::resolve(table, &i.name, i.cast),
                            Some(ColumnKind::Field(_))
                        )
                    })
                    .map(|i| i.name.as_str()),
            );
        }
        columns.sort_unstable();
        columns.dedup();
        let mut wanted: Vec<Vec<(usize, usize)>> = vec![Vec::new(); indexes.len()];
        for p in groups.values().flatten() {
            if let Some(run) = indexes[p.file].runs.get(p.run) {
                wanted[p.file].push(indexes[p.file].rows_within(run, self.lo, self.hi));
            }
        }
        // The whole read must fit in half the cache, or it would evict everything else (and
        // itself, file by file): such a query is better streamed by DataFusion.
        let rows: usize = wanted.iter().flatten().map(|(s, e)| e - s).sum();
        if !src
            .cache
            .affordable(rows.saturating_mul(8).saturating_mul(columns.len()))
        {
            return Ok(None);
        }
        if let Some(inline) = &env.inline {
            if rows.saturating_mul(columns.len()) > inline.values {
                return Err(inline.decline());
            }
        }
        let mut loaded: Vec<Option<Loaded>> = Vec::with_capacity(indexes.len());
        for (index, runs) in indexes.iter().zip(wanted) {
            if runs.is_empty() {
                loaded.push(None);
                continue;
            }
            loaded.push(Some(src.cache.load(index, &runs, &columns).await?));
        }
        let ctx = Ctx {
            plan,
            table,
            cond,
            loaded: &loaded,
            lo: self.lo,
            hi: self.hi,
        };
        let measurement: Arc<str> = Arc::from(table.name.as_str());
        if self.pushed {
            let mut out = Vec::new();
            for (key, picks) in groups {
                let Some(rows) = ctx.windows(picks) else {
                    return Ok(None);
                };
                env.reserve(rows.len() * (24 + plan.aggs.len() * 32))?;
                if !rows.is_empty() {
                    out.push(Windows {
                        measurement: Arc::clone(&measurement),
                        tags: key.clone(),
                        rows,
                    });
                }
            }
            return Ok(Some(Read::Windows(out)));
        }
        let mut out = Vec::new();
        for (key, picks) in groups {
            let Some(series) = ctx.series(&measurement, key.clone(), picks)? else {
                return Ok(None);
            };
            env.reserve(series.times.len() * (16 + plan.inputs.len() * 32))?;
            if !series.times.is_empty() {
                out.push(series);
            }
        }
        Ok(Some(Read::Series(out)))
    }
}

fn empty(pushed: bool) -> Read {
    if pushed {
        Read::Windows(Vec::new())
    } else {
        Read::Series(Vec::new())
    }
}

fn tag_values<'a>(key: &'a [Option<Arc<str>>], positions: &[Option<usize>]) -> Vec<&'a str> {
    positions
        .iter()
        .map(|p| {
            p.and_then(|p| key.get(p))
                .and_then(|v| v.as_deref())
                .unwrap_or("")
        })
        .collect()
}

/// The field an aggregate reads in `table`, when it is one.
fn field_name<'p>(plan: &'p Plan, table: &TableSchema, input: usize) -> Option<&'p str> {
    let name = plan.inputs.get(input)?.name.as_str();
    matches!(table.column(name), Some((_, ColumnKind::Field(_)))).then_some(name)
}

/// Whether the direct path computes every aggregate ([`Acc::computes`]), over a number field
/// (or over a name the table lacks, which aggregates nothing).
fn aggregates_apply(plan: &Plan, table: &TableSchema) -> bool {
    plan.aggs.iter().all(|a| {
        Acc::computes(&a.func)
            && plan.inputs.get(a.input).is_some_and(|i| {
                matches!(i.cast, None | Some(DataType::Field))
                    && !matches!(
                        table.column(&i.name),
                        Some((_, k)) if !matches!(k, ColumnKind::Field(FieldType::Integer | FieldType::Float))
                    )
            })
    })
}

/// What a read shares across groups.
struct Ctx<'a> {
    plan: &'a Plan,
    table: &'a TableSchema,
    cond: &'a Compiled,
    loaded: &'a [Option<Loaded>],
    lo: i64,
    hi: i64,
}

/// The rows of one row group a pick covers within the time bounds: (row group, first, end).
type Piece = (PieceKey, usize, usize);

impl Ctx<'_> {
    fn file(&self, p: &Pick) -> Option<(&Loaded, &FileIndex)> {
        let l = self.loaded.get(p.file)?.as_ref()?;
        Some((l, &l.index))
    }

    /// The pieces of `p`'s run whose times are within the bounds (a binary search per piece).
    fn pieces(&self, p: &Pick) -> Vec<(Piece, ArrayRef)> {
        let Some((l, index)) = self.file(p) else {
            return Vec::new();
        };
        let Some(run) = index.runs.get(p.run) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let (start, end) = index.rows_within(run, self.lo, self.hi);
        for (g, s, e) in l.pieces(start, end) {
            let Some(time) = l.chunk(g, TIME_COLUMN) else {
                continue;
            };
            let Some(times) = time.as_primitive_opt::<TimestampNanosecondType>() else {
                continue;
            };
            // A series wholly within the bounds needs no search (each probe of a search in a
            // large cache is a cache miss: lastpoint over 1,000 series in 6 files).
            let (a, b) = if run.min_time >= self.lo && run.max_time <= self.hi {
                (s, e)
            } else {
                let t = &times.values()[s..e];
                (
                    s + t.partition_point(|&x| x < self.lo),
                    s + t.partition_point(|&x| x <= self.hi),
                )
            };
            if a < b {
                out.push(((g, a, b), Arc::clone(time)));
            }
        }
        out
    }

    /// The condition's tags for `p`'s series.
    fn cond_tags(&self, p: &Pick) -> Vec<&str> {
        let Some((_, index)) = self.file(p) else {
            return Vec::new();
        };
        let positions: Vec<Option<usize>> = self
            .cond
            .tags
            .iter()
            .map(|t| index.tag_position(t))
            .collect();
        index
            .runs
            .get(p.run)
            .map_or_else(Vec::new, |run| tag_values(&run.key, &positions))
    }

    fn cond_fields<'l>(&self, l: &'l Loaded, g: PieceKey) -> Vec<Col<'l>> {
        self.cond
            .fields
            .iter()
            .map(|f| Col::of(l.chunk(g, f)))
            .collect()
    }

    /// One group's windows, as `pushdown::scan` gives them; `None` when too many.
    fn windows(&self, picks: &[Pick]) -> Option<Vec<(i64, Vec<Value>)>> {
        let plan = self.plan;
        let inputs: Vec<Option<&str>> = plan
            .aggs
            .iter()
            .map(|a| field_name(plan, self.table, a.input))
            .collect();
        let ints: Vec<bool> = inputs
            .iter()
            .map(|n| {
                n.and_then(|n| self.table.column(n)).map(|(_, k)| k)
                    == Some(ColumnKind::Field(FieldType::Integer))
            })
            .collect();
        // The group's time span decides its windows.
        let (mut tmin, mut tmax) = (i64::MAX, i64::MIN);
        for p in picks {
            if let Some(run) = self.file(p).and_then(|(_, i)| i.runs.get(p.run)) {
                tmin = tmin.min(run.min_time.max(self.lo));
                tmax = tmax.max(run.max_time.min(self.hi));
            }
        }
        if tmin > tmax {
            return Some(Vec::new());
        }
        let (first, every, count) = match plan.interval {
            Some(iv) => {
                let first = iv.window(tmin);
                let count = (iv.window(tmax) - first) / iv.every + 1;
                if count > MAX_DENSE_WINDOWS {
                    return None;
                }
                (first, iv.every, count as usize)
            }
            None => (0, 1, 1),
        };
        let k = plan.aggs.len();
        let mut accs = vec![Acc::default(); count * k];
        for p in picks {
            let Some((l, _)) = self.file(p) else {
                continue;
            };
            let tags = if p.check_rows {
                self.cond_tags(p)
            } else {
                Vec::new()
            };
            for ((g, a, b), time) in self.pieces(p) {
                let Some(times) = time.as_primitive_opt::<TimestampNanosecondType>() else {
                    continue;
                };
                let times = times.values();
                let fields = self.cond_fields(l, g);
                // Rows the condition keeps, and each row's window, decided once per piece.
                let keep: Option<Vec<bool>> = p.check_rows.then(|| {
                    (a..b)
                        .map(|row| self.cond.pred.row(&tags, &fields, row))
                        .collect()
                });
                let window: Option<Vec<usize>> = plan.interval.map(|_| {
                    times[a..b]
                        .iter()
                        .map(|&t| ((t - first) / every) as usize)
                        .collect()
                });
                for (j, agg) in plan.aggs.iter().enumerate() {
                    let col = Col::of(inputs[j].and_then(|n| l.chunk(g, n)));
                    if matches!(col, Col::Missing) {
                        continue;
                    }
                    // Rows are in time order within a series, and a series has one point
                    // per time: without windows or a condition, its first or last point
                    // with a value is the only candidate.
                    let shortcut = keep.is_none() && window.is_none();
                    let rows: Box<dyn Iterator<Item = usize>> = match agg.func {
                        AggFn::First if shortcut => {
                            Box::new((a..b).find(|&r| col.get(r).is_some()).into_iter())
                        }
                        AggFn::Last if shortcut => {
                            Box::new((a..b).rev().find(|&r| col.get(r).is_some()).into_iter())
                        }
                        _ => Box::new(a..b),
                    };
                    for row in rows {
                        if keep.as_ref().is_some_and(|k| !k[row - a]) {
                            continue;
                        }
                        let Some(v) = col.get(row) else {
                            continue;
                        };
                        let w = window.as_ref().map_or(0, |w| w[row - a]);
                        accs[w * k + j].add(&agg.func, v, times[row]);
                    }
                }
            }
        }
        let start = plan.bounds.min.unwrap_or(0);
        let mut rows = Vec::new();
        for w in 0..count {
            let mut time = if plan.interval.is_some() {
                first + w as i64 * every
            } else {
                start
            };
            let mut values = Vec::with_capacity(k);
            for (j, agg) in plan.aggs.iter().enumerate() {
                let (v, t) = accs[w * k + j].finish(&agg.func, ints[j]);
                if plan.point_time {
                    if let Some(t) = t {
                        time = t;
                    }
                }
                values.push(v);
            }
            if values.iter().all(Value::is_null) {
                continue;
            }
            rows.push((time, values));
        }
        Some(rows)
    }

    /// One group's rows, as `scan::scan` gives them; `None` when the group holds several
    /// series (their ties in time take the DataFusion path's ordering).
    fn series(
        &self,
        measurement: &Arc<str>,
        key: Vec<Arc<str>>,
        picks: &[Pick],
    ) -> Result<Option<Series>> {
        let plan = self.plan;
        let mut ordered: Vec<(&Pick, i64)> = Vec::new();
        let mut identity: Option<Vec<(String, Arc<str>)>> = None;
        for p in picks {
            let Some((_, index)) = self.file(p) else {
                continue;
            };
            let Some(run) = index.runs.get(p.run) else {
                continue;
            };
            let id: Vec<(String, Arc<str>)> = index
                .tags
                .iter()
                .zip(run.key.iter())
                .filter_map(|(t, v)| v.clone().map(|v| (t.clone(), v)))
                .collect();
            match &identity {
                None => identity = Some(id),
                Some(i) if *i == id => {}
                Some(_) => return Ok(None),
            }
            ordered.push((p, run.min_time));
        }
        ordered.sort_by_key(|o| o.1);
        let kinds: Vec<Option<ColumnKind>> = plan
            .inputs
            .iter()
            .map(|i| scan::resolve(self.table, &i.name, i.cast))
            .collect();
        let mut series = Series {
            measurement: Arc::clone(measurement),
            tags: key,
            times: Vec::new(),
            cols: vec![Vec::new(); plan.inputs.len()],
        };
        if !kinds
            .iter()
            .any(|k| matches!(k, Some(ColumnKind::Field(_))))
        {
            return Ok(Some(series));
        }
        for (p, _) in ordered {
            let Some((l, index)) = self.file(p) else {
                continue;
            };
            let Some(run) = index.runs.get(p.run) else {
                continue;
            };
            let tags = self.cond_tags(p);
            for ((g, a, b), time) in self.pieces(p) {
                let fields = self.cond_fields(l, g);
                let chunks: Vec<Option<&ArrayRef>> = plan
                    .inputs
                    .iter()
                    .zip(&kinds)
                    .map(|(input, kind)| match kind {
                        Some(ColumnKind::Field(_)) => l.chunk(g, &input.name),
                        _ => None,
                    })
                    .collect();
                // The rows the condition keeps that have a value in some field (a row without
                // one is no point of this query), found before any value is read.
                let rows: Vec<u64> = (a..b)
                    .filter(|&row| {
                        chunks.iter().flatten().any(|c| c.is_valid(row))
                            && (!p.check_rows || self.cond.pred.row(&tags, &fields, row))
                    })
                    .map(|row| row as u64)
                    .collect();
                if rows.is_empty() {
                    continue;
                }
                let rows = UInt64Array::from(rows);
                let n = rows.len();
                for t in column_values(&take(time.as_ref(), &rows, None)?)? {
                    if let Value::Int(t) = t {
                        series.times.push(t);
                    }
                }
                for ((input, kind), (chunk, dst)) in plan
                    .inputs
                    .iter()
                    .zip(&kinds)
                    .zip(chunks.iter().zip(series.cols.iter_mut()))
                {
                    let mut values = match (kind, chunk) {
                        (Some(ColumnKind::Tag), _) => {
                            let v = index
                                .tag_position(&input.name)
                                .and_then(|i| run.key.get(i).cloned().flatten())
                                .map_or(Value::Null, Value::Str);
                            vec![v; n]
                        }
                        (_, Some(c)) => column_values(&take(c.as_ref(), &rows, None)?)?,
                        _ => vec![Value::Null; n],
                    };
                    if let Some(c) = input.cast {
                        if !matches!(c, DataType::Tag | DataType::Field) {
                            values.iter_mut().for_each(|v| *v = v.cast_to(c));
                        }
                    }
                    dst.extend(values);
                }
            }
        }
        if scan::scan_limits(plan) {
            // The scan applies LIMIT/OFFSET of a one-series raw query, in the query's order.
            if plan.descending {
                series.times.reverse();
                series.cols.iter_mut().for_each(|c| c.reverse());
            }
            let keep = |n: usize| plan.offset..n.min(plan.offset.saturating_add(plan.limit));
            let range = keep(series.times.len());
            series.times = series
                .times
                .get(range.clone())
                .map_or_else(Vec::new, <[i64]>::to_vec);
            for c in &mut series.cols {
                *c = c
                    .get(range.clone())
                    .map_or_else(Vec::new, <[Value]>::to_vec);
            }
        }
        Ok(Some(series))
    }
}
