//! `/api/v2/write`, v1 `/write` and `/api/v3/write_lp`: read the body within its limits, hand
//! it to the service, and answer in the dialect of the API that was called.

use std::io::Read;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json as j;
use tidemark_lp::Precision;
use tidemark_storage::WriteOutcome;

use super::extract::{Caller, Params, V1Caller};
use super::response::json;
use super::AppState;
use crate::error::{Error, ErrorCode, Result};
use crate::service::Write;

/// Largest write body on the wire (Cloud Serverless's limit).
pub(super) const MAX_WRITE_BODY: usize = 50 * 1024 * 1024;
/// Largest write body after decompression.
pub(super) const MAX_WRITE_DECOMPRESSED: usize = 250 * 1024 * 1024;

fn too_large() -> Error {
    Error::new(
        ErrorCode::RequestTooLarge,
        "unable to read data: points batch is too large",
    )
}

/// The body, decompressed, never reading past either limit (a gzip bomb stops at the cap).
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes> {
    let raw = Limited::new(body, MAX_WRITE_BODY)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<LengthLimitError>() {
                too_large()
            } else {
                Error::invalid(format!("unable to read data: {e}"))
            }
        })?
        .to_bytes();
    let encoding = headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => Ok(raw),
        Some("gzip") => {
            let mut out = Vec::with_capacity(raw.len() * 4);
            flate2::read::MultiGzDecoder::new(&raw[..])
                .take(MAX_WRITE_DECOMPRESSED as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| Error::invalid(format!("unable to decompress the body: {e}")))?;
            if out.len() > MAX_WRITE_DECOMPRESSED {
                return Err(too_large());
            }
            Ok(Bytes::from(out))
        }
        Some(other) => Err(Error::new(
            ErrorCode::UnsupportedMediaType,
            format!("Content-Encoding {other} is not supported (use gzip or identity)"),
        )),
    }
}

fn error_lines(outcome: &WriteOutcome) -> String {
    outcome
        .errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `/api/v2/write`: 204, or 400 with the first rejected line and up to 100 line errors.
pub(super) async fn v2(
    State(state): State<AppState>,
    Caller(p): Caller,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let bucket = params
        .text("bucket")
        .ok_or_else(|| Error::invalid("bucket is required"))?;
    let precision = match params.get("precision") {
        None | Some("") => Precision::Nanosecond,
        Some(p) => Precision::from_v2(p).ok_or_else(|| {
            Error::invalid(format!("invalid precision \"{p}\" (use ns, us, ms or s)"))
        })?,
    };
    let org_id = params.id("orgID")?;
    let org = params.text("org");
    let body = read_body(&headers, body).await?;
    let write = Write {
        body: &body,
        precision: Some(precision),
        accept_partial: true,
        sync: true,
    };
    let outcome = state
        .service
        .write_v2(&p, org_id, org.as_deref(), &bucket, write)
        .await?;
    if outcome.rejected == 0 {
        if outcome.lines_written == 0 {
            return Err(Error::invalid("writing requires points"));
        }
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let prefix = if outcome.lines_written > 0 {
        "partial write has occurred, errors encountered on line(s): "
    } else {
        "no data written, errors encountered on line(s): "
    };
    let first = outcome.errors.first().map_or(0, |e| e.line);
    Ok(with_error_code(json(
        StatusCode::BAD_REQUEST,
        &j!({"code": "invalid", "line": first, "message": format!("{prefix}{}", error_lines(&outcome))}),
    )))
}

fn with_error_code(mut response: Response) -> Response {
    response.headers_mut().insert(
        "x-platform-error-code",
        http::HeaderValue::from_static("invalid"),
    );
    response
}

/// v1 `/write`: 204; 201 when some lines were refused; 400 when every line was.
pub(super) async fn v1(
    State(state): State<AppState>,
    V1Caller(p): V1Caller,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let db = params.text("db").unwrap_or_default();
    let rp = params.text("rp");
    let precision = match params.get("precision") {
        None | Some("") => Precision::Nanosecond,
        Some(p) => Precision::from_v1(p).ok_or_else(|| {
            Error::invalid(format!(
                "invalid precision \"{p}\" (use n, u, ms, s, m or h)"
            ))
        })?,
    };
    let body = read_body(&headers, body).await?;
    let write = Write {
        body: &body,
        precision: Some(precision),
        accept_partial: true,
        sync: true,
    };
    let outcome = state
        .service
        .write_v1(&p, &db, rp.as_deref(), write)
        .await?;
    if outcome.rejected == 0 {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let status = if outcome.lines_written > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(with_error_code(json(
        status,
        &j!({"code": "invalid", "message": format!("failed to parse line protocol: errors encountered on line(s): {}", error_lines(&outcome))}),
    )))
}

fn v3_precision(raw: Option<&str>) -> Result<Option<Precision>> {
    Ok(match raw {
        None | Some("") | Some("auto") => None,
        Some("s" | "second") => Some(Precision::Second),
        Some("ms" | "millisecond") => Some(Precision::Millisecond),
        Some("us" | "u" | "microsecond") => Some(Precision::Microsecond),
        Some("ns" | "n" | "nanosecond") => Some(Precision::Nanosecond),
        Some(other) => {
            return Err(Error::invalid(format!(
                "invalid precision \"{other}\" (use auto, s, ms, us or ns)"
            )))
        }
    })
}

/// The text of a line of the body, for `original_line`.
fn line_text(body: &[u8], line: usize) -> String {
    body.split(|&b| b == b'\n')
        .nth(line.saturating_sub(1))
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .unwrap_or_default()
}

/// InfluxDB 3 Core's `/api/v3/write_lp`.
pub(super) async fn v3(
    State(state): State<AppState>,
    Caller(p): Caller,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let db = params
        .text("db")
        .ok_or_else(|| Error::invalid("missing required parameter \"db\""))?;
    let precision = v3_precision(params.get("precision"))?;
    let accept_partial = params.bool("accept_partial")?.unwrap_or(true);
    let no_sync = params.bool("no_sync")?.unwrap_or(false);
    let body = read_body(&headers, body).await?;
    let write = Write {
        body: &body,
        precision,
        accept_partial,
        sync: !no_sync,
    };
    let outcome = state.service.write_v3(&p, &db, write).await?;
    if outcome.rejected == 0 {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let data: Vec<serde_json::Value> = outcome
        .errors
        .iter()
        .map(|e| {
            j!({"original_line": line_text(&body, e.line), "line_number": e.line, "error_message": e.to_string()})
        })
        .collect();
    let body = if accept_partial {
        j!({"error": "partial write of line protocol occurred", "data": data})
    } else {
        j!({"error": "line protocol parsing error", "data": data.into_iter().next()})
    };
    Ok(json(StatusCode::BAD_REQUEST, &body))
}
