//! Authorizations (API tokens). A token is shown once, at creation; afterwards only its record.

use std::collections::HashMap;

use tidemark_catalog::{
    AuthStatus, Authorization, AuthorizationFilter, AuthorizationPatch, Id, NewAuthorization,
    Permission, ResourceType,
};

use super::{Page, Paged, Service};
use crate::auth::{allows, authorize, token, Need, Principal};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct CreateAuthorization {
    pub org_id: Id,
    pub user_id: Option<Id>,
    pub description: String,
    pub status: AuthStatus,
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, Default)]
pub struct ListAuthorizations {
    pub user_id: Option<Id>,
    pub user: Option<String>,
    pub org_id: Option<Id>,
    pub org: Option<String>,
    pub token: Option<String>,
}

/// An authorization with the names its JSON shows.
#[derive(Debug, Clone)]
pub struct AuthorizationView {
    pub authorization: Authorization,
    pub org_name: String,
    pub user_name: String,
    /// Org names by id, for the permissions' `resource.org`.
    pub org_names: HashMap<Id, String>,
    /// The token, only in the answer to its creation.
    pub token: Option<String>,
}

fn read_need(a: &Authorization) -> Need {
    Need::read(ResourceType::Authorizations)
        .in_org(a.org_id)
        .on(a.id)
}

fn write_need(a: &Authorization) -> Need {
    Need::write(ResourceType::Authorizations)
        .in_org(a.org_id)
        .on(a.id)
}

impl Service {
    pub async fn create_authorization(
        &self,
        p: &Principal,
        req: CreateAuthorization,
    ) -> Result<AuthorizationView> {
        self.org_or_404(req.org_id).await?;
        authorize(
            p,
            &Need::write(ResourceType::Authorizations).in_org(req.org_id),
        )?;
        if req.permissions.is_empty() {
            return Err(Error::invalid(
                "authorization must have at least one permission",
            ));
        }
        // A token can only hand out what it holds itself, or any token that may create tokens
        // could mint an operator token.
        for perm in &req.permissions {
            let r = &perm.resource;
            authorize(
                p,
                &Need {
                    action: perm.action,
                    resource_type: r.resource_type,
                    org_id: r.org_id,
                    id: r.id,
                },
            )?;
        }
        let user_id = match req.user_id {
            Some(id) => {
                self.catalog
                    .get_user(id)
                    .await?
                    .ok_or_else(|| Error::not_found("user not found"))?
                    .id
            }
            None => p.user_id,
        };
        let token = token::generate();
        let authorization = self
            .catalog
            .create_authorization(NewAuthorization {
                org_id: req.org_id,
                user_id,
                token_hash: token::hash(&token),
                description: req.description,
                status: req.status,
                permissions: req.permissions,
            })
            .await?;
        let mut view = self.view(authorization).await?;
        view.token = Some(token);
        Ok(view)
    }

    pub async fn list_authorizations(
        &self,
        p: &Principal,
        f: &ListAuthorizations,
        page: &Page,
    ) -> Result<Paged<AuthorizationView>> {
        let org = self.resolve_org(f.org_id, f.org.as_deref()).await?;
        let user_id = match (f.user_id, &f.user) {
            (Some(id), _) => Some(id),
            (None, Some(name)) => match self.catalog.get_user_by_name(name).await? {
                Some(u) => Some(u.id),
                None => {
                    return Ok(Paged {
                        items: vec![],
                        has_more: false,
                    })
                }
            },
            (None, None) => None,
        };
        let filter = AuthorizationFilter {
            org_id: org.map(|o| o.id),
            user_id,
            token_hash: f.token.as_deref().map(token::hash),
        };
        let mut auths = self.catalog.list_authorizations(&filter).await?;
        auths.retain(|a| allows(p, &read_need(a)));
        let page = page.apply(auths, |a| a.id);
        let mut items = Vec::with_capacity(page.items.len());
        for a in page.items {
            items.push(self.view(a).await?);
        }
        Ok(Paged {
            items,
            has_more: page.has_more,
        })
    }

    async fn authorization_or_404(&self, id: Id) -> Result<Authorization> {
        self.catalog
            .get_authorization(id)
            .await?
            .ok_or_else(|| Error::not_found("authorization not found"))
    }

    pub async fn get_authorization(&self, p: &Principal, id: Id) -> Result<AuthorizationView> {
        let a = self.authorization_or_404(id).await?;
        authorize(p, &read_need(&a))?;
        self.view(a).await
    }

    pub async fn update_authorization(
        &self,
        p: &Principal,
        id: Id,
        patch: AuthorizationPatch,
    ) -> Result<AuthorizationView> {
        let a = self.authorization_or_404(id).await?;
        authorize(p, &write_need(&a))?;
        let updated = self.catalog.update_authorization(id, patch).await?;
        self.auth.forget(&updated.token_hash);
        self.view(updated).await
    }

    pub async fn delete_authorization(&self, p: &Principal, id: Id) -> Result<()> {
        let a = self.authorization_or_404(id).await?;
        authorize(p, &write_need(&a))?;
        self.catalog.delete_authorization(id).await?;
        self.auth.forget(&a.token_hash);
        Ok(())
    }

    async fn view(&self, authorization: Authorization) -> Result<AuthorizationView> {
        let mut org_names = HashMap::new();
        let org_ids = std::iter::once(authorization.org_id).chain(
            authorization
                .permissions
                .iter()
                .filter_map(|p| p.resource.org_id),
        );
        for id in org_ids {
            if let std::collections::hash_map::Entry::Vacant(e) = org_names.entry(id) {
                if let Some(org) = self.catalog.get_org(id).await? {
                    e.insert(org.name);
                }
            }
        }
        let user_name = self
            .catalog
            .get_user(authorization.user_id)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        Ok(AuthorizationView {
            org_name: org_names
                .get(&authorization.org_id)
                .cloned()
                .unwrap_or_default(),
            user_name,
            org_names,
            authorization,
            token: None,
        })
    }
}
