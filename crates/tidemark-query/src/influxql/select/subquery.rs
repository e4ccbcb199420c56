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

/// The tables of a subquery's series (which come grouped by measurement).
pub(crate) fn tables(plan: &Plan, series: Vec<SeriesRows>) -> Result<Vec<SubTable>> {
    let id = Id::from_u64(1).ok_or_else(|| Error::Internal("id".to_owned()))?;
    // Fields named like a GROUP BY tag or `time` are that tag or the time already.
    let fields: Vec<usize> = (0..plan.fields.len())
        .filter(|&i| {
            let n = &plan.fields[i].name;
            n != "time" && !plan.group_tags.contains(n)
        })
        .collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < series.len() {
        let m = Arc::clone(&series[start].0);
        let end = series[start..]
            .iter()
            .position(|s| s.0 != m)
            .map_or(series.len(), |p| start + p);
        let group = &series[start..end];
        start = end;
        let mut time = Vec::new();
        let mut tags: Vec<Vec<Value>> = vec![Vec::new(); plan.group_tags.len()];
        let mut values: Vec<Vec<Value>> = vec![Vec::new(); fields.len()];
        for (_, key, rows) in group {
            for row in rows {
                time.push(Value::Int(row.time));
                for (col, k) in tags.iter_mut().zip(key) {
                    col.push(Value::Str(Arc::clone(k)));
                }
                for (col, &f) in values.iter_mut().zip(&fields) {
                    col.push(row.values.get(f).cloned().unwrap_or(Value::Null));
                }
            }
        }
        let mut columns = vec![CatalogColumn {
            name: "time".to_owned(),
            kind: ColumnKind::Time,
        }];
        let dict = ArrowType::Dictionary(Box::new(ArrowType::Int32), Box::new(ArrowType::Utf8));
        let mut schema_fields = vec![Field::new("time", timestamp_type(), false)];
        let mut arrays: Vec<ArrayRef> = vec![to_array(&time, &timestamp_type())];
        for (g, col) in plan.group_tags.iter().zip(&tags) {
            columns.push(CatalogColumn {
                name: g.clone(),
                kind: ColumnKind::Tag,
            });
            schema_fields.push(Field::new(g, dict.clone(), true));
            arrays.push(cast(&to_array(col, &ArrowType::Utf8), &dict)?);
        }
        for (&f, col) in fields.iter().zip(&values) {
            let field = &plan.fields[f];
            let ft = field_type(&infer_type(col, static_type(plan, &field.expr)));
            columns.push(CatalogColumn {
                name: field.name.clone(),
                kind: ColumnKind::Field(ft),
            });
            schema_fields.push(Field::new(&field.name, arrow_of(ft), true));
            arrays.push(to_array(col, &arrow_of(ft)));
        }
        let schema = Arc::new(Schema::new(schema_fields));
        let batch = RecordBatch::try_new(Arc::clone(&schema), arrays)?;
        let provider: Arc<dyn TableProvider> =
            Arc::new(MemTable::try_new(schema, vec![vec![batch]])?);
        let table = TableSchema::new(&Table {
            id,
            bucket_id: id,
            name: m.to_string(),
            columns,
            explicit: false,
        });
        out.push((Arc::new(table), provider));
    }
    Ok(out)
}
