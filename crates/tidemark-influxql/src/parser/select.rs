//! `SELECT` and its clauses (1.x `parseSelectStatement` and the functions it calls).

use super::{PResult, Parser};
use crate::ast::{
    BinaryOp, Expr, Field, Fill, Literal, Measurement, MeasurementName, SelectStatement, Source,
    Target,
};
use crate::error::Position;
use crate::keyword::Keyword;
use crate::lexer::{Punct, Tok};

/// Whether a `SELECT` must, may or may not have `INTO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntoClause {
    /// A continuous query's `SELECT`.
    Required,
    /// A statement or subquery: `INTO` is parsed if present (the planner refuses it).
    Optional,
}

/// The operator 1.x names when it refuses a condition in a `SELECT` field: the last one met
/// walking the tree depth first, not looking inside a refused operator.
fn condition_operator(expr: &Expr, found: &mut Option<BinaryOp>) {
    match expr {
        Expr::Binary(b) if b.op.is_condition() => *found = Some(b.op),
        Expr::Binary(b) => {
            condition_operator(&b.lhs, found);
            condition_operator(&b.rhs, found);
        }
        Expr::Call(c) => c.args.iter().for_each(|a| condition_operator(a, found)),
        _ => {}
    }
}

fn optional_name(name: String) -> Option<String> {
    (!name.is_empty()).then_some(name)
}

