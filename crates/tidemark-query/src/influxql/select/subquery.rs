//! A subquery's result as tables the outer query reads like measurements: one in-memory
//! table per measurement, whose tags are the subquery's GROUP BY tags and whose fields are
//! its columns (1.x: `SELECT max(m) FROM (SELECT mean(usage) AS m ... GROUP BY time(1m), host)`).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::datasource::{MemTable, TableProvider};
use tidemark_catalog::{Column as CatalogColumn, ColumnKind, FieldType, Id, Table};
use tidemark_storage::schema::TableSchema;

use super::super::output::{infer_type, timestamp_type, to_array};
use super::super::value::Value;
use super::plan::Plan;
use super::{static_type, SeriesRows};
use crate::error::{Error, Result};

fn field_type(t: &ArrowType) -> FieldType {
    match t {
        ArrowType::Int64 => FieldType::Integer,
        ArrowType::UInt64 => FieldType::UInteger,
        ArrowType::Utf8 => FieldType::String,
        ArrowType::Boolean => FieldType::Boolean,
        _ => FieldType::Float,
    }
}

fn arrow_of(t: FieldType) -> ArrowType {
    match t {
        FieldType::Integer => ArrowType::Int64,
        FieldType::UInteger => ArrowType::UInt64,
        FieldType::String => ArrowType::Utf8,
        FieldType::Boolean => ArrowType::Boolean,
        FieldType::Float => ArrowType::Float64,
    }
}

type SubTable = (Arc<TableSchema>, Arc<dyn TableProvider>);

/// A column of subquery tables the planner does not see: each row's place in the order the
/// subqueries give their rows (a raw outer query keeps that order, as 1.x does).
pub(crate) const SEQ: &str = "__seq";

/// One subquery's rows of one measurement, in the order it gives them.
struct Part {
    measurement: Arc<str>,
    tags: Vec<String>,
    /// Name and the type a column of only nulls gets.
    fields: Vec<(String, ArrowType)>,
    times: Vec<i64>,
    tag_values: Vec<Vec<Arc<str>>>,
    values: Vec<Vec<Value>>,
}

fn parts(plan: &Plan, series: Vec<SeriesRows>) -> Vec<Part> {
    // Fields named like a GROUP BY tag or `time` are that tag or the time already.
    let fields: Vec<usize> = (0..plan.fields.len())
        .filter(|&i| {
            let n = &plan.fields[i].name;
            n != "time" && !plan.group_tags.contains(n)
        })
        .collect();
    let mut out: Vec<Part> = Vec::new();
    for (m, key, rows) in series {
        if out.last().is_none_or(|p| p.measurement != m) {
            out.push(Part {
                measurement: Arc::clone(&m),
                tags: plan.group_tags.clone(),
                fields: fields
                    .iter()
                    .map(|&f| {
                        let field = &plan.fields[f];
                        (field.name.clone(), static_type(plan, &field.expr))
                    })
                    .collect(),
                times: Vec::new(),
                tag_values: Vec::new(),
                values: Vec::new(),
            });
        }
        let Some(part) = out.last_mut() else {
            continue;
        };
        for row in rows {
            part.times.push(row.time);
            part.tag_values.push(key.clone());
            part.values.push(
                fields
                    .iter()
                    .map(|&f| row.values.get(f).cloned().unwrap_or(Value::Null))
                    .collect(),
            );
        }
    }
    for part in &mut out {
        in_1x_order(plan, part);
    }
    out
}

/// Puts a part's rows (series after series) in the order 1.x's subquery gives them: the outer
/// query's dimensions replace the subquery's in its iterators, so without outer GROUP BY
/// tags its series are not kept apart. An aggregate gives each window's rows together, by
/// the series' tags (its reduce iterator sorts them); a raw query merges its series by time.
fn in_1x_order(plan: &Plan, part: &mut Part) {
    // The series' tags as 1.x compares them: values in the order of the sorted keys.
    let mut keys: Vec<usize> = (0..plan.group_tags.len()).collect();
    keys.sort_by(|&a, &b| plan.group_tags[a].cmp(&plan.group_tags[b]));
    let ids: Vec<Arc<str>> = part
        .tag_values
        .iter()
        .map(|tags| {
            let values: Vec<&str> = keys
                .iter()
                .map(|&k| tags.get(k).map_or("", |v| v.as_ref()))
                .collect();
            Arc::from(values.join("\0"))
        })
        .collect();
    let order: Vec<usize> = if plan.aggregate {
        let window = |t: i64| plan.interval.map_or(0, |iv| iv.window(t));
        let mut order: Vec<usize> = (0..part.times.len()).collect();
        order.sort_by(|&a, &b| {
            window(part.times[a])
                .cmp(&window(part.times[b]))
                .then_with(|| ids[a].cmp(&ids[b]))
        });
        order
    } else {
        super::scan::merge_order(&ids, &part.times, &[], false, false)
    };
    part.times = order.iter().map(|&i| part.times[i]).collect();
    part.tag_values = order.iter().map(|&i| part.tag_values[i].clone()).collect();
    part.values = order.iter().map(|&i| part.values[i].clone()).collect();
}

