//! The in-memory buffer: rows of one table, split into day partitions, held in Arrow builders.
//!
//! A row touches only the columns it has: every builder is padded with nulls lazily, when a
//! value arrives after rows that did not set it, or when a snapshot is taken.
//!
//! Every [`SEAL_ROWS`] rows the builders of a partition are sealed into an immutable batch.
//! A query's snapshot then shares the sealed batches and copies only the short tail, so its
//! cost, and the time it holds the engine's lock, do not grow with the buffer.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    new_null_array, ArrayBuilder, ArrayRef, BooleanBuilder, Float64Builder, Int64Builder,
    RecordBatch, StringBuilder, StringDictionaryBuilder, TimestampNanosecondArray, UInt64Builder,
};
use arrow::datatypes::Int32Type;
use tidemark_catalog::{ColumnKind, FieldType};

use crate::batch::Value;
use crate::error::{Error, Result};
use crate::schema::{align_batch, TableSchema, TIME_COLUMN};

pub const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// Rows after which a partition's builders become an immutable batch.
pub const SEAL_ROWS: usize = 65_536;

/// The day partition a time falls in.
pub fn day_of(time: i64) -> i32 {
    // Any i64 nanosecond time is within ±106,751 days, which fits an i32.
    time.div_euclid(NANOS_PER_DAY) as i32
}

/// The civil date `(year, month, day)` of a day number (days since 1970-01-01), by Howard
/// Hinnant's algorithm: partitions are named by it, and v1 answers print times with it.
pub fn civil_date(day: i64) -> (i64, i64, i64) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

enum ColumnBuilder {
    Tag(StringDictionaryBuilder<Int32Type>),
    F64(Float64Builder),
    I64(Int64Builder),
    U64(UInt64Builder),
    Str(StringBuilder),
    Bool(BooleanBuilder),
}

impl std::fmt::Debug for ColumnBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ColumnBuilder({} rows)", self.len())
    }
}

impl ColumnBuilder {
    fn new(kind: ColumnKind) -> Option<Self> {
        Some(match kind {
            ColumnKind::Time => return None,
            ColumnKind::Tag => Self::Tag(StringDictionaryBuilder::new()),
            ColumnKind::Field(FieldType::Float) => Self::F64(Float64Builder::new()),
            ColumnKind::Field(FieldType::Integer) => Self::I64(Int64Builder::new()),
            ColumnKind::Field(FieldType::UInteger) => Self::U64(UInt64Builder::new()),
            ColumnKind::Field(FieldType::String) => Self::Str(StringBuilder::new()),
            ColumnKind::Field(FieldType::Boolean) => Self::Bool(BooleanBuilder::new()),
        })
    }

    fn len(&self) -> usize {
        match self {
            Self::Tag(b) => b.len(),
            Self::F64(b) => b.len(),
            Self::I64(b) => b.len(),
            Self::U64(b) => b.len(),
            Self::Str(b) => b.len(),
            Self::Bool(b) => b.len(),
        }
    }

    fn pad(&mut self, rows: usize) {
        let missing = rows.saturating_sub(self.len());
        if missing == 0 {
            return;
        }
        match self {
            Self::Tag(b) => (0..missing).for_each(|_| b.append_null()),
            Self::F64(b) => b.append_nulls(missing),
            Self::I64(b) => b.append_nulls(missing),
            Self::U64(b) => b.append_nulls(missing),
            Self::Str(b) => (0..missing).for_each(|_| b.append_null()),
            Self::Bool(b) => b.append_nulls(missing),
        }
    }

    /// Appends a value; false if it does not fit the column's type.
    fn push(&mut self, v: Value<'_>) -> bool {
        match (self, v) {
            (Self::Tag(b), Value::Tag(s)) => {
                b.append_value(s);
            }
            (Self::F64(b), Value::F64(x)) => b.append_value(x),
            (Self::I64(b), Value::I64(x)) => b.append_value(x),
            (Self::U64(b), Value::U64(x)) => b.append_value(x),
            (Self::Str(b), Value::Str(s)) => b.append_value(s),
            (Self::Bool(b), Value::Bool(x)) => b.append_value(x),
            _ => return false,
        }
        true
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Tag(b) => Arc::new(b.finish()),
            Self::F64(b) => Arc::new(b.finish()),
            Self::I64(b) => Arc::new(b.finish()),
            Self::U64(b) => Arc::new(b.finish()),
            Self::Str(b) => Arc::new(b.finish()),
            Self::Bool(b) => Arc::new(b.finish()),
        }
    }

    fn finish_cloned(&self) -> ArrayRef {
        match self {
            Self::Tag(b) => Arc::new(b.finish_cloned()),
            Self::F64(b) => Arc::new(b.finish_cloned()),
            Self::I64(b) => Arc::new(b.finish_cloned()),
            Self::U64(b) => Arc::new(b.finish_cloned()),
            Self::Str(b) => Arc::new(b.finish_cloned()),
            Self::Bool(b) => Arc::new(b.finish_cloned()),
        }
    }
}

