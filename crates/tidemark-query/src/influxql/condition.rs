//! `WHERE`: the time range it bounds (for pruning and for GROUP BY time's windows) and the
//! rest as a DataFusion filter over one measurement's columns.
//!
//! Tags follow 1.x: a series without the tag has the empty string for it, so `host != 'a'`
//! and `host = ''` match rows where `host` is null. Names that are neither tag nor field of the
//! measurement behave as such an absent tag.

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;
use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{cast, lit, BinaryExpr as DfBinary, Expr as Df, Operator};
use datafusion::prelude::{col, Expr};
use tidemark_catalog::ColumnKind;
use tidemark_influxql::{parse_time_string, BinaryOp, Expr as Ix, Literal, TimeString, VarRef};
use tidemark_storage::schema::TableSchema;

use super::statement_error;
use crate::error::Result;

/// The instant `now()` reads and the zone of `tz()`, fixed for a statement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub(crate) now: i64,
    pub(crate) tz: Option<Tz>,
}

/// The offset of `tz` from UTC at instant `t`, in nanoseconds (east positive).
pub(crate) fn zone_offset(tz: Tz, t: i64) -> i64 {
    let utc = chrono::DateTime::from_timestamp_nanos(t).naive_utc();
    i64::from(tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()) * 1_000_000_000
}

/// Inclusive bounds on time; `None` is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TimeBounds {
    pub(crate) min: Option<i64>,
    pub(crate) max: Option<i64>,
}

impl TimeBounds {
    fn lower(&mut self, v: i64) {
        self.min = Some(self.min.map_or(v, |m| m.max(v)));
    }
    fn upper(&mut self, v: i64) {
        self.max = Some(self.max.map_or(v, |m| m.min(v)));
    }
    pub(crate) fn is_empty(&self) -> bool {
        matches!((self.min, self.max), (Some(a), Some(b)) if a > b)
    }
}

/// The condition split into the time bounds of its top-level `AND` chain and the rest. Time
/// comparisons elsewhere (under an `OR`) stay in the rest, where they filter rows.
pub(crate) fn split(cond: Option<&Ix>, now: Clock) -> Result<(TimeBounds, Option<Ix>)> {
    let mut bounds = TimeBounds::default();
    let mut rest: Vec<Ix> = Vec::new();
    let mut stack: Vec<&Ix> = cond.into_iter().collect();
    while let Some(e) = stack.pop() {
        if let Ix::Binary(b) = e {
            if b.op == BinaryOp::And {
                stack.push(&b.rhs);
                stack.push(&b.lhs);
                continue;
            }
            if let Some((op, value)) = time_comparison(b.lhs.clone(), b.op, b.rhs.clone()) {
                let t = eval_time(&value, now)?;
                match op {
                    BinaryOp::Gt => bounds.lower(t.saturating_add(1)),
                    BinaryOp::GtEq => bounds.lower(t),
                    BinaryOp::Lt => bounds.upper(t.saturating_sub(1)),
                    BinaryOp::LtEq => bounds.upper(t),
                    BinaryOp::Eq => {
                        bounds.lower(t);
                        bounds.upper(t);
                    }
                    _ => rest.push(e.clone()),
                }
                continue;
            }
        }
        rest.push(e.clone());
    }
    let rest = rest
        .into_iter()
        .reduce(|a, b| Ix::binary(a, BinaryOp::And, b));
    Ok((bounds, rest))
}

/// `time op x` or `x op time`, normalised to `time op x`.
pub(crate) fn time_comparison(lhs: Ix, op: BinaryOp, rhs: Ix) -> Option<(BinaryOp, Ix)> {
    let is_time =
        |e: &Ix| matches!(e, Ix::VarRef(VarRef { name, .. }) if name.eq_ignore_ascii_case("time"));
    let flipped = match op {
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Eq | BinaryOp::NotEq => op,
        _ => return None,
    };
    if is_time(&lhs) {
        Some((op, rhs))
    } else if is_time(&rhs) {
        Some((flipped, lhs))
    } else {
        None
    }
}

