//! Values for bound parameters (`$name`), given by the caller (the v1 `/query` endpoint's
//! `params` JSON object).

use std::collections::HashMap;

use crate::duration::Duration;

/// Parameter values by name (without the `$`).
pub type Params = HashMap<String, ParamValue>;

/// A value for a bound parameter. As in 1.x, a value stands in for one token: a `String` is a
/// string literal, so `FROM $m` needs an [`ParamValue::Identifier`] (1.x's
/// `{"identifier": "cpu"}`), and `=~ $re` a [`ParamValue::Regex`].
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// An integer (a JSON number without `.`).
    Integer(i64),
    /// A float (a JSON number with `.`).
    Float(f64),
    /// A string literal.
    String(String),
    /// `true` or `false`.
    Boolean(bool),
    /// A duration literal.
    Duration(Duration),
    /// An identifier: a measurement, field, tag or database name.
    Identifier(String),
    /// A regular expression (Go syntax), without slashes.
    Regex(String),
}
