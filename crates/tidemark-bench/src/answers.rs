//! InfluxDB v1 `/query` answers as data, and whether two of them say the same thing.
//!
//! Equal means: the same series in the same order (InfluxQL sorts series by name and tags), each
//! with the same name, tags and column names, and the same rows. Numbers are equal within a
//! relative 1e-9 (InfluxQL `mean` gives floats whose last bits depend on the summing order) and
//! regardless of JSON spelling (`95` and `95.0`); `time` values are compared as instants, so
//! RFC 3339 spellings of the same nanosecond agree. Rows must come in the same time order, but
//! rows that share a timestamp may come in any order (raw `SELECT *` over several series sorts
//! only by time).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Result;

/// One series of an answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<Vec<Value>>,
}

/// The first statement's result of a v1 answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Answer {
    pub(crate) series: Vec<Series>,
}

impl Answer {
    pub(crate) fn rows(&self) -> usize {
        self.series.iter().map(|s| s.rows.len()).sum()
    }
}

fn clip(text: &str) -> &str {
    let mut end = text.len().min(300);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Parses a v1 JSON answer; an `error` (top level or in the statement) is an `Err`.
pub(crate) fn parse_v1(text: &str) -> Result<Answer> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): {}", clip(text)))?;
    if let Some(e) = v.get("error") {
        return Err(format!("error: {e}").into());
    }
    let result = v
        .get("results")
        .and_then(|r| r.get(0))
        .ok_or_else(|| format!("no results in {}", clip(text)))?;
    if let Some(e) = result.get("error") {
        return Err(format!("error: {e}").into());
    }
    let mut answer = Answer::default();
    for s in result
        .get("series")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
        let tags = match s.get("tags") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    )
                })
                .collect(),
            Some(other) => return Err(format!("series tags are not an object: {other}").into()),
        };
        let columns = s
            .get("columns")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("a series without columns: {}", clip(&s.to_string())))?
            .iter()
            .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_owned))
            .collect::<Vec<_>>();
        let mut rows = Vec::new();
        for row in s
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let row = row
                .as_array()
                .ok_or_else(|| format!("a row that is not an array: {row}"))?;
            if row.len() != columns.len() {
                return Err(format!(
                    "a row of {} values under {} columns in series {name}",
                    row.len(),
                    columns.len()
                )
                .into());
            }
            rows.push(row.clone());
        }
        answer.series.push(Series {
            name: name.to_owned(),
            tags,
            columns,
            rows,
        });
    }
    Ok(answer)
}

/// Rows of an `/api/v3/query_sql?format=json` answer (a JSON array of objects).
pub(crate) fn sql_rows(text: &str) -> Result<usize> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): {}", clip(text)))?;
    Ok(v.as_array()
        .ok_or_else(|| format!("not a JSON array: {}", clip(text)))?
        .len())
}

fn numbers_equal(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// A `time` value as nanoseconds: an integer epoch or RFC 3339.
fn instant(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n.as_i64().map(i128::from),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .and_then(|t| t.timestamp_nanos_opt())
            .map(i128::from),
        _ => None,
    }
}

fn values_equal(column: &str, a: &Value, b: &Value) -> bool {
    if column == "time" {
        if let (Some(x), Some(y)) = (instant(a), instant(b)) {
            return x == y;
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => numbers_equal(x, y),
            _ => x == y,
        },
        _ => a == b,
    }
}

fn rows_equal(columns: &[String], a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len()
        && columns
            .iter()
            .zip(a.iter().zip(b))
            .all(|(c, (x, y))| values_equal(c, x, y))
}

/// Rows in runs of equal `time`, each run sorted by its text so that ties compare as sets.
fn canonical(columns: &[String], rows: &[Vec<Value>]) -> Vec<Vec<Vec<Value>>> {
    let t = columns.iter().position(|c| c == "time");
    let mut runs: Vec<Vec<Vec<Value>>> = Vec::new();
    for row in rows {
        let same = match (t, runs.last().and_then(|r| r.last())) {
            (Some(t), Some(prev)) => values_equal("time", &prev[t], &row[t]),
            _ => false,
        };
        match runs.last_mut() {
            Some(run) if same => run.push(row.clone()),
            _ => runs.push(vec![row.clone()]),
        }
    }
    for run in &mut runs {
        run.sort_by_cached_key(|r| Value::Array(r.clone()).to_string());
    }
    runs
}

fn describe(s: &Series) -> String {
    let tags: Vec<String> = s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if tags.is_empty() {
        s.name.clone()
    } else {
        format!("{} {{{}}}", s.name, tags.join(","))
    }
}

