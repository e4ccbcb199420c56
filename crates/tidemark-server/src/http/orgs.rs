//! `/api/v2/orgs`.

use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use tidemark_catalog::{Org, OrgPatch};

use super::extract::{path_id, Caller, JsonBody, Params};
use super::links::{filters, page_links, Links};
use super::response::{json, rfc3339};
use super::AppState;
use crate::error::Result;
use crate::service::ListOrgs;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrgJson {
    id: String,
    name: String,
    description: String,
    status: &'static str,
    default_storage_type: &'static str,
    created_at: String,
    updated_at: String,
    links: OrgLinks,
}

#[derive(Serialize)]
struct OrgLinks {
    buckets: String,
    dashboards: String,
    labels: String,
    members: String,
    owners: String,
    secrets: String,
    #[serde(rename = "self")]
    this: String,
    tasks: String,
}

fn org_json(o: Org) -> OrgJson {
    let id = o.id.to_string();
    let by_name: String = form_urlencoded::byte_serialize(o.name.as_bytes()).collect();
    OrgJson {
        links: OrgLinks {
            buckets: format!("/api/v2/buckets?org={by_name}"),
            dashboards: format!("/api/v2/dashboards?org={by_name}"),
            labels: format!("/api/v2/orgs/{id}/labels"),
            members: format!("/api/v2/orgs/{id}/members"),
            owners: format!("/api/v2/orgs/{id}/owners"),
            secrets: format!("/api/v2/orgs/{id}/secrets"),
            this: format!("/api/v2/orgs/{id}"),
            tasks: format!("/api/v2/tasks?org={by_name}"),
        },
        id,
        name: o.name,
        description: o.description,
        status: "active",
        default_storage_type: "iox",
        created_at: rfc3339(o.created_at),
        updated_at: rfc3339(o.updated_at),
    }
}

#[derive(Serialize)]
struct OrgList {
    links: Links,
    orgs: Vec<OrgJson>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    params: Params,
) -> Result<Response> {
    let filter = ListOrgs {
        org: params.text("org"),
        org_id: params.id("orgID")?,
        user_id: params.id("userID")?,
    };
    let page = params.page()?;
    let found = state.service.list_orgs(&p, &filter, &page).await?;
    let filters = filters([
        ("org", filter.org.clone()),
        ("orgID", filter.org_id.map(|i| i.to_string())),
        ("userID", filter.user_id.map(|i| i.to_string())),
    ]);
    let body = OrgList {
        links: page_links("/api/v2/orgs", &filters, &page, found.has_more),
        orgs: found.items.into_iter().map(org_json).collect(),
    };
    Ok(json(StatusCode::OK, &body))
}

#[derive(Deserialize)]
pub(super) struct PostOrg {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

pub(super) async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    JsonBody(body): JsonBody<PostOrg>,
) -> Result<Response> {
    let org = state
        .service
        .create_org(&p, &body.name, body.description.as_deref().unwrap_or(""))
        .await?;
    Ok(json(StatusCode::CREATED, &org_json(org)))
}

pub(super) async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response> {
    let org = state.service.get_org(&p, path_id(&id)?).await?;
    Ok(json(StatusCode::OK, &org_json(org)))
}

#[derive(Deserialize)]
pub(super) struct PatchOrg {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

pub(super) async fn update(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchOrg>,
) -> Result<Response> {
    let patch = OrgPatch {
        name: body.name,
        description: body.description,
    };
    let org = state.service.update_org(&p, path_id(&id)?, patch).await?;
    Ok(json(StatusCode::OK, &org_json(org)))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state.service.delete_org(&p, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
