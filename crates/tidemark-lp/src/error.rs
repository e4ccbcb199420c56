//! Line errors and the exact texts InfluxDB 3 gives for them.
//!
//! Texts are copied from IOx (`influxdb_line_protocol::Error`, `mutable_batch_lp::LineError` and
//! `LineWriteError`), quoting style included, because clients and tests match on them.

use std::fmt;

/// Which stage refused a line; it decides the prefix InfluxDB puts before the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineErrorKind {
    /// The text is not line protocol: `error parsing line N (1-based): <message>`.
    Parse,
    /// The text parses but cannot become one row (a `time` tag, a repeated tag, a field with two
    /// types): `error writing line N (1-based): <message>`.
    Write,
    /// The timestamp, scaled to nanoseconds, does not fit an i64:
    /// `timestamp overflows i64 on line N (1-based)`. The parser never produces it: the caller
    /// does, from [`crate::to_nanos`], with [`LineError::timestamp_overflow`].
    TimestampOverflow,
}

/// One refused line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based physical line of the body where the refused line starts (blank and comment lines
    /// count). InfluxDB 3 numbers only the lines it did not skip; that number is the 1-based
    /// position of this error among the items [`crate::parse_lines`] yields.
    pub line: usize,
    pub kind: LineErrorKind,
    /// InfluxDB's text without the `error parsing line N (1-based): ` prefix.
    pub message: String,
}

impl LineError {
    #[cold]
    #[inline(never)]
    pub(crate) fn parse(line: usize, message: String) -> Self {
        Self {
            line,
            kind: LineErrorKind::Parse,
            message,
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn write(line: usize, message: String) -> Self {
        Self {
            line,
            kind: LineErrorKind::Write,
            message,
        }
    }

    /// The error for a timestamp that overflows i64 once scaled by the write's precision.
    pub fn timestamp_overflow(line: usize) -> Self {
        Self {
            line,
            kind: LineErrorKind::TimestampOverflow,
            message: "timestamp overflows i64".to_owned(),
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line;
        match self.kind {
            LineErrorKind::Parse => {
                write!(f, "error parsing line {line} (1-based): {}", self.message)
            }
            LineErrorKind::Write => {
                write!(f, "error writing line {line} (1-based): {}", self.message)
            }
            LineErrorKind::TimestampOverflow => {
                write!(f, "timestamp overflows i64 on line {line} (1-based)")
            }
        }
    }
}

impl std::error::Error for LineError {}

/// Message texts. Functions rather than constants where InfluxDB quotes part of the line. All
/// cold and out of line: they only run for refused lines, and inlined they bloat the parser's
/// hot functions enough to stop the compiler inlining what matters there.
pub(crate) mod text {
    pub(crate) const INVALID_MEASUREMENT: &str = "Invalid measurement was provided";
    pub(crate) const NO_FIELDS: &str = "No fields were provided";
    pub(crate) const ENDS_WITH_BACKSLASH: &str =
        "Measurements, tag keys and values, and field keys may not end with a backslash";
    pub(crate) const STRING_TOO_LONG: &str = "String is greater than 64KB";

    #[cold]
    #[inline(never)]
    pub(crate) fn integer(value: &str) -> String {
        format!("Unable to parse integer value `{value}`")
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn unsigned(value: &str) -> String {
        format!("Unable to parse unsigned integer value `{value}`")
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn float(value: &str) -> String {
        format!("Unable to parse floating-point value `{value}`")
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn timestamp(value: &str) -> String {
        format!("Unable to parse timestamp value `{value}`")
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn trailing(rest: &str) -> String {
        format!(
            "Could not parse entire line. Found trailing content: `{}`",
            excerpt(rest)
        )
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn no_equals_in_tag_set(tag_set: &str) -> String {
        format!(
            "Tag set malformed: could not find equals sign in `{}`",
            excerpt(tag_set)
        )
    }

    /// InfluxDB quotes all of the rest here, not an excerpt.
    #[cold]
    #[inline(never)]
    pub(crate) fn expected_space(rest: &str) -> String {
        if rest.is_empty() {
            "Expected at least one space character, got end of input".to_owned()
        } else {
            format!("Expected at least one space character, got `{rest}`")
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn expected_tag_key(rest: &str) -> String {
        expected("tag key", rest)
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn expected_tag_value(rest: &str) -> String {
        expected("tag value", rest)
    }

    fn expected(what: &str, rest: &str) -> String {
        if rest.is_empty() {
            format!("Expected {what}, got end of input")
        } else {
            format!("Expected {what}, got `{}`", excerpt(rest))
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn invalid_utf8(offset: usize) -> String {
        format!("Invalid UTF-8 at byte {offset} of the line")
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn time_tag(measurement: &str) -> String {
        format!("input tag \"time\" on measurement \"{measurement}\" is invalid")
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn time_only_field(measurement: &str) -> String {
        format!(
            "invalid field name: input field \"time\" on measurement \"{measurement}\" is invalid"
        )
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn duplicate_tag(name: &str) -> String {
        format!("the tag '{name}' is specified more than once with conflicting values")
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn conflicting_field(name: &str) -> String {
        format!("the field '{name}' is specified more than once with conflicting types")
    }

    /// IOx shows at most ten characters of the rest of a line. It measures in bytes but cuts in
    /// characters, and so do we.
    fn excerpt(rest: &str) -> String {
        const MAX: usize = 10;
        if rest.len() > MAX {
            let mut out: String = rest.chars().take(MAX).collect();
            out.push_str("...");
            out
        } else {
            rest.to_owned()
        }
    }
}
