//! The pieces around the parser: errors, precisions, the serialiser, helpers on lines.

use std::borrow::Cow;

use crate::number::{parse_i64, parse_u64};
use crate::{
    parse_lines, to_nanos, write_line, Field, FieldValue, LineError, LineErrorKind, ParsedLine,
    Precision, Tag,
};

fn first(body: &str) -> ParsedLine<'_> {
    match parse_lines(body.as_bytes()).next() {
        Some(Ok(line)) => line,
        other => panic!("{body:?} gave {other:?}"),
    }
}

fn written(line: &ParsedLine<'_>) -> String {
    let mut out = String::new();
    write_line(line, &mut out);
    out
}

#[test]
fn error_display_has_influxdb_prefixes() {
    let parse = LineError::parse(2, "Invalid measurement was provided".to_owned());
    assert_eq!(
        parse.to_string(),
        "error parsing line 2 (1-based): Invalid measurement was provided"
    );
    let write = LineError::write(
        3,
        "the tag 'a' is specified more than once with conflicting values".to_owned(),
    );
    assert_eq!(
        write.to_string(),
        "error writing line 3 (1-based): the tag 'a' is specified more than once with conflicting values"
    );
    let overflow = LineError::timestamp_overflow(4);
    assert_eq!(overflow.kind, LineErrorKind::TimestampOverflow);
    assert_eq!(
        overflow.to_string(),
        "timestamp overflows i64 on line 4 (1-based)"
    );
}

#[test]
fn precisions() {
    use Precision::*;
    let v2 = [
        ("ns", Nanosecond),
        ("us", Microsecond),
        ("ms", Millisecond),
        ("s", Second),
    ];
    for (text, p) in v2 {
        assert_eq!(Precision::from_v2(text), Some(p), "{text}");
    }
    for text in ["n", "u", "µ", "m", "h", "", "NS", "second"] {
        assert_eq!(Precision::from_v2(text), None, "{text}");
    }
    let v1 = [
        ("n", Nanosecond),
        ("ns", Nanosecond),
        ("u", Microsecond),
        ("us", Microsecond),
        ("µ", Microsecond),
        ("ms", Millisecond),
        ("s", Second),
        ("m", Minute),
        ("h", Hour),
    ];
    for (text, p) in v1 {
        assert_eq!(Precision::from_v1(text), Some(p), "{text}");
    }
    for text in ["", "x", "d", "H", "mins"] {
        assert_eq!(Precision::from_v1(text), None, "{text}");
    }
    assert_eq!(Precision::default(), Nanosecond);
    assert_eq!(to_nanos(5, Nanosecond), Some(5));
    assert_eq!(to_nanos(5, Microsecond), Some(5_000));
    assert_eq!(to_nanos(5, Millisecond), Some(5_000_000));
    assert_eq!(to_nanos(-5, Second), Some(-5_000_000_000));
    assert_eq!(to_nanos(2, Minute), Some(120_000_000_000));
    assert_eq!(to_nanos(2, Hour), Some(7_200_000_000_000));
    assert_eq!(to_nanos(i64::MAX / 1000 + 1, Microsecond), None);
    assert_eq!(to_nanos(i64::MIN, Second), None);
    assert_eq!(to_nanos(i64::MAX, Nanosecond), Some(i64::MAX));
}

#[test]
fn integers_at_every_length() {
    let mut text = String::new();
    for len in 1..=25 {
        text.push(char::from(b'0' + (len % 10) as u8));
        let want: Option<i64> = text.parse().ok();
        assert_eq!(parse_i64(&text), want, "{text}");
        assert_eq!(
            parse_i64(&format!("-{text}")),
            format!("-{text}").parse().ok(),
            "-{text}"
        );
        assert_eq!(parse_u64(&text), text.parse().ok(), "{text}");
    }
    for text in [
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551615",
        "0000000000000000009",
    ] {
        assert_eq!(parse_i64(text), text.parse().ok(), "{text}");
        assert_eq!(parse_u64(text), text.parse().ok(), "{text}");
    }
}

