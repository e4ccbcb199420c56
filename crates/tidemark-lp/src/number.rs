//! Numbers: field values and timestamps, with IOx's grammar.
//!
//! IOx tries, in order: integer `-?D+i`, unsigned `D+u`, then float as the longest of
//! `-?D+.D+[eE][+-]?D+`, `-?D+[eE][+-]?D+`, `-?D+.D+`, `-?D+`. A value is the longest prefix that
//! matches; what follows it is the caller's business (usually a separator or trailing content).
//! So `1.` is the float 1 followed by `.`, and `-1u` the float -1 followed by `u`.

use crate::error::text;
use crate::escape::sub;
use crate::line::FieldValue;

/// A number field value. Small and `Copy`, so that it stays in registers until the caller
/// stores it into the line.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Number {
    I64(i64),
    U64(u64),
    F64(f64),
}

impl From<Number> for FieldValue<'_> {
    fn from(n: Number) -> Self {
        match n {
            Number::I64(v) => FieldValue::I64(v),
            Number::U64(v) => FieldValue::U64(v),
            Number::F64(v) => FieldValue::F64(v),
        }
    }
}

/// End of the run of ASCII digits starting at `i`.
#[inline(always)]
pub(crate) fn digits_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// Scans the digits starting at `i` and accumulates their value in the same pass: their end
/// and value, which is exact when there are at most 19 of them (the caller checks). `LONG`:
/// expect many digits (timestamps), and take them eight at a time.
#[inline(always)]
fn digits<const LONG: bool>(b: &[u8], mut i: usize) -> (usize, u64) {
    let mut v = 0u64;
    while let Some(chunk) = b
        .get(i..)
        .and_then(|rest| rest.first_chunk::<8>())
        .filter(|_| LONG)
    {
        let w = u64::from_le_bytes(*chunk);
        if !eight_are_digits(w) {
            break;
        }
        v = v.wrapping_mul(100_000_000).wrapping_add(eight_digits(w));
        i += 8;
    }
    while let Some(d) = b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d <= 9) {
        v = v.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    (i, v)
}

/// A signed magnitude as an i64, if it fits.
#[inline(always)]
fn signed(negative: bool, magnitude: u64) -> Option<i64> {
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Reads the number starting at `i` (a `-` or a digit). `Ok(None)`: no number here (a lone `-`).
/// `Err`: the text is a number but out of range.
#[inline(always)]
pub(crate) fn field_number(s: &str, i: usize) -> Result<Option<(Number, usize)>, String> {
    let b = s.as_bytes();
    let negative = b[i] == b'-';
    let digits_start = i + usize::from(negative);
    let (int_end, magnitude) = digits::<false>(b, digits_start);
    let count = int_end - digits_start;
    if count == 0 {
        return Ok(None);
    }
    // Beyond 19 digits the accumulated value is meaningless; the library parser decides.
    let exact = count <= 19;
    let float_end = match b.get(int_end) {
        Some(b'i') => {
            let text = || sub(s, i, int_end);
            let v = if exact {
                signed(negative, magnitude)
            } else {
                text().parse().ok()
            };
            let v = v.ok_or_else(|| text::integer(text()))?;
            return Ok(Some((Number::I64(v), int_end + 1)));
        }
        Some(b'u') if !negative => {
            let text = || sub(s, i, int_end);
            let v = if exact {
                Some(magnitude)
            } else {
                text().parse().ok()
            };
            let v = v.ok_or_else(|| text::unsigned(text()))?;
            return Ok(Some((Number::U64(v), int_end + 1)));
        }
        Some(b'.') => {
            let frac_end = digits_end(b, int_end + 1);
            if frac_end == int_end + 1 {
                int_end
            } else {
                exponent_end(b, frac_end).unwrap_or(frac_end)
            }
        }
        Some(b'e' | b'E') => exponent_end(b, int_end).unwrap_or(int_end),
        _ => int_end,
    };
    let text = || sub(s, i, float_end);
    let v = if float_end == int_end && count <= 15 {
        // At most 15 digits is exact in an f64, and far cheaper than the float parser. Negating
        // the magnitude keeps `-0` negative, as the float parser would.
        let m = magnitude as f64;
        Some(if negative { -m } else { m })
    } else {
        text().parse::<f64>().ok()
    };
    let v = v.ok_or_else(|| text::float(text()))?;
    Ok(Some((Number::F64(v), float_end)))
}

/// Reads a timestamp `-?D+` at `i`: `None` if there is none, else its end and its value (`None`
/// when out of range).
#[inline(always)]
pub(crate) fn timestamp(s: &str, i: usize) -> Option<(usize, Option<i64>)> {
    let b = s.as_bytes();
    let negative = b.get(i) == Some(&b'-');
    let digits_start = i + usize::from(negative);
    let (end, magnitude) = digits::<true>(b, digits_start);
    match end - digits_start {
        0 => None,
        1..=19 => Some((end, signed(negative, magnitude))),
        _ => Some((end, sub(s, i, end).parse().ok())),
    }
}

/// End of `[eE][+-]?D+` starting at `i`, if there is one.
fn exponent_end(b: &[u8], i: usize) -> Option<usize> {
    if !matches!(b.get(i), Some(b'e' | b'E')) {
        return None;
    }
    let mut j = i + 1;
    if matches!(b.get(j), Some(b'+' | b'-')) {
        j += 1;
    }
    let end = digits_end(b, j);
    (end > j).then_some(end)
}

/// Parses `-?D+` (the caller has checked the shape). `None` on overflow.
#[cfg(test)]
pub(crate) fn parse_i64(text: &str) -> Option<i64> {
    match timestamp(text, 0) {
        Some((end, v)) if end == text.len() => v,
        _ => None,
    }
}

/// Parses `D+` (the caller has checked the shape). `None` on overflow.
#[cfg(test)]
pub(crate) fn parse_u64(text: &str) -> Option<u64> {
    match field_number(&format!("{text}u"), 0) {
        Ok(Some((Number::U64(v), _))) => Some(v),
        _ => None,
    }
}

/// Whether all eight bytes of a little-endian word are ASCII digits (after Lemire).
#[inline(always)]
fn eight_are_digits(w: u64) -> bool {
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    (w & HIGH_NIBBLES) == ZEROS && (w.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES) == ZEROS
}

/// Eight ASCII digits in one little-endian word, combined pairwise (SWAR, after Lemire). The
/// multiplications overflow on purpose: only the bits shifted down are kept.
#[inline(always)]
fn eight_digits(word: u64) -> u64 {
    let v = (word & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    (v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32
}
