//! Numbers: field values and timestamps, with IOx's grammar.
//!
//! IOx tries, in order: integer `-?D+i`, unsigned `D+u`, then float as the longest of
//! `-?D+.D+[eE][+-]?D+`, `-?D+[eE][+-]?D+`, `-?D+.D+`, `-?D+`. A value is the longest prefix that
//! matches; what follows it is the caller's business (usually a separator or trailing content).
//! So `1.` is the float 1 followed by `.`, and `-1u` the float -1 followed by `u`.

use crate::error::text;
use crate::line::FieldValue;

/// End of the run of ASCII digits starting at `i`.
#[inline(always)]
pub(crate) fn digits_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// Reads the number starting at `i` (a `-` or a digit). `Ok(None)`: no number here (a lone `-`).
/// `Err`: the text is a number but out of range.
pub(crate) fn field_number<'a>(s: &str, i: usize) -> Result<Option<(FieldValue<'a>, usize)>, String> {
    let b = s.as_bytes();
    let negative = b[i] == b'-';
    let digits = i + usize::from(negative);
    let int_end = digits_end(b, digits);
    if int_end == digits {
        return Ok(None);
    }
    let float_end = match b.get(int_end) {
        Some(b'i') => {
            let text = &s[i..int_end];
            let v = parse_i64(text).ok_or_else(|| text::integer(text))?;
            return Ok(Some((FieldValue::I64(v), int_end + 1)));
        }
        Some(b'u') if !negative => {
            let text = &s[i..int_end];
            let v = parse_u64(text).ok_or_else(|| text::unsigned(text))?;
            return Ok(Some((FieldValue::U64(v), int_end + 1)));
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
    let text = &s[i..float_end];
    let v = if float_end == int_end && int_end - digits <= 15 {
        // At most 15 digits is exact in an f64, and far cheaper than the float parser. Negating
        // the magnitude keeps `-0` negative, as the float parser would.
        let magnitude = accumulate(&b[digits..int_end]) as f64;
        Some(if negative { -magnitude } else { magnitude })
    } else {
        text.parse::<f64>().ok()
    };
    let v = v.ok_or_else(|| text::float(text))?;
    Ok(Some((FieldValue::F64(v), float_end)))
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
#[inline]
pub(crate) fn parse_i64(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let (negative, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    // 19 digits cannot overflow a u64, so only the final range check is needed.
    if digits.len() > 19 {
        return text.parse().ok();
    }
    let magnitude = accumulate(digits);
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Parses `D+` (the caller has checked the shape). `None` on overflow.
#[inline]
pub(crate) fn parse_u64(text: &str) -> Option<u64> {
    if text.len() > 19 {
        return text.parse().ok();
    }
    Some(accumulate(text.as_bytes()))
}

/// The value of at most 19 ASCII digits.
#[inline(always)]
fn accumulate(digits: &[u8]) -> u64 {
    let mut chunks = digits.chunks_exact(8);
    let mut v = 0u64;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        v = v * 100_000_000 + eight_digits(u64::from_le_bytes(word));
    }
    for &d in chunks.remainder() {
        v = v * 10 + u64::from(d - b'0');
    }
    v
}

/// Eight ASCII digits in one little-endian word, combined pairwise (SWAR, after Lemire). The
/// multiplications overflow on purpose: only the bits shifted down are kept.
#[inline(always)]
fn eight_digits(word: u64) -> u64 {
    let v = (word & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    (v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32
}
