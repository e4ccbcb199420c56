//! Buckets: a bucket is a database; each org also has the system buckets `_monitoring` and `_tasks`.

use tidemark_catalog::{
    Action, Bucket, BucketFilter, BucketPatch, BucketType, Id, NewBucket, ResourceType, SchemaType,
};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use super::{validate, Page, Paged, Service};
use crate::auth::{allows, authorize, Need, Principal};
use crate::error::{Error, Result};

/// Retention when a request gives none: 30 days, as InfluxDB Cloud.
pub(crate) const DEFAULT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

/// A retention rule as clients send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRule {
    pub rule_type: Option<String>,
    pub every_seconds: i64,
    pub shard_group_duration_seconds: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct CreateBucket {
    pub org_id: Id,
    pub name: String,
    pub description: String,
    pub retention_rules: Vec<RetentionRule>,
    pub schema_type: Option<SchemaType>,
}

#[derive(Debug, Clone, Default)]
pub struct UpdateBucket {
    pub name: Option<String>,
    pub description: Option<String>,
    pub retention_rules: Option<Vec<RetentionRule>>,
    pub schema_type: Option<SchemaType>,
}

#[derive(Debug, Clone, Default)]
pub struct ListBuckets {
    pub org: Option<String>,
    pub org_id: Option<Id>,
    pub name: Option<String>,
    pub id: Option<Id>,
}

/// How long a bucket found by name is trusted without asking the catalog. Changes made through
/// this node clear the cache at once; the TTL bounds how long a rename or delete made by another
/// node sharing the PostgreSQL catalog can go unseen.
const NAME_CACHE_TTL: Duration = Duration::from_secs(5);

/// Buckets by a name (`(org, bucket name)`, or a v1 `(org, db, rp)`), for the lookups every
/// write and query makes.
#[derive(Debug)]
pub(super) struct BucketNames<K = (Id, String)> {
    map: RwLock<HashMap<K, (Bucket, Instant)>>,
    /// Bumped by every invalidation, so a lookup that raced with one does not cache what it read.
    generation: AtomicU64,
}

impl<K> Default for BucketNames<K> {
    fn default() -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }
}

impl<K: std::hash::Hash + Eq> BucketNames<K> {
    pub(super) fn get(&self, key: &K) -> Option<Bucket> {
        let map = self.map.read().ok()?;
        let (bucket, loaded) = map.get(key)?;
        (loaded.elapsed() < NAME_CACHE_TTL).then(|| bucket.clone())
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches what a lookup that started at `generation` found, unless the cache was cleared since.
    pub(super) fn insert(&self, generation: u64, key: K, bucket: Bucket) {
        if let Ok(mut map) = self.map.write() {
            if self.generation() == generation {
                map.insert(key, (bucket, Instant::now()));
            }
        }
    }

    pub(super) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut map) = self.map.write() {
            map.clear();
        }
    }
}

/// `(every_seconds, shard_group_duration_seconds)` of at most one rule.
fn retention(rules: &[RetentionRule]) -> Result<Option<(i64, Option<i64>)>> {
    match rules {
        [] => Ok(None),
        [rule] => {
            if rule.rule_type.as_deref().is_some_and(|t| t != "expire") {
                return Err(Error::invalid("retention rule type must be \"expire\""));
            }
            if rule.every_seconds < 0 {
                return Err(Error::invalid(
                    "expiration seconds must be greater than or equal to zero",
                ));
            }
            if rule.shard_group_duration_seconds.is_some_and(|s| s < 0) {
                return Err(Error::invalid(
                    "shard group duration seconds must be greater than or equal to zero",
                ));
            }
            Ok(Some((
                rule.every_seconds,
                rule.shard_group_duration_seconds,
            )))
        }
        _ => Err(Error::invalid(
            "buckets cannot have more than one retention rule at this time",
        )),
    }
}

fn read_need(b: &Bucket) -> Need {
    Need::read(ResourceType::Buckets).in_org(b.org_id).on(b.id)
}

fn write_need(b: &Bucket) -> Need {
    Need::write(ResourceType::Buckets).in_org(b.org_id).on(b.id)
}

/// System buckets are also readable with `read:orgs` on their org (the spec's permission table).
fn may_read(p: &Principal, b: &Bucket) -> bool {
    allows(p, &read_need(b))
        || (b.bucket_type == BucketType::System && allows(p, &Need::org(Action::Read, b.org_id)))
}

