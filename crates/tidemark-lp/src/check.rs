//! The checks InfluxDB 3 makes on a parsed line before it becomes a row
//! (`mutable_batch_lp::write_line`), in the same order, so that a line with several problems
//! gets the same error:
//! 1. a tag named `time` is refused;
//! 2. a line whose only field is `time` is refused;
//! 3. a repeated tag key is refused (the first key seen twice is named);
//! 4. walking the fields from the last, a field named `time` is dropped, and a repeated field
//!    keeps its last occurrence, or is refused if the occurrences differ in type.
//!
//! One deliberate difference: when every field is `time` (`m time=1,time=2`) IOx writes a row
//! with no fields; we refuse it with the error of check 2, so a parsed line always has a field.

use crate::error::text;
use crate::line::{Field, ParsedLine};

pub(crate) fn check(line: &mut ParsedLine<'_>) -> Result<(), String> {
    let tags = Keys::scan(line.tags.iter().map(|t| &*t.key));
    if tags.has_time {
        return Err(text::time_tag(&line.measurement));
    }
    if let [only] = line.fields.as_slice() {
        if is_time(&only.key) {
            return Err(text::time_only_field(&line.measurement));
        }
    }
    if tags.maybe_repeated {
        if let Some(j) = first_repeat(&line.tags, |t| &t.key) {
            return Err(text::duplicate_tag(&line.tags[j].key));
        }
    }
    let fields = Keys::scan(line.fields.iter().map(|f| &*f.key));
    if fields.has_time || fields.maybe_repeated {
        dedupe_fields(&mut line.fields)?;
        if line.fields.is_empty() {
            return Err(text::time_only_field(&line.measurement));
        }
    }
    Ok(())
}

#[inline(always)]
fn is_time(key: &str) -> bool {
    key.as_bytes() == b"time"
}

/// What one pass over a line's tag keys or field keys finds. (Gathering it while parsing,
/// when each key is in cache, measured slower: the filter then lives in memory.)
struct Keys {
    has_time: bool,
    /// Two keys may be equal. Almost every line has distinct keys, so a 256-slot filter of
    /// fingerprints answers "no" without comparing strings; a "maybe" is settled by comparing.
    maybe_repeated: bool,
}

impl Keys {
    #[inline(always)]
    fn scan<'k>(keys: impl Iterator<Item = &'k str>) -> Self {
        // Two u128s rather than an array, so that the filter lives in registers.
        let (mut low, mut high) = (0u128, 0u128);
        let (mut has_time, mut maybe_repeated) = (false, false);
        for key in keys {
            has_time |= is_time(key);
            let slot = fingerprint(key) >> 56;
            let bit = 1u128 << (slot & 127);
            let half = if slot < 128 { &mut low } else { &mut high };
            maybe_repeated |= *half & bit != 0;
            *half |= bit;
        }
        Self {
            has_time,
            maybe_repeated,
        }
    }
}

/// A 64-bit fingerprint of a name from its length and its first and last bytes. Fixed-size
/// loads only: a variable-length copy here would cost a library call per key, and a loop a
/// mispredicted branch.
#[inline(always)]
fn fingerprint(key: &str) -> u64 {
    let b = key.as_bytes();
    let n = b.len();
    let (head, tail) = if let (Some(h), Some(t)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        (u64::from_le_bytes(*h), u64::from_le_bytes(*t))
    } else if let (Some(h), Some(t)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        (
            u64::from(u32::from_le_bytes(*h)),
            u64::from(u32::from_le_bytes(*t)),
        )
    } else {
        let byte = |k: usize| b.get(k).map_or(0, |&c| u64::from(c));
        (
            byte(0) | byte(n / 2) << 8 | byte(n.wrapping_sub(1)) << 16,
            0,
        )
    };
    (head ^ tail.rotate_left(29) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The index of the first item whose key an earlier item already has.
fn first_repeat<T>(items: &[T], key: impl Fn(&T) -> &str) -> Option<usize> {
    (1..items.len()).find(|&j| {
        items[..j]
            .iter()
            .any(|earlier| key(earlier) == key(&items[j]))
    })
}

/// Drops `time` fields and all but the last occurrence of a repeated field, walking from the
/// last field as IOx does, so that a type conflict names the same field.
fn dedupe_fields(fields: &mut Vec<Field<'_>>) -> Result<(), String> {
    let mut keep = vec![false; fields.len()];
    for j in (0..fields.len()).rev() {
        let field = &fields[j];
        if is_time(&field.key) {
            continue;
        }
        let kept_later = (j + 1..fields.len()).find(|&k| keep[k] && fields[k].key == field.key);
        match kept_later {
            None => keep[j] = true,
            Some(k) if fields[k].value.same_type(&field.value) => {}
            Some(_) => return Err(text::conflicting_field(&field.key)),
        }
    }
    let mut keep = keep.into_iter();
    fields.retain(|_| keep.next().unwrap_or(false));
    Ok(())
}
