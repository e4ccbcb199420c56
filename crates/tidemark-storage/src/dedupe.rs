//! Sorting and de-duplication: two rows with the same series (tag set) and time are one point.
//! Their fields merge and, field by field, the newest non-null value wins.

use arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow::compute::{concat_batches, take};
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, SortField};

use crate::error::{Error, Result};
use crate::schema::TIME_COLUMN;

/// Sorts the rows of `batches` by `sort_key` (tag columns) then time, merging duplicates.
/// `batches` must share `schema` and be ordered oldest first; within a batch, later rows are
/// newer.
pub fn sort_dedupe(
    schema: &SchemaRef,
    sort_key: &[&str],
    batches: &[RecordBatch],
) -> Result<RecordBatch> {
    let all = concat_batches(schema, batches)?;
    let n = all.num_rows();
    if n == 0 {
        return Ok(all);
    }
    let mut key_names: Vec<&str> = sort_key.to_vec();
    key_names.push(TIME_COLUMN);
    let mut key_columns: Vec<ArrayRef> = Vec::with_capacity(key_names.len());
    for name in &key_names {
        let col = all
            .column_by_name(name)
            .ok_or_else(|| Error::Internal(format!("sort key column {name} is missing")))?;
        key_columns.push(std::sync::Arc::clone(col));
    }
    let converter = RowConverter::new(
        key_columns
            .iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect(),
    )?;
    let rows = converter.convert_columns(&key_columns)?;
    let len = u32::try_from(n).map_err(|_| Error::Internal("too many rows to sort".to_owned()))?;
    let mut order: Vec<u32> = (0..len).collect();
    // Stable: among equal keys the older row stays first.
    order.sort_by(|&a, &b| rows.row(a as usize).cmp(&rows.row(b as usize)));

    // Runs of equal keys: [start, end) into `order`.
    let mut runs: Vec<(usize, usize)> = Vec::with_capacity(n);
    let mut start = 0;
    for i in 1..=order.len() {
        if i == order.len() || rows.row(order[i] as usize) != rows.row(order[start] as usize) {
            runs.push((start, i));
            start = i;
        }
    }

    if runs.len() == n {
        let indices = UInt32Array::from(order);
        let columns = all
            .columns()
            .iter()
            .map(|c| take(c.as_ref(), &indices, None))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(RecordBatch::try_new(
            std::sync::Arc::clone(schema),
            columns,
        )?);
    }

    let first = UInt32Array::from(runs.iter().map(|&(s, _)| order[s]).collect::<Vec<u32>>());
    let mut columns = Vec::with_capacity(all.num_columns());
    for (field, column) in schema.fields().iter().zip(all.columns()) {
        let is_key = key_names.contains(&field.name().as_str());
        let indices = if is_key {
            first.clone()
        } else {
            // The newest row of the run that has a value, else the newest row (a null).
            UInt32Array::from(
                runs.iter()
                    .map(|&(s, e)| {
                        order[s..e]
                            .iter()
                            .rev()
                            .find(|&&i| column.is_valid(i as usize))
                            .copied()
                            .unwrap_or(order[e - 1])
                    })
                    .collect::<Vec<u32>>(),
            )
        };
        columns.push(take(column.as_ref(), &indices, None)?);
    }
    Ok(RecordBatch::try_new(
        std::sync::Arc::clone(schema),
        columns,
    )?)
}

/// The smallest and largest time of a non-empty batch.
pub fn time_range(batch: &RecordBatch) -> Result<(i64, i64)> {
    let time = batch
        .column_by_name(TIME_COLUMN)
        .and_then(|c| {
            c.as_any()
                .downcast_ref::<arrow::array::TimestampNanosecondArray>()
        })
        .ok_or_else(|| Error::Internal("batch without a time column".to_owned()))?;
    let min = arrow::compute::min(time).ok_or_else(|| Error::Internal("empty batch".to_owned()))?;
    let max = arrow::compute::max(time).ok_or_else(|| Error::Internal("empty batch".to_owned()))?;
    Ok((min, max))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{DictionaryArray, Float64Array, Int64Array, TimestampNanosecondArray};
    use arrow::datatypes::{DataType, Field, Int32Type, Schema, TimeUnit};
    use arrow::util::pretty::pretty_format_batches;

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("a", DataType::Float64, true),
            Field::new(
                "host",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
            Field::new(
                "time",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                false,
            ),
            Field::new("b", DataType::Int64, true),
        ]))
    }

    fn batch(
        a: Vec<Option<f64>>,
        host: Vec<Option<&str>>,
        time: Vec<i64>,
        b: Vec<Option<i64>>,
    ) -> RecordBatch {
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(Float64Array::from(a)),
                Arc::new(host.into_iter().collect::<DictionaryArray<Int32Type>>()),
                Arc::new(TimestampNanosecondArray::from(time)),
                Arc::new(Int64Array::from(b)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn merges_field_by_field_newest_wins() {
        let old = batch(
            vec![Some(1.0), Some(2.0), Some(3.0)],
            vec![Some("y"), Some("x"), None],
            vec![5, 5, 1],
            vec![Some(10), None, Some(30)],
        );
        let new = batch(
            vec![None, Some(9.0)],
            vec![Some("y"), Some("x")],
            vec![5, 5],
            vec![Some(11), None],
        );
        let out = sort_dedupe(&schema(), &["host"], &[old, new]).unwrap();
        let text = pretty_format_batches(&[out]).unwrap().to_string();
        let expected = "\
+-----+------+-------------------------------+----+
| a   | host | time                          | b  |
+-----+------+-------------------------------+----+
| 3.0 |      | 1970-01-01T00:00:00.000000001 | 30 |
| 9.0 | x    | 1970-01-01T00:00:00.000000005 |    |
| 1.0 | y    | 1970-01-01T00:00:00.000000005 | 11 |
+-----+------+-------------------------------+----+";
        assert_eq!(text, expected);
    }

    #[test]
    fn sorts_without_duplicates() {
        let b = batch(
            vec![Some(1.0), Some(2.0)],
            vec![Some("b"), Some("a")],
            vec![1, 2],
            vec![None, None],
        );
        let out = sort_dedupe(&schema(), &["host"], &[b]).unwrap();
        assert_eq!(out.num_rows(), 2);
        let a = out
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert_eq!(a.values(), &[2.0, 1.0]);
    }
}
