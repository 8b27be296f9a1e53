//! Reading an agency's messages back: one with its history and webhook attempts, or a page
//! of them. Every query is scoped to the agency, so another agency's id reads as absent.

use crate::db::{on_both, Db, DbError, OpExt, Timestamp};
use crate::ids::AgencyId;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub recipient: String,
    pub sender_id: Option<String>,
    pub text: String,
    pub encoding: String,
    pub parts: i32,
    pub status: String,
    pub telco_id: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const COLUMNS: &str = "id, recipient, sender_id, text, encoding, parts, status, telco_id, \
                       attempts, last_error, created_at, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub status: String,
    pub detail: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookAttemptRow {
    pub url: String,
    pub webhook_status: String,
    pub at: Timestamp,
    pub http_status: Option<i32>,
    pub error: Option<String>,
}

/// One message with everything that happened to it.
#[derive(Debug, Clone)]
pub struct MessageHistory {
    pub message: MessageRow,
    pub events: Vec<EventRow>,
    pub webhook_attempts: Vec<WebhookAttemptRow>,
}

pub async fn get_message(
    db: &Db,
    agency: &AgencyId,
    id: &str,
) -> Result<Option<MessageHistory>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE id = $1 AND agency_id = $2");
    let message: Option<MessageRow> = on_both!(db, pool => {
        sqlx::query_as(&sql).bind(id).bind(agency.as_str()).fetch_optional(pool).await
    })
    .op("get_message")?;
    let Some(message) = message else {
        return Ok(None);
    };
    let events: Vec<EventRow> = on_both!(db, pool => {
        sqlx::query_as("SELECT status, detail, at FROM message_events WHERE message_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(pool)
            .await
    })
    .op("get_message_events")?;
    let webhook_attempts: Vec<WebhookAttemptRow> = on_both!(db, pool => {
        sqlx::query_as(
            "SELECT w.url, w.status AS webhook_status, a.at, a.http_status, a.error
             FROM webhooks w JOIN webhook_attempts a ON a.webhook_id = w.id
             WHERE w.message_id = $1 ORDER BY a.id",
        )
        .bind(id)
        .fetch_all(pool)
        .await
    })
    .op("get_webhook_attempts")?;
    Ok(Some(MessageHistory {
        message,
        events,
        webhook_attempts,
    }))
}

/// What a page of messages is filtered by.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub status: Option<String>,
    pub since: Option<Timestamp>,
    /// The last id of the previous page: this page holds older messages.
    pub before: Option<String>,
    pub limit: u32,
}

/// The agency's messages, newest first.
pub async fn list_messages(
    db: &Db,
    agency: &AgencyId,
    filter: &MessageFilter,
) -> Result<Vec<MessageRow>, DbError> {
    on_both!(db, pool => {
        let mut qb = sqlx::QueryBuilder::new(format!("SELECT {COLUMNS} FROM messages WHERE agency_id = "));
        qb.push_bind(agency.as_str());
        if let Some(status) = &filter.status {
            qb.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(since) = filter.since {
            qb.push(" AND created_at >= ").push_bind(since);
        }
        if let Some(before) = &filter.before {
            qb.push(" AND id < ").push_bind(before.as_str());
        }
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(filter.limit));
        qb.build_query_as().fetch_all(pool).await
    })
    .op("list_messages")
}

/// Messages waiting to be sent, and how long the oldest has waited (for metrics and
/// `/readyz`).
pub async fn queue_depth(db: &Db, now_ms: i64) -> Result<(i64, Option<i64>), DbError> {
    let (depth, oldest): (i64, Option<i64>) = on_both!(db, pool => {
        sqlx::query_as("SELECT COUNT(*), MIN(due_ms) FROM messages WHERE status IN ('queued', 'sending')")
            .fetch_one(pool)
            .await
    })
    .op("queue_depth")?;
    Ok((depth, oldest.map(|due| (now_ms - due).max(0))))
}
