//! Timestamp precisions of the write APIs.

/// The unit of the timestamps in a write body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    #[default]
    Nanosecond,
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
}

impl Precision {
    /// The `precision` parameter of `/api/v2/write`: `ns`, `us`, `ms` or `s`.
    pub fn from_v2(s: &str) -> Option<Self> {
        match s {
            "ns" => Some(Self::Nanosecond),
            "us" => Some(Self::Microsecond),
            "ms" => Some(Self::Millisecond),
            "s" => Some(Self::Second),
            _ => None,
        }
    }

    /// The `precision` parameter of v1 `/write`: `n`/`ns`, `u`/`us`/`µ`, `ms`, `s`, `m`, `h`.
    pub fn from_v1(s: &str) -> Option<Self> {
        match s {
            "n" | "ns" => Some(Self::Nanosecond),
            "u" | "us" | "µ" => Some(Self::Microsecond),
            "ms" => Some(Self::Millisecond),
            "s" => Some(Self::Second),
            "m" => Some(Self::Minute),
            "h" => Some(Self::Hour),
            _ => None,
        }
    }

    /// Nanoseconds in one unit.
    pub fn nanos_per_unit(self) -> i64 {
        match self {
            Self::Nanosecond => 1,
            Self::Microsecond => 1_000,
            Self::Millisecond => 1_000_000,
            Self::Second => 1_000_000_000,
            Self::Minute => 60_000_000_000,
            Self::Hour => 3_600_000_000_000,
        }
    }
}

/// `ts` in nanoseconds, or `None` when that overflows i64 (report it with
/// [`crate::LineError::timestamp_overflow`]).
pub fn to_nanos(ts: i64, precision: Precision) -> Option<i64> {
    ts.checked_mul(precision.nanos_per_unit())
}
