//! InfluxQL, the query language of InfluxDB 1.x: text to a syntax tree, and back.
//!
//! This crate owns the grammar and its error texts. It does no I/O, spawns nothing, keeps no
//! state between calls and depends on no other crate: the caller hands it a string (and the
//! values of bound parameters) and gets a [`Query`] or a [`ParseError`]. Planning, and every
//! check that needs a schema or a clock, belong to the caller.
//!
//! The target is 1.x's own parser (`influxql/parser.go`): the same text is accepted, it gives
//! the same tree (unary minus folds into literals, `DISTINCT x` is the call `distinct(x)`,
//! a dotted field reference is one name), and errors read the same,
//! `found FROM, expected identifier at line 1, char 8`, without the `error parsing query: `
//! prefix the HTTP layer adds (positions included: 1.x counts characters from 1 and reports
//! the end of the text one further on after a word). The deliberate deviations are the table
//! tests in `src/tests/data/deviations.txt`: among them, a `/* comment */` where a regex may
//! start is a comment, regexes and `tz()` zone names are left for the planner to check, and
//! a bound parameter without a value stays in the tree ([`Expr::Param`]) instead of failing.
//!
//! What is parsed: `SELECT` (subqueries, regex sources and fields, `db.rp.m` and `db..m`,
//! casts, `INTO`, `WHERE`, `GROUP BY`, `fill`, `ORDER BY`, `LIMIT`/`OFFSET`,
//! `SLIMIT`/`SOFFSET`, `tz`), `EXPLAIN`, the schema `SHOW` statements and their
//! cardinalities, `CREATE DATABASE`, `DROP MEASUREMENT` and `DELETE`. The other 1.x
//! statements (users, grants, retention policies, continuous queries, subscriptions,
//! `KILL QUERY`, `SHOW QUERIES` and so on) are checked against their grammar and kept as an
//! [`UnsupportedStatement`] naming which they are, so that a planner can say "not supported".
//!
//! [`Display`](std::fmt::Display) on every node prints InfluxQL that parses back to an equal
//! tree. Nesting is bounded ([`MAX_NESTING`], [`MAX_SUBQUERY_NESTING`], [`MAX_EXPR_HEIGHT`]) so
//! that neither parsing nor walking a tree can exhaust the stack.

mod ast;
mod display;
mod duration;
mod error;
mod keyword;
mod lexer;
mod params;
mod parser;
mod quote;
mod time;

#[cfg(test)]
mod tests;

pub use ast::*;
pub use duration::{Duration, DurationError};
pub use error::{ParseError, Position};
pub use params::{ParamValue, Params};
pub use parser::{ParseChecks, MAX_EXPR_HEIGHT, MAX_NESTING, MAX_SUBQUERY_NESTING};
pub use quote::{ident_needs_quotes, quote_ident, quote_string};
pub use time::{is_time_string, parse_time_string, TimeString};

use lexer::Tok;
use parser::Parser;

/// Parses statements separated by `;`. Bound parameters (`$name`) stay in the tree as
/// [`Expr::Param`] where an expression may stand, and are errors elsewhere.
pub fn parse_query(query: &str) -> Result<Query, ParseError> {
    Parser::new(query, None).parse_query()
}

/// Parses statements separated by `;`, replacing each bound parameter that `params` has a
/// value for by that value, as 1.x does: the value stands for one token (so an
/// [`ParamValue::Identifier`] can name a measurement). Parameters without a value stay in the
/// tree as [`Expr::Param`].
pub fn parse_query_with_params(query: &str, params: &Params) -> Result<Query, ParseError> {
    Parser::new(query, Some(params)).parse_query()
}

/// [`parse_query_with_params`], also failing where 1.x's parser does on what `checks`
/// refuses: a regex that does not compile, an unknown time zone.
pub fn parse_query_checked(
    query: &str,
    params: &Params,
    checks: &dyn ParseChecks,
) -> Result<Query, ParseError> {
    Parser::new(query, Some(params))
        .with_checks(checks)
        .parse_query()
}

/// Parses exactly one statement (a trailing `;` is allowed).
pub fn parse_statement(statement: &str) -> Result<Statement, ParseError> {
    Parser::new(statement, None).parse_single_statement()
}

/// Parses one expression, such as a `WHERE` condition, and nothing after it.
pub fn parse_expr(expr: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser::new(expr, None);
    let parsed = parser.parse_expr()?;
    let t = parser.scan_ws();
    if t.tok != Tok::Eof {
        return Err(parser.found(&t, &["EOF"]));
    }
    Ok(parsed)
}
