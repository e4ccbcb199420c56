//! The parsed form of one line.

use std::borrow::Cow;

/// One line of line protocol. Names and strings borrow from the body unless they held escapes.
///
/// A line from the parser always has at least one field, no two tags or fields with the same
/// key, no tag or field named `time`, and no empty names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedLine<'a> {
    pub measurement: Cow<'a, str>,
    /// In input order.
    pub tags: Vec<Tag<'a>>,
    /// In input order; a repeated field sits where its last occurrence was.
    pub fields: Vec<Field<'a>>,
    /// As written, in the write's precision; `None` means "use the server's clock".
    pub timestamp: Option<i64>,
    /// 1-based physical line of the body where this line starts.
    pub line_number: usize,
}

/// A tag: both parts are unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag<'a> {
    pub key: Cow<'a, str>,
    pub value: Cow<'a, str>,
}

/// A field: the key is unescaped.
#[derive(Debug, Clone, PartialEq)]
pub struct Field<'a> {
    pub key: Cow<'a, str>,
    pub value: FieldValue<'a>,
}

/// A field value. A bare number (`1`, `1.5`, `1e3`) is a float; `1i` is an integer, `1u` an
/// unsigned integer.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    F64(f64),
    I64(i64),
    U64(u64),
    /// Unescaped.
    Str(Cow<'a, str>),
    Bool(bool),
}

impl FieldValue<'_> {
    /// Whether both values have the same type (the contents do not matter).
    pub fn same_type(&self, other: &FieldValue<'_>) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    /// The type's name as InfluxDB's schema calls it.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldValue::F64(_) => "float",
            FieldValue::I64(_) => "integer",
            FieldValue::U64(_) => "unsigned",
            FieldValue::Str(_) => "string",
            FieldValue::Bool(_) => "boolean",
        }
    }

    /// Copies a borrowed string so that the value outlives the body.
    pub fn into_owned(self) -> FieldValue<'static> {
        match self {
            FieldValue::F64(v) => FieldValue::F64(v),
            FieldValue::I64(v) => FieldValue::I64(v),
            FieldValue::U64(v) => FieldValue::U64(v),
            FieldValue::Str(v) => FieldValue::Str(Cow::Owned(v.into_owned())),
            FieldValue::Bool(v) => FieldValue::Bool(v),
        }
    }
}

impl<'a> ParsedLine<'a> {
    /// The tags ordered by key, as a series key wants them.
    pub fn sorted_tags(&self) -> Vec<&Tag<'a>> {
        let mut tags: Vec<&Tag<'a>> = self.tags.iter().collect();
        tags.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        tags
    }

    pub fn tag_value(&self, key: &str) -> Option<&str> {
        self.tags.iter().find(|t| t.key == key).map(|t| &*t.value)
    }

    pub fn field_value(&self, key: &str) -> Option<&FieldValue<'a>> {
        self.fields.iter().find(|f| f.key == key).map(|f| &f.value)
    }

    /// Copies whatever still borrows from the body.
    pub fn into_owned(self) -> ParsedLine<'static> {
        let owned = |s: Cow<'_, str>| Cow::Owned(s.into_owned());
        ParsedLine {
            measurement: owned(self.measurement),
            tags: self
                .tags
                .into_iter()
                .map(|t| Tag {
                    key: owned(t.key),
                    value: owned(t.value),
                })
                .collect(),
            fields: self
                .fields
                .into_iter()
                .map(|f| Field {
                    key: owned(f.key),
                    value: f.value.into_owned(),
                })
                .collect(),
            timestamp: self.timestamp,
            line_number: self.line_number,
        }
    }
}
