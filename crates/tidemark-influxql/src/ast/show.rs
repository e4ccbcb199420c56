//! The `SHOW` statements that read schema: measurements, tag keys and values, field keys,
//! series, retention policies, and cardinalities.

use super::expr::{Expr, Regex};
use super::select::{Measurement, Order, Source};

/// `SHOW MEASUREMENTS [ON db[.rp]] [WITH MEASUREMENT =|=~ m] [WHERE cond] [ORDER BY ..]
/// [LIMIT n] [OFFSET n]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowMeasurementsStatement {
    /// `ON db`, `ON db.rp`, `ON *`, `ON *.*`.
    pub on: Option<(NameOrWildcard, Option<NameOrWildcard>)>,
    /// `WITH MEASUREMENT = name` or `=~ /regex/`. 1.x keeps only the measurement, not which
    /// of the two operators was written; `Display` writes `=~` before a regex, else `=`.
    pub with_measurement: Option<Measurement>,
    /// `WHERE`.
    pub condition: Option<Expr>,
    /// `ORDER BY [time] ASC|DESC`.
    pub order: Option<Order>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
}

/// A database or retention policy in `SHOW MEASUREMENTS ON`: a name or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameOrWildcard {
    /// A name.
    Name(String),
    /// `*`: all of them.
    Wildcard,
}

/// `SHOW RETENTION POLICIES [ON db]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShowRetentionPoliciesStatement {
    /// `ON db`.
    pub on: Option<String>,
}

/// `WITH KEY ...` in `SHOW TAG KEYS` and `SHOW TAG VALUES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WithKey {
    /// `= key`
    Eq(String),
    /// `!= key`
    NotEq(String),
    /// `=~ /regex/`
    EqRegex(Regex),
    /// `!~ /regex/`
    NotEqRegex(Regex),
    /// `IN (key, ...)`
    In(Vec<String>),
}

/// `SHOW TAG KEYS [ON db] [FROM ..] [WITH KEY ..] [WHERE ..] [ORDER BY ..] [LIMIT n]
/// [OFFSET n] [SLIMIT n] [SOFFSET n]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowTagKeysStatement {
    /// `ON db`.
    pub on: Option<String>,
    /// `FROM`: empty when absent. Measurements and regexes only.
    pub from: Vec<Source>,
    /// `WITH KEY`.
    pub with_key: Option<WithKey>,
    /// `WHERE`.
    pub condition: Option<Expr>,
    /// `ORDER BY [time] ASC|DESC`.
    pub order: Option<Order>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
    /// `SLIMIT`.
    pub slimit: Option<u64>,
    /// `SOFFSET`.
    pub soffset: Option<u64>,
}

/// `SHOW TAG VALUES [ON db] [FROM ..] WITH KEY .. [WHERE ..] [ORDER BY ..] [LIMIT n]
/// [OFFSET n]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowTagValuesStatement {
    /// `ON db`.
    pub on: Option<String>,
    /// `FROM`: empty when absent.
    pub from: Vec<Source>,
    /// `WITH KEY` (required).
    pub with_key: WithKey,
    /// `WHERE`.
    pub condition: Option<Expr>,
    /// `ORDER BY [time] ASC|DESC`.
    pub order: Option<Order>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
}

/// `SHOW FIELD KEYS [ON db] [FROM ..] [ORDER BY ..] [LIMIT n] [OFFSET n]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowFieldKeysStatement {
    /// `ON db`.
    pub on: Option<String>,
    /// `FROM`: empty when absent.
    pub from: Vec<Source>,
    /// `ORDER BY [time] ASC|DESC`.
    pub order: Option<Order>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
}

/// `SHOW SERIES [ON db] [FROM ..] [WHERE ..] [ORDER BY ..] [LIMIT n] [OFFSET n]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowSeriesStatement {
    /// `ON db`.
    pub on: Option<String>,
    /// `FROM`: empty when absent.
    pub from: Vec<Source>,
    /// `WHERE`.
    pub condition: Option<Expr>,
    /// `ORDER BY [time] ASC|DESC`.
    pub order: Option<Order>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
}

/// `SHOW <kind> [EXACT] CARDINALITY [ON db] [FROM ..] [WITH KEY ..] [WHERE ..] [GROUP BY ..]
/// [LIMIT n] [OFFSET n]`; `WITH KEY` belongs to (and is required by) `TAG VALUES`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowCardinalityStatement {
    /// What is counted.
    pub kind: CardinalityKind,
    /// `EXACT`.
    pub exact: bool,
    /// `ON db`.
    pub on: Option<String>,
    /// `FROM`: empty when absent.
    pub from: Vec<Source>,
    /// `WHERE`.
    pub condition: Option<Expr>,
    /// `GROUP BY`.
    pub group_by: Vec<Expr>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
}

/// What a cardinality statement counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardinalityKind {
    /// `SHOW MEASUREMENT [EXACT] CARDINALITY`
    Measurement,
    /// `SHOW SERIES [EXACT] CARDINALITY`
    Series,
    /// `SHOW TAG KEY [EXACT] CARDINALITY`
    TagKey,
    /// `SHOW TAG VALUES [EXACT] CARDINALITY ... WITH KEY ...`
    TagValues(WithKey),
    /// `SHOW FIELD KEY [EXACT] CARDINALITY`
    FieldKey,
}