/// The rows of one table and one day.
#[derive(Debug, Default)]
pub struct Partition {
    /// Older rows, oldest first, each batch in the table's schema as it was when sealed.
    sealed: Vec<RecordBatch>,
    sealed_rows: usize,
    /// The newest rows, still in builders.
    time: Vec<i64>,
    /// Indexed by the table schema's column position; `None` until a row sets it.
    columns: Vec<Option<ColumnBuilder>>,
    pub min_time: i64,
    pub max_time: i64,
    /// A rough count of bytes held, for deciding when to persist.
    pub bytes: usize,
}

impl Partition {
    pub fn rows(&self) -> usize {
        self.sealed_rows + self.time.len()
    }

    /// The partition's rows as batches in `schema` (oldest first): the sealed batches, shared,
    /// and a copy of the rows still in builders.
    pub fn snapshot(&mut self, schema: &TableSchema) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::with_capacity(self.sealed.len() + 1);
        for batch in &self.sealed {
            out.push(align_batch(batch, schema.arrow_schema())?);
        }
        if !self.time.is_empty() {
            out.push(self.tail(schema, false)?);
        }
        Ok(out)
    }

    /// Replaces the partition's rows by `batch` (the same rows, sorted and de-duplicated).
    pub fn replace(&mut self, batch: RecordBatch) {
        self.time = Vec::new();
        self.columns = Vec::new();
        self.sealed_rows = batch.num_rows();
        self.sealed = vec![batch];
    }

    fn seal(&mut self, schema: &TableSchema) -> Result<()> {
        let batch = self.tail(schema, true)?;
        self.sealed_rows += batch.num_rows();
        self.sealed.push(batch);
        self.time = Vec::new();
        self.columns = Vec::new();
        Ok(())
    }

    /// The rows in builders as one batch; `take` empties the builders instead of copying them.
    fn tail(&mut self, schema: &TableSchema, take: bool) -> Result<RecordBatch> {
        let rows = self.time.len();
        let arrow = schema.arrow_schema();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(arrow.fields().len());
        for field in arrow.fields() {
            if field.name() == TIME_COLUMN {
                let time = if take {
                    std::mem::take(&mut self.time)
                } else {
                    self.time.clone()
                };
                arrays.push(Arc::new(TimestampNanosecondArray::from(time)));
                continue;
            }
            let array = match schema.column(field.name()) {
                Some((i, _)) => match self.columns.get_mut(i).and_then(Option::as_mut) {
                    Some(builder) => {
                        builder.pad(rows);
                        if take {
                            builder.finish()
                        } else {
                            builder.finish_cloned()
                        }
                    }
                    None => new_null_array(field.data_type(), rows),
                },
                None => new_null_array(field.data_type(), rows),
            };
            arrays.push(array);
        }
        Ok(RecordBatch::try_new(Arc::clone(arrow), arrays)?)
    }
}

/// Every buffered row of one table.
#[derive(Debug)]
pub struct TableBuffer {
    pub schema: Arc<TableSchema>,
    pub partitions: BTreeMap<i32, Partition>,
    pub bytes: usize,
}

impl TableBuffer {
    pub fn new(schema: Arc<TableSchema>) -> Self {
        Self {
            schema,
            partitions: BTreeMap::new(),
            bytes: 0,
        }
    }

