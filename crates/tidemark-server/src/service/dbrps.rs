//! DBRP mappings: InfluxDB v1 database + retention policy → bucket.

use tidemark_catalog::{Dbrp, DbrpFilter, DbrpPatch, Id, NewDbrp, ResourceType};

use super::{validate, Service};
use crate::auth::{allows, authorize, Need, Principal};
use crate::error::{Error, Result};

/// The org a DBRP request names (`orgID` or `org`); the token's own org when it names none.
#[derive(Debug, Clone, Default)]
pub struct OrgRef {
    pub org_id: Option<Id>,
    pub org: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CreateDbrp {
    pub org: OrgRef,
    pub bucket_id: Id,
    pub database: String,
    pub retention_policy: String,
    pub default: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ListDbrps {
    pub org: OrgRef,
    pub id: Option<Id>,
    pub bucket_id: Option<Id>,
    pub default: Option<bool>,
    pub database: Option<String>,
    pub retention_policy: Option<String>,
}

impl Service {
    async fn dbrp_org(&self, p: &Principal, org: &OrgRef) -> Result<Id> {
        Ok(self
            .resolve_org(org.org_id, org.org.as_deref())
            .await?
            .map_or(p.org_id, |o| o.id))
    }

    pub async fn create_dbrp(&self, p: &Principal, req: CreateDbrp) -> Result<Dbrp> {
        let org_id = self.dbrp_org(p, &req.org).await?;
        authorize(p, &Need::write(ResourceType::Dbrp).in_org(org_id))?;
        validate::dbrp_name(&req.database, "database")?;
        validate::dbrp_name(&req.retention_policy, "retention_policy")?;
        let dbrp = self
            .catalog
            .create_dbrp(NewDbrp {
                org_id,
                bucket_id: req.bucket_id,
                database: req.database,
                retention_policy: req.retention_policy,
                default: req.default,
            })
            .await?;
        // A new default mapping takes over from the old one.
        self.forget_bucket_names();
        Ok(dbrp)
    }

    pub async fn list_dbrps(&self, p: &Principal, f: &ListDbrps) -> Result<Vec<Dbrp>> {
        let org_id = self.dbrp_org(p, &f.org).await?;
        let filter = DbrpFilter {
            org_id: Some(org_id),
            id: f.id,
            bucket_id: f.bucket_id,
            default: f.default,
            database: f.database.clone(),
            retention_policy: f.retention_policy.clone(),
        };
        let mut dbrps = self.catalog.list_dbrps(&filter).await?;
        dbrps.retain(|d| allows(p, &Need::read(ResourceType::Dbrp).in_org(d.org_id).on(d.id)));
        Ok(dbrps)
    }

    /// The mapping, if it exists in the named org.
    async fn dbrp_in_org(&self, p: &Principal, org: &OrgRef, id: Id) -> Result<Dbrp> {
        let org_id = self.dbrp_org(p, org).await?;
        self.catalog
            .get_dbrp(id)
            .await?
            .filter(|d| d.org_id == org_id)
            .ok_or_else(|| Error::not_found("dbrp not found"))
    }

    pub async fn get_dbrp(&self, p: &Principal, org: &OrgRef, id: Id) -> Result<Dbrp> {
        let d = self.dbrp_in_org(p, org, id).await?;
        authorize(p, &Need::read(ResourceType::Dbrp).in_org(d.org_id).on(d.id))?;
        Ok(d)
    }

    pub async fn update_dbrp(
        &self,
        p: &Principal,
        org: &OrgRef,
        id: Id,
        patch: DbrpPatch,
    ) -> Result<Dbrp> {
        let d = self.dbrp_in_org(p, org, id).await?;
        authorize(
            p,
            &Need::write(ResourceType::Dbrp).in_org(d.org_id).on(d.id),
        )?;
        if let Some(rp) = &patch.retention_policy {
            validate::dbrp_name(rp, "retention_policy")?;
        }
        let dbrp = self.catalog.update_dbrp(id, patch).await?;
        self.forget_bucket_names();
        Ok(dbrp)
    }

    pub async fn delete_dbrp(&self, p: &Principal, org: &OrgRef, id: Id) -> Result<()> {
        let d = self.dbrp_in_org(p, org, id).await?;
        authorize(
            p,
            &Need::write(ResourceType::Dbrp).in_org(d.org_id).on(d.id),
        )?;
        self.catalog.delete_dbrp(id).await?;
        self.forget_bucket_names();
        Ok(())
    }
}
