//! The conformance suite on PostgreSQL, at `TIDEMARK_TEST_POSTGRES_URL` (see
//! `scripts/postgres.sh`). Each test gets a database of its own, created through that URL and
//! dropped afterwards. Without the variable the tests fail, unless `TIDEMARK_SKIP_POSTGRES=1`
//! says to skip them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, PgConnection};
use tidemark_catalog::conformance::TestDatabase;
use tidemark_catalog::{CatalogConfig, Error};

const URL_VAR: &str = "TIDEMARK_TEST_POSTGRES_URL";
const SKIP_VAR: &str = "TIDEMARK_SKIP_POSTGRES";

#[derive(Debug)]
struct TempPostgres {
    admin_url: String,
    name: String,
    url: String,
}

#[async_trait::async_trait]
impl TestDatabase for TempPostgres {
    fn config(&self) -> CatalogConfig {
        CatalogConfig::Postgres {
            url: self.url.clone(),
        }
    }

    async fn remove(self) {
        // WITH (FORCE) ends the catalog's pooled connections that may still be closing.
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        match PgConnection::connect(&self.admin_url).await {
            Ok(mut admin) => {
                if let Err(e) = sqlx::raw_sql(AssertSqlSafe(drop)).execute(&mut admin).await {
                    eprintln!("could not drop test database {}: {e}", self.name);
                }
            }
            Err(e) => eprintln!("could not drop test database {}: {e}", self.name),
        }
    }
}

/// The server's URL, `None` to skip; panics if neither is configured.
fn admin_url() -> Option<String> {
    if let Ok(url) = std::env::var(URL_VAR) {
        return Some(url);
    }
    if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
        eprintln!("skipped: {URL_VAR} is not set and {SKIP_VAR}=1");
        return None;
    }
    panic!(
        "{URL_VAR} is not set, so the PostgreSQL catalog tests cannot run. Start a server with \
         `eval \"$(scripts/postgres.sh | tail -1)\"` (from the workspace root), or set \
         {SKIP_VAR}=1 to skip these tests."
    );
}

async fn fresh() -> Option<TempPostgres> {
    let admin_url = admin_url()?;
    let name = format!("tm_test_{:016x}", rand::random::<u64>());
    let mut admin = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {URL_VAR}: {e}"));
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    let url = PgConnectOptions::from_str(&admin_url)
        .expect("parse the admin URL")
        .database(&name)
        .to_url_lossy()
        .to_string();
    Some(TempPostgres {
        admin_url,
        name,
        url,
    })
}

tidemark_catalog::catalog_conformance_tests!(fresh);

/// Needs no server: nothing listens on port 1.
#[tokio::test]
async fn refused_connection_is_unavailable() {
    let config = CatalogConfig::Postgres {
        url: "postgres://postgres:postgres@127.0.0.1:1/postgres".to_owned(),
    };
    let started = Instant::now();
    match tidemark_catalog::open(&config).await {
        Err(Error::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// Needs no server: a listener that never answers stands for a server that hangs (or a
/// firewall that drops packets); `open` gives up after its connect timeout.
#[tokio::test]
async fn silent_server_times_out() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let config = CatalogConfig::Postgres {
        url: format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres"),
    };
    let started = Instant::now();
    match tidemark_catalog::open(&config).await {
        Err(Error::Unavailable(e)) => {
            assert!(e.to_string().contains("within 5 s"), "{e}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let elapsed = started.elapsed();
    assert!(
        (Duration::from_secs(4)..Duration::from_secs(8)).contains(&elapsed),
        "{elapsed:?}"
    );
    drop(silent);
}

#[test]
fn config_debug_hides_the_password() {
    let config = CatalogConfig::Postgres {
        url: "postgres://postgres:hunter2@127.0.0.1:5432/postgres".to_owned(),
    };
    let shown = format!("{config:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("postgres://postgres:***@127.0.0.1:5432/postgres"),
        "{shown}"
    );
}
