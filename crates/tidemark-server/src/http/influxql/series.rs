//! InfluxDB 3's Arrow shape for InfluxQL results, cut into v1 series.
//!
//! The answer's schema metadata (`iox::influxql::group_key::metadata`) names the measurement
//! column and the GROUP BY tag columns. Rows arrive ordered by measurement, group tag values and
//! time, so a series is a run of consecutive rows with the same (measurement, tag values). The
//! measurement becomes the series `name`, the group tags its `tags`; neither the measurement
//! column nor a group tag that was not selected is a column of the series.

use arrow::array::timezone::Tz;
use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampNanosecondArray, UInt64Array,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Schema, TimeUnit};
use chrono::{Offset, TimeZone};
use serde::Deserialize;
use tidemark_query::{GROUP_KEY_METADATA, MEASUREMENT_COLUMN};

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    /// Nanoseconds since the epoch; the encoder decides how it is written.
    Time(i64),
    /// A time in the zone `tz('...')` asked for: nanoseconds since the epoch and the zone's
    /// offset from UTC at that instant, in seconds (1.x writes such times with their offset).
    Zoned(i64, i32),
}

/// A series, or a slice of one in chunked mode.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Series {
    pub(crate) name: String,
    /// The GROUP BY tags, sorted by key.
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) columns: Vec<String>,
    pub(crate) values: Vec<Vec<Cell>>,
    /// More rows of this series follow in the next chunk.
    pub(crate) partial: bool,
}

/// One statement's result, or a chunk of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct StatementResult {
    pub(crate) statement_id: usize,
    pub(crate) series: Vec<Series>,
    /// More chunks of this statement follow.
    pub(crate) partial: bool,
    pub(crate) error: Option<String>,
}

impl StatementResult {
    pub(crate) fn error(statement_id: usize, message: impl Into<String>) -> Self {
        Self {
            statement_id,
            error: Some(message.into()),
            ..Self::default()
        }
    }
}

/// The metadata's JSON; InfluxDB 3 writes it in camelCase, this server's planner in snake_case.
#[derive(Debug, Deserialize)]
struct GroupKey {
    #[serde(default, alias = "measurementColumnIndex")]
    measurement_column_index: usize,
    #[serde(default, alias = "tagKeyColumns")]
    tag_key_columns: Vec<TagKeyColumn>,
}

#[derive(Debug, Deserialize)]
struct TagKeyColumn {
    #[serde(alias = "tagKey")]
    tag_key: String,
    #[serde(alias = "columnIndex")]
    column_index: usize,
    #[serde(default, alias = "isProjected")]
    is_projected: bool,
}

/// Which columns are what.
#[derive(Debug, Clone)]
struct Shape {
    measurement: Option<usize>,
    /// GROUP BY tags, sorted by key: (key, column index).
    tags: Vec<(String, usize)>,
    /// The columns a series shows, in schema order.
    output: Vec<usize>,
    columns: Vec<String>,
}

impl Shape {
    fn of(schema: &Schema) -> Self {
        let by_name = schema.index_of(MEASUREMENT_COLUMN).ok();
        let group = schema
            .metadata()
            .get(GROUP_KEY_METADATA)
            .and_then(|m| serde_json::from_str::<GroupKey>(m).ok());
        let width = schema.fields().len();
        let (measurement, mut tags, hidden) = match group {
            Some(g) => {
                let measurement = Some(g.measurement_column_index).filter(|i| *i < width);
                let tags: Vec<(String, usize)> = g
                    .tag_key_columns
                    .iter()
                    .filter(|t| t.column_index < width)
                    .map(|t| (t.tag_key.clone(), t.column_index))
                    .collect();
                let hidden: Vec<usize> = g
                    .tag_key_columns
                    .iter()
                    .filter(|t| !t.is_projected)
                    .map(|t| t.column_index)
                    .collect();
                (measurement, tags, hidden)
            }
            None => (by_name, Vec::new(), Vec::new()),
        };
        tags.sort();
        let output: Vec<usize> = (0..width)
            .filter(|i| Some(*i) != measurement && !hidden.contains(i))
            .collect();
        let columns = output
            .iter()
            .map(|i| schema.field(*i).name().clone())
            .collect();
        Self {
            measurement,
            tags,
            output,
            columns,
        }
    }
}

/// Cuts a statement's batches into series of at most `chunk_size` rows.
#[derive(Debug)]
pub(crate) struct Splitter {
    shape: Shape,
    chunk_size: usize,
    current: Option<Series>,
}

