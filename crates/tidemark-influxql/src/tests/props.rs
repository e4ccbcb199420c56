//! Property tests: printing any tree the parser can build gives text that parses back to it,
//! and no input makes the parser panic.

use proptest::prelude::*;

use crate::*;

/// A name: plain, a keyword, or with characters that need quoting and escaping. No `\r`
/// (1.x reads it as a line break, so no string holds one) and no NUL.
fn name() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,6}",
        Just("select".to_owned()),
        Just("time".to_owned()),
        Just("TRUE".to_owned()),
        Just("".to_owned()),
        "[a-zA-Z0-9 _.'\"\\\\\n/*$éπ☃-]{0,8}",
    ]
    .boxed()
}

fn non_empty_name() -> BoxedStrategy<String> {
    name().prop_filter("non-empty", |s| !s.is_empty()).boxed()
}

/// Regex text as the scanner can produce it: no line break or NUL, not starting with `*`
/// (`/*` opens a comment) and not ending with a backslash (which would escape the closing
/// `/`).
fn regex() -> BoxedStrategy<Regex> {
    "[a-z.*+?^$|()\\[\\]{}/\\\\ é]{0,8}"
        .prop_filter("scannable", |s| !s.starts_with('*') && !s.ends_with('\\'))
        .prop_map(Regex)
        .boxed()
}

fn literal() -> BoxedStrategy<Literal> {
    prop_oneof![
        any::<i64>().prop_map(Literal::Integer),
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(Literal::Unsigned),
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(Literal::Float),
        name().prop_map(Literal::String),
        any::<bool>().prop_map(Literal::Boolean),
        (i64::MIN + 1..=i64::MAX).prop_map(|n| Literal::Duration(Duration(n))),
    ]
    .boxed()
}

fn data_type() -> BoxedStrategy<Option<DataType>> {
    prop_oneof![
        3 => Just(None),
        1 => prop_oneof![
            Just(DataType::Float),
            Just(DataType::Integer),
            Just(DataType::Unsigned),
            Just(DataType::String),
            Just(DataType::Boolean),
            Just(DataType::Tag),
            Just(DataType::Field),
        ]
        .prop_map(Some),
    ]
    .boxed()
}

fn leaf() -> BoxedStrategy<Expr> {
    prop_oneof![
        4 => (name(), data_type()).prop_map(|(name, data_type)| Expr::VarRef(VarRef { name, data_type })),
        4 => literal().prop_map(Expr::Literal),
        1 => prop_oneof![
            Just(None),
            Just(Some(WildcardType::Field)),
            Just(Some(WildcardType::Tag))
        ]
        .prop_map(Expr::Wildcard),
        1 => non_empty_name().prop_map(Expr::Param),
    ].boxed()
}

/// A function name as the parser leaves it: lower case.
fn call_name() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,8}",
        Just("distinct".to_owned()),
        Just("select".to_owned()),
        Just("my func".to_owned()),
    ]
    .boxed()
}

const ARITHMETIC: [BinaryOp; 8] = [
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Mod,
    BinaryOp::BitAnd,
    BinaryOp::BitOr,
    BinaryOp::BitXor,
];

const CONDITION: [BinaryOp; 11] = [
    BinaryOp::Eq,
    BinaryOp::NotEq,
    BinaryOp::Lt,
    BinaryOp::LtEq,
    BinaryOp::Gt,
    BinaryOp::GtEq,
    BinaryOp::In,
    BinaryOp::And,
    BinaryOp::Or,
    BinaryOp::EqRegex,
    BinaryOp::NotEqRegex,
];

/// An expression; with `conditions`, any operator, else arithmetic only (a `SELECT` field).
fn expr(conditions: bool) -> BoxedStrategy<Expr> {
    leaf()
        .prop_recursive(4, 24, 3, move |inner| {
            let ops: Vec<BinaryOp> = if conditions {
                ARITHMETIC.iter().chain(&CONDITION).copied().collect()
            } else {
                ARITHMETIC.to_vec()
            };
            let arg = prop_oneof![
                4 => inner.clone(),
                1 => regex().prop_map(|r| Expr::Literal(Literal::Regex(r))),
            ];
            prop_oneof![
                (inner.clone(), proptest::sample::select(ops), inner.clone()).prop_map(
                    |(lhs, op, rhs)| {
                        if op.is_regex() {
                            // The right of `=~` is a regex or a parameter.
                            let rhs = match rhs {
                                Expr::Param(p) => Expr::Param(p),
                                _ => Expr::Literal(Literal::Regex(Regex(".*".to_owned()))),
                            };
                            Expr::binary(lhs, op, rhs)
                        } else {
                            Expr::binary(lhs, op, rhs)
                        }
                    }
                ),
                (call_name(), prop::collection::vec(arg, 0..3))
                    .prop_map(|(name, args)| Expr::call(name, args)),
            ]
        })
        .boxed()
}

