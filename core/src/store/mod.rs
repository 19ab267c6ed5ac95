//! Persistence with sea-orm, on SQLite (embedded default) or PostgreSQL.
//!
//! Invariant: only this module knows sea-orm. Every function over tenant data takes a
//! `TenantId`; there is no lookup by a bare row id.

mod bookings;
mod entities;
mod hold_claims;
mod idempotency;
pub use hold_claims::{HoldClaim, HoldClaims};
pub use idempotency::IdempotencyKeys;
mod ledger;
mod tenants;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqlErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

pub use bookings::{Bookings, NewBooking};
pub use ledger::{Ledger, UnitUsage};
pub use tenants::{PackFile, StoredTenant, Tenants};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("cannot prepare the database directory {path}: {source}")]
    Directory { path: String, source: std::io::Error },
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Db(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))))
    }

    /// Lock timeouts and deadlocks: the transaction did nothing and may simply be run again.
    pub fn is_transient(&self) -> bool {
        let Self::Db(e) = self else { return false };
        let text = e.to_string();
        ["40P01", "40001", "deadlock", "database is locked", "could not serialize"].iter().any(|m| text.contains(m))
    }
}

/// The database, shared by all requests of this process.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`), creating the SQLite
    /// file's directory when needed.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let path = sqlite_file(url);
        if let Some(dir) =
            path.as_deref().and_then(|p| std::path::Path::new(p).parent()).filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|source| StoreError::Directory { path: dir.display().to_string(), source })?;
        }
        let mut options = ConnectOptions::new(url);
        options.sqlx_logging(false).max_connections(16).acquire_timeout(Duration::from_secs(30));
        options.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
        Ok(Self { db: Database::connect(options).await? })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first cannot upgrade to a writer
    /// under contention and would fail with SQLITE_BUSY instead of waiting.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(WriteTx(self.db.begin_with_options(options).await?))
    }

    pub fn reader(&self) -> &impl ConnectionTrait {
        &self.db
    }

    pub async fn close(self) -> Result<(), StoreError> {
        Ok(self.db.close().await?)
    }
}

/// A write transaction; dropped without `commit` it rolls back.
pub struct WriteTx(DatabaseTransaction);

impl WriteTx {
    /// The connection to pass to repository functions.
    pub fn conn(&self) -> &impl ConnectionTrait {
        &self.0
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.0.commit().await?)
    }
}

/// The file behind a SQLite URL (`sqlite://data/x.db?mode=rwc` → `data/x.db`).
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_file("sqlite://data/s.db?mode=rwc").as_deref(), Some("data/s.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://localhost/x"), None);
    }
}
