//! Property tests: serialising then parsing gives the line back, parsing never panics.

use std::borrow::Cow;
use std::collections::HashSet;

use proptest::prelude::*;

use super::parse_all;
use crate::{parse_lines, write_line, Field, FieldValue, ParsedLine, Tag};

/// Pieces of names, chosen to exercise every escaping rule. Tab, newline and NUL only ever
/// follow a backslash, because that is the only way the parser produces them in a name.
const NAME_PIECES: &[&str] = &[
    "a",
    "b",
    "z",
    "0",
    "_",
    ",",
    " ",
    "=",
    "\\",
    "\"",
    "#",
    "\u{e9}",
    "\u{1F600}",
    "\r",
    "\\\t",
    "\\\n",
    "\\\0",
    "\\x",
];

fn name(min_pieces: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(NAME_PIECES), min_pieces..8)
        .prop_map(|pieces| pieces.concat())
        .prop_filter("a name cannot end with a backslash", |s| {
            !s.is_empty() && !s.ends_with('\\')
        })
}

fn measurement() -> impl Strategy<Value = String> {
    name(1).prop_filter("a leading # makes a comment", |s| !s.starts_with('#'))
}

/// Keys also allow a raw NUL (only the measurement stops at one).
fn key() -> impl Strategy<Value = String> {
    prop_oneof![name(1), name(1).prop_map(|s| format!("\0{s}"))]
        .prop_filter("time is refused or dropped", |s| s != "time")
}

fn string_value() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        prop::collection::vec(
            prop::sample::select(&["\"", "\\", "\n", "\t", " ", "a", "=", ","][..]),
            0..12
        )
        .prop_map(|p| p.concat()),
    ]
}

fn field_value() -> impl Strategy<Value = FieldValue<'static>> {
    prop_oneof![
        any::<f64>()
            .prop_filter("line protocol has no NaN", |v| !v.is_nan())
            .prop_map(FieldValue::F64),
        Just(FieldValue::F64(f64::INFINITY)),
        Just(FieldValue::F64(-0.0)),
        any::<i64>().prop_map(FieldValue::I64),
        any::<u64>().prop_map(FieldValue::U64),
        string_value().prop_map(|s| FieldValue::Str(Cow::Owned(s))),
        any::<bool>().prop_map(FieldValue::Bool),
    ]
}

fn unique_by_key<T>(pairs: Vec<(String, T)>) -> Vec<(String, T)> {
    let mut seen = HashSet::new();
    pairs
        .into_iter()
        .filter(|(k, _)| seen.insert(k.clone()))
        .collect()
}

fn line() -> impl Strategy<Value = ParsedLine<'static>> {
    let tags = prop::collection::vec((key(), name(1)), 0..4).prop_map(unique_by_key);
    let fields = prop::collection::vec((key(), field_value()), 1..5).prop_map(unique_by_key);
    (measurement(), tags, fields, any::<Option<i64>>()).prop_map(
        |(measurement, tags, fields, timestamp)| ParsedLine {
            measurement: Cow::Owned(measurement),
            tags: tags
                .into_iter()
                .map(|(k, v)| Tag {
                    key: Cow::Owned(k),
                    value: Cow::Owned(v),
                })
                .collect(),
            fields: fields
                .into_iter()
                .map(|(k, v)| Field {
                    key: Cow::Owned(k),
                    value: v,
                })
                .collect(),
            timestamp,
            line_number: 1,
        },
    )
}

/// Text made of line-protocol fragments, so that most of it is almost valid.
pub(super) fn lp_soup() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        "m", "cpu", "a", "b", ",", ",", "=", "=", " ", " ", "  ", "\t", "\n", "\n", "\\", "\"",
        "\"", "#", "t", "f", "true", "F", "FALSE", "1", "-", "0", ".", "e", "E", "+", "i", "u",
        "42", "-7", "1.5", "1e3", "\u{e9}", "\r", "\0", "time", "x=1", ",t=v", " f=1", " f=1i",
        " 123", "\"s\"", "\\ ", "\\,", "\\=", "\\\\",
    ];
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|p| p.concat())
}

fn write(line: &ParsedLine<'_>) -> String {
    let mut out = String::new();
    write_line(line, &mut out);
    out
}

fn without_line_number(mut line: ParsedLine<'_>) -> ParsedLine<'_> {
    line.line_number = 0;
    line
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn serialised_lines_parse_back(line in line()) {
        let text = write(&line);
        let parsed: Vec<_> = parse_lines(text.as_bytes()).collect();
        prop_assert_eq!(parsed.len(), 1, "{:?} gave {:?}", text, parsed);
        let again = parsed.into_iter().next().and_then(Result::ok);
        prop_assert_eq!(again.as_ref(), Some(&line), "{:?}", text);
    }

    #[test]
    fn parsed_lines_survive_a_round_trip(body in lp_soup()) {
        for line in parse_lines(body.as_bytes()).flatten() {
            let text = write(&line);
            let again: Vec<_> = parse_lines(text.as_bytes()).collect();
            prop_assert_eq!(again.len(), 1, "{:?} -> {:?} gave {:?}", body, text, again);
            let again = again.into_iter().next().and_then(Result::ok).map(without_line_number);
            prop_assert_eq!(again, Some(without_line_number(line)), "{:?} -> {:?}", body, text);
        }
    }

    #[test]
    fn any_bytes_parse_without_panicking(body in prop::collection::vec(any::<u8>(), 0..200)) {
        let items = parse_all(&body);
        prop_assert!(items.len() <= body.iter().filter(|&&c| c == b'\n').count() + 1);
    }

    #[test]
    fn any_soup_parses_without_panicking(body in lp_soup()) {
        parse_all(body.as_bytes());
    }
}
