//! Sorting and de-duplication: two rows with the same series (tag set) and time are one point.
//! Their fields merge and, field by field, the newest non-null value wins.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, DictionaryArray, RecordBatch, TimestampNanosecondArray, UInt32Array,
};
use arrow::compute::{cast, interleave, take};
use arrow::datatypes::{DataType, Int32Type, SchemaRef};

use crate::error::{Error, Result};
use crate::schema::TIME_COLUMN;

/// Sorts the rows of `batches` by `sort_key` (tag columns) then time, merging duplicates.
/// `batches` must share `schema` and be ordered oldest first; within a batch, later rows are
/// newer.
///
/// Instead of comparing tag strings row against row, each row gets the rank of its series (its
/// tag values, compared column by column as strings, a missing tag first) among the series
/// present, computed once from the dictionaries; rows then sort as one `u128` key
/// (series, time, arrival), which also keeps equal points oldest first. Several batches are
/// gathered by `interleave`, without concatenating them first.
pub fn sort_dedupe(
    schema: &SchemaRef,
    sort_key: &[&str],
    batches: &[RecordBatch],
) -> Result<RecordBatch> {
    let batches: Vec<&RecordBatch> = batches.iter().filter(|b| b.num_rows() > 0).collect();
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    if total == 0 {
        return Ok(RecordBatch::new_empty(Arc::clone(schema)));
    }
    // A row's arrival number takes the low 32 bits of its sort key.
    u32::try_from(total).map_err(|_| Error::Internal("too many rows to sort".to_owned()))?;
    let mut offsets = Vec::with_capacity(batches.len());
    let mut at = 0usize;
    for b in &batches {
        offsets.push(at);
        at += b.num_rows();
    }

    let series = series_ranks(&batches, sort_key, total)?;
    let mut keys: Vec<u128> = Vec::with_capacity(total);
    for (b, batch) in batches.iter().enumerate() {
        let time = time_column(batch)?;
        for (row, t) in time.values().iter().enumerate() {
            let seq = offsets[b] + row;
            // Flipping the sign bit makes signed times order as unsigned ones.
            let t = (*t as u64) ^ (1 << 63);
            keys.push((u128::from(series[seq]) << 96) | (u128::from(t) << 32) | seq as u128);
        }
    }
    keys.sort_unstable();

    // Runs of one point: equal series and time (the top 96 bits).
    let point = |k: u128| k >> 32;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for i in 1..=keys.len() {
        if i == keys.len() || point(keys[i]) != point(keys[start]) {
            runs.push((start, i));
            start = i;
        }
    }
    let locate = |k: u128| {
        let seq = (k & u128::from(u32::MAX)) as usize;
        let b = offsets.partition_point(|&o| o <= seq) - 1;
        (b, seq - offsets[b])
    };

    let mut key_names: Vec<&str> = sort_key.to_vec();
    key_names.push(TIME_COLUMN);
    let first: Vec<(usize, usize)> = runs.iter().map(|&(s, _)| locate(keys[s])).collect();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (c, field) in schema.fields().iter().enumerate() {
        let arrays: Vec<&dyn Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
        let indices = if runs.len() == total || key_names.contains(&field.name().as_str()) {
            first.clone()
        } else {
            // The newest row of the point that has a value, else the newest row (a null).
            runs.iter()
                .map(|&(s, e)| {
                    let newest = keys[s..e]
                        .iter()
                        .rev()
                        .map(|&k| locate(k))
                        .find(|&(b, r)| arrays[b].is_valid(r));
                    newest.unwrap_or_else(|| locate(keys[e - 1]))
                })
                .collect()
        };
        columns.push(gather(&arrays, &indices)?);
    }
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

/// `take` for one source array (the common case, and faster), `interleave` for several.
fn gather(arrays: &[&dyn Array], indices: &[(usize, usize)]) -> Result<ArrayRef> {
    if let [only] = arrays {
        let rows = UInt32Array::from_iter_values(indices.iter().map(|&(_, r)| r as u32));
        return Ok(take(*only, &rows, None)?);
    }
    Ok(interleave(arrays, indices)?)
}

fn time_column(batch: &RecordBatch) -> Result<&TimestampNanosecondArray> {
    batch
        .column_by_name(TIME_COLUMN)
        .and_then(|c| c.as_any().downcast_ref::<TimestampNanosecondArray>())
        .ok_or_else(|| Error::Internal("batch without a time column".to_owned()))
}

/// For every row of `batches` (in order), the rank of its series among the series present.
fn series_ranks(batches: &[&RecordBatch], sort_key: &[&str], total: usize) -> Result<Vec<u32>> {
    let mut ids: Vec<u64> = vec![0; total];
    // How many distinct values `ids` can hold so far.
    let mut bound: u64 = 1;
    for name in sort_key {
        let mut dicts: Vec<DictionaryArray<Int32Type>> = Vec::with_capacity(batches.len());
        for b in batches {
            let column = b
                .column_by_name(name)
                .ok_or_else(|| Error::Internal(format!("sort key column {name} is missing")))?;
            let dict = match column.data_type() {
                DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                    column.as_dictionary::<Int32Type>().clone()
                }
                _ => {
                    let target =
                        DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
                    cast(column, &target)?.as_dictionary::<Int32Type>().clone()
                }
            };
            dicts.push(dict);
        }
        // Every distinct value of the column, in string order; rank 0 is a missing tag.
        let mut values: Vec<&str> = Vec::new();
        for d in &dicts {
            values.extend(d.values().as_string::<i32>().iter().flatten());
        }
        values.sort_unstable();
        values.dedup();
        let rank: HashMap<&str, u64> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (*v, i as u64 + 1))
            .collect();
        let width = values.len() as u64 + 1;
        if bound.checked_mul(width).is_none() {
            bound = densify(&mut ids);
        }
        bound = bound.saturating_mul(width);
        let mut at = 0;
        for d in &dicts {
            let strings = d.values().as_string::<i32>();
            let key_rank: Vec<u64> = (0..strings.len())
                .map(|i| {
                    if strings.is_null(i) {
                        0
                    } else {
                        rank.get(strings.value(i)).copied().unwrap_or(0)
                    }
                })
                .collect();
            for (row, key) in d.keys().iter().enumerate() {
                let r = key
                    .and_then(|k| key_rank.get(usize::try_from(k).ok()?).copied())
                    .unwrap_or(0);
                ids[at + row] = ids[at + row] * width + r;
            }
            at += d.len();
        }
    }
    densify(&mut ids);
    Ok(ids.into_iter().map(|i| i as u32).collect())
}

