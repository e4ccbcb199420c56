//! InfluxQL, whatever protocol it came through (v1 `/query`, Flight tickets with
//! `"query_type":"influxql"`, Flight SQL with `x-influxdata-query-language: influxql`).
//!
//! A request is parsed whole first (a parse error fails the request, as in 1.x); then each
//! statement is run on its own: its database is resolved, the read permission checked, and it
//! is answered here (databases, retention policies, `CREATE DATABASE`) or by the query engine.
//! A statement's error never stops the next one (InfluxDB 3's behaviour). Every answer has
//! InfluxDB 3's Arrow shape for InfluxQL, so the protocols convert one shape only.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use tidemark_catalog::{Bucket, DbrpFilter, ResourceType};
use tidemark_influxql::{
    NameOrWildcard, ParamValue, SelectStatement, Source, Statement, UnsupportedKind,
};
use tidemark_query::{InfluxQlOptions, QueryOutput, GROUP_KEY_METADATA, MEASUREMENT_COLUMN};

use super::Service;
use crate::auth::{allows, authorize, Need, Principal};
use crate::error::{Error, ErrorCode, Result};

/// Where a statement's database comes from.
#[derive(Debug, Clone)]
pub enum InfluxQlDatabase {
    /// v1 `/query`: the `db` and `rp` parameters, resolved through the org's DBRP mappings; a
    /// database named in the statement (`"db"."rp".m`, `ON db`) wins over them.
    V1 {
        db: Option<String>,
        rp: Option<String>,
    },
    /// Flight: a bucket name, as SQL queries over Flight name it (InfluxDB 3 has no DBRP there).
    Bucket(String),
}

/// Flight runs one statement per request, as InfluxDB 3 does.
pub const SINGLE_STATEMENT_ONLY: &str =
    "The context currently only supports a single InfluxQL statement";

/// Parses every statement of a request. The error is 1.x's `error parsing query: ...`.
pub fn parse_influxql(text: &str, params: &tidemark_influxql::Params) -> Result<Vec<Statement>> {
    tidemark_influxql::parse_query_checked(text, params, &tidemark_query::InfluxQlChecks)
        .map(|q| q.statements)
        .map_err(|e| Error::invalid(format!("error parsing query: {e}")))
}

/// Flight's query parameters as InfluxQL parameter values.
pub fn influxql_params(params: &tidemark_query::Params) -> tidemark_influxql::Params {
    use tidemark_query::Param;
    params
        .iter()
        .filter_map(|(name, value)| {
            let v = match value {
                Param::Null => return None,
                Param::Bool(b) => ParamValue::Boolean(*b),
                Param::Int(i) => ParamValue::Integer(*i),
                Param::UInt(u) => match i64::try_from(*u) {
                    Ok(i) => ParamValue::Integer(i),
                    Err(_) => ParamValue::Float(*u as f64),
                },
                Param::Float(f) => ParamValue::Float(*f),
                Param::String(s) => ParamValue::String(s.clone()),
            };
            Some((name.clone(), v))
        })
        .collect()
}

/// `now()` for a request, in nanoseconds.
pub fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The database and retention policy a statement names itself, if any.
fn named_database(statement: &Statement) -> Result<Option<(String, Option<String>)>> {
    fn from_select(s: &SelectStatement, out: &mut Vec<(String, Option<String>)>) {
        for source in &s.from {
            match source {
                Source::Measurement(m) => {
                    if let Some(db) = m.database.as_ref().filter(|d| !d.is_empty()) {
                        let rp = m.retention_policy.clone().filter(|r| !r.is_empty());
                        out.push((db.clone(), rp));
                    }
                }
                Source::Subquery(sub) => from_select(sub, out),
            }
        }
    }
    let on = |db: &Option<String>| db.clone().map(|d| (d, None));
    let mut named = Vec::new();
    match statement {
        Statement::Select(s) => from_select(s, &mut named),
        Statement::Explain(e) => from_select(&e.select, &mut named),
        Statement::ShowMeasurements(s) => match &s.on {
            Some((NameOrWildcard::Name(db), rp)) => {
                let rp = match rp {
                    Some(NameOrWildcard::Name(r)) => Some(r.clone()),
                    _ => None,
                };
                named.push((db.clone(), rp));
            }
            Some((NameOrWildcard::Wildcard, _)) => {
                return Err(Error::invalid(
                    "SHOW MEASUREMENTS ON * is not supported: name one database",
                ))
            }
            None => {}
        },
        Statement::ShowRetentionPolicies(s) => named.extend(on(&s.on)),
        Statement::ShowTagKeys(s) => named.extend(on(&s.on)),
        Statement::ShowTagValues(s) => named.extend(on(&s.on)),
        Statement::ShowFieldKeys(s) => named.extend(on(&s.on)),
        Statement::ShowSeries(s) => named.extend(on(&s.on)),
        Statement::ShowCardinality(s) => named.extend(on(&s.on)),
        _ => {}
    }
    let mut databases = named.iter().map(|(db, _)| db).collect::<BTreeSet<_>>();
    if databases.len() > 1 {
        return Err(Error::invalid(
            "can only perform queries on a single database",
        ));
    }
    Ok(databases.pop_first().and_then(|db| {
        named
            .iter()
            .find(|(d, rp)| d == db && rp.is_some())
            .or_else(|| named.iter().find(|(d, _)| d == db))
            .cloned()
    }))
}

