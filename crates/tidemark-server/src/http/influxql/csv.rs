//! The v1 CSV output: a `name,tags,<columns>` header at the start of each statement (and again
//! when the columns change), one line per row with the series name and its tags as `k=v` pairs,
//! times as integers (nanoseconds unless `epoch` says otherwise), and a blank line between
//! statements. Statement errors are left out, as 1.x and InfluxDB 3 do.

use std::fmt::Write as _;

use super::series::{Cell, StatementResult};

/// Remembers what was written so far, across chunks.
#[derive(Debug, Default)]
pub(crate) struct CsvWriter {
    statement: Option<usize>,
    columns: Option<Vec<String>>,
}

/// A field, quoted when it holds a separator, a quote or a line break.
fn field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

fn cell(out: &mut String, c: &Cell, epoch: i64) {
    // Writing to a String cannot fail.
    let _ = match c {
        Cell::Null => Ok(()),
        Cell::Bool(b) => write!(out, "{b}"),
        Cell::Int(i) => write!(out, "{i}"),
        Cell::UInt(u) => write!(out, "{u}"),
        Cell::Float(f) if f.is_nan() => write!(out, "NaN"),
        Cell::Float(f) if f.is_infinite() => {
            write!(out, "{}", if *f > 0.0 { "+Inf" } else { "-Inf" })
        }
        Cell::Float(f) => write!(out, "{f}"),
        Cell::Str(s) => {
            field(out, s);
            Ok(())
        }
        Cell::Time(t) | Cell::Zoned(t, _) => write!(out, "{}", t.div_euclid(epoch)),
    };
}

impl CsvWriter {
    /// The CSV text of these results; `epoch` is nanoseconds per unit.
    pub(crate) fn encode(&mut self, results: &[StatementResult], epoch: i64) -> Vec<u8> {
        let mut out = String::new();
        for r in results {
            if r.series.is_empty() {
                continue;
            }
            if self.statement != Some(r.statement_id) {
                if self.statement.is_some() {
                    out.push('\n');
                }
                self.statement = Some(r.statement_id);
                self.columns = None;
            }
            for s in &r.series {
                if self.columns.as_ref() != Some(&s.columns) {
                    out.push_str("name,tags");
                    for c in &s.columns {
                        out.push(',');
                        field(&mut out, c);
                    }
                    out.push('\n');
                    self.columns = Some(s.columns.clone());
                }
                let tags = s
                    .tags
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",");
                for row in &s.values {
                    field(&mut out, &s.name);
                    out.push(',');
                    field(&mut out, &tags);
                    for c in row {
                        out.push(',');
                        cell(&mut out, c, epoch);
                    }
                    out.push('\n');
                }
            }
        }
        out.into_bytes()
    }
}

/// A top-level error as 1.x writes it in CSV.
pub(crate) fn error(message: &str) -> Vec<u8> {
    let mut out = String::from("error\n");
    field(&mut out, message);
    out.push('\n');
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::influxql::series::Series;

    fn series(name: &str, tags: &[(&str, &str)], columns: &[&str], rows: Vec<Vec<Cell>>) -> Series {
        Series {
            name: name.into(),
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            columns: columns.iter().map(|c| (*c).into()).collect(),
            values: rows,
            partial: false,
        }
    }

    #[test]
    fn writes_1x_csv() {
        let results = vec![
            StatementResult {
                statement_id: 0,
                series: vec![
                    series(
                        "cpu",
                        &[("host", "a")],
                        &["time", "usage"],
                        vec![vec![
                            Cell::Time(1_704_067_200_000_000_000),
                            Cell::Float(1.5),
                        ]],
                    ),
                    series(
                        "cpu",
                        &[("host", "a"), ("region", "us")],
                        &["time", "usage"],
                        vec![vec![
                            Cell::Time(1_704_067_200_000_000_000),
                            Cell::Float(2.0),
                        ]],
                    ),
                ],
                ..Default::default()
            },
            StatementResult::error(1, "ignored"),
            StatementResult {
                statement_id: 2,
                series: vec![series(
                    "mem",
                    &[],
                    &["time", "free", "s"],
                    vec![vec![
                        Cell::Time(1_704_067_200_000_000_000),
                        Cell::Int(10),
                        Cell::Str("x,y".into()),
                    ]],
                )],
                ..Default::default()
            },
        ];
        let got = String::from_utf8(CsvWriter::default().encode(&results, 1)).expect("utf-8");
        assert_eq!(
            got,
            "name,tags,time,usage\ncpu,host=a,1704067200000000000,1.5\ncpu,\"host=a,region=us\",1704067200000000000,2\n\nname,tags,time,free,s\nmem,,1704067200000000000,10,\"x,y\"\n"
        );
        let mut w = CsvWriter::default();
        let secs = String::from_utf8(w.encode(&results[2..], 1_000_000_000)).expect("utf-8");
        assert!(secs.contains("mem,,1704067200,10"), "{secs}");
        assert_eq!(error("bad"), b"error\nbad\n");
    }
}
