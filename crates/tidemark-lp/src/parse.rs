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
use crate::escape::{self, Escapes, KEY, MEASUREMENT, TAG_VALUE};
use crate::line::{Field, FieldValue, ParsedLine, Tag};
use crate::number::{digits_end, field_number, parse_i64};
use crate::MAX_STRING_LEN;

/// Parses `s` into `out` (which it clears first) and applies the write-stage checks.
pub(crate) fn parse_line<'a>(s: &'a str, line: usize, out: &mut ParsedLine<'a>) -> Result<(), LineError> {
    out.clear();
    out.line_number = line;
    syntax(s, out).map_err(|message| LineError::parse(line, message))?;
    check::check(out).map_err(|message| LineError::write(line, message))
}

fn syntax<'a>(s: &'a str, out: &mut ParsedLine<'a>) -> Result<(), String> {
    let b = s.as_bytes();
    let n = b.len();

    let (end, escaped) = escape::scan(b, 0, MEASUREMENT);
    if end == 0 {
        return Err(text::INVALID_MEASUREMENT.to_owned());
    }
    out.measurement = escape::name(s, 0, end, escaped, Escapes::Measurement)?;
    let mut i = end;

    if b.get(i) == Some(&b',') {
        i = tags(s, i + 1, &mut out.tags)?;
    }

    if b.get(i) != Some(&b' ') {
        return Err(text::expected_space(&s[i..]));
    }
    i = skip_spaces(b, i);

    let fields = &mut out.fields;
    i = field(s, i, fields)?.ok_or(text::NO_FIELDS)?;
    // Where the field list ends when the next field does not parse (see the module doc).
    let mut end = i;
    if b.get(i) == Some(&b',') {
        end = i + 1;
        if let Some(next) = field(s, i + 1, fields)? {
            i = next;
            end = i;
            while b.get(i) == Some(&b',') {
                match field(s, i + 1, fields)? {
                    Some(next) => {
                        i = next;
                        end = i;
                    }
                    None => break,
                }
            }
        }
    }

    let mut rest = end;
    if b.get(end) == Some(&b' ') {
        let start = skip_spaces(b, end);
        let digits = start + usize::from(b.get(start) == Some(&b'-'));
        let digits_stop = digits_end(b, digits);
        if digits_stop > digits {
            let value = &s[start..digits_stop];
            out.timestamp = Some(parse_i64(value).ok_or_else(|| text::timestamp(value))?);
            rest = skip_spaces(b, digits_stop);
        }
    }
    if rest != n {
        return Err(text::trailing(&s[rest..]));
    }
    Ok(())
}

/// Parses the tag set that starts at `start` (just after the comma following the measurement);
/// returns where it ends.
fn tags<'a>(s: &'a str, start: usize, tags: &mut Vec<Tag<'a>>) -> Result<usize, String> {
    let b = s.as_bytes();
    let mut i = start;
    loop {
        let (key_end, escaped) = escape::scan(b, i, KEY);
        if key_end == i {
            return Err(text::expected_tag_key(&s[i..]));
        }
        let key = escape::name(s, i, key_end, escaped, Escapes::Key)?;
        if b.get(key_end) != Some(&b'=') {
            return Err(text::no_equals_in_tag_set(&s[start..]));
        }
        let value_start = key_end + 1;
        let (value_end, escaped) = escape::scan(b, value_start, TAG_VALUE);
        if value_end == value_start {
            return Err(text::expected_tag_value(&s[value_start..]));
        }
        let value = escape::name(s, value_start, value_end, escaped, Escapes::Key)?;
        tags.push(Tag { key, value });
        i = value_end;
        if b.get(i) != Some(&b',') {
            return Ok(i);
        }
        i += 1;
    }
}

/// Parses `key=value` at `i` into `fields`; returns where it ends. `Ok(None)`: there is no
/// field here (and nothing was pushed); `Err`: a hard failure.
#[inline]
fn field<'a>(s: &'a str, i: usize, fields: &mut Vec<Field<'a>>) -> Result<Option<usize>, String> {
    let b = s.as_bytes();
    let (key_end, escaped) = escape::scan(b, i, KEY);
    if key_end == i {
        return Ok(None);
    }
    let key = escape::name(s, i, key_end, escaped, Escapes::Key)?;
    if b.get(key_end) != Some(&b'=') {
        return Ok(None);
    }
    let Some((value, end)) = field_value(s, key_end + 1)? else {
        return Ok(None);
    };
    fields.push(Field { key, value });
    Ok(Some(end))
}

fn field_value<'a>(s: &'a str, i: usize) -> Result<Option<(FieldValue<'a>, usize)>, String> {
    let b = s.as_bytes();
    match b.get(i) {
        Some(b'-' | b'0'..=b'9') => field_number(s, i),
        Some(b'"') => string(s, i + 1),
        Some(&c @ (b't' | b'T' | b'f' | b'F')) => Ok(Some(boolean(&b[i..], c))),
        _ => Ok(None),
    }
}

/// IOx tries the spellings in this order, taking the first that is a prefix, so `tru` is `t`
/// followed by `ru`.
fn boolean<'a>(rest: &[u8], first: u8) -> (FieldValue<'a>, usize) {
    let long: &[&[u8]] = match first {
        b't' => &[b"true"],
        b'T' => &[b"True", b"TRUE"],
        b'f' => &[b"false"],
        _ => &[b"False", b"FALSE"],
    };
    let value = matches!(first, b't' | b'T');
    let len = long.iter().find(|w| rest.starts_with(w)).map_or(1, |w| w.len());
    (FieldValue::Bool(value), len)
}

/// A string field whose contents start at `start` (after the opening quote). Unterminated: no
/// value (`Ok(None)`), as in IOx.
fn string<'a>(s: &'a str, start: usize) -> Result<Option<(FieldValue<'a>, usize)>, String> {
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
    let raw = &s[start..end];
    let value = if changed { Cow::Owned(escape::unescape_string(raw)) } else { Cow::Borrowed(raw) };
    if value.len() > MAX_STRING_LEN {
        return Err(text::STRING_TOO_LONG.to_owned());
    }
    Ok(Some((FieldValue::Str(value), end + 1)))
}

#[inline(always)]
fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}
