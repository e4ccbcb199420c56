//! The API around the grammar: entry points, the error type, trees' shapes, durations, time
//! strings, quoting, and the nesting limits.

use crate::*;

fn select(query: &str) -> SelectStatement {
    match parse_statement(query) {
        Ok(Statement::Select(s)) => *s,
        other => panic!("{query}: {other:?}"),
    }
}

fn error(query: &str) -> ParseError {
    parse_query(query).expect_err(query)
}

#[test]
fn parse_statement_takes_one_statement() {
    assert_eq!(
        parse_statement("SELECT * FROM m;").map(|s| s.to_string()),
        Ok("SELECT * FROM m".to_owned())
    );
    assert_eq!(
        parse_statement("").map_err(|e| e.to_string()),
        Err("found EOF, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1".to_owned())
    );
    assert_eq!(
        parse_statement("SELECT a FROM m; SELECT b FROM m").map_err(|e| e.to_string()),
        Err("found SELECT, expected EOF at line 1, char 18".to_owned())
    );
}

#[test]
fn parse_expr_takes_one_expression() {
    let e = parse_expr("time > now() - 1h AND host = 'a'").expect("parses");
    assert_eq!(e.to_string(), "time > now() - 1h AND host = 'a'");
    assert_eq!(
        parse_expr("a + 1 b").map_err(|e| e.to_string()),
        Err("found b, expected EOF at line 1, char 7".to_owned())
    );
}

#[test]
fn errors_carry_their_position() {
    let e = error("SELECT a\nFROM m\nWHERE x = 'é' AND ");
    assert_eq!(
        e.message(),
        "found EOF, expected identifier, string, number, bool"
    );
    // 1.x reports the end of the text one character on after white space.
    assert_eq!(
        e.to_string(),
        "found EOF, expected identifier, string, number, bool at line 3, char 20"
    );
    assert_eq!(
        e.position(),
        Position {
            line: 3,
            column: 20,
            offset: 35
        }
    );

    let e = error("SELECT a FROM m fill(x)");
    assert_eq!(e.to_string(), "expected number argument in fill()");
    assert_eq!(e.position().column, 17);
}

#[test]
fn trees_have_1x_shapes() {
    let s =
        select("SELECT -value, DISTINCT host, a.b::tag FROM \"db\"..\"m\", rp./re/ WHERE x =~ /y/");
    let fields: Vec<&Expr> = s.fields.iter().map(|f| &f.expr).collect();
    assert_eq!(
        fields,
        [
            &Expr::binary(
                Expr::Literal(Literal::Integer(-1)),
                BinaryOp::Mul,
                Expr::var("value")
            ),
            &Expr::call("distinct", vec![Expr::var("host")]),
            &Expr::VarRef(VarRef {
                name: "a.b".to_owned(),
                data_type: Some(DataType::Tag)
            }),
        ]
    );
    assert_eq!(
        s.from,
        [
            Source::Measurement(Measurement {
                database: Some("db".to_owned()),
                retention_policy: None,
                name: MeasurementName::Name("m".to_owned()),
            }),
            Source::Measurement(Measurement {
                database: None,
                retention_policy: Some("rp".to_owned()),
                name: MeasurementName::Regex(Regex("re".to_owned())),
            }),
        ]
    );
    assert_eq!(
        s.condition,
        Some(Expr::binary(
            Expr::var("x"),
            BinaryOp::EqRegex,
            Expr::Literal(Literal::Regex(Regex("y".to_owned())))
        ))
    );

    let s = select(
        "SELECT * INTO db.rp.:MEASUREMENT FROM (SELECT a FROM m) GROUP BY time(1m), * fill(linear)",
    );
    assert_eq!(
        s.into,
        Some(Target {
            database: Some("db".to_owned()),
            retention_policy: Some("rp".to_owned()),
            measurement: None,
        })
    );
    assert!(matches!(&s.from[..], [Source::Subquery(_)]));
    assert_eq!(
        s.group_by,
        [
            Expr::call(
                "time",
                vec![Expr::Literal(Literal::Duration(Duration(60_000_000_000)))]
            ),
            Expr::Wildcard(None),
        ]
    );
    assert_eq!(s.fill, Some(Fill::Linear));
}

