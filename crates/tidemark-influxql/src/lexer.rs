//! The scanner: one token at a time, from a byte offset, as 1.x's `scanner.go` splits text.
//!
//! The scanner keeps no state, so the parser backtracks by remembering an offset. Regular
//! expressions are scanned only where the parser asks for one ([`scan_regex`]); everywhere else
//! `/` is division.

use std::borrow::Cow;
use std::fmt;

use crate::keyword::Keyword;

/// A token. Text borrows from the query unless escapes (or a bound parameter) made it owned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    Eof,
    /// Spaces, tabs, `\n` and `\r`; the text is kept because 1.x shows it in some errors.
    Ws(&'a str),
    /// `-- to end of line` or `/* ... */`.
    Comment,
    /// A character no token starts with; `None` for an unterminated `/*` comment.
    Illegal(Option<char>),
    /// An identifier, bare or double-quoted (unescaped).
    Ident(Cow<'a, str>),
    Keyword(Keyword),
    /// `$name`: the name without the `$`.
    Param(Cow<'a, str>),
    /// A decimal number with a fraction part, as written (`1.5`, `.5`; `1.` is `1`).
    Number(Cow<'a, str>),
    /// Digits only.
    Integer(Cow<'a, str>),
    /// Digits followed by letters (`5m`, `1h30m`, `10x`): checked when parsed.
    Duration(Cow<'a, str>),
    /// A single-quoted string (unescaped).
    Str(Cow<'a, str>),
    /// A quoted string or identifier without its closing quote: the text up to the problem.
    BadString(Cow<'a, str>),
    /// A quoted string or identifier with an unknown escape: the escape.
    BadEscape(String),
    /// A regular expression, only from [`scan_regex`] or a bound parameter.
    Regex(Cow<'a, str>),
    Punct(Punct),
}

/// Operators and punctuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Punct {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Eq,
    Neq,
    EqRegex,
    NeqRegex,
    Lt,
    Lte,
    Gt,
    Gte,
    LParen,
    RParen,
    Comma,
    Colon,
    DoubleColon,
    Semicolon,
    Dot,
}

impl Punct {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Punct::Add => "+",
            Punct::Sub => "-",
            Punct::Mul => "*",
            Punct::Div => "/",
            Punct::Mod => "%",
            Punct::BitAnd => "&",
            Punct::BitOr => "|",
            Punct::BitXor => "^",
            Punct::Eq => "=",
            Punct::Neq => "!=",
            Punct::EqRegex => "=~",
            Punct::NeqRegex => "!~",
            Punct::Lt => "<",
            Punct::Lte => "<=",
            Punct::Gt => ">",
            Punct::Gte => ">=",
            Punct::LParen => "(",
            Punct::RParen => ")",
            Punct::Comma => ",",
            Punct::Colon => ":",
            Punct::DoubleColon => "::",
            Punct::Semicolon => ";",
            Punct::Dot => ".",
        }
    }
}

impl Tok<'_> {
    /// Space and comments, which most of the grammar skips.
    pub(crate) fn is_trivia(&self) -> bool {
        matches!(self, Tok::Ws(_) | Tok::Comment)
    }
}

/// How 1.x names a token in `found X, expected Y`: its text if it has any, else its kind.
impl fmt::Display for Tok<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (text, kind): (&str, &str) = match self {
            Tok::Eof => ("", "EOF"),
            Tok::Ws(s) => (s, "WS"),
            Tok::Comment => ("", "COMMENT"),
            Tok::Illegal(Some(c)) => return write!(f, "{c}"),
            Tok::Illegal(None) => ("", "ILLEGAL"),
            Tok::Ident(s) => (s, "IDENT"),
            Tok::Keyword(k) => ("", k.as_str()),
            Tok::Param(s) => return write!(f, "${s}"),
            Tok::Number(s) => (s, "NUMBER"),
            Tok::Integer(s) => (s, "INTEGER"),
            Tok::Duration(s) => (s, "DURATIONVAL"),
            Tok::Str(s) => (s, "STRING"),
            Tok::BadString(s) => (s, "BADSTRING"),
            Tok::BadEscape(s) => (s, "BADESCAPE"),
            Tok::Regex(s) => (s, "REGEX"),
            Tok::Punct(p) => ("", p.as_str()),
        };
        f.write_str(if text.is_empty() { kind } else { text })
    }
}

/// White space as 1.x sees it (it reads `\r` as `\n`).
pub(crate) fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// May start an unquoted identifier.
pub(crate) fn is_ident_first_char(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// May continue an unquoted identifier.
pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn take_while(src: &str, pos: usize, f: impl Fn(char) -> bool) -> usize {
    src[pos..]
        .char_indices()
        .find(|&(_, c)| !f(c))
        .map_or(src.len(), |(i, _)| pos + i)
}

fn char_at(src: &str, pos: usize) -> Option<char> {
    src.get(pos..).and_then(|s| s.chars().next())
}

/// Scans the token at byte `pos`, returning it and the offset just past it.
pub(crate) fn scan(src: &str, pos: usize) -> (Tok<'_>, usize) {
    let Some(c) = char_at(src, pos) else {
        return (Tok::Eof, src.len());
    };
    let next = char_at(src, pos + c.len_utf8());
    let punct = |p: Punct, len: usize| (Tok::Punct(p), pos + len);
    match c {
        c if is_whitespace(c) => {
            let end = take_while(src, pos, is_whitespace);
            (Tok::Ws(&src[pos..end]), end)
        }
        c if is_ident_first_char(c) => {
            let end = take_while(src, pos, is_ident_char);
            let word = &src[pos..end];
            match Keyword::lookup(word) {
                Some(k) => (Tok::Keyword(k), end),
                None => (Tok::Ident(Cow::Borrowed(word)), end),
            }
        }
        '0'..='9' => scan_number(src, pos),
        '.' if next.is_some_and(|c| c.is_ascii_digit()) => scan_number(src, pos),
        '"' => match scan_quoted(src, pos) {
            Ok((s, end)) => (Tok::Ident(s), end),
            Err(bad) => bad,
        },
        '\'' => match scan_quoted(src, pos) {
            Ok((s, end)) => (Tok::Str(s), end),
            Err(bad) => bad,
        },
        '$' => scan_param(src, pos),
        '-' if next == Some('-') => {
            let end = src[pos..]
                .find(['\n', '\r'])
                .map_or(src.len(), |i| pos + i + 1);
            (Tok::Comment, end)
        }
        '/' if next == Some('*') => match src[pos + 2..].find("*/") {
            Some(i) => (Tok::Comment, pos + 2 + i + 2),
            None => (Tok::Illegal(None), src.len()),
        },
        '.' => punct(Punct::Dot, 1),
        '+' => punct(Punct::Add, 1),
        '-' => punct(Punct::Sub, 1),
        '*' => punct(Punct::Mul, 1),
        '/' => punct(Punct::Div, 1),
        '%' => punct(Punct::Mod, 1),
        '&' => punct(Punct::BitAnd, 1),
        '|' => punct(Punct::BitOr, 1),
        '^' => punct(Punct::BitXor, 1),
        '=' if next == Some('~') => punct(Punct::EqRegex, 2),
        '=' => punct(Punct::Eq, 1),
        '!' if next == Some('=') => punct(Punct::Neq, 2),
        '!' if next == Some('~') => punct(Punct::NeqRegex, 2),
        '>' if next == Some('=') => punct(Punct::Gte, 2),
        '>' => punct(Punct::Gt, 1),
        '<' if next == Some('=') => punct(Punct::Lte, 2),
        '<' if next == Some('>') => punct(Punct::Neq, 2),
        '<' => punct(Punct::Lt, 1),
        '(' => punct(Punct::LParen, 1),
        ')' => punct(Punct::RParen, 1),
        ',' => punct(Punct::Comma, 1),
        ';' => punct(Punct::Semicolon, 1),
        ':' if next == Some(':') => punct(Punct::DoubleColon, 2),
        ':' => punct(Punct::Colon, 1),
        c => (Tok::Illegal(Some(c)), pos + c.len_utf8()),
    }
}

/// Digits, then either a fraction (a number: `1.5`, `.5`, and `1.` which is `1`), letters (a
/// duration: `10s`, `1h30m`), or nothing (an integer). Exponents are not InfluxQL.
fn scan_number(src: &str, pos: usize) -> (Tok<'_>, usize) {
    let digits_end = take_while(src, pos, |c| c.is_ascii_digit());
    if src[digits_end..].starts_with('.') {
        let fraction_end = take_while(src, digits_end + 1, |c| c.is_ascii_digit());
        let text = if fraction_end == digits_end + 1 {
            &src[pos..digits_end]
        } else {
            &src[pos..fraction_end]
        };
        return (Tok::Number(Cow::Borrowed(text)), fraction_end);
    }
    let is_unit = |c: char| c.is_ascii_alphabetic() || c == 'µ';
    if char_at(src, digits_end).is_some_and(is_unit) {
        let letters_end = take_while(src, digits_end, is_unit);
        let end = take_while(src, letters_end, |c| is_unit(c) || c.is_ascii_digit());
        return (Tok::Duration(Cow::Borrowed(&src[pos..end])), end);
    }
    (
        Tok::Integer(Cow::Borrowed(&src[pos..digits_end])),
        digits_end,
    )
}

/// A `'string'` or `"identifier"` starting at `pos` (on the quote). Escapes: `\n`, `\\`,
/// `\'`, `\"`. A line break or the end of the text before the closing quote is a bad string;
/// any other escape is a bad escape. (1.x reads NUL as the end of its input, so it ends the
/// string badly too.)
pub(crate) fn scan_quoted(
    src: &str,
    pos: usize,
) -> Result<(Cow<'_, str>, usize), (Tok<'_>, usize)> {
    let quote = src.as_bytes()[pos];
    let start = pos + 1;
    let mut owned: Option<String> = None;
    let mut chars = src[start..].char_indices();
    while let Some((i, c)) = chars.next() {
        let here = start + i;
        match c {
            _ if c as u32 == u32::from(quote) => {
                let text = match owned {
                    Some(s) => Cow::Owned(s),
                    None => Cow::Borrowed(&src[start..here]),
                };
                return Ok((text, here + 1));
            }
            '\n' | '\r' | '\0' => {
                let text = owned.map_or(Cow::Borrowed(&src[start..here]), Cow::Owned);
                return Err((Tok::BadString(text), here));
            }
            '\\' => {
                let unescaped = match chars.next() {
                    Some((_, 'n')) => '\n',
                    Some((_, '\\')) => '\\',
                    Some((_, '"')) => '"',
                    Some((_, '\'')) => '\'',
                    Some((j, other)) => {
                        return Err((
                            Tok::BadEscape(format!("\\{other}")),
                            start + j + other.len_utf8(),
                        ))
                    }
                    None => return Err((Tok::BadEscape("\\".to_owned()), src.len())),
                };
                owned
                    .get_or_insert_with(|| src[start..here].to_owned())
                    .push(unescaped);
            }
            c => {
                if let Some(s) = owned.as_mut() {
                    s.push(c);
                }
            }
        }
    }
    let text = owned.map_or(Cow::Borrowed(&src[start..]), Cow::Owned);
    Err((Tok::BadString(text), src.len()))
}

/// `$name` or `$"quoted name"`; a `$` followed by neither is a parameter with an empty name.
fn scan_param(src: &str, pos: usize) -> (Tok<'_>, usize) {
    let start = pos + 1;
    if src[start..].starts_with('"') {
        return match scan_quoted(src, start) {
            Ok((name, end)) => (Tok::Param(name), end),
            Err(bad) => bad,
        };
    }
    let end = take_while(src, start, is_ident_char);
    (Tok::Param(Cow::Borrowed(&src[start..end])), end)
}

/// A `/regex/` starting at `pos` (on the `/`). `\/` stands for `/`; any other backslash is
/// kept with what follows it (the regex engine reads it). A line break, NUL or the end of the
/// text before the closing `/` is an error.
pub(crate) fn scan_regex(src: &str, pos: usize) -> Option<(Cow<'_, str>, usize)> {
    let start = pos + 1;
    let mut owned: Option<String> = None;
    let mut chars = src[start..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let here = start + i;
        match c {
            '/' => {
                let text = owned.map_or(Cow::Borrowed(&src[start..here]), Cow::Owned);
                return Some((text, here + 1));
            }
            '\n' | '\r' | '\0' => return None,
            '\\' if chars.peek().map(|&(_, c)| c) == Some('/') => {
                chars.next();
                owned
                    .get_or_insert_with(|| src[start..here].to_owned())
                    .push('/');
            }
            c => {
                if let Some(s) = owned.as_mut() {
                    s.push(c);
                }
            }
        }
    }
    None
}
