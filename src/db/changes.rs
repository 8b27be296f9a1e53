//! Telling running nodes that telcos or agencies changed, so that `mgov telcos …` and
//! `mgov agencies …` take effect within a second instead of at the next periodic refresh.
//!
//! On Postgres a write is followed by `NOTIFY`, and every node `LISTEN`s. On SQLite (the
//! embedded default: one node, a file on the same machine) there is nobody to notify across
//! processes, so the node re-reads its two small tables every second.

use super::{Db, DbError, OpExt};
use std::time::Duration;

/// The Postgres channel every node listens on.
const CHANNEL: &str = "mgov_directory";
/// How often the embedded default re-reads telcos and agencies.
const SQLITE_POLL: Duration = Duration::from_secs(1);
/// Pause after the listener fails, so a database outage does not spin.
const LISTEN_RETRY: Duration = Duration::from_secs(1);

/// Tells every listening node that `table` changed. On SQLite there is nothing to do. The
/// change itself is already committed, so a failed announcement is only a warning: nodes
/// still take it in at their periodic re-read.
pub async fn announce(db: &Db, table: &'static str) -> Result<(), DbError> {
    if let Db::Postgres(pool) = db {
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(table)
            .execute(pool)
            .await
            .op("announce_change");
        if let Err(e) = sent {
            tracing::warn!(error = %e, table, "change saved but not announced; running nodes take it in within 30 s");
        }
    }
    Ok(())
}

/// What a node waits on to know when to re-read telcos and agencies.
pub enum Changes {
    Listening(Box<sqlx::postgres::PgListener>),
    Polling(tokio::time::Interval),
}

impl Changes {
    /// Starts listening. On Postgres this holds one connection of its own, outside the pool.
    pub async fn watch(db: &Db) -> Result<Self, DbError> {
        match db {
            Db::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool)
                    .await
                    .op("listen_changes")?;
                listener.listen(CHANNEL).await.op("listen_changes")?;
                Ok(Changes::Listening(Box::new(listener)))
            }
            Db::Sqlite(_) => {
                let mut every = tokio::time::interval(SQLITE_POLL);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                Ok(Changes::Polling(every))
            }
        }
    }

    /// Returns when the tables may have changed: a notification arrived, or the connection
    /// was lost (notifications sent meanwhile are gone, so the caller re-reads anyway).
    pub async fn next(&mut self) {
        match self {
            Changes::Polling(every) => {
                every.tick().await;
            }
            Changes::Listening(listener) => match listener.try_recv().await {
                Ok(Some(_)) => {}
                // The next call reconnects and listens again.
                Ok(None) => tracing::warn!("lost the change listener's connection; re-reading"),
                Err(e) => {
                    tracing::warn!(error = %e, "change listener failed; re-reading");
                    tokio::time::sleep(LISTEN_RETRY).await;
                }
            },
        }
    }
}
