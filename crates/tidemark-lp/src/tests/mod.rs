//! Tests: a table of inputs and what they parse to (`cases`), property tests (`props`), and a
//! comparison with IOx's own parser, the `influxdb-line-protocol` crate (`differential`).

mod cases;
mod differential;
mod props;
mod units;

use crate::{parse_lines, FieldValue, ParsedLine};

/// A line in one string: `measurement [tags] fields @timestamp`, names unescaped and shown raw,
/// floats with `{:?}` (so `1.0`, `-0.0`, `inf`), strings quoted with `{:?}`.
pub(crate) fn describe(line: &ParsedLine<'_>) -> String {
    let tags: Vec<String> = line
        .tags
        .iter()
        .map(|t| format!("{}={}", t.key, t.value))
        .collect();
    let fields: Vec<String> = line
        .fields
        .iter()
        .map(|f| format!("{}={}", f.key, describe_value(&f.value)))
        .collect();
    let ts = line
        .timestamp
        .map_or_else(|| "-".to_owned(), |t| t.to_string());
    format!(
        "{} [{}] {} @{}",
        line.measurement,
        tags.join(","),
        fields.join(","),
        ts
    )
}

pub(crate) fn describe_value(v: &FieldValue<'_>) -> String {
    match v {
        FieldValue::F64(v) => format!("{v:?}"),
        FieldValue::I64(v) => format!("{v}i"),
        FieldValue::U64(v) => format!("{v}u"),
        FieldValue::Str(v) => format!("{v:?}"),
        FieldValue::Bool(v) => v.to_string(),
    }
}

/// Every item of a body: `describe` for lines, `line N: <Display>` for errors. Both entry points
/// must agree.
pub(crate) fn parse_all(body: &[u8]) -> Vec<String> {
    let owned: Vec<String> = parse_lines(body)
        .map(|r| match r {
            Ok(line) => format!("{}: {}", line.line_number, describe(&line)),
            Err(e) => format!("{}: {e}", e.line),
        })
        .collect();
    let mut lines = parse_lines(body);
    let mut borrowed = Vec::new();
    while let Some(r) = lines.next_borrowed() {
        borrowed.push(match r {
            Ok(line) => format!("{}: {}", line.line_number, describe(line)),
            Err(e) => format!("{}: {e}", e.line),
        });
    }
    assert_eq!(
        owned, borrowed,
        "parse_lines and next_borrowed disagree on {body:?}"
    );
    owned
}
