//! How errors and JSON bodies go on the wire.

use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::header::{HeaderValue, CONTENT_TYPE};
use serde::Serialize;

use crate::error::Error;

pub(crate) const JSON_UTF8: &str = "application/json; charset=utf-8";

/// A JSON body with InfluxDB's `application/json; charset=utf-8` content type.
pub(crate) fn json<T: Serialize>(status: http::StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8))],
            bytes,
        )
            .into_response(),
        Err(e) => Error::internal(format!("encoding response: {e}")).into_response(),
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let code = self.code.as_str();
        let mut response = json(
            self.code.http_status(),
            &ErrorBody {
                code,
                message: &self.message,
            },
        );
        let headers = response.headers_mut();
        headers.insert("x-platform-error-code", HeaderValue::from_static(code));
        if let Some(seconds) = self.code.retry_after() {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Go's RFC3339Nano, as InfluxDB prints times: UTC, fraction with trailing zeros trimmed.
pub(crate) fn rfc3339(nanos: i64) -> String {
    rfc3339_in(nanos, 0)
}

/// Go's RFC3339Nano at an offset from UTC (seconds): local time and `-06:00`, or `Z` at zero.
pub(crate) fn rfc3339_in(nanos: i64, offset_seconds: i32) -> String {
    let t = DateTime::<Utc>::from_timestamp_nanos(nanos);
    let Some(offset) =
        chrono::FixedOffset::east_opt(offset_seconds).filter(|_| offset_seconds != 0)
    else {
        return utc(nanos);
    };
    let local = t.with_timezone(&offset);
    trimmed(
        local.format("%Y-%m-%dT%H:%M:%S%.9f").to_string(),
        &local.format("%:z").to_string(),
    )
}

/// RFC3339Nano in UTC, written digit by digit: every row of a v1 JSON answer carries one, and
/// chrono's format strings cost more than the rest of a small query (BENCHMARKS.md).
fn utc(nanos: i64) -> String {
    const NANOS: i64 = 1_000_000_000;
    let (secs, frac) = (nanos.div_euclid(NANOS), nanos.rem_euclid(NANOS));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = tidemark_storage::buffer::civil_date(days);
    let mut out = String::with_capacity(30);
    let push = |out: &mut String, v: i64, width: u32| {
        for k in (0..width).rev() {
            let digit = (v / 10i64.pow(k)) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
    };
    push(&mut out, year, 4);
    out.push('-');
    push(&mut out, month, 2);
    out.push('-');
    push(&mut out, day, 2);
    out.push('T');
    push(&mut out, sod / 3600, 2);
    out.push(':');
    push(&mut out, sod / 60 % 60, 2);
    out.push(':');
    push(&mut out, sod % 60, 2);
    if frac > 0 {
        out.push('.');
        let mut digits = 9;
        let mut f = frac;
        while f % 10 == 0 {
            f /= 10;
            digits -= 1;
        }
        push(&mut out, f, digits);
    }
    out.push('Z');
    out
}

fn trimmed(mut s: String, zone: &str) -> String {
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    s.push_str(zone);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500_000_000), "1970-01-01T00:00:01.5Z");
        assert_eq!(
            rfc3339(1_659_567_881_073_704_121),
            "2022-08-03T23:04:41.073704121Z"
        );
    }

    /// The digit-by-digit UTC writer against chrono, over InfluxDB's whole time range.
    #[test]
    fn utc_matches_chrono() {
        let chrono_way = |n: i64| {
            trimmed(
                DateTime::<Utc>::from_timestamp_nanos(n)
                    .format("%Y-%m-%dT%H:%M:%S%.9f")
                    .to_string(),
                "Z",
            )
        };
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut samples = vec![0, 1, -1, i64::MIN, i64::MAX, 951_782_400_000_000_000];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push(x as i64);
            // Whole seconds and milliseconds too, whose fractions trim.
            samples.push((x as i64) / 1_000_000_000 * 1_000_000_000);
            samples.push((x as i64) / 1_000_000 * 1_000_000);
        }
        for n in samples {
            assert_eq!(utc(n), chrono_way(n), "{n}");
        }
    }
}