impl Parser<'_> {
    /// The rest of a `SELECT`; the keyword has been read.
    ///
    /// Subqueries recurse through here, so the clauses after `FROM` are parsed by another
    /// function, keeping this frame small in an unoptimised build.
    pub(crate) fn parse_select(&mut self, into: IntoClause) -> PResult<Box<SelectStatement>> {
        let mut select = Box::new(SelectStatement::new(Vec::new(), Vec::new()));
        select.fields = self.parse_fields()?;
        select.into = self.parse_target(into)?;
        self.expect(Keyword::From)?;
        select.from = self.parse_sources(true)?;
        self.parse_select_clauses(&mut select)?;
        Ok(select)
    }

    /// `WHERE` to `tz()`.
    fn parse_select_clauses(&mut self, select: &mut SelectStatement) -> PResult<()> {
        select.condition = self.parse_condition()?;
        select.group_by = self.parse_dimensions()?;
        select.fill = self.parse_fill()?;
        select.order = self.parse_order_by()?;
        select.limit = self.parse_optional_int(Keyword::Limit)?;
        select.offset = self.parse_optional_int(Keyword::Offset)?;
        select.slimit = self.parse_optional_int(Keyword::Slimit)?;
        select.soffset = self.parse_optional_int(Keyword::Soffset)?;
        select.timezone = self.parse_location()?;
        Ok(())
    }

    /// Fields separated by `,`.
    fn parse_fields(&mut self) -> PResult<Vec<Field>> {
        let mut fields = vec![self.parse_field()?];
        while self.accept_punct(Punct::Comma) {
            fields.push(self.parse_field()?);
        }
        Ok(fields)
    }

    /// `/regex/ [AS alias]` or `expr [AS alias]`, the expression free of conditions.
    fn parse_field(&mut self) -> PResult<Field> {
        let expr = match self.parse_regex()? {
            Some(re) => Expr::Literal(Literal::Regex(re)),
            None => {
                let start = self.peek_ws().start;
                let expr = self.parse_expr()?;
                let mut op = None;
                condition_operator(&expr, &mut op);
                if let Some(op) = op {
                    let at = Position::of(self.src, start);
                    let message = format!(
                        "invalid operator {} in SELECT clause at line {}, char {}; operator is intended for WHERE clause",
                        op.as_str(),
                        at.line,
                        at.column
                    );
                    return Err(self.error_plain(message, start));
                }
                expr
            }
        };
        let alias = if self.accept(Keyword::As) {
            Some(self.parse_ident()?)
        } else {
            None
        };
        Ok(Field { expr, alias })
    }

    /// `INTO [db.[rp].]measurement` or `INTO [db.[rp].]:MEASUREMENT`.
    fn parse_target(&mut self, into: IntoClause) -> PResult<Option<Target>> {
        let t = self.scan_ws();
        if !t.is_keyword(Keyword::Into) {
            if into == IntoClause::Required {
                return Err(self.found(&t, &["INTO"]));
            }
            self.unscan(&t);
            return Ok(None);
        }
        let (mut idents, before_special) = self.parse_segmented_idents()?;
        let mut from_source = false;
        if idents.len() < 3 && before_special && self.peek_char() == Some(':') {
            self.expect_punct(Punct::Colon)?;
            self.expect(Keyword::Measurement)?;
            idents.push(String::new());
            from_source = true;
        }
        let mut idents = idents.into_iter().rev();
        let measurement = idents.next().unwrap_or_default();
        let retention_policy = idents.next().and_then(optional_name);
        let database = idents.next().and_then(optional_name);
        Ok(Some(Target {
            database,
            retention_policy,
            measurement: (!from_source).then_some(measurement),
        }))
    }

    /// Sources separated by `,`; subqueries only where `SELECT` allows them.
    pub(crate) fn parse_sources(&mut self, subqueries: bool) -> PResult<Vec<Source>> {
        let mut sources = vec![self.parse_source(subqueries)?];
        while self.accept_punct(Punct::Comma) {
            sources.push(self.parse_source(subqueries)?);
        }
        Ok(sources)
    }

    fn parse_source(&mut self, subqueries: bool) -> PResult<Source> {
        if subqueries {
            self.skip_trivia();
            if self.peek_char() == Some('(') {
                return self.parse_subquery();
            }
        }
        self.parse_measurement_or_regex().map(Source::Measurement)
    }

    /// `(SELECT ...)`.
    fn parse_subquery(&mut self) -> PResult<Source> {
        let t = self.scan_ws();
        self.nested_subquery(t.start, |p| {
            p.expect(Keyword::Select)?;
            let select = p.parse_select(IntoClause::Optional)?;
            p.expect_punct(Punct::RParen)?;
            Ok(Source::Subquery(select))
        })
    }

    /// `[db.[rp].]name` or `[db.[rp].]/regex/`.
    pub(crate) fn parse_measurement(&mut self) -> PResult<Measurement> {
        let (idents, before_special) = self.parse_segmented_idents()?;
        let regex = if idents.len() < 3 && before_special {
            self.parse_regex_in(true)?
        } else {
            None
        };
        let mut idents = idents.into_iter().rev();
        let name = match regex {
            Some(re) => MeasurementName::Regex(re),
            None => MeasurementName::Name(idents.next().unwrap_or_default()),
        };
        let retention_policy = idents.next().and_then(optional_name);
        let database = idents.next().and_then(optional_name);
        Ok(Measurement {
            database,
            retention_policy,
            name,
        })
    }

    /// `WHERE expr`, if next.
    pub(crate) fn parse_condition(&mut self) -> PResult<Option<Expr>> {
        if self.accept(Keyword::Where) {
            self.parse_expr().map(Some)
        } else {
            Ok(None)
        }
    }

    /// `GROUP BY dim, ...`, if next: each a regex or an expression.
    pub(crate) fn parse_dimensions(&mut self) -> PResult<Vec<Expr>> {
        if !self.accept(Keyword::Group) {
            return Ok(Vec::new());
        }
        self.expect(Keyword::By)?;
        let mut dimensions = Vec::new();
        loop {
            let dimension = match self.parse_regex()? {
                Some(re) => Expr::Literal(Literal::Regex(re)),
                None => self.parse_expr()?,
            };
            dimensions.push(dimension);
            if !self.accept_punct(Punct::Comma) {
                return Ok(dimensions);
            }
        }
    }

    /// The call `name(...)` if the next token is the identifier `name` (any case): the
    /// expression it parses to and where it starts.
    fn parse_named_call(&mut self, name: &str) -> PResult<Option<(Expr, usize)>> {
        let t = self.peek_ws();
        match &t.tok {
            Tok::Ident(s) if s.eq_ignore_ascii_case(name) => {
                Ok(Some((self.parse_expr()?, t.start)))
            }
            _ => Ok(None),
        }
    }

    /// `fill(null|none|previous|linear|<number>)`, if next.
    fn parse_fill(&mut self) -> PResult<Option<Fill>> {
        let Some((expr, at)) = self.parse_named_call("fill")? else {
            return Ok(None);
        };
        let Expr::Call(call) = expr else {
            return Err(self.error_plain("fill must be a function call", at));
        };
        let [arg] = call.args.as_slice() else {
            return Err(self.error_plain(
                "fill requires an argument, e.g.: 0, null, none, previous, linear",
                at,
            ));
        };
        Ok(Some(match arg {
            Expr::VarRef(v) if v.data_type.is_none() && v.name == "null" => Fill::Null,
            Expr::VarRef(v) if v.data_type.is_none() && v.name == "none" => Fill::None,
            Expr::VarRef(v) if v.data_type.is_none() && v.name == "previous" => Fill::Previous,
            Expr::VarRef(v) if v.data_type.is_none() && v.name == "linear" => Fill::Linear,
            Expr::Literal(Literal::Integer(n)) => Fill::Integer(*n),
            Expr::Literal(Literal::Float(n)) => Fill::Float(*n),
            _ => return Err(self.error_plain("expected number argument in fill()", at)),
        }))
    }

    /// `tz('Area/City')`, if next.
    fn parse_location(&mut self) -> PResult<Option<String>> {
        let Some((expr, at)) = self.parse_named_call("tz")? else {
            return Ok(None);
        };
        let Expr::Call(call) = expr else {
            return Err(self.error_plain("tz must be a function call", at));
        };
        match call.args.as_slice() {
            [Expr::Literal(Literal::String(name))] => {
                if let Some(checks) = self.checks {
                    checks
                        .time_zone(name)
                        .map_err(|message| self.error_plain(message, at))?;
                }
                Ok(Some(name.clone()))
            }
            [_] => Err(self.error_plain("expected string argument in tz()", at)),
            _ => Err(self.error_plain("tz requires exactly one argument", at)),
        }
    }
}
