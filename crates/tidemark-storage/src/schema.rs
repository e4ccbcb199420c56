//! A table's schema as the engine uses it: column lookup by name, and the Arrow schema that
//! queries and Parquet files share.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use tidemark_catalog::{Column, ColumnKind, FieldType, Id, Table};

/// The key InfluxDB 3 puts on every column to say what it is.
pub const COLUMN_TYPE_KEY: &str = "iox::column::type";
pub const TIME_COLUMN: &str = "time";

/// A table's columns. Column positions (`index`) are stable: columns are only ever added.
#[derive(Debug)]
pub struct TableSchema {
    pub table_id: Id,
    pub bucket_id: Id,
    pub name: String,
    pub explicit: bool,
    /// In the order they were added; does not include `time`.
    pub columns: Vec<Column>,
    by_name: HashMap<String, usize>,
    /// Columns sorted by name with `time` among them: the order queries show them in.
    arrow: SchemaRef,
    /// Positions in `columns` of the tags, sorted by tag name: the series key order.
    tag_order: Vec<usize>,
}

pub fn arrow_type(kind: ColumnKind) -> DataType {
    match kind {
        ColumnKind::Time => DataType::Timestamp(TimeUnit::Nanosecond, None),
        ColumnKind::Tag => {
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
        }
        ColumnKind::Field(FieldType::Float) => DataType::Float64,
        ColumnKind::Field(FieldType::Integer) => DataType::Int64,
        ColumnKind::Field(FieldType::UInteger) => DataType::UInt64,
        ColumnKind::Field(FieldType::String) => DataType::Utf8,
        ColumnKind::Field(FieldType::Boolean) => DataType::Boolean,
    }
}

/// The `iox::column::type` value InfluxDB 3 gives a column kind.
pub fn iox_column_type(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Time => "iox::column_type::timestamp",
        ColumnKind::Tag => "iox::column_type::tag",
        ColumnKind::Field(FieldType::Float) => "iox::column_type::field::float",
        ColumnKind::Field(FieldType::Integer) => "iox::column_type::field::integer",
        ColumnKind::Field(FieldType::UInteger) => "iox::column_type::field::uinteger",
        ColumnKind::Field(FieldType::String) => "iox::column_type::field::string",
        ColumnKind::Field(FieldType::Boolean) => "iox::column_type::field::boolean",
    }
}

pub fn arrow_field(name: &str, kind: ColumnKind) -> Field {
    let nullable = kind != ColumnKind::Time;
    Field::new(name, arrow_type(kind), nullable).with_metadata(HashMap::from([(
        COLUMN_TYPE_KEY.to_owned(),
        iox_column_type(kind).to_owned(),
    )]))
}

impl TableSchema {
    pub fn new(table: &Table) -> Self {
        let columns: Vec<Column> = table
            .columns
            .iter()
            .filter(|c| c.kind != ColumnKind::Time)
            .cloned()
            .collect();
        let by_name = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        let mut fields: Vec<Field> = columns
            .iter()
            .map(|c| arrow_field(&c.name, c.kind))
            .collect();
        fields.push(arrow_field(TIME_COLUMN, ColumnKind::Time));
        fields.sort_by(|a, b| a.name().cmp(b.name()));
        let mut tag_order: Vec<usize> = (0..columns.len())
            .filter(|&i| columns[i].kind == ColumnKind::Tag)
            .collect();
        tag_order.sort_by(|&a, &b| columns[a].name.cmp(&columns[b].name));
        Self {
            table_id: table.id,
            bucket_id: table.bucket_id,
            name: table.name.clone(),
            explicit: table.explicit,
            columns,
            by_name,
            arrow: Arc::new(Schema::new(fields)),
            tag_order,
        }
    }

    pub fn column(&self, name: &str) -> Option<(usize, ColumnKind)> {
        self.by_name.get(name).map(|&i| (i, self.columns[i].kind))
    }

    pub fn arrow_schema(&self) -> &SchemaRef {
        &self.arrow
    }

    /// Tag column names sorted: the series key, which persisted files are sorted by before time.
    pub fn sort_key(&self) -> Vec<&str> {
        self.tag_order
            .iter()
            .map(|&i| self.columns[i].name.as_str())
            .collect()
    }
}

/// `batch` in `schema`, matching columns by name: a column missing from `batch` becomes nulls,
/// one `schema` lacks is dropped. A batch already in `schema` is returned as is (no copy): the
/// buffer's batches usually are, on every query and persistence.
pub fn align_batch(
    batch: &arrow::array::RecordBatch,
    schema: &arrow::datatypes::SchemaRef,
) -> std::result::Result<arrow::array::RecordBatch, arrow::error::ArrowError> {
    if batch.schema_ref() == schema || batch.schema().as_ref() == schema.as_ref() {
        return Ok(batch.clone());
    }
    let columns = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) => std::sync::Arc::clone(c),
            None => arrow::array::new_null_array(f.data_type(), batch.num_rows()),
        })
        .collect();
    arrow::array::RecordBatch::try_new(std::sync::Arc::clone(schema), columns)
}
