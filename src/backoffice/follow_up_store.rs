//! Results by SMS in the durable store: each follow-up's context, kept before its call is
//! made, and the keys of results already queued as SMS, so that each is sent once.

use super::store::{bind_record, TransactionRecord, COLUMNS, REPLACE_OUTCOME};
use crate::db::{on_both, BeginWrite, Db, DbError, Money, OpExt, Timestamp};
use crate::ids::{AgencyId, TransactionId};
use crate::menus::FollowUp;
use crate::sms::store::accept::{insert_messages, NewMessage};

/// Queues `message` from `agency` inside the open transaction `tx` unless `key` already
/// queued one: `queue_once!(tx, key, agency, message, now)` gives `Result<bool, sqlx::Error>`.
macro_rules! queue_once {
    ($tx:expr, $key:expr, $agency:expr, $message:expr, $now:expr) => {{
        let message: &NewMessage = $message;
        let claimed = sqlx::query(
            "INSERT INTO sms_results (key, message_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind($key)
        .bind(message.id.as_str())
        .bind($now)
        .execute(&mut *$tx)
        .await?
        .rows_affected()
            == 1;
        if claimed {
            let now_ms = $now.0.timestamp_millis();
            let messages = std::slice::from_ref(message);
            insert_messages!($tx, $agency, messages, None, $now, now_ms)?;
        }
        Ok::<bool, sqlx::Error>(claimed)
    }};
}

/// Keeps what rendering `transaction`'s result later needs; a repeated step keeps the first.
pub async fn keep_follow_up(
    db: &Db,
    transaction: &TransactionId,
    follow_up: &FollowUp,
) -> Result<(), DbError> {
    let context = serde_json::to_string(follow_up).expect("a follow-up serialises");
    on_both!(db, pool => {
        sqlx::query(
            "INSERT INTO follow_ups (transaction_id, context, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (transaction_id) DO NOTHING",
        )
        .bind(transaction.as_str())
        .bind(&context)
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .map(|_| ())
    })
    .op("keep_follow_up")?;
    Ok(())
}

/// The follow-up kept for `transaction`, if its menu asked for one.
pub async fn get_follow_up(
    db: &Db,
    transaction: &TransactionId,
) -> Result<Option<FollowUp>, DbError> {
    const OP: &str = "get_follow_up";
    let context: Option<String> = on_both!(db, pool => {
        sqlx::query_scalar("SELECT context FROM follow_ups WHERE transaction_id = $1")
            .bind(transaction.as_str())
            .fetch_optional(pool)
            .await
    })
    .op(OP)?;
    context
        .map(|c| {
            serde_json::from_str(&c)
                .map_err(|e| DbError::corrupt(OP, format!("follow-up of {transaction}: {e}")))
        })
        .transpose()
}

/// What [`settle_and_send`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// This write settled the row (it was pending, or a failure turned into an answer).
    pub settled: bool,
    /// The result was queued as an SMS by this write.
    pub queued: bool,
}

/// Records a late outcome and, when this write is the one that settles it, queues `message`
/// (the result as an SMS) keyed on the transaction id, all in one database transaction: a
/// second writer (the reconciler, another node) finds the row settled or the key taken and
/// queues nothing, and a crash leaves neither or both.
pub async fn settle_and_send(
    db: &Db,
    record: &TransactionRecord,
    message: Option<&NewMessage>,
) -> Result<Settled, DbError> {
    let now = Timestamp::now();
    on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO transactions ({COLUMNS}) "));
            qb.push_values(std::slice::from_ref(record), |mut row, r| {
                bind_record!(row, r);
            });
            qb.push(REPLACE_OUTCOME);
            let settled = qb.build().execute(&mut *tx).await?.rows_affected() == 1;
            let queued = match message {
                Some(message) if settled => {
                    queue_once!(tx, record.id.as_str(), record.agency.as_str(), message, now)?
                }
                _ => false,
            };
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Settled { settled, queued })
        }
        .await
    })
    .op("settle_and_send")
}

/// Queues `message` from `agency` unless `key` already queued one; whether it did.
pub async fn send_once(
    db: &Db,
    key: &str,
    agency: &AgencyId,
    message: &NewMessage,
) -> Result<bool, DbError> {
    let now = Timestamp::now();
    on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            let queued = queue_once!(tx, key, agency.as_str(), message, now)?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(queued)
        }
        .await
    })
    .op("send_once")
}

/// A follow-up's context (the citizen's dialogue variables) is kept only while its result
/// may still be sent: once its transaction is settled and this long has passed, it goes.
const FOLLOW_UP_KEPT_AFTER_SETTLING: chrono::Duration = chrono::Duration::hours(1);
/// The keys of results sent by SMS outlive every retry of a hop or a call (a day at most).
const RESULT_KEYS_KEPT: chrono::Duration = chrono::Duration::days(7);

/// Deletes follow-ups whose transactions are settled, and old result keys; how many rows.
pub async fn purge(db: &Db, now: chrono::DateTime<chrono::Utc>) -> Result<u64, DbError> {
    let settled_before = Timestamp(now - FOLLOW_UP_KEPT_AFTER_SETTLING);
    let keys_before = Timestamp(now - RESULT_KEYS_KEPT);
    on_both!(db, pool => {
        async {
            let follow_ups = sqlx::query(
                "DELETE FROM follow_ups WHERE created_at < $1 AND transaction_id IN
                 (SELECT id FROM transactions WHERE outcome <> 'pending')",
            )
            .bind(settled_before)
            .execute(pool)
            .await?
            .rows_affected();
            let keys = sqlx::query("DELETE FROM sms_results WHERE created_at < $1")
                .bind(keys_before)
                .execute(pool)
                .await?
                .rows_affected();
            Ok::<_, sqlx::Error>(follow_ups + keys)
        }
        .await
    })
    .op("purge_follow_ups")
}
