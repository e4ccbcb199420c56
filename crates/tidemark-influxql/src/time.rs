//! Time strings in conditions (`time > '2024-01-01T00:00:00Z'`): the parser keeps them as
//! string literals, as 1.x does, and the planner reads them with [`parse_time_string`].
//!
//! The forms are 1.x's (`StringLiteral.ToTimeLiteral`): RFC 3339 with an optional fraction of
//! a second (`2006-01-02T15:04:05.999999999Z07:00`), `2006-01-02 15:04:05[.fraction]` and
//! `2006-01-02`. The last two have no zone and are read in the query's time zone.

/// A time string, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeString {
    /// The text named its zone (`Z` or `±hh:mm`): nanoseconds since the Unix epoch.
    Instant(i64),
    /// The text had no zone: nanoseconds from 1970-01-01T00:00:00 to this wall-clock time,
    /// to be placed in the query's time zone (UTC unless `tz()` says otherwise).
    Local(i64),
}

/// Whether `s` looks like a date or date-time (1.x `IsTimeLiteral`): four digits, `-`, two
/// digits, `-`, two digits, then anything. Such a string compared with `time` must parse.
pub fn is_time_string(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

/// Reads a time string; `None` if it is not one of the forms (1.x: `invalid timestamp
/// string`) or is outside the years 1678 to 2262 that nanoseconds in an `i64` cover.
pub fn parse_time_string(s: &str) -> Option<TimeString> {
    if !is_time_string(s) {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let days = days_from_date(date)?;
    if rest.is_empty() {
        return local(days, 0);
    }
    let (separator, time) = rest.split_at(1);
    let mut cursor = Cursor(time);
    if separator == " " {
        let hour = cursor.number(1, 2)?;
        cursor.literal(':')?;
        let minute = cursor.number(2, 2)?;
        cursor.literal(':')?;
        let second = cursor.number(2, 2)?;
        let nanos = cursor.fraction()?;
        if !cursor.0.is_empty() {
            return None;
        }
        return local(days, time_of_day(hour, minute, second, nanos)?);
    }
    if separator != "T" {
        return None;
    }
    let hour = cursor.number(2, 2)?;
    cursor.literal(':')?;
    let minute = cursor.number(2, 2)?;
    cursor.literal(':')?;
    let second = cursor.number(2, 2)?;
    let nanos = cursor.fraction()?;
    let offset_seconds = match cursor.0 {
        "Z" => 0,
        zone => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let mut zone = Cursor(&zone[1..]);
            let hours = zone.number(2, 2)?;
            zone.literal(':')?;
            let minutes = zone.number(2, 2)?;
            if !zone.0.is_empty() || hours >= 24 || minutes >= 60 {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let local_nanos =
        i128::from(days) * NANOS_PER_DAY + i128::from(time_of_day(hour, minute, second, nanos)?);
    let instant = local_nanos - i128::from(offset_seconds) * 1_000_000_000;
    i64::try_from(instant).ok().map(TimeString::Instant)
}

const NANOS_PER_DAY: i128 = 86_400 * 1_000_000_000;

fn local(days: i64, nanos_of_day: i64) -> Option<TimeString> {
    let nanos = i128::from(days) * NANOS_PER_DAY + i128::from(nanos_of_day);
    i64::try_from(nanos).ok().map(TimeString::Local)
}

fn time_of_day(hour: i64, minute: i64, second: i64, nanos: i64) -> Option<i64> {
    if hour >= 24 || minute >= 60 || second >= 60 {
        return None;
    }
    Some(((hour * 60 + minute) * 60 + second) * 1_000_000_000 + nanos)
}

/// Days since 1970-01-01 of `YYYY-MM-DD`, checking the month and the day within it.
fn days_from_date(date: &str) -> Option<i64> {
    let year: i64 = date[..4].parse().ok()?;
    let month: i64 = date[5..7].parse().ok()?;
    let day: i64 = date[8..10].parse().ok()?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > month_days {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The unread rest of a time string.
struct Cursor<'a>(&'a str);

impl Cursor<'_> {
    /// `min` to `max` ASCII digits.
    fn number(&mut self, min: usize, max: usize) -> Option<i64> {
        let len = self
            .0
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len < min {
            return None;
        }
        let n = self.0[..len].parse().ok()?;
        self.0 = &self.0[len..];
        Some(n)
    }

    fn literal(&mut self, c: char) -> Option<()> {
        self.0 = self.0.strip_prefix(c)?;
        Some(())
    }

    /// An optional `.digits`, as nanoseconds (digits past the ninth are dropped).
    fn fraction(&mut self) -> Option<i64> {
        let Some(rest) = self.0.strip_prefix('.') else {
            return Some(0);
        };
        let len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let digits = &rest[..len.min(9)];
        let nanos: i64 = digits.parse().ok()?;
        self.0 = &rest[len..];
        Some(nanos * 10_i64.pow(9 - digits.len() as u32))
    }
}
