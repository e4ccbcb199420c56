//! A WHERE condition (what is left after the time bounds) for the direct path: tag tests,
//! decided once per series, and numeric field comparisons, decided per row. It means exactly
//! what `condition::to_filter` gives DataFusion; a condition outside that subset compiles to
//! `None` and the query takes the DataFusion path.

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array};
use tidemark_catalog::{ColumnKind, FieldType};
use tidemark_influxql::{BinaryOp, DataType, Expr as Ix, Literal};
use tidemark_storage::schema::TableSchema;

use super::super::condition;

/// A number read from a field or a literal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn f(self) -> f64 {
        match self {
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }
}

/// A field chunk, typed once rather than per row: integers, floats, or nothing (absent, or
/// a type no number is read from).
pub(crate) enum Col<'a> {
    Int(&'a Int64Array),
    Float(&'a Float64Array),
    Missing,
}

impl<'a> Col<'a> {
    pub(crate) fn of(array: Option<&'a ArrayRef>) -> Self {
        let Some(a) = array else {
            return Col::Missing;
        };
        if let Some(i) = a.as_any().downcast_ref::<Int64Array>() {
            return Col::Int(i);
        }
        a.as_any()
            .downcast_ref::<Float64Array>()
            .map_or(Col::Missing, Col::Float)
    }

    /// Row `row`'s number; `None` when null.
    pub(crate) fn get(&self, row: usize) -> Option<Num> {
        match self {
            Col::Int(a) => (!a.is_null(row)).then(|| Num::I(a.value(row))),
            Col::Float(a) => (!a.is_null(row)).then(|| Num::F(a.value(row))),
            Col::Missing => None,
        }
    }
}

fn compare(op: BinaryOp, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering as O;
    match (op, ord) {
        (_, None) => false,
        (BinaryOp::Eq, Some(o)) => o == O::Equal,
        (BinaryOp::NotEq, Some(o)) => o != O::Equal,
        (BinaryOp::Lt, Some(o)) => o == O::Less,
        (BinaryOp::LtEq, Some(o)) => o != O::Greater,
        (BinaryOp::Gt, Some(o)) => o == O::Greater,
        (BinaryOp::GtEq, Some(o)) => o != O::Less,
        _ => false,
    }
}

#[derive(Debug)]
pub(crate) enum TagTest {
    Cmp(BinaryOp, String),
    Regex(regex::Regex, bool),
}

#[derive(Debug)]
pub(crate) enum Pred {
    Const(bool),
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    /// A tag (its slot in [`Compiled::tags`]; an absent tag reads as "").
    Tag(usize, TagTest),
    /// `field op value` (slot in [`Compiled::fields`]): integer comparison when both are
    /// integers, else as floats (DataFusion's coercion).
    Field(usize, BinaryOp, Num),
}

/// A compiled condition and the tags and fields it reads.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) pred: Pred,
    pub(crate) tags: Vec<String>,
    pub(crate) fields: Vec<String>,
}

/// True, false, or "depends on the row".
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tri {
    True,
    False,
    Rows,
}

fn slot(names: &mut Vec<String>, name: &str) -> usize {
    match names.iter().position(|n| n == name) {
        Some(i) => i,
        None => {
            names.push(name.to_owned());
            names.len() - 1
        }
    }
}

fn is_cmp(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq
    )
}

impl Compiled {
    /// `rest` for `table`, or `None` when it needs the DataFusion path.
    pub(crate) fn new(rest: Option<&Ix>, table: &TableSchema) -> Option<Self> {
        let mut c = Compiled {
            pred: Pred::Const(true),
            tags: Vec::new(),
            fields: Vec::new(),
        };
        if let Some(e) = rest {
            c.pred = c.compile(e, table)?;
        }
        Some(c)
    }

    fn compile(&mut self, e: &Ix, table: &TableSchema) -> Option<Pred> {
        match e {
            Ix::Binary(b) => match b.op {
                BinaryOp::And => Some(Pred::And(
                    Box::new(self.compile(&b.lhs, table)?),
                    Box::new(self.compile(&b.rhs, table)?),
                )),
                BinaryOp::Or => Some(Pred::Or(
                    Box::new(self.compile(&b.lhs, table)?),
                    Box::new(self.compile(&b.rhs, table)?),
                )),
                op if op.is_condition() => self.comparison(&b.lhs, op, &b.rhs, table),
                _ => None,
            },
            Ix::Literal(Literal::Boolean(v)) => Some(Pred::Const(*v)),
            _ => None,
        }
    }

