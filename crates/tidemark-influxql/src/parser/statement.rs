//! Which statement: 1.x's parse tree of leading keywords, and the statements this server runs
//! that are not `SELECT` or `SHOW`.

use super::select::IntoClause;
use super::{PResult, Parser};
use crate::ast::{
    CardinalityKind, CreateDatabaseStatement, DeleteStatement, DropMeasurementStatement,
    ExplainStatement, RetentionPolicySpec, Source, Statement, UnsupportedKind as U,
};
use crate::keyword::Keyword as K;
use crate::lexer::Tok;

/// 1.x's parse tree: after each keyword, the keywords that may follow, in its order (which
/// its error messages list).
const TOP: &[&str] = &[
    "SELECT", "DELETE", "SHOW", "CREATE", "DROP", "EXPLAIN", "GRANT", "REVOKE", "ALTER", "SET",
    "KILL",
];
const SHOW: &[&str] = &[
    "CONTINUOUS",
    "DATABASES",
    "DIAGNOSTICS",
    "FIELD",
    "GRANTS",
    "MEASUREMENT",
    "MEASUREMENTS",
    "QUERIES",
    "RETENTION",
    "SERIES",
    "SHARD",
    "SHARDS",
    "STATS",
    "SUBSCRIPTIONS",
    "TAG",
    "USERS",
];
const CREATE: &[&str] = &[
    "CONTINUOUS",
    "DATABASE",
    "USER",
    "RETENTION",
    "SUBSCRIPTION",
];
const DROP: &[&str] = &[
    "CONTINUOUS",
    "DATABASE",
    "MEASUREMENT",
    "RETENTION",
    "SERIES",
    "SHARD",
    "SUBSCRIPTION",
    "USER",
];

