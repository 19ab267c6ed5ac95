//! Persistence with sea-orm, on SQLite (embedded default) or PostgreSQL.
//!
//! Invariant: only this module knows sea-orm. Every function over tenant data takes a
//! `TenantId`; there is no lookup by a bare row id.

mod api_keys;
mod audit;
mod booking_mail;
mod bookings;
mod desk;
mod drafts;
mod entities;
mod feeds;
mod hold_claims;
mod idempotency;
mod ledger;
mod login_attempts;
mod outbox;
mod queue;
mod recovery_codes;
mod retention;
mod sessions;
mod staff;
mod statistics;
mod tenants;
mod versions;
mod webhooks;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, RuntimeErr,
    SqlErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

pub use api_keys::{ApiKeys, NewApiKey, StoredApiKey};
pub use audit::{AuditEntry, AuditLog, AuditQuery};
pub use booking_mail::{Advance, BookingMail, DueMail, NextMail, OwedMail};
pub use bookings::{Bookings, NewBooking};
pub use desk::{Desk, DeskRecord};
pub use drafts::{DraftFields, Drafts};
pub use feeds::{OfficeFeeds, StoredFeed};
pub use hold_claims::{HoldClaim, HoldClaims};
pub use idempotency::IdempotencyKeys;
pub use ledger::{Ledger, UnitUsage};
pub use login_attempts::LoginAttempts;
pub use outbox::{Backlog, Claim, DeliveryState, Lane, NewMessage, Outbox, Settled, Settlement, StoredMessage};
pub use queue::{Queue, TicketRow};
pub use recovery_codes::RecoveryCodes;
pub use retention::{Anonymised, Retention, Waiting};
pub use sessions::{SessionKind, Sessions, StoredSession};
pub use staff::{Invitations, StaffAccounts, StoredAccount, StoredInvitation, TenantStaff};
pub use statistics::{DayCount, DeskTimes, MadeCount, Scope, Statistics, WaitCount};
pub use tenants::{PackFile, StoredTenant, TenantRow, Tenants};
pub use versions::{NewVersion, StoredVersion, VersionSummary, Versions};
pub use webhooks::{NewWebhook, StoredWebhook, Webhooks};

const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("cannot prepare the database directory {path}: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("only a SQLite database is copied this way; back up PostgreSQL with pg_dump (docs/operations.md)")]
    NotSqlite,
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Db(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))))
    }

    /// Serialization failures, deadlocks, lock timeouts (PostgreSQL 40001, 40P01, 55P03) and a busy
    /// or locked SQLite: the transaction did nothing and may simply be run again. Recognised by the
    /// database's own code, never by the text of its message.
    pub fn is_transient(&self) -> bool {
        let Some(error) = self.database_error() else { return false };
        if error.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some() {
            // SQLite's extended result codes keep the primary code in the low byte.
            let primary = error.code().and_then(|c| c.parse::<i64>().ok()).map(|c| c & 0xff);
            return matches!(primary, Some(SQLITE_BUSY | SQLITE_LOCKED));
        }
        error.code().is_some_and(|code| matches!(code.as_ref(), "40001" | "40P01" | "55P03"))
    }

    /// The error the database itself reported, if it was one.
    fn database_error(&self) -> Option<&(dyn sea_orm::sqlx::error::DatabaseError + 'static)> {
        let Self::Db(DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = self else {
            return None;
        };
        match e.as_ref() {
            sea_orm::sqlx::Error::Database(database) => Some(database.as_ref()),
            _ => None,
        }
    }
}

/// Connections per process: enough for a busy instance, few enough that several instances stay
/// under PostgreSQL's default 100.
const MAX_CONNECTIONS: u32 = 16;

/// How the connection pool stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolState {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
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
        options.sqlx_logging(false).max_connections(MAX_CONNECTIONS).acquire_timeout(Duration::from_secs(30));
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

    /// The connections this process holds open, for `/metrics`.
    pub fn pool(&self) -> PoolState {
        let (size, idle) = match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = self.db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        };
        let idle = u32::try_from(idle).unwrap_or(size);
        PoolState { open: size, idle: idle.min(size), max: MAX_CONNECTIONS }
    }

    /// Writes a consistent copy of a SQLite database into the new file `path` while others keep
    /// reading and writing (`VACUUM INTO`, which refuses an existing file). PostgreSQL has pg_dump.
    pub async fn back_up_to(&self, path: &str) -> Result<(), StoreError> {
        if self.backend() != DbBackend::Sqlite {
            return Err(StoreError::NotSqlite);
        }
        self.db.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [path.into()])).await?;
        Ok(())
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

