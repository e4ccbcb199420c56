//! The parser: recursive descent over [`crate::lexer`] tokens, following 1.x's `parser.go`
//! function by function so that the same text is accepted and the same errors come out.
//!
//! The parser backtracks only by resetting its offset to the start of a token it has just
//! read (1.x's `Unscan`), so every token is scanned a bounded number of times.

mod admin;
mod expr;
mod select;
mod show;
mod statement;

use crate::ast::{Order, Query, Source, Statement};
use crate::duration::Duration;
use crate::error::ParseError;
use crate::keyword::Keyword;
use crate::lexer::{self, Punct, Tok};
use crate::params::{ParamValue, Params};
use std::borrow::Cow;

pub(crate) type PResult<T> = Result<T, ParseError>;

/// How deeply parentheses, call arguments and subqueries may nest, together.
pub const MAX_NESTING: usize = 256;

/// How deeply subqueries may nest (each also counts towards [`MAX_NESTING`]). A subquery
/// costs far more stack than a parenthesis, here and in any planner that walks the tree.
pub const MAX_SUBQUERY_NESTING: usize = 32;

/// How tall an expression tree may be (a chain `a OR b OR c ...` is as tall as it is long).
/// Printing, comparing and dropping a tree recurse over it, so this bounds their stack use.
pub const MAX_EXPR_HEIGHT: usize = 1000;

/// Checks 1.x makes while parsing that need more than a parser: whether a regex compiles
/// (Go's `regexp`) and a time zone exists. Each gives 1.x's message when the text fails it;
/// the regex's error carries the position, the time zone's none, as in 1.x.
pub trait ParseChecks: std::fmt::Debug {
    /// A regex literal's text (without the slashes).
    fn regex(&self, pattern: &str) -> Result<(), String> {
        let _ = pattern;
        Ok(())
    }

    /// The name in `tz('...')`.
    fn time_zone(&self, name: &str) -> Result<(), String> {
        let _ = name;
        Ok(())
    }
}

/// A token and where it is: `start..end` in the text.
#[derive(Debug, Clone)]
pub(crate) struct Token<'a> {
    pub(crate) tok: Tok<'a>,
    pub(crate) start: usize,
    end: usize,
    /// `Parser::last_end` before this token was read, restored by `unscan`.
    prev_last_end: usize,
}

impl Token<'_> {
    pub(crate) fn is_keyword(&self, keyword: Keyword) -> bool {
        self.tok == Tok::Keyword(keyword)
    }

    pub(crate) fn is_punct(&self, punct: Punct) -> bool {
        self.tok == Tok::Punct(punct)
    }
}