    /// Appends one row. `values` name columns by their position in `self.schema`.
    pub fn push_row(&mut self, time: i64, values: &[(usize, Value<'_>)]) -> Result<()> {
        let partition = self.partitions.entry(day_of(time)).or_default();
        let row = partition.time.len();
        if row == 0 {
            partition.min_time = time;
            partition.max_time = time;
        } else {
            partition.min_time = partition.min_time.min(time);
            partition.max_time = partition.max_time.max(time);
        }
        let mut bytes = 8;
        for &(col, v) in values {
            if partition.columns.len() <= col {
                partition.columns.resize_with(col + 1, || None);
            }
            let slot = &mut partition.columns[col];
            if slot.is_none() {
                let kind = self
                    .schema
                    .columns
                    .get(col)
                    .map(|c| c.kind)
                    .ok_or_else(|| Error::Internal(format!("column {col} is not in the schema")))?;
                *slot = ColumnBuilder::new(kind);
            }
            let Some(builder) = slot.as_mut() else {
                return Err(Error::Internal("a value for the time column".to_owned()));
            };
            builder.pad(row);
            if !builder.push(v) {
                return Err(Error::Internal(format!(
                    "value {v:?} does not fit column {}",
                    self.schema.columns[col].name
                )));
            }
            bytes += match v {
                Value::Tag(s) | Value::Str(s) => s.len() + 4,
                _ => 8,
            };
        }
        partition.time.push(time);
        partition.bytes += bytes;
        self.bytes += bytes;
        if partition.time.len() >= SEAL_ROWS {
            partition.seal(&self.schema)?;
        }
        Ok(())
    }

    pub fn rows(&self) -> usize {
        self.partitions.values().map(Partition::rows).sum()
    }
}

#[cfg(test)]
mod tests {
    use arrow::util::pretty::pretty_format_batches;
    use tidemark_catalog::{Column, Id, Table};

    use super::*;

    fn schema() -> Arc<TableSchema> {
        let col = |name: &str, kind| Column {
            name: name.to_owned(),
            kind,
        };
        Arc::new(TableSchema::new(&Table {
            id: Id::from_u64(1).unwrap(),
            bucket_id: Id::from_u64(2).unwrap(),
            name: "cpu".to_owned(),
            columns: vec![
                col("host", ColumnKind::Tag),
                col("usage", ColumnKind::Field(FieldType::Float)),
                col("note", ColumnKind::Field(FieldType::String)),
            ],
            explicit: false,
        }))
    }

    #[test]
    fn sparse_rows_become_nulls_and_days_split() {
        let mut t = TableBuffer::new(schema());
        t.push_row(10, &[(0, Value::Tag("a")), (1, Value::F64(1.0))])
            .unwrap();
        t.push_row(20, &[(2, Value::Str("hi"))]).unwrap();
        t.push_row(NANOS_PER_DAY + 5, &[(0, Value::Tag("b"))])
            .unwrap();
        assert_eq!(t.partitions.len(), 2);
        assert_eq!(t.rows(), 3);
        let s = Arc::clone(&t.schema);
        let day0 = t.partitions.get_mut(&0).unwrap().snapshot(&s).unwrap();
        let text = pretty_format_batches(&day0).unwrap().to_string();
        let expected = "\
+------+------+-------------------------------+-------+
| host | note | time                          | usage |
+------+------+-------------------------------+-------+
| a    |      | 1970-01-01T00:00:00.000000010 | 1.0   |
|      | hi   | 1970-01-01T00:00:00.000000020 |       |
+------+------+-------------------------------+-------+";
        assert_eq!(text, expected);
        assert!(t.push_row(1, &[(1, Value::I64(3))]).is_err());
        assert_eq!(day_of(-1), -1);
    }
    #[test]
    fn sealed_batches_are_shared_and_aligned_to_a_grown_schema() {
        let mut t = TableBuffer::new(schema());
        for i in 0..SEAL_ROWS + 3 {
            t.push_row(i as i64, &[(0, Value::Tag("a")), (1, Value::F64(1.0))])
                .unwrap();
        }
        let p = t.partitions.get_mut(&0).unwrap();
        assert_eq!(p.rows(), SEAL_ROWS + 3);
        let s = Arc::clone(&t.schema);
        let snap = t.partitions.get_mut(&0).unwrap().snapshot(&s).unwrap();
        assert_eq!(
            snap.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(),
            vec![SEAL_ROWS, 3]
        );
        // A column added later reads as nulls in the sealed rows.
        let base = schema();
        let mut table = Table {
            id: base.table_id,
            bucket_id: Id::from_u64(2).unwrap(),
            name: "cpu".to_owned(),
            columns: base.columns.clone(),
            explicit: false,
        };
        table.columns.push(Column {
            name: "extra".to_owned(),
            kind: ColumnKind::Field(FieldType::Integer),
        });
        let grown = TableSchema::new(&table);
        let snap = t.partitions.get_mut(&0).unwrap().snapshot(&grown).unwrap();
        assert_eq!(snap[0].schema(), *grown.arrow_schema());
        let extra = snap[0].column_by_name("extra").unwrap();
        assert_eq!(extra.null_count(), SEAL_ROWS);
    }
}