    fn comparison(
        &mut self,
        lhs: &Ix,
        op: BinaryOp,
        rhs: &Ix,
        table: &TableSchema,
    ) -> Option<Pred> {
        if condition::time_comparison(lhs.clone(), op, rhs.clone()).is_some() {
            return None;
        }
        let (var, other, op) = match (lhs, rhs) {
            (Ix::VarRef(v), o) if !matches!(o, Ix::VarRef(_)) => (v, o, op),
            (o, Ix::VarRef(v)) if !matches!(o, Ix::VarRef(_)) && !op.is_regex() => {
                (v, o, condition::flip(op))
            }
            _ => return None,
        };
        if var.name.eq_ignore_ascii_case("time") {
            return None;
        }
        let kind = match (var.data_type, table.column(&var.name)) {
            (Some(DataType::Tag), Some((_, ColumnKind::Tag))) => Some(ColumnKind::Tag),
            (Some(DataType::Tag), _) => None,
            (_, k) => k.map(|(_, k)| k),
        };
        match kind {
            // An absent column reads as a missing tag: "" (never a file's tag under this name,
            // as the table has no such tag).
            None | Some(ColumnKind::Tag) => {
                let name = match kind {
                    Some(_) => var.name.clone(),
                    None => String::new(),
                };
                match (op, other) {
                    (BinaryOp::EqRegex | BinaryOp::NotEqRegex, Ix::Literal(Literal::Regex(re))) => {
                        let re = condition::regex(&re.0).ok()?;
                        let s = slot(&mut self.tags, &name);
                        Some(Pred::Tag(s, TagTest::Regex(re, op == BinaryOp::NotEqRegex)))
                    }
                    (_, Ix::Param(_)) => None,
                    (BinaryOp::EqRegex | BinaryOp::NotEqRegex, _) => Some(Pred::Const(false)),
                    (op, Ix::Literal(Literal::String(s))) if is_cmp(op) => {
                        let slot = slot(&mut self.tags, &name);
                        Some(Pred::Tag(slot, TagTest::Cmp(op, s.clone())))
                    }
                    (_, Ix::Literal(Literal::String(_))) => None,
                    // A tag compared with a number, boolean or another column never matches.
                    _ => Some(Pred::Const(false)),
                }
            }
            Some(ColumnKind::Field(ft)) => {
                if op.is_regex() || !is_cmp(op) {
                    return None;
                }
                if !matches!(ft, FieldType::Integer | FieldType::Float) {
                    return None;
                }
                let value = match other {
                    Ix::Literal(Literal::Integer(i)) => Num::I(*i),
                    Ix::Literal(Literal::Float(f)) => Num::F(*f),
                    _ => return None,
                };
                Some(Pred::Field(slot(&mut self.fields, &var.name), op, value))
            }
            Some(ColumnKind::Time) => None,
        }
    }
}

impl TagTest {
    fn matches(&self, value: &str) -> bool {
        match self {
            TagTest::Cmp(op, s) => compare(*op, Some(value.cmp(s.as_str()))),
            TagTest::Regex(re, negated) => re.is_match(value) != *negated,
        }
    }
}

impl Pred {
    /// The condition for a series whose tags (by slot) are `tags`, before any row is read.
    pub(crate) fn series(&self, tags: &[&str]) -> Tri {
        match self {
            Pred::Const(true) => Tri::True,
            Pred::Const(false) => Tri::False,
            Pred::Tag(slot, test) => {
                if test.matches(tags.get(*slot).copied().unwrap_or("")) {
                    Tri::True
                } else {
                    Tri::False
                }
            }
            Pred::Field(..) => Tri::Rows,
            Pred::And(a, b) => match (a.series(tags), b.series(tags)) {
                (Tri::False, _) | (_, Tri::False) => Tri::False,
                (Tri::True, Tri::True) => Tri::True,
                _ => Tri::Rows,
            },
            Pred::Or(a, b) => match (a.series(tags), b.series(tags)) {
                (Tri::True, _) | (_, Tri::True) => Tri::True,
                (Tri::False, Tri::False) => Tri::False,
                _ => Tri::Rows,
            },
        }
    }

    /// The condition for row `row` of a series with tags `tags`; `fields` are the chunks of
    /// the fields by slot. A null never matches: there is no negation in InfluxQL conditions,
    /// so SQL's unknown and false filter alike.
    pub(crate) fn row(&self, tags: &[&str], fields: &[Col<'_>], row: usize) -> bool {
        match self {
            Pred::Const(v) => *v,
            Pred::Tag(slot, test) => test.matches(tags.get(*slot).copied().unwrap_or("")),
            Pred::Field(slot, op, value) => {
                let Some(v) = fields.get(*slot).and_then(|c| c.get(row)) else {
                    return false;
                };
                let ord = match (v, value) {
                    (Num::I(a), Num::I(b)) => Some(a.cmp(b)),
                    (a, b) => a.f().partial_cmp(&b.f()),
                };
                compare(*op, ord)
            }
            Pred::And(a, b) => a.row(tags, fields, row) && b.row(tags, fields, row),
            Pred::Or(a, b) => a.row(tags, fields, row) || b.row(tags, fields, row),
        }
    }
}
