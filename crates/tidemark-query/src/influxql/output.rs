//! Results as Arrow, in the shape InfluxDB 3 gives InfluxQL results: `iox::measurement`
//! first, then `time` for SELECT, then the columns; the GROUP BY tags are listed in the schema
//! metadata so that the v1 encoder can cut rows into series.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampNanosecondBuilder, UInt64Builder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::value::Value;
use crate::error::Result;

/// The schema metadata key naming the measurement and GROUP BY tag columns.
pub const GROUP_KEY_METADATA: &str = "iox::influxql::group_key::metadata";
/// The first column of every InfluxQL result.
pub const MEASUREMENT_COLUMN: &str = "iox::measurement";

/// One output column, its values by row.
#[derive(Debug)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) data_type: DataType,
    pub(crate) nullable: bool,
    pub(crate) values: Vec<Value>,
}

impl Column {
    pub(crate) fn new(name: impl Into<String>, data_type: DataType, values: Vec<Value>) -> Self {
        Self {
            name: name.into(),
            data_type,
            nullable: true,
            values,
        }
    }

    pub(crate) fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }
}

/// A GROUP BY tag column, for the metadata.
#[derive(Debug, Clone)]
pub(crate) struct TagKeyColumn {
    pub(crate) key: String,
    pub(crate) index: usize,
    pub(crate) projected: bool,
}

pub(crate) fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, None)
}

/// The type a column of `values` gets: the values' own type, floats where integers and floats
/// mix, strings where strings mix with anything; `fallback` when every value is null.
pub(crate) fn infer_type(values: &[Value], fallback: DataType) -> DataType {
    let mut found: Option<DataType> = None;
    for v in values {
        let t = match v {
            Value::Null => continue,
            Value::Float(_) => DataType::Float64,
            Value::Int(_) => DataType::Int64,
            Value::UInt(_) => DataType::UInt64,
            Value::Str(_) => DataType::Utf8,
            Value::Bool(_) => DataType::Boolean,
        };
        found = Some(match found {
            None => t,
            Some(f) if f == t => f,
            Some(f) if f.is_numeric() && t.is_numeric() => DataType::Float64,
            Some(_) => DataType::Utf8,
        });
        if found == Some(DataType::Utf8) {
            break;
        }
    }
    found.unwrap_or(fallback)
}

pub(crate) fn to_array(values: &[Value], data_type: &DataType) -> ArrayRef {
    match data_type {
        DataType::Float64 => {
            let mut b = Float64Builder::with_capacity(values.len());
            values.iter().for_each(|v| b.append_option(v.as_f64()));
            Arc::new(b.finish())
        }
        DataType::Int64 => {
            let mut b = Int64Builder::with_capacity(values.len());
            for v in values {
                b.append_option(match v {
                    Value::Int(i) => Some(*i),
                    Value::UInt(u) => i64::try_from(*u).ok(),
                    Value::Float(f) => Some(*f as i64),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        DataType::UInt64 => {
            let mut b = UInt64Builder::with_capacity(values.len());
            for v in values {
                b.append_option(match v {
                    Value::UInt(u) => Some(*u),
                    Value::Int(i) => u64::try_from(*i).ok(),
                    Value::Float(f) => Some(*f as u64),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        DataType::Boolean => {
            let mut b = BooleanBuilder::with_capacity(values.len());
            for v in values {
                b.append_option(match v {
                    Value::Bool(x) => Some(*x),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        DataType::Timestamp(_, zone) => {
            let mut b = TimestampNanosecondBuilder::with_capacity(values.len());
            for v in values {
                b.append_option(match v {
                    Value::Int(i) => Some(*i),
                    _ => None,
                });
            }
            Arc::new(b.finish().with_timezone_opt(zone.clone()))
        }
        _ => {
            let mut b = StringBuilder::with_capacity(values.len(), values.len() * 8);
            for v in values {
                match v {
                    Value::Null => b.append_null(),
                    Value::Str(s) => b.append_value(s),
                    Value::Float(f) => b.append_value(f.to_string()),
                    Value::Int(i) => b.append_value(i.to_string()),
                    Value::UInt(u) => b.append_value(u.to_string()),
                    Value::Bool(x) => b.append_value(x.to_string()),
                }
            }
            Arc::new(b.finish())
        }
    }
}

/// The metadata value listing the GROUP BY tag columns.
pub(crate) fn group_key_metadata(tags: &[TagKeyColumn]) -> String {
    let tags: Vec<serde_json::Value> = tags
        .iter()
        .map(|t| {
            serde_json::json!({
                "tag_key": t.key,
                "column_index": t.index,
                "is_projected": t.projected,
            })
        })
        .collect();
    serde_json::json!({"measurement_column_index": 0, "tag_key_columns": tags}).to_string()
}

/// One batch of `columns` (all of one length), with the group key metadata.
pub(crate) fn batch(columns: Vec<Column>, tags: &[TagKeyColumn]) -> Result<RecordBatch> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| Field::new(&c.name, c.data_type.clone(), c.nullable))
        .collect();
    let metadata = HashMap::from([(GROUP_KEY_METADATA.to_owned(), group_key_metadata(tags))]);
    let schema: SchemaRef = Arc::new(Schema::new_with_metadata(fields, metadata));
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|c| to_array(&c.values, &c.data_type))
        .collect();
    Ok(RecordBatch::try_new(schema, arrays)?)
}

/// A column of strings.
pub(crate) fn strings<S: AsRef<str>>(name: &str, values: &[S]) -> Column {
    Column::new(
        name,
        DataType::Utf8,
        values
            .iter()
            .map(|s| Value::Str(Arc::from(s.as_ref())))
            .collect(),
    )
}
