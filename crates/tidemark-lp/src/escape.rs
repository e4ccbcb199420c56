//! Which bytes end or escape each kind of name, scanning names, and unescaping them.
//!
//! A name runs until a byte of its stop set. A backslash takes the next byte with it whatever
//! that byte is: if it is escapable here the pair stands for that byte, otherwise both bytes
//! stay (IOx's "unknown escapes are literal" rule). Everything in a stop set is ASCII, so names
//! always start and end on UTF-8 boundaries.

use std::borrow::Cow;

use crate::error::text;
use crate::MAX_STRING_LEN;

/// Stop-set bits in [`CLASS`].
pub(crate) const MEASUREMENT: u8 = 1;
/// Tag keys and field keys.
pub(crate) const KEY: u8 = 2;
pub(crate) const TAG_VALUE: u8 = 4;

/// Escapable-set bits in [`CLASS`].
const ESC_MEASUREMENT: u8 = 8;
const ESC_KEY: u8 = 16;

/// What can follow a backslash in a name to stand for itself.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Escapes {
    /// `,` space `\`
    Measurement,
    /// `,` `=` space `\` (tag keys, tag values, field keys)
    Key,
}

impl Escapes {
    fn bit(self) -> u8 {
        match self {
            Escapes::Measurement => ESC_MEASUREMENT,
            Escapes::Key => ESC_KEY,
        }
    }
}

/// The stop sets and escapable sets each byte belongs to. Scanners find candidate bytes eight at
/// a time and this table settles them, so one table serves every kind of name.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let all = MEASUREMENT | KEY | TAG_VALUE;
    t[b' ' as usize] = all | ESC_MEASUREMENT | ESC_KEY;
    t[b'\t' as usize] = all;
    t[b'\n' as usize] = all;
    t[b'\\' as usize] = all | ESC_MEASUREMENT | ESC_KEY;
    t[b',' as usize] = MEASUREMENT | TAG_VALUE | ESC_MEASUREMENT | ESC_KEY;
    t[b'=' as usize] = KEY | ESC_KEY;
    t[0] = MEASUREMENT;
    t
};

/// Scans a name that starts at `i` and stops at a byte of the `STOP` set. Returns where it ends
/// and whether it holds a backslash. An empty name ends where it starts.
#[inline(always)]
pub(crate) fn scan<const STOP: u8>(b: &[u8], mut i: usize) -> (usize, bool) {
    let mut escaped = false;
    loop {
        i = find_stop::<STOP>(b, i);
        if b.get(i) == Some(&b'\\') {
            escaped = true;
            i = (i + 2).min(b.len());
        } else {
            return (i, escaped);
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The first byte of `b[i..]` in the `STOP` set, or `b.len()`.
///
/// Eight bytes at a time (SWAR): every stop set is "a byte below 0x21" plus two punctuation
/// bytes, which three word-wide tests find. The lowest flagged byte is always a true match of
/// one of the tests (borrows only spill upwards), but "below 0x21" also flags control bytes
/// that are ordinary here, so the table has the last word.
#[inline(always)]
fn find_stop<const STOP: u8>(b: &[u8], mut i: usize) -> usize {
    let (p, q) = match STOP {
        KEY => (b'=', b'\\'),
        _ => (b',', b'\\'),
    };
    while let Some(chunk) = b.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        let w = u64::from_le_bytes(*chunk);
        let below_0x21 = w.wrapping_sub(ONES * 0x21) & !w;
        let is_p = (w ^ (ONES * u64::from(p))).wrapping_sub(ONES) & !(w ^ (ONES * u64::from(p)));
        let is_q = (w ^ (ONES * u64::from(q))).wrapping_sub(ONES) & !(w ^ (ONES * u64::from(q)));
        let hits = (below_0x21 | is_p | is_q) & HIGHS;
        if hits == 0 {
            i += 8;
            continue;
        }
        let at = i + (hits.trailing_zeros() / 8) as usize;
        if CLASS[b[at] as usize] & STOP != 0 {
            return at;
        }
        i = at + 1;
    }
    while let Some(&c) = b.get(i) {
        if CLASS[c as usize] & STOP != 0 {
            break;
        }
        i += 1;
    }
    i
}

/// `s[start..end]`, where both ends sit next to ASCII bytes (so on character boundaries).
///
/// Indexing a `str` calls an out-of-line function for every name, a few percent of the parse
/// time; these checks inline. Out-of-range or mid-character bounds (a bug, never input) give
/// an empty string rather than a panic.
#[inline(always)]
pub(crate) fn sub(s: &str, start: usize, end: usize) -> &str {
    s.split_at_checked(end)
        .and_then(|(head, _)| head.split_at_checked(start))
        .map_or("", |(_, name)| name)
}

/// The value of the name `s[start..end]` found by [`scan`], with IOx's checks on it.
#[inline]
pub(crate) fn name<'a>(
    s: &'a str,
    start: usize,
    end: usize,
    escaped: bool,
    escapes: Escapes,
) -> Result<Cow<'a, str>, &'static str> {
    let raw = sub(s, start, end);
    if !escaped {
        return if raw.len() > MAX_STRING_LEN {
            Err(text::STRING_TOO_LONG)
        } else {
            Ok(Cow::Borrowed(raw))
        };
    }
    let value = unescape_name(raw, escapes);
    // Only an escape can leave a backslash at the end, so the unescaped-value check suffices.
    if value.ends_with('\\') {
        Err(text::ENDS_WITH_BACKSLASH)
    } else if value.len() > MAX_STRING_LEN {
        Err(text::STRING_TOO_LONG)
    } else {
        Ok(value)
    }
}

#[inline(never)]
fn unescape_name(raw: &str, escapes: Escapes) -> Cow<'_, str> {
    let b = raw.as_bytes();
    let bit = escapes.bit();
    let mut out = String::with_capacity(raw.len());
    // `run` is where the next unwritten stretch of `raw` begins.
    let (mut run, mut i) = (0, 0);
    while let Some(off) = memchr::memchr(b'\\', &b[i..]) {
        let at = i + off;
        match b.get(at + 1) {
            Some(&c) if CLASS[c as usize] & bit != 0 => {
                out.push_str(&raw[run..at]);
                run = at + 1;
                i = at + 2;
            }
            // Unknown escape: both bytes stay in the run.
            Some(_) => i = at + 2,
            None => break,
        }
        if i >= b.len() {
            break;
        }
    }
    if run == 0 {
        return Cow::Borrowed(raw);
    }
    out.push_str(&raw[run..]);
    Cow::Owned(out)
}

