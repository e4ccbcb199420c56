//! The payload of one WAL record: the validated rows of one write request, grouped by table.
//!
//! Each table group names its columns, so a record can be applied without knowing the catalog's
//! state when it was written. Little-endian throughout:
//!
//! ```text
//! batch   := bucket_id u64, n_tables u32, table*
//! table   := name str, n_columns u16, (name str, kind u8)*, n_rows u32, row*
//! row     := time i64, n_values u16, (column u16, value)*
//! value   := tag: str | float: f64 | integer: i64 | unsigned: u64 | string: str | boolean: u8
//! str     := len u32, utf-8 bytes
//! ```

use tidemark_catalog::{ColumnKind, FieldType, Id};

use crate::error::{Error, Result};

fn kind_code(kind: ColumnKind) -> u8 {
    match kind {
        ColumnKind::Time => 0,
        ColumnKind::Tag => 1,
        ColumnKind::Field(FieldType::Float) => 2,
        ColumnKind::Field(FieldType::Integer) => 3,
        ColumnKind::Field(FieldType::UInteger) => 4,
        ColumnKind::Field(FieldType::String) => 5,
        ColumnKind::Field(FieldType::Boolean) => 6,
    }
}

fn kind_from(code: u8) -> Option<ColumnKind> {
    Some(match code {
        0 => ColumnKind::Time,
        1 => ColumnKind::Tag,
        2 => ColumnKind::Field(FieldType::Float),
        3 => ColumnKind::Field(FieldType::Integer),
        4 => ColumnKind::Field(FieldType::UInteger),
        5 => ColumnKind::Field(FieldType::String),
        6 => ColumnKind::Field(FieldType::Boolean),
        _ => return None,
    })
}

/// A value in a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Tag(&'a str),
    F64(f64),
    I64(i64),
    U64(u64),
    Str(&'a str),
    Bool(bool),
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

/// The rows of one table, with the columns they use; built while a request is validated.
#[derive(Debug, Default)]
pub struct TableRows {
    pub columns: Vec<(String, ColumnKind)>,
    rows: Vec<u8>,
    pub n_rows: u32,
    /// Scratch for the row being encoded.
    values: Vec<u8>,
    n_values: u16,
}

impl TableRows {
    /// The local index of a column, adding it on first use.
    pub fn column(&mut self, name: &str, kind: ColumnKind) -> u16 {
        match self
            .columns
            .iter()
            .position(|(n, k)| n == name && *k == kind)
        {
            Some(i) => i as u16,
            None => {
                self.columns.push((name.to_owned(), kind));
                (self.columns.len() - 1) as u16
            }
        }
    }

    pub fn value(&mut self, column: u16, v: Value<'_>) {
        self.n_values += 1;
        self.values.extend_from_slice(&column.to_le_bytes());
        match v {
            Value::Tag(s) | Value::Str(s) => put_str(&mut self.values, s),
            Value::F64(x) => self.values.extend_from_slice(&x.to_le_bytes()),
            Value::I64(x) => self.values.extend_from_slice(&x.to_le_bytes()),
            Value::U64(x) => self.values.extend_from_slice(&x.to_le_bytes()),
            Value::Bool(x) => self.values.push(u8::from(x)),
        }
    }

    /// Ends the row started by the `value` calls since the last one.
    pub fn end_row(&mut self, time: i64) {
        self.n_rows += 1;
        self.rows.extend_from_slice(&time.to_le_bytes());
        self.rows.extend_from_slice(&self.n_values.to_le_bytes());
        self.rows.extend_from_slice(&self.values);
        self.values.clear();
        self.n_values = 0;
    }

    /// Drops the values of a row that turned out to be invalid.
    pub fn abandon_row(&mut self) {
        self.values.clear();
        self.n_values = 0;
    }
}

/// Assembles the payload of a request from its tables' rows.
pub fn encode_batch<'a>(
    bucket_id: Id,
    tables: impl IntoIterator<Item = (&'a str, &'a TableRows)>,
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(4096);
    buf.extend_from_slice(&bucket_id.get().to_le_bytes());
    buf.extend_from_slice(&0u32.to_le_bytes());
    let mut n_tables = 0u32;
    for (name, t) in tables {
        if t.n_rows == 0 {
            continue;
        }
        n_tables += 1;
        put_str(&mut buf, name);
        buf.extend_from_slice(&(t.columns.len() as u16).to_le_bytes());
        for (col, kind) in &t.columns {
            put_str(&mut buf, col);
            buf.push(kind_code(*kind));
        }
        buf.extend_from_slice(&t.n_rows.to_le_bytes());
        buf.extend_from_slice(&t.rows);
    }
    buf[8..12].copy_from_slice(&n_tables.to_le_bytes());
    buf
}

/// A table group's name, its columns (name and kind), and its row count.
pub type TableHeader<'a> = (&'a str, Vec<(&'a str, ColumnKind)>, u32);

/// Reads a payload back.
#[derive(Debug)]
pub struct BatchReader<'a> {
    buf: &'a [u8],
    at: usize,
}

fn corrupt(what: &str) -> Error {
    Error::Internal(format!("malformed WAL payload: {what}"))
}