#[test]
fn unsupported_statements_say_which() {
    let query =
        parse_query("SHOW USERS; CREATE USER u WITH PASSWORD 'p'; KILL QUERY 1").expect("parses");
    let kinds: Vec<(&str, &str)> = query
        .statements
        .iter()
        .map(|s| match s {
            Statement::Unsupported(u) => (u.kind.name(), u.text.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("SHOW USERS", "SHOW USERS"),
            ("CREATE USER", "CREATE USER u WITH PASSWORD 'p'"),
            ("KILL QUERY", "KILL QUERY 1"),
        ]
    );
}

#[test]
fn durations() {
    let cases = [
        ("10ns", Some(10)),
        ("10u", Some(10_000)),
        ("10µ", Some(10_000)),
        ("15ms", Some(15_000_000)),
        ("100s", Some(100_000_000_000)),
        ("2m", Some(120_000_000_000)),
        ("2h", Some(7_200_000_000_000)),
        ("2d", Some(172_800_000_000_000)),
        ("2w", Some(1_209_600_000_000_000)),
        ("1h30m", Some(5_400_000_000_000)),
        ("30ms3000u", Some(33_000_000)),
        ("-5s", Some(-5_000_000_000)),
        ("-5m30s", Some(-330_000_000_000)),
        ("", None),
        ("3", None),
        ("1000", None),
        ("w", None),
        ("ms", None),
        ("1.2w", None),
        ("10x", None),
        ("10n", None),
        ("-", None),
        ("1h-5m", None),
    ];
    for (text, nanos) in cases {
        assert_eq!(
            Duration::parse(text).ok().map(Duration::nanos),
            nanos,
            "{text}"
        );
    }
    assert_eq!(
        Duration::parse("15251w").map_err(|e| e.to_string()),
        Err("overflowed duration 15251w: choose a smaller duration or INF".to_owned())
    );
    assert_eq!(Duration::parse("1y"), Err(DurationError::Invalid));
    for (nanos, text) in [
        (0, "0s"),
        (3_000, "3u"),
        (1_001_000, "1001u"),
        (15_000_000, "15ms"),
        (100_000_000_000, "100s"),
        (120_000_000_000, "2m"),
        (7_200_000_000_000, "2h"),
        (172_800_000_000_000, "2d"),
        (1_209_600_000_000_000, "2w"),
        (-90_000_000_000, "-90s"),
        (7, "7ns"),
    ] {
        assert_eq!(Duration(nanos).to_string(), text);
    }
}

#[test]
fn time_strings() {
    let day = 86_400_000_000_000_i64;
    let cases = [
        (
            "2024-01-01T00:00:00Z",
            Some(TimeString::Instant(19_723 * day)),
        ),
        (
            "1970-01-01T00:00:00.5Z",
            Some(TimeString::Instant(500_000_000)),
        ),
        ("1970-01-01T01:00:00+01:00", Some(TimeString::Instant(0))),
        (
            "1970-01-01T00:00:00-00:30",
            Some(TimeString::Instant(1_800_000_000_000)),
        ),
        (
            "1970-01-01T00:00:00.1234567891Z",
            Some(TimeString::Instant(123_456_789)),
        ),
        (
            "1969-12-31T23:59:59Z",
            Some(TimeString::Instant(-1_000_000_000)),
        ),
        ("2024-01-01 00:00:00", Some(TimeString::Local(19_723 * day))),
        (
            "2024-01-01 1:02:03.00",
            Some(TimeString::Local(19_723 * day + 3_723_000_000_000)),
        ),
        ("2024-01-01", Some(TimeString::Local(19_723 * day))),
        ("2024-02-29", Some(TimeString::Local(19_782 * day))),
        ("2023-02-29", None),
        ("2024-13-01", None),
        ("2024-01-01T00:00:00", None),
        ("2024-01-01T24:00:00Z", None),
        ("2024-01-01 00:00", None),
        ("2024-01-01 00:00:00.", None),
        ("2024-01-01 00:00:00 x", None),
        ("2300-01-01", None),
        ("yesterday", None),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_time_string(text), expected, "{text}");
    }
    assert!(is_time_string("2024-01-01 anything"));
    assert!(!is_time_string("2024-1-01"));
}

#[test]
fn quoting() {
    for (ident, quoted) in [
        ("", "\"\""),
        ("cpu", "cpu"),
        ("_x1", "_x1"),
        ("select", "\"select\""),
        ("TRUE", "\"TRUE\""),
        ("in-bytes", "\"in-bytes\""),
        ("1x", "\"1x\""),
        ("a\"b\\c\nd", "\"a\\\"b\\\\c\\nd\""),
        ("é", "\"é\""),
    ] {
        assert_eq!(quote_ident(ident), quoted);
        assert_eq!(ident_needs_quotes(ident), ident != quoted);
    }
    assert_eq!(quote_string(""), "''");
    assert_eq!(quote_string("foo\nbar"), "'foo\\nbar'");
    assert_eq!(quote_string("foo bar\\\\"), "'foo bar\\\\\\\\'");
    assert_eq!(quote_string("'foo'"), "'\\'foo\\''");
}