/// A top-level field, dimension or argument may also be a bare regex.
fn expr_or_regex(conditions: bool) -> BoxedStrategy<Expr> {
    prop_oneof![
        6 => expr(conditions),
        1 => regex().prop_map(|r| Expr::Literal(Literal::Regex(r))),
    ]
    .boxed()
}

fn measurement() -> BoxedStrategy<Measurement> {
    (
        proptest::option::of(non_empty_name()),
        proptest::option::of(non_empty_name()),
        prop_oneof![
            3 => name().prop_map(MeasurementName::Name),
            1 => regex().prop_map(MeasurementName::Regex),
        ],
    )
        .prop_map(|(database, retention_policy, name)| Measurement {
            database,
            retention_policy,
            name,
        })
        .boxed()
}

fn small_int() -> BoxedStrategy<Option<u64>> {
    proptest::option::of(prop_oneof![0..100u64, Just(i64::MAX as u64)]).boxed()
}

fn fill() -> BoxedStrategy<Option<Fill>> {
    proptest::option::of(prop_oneof![
        Just(Fill::Null),
        Just(Fill::None),
        Just(Fill::Previous),
        Just(Fill::Linear),
        any::<i64>().prop_map(Fill::Integer),
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(Fill::Float),
    ])
    .boxed()
}

fn order() -> BoxedStrategy<Option<Order>> {
    proptest::option::of(prop_oneof![Just(Order::Ascending), Just(Order::Descending)]).boxed()
}

fn target() -> BoxedStrategy<Option<Target>> {
    proptest::option::of(
        (
            proptest::option::of(non_empty_name()),
            proptest::option::of(non_empty_name()),
            proptest::option::of(name()),
        )
            .prop_map(|(database, retention_policy, measurement)| Target {
                database,
                retention_policy,
                measurement,
            }),
    )
    .boxed()
}

fn select_with(source: BoxedStrategy<Source>) -> BoxedStrategy<SelectStatement> {
    (
        (
            prop::collection::vec(
                (expr_or_regex(false), proptest::option::of(name()))
                    .prop_map(|(expr, alias)| Field { expr, alias }),
                1..3,
            ),
            target(),
            prop::collection::vec(source, 1..3),
            proptest::option::of(expr(true)),
            prop::collection::vec(expr_or_regex(true), 0..3),
            fill(),
        ),
        (
            order(),
            small_int(),
            small_int(),
            small_int(),
            small_int(),
            proptest::option::of(name()),
        ),
    )
        .prop_map(
            |(
                (fields, into, from, condition, group_by, fill),
                (order, limit, offset, slimit, soffset, timezone),
            )| SelectStatement {
                fields,
                into,
                from,
                condition,
                group_by,
                fill,
                order,
                limit,
                offset,
                slimit,
                soffset,
                timezone,
            },
        )
        .boxed()
}

fn select() -> BoxedStrategy<SelectStatement> {
    let measurements = measurement().prop_map(Source::Measurement).boxed();
    let with_subqueries = prop_oneof![
        3 => measurement().prop_map(Source::Measurement),
        1 => select_with(measurements.clone()).prop_map(|s| Source::Subquery(Box::new(s))),
    ]
    .boxed();
    select_with(with_subqueries).boxed()
}

fn sources() -> BoxedStrategy<Vec<Source>> {
    prop::collection::vec(measurement().prop_map(Source::Measurement), 0..3).boxed()
}

fn with_key() -> BoxedStrategy<WithKey> {
    prop_oneof![
        name().prop_map(WithKey::Eq),
        name().prop_map(WithKey::NotEq),
        regex().prop_map(WithKey::EqRegex),
        regex().prop_map(WithKey::NotEqRegex),
        prop::collection::vec(name(), 1..3).prop_map(WithKey::In),
    ]
    .boxed()
}

fn name_or_wildcard() -> BoxedStrategy<NameOrWildcard> {
    prop_oneof![
        name().prop_map(NameOrWildcard::Name),
        Just(NameOrWildcard::Wildcard)
    ]
    .boxed()
}

