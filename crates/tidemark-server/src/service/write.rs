//! Writes: v2 `/api/v2/write`, v1 `/write` and InfluxDB 3 Core's `/api/v3/write_lp` all become
//! one engine write here, after the bucket is resolved and the permission checked.

use tidemark_catalog::{Bucket, BucketType, Id, NewBucket, NewDbrp, ResourceType, SchemaType};
use tidemark_lp::Precision;
use tidemark_storage::{WriteOutcome, WriteRequest};

use super::Service;
use crate::auth::{authorize, Need, Principal};
use crate::error::{Error, ErrorCode, Result};

/// Retention of a bucket that a v1 write creates (Cloud Serverless's documented default).
const V1_AUTO_BUCKET_RETENTION_SECONDS: i64 = 3 * 24 * 3600;

/// A write, whatever API it came through.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    pub body: &'a [u8],
    pub precision: Option<Precision>,
    pub accept_partial: bool,
    pub sync: bool,
}

fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn storage_error(e: tidemark_storage::Error) -> Error {
    if e.is_unavailable() {
        tracing::error!(error = %e, "write failed");
        Error::new(
            ErrorCode::Unavailable,
            "write could not be made durable; try again later",
        )
    } else {
        tracing::error!(error = %e, "write failed");
        Error::internal("internal error")
    }
}

impl Service {
    /// Creates the bucket a write names (the caller checked the permission), or finds the one a
    /// concurrent request created first.
    async fn create_bucket_on_write(
        &self,
        org_id: Id,
        name: &str,
        description: String,
        retention_seconds: i64,
    ) -> Result<Bucket> {
        let created = self
            .catalog
            .create_bucket(NewBucket {
                org_id,
                name: name.to_owned(),
                description,
                bucket_type: BucketType::User,
                retention_seconds,
                shard_group_duration_seconds: None,
                schema_type: SchemaType::Implicit,
            })
            .await;
        match created {
            Ok(b) => {
                self.engine.set_retention(b.id, b.retention_seconds);
                Ok(b)
            }
            Err(tidemark_catalog::Error::Conflict(_)) => self
                .bucket_by_name(org_id, name)
                .await?
                .ok_or_else(|| Error::internal("bucket vanished while being created")),
            Err(e) => Err(e.into()),
        }
    }

    async fn write_bucket(
        &self,
        p: &Principal,
        bucket: &Bucket,
        w: Write<'_>,
    ) -> Result<WriteOutcome> {
        authorize(
            p,
            &Need::write(ResourceType::Buckets)
                .in_org(bucket.org_id)
                .on(bucket.id),
        )?;
        self.engine
            .write(WriteRequest {
                bucket,
                body: w.body,
                precision: w.precision,
                now: now_nanos(),
                accept_partial: w.accept_partial,
                sync: w.sync,
            })
            .await
            .map_err(storage_error)
    }

    /// `/api/v2/write`: `bucket` is a name or an ID; the org defaults to the token's.
    pub async fn write_v2(
        &self,
        p: &Principal,
        org_id: Option<Id>,
        org: Option<&str>,
        bucket: &str,
        w: Write<'_>,
    ) -> Result<WriteOutcome> {
        let org_id = match self.resolve_org(org_id, org).await? {
            Some(o) => o.id,
            None => p.org_id,
        };
        let not_found = || Error::not_found(format!("bucket \"{bucket}\" not found"));
        let by_id = match bucket.parse::<Id>() {
            Ok(id) => self
                .catalog
                .get_bucket(id)
                .await?
                .filter(|b| b.org_id == org_id),
            Err(_) => None,
        };
        let found = match by_id {
            Some(b) => b,
            None => self
                .bucket_by_name(org_id, bucket)
                .await?
                .ok_or_else(not_found)?,
        };
        self.write_bucket(p, &found, w).await
    }

    /// v1 `/write`: `db` and `rp` resolve through the org's DBRP mappings. When none matches,
    /// the bucket `db/rp` (`db` for no rp or `autogen`) and its mapping are created, as Cloud
    /// Serverless does, if the token may create them.
    pub async fn write_v1(
        &self,
        p: &Principal,
        db: &str,
        rp: Option<&str>,
        w: Write<'_>,
    ) -> Result<WriteOutcome> {
        let bucket = self
            .resolve_v1(p, db, rp, Some(V1_AUTO_BUCKET_RETENTION_SECONDS))
            .await?;
        self.write_bucket(p, &bucket, w).await
    }

    /// The bucket a v1 database and retention policy name. When none is mapped and `create`
    /// gives a retention (seconds, 0 for ever), the bucket and its mapping are created.
    pub async fn resolve_v1(
        &self,
        p: &Principal,
        db: &str,
        rp: Option<&str>,
        create: Option<i64>,
    ) -> Result<Bucket> {
        if db.is_empty() {
            return Err(Error::invalid("missing required parameter \"db\""));
        }
        let org_id = p.org_id;
        let filter = tidemark_catalog::DbrpFilter {
            org_id: Some(org_id),
            database: Some(db.to_owned()),
            retention_policy: rp.map(str::to_owned),
            default: rp.is_none().then_some(true),
            ..Default::default()
        };
        if let Some(mapping) = self.catalog.list_dbrps(&filter).await?.into_iter().next() {
            return self
                .catalog
                .get_bucket(mapping.bucket_id)
                .await?
                .ok_or_else(|| Error::not_found(format!("database not found: \"{db}\"")));
        }
        let Some(retention_seconds) = create else {
            return Err(Error::not_found(format!("database not found: \"{db}\"")));
        };
        let rp_name = rp.unwrap_or("autogen");
        let bucket_name = if rp_name == "autogen" {
            db.to_owned()
        } else {
            format!("{db}/{rp_name}")
        };
        authorize(p, &Need::write(ResourceType::Dbrp).in_org(org_id))?;
        let bucket = match self.bucket_by_name(org_id, &bucket_name).await? {
            Some(b) => b,
            None => {
                authorize(p, &Need::write(ResourceType::Buckets).in_org(org_id))?;
                super::validate::dbrp_name(db, "database")?;
                super::validate::dbrp_name(rp_name, "retention_policy")?;
                let description = format!("created by a v1 write to {db}/{rp_name}");
                self.create_bucket_on_write(org_id, &bucket_name, description, retention_seconds)
                    .await?
            }
        };
        let mapping = self
            .catalog
            .create_dbrp(NewDbrp {
                org_id,
                bucket_id: bucket.id,
                database: db.to_owned(),
                retention_policy: rp_name.to_owned(),
                default: rp.is_none() || rp_name == "autogen",
            })
            .await;
        self.forget_bucket_names();
        match mapping {
            Ok(_) | Err(tidemark_catalog::Error::Conflict(_)) => Ok(bucket),
            Err(e) => Err(e.into()),
        }
    }

    /// `/api/v3/write_lp`: `db` is a bucket name in the token's org; like InfluxDB 3 Core, a
    /// write to a database that does not exist creates it.
    pub async fn write_v3(&self, p: &Principal, db: &str, w: Write<'_>) -> Result<WriteOutcome> {
        let org_id = p.org_id;
        let bucket = match self.bucket_by_name(org_id, db).await? {
            Some(b) => b,
            None => {
                authorize(p, &Need::write(ResourceType::Buckets).in_org(org_id))?;
                super::validate::bucket_name(db)?;
                self.create_bucket_on_write(org_id, db, String::new(), 0)
                    .await?
            }
        };
        self.write_bucket(p, &bucket, w).await
    }
}
