//! Parsing one line (a segment the splitter cut, leading blanks already skipped).
//!
//! The control flow mirrors IOx's nom parser, because which error a broken line gets, and where
//! a field list stops, follow from its combinators rather than from a written grammar:
//! - a failure in a tag is fatal (IOx `cut`s them);
//! - a field that does not parse ends the field list without an error, except for the first
//!   field ("No fields were provided"), and except for hard failures (a number out of range, a
//!   name ending in a backslash, a string over 64 KiB);
//! - when the field list ends early, the trailing content starts after the comma if the second
//!   field failed and at the comma from the third on (IOx's list combinator is written that way);
//! - spaces after the field list must be followed by a timestamp, otherwise they are trailing
//!   content; spaces after the timestamp are fine.

use std::borrow::Cow;

use crate::check;
use crate::error::{text, LineError};
use crate::escape::{self, sub, Escapes, KEY, MEASUREMENT, TAG_VALUE};
use crate::line::{Field, FieldValue, ParsedLine, Tag};
use crate::number::{field_number, timestamp, Number};
use crate::MAX_STRING_LEN;

/// Parses `s` into `out`, replacing what it held, and applies the write-stage checks. After an
/// error `out` holds a partial line and must not be shown.
pub(crate) fn parse_line<'a>(
    s: &'a str,
    line: usize,
    out: &mut ParsedLine<'a>,
) -> Result<(), LineError> {
    out.measurement = Cow::Borrowed("");
    out.timestamp = None;
    out.line_number = line;
    syntax(s, out).map_err(|message| LineError::parse(line, message))?;
    check::check(out).map_err(|message| LineError::write(line, message))
}

fn syntax<'a>(s: &'a str, out: &mut ParsedLine<'a>) -> Result<(), String> {
    let b = s.as_bytes();
    let n = b.len();

    let (end, escaped) = escape::scan::<MEASUREMENT>(b, 0);
    if end == 0 {
        return Err(text::INVALID_MEASUREMENT.to_owned());
    }
    out.measurement = escape::name(s, 0, end, escaped, Escapes::Measurement)?;
    let mut i = end;

    let mut tag_slots = Slots::new(&mut out.tags);
    if b.get(i) == Some(&b',') {
        i = tags(s, i + 1, &mut tag_slots)?;
    }
    drop(tag_slots);

    if b.get(i) != Some(&b' ') {
        return Err(text::expected_space(sub(s, i, s.len())));
    }
    i = skip_spaces(b, i);

    let fields = &mut Slots::new(&mut out.fields);
    i = match field(s, i, fields) {
        Ok(next) => next,
        Err(NoField::Absent) => return Err(text::NO_FIELDS.to_owned()),
        Err(NoField::Failed(message)) => return Err(*message),
    };
    // Where the field list ends when the next field does not parse (see the module doc).
    let mut end = i;
    let mut first_after_comma = true;
    while b.get(i) == Some(&b',') {
        match field(s, i + 1, fields) {
            Ok(next) => {
                i = next;
                end = i;
            }
            Err(NoField::Absent) => {
                if first_after_comma {
                    end = i + 1;
                }
                break;
            }
            Err(NoField::Failed(message)) => return Err(*message),
        }
        first_after_comma = false;
    }

    let mut rest = end;
    if b.get(end) == Some(&b' ') {
        let start = skip_spaces(b, end);
        if let Some((digits_end, value)) = timestamp(s, start) {
            out.timestamp = Some(value.ok_or_else(|| text::timestamp(sub(s, start, digits_end)))?);
            rest = skip_spaces(b, digits_end);
        }
    }
    if rest != n {
        return Err(text::trailing(sub(s, rest, s.len())));
    }
    Ok(())
}

/// Parses the tag set that starts at `start` (just after the comma following the measurement);
/// returns where it ends.
fn tags<'a>(s: &'a str, start: usize, tags: &mut Slots<'_, Tag<'a>>) -> Result<usize, String> {
    let b = s.as_bytes();
    let mut i = start;
    loop {
        let (key_end, escaped) = escape::scan::<KEY>(b, i);
        if key_end == i {
            return Err(text::expected_tag_key(sub(s, i, s.len())));
        }
        let key = escape::name(s, i, key_end, escaped, Escapes::Key)?;
        if b.get(key_end) != Some(&b'=') {
            return Err(text::no_equals_in_tag_set(sub(s, start, s.len())));
        }
        let value_start = key_end + 1;
        let (value_end, escaped) = escape::scan::<TAG_VALUE>(b, value_start);
        if value_end == value_start {
            return Err(text::expected_tag_value(sub(s, value_start, s.len())));
        }
        let value = escape::name(s, value_start, value_end, escaped, Escapes::Key)?;
        let tag = tags.next();
        tag.key = key;
        tag.value = value;
        i = value_end;
        if b.get(i) != Some(&b',') {
            return Ok(i);
        }
        i += 1;
    }
}

/// Why there is no field at some position.
enum NoField {
    /// Nothing there parses as a field (nothing was stored).
    Absent,
    /// A hard failure, with its message. Boxed so that the whole result fits in two registers:
    /// returned through memory, it cost several percent of the parse time.
    #[expect(
        clippy::box_collection,
        reason = "a thin pointer keeps `Result<usize, NoField>` in registers"
    )]
    Failed(Box<String>),
}

impl From<&'static str> for NoField {
    #[cold]
    fn from(message: &'static str) -> Self {
        NoField::Failed(Box::new(message.to_owned()))
    }
}