/// Within a write transaction on PostgreSQL: waits for any other transaction holding `key` (an
/// advisory lock, released at commit). SQLite needs none: its write transactions run one at a time.
async fn lock_key(conn: &impl sea_orm::ConnectionTrait, key: String) -> Result<(), StoreError> {
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The file behind a SQLite URL (`sqlite://data/x.db?mode=rwc` → `data/x.db`).
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A second writer on a SQLite file that another connection is writing gets SQLITE_BUSY at once
    /// (busy timeout 0): transient. A broken statement is not.
    #[tokio::test]
    async fn busy_sqlite_is_transient_and_a_bad_statement_is_not() {
        let file = std::env::temp_dir().join(format!("sportello-busy-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let connect = || async {
            let mut options = ConnectOptions::new(url.clone());
            options.sqlx_logging(false).max_connections(1);
            options.map_sqlx_sqlite_opts(|o: SqliteConnectOptions| o.busy_timeout(Duration::ZERO));
            Database::connect(options).await.unwrap()
        };
        let (first, second) = (connect().await, connect().await);
        first.execute_unprepared("CREATE TABLE t (x INTEGER)").await.unwrap();
        let writing = first.begin().await.unwrap();
        writing.execute_unprepared("INSERT INTO t VALUES (1)").await.unwrap();
        let busy = StoreError::from(second.execute_unprepared("INSERT INTO t VALUES (2)").await.unwrap_err());
        assert!(busy.is_transient(), "{busy}");
        let bad = StoreError::from(second.execute_unprepared("INSERT INTO nowhere VALUES (1)").await.unwrap_err());
        assert!(!bad.is_transient(), "{bad}");
        drop(writing);
        let _ = std::fs::remove_file(file);
    }

    /// A PostgreSQL lock timeout (55P03) is transient; a unique violation is not.
    #[tokio::test]
    async fn postgres_lock_timeout_is_transient() {
        let Ok(server) = std::env::var("SPORTELLO_TEST_POSTGRES_URL") else {
            assert!(std::env::var("CI").map_or(true, |ci| ci != "true"), "CI=true needs SPORTELLO_TEST_POSTGRES_URL");
            eprintln!("SKIPPED on PostgreSQL: SPORTELLO_TEST_POSTGRES_URL is not set");
            return;
        };
        let url = format!("{server}/postgres");
        let (first, second) = (Database::connect(&url).await.unwrap(), Database::connect(&url).await.unwrap());
        let table = format!("sportello_lock_{}", uuid::Uuid::new_v4().simple());
        first.execute_unprepared(&format!("CREATE TABLE {table} (x INTEGER PRIMARY KEY)")).await.unwrap();
        first.execute_unprepared(&format!("INSERT INTO {table} VALUES (1)")).await.unwrap();
        let locking = first.begin().await.unwrap();
        locking.execute_unprepared(&format!("UPDATE {table} SET x = 1")).await.unwrap();
        let waiting = second.begin().await.unwrap();
        waiting.execute_unprepared("SET LOCAL lock_timeout = '20ms'").await.unwrap();
        let timeout =
            StoreError::from(waiting.execute_unprepared(&format!("UPDATE {table} SET x = 2")).await.unwrap_err());
        assert!(timeout.is_transient(), "{timeout}");
        drop((waiting, locking));
        let duplicate =
            StoreError::from(second.execute_unprepared(&format!("INSERT INTO {table} VALUES (1)")).await.unwrap_err());
        assert!(!duplicate.is_transient() && duplicate.is_unique_violation(), "{duplicate}");
        first.execute_unprepared(&format!("DROP TABLE {table}")).await.unwrap();
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_file("sqlite://data/s.db?mode=rwc").as_deref(), Some("data/s.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://localhost/x"), None);
    }
}
