//! Printing expressions, with just the parentheses their shape needs.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::{BinaryExpr, Call, DataType, Expr, Literal, Regex, VarRef, WildcardType};
use crate::lexer::is_ident_char;
use crate::quote::{write_ident, write_quoted_ident, write_string};

/// Writes `items` separated by `sep`.
pub(crate) fn join<T: Display>(f: &mut Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::VarRef(v) => v.fmt(f),
            Expr::Call(c) => c.fmt(f),
            Expr::Binary(b) => b.fmt(f),
            Expr::Literal(l) => l.fmt(f),
            Expr::Wildcard(None) => f.write_str("*"),
            Expr::Wildcard(Some(WildcardType::Field)) => f.write_str("*::field"),
            Expr::Wildcard(Some(WildcardType::Tag)) => f.write_str("*::tag"),
            Expr::Param(name) => {
                f.write_char('$')?;
                if !name.is_empty() && name.chars().all(is_ident_char) {
                    f.write_str(name)
                } else {
                    write_quoted_ident(f, name)
                }
            }
        }
    }
}

impl Display for VarRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_ident(f, &self.name)?;
        if let Some(t) = self.data_type {
            write!(f, "::{t}")?;
        }
        Ok(())
    }
}

impl Display for DataType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataType::Float => "float",
            DataType::Integer => "integer",
            DataType::Unsigned => "unsigned",
            DataType::String => "string",
            DataType::Boolean => "boolean",
            DataType::Tag => "tag",
            DataType::Field => "field",
        })
    }
}

impl Display for Call {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        // `distinct` is a keyword, and `distinct(` reads as this call.
        if self.name == "distinct" {
            f.write_str("distinct")?;
        } else {
            write_ident(f, &self.name)?;
        }
        f.write_char('(')?;
        join(f, &self.args, ", ")?;
        f.write_char(')')
    }
}

impl Display for BinaryExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let precedence = self.op.precedence();
        let wrap_lhs = matches!(&self.lhs, Expr::Binary(b) if b.op.precedence() < precedence);
        // Equal precedence associates left, so an equal operator on the right needs them.
        // After `=~` the operand starts with a regex, which parentheses would hide.
        let wrap_rhs = !self.op.is_regex()
            && matches!(&self.rhs, Expr::Binary(b) if b.op.precedence() <= precedence);
        write_operand(f, &self.lhs, wrap_lhs)?;
        write!(f, " {} ", self.op.as_str())?;
        write_operand(f, &self.rhs, wrap_rhs)
    }
}

fn write_operand(f: &mut Formatter<'_>, expr: &Expr, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({expr})")
    } else {
        expr.fmt(f)
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Integer(v) => write!(f, "{v}"),
            Literal::Unsigned(v) => write!(f, "{v}"),
            Literal::Float(v) => write_float(f, *v),
            Literal::String(s) => write_string(f, s),
            Literal::Boolean(b) => write!(f, "{b}"),
            Literal::Duration(d) => d.fmt(f),
            Literal::Regex(re) => re.fmt(f),
        }
    }
}

/// A float that reads back as a float: Rust's shortest exact decimal, never an exponent,
/// with `.0` added to whole numbers.
pub(crate) fn write_float(f: &mut impl Write, v: f64) -> fmt::Result {
    let s = v.to_string();
    f.write_str(&s)?;
    if !s.contains('.') {
        f.write_str(".0")?;
    }
    Ok(())
}

impl Display for Regex {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('/')?;
        for c in self.0.chars() {
            if c == '/' {
                f.write_str("\\/")?;
            } else {
                f.write_char(c)?;
            }
        }
        f.write_char('/')
    }
}
