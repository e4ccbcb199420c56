//! Printing statements: keywords upper case, clauses in the order the grammar wants them.

use std::fmt::{self, Display, Formatter, Write};

use super::expr::{join, write_float};
use crate::ast::{
    CreateDatabaseStatement, DeleteStatement, DropMeasurementStatement, ExplainStatement, Field,
    Fill, Measurement, MeasurementName, Order, Query, SelectStatement, Source, Statement, Target,
};
use crate::quote::{write_ident, write_string};

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        join(f, &self.statements, ";\n")
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Select(s) => s.fmt(f),
            Statement::Explain(s) => s.fmt(f),
            Statement::ShowDatabases => f.write_str("SHOW DATABASES"),
            Statement::ShowMeasurements(s) => s.fmt(f),
            Statement::ShowRetentionPolicies(s) => s.fmt(f),
            Statement::ShowTagKeys(s) => s.fmt(f),
            Statement::ShowTagValues(s) => s.fmt(f),
            Statement::ShowFieldKeys(s) => s.fmt(f),
            Statement::ShowSeries(s) => s.fmt(f),
            Statement::ShowCardinality(s) => s.fmt(f),
            Statement::CreateDatabase(s) => s.fmt(f),
            Statement::DropMeasurement(s) => s.fmt(f),
            Statement::Delete(s) => s.fmt(f),
            Statement::Unsupported(s) => f.write_str(&s.text),
        }
    }
}

/// ` KEYWORD n` if `n` is set.
pub(crate) fn write_int(f: &mut Formatter<'_>, keyword: &str, n: Option<u64>) -> fmt::Result {
    match n {
        Some(n) => write!(f, " {keyword} {n}"),
        None => Ok(()),
    }
}

/// ` ON db` if set.
pub(crate) fn write_on(f: &mut Formatter<'_>, on: Option<&String>) -> fmt::Result {
    if let Some(db) = on {
        f.write_str(" ON ")?;
        write_ident(f, db)?;
    }
    Ok(())
}

/// ` FROM a, b` if there are sources.
pub(crate) fn write_from(f: &mut Formatter<'_>, from: &[Source]) -> fmt::Result {
    if !from.is_empty() {
        f.write_str(" FROM ")?;
        join(f, from, ", ")?;
    }
    Ok(())
}

/// ` WHERE cond` if set.
pub(crate) fn write_where(
    f: &mut Formatter<'_>,
    condition: Option<&crate::ast::Expr>,
) -> fmt::Result {
    match condition {
        Some(c) => write!(f, " WHERE {c}"),
        None => Ok(()),
    }
}

/// ` GROUP BY a, b` if there are dimensions.
pub(crate) fn write_group_by(f: &mut Formatter<'_>, dims: &[crate::ast::Expr]) -> fmt::Result {
    if !dims.is_empty() {
        f.write_str(" GROUP BY ")?;
        join(f, dims, ", ")?;
    }
    Ok(())
}

/// ` ORDER BY time ASC|DESC` if set.
pub(crate) fn write_order(f: &mut Formatter<'_>, order: Option<Order>) -> fmt::Result {
    match order {
        Some(Order::Ascending) => f.write_str(" ORDER BY time ASC"),
        Some(Order::Descending) => f.write_str(" ORDER BY time DESC"),
        None => Ok(()),
    }
}

impl Display for SelectStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        join(f, &self.fields, ", ")?;
        if let Some(target) = &self.into {
            write!(f, " {target}")?;
        }
        write_from(f, &self.from)?;
        write_where(f, self.condition.as_ref())?;
        write_group_by(f, &self.group_by)?;
        if let Some(fill) = &self.fill {
            write!(f, " {fill}")?;
        }
        write_order(f, self.order)?;
        write_int(f, "LIMIT", self.limit)?;
        write_int(f, "OFFSET", self.offset)?;
        write_int(f, "SLIMIT", self.slimit)?;
        write_int(f, "SOFFSET", self.soffset)?;
        if let Some(tz) = &self.timezone {
            f.write_str(" tz(")?;
            write_string(f, tz)?;
            f.write_char(')')?;
        }
        Ok(())
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)?;
        if let Some(alias) = &self.alias {
            f.write_str(" AS ")?;
            write_ident(f, alias)?;
        }
        Ok(())
    }
}

impl Display for Source {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Source::Measurement(m) => m.fmt(f),
            Source::Subquery(s) => write!(f, "({s})"),
        }
    }
}

/// `db.rp.`, `db..` or `rp.`: the qualifier in front of a measurement.
fn write_qualifier(
    f: &mut Formatter<'_>,
    database: Option<&String>,
    retention_policy: Option<&String>,
) -> fmt::Result {
    if let Some(db) = database {
        write_ident(f, db)?;
        f.write_char('.')?;
    }
    if let Some(rp) = retention_policy {
        write_ident(f, rp)?;
    }
    if database.is_some() || retention_policy.is_some() {
        f.write_char('.')?;
    }
    Ok(())
}

impl Display for Measurement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_qualifier(f, self.database.as_ref(), self.retention_policy.as_ref())?;
        match &self.name {
            MeasurementName::Name(name) => write_ident(f, name),
            MeasurementName::Regex(re) => re.fmt(f),
        }
    }
}

impl Display for Target {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("INTO ")?;
        match &self.measurement {
            Some(name) => {
                write_qualifier(f, self.database.as_ref(), self.retention_policy.as_ref())?;
                write_ident(f, name)
            }
            None => {
                if self.database.is_none() && self.retention_policy.is_none() {
                    // `:MEASUREMENT` must follow a dot; an empty retention policy is none.
                    f.write_str("\"\".")?;
                } else {
                    write_qualifier(f, self.database.as_ref(), self.retention_policy.as_ref())?;
                }
                f.write_str(":MEASUREMENT")
            }
        }
    }
}

impl Display for Fill {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("fill(")?;
        match self {
            Fill::Null => f.write_str("null")?,
            Fill::None => f.write_str("none")?,
            Fill::Previous => f.write_str("previous")?,
            Fill::Linear => f.write_str("linear")?,
            Fill::Integer(n) => write!(f, "{n}")?,
            Fill::Float(v) => write_float(f, *v)?,
        }
        f.write_char(')')
    }
}

impl Display for ExplainStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("EXPLAIN ")?;
        if self.analyze {
            f.write_str("ANALYZE ")?;
        }
        if self.verbose {
            f.write_str("VERBOSE ")?;
        }
        self.select.fmt(f)
    }
}

impl Display for CreateDatabaseStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("CREATE DATABASE ")?;
        write_ident(f, &self.name)?;
        let Some(rp) = &self.retention_policy else {
            return Ok(());
        };
        f.write_str(" WITH")?;
        if let Some(d) = rp.duration {
            write!(f, " DURATION {d}")?;
        }
        if let Some(n) = rp.replication {
            write!(f, " REPLICATION {n}")?;
        }
        if let Some(d) = rp.shard_duration {
            write!(f, " SHARD DURATION {d}")?;
        }
        if let Some(d) = rp.future_limit {
            write!(f, " FUTURE LIMIT {d}")?;
        }
        if let Some(d) = rp.past_limit {
            write!(f, " PAST LIMIT {d}")?;
        }
        if let Some(name) = &rp.name {
            f.write_str(" NAME ")?;
            write_ident(f, name)?;
        }
        Ok(())
    }
}

impl Display for DropMeasurementStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("DROP MEASUREMENT ")?;
        write_ident(f, &self.name)
    }
}

impl Display for DeleteStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("DELETE")?;
        write_from(f, &self.from)?;
        write_where(f, self.condition.as_ref())
    }
}
