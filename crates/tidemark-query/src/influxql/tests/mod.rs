//! InfluxQL over a real engine: line protocol in, exact Arrow out.

mod conditions;
mod direct;
mod errors;
mod perf;
mod select_agg;
mod select_more;
mod select_raw;
mod show;
mod subquery;
mod timezone;

use datafusion::arrow::util::pretty::pretty_format_batches;
use futures::TryStreamExt;

use crate::tests::{fixture, Fixture};
use crate::InfluxQlOptions;

/// Now, for every test: 2024-01-01T00:10:00Z.
pub(crate) const NOW: i64 = 1_704_067_800_000_000_000;
/// 2024-01-01T00:00:00Z.
pub(crate) const T0: i64 = 1_704_067_200_000_000_000;
pub(crate) const SEC: i64 = 1_000_000_000;

impl Fixture {
    /// Runs one InfluxQL statement: the pretty table, then the group key metadata.
    pub(crate) async fn try_influxql(&self, q: &str) -> crate::Result<String> {
        self.try_influxql_with(&self.query, q).await
    }

    /// [`Self::try_influxql`] on another query engine over the same storage.
    pub(crate) async fn try_influxql_with(
        &self,
        query: &crate::QueryEngine,
        q: &str,
    ) -> crate::Result<String> {
        let statement = tidemark_influxql::parse_statement(q).expect("parses");
        let options = InfluxQlOptions {
            now: NOW,
            metadata_cutoff: None,
        };
        let out = query.influxql(&self.bucket, &statement, &options).await?;
        let batches: Vec<_> = out.stream.try_collect().await?;
        for b in &batches {
            assert_eq!(b.schema(), out.schema, "batches carry the announced schema");
        }
        let table = if batches.is_empty() {
            let names: Vec<&str> = out
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect();
            format!("(empty: {})", names.join(", "))
        } else {
            pretty_format_batches(&batches).expect("pretty").to_string()
        };
        let meta = out
            .schema
            .metadata()
            .get(crate::GROUP_KEY_METADATA)
            .cloned()
            .unwrap_or_default();
        Ok(format!("{table}\n{meta}"))
    }

    /// The error text of a statement that must fail as the user's mistake.
    pub(crate) async fn iql_err(&self, q: &str) -> String {
        match self.try_influxql(q).await {
            Ok(out) => panic!("{q} should fail, got\n{out}"),
            Err(crate::Error::Statement(m)) => m,
            Err(e) => panic!("{q}: not a statement error: {e:?}"),
        }
    }
}

/// A fixture with CPU-like data: two hosts in two regions, points every 10s from T0.
pub(crate) async fn cpu() -> Fixture {
    let f = fixture().await;
    let mut lp = String::new();
    for i in 0..6i64 {
        let t = T0 + i * 10 * SEC;
        lp.push_str(&format!(
            "cpu,host=a,region=east usage={}.5,idle={}i {t}\n",
            i,
            100 - i
        ));
        lp.push_str(&format!("cpu,host=b,region=west usage={} {t}\n", i * 10));
    }
    lp.push_str(&format!("mem,host=a free=10i,used=2.5 {T0}\n"));
    lp.push_str(&format!("disk,host=c,path=/ full=true {T0}\n"));
    f.write(&lp).await;
    f
}