impl Splitter {
    pub(crate) fn new(schema: &Schema, chunk_size: usize) -> Self {
        Self {
            shape: Shape::of(schema),
            chunk_size: chunk_size.max(1),
            current: None,
        }
    }

    /// Takes a batch; returns the series (or slices) that are complete now. A slice is only
    /// handed out once a further row shows whether its series goes on (`partial`).
    pub(crate) fn push(&mut self, batch: &RecordBatch) -> Vec<Series> {
        let mut done = Vec::new();
        let rows = batch.num_rows();
        if rows == 0 {
            return done;
        }
        let names = self.shape.measurement.map(|i| strings(batch.column(i)));
        let tags: Vec<StringArray> = self
            .shape
            .tags
            .iter()
            .map(|(_, i)| strings(batch.column(*i)))
            .collect();
        let mut columns: Vec<std::vec::IntoIter<Cell>> = self
            .shape
            .output
            .iter()
            .map(|i| cells(batch.column(*i)).into_iter())
            .collect();
        for row in 0..rows {
            let name = names.as_ref().map_or("", |n| text(n, row));
            let values: Vec<Cell> = columns
                .iter_mut()
                .map(|c| c.next().unwrap_or(Cell::Null))
                .collect();
            // Compared in place: a new series is the only time anything is allocated.
            let same = self.current.as_ref().is_some_and(|s| {
                s.name == name
                    && s.tags
                        .iter()
                        .zip(&tags)
                        .all(|((_, value), column)| value == text(column, row))
            });
            match self.current.as_mut() {
                Some(cur) if same => {
                    if cur.values.len() >= self.chunk_size {
                        let next = Series {
                            name: cur.name.clone(),
                            tags: cur.tags.clone(),
                            columns: cur.columns.clone(),
                            ..Series::default()
                        };
                        let mut full = std::mem::replace(cur, next);
                        full.partial = true;
                        done.push(full);
                    }
                    cur.values.push(values);
                }
                _ => {
                    let row_tags = self
                        .shape
                        .tags
                        .iter()
                        .zip(&tags)
                        .map(|((key, _), column)| (key.clone(), text(column, row).to_owned()))
                        .collect();
                    let started = Series {
                        name: name.to_owned(),
                        tags: row_tags,
                        columns: self.shape.columns.clone(),
                        values: vec![values],
                        partial: false,
                    };
                    if let Some(finished) = self.current.replace(started) {
                        done.push(finished);
                    }
                }
            }
        }
        done
    }

    /// The last series, if any rows came.
    pub(crate) fn finish(&mut self) -> Option<Series> {
        self.current.take()
    }
}

/// A column as strings (measurement names and tag values); a column that cannot be read as
/// text reads as nulls.
fn strings(array: &ArrayRef) -> StringArray {
    cast(array, &DataType::Utf8)
        .ok()
        .and_then(|a| a.as_any().downcast_ref::<StringArray>().cloned())
        .unwrap_or_else(|| StringArray::new_null(array.len()))
}

/// A row's text; null is empty, as 1.x shows a missing tag.
fn text(column: &StringArray, row: usize) -> &str {
    if column.is_valid(row) {
        column.value(row)
    } else {
        ""
    }
}

/// The type a column is read as.
fn canonical(data_type: &DataType) -> DataType {
    match data_type {
        // The zone is kept: casting it away would shift the instants to local time.
        DataType::Timestamp(_, zone) => DataType::Timestamp(TimeUnit::Nanosecond, zone.clone()),
        DataType::Date32 | DataType::Date64 => DataType::Timestamp(TimeUnit::Nanosecond, None),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => DataType::Int64,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            DataType::UInt64
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => DataType::Float64,
        DataType::Boolean => DataType::Boolean,
        DataType::Null => DataType::Null,
        _ => DataType::Utf8,
    }
}

