//! `/api/v2/dbrps`: lists and single mappings wrapped in `content`, creation answered bare.

use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use tidemark_catalog::{Dbrp, DbrpPatch};

use super::extract::{path_id, Caller, JsonBody, Params};
use super::response::json;
use super::AppState;
use crate::error::Result;
use crate::service::{CreateDbrp, ListDbrps, OrgRef};

#[derive(Serialize)]
struct DbrpJson {
    id: String,
    database: String,
    retention_policy: String,
    default: bool,
    #[serde(rename = "virtual")]
    is_virtual: bool,
    #[serde(rename = "orgID")]
    org_id: String,
    #[serde(rename = "bucketID")]
    bucket_id: String,
}

fn dbrp_json(d: Dbrp) -> DbrpJson {
    DbrpJson {
        id: d.id.to_string(),
        database: d.database,
        retention_policy: d.retention_policy,
        default: d.default,
        is_virtual: false,
        org_id: d.org_id.to_string(),
        bucket_id: d.bucket_id.to_string(),
    }
}

#[derive(Serialize)]
struct Content<T> {
    content: T,
}

fn org_ref(params: &Params) -> Result<OrgRef> {
    Ok(OrgRef {
        org_id: params.id("orgID")?,
        org: params.text("org"),
    })
}

pub(super) async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    params: Params,
) -> Result<Response> {
    let filter = ListDbrps {
        org: org_ref(&params)?,
        id: params.id("id")?,
        bucket_id: params.id("bucketID")?,
        default: params.bool("default")?,
        database: params.text("db"),
        retention_policy: params.text("rp"),
    };
    let found = state.service.list_dbrps(&p, &filter).await?;
    let content: Vec<DbrpJson> = found.into_iter().map(dbrp_json).collect();
    Ok(json(StatusCode::OK, &Content { content }))
}

#[derive(Deserialize)]
pub(super) struct PostDbrp {
    #[serde(rename = "bucketID")]
    bucket_id: String,
    database: String,
    retention_policy: String,
    #[serde(default)]
    default: bool,
    #[serde(default, rename = "orgID")]
    org_id: Option<String>,
    #[serde(default)]
    org: Option<String>,
}

pub(super) async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    JsonBody(body): JsonBody<PostDbrp>,
) -> Result<Response> {
    let org_id = match body.org_id.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(raw.parse()?),
    };
    let req = CreateDbrp {
        org: OrgRef {
            org_id,
            org: body.org.filter(|o| !o.is_empty()),
        },
        bucket_id: body.bucket_id.parse()?,
        database: body.database,
        retention_policy: body.retention_policy,
        default: body.default,
    };
    let dbrp = state.service.create_dbrp(&p, req).await?;
    Ok(json(StatusCode::CREATED, &dbrp_json(dbrp)))
}

pub(super) async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response> {
    let dbrp = state
        .service
        .get_dbrp(&p, &org_ref(&params)?, path_id(&id)?)
        .await?;
    Ok(json(
        StatusCode::OK,
        &Content {
            content: dbrp_json(dbrp),
        },
    ))
}

#[derive(Deserialize)]
pub(super) struct PatchDbrp {
    #[serde(default)]
    default: Option<bool>,
    #[serde(default)]
    retention_policy: Option<String>,
}

pub(super) async fn update(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    params: Params,
    JsonBody(body): JsonBody<PatchDbrp>,
) -> Result<Response> {
    let patch = DbrpPatch {
        retention_policy: body.retention_policy,
        default: body.default,
    };
    let dbrp = state
        .service
        .update_dbrp(&p, &org_ref(&params)?, path_id(&id)?, patch)
        .await?;
    Ok(json(
        StatusCode::OK,
        &Content {
            content: dbrp_json(dbrp),
        },
    ))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    params: Params,
) -> Result<StatusCode> {
    state
        .service
        .delete_dbrp(&p, &org_ref(&params)?, path_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
