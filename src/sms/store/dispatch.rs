//! The dispatcher's side of the outbox: claiming due messages so that no two dispatchers
//! (on any node) send the same one, and settling each claim with what the telco said.

use super::events::{record_change, StatusChange, WebhookRoutes, CHANGE_COLUMNS};
use crate::db::{on_both, BeginWrite, Db, DbError, OpExt, Timestamp};
use crate::ids::TelcoId;
use crate::sms::message::{MessageId, Status};

/// A message a dispatcher has claimed: it alone sends it until `lease` ends.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    pub agency_id: String,
    pub recipient: String,
    pub sender_id: Option<String>,
    pub text: String,
    pub encoding: String,
    pub parts: i32,
    /// The telco an earlier attempt went to, if any.
    pub telco_id: Option<String>,
    /// Which claim this is (1 for the first); settling names it, so that a dispatcher whose
    /// lease lapsed cannot settle a claim another has since made.
    pub attempts: i32,
    pub expires_ms: i64,
    /// Why it is sent ([`crate::sms::message::Purpose`]); a broadcast's id and topic.
    pub purpose: String,
    pub broadcast_id: Option<String>,
    pub topic_id: Option<String>,
}

const CLAIMED_COLUMNS: &[&str] = &[
    "id",
    "agency_id",
    "recipient",
    "sender_id",
    "text",
    "encoding",
    "parts",
    "telco_id",
    "attempts",
    "expires_ms",
    "purpose",
    "broadcast_id",
    "topic_id",
];

/// Claims up to `limit` due messages (queued ones whose time has come, and sending ones
/// whose dispatcher's lease ran out), holding each until `lease_until_ms`.
pub async fn claim_due(
    db: &Db,
    now_ms: i64,
    lease_until_ms: i64,
    limit: u32,
) -> Result<Vec<Claimed>, DbError> {
    let sql = super::claim_statement(
        db.kind(),
        "messages",
        "status = 'sending', due_ms = $2, attempts = attempts + 1, updated_at = $3",
        "status IN ('queued', 'sending') AND due_ms <= $1",
        "$4",
        CLAIMED_COLUMNS,
    );
    on_both!(db, pool => {
        sqlx::query_as(&sql)
            .bind(now_ms)
            .bind(lease_until_ms)
            .bind(Timestamp::now())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
    })
    .op("claim_due_messages")
}

/// What became of one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The telco took it (with its id for the message, when it gives one).
    Sent {
        telco: TelcoId,
        telco_message_id: Option<String>,
    },
    /// Not sent this time; claimable again at `due_ms`.
    Retry { due_ms: i64, error: String },
    /// Refused for good.
    Failed { error: String },
    /// Its validity ended before it could be sent.
    Expired,
    /// Not to be sent at all (its recipient opted out).
    Cancelled { reason: &'static str },
}

/// One claim and its settlement.
#[derive(Debug, Clone)]
pub struct Settle {
    pub id: MessageId,
    pub attempt: i32,
    pub settlement: Settlement,
}

/// Records each claim's settlement with its history entry and webhook, in one transaction.
/// A claim no longer held (its lease lapsed and another dispatcher took it, or a report
/// already made the message final) changes nothing. Returns the changes made.
pub async fn settle(
    db: &Db,
    claims: &[Settle],
    routes: &dyn WebhookRoutes,
    now_ms: i64,
) -> Result<Vec<StatusChange>, DbError> {
    let rows: Vec<SettleRow> = claims.iter().map(SettleRow::of).collect();
    let settled = match db {
        // Three statements for the whole batch, so that a connection is held for
        // milliseconds whatever the batch size.
        Db::Postgres(pool) => super::settle_pg::settle(pool, &rows, routes, now_ms).await,
        Db::Sqlite(pool) => settle_each(pool, &rows, routes, now_ms).await,
    };
    settled.op("settle_messages")
}

/// A settlement as the columns it writes.
pub(super) struct SettleRow<'a> {
    pub id: &'a str,
    pub attempt: i32,
    pub status: Status,
    pub telco: Option<&'a str>,
    pub telco_message_id: Option<&'a str>,
    pub due_ms: Option<i64>,
    pub error: Option<&'a str>,
}

impl<'a> SettleRow<'a> {
    fn of(claim: &'a Settle) -> Self {
        let (status, telco, telco_message_id, due_ms, error) = match &claim.settlement {
            Settlement::Sent {
                telco,
                telco_message_id,
            } => (
                Status::Sent,
                Some(telco.as_str()),
                telco_message_id.as_deref(),
                None,
                None,
            ),
            Settlement::Retry { due_ms, error } => (
                Status::Queued,
                None,
                None,
                Some(*due_ms),
                Some(error.as_str()),
            ),
            Settlement::Failed { error } => {
                (Status::Failed, None, None, None, Some(error.as_str()))
            }
            Settlement::Expired => (Status::Expired, None, None, None, None),
            Settlement::Cancelled { reason } => {
                (Status::Cancelled, None, None, None, Some(*reason))
            }
        };
        Self {
            id: claim.id.as_str(),
            attempt: claim.attempt,
            status,
            telco,
            telco_message_id,
            due_ms,
            error,
        }
    }
}

async fn settle_each(
    pool: &sqlx::SqlitePool,
    rows: &[SettleRow<'_>],
    routes: &dyn WebhookRoutes,
    now_ms: i64,
) -> Result<Vec<StatusChange>, sqlx::Error> {
    let now = Timestamp::now();
    let sql = format!(
        "UPDATE messages SET status = $3, telco_id = COALESCE($4, telco_id),
                telco_message_id = COALESCE($5, telco_message_id),
                due_ms = COALESCE($6, due_ms), last_error = COALESCE($7, last_error),
                updated_at = $8
         WHERE id = $1 AND attempts = $2 AND status = 'sending'
         RETURNING {CHANGE_COLUMNS}"
    );
    let mut tx = pool.begin_write().await?;
    let mut changes = Vec::new();
    for row in rows {
        let changed: Option<StatusChange> = sqlx::query_as(&sql)
            .bind(row.id)
            .bind(row.attempt)
            .bind(row.status.as_str())
            .bind(row.telco)
            .bind(row.telco_message_id)
            .bind(row.due_ms)
            .bind(row.error)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(changed) = changed else { continue };
        record_change!(tx, &changed, row.error, routes, now, now_ms);
        changes.push(changed);
    }
    tx.commit().await?;
    Ok(changes)
}
