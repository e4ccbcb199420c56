//! The time range a query's filters allow, so that a scan asks the engine only for the
//! partitions and files that can hold matching rows.
//!
//! The range only prunes: DataFusion still applies every filter to the rows read, so a bound
//! this module cannot understand is simply left open, never guessed.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use tidemark_storage::schema::TIME_COLUMN;

/// An inclusive range of nanosecond times; empty when `min > max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeRange {
    pub(crate) min: i64,
    pub(crate) max: i64,
}

impl Default for TimeRange {
    fn default() -> Self {
        Self::ALL
    }
}

impl TimeRange {
    pub(crate) const ALL: Self = Self {
        min: i64::MIN,
        max: i64::MAX,
    };
    const EMPTY: Self = Self { min: 1, max: 0 };

    pub(crate) fn is_empty(&self) -> bool {
        self.min > self.max
    }

    pub(crate) fn intersect(self, other: Self) -> Self {
        Self {
            min: self.min.max(other.min),
            max: self.max.min(other.max),
        }
    }

    fn at_least(min: i64) -> Self {
        Self { min, max: i64::MAX }
    }

    fn at_most(max: i64) -> Self {
        Self { min: i64::MIN, max }
    }

    /// The range every filter (they are ANDed) allows.
    pub(crate) fn from_filters(filters: &[Expr]) -> Self {
        filters
            .iter()
            .fold(Self::ALL, |range, f| range.intersect(Self::from_expr(f)))
    }

    fn from_expr(expr: &Expr) -> Self {
        match expr {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
                Operator::And => Self::from_expr(left).intersect(Self::from_expr(right)),
                _ => comparison(left, *op, right).unwrap_or(Self::ALL),
            },
            Expr::Between(Between {
                expr,
                negated: false,
                low,
                high,
            }) if is_time(expr) => match (timestamp(low), timestamp(high)) {
                (Some(low), Some(high)) => Self {
                    min: low,
                    max: high,
                },
                (Some(low), None) => Self::at_least(low),
                (None, Some(high)) => Self::at_most(high),
                (None, None) => Self::ALL,
            },
            _ => Self::ALL,
        }
    }
}

/// `time <op> literal` or `literal <op> time`.
fn comparison(left: &Expr, op: Operator, right: &Expr) -> Option<TimeRange> {
    let (op, value) = if is_time(left) {
        (op, timestamp(right)?)
    } else if is_time(right) {
        (op.swap()?, timestamp(left)?)
    } else {
        return None;
    };
    Some(match op {
        Operator::Eq => TimeRange {
            min: value,
            max: value,
        },
        Operator::Gt => value
            .checked_add(1)
            .map_or(TimeRange::EMPTY, TimeRange::at_least),
        Operator::GtEq => TimeRange::at_least(value),
        Operator::Lt => value
            .checked_sub(1)
            .map_or(TimeRange::EMPTY, TimeRange::at_most),
        Operator::LtEq => TimeRange::at_most(value),
        _ => return None,
    })
}

/// The time column itself, or a cast of it that keeps nanosecond values (a time zone only
/// changes how the same instant is shown).
fn is_time(expr: &Expr) -> bool {
    match expr {
        Expr::Column(c) => c.name == TIME_COLUMN,
        Expr::Cast(c) => {
            matches!(
                c.field.data_type(),
                DataType::Timestamp(TimeUnit::Nanosecond, _)
            ) && is_time(&c.expr)
        }
        _ => false,
    }
}

/// A timestamp literal in nanoseconds. Coarser units convert exactly; a value too large for
/// nanoseconds is treated as unknown (no bound), which is always safe.
fn timestamp(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    match value {
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampMicrosecond(Some(v), _) => v.checked_mul(1_000),
        ScalarValue::TimestampMillisecond(Some(v), _) => v.checked_mul(1_000_000),
        ScalarValue::TimestampSecond(Some(v), _) => v.checked_mul(1_000_000_000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::{col, lit};

    use super::*;

    fn ts(v: i64) -> Expr {
        lit(ScalarValue::TimestampNanosecond(Some(v), None))
    }

    fn range(filters: &[Expr]) -> (i64, i64) {
        let r = TimeRange::from_filters(filters);
        (r.min, r.max)
    }

    #[test]
    fn bounds_from_comparisons() {
        assert_eq!(range(&[col("time").gt(ts(10))]), (11, i64::MAX));
        assert_eq!(range(&[col("time").gt_eq(ts(10))]), (10, i64::MAX));
        assert_eq!(range(&[col("time").lt(ts(10))]), (i64::MIN, 9));
        assert_eq!(range(&[col("time").lt_eq(ts(10))]), (i64::MIN, 10));
        assert_eq!(range(&[col("time").eq(ts(10))]), (10, 10));
        assert_eq!(range(&[ts(10).lt(col("time"))]), (11, i64::MAX));
        assert_eq!(range(&[col("time").between(ts(5), ts(7))]), (5, 7));
        assert_eq!(
            range(&[
                col("time").gt_eq(ts(5)).and(col("time").lt(ts(9))),
                col("host").eq(lit("a"))
            ]),
            (5, 8)
        );
        let micros = lit(ScalarValue::TimestampMicrosecond(
            Some(2),
            Some("UTC".into()),
        ));
        assert_eq!(range(&[col("time").gt_eq(micros)]), (2_000, i64::MAX));
    }

    #[test]
    fn unknown_shapes_leave_the_range_open() {
        assert_eq!(
            range(&[col("time").not_between(ts(5), ts(7))]),
            (i64::MIN, i64::MAX)
        );
        assert_eq!(
            range(&[col("time").gt(ts(5)).or(col("time").lt(ts(1)))]),
            (i64::MIN, i64::MAX)
        );
        assert_eq!(range(&[col("usage").gt(lit(5.0))]), (i64::MIN, i64::MAX));
        assert_eq!(range(&[col("time").not_eq(ts(5))]), (i64::MIN, i64::MAX));
        assert!(TimeRange::from_filters(&[col("time").gt(ts(i64::MAX))]).is_empty());
        assert!(
            TimeRange::from_filters(&[col("time").gt(ts(9)), col("time").lt(ts(3))]).is_empty()
        );
    }
}
