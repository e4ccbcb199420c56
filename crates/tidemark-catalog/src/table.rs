//! Tables (one per measurement of a bucket), their columns, and the Parquet files holding their
//! persisted rows.

use crate::{Id, Nanos};

/// The type of a field column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Float,
    Integer,
    UInteger,
    String,
    Boolean,
}

impl FieldType {
    /// The name InfluxDB uses (`SHOW FIELD KEYS`, explicit schemas).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Float => "float",
            Self::Integer => "integer",
            Self::UInteger => "unsigned",
            Self::String => "string",
            Self::Boolean => "boolean",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "float" => Some(Self::Float),
            "integer" => Some(Self::Integer),
            "unsigned" => Some(Self::UInteger),
            "string" => Some(Self::String),
            "boolean" => Some(Self::Boolean),
            _ => None,
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    Time,
    Tag,
    Field(FieldType),
}

impl ColumnKind {
    /// Stored form: `time`, `tag`, or `field:<type>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Time => "time",
            Self::Tag => "tag",
            Self::Field(FieldType::Float) => "field:float",
            Self::Field(FieldType::Integer) => "field:integer",
            Self::Field(FieldType::UInteger) => "field:unsigned",
            Self::Field(FieldType::String) => "field:string",
            Self::Field(FieldType::Boolean) => "field:boolean",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "time" => Some(Self::Time),
            "tag" => Some(Self::Tag),
            other => other
                .strip_prefix("field:")
                .and_then(FieldType::parse)
                .map(Self::Field),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

/// A table and its columns, in the order they were added (`time` is not listed: every table
/// has it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub id: Id,
    pub bucket_id: Id,
    pub name: String,
    pub columns: Vec<Column>,
    /// Declared through an explicit measurement schema (writes may not add columns).
    pub explicit: bool,
}

/// Caps on a bucket's tables and a table's columns; exceeding one refuses the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaLimits {
    pub max_tables_per_bucket: usize,
    /// Counts tags and fields and `time`.
    pub max_columns_per_table: usize,
}

impl Default for SchemaLimits {
    /// InfluxDB Cloud's limits.
    fn default() -> Self {
        Self {
            max_tables_per_bucket: 500,
            max_columns_per_table: 200,
        }
    }
}

/// A Parquet file of persisted rows of one table and one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetFile {
    pub id: Id,
    pub bucket_id: Id,
    pub table_id: Id,
    /// Days since the Unix epoch of the rows' times.
    pub partition_day: i32,
    /// Object-store path.
    pub path: String,
    pub min_time: Nanos,
    pub max_time: Nanos,
    pub row_count: i64,
    pub size_bytes: i64,
    /// 0 for files written from the buffer; compaction writes higher levels.
    pub level: i16,
    pub created_at: Nanos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParquetFile {
    /// Chosen by the writer, so that it can name the object before registering it.
    pub id: Id,
    pub bucket_id: Id,
    pub table_id: Id,
    pub partition_day: i32,
    pub path: String,
    pub min_time: Nanos,
    pub max_time: Nanos,
    pub row_count: i64,
    pub size_bytes: i64,
    pub level: i16,
}