/// The tables of the subqueries' series (which come grouped by measurement). Subqueries that
/// give the same measurement make one table, their rows merged by time as 1.x's sorted merge
/// of the subqueries' iterators does (ties go as its heap gives them).
pub(crate) fn tables(subs: Vec<(Plan, Vec<SeriesRows>)>) -> Result<Vec<SubTable>> {
    let mut by_name: Vec<(Arc<str>, Vec<Part>)> = Vec::new();
    for (plan, series) in subs {
        for part in parts(&plan, series) {
            match by_name.iter_mut().find(|(m, _)| *m == part.measurement) {
                Some((_, v)) => v.push(part),
                None => by_name.push((Arc::clone(&part.measurement), vec![part])),
            }
        }
    }
    by_name
        .into_iter()
        .map(|(m, parts)| table(&m, &parts))
        .collect()
}

fn table(m: &str, parts: &[Part]) -> Result<SubTable> {
    let id = Id::from_u64(1).ok_or_else(|| Error::Internal("id".to_owned()))?;
    let mut tags: Vec<&str> = Vec::new();
    let mut fields: Vec<(&str, &ArrowType)> = Vec::new();
    for p in parts {
        for t in &p.tags {
            if !tags.contains(&t.as_str()) {
                tags.push(t);
            }
        }
        for (f, ty) in &p.fields {
            if !fields.iter().any(|(n, _)| n == f) {
                fields.push((f, ty));
            }
        }
    }
    // Every row as (part, row in part), in the merged order.
    let mut rows: Vec<(usize, usize)> = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        rows.extend((0..p.times.len()).map(|i| (k, i)));
    }
    if parts.len() > 1 {
        let keys: Vec<Arc<str>> = rows
            .iter()
            .map(|&(k, _)| Arc::from(format!("{k:020}")))
            .collect();
        let times: Vec<i64> = rows.iter().map(|&(k, i)| parts[k].times[i]).collect();
        let order = super::scan::merge_order(&keys, &times, &[], false, false);
        rows = order.into_iter().map(|r| rows[r]).collect();
    }
    let time: Vec<Value> = rows
        .iter()
        .map(|&(k, i)| Value::Int(parts[k].times[i]))
        .collect();
    let mut columns = vec![CatalogColumn {
        name: "time".to_owned(),
        kind: ColumnKind::Time,
    }];
    let dict = ArrowType::Dictionary(Box::new(ArrowType::Int32), Box::new(ArrowType::Utf8));
    let mut schema_fields = vec![Field::new("time", timestamp_type(), false)];
    let mut arrays: Vec<ArrayRef> = vec![to_array(&time, &timestamp_type())];
    for t in &tags {
        let col: Vec<Value> = rows
            .iter()
            .map(|&(k, i)| {
                let p = &parts[k];
                p.tags
                    .iter()
                    .position(|x| x == t)
                    .and_then(|j| p.tag_values[i].get(j))
                    .map_or(Value::Null, |v| Value::Str(Arc::clone(v)))
            })
            .collect();
        columns.push(CatalogColumn {
            name: (*t).to_owned(),
            kind: ColumnKind::Tag,
        });
        schema_fields.push(Field::new(*t, dict.clone(), true));
        arrays.push(cast(&to_array(&col, &ArrowType::Utf8), &dict)?);
    }
    for (f, fallback) in &fields {
        let col: Vec<Value> = rows
            .iter()
            .map(|&(k, i)| {
                let p = &parts[k];
                p.fields
                    .iter()
                    .position(|(n, _)| n == f)
                    .and_then(|j| p.values[i].get(j))
                    .cloned()
                    .unwrap_or(Value::Null)
            })
            .collect();
        let ft = field_type(&infer_type(&col, (*fallback).clone()));
        columns.push(CatalogColumn {
            name: (*f).to_owned(),
            kind: ColumnKind::Field(ft),
        });
        schema_fields.push(Field::new(*f, arrow_of(ft), true));
        arrays.push(to_array(&col, &arrow_of(ft)));
    }
    let seq: Vec<Value> = (0..rows.len())
        .map(|i| Value::Int(i64::try_from(i).unwrap_or(i64::MAX)))
        .collect();
    schema_fields.push(Field::new(SEQ, ArrowType::Int64, false));
    arrays.push(to_array(&seq, &ArrowType::Int64));
    let schema = Arc::new(Schema::new(schema_fields));
    let batch = RecordBatch::try_new(Arc::clone(&schema), arrays)?;
    let provider: Arc<dyn TableProvider> = Arc::new(MemTable::try_new(schema, vec![vec![batch]])?);
    let table = TableSchema::new(&Table {
        id,
        bucket_id: id,
        name: m.to_owned(),
        columns,
        explicit: false,
    });
    Ok((Arc::new(table), provider))
}
