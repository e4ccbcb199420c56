//! `SELECT` and the pieces it shares with other statements: sources and measurements.

use super::expr::{Expr, Regex};

/// `SELECT fields [INTO target] FROM sources [WHERE cond] [GROUP BY dims] [fill(..)]
/// [ORDER BY time ASC|DESC] [LIMIT n] [OFFSET n] [SLIMIT n] [SOFFSET n] [tz('..')]`, clauses in
/// that order.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectStatement {
    /// The projection; at least one.
    pub fields: Vec<Field>,
    /// `INTO`: parsed so that the planner can refuse it by name.
    pub into: Option<Target>,
    /// `FROM`: at least one measurement, regex or subquery.
    pub from: Vec<Source>,
    /// `WHERE`.
    pub condition: Option<Expr>,
    /// `GROUP BY`: expressions as written, as in 1.x: `time(10m[, offset])` is a call, a tag
    /// a reference, `*` a wildcard, `/re/` a regex literal. The planner checks them.
    pub group_by: Vec<Expr>,
    /// `fill(..)`; `None` when absent (1.x's default is `fill(null)`).
    pub fill: Option<Fill>,
    /// `ORDER BY time ASC|DESC` (1.x orders by nothing else).
    pub order: Option<Order>,
    /// `LIMIT` (values above `i64::MAX` read as `i64::MAX`, as in 1.x).
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
    /// `SLIMIT`.
    pub slimit: Option<u64>,
    /// `SOFFSET`.
    pub soffset: Option<u64>,
    /// `tz('Area/City')`: the name, not checked against a time-zone database.
    pub timezone: Option<String>,
}

/// One projected expression and its `AS` alias.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The expression: no comparison or logical operator (1.x refuses them here). A
    /// `/regex/` selects the fields it matches.
    pub expr: Expr,
    /// `AS alias`.
    pub alias: Option<String>,
}

/// A `FROM` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A measurement name or regex, maybe qualified by database and retention policy.
    Measurement(Measurement),
    /// `(SELECT ...)`.
    Subquery(Box<SelectStatement>),
}

/// `[db.[rp].]name` or `[db.[rp].]/regex/`. `"db".."m"` leaves the retention policy out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    /// The database, if named (an empty name counts as none).
    pub database: Option<String>,
    /// The retention policy, if named (an empty name counts as none).
    pub retention_policy: Option<String>,
    /// The measurement.
    pub name: MeasurementName,
}

/// A measurement name, or a regex over names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeasurementName {
    /// A name (it may be empty: `""`).
    Name(String),
    /// `/regex/`.
    Regex(Regex),
}

/// `INTO [db.[rp].]measurement` or `INTO [db.[rp].]:MEASUREMENT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The database, if named.
    pub database: Option<String>,
    /// The retention policy, if named.
    pub retention_policy: Option<String>,
    /// The measurement; `None` for `:MEASUREMENT` (each source's own name).
    pub measurement: Option<String>,
}

/// `fill(..)`.
#[derive(Debug, Clone, PartialEq)]
pub enum Fill {
    /// `fill(null)`
    Null,
    /// `fill(none)`
    None,
    /// `fill(previous)`
    Previous,
    /// `fill(linear)`
    Linear,
    /// `fill(5)`
    Integer(i64),
    /// `fill(1.5)`
    Float(f64),
}

/// The direction of `ORDER BY time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// `ASC` (the default when only `time` is given).
    Ascending,
    /// `DESC`
    Descending,
}

impl SelectStatement {
    /// A `SELECT fields FROM from` with no other clause.
    pub fn new(fields: Vec<Field>, from: Vec<Source>) -> SelectStatement {
        SelectStatement {
            fields,
            into: None,
            from,
            condition: None,
            group_by: Vec::new(),
            fill: None,
            order: None,
            limit: None,
            offset: None,
            slimit: None,
            soffset: None,
            timezone: None,
        }
    }
}

impl Measurement {
    /// An unqualified measurement name.
    pub fn named(name: impl Into<String>) -> Measurement {
        Measurement {
            database: None,
            retention_policy: None,
            name: MeasurementName::Name(name.into()),
        }
    }
}