impl<'a> BatchReader<'a> {
    /// The bucket and the number of table groups.
    pub fn new(buf: &'a [u8]) -> Result<(Self, Id, u32)> {
        let mut r = Self { buf, at: 0 };
        let bucket = Id::from_u64(r.u64()?).ok_or_else(|| corrupt("zero bucket id"))?;
        let n = r.u32()?;
        Ok((r, bucket, n))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).ok_or_else(|| corrupt("length"))?;
        let s = self
            .buf
            .get(self.at..end)
            .ok_or_else(|| corrupt("truncated"))?;
        self.at = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.take(N)?.try_into().map_err(|_| corrupt("truncated"))
    }

    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn str(&mut self) -> Result<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).map_err(|_| corrupt("utf-8"))
    }

    /// The next table group's name, columns and row count.
    pub fn table(&mut self) -> Result<TableHeader<'a>> {
        let name = self.str()?;
        let n = self.u16()?;
        let mut columns = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let col = self.str()?;
            let kind = kind_from(self.array::<1>()?[0]).ok_or_else(|| corrupt("column kind"))?;
            columns.push((col, kind));
        }
        let rows = self.u32()?;
        Ok((name, columns, rows))
    }

    /// The next row of the current table; `values` is cleared and refilled.
    pub fn row(
        &mut self,
        columns: &[(&'a str, ColumnKind)],
        values: &mut Vec<(u16, Value<'a>)>,
    ) -> Result<i64> {
        values.clear();
        let time = i64::from_le_bytes(self.array()?);
        let n = self.u16()?;
        for _ in 0..n {
            let col = self.u16()?;
            let (_, kind) = columns
                .get(col as usize)
                .ok_or_else(|| corrupt("column index"))?;
            let v = match kind {
                ColumnKind::Tag => Value::Tag(self.str()?),
                ColumnKind::Field(FieldType::Float) => {
                    Value::F64(f64::from_le_bytes(self.array()?))
                }
                ColumnKind::Field(FieldType::Integer) => {
                    Value::I64(i64::from_le_bytes(self.array()?))
                }
                ColumnKind::Field(FieldType::UInteger) => {
                    Value::U64(u64::from_le_bytes(self.array()?))
                }
                ColumnKind::Field(FieldType::String) => Value::Str(self.str()?),
                ColumnKind::Field(FieldType::Boolean) => Value::Bool(self.array::<1>()?[0] != 0),
                ColumnKind::Time => return Err(corrupt("time as a value")),
            };
            values.push((col, v));
        }
        Ok(time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bucket = Id::from_u64(7).unwrap();
        let mut cpu = TableRows::default();
        let host = cpu.column("host", ColumnKind::Tag);
        let v = cpu.column("v", ColumnKind::Field(FieldType::Float));
        cpu.value(host, Value::Tag("a"));
        cpu.value(v, Value::F64(1.5));
        cpu.end_row(1);
        cpu.value(host, Value::Tag("dropped"));
        cpu.abandon_row();
        let s_col = cpu.column("s", ColumnKind::Field(FieldType::String));
        let ok = cpu.column("ok", ColumnKind::Field(FieldType::Boolean));
        cpu.value(s_col, Value::Str("x"));
        cpu.value(ok, Value::Bool(true));
        cpu.end_row(2);
        let mut mem = TableRows::default();
        let u = mem.column("u", ColumnKind::Field(FieldType::UInteger));
        mem.value(u, Value::U64(u64::MAX));
        mem.end_row(-5);
        let empty = TableRows::default();
        let bytes = encode_batch(bucket, [("cpu", &cpu), ("none", &empty), ("mem", &mem)]);

        let (mut r, b, n) = BatchReader::new(&bytes).unwrap();
        assert_eq!((b, n), (bucket, 2));
        let (name, columns, rows) = r.table().unwrap();
        assert_eq!((name, rows), ("cpu", 2));
        let mut values = Vec::new();
        assert_eq!(r.row(&columns, &mut values).unwrap(), 1);
        assert_eq!(values, vec![(0, Value::Tag("a")), (1, Value::F64(1.5))]);
        assert_eq!(r.row(&columns, &mut values).unwrap(), 2);
        assert_eq!(values, vec![(2, Value::Str("x")), (3, Value::Bool(true))]);
        let (name, columns, rows) = r.table().unwrap();
        assert_eq!((name, rows), ("mem", 1));
        assert_eq!(r.row(&columns, &mut values).unwrap(), -5);
        assert_eq!(values, vec![(0, Value::U64(u64::MAX))]);
        // Every truncation is an error, never a panic.
        for cut in 0..bytes.len() {
            let Ok((mut r, _, n)) = BatchReader::new(&bytes[..cut]) else {
                continue;
            };
            let mut ok = true;
            for _ in 0..n {
                match r.table() {
                    Ok((_, cols, rows)) => {
                        for _ in 0..rows {
                            if r.row(&cols, &mut values).is_err() {
                                ok = false;
                                break;
                            }
                        }
                    }
                    Err(_) => ok = false,
                }
                if !ok {
                    break;
                }
            }
            assert!(!ok, "a truncated payload read as whole at {cut}");
        }
    }
}
