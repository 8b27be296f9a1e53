//! The durable store: Postgres in production, SQLite (one file) for the embedded default.
//!
//! Each capability keeps its SQL in its own `store.rs` and takes a [`Db`]. Most queries are
//! the same text on both backends (`$1, $2` placeholders work in both drivers), so they are
//! written once with [`on_both!`]; the column types that differ (money, timestamps) are
//! bound through [`Money`] and [`Timestamp`], which know each backend's storage.

pub mod carriers;
pub mod changes;
pub mod citizens;
mod codec;
mod error;
pub mod group_commit;
pub mod journal;

pub use codec::{Money, Timestamp};
pub use error::DbError;
pub(crate) use error::OpExt;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// Connections per gateway node. Ten nodes then use 100, Postgres' default
/// `max_connections`; raise both together.
const PG_MAX_CONNECTIONS: u32 = 10;
/// SQLite allows one writer at a time; a few connections let reads proceed meanwhile.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
/// How long a caller waits for a free connection before getting a retryable error.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long SQLite waits on another connection's write lock instead of failing at once.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Bind parameters one statement may carry on both backends (SQLite's default limit;
/// Postgres allows 65535). Multi-row inserts split their rows to stay under it.
const MAX_BINDS: usize = 32_766;

/// Rows per multi-row INSERT for a table with `columns` bound columns.
pub(crate) const fn rows_per_statement(columns: usize) -> usize {
    MAX_BINDS / columns
}

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds. The body is compiled
/// once per backend, so it may use anything both drivers accept.
macro_rules! on_both {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Postgres($pool) => $body,
            $crate::db::Db::Sqlite($pool) => $body,
        }
    };
}
pub(crate) use on_both;

/// Starts a transaction that will write. SQLite's must take the write lock at `BEGIN`
/// (`IMMEDIATE`): a transaction that reads first and writes later cannot wait for another
/// writer and fails with "database is locked" instead.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>,
    > + Send;
}

impl BeginWrite for sqlx::PgPool {
    type Database = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>,
    > + Send {
        self.begin()
    }
}

impl BeginWrite for sqlx::SqlitePool {
    type Database = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>,
    > + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

/// A connection pool to the durable store.
#[derive(Clone)]
pub enum Db {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Postgres,
    Sqlite,
}

impl DbKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            DbKind::Postgres => "postgres",
            DbKind::Sqlite => "sqlite",
        }
    }
}

// By hand: the pools' own Debug would print connect options, which include the password.
impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({})", self.kind().as_str())
    }
}

impl Db {
    /// Opens a pool: `postgres://…` or `postgresql://…` for Postgres, `sqlite:path` (or
    /// `sqlite::memory:`) for SQLite. Connects eagerly, so a wrong URL fails at start-up.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // A statement stuck behind a lock must not hold a pooled connection for ever.
            let options = PgConnectOptions::from_str(url)
                .op("parse postgres url")?
                .options([("statement_timeout", "30s")]);
            let pool = PgPoolOptions::new()
                .max_connections(PG_MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .op("connect to postgres")?;
            return Ok(Db::Postgres(pool));
        }
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .op("parse sqlite url")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL is durable across application crashes in WAL mode and much faster.
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true);
            let mut pool = SqlitePoolOptions::new()
                .max_connections(SQLITE_MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT);
            if url.contains(":memory:") || url.contains("mode=memory") {
                // Every connection to `:memory:` is a separate empty database: keep exactly
                // one, forever.
                pool = pool
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None);
            }
            let pool = pool.connect_with(options).await.op("connect to sqlite")?;
            return Ok(Db::Sqlite(pool));
        }
        let scheme = url.split(':').next().unwrap_or_default().to_string();
        Err(DbError::UnsupportedUrl { scheme })
    }

    /// Applies pending migrations. Safe to run again and from several nodes at once:
    /// applied ones are recorded in `_sqlx_migrations` (and Postgres takes a lock).
    /// The files are embedded at compile time.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
            Db::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
        }
        Ok(())
    }

    /// One round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        on_both!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
            .op("ping")?;
        Ok(())
    }

    pub fn kind(&self) -> DbKind {
        match self {
            Db::Postgres(_) => DbKind::Postgres,
            Db::Sqlite(_) => DbKind::Sqlite,
        }
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        on_both!(self, pool => pool.close().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_other_schemes_without_echoing_the_url() {
        let err = Db::connect("mysql://root:hunter2@db/x").await.unwrap_err();
        assert!(matches!(err, DbError::UnsupportedUrl { .. }));
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[tokio::test]
    async fn in_memory_sqlite_migrates_and_answers() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        db.migrate().await.unwrap();
        db.ping().await.unwrap();
        assert_eq!(db.kind(), DbKind::Sqlite);
        assert_eq!(format!("{db:?}"), "Db(sqlite)");
    }
}
