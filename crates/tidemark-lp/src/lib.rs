//! InfluxDB line protocol: turning a write body into lines, and lines back into text.
//!
//! This crate owns the line-protocol grammar, its escaping rules, the per-line checks that
//! InfluxDB 3 applies before a line becomes a row, the error texts users see for all of them,
//! timestamp precisions, and the serialiser. It does no I/O, spawns nothing, and depends on no
//! other tidemark crate: callers hand it a byte slice and get lines that borrow from it.
//!
//! The rules are those of InfluxDB 3 (IOx's `influxdb_line_protocol` and `mutable_batch_lp`),
//! including their quirks, so that a body is accepted or refused here exactly as there:
//! - lines split on `\n`, except inside a quoted string field or after a backslash; leading
//!   spaces, tabs and blank lines are skipped, `#` starts a comment line; `\r` is an ordinary
//!   character, so CRLF lines fail;
//! - `measurement[,tag=value...] field=value[,field=value...] [timestamp]`, sections separated
//!   by one or more spaces (a tab ends a name but does not separate sections);
//! - backslash escapes `,` and space in measurements, `,` `=` space in tag keys, tag values and
//!   field keys, `\` everywhere, and `"` `\` in string fields; any other escape keeps both
//!   characters; a name may not end with a backslash; names and strings are at most 64 KiB;
//! - values: float (`1`, `-1.5`, `1e9`), `1i`, `1u`, `"str"`, and `t T true True TRUE` /
//!   `f F false False FALSE`; the timestamp is an optional signed integer;
//! - a tag named `time` and a repeated tag are refused; a repeated field keeps its last value
//!   (different types are refused); a field named `time` is dropped.
//!
//! Error texts are InfluxDB 3's (`error parsing line 2 (1-based): Invalid measurement was
//! provided`). A line that is not UTF-8 is refused on its own instead of failing the body.
//!
//! [`parse_lines`] is the entry point. Its iterator yields owned [`ParsedLine`]s;
//! [`Lines::next_borrowed`] reuses one line's buffers and allocates nothing per line, which is
//! what the ingest path uses.

mod check;
mod error;
mod escape;
mod line;
mod lines;
mod number;
mod parse;
mod precision;
mod write;

#[cfg(test)]
mod tests;

pub use error::{LineError, LineErrorKind};
pub use line::{Field, FieldValue, ParsedLine, Tag};
pub use lines::{parse_lines, Lines};
pub use precision::{to_nanos, Precision};
pub use write::write_line;

/// The longest measurement, tag key, tag value, field key or string value, in bytes (after
/// unescaping), that InfluxDB 3 accepts.
pub const MAX_STRING_LEN: usize = 64 * 1024;
