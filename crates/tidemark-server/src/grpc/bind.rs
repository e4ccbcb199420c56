//! Parameters bound to a Flight SQL prepared statement with `DoPut`: the client sends one row
//! of values, column `i` for placeholder `$i+1` (Flight SQL binds by position). The server
//! keeps no state, so the values go into a new handle, which the client then uses in place of
//! the old one.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use serde_json::{Map, Number, Value};
use tidemark_query::{Param, Params};

use crate::error::{Error, Result};

/// The parameters in `batches`: exactly one row, one column per placeholder. A column is bound
/// to `$<position>` and, when it has a name that is not a number, also to `$<name>`.
pub(crate) fn params(batches: &[RecordBatch]) -> Result<Params> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(Params::new());
    };
    if rows > 1 {
        return Err(Error::invalid(format!(
            "a query binds one set of parameters, got {rows} rows"
        )));
    }
    let mut out = Params::new();
    for (i, (field, column)) in batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .enumerate()
    {
        let value = param(column.as_ref()).ok_or_else(|| {
            Error::invalid(format!(
                "parameter {} has type {}, which cannot be bound",
                i + 1,
                column.data_type()
            ))
        })?;
        let name = field.name();
        if !name.is_empty() && name.parse::<usize>().is_err() {
            out.insert(name.trim_start_matches('$').to_owned(), value.clone());
        }
        out.insert((i + 1).to_string(), value);
    }
    Ok(out)
}

/// The value in row 0 of `column`, if its type is one a parameter can have.
fn param(column: &dyn Array) -> Option<Param> {
    if column.is_null(0) {
        return Some(Param::Null);
    }
    Some(match column.data_type() {
        DataType::Null => Param::Null,
        DataType::Boolean => Param::Bool(column.as_boolean().value(0)),
        DataType::Int8 => Param::Int(i64::from(column.as_primitive::<Int8Type>().value(0))),
        DataType::Int16 => Param::Int(i64::from(column.as_primitive::<Int16Type>().value(0))),
        DataType::Int32 => Param::Int(i64::from(column.as_primitive::<Int32Type>().value(0))),
        DataType::Int64 => Param::Int(column.as_primitive::<Int64Type>().value(0)),
        DataType::UInt8 => Param::UInt(u64::from(column.as_primitive::<UInt8Type>().value(0))),
        DataType::UInt16 => Param::UInt(u64::from(column.as_primitive::<UInt16Type>().value(0))),
        DataType::UInt32 => Param::UInt(u64::from(column.as_primitive::<UInt32Type>().value(0))),
        DataType::UInt64 => Param::UInt(column.as_primitive::<UInt64Type>().value(0)),
        DataType::Float16 => Param::Float(f64::from(column.as_primitive::<Float16Type>().value(0))),
        DataType::Float32 => Param::Float(f64::from(column.as_primitive::<Float32Type>().value(0))),
        DataType::Float64 => Param::Float(column.as_primitive::<Float64Type>().value(0)),
        DataType::Utf8 => Param::String(column.as_string::<i32>().value(0).to_owned()),
        DataType::LargeUtf8 => Param::String(column.as_string::<i64>().value(0).to_owned()),
        DataType::Utf8View => Param::String(column.as_string_view().value(0).to_owned()),
        _ => return None,
    })
}

/// A handle (this server's JSON ticket) with `params` in place of the ones it had.
pub(crate) fn rebind(handle: &[u8], params: &Params) -> Result<Vec<u8>> {
    let mut ticket: Map<String, Value> = serde_json::from_slice(handle)
        .map_err(|e| Error::invalid(format!("Invalid prepared statement handle: {e}")))?;
    let json: Map<String, Value> = params
        .iter()
        .map(|(name, p)| {
            let v = match p {
                Param::Null => Value::Null,
                Param::Bool(b) => Value::Bool(*b),
                Param::Int(i) => Value::Number((*i).into()),
                Param::UInt(u) => Value::Number((*u).into()),
                Param::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
                Param::String(s) => Value::String(s.clone()),
            };
            (name.clone(), v)
        })
        .collect();
    ticket.insert("params".to_owned(), Value::Object(json));
    serde_json::to_vec(&ticket).map_err(|e| Error::internal(format!("encoding a handle: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int32Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn one_row_binds_by_position_and_name() {
        let schema = Schema::new(vec![
            Field::new("host", DataType::Utf8, true),
            Field::new("1", DataType::Int32, true),
            Field::new("", DataType::Float64, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec!["a"])),
                Arc::new(Int32Array::from(vec![7])),
                Arc::new(Float64Array::from(vec![None])),
            ],
        )
        .unwrap();
        let p = params(std::slice::from_ref(&batch)).unwrap();
        assert_eq!(p.get("1"), Some(&Param::String("a".to_owned())));
        assert_eq!(p.get("host"), Some(&Param::String("a".to_owned())));
        assert_eq!(p.get("2"), Some(&Param::Int(7)));
        assert_eq!(p.get("3"), Some(&Param::Null));
        assert_eq!(p.len(), 4);

        let two = arrow::compute::concat_batches(&batch.schema(), [&batch, &batch]).unwrap();
        assert!(params(&[two]).is_err());
        assert!(params(&[]).unwrap().is_empty());
    }

    #[test]
    fn rebind_replaces_the_handles_params() {
        let handle = br#"{"database":"db","sql_query":"SELECT $1","params":{"1":5}}"#;
        let mut p = Params::new();
        p.insert("1".to_owned(), Param::String("x".to_owned()));
        let new = rebind(handle, &p).unwrap();
        let t = super::super::ticket::parse(&new).unwrap();
        assert_eq!(t.params, p);
        assert_eq!(t.query, "SELECT $1");
        assert!(rebind(b"not json", &p).is_err());
    }
}