/// `YYYY-MM-DD` at the start, digits only: what 1.x takes for a date before parsing it.
fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// A time expression: `now()`, durations, integers (nanoseconds), time strings, and sums and
/// differences of them.
pub(crate) fn eval_time(e: &Ix, now: Clock) -> Result<i64> {
    match e {
        Ix::Literal(Literal::Integer(i)) => Ok(*i),
        Ix::Literal(Literal::Float(f)) => Ok(*f as i64),
        Ix::Literal(Literal::Duration(d)) => Ok(d.nanos()),
        Ix::Literal(Literal::String(s)) => match parse_time_string(s) {
            Some(TimeString::Instant(t)) => Ok(t),
            // A wall-clock time in the query's zone.
            Some(TimeString::Local(t)) => Ok(match now.tz {
                Some(tz) => t.saturating_sub(zone_offset(tz, t)),
                None => t,
            }),
            // Shaped like a date but not one (`2024-13-45`): 1.x's ErrInvalidTime.
            None if looks_like_date(s) => Err(statement_error("invalid timestamp string")),
            None => Err(statement_error(
                "invalid operation: time and *influxql.StringLiteral are not compatible",
            )),
        },
        Ix::Call(c) if c.name == "now" && c.args.is_empty() => Ok(now.now),
        Ix::Binary(b) if matches!(b.op, BinaryOp::Add | BinaryOp::Sub) => {
            let l = eval_time(&b.lhs, now)?;
            let r = eval_time(&b.rhs, now)?;
            Ok(if b.op == BinaryOp::Add {
                l.saturating_add(r)
            } else {
                l.saturating_sub(r)
            })
        }
        Ix::Param(name) => Err(missing_param(name)),
        other => Err(statement_error(format!(
            "invalid operation: time and {} are not compatible",
            go_type_name(other)
        ))),
    }
}

fn go_type_name(e: &Ix) -> &'static str {
    match e {
        Ix::VarRef(_) => "*influxql.VarRef",
        Ix::Call(_) => "*influxql.Call",
        Ix::Binary(_) => "*influxql.BinaryExpr",
        Ix::Literal(Literal::Boolean(_)) => "*influxql.BooleanLiteral",
        Ix::Literal(Literal::Regex(_)) => "*influxql.RegexLiteral",
        Ix::Literal(_) => "*influxql.NumberLiteral",
        Ix::Wildcard(_) => "*influxql.Wildcard",
        Ix::Param(_) => "*influxql.BoundParameter",
    }
}

pub(crate) fn missing_param(name: &str) -> crate::error::Error {
    statement_error(format!("missing parameter: {name}"))
}

fn timestamp(t: i64) -> Expr {
    lit(ScalarValue::TimestampNanosecond(Some(t), None))
}

/// Time bounds as a filter the table provider prunes with.
pub(crate) fn bounds_filter(bounds: &TimeBounds) -> Option<Expr> {
    let lo = bounds.min.map(|t| col("time").gt_eq(timestamp(t)));
    let hi = bounds.max.map(|t| col("time").lt_eq(timestamp(t)));
    match (lo, hi) {
        (Some(a), Some(b)) => Some(a.and(b)),
        (a, b) => a.or(b),
    }
}

fn column(name: &str) -> Expr {
    Df::Column(datafusion::common::Column::from_name(name))
}

/// Compiles a regex as 1.x would accept it, with 1.x's error text.
pub(crate) fn regex(pattern: &str) -> Result<regex::Regex> {
    regex::Regex::new(pattern).map_err(|e| statement_error(regex_error(pattern, &e)))
}

/// Go's `regexp` error for a pattern that does not compile, as 1.x shows it:
/// ``error parsing regexp: missing closing ]: `[a` ``. Syntax errors take Go's code and the
/// part of the pattern Go quotes; anything else keeps the regex crate's text.
pub(crate) fn regex_error(pattern: &str, e: &regex::Error) -> String {
    use regex_syntax::ast::ErrorKind as K;
    let Err(err) = regex_syntax::ast::parse::Parser::new().parse(pattern) else {
        return format!("error parsing regexp: {e}");
    };
    let span = err.span();
    let spanned = pattern
        .get(span.start.offset..span.end.offset)
        .unwrap_or(pattern);
    let from_start = pattern.get(span.start.offset..).unwrap_or(pattern);
    let (code, expr) = match err.kind() {
        K::ClassUnclosed => ("missing closing ]", from_start),
        K::GroupUnclosed => ("missing closing )", pattern),
        K::GroupUnopened => ("unexpected )", pattern),
        K::RepetitionMissing => {
            // The span is empty at the operator; Go quotes the operator (`*`, `+?`).
            let len = match from_start.as_bytes() {
                [b'*' | b'+' | b'?', b'?', ..] => 2,
                [b'{', ..] => from_start.find('}').map_or(1, |i| i + 1),
                _ => from_start.chars().next().map_or(0, char::len_utf8),
            };
            (
                "missing argument to repetition operator",
                from_start.get(..len).unwrap_or(from_start),
            )
        }
        K::RepetitionCountInvalid => ("invalid repeat count", spanned),
        K::ClassRangeInvalid | K::ClassRangeLiteral => ("invalid character class range", spanned),
        K::EscapeUnexpectedEof => ("trailing backslash at end of expression", ""),
        K::EscapeUnrecognized
        | K::EscapeHexEmpty
        | K::EscapeHexInvalid
        | K::EscapeHexInvalidDigit
        | K::ClassEscapeInvalid
        | K::UnsupportedBackreference => ("invalid escape sequence", spanned),
        K::GroupNameEmpty | K::GroupNameInvalid | K::GroupNameUnexpectedEof => {
            ("invalid named capture", spanned)
        }
        K::FlagDanglingNegation
        | K::FlagDuplicate { .. }
        | K::FlagRepeatedNegation { .. }
        | K::FlagUnexpectedEof
        | K::FlagUnrecognized
        | K::UnsupportedLookAround => ("invalid or unsupported Perl syntax", spanned),
        K::NestLimitExceeded(_) => ("expression nests too deeply", pattern),
        _ => return format!("error parsing regexp: {e}"),
    };
    format!("error parsing regexp: {code}: `{expr}`")
}

