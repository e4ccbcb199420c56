//! The schema statements. Measurements, keys and field types come from the table schemas;
//! anything a WHERE restricts (and tag values and series, always) from DataFusion scans of
//! the tag columns, which the table provider prunes by time and tag predicates.

use datafusion::arrow::array::{Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast as arrow_cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::TableReference;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::cast;
use datafusion::prelude::{DataFrame, Expr};
use tidemark_catalog::{ColumnKind, FieldType};
use tidemark_influxql::{
    CardinalityKind, Expr as Ix, MeasurementName, ShowCardinalityStatement, ShowFieldKeysStatement,
    ShowMeasurementsStatement, ShowSeriesStatement, ShowTagKeysStatement, ShowTagValuesStatement,
    WithKey,
};
use tidemark_storage::schema::TableSchema;

use super::condition::{self, bounds_filter};
use super::output::{self, strings, Column, MEASUREMENT_COLUMN};
use super::value::Value;
use super::{statement_error, Env};
use crate::catalog::{CATALOG, SCHEMA};
use crate::error::{Error, Result};

/// Applies `OFFSET` then `LIMIT` (0 = none) to a list.
fn page<T>(items: Vec<T>, limit: Option<u64>, offset: Option<u64>) -> Vec<T> {
    let offset = usize::try_from(offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = match limit {
        Some(0) | None => usize::MAX,
        Some(l) => usize::try_from(l).unwrap_or(usize::MAX),
    };
    items.into_iter().skip(offset).take(limit).collect()
}

fn column(name: &str) -> Expr {
    Expr::Column(datafusion::common::Column::from_name(name))
}

/// The rows of `table` that `cond` selects, as a DataFrame; with `cutoff`, the configured
/// metadata cutoff applies when the condition does not bound time.
async fn frame(
    env: &Env,
    table: &TableSchema,
    cond: Option<&Ix>,
    cutoff: bool,
) -> Result<DataFrame> {
    let now = env.options.now;
    let clock = condition::Clock { now, tz: None };
    let (mut bounds, rest) = condition::split(cond, clock)?;
    if let (true, Some(c), None, None) =
        (cutoff, env.options.metadata_cutoff, bounds.min, bounds.max)
    {
        bounds.min = Some(now.saturating_sub(c));
    }
    let reference = TableReference::full(CATALOG, SCHEMA, table.name.as_str());
    let mut df = env.ctx()?.table(reference).await?;
    if let Some(f) = bounds_filter(&bounds) {
        df = df.filter(f)?;
    }
    if let Some(rest) = rest {
        df = df.filter(condition::to_filter(&rest, table, clock)?)?;
    }
    Ok(df)
}

fn string_values(batches: &[RecordBatch], column: usize) -> Result<Vec<Option<String>>> {
    let mut out = Vec::new();
    for b in batches {
        let a = arrow_cast(b.column(column), &DataType::Utf8)?;
        let a = a
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| Error::Internal("expected strings".to_owned()))?;
        for i in 0..a.len() {
            out.push((!a.is_null(i)).then(|| a.value(i).to_owned()));
        }
    }
    Ok(out)
}

fn tags(table: &TableSchema) -> Vec<String> {
    table.sort_key().into_iter().map(str::to_owned).collect()
}

/// The tag keys of `table` that rows selected by `cond` have.
async fn present_tags(
    env: &Env,
    table: &TableSchema,
    cond: Option<&Ix>,
    cutoff: bool,
) -> Result<Vec<String>> {
    let all = tags(table);
    if cond.is_none() || all.is_empty() {
        return Ok(all);
    }
    let df = frame(env, table, cond, cutoff).await?;
    let counts: Vec<Expr> = all
        .iter()
        .enumerate()
        .map(|(i, t)| count(column(t)).alias(format!("c{i}")))
        .collect();
    let batches = df.aggregate(vec![], counts)?.collect().await?;
    let mut out = Vec::new();
    for (i, t) in all.into_iter().enumerate() {
        let n = batches
            .first()
            .and_then(|b| super::value::column_values(b.column(i)).ok())
            .and_then(|v| v.first().cloned());
        if matches!(n, Some(Value::Int(n)) if n > 0) {
            out.push(t);
        }
    }
    Ok(out)
}

fn with_key_matches(key: &WithKey, tag: &str) -> Result<bool> {
    Ok(match key {
        WithKey::Eq(k) => k == tag,
        WithKey::NotEq(k) => k != tag,
        WithKey::EqRegex(re) => condition::regex(&re.0)?.is_match(tag),
        WithKey::NotEqRegex(re) => !condition::regex(&re.0)?.is_match(tag),
        WithKey::In(keys) => keys.iter().any(|k| k == tag),
    })
}

fn result(measurements: Vec<String>, columns: Vec<Column>) -> Result<RecordBatch> {
    let mut all = vec![strings(MEASUREMENT_COLUMN, &measurements).not_null()];
    all.extend(columns);
    output::batch(all, &[])
}

pub(crate) async fn measurements(env: &Env, s: &ShowMeasurementsStatement) -> Result<RecordBatch> {
    let mut names = Vec::new();
    for table in &env.tables {
        if let Some(m) = &s.with_measurement {
            let keep = match &m.name {
                MeasurementName::Name(n) => *n == table.name,
                MeasurementName::Regex(re) => condition::regex(&re.0)?.is_match(&table.name),
            };
            if !keep {
                continue;
            }
        }
        if let Some(cond) = &s.condition {
            let df = frame(env, table, Some(cond), true).await?;
            if df.limit(0, Some(1))?.count().await? == 0 {
                continue;
            }
        }
        names.push(table.name.clone());
    }
    if s.order == Some(tidemark_influxql::Order::Descending) {
        names.reverse();
    }
    let names = page(names, s.limit, s.offset);
    let m = vec!["measurements".to_owned(); names.len()];
    result(m, vec![strings("name", &names)])
}

pub(crate) async fn tag_keys(env: &Env, s: &ShowTagKeysStatement) -> Result<RecordBatch> {
    let mut per_table = Vec::new();
    for table in env.measurements(&s.from)? {
        let mut keys = present_tags(env, &table, s.condition.as_ref(), true).await?;
        if let Some(k) = &s.with_key {
            let mut kept = Vec::new();
            for key in keys {
                if with_key_matches(k, &key)? {
                    kept.push(key);
                }
            }
            keys = kept;
        }
        let keys = page(keys, s.limit, s.offset);
        if !keys.is_empty() {
            per_table.push((table.name.clone(), keys));
        }
    }
    let (mut m, mut k) = (Vec::new(), Vec::new());
    for (name, keys) in page(per_table, s.slimit, s.soffset) {
        m.extend(std::iter::repeat_n(name, keys.len()));
        k.extend(keys);
    }
    result(m, vec![strings("tagKey", &k)])
}

/// The distinct values of `tag` among the rows `cond` selects, sorted.
async fn distinct_values(
    env: &Env,
    table: &TableSchema,
    tag: &str,
    cond: Option<&Ix>,
) -> Result<Vec<String>> {
    let df = frame(env, table, cond, true).await?;
    let batches = df
        .filter(column(tag).is_not_null())?
        .aggregate(vec![cast(column(tag), DataType::Utf8).alias("v")], vec![])?
        .collect()
        .await?;
    let mut values: Vec<String> = string_values(&batches, 0)?.into_iter().flatten().collect();
    values.sort();
    Ok(values)
}

pub(crate) async fn tag_values(env: &Env, s: &ShowTagValuesStatement) -> Result<RecordBatch> {
    let (mut m, mut k, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for table in env.measurements(&s.from)? {
        let mut pairs = Vec::new();
        for tag in tags(&table) {
            if !with_key_matches(&s.with_key, &tag)? {
                continue;
            }
            for value in distinct_values(env, &table, &tag, s.condition.as_ref()).await? {
                pairs.push((tag.clone(), value));
            }
        }
        for (key, value) in page(pairs, s.limit, s.offset) {
            m.push(table.name.clone());
            k.push(key);
            v.push(value);
        }
    }
    result(m, vec![strings("key", &k), strings("value", &v)])
}

fn field_type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Float => "float",
        FieldType::Integer => "integer",
        FieldType::UInteger => "unsigned",
        FieldType::String => "string",
        FieldType::Boolean => "boolean",
    }
}

