//! Organizations. Listing shows the orgs a token may read; creating, renaming and deleting orgs
//! needs the type-wide `write:orgs` that only the operator token has (beyond Cloud Serverless,
//! which has one org per account).

use tidemark_catalog::{Action, Id, NewOrg, Org, OrgPatch, ResourceType};

use super::{validate, Page, Paged, Service};
use crate::auth::{authorize, may_see_org, Need, Principal};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct ListOrgs {
    pub org: Option<String>,
    pub org_id: Option<Id>,
    pub user_id: Option<Id>,
}

impl Service {
    pub async fn list_orgs(&self, p: &Principal, f: &ListOrgs, page: &Page) -> Result<Paged<Org>> {
        // A filter naming an org that does not exist is a 404, as in InfluxDB.
        let mut orgs = match self.resolve_org(f.org_id, f.org.as_deref()).await? {
            Some(org) => vec![org],
            None => self.catalog.list_orgs().await?,
        };
        orgs.retain(|o| {
            f.org.as_ref().is_none_or(|n| &o.name == n)
                && f.org_id.is_none_or(|id| o.id == id)
                && may_see_org(p, o.id)
        });
        if let Some(user) = f.user_id {
            // Users belong to the orgs their tokens are scoped to.
            let auths = self
                .catalog
                .list_authorizations(&Default::default())
                .await?;
            orgs.retain(|o| auths.iter().any(|a| a.user_id == user && a.org_id == o.id));
        }
        Ok(page.apply(orgs, |o| o.id))
    }

    pub async fn get_org(&self, p: &Principal, id: Id) -> Result<Org> {
        if !may_see_org(p, id) {
            authorize(p, &Need::org(Action::Read, id))?;
        }
        self.org_or_404(id).await
    }

    pub async fn create_org(&self, p: &Principal, name: &str, description: &str) -> Result<Org> {
        authorize(p, &Need::write(ResourceType::Orgs))?;
        validate::org_name(name)?;
        Ok(self
            .catalog
            .create_org(NewOrg {
                name: name.to_owned(),
                description: description.to_owned(),
            })
            .await?)
    }

    pub async fn update_org(&self, p: &Principal, id: Id, patch: OrgPatch) -> Result<Org> {
        authorize(p, &Need::write(ResourceType::Orgs))?;
        if let Some(name) = &patch.name {
            validate::org_name(name)?;
        }
        self.org_or_404(id).await?;
        Ok(self.catalog.update_org(id, patch).await?)
    }

    pub async fn delete_org(&self, p: &Principal, id: Id) -> Result<()> {
        authorize(p, &Need::write(ResourceType::Orgs))?;
        if id == p.org_id {
            // Deleting the org of the token in hand would delete that token mid-request.
            return Err(Error::invalid(
                "cannot delete the organization that owns the token in use",
            ));
        }
        self.org_or_404(id).await?;
        let buckets = self
            .catalog
            .list_buckets(&tidemark_catalog::BucketFilter {
                org_id: Some(id),
                ..Default::default()
            })
            .await?;
        self.catalog.delete_org(id).await?;
        self.auth.forget_all();
        self.forget_bucket_names();
        for b in buckets {
            if let Err(e) = self.engine.drop_bucket(b.id).await {
                tracing::error!(bucket = %b.id, error = %e, "deleting the data of a deleted org's bucket failed");
            }
        }
        Ok(())
    }
}