fn show() -> BoxedStrategy<Statement> {
    let on = || proptest::option::of(name());
    let condition = || proptest::option::of(expr(true));
    prop_oneof![
        Just(Statement::ShowDatabases),
        (
            proptest::option::of((name_or_wildcard(), proptest::option::of(name_or_wildcard()))),
            proptest::option::of(measurement()),
            condition(),
            order(),
            small_int(),
            small_int()
        )
            .prop_map(|(on, with_measurement, condition, order, limit, offset)| {
                Statement::ShowMeasurements(Box::new(ShowMeasurementsStatement {
                    on,
                    with_measurement,
                    condition,
                    order,
                    limit,
                    offset,
                }))
            }),
        on().prop_map(|on| Statement::ShowRetentionPolicies(ShowRetentionPoliciesStatement { on })),
        (
            (
                on(),
                sources(),
                proptest::option::of(with_key()),
                condition()
            ),
            (order(), small_int(), small_int(), small_int(), small_int())
        )
            .prop_map(
                |((on, from, with_key, condition), (order, limit, offset, slimit, soffset))| {
                    Statement::ShowTagKeys(Box::new(ShowTagKeysStatement {
                        on,
                        from,
                        with_key,
                        condition,
                        order,
                        limit,
                        offset,
                        slimit,
                        soffset,
                    }))
                }
            ),
        (
            on(),
            sources(),
            with_key(),
            condition(),
            order(),
            small_int(),
            small_int()
        )
            .prop_map(|(on, from, with_key, condition, order, limit, offset)| {
                Statement::ShowTagValues(Box::new(ShowTagValuesStatement {
                    on,
                    from,
                    with_key,
                    condition,
                    order,
                    limit,
                    offset,
                }))
            }),
        (on(), sources(), order(), small_int(), small_int()).prop_map(
            |(on, from, order, limit, offset)| {
                Statement::ShowFieldKeys(Box::new(ShowFieldKeysStatement {
                    on,
                    from,
                    order,
                    limit,
                    offset,
                }))
            }
        ),
        (
            on(),
            sources(),
            condition(),
            order(),
            small_int(),
            small_int()
        )
            .prop_map(|(on, from, condition, order, limit, offset)| {
                Statement::ShowSeries(Box::new(ShowSeriesStatement {
                    on,
                    from,
                    condition,
                    order,
                    limit,
                    offset,
                }))
            }),
        (
            prop_oneof![
                Just(CardinalityKind::Measurement),
                Just(CardinalityKind::Series),
                Just(CardinalityKind::TagKey),
                with_key().prop_map(CardinalityKind::TagValues),
                Just(CardinalityKind::FieldKey),
            ],
            (any::<bool>(), on(), sources(), condition()),
            (
                prop::collection::vec(expr_or_regex(true), 0..3),
                small_int(),
                small_int()
            )
        )
            .prop_map(
                |(kind, (exact, on, from, condition), (group_by, limit, offset))| {
                    Statement::ShowCardinality(Box::new(ShowCardinalityStatement {
                        kind,
                        exact,
                        on,
                        from,
                        condition,
                        group_by,
                        limit,
                        offset,
                    }))
                }
            ),
    ]
    .boxed()
}

fn non_negative_duration() -> BoxedStrategy<Option<Duration>> {
    proptest::option::of((0..=i64::MAX).prop_map(Duration)).boxed()
}

fn other() -> BoxedStrategy<Statement> {
    let spec = (
        non_negative_duration(),
        proptest::option::of(1..=i32::MAX as u32),
        non_negative_duration(),
        non_negative_duration(),
        non_negative_duration(),
        proptest::option::of(name()),
    )
        .prop_map(
            |(duration, replication, shard_duration, future_limit, past_limit, name)| {
                RetentionPolicySpec {
                    duration,
                    replication,
                    shard_duration,
                    future_limit,
                    past_limit,
                    name,
                }
            },
        )
        .prop_filter("WITH needs an option", |s| {
            *s != RetentionPolicySpec::default()
        });
    let undatabased = measurement().prop_map(|m| Measurement {
        database: None,
        ..m
    });
    prop_oneof![
        (name(), proptest::option::of(spec)).prop_map(|(name, retention_policy)| {
            Statement::CreateDatabase(CreateDatabaseStatement {
                name,
                retention_policy,
            })
        }),
        name().prop_map(|name| Statement::DropMeasurement(DropMeasurementStatement { name })),
        (
            prop::collection::vec(undatabased.prop_map(Source::Measurement), 0..3),
            proptest::option::of(expr(true))
        )
            .prop_filter("FROM or WHERE", |(from, condition)| {
                !from.is_empty() || condition.is_some()
            })
            .prop_map(
                |(from, condition)| Statement::Delete(Box::new(DeleteStatement {
                    from,
                    condition
                }))
            ),
        (any::<bool>(), any::<bool>(), select()).prop_map(|(analyze, verbose, select)| {
            Statement::Explain(Box::new(ExplainStatement {
                analyze,
                verbose,
                select,
            }))
        }),
    ]
    .boxed()
}

