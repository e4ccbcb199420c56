//! Expressions: field references, literals, calls and binary operators.

use crate::duration::Duration;

/// An expression.
///
/// Parentheses leave no node: they only shape the tree, and `Display` puts back the ones the
/// shape needs. As in 1.x, a unary sign folds into a number or duration literal (`-5`) and
/// becomes `-1 * x` (or `1 * x`) in front of anything else.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A field or tag name, possibly with a type (`usage::float`). A dotted name
    /// (`"db"."rp".x`) is one reference whose name has the dots (`db.rp.x`), as in 1.x.
    VarRef(VarRef),
    /// A function call. The parser lower-cases the name and does not check it.
    Call(Call),
    /// `lhs op rhs`.
    Binary(Box<BinaryExpr>),
    /// A literal value.
    Literal(Literal),
    /// `*`, `*::field` or `*::tag`.
    Wildcard(Option<WildcardType>),
    /// A bound parameter, `$name`, that the caller gave no value for: to be bound later.
    Param(String),
}

/// A reference to a field or tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    /// The name, unquoted.
    pub name: String,
    /// The type after `::`, if any.
    pub data_type: Option<DataType>,
}

/// The type in a cast: `x::float`, `x::tag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// `::float`
    Float,
    /// `::integer`
    Integer,
    /// `::unsigned`
    Unsigned,
    /// `::string`
    String,
    /// `::boolean`
    Boolean,
    /// `::tag`
    Tag,
    /// `::field` (a field of any type)
    Field,
}

/// The type in a typed wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WildcardType {
    /// `*::field`
    Field,
    /// `*::tag`
    Tag,
}

/// A function call: `mean(usage)`, `now()`, `distinct(host)` (also written `DISTINCT host`).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function name, lower-cased.
    pub name: String,
    /// The arguments; a `/regex/` may be one.
    pub args: Vec<Expr>,
}

/// `lhs op rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    /// The left operand.
    pub lhs: Expr,
    /// The operator.
    pub op: BinaryOp,
    /// The right operand. After `=~` and `!~` it starts with a regex (or a parameter).
    pub rhs: Expr,
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `=`
    Eq,
    /// `!=` (also written `<>`)
    NotEq,
    /// `=~`
    EqRegex,
    /// `!~`
    NotEqRegex,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `IN`: 1.x's parser accepts it as an operator; nothing evaluates it.
    In,
    /// `AND`
    And,
    /// `OR`
    Or,
}

impl BinaryOp {
    /// How tightly the operator binds (1.x `Token.Precedence`): `OR` 1, `AND` 2, comparisons
    /// and `IN` 3, `+ - | ^` 4, `* / % &` 5. Operators of equal precedence associate left.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::EqRegex
            | BinaryOp::NotEqRegex
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq
            | BinaryOp::In => 3,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::BitOr | BinaryOp::BitXor => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::BitAnd => 5,
        }
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::EqRegex => "=~",
            BinaryOp::NotEqRegex => "!~",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::In => "IN",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
        }
    }

    /// `=~` or `!~`, whose right operand is a regex.
    pub fn is_regex(self) -> bool {
        matches!(self, BinaryOp::EqRegex | BinaryOp::NotEqRegex)
    }

    /// Comparisons, `IN`, `AND` and `OR`: the operators 1.x refuses in a SELECT field.
    pub fn is_condition(self) -> bool {
        self.precedence() <= 3
    }
}

/// A literal value.
///
/// Time literals are strings (`'2024-01-01T00:00:00Z'`) or integers (nanoseconds) in the tree,
/// as in 1.x; [`crate::parse_time_string`] reads the string forms.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// An integer that fits `i64`.
    Integer(i64),
    /// An integer literal above `i64::MAX`.
    Unsigned(u64),
    /// A number with a fraction part (`1.5`, `.5`, `3.`). Always finite.
    Float(f64),
    /// A `'single-quoted'` string, unescaped.
    String(String),
    /// `true` or `false` (any case).
    Boolean(bool),
    /// `10s`, `1h30m`.
    Duration(Duration),
    /// `/regex/`.
    Regex(Regex),
}

/// A regular expression in Go's syntax, with `\/` already read as `/`. The parser does not
/// compile it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Regex(pub String);

impl Expr {
    /// A reference to `name` without a type.
    pub fn var(name: impl Into<String>) -> Expr {
        Expr::VarRef(VarRef {
            name: name.into(),
            data_type: None,
        })
    }

    /// `lhs op rhs`.
    pub fn binary(lhs: Expr, op: BinaryOp, rhs: Expr) -> Expr {
        Expr::Binary(Box::new(BinaryExpr { lhs, op, rhs }))
    }

    /// A call of `name` (used as given: pass it lower case).
    pub fn call(name: impl Into<String>, args: Vec<Expr>) -> Expr {
        Expr::Call(Call {
            name: name.into(),
            args,
        })
    }
}

impl From<Literal> for Expr {
    fn from(literal: Literal) -> Expr {
        Expr::Literal(literal)
    }
}