/// A column as cells.
pub(crate) fn cells(array: &ArrayRef) -> Vec<Cell> {
    let want = canonical(array.data_type());
    let Ok(a) = cast(array, &want) else {
        return vec![Cell::Null; array.len()];
    };
    let any = a.as_any();
    if let Some(v) = any.downcast_ref::<TimestampNanosecondArray>() {
        match zone(a.data_type()) {
            Some(tz) => each(v, |i| {
                let nanos = v.value(i);
                let instant = chrono::DateTime::from_timestamp_nanos(nanos).naive_utc();
                let offset = tz.offset_from_utc_datetime(&instant).fix();
                Cell::Zoned(nanos, offset.local_minus_utc())
            }),
            None => each(v, |i| Cell::Time(v.value(i))),
        }
    } else if let Some(v) = any.downcast_ref::<Int64Array>() {
        each(v, |i| Cell::Int(v.value(i)))
    } else if let Some(v) = any.downcast_ref::<UInt64Array>() {
        each(v, |i| Cell::UInt(v.value(i)))
    } else if let Some(v) = any.downcast_ref::<Float64Array>() {
        each(v, |i| Cell::Float(v.value(i)))
    } else if let Some(v) = any.downcast_ref::<BooleanArray>() {
        each(v, |i| Cell::Bool(v.value(i)))
    } else if let Some(v) = any.downcast_ref::<StringArray>() {
        each(v, |i| Cell::Str(v.value(i).to_owned()))
    } else {
        vec![Cell::Null; a.len()]
    }
}

/// The zone of a timestamp column, if it has one that is not UTC.
fn zone(data_type: &DataType) -> Option<Tz> {
    match data_type {
        DataType::Timestamp(_, Some(name)) if !matches!(name.as_ref(), "UTC" | "+00:00" | "Z") => {
            name.parse().ok()
        }
        _ => None,
    }
}

