//! The one place that decides whether a principal may do something.
//!
//! Handlers state what they need as a [`Need`]; they never look at permissions themselves.

use tidemark_catalog::{Action, Id, Permission, ResourceType};

use super::Principal;
use crate::error::{Error, ErrorCode, Result};

/// What an operation needs: an action on a resource type, narrowed to an org and/or one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    pub action: Action,
    pub resource_type: ResourceType,
    pub org_id: Option<Id>,
    pub id: Option<Id>,
}

impl Need {
    pub fn new(action: Action, resource_type: ResourceType) -> Self {
        Self {
            action,
            resource_type,
            org_id: None,
            id: None,
        }
    }

    pub fn read(resource_type: ResourceType) -> Self {
        Self::new(Action::Read, resource_type)
    }

    pub fn write(resource_type: ResourceType) -> Self {
        Self::new(Action::Write, resource_type)
    }

    pub fn in_org(mut self, org_id: Id) -> Self {
        self.org_id = Some(org_id);
        self
    }

    pub fn on(mut self, id: Id) -> Self {
        self.id = Some(id);
        self
    }

    /// Needs on an org itself name it by id, as InfluxDB's permissions do.
    pub fn org(action: Action, org_id: Id) -> Self {
        Self::new(action, ResourceType::Orgs).on(org_id)
    }
}

/// InfluxDB's rendering of a permission, used in "is unauthorized" messages:
/// `write:orgs/<orgID>/buckets`, `read:buckets/<id>`, `write:orgs`.
fn describe(need: &Need) -> String {
    let ty = need.resource_type.as_str();
    let path = match (need.org_id, need.id) {
        (Some(org), Some(id)) => format!("orgs/{org}/{ty}/{id}"),
        (Some(org), None) => format!("orgs/{org}/{ty}"),
        (None, Some(id)) => format!("{ty}/{id}"),
        (None, None) => ty.to_owned(),
    };
    format!("{}:{path}", need.action.as_str())
}

/// Whether one granted permission covers the need. Same rules as InfluxDB 2: the action and type
/// must match (an `instance` permission covers every type); a permission with neither org nor id
/// covers the whole type, one with only an org covers that org, one with an id covers that
/// resource. `write` never implies `read`.
fn covers(granted: &Permission, need: &Need) -> bool {
    if granted.action != need.action {
        return false;
    }
    let r = &granted.resource;
    if r.resource_type != need.resource_type && r.resource_type != ResourceType::Instance {
        return false;
    }
    match (r.org_id, r.id) {
        (None, None) => true,
        (Some(org), None) => need.org_id == Some(org),
        (org, Some(id)) => {
            need.id == Some(id) && org.is_none_or(|o| need.org_id.is_none_or(|n| n == o))
        }
    }
}

/// Whether the principal may do what the need says.
pub fn allows(principal: &Principal, need: &Need) -> bool {
    principal.permissions.iter().any(|p| covers(p, need))
}

/// Whether the principal may see an org: its own org always (Cloud Serverless shows a token the
/// org that owns it, and clients resolve org names through that list), others with `read:orgs`.
pub fn may_see_org(principal: &Principal, org_id: Id) -> bool {
    org_id == principal.org_id || allows(principal, &Need::org(Action::Read, org_id))
}

/// The decision every handler goes through: `Ok` or a 401 naming the missing permission.
pub fn authorize(principal: &Principal, need: &Need) -> Result<()> {
    if allows(principal, need) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::Unauthorized,
            format!("{} is unauthorized", describe(need)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tidemark_catalog::Resource;

    use super::*;

    fn id(n: u64) -> Id {
        Id::from_u64(n).expect("non-zero")
    }

    fn perm(action: Action, ty: ResourceType, org: Option<u64>, rid: Option<u64>) -> Permission {
        Permission {
            action,
            resource: Resource {
                resource_type: ty,
                id: rid.map(id),
                org_id: org.map(id),
            },
        }
    }

    fn principal(perms: Vec<Permission>) -> Principal {
        Principal {
            authorization_id: id(99),
            org_id: id(1),
            user_id: id(50),
            permissions: Arc::from(perms),
        }
    }

    #[test]
    fn decisions() {
        use Action::{Read, Write};
        use ResourceType::{Buckets, Instance, Orgs};
        let org_read = principal(vec![perm(Read, Buckets, Some(1), None)]);
        let one_bucket = principal(vec![perm(Write, Buckets, Some(1), Some(7))]);
        let type_wide = principal(vec![perm(Write, Orgs, None, None)]);
        let instance = principal(vec![perm(Read, Instance, None, None)]);

        let cases = [
            (&org_read, Need::read(Buckets).in_org(id(1)), true),
            (&org_read, Need::read(Buckets).in_org(id(1)).on(id(7)), true),
            (&org_read, Need::read(Buckets).in_org(id(2)), false),
            (&org_read, Need::write(Buckets).in_org(id(1)), false),
            (
                &one_bucket,
                Need::write(Buckets).in_org(id(1)).on(id(7)),
                true,
            ),
            (
                &one_bucket,
                Need::write(Buckets).in_org(id(1)).on(id(8)),
                false,
            ),
            (&one_bucket, Need::write(Buckets).in_org(id(1)), false),
            (
                &one_bucket,
                Need::write(Buckets).in_org(id(2)).on(id(7)),
                false,
            ),
            (
                &one_bucket,
                Need::read(Buckets).in_org(id(1)).on(id(7)),
                false,
            ),
            (&type_wide, Need::write(Orgs), true),
            (&type_wide, Need::org(Write, id(5)), true),
            (&org_read, Need::write(Orgs), false),
            (&instance, Need::read(Buckets).in_org(id(3)), true),
            (&instance, Need::write(Buckets).in_org(id(3)), false),
        ];
        for (i, (p, need, want)) in cases.iter().enumerate() {
            assert_eq!(allows(p, need), *want, "case {i}: {need:?}");
        }
    }

    #[test]
    fn message_names_the_missing_permission() {
        let p = principal(vec![]);
        let err =
            authorize(&p, &Need::write(ResourceType::Buckets).in_org(id(1))).expect_err("denied");
        assert_eq!(err.code, ErrorCode::Unauthorized);
        assert_eq!(
            err.message,
            "write:orgs/0000000000000001/buckets is unauthorized"
        );
    }
}
