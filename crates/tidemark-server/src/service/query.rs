//! Queries, whatever protocol they came through (Flight tickets, Flight SQL, `/api/v3/query_sql`):
//! the caller's token, the database (a bucket name in the token's org), the read permission,
//! then the query engine.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use tidemark_catalog::{Bucket, ResourceType};
use tidemark_query::{Param, Params, QueryOutput, TableInfo};

use super::Service;
use crate::auth::{authorize, token, Need, Principal};
use crate::error::{Error, ErrorCode, Result};

/// The language a query is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    Sql,
    InfluxQl,
}

/// One query, as a protocol hands it over.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The bucket's name, in the caller's org.
    pub database: &'a str,
    pub text: &'a str,
    pub language: QueryLanguage,
    pub params: &'a Params,
}

/// Query parameters given as a JSON object (a Flight ticket's or `/api/v3/query_sql`'s
/// `params`).
pub fn params_from_json(object: serde_json::Map<String, serde_json::Value>) -> Result<Params> {
    use serde_json::Value;
    object
        .into_iter()
        .map(|(name, value)| {
            let param = match value {
                Value::Null => Param::Null,
                Value::Bool(b) => Param::Bool(b),
                Value::String(s) => Param::String(s),
                Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => Param::Int(i),
                    (None, Some(u)) => Param::UInt(u),
                    (None, None) => Param::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                Value::Array(_) | Value::Object(_) => {
                    return Err(Error::invalid(format!(
                        "parameter {name:?} must be a string, number, boolean or null"
                    )))
                }
            };
            Ok((name, param))
        })
        .collect()
}

/// A token that was given but does not let the caller in.
fn denied(e: Error) -> Error {
    if e.is(ErrorCode::Unauthorized) {
        Error::new(ErrorCode::PermissionDenied, e.message)
    } else {
        e
    }
}

impl Service {
    /// The caller behind a query's `Authorization` value (`Bearer`, `Token` or `Basic`). No
    /// usable credentials are `Unauthorized`; credentials that do not let the caller in are
    /// `PermissionDenied`.
    pub async fn query_principal(&self, authorization: Option<&[u8]>) -> Result<Arc<Principal>> {
        let token = authorization
            .and_then(|value| token::from_authorization_header(value).ok())
            .ok_or_else(Error::unauthenticated)?;
        self.auth.authenticate(&token).await.map_err(denied)
    }

    /// The bucket a query names, if the caller may read it.
    pub async fn query_bucket(&self, p: &Principal, database: &str) -> Result<Bucket> {
        let bucket = self
            .bucket_by_name(p.org_id, database)
            .await?
            .ok_or_else(|| Error::not_found(format!("Database '{database}' not found")))?;
        authorize(
            p,
            &Need::read(ResourceType::Buckets)
                .in_org(bucket.org_id)
                .on(bucket.id),
        )
        .map_err(denied)?;
        Ok(bucket)
    }

    /// Runs a query: its schema at once, its rows as they come.
    pub async fn query(&self, p: &Principal, q: Query<'_>) -> Result<QueryOutput> {
        match q.language {
            QueryLanguage::Sql => {
                let bucket = self.query_bucket(p, q.database).await?;
                Ok(self.query.sql(&bucket, q.text, q.params).await?)
            }
            QueryLanguage::InfluxQl => self.influxql_single(p, q).await,
        }
    }

    /// One InfluxQL statement over Flight: the database is a bucket name, as for SQL.
    async fn influxql_single(&self, p: &Principal, q: Query<'_>) -> Result<QueryOutput> {
        let params = super::influxql_params(q.params);
        let mut statements = super::parse_influxql(q.text, &params)?;
        let statement = match (statements.pop(), statements.is_empty()) {
            (Some(s), true) => s,
            _ => return Err(Error::invalid(super::SINGLE_STATEMENT_ONLY)),
        };
        let database = super::InfluxQlDatabase::Bucket(q.database.to_owned());
        self.influxql(p, &statement, &database, super::now_nanos())
            .await
            .map_err(denied)
    }

    /// The schema a query would answer with, without running it.
    pub async fn query_schema(&self, p: &Principal, q: Query<'_>) -> Result<SchemaRef> {
        match q.language {
            QueryLanguage::Sql => {
                let bucket = self.query_bucket(p, q.database).await?;
                Ok(self.query.schema(&bucket, q.text, q.params).await?)
            }
            // InfluxQL statements are answered whole; their schema is the answer's.
            QueryLanguage::InfluxQl => Ok(self.influxql_single(p, q).await?.schema),
        }
    }

    /// The tables a query on `database` can see (for Flight SQL's catalog commands).
    pub async fn query_tables(&self, p: &Principal, database: &str) -> Result<Vec<TableInfo>> {
        let bucket = self.query_bucket(p, database).await?;
        Ok(self.query.tables(&bucket).await?)
    }
}
