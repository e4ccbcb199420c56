//! The SQL catalog: one implementation for SQLite and PostgreSQL.
//!
//! Every query goes through sqlx's `Any` driver, so both backends run the same SQL text (`$n`
//! placeholders, `RETURNING`, partial indexes and `CASE` are common ground). The few places where
//! the dialects really differ (how a write transaction begins, row locks, migration locking) ask
//! [`Dialect`].
//!
//! Each write method is one transaction begun with [`SqlCatalog::begin_write`]; single-statement
//! reads run straight on the pool, where the statement is its own transaction.

mod auths;
mod buckets;
mod catalog;
mod connect;
mod dbrps;
mod errors;
mod files;
pub(crate) mod migrate;
mod orgs;
mod rows;
mod tables;

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Any, Transaction};
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{Id, Nanos, Result};

#[cfg(feature = "conformance")]
pub(crate) use connect::connect;
pub use connect::{open, CatalogConfig};

/// What differs between the two backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// How a write transaction begins. SQLite must take its write lock up front: a deferred
    /// transaction that reads and then writes can fail with SQLITE_BUSY without waiting, when
    /// another connection wrote in between. PostgreSQL locks rows as it goes.
    fn begin_write(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }
}

/// The catalog over one connection pool.
#[derive(Debug)]
pub(crate) struct SqlCatalog {
    pool: AnyPool,
    dialect: Dialect,
    /// SQLite has one writer at a time. Queueing this process's writers here, in order, rather
    /// than in SQLite's busy handler (which sleeps and retries) keeps them fair and leaves the
    /// busy timeout for other processes. `None` on PostgreSQL.
    write_gate: Option<Arc<Mutex<()>>>,
}

impl SqlCatalog {
    fn new(pool: AnyPool, dialect: Dialect) -> Self {
        let write_gate = (dialect == Dialect::Sqlite).then(|| Arc::new(Mutex::new(())));
        Self {
            pool,
            dialect,
            write_gate,
        }
    }

    async fn begin_write(&self) -> Result<WriteTx> {
        let gate = match &self.write_gate {
            Some(gate) => Some(Arc::clone(gate).lock_owned().await),
            None => None,
        };
        let tx = self
            .pool
            .begin_with(self.dialect.begin_write())
            .await
            .map_err(errors::db)?;
        Ok(WriteTx { tx, _gate: gate })
    }
}

/// A write transaction. Dropping it without [`WriteTx::commit`] rolls it back.
pub(crate) struct WriteTx {
    // Declared before the gate so that the transaction ends before the next writer may start.
    tx: Transaction<'static, Any>,
    _gate: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(errors::db)
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// The current time in nanoseconds, strictly increasing within the process, so that records
/// created one after the other list in that order even if the clock is coarse or steps back.
pub(crate) fn now() -> Nanos {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = wall.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// IDs are stored as their 16-hex-digit text.
fn id_text(id: Id) -> String {
    id.to_string()
}

fn opt_id_text(id: Option<Id>) -> Option<String> {
    id.map(id_text)
}
