//! Our parser against IOx's, the `influxdb-line-protocol` crate (2.0.0), followed by a literal
//! port of IOx's write-stage checks (`mutable_batch_lp::write_line`).
//!
//! That crate predates IOx's current error texts and its 64 KiB limit, so only the outcome is
//! compared for parse errors: same lines, same values, refused or not. Write-stage errors are
//! compared text for text.

use std::collections::{HashMap, HashSet};

use influxdb_line_protocol as iox;
use proptest::prelude::*;

use super::cases::ONE_LINE;
use super::props::lp_soup;
use super::{describe, describe_value};
use crate::error::text;
use crate::{parse_lines, FieldValue, LineErrorKind, ParsedLine};

/// What IOx makes of one line: a row (as `describe` would show it), a write error, or a parse
/// error.
#[derive(Debug, PartialEq)]
enum Outcome {
    Row(String),
    Write(String),
    Parse,
}

fn iox_value(v: &iox::FieldValue<'_>) -> String {
    match v {
        iox::FieldValue::I64(v) => describe_value(&FieldValue::I64(*v)),
        iox::FieldValue::U64(v) => describe_value(&FieldValue::U64(*v)),
        iox::FieldValue::F64(v) => describe_value(&FieldValue::F64(*v)),
        iox::FieldValue::String(v) => describe_value(&FieldValue::Str(v.as_str().into())),
        iox::FieldValue::Boolean(v) => describe_value(&FieldValue::Bool(*v)),
    }
}

/// `mutable_batch_lp::write_line`, transcribed.
fn iox_write(line: &iox::ParsedLine<'_>) -> Outcome {
    let measurement = line.series.measurement.as_str();
    if line.tag_value("time").is_some() {
        return Outcome::Write(text::time_tag(measurement));
    }
    if let [(name, _)] = &*line.field_set {
        if name.as_str() == "time" {
            return Outcome::Write(text::time_only_field(measurement));
        }
    }
    let tags = line.series.tag_set.as_deref().unwrap_or_default();
    let mut seen = HashSet::new();
    for (key, _) in tags {
        if !seen.insert(key.as_str()) {
            return Outcome::Write(text::duplicate_tag(key));
        }
    }
    let mut seen: HashMap<&str, &iox::FieldValue<'_>> = HashMap::new();
    let mut kept = Vec::new();
    for (key, value) in line.field_set.iter().rev() {
        if key.as_str() == "time" {
            continue;
        }
        match seen.get(key.as_str()) {
            Some(last) if last.is_same_type(value) => continue,
            Some(_) => return Outcome::Write(text::conflicting_field(key)),
            None => {
                seen.insert(key.as_str(), value);
                kept.push(format!("{}={}", key.as_str(), iox_value(value)));
            }
        }
    }
    if kept.is_empty() {
        // IOx writes a row without fields here; we refuse the line (see `check`).
        return Outcome::Write(text::time_only_field(measurement));
    }
    kept.reverse();
    let tags: Vec<String> = tags
        .iter()
        .map(|(k, v)| format!("{}={}", k.as_str(), v.as_str()))
        .collect();
    let ts = line
        .timestamp
        .map_or_else(|| "-".to_owned(), |t| t.to_string());
    Outcome::Row(format!(
        "{measurement} [{}] {} @{ts}",
        tags.join(","),
        kept.join(",")
    ))
}

fn ours(item: Result<ParsedLine<'_>, crate::LineError>) -> Outcome {
    match item {
        Ok(line) => Outcome::Row(describe(&line)),
        Err(e) if e.kind == LineErrorKind::Write => Outcome::Write(e.message),
        Err(_) => Outcome::Parse,
    }
}

/// Compares both parsers on a body; `Err` describes the first difference.
fn compare(body: &str) -> Result<(), String> {
    let mine: Vec<Outcome> = parse_lines(body.as_bytes()).map(ours).collect();
    let theirs: Vec<Outcome> = iox::parse_lines(body)
        .map(|r| match r {
            Ok(line) => iox_write(&line),
            Err(_) => Outcome::Parse,
        })
        .collect();
    if mine == theirs {
        Ok(())
    } else {
        Err(format!("{body:?}\n  iox  {theirs:?}\n  ours {mine:?}"))
    }
}

#[test]
fn table_inputs_agree_with_iox() {
    // The 64 KiB limit is newer than the crate we compare with.
    let failures: Vec<String> = ONE_LINE
        .iter()
        .filter_map(|(input, _)| compare(input).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn soup_agrees_with_iox(body in lp_soup()) {
        if let Err(difference) = compare(&body) {
            prop_assert!(false, "{}", difference);
        }
    }
}