/// `cell(i)` for each valid row, null for the others.
fn each(array: &dyn Array, cell: impl Fn(usize) -> Cell) -> Vec<Cell> {
    (0..array.len())
        .map(|i| {
            if array.is_valid(i) {
                cell(i)
            } else {
                Cell::Null
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow::array::DictionaryArray;
    use arrow::datatypes::{Field, Int32Type, SchemaRef};

    use super::*;

    /// `cpu` and `mem` rows grouped by `host`, which is not selected (IOx shape).
    pub(crate) fn grouped() -> RecordBatch {
        let metadata = HashMap::from([(
            GROUP_KEY_METADATA.to_owned(),
            r#"{"measurement_column_index":0,"tag_key_columns":[{"tag_key":"host","column_index":2,"is_projected":false}]}"#.to_owned(),
        )]);
        let schema: SchemaRef = Arc::new(
            Schema::new(vec![
                Field::new(
                    MEASUREMENT_COLUMN,
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                    false,
                ),
                Field::new(
                    "time",
                    DataType::Timestamp(TimeUnit::Nanosecond, None),
                    false,
                ),
                Field::new("host", DataType::Utf8, true),
                Field::new("usage", DataType::Float64, true),
            ])
            .with_metadata(metadata),
        );
        let m: DictionaryArray<Int32Type> = vec!["cpu", "cpu", "cpu", "mem"].into_iter().collect();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(m),
                Arc::new(TimestampNanosecondArray::from(vec![0, 10, 0, 5])),
                Arc::new(StringArray::from(vec![
                    Some("a"),
                    Some("a"),
                    Some("b"),
                    None,
                ])),
                Arc::new(Float64Array::from(vec![
                    Some(1.5),
                    Some(2.0),
                    None,
                    Some(f64::NAN),
                ])),
            ],
        )
        .expect("batch")
    }

    fn tags(host: &str) -> Vec<(String, String)> {
        vec![("host".to_owned(), host.to_owned())]
    }

    #[test]
    fn rows_become_series_by_measurement_and_group_tags() {
        let batch = grouped();
        let mut s = Splitter::new(&batch.schema(), usize::MAX);
        let mut out = s.push(&batch);
        out.extend(s.finish());
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].name, "cpu");
        assert_eq!(out[0].tags, tags("a"));
        assert_eq!(out[0].columns, ["time", "usage"]);
        assert_eq!(
            out[0].values,
            vec![
                vec![Cell::Time(0), Cell::Float(1.5)],
                vec![Cell::Time(10), Cell::Float(2.0)]
            ]
        );
        assert_eq!(out[1].tags, tags("b"));
        assert_eq!(out[1].values, vec![vec![Cell::Time(0), Cell::Null]]);
        assert_eq!(
            (out[2].name.as_str(), out[2].tags.clone()),
            ("mem", tags(""))
        );
        assert!(out.iter().all(|s| !s.partial));
    }

    #[test]
    fn chunks_cut_series_and_say_so() {
        let batch = grouped();
        let mut s = Splitter::new(&batch.schema(), 1);
        // A slice is handed out only when the next row arrives.
        let first = s.push(&batch.slice(0, 1));
        assert!(first.is_empty());
        let mut out = s.push(&batch.slice(1, 3));
        out.extend(s.finish());
        let shape: Vec<(&str, usize, bool)> = out
            .iter()
            .map(|s| (s.name.as_str(), s.values.len(), s.partial))
            .collect();
        assert_eq!(
            shape,
            [
                ("cpu", 1, true),
                ("cpu", 1, false),
                ("cpu", 1, false),
                ("mem", 1, false)
            ]
        );
        assert_eq!(out[1].tags, tags("a"));
        assert_eq!(out[1].columns, ["time", "usage"]);
    }

    #[test]
    fn zoned_and_coarse_timestamps_keep_their_instant() {
        let zoned: ArrayRef = Arc::new(
            arrow::array::TimestampSecondArray::from(vec![Some(1), None])
                .with_timezone("America/Chicago"),
        );
        // Chicago is six hours behind UTC in January 1970.
        assert_eq!(
            cells(&zoned),
            vec![Cell::Zoned(1_000_000_000, -6 * 3600), Cell::Null]
        );
        let dict: ArrayRef = Arc::new(
            vec!["x", "y"]
                .into_iter()
                .collect::<DictionaryArray<Int32Type>>(),
        );
        assert_eq!(
            cells(&dict),
            vec![Cell::Str("x".into()), Cell::Str("y".into())]
        );
        let small: ArrayRef = Arc::new(arrow::array::Int32Array::from(vec![Some(-3), None]));
        assert_eq!(cells(&small), vec![Cell::Int(-3), Cell::Null]);
    }

    #[test]
    fn any_chunk_size_and_batching_gives_the_same_rows() {
        let batch = grouped();
        let mut whole = Splitter::new(&batch.schema(), usize::MAX);
        let mut want = whole.push(&batch);
        want.extend(whole.finish());
        for chunk in 1..5 {
            for cut in 0..=batch.num_rows() {
                let mut s = Splitter::new(&batch.schema(), chunk);
                let mut got = s.push(&batch.slice(0, cut));
                got.extend(s.push(&batch.slice(cut, batch.num_rows() - cut)));
                got.extend(s.finish());
                assert!(got.iter().all(|g| g.values.len() <= chunk));
                // Gluing each run of partial slices back together gives the whole series.
                let mut glued: Vec<Series> = Vec::new();
                let mut open = false;
                for mut g in got {
                    match glued.last_mut() {
                        Some(last) if open => last.values.append(&mut g.values),
                        _ => glued.push(g.clone()),
                    }
                    open = g.partial;
                    if let Some(last) = glued.last_mut() {
                        last.partial = false;
                    }
                }
                // Debug text, because NaN is not equal to itself.
                assert_eq!(
                    format!("{glued:?}"),
                    format!("{want:?}"),
                    "chunk {chunk}, cut {cut}"
                );
            }
        }
    }

    #[test]
    fn without_metadata_the_measurement_column_still_names_series() {
        let schema = Arc::new(Schema::new(vec![
            Field::new(MEASUREMENT_COLUMN, DataType::Utf8, false),
            Field::new("name", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["measurements", "measurements"])),
                Arc::new(StringArray::from(vec!["cpu", "mem"])),
            ],
        )
        .expect("batch");
        let mut s = Splitter::new(&batch.schema(), 10);
        assert!(s.push(&batch).is_empty());
        let only = s.finish().expect("one series");
        assert_eq!(only.name, "measurements");
        assert!(only.tags.is_empty());
        assert_eq!(only.columns, ["name"]);
        assert_eq!(only.values.len(), 2);
    }

    #[test]
    fn projected_group_tags_stay_columns_and_camel_case_metadata_reads() {
        let metadata = HashMap::from([(
            GROUP_KEY_METADATA.to_owned(),
            r#"{"measurementColumnIndex":0,"tagKeyColumns":[{"tagKey":"host","columnIndex":1,"isProjected":true}]}"#.to_owned(),
        )]);
        let schema = Schema::new(vec![
            Field::new(MEASUREMENT_COLUMN, DataType::Utf8, false),
            Field::new("host", DataType::Utf8, true),
            Field::new("n", DataType::Int32, true),
        ])
        .with_metadata(metadata);
        let shape = Shape::of(&schema);
        assert_eq!(shape.columns, ["host", "n"]);
        assert_eq!(shape.tags, [("host".to_owned(), 1)]);
    }
}
