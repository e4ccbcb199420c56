//! Prometheus metrics: the registry and the request metrics every HTTP route records.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// Every metric the server exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram>,
    /// Rows written but not yet persisted to Parquet, read from the engine at each scrape.
    buffered_rows: Gauge,
    /// Measurement reads the query engine's direct path answered, read at each scrape.
    direct_reads: Gauge,
    /// InfluxQL statements answered on the connection's thread, read at each scrape.
    inline_statements: Gauge,
    /// Merges the background task still has to do, read at each scrape.
    compactions_pending: Gauge,
    /// Replaced objects waiting out their grace period, read at each scrape.
    deletes_pending: Gauge,
}

/// What `/metrics` reads from the engines at each scrape.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineFigures {
    pub buffered_rows: usize,
    pub direct_reads: u64,
    pub inline_statements: u64,
    pub compactions_pending: usize,
    pub deletes_pending: usize,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tidemark");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            // 50 µs to ~13 s.
            Histogram::new(exponential_buckets(0.000_05, 2.0, 19))
        });
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency, by method, route and status",
            latency.clone(),
        );
        let buffered_rows = Gauge::default();
        registry.register(
            "buffered_rows",
            "Rows acknowledged and held in memory, not yet persisted to Parquet",
            buffered_rows.clone(),
        );
        let direct_reads = Gauge::default();
        registry.register(
            "influxql_direct_reads",
            "Measurement reads of InfluxQL SELECTs answered from cached Parquet columns without DataFusion, since start",
            direct_reads.clone(),
        );
        let inline_statements = Gauge::default();
        registry.register(
            "influxql_inline_statements",
            "InfluxQL statements small enough to be answered on the connection's thread, without the query runtime, since start",
            inline_statements.clone(),
        );
        let compactions_pending = Gauge::default();
        registry.register(
            "storage_compactions_pending",
            "Merges of persisted files still to do, counting days that will be rewritten as one file once they go cold",
            compactions_pending.clone(),
        );
        let deletes_pending = Gauge::default();
        registry.register(
            "storage_deletes_pending",
            "Objects replaced by a merge or expired, deleted once queries that listed them are done",
            deletes_pending.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            requests,
            latency,
            buffered_rows,
            direct_reads,
            inline_statements,
            compactions_pending,
            deletes_pending,
        }
    }

    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = RequestLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// The OpenMetrics text exposition, ending in `# EOF`, with the engines' figures of this
    /// scrape.
    pub fn encode(&self, figures: EngineFigures) -> Result<String, std::fmt::Error> {
        for (gauge, value) in [
            (&self.buffered_rows, figures.buffered_rows as u64),
            (&self.direct_reads, figures.direct_reads),
            (&self.inline_statements, figures.inline_statements),
            (
                &self.compactions_pending,
                figures.compactions_pending as u64,
            ),
            (&self.deletes_pending, figures.deletes_pending as u64),
        ] {
            gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        let registry = self.registry.lock().map_err(|_| std::fmt::Error)?;
        prometheus_client::encoding::text::encode(&mut out, &registry)?;
        Ok(out)
    }
}