/// What 1.x checks while parsing: regexes compile, time zones exist.
#[derive(Debug, Clone, Copy, Default)]
pub struct InfluxQlChecks;

impl tidemark_influxql::ParseChecks for InfluxQlChecks {
    fn regex(&self, pattern: &str) -> std::result::Result<(), String> {
        regex::Regex::new(pattern)
            .map(|_| ())
            .map_err(|e| regex_error(pattern, &e))
    }

    fn time_zone(&self, name: &str) -> std::result::Result<(), String> {
        name.parse::<chrono_tz::Tz>()
            .map(|_| ())
            .map_err(|_| format!("unable to find time zone {name}"))
    }
}

/// The condition as a DataFusion filter over `table`'s columns.
pub(crate) fn to_filter(e: &Ix, table: &TableSchema, now: Clock) -> Result<Expr> {
    match e {
        Ix::Binary(b) => match b.op {
            BinaryOp::And => Ok(to_filter(&b.lhs, table, now)?.and(to_filter(&b.rhs, table, now)?)),
            BinaryOp::Or => Ok(to_filter(&b.lhs, table, now)?.or(to_filter(&b.rhs, table, now)?)),
            op if op.is_condition() => comparison(&b.lhs, op, &b.rhs, table, now),
            _ => Err(statement_error(format!("invalid condition {e}"))),
        },
        Ix::Literal(Literal::Boolean(v)) => Ok(lit(*v)),
        Ix::Param(name) => Err(missing_param(name)),
        _ => Err(statement_error(format!("invalid condition {e}"))),
    }
}

enum Kind {
    Time,
    Tag,
    Field,
    Missing,
}

fn kind_of(name: &str, table: &TableSchema) -> Kind {
    if name == "time" {
        return Kind::Time;
    }
    match table.column(name) {
        Some((_, ColumnKind::Tag)) => Kind::Tag,
        Some((_, ColumnKind::Field(_))) => Kind::Field,
        Some((_, ColumnKind::Time)) => Kind::Time,
        None => Kind::Missing,
    }
}

fn df_op(op: BinaryOp) -> Option<Operator> {
    Some(match op {
        BinaryOp::Eq => Operator::Eq,
        BinaryOp::NotEq => Operator::NotEq,
        BinaryOp::Lt => Operator::Lt,
        BinaryOp::LtEq => Operator::LtEq,
        BinaryOp::Gt => Operator::Gt,
        BinaryOp::GtEq => Operator::GtEq,
        BinaryOp::EqRegex => Operator::RegexMatch,
        BinaryOp::NotEqRegex => Operator::RegexNotMatch,
        BinaryOp::Add => Operator::Plus,
        BinaryOp::Sub => Operator::Minus,
        BinaryOp::Mul => Operator::Multiply,
        BinaryOp::Div => Operator::Divide,
        BinaryOp::Mod => Operator::Modulo,
        BinaryOp::BitAnd => Operator::BitwiseAnd,
        BinaryOp::BitOr => Operator::BitwiseOr,
        BinaryOp::BitXor => Operator::BitwiseXor,
        BinaryOp::And => Operator::And,
        BinaryOp::Or => Operator::Or,
        BinaryOp::In => return None,
    })
}

fn binary(l: Expr, op: Operator, r: Expr) -> Expr {
    Df::BinaryExpr(DfBinary::new(Box::new(l), op, Box::new(r)))
}

