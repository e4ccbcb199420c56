//! The table tests: `data/*.txt` hold queries and what they parse to.
//!
//! A case is a block of lines, blocks separated by a blank line:
//!
//! ```text
//! # a comment (any number, first)
//! %param name integer 5        (bound parameters, any number: integer float string
//!                               boolean duration identifier regex)
//! SELECT * FROM cpu            (the query: one or more lines, or one line
//!                               `%escaped <text>` with `\n \r \t \0 \\` escapes)
//! ----
//! SELECT * FROM cpu            (what it parses to, printed; or `error: <text>`)
//! ```
//!
//! Every query that parses must also print to text that parses to the same tree.
//! `UPDATE_EXPECT=1 cargo test -p tidemark-influxql` rewrites the expectations from what the
//! parser does now; review the diff.

use std::fmt::Write;
use std::fs;

use crate::{
    parse_query, parse_query_with_params, Duration, ParamValue, Params, ParseError, Query,
};

struct Case {
    comments: Vec<String>,
    params: Vec<String>,
    /// The query as the file writes it.
    written: String,
    input: String,
    expected: String,
}

/// The text of an `%escaped` line.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            other => panic!("bad escape {other:?} in %escaped {s}"),
        }
    }
    out
}

fn parse_file(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for block in text.split("\n\n") {
        let block = block.trim_matches('\n');
        if block.is_empty() {
            continue;
        }
        let mut case = Case {
            comments: Vec::new(),
            params: Vec::new(),
            written: String::new(),
            input: String::new(),
            expected: String::new(),
        };
        let mut lines = block.lines().peekable();
        while let Some(line) = lines.next_if(|l| l.starts_with('#')) {
            case.comments.push(line.to_owned());
        }
        while let Some(line) = lines.next_if(|l| l.starts_with("%param ")) {
            case.params.push(line.to_owned());
        }
        let mut input = Vec::new();
        for line in lines.by_ref() {
            if line == "----" {
                break;
            }
            input.push(line);
        }
        case.written = input.join("\n");
        case.input = match case.written.strip_prefix("%escaped ") {
            Some(escaped) => unescape(escaped),
            None => case.written.clone(),
        };
        case.expected = lines.collect::<Vec<_>>().join("\n");
        cases.push(case);
    }
    cases
}

fn params_of(lines: &[String]) -> Option<Params> {
    if lines.is_empty() {
        return None;
    }
    let mut params = Params::new();
    for line in lines {
        let mut parts = line.splitn(4, ' ').skip(1);
        let (Some(name), Some(kind), Some(value)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("bad %param line: {line}");
        };
        let value = match kind {
            "integer" => ParamValue::Integer(value.parse().expect("integer")),
            "float" => ParamValue::Float(value.parse().expect("float")),
            "string" => ParamValue::String(value.to_owned()),
            "boolean" => ParamValue::Boolean(value.parse().expect("boolean")),
            "duration" => ParamValue::Duration(Duration::parse(value).expect("duration")),
            "identifier" => ParamValue::Identifier(value.to_owned()),
            "regex" => ParamValue::Regex(value.to_owned()),
            _ => panic!("bad %param type: {line}"),
        };
        params.insert(name.to_owned(), value);
    }
    Some(params)
}

fn describe(result: &Result<Query, ParseError>) -> String {
    match result {
        Ok(query) => query.to_string(),
        Err(e) => format!("error: {e}"),
    }
}

/// Printing a parsed query gives text that parses to the same query, and prints the same.
fn check_round_trip(input: &str, query: &Query) -> Result<(), String> {
    let printed = query.to_string();
    match parse_query(&printed) {
        Ok(again) if &again == query => {
            let reprinted = again.to_string();
            if reprinted == printed {
                Ok(())
            } else {
                Err(format!("{input:?}: prints {printed:?}, then {reprinted:?}"))
            }
        }
        Ok(again) => Err(format!(
            "{input:?}: prints {printed:?}, which parses to\n{again:#?}\ninstead of\n{query:#?}"
        )),
        Err(e) => Err(format!("{input:?}: prints {printed:?}, which fails: {e}")),
    }
}

pub(super) fn run(file: &str) {
    let path = format!("{}/src/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(&path).expect("read test data");
    let mut cases = parse_file(&text);
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for case in &mut cases {
        let params = params_of(&case.params);
        let result = match &params {
            Some(params) => parse_query_with_params(&case.input, params),
            None => parse_query(&case.input),
        };
        let actual = describe(&result);
        if actual != case.expected {
            if update {
                case.expected = actual;
            } else {
                failures.push(format!(
                    "{:?}\n  expected: {}\n  actual:   {actual}",
                    case.input, case.expected
                ));
            }
        }
        if let (Ok(query), None) = (&result, &params) {
            if let Err(e) = check_round_trip(&case.input, query) {
                failures.push(e);
            }
        }
    }
    if update {
        let mut out = String::new();
        for (i, case) in cases.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            for line in case.comments.iter().chain(&case.params) {
                let _ = writeln!(out, "{line}");
            }
            let _ = writeln!(out, "{}\n----\n{}", case.written, case.expected);
        }
        fs::write(&path, out).expect("write test data");
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases in {file} failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// How many cases the data files hold (the tests report it).
pub(super) fn count(file: &str) -> usize {
    let path = format!("{}/src/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    parse_file(&fs::read_to_string(path).expect("read test data")).len()
}

#[test]
fn select() {
    run("select.txt");
}

#[test]
fn expressions() {
    run("expr.txt");
}

#[test]
fn lexing() {
    run("lexing.txt");
}

#[test]
fn show() {
    run("show.txt");
}

#[test]
fn statements() {
    run("statements.txt");
}

#[test]
fn errors() {
    run("errors.txt");
}

#[test]
fn deviations() {
    run("deviations.txt");
}

#[test]
fn params() {
    run("params.txt");
}

#[test]
fn go_parser_tests() {
    run("go.txt");
}

#[test]
fn case_count() {
    let files = [
        "select.txt",
        "expr.txt",
        "lexing.txt",
        "show.txt",
        "statements.txt",
        "errors.txt",
        "go.txt",
        "params.txt",
        "deviations.txt",
    ];
    let total: usize = files.iter().map(|f| count(f)).sum();
    assert!(total > 300, "only {total} table cases");
}
