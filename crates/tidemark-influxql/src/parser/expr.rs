//! Expressions (1.x `ParseExpr`, `parseUnaryExpr`, `ParseVarRef`, `parseCall`, `parseRegex`).

use super::{PResult, Parser, Token, MAX_EXPR_HEIGHT};
use crate::ast::{BinaryOp, DataType, Expr, Literal, Regex, VarRef, WildcardType};
use crate::duration::Duration;
use crate::keyword::Keyword;
use crate::lexer::{scan_regex, Punct, Tok};
use crate::quote::quote_segments;

/// An expression being built, with the height of its tree.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) expr: Expr,
    height: usize,
    /// Written in parentheses (which leave no node, but a sign in front of them does not
    /// fold into a literal).
    paren: bool,
}

impl Node {
    fn leaf(expr: Expr) -> Node {
        Node {
            expr,
            height: 1,
            paren: false,
        }
    }
}

/// The binary operator a token is, if any (1.x `Token.isOperator`).
fn binary_op(tok: &Tok<'_>) -> Option<BinaryOp> {
    Some(match tok {
        Tok::Punct(p) => match p {
            Punct::Add => BinaryOp::Add,
            Punct::Sub => BinaryOp::Sub,
            Punct::Mul => BinaryOp::Mul,
            Punct::Div => BinaryOp::Div,
            Punct::Mod => BinaryOp::Mod,
            Punct::BitAnd => BinaryOp::BitAnd,
            Punct::BitOr => BinaryOp::BitOr,
            Punct::BitXor => BinaryOp::BitXor,
            Punct::Eq => BinaryOp::Eq,
            Punct::Neq => BinaryOp::NotEq,
            Punct::EqRegex => BinaryOp::EqRegex,
            Punct::NeqRegex => BinaryOp::NotEqRegex,
            Punct::Lt => BinaryOp::Lt,
            Punct::Lte => BinaryOp::LtEq,
            Punct::Gt => BinaryOp::Gt,
            Punct::Gte => BinaryOp::GtEq,
            _ => return None,
        },
        Tok::Keyword(Keyword::And) => BinaryOp::And,
        Tok::Keyword(Keyword::Or) => BinaryOp::Or,
        Tok::Keyword(Keyword::In) => BinaryOp::In,
        _ => return None,
    })
}

impl<'a> Parser<'a> {
    /// An expression.
    pub(crate) fn parse_expr(&mut self) -> PResult<Expr> {
        Ok(self.parse_expr_node()?.expr)
    }

    pub(crate) fn parse_expr_node(&mut self) -> PResult<Node> {
        let lhs = self.parse_unary()?;
        self.parse_binary_rest(lhs, 1)
    }

    /// Operators of precedence `min` and up after `lhs`, left-associative: the tree 1.x builds
    /// by inserting each operator along the right edge.
    fn parse_binary_rest(&mut self, mut lhs: Node, min: u8) -> PResult<Node> {
        loop {
            let t = self.scan_ws();
            let op = match binary_op(&t.tok) {
                Some(op) if op.precedence() >= min => op,
                _ => {
                    self.unscan(&t);
                    return Ok(lhs);
                }
            };
            let first = if op.is_regex() {
                self.parse_regex_operand()?
            } else {
                self.parse_unary()?
            };
            let rhs = self.parse_binary_rest(first, op.precedence() + 1)?;
            let height = lhs.height.max(rhs.height) + 1;
            if height > MAX_EXPR_HEIGHT {
                return Err(self.error_at(
                    format!("expression nested too deeply: more than {MAX_EXPR_HEIGHT} levels"),
                    t.start,
                ));
            }
            lhs = Node {
                expr: Expr::binary(lhs.expr, op, rhs.expr),
                height,
                paren: false,
            };
        }
    }

    /// What follows `=~` or `!~`: a regex, or a parameter still to be bound.
    fn parse_regex_operand(&mut self) -> PResult<Node> {
        if let Some(re) = self.parse_regex()? {
            return Ok(Node::leaf(Expr::Literal(Literal::Regex(re))));
        }
        let t = self.scan_ws();
        match t.tok {
            Tok::Param(name) if !name.is_empty() => Ok(Node::leaf(Expr::Param(name.into_owned()))),
            _ => Err(self.found(&t, &["regex"])),
        }
    }

