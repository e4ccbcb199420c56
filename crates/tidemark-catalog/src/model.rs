//! The records the catalog keeps. Times are nanoseconds since the Unix epoch, UTC.

use serde::{Deserialize, Serialize};

use crate::Id;

/// Nanoseconds since the Unix epoch.
pub type Nanos = i64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: Id,
    pub name: String,
    pub description: String,
    pub created_at: Nanos,
    pub updated_at: Nanos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrg {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A user owns authorizations. There is no user management API (Cloud Serverless has none); the
/// first start creates the operator's user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Id,
    pub name: String,
    pub created_at: Nanos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BucketType {
    User,
    System,
}

impl BucketType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "system" => Some(Self::System),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemaType {
    Implicit,
    Explicit,
}

impl SchemaType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Implicit => "implicit",
            Self::Explicit => "explicit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "implicit" => Some(Self::Implicit),
            "explicit" => Some(Self::Explicit),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub id: Id,
    pub org_id: Id,
    pub name: String,
    pub description: String,
    pub bucket_type: BucketType,
    /// Seconds a row is kept; 0 keeps it for ever.
    pub retention_seconds: i64,
    /// Stored only to echo it back; we do not shard by time groups.
    pub shard_group_duration_seconds: Option<i64>,
    pub schema_type: SchemaType,
    pub created_at: Nanos,
    pub updated_at: Nanos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBucket {
    pub org_id: Id,
    pub name: String,
    pub description: String,
    pub bucket_type: BucketType,
    pub retention_seconds: i64,
    pub shard_group_duration_seconds: Option<i64>,
    pub schema_type: SchemaType,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub retention_seconds: Option<i64>,
    /// `Some(None)` clears it.
    pub shard_group_duration_seconds: Option<Option<i64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketFilter {
    pub org_id: Option<Id>,
    pub id: Option<Id>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Read,
    Write,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

/// The resource types of the spec's `Resource.type` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceType {
    Authorizations,
    Buckets,
    Dashboards,
    Orgs,
    Tasks,
    Telegrafs,
    Users,
    Variables,
    Secrets,
    Labels,
    Views,
    Documents,
    NotificationRules,
    NotificationEndpoints,
    Checks,
    Dbrp,
    Annotations,
    Sources,
    Scrapers,
    Notebooks,
    Remotes,
    Replications,
    Instance,
    Flows,
    Functions,
    Subscriptions,
}

impl ResourceType {
    pub const ALL: [ResourceType; 26] = [
        Self::Authorizations,
        Self::Buckets,
        Self::Dashboards,
        Self::Orgs,
        Self::Tasks,
        Self::Telegrafs,
        Self::Users,
        Self::Variables,
        Self::Secrets,
        Self::Labels,
        Self::Views,
        Self::Documents,
        Self::NotificationRules,
        Self::NotificationEndpoints,
        Self::Checks,
        Self::Dbrp,
        Self::Annotations,
        Self::Sources,
        Self::Scrapers,
        Self::Notebooks,
        Self::Remotes,
        Self::Replications,
        Self::Instance,
        Self::Flows,
        Self::Functions,
        Self::Subscriptions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorizations => "authorizations",
            Self::Buckets => "buckets",
            Self::Dashboards => "dashboards",
            Self::Orgs => "orgs",
            Self::Tasks => "tasks",
            Self::Telegrafs => "telegrafs",
            Self::Users => "users",
            Self::Variables => "variables",
            Self::Secrets => "secrets",
            Self::Labels => "labels",
            Self::Views => "views",
            Self::Documents => "documents",
            Self::NotificationRules => "notificationRules",
            Self::NotificationEndpoints => "notificationEndpoints",
            Self::Checks => "checks",
            Self::Dbrp => "dbrp",
            Self::Annotations => "annotations",
            Self::Sources => "sources",
            Self::Scrapers => "scrapers",
            Self::Notebooks => "notebooks",
            Self::Remotes => "remotes",
            Self::Replications => "replications",
            Self::Instance => "instance",
            Self::Flows => "flows",
            Self::Functions => "functions",
            Self::Subscriptions => "subscriptions",
        }
    }
}

/// What a permission applies to. No `org_id` and no `id` means every resource of the type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Id>,
    #[serde(default, rename = "orgID", skip_serializing_if = "Option::is_none")]
    pub org_id: Option<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub action: Action,
    pub resource: Resource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthStatus {
    Active,
    Inactive,
}

impl AuthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

/// An API token's record. The token itself is never stored, only `token_hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub id: Id,
    pub org_id: Id,
    pub user_id: Id,
    /// Lower-case hex SHA-256 of the token.
    pub token_hash: String,
    pub description: String,
    pub status: AuthStatus,
    pub permissions: Vec<Permission>,
    pub created_at: Nanos,
    pub updated_at: Nanos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuthorization {
    pub org_id: Id,
    pub user_id: Id,
    pub token_hash: String,
    pub description: String,
    pub status: AuthStatus,
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationPatch {
    pub description: Option<String>,
    pub status: Option<AuthStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationFilter {
    pub org_id: Option<Id>,
    pub user_id: Option<Id>,
    pub token_hash: Option<String>,
}

/// A mapping from an InfluxDB v1 database and retention policy to a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dbrp {
    pub id: Id,
    pub org_id: Id,
    pub bucket_id: Id,
    pub database: String,
    pub retention_policy: String,
    pub default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDbrp {
    pub org_id: Id,
    pub bucket_id: Id,
    pub database: String,
    pub retention_policy: String,
    pub default: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbrpPatch {
    pub retention_policy: Option<String>,
    pub default: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbrpFilter {
    pub org_id: Option<Id>,
    pub id: Option<Id>,
    pub bucket_id: Option<Id>,
    pub default: Option<bool>,
    pub database: Option<String>,
    pub retention_policy: Option<String>,
}
