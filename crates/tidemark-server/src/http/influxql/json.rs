//! The v1 JSON document, `{"results":[{"statement_id":0,"series":[...]}]}`, as 1.x writes it:
//! empty keys left out, times as RFC3339 (Go's trimmed fraction) or integers with `epoch`,
//! floats with no fraction as integers, NaN as null, and ±Inf refused with Go's own error. The
//! same structures are written as MessagePack (`msgpack.rs`).

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::go_float::GoFloats;
use super::series::{Cell, Series, StatementResult};
use crate::http::response::{rfc3339, rfc3339_in};

/// How values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValueStyle {
    /// Nanoseconds per unit of `epoch`; `None` writes RFC3339 strings.
    pub(crate) epoch: Option<i64>,
    /// Floats with no fraction written as integers (JSON, as Go prints them).
    pub(crate) integral_floats: bool,
}

#[derive(Serialize)]
pub(crate) struct Document<'a> {
    results: Vec<ResultOut<'a>>,
}

#[derive(Serialize)]
struct ResultOut<'a> {
    statement_id: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    series: Vec<SeriesOut<'a>>,
    #[serde(skip_serializing_if = "is_false")]
    partial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct SeriesOut<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "Tags::is_empty")]
    tags: Tags<'a>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    columns: &'a [String],
    #[serde(skip_serializing_if = "Rows::is_empty")]
    values: Rows<'a>,
    #[serde(skip_serializing_if = "is_false")]
    partial: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

struct Tags<'a>(&'a [(String, String)]);

impl Tags<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Tags<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

struct Rows<'a> {
    rows: &'a [Vec<Cell>],
    style: ValueStyle,
}

impl Rows<'_> {
    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut rows = s.serialize_seq(Some(self.rows.len()))?;
        for row in self.rows {
            rows.serialize_element(&Row {
                cells: row,
                style: self.style,
            })?;
        }
        rows.end()
    }
}

struct Row<'a> {
    cells: &'a [Cell],
    style: ValueStyle,
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut row = s.serialize_seq(Some(self.cells.len()))?;
        for cell in self.cells {
            row.serialize_element(&CellOut {
                cell,
                style: self.style,
            })?;
        }
        row.end()
    }
}

struct CellOut<'a> {
    cell: &'a Cell,
    style: ValueStyle,
}

/// Below 2^53 an integral float's shortest decimal (what Go writes) is the integer itself;
/// above, Go writes the shortest digits padded with zeros (`9223372036853276000`), which
/// [`GoFloats`] does.
const INTEGRAL_LIMIT: f64 = 9_007_199_254_740_992.0;

impl Serialize for CellOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.cell {
            Cell::Null => s.serialize_none(),
            Cell::Bool(b) => s.serialize_bool(*b),
            Cell::Int(i) => s.serialize_i64(*i),
            Cell::UInt(u) => s.serialize_u64(*u),
            Cell::Float(f) if f.is_nan() => s.serialize_none(),
            Cell::Float(f)
                if self.style.integral_floats
                    && f.is_finite()
                    && f.fract() == 0.0
                    && f.abs() < INTEGRAL_LIMIT =>
            {
                s.serialize_i64(*f as i64)
            }
            Cell::Float(f) => s.serialize_f64(*f),
            Cell::Str(v) => s.serialize_str(v),
            Cell::Time(t) => match self.style.epoch {
                Some(unit) => s.serialize_i64(t.div_euclid(unit)),
                None => s.serialize_str(&rfc3339(*t)),
            },
            Cell::Zoned(t, offset) => match self.style.epoch {
                Some(unit) => s.serialize_i64(t.div_euclid(unit)),
                None => s.serialize_str(&rfc3339_in(*t, *offset)),
            },
        }
    }
}

/// The document for these results.
pub(crate) fn document(results: &[StatementResult], style: ValueStyle) -> Document<'_> {
    Document {
        results: results
            .iter()
            .map(|r| ResultOut {
                statement_id: r.statement_id,
                series: r.series.iter().map(|s| series(s, style)).collect(),
                partial: r.partial,
                error: r.error.as_deref(),
            })
            .collect(),
    }
}

fn series(s: &Series, style: ValueStyle) -> SeriesOut<'_> {
    SeriesOut {
        name: &s.name,
        tags: Tags(&s.tags),
        columns: &s.columns,
        values: Rows {
            rows: &s.values,
            style,
        },
        partial: s.partial,
    }
}

/// The first infinite float, which JSON cannot carry.
fn infinity(results: &[StatementResult]) -> Option<f64> {
    results
        .iter()
        .flat_map(|r| &r.series)
        .flat_map(|s| &s.values)
        .flatten()
        .find_map(|c| match c {
            Cell::Float(f) if f.is_infinite() => Some(*f),
            _ => None,
        })
}

/// A top-level error document, `{"error":"..."}`.
pub(crate) fn error(message: &str, pretty: bool) -> Vec<u8> {
    let mut out = write(&serde_json::json!({ "error": message }), pretty);
    out.push(b'\n');
    out
}

fn write<T: Serialize>(value: &T, pretty: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let written = if pretty {
        let formatter = GoFloats(serde_json::ser::PrettyFormatter::with_indent(b"    "));
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, formatter,
        ))
    } else {
        let formatter = GoFloats(serde_json::ser::CompactFormatter);
        value.serialize(&mut serde_json::Serializer::with_formatter(
            &mut out, formatter,
        ))
    };
    match written {
        Ok(()) => out,
        Err(e) => {
            tracing::error!(error = %e, "encoding an InfluxQL result");
            br#"{"error":"internal error while encoding the result"}"#.to_vec()
        }
    }
}