fn fields(table: &TableSchema) -> Vec<(String, FieldType)> {
    let mut out: Vec<(String, FieldType)> = table
        .columns
        .iter()
        .filter_map(|c| match c.kind {
            ColumnKind::Field(t) => Some((c.name.clone(), t)),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub(crate) async fn field_keys(env: &Env, s: &ShowFieldKeysStatement) -> Result<RecordBatch> {
    let (mut m, mut k, mut t) = (Vec::new(), Vec::new(), Vec::new());
    for table in env.measurements(&s.from)? {
        for (name, ty) in page(fields(&table), s.limit, s.offset) {
            m.push(table.name.clone());
            k.push(name);
            t.push(field_type_name(ty));
        }
    }
    result(m, vec![strings("fieldKey", &k), strings("fieldType", &t)])
}

/// Line protocol escaping of a series key part.
fn escape(s: &str, measurement: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == ',' || c == ' ' || (!measurement && c == '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The series keys (`cpu,host=a`) of `table` among the rows `cond` selects, sorted.
async fn series_keys(env: &Env, table: &TableSchema, cond: Option<&Ix>) -> Result<Vec<String>> {
    let tags = tags(table);
    let prefix = escape(&table.name, true);
    if tags.is_empty() {
        let df = frame(env, table, cond, false).await?;
        let any = df.limit(0, Some(1))?.count().await? > 0;
        return Ok(if any { vec![prefix] } else { Vec::new() });
    }
    let df = frame(env, table, cond, false).await?;
    let group: Vec<Expr> = tags
        .iter()
        .map(|t| cast(column(t), DataType::Utf8).alias(t.as_str()))
        .collect();
    let batches = df.aggregate(group, vec![])?.collect().await?;
    let columns: Vec<Vec<Option<String>>> = (0..tags.len())
        .map(|i| string_values(&batches, i))
        .collect::<Result<_>>()?;
    let rows = columns.first().map_or(0, Vec::len);
    let mut keys = Vec::with_capacity(rows);
    for r in 0..rows {
        let mut key = prefix.clone();
        for (t, values) in tags.iter().zip(&columns) {
            if let Some(Some(v)) = values.get(r) {
                if !v.is_empty() {
                    key.push(',');
                    key.push_str(&escape(t, false));
                    key.push('=');
                    key.push_str(&escape(v, false));
                }
            }
        }
        keys.push(key);
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

pub(crate) async fn series(env: &Env, s: &ShowSeriesStatement) -> Result<RecordBatch> {
    let mut keys = Vec::new();
    for table in env.measurements(&s.from)? {
        keys.extend(series_keys(env, &table, s.condition.as_ref()).await?);
    }
    let keys = page(keys, s.limit, s.offset);
    result(vec![String::new(); keys.len()], vec![strings("key", &keys)])
}

/// A single total: 1.x names the estimated series and measurement cardinalities
/// `cardinality estimation` (ours are exact) and the exact ones `count`.
fn total(s: &ShowCardinalityStatement, n: i64) -> Column {
    let name = if s.exact {
        "count"
    } else {
        "cardinality estimation"
    };
    Column::new(name, DataType::Int64, vec![Value::Int(n)])
}

pub(crate) async fn cardinality(env: &Env, s: &ShowCardinalityStatement) -> Result<RecordBatch> {
    if !s.group_by.is_empty() {
        return Err(statement_error(
            "GROUP BY is not supported in cardinality statements",
        ));
    }
    let cond = s.condition.as_ref();
    let tables = env.measurements(&s.from)?;
    // Per measurement counts; the measurement cardinality is one total.
    let mut per: Vec<(String, i64)> = Vec::new();
    match &s.kind {
        CardinalityKind::Measurement => {
            let mut n = 0i64;
            for table in &tables {
                let keep = match cond {
                    None => true,
                    Some(c) => {
                        frame(env, table, Some(c), true)
                            .await?
                            .limit(0, Some(1))?
                            .count()
                            .await?
                            > 0
                    }
                };
                n += i64::from(keep);
            }
            return result(vec![String::new()], vec![total(s, n)]);
        }
        CardinalityKind::Series => {
            for table in &tables {
                per.push((
                    table.name.clone(),
                    series_keys(env, table, cond).await?.len() as i64,
                ));
            }
        }
        CardinalityKind::TagKey => {
            for table in &tables {
                per.push((
                    table.name.clone(),
                    present_tags(env, table, cond, true).await?.len() as i64,
                ));
            }
        }
        CardinalityKind::FieldKey => {
            for table in &tables {
                per.push((table.name.clone(), fields(table).len() as i64));
            }
        }
        CardinalityKind::TagValues(key) => {
            for table in &tables {
                let mut n = 0;
                for tag in tags(table) {
                    if with_key_matches(key, &tag)? {
                        n += distinct_values(env, table, &tag, cond).await?.len() as i64;
                    }
                }
                per.push((table.name.clone(), n));
            }
        }
    }
    if !s.exact && s.kind == CardinalityKind::Series {
        let n = per.iter().map(|(_, n)| n).sum();
        return result(vec![String::new()], vec![total(s, n)]);
    }
    per.retain(|(_, n)| *n > 0);
    let per = page(per, s.limit, s.offset);
    let names: Vec<String> = per.iter().map(|(m, _)| m.clone()).collect();
    let counts: Vec<Value> = per.iter().map(|(_, n)| Value::Int(*n)).collect();
    result(names, vec![Column::new("count", DataType::Int64, counts)])
}
