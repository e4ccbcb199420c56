//! The REST side of the one port. Handlers translate HTTP into calls on the [`Service`] and the
//! results back into InfluxDB's JSON; they decide nothing themselves.

mod authorizations;
mod buckets;
mod dbrps;
mod extract;
mod influxql;
mod links;
mod orgs;
mod query;
mod query_v1;
mod response;
mod system;
mod write;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http::header::HeaderValue;
use tracing::Instrument;

use crate::error::{Error, ErrorCode};
use crate::metrics::Metrics;
use crate::service::Service;

/// Largest management request body (JSON), before InfluxDB's 413.
pub const MAX_MANAGEMENT_BODY: usize = 10 * 1024 * 1024;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub metrics: Arc<Metrics>,
}

/// Every REST route. The table below is the whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/ping", get(system::ping))
        .route("/health", get(system::health))
        .route("/metrics", get(system::metrics))
        .route("/api/v2", get(system::routes))
        .route("/api/v2/resources", get(system::resources))
        .route(
            "/api/v2/write",
            post(write::v2).layer(DefaultBodyLimit::disable()),
        )
        .route("/write", post(write::v1).layer(DefaultBodyLimit::disable()))
        .route(
            "/api/v3/write_lp",
            post(write::v3).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v3/query_sql", get(query::get).post(query::post))
        .route("/query", get(query_v1::query).post(query_v1::query))
        .route("/api/v2/orgs", get(orgs::list).post(orgs::create))
        .route(
            "/api/v2/orgs/{id}",
            get(orgs::get).patch(orgs::update).delete(orgs::delete),
        )
        .route("/api/v2/buckets", get(buckets::list).post(buckets::create))
        .route(
            "/api/v2/buckets/{id}",
            get(buckets::get)
                .patch(buckets::update)
                .delete(buckets::delete),
        )
        .route(
            "/api/v2/authorizations",
            get(authorizations::list).post(authorizations::create),
        )
        .route(
            "/api/v2/authorizations/{id}",
            get(authorizations::get)
                .patch(authorizations::update)
                .delete(authorizations::delete),
        )
        .route("/api/v2/dbrps", get(dbrps::list).post(dbrps::create))
        .route(
            "/api/v2/dbrps/{id}",
            get(dbrps::get).patch(dbrps::update).delete(dbrps::delete),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_MANAGEMENT_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn not_found() -> Error {
    Error::not_found("path not found")
}

async fn method_not_allowed() -> Error {
    Error::new(ErrorCode::MethodNotAllowed, "method not allowed")
}

/// One span, one latency sample and one `X-Request-Id` per request. The span carries no header
/// values, so tokens never reach the logs.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let request_id = uuid::Uuid::now_v7().to_string();
    let span = tracing::info_span!(
        "http",
        %method,
        %route,
        request_id = %request_id,
        status = tracing::field::Empty,
        duration_us = tracing::field::Empty,
    );
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.record("status", status);
    span.record("duration_us", elapsed.as_micros() as u64);
    span.in_scope(|| tracing::debug!("request answered"));
    state
        .metrics
        .record_request(&method, &route, status, elapsed);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response.into_response()
}
