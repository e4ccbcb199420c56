//! One cell of an InfluxQL result, and the arithmetic 1.x applies to cells.
//!
//! The evaluator works on rows of these rather than on Arrow arrays because InfluxQL's
//! functions (selectors with companion fields, fill, derivatives) walk points one by one
//! within a series, and their typing rules (integer division gives a float, division by zero
//! gives zero) are not SQL's.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampNanosecondArray,
    UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use tidemark_influxql::BinaryOp;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Float(f64),
    Int(i64),
    UInt(u64),
    Str(Arc<str>),
    Bool(bool),
}

impl Value {
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            _ => None,
        }
    }

    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self, Value::Float(_) | Value::Int(_) | Value::UInt(_))
    }

    /// A total order for sorting values of one column: nulls first, then booleans, numbers
    /// (compared as numbers whatever their type), strings.
    pub(crate) fn total_cmp(&self, other: &Value) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Float(_) | Value::Int(_) | Value::UInt(_) => 2,
                Value::Str(_) => 3,
            }
        }
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::UInt(a), Value::UInt(b)) => a.cmp(b),
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (a, b) if a.is_numeric() && b.is_numeric() => {
                let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
                x.total_cmp(&y)
            }
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }

    /// `self op other` as 1.x evaluates it: null in, null out; integer division is a float;
    /// dividing by zero gives zero; operations that make no sense for the types give null.
    pub(crate) fn binary(&self, op: BinaryOp, other: &Value) -> Value {
        use BinaryOp as B;
        match (self, other) {
            (Value::Null, _) | (_, Value::Null) => Value::Null,
            (Value::Int(a), Value::Int(b)) => int_op(*a, op, *b),
            (Value::UInt(a), Value::UInt(b)) => uint_op(*a, op, *b),
            (Value::Int(a), Value::UInt(b)) | (Value::UInt(b), Value::Int(a))
                if matches!(op, B::Add | B::Mul) =>
            {
                uint_op(*a as u64, op, *b)
            }
            (Value::Bool(a), Value::Bool(b)) => match op {
                B::BitAnd => Value::Bool(a & b),
                B::BitOr => Value::Bool(a | b),
                B::BitXor => Value::Bool(a ^ b),
                _ => Value::Null,
            },
            (a, b) if a.is_numeric() && b.is_numeric() => {
                let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
                float_op(x, op, y)
            }
            _ => Value::Null,
        }
    }

    /// A cast with `::type` as 1.x applies it to a value read from storage.
    pub(crate) fn cast_to(&self, to: tidemark_influxql::DataType) -> Value {
        use tidemark_influxql::DataType as T;
        match (to, self) {
            (T::Float, v) if v.is_numeric() => Value::Float(v.as_f64().unwrap_or(0.0)),
            (T::Integer, Value::Float(f)) => Value::Int(*f as i64),
            (T::Integer, Value::Int(i)) => Value::Int(*i),
            (T::Integer, Value::UInt(u)) => Value::Int(*u as i64),
            (T::Unsigned, Value::Float(f)) => Value::UInt(*f as u64),
            (T::Unsigned, Value::Int(i)) => Value::UInt(*i as u64),
            (T::Unsigned, Value::UInt(u)) => Value::UInt(*u),
            (T::String, Value::Str(s)) => Value::Str(Arc::clone(s)),
            (T::Boolean, Value::Bool(b)) => Value::Bool(*b),
            (T::Tag | T::Field, v) => v.clone(),
            _ => Value::Null,
        }
    }
}

fn int_op(a: i64, op: BinaryOp, b: i64) -> Value {
    use BinaryOp as B;
    match op {
        B::Add => Value::Int(a.wrapping_add(b)),
        B::Sub => Value::Int(a.wrapping_sub(b)),
        B::Mul => Value::Int(a.wrapping_mul(b)),
        B::Div if b == 0 => Value::Float(0.0),
        B::Div => Value::Float(a as f64 / b as f64),
        B::Mod if b == 0 => Value::Int(0),
        B::Mod => Value::Int(a.wrapping_rem(b)),
        B::BitAnd => Value::Int(a & b),
        B::BitOr => Value::Int(a | b),
        B::BitXor => Value::Int(a ^ b),
        _ => Value::Null,
    }
}

fn uint_op(a: u64, op: BinaryOp, b: u64) -> Value {
    use BinaryOp as B;
    match op {
        B::Add => Value::UInt(a.wrapping_add(b)),
        B::Sub => Value::UInt(a.wrapping_sub(b)),
        B::Mul => Value::UInt(a.wrapping_mul(b)),
        B::Div if b == 0 => Value::Float(0.0),
        B::Div => Value::Float(a as f64 / b as f64),
        B::Mod if b == 0 => Value::UInt(0),
        B::Mod => Value::UInt(a % b),
        B::BitAnd => Value::UInt(a & b),
        B::BitOr => Value::UInt(a | b),
        B::BitXor => Value::UInt(a ^ b),
        _ => Value::Null,
    }
}

fn float_op(a: f64, op: BinaryOp, b: f64) -> Value {
    use BinaryOp as B;
    match op {
        B::Add => Value::Float(a + b),
        B::Sub => Value::Float(a - b),
        B::Mul => Value::Float(a * b),
        B::Div if b == 0.0 => Value::Float(0.0),
        B::Div => Value::Float(a / b),
        B::Mod => Value::Float(a % b),
        _ => Value::Null,
    }
}

/// The values of an Arrow column (tags arrive as dictionaries and are read as strings).
pub(crate) fn column_values(array: &ArrayRef) -> Result<Vec<Value>> {
    let n = array.len();
    let mut out = Vec::with_capacity(n);
    macro_rules! read {
        ($ty:ty, $make:expr) => {{
            let a = array
                .as_any()
                .downcast_ref::<$ty>()
                .ok_or_else(|| Error::Internal("unexpected array type".to_owned()))?;
            for i in 0..n {
                out.push(if a.is_null(i) {
                    Value::Null
                } else {
                    $make(a.value(i))
                });
            }
        }};
    }
    match array.data_type() {
        DataType::Float64 => read!(Float64Array, Value::Float),
        DataType::Int64 => read!(Int64Array, Value::Int),
        DataType::UInt64 => read!(UInt64Array, Value::UInt),
        DataType::Boolean => read!(BooleanArray, Value::Bool),
        DataType::Utf8 => read!(StringArray, |s: &str| Value::Str(Arc::from(s))),
        DataType::Timestamp(..) => read!(TimestampNanosecondArray, Value::Int),
        DataType::Null => out.resize(n, Value::Null),
        _ => {
            let strings = cast(array, &DataType::Utf8)?;
            return column_values(&strings);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_follows_1x() {
        assert_eq!(
            Value::Int(5).binary(BinaryOp::Div, &Value::Int(2)),
            Value::Float(2.5)
        );
        assert_eq!(
            Value::Int(5).binary(BinaryOp::Div, &Value::Int(0)),
            Value::Float(0.0)
        );
        assert_eq!(
            Value::Int(5).binary(BinaryOp::Add, &Value::Float(0.5)),
            Value::Float(5.5)
        );
        assert_eq!(
            Value::Null.binary(BinaryOp::Add, &Value::Int(1)),
            Value::Null
        );
        assert_eq!(
            Value::Int(7).binary(BinaryOp::Mod, &Value::Int(4)),
            Value::Int(3)
        );
    }
}
