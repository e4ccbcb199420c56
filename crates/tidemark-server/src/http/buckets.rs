//! `/api/v2/buckets`.

use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use tidemark_catalog::{Bucket, Id, SchemaType};

use super::extract::{path_id, Caller, JsonBody, Params};
use super::links::{filters, page_links, Links};
use super::response::{json, rfc3339};
use super::AppState;
use crate::error::{Error, Result};
use crate::service::{CreateBucket, ListBuckets, RetentionRule, UpdateBucket};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RuleJson {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    rule_type: Option<String>,
    every_seconds: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shard_group_duration_seconds: Option<i64>,
}

impl From<RuleJson> for RetentionRule {
    fn from(r: RuleJson) -> Self {
        Self {
            rule_type: r.rule_type,
            every_seconds: r.every_seconds,
            shard_group_duration_seconds: r.shard_group_duration_seconds,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BucketJson {
    id: String,
    #[serde(rename = "orgID")]
    org_id: String,
    #[serde(rename = "type")]
    bucket_type: &'static str,
    name: String,
    description: String,
    retention_rules: Vec<RuleJson>,
    schema_type: &'static str,
    labels: [(); 0],
    created_at: String,
    updated_at: String,
    links: BucketLinks,
}

#[derive(Serialize)]
struct BucketLinks {
    labels: String,
    members: String,
    org: String,
    owners: String,
    #[serde(rename = "self")]
    this: String,
    write: String,
}

fn bucket_json(b: Bucket) -> BucketJson {
    let id = b.id.to_string();
    let org_id = b.org_id.to_string();
    // Infinite retention has no expire rule, as InfluxDB 2 renders it.
    let retention_rules = if b.retention_seconds > 0 {
        vec![RuleJson {
            rule_type: Some("expire".to_owned()),
            every_seconds: b.retention_seconds,
            shard_group_duration_seconds: b.shard_group_duration_seconds,
        }]
    } else {
        vec![]
    };
    BucketJson {
        links: BucketLinks {
            labels: format!("/api/v2/buckets/{id}/labels"),
            members: format!("/api/v2/buckets/{id}/members"),
            org: format!("/api/v2/orgs/{org_id}"),
            owners: format!("/api/v2/buckets/{id}/owners"),
            this: format!("/api/v2/buckets/{id}"),
            write: format!("/api/v2/write?org={org_id}&bucket={id}"),
        },
        id,
        org_id,
        bucket_type: b.bucket_type.as_str(),
        name: b.name,
        description: b.description,
        retention_rules,
        schema_type: b.schema_type.as_str(),
        labels: [],
        created_at: rfc3339(b.created_at),
        updated_at: rfc3339(b.updated_at),
    }
}

fn schema_type(raw: Option<String>) -> Result<Option<SchemaType>> {
    raw.map(|s| {
        SchemaType::parse(&s)
            .ok_or_else(|| Error::invalid("schemaType must be \"implicit\" or \"explicit\""))
    })
    .transpose()
}

#[derive(Serialize)]
struct BucketList {
    links: Links,
    buckets: Vec<BucketJson>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    params: Params,
) -> Result<Response> {
    let filter = ListBuckets {
        org: params.text("org"),
        org_id: params.id("orgID")?,
        name: params.text("name"),
        id: params.id("id")?,
    };
    let page = params.page()?;
    let found = state.service.list_buckets(&p, &filter, &page).await?;
    let filters = filters([
        ("id", filter.id.map(|i| i.to_string())),
        ("name", filter.name.clone()),
        ("org", filter.org.clone()),
        ("orgID", filter.org_id.map(|i| i.to_string())),
    ]);
    let body = BucketList {
        links: page_links("/api/v2/buckets", &filters, &page, found.has_more),
        buckets: found.items.into_iter().map(bucket_json).collect(),
    };
    Ok(json(StatusCode::OK, &body))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PostBucket {
    #[serde(rename = "orgID")]
    org_id: Option<String>,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    retention_rules: Option<Vec<RuleJson>>,
    #[serde(default)]
    schema_type: Option<String>,
}

pub(super) async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    JsonBody(body): JsonBody<PostBucket>,
) -> Result<Response> {
    let org_id: Id = match body.org_id.as_deref() {
        Some(raw) if !raw.is_empty() => raw.parse()?,
        _ => return Err(Error::invalid("orgID is required")),
    };
    let req = CreateBucket {
        org_id,
        name: body.name,
        description: body.description.unwrap_or_default(),
        retention_rules: body
            .retention_rules
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect(),
        schema_type: schema_type(body.schema_type)?,
    };
    let bucket = state.service.create_bucket(&p, req).await?;
    Ok(json(StatusCode::CREATED, &bucket_json(bucket)))
}

pub(super) async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Response> {
    let bucket = state.service.get_bucket(&p, path_id(&id)?).await?;
    Ok(json(StatusCode::OK, &bucket_json(bucket)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PatchBucket {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    retention_rules: Option<Vec<RuleJson>>,
    #[serde(default)]
    schema_type: Option<String>,
}

pub(super) async fn update(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchBucket>,
) -> Result<Response> {
    let req = UpdateBucket {
        name: body.name,
        description: body.description,
        retention_rules: body
            .retention_rules
            .map(|rules| rules.into_iter().map(Into::into).collect()),
        schema_type: schema_type(body.schema_type)?,
    };
    let bucket = state.service.update_bucket(&p, path_id(&id)?, req).await?;
    Ok(json(StatusCode::OK, &bucket_json(bucket)))
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state.service.delete_bucket(&p, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