impl From<String> for NoField {
    #[cold]
    fn from(message: String) -> Self {
        NoField::Failed(Box::new(message))
    }
}

/// Parses `key=value` at `i` into `fields`; returns where it ends.
#[inline]
fn field<'a>(s: &'a str, i: usize, fields: &mut Slots<'_, Field<'a>>) -> Result<usize, NoField> {
    let b = s.as_bytes();
    let (key_end, escaped) = escape::scan::<KEY>(b, i);
    if key_end == i {
        return Err(NoField::Absent);
    }
    let key = escape::name(s, i, key_end, escaped, Escapes::Key)?;
    if b.get(key_end) != Some(&b'=') {
        return Err(NoField::Absent);
    }
    let start = key_end + 1;
    let end = match b.get(start) {
        Some(b'-' | b'0'..=b'9') => {
            let Some((number, end)) = field_number(s, start)? else {
                return Err(NoField::Absent);
            };
            let field = fields.next();
            field.key = key;
            // One assignment per variant: joining them into one value first makes the compiler
            // assemble it in memory piecemeal and reload it whole, which stalls the CPU.
            match number {
                Number::I64(v) => field.value = FieldValue::I64(v),
                Number::U64(v) => field.value = FieldValue::U64(v),
                Number::F64(v) => field.value = FieldValue::F64(v),
            }
            end
        }
        Some(b'"') => {
            let Some((v, end)) = string(s, start + 1)? else {
                return Err(NoField::Absent);
            };
            let field = fields.next();
            field.key = key;
            field.value = FieldValue::Str(v);
            end
        }
        Some(&c @ (b't' | b'T' | b'f' | b'F')) => {
            let (v, len) = boolean(&b[start..], c);
            let field = fields.next();
            field.key = key;
            field.value = FieldValue::Bool(v);
            start + len
        }
        _ => return Err(NoField::Absent),
    };
    Ok(end)
}

/// IOx tries the spellings in this order, taking the first that is a prefix, so `tru` is `t`
/// followed by `ru`. Returns the value and its length.
#[inline(always)]
fn boolean(rest: &[u8], first: u8) -> (bool, usize) {
    let long: &[&[u8]] = match first {
        b't' => &[b"true"],
        b'T' => &[b"True", b"TRUE"],
        b'f' => &[b"false"],
        _ => &[b"False", b"FALSE"],
    };
    let value = matches!(first, b't' | b'T');
    let len = long
        .iter()
        .find(|w| rest.starts_with(w))
        .map_or(1, |w| w.len());
    (value, len)
}

/// A string field whose contents start at `start` (after the opening quote). Unterminated: no
/// value (`Ok(None)`), as in IOx.
fn string(s: &str, start: usize) -> Result<Option<(Cow<'_, str>, usize)>, String> {
    let b = s.as_bytes();
    let mut i = start;
    // Only `\"` and `\\` change the contents; a lone backslash stays as it is.
    let mut changed = false;
    let end = loop {
        let Some(off) = memchr::memchr2(b'"', b'\\', &b[i..]) else {
            return Ok(None);
        };
        let at = i + off;
        if b[at] == b'"' {
            break at;
        }
        if matches!(b.get(at + 1), Some(b'"' | b'\\')) {
            changed = true;
            i = at + 2;
        } else {
            i = at + 1;
        }
    };
    let raw = sub(s, start, end);
    let value = if changed {
        Cow::Owned(escape::unescape_string(raw))
    } else {
        Cow::Borrowed(raw)
    };
    if value.len() > MAX_STRING_LEN {
        return Err(text::STRING_TOO_LONG.to_owned());
    }
    Ok(Some((value, end + 1)))
}

#[inline(always)]
fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// Fills a vector from the start by overwriting its elements one part at a time, and cuts it
/// to what was written when dropped (early returns included); it grows the vector only when a
/// line has more tags or fields than any before it.
///
/// Why not `clear` and `push`: a tag or field is 48 bytes, and `push` gets it as a stack copy
/// written with 8-byte stores, which it reloads with 16-byte loads. Such loads cannot be served
/// from the store buffer, so every push stalled the CPU, for a sixth of the parse time.
/// Assigning each part (a `Cow`, a `FieldValue`) stores it in place.
struct Slots<'v, T: Placeholder> {
    vec: &'v mut Vec<T>,
    len: usize,
}

impl<'v, T: Placeholder> Slots<'v, T> {
    fn new(vec: &'v mut Vec<T>) -> Self {
        Self { vec, len: 0 }
    }

    /// The next element, holding whatever an earlier line left there.
    #[inline(always)]
    fn next(&mut self) -> &mut T {
        let k = self.len;
        self.len += 1;
        if k == self.vec.len() {
            self.vec.push(T::placeholder());
        }
        &mut self.vec[k]
    }
}

impl<T: Placeholder> Drop for Slots<'_, T> {
    fn drop(&mut self) {
        self.vec.truncate(self.len);
    }
}

/// A cheap value to grow a vector with before its parts are assigned.
trait Placeholder {
    fn placeholder() -> Self;
}

impl Placeholder for Tag<'_> {
    fn placeholder() -> Self {
        Tag {
            key: Cow::Borrowed(""),
            value: Cow::Borrowed(""),
        }
    }
}

impl Placeholder for Field<'_> {
    fn placeholder() -> Self {
        Field {
            key: Cow::Borrowed(""),
            value: FieldValue::Bool(false),
        }
    }
}
