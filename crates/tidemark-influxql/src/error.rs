//! The parse error: InfluxDB 1.x's text, and where in the query it happened.

use std::fmt;

/// Where a parse error was found. `line` and `column` count from 1, as 1.x's messages do;
/// `column` counts characters, not bytes. `offset` is the byte offset into the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The line, from 1. `\n`, `\r\n` and a lone `\r` each end a line.
    pub line: usize,
    /// The character within the line, from 1.
    pub column: usize,
    /// The byte offset into the query text.
    pub offset: usize,
}

impl Position {
    /// The position of byte `offset` in `src` (clamped to the text and to a character boundary).
    pub(crate) fn of(src: &str, offset: usize) -> Self {
        let mut offset = offset.min(src.len());
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        let (mut line, mut column) = (1, 1);
        let mut chars = src[..offset].chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' | '\r' => {
                    line += 1;
                    column = 1;
                }
                _ => column += 1,
            }
        }
        Position {
            line,
            column,
            offset,
        }
    }
}

/// A query that does not parse.
///
/// `Display` gives InfluxDB 1.x's text without the `error parsing query: ` prefix its HTTP
/// layer adds, e.g. `found FROM, expected identifier at line 1, char 8`. Some 1.x errors carry
/// no position in their text (`fill must be a function call`); [`ParseError::position`] still
/// says where the parser was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    message: String,
    position: Position,
    in_text: bool,
}

impl ParseError {
    /// An error whose text ends with ` at line L, char C`.
    pub(crate) fn at(message: impl Into<String>, src: &str, offset: usize) -> Self {
        ParseError {
            message: message.into(),
            position: Position::of(src, offset),
            in_text: true,
        }
    }

    /// An error whose 1.x text has no position.
    pub(crate) fn plain(message: impl Into<String>, src: &str, offset: usize) -> Self {
        ParseError {
            message: message.into(),
            position: Position::of(src, offset),
            in_text: false,
        }
    }

    /// `found X, expected A, B at line L, char C`.
    pub(crate) fn found(found: &str, expected: &[&str], src: &str, offset: usize) -> Self {
        Self::at(
            format!("found {found}, expected {}", expected.join(", ")),
            src,
            offset,
        )
    }

    /// Moves the position one character on (see `Parser::at_end`).
    pub(crate) fn shift_column(&mut self) {
        self.position.column += 1;
    }

    /// The message without the position suffix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where the error was found.
    pub fn position(&self) -> Position {
        self.position
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.in_text {
            write!(
                f,
                " at line {}, char {}",
                self.position.line, self.position.column
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}
