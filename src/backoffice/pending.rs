//! Pending rows of the transaction log: calls committed as intents whose answer has not been
//! recorded. The reconciler claims the ones that are due; operators list them.

use super::store::{TransactionRecord, TransactionRow, COLUMNS};
use crate::db::{on_both, Db, DbError, OpExt, Timestamp};
use chrono::{DateTime, Utc};

/// Claims up to `limit` pending rows due at `now`, moving their next due time to
/// `lease_until` so that no other node claims them while this one asks again. Several nodes
/// may claim at once: on Postgres each row goes to one of them (`SKIP LOCKED`); SQLite has
/// one writer, so its claim is atomic anyway.
pub async fn claim_due(
    db: &Db,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<TransactionRecord>, DbError> {
    const OP: &str = "claim_due_pending";
    let lock = match db {
        Db::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        Db::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE transactions SET reconcile_at = $2
          WHERE id IN (SELECT id FROM transactions
                        WHERE outcome = 'pending' AND reconcile_at <= $1
                        ORDER BY reconcile_at LIMIT $3 {lock})
          RETURNING {COLUMNS}"
    );
    let rows: Vec<TransactionRow> = on_both!(db, pool => {
        sqlx::query_as(&sql)
            .bind(Timestamp(now))
            .bind(Timestamp(lease_until))
            .bind(limit)
            .fetch_all(pool)
            .await
    })
    .op(OP)?;
    rows.into_iter().map(|r| r.into_record(OP)).collect()
}

/// Pending rows, oldest first.
pub async fn list_pending(db: &Db, limit: i64) -> Result<Vec<TransactionRecord>, DbError> {
    const OP: &str = "list_pending";
    let sql = format!(
        "SELECT {COLUMNS} FROM transactions WHERE outcome = 'pending'
          ORDER BY created_at, id LIMIT $1"
    );
    let rows: Vec<TransactionRow> = on_both!(db, pool => {
        sqlx::query_as(&sql).bind(limit).fetch_all(pool).await
    })
    .op(OP)?;
    rows.into_iter().map(|r| r.into_record(OP)).collect()
}

pub async fn count_pending(db: &Db) -> Result<i64, DbError> {
    on_both!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE outcome = 'pending'")
            .fetch_one(pool)
            .await
    })
    .op("count_pending")
}