fn statement() -> BoxedStrategy<Statement> {
    prop_oneof![
        3 => select().prop_map(|s| Statement::Select(Box::new(s))),
        2 => show(),
        1 => other(),
    ]
    .boxed()
}

/// Pieces of InfluxQL, so that random text often gets far into the grammar.
fn soup() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        proptest::sample::select(vec![
            "SELECT",
            "FROM",
            "WHERE",
            "GROUP",
            "BY",
            "ORDER",
            "LIMIT",
            "OFFSET",
            "SLIMIT",
            "SOFFSET",
            "INTO",
            "AS",
            "AND",
            "OR",
            "SHOW",
            "TAG",
            "KEYS",
            "VALUES",
            "WITH",
            "KEY",
            "MEASUREMENTS",
            "MEASUREMENT",
            "SERIES",
            "FIELD",
            "CARDINALITY",
            "EXACT",
            "ON",
            "IN",
            "CREATE",
            "DATABASE",
            "DROP",
            "DELETE",
            "EXPLAIN",
            "ANALYZE",
            "DISTINCT",
            "time",
            "now()",
            "fill(",
            "tz(",
            "mean(",
            "DURATION",
            "INF",
            ":MEASUREMENT",
            "*",
            "::",
            "::field",
            "(",
            ")",
            ",",
            ";",
            ".",
            "..",
            "=",
            "!=",
            "<>",
            "=~",
            "!~",
            "<",
            ">=",
            "+",
            "-",
            "/",
            "%",
            "&",
            "|",
            "^",
            "1",
            "-1",
            "1.5",
            ".5",
            "1h30m",
            "10x",
            "'s'",
            "'",
            "\"q\"",
            "\"",
            "/re/",
            "/",
            "$p",
            "$",
            "--c\n",
            "/*c*/",
            "/*",
            " ",
            "\n",
            "\r",
            "cpu",
            "host",
            "db",
            "rp",
            "value",
            "9223372036854775808",
            "true",
        ])
        .prop_map(str::to_owned),
        "[a-z]{1,3}",
    ];
    let start = proptest::sample::select(vec![
        "",
        "SELECT ",
        "SELECT * FROM m ",
        "SELECT mean(v) FROM m WHERE ",
        "SELECT a FROM m GROUP BY ",
        "SHOW ",
        "SHOW TAG VALUES WITH KEY ",
        "SHOW MEASUREMENTS ",
        "DELETE ",
        "CREATE DATABASE db WITH ",
        "EXPLAIN SELECT ",
        "GRANT ",
    ]);
    (start, prop::collection::vec(piece, 0..24))
        .prop_map(|(start, pieces)| format!("{start}{}", pieces.join(" ")))
        .boxed()
}

/// If `text` parses, printing it gives text that parses to the same query.
fn check_reparse(text: &str) -> Result<(), TestCaseError> {
    if let Ok(query) = parse_query(text) {
        let printed = query.to_string();
        prop_assert_eq!(
            parse_query(&printed),
            Ok(query),
            "{:?} printed as {:?}",
            text,
            printed
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printed_expressions_parse_back(e in expr(true)) {
        let printed = e.to_string();
        prop_assert_eq!(parse_expr(&printed), Ok(e), "printed as {:?}", printed);
    }

    #[test]
    fn printed_statements_parse_back(s in prop::collection::vec(statement(), 1..3)) {
        let query = Query { statements: s };
        let printed = query.to_string();
        prop_assert_eq!(parse_query(&printed), Ok(query), "printed as {:?}", printed);
    }

    #[test]
    fn any_text_parses_or_fails_cleanly(text in "\\PC{0,64}") {
        check_reparse(&text)?;
    }

    #[test]
    fn influxql_soup_parses_or_fails_cleanly(text in soup()) {
        check_reparse(&text)?;
    }
}
