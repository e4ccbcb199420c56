//! The write path: parse, check every line against its table's schema, register new tables and
//! columns in the catalog, append one WAL record, apply it to the buffer.

use std::collections::HashMap;
use std::sync::Arc;

use tidemark_catalog::{Column, ColumnKind, FieldType, SchemaType};
use tidemark_lp::{FieldValue, LineError, LineErrorKind};

use super::{Engine, WriteOutcome, WriteRequest, MAX_LINE_ERRORS};
use crate::batch::{encode_batch, TableRows, Value};
use crate::error::{Error, Result};
use crate::schema::{iox_column_type, TableSchema};

/// One table's part of a request.
#[derive(Debug, Default)]
struct Pending {
    schema: Option<Arc<TableSchema>>,
    rows: TableRows,
    /// Columns the table does not have yet, with the first line that used each.
    new_columns: Vec<Column>,
    /// Lines accepted into `rows`.
    lines: Vec<usize>,
}

impl Pending {
    /// The kind a column has: in the table, or added earlier in this request.
    fn known_kind(&self, name: &str) -> Option<ColumnKind> {
        self.schema
            .as_ref()
            .and_then(|s| s.column(name))
            .map(|(_, k)| k)
            .or_else(|| {
                self.new_columns
                    .iter()
                    .find(|c| c.name == name)
                    .map(|c| c.kind)
            })
    }
}

fn field_kind(v: &FieldValue<'_>) -> ColumnKind {
    ColumnKind::Field(match v {
        FieldValue::F64(_) => FieldType::Float,
        FieldValue::I64(_) => FieldType::Integer,
        FieldValue::U64(_) => FieldType::UInteger,
        FieldValue::Str(_) => FieldType::String,
        FieldValue::Bool(_) => FieldType::Boolean,
    })
}

fn value<'a>(v: &'a FieldValue<'_>) -> Value<'a> {
    match v {
        FieldValue::F64(x) => Value::F64(*x),
        FieldValue::I64(x) => Value::I64(*x),
        FieldValue::U64(x) => Value::U64(*x),
        FieldValue::Str(s) => Value::Str(s),
        FieldValue::Bool(b) => Value::Bool(*b),
    }
}

fn write_error(line: usize, message: String) -> LineError {
    LineError {
        line,
        kind: LineErrorKind::Write,
        message,
    }
}

/// Why a column of a line cannot be written, if it cannot.
fn column_problem(
    table: &str,
    column: &str,
    want: ColumnKind,
    have: Option<ColumnKind>,
    explicit: bool,
) -> Option<String> {
    match have {
        Some(have) if have == want => None,
        Some(ColumnKind::Field(old)) if matches!(want, ColumnKind::Field(_)) => {
            let ColumnKind::Field(new) = want else {
                return None;
            };
            Some(format!(
                "field type conflict: input field \"{column}\" on measurement \"{table}\" is type {}, already exists as type {}",
                new.as_str(),
                old.as_str()
            ))
        }
        Some(have) => Some(format!(
            "Unable to insert {} type into column {column} with type {}",
            iox_column_type(want),
            iox_column_type(have)
        )),
        None if explicit => Some(format!(
            "column \"{column}\" is not in the explicit schema of measurement \"{table}\""
        )),
        None => None,
    }
}

/// InfluxDB 3 Core's `auto` precision: the unit that puts the timestamp in a plausible era.
fn guess_precision(ts: i64) -> tidemark_lp::Precision {
    use tidemark_lp::Precision;
    match ts.unsigned_abs() {
        t if t < 5_000_000_000 => Precision::Second,
        t if t < 5_000_000_000_000 => Precision::Millisecond,
        t if t < 5_000_000_000_000_000 => Precision::Microsecond,
        _ => Precision::Nanosecond,
    }
}

/// The errors of a request, capped as InfluxDB caps them.
#[derive(Debug, Default)]
struct Errors {
    kept: Vec<LineError>,
    total: usize,
}

impl Errors {
    fn push(&mut self, e: LineError) {
        self.total += 1;
        if self.kept.len() < MAX_LINE_ERRORS {
            self.kept.push(e);
        }
    }
}

