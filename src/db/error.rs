//! The durable store's error: which operation failed, and whether trying again can help.

/// An error from the durable store. Each variant names the operation that failed so that a
/// log line says "get_transaction failed: ..." rather than a bare driver message.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Only the scheme is kept: the rest of a URL may hold a password.
    #[error("database URL must start with postgres://, postgresql:// or sqlite:, got {scheme:?}")]
    UnsupportedUrl { scheme: String },
    #[error("{op} failed: {source}")]
    Sqlx {
        op: &'static str,
        source: sqlx::Error,
    },
    #[error("database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A value we refuse to store because it could not be read back with the same meaning.
    #[error("{op}: {detail}")]
    Invalid { op: &'static str, detail: String },
    /// A stored value that no longer parses (hand-edited row, or a newer schema).
    #[error("{op}: stored data is invalid: {detail}")]
    Corrupt { op: &'static str, detail: String },
    /// The write contradicts what is already stored (e.g. a published menu version).
    #[error("{op}: {detail}")]
    Conflict { op: &'static str, detail: String },
}

impl DbError {
    pub(crate) fn invalid(op: &'static str, detail: impl Into<String>) -> Self {
        DbError::Invalid {
            op,
            detail: detail.into(),
        }
    }

    pub(crate) fn corrupt(op: &'static str, detail: impl std::fmt::Display) -> Self {
        DbError::Corrupt {
            op,
            detail: detail.to_string(),
        }
    }

    /// True when the database refused the data itself (a constraint, a value out of range, a
    /// value that cannot be encoded): writing the same rows again cannot succeed. Anything
    /// else (unreachable, busy, timed out, shutting down) may succeed later.
    pub fn is_refusal(&self) -> bool {
        let DbError::Sqlx { source, .. } = self else {
            return !matches!(self, DbError::Migrate(_));
        };
        match source {
            sqlx::Error::Encode(_) | sqlx::Error::TypeNotFound { .. } => true,
            sqlx::Error::Database(e) => {
                if let Some(pg) = e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    // Class 22 data exception, 23 integrity constraint violation, 42 syntax
                    // error or access rule violation.
                    matches!(&pg.code()[..2], "22" | "23" | "42")
                } else {
                    // SQLite: 1 SQL error, 18 TOOBIG, 19 CONSTRAINT, 20 MISMATCH.
                    e.code()
                        .and_then(|c| c.parse::<i32>().ok())
                        .is_some_and(|c| matches!(c & 0xff, 1 | 18 | 19 | 20))
                }
            }
            _ => false,
        }
    }

    /// True when the same call may succeed later: the database was unreachable or busy,
    /// the pool had no free connection in time, or the server asked us to retry.
    pub fn is_retryable(&self) -> bool {
        let DbError::Sqlx { source, .. } = self else {
            return false;
        };
        match source {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
            sqlx::Error::Database(e) => {
                if let Some(pg) = e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    // serialization_failure, deadlock_detected, too_many_connections,
                    // admin_shutdown, crash_shutdown, cannot_connect_now.
                    matches!(
                        pg.code(),
                        "40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03"
                    )
                } else {
                    // SQLite reports extended codes; the low byte is the primary code:
                    // 5 SQLITE_BUSY, 6 SQLITE_LOCKED.
                    e.code()
                        .and_then(|c| c.parse::<i32>().ok())
                        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
                }
            }
            _ => false,
        }
    }

    /// True when a unique or primary key constraint refused the write (e.g. an API key
    /// prefix already taken: the caller generates another key).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Sqlx { source: sqlx::Error::Database(e), .. } if e.is_unique_violation())
    }
}

/// Attaches the operation name to a driver error: `query.await.op("get_telco")?`.
pub(crate) trait OpExt<T> {
    fn op(self, op: &'static str) -> Result<T, DbError>;
}

impl<T> OpExt<T> for Result<T, sqlx::Error> {
    fn op(self, op: &'static str) -> Result<T, DbError> {
        self.map_err(|source| DbError::Sqlx { op, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_timeouts_are_retryable_and_bad_rows_are_not() {
        let timeout = Err::<(), _>(sqlx::Error::PoolTimedOut).op("ping");
        let err = timeout.unwrap_err();
        assert!(err.is_retryable());
        assert_eq!(
            err.to_string(),
            "ping failed: pool timed out while waiting for an open connection"
        );
        assert!(!Err::<(), _>(sqlx::Error::RowNotFound)
            .op("get")
            .unwrap_err()
            .is_retryable());
        assert!(!DbError::invalid("x", "y").is_retryable());
    }
}
