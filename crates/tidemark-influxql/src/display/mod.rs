//! `Display` for the syntax tree: InfluxQL that parses back to an equal tree.

mod expr;
mod show;
mod statement;
