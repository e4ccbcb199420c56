//! The conformance suite on SQLite: a fresh database file per test, plus what is particular to
//! SQLite files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use sqlx::{Connection, SqliteConnection};
use tidemark_catalog::conformance::TestDatabase;
use tidemark_catalog::{CatalogConfig, Error};

#[derive(Debug)]
struct TempSqlite(tempfile::TempDir);

impl TempSqlite {
    fn path(&self) -> PathBuf {
        self.0.path().join("catalog.db")
    }
}

#[async_trait::async_trait]
impl TestDatabase for TempSqlite {
    fn config(&self) -> CatalogConfig {
        CatalogConfig::Sqlite { path: self.path() }
    }

    async fn remove(self) {
        // TempDir removes itself when dropped.
    }
}

async fn fresh() -> Option<TempSqlite> {
    Some(TempSqlite(
        tempfile::tempdir().expect("temporary directory"),
    ))
}

tidemark_catalog::catalog_conformance_tests!(fresh);

#[tokio::test]
async fn creates_the_file_in_wal_mode() {
    let db = fresh().await.unwrap();
    assert!(!db.path().exists());
    let catalog = tidemark_catalog::open(&db.config()).await.unwrap();
    assert!(db.path().exists());
    drop(catalog);

    let url = format!("sqlite://{}", db.path().display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn odd_file_names_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a b?c#d%20e.db");
    let config = CatalogConfig::Sqlite { path: path.clone() };
    tidemark_catalog::open(&config).await.unwrap();
    assert!(path.exists(), "{path:?}");
}

#[tokio::test]
async fn missing_directory_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let config = CatalogConfig::Sqlite {
        path: dir.path().join("no/such/dir/catalog.db"),
    };
    match tidemark_catalog::open(&config).await {
        Err(Error::Unavailable(e)) => assert!(e.to_string().contains("does not exist"), "{e}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}