#[test]
fn nesting_is_bounded() {
    let parens = |n: usize| format!("SELECT {}a{} FROM m", "(".repeat(n), ")".repeat(n));
    assert!(parse_query(&parens(MAX_NESTING)).is_ok());
    assert_eq!(
        error(&parens(MAX_NESTING + 1)).to_string(),
        "query nested too deeply: more than 256 levels at line 1, char 264"
    );

    let calls = |n: usize| format!("SELECT {}a{} FROM m", "f(".repeat(n), ")".repeat(n));
    assert!(parse_query(&calls(MAX_NESTING)).is_ok());
    assert!(error(&calls(MAX_NESTING + 1))
        .message()
        .starts_with("query nested too deeply"));

    let subqueries = |n: usize| {
        format!(
            "SELECT a FROM {}m{}",
            "(SELECT a FROM ".repeat(n),
            ")".repeat(n)
        )
    };
    let deep = parse_query(&subqueries(MAX_SUBQUERY_NESTING)).expect("32 subqueries");
    assert_eq!(parse_query(&deep.to_string()), Ok(deep));
    assert_eq!(
        error(&subqueries(MAX_SUBQUERY_NESTING + 1)).to_string(),
        "subqueries nested too deeply: more than 32 levels at line 1, char 495"
    );

    let chain = |n: usize| format!("SELECT a FROM m WHERE a = 1{}", " OR a = 1".repeat(n));
    assert!(parse_query(&chain(MAX_EXPR_HEIGHT - 2)).is_ok());
    assert!(error(&chain(MAX_EXPR_HEIGHT))
        .message()
        .starts_with("expression nested too deeply"));
}

/// The tallest trees the parser builds can be parsed, printed, compared, cloned, debugged
/// and dropped on a thread with a 1 MiB stack, in a debug build (release builds need far
/// less; Tokio's worker threads have 2 MiB).
#[test]
fn tall_trees_fit_a_small_stack() {
    let calls = MAX_NESTING - MAX_SUBQUERY_NESTING;
    let inner = format!(
        "SELECT {}a{} FROM m WHERE a = 1{}",
        "f(".repeat(calls),
        ")".repeat(calls),
        " OR a = 1".repeat(MAX_EXPR_HEIGHT - 2)
    );
    let texts = [
        format!(
            "SELECT a FROM {}({inner}){}",
            "(SELECT a FROM ".repeat(MAX_SUBQUERY_NESTING - 1),
            ")".repeat(MAX_SUBQUERY_NESTING - 1)
        ),
        format!(
            "SELECT {}a{} FROM m",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        ),
        format!(
            "SELECT {}a{} FROM m",
            "-(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        ),
    ];
    for text in texts {
        let worker = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let query = parse_query(&text).expect("parses");
                let printed = query.to_string();
                let copy = query.clone();
                assert_eq!(copy, query);
                assert!(format!("{query:?}").len() > printed.len());
                assert_eq!(parse_query(&printed), Ok(query));
            })
            .expect("spawn");
        assert!(worker.join().is_ok());
    }
}

/// The fuzzer's seeds (`fuzz/seeds`) are queries that parse.
#[test]
fn fuzz_seeds_parse() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("seeds") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("seed");
        let query = parse_query(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert_eq!(parse_query(&query.to_string()), Ok(query));
        count += 1;
    }
    assert!(count >= 20);
}

/// A checker that refuses regexes containing `[` and zones other than `UTC`.
#[derive(Debug)]
struct Strict;

impl ParseChecks for Strict {
    fn regex(&self, pattern: &str) -> Result<(), String> {
        if pattern.contains('[') {
            Err(format!("bad: {pattern}"))
        } else {
            Ok(())
        }
    }

    fn time_zone(&self, name: &str) -> Result<(), String> {
        if name == "UTC" {
            Ok(())
        } else {
            Err(format!("unable to find time zone {name}"))
        }
    }
}

#[test]
fn checks_fail_the_parse_where_1x_does() {
    let checked = |q: &str| {
        parse_query_checked(q, &Params::new(), &Strict)
            .map(|q| q.to_string())
            .map_err(|e| e.to_string())
    };
    // After an operator or in a call, at the character before the `/`.
    assert_eq!(
        checked("SELECT f FROM m WHERE t =~ /[/"),
        Err("bad: [ at line 1, char 27".to_owned())
    );
    assert_eq!(
        checked("SELECT f FROM m WHERE t =~/[/"),
        Err("bad: [ at line 1, char 26".to_owned())
    );
    assert_eq!(
        checked("SELECT count(/[a/) FROM m"),
        Err("bad: [a at line 1, char 13".to_owned())
    );
    // After FROM, at the `/` itself.
    assert_eq!(
        checked("SELECT f FROM /[/"),
        Err("bad: [ at line 1, char 15".to_owned())
    );
    assert_eq!(
        checked("SELECT f FROM m tz('Nowhere')"),
        Err("unable to find time zone Nowhere".to_owned())
    );
    assert_eq!(
        checked("SELECT f FROM /a/ WHERE t =~ /b/ tz('UTC')"),
        Ok("SELECT f FROM /a/ WHERE t =~ /b/ tz('UTC')".to_owned())
    );
    // Without checks, both parse (the planner refuses them).
    assert!(parse_query("SELECT f FROM m WHERE t =~ /[/ tz('Nowhere')").is_ok());
}
