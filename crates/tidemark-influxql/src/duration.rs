//! Durations: `10s`, `1h30m`, `-5m` (1.x `ParseDuration`, `FormatDuration`).

use std::fmt;

const NANOSECOND: i64 = 1;
const MICROSECOND: i64 = 1_000;
const MILLISECOND: i64 = 1_000_000;
const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

/// A signed length of time in nanoseconds.
///
/// `Display` gives the shortest InfluxQL spelling in the largest unit that divides it exactly:
/// `2w`, `36h`, `90s`, `1500u`, `0s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

/// Why a duration literal is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// Not digits-and-units, or a unit InfluxQL does not have (`1y`, `5`, `1.5h`).
    Invalid,
    /// Larger than about 292 years: the part that overflowed, e.g. `15251w`.
    Overflow(String),
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Invalid => f.write_str("invalid duration"),
            DurationError::Overflow(part) => write!(
                f,
                "overflowed duration {part}: choose a smaller duration or INF"
            ),
        }
    }
}

impl std::error::Error for DurationError {}

impl Duration {
    /// The duration in nanoseconds.
    pub fn nanos(self) -> i64 {
        self.0
    }

    /// Parses `[-]<digits><unit>...`, units `ns`, `u` or `µ`, `ms`, `s`, `m`, `h`, `d`, `w`.
    pub fn parse(s: &str) -> Result<Duration, DurationError> {
        let (negative, mut rest) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if s.chars().count() < 2 || rest.is_empty() {
            return Err(DurationError::Invalid);
        }
        let mut total: i64 = 0;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits == rest.len() {
                return Err(DurationError::Invalid);
            }
            let n: i64 = rest[..digits].parse().map_err(|_| DurationError::Invalid)?;
            let after = &rest[digits..];
            let (unit, scale) = if after.starts_with("ns") {
                ("ns", NANOSECOND)
            } else if after.starts_with("ms") {
                ("ms", MILLISECOND)
            } else if after.starts_with('u') {
                ("u", MICROSECOND)
            } else if after.starts_with('µ') {
                ("µ", MICROSECOND)
            } else if after.starts_with('s') {
                ("s", SECOND)
            } else if after.starts_with('m') {
                ("m", MINUTE)
            } else if after.starts_with('h') {
                ("h", HOUR)
            } else if after.starts_with('d') {
                ("d", DAY)
            } else if after.starts_with('w') {
                ("w", WEEK)
            } else {
                return Err(DurationError::Invalid);
            };
            total = n
                .checked_mul(scale)
                .and_then(|part| total.checked_add(part))
                .ok_or_else(|| DurationError::Overflow(format!("{n}{unit}")))?;
            rest = &after[unit.len()..];
        }
        Ok(Duration(if negative { -total } else { total }))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d == 0 {
            return f.write_str("0s");
        }
        for (scale, unit) in [
            (WEEK, "w"),
            (DAY, "d"),
            (HOUR, "h"),
            (MINUTE, "m"),
            (SECOND, "s"),
            (MILLISECOND, "ms"),
            (MICROSECOND, "u"),
        ] {
            if d % scale == 0 {
                return write!(f, "{}{unit}", d / scale);
            }
        }
        write!(f, "{d}ns")
    }
}