/// A statement error the client sees as it is.
fn statement_error(message: impl Into<String>) -> Error {
    Error::invalid(message)
}

/// A one-batch answer in InfluxDB 3's InfluxQL shape: `iox::measurement`, then `columns`.
fn answer(measurement: &str, columns: Vec<(&str, ArrayRef)>) -> Result<QueryOutput> {
    let rows = columns.first().map_or(0, |(_, a)| a.len());
    let mut fields = vec![Field::new(MEASUREMENT_COLUMN, DataType::Utf8, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec![measurement; rows]))];
    for (name, array) in columns {
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    let metadata = HashMap::from([(
        GROUP_KEY_METADATA.to_owned(),
        r#"{"measurement_column_index":0,"tag_key_columns":[]}"#.to_owned(),
    )]);
    let schema = Arc::new(Schema::new(fields).with_metadata(metadata));
    let batch = RecordBatch::try_new(schema, arrays)
        .map_err(|e| Error::internal(format!("building an InfluxQL answer: {e}")))?;
    Ok(QueryOutput::from_batch(batch))
}

/// An answer without rows (`CREATE DATABASE`).
fn empty() -> QueryOutput {
    QueryOutput {
        schema: Arc::new(Schema::empty()),
        stream: Box::pin(futures::stream::empty()),
    }
}

