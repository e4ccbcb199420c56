//! The service layer: every use-case (management, writes, queries), with its validation and its
//! permission check.
//!
//! Protocol handlers translate a request into one call here and the result back into a response;
//! every decision (what is valid, who may do it, what changes) is made in this module.

mod authorizations;
mod buckets;
mod dbrps;
mod influxql;
mod orgs;
mod page;
mod query;
mod validate;
mod write;

use std::sync::Arc;

use tidemark_catalog::{Bootstrap, BootstrapOutcome, Catalog, Id, Org};

pub use authorizations::{AuthorizationView, CreateAuthorization, ListAuthorizations};
pub use buckets::{CreateBucket, ListBuckets, RetentionRule, UpdateBucket};
pub use dbrps::{CreateDbrp, ListDbrps, OrgRef};
pub use influxql::{
    influxql_params, now_nanos, parse_influxql, InfluxQlDatabase, SINGLE_STATEMENT_ONLY,
};
pub use orgs::ListOrgs;
pub use page::{Page, Paged};
pub use query::{params_from_json, Query, QueryLanguage};
pub use write::Write;

use crate::auth::{token, Authenticator};
use crate::error::{Error, Result};

/// What the first start did.
#[derive(Debug)]
pub enum Started {
    /// The catalog was new: the org, the user and the operator token now exist.
    Initialized {
        org: Org,
        /// The operator token, when it was generated here (not given by the operator).
        generated_token: Option<String>,
    },
    /// The catalog had been initialised by an earlier start.
    Existing,
}

/// The name of the user that owns the operator token.
pub const OPERATOR_USER: &str = "admin";

/// The management service. Cheap to share: hold it in an `Arc`.
#[derive(Debug)]
pub struct Service {
    catalog: Arc<dyn Catalog>,
    engine: Arc<tidemark_storage::Engine>,
    query: Arc<tidemark_query::QueryEngine>,
    auth: Authenticator,
    /// (org, bucket name) → bucket, for the lookups every write and query makes.
    buckets_by_name: buckets::BucketNames,
    /// (org, v1 database, retention policy or `None` for the default) → mapped bucket.
    buckets_by_dbrp: buckets::BucketNames<(Id, String, Option<String>)>,
}

impl Service {
    pub fn new(
        catalog: Arc<dyn Catalog>,
        engine: Arc<tidemark_storage::Engine>,
        query: Arc<tidemark_query::QueryEngine>,
    ) -> Self {
        Self {
            auth: Authenticator::new(Arc::clone(&catalog)),
            catalog,
            engine,
            query,
            buckets_by_name: buckets::BucketNames::default(),
            buckets_by_dbrp: buckets::BucketNames::default(),
        }
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    pub fn catalog(&self) -> &Arc<dyn Catalog> {
        &self.catalog
    }

    pub fn engine(&self) -> &Arc<tidemark_storage::Engine> {
        &self.engine
    }

    pub fn query_engine(&self) -> &Arc<tidemark_query::QueryEngine> {
        &self.query
    }

    /// Creates the default org and the operator token on the first start; does nothing later.
    pub async fn start(&self, org_name: &str, operator_token: Option<&str>) -> Result<Started> {
        validate::org_name(org_name)?;
        let (token, generated) = match operator_token {
            Some(t) if !t.is_empty() => (t.to_owned(), false),
            _ => (token::generate(), true),
        };
        let outcome = self
            .catalog
            .bootstrap(Bootstrap {
                org_name: org_name.to_owned(),
                user_name: OPERATOR_USER.to_owned(),
                operator_token_hash: token::hash(&token),
            })
            .await?;
        Ok(match outcome {
            BootstrapOutcome::Created { org, .. } => Started::Initialized {
                org,
                generated_token: generated.then_some(token),
            },
            BootstrapOutcome::AlreadyInitialized => Started::Existing,
        })
    }

    async fn org_or_404(&self, id: Id) -> Result<Org> {
        self.catalog
            .get_org(id)
            .await?
            .ok_or_else(|| Error::not_found("organization not found"))
    }

    async fn org_by_name_or_404(&self, name: &str) -> Result<Org> {
        self.catalog
            .get_org_by_name(name)
            .await?
            .ok_or_else(|| Error::not_found(format!("organization name \"{name}\" not found")))
    }

    /// Resolves the usual `orgID` / `org` pair of filters; `orgID` wins when both are given.
    async fn resolve_org(&self, org_id: Option<Id>, org: Option<&str>) -> Result<Option<Org>> {
        match (org_id, org) {
            (Some(id), _) => self.org_or_404(id).await.map(Some),
            (None, Some(name)) => self.org_by_name_or_404(name).await.map(Some),
            (None, None) => Ok(None),
        }
    }

    /// Drops every cached name → bucket lookup: after a bucket, org or DBRP mapping changed.
    fn forget_bucket_names(&self) {
        self.buckets_by_name.clear();
        self.buckets_by_dbrp.clear();
    }
}
