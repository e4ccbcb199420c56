//! Any UTF-8 text: our parser and IOx's (the `influxdb-line-protocol` crate, followed by IOx's
//! write-stage checks, transcribed from `mutable_batch_lp::write_line`) must accept the same
//! lines with the same values. Error texts are not compared: that crate predates IOx's current
//! ones.

#![no_main]

use std::collections::{HashMap, HashSet};

use influxdb_line_protocol as iox;
use libfuzzer_sys::fuzz_target;
use tidemark_lp::{parse_lines, FieldValue, LineErrorKind, ParsedLine};

#[derive(Debug, PartialEq)]
enum Outcome {
    /// Measurement, tags, fields (last occurrence kept, `time` dropped), timestamp.
    Row(
        String,
        Vec<(String, String)>,
        Vec<(String, Value)>,
        Option<i64>,
    ),
    WriteError,
    ParseError,
}

#[derive(Debug, PartialEq)]
enum Value {
    F64(u64),
    I64(i64),
    U64(u64),
    Str(String),
    Bool(bool),
}

fn ours(item: Result<ParsedLine<'_>, tidemark_lp::LineError>) -> Outcome {
    match item {
        Ok(line) => Outcome::Row(
            line.measurement.to_string(),
            line.tags
                .iter()
                .map(|t| (t.key.to_string(), t.value.to_string()))
                .collect(),
            line.fields
                .iter()
                .map(|f| {
                    let v = match &f.value {
                        FieldValue::F64(v) => Value::F64(v.to_bits()),
                        FieldValue::I64(v) => Value::I64(*v),
                        FieldValue::U64(v) => Value::U64(*v),
                        FieldValue::Str(v) => Value::Str(v.to_string()),
                        FieldValue::Bool(v) => Value::Bool(*v),
                    };
                    (f.key.to_string(), v)
                })
                .collect(),
            line.timestamp,
        ),
        Err(e) if e.kind == LineErrorKind::Write => Outcome::WriteError,
        Err(_) => Outcome::ParseError,
    }
}

fn theirs(item: Result<iox::ParsedLine<'_>, iox::Error>) -> Outcome {
    let Ok(line) = item else {
        return Outcome::ParseError;
    };
    if line.tag_value("time").is_some() {
        return Outcome::WriteError;
    }
    if let [(name, _)] = &*line.field_set {
        if name.as_str() == "time" {
            return Outcome::WriteError;
        }
    }
    let tags = line.series.tag_set.as_deref().unwrap_or_default();
    let mut seen = HashSet::new();
    if !tags.iter().all(|(k, _)| seen.insert(k.as_str())) {
        return Outcome::WriteError;
    }
    let mut seen: HashMap<&str, &iox::FieldValue<'_>> = HashMap::new();
    let mut kept = Vec::new();
    for (key, value) in line.field_set.iter().rev() {
        if key.as_str() == "time" {
            continue;
        }
        match seen.get(key.as_str()) {
            Some(last) if last.is_same_type(value) => continue,
            Some(_) => return Outcome::WriteError,
            None => {
                seen.insert(key.as_str(), value);
                let v = match value {
                    iox::FieldValue::F64(v) => Value::F64(v.to_bits()),
                    iox::FieldValue::I64(v) => Value::I64(*v),
                    iox::FieldValue::U64(v) => Value::U64(*v),
                    iox::FieldValue::String(v) => Value::Str(v.to_string()),
                    iox::FieldValue::Boolean(v) => Value::Bool(*v),
                };
                kept.push((key.to_string(), v));
            }
        }
    }
    if kept.is_empty() {
        // IOx writes a row without fields here; we refuse the line.
        return Outcome::WriteError;
    }
    kept.reverse();
    Outcome::Row(
        line.series.measurement.to_string(),
        tags.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        kept,
        line.timestamp,
    )
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let mine: Vec<Outcome> = parse_lines(data).map(ours).collect();
    let iox: Vec<Outcome> = iox::parse_lines(body).map(theirs).collect();
    assert_eq!(mine, iox, "{body:?}");
});
