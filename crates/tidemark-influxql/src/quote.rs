//! Quoting identifiers and strings so that they read back as written (1.x `QuoteIdent`,
//! `QuoteString`).

use std::fmt::{self, Write};

use crate::keyword::Keyword;
use crate::lexer::{is_ident_char, is_ident_first_char};

/// Whether `ident` must be double-quoted to read back as the same identifier: it is empty, a
/// keyword, or not made of ASCII letters, digits and `_` (not starting with a digit).
pub fn ident_needs_quotes(ident: &str) -> bool {
    let mut chars = ident.chars();
    match chars.next() {
        None => true,
        Some(first) => {
            !is_ident_first_char(first)
                || !chars.all(is_ident_char)
                || Keyword::lookup(ident).is_some()
        }
    }
}

fn write_escaped(f: &mut impl Write, s: &str, quote: char) -> fmt::Result {
    for c in s.chars() {
        match c {
            '\n' => f.write_str("\\n")?,
            '\\' => f.write_str("\\\\")?,
            c if c == quote => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            c => f.write_char(c)?,
        }
    }
    Ok(())
}

/// Writes `ident`, double-quoted and escaped if it needs to be.
pub(crate) fn write_ident(f: &mut impl Write, ident: &str) -> fmt::Result {
    if ident_needs_quotes(ident) {
        write_quoted_ident(f, ident)
    } else {
        f.write_str(ident)
    }
}

/// Writes `ident` double-quoted and escaped.
pub(crate) fn write_quoted_ident(f: &mut impl Write, ident: &str) -> fmt::Result {
    f.write_char('"')?;
    write_escaped(f, ident, '"')?;
    f.write_char('"')
}

/// Writes `s` as a single-quoted string literal.
pub(crate) fn write_string(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    write_escaped(f, s, '\'')?;
    f.write_char('\'')
}

/// `ident`, double-quoted if it needs to be: `cpu`, `"my field"`, `"select"`.
pub fn quote_ident(ident: &str) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_ident(&mut s, ident);
    s
}

/// `s` as a single-quoted string literal: `'it\'s'`.
pub fn quote_string(s: &str) -> String {
    let mut out = String::new();
    let _ = write_string(&mut out, s);
    out
}

/// Segments joined with `.` the way 1.x's `QuoteIdent(segments...)` does in its messages:
/// segments other than the last are always quoted unless empty (`"db"."rp".m`, `"db"..m`).
pub(crate) fn quote_segments(segments: &[String]) -> String {
    let mut out = String::new();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        let quote = if segment.is_empty() {
            i == 0 || i == last
        } else {
            i < last || ident_needs_quotes(segment)
        };
        if quote {
            let _ = write_quoted_ident(&mut out, segment);
        } else {
            out.push_str(segment);
        }
        if i < last {
            out.push('.');
        }
    }
    out
}
