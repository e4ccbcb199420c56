//! What a SELECT asks for, checked as 1.x checks it: the projection with wildcards and
//! regexes expanded over the sources' fields and tags, each field compiled to an [`Ex`] over
//! input columns, aggregate calls and transformations; GROUP BY, fill, ordering and paging.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::datasource::TableProvider;
use tidemark_catalog::{ColumnKind, FieldType};
use tidemark_influxql::{
    BinaryOp, Call, DataType, Expr as Ix, Fill, Literal, Order, SelectStatement, VarRef,
    WildcardType,
};
use tidemark_storage::schema::TableSchema;

use chrono_tz::Tz;

use super::super::condition::{self, zone_offset, Clock, TimeBounds};
use super::super::statement_error;
use super::super::value::Value;
use super::compile::Builder;
use super::technical::Kind;
use crate::error::Result;

/// A column the scan reads: a field or tag name, with the cast the query wrote.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Input {
    pub(crate) name: String,
    pub(crate) cast: Option<DataType>,
}

/// A math function of 1.x.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Math {
    Abs,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Atan2,
    Exp,
    Ln,
    Log,
    Log2,
    Log10,
    Sqrt,
    Pow,
    Floor,
    Ceil,
    Round,
}

/// A compiled field expression.
#[derive(Debug, Clone)]
pub(crate) enum Ex {
    Input(usize),
    Lit(Value),
    Bin(Box<Ex>, BinaryOp, Box<Ex>),
    Math(Math, Vec<Ex>),
    Agg(usize),
    Transform(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AggFn {
    Count,
    CountDistinct,
    Mean,
    Sum,
    Median,
    Mode,
    Spread,
    Stddev,
    Distinct,
    Integral(i64),
    First,
    Last,
    Max,
    Min,
    Percentile(f64),
    Top(usize, Vec<usize>),
    Bottom(usize, Vec<usize>),
    Sample(usize),
}

impl AggFn {
    pub(crate) fn is_selector(&self) -> bool {
        matches!(
            self,
            AggFn::First
                | AggFn::Last
                | AggFn::Max
                | AggFn::Min
                | AggFn::Percentile(_)
                | AggFn::Top(..)
                | AggFn::Bottom(..)
                | AggFn::Sample(_)
        )
    }

    /// Functions that give several points per window.
    pub(crate) fn is_multi(&self) -> bool {
        matches!(
            self,
            AggFn::Top(..) | AggFn::Bottom(..) | AggFn::Sample(_) | AggFn::Distinct
        )
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AggCall {
    pub(crate) func: AggFn,
    pub(crate) input: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TransformFn {
    Derivative {
        unit: Option<i64>,
        non_negative: bool,
    },
    Difference {
        non_negative: bool,
    },
    MovingAverage(usize),
    CumulativeSum,
    Elapsed(i64),
    /// `holt_winters(agg, h, m)`: `h` windows forecast, season of `m` windows; with `fit`,
    /// the fitted windows too.
    HoltWinters {
        h: usize,
        m: usize,
        fit: bool,
    },
    /// A technical-analysis indicator; `hold` `None` is the indicator's warm-up count.
    Technical {
        kind: Kind,
        period: usize,
        hold: Option<usize>,
        simple_warmup: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct TransformCall {
    pub(crate) func: TransformFn,
    pub(crate) inner: Ex,
}

#[derive(Debug, Clone)]
pub(crate) struct OutField {
    pub(crate) name: String,
    pub(crate) expr: Ex,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Interval {
    pub(crate) every: i64,
    pub(crate) offset: i64,
    /// `tz()`: windows align to this zone's wall clock (1.x `IteratorOptions.Window`).
    pub(crate) tz: Option<Tz>,
}

/// The longest jump of a zone's offset (daylight saving), in nanoseconds.
const MAX_ZONE_SHIFT: i64 = 3 * 3_600_000_000_000;

impl Interval {
    /// The start of the window holding `t`.
    pub(crate) fn window(&self, t: i64) -> i64 {
        let t = t.saturating_sub(self.offset);
        let zone = self.tz.map_or(0, |tz| zone_offset(tz, t));
        let dt = t.saturating_add(zone).rem_euclid(self.every);
        let mut start = t.saturating_sub(dt).saturating_add(self.offset);
        if let Some(tz) = self.tz {
            // Across a change of offset the window starts at the new offset's wall clock.
            let o = zone - zone_offset(tz, start);
            if o != 0 && o.abs() < self.every {
                start = start.saturating_add(o);
            }
        }
        start
    }

    /// The start of the window after the one starting at `w` (windows of a zone with
    /// daylight saving are an hour shorter or longer).
    pub(crate) fn next(&self, w: i64) -> Option<i64> {
        let next = self.window(w.checked_add(self.every)?);
        if next > w {
            return Some(next);
        }
        let next = self.window(w.checked_add(self.every)?.checked_add(MAX_ZONE_SHIFT)?);
        (next > w).then_some(next)
    }
}

#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) measurements: Vec<Arc<TableSchema>>,
    pub(crate) fields: Vec<OutField>,
    pub(crate) inputs: Vec<Input>,
    pub(crate) aggs: Vec<AggCall>,
    pub(crate) transforms: Vec<TransformCall>,
    pub(crate) aggregate: bool,
    pub(crate) group_tags: Vec<String>,
    pub(crate) interval: Option<Interval>,
    pub(crate) fill: Fill,
    pub(crate) bounds: TimeBounds,
    pub(crate) rest: Option<Ix>,
    pub(crate) descending: bool,
    pub(crate) limit: usize,
    pub(crate) offset: usize,
    pub(crate) slimit: usize,
    pub(crate) soffset: usize,
    /// Rows take the time of the selected point rather than the window's start.
    pub(crate) point_time: bool,
    /// `now()` and `tz()`.
    pub(crate) clock: Clock,
    /// Tables that are subquery results rather than the bucket's, by measurement name.
    pub(crate) providers: HashMap<String, Arc<dyn TableProvider>>,
}

/// The sources' fields (with the type first seen) and tags.
#[derive(Debug, Default)]
pub(crate) struct Columns {
    pub(crate) fields: BTreeMap<String, FieldType>,
    pub(crate) tags: std::collections::BTreeSet<String>,
    /// Fields whose type differs between the sources.
    pub(crate) mixed: std::collections::BTreeSet<String>,
}

impl Columns {
    pub(crate) fn of(tables: &[Arc<TableSchema>]) -> Self {
        let mut out = Columns::default();
        for t in tables {
            for c in &t.columns {
                match c.kind {
                    ColumnKind::Tag => {
                        out.tags.insert(c.name.clone());
                    }
                    ColumnKind::Field(ft) => {
                        // A field of several types takes the one 1.x prefers (its
                        // `FieldDimensions`): float, integer, unsigned, string, boolean.
                        let e = out.fields.entry(c.name.clone()).or_insert(ft);
                        if *e != ft {
                            out.mixed.insert(c.name.clone());
                        }
                        if rank(ft) < rank(*e) {
                            *e = ft;
                        }
                    }
                    ColumnKind::Time => {}
                }
            }
        }
        out
    }
}

fn rank(ft: FieldType) -> u8 {
    match ft {
        FieldType::Float => 0,
        FieldType::Integer => 1,
        FieldType::UInteger => 2,
        FieldType::String => 3,
        FieldType::Boolean => 4,
    }
}

/// The cast 1.x gives a field it expands from a wildcard: a measurement where the field has
/// another type reads nothing of it (1.x's engine has no cursor for, say, a string as float).
/// Only fields of several types need it; the others stay untyped (which the fast paths take).
fn cast_of(ft: FieldType) -> DataType {
    match ft {
        FieldType::Float => DataType::Float,
        FieldType::Integer => DataType::Integer,
        FieldType::UInteger => DataType::Unsigned,
        FieldType::String => DataType::String,
        FieldType::Boolean => DataType::Boolean,
    }
}

/// 1.x builds one typed iterator per function and field, and fails where it has none: a
/// numeric aggregate over strings or booleans, `max`/`min` over strings.
fn unsupported_input_types(b: &Builder, cols: &Columns) -> Result<()> {
    for a in &b.aggs {
        let Some(input) = b.inputs.get(a.input) else {
            continue;
        };
        if input.cast.is_some() {
            continue;
        }
        let kind = match cols.fields.get(&input.name) {
            Some(FieldType::String) => "string",
            Some(FieldType::Boolean) => "boolean",
            _ => continue,
        };
        let name = match a.func {
            AggFn::Mean => "mean",
            AggFn::Sum => "sum",
            AggFn::Median => "median",
            AggFn::Spread => "spread",
            AggFn::Stddev => "stddev",
            AggFn::Integral(_) => "integral",
            AggFn::Max if kind == "string" => "max",
            AggFn::Min if kind == "string" => "min",
            _ => continue,
        };
        return Err(statement_error(format!(
            "unsupported {name} iterator type: *query.{kind}InterruptIterator"
        )));
    }
    Ok(())
}

fn numeric(ft: FieldType) -> bool {
    matches!(
        ft,
        FieldType::Float | FieldType::Integer | FieldType::UInteger
    )
}

/// Expands `*`, `/regex/` and `f(*)`, `f(/regex/)` in the projection (1.x `RewriteFields`).
fn expand(
    s: &SelectStatement,
    cols: &Columns,
    group_tags: &[String],
) -> Result<Vec<(Ix, Option<String>)>> {
    // Fields and tags by name; tags in GROUP BY are not expanded (they are the series' tags).
    let mut all: Vec<(String, bool)> = cols.fields.keys().map(|f| (f.clone(), false)).collect();
    all.extend(
        cols.tags
            .iter()
            .filter(|t| !group_tags.contains(t))
            .map(|t| (t.clone(), true)),
    );
    all.sort();
    let mut out = Vec::new();
    for field in &s.fields {
        match &field.expr {
            Ix::Wildcard(kind) => {
                for (name, is_tag) in &all {
                    let keep = match kind {
                        None => true,
                        Some(WildcardType::Field) => !is_tag,
                        Some(WildcardType::Tag) => *is_tag,
                    };
                    if keep {
                        out.push((typed(name, *is_tag), None));
                    }
                }
            }
            Ix::Literal(Literal::Regex(re)) => {
                let re = condition::regex(&re.0)?;
                for (name, is_tag) in &all {
                    if re.is_match(name) {
                        out.push((typed(name, *is_tag), None));
                    }
                }
            }
            Ix::Call(call) => {
                let (inner_name, arg) = innermost(call);
                let re = match arg {
                    Some(Ix::Wildcard(Some(WildcardType::Tag))) => {
                        return Err(statement_error(format!(
                            "unable to use tag wildcard in {inner_name}()"
                        )))
                    }
                    Some(Ix::Wildcard(_)) => None,
                    Some(Ix::Literal(Literal::Regex(re))) => Some(condition::regex(&re.0)?),
                    _ => {
                        out.push((field.expr.clone(), field.alias.clone()));
                        continue;
                    }
                };
                let base = field.alias.clone().unwrap_or_else(|| call.name.clone());
                for (name, ft) in &cols.fields {
                    let supported = numeric(*ft)
                        || match inner_name.as_str() {
                            "count" | "first" | "last" | "distinct" | "elapsed" | "mode"
                            | "sample" => true,
                            "min" | "max" => *ft == FieldType::Boolean,
                            _ => false,
                        };
                    if !supported || re.as_ref().is_some_and(|re| !re.is_match(name)) {
                        continue;
                    }
                    out.push((
                        replace_innermost(
                            &field.expr,
                            name,
                            cols.mixed.contains(name).then(|| cast_of(*ft)),
                        ),
                        Some(format!("{base}_{name}")),
                    ));
                }
            }
            other => out.push((other.clone(), field.alias.clone())),
        }
    }
    Ok(out)
}

fn typed(name: &str, is_tag: bool) -> Ix {
    Ix::VarRef(VarRef {
        name: name.to_owned(),
        data_type: Some(if is_tag {
            DataType::Tag
        } else {
            DataType::Field
        }),
    })
}

/// The innermost call of `f(g(h(x)))` and its first argument.
fn innermost(call: &Call) -> (String, Option<&Ix>) {
    let mut c = call;
    while let Some(Ix::Call(inner)) = c.args.first() {
        c = inner;
    }
    (c.name.clone(), c.args.first())
}

fn replace_innermost(e: &Ix, field: &str, cast: Option<DataType>) -> Ix {
    match e {
        Ix::Call(c) => {
            let mut c = c.clone();
            match c.args.first() {
                Some(Ix::Call(_)) => {
                    c.args[0] = replace_innermost(&c.args[0], field, cast);
                }
                Some(_) => {
                    c.args[0] = Ix::VarRef(VarRef {
                        name: field.to_owned(),
                        data_type: cast,
                    })
                }
                None => {}
            }
            Ix::Call(c)
        }
        other => other.clone(),
    }
}

/// 1.x's column name for a field without alias.
fn field_name(e: &Ix) -> String {
    fn walk(e: &Ix, names: &mut Vec<String>) {
        match e {
            Ix::VarRef(v) => names.push(v.name.clone()),
            Ix::Call(c) => names.push(c.name.clone()),
            Ix::Binary(b) => {
                walk(&b.lhs, names);
                walk(&b.rhs, names);
            }
            _ => {}
        }
    }
    match e {
        Ix::Call(c) => c.name.clone(),
        Ix::VarRef(v) => v.name.clone(),
        Ix::Binary(_) => {
            let mut names = Vec::new();
            walk(e, &mut names);
            names.join("_")
        }
        _ => String::new(),
    }
}

/// Names with 1.x's conflict resolution: aliases first, then `mean`, `mean_1`, ...
fn column_names(fields: &[(Ix, Option<String>)]) -> Vec<String> {
    let mut names: Vec<Option<String>> = fields.iter().map(|(_, a)| a.clone()).collect();
    let mut seen: std::collections::HashMap<String, usize> =
        names.iter().flatten().map(|a| (a.clone(), 1)).collect();
    for (i, (e, _)) in fields.iter().enumerate() {
        if names[i].is_some() {
            continue;
        }
        let mut name = field_name(e);
        if let Some(&count) = seen.get(&name) {
            let mut count = count;
            loop {
                let candidate = format!("{name}_{count}");
                if !seen.contains_key(&candidate) {
                    seen.insert(name.clone(), count + 1);
                    name = candidate;
                    break;
                }
                count += 1;
            }
        }
        *seen.entry(name.clone()).or_insert(0) += 1;
        names[i] = Some(name);
    }
    names.into_iter().map(Option::unwrap_or_default).collect()
}

fn to_usize(v: Option<u64>) -> usize {
    v.map_or(0, |v| usize::try_from(v).unwrap_or(usize::MAX))
}

/// Builds the plan of `s` over `measurements`.
pub(crate) fn plan(
    s: &SelectStatement,
    measurements: Vec<Arc<TableSchema>>,
    now: i64,
) -> Result<Plan> {
    let tz = match &s.timezone {
        None => None,
        Some(name) => Some(
            name.parse::<Tz>()
                .map_err(|_| statement_error(format!("unable to find time zone {name}")))?,
        ),
    };
    let clock = Clock { now, tz };
    if s.into.is_some() {
        return Err(statement_error("SELECT INTO is not supported"));
    }
    let cols = Columns::of(&measurements);
    let (interval, group_tags) = group_by(s, &cols, now, tz)?;
    let expanded = expand(s, &cols, &group_tags)?;
    // `time` in the projection only names the time column.
    let expanded: Vec<(Ix, Option<String>)> = expanded
        .into_iter()
        .filter(|(e, _)| !matches!(e, Ix::VarRef(v) if v.name == "time"))
        .collect();
    let mut b = Builder {
        inputs: Vec::new(),
        aggs: Vec::new(),
        transforms: Vec::new(),
        raw_refs: false,
        has_interval: interval.is_some(),
        top_bottom: None,
    };
    let mut fields = Vec::new();
    let mut extra: Vec<(Ix, Option<String>)> = Vec::new();
    for (e, alias) in &expanded {
        let ex = b.compile(e, false)?;
        fields.push(ex);
        // top/bottom's tag arguments become columns of their own.
        if let Ix::Call(c) = e {
            if matches!(c.name.as_str(), "top" | "bottom") {
                for a in c.args.iter().skip(1).take(c.args.len().saturating_sub(2)) {
                    extra.push((a.clone(), None));
                }
            }
        }
        let _ = alias;
    }
    let mut named = expanded.clone();
    for (e, alias) in extra {
        let ex = b.compile(&e, true)?;
        fields.push(ex);
        named.push((e, alias));
    }
    unsupported_input_types(&b, &cols)?;
    let names = column_names(&named);
    let fields: Vec<OutField> = fields
        .into_iter()
        .zip(names)
        .map(|(expr, name)| OutField { name, expr })
        .collect();
    // A wildcard over measurements that do not exist selects nothing, and 1.x answers that
    // with an empty result rather than this error.
    if fields.is_empty() && !measurements.is_empty() {
        return Err(statement_error("at least 1 non-time field must be queried"));
    }
    let forecasts = b
        .transforms
        .iter()
        .any(|t| matches!(t.func, TransformFn::HoltWinters { .. }));
    if forecasts && fields.len() > 1 {
        return Err(statement_error(
            "holt_winters() cannot be combined with other fields or functions",
        ));
    }
    let calls = b.aggs.len() + b.transforms.iter().filter(|t| !uses_agg(&t.inner)).count();
    if let Some(name) = &b.top_bottom {
        if calls > 1 {
            return Err(statement_error(format!(
                "selector function {name}() cannot be combined with other functions"
            )));
        }
    }
    if calls == 0 {
        match s.fill {
            Some(Fill::None) => {
                return Err(statement_error("fill(none) must be used with a function"))
            }
            Some(Fill::Linear) => {
                return Err(statement_error("fill(linear) must be used with a function"))
            }
            _ => {}
        }
        if interval.is_some() {
            return Err(statement_error(
                "GROUP BY requires at least one aggregate function",
            ));
        }
    }
    let has_distinct = b.aggs.iter().any(|a| a.func == AggFn::Distinct);
    if has_distinct && (calls != 1 || b.raw_refs) {
        return Err(statement_error(
            "aggregate function distinct() cannot be combined with other functions or fields",
        ));
    }
    let only_selectors = !b.aggs.is_empty()
        && b.aggs.iter().all(|a| a.func.is_selector())
        && b.transforms.is_empty();
    if b.raw_refs && (!b.aggs.is_empty() || !b.transforms.is_empty()) {
        if !only_selectors {
            return Err(statement_error(
                "mixing aggregate and non-aggregate queries is not supported",
            ));
        } else if b.aggs.len() > 1 {
            return Err(statement_error(
                "mixing multiple selector functions with tags or fields is not supported",
            ));
        }
    }
    let aggregate = !b.aggs.is_empty();
    let multi = b.aggs.iter().any(|a| {
        matches!(
            a.func,
            AggFn::Top(..) | AggFn::Bottom(..) | AggFn::Sample(_)
        )
    });
    let point_time = multi
        || (aggregate && interval.is_none() && b.aggs.len() == 1 && b.aggs[0].func.is_selector());
    let (mut bounds, rest) = condition::split(s.condition.as_ref(), clock)?;
    let descending = s.order == Some(Order::Descending);
    // 1.x reads one window more, before the range (after it, newest first), for the
    // transformations that compare a window with the one before: their first window in the
    // range then has one to compare with (filled, with fill()).
    let looks_back = b.transforms.iter().any(|t| {
        uses_agg(&t.inner)
            && !matches!(
                t.func,
                TransformFn::CumulativeSum | TransformFn::HoltWinters { .. }
            )
    });
    if let (Some(iv), true) = (interval, looks_back) {
        if descending {
            bounds.max = bounds.max.map(|m| m.saturating_add(iv.every));
        } else {
            bounds.min = bounds.min.map(|m| m.saturating_sub(iv.every));
        }
    }
    let limit = raw_limit(
        aggregate,
        &b.transforms,
        to_usize(s.limit),
        to_usize(s.offset),
    );
    Ok(Plan {
        measurements,
        fields,
        inputs: b.inputs,
        aggs: b.aggs,
        transforms: b.transforms,
        aggregate,
        group_tags,
        interval,
        fill: s.fill.clone().unwrap_or(Fill::Null),
        bounds,
        rest,
        descending,
        limit,
        offset: to_usize(s.offset),
        slimit: to_usize(s.slimit),
        soffset: to_usize(s.soffset),
        point_time,
        providers: HashMap::new(),
        clock,
    })
}

/// The LIMIT 1.x applies: a raw query with OFFSET and no LIMIT answers only the one row at
/// the offset of each series (influxdata/influxdb#7577, still so in 1.6).
fn raw_limit(aggregate: bool, transforms: &[TransformCall], limit: usize, offset: usize) -> usize {
    if !aggregate && transforms.is_empty() && limit == 0 && offset > 0 {
        return 1;
    }
    limit
}

pub(crate) fn uses_agg(e: &Ex) -> bool {
    match e {
        Ex::Agg(_) => true,
        Ex::Bin(l, _, r) => uses_agg(l) || uses_agg(r),
        Ex::Math(_, args) => args.iter().any(uses_agg),
        _ => false,
    }
}

/// GROUP BY: the time window and the tags (sorted).
fn group_by(
    s: &SelectStatement,
    cols: &Columns,
    now: i64,
    tz: Option<Tz>,
) -> Result<(Option<Interval>, Vec<String>)> {
    let mut interval = None;
    let mut tags: Vec<String> = Vec::new();
    for d in &s.group_by {
        match d {
            Ix::Call(c) if c.name == "time" => {
                if interval.is_some() {
                    return Err(statement_error("multiple time dimensions"));
                }
                let every = match c.args.first() {
                    Some(Ix::Literal(Literal::Duration(d))) => d.nanos(),
                    _ => {
                        return Err(statement_error(
                            "time dimension must have duration argument",
                        ))
                    }
                };
                if every < 0 {
                    return Err(statement_error(
                        "time dimension must have a positive duration",
                    ));
                }
                let offset = match c.args.get(1) {
                    None => 0,
                    Some(Ix::Literal(Literal::Duration(d))) => d.nanos(),
                    Some(Ix::Call(n)) if n.name == "now" && n.args.is_empty() => now,
                    Some(_) => {
                        return Err(statement_error(
                            "time dimension offset must be duration or now()",
                        ))
                    }
                };
                if c.args.len() > 2 {
                    return Err(statement_error("time dimension expected 1 or 2 arguments"));
                }
                // 1.x takes `time(0s)` as no time grouping at all.
                if every == 0 {
                    continue;
                }
                interval = Some(Interval {
                    every,
                    offset: offset.rem_euclid(every),
                    tz,
                });
            }
            Ix::Call(c) => {
                return Err(statement_error(format!(
                    "only time() calls allowed in dimensions, found {}",
                    c.name
                )))
            }
            Ix::VarRef(v) => {
                if v.name == "time" {
                    return Err(statement_error(
                        "time() is a function and expects at least one argument",
                    ));
                }
                tags.push(v.name.clone());
            }
            Ix::Wildcard(_) => tags.extend(cols.tags.iter().cloned()),
            Ix::Literal(Literal::Regex(re)) => {
                let re = condition::regex(&re.0)?;
                tags.extend(cols.tags.iter().filter(|t| re.is_match(t)).cloned());
            }
            other => {
                return Err(statement_error(format!(
                    "only time and tag dimensions allowed, found {other}"
                )))
            }
        }
    }
    tags.sort();
    tags.dedup();
    Ok((interval, tags))
}