/// Replaces each id by its rank among the distinct ids (order kept); returns how many there are.
fn densify(ids: &mut [u64]) -> u64 {
    let mut distinct = ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    for id in ids.iter_mut() {
        *id = distinct.partition_point(|&d| d < *id) as u64;
    }
    distinct.len() as u64
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
    /// Schema with two tags, for the randomised comparison.
    fn two_tags() -> SchemaRef {
        let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        Arc::new(Schema::new(vec![
            Field::new("a", dict.clone(), true),
            Field::new("b", dict, true),
            Field::new(
                "time",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                false,
            ),
            Field::new("v", DataType::Int64, true),
            Field::new("w", DataType::Float64, true),
        ]))
    }

    type Point = (
        Option<String>,
        Option<String>,
        i64,
        Option<i64>,
        Option<f64>,
    );

    /// What `sort_dedupe` must return, computed the obvious way.
    fn reference(rows: &[Point]) -> Vec<Point> {
        let mut merged: std::collections::BTreeMap<(Option<String>, Option<String>, i64), Point> =
            std::collections::BTreeMap::new();
        for r in rows {
            let e = merged
                .entry((r.0.clone(), r.1.clone(), r.2))
                .or_insert_with(|| (r.0.clone(), r.1.clone(), r.2, None, None));
            if r.3.is_some() {
                e.3 = r.3;
            }
            if r.4.is_some() {
                e.4 = r.4;
            }
        }
        merged.into_values().collect()
    }

    fn to_batch(rows: &[Point]) -> RecordBatch {
        RecordBatch::try_new(
            two_tags(),
            vec![
                Arc::new(
                    rows.iter()
                        .map(|r| r.0.as_deref())
                        .collect::<DictionaryArray<Int32Type>>(),
                ),
                Arc::new(
                    rows.iter()
                        .map(|r| r.1.as_deref())
                        .collect::<DictionaryArray<Int32Type>>(),
                ),
                Arc::new(TimestampNanosecondArray::from_iter_values(
                    rows.iter().map(|r| r.2),
                )),
                Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.3))),
                Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.4))),
            ],
        )
        .unwrap()
    }

    fn from_batch(b: &RecordBatch) -> Vec<Point> {
        let tag = |i: usize, row: usize| -> Option<String> {
            let d = b.column(i).as_dictionary::<Int32Type>();
            d.is_valid(row).then(|| {
                let k = d.keys().value(row) as usize;
                d.values().as_string::<i32>().value(k).to_owned()
            })
        };
        let time = b
            .column(2)
            .as_primitive::<arrow::datatypes::TimestampNanosecondType>();
        let v = b.column(3).as_primitive::<arrow::datatypes::Int64Type>();
        let w = b.column(4).as_primitive::<arrow::datatypes::Float64Type>();
        (0..b.num_rows())
            .map(|r| {
                (
                    tag(0, r),
                    tag(1, r),
                    time.value(r),
                    v.is_valid(r).then(|| v.value(r)),
                    w.is_valid(r).then(|| w.value(r)),
                )
            })
            .collect()
    }

    /// Random batches (several dictionaries, missing tags, negative times, many duplicates)
    /// against the obvious implementation.
    #[test]
    fn matches_the_obvious_merge() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let names = ["", "a", "b", "ab", "ä", "z"];
        for _ in 0..50 {
            let mut all: Vec<Point> = Vec::new();
            let mut batches = Vec::new();
            for _ in 0..1 + next(4) {
                let rows: Vec<Point> = (0..next(40))
                    .map(|_| {
                        let tag = |x: u64| (x > 0).then(|| names[x as usize - 1].to_owned());
                        (
                            tag(next(7)),
                            tag(next(3)),
                            next(9) as i64 - 4,
                            (next(3) > 0).then(|| next(100) as i64),
                            (next(3) > 0).then(|| next(100) as f64),
                        )
                    })
                    .collect();
                all.extend(rows.iter().cloned());
                batches.push(to_batch(&rows));
            }
            let out = sort_dedupe(&two_tags(), &["a", "b"], &batches).unwrap();
            assert_eq!(from_batch(&out), reference(&all));
        }
    }
}