#[test]
fn serialiser_escapes_each_part_by_its_rules() {
    let line = ParsedLine {
        measurement: Cow::Borrowed("m,e a=s\\x"),
        tags: vec![Tag {
            key: Cow::Borrowed("k,=1 "),
            value: Cow::Borrowed("v,=\\ "),
        }],
        fields: vec![
            Field {
                key: Cow::Borrowed("f\"=,"),
                value: FieldValue::Str(Cow::Borrowed("say \"hi\"\\\n")),
            },
            Field {
                key: Cow::Borrowed("i"),
                value: FieldValue::I64(-3),
            },
            Field {
                key: Cow::Borrowed("u"),
                value: FieldValue::U64(3),
            },
            Field {
                key: Cow::Borrowed("x"),
                value: FieldValue::F64(0.1),
            },
            Field {
                key: Cow::Borrowed("y"),
                value: FieldValue::F64(1e300),
            },
            Field {
                key: Cow::Borrowed("z"),
                value: FieldValue::F64(f64::NEG_INFINITY),
            },
            Field {
                key: Cow::Borrowed("b"),
                value: FieldValue::Bool(false),
            },
        ],
        timestamp: Some(-7),
        line_number: 1,
    };
    let text = written(&line);
    let expected_prefix = "m\\,e\\ a=s\\\\x,k\\,\\=1\\ =v\\,\\=\\\\\\  f\"\\=\\,=\"say \\\"hi\\\"\\\\\n\",i=-3i,u=3u,x=0.1,y=1";
    assert!(text.starts_with(expected_prefix), "{text}");
    assert!(text.ends_with(",z=-1e999,b=false -7"), "{text}");
    let again = first(&text);
    assert_eq!(again, line);
}

#[test]
fn serialiser_keeps_a_backslash_before_tab_or_newline_single() {
    // The parser produces these names from `m\<tab>x` and the like; writing them back must not
    // double the backslash, or the tab would end the name.
    for body in [
        "m\\\tx,k\\\n=v\\\t f\\\t=1",
        "m\\\0,k=v\\\\\\\t f=1",
        "m\\\\\\\t f=1",
    ] {
        let line = first(body);
        let text = written(&line);
        assert_eq!(first(&text), line, "{body:?} was written as {text:?}");
    }
}

#[test]
fn display_matches_write_line() {
    let line = first("cpu,host=a\\ b usage=1i,s=\"x\" 10");
    assert_eq!(line.to_string(), "cpu,host=a\\ b usage=1i,s=\"x\" 10");
    assert_eq!(line.to_string(), written(&line));
}

#[test]
fn helpers_on_lines() {
    let line = first("m,z=1,a\\ b=2,m=3 f=1i,s=\"x\"");
    let sorted: Vec<&str> = line.sorted_tags().iter().map(|t| &*t.key).collect();
    assert_eq!(sorted, ["a b", "m", "z"]);
    assert_eq!(line.tag_value("a b"), Some("2"));
    assert_eq!(line.tag_value("q"), None);
    assert_eq!(line.field_value("f"), Some(&FieldValue::I64(1)));
    assert_eq!(line.field_value("q"), None);
    assert!(
        matches!(line.tags[1].key, Cow::Owned(_)),
        "escaped names are unescaped copies"
    );
    assert!(
        matches!(line.tags[0].key, Cow::Borrowed(_)),
        "plain names borrow the body"
    );

    let owned: ParsedLine<'static> = line.clone().into_owned();
    assert_eq!(owned, line);

    assert!(FieldValue::I64(1).same_type(&FieldValue::I64(2)));
    assert!(!FieldValue::I64(1).same_type(&FieldValue::U64(1)));
    let names: Vec<&str> = [
        FieldValue::F64(0.0),
        FieldValue::I64(0),
        FieldValue::U64(0),
        FieldValue::Str(Cow::Borrowed("")),
        FieldValue::Bool(true),
    ]
    .iter()
    .map(FieldValue::type_name)
    .collect();
    assert_eq!(names, ["float", "integer", "unsigned", "string", "boolean"]);
}

#[test]
fn unknown_escapes_do_not_copy() {
    let line = first("m\\x,k=v\\y f\\z=\"a\\b\"");
    assert!(matches!(line.measurement, Cow::Borrowed("m\\x")));
    assert!(matches!(line.tags[0].value, Cow::Borrowed("v\\y")));
    assert!(matches!(line.fields[0].key, Cow::Borrowed("f\\z")));
    assert!(matches!(
        line.fields[0].value,
        FieldValue::Str(Cow::Borrowed("a\\b"))
    ));
}

#[test]
fn borrowed_lines_reuse_their_buffers() {
    let body = "a,t=1 f=1\nb,t=2,u=3 g=2,h=3\nc i=4";
    let mut lines = parse_lines(body.as_bytes());
    let mut seen = Vec::new();
    while let Some(line) = lines.next_borrowed() {
        let line = line.expect("valid line");
        seen.push((
            line.measurement.to_string(),
            line.tags.len(),
            line.fields.len(),
            line.line_number,
        ));
    }
    let want = [
        ("a".to_owned(), 1, 1, 1),
        ("b".to_owned(), 2, 2, 2),
        ("c".to_owned(), 0, 1, 3),
    ];
    assert_eq!(seen, want);
}
