//! `/api/v2/authorizations`.

use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use tidemark_catalog::{
    Action, AuthStatus, AuthorizationPatch, Id, Permission, Resource, ResourceType,
};

use super::extract::{path_id, Caller, JsonBody, Params};
use super::links::{filters, page_links, Links};
use super::response::{json, rfc3339};
use super::AppState;
use crate::error::{Error, Result};
use crate::service::{AuthorizationView, CreateAuthorization, ListAuthorizations};

#[derive(Serialize)]
struct ResourceJson {
    #[serde(rename = "type")]
    resource_type: ResourceType,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(rename = "orgID", skip_serializing_if = "Option::is_none")]
    org_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<String>,
}

#[derive(Serialize)]
struct PermissionJson {
    action: Action,
    resource: ResourceJson,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizationJson {
    id: String,
    token: String,
    status: &'static str,
    description: String,
    #[serde(rename = "orgID")]
    org_id: String,
    org: String,
    #[serde(rename = "userID")]
    user_id: String,
    user: String,
    permissions: Vec<PermissionJson>,
    created_at: String,
    updated_at: String,
    links: AuthLinks,
}

#[derive(Serialize)]
struct AuthLinks {
    #[serde(rename = "self")]
    this: String,
    user: String,
}

fn authorization_json(v: AuthorizationView) -> AuthorizationJson {
    let a = v.authorization;
    let permissions = a
        .permissions
        .into_iter()
        .map(|p| PermissionJson {
            action: p.action,
            resource: ResourceJson {
                resource_type: p.resource.resource_type,
                id: p.resource.id.map(|i| i.to_string()),
                org: p.resource.org_id.and_then(|o| v.org_names.get(&o).cloned()),
                org_id: p.resource.org_id.map(|i| i.to_string()),
            },
        })
        .collect();
    AuthorizationJson {
        links: AuthLinks {
            this: format!("/api/v2/authorizations/{}", a.id),
            user: format!("/api/v2/users/{}", a.user_id),
        },
        id: a.id.to_string(),
        // Cloud Serverless never shows a token again after creating it.
        token: v.token.unwrap_or_else(|| "redacted".to_owned()),
        status: a.status.as_str(),
        description: a.description,
        org_id: a.org_id.to_string(),
        org: v.org_name,
        user_id: a.user_id.to_string(),
        user: v.user_name,
        permissions,
        created_at: rfc3339(a.created_at),
        updated_at: rfc3339(a.updated_at),
    }
}

#[derive(Serialize)]
struct AuthorizationList {
    links: Links,
    authorizations: Vec<AuthorizationJson>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    params: Params,
) -> Result<Response> {
    let filter = ListAuthorizations {
        user_id: params.id("userID")?,
        user: params.text("user"),
        org_id: params.id("orgID")?,
        org: params.text("org"),
        token: params.text("token"),
    };
    let page = params.page()?;
    let found = state
        .service
        .list_authorizations(&p, &filter, &page)
        .await?;
    let filters = filters([
        ("org", filter.org.clone()),
        ("orgID", filter.org_id.map(|i| i.to_string())),
        ("user", filter.user.clone()),
        ("userID", filter.user_id.map(|i| i.to_string())),
    ]);
    let body = AuthorizationList {
        links: page_links("/api/v2/authorizations", &filters, &page, found.has_more),
        authorizations: found.items.into_iter().map(authorization_json).collect(),
    };
    Ok(json(StatusCode::OK, &body))
}

#[derive(Deserialize)]
pub(super) struct ResourceIn {
    #[serde(rename = "type")]
    resource_type: ResourceType,
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "orgID")]
    org_id: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct PermissionIn {
    action: Action,
    resource: ResourceIn,
}

fn optional_id(raw: Option<String>) -> Result<Option<Id>> {
    match raw.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => Ok(Some(s.parse()?)),
    }
}

fn status(raw: Option<String>) -> Result<Option<AuthStatus>> {
    raw.map(|s| {
        AuthStatus::parse(&s)
            .ok_or_else(|| Error::invalid("status must be \"active\" or \"inactive\""))
    })
    .transpose()
}

#[derive(Deserialize)]
pub(super) struct PostAuthorization {
    #[serde(rename = "orgID")]
    org_id: String,
    permissions: Vec<PermissionIn>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default, rename = "userID")]
    user_id: Option<String>,
}

pub(super) async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    JsonBody(body): JsonBody<PostAuthorization>,
) -> Result<Response> {
    let mut permissions = Vec::with_capacity(body.permissions.len());
    for perm in body.permissions {
        permissions.push(Permission {
            action: perm.action,
            resource: Resource {
                resource_type: perm.resource.resource_type,
                id: optional_id(perm.resource.id)?,
                org_id: optional_id(perm.resource.org_id)?,
            },
        });
    }
    let req = CreateAuthorization {
        org_id: body.org_id.parse()?,
        user_id: optional_id(body.user_id)?,
        description: body.description.unwrap_or_default(),
        status: status(body.status)?.unwrap_or(AuthStatus::Active),
        permissions,
    };
    let view = state.service.create_authorization(&p, req).await?;
    Ok(json(StatusCode::CREATED, &authorization_json(view)))
}

pub(super) async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response> {
    let view = state.service.get_authorization(&p, path_id(&id)?).await?;
    Ok(json(StatusCode::OK, &authorization_json(view)))
}

#[derive(Deserialize)]
pub(super) struct PatchAuthorization {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

pub(super) async fn update(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchAuthorization>,
) -> Result<Response> {
    let patch = AuthorizationPatch {
        description: body.description,
        status: status(body.status)?,
    };
    let view = state
        .service
        .update_authorization(&p, path_id(&id)?, patch)
        .await?;
    Ok(json(StatusCode::OK, &authorization_json(view)))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state
        .service
        .delete_authorization(&p, path_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