/// One JSON document and its newline, as 1.x writes each.
pub(crate) fn encode(results: &[StatementResult], epoch: Option<i64>, pretty: bool) -> Vec<u8> {
    if let Some(inf) = infinity(results) {
        let sign = if inf > 0.0 { "+" } else { "-" };
        return error(&format!("json: unsupported value: {sign}Inf"), pretty);
    }
    let style = ValueStyle {
        epoch,
        integral_floats: true,
    };
    let mut out = write(&document(results, style), pretty);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::influxql::series::tests::grouped;
    use crate::http::influxql::series::Splitter;

    fn results() -> Vec<StatementResult> {
        let batch = grouped();
        let mut s = Splitter::new(&batch.schema(), usize::MAX);
        let mut series = s.push(&batch);
        series.extend(s.finish());
        vec![
            StatementResult {
                statement_id: 0,
                series,
                ..Default::default()
            },
            StatementResult::error(1, "database not found: x"),
            StatementResult {
                statement_id: 2,
                ..Default::default()
            },
        ]
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn writes_1x_json() {
        let got = text(encode(&results(), None, false));
        let want = concat!(
            r#"{"results":[{"statement_id":0,"series":["#,
            r#"{"name":"cpu","tags":{"host":"a"},"columns":["time","usage"],"values":[["1970-01-01T00:00:00Z",1.5],["1970-01-01T00:00:00.00000001Z",2]]},"#,
            r#"{"name":"cpu","tags":{"host":"b"},"columns":["time","usage"],"values":[["1970-01-01T00:00:00Z",null]]},"#,
            r#"{"name":"mem","tags":{"host":""},"columns":["time","usage"],"values":[["1970-01-01T00:00:00.000000005Z",null]]}]},"#,
            r#"{"statement_id":1,"error":"database not found: x"},{"statement_id":2}]}"#,
            "\n"
        );
        assert_eq!(got, want);
    }

    #[test]
    fn small_floats_are_written_as_go_writes_them() {
        let r = vec![StatementResult {
            statement_id: 0,
            series: vec![Series {
                name: "m".into(),
                columns: vec!["v".into()],
                values: vec![vec![Cell::Float(0.000001)], vec![Cell::Float(1e-7)]],
                ..Default::default()
            }],
            ..Default::default()
        }];
        let got = text(encode(&r, None, false));
        assert!(got.contains(r#""values":[[0.000001],[1e-7]]"#), "{got}");
    }

    #[test]
    fn large_integral_floats_keep_go_shortest_digits() {
        let r = vec![StatementResult {
            statement_id: 0,
            series: vec![Series {
                name: "m".into(),
                columns: vec!["v".into()],
                values: vec![
                    vec![Cell::Float(9_223_372_036_853_275_648.0)],
                    vec![Cell::Float(4.0)],
                    vec![Cell::Float(-1e20)],
                ],
                ..Default::default()
            }],
            ..Default::default()
        }];
        let got = text(encode(&r, None, false));
        assert!(
            got.contains(r#""values":[[9223372036853276000],[4],[-100000000000000000000]]"#),
            "{got}"
        );
    }

    #[test]
    fn epoch_gives_integers_by_floor_division() {
        let r = vec![StatementResult {
            statement_id: 0,
            series: vec![Series {
                name: "m".into(),
                columns: vec!["time".into()],
                values: vec![vec![Cell::Time(-1)], vec![Cell::Time(1_999_999)]],
                ..Default::default()
            }],
            ..Default::default()
        }];
        let got = text(encode(&r, Some(1_000_000), false));
        assert!(got.contains(r#""values":[[-1],[1]]"#), "{got}");
    }

    #[test]
    fn zoned_times_carry_their_offset() {
        let r = vec![StatementResult {
            statement_id: 0,
            series: vec![Series {
                name: "m".into(),
                columns: vec!["time".into()],
                values: vec![vec![Cell::Zoned(1_500_000_000, -6 * 3600)]],
                ..Default::default()
            }],
            ..Default::default()
        }];
        let got = text(encode(&r, None, false));
        assert!(
            got.contains(r#"[["1969-12-31T18:00:01.5-06:00"]]"#),
            "{got}"
        );
        let got = text(encode(&r, Some(1_000_000_000), false));
        assert!(got.contains("[[1]]"), "{got}");
    }

    #[test]
    fn infinity_fails_the_document_like_go() {
        let r = vec![StatementResult {
            statement_id: 0,
            series: vec![Series {
                name: "m".into(),
                columns: vec!["v".into()],
                values: vec![vec![Cell::Float(f64::NEG_INFINITY)]],
                ..Default::default()
            }],
            ..Default::default()
        }];
        assert_eq!(
            text(encode(&r, None, false)),
            "{\"error\":\"json: unsupported value: -Inf\"}\n"
        );
    }

    #[test]
    fn pretty_indents_and_partial_flags_show() {
        let r = vec![StatementResult {
            statement_id: 0,
            partial: true,
            series: vec![Series {
                name: "m".into(),
                columns: vec!["v".into()],
                values: vec![vec![Cell::Int(1)]],
                partial: true,
                ..Default::default()
            }],
            ..Default::default()
        }];
        let compact = text(encode(&r, None, false));
        assert_eq!(
            compact,
            "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"m\",\"columns\":[\"v\"],\"values\":[[1]],\"partial\":true}],\"partial\":true}]}\n"
        );
        let pretty = text(encode(&r, None, true));
        assert!(pretty.starts_with("{\n    \"results\": [\n"), "{pretty}");
    }
}