/// A duration as Go prints it (`72h0m0s`, `0s`), as 1.x shows retention policies.
fn go_duration(seconds: i64) -> String {
    if seconds <= 0 {
        return "0s".to_owned();
    }
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// 1.x's default shard group duration for a retention period.
fn shard_group_seconds(bucket: &Bucket) -> i64 {
    if let Some(s) = bucket.shard_group_duration_seconds.filter(|s| *s > 0) {
        return s;
    }
    match bucket.retention_seconds {
        r if r > 0 && r < 2 * 86_400 => 3600,
        r if r > 0 && r < 180 * 86_400 => 86_400,
        _ => 7 * 86_400,
    }
}

impl Service {
    /// Runs one statement. The error's message is what a v1 client sees as the statement's
    /// error; its code is the status a Flight client gets.
    pub async fn influxql(
        &self,
        p: &Principal,
        statement: &Statement,
        database: &InfluxQlDatabase,
        now: i64,
    ) -> Result<QueryOutput> {
        match statement {
            Statement::ShowDatabases => self.show_databases(p).await,
            // The bucket and mapping a v1 write would create, but kept as 1.x keeps a new
            // database: for ever, or for `WITH DURATION` (a v1 write's auto-created bucket
            // keeps 3 days, as Cloud Serverless documents). An existing database is success,
            // because Telegraf's v1 output sends this on every start.
            Statement::CreateDatabase(c) => {
                let rp = c.retention_policy.as_ref().and_then(|r| r.name.as_deref());
                let seconds = c
                    .retention_policy
                    .as_ref()
                    .and_then(|r| r.duration)
                    .map_or(0, |d| d.nanos().div_euclid(1_000_000_000));
                self.resolve_v1(p, &c.name, rp, Some(seconds)).await?;
                Ok(empty())
            }
            Statement::ShowRetentionPolicies(_) => {
                let db = match self.statement_database(statement, database)? {
                    (Some(db), _) => db,
                    (None, _) => match database {
                        InfluxQlDatabase::Bucket(b) => b.clone(),
                        InfluxQlDatabase::V1 { .. } => {
                            return Err(statement_error("database name required"))
                        }
                    },
                };
                self.show_retention_policies(p, &db).await
            }
            // Like InfluxDB 3, rows are never deleted by statement.
            Statement::DropMeasurement(_) => {
                Err(statement_error("DROP MEASUREMENT is not supported"))
            }
            Statement::Delete(_) => Err(statement_error("DELETE is not supported")),
            Statement::Unsupported(u) if u.kind == UnsupportedKind::ShowGrants => {
                self.show_grants(p, &u.text).await
            }
            Statement::Unsupported(u) => Err(statement_error(unsupported(u.kind))),
            _ => {
                let bucket = match database {
                    InfluxQlDatabase::Bucket(name) => self.query_bucket(p, name).await?,
                    InfluxQlDatabase::V1 { .. } => {
                        let (db, rp) = self.statement_database(statement, database)?;
                        let db = db.ok_or_else(|| statement_error("database name required"))?;
                        match self.v1_read_bucket(p, &db, rp.as_deref()).await {
                            Ok(bucket) => bucket,
                            // 1.x lists the measurements of a database it does not have: none.
                            Err(e)
                                if matches!(statement, Statement::ShowMeasurements(_))
                                    && e.message == database_not_found(&db) =>
                            {
                                return Ok(empty())
                            }
                            Err(e) => return Err(e),
                        }
                    }
                };
                let options = InfluxQlOptions {
                    now,
                    metadata_cutoff: None,
                };
                Ok(self.query.influxql(&bucket, statement, &options).await?)
            }
        }
    }

    /// The v1 database and retention policy of a statement: its own, else the parameters'.
    fn statement_database(
        &self,
        statement: &Statement,
        database: &InfluxQlDatabase,
    ) -> Result<(Option<String>, Option<String>)> {
        let (param_db, param_rp) = match database {
            InfluxQlDatabase::V1 { db, rp } => (db.clone(), rp.clone()),
            InfluxQlDatabase::Bucket(_) => (None, None),
        };
        Ok(match named_database(statement)? {
            Some((db, rp)) => (Some(db), rp.or(param_rp)),
            None => (param_db.filter(|d| !d.is_empty()), param_rp),
        })
    }

    /// The bucket a v1 database and retention policy map to, if the caller may read it.
    async fn v1_read_bucket(&self, p: &Principal, db: &str, rp: Option<&str>) -> Result<Bucket> {
        let key = (p.org_id, db.to_owned(), rp.map(str::to_owned));
        let bucket = match self.buckets_by_dbrp.get(&key) {
            Some(b) => b,
            None => {
                let generation = self.buckets_by_dbrp.generation();
                let bucket = self.v1_mapped_bucket(p, db, rp).await?;
                self.buckets_by_dbrp.insert(generation, key, bucket.clone());
                bucket
            }
        };
        authorize(
            p,
            &Need::read(ResourceType::Buckets)
                .in_org(bucket.org_id)
                .on(bucket.id),
        )
        .map_err(|e| Error::new(ErrorCode::PermissionDenied, e.message))?;
        Ok(bucket)
    }

    /// The bucket a v1 database and retention policy map to in the caller's org, from the
    /// catalog.
    async fn v1_mapped_bucket(&self, p: &Principal, db: &str, rp: Option<&str>) -> Result<Bucket> {
        let not_found = || statement_error(database_not_found(db));
        let filter = DbrpFilter {
            org_id: Some(p.org_id),
            database: Some(db.to_owned()),
            retention_policy: rp.map(str::to_owned),
            default: rp.is_none().then_some(true),
            ..Default::default()
        };
        let Some(mapping) = self.catalog.list_dbrps(&filter).await?.into_iter().next() else {
            // 1.x tells a wrong retention policy of a known database from an unknown database.
            if let Some(rp) = rp {
                let any = DbrpFilter {
                    org_id: Some(p.org_id),
                    database: Some(db.to_owned()),
                    ..Default::default()
                };
                if !self.catalog.list_dbrps(&any).await?.is_empty() {
                    return Err(statement_error(format!("retention policy not found: {rp}")));
                }
            }
            return Err(not_found());
        };
        self.catalog
            .get_bucket(mapping.bucket_id)
            .await?
            .ok_or_else(not_found)
    }

    /// `SHOW GRANTS FOR <user>`: 1.x's "user not found" for a user that does not exist (for a
    /// caller who may read users); grants themselves are not kept.
    async fn show_grants(&self, p: &Principal, text: &str) -> Result<QueryOutput> {
        if let Some(name) = grants_user(text) {
            authorize(p, &Need::read(ResourceType::Users))
                .map_err(|e| Error::new(ErrorCode::PermissionDenied, e.message))?;
            if self.catalog.get_user_by_name(&name).await?.is_none() {
                return Err(statement_error("user not found"));
            }
        }
        Err(statement_error(unsupported(UnsupportedKind::ShowGrants)))
    }

    /// `SHOW DATABASES`: the databases of the org's DBRP mappings whose bucket the caller may
    /// read.
    async fn show_databases(&self, p: &Principal) -> Result<QueryOutput> {
        let filter = DbrpFilter {
            org_id: Some(p.org_id),
            ..Default::default()
        };
        let names: BTreeSet<String> = self
            .catalog
            .list_dbrps(&filter)
            .await?
            .into_iter()
            .filter(|d| {
                allows(
                    p,
                    &Need::read(ResourceType::Buckets)
                        .in_org(d.org_id)
                        .on(d.bucket_id),
                )
            })
            .map(|d| d.database)
            .collect();
        let names: Vec<String> = names.into_iter().collect();
        answer(
            "databases",
            vec![("name", Arc::new(StringArray::from(names)))],
        )
    }

    /// `SHOW RETENTION POLICIES`: one row per DBRP mapping of the database, with the bucket's
    /// retention.
    async fn show_retention_policies(&self, p: &Principal, db: &str) -> Result<QueryOutput> {
        let filter = DbrpFilter {
            org_id: Some(p.org_id),
            database: Some(db.to_owned()),
            ..Default::default()
        };
        let mut mappings = self.catalog.list_dbrps(&filter).await?;
        mappings.sort_by(|a, b| a.retention_policy.cmp(&b.retention_policy));
        let (mut name, mut duration, mut shard, mut replica, mut default) =
            (vec![], vec![], vec![], vec![], vec![]);
        for m in mappings {
            let Some(bucket) = self.catalog.get_bucket(m.bucket_id).await? else {
                continue;
            };
            let read = Need::read(ResourceType::Buckets)
                .in_org(bucket.org_id)
                .on(bucket.id);
            if !allows(p, &read) {
                continue;
            }
            name.push(m.retention_policy);
            duration.push(go_duration(bucket.retention_seconds));
            shard.push(go_duration(shard_group_seconds(&bucket)));
            replica.push(1_i64);
            default.push(m.default);
        }
        if name.is_empty() {
            return Err(statement_error(format!("database not found: {db}")));
        }
        // 1.x gives this series no name (InfluxDB 3 names it `retention_policies`).
        answer(
            "",
            vec![
                ("name", Arc::new(StringArray::from(name))),
                ("duration", Arc::new(StringArray::from(duration))),
                ("shardGroupDuration", Arc::new(StringArray::from(shard))),
                ("replicaN", Arc::new(Int64Array::from(replica))),
                ("default", Arc::new(BooleanArray::from(default))),
            ],
        )
    }
}

/// 1.x's error for a database it does not have.
fn database_not_found(db: &str) -> String {
    format!("database not found: {db}")
}

/// The user `SHOW GRANTS FOR <user>` names (the statement's text as written).
fn grants_user(text: &str) -> Option<String> {
    let words = ["SHOW", "GRANTS", "FOR"];
    let mut rest = text.trim_start();
    for w in words {
        let head = rest.get(..w.len())?;
        if !head.eq_ignore_ascii_case(w) {
            return None;
        }
        rest = rest.get(w.len()..)?.trim_start();
    }
    match tidemark_influxql::parse_expr(rest.trim_end()) {
        Ok(tidemark_influxql::Expr::VarRef(v)) if v.data_type.is_none() => Some(v.name),
        _ => None,
    }
}

fn unsupported(kind: UnsupportedKind) -> String {
    format!("{} is not supported", kind.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_of(q: &str) -> Result<Option<(String, Option<String>)>> {
        let statements = parse_influxql(q, &tidemark_influxql::Params::new())?;
        named_database(&statements[0])
    }

    #[test]
    fn the_statement_names_its_database() {
        assert_eq!(db_of("SELECT * FROM cpu").expect("ok"), None);
        assert_eq!(
            db_of(r#"SELECT * FROM "db"."rp".cpu"#).expect("ok"),
            Some(("db".into(), Some("rp".into())))
        );
        assert_eq!(
            db_of("SELECT * FROM db..cpu").expect("ok"),
            Some(("db".into(), None))
        );
        assert_eq!(
            db_of("SELECT * FROM (SELECT * FROM d.r.cpu)").expect("ok"),
            Some(("d".into(), Some("r".into())))
        );
        assert_eq!(
            db_of("SHOW TAG KEYS ON telegraf").expect("ok"),
            Some(("telegraf".into(), None))
        );
        assert_eq!(
            db_of("SELECT * FROM a..cpu, b..mem")
                .expect_err("two")
                .message,
            "can only perform queries on a single database"
        );
    }

    #[test]
    fn parse_errors_read_like_1x() {
        let e = parse_influxql("SELECT FROM", &tidemark_influxql::Params::new()).expect_err("bad");
        assert!(
            e.message.starts_with("error parsing query: found FROM"),
            "{}",
            e.message
        );
    }

    #[test]
    fn show_grants_names_its_user() {
        assert_eq!(
            grants_user(r#"SHOW GRANTS FOR "no body""#).as_deref(),
            Some("no body")
        );
        assert_eq!(
            grants_user("show grants for alice").as_deref(),
            Some("alice")
        );
        assert_eq!(grants_user("SHOW GRANTS"), None);
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(3 * 86_400), "72h0m0s");
        assert_eq!(go_duration(90), "1m30s");
        assert_eq!(go_duration(45), "45s");
        assert_eq!(go_duration(7 * 86_400), "168h0m0s");
    }
}