impl Engine {
    /// Writes a request's valid lines and reports the others.
    ///
    /// An `Err` means nothing was acknowledged: the request failed as a whole (WAL or catalog
    /// unavailable) and the caller answers 503.
    pub async fn write(&self, req: WriteRequest<'_>) -> Result<WriteOutcome> {
        let explicit = req.bucket.schema_type == SchemaType::Explicit;
        let mut tables: HashMap<String, Pending> = HashMap::new();
        let mut errors = Errors::default();
        let mut lines = tidemark_lp::parse_lines(req.body);
        let mut tag_ids: Vec<u16> = Vec::new();
        while let Some(item) = lines.next_borrowed() {
            let line = match item {
                Ok(line) => line,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let n = line.line_number;
            let time = match line.timestamp {
                Some(ts) => match tidemark_lp::to_nanos(
                    ts,
                    req.precision.unwrap_or_else(|| guess_precision(ts)),
                ) {
                    Some(t) => t,
                    None => {
                        errors.push(LineError::timestamp_overflow(n));
                        continue;
                    }
                },
                None => req.now,
            };
            let table_name: &str = &line.measurement;
            if !tables.contains_key(table_name) {
                let schema = self.table(req.bucket.id, table_name);
                tables.insert(
                    table_name.to_owned(),
                    Pending {
                        schema,
                        ..Default::default()
                    },
                );
            }
            let Some(pending) = tables.get_mut(table_name) else {
                continue;
            };
            if explicit && !pending.schema.as_ref().is_some_and(|s| s.explicit) {
                errors.push(write_error(
                    n,
                    format!("measurement \"{table_name}\" has no schema in this bucket, whose schema type is explicit"),
                ));
                continue;
            }
            let mut problem = None;
            let mut added = Vec::new();
            let columns = line
                .tags
                .iter()
                .map(|t| (&*t.key, ColumnKind::Tag))
                .chain(line.fields.iter().map(|f| (&*f.key, field_kind(&f.value))));
            for (name, want) in columns {
                let have = pending.known_kind(name).or_else(|| {
                    added
                        .iter()
                        .find(|c: &&Column| c.name == name)
                        .map(|c| c.kind)
                });
                if let Some(p) = column_problem(table_name, name, want, have, explicit) {
                    problem = Some(p);
                    break;
                }
                if have.is_none() {
                    added.push(Column {
                        name: name.to_owned(),
                        kind: want,
                    });
                }
            }
            if let Some(p) = problem {
                errors.push(write_error(n, p));
                continue;
            }
            pending.new_columns.extend(added);
            tag_ids.clear();
            for t in &line.tags {
                let id = pending.rows.column(&t.key, ColumnKind::Tag);
                pending.rows.value(id, Value::Tag(&t.value));
            }
            for f in &line.fields {
                let id = pending.rows.column(&f.key, field_kind(&f.value));
                pending.rows.value(id, value(&f.value));
            }
            pending.rows.end_row(time);
            pending.lines.push(n);
        }

        self.register_columns(req.bucket.id, &mut tables, &mut errors)
            .await?;

        let lines_written: usize = tables.values().map(|p| p.lines.len()).sum();
        let mut outcome = WriteOutcome {
            lines_written,
            rejected: errors.total,
            ..Default::default()
        };
        errors.kept.sort_by_key(|e| e.line);
        outcome.errors = errors.kept;
        if lines_written == 0 || (!req.accept_partial && outcome.rejected > 0) {
            outcome.lines_written = 0;
            return Ok(outcome);
        }
        let payload = bytes::Bytes::from(encode_batch(
            req.bucket.id,
            tables.iter().map(|(name, p)| (name.as_str(), &p.rows)),
        ));
        let _gate = self.gate.read().await;
        self.wal.append(payload.clone(), req.sync).await?;
        self.apply(&payload)?;
        Ok(outcome)
    }

    /// Adds new tables and columns to the catalog (and the schema cache). A table whose change
    /// the catalog refuses (a type clash with a concurrent writer, a limit) loses its lines.
    async fn register_columns(
        &self,
        bucket: tidemark_catalog::Id,
        tables: &mut HashMap<String, Pending>,
        errors: &mut Errors,
    ) -> Result<()> {
        for (name, pending) in tables.iter_mut() {
            if pending.new_columns.is_empty() && pending.schema.is_some() {
                continue;
            }
            let result = self
                .catalog
                .upsert_table(
                    bucket,
                    name,
                    &pending.new_columns,
                    false,
                    self.config.limits,
                )
                .await;
            match result {
                Ok(table) => {
                    let schema = Arc::new(TableSchema::new(&table));
                    self.state()
                        .schemas
                        .insert((bucket, name.clone()), Arc::clone(&schema));
                    pending.schema = Some(schema);
                }
                Err(
                    tidemark_catalog::Error::Conflict(message)
                    | tidemark_catalog::Error::LimitExceeded(message),
                ) => {
                    for &line in &pending.lines {
                        errors.push(write_error(line, message.clone()));
                    }
                    pending.lines.clear();
                    pending.rows = TableRows::default();
                }
                Err(e) => return Err(Error::Catalog(e)),
            }
        }
        Ok(())
    }
}