#[derive(Debug)]
pub(crate) struct Parser<'a> {
    src: &'a str,
    /// The offset of the next token (or of the trivia before it).
    pos: usize,
    /// The end of the last token read that was not trivia.
    last_end: usize,
    params: Option<&'a Params>,
    /// What the caller checks while parsing, as 1.x does (regexes, time zones).
    checks: Option<&'a dyn ParseChecks>,
    /// Parentheses, calls and subqueries open around the current position.
    depth: usize,
    /// Subqueries open around the current position.
    subquery_depth: usize,
    /// 1.x's reader has consumed the end of the text without putting it back, so the
    /// positions it reports for the end are one character further on (see `at_end`).
    end_consumed: bool,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, params: Option<&'a Params>) -> Self {
        Parser {
            src,
            pos: 0,
            last_end: 0,
            params,
            checks: None,
            depth: 0,
            subquery_depth: 0,
            end_consumed: false,
        }
    }

    /// Makes the checks of `checks` while parsing.
    pub(crate) fn with_checks(mut self, checks: &'a dyn ParseChecks) -> Self {
        self.checks = Some(checks);
        self
    }

    /// Notes that 1.x would have read the end of the text here and not put it back: its
    /// scanner does so after a word, white space or a `--` comment at the end, and when the
    /// parser peeks at the next character there. From then on 1.x reports the end one
    /// character further on (`SELECT` fails at char 8, `SELECT 1` at char 9).
    fn note_end_read(&mut self, tok: &Tok<'_>, end: usize) {
        if end < self.src.len() {
            return;
        }
        let last = self.src[..end].chars().next_back();
        self.end_consumed |= match tok {
            Tok::Ident(_) | Tok::Keyword(_) => last.is_some_and(lexer::is_ident_char),
            Tok::Param(_) => last != Some('"'),
            Tok::Ws(_) | Tok::BadString(_) | Tok::Illegal(None) => true,
            Tok::Comment => !self.src.ends_with("*/"),
            _ => false,
        };
    }

    /// Notes a peek at the next character (1.x `peekRune`).
    pub(crate) fn note_peek(&mut self) {
        if self.pos >= self.src.len() {
            self.end_consumed = true;
        }
    }

    /// An error's position as 1.x reports it.
    fn at_end(&self, mut error: ParseError, offset: usize) -> ParseError {
        if offset >= self.src.len() && self.end_consumed {
            error.shift_column();
        }
        error
    }

    /// A bound parameter the caller gave a value for becomes that value's token.
    fn bind(&self, tok: Tok<'a>) -> Tok<'a> {
        let Tok::Param(name) = &tok else { return tok };
        let Some(value) = self.params.and_then(|p| p.get(name.as_ref())) else {
            return tok;
        };
        match value {
            ParamValue::Integer(v) => Tok::Integer(Cow::Owned(v.to_string())),
            ParamValue::Float(v) => Tok::Number(Cow::Owned(v.to_string())),
            ParamValue::String(v) => Tok::Str(Cow::Owned(v.clone())),
            ParamValue::Boolean(true) => Tok::Keyword(Keyword::True),
            ParamValue::Boolean(false) => Tok::Keyword(Keyword::False),
            ParamValue::Duration(v) => Tok::Duration(Cow::Owned(v.to_string())),
            ParamValue::Identifier(v) => Tok::Ident(Cow::Owned(v.clone())),
            ParamValue::Regex(v) => Tok::Regex(Cow::Owned(v.clone())),
        }
    }

    /// The next token, trivia included (1.x `Scan`).
    pub(crate) fn scan(&mut self) -> Token<'a> {
        let start = self.pos;
        let (tok, end) = lexer::scan(self.src, start);
        self.note_end_read(&tok, end);
        let tok = self.bind(tok);
        let prev_last_end = self.last_end;
        self.pos = end;
        if !tok.is_trivia() {
            self.last_end = end;
        }
        Token {
            tok,
            start,
            end,
            prev_last_end,
        }
    }

    /// The next token that is not space or a comment (1.x `ScanIgnoreWhitespace`).
    pub(crate) fn scan_ws(&mut self) -> Token<'a> {
        loop {
            let t = self.scan();
            if !t.tok.is_trivia() {
                return t;
            }
        }
    }

    /// Puts `t`, the last token read, back (1.x `Unscan`).
    pub(crate) fn unscan(&mut self, t: &Token<'a>) {
        self.pos = t.start;
        self.last_end = t.prev_last_end;
    }

    /// The next token that is not trivia, left unread (the trivia before it is consumed).
    pub(crate) fn peek_ws(&mut self) -> Token<'a> {
        let t = self.scan_ws();
        self.unscan(&t);
        t
    }

    /// Skips space and comments.
    pub(crate) fn skip_trivia(&mut self) {
        let t = self.peek_ws();
        self.pos = t.start;
    }

    /// The character at the current offset, if any.
    pub(crate) fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    pub(crate) fn found(&self, t: &Token<'_>, expected: &[&str]) -> ParseError {
        let at = self.reported_offset(t);
        let error = ParseError::found(&t.tok.to_string(), expected, self.src, at);
        self.at_end(error, at)
    }

    /// Where 1.x says a token is. Its scanner reports a quoted string (and an unterminated
    /// quoted identifier) at the character before the opening quote, and a bad escape at the
    /// escaped character.
    fn reported_offset(&self, t: &Token<'_>) -> usize {
        let before = |quote: usize| {
            self.src[..quote]
                .char_indices()
                .next_back()
                .map_or(0, |(i, _)| i)
        };
        let lexed = |c: u8| self.src.as_bytes().get(t.start) == Some(&c);
        match &t.tok {
            Tok::Str(_) if lexed(b'\'') => before(t.start),
            Tok::BadString(_) if lexed(b'$') => before(t.start + 1),
            Tok::BadString(_) => before(t.start),
            Tok::BadEscape(_) => before(t.end),
            _ => t.start,
        }
    }

    pub(crate) fn error_at(&self, message: impl Into<String>, offset: usize) -> ParseError {
        self.at_end(ParseError::at(message, self.src, offset), offset)
    }

    pub(crate) fn error_plain(&self, message: impl Into<String>, offset: usize) -> ParseError {
        ParseError::plain(message, self.src, offset)
    }

    /// Reads `keyword` if it is next; otherwise reads nothing.
    pub(crate) fn accept(&mut self, keyword: Keyword) -> bool {
        let t = self.scan_ws();
        if t.is_keyword(keyword) {
            return true;
        }
        self.unscan(&t);
        false
    }

    /// Reads `keyword` or fails with `found X, expected KEYWORD`.
    pub(crate) fn expect(&mut self, keyword: Keyword) -> PResult<()> {
        let t = self.scan_ws();
        if t.is_keyword(keyword) {
            Ok(())
        } else {
            Err(self.found(&t, &[keyword.as_str()]))
        }
    }

    /// Reads `punct` (after trivia) or fails with `found X, expected P`.
    pub(crate) fn expect_punct(&mut self, punct: Punct) -> PResult<()> {
        let t = self.scan_ws();
        if t.is_punct(punct) {
            Ok(())
        } else {
            Err(self.found(&t, &[punct.as_str()]))
        }
    }

    /// An identifier (1.x `ParseIdent`).
    pub(crate) fn parse_ident(&mut self) -> PResult<String> {
        let t = self.scan_ws();
        match t.tok {
            Tok::Ident(s) => Ok(s.into_owned()),
            _ => Err(self.found(&t, &["identifier"])),
        }
    }

    /// `ident [, ident ...]`.
    pub(crate) fn parse_ident_list(&mut self) -> PResult<Vec<String>> {
        let mut idents = vec![self.parse_ident()?];
        while self.accept_punct(Punct::Comma) {
            idents.push(self.parse_ident()?);
        }
        Ok(idents)
    }

    /// Reads `punct` (after trivia) if it is next.
    pub(crate) fn accept_punct(&mut self, punct: Punct) -> bool {
        let t = self.scan_ws();
        if t.is_punct(punct) {
            return true;
        }
        self.unscan(&t);
        false
    }

    /// A string literal.
    pub(crate) fn parse_string(&mut self) -> PResult<String> {
        let t = self.scan_ws();
        match t.tok {
            Tok::Str(s) => Ok(s.into_owned()),
            _ => Err(self.found(&t, &["string"])),
        }
    }

    /// An integer in `min..=max` (1.x `ParseInt`).
    pub(crate) fn parse_int(&mut self, min: i64, max: i64) -> PResult<i64> {
        let t = self.scan_ws();
        let Tok::Integer(text) = &t.tok else {
            return Err(self.found(&t, &["integer"]));
        };
        let n: i64 = text.parse().map_err(|_| {
            self.error_at(
                format!("strconv.Atoi: parsing \"{text}\": value out of range"),
                t.start,
            )
        })?;
        if n < min || n > max {
            return Err(self.error_at(
                format!("invalid value {n}: must be {min} <= n <= {max}"),
                t.start,
            ));
        }
        Ok(n)
    }

    /// An unsigned 64-bit integer (1.x `ParseUInt64`).
    pub(crate) fn parse_u64(&mut self) -> PResult<u64> {
        let t = self.scan_ws();
        let Tok::Integer(text) = &t.tok else {
            return Err(self.found(&t, &["integer"]));
        };
        text.parse().map_err(|_| {
            let message = format!("strconv.ParseUint: parsing \"{text}\": value out of range");
            self.error_at(message, t.start)
        })
    }

    /// A duration literal or `INF` (zero) after a keyword such as `DURATION`.
    pub(crate) fn parse_duration(&mut self) -> PResult<Duration> {
        let t = self.scan_ws();
        match &t.tok {
            Tok::Keyword(Keyword::Inf) => Ok(Duration(0)),
            Tok::Duration(text) => {
                Duration::parse(text).map_err(|e| self.error_at(e.to_string(), t.start))
            }
            _ => Err(self.found(&t, &["duration"])),
        }
    }

    /// `KEYWORD n` if the keyword is next (`LIMIT`, `OFFSET`, `SLIMIT`, `SOFFSET`). As in 1.x,
    /// a number too large for `i64` reads as `i64::MAX`.
    pub(crate) fn parse_optional_int(&mut self, keyword: Keyword) -> PResult<Option<u64>> {
        if !self.accept(keyword) {
            return Ok(None);
        }
        let t = self.scan_ws();
        let Tok::Integer(text) = &t.tok else {
            return Err(self.found(&t, &["integer"]));
        };
        let n = text.parse::<i64>().unwrap_or(if text.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        });
        u64::try_from(n)
            .map(Some)
            .map_err(|_| self.error_at(format!("{} must be >= 0", keyword.as_str()), t.start))
    }

    /// `ORDER BY time [ASC|DESC]` or `ORDER BY ASC|DESC`, if next.
    pub(crate) fn parse_order_by(&mut self) -> PResult<Option<Order>> {
        if !self.accept(Keyword::Order) {
            return Ok(None);
        }
        self.expect(Keyword::By)?;
        const ONLY_TIME: &str = "only ORDER BY time supported at this time";
        let t = self.scan_ws();
        let order = match &t.tok {
            Tok::Keyword(Keyword::Asc) => Order::Ascending,
            Tok::Keyword(Keyword::Desc) => Order::Descending,
            Tok::Ident(_) => {
                self.unscan(&t);
                let (name, order) = self.parse_sort_field()?;
                if name != "time" {
                    return Err(self.error_plain(ONLY_TIME, t.start));
                }
                order
            }
            _ => return Err(self.found(&t, &["identifier", "ASC", "DESC"])),
        };
        let mut more = false;
        while self.accept_punct(Punct::Comma) {
            self.parse_sort_field()?;
            more = true;
        }
        if more {
            return Err(self.error_plain(ONLY_TIME, t.start));
        }
        Ok(Some(order))
    }

    fn parse_sort_field(&mut self) -> PResult<(String, Order)> {
        let name = self.parse_ident()?;
        let order = if self.accept(Keyword::Desc) {
            Order::Descending
        } else {
            self.accept(Keyword::Asc);
            Order::Ascending
        };
        Ok((name, order))
    }

    /// `FROM` sources, if next (for statements where it is optional).
    pub(crate) fn parse_optional_from(&mut self) -> PResult<Vec<Source>> {
        if self.accept(Keyword::From) {
            self.parse_sources(false)
        } else {
            Ok(Vec::new())
        }
    }

    /// `ON ident`, if next.
    pub(crate) fn parse_optional_on(&mut self) -> PResult<Option<String>> {
        if self.accept(Keyword::On) {
            self.parse_ident().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Runs `f` one nesting level deeper; `at` is where the level opened.
    pub(crate) fn nested<T>(
        &mut self,
        at: usize,
        f: impl FnOnce(&mut Self) -> PResult<T>,
    ) -> PResult<T> {
        if self.depth >= MAX_NESTING {
            return Err(self.error_at(
                format!("query nested too deeply: more than {MAX_NESTING} levels"),
                at,
            ));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Runs `f` inside one more subquery; `at` is where it opened.
    pub(crate) fn nested_subquery<T>(
        &mut self,
        at: usize,
        f: impl FnOnce(&mut Self) -> PResult<T>,
    ) -> PResult<T> {
        if self.subquery_depth >= MAX_SUBQUERY_NESTING {
            return Err(self.error_at(
                format!("subqueries nested too deeply: more than {MAX_SUBQUERY_NESTING} levels"),
                at,
            ));
        }
        self.subquery_depth += 1;
        let result = self.nested(at, f);
        self.subquery_depth -= 1;
        result
    }

    /// Statements separated by `;` (1.x `ParseQuery`).
    pub(crate) fn parse_query(&mut self) -> PResult<Query> {
        let mut statements = Vec::new();
        let mut after_semicolon = true;
        loop {
            let t = self.scan_ws();
            match t.tok {
                Tok::Eof => return Ok(Query { statements }),
                Tok::Punct(Punct::Semicolon) => after_semicolon = true,
                _ => {
                    if !after_semicolon {
                        return Err(self.found(&t, &[";"]));
                    }
                    self.unscan(&t);
                    statements.push(self.parse_statement()?);
                    after_semicolon = false;
                }
            }
        }
    }

    /// Exactly one statement, with nothing but an optional `;` and trivia after it.
    pub(crate) fn parse_single_statement(&mut self) -> PResult<Statement> {
        let statement = self.parse_statement()?;
        self.accept_punct(Punct::Semicolon);
        let t = self.scan_ws();
        if t.tok != Tok::Eof {
            return Err(self.found(&t, &["EOF"]));
        }
        Ok(statement)
    }
}
