//! Printing the `SHOW` statements.

use std::fmt::{self, Display, Formatter};

use super::statement::{write_from, write_group_by, write_int, write_on, write_order, write_where};
use crate::ast::{
    CardinalityKind, MeasurementName, NameOrWildcard, ShowCardinalityStatement,
    ShowFieldKeysStatement, ShowMeasurementsStatement, ShowRetentionPoliciesStatement,
    ShowSeriesStatement, ShowTagKeysStatement, ShowTagValuesStatement, WithKey,
};
use crate::quote::write_ident;

impl Display for NameOrWildcard {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            NameOrWildcard::Name(name) => write_ident(f, name),
            NameOrWildcard::Wildcard => f.write_str("*"),
        }
    }
}

impl Display for WithKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("WITH KEY ")?;
        match self {
            WithKey::Eq(key) => {
                f.write_str("= ")?;
                write_ident(f, key)
            }
            WithKey::NotEq(key) => {
                f.write_str("!= ")?;
                write_ident(f, key)
            }
            WithKey::EqRegex(re) => write!(f, "=~ {re}"),
            WithKey::NotEqRegex(re) => write!(f, "!~ {re}"),
            WithKey::In(keys) => {
                f.write_str("IN (")?;
                for (i, key) in keys.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_ident(f, key)?;
                }
                f.write_str(")")
            }
        }
    }
}

impl Display for ShowMeasurementsStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SHOW MEASUREMENTS")?;
        if let Some((database, retention_policy)) = &self.on {
            write!(f, " ON {database}")?;
            if let Some(rp) = retention_policy {
                write!(f, ".{rp}")?;
            }
        }
        if let Some(m) = &self.with_measurement {
            let op = match m.name {
                MeasurementName::Regex(_) => "=~",
                MeasurementName::Name(_) => "=",
            };
            write!(f, " WITH MEASUREMENT {op} {m}")?;
        }
        write_where(f, self.condition.as_ref())?;
        write_order(f, self.order)?;
        write_int(f, "LIMIT", self.limit)?;
        write_int(f, "OFFSET", self.offset)
    }
}

impl Display for ShowRetentionPoliciesStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SHOW RETENTION POLICIES")?;
        write_on(f, self.on.as_ref())
    }
}

impl Display for ShowTagKeysStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SHOW TAG KEYS")?;
        write_on(f, self.on.as_ref())?;
        write_from(f, &self.from)?;
        if let Some(key) = &self.with_key {
            write!(f, " {key}")?;
        }
        write_where(f, self.condition.as_ref())?;
        write_order(f, self.order)?;
        write_int(f, "LIMIT", self.limit)?;
        write_int(f, "OFFSET", self.offset)?;
        write_int(f, "SLIMIT", self.slimit)?;
        write_int(f, "SOFFSET", self.soffset)
    }
}

impl Display for ShowTagValuesStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SHOW TAG VALUES")?;
        write_on(f, self.on.as_ref())?;
        write_from(f, &self.from)?;
        write!(f, " {}", self.with_key)?;
        write_where(f, self.condition.as_ref())?;
        write_order(f, self.order)?;
        write_int(f, "LIMIT", self.limit)?;
        write_int(f, "OFFSET", self.offset)
    }
}

impl Display for ShowFieldKeysStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SHOW FIELD KEYS")?;
        write_on(f, self.on.as_ref())?;
        write_from(f, &self.from)?;
        write_order(f, self.order)?;
        write_int(f, "LIMIT", self.limit)?;
        write_int(f, "OFFSET", self.offset)
    }
}

impl Display for ShowSeriesStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SHOW SERIES")?;
        write_on(f, self.on.as_ref())?;
        write_from(f, &self.from)?;
        write_where(f, self.condition.as_ref())?;
        write_order(f, self.order)?;
        write_int(f, "LIMIT", self.limit)?;
        write_int(f, "OFFSET", self.offset)
    }
}

impl Display for ShowCardinalityStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            CardinalityKind::Measurement => "SHOW MEASUREMENT",
            CardinalityKind::Series => "SHOW SERIES",
            CardinalityKind::TagKey => "SHOW TAG KEY",
            CardinalityKind::TagValues(_) => "SHOW TAG VALUES",
            CardinalityKind::FieldKey => "SHOW FIELD KEY",
        })?;
        if self.exact {
            f.write_str(" EXACT")?;
        }
        f.write_str(" CARDINALITY")?;
        write_on(f, self.on.as_ref())?;
        write_from(f, &self.from)?;
        if let CardinalityKind::TagValues(key) = &self.kind {
            write!(f, " {key}")?;
        }
        write_where(f, self.condition.as_ref())?;
        write_group_by(f, &self.group_by)?;
        write_int(f, "LIMIT", self.limit)?;
        write_int(f, "OFFSET", self.offset)
    }
}
