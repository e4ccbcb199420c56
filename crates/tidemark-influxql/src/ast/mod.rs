//! The syntax tree. Plain data: every node is `Clone`, `Debug` and `PartialEq`, and `Display`
//! prints InfluxQL that parses back to an equal tree.

mod expr;
mod select;
mod show;
mod statement;

pub use expr::{BinaryExpr, BinaryOp, Call, DataType, Expr, Literal, Regex, VarRef, WildcardType};
pub use select::{
    Field, Fill, Measurement, MeasurementName, Order, SelectStatement, Source, Target,
};
pub use show::{
    CardinalityKind, NameOrWildcard, ShowCardinalityStatement, ShowFieldKeysStatement,
    ShowMeasurementsStatement, ShowRetentionPoliciesStatement, ShowSeriesStatement,
    ShowTagKeysStatement, ShowTagValuesStatement, WithKey,
};
pub use statement::{
    CreateDatabaseStatement, DeleteStatement, DropMeasurementStatement, ExplainStatement, Query,
    RetentionPolicySpec, Statement, UnsupportedKind, UnsupportedStatement,
};