/// `None` when the answers are equal (see the module doc), else the first difference, with
/// `expected` playing the reference (InfluxDB) and `actual` the system under test.
pub(crate) fn difference(expected: &Answer, actual: &Answer) -> Option<String> {
    if expected.series.len() != actual.series.len() {
        let names = |a: &Answer| {
            a.series
                .iter()
                .take(3)
                .map(describe)
                .collect::<Vec<_>>()
                .join("; ")
        };
        return Some(format!(
            "{} series instead of {} (got [{}], expected [{}])",
            actual.series.len(),
            expected.series.len(),
            names(actual),
            names(expected)
        ));
    }
    for (e, a) in expected.series.iter().zip(&actual.series) {
        if e.name != a.name || e.tags != a.tags {
            return Some(format!(
                "series {} where {} was expected",
                describe(a),
                describe(e)
            ));
        }
        let who = describe(e);
        if e.columns != a.columns {
            return Some(format!(
                "{who}: columns {:?} instead of {:?}",
                a.columns, e.columns
            ));
        }
        if e.rows.len() != a.rows.len() {
            return Some(format!(
                "{who}: {} rows instead of {}",
                a.rows.len(),
                e.rows.len()
            ));
        }
        let (ce, ca) = (
            canonical(&e.columns, &e.rows),
            canonical(&a.columns, &a.rows),
        );
        let (fe, fa) = (ce.concat(), ca.concat());
        for (n, (re, ra)) in fe.iter().zip(&fa).enumerate() {
            if !rows_equal(&e.columns, re, ra) {
                return Some(format!(
                    "{who}: row {n} is {} instead of {}",
                    Value::Array(ra.clone()),
                    Value::Array(re.clone())
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFLUX: &str = r#"{"results":[{"statement_id":0,"series":[
        {"name":"cpu","tags":{"hostname":"host_1"},"columns":["time","mean"],"values":[["2024-01-01T00:00:00Z",50.5],["2024-01-01T01:00:00Z",null]]},
        {"name":"cpu","tags":{"hostname":"host_2"},"columns":["time","mean"],"values":[["2024-01-01T00:00:00Z",12]]}]}]}"#;

    #[test]
    fn parses_v1() {
        let a = parse_v1(INFLUX).unwrap();
        assert_eq!(a.series.len(), 2);
        assert_eq!(a.rows(), 3);
        assert_eq!(a.series[0].tags["hostname"], "host_1");
        assert_eq!(a.series[0].columns, ["time", "mean"]);
        assert_eq!(a.series[0].rows[1][1], Value::Null);
        assert_eq!(
            parse_v1(r#"{"results":[{"statement_id":0}]}"#)
                .unwrap()
                .rows(),
            0
        );
        assert!(parse_v1(r#"{"results":[{"statement_id":0,"error":"unsupported"}]}"#).is_err());
        assert!(parse_v1(r#"{"error":"missing q"}"#).is_err());
        assert!(parse_v1("<html>").is_err());
        assert!(parse_v1(
            r#"{"results":[{"series":[{"name":"cpu","columns":["time","a"],"values":[[1]]}]}]}"#
        )
        .is_err());
    }

    #[test]
    fn sql_answers() {
        assert_eq!(sql_rows(r#"[{"a":1},{"a":2}]"#).unwrap(), 2);
        assert_eq!(sql_rows("[]").unwrap(), 0);
        assert!(sql_rows(r#"{"error":"x"}"#).is_err());
    }

    fn with(text: &str) -> Answer {
        parse_v1(text).unwrap()
    }

    #[test]
    fn equal_answers() {
        let a = with(INFLUX);
        assert_eq!(difference(&a, &a), None);
        // Float noise, integer spelling and another RFC 3339 spelling of the same instant.
        let b = with(
            &INFLUX
                .replace("50.5", "50.50000000000001")
                .replace(",12]", ",12.0]")
                .replace(
                    "\"2024-01-01T01:00:00Z\"",
                    "\"2024-01-01T01:00:00.000000000Z\"",
                ),
        );
        assert_eq!(difference(&a, &b), None);
    }

    #[test]
    fn different_answers() {
        let a = with(INFLUX);
        let value = with(&INFLUX.replace("50.5", "50.6"));
        assert!(difference(&a, &value).unwrap().contains("row 0"));
        let null = with(&INFLUX.replace("null", "0"));
        assert!(difference(&a, &null).is_some());
        let time = with(&INFLUX.replace("T01:00:00Z", "T02:00:00Z"));
        assert!(difference(&a, &time).is_some());
        let tags = with(&INFLUX.replace("host_2", "host_3"));
        assert!(difference(&a, &tags).unwrap().contains("host_3"));
        let columns = with(&INFLUX.replace("\"mean\"]", "\"max\"]"));
        assert!(difference(&a, &columns).unwrap().contains("columns"));
        let fewer = with(&INFLUX.replace(r#",["2024-01-01T01:00:00Z",null]"#, ""));
        assert!(difference(&a, &fewer)
            .unwrap()
            .contains("1 rows instead of 2"));
        assert!(difference(&a, &Answer::default()).is_some());
        // Series order is part of the answer.
        let mut swapped = a.clone();
        swapped.series.swap(0, 1);
        assert!(difference(&a, &swapped).is_some());
    }

    #[test]
    fn ties_in_time_compare_as_sets_but_time_order_counts() {
        let raw = r#"{"results":[{"series":[{"name":"cpu","columns":["time","hostname","usage_user"],"values":[
            ["2024-01-01T00:00:00Z","host_1",91],["2024-01-01T00:00:00Z","host_2",95],["2024-01-01T00:00:10Z","host_1",92]]}]}]}"#;
        let a = with(raw);
        let ties_swapped = with(
            r#"{"results":[{"series":[{"name":"cpu","columns":["time","hostname","usage_user"],"values":[
            ["2024-01-01T00:00:00Z","host_2",95],["2024-01-01T00:00:00Z","host_1",91],["2024-01-01T00:00:10Z","host_1",92]]}]}]}"#,
        );
        assert_eq!(difference(&a, &ties_swapped), None);
        let time_swapped = with(
            r#"{"results":[{"series":[{"name":"cpu","columns":["time","hostname","usage_user"],"values":[
            ["2024-01-01T00:00:10Z","host_1",92],["2024-01-01T00:00:00Z","host_1",91],["2024-01-01T00:00:00Z","host_2",95]]}]}]}"#,
        );
        assert!(difference(&a, &time_swapped).is_some());
    }
}