fn comparison(lhs: &Ix, op: BinaryOp, rhs: &Ix, table: &TableSchema, now: Clock) -> Result<Expr> {
    if let Some((op, value)) = time_comparison(lhs.clone(), op, rhs.clone()) {
        let t = timestamp(eval_time(&value, now)?);
        let df = df_op(op).ok_or_else(|| statement_error("invalid time comparison"))?;
        return Ok(binary(column("time"), df, t));
    }
    // A tag (or unknown name) against a string or regex.
    let (var, other, op) = match (lhs, rhs) {
        (Ix::VarRef(v), o) if !matches!(o, Ix::VarRef(_)) => (Some(v), o, op),
        (o, Ix::VarRef(v)) if !matches!(o, Ix::VarRef(_)) && !op.is_regex() => {
            (Some(v), o, flip(op))
        }
        _ => (None, rhs, op),
    };
    if let Some(v) = var {
        let kind = match v.data_type {
            Some(tidemark_influxql::DataType::Tag) => match kind_of(&v.name, table) {
                Kind::Tag => Kind::Tag,
                _ => Kind::Missing,
            },
            _ => kind_of(&v.name, table),
        };
        match kind {
            Kind::Tag | Kind::Missing => return tag_comparison(&v.name, &kind, op, other),
            Kind::Field if op.is_regex() => {
                let Ix::Literal(Literal::Regex(re)) = other else {
                    return Ok(lit(false));
                };
                regex(&re.0)?;
                let df = df_op(op).ok_or_else(|| statement_error("invalid regex comparison"))?;
                return Ok(binary(
                    cast(column(&v.name), ArrowType::Utf8),
                    df,
                    lit(re.0.clone()),
                ));
            }
            _ => {}
        }
    }
    if op.is_regex() {
        return Ok(lit(false));
    }
    let l = value_expr(lhs, table)?;
    let r = value_expr(rhs, table)?;
    let df =
        df_op(op).ok_or_else(|| statement_error(format!("invalid operator {}", op.as_str())))?;
    Ok(binary(l, df, r))
}

pub(crate) fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        other => other,
    }
}

/// A tag compared with a literal: an absent tag is the empty string.
fn tag_comparison(name: &str, kind: &Kind, op: BinaryOp, other: &Ix) -> Result<Expr> {
    let value = match kind {
        Kind::Tag => cast(column(name), ArrowType::Utf8),
        _ => lit(ScalarValue::Utf8(None)),
    };
    // The tag's value with "absent" read as "".
    let text = datafusion::functions::expr_fn::coalesce(vec![value.clone(), lit("")]);
    match (op, other) {
        (BinaryOp::EqRegex | BinaryOp::NotEqRegex, Ix::Literal(Literal::Regex(re))) => {
            regex(&re.0)?;
            let df = df_op(op).ok_or_else(|| statement_error("invalid regex comparison"))?;
            Ok(binary(text, df, lit(re.0.clone())))
        }
        (_, Ix::Param(name)) => Err(missing_param(name)),
        (BinaryOp::EqRegex | BinaryOp::NotEqRegex, _) => Ok(lit(false)),
        (BinaryOp::Eq, Ix::Literal(Literal::String(s)))
            if !s.is_empty() && matches!(kind, Kind::Tag) =>
        {
            // Plain equality keeps the predicate prunable by the scan.
            Ok(column(name).eq(lit(s.clone())))
        }
        (_, Ix::Literal(Literal::String(s))) => {
            let df = df_op(op).ok_or_else(|| statement_error("invalid tag comparison"))?;
            Ok(binary(text, df, lit(s.clone())))
        }
        (_, Ix::VarRef(_)) => Ok(lit(false)),
        // A tag compared with a number or boolean never matches (1.x compares strings only).
        _ => Ok(lit(false)),
    }
}

/// An arithmetic operand: fields, literals and sums of them.
fn value_expr(e: &Ix, table: &TableSchema) -> Result<Expr> {
    match e {
        Ix::VarRef(v) => Ok(match kind_of(&v.name, table) {
            Kind::Missing => lit(ScalarValue::Null),
            Kind::Tag => cast(column(&v.name), ArrowType::Utf8),
            _ => column(&v.name),
        }),
        Ix::Literal(Literal::Integer(i)) => Ok(lit(*i)),
        Ix::Literal(Literal::Unsigned(u)) => Ok(lit(*u)),
        Ix::Literal(Literal::Float(f)) => Ok(lit(*f)),
        Ix::Literal(Literal::String(s)) => Ok(lit(s.clone())),
        Ix::Literal(Literal::Boolean(b)) => Ok(lit(*b)),
        Ix::Literal(Literal::Duration(d)) => Ok(lit(d.nanos())),
        Ix::Param(name) => Err(missing_param(name)),
        Ix::Binary(b) if !b.op.is_condition() => {
            let df = df_op(b.op).ok_or_else(|| statement_error("invalid operator"))?;
            Ok(binary(
                value_expr(&b.lhs, table)?,
                df,
                value_expr(&b.rhs, table)?,
            ))
        }
        other => Err(statement_error(format!("invalid condition {other}"))),
    }
}
