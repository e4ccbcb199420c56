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
use crate::line::{Field, ParsedLine, Tag};

pub(crate) fn check(line: &mut ParsedLine<'_>) -> Result<(), String> {
    if line.tags.iter().any(|t| t.key == "time") {
        return Err(text::time_tag(&line.measurement));
    }
    if let [only] = line.fields.as_slice() {
        if only.key == "time" {
            return Err(text::time_only_field(&line.measurement));
        }
    }
    if let Some(key) = repeated_tag(&line.tags) {
        return Err(text::duplicate_tag(key));
    }
    dedupe_fields(&mut line.fields)?;
    if line.fields.is_empty() {
        return Err(text::time_only_field(&line.measurement));
    }
    Ok(())
}

/// A cheap fingerprint of a name for a 128-slot filter: length and three bytes, mixed.
#[inline(always)]
fn slot(key: &str) -> u32 {
    let b = key.as_bytes();
    let (first, last, mid) = match b {
        [] => (0, 0, 0),
        _ => (b[0], b[b.len() - 1], b[b.len() / 2]),
    };
    let x = (b.len() as u32) ^ (u32::from(first) << 8) ^ (u32::from(last) << 16) ^ (u32::from(mid) << 24);
    x.wrapping_mul(0x9E37_79B1) >> 25
}

/// Whether two keys might be equal. Almost every line has distinct keys, so a filter answers
/// "no" without comparing strings; a "maybe" is settled by comparing.
#[inline]
fn maybe_repeated<'k>(keys: impl Iterator<Item = &'k str>) -> bool {
    let mut seen = 0u128;
    for key in keys {
        let bit = 1u128 << slot(key);
        if seen & bit != 0 {
            return true;
        }
        seen |= bit;
    }
    false
}

fn repeated_tag<'t>(tags: &'t [Tag<'_>]) -> Option<&'t str> {
    if !maybe_repeated(tags.iter().map(|t| &*t.key)) {
        return None;
    }
    // The key IOx names is the one whose second occurrence comes first.
    tags.iter()
        .enumerate()
        .find(|(j, tag)| tags[..*j].iter().any(|earlier| earlier.key == tag.key))
        .map(|(_, tag)| &*tag.key)
}

fn dedupe_fields(fields: &mut Vec<Field<'_>>) -> Result<(), String> {
    let has_time = fields.iter().any(|f| f.key == "time");
    if !has_time && !maybe_repeated(fields.iter().map(|f| &*f.key)) {
        return Ok(());
    }
    let mut keep = vec![false; fields.len()];
    for j in (0..fields.len()).rev() {
        let field = &fields[j];
        if field.key == "time" {
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
