//! What this build is, as `/ping` and `/health` report it.

/// The InfluxDB version we answer as: clients read `X-Influxdb-Version` to pick an API dialect,
/// and we speak InfluxDB 3's.
pub const INFLUXDB_VERSION: &str = concat!("3.0.0-tidemark-", env!("CARGO_PKG_VERSION"));
/// `X-Influxdb-Build`, as InfluxDB 3's cloud products send it.
pub const INFLUXDB_BUILD: &str = "cloud2";
/// The git commit this binary was built from.
pub const COMMIT: &str = env!("TIDEMARK_COMMIT");
