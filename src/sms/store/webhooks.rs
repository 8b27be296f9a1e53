//! Pending webhooks: claimed like messages (so that two nodes never call the same one at
//! once), and each attempt recorded with its answer.

use super::accept::{insert_messages, NewMessage};
use crate::db::{on_both, BeginWrite, Db, DbError, OpExt, Timestamp};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueWebhook {
    pub id: i64,
    pub agency_id: String,
    pub url: String,
    pub payload: String,
    pub attempts: i32,
    pub give_up_ms: i64,
    /// The incoming message a forward carries; its answer may hold a reply to it.
    pub inbound_id: Option<String>,
}

const CLAIMED_COLUMNS: &[&str] = &[
    "id",
    "agency_id",
    "url",
    "payload",
    "attempts",
    "give_up_ms",
    "inbound_id",
];

/// Claims up to `limit` pending webhooks whose time has come, until `lease_until_ms`.
pub async fn claim_due(
    db: &Db,
    now_ms: i64,
    lease_until_ms: i64,
    limit: u32,
) -> Result<Vec<DueWebhook>, DbError> {
    let sql = super::claim_statement(
        db.kind(),
        "webhooks",
        "due_ms = $2, attempts = attempts + 1",
        "status = 'pending' AND due_ms <= $1",
        "$3",
        CLAIMED_COLUMNS,
    );
    on_both!(db, pool => {
        sqlx::query_as(&sql)
            .bind(now_ms)
            .bind(lease_until_ms)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
    })
    .op("claim_due_webhooks")
}

/// How one attempt ended, and what comes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookNext {
    Delivered,
    RetryAt(i64),
    GiveUp,
}

impl WebhookNext {
    fn status(&self) -> &'static str {
        match self {
            WebhookNext::Delivered => "delivered",
            WebhookNext::RetryAt(_) => "pending",
            WebhookNext::GiveUp => "abandoned",
        }
    }
}

/// Records attempt number `attempt` of webhook `id` and what comes next. An attempt whose
/// claim was taken over (its lease lapsed) still records its answer but moves nothing.
/// `reply` (the agency's answer to a forwarded message) is queued to the message's sender
/// only by the attempt that delivers the webhook, so it is sent once however often the
/// forward was made.
#[allow(clippy::too_many_arguments)]
pub async fn record_attempt(
    db: &Db,
    id: i64,
    attempt: i32,
    http_status: Option<u16>,
    error: Option<&str>,
    next: &WebhookNext,
    reply: Option<(&str, &str, &NewMessage)>,
    now_ms: i64,
) -> Result<(), DbError> {
    let now = Timestamp::now();
    let due_ms = match next {
        WebhookNext::RetryAt(due) => Some(*due),
        _ => None,
    };
    on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO webhook_attempts (webhook_id, at, http_status, error) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(now)
                .bind(http_status.map(i32::from))
                .bind(error)
                .execute(&mut *tx)
                .await?;
            let moved = sqlx::query(
                "UPDATE webhooks SET status = $3, due_ms = COALESCE($4, due_ms)
                 WHERE id = $1 AND attempts = $2 AND status = 'pending'",
            )
            .bind(id)
            .bind(attempt)
            .bind(next.status())
            .bind(due_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if let (1, Some((agency, inbound_id, message))) = (moved, reply) {
                insert_messages!(tx, agency, std::slice::from_ref(message), Some(inbound_id), now, now_ms)?;
            }
            tx.commit().await
        }
        .await
    })
    .op("record_webhook_attempt")
}