/// Unescapes a string field's contents: `\"` and `\\` stand for one byte, any other backslash
/// stays.
#[inline(never)]
pub(crate) fn unescape_string(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let (mut run, mut i) = (0, 0);
    while let Some(off) = memchr::memchr(b'\\', &b[i..]) {
        let at = i + off;
        if matches!(b.get(at + 1), Some(b'"' | b'\\')) {
            out.push_str(&raw[run..at]);
            run = at + 1;
            i = at + 2;
        } else {
            i = at + 1;
        }
        if i >= b.len() {
            break;
        }
    }
    out.push_str(&raw[run..]);
    out
}

/// Appends `value` escaped so that the parser reads it back as `value`.
///
/// A backslash is doubled, except before a byte that ends this kind of name but cannot be
/// escaped (tab, newline; NUL in a measurement): the parser only ever produces such a byte
/// preceded by a lone backslash, which is how it must be written back.
pub(crate) fn write_name(out: &mut String, value: &str, escapes: Escapes) {
    let stop = match escapes {
        Escapes::Measurement => MEASUREMENT,
        Escapes::Key => KEY | TAG_VALUE,
    };
    let bit = escapes.bit();
    let b = value.as_bytes();
    let mut run = 0;
    for (i, &c) in b.iter().enumerate() {
        let class = CLASS[c as usize];
        if class & bit == 0 {
            continue;
        }
        out.push_str(&value[run..i]);
        run = i + 1;
        let next_unescapable = b
            .get(i + 1)
            .is_some_and(|&n| CLASS[n as usize] & stop != 0 && CLASS[n as usize] & bit == 0);
        if c == b'\\' && next_unescapable {
            out.push('\\');
        } else {
            out.push('\\');
            out.push(c as char);
        }
    }
    out.push_str(&value[run..]);
}

/// Appends a string field's contents escaped, without the quotes.
pub(crate) fn write_string(out: &mut String, value: &str) {
    let mut run = 0;
    for (i, c) in value.bytes().enumerate() {
        if c == b'"' || c == b'\\' {
            out.push_str(&value[run..i]);
            out.push('\\');
            run = i;
        }
    }
    out.push_str(&value[run..]);
}
