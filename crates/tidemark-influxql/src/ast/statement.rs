//! Statements and the query that holds them.

use super::expr::Expr;
use super::select::{SelectStatement, Source};
use super::show::{
    ShowCardinalityStatement, ShowFieldKeysStatement, ShowMeasurementsStatement,
    ShowRetentionPoliciesStatement, ShowSeriesStatement, ShowTagKeysStatement,
    ShowTagValuesStatement,
};
use crate::duration::Duration;

/// Statements separated by `;` (an empty query has none).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// The statements in order.
    pub statements: Vec<Statement>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `SELECT ...`
    Select(Box<SelectStatement>),
    /// `EXPLAIN [ANALYZE] [VERBOSE] SELECT ...`
    Explain(Box<ExplainStatement>),
    /// `SHOW DATABASES`
    ShowDatabases,
    /// `SHOW MEASUREMENTS ...`
    ShowMeasurements(Box<ShowMeasurementsStatement>),
    /// `SHOW RETENTION POLICIES [ON db]`
    ShowRetentionPolicies(ShowRetentionPoliciesStatement),
    /// `SHOW TAG KEYS ...`
    ShowTagKeys(Box<ShowTagKeysStatement>),
    /// `SHOW TAG VALUES ... WITH KEY ...`
    ShowTagValues(Box<ShowTagValuesStatement>),
    /// `SHOW FIELD KEYS ...`
    ShowFieldKeys(Box<ShowFieldKeysStatement>),
    /// `SHOW SERIES ...`
    ShowSeries(Box<ShowSeriesStatement>),
    /// `SHOW MEASUREMENT|SERIES|TAG KEY|TAG VALUES|FIELD KEY [EXACT] CARDINALITY ...`
    ShowCardinality(Box<ShowCardinalityStatement>),
    /// `CREATE DATABASE name [WITH ...]`
    CreateDatabase(CreateDatabaseStatement),
    /// `DROP MEASUREMENT name`
    DropMeasurement(DropMeasurementStatement),
    /// `DELETE [FROM ...] [WHERE ...]`
    Delete(Box<DeleteStatement>),
    /// A 1.x statement that this server does not run (users, grants, retention-policy and
    /// continuous-query management, subscriptions, `KILL QUERY`, `SHOW QUERIES`, ...). Its
    /// grammar was checked as 1.x checks it.
    Unsupported(UnsupportedStatement),
}

/// `EXPLAIN [ANALYZE] [VERBOSE] SELECT ...`
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainStatement {
    /// `ANALYZE`: run the query and report what it did.
    pub analyze: bool,
    /// `VERBOSE`.
    pub verbose: bool,
    /// The query explained.
    pub select: SelectStatement,
}

/// `CREATE DATABASE name [WITH [DURATION d] [REPLICATION n] [SHARD DURATION d]
/// [FUTURE LIMIT d] [PAST LIMIT d] [NAME rp]]`, options in that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateDatabaseStatement {
    /// The database name.
    pub name: String,
    /// The options after `WITH`, if it was given; at least one is set.
    pub retention_policy: Option<RetentionPolicySpec>,
}

/// The default retention policy `CREATE DATABASE ... WITH` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionPolicySpec {
    /// `DURATION d` (`INF` is zero: keep forever).
    pub duration: Option<Duration>,
    /// `REPLICATION n`, 1 to 2147483647.
    pub replication: Option<u32>,
    /// `SHARD DURATION d`.
    pub shard_duration: Option<Duration>,
    /// `FUTURE LIMIT d`.
    pub future_limit: Option<Duration>,
    /// `PAST LIMIT d`.
    pub past_limit: Option<Duration>,
    /// `NAME rp`.
    pub name: Option<String>,
}

/// `DROP MEASUREMENT name`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropMeasurementStatement {
    /// The measurement.
    pub name: String,
}

/// `DELETE [FROM sources] [WHERE cond]` (at least one of the two). Sources name no database.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteStatement {
    /// `FROM`: measurements and regexes; empty when absent.
    pub from: Vec<Source>,
    /// `WHERE`.
    pub condition: Option<Expr>,
}

/// A statement 1.x has and this server does not run: which one, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedStatement {
    /// Which statement.
    pub kind: UnsupportedKind,
    /// Its text as written, from its first keyword to its last token.
    pub text: String,
}

macro_rules! unsupported_kinds {
    ($($variant:ident => $name:literal,)*) => {
        /// The 1.x statements this server parses but does not run.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum UnsupportedKind {
            $(#[doc = $name] $variant,)*
        }

        impl UnsupportedKind {
            /// The statement's name, e.g. `CREATE USER`.
            pub fn name(self) -> &'static str {
                match self {
                    $(UnsupportedKind::$variant => $name,)*
                }
            }
        }
    };
}

unsupported_kinds! {
    AlterRetentionPolicy => "ALTER RETENTION POLICY",
    CreateContinuousQuery => "CREATE CONTINUOUS QUERY",
    CreateRetentionPolicy => "CREATE RETENTION POLICY",
    CreateSubscription => "CREATE SUBSCRIPTION",
    CreateUser => "CREATE USER",
    DropContinuousQuery => "DROP CONTINUOUS QUERY",
    DropDatabase => "DROP DATABASE",
    DropRetentionPolicy => "DROP RETENTION POLICY",
    DropSeries => "DROP SERIES",
    DropShard => "DROP SHARD",
    DropSubscription => "DROP SUBSCRIPTION",
    DropUser => "DROP USER",
    Grant => "GRANT",
    KillQuery => "KILL QUERY",
    Revoke => "REVOKE",
    SetPassword => "SET PASSWORD",
    ShowContinuousQueries => "SHOW CONTINUOUS QUERIES",
    ShowDiagnostics => "SHOW DIAGNOSTICS",
    ShowGrants => "SHOW GRANTS",
    ShowQueries => "SHOW QUERIES",
    ShowShardGroups => "SHOW SHARD GROUPS",
    ShowShards => "SHOW SHARDS",
    ShowStats => "SHOW STATS",
    ShowSubscriptions => "SHOW SUBSCRIPTIONS",
    ShowUsers => "SHOW USERS",
}