impl Parser<'_> {
    /// One statement (1.x `ParseStatement`).
    pub(crate) fn parse_statement(&mut self) -> PResult<Statement> {
        let t = self.scan_ws();
        let start = t.start;
        match t.tok {
            Tok::Keyword(K::Select) => {
                Ok(Statement::Select(self.parse_select(IntoClause::Optional)?))
            }
            Tok::Keyword(K::Delete) => self.parse_delete(start),
            Tok::Keyword(K::Show) => self.parse_show(start),
            Tok::Keyword(K::Create) => self.parse_create(start),
            Tok::Keyword(K::Drop) => self.parse_drop(start),
            Tok::Keyword(K::Explain) => self.parse_explain(),
            Tok::Keyword(K::Grant) => self.unsupported(start, U::Grant, Self::parse_grant),
            Tok::Keyword(K::Revoke) => self.unsupported(start, U::Revoke, Self::parse_revoke),
            Tok::Keyword(K::Alter) => {
                self.expect(K::Retention)?;
                self.expect(K::Policy)?;
                self.unsupported(start, U::AlterRetentionPolicy, Self::parse_alter_rp)
            }
            Tok::Keyword(K::Set) => {
                self.expect(K::Password)?;
                self.expect(K::For)?;
                self.unsupported(start, U::SetPassword, Self::parse_set_password)
            }
            Tok::Keyword(K::Kill) => {
                self.expect(K::Query)?;
                self.unsupported(start, U::KillQuery, Self::parse_kill_query)
            }
            _ => Err(self.found(&t, TOP)),
        }
    }

    /// Checks the rest of a statement this server does not run and keeps its text.
    fn unsupported(
        &mut self,
        start: usize,
        kind: U,
        rest: impl FnOnce(&mut Self) -> PResult<()>,
    ) -> PResult<Statement> {
        rest(self)?;
        let text = self.src[start..self.last_end].to_owned();
        Ok(Statement::Unsupported(crate::ast::UnsupportedStatement {
            kind,
            text,
        }))
    }

    fn parse_show(&mut self, start: usize) -> PResult<Statement> {
        let nothing = |_: &mut Self| Ok(());
        let t = self.scan_ws();
        let Tok::Keyword(keyword) = t.tok else {
            return Err(self.found(&t, SHOW));
        };
        match keyword {
            K::Continuous => {
                self.expect(K::Queries)?;
                self.unsupported(start, U::ShowContinuousQueries, nothing)
            }
            K::Databases => Ok(Statement::ShowDatabases),
            K::Diagnostics => self.unsupported(start, U::ShowDiagnostics, Self::parse_for_module),
            K::Field => {
                let t = self.scan_ws();
                match t.tok {
                    Tok::Keyword(K::Key) => {
                        let s = self.parse_show_key_cardinality(CardinalityKind::FieldKey)?;
                        Ok(Statement::ShowCardinality(Box::new(s)))
                    }
                    Tok::Keyword(K::Keys) => {
                        let s = self.parse_show_field_keys()?;
                        Ok(Statement::ShowFieldKeys(Box::new(s)))
                    }
                    _ => Err(self.found(&t, &["KEY", "KEYS"])),
                }
            }
            K::Grants => {
                self.expect(K::For)?;
                self.unsupported(start, U::ShowGrants, |p| p.parse_ident().map(drop))
            }
            K::Measurement => {
                let t = self.scan_ws();
                let exact = match t.tok {
                    Tok::Keyword(K::Exact) => true,
                    Tok::Keyword(K::Cardinality) => false,
                    _ => return Err(self.found(&t, &["EXACT", "CARDINALITY"])),
                };
                let s = self.parse_show_measurement_cardinality(exact)?;
                Ok(Statement::ShowCardinality(Box::new(s)))
            }
            K::Measurements => {
                let s = self.parse_show_measurements()?;
                Ok(Statement::ShowMeasurements(Box::new(s)))
            }
            K::Queries => self.unsupported(start, U::ShowQueries, nothing),
            K::Retention => {
                self.expect(K::Policies)?;
                Ok(Statement::ShowRetentionPolicies(
                    self.parse_show_retention_policies()?,
                ))
            }
            K::Series => self.parse_show_series(),
            K::Shard => {
                self.expect(K::Groups)?;
                self.unsupported(start, U::ShowShardGroups, nothing)
            }
            K::Shards => self.unsupported(start, U::ShowShards, nothing),
            K::Stats => self.unsupported(start, U::ShowStats, Self::parse_for_module),
            K::Subscriptions => self.unsupported(start, U::ShowSubscriptions, nothing),
            K::Tag => {
                let t = self.scan_ws();
                match t.tok {
                    Tok::Keyword(K::Key) => {
                        let s = self.parse_show_key_cardinality(CardinalityKind::TagKey)?;
                        Ok(Statement::ShowCardinality(Box::new(s)))
                    }
                    Tok::Keyword(K::Keys) => {
                        let s = self.parse_show_tag_keys()?;
                        Ok(Statement::ShowTagKeys(Box::new(s)))
                    }
                    Tok::Keyword(K::Values) => self.parse_show_tag_values(),
                    _ => Err(self.found(&t, &["KEY", "KEYS", "VALUES"])),
                }
            }
            K::Users => self.unsupported(start, U::ShowUsers, nothing),
            _ => Err(self.found(&t, SHOW)),
        }
    }

    fn parse_create(&mut self, start: usize) -> PResult<Statement> {
        let t = self.scan_ws();
        match t.tok {
            Tok::Keyword(K::Continuous) => {
                self.expect(K::Query)?;
                self.unsupported(start, U::CreateContinuousQuery, Self::parse_create_cq)
            }
            Tok::Keyword(K::Database) => self.parse_create_database(),
            Tok::Keyword(K::User) => {
                self.unsupported(start, U::CreateUser, Self::parse_create_user)
            }
            Tok::Keyword(K::Retention) => {
                self.expect(K::Policy)?;
                self.unsupported(start, U::CreateRetentionPolicy, Self::parse_create_rp)
            }
            Tok::Keyword(K::Subscription) => self.unsupported(
                start,
                U::CreateSubscription,
                Self::parse_create_subscription,
            ),
            _ => Err(self.found(&t, CREATE)),
        }
    }

    fn parse_drop(&mut self, start: usize) -> PResult<Statement> {
        let ident = |p: &mut Self| p.parse_ident().map(drop);
        let t = self.scan_ws();
        match t.tok {
            Tok::Keyword(K::Continuous) => {
                self.expect(K::Query)?;
                self.unsupported(start, U::DropContinuousQuery, Self::parse_name_on_database)
            }
            Tok::Keyword(K::Database) => self.unsupported(start, U::DropDatabase, ident),
            Tok::Keyword(K::Measurement) => {
                let name = self.parse_ident()?;
                Ok(Statement::DropMeasurement(DropMeasurementStatement {
                    name,
                }))
            }
            Tok::Keyword(K::Retention) => {
                self.expect(K::Policy)?;
                self.unsupported(start, U::DropRetentionPolicy, Self::parse_name_on_database)
            }
            Tok::Keyword(K::Series) => {
                self.unsupported(start, U::DropSeries, |p| p.parse_drop_series(start))
            }
            Tok::Keyword(K::Shard) => {
                self.unsupported(start, U::DropShard, |p| p.parse_u64().map(drop))
            }
            Tok::Keyword(K::Subscription) => {
                self.unsupported(start, U::DropSubscription, Self::parse_drop_subscription)
            }
            Tok::Keyword(K::User) => self.unsupported(start, U::DropUser, ident),
            _ => Err(self.found(&t, DROP)),
        }
    }

    /// `DELETE [FROM sources] [WHERE cond]`, at least one; no database in the sources.
    fn parse_delete(&mut self, start: usize) -> PResult<Statement> {
        let (from, condition) = self.parse_series_selection(start, false)?;
        Ok(Statement::Delete(Box::new(DeleteStatement {
            from,
            condition,
        })))
    }

    /// `[FROM sources] [WHERE cond]` of `DELETE` and `DROP SERIES`: at least one of the two,
    /// and no database (nor, for `DROP SERIES`, retention policy) in the sources.
    pub(crate) fn parse_series_selection(
        &mut self,
        start: usize,
        no_retention_policy: bool,
    ) -> PResult<(Vec<Source>, Option<crate::ast::Expr>)> {
        let t = self.scan_ws();
        let mut from = Vec::new();
        if t.is_keyword(K::From) {
            from = self.parse_sources(false)?;
            for source in &from {
                if let Source::Measurement(m) = source {
                    if m.database.is_some() {
                        return Err(self.error_at("database not supported", start));
                    }
                    if no_retention_policy && m.retention_policy.is_some() {
                        return Err(self.error_at("retention policy not supported", start));
                    }
                }
            }
        } else {
            self.unscan(&t);
        }
        let condition = self.parse_condition()?;
        if from.is_empty() && condition.is_none() {
            return Err(self.found(&t, &["FROM", "WHERE"]));
        }
        Ok((from, condition))
    }

    /// `EXPLAIN [ANALYZE] [VERBOSE] SELECT ...`
    fn parse_explain(&mut self) -> PResult<Statement> {
        let analyze = self.accept(K::Analyze);
        let verbose = self.accept(K::Verbose);
        self.expect(K::Select)?;
        let select = *self.parse_select(IntoClause::Optional)?;
        Ok(Statement::Explain(Box::new(ExplainStatement {
            analyze,
            verbose,
            select,
        })))
    }

    /// `CREATE DATABASE name [WITH [DURATION d] [REPLICATION n] [SHARD DURATION d]
    /// [FUTURE LIMIT d] [PAST LIMIT d] [NAME rp]]`.
    fn parse_create_database(&mut self) -> PResult<Statement> {
        let name = self.parse_ident()?;
        let mut retention_policy = None;
        if self.accept(K::With) {
            let t = self.peek_ws();
            let options = [
                K::Duration,
                K::Name,
                K::Replication,
                K::Shard,
                K::Future,
                K::Past,
            ];
            if !options.iter().any(|&k| t.is_keyword(k)) {
                let expected = ["DURATION", "NAME", "REPLICATION", "SHARD", "FUTURE", "PAST"];
                return Err(self.found(&t, &expected));
            }
            let mut spec = RetentionPolicySpec::default();
            if self.accept(K::Duration) {
                spec.duration = Some(self.parse_duration()?);
            }
            if self.accept(K::Replication) {
                let n = self.parse_int(1, i64::from(i32::MAX))?;
                // parse_int checked 1 <= n <= i32::MAX.
                spec.replication = u32::try_from(n).ok();
            }
            if self.accept(K::Shard) {
                self.expect(K::Duration)?;
                spec.shard_duration = Some(self.parse_duration()?);
            }
            if self.accept(K::Future) {
                spec.future_limit = Some(self.parse_write_limit()?);
            }
            if self.accept(K::Past) {
                spec.past_limit = Some(self.parse_write_limit()?);
            }
            if self.accept(K::Name) {
                spec.name = Some(self.parse_ident()?);
            }
            retention_policy = Some(spec);
        }
        Ok(Statement::CreateDatabase(CreateDatabaseStatement {
            name,
            retention_policy,
        }))
    }

    /// `LIMIT d` after `FUTURE` or `PAST`.
    pub(crate) fn parse_write_limit(&mut self) -> PResult<crate::duration::Duration> {
        self.expect(K::Limit)?;
        self.parse_duration()
    }
}
