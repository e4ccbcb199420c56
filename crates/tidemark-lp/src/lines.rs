//! Cutting a body into lines, and the iterator over them.
//!
//! Lines end at `\n`, but IOx (porting Go's `scanLine`) keeps a `\n` that follows a backslash or
//! that it judges to be inside a quoted string field. Its judgement is a heuristic: after the
//! first unescaped space, a `"` opens or closes a string only when more `=` than `,` have been
//! seen outside quotes. We port it as is, since it decides where every later line starts. It is
//! only needed when a `"` or `\` comes before the next `\n`; otherwise the line simply ends
//! there, which a vectorised search finds quickly.

use memchr::{memchr, memchr3};

use crate::error::{text, LineError};
use crate::escape::sub;
use crate::line::ParsedLine;
use crate::parse::parse_line;

/// Parses a write body. Yields one item per line that is not blank or a comment.
///
/// The iterator hands out owned [`ParsedLine`]s, which costs two allocations per line; use
/// [`Lines::next_borrowed`] on hot paths.
pub fn parse_lines(body: &[u8]) -> Lines<'_> {
    Lines {
        body,
        // One pass over the whole body is much cheaper than checking each line on its own.
        text: std::str::from_utf8(body).ok(),
        pos: 0,
        line: 1,
        scratch: ParsedLine::default(),
    }
}

/// The lines of a body; see [`parse_lines`].
#[derive(Debug)]
pub struct Lines<'a> {
    body: &'a [u8],
    /// The body as text, when all of it is UTF-8.
    text: Option<&'a str>,
    /// Start of the next segment; past the end when done.
    pos: usize,
    /// Physical line number of `pos`.
    line: usize,
    /// The line [`Lines::next_borrowed`] lends out, kept for its buffers.
    scratch: ParsedLine<'a>,
}

/// One line's text and where it starts.
struct Segment<'a> {
    text: &'a str,
    line: usize,
}

impl<'a> Lines<'a> {
    /// Like [`Iterator::next`], but lends a line that the next call overwrites, so that the
    /// iteration allocates nothing per line (only for names and strings that held escapes).
    pub fn next_borrowed(&mut self) -> Option<Result<&ParsedLine<'a>, LineError>> {
        let segment = match self.next_segment()? {
            Ok(segment) => segment,
            Err(e) => return Some(Err(e)),
        };
        Some(parse_line(segment.text, segment.line, &mut self.scratch).map(|()| &self.scratch))
    }

    fn next_segment(&mut self) -> Option<Result<Segment<'a>, LineError>> {
        let b = self.body;
        loop {
            let start = self.pos;
            if start > b.len() {
                return None;
            }
            let (end, multiline) = segment_end(b, start);
            let first_line = self.line;
            self.pos = end + 1;
            let inner_newlines = if multiline {
                count_newlines(&b[start..end])
            } else {
                0
            };
            self.line += 1 + inner_newlines;

            let from = skip_blanks_and_comments(b, start, end);
            if from == end {
                continue;
            }
            // Newlines skipped above move the start of this line down.
            let line = if multiline {
                first_line + count_newlines(&b[start..from])
            } else {
                first_line
            };
            let text = match self.text {
                // `from` and `end` sit next to ASCII bytes, so both are character boundaries.
                Some(body) => sub(body, from, end),
                None => match std::str::from_utf8(&b[from..end]) {
                    Ok(t) => t,
                    Err(e) => {
                        return Some(Err(LineError::parse(
                            line,
                            text::invalid_utf8(e.valid_up_to()),
                        )))
                    }
                },
            };
            return Some(Ok(Segment { text, line }));
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Result<ParsedLine<'a>, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        // Parsing into the reused line and copying it out is faster than parsing into fresh
        // vectors (see `parse::Slots`).
        self.next_borrowed().map(|line| line.cloned())
    }
}

/// Where the segment starting at `start` ends (its `\n`, or the end of the body), and whether
/// it may hold a `\n` itself.
#[inline]
fn segment_end(b: &[u8], start: usize) -> (usize, bool) {
    let rest = &b[start..];
    match memchr3(b'\n', b'"', b'\\', rest) {
        None => (b.len(), false),
        Some(off) if rest[off] == b'\n' => (start + off, false),
        Some(_) => (start + scan_line(rest), true),
    }
}

/// IOx's `split_lines` for one line: the offset of the `\n` that ends it, or `b.len()`.
fn scan_line(b: &[u8]) -> usize {
    let mut quoted = false;
    let mut in_fields = false;
    let mut equals = 0usize;
    let mut commas = 0usize;
    let mut in_escape = false;
    for (i, &c) in b.iter().enumerate() {
        if in_escape {
            in_escape = false;
            continue;
        }
        match c {
            b'\\' => in_escape = true,
            b' ' => in_fields = true,
            b'=' if in_fields && !quoted => equals += 1,
            b',' if in_fields && !quoted => commas += 1,
            b'"' if in_fields && equals > commas => quoted = !quoted,
            b'\n' if !quoted => return i,
            _ => {}
        }
    }
    b.len()
}

/// Skips spaces, tabs, newlines and `#` comments (up to the next newline) as IOx's
/// `trim_leading` does; returns the first byte of the line proper, or `end`.
#[inline]
fn skip_blanks_and_comments(b: &[u8], mut i: usize, end: usize) -> usize {
    loop {
        while i < end && matches!(b[i], b' ' | b'\t' | b'\n') {
            i += 1;
        }
        if i < end && b[i] == b'#' {
            i = memchr(b'\n', &b[i..end]).map_or(end, |off| i + off);
        } else {
            return i;
        }
    }
}

fn count_newlines(b: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', b).count()
}
