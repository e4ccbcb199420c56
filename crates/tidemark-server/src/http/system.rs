//! `/ping`, `/health`, `/metrics`, `/api/v2` and `/api/v2/resources`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::header::{HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use serde::Serialize;
use serde_json::json as j;
use tidemark_catalog::ResourceType;

use super::extract::{Caller, Params};
use super::response::json;
use super::AppState;
use crate::build_info::{COMMIT, INFLUXDB_BUILD, INFLUXDB_VERSION};
use crate::error::{Error, Result};

fn version_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        "x-influxdb-version",
        HeaderValue::from_static(INFLUXDB_VERSION),
    );
    headers.insert("x-influxdb-build", HeaderValue::from_static(INFLUXDB_BUILD));
    response
}

/// 204 with the version headers; `?verbose=true` answers 200 with JSON, as InfluxDB 1.x does.
pub(super) async fn ping(params: Params) -> Response {
    let verbose = params.bool("verbose").ok().flatten().unwrap_or(false);
    let response = if verbose {
        json(
            StatusCode::OK,
            &j!({"version": INFLUXDB_VERSION, "build": INFLUXDB_BUILD, "commit": COMMIT}),
        )
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    version_headers(response)
}

#[derive(Serialize)]
struct Health {
    name: &'static str,
    message: &'static str,
    status: &'static str,
    checks: [(); 0],
    version: &'static str,
    commit: &'static str,
}

pub(super) async fn health() -> Response {
    json(
        StatusCode::OK,
        &Health {
            name: "tidemark",
            message: "ready for queries and writes",
            status: "pass",
            checks: [],
            version: INFLUXDB_VERSION,
            commit: COMMIT,
        },
    )
}

pub(super) async fn metrics(State(state): State<AppState>) -> Result<Response> {
    let text = state
        .metrics
        .encode(crate::metrics::EngineFigures {
            buffered_rows: state.service.engine().buffered_rows(),
            compactions_pending: state.service.engine().pending_compactions(),
            deletes_pending: state.service.engine().pending_deletes(),
            direct_reads: state.service.query_engine().direct_answers(),
            inline_statements: state.service.query_engine().inline_answers(),
        })
        .map_err(|_| Error::internal("encoding metrics"))?;
    Ok((
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

pub(super) async fn routes(Caller(_): Caller) -> Response {
    json(
        StatusCode::OK,
        &j!({
            "authorizations": "/api/v2/authorizations",
            "buckets": "/api/v2/buckets",
            "dashboards": "/api/v2/dashboards",
            "external": {"statusFeed": "https://www.influxdata.com/feed/json"},
            "flags": "/api/v2/flags",
            "me": "/api/v2/me",
            "orgs": "/api/v2/orgs",
            "query": {
                "self": "/api/v2/query",
                "ast": "/api/v2/query/ast",
                "analyze": "/api/v2/query/analyze",
                "suggestions": "/api/v2/query/suggestions"
            },
            "setup": "/api/v2/setup",
            "signin": "/api/v2/signin",
            "signout": "/api/v2/signout",
            "sources": "/api/v2/sources",
            "system": {"metrics": "/metrics", "debug": "/debug/pprof", "health": "/health"},
            "tasks": "/api/v2/tasks",
            "telegrafs": "/api/v2/telegrafs",
            "users": "/api/v2/users",
            "variables": "/api/v2/variables",
            "write": "/api/v2/write"
        }),
    )
}

pub(super) async fn resources(Caller(_): Caller) -> Response {
    let names: Vec<&str> = ResourceType::ALL.iter().map(|t| t.as_str()).collect();
    json(StatusCode::OK, &names)
}
