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
        return trimmed(t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string(), "Z");
    };
    let local = t.with_timezone(&offset);
    trimmed(
        local.format("%Y-%m-%dT%H:%M:%S%.9f").to_string(),
        &local.format("%:z").to_string(),
    )
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
}
