//! Opening a catalog: connecting, per-connection settings, migrations, the pool.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyConnection;
use sqlx::Connection;

use super::errors::db;
use super::{migrate, Dialect, SqlCatalog};
use crate::{Catalog, Error, Result};

/// How long connecting may take before the catalog counts as unavailable; also how long a
/// query waits for a free pooled connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an SQLite statement waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// SQLite serialises writes anyway; the connections serve concurrent reads.
const SQLITE_MAX_CONNECTIONS: u32 = 8;
const POSTGRES_MAX_CONNECTIONS: u32 = 10;

/// Where the catalog lives.
#[derive(Clone, PartialEq, Eq)]
pub enum CatalogConfig {
    /// An SQLite database file, created if missing (its directory must exist). The embedded
    /// default; one process at a time should use it.
    Sqlite { path: PathBuf },
    /// A PostgreSQL database, e.g. `postgres://user:password@host:5432/tidemark`, which several
    /// nodes may share.
    Postgres { url: String },
}

impl fmt::Debug for CatalogConfig {
    /// Hides the password of a PostgreSQL URL, so that configurations can be logged.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Self::Postgres { url } => f
                .debug_struct("Postgres")
                .field("url", &redact_password(url))
                .finish(),
        }
    }
}

/// Opens the catalog: connects (failing with `Error::Unavailable` within about five seconds if
/// the database cannot be reached), applies pending migrations, and returns a catalog over a
/// connection pool.
///
/// SQLite files are put in WAL mode with `synchronous=FULL` (a committed change survives power
/// loss), foreign keys enforced and a 5 s busy timeout.
pub async fn open(config: &CatalogConfig) -> Result<Arc<dyn Catalog>> {
    let (options, dialect) = options(config)?;
    let mut conn = connect_one(&options, dialect).await?;
    if dialect == Dialect::Sqlite {
        enable_wal(&mut conn).await?;
    }
    let migrated = migrate::run(&mut conn, dialect).await;
    // The outcome is already known; a failure to say goodbye changes nothing.
    let _ = conn.close().await;
    migrated?;

    let max_connections = match dialect {
        Dialect::Sqlite => SQLITE_MAX_CONNECTIONS,
        Dialect::Postgres => POSTGRES_MAX_CONNECTIONS,
    };
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(CONNECT_TIMEOUT)
        .after_connect(move |conn, _meta| Box::pin(session_settings(conn, dialect)))
        .connect_lazy_with(options);
    Ok(Arc::new(SqlCatalog::new(pool, dialect)))
}

/// One connection with the session settings applied, for the conformance suite.
#[cfg(feature = "conformance")]
pub(crate) async fn connect(config: &CatalogConfig) -> Result<AnyConnection> {
    let (options, dialect) = options(config)?;
    connect_one(&options, dialect).await
}

fn options(config: &CatalogConfig) -> Result<(AnyConnectOptions, Dialect)> {
    // Idempotent; the `Any` driver needs to know the drivers before parsing a URL.
    sqlx::any::install_default_drivers();
    let (url, dialect) = match config {
        CatalogConfig::Sqlite { path } => (sqlite_url(path)?, Dialect::Sqlite),
        CatalogConfig::Postgres { url } => (url.clone(), Dialect::Postgres),
    };
    let options = AnyConnectOptions::from_str(&url).map_err(Error::Unavailable)?;
    Ok((options, dialect))
}

async fn connect_one(options: &AnyConnectOptions, dialect: Dialect) -> Result<AnyConnection> {
    let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, AnyConnection::connect_with(options))
        .await
        .map_err(|_| {
            Error::Unavailable(sqlx::Error::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "could not connect to the database within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ),
            )))
        })?
        .map_err(Error::Unavailable)?;
    session_settings(&mut conn, dialect).await.map_err(db)?;
    Ok(conn)
}

/// Settings SQLite keeps per connection. sqlx sets some of them by default; they are stated
/// here so that the catalog does not depend on those defaults.
async fn session_settings(conn: &mut AnyConnection, dialect: Dialect) -> sqlx::Result<()> {
    match dialect {
        Dialect::Sqlite => {
            let pragmas = format!(
                "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; \
                 PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};"
            );
            sqlx::raw_sql(sqlx::AssertSqlSafe(pragmas))
                .execute(&mut *conn)
                .await?;
        }
        Dialect::Postgres => {}
    }
    Ok(())
}

/// WAL lets readers proceed while a write commits. The mode is stored in the file, so setting it
/// once at start suffices. Switching needs an exclusive lock that the busy timeout does not wait
/// for, so a switch that meets another connection (a concurrent first start) is retried here.
async fn enable_wal(conn: &mut AnyConnection) -> Result<()> {
    const RETRY: Duration = Duration::from_millis(50);
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    loop {
        let attempt = sqlx::query_scalar::<_, String>("PRAGMA journal_mode = WAL")
            .fetch_one(&mut *conn)
            .await;
        let failure = match attempt {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => Error::Internal(format!(
                "SQLite refused WAL journal mode (it is {mode:?}); \
                 is the file on a network file system?"
            )),
            Err(e) => db(e),
        };
        if tokio::time::Instant::now() + RETRY > deadline {
            return Err(failure);
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// sqlx's SQLite URL for a path: absolute, every byte but the unreserved ones percent-encoded
/// (sqlx decodes the path), `mode=rwc` to create a missing file.
fn sqlite_url(path: &Path) -> Result<String> {
    let unavailable = |e: io::Error| Error::Unavailable(sqlx::Error::Io(e));
    let path = std::path::absolute(path).map_err(unavailable)?;
    if let Some(dir) = path.parent() {
        if !dir.is_dir() {
            return Err(unavailable(io::Error::new(
                io::ErrorKind::NotFound,
                format!("directory {} does not exist", dir.display()),
            )));
        }
    }
    let mut url = String::from("sqlite://");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url.push_str("?mode=rwc");
    Ok(url)
}

/// `scheme://user:password@host/...` → `scheme://user:***@host/...`; anything else unchanged.
fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let Some(colon) = authority[..at].find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:***{}",
        &url[..scheme_end],
        &authority[..colon],
        &url[scheme_end + at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_only_the_password() {
        assert_eq!(
            redact_password("postgres://u:secret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_password("postgres://h/db"), "postgres://h/db");
        assert_eq!(redact_password("not a url"), "not a url");
    }

    #[test]
    fn sqlite_urls_encode_odd_bytes() {
        let dir = std::env::temp_dir();
        let url = sqlite_url(&dir.join("a b?#%.db")).unwrap();
        assert!(url.starts_with("sqlite:///"), "{url}");
        assert!(url.ends_with("/a%20b%3F%23%25.db?mode=rwc"), "{url}");
        assert!(sqlite_url(Path::new("/no/such/dir/x.db")).is_err());
    }
}
