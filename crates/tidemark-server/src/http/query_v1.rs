//! v1 `/query` (GET and POST): InfluxQL in, 1.x's results out.
//!
//! The handler reads the parameters, parses the statements (a parse error is the request's
//! 400, as in 1.x) and starts them; the service runs each statement and the `influxql` module
//! writes the answer as JSON, CSV or MessagePack, whole or chunked, gzip-compressed when
//! accepted. A statement's failure is part of the 200 answer, as 1.x and InfluxDB 3 give it.

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use http::header::{HeaderValue, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode};

use super::extract::{Params, V1Caller};
use super::influxql::{self, Encoder, Format, Gzip, Run};
use super::AppState;
use crate::build_info::{INFLUXDB_BUILD, INFLUXDB_VERSION};
use crate::error::Error;
use crate::service::{now_nanos, parse_influxql, InfluxQlDatabase};

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            e.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("gzip")
        })
}

fn response(status: StatusCode, format: Format, gzip: bool, body: Body) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(
        "x-influxdb-version",
        HeaderValue::from_static(INFLUXDB_VERSION),
    );
    headers.insert("x-influxdb-build", HeaderValue::from_static(INFLUXDB_BUILD));
    if gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// A request-level failure: `{"error":"..."}` with the status of the error's code.
fn failure(format: Format, e: &Error) -> Response {
    let mut r = response(
        e.code.http_status(),
        format,
        false,
        Body::from(Encoder::error(format, &e.message)),
    );
    if let Ok(v) = HeaderValue::from_str(&e.message) {
        r.headers_mut().insert("x-influxdb-error", v);
    }
    r
}

/// `/query`.
pub(super) async fn query(
    State(state): State<AppState>,
    V1Caller(principal): V1Caller,
    method: Method,
    url: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let format = Format::from_headers(&headers);
    let request = match influxql::read(url.into_pairs(), &method, &headers, &body) {
        Ok(r) => r,
        Err(e) => return failure(format, &e),
    };
    let statements = match parse_influxql(&request.q, &request.params) {
        Ok(s) => s,
        Err(e) => return failure(format, &e),
    };
    let results = influxql::start(Run {
        service: std::sync::Arc::clone(&state.service),
        principal,
        statements,
        database: InfluxQlDatabase::V1 {
            db: request.db.clone(),
            rp: request.rp.clone(),
        },
        now: now_nanos(),
        chunk_size: request.chunk_size,
    });
    let mut encoder = Encoder::new(format, request.epoch, request.pretty);
    let gzip = accepts_gzip(&headers);
    if request.chunk_size.is_some() {
        let body = influxql::chunked_body(results, encoder, gzip);
        return response(StatusCode::OK, format, gzip, Body::from_stream(body));
    }
    let all: Vec<_> = results.collect().await;
    let bytes = encoder.results(&all);
    let bytes = if gzip { Gzip::whole(&bytes) } else { bytes };
    response(StatusCode::OK, format, gzip, Body::from(bytes))
}