    /// An operand: a parenthesised expression, reference, call, literal, wildcard,
    /// parameter, or a signed one of these.
    ///
    /// Parentheses, calls and signs recurse through here, so the work is split into small
    /// functions: an unoptimised build gives a function one stack slot per temporary.
    fn parse_unary(&mut self) -> PResult<Node> {
        let t = self.scan_ws();
        match &t.tok {
            Tok::Punct(Punct::LParen) => self.parse_parenthesized(t.start),
            Tok::Ident(_) | Tok::Keyword(Keyword::Distinct) => self.parse_name_operand(t),
            Tok::Punct(Punct::Add | Punct::Sub) => self.parse_signed(t),
            _ => self.parse_leaf(t),
        }
    }

    fn parse_parenthesized(&mut self, at: usize) -> PResult<Node> {
        self.nested(at, |p| {
            let inner = p.parse_expr_node()?;
            p.expect_punct(Punct::RParen)?;
            Ok(Node {
                paren: true,
                ..inner
            })
        })
    }

    /// A reference or a call (`DISTINCT x` is the call `distinct(x)`).
    fn parse_name_operand(&mut self, t: Token<'a>) -> PResult<Node> {
        let next = self.scan();
        let name = match &t.tok {
            Tok::Ident(name) => name,
            _ => return self.parse_distinct(next, t.start),
        };
        if next.is_punct(Punct::LParen) {
            return self.parse_call(name, t.start);
        }
        self.unscan(&t);
        Ok(Node::leaf(Expr::VarRef(self.parse_var_ref()?)))
    }

    /// After `DISTINCT`: `(args)` or ` field`.
    fn parse_distinct(&mut self, next: Token<'a>, at: usize) -> PResult<Node> {
        match next.tok {
            Tok::Punct(Punct::LParen) => self.parse_call("distinct", at),
            Tok::Ws(_) => {
                let arg = self.scan_ws();
                let Tok::Ident(name) = arg.tok else {
                    return Err(self.found(&arg, &["identifier"]));
                };
                Ok(Node {
                    expr: Expr::call("distinct", vec![Expr::var(name)]),
                    height: 2,
                    paren: false,
                })
            }
            _ => Err(self.found(&next, &["(", "identifier"])),
        }
    }

    /// `+x` or `-x`; the sign has been read.
    fn parse_signed(&mut self, sign: Token<'a>) -> PResult<Node> {
        let next = self.scan_ws();
        match next.tok {
            Tok::Number(_)
            | Tok::Integer(_)
            | Tok::Duration(_)
            | Tok::Punct(Punct::LParen)
            | Tok::Ident(_) => {
                self.unscan(&next);
                let operand = self.parse_unary()?;
                self.apply_sign(sign.is_punct(Punct::Sub), operand, sign.start)
            }
            _ => Err(self.found(&next, &["identifier", "number", "duration", "("])),
        }
    }