impl Service {
    pub async fn create_bucket(&self, p: &Principal, req: CreateBucket) -> Result<Bucket> {
        self.org_or_404(req.org_id).await?;
        authorize(p, &Need::write(ResourceType::Buckets).in_org(req.org_id))?;
        validate::bucket_name(&req.name)?;
        let (retention_seconds, shard_group_duration_seconds) =
            retention(&req.retention_rules)?.unwrap_or((DEFAULT_RETENTION_SECONDS, None));
        let bucket = self
            .catalog
            .create_bucket(NewBucket {
                org_id: req.org_id,
                name: req.name,
                description: req.description,
                bucket_type: BucketType::User,
                retention_seconds,
                shard_group_duration_seconds,
                schema_type: req.schema_type.unwrap_or(SchemaType::Implicit),
            })
            .await?;
        self.engine
            .set_retention(bucket.id, bucket.retention_seconds);
        Ok(bucket)
    }

    pub async fn list_buckets(
        &self,
        p: &Principal,
        f: &ListBuckets,
        page: &Page,
    ) -> Result<Paged<Bucket>> {
        let org = self.resolve_org(f.org_id, f.org.as_deref()).await?;
        let org_id = org.map(|o| o.id);
        let mut buckets = match (org_id, &f.name) {
            (Some(org_id), Some(name)) if f.id.is_none() => self
                .bucket_by_name(org_id, name)
                .await?
                .into_iter()
                .collect(),
            _ => {
                let filter = BucketFilter {
                    org_id,
                    id: f.id,
                    name: f.name.clone(),
                };
                self.catalog.list_buckets(&filter).await?
            }
        };
        buckets.retain(|b| may_read(p, b));
        Ok(page.apply(buckets, |b| b.id))
    }

    /// The bucket of an org by name, through the name cache.
    pub async fn bucket_by_name(&self, org_id: Id, name: &str) -> Result<Option<Bucket>> {
        let key = (org_id, name.to_owned());
        if let Some(b) = self.buckets_by_name.get(&key) {
            return Ok(Some(b));
        }
        let generation = self.buckets_by_name.generation();
        let filter = BucketFilter {
            org_id: Some(org_id),
            id: None,
            name: Some(name.to_owned()),
        };
        let found = self.catalog.list_buckets(&filter).await?.into_iter().next();
        if let Some(b) = &found {
            self.buckets_by_name.insert(generation, key, b.clone());
        }
        Ok(found)
    }

    async fn bucket_or_404(&self, id: Id) -> Result<Bucket> {
        self.catalog
            .get_bucket(id)
            .await?
            .ok_or_else(|| Error::not_found("bucket not found"))
    }

    pub async fn get_bucket(&self, p: &Principal, id: Id) -> Result<Bucket> {
        let b = self.bucket_or_404(id).await?;
        if !may_read(p, &b) {
            authorize(p, &read_need(&b))?;
        }
        Ok(b)
    }

    pub async fn update_bucket(&self, p: &Principal, id: Id, req: UpdateBucket) -> Result<Bucket> {
        let b = self.bucket_or_404(id).await?;
        authorize(p, &write_need(&b))?;
        if req.schema_type.is_some_and(|s| s != b.schema_type) {
            return Err(Error::invalid("schemaType of a bucket cannot be changed"));
        }
        if let Some(name) = &req.name {
            if b.bucket_type == BucketType::System && name != &b.name {
                return Err(Error::invalid("system buckets cannot be renamed"));
            }
            validate::bucket_name(name)?;
        }
        let mut patch = BucketPatch {
            name: req.name,
            description: req.description,
            ..Default::default()
        };
        if let Some(rules) = &req.retention_rules {
            // An empty list means "no change", as the spec's PatchRetentionRules says.
            if let Some((every, shard)) = retention(rules)? {
                patch.retention_seconds = Some(every);
                patch.shard_group_duration_seconds = Some(shard);
            }
        }
        let updated = self.catalog.update_bucket(id, patch).await?;
        self.engine
            .set_retention(updated.id, updated.retention_seconds);
        self.forget_bucket_names();
        Ok(updated)
    }

    pub async fn delete_bucket(&self, p: &Principal, id: Id) -> Result<()> {
        let b = self.bucket_or_404(id).await?;
        authorize(p, &write_need(&b))?;
        if b.bucket_type == BucketType::System {
            return Err(Error::invalid("system buckets cannot be deleted"));
        }
        self.catalog.delete_bucket(id).await?;
        self.forget_bucket_names();
        self.engine.drop_bucket(id).await.map_err(|e| {
            tracing::error!(bucket = %id, error = %e, "deleting the bucket's data failed");
            Error::internal("the bucket is deleted but some of its files could not be removed")
        })
    }
}
