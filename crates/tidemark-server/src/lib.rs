//! The tidemark server: one listener answering InfluxDB's HTTP APIs and gRPC, the authentication
//! and authorization of every request, and the management use-cases (orgs, buckets, tokens, DBRP
//! mappings).
//!
//! Layers inside this crate, dependencies pointing down only:
//! - `http` and `grpc` translate requests and responses and decide nothing;
//! - `service` holds every use-case: validation, the permission check, the catalog calls;
//! - `auth` turns tokens into principals and owns the one authorization decision;
//! - `error` is the one error type and the one status table.

pub mod auth;
mod build_info;
pub mod error;
mod grpc;
pub mod http;
pub mod metrics;
mod serve;
pub mod service;

pub use build_info::{COMMIT, INFLUXDB_BUILD, INFLUXDB_VERSION};
pub use serve::{run, ServerConfig, StartError};