    /// A literal, wildcard or parameter.
    fn parse_leaf(&mut self, t: Token<'a>) -> PResult<Node> {
        let literal = |l| Ok(Node::leaf(Expr::Literal(l)));
        match t.tok {
            Tok::Str(s) => literal(Literal::String(s.into_owned())),
            Tok::Number(ref text) => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => literal(Literal::Float(v)),
                _ => Err(self.error_at("unable to parse number", t.start)),
            },
            Tok::Integer(ref text) => match (text.parse::<i64>(), text.parse::<u64>()) {
                (Ok(v), _) => literal(Literal::Integer(v)),
                (_, Ok(v)) => literal(Literal::Unsigned(v)),
                _ => Err(self.error_at("unable to parse integer", t.start)),
            },
            Tok::Keyword(Keyword::True) => literal(Literal::Boolean(true)),
            Tok::Keyword(Keyword::False) => literal(Literal::Boolean(false)),
            Tok::Duration(ref text) => match Duration::parse(text) {
                Ok(d) => literal(Literal::Duration(d)),
                Err(e) => Err(self.error_plain(e.to_string(), t.start)),
            },
            Tok::Punct(Punct::Mul) => self.parse_wildcard(),
            Tok::Regex(re) => literal(Literal::Regex(Regex(re.into_owned()))),
            Tok::Param(name) if name.is_empty() => {
                Err(self.error_plain("empty bound parameter", t.start))
            }
            Tok::Param(name) => Ok(Node::leaf(Expr::Param(name.into_owned()))),
            _ => Err(self.found(&t, &["identifier", "string", "number", "bool"])),
        }
    }

    /// `*`, `*::field` or `*::tag`; the `*` has been read.
    fn parse_wildcard(&mut self) -> PResult<Node> {
        let next = self.scan();
        if !next.is_punct(Punct::DoubleColon) {
            self.unscan(&next);
            return Ok(Node::leaf(Expr::Wildcard(None)));
        }
        let ty = self.scan();
        let ty = match ty.tok {
            Tok::Keyword(Keyword::Field) => WildcardType::Field,
            Tok::Keyword(Keyword::Tag) => WildcardType::Tag,
            _ => return Err(self.found(&ty, &["field", "tag"])),
        };
        Ok(Node::leaf(Expr::Wildcard(Some(ty))))
    }

    /// `-x`: negates a number or duration literal; anything else becomes `-1 * x` (`+x`
    /// becomes `1 * x`), as in 1.x.
    fn apply_sign(&mut self, negative: bool, operand: Node, at: usize) -> PResult<Node> {
        if !operand.paren {
            if let Expr::Literal(literal) = &operand.expr {
                let signed = match *literal {
                    Literal::Float(v) if negative => Literal::Float(-v),
                    Literal::Integer(v) if negative => Literal::Integer(v.wrapping_neg()),
                    Literal::Duration(d) if negative => {
                        Literal::Duration(Duration(d.0.wrapping_neg()))
                    }
                    // An integer literal above i64::MAX is unsigned; negated, only i64::MIN's
                    // magnitude fits.
                    Literal::Unsigned(v) if negative && v == 1 << 63 => Literal::Integer(i64::MIN),
                    Literal::Unsigned(v) if negative => {
                        let message = format!("constant -{v} underflows int64");
                        return Err(self.error_plain(message, at));
                    }
                    Literal::Float(_)
                    | Literal::Integer(_)
                    | Literal::Duration(_)
                    | Literal::Unsigned(_) => literal.clone(),
                    _ => return self.multiply_by_sign(negative, operand, at),
                };
                return Ok(Node::leaf(Expr::Literal(signed)));
            }
        }
        self.multiply_by_sign(negative, operand, at)
    }

    fn multiply_by_sign(&mut self, negative: bool, operand: Node, at: usize) -> PResult<Node> {
        let height = operand.height + 1;
        if height > MAX_EXPR_HEIGHT {
            return Err(self.error_at(
                format!("expression nested too deeply: more than {MAX_EXPR_HEIGHT} levels"),
                at,
            ));
        }
        let sign = Expr::Literal(Literal::Integer(if negative { -1 } else { 1 }));
        Ok(Node {
            expr: Expr::binary(sign, BinaryOp::Mul, operand.expr),
            height,
            paren: false,
        })
    }

    /// `name(args)`; the name and `(` have been read. `at` is where the name starts.
    fn parse_call(&mut self, name: &str, at: usize) -> PResult<Node> {
        let args = self.nested(at, Self::parse_call_args)?;
        self.finish_call(name, args, at)
    }

    fn finish_call(&mut self, name: &str, args: Vec<Node>, at: usize) -> PResult<Node> {
        let name: String = name.chars().flat_map(char::to_lowercase).collect();
        let height = args.iter().map(|a| a.height).max().unwrap_or(0) + 1;
        if height > MAX_EXPR_HEIGHT {
            return Err(self.error_at(
                format!("expression nested too deeply: more than {MAX_EXPR_HEIGHT} levels"),
                at,
            ));
        }
        let args = args.into_iter().map(|a| a.expr).collect();
        Ok(Node {
            expr: Expr::call(name, args),
            height,
            paren: false,
        })
    }

    /// The arguments and the closing `)`: a regex or an expression each.
    fn parse_call_args(&mut self) -> PResult<Vec<Node>> {
        let mut args = Vec::new();
        if let Some(re) = self.parse_regex()? {
            args.push(Node::leaf(Expr::Literal(Literal::Regex(re))));
        } else {
            let t = self.scan();
            if t.is_punct(Punct::RParen) {
                return Ok(args);
            }
            self.unscan(&t);
            args.push(self.parse_expr_node()?);
        }
        while self.accept_punct(Punct::Comma) {
            args.push(self.parse_call_arg()?);
        }
        let t = self.scan();
        if !t.is_punct(Punct::RParen) {
            return Err(self.found(&t, &[")"]));
        }
        Ok(args)
    }

    fn parse_call_arg(&mut self) -> PResult<Node> {
        match self.parse_regex()? {
            Some(re) => Ok(Node::leaf(Expr::Literal(Literal::Regex(re)))),
            None => self.parse_expr_node(),
        }
    }

    /// `a[.b[.c]][::type]` (1.x `ParseVarRef`): the segments joined by `.`.
    pub(crate) fn parse_var_ref(&mut self) -> PResult<VarRef> {
        let (segments, _) = self.parse_segmented_idents()?;
        let name = segments.join(".");
        let t = self.scan();
        if !t.is_punct(Punct::DoubleColon) {
            self.unscan(&t);
            return Ok(VarRef {
                name,
                data_type: None,
            });
        }
        let ty = self.scan();
        let data_type = match &ty.tok {
            Tok::Ident(s) => match s.to_ascii_lowercase().as_str() {
                "float" => DataType::Float,
                "integer" => DataType::Integer,
                "unsigned" => DataType::Unsigned,
                "string" => DataType::String,
                "boolean" => DataType::Boolean,
                _ => {
                    return Err(self.found(
                        &ty,
                        &[
                            "float", "integer", "unsigned", "string", "boolean", "field", "tag",
                        ],
                    ))
                }
            },
            Tok::Keyword(Keyword::Field) => DataType::Field,
            Tok::Keyword(Keyword::Tag) => DataType::Tag,
            _ => {
                return Err(self.found(
                    &ty,
                    &["float", "integer", "string", "boolean", "field", "tag"],
                ))
            }
        };
        Ok(VarRef {
            name,
            data_type: Some(data_type),
        })
    }

    /// `a`, `a.b`, `a.b.c`, `a..c` (1.x `parseSegmentedIdents`): at most three segments, an
    /// empty one between two dots. The flag says the last thing read was a `.` followed by
    /// `/` (a regex) or `:` (`:MEASUREMENT`), which the caller reads.
    pub(crate) fn parse_segmented_idents(&mut self) -> PResult<(Vec<String>, bool)> {
        let first = self.peek_ws();
        let mut idents = vec![self.parse_ident()?];
        let mut before_special = false;
        loop {
            let t = self.scan();
            if !t.is_punct(Punct::Dot) {
                self.unscan(&t);
                break;
            }
            self.note_peek();
            let rest = &self.src[self.pos..];
            if (rest.starts_with('/') && !rest.starts_with("/*")) || rest.starts_with(':') {
                before_special = true;
                break;
            }
            if rest.starts_with('.') {
                idents.push(String::new());
                continue;
            }
            idents.push(self.parse_ident()?);
        }
        if idents.len() > 3 {
            let message = format!("too many segments in {}", quote_segments(&idents));
            return Err(self.error_at(message, first.start));
        }
        Ok((idents, before_special))
    }

    /// A `/regex/` if one is next (after trivia), or a parameter bound to a regex.
    pub(crate) fn parse_regex(&mut self) -> PResult<Option<Regex>> {
        self.parse_regex_in(false)
    }

    /// [`Parser::parse_regex`] where a measurement may stand. 1.x reports a regex that does
    /// not compile at the character before the `/` (the last one its reader consumed), but
    /// after `FROM` at the `/` itself, as it does an unterminated one.
    pub(crate) fn parse_regex_in(&mut self, measurement: bool) -> PResult<Option<Regex>> {
        self.skip_trivia();
        self.note_peek();
        let start = self.pos;
        let re = match self.peek_char() {
            Some('$') => {
                let t = self.scan();
                if let Tok::Regex(re) = t.tok {
                    Regex(re.into_owned())
                } else {
                    self.unscan(&t);
                    return Ok(None);
                }
            }
            Some('/') => match scan_regex(self.src, self.pos) {
                Some((text, end)) => {
                    let re = Regex(text.into_owned());
                    self.pos = end;
                    self.last_end = end;
                    re
                }
                None => {
                    return Err(
                        self.error_at("bad regex: unterminated regular expression", self.pos)
                    )
                }
            },
            _ => return Ok(None),
        };
        if let Some(checks) = self.checks {
            if let Err(message) = checks.regex(&re.0) {
                let at = if measurement || self.src.as_bytes().get(start) == Some(&b'$') {
                    start
                } else {
                    self.src[..start]
                        .char_indices()
                        .next_back()
                        .map_or(start, |(i, _)| i)
                };
                return Err(self.error_at(message, at));
            }
        }
        Ok(Some(re))
    }
}
