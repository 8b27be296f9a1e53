//! What every status change writes besides the message row, in the same transaction: its
//! history entry and, when the agency is to hear of it, a pending webhook. Written as macros
//! because each runs on whichever backend's transaction it is given.

use crate::sms::message::Status;

/// A message whose status just changed, as the webhook and the metrics need it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatusChange {
    pub id: String,
    pub agency_id: String,
    pub recipient: String,
    pub parts: i32,
    pub status: String,
    pub telco_id: Option<String>,
    pub telco_message_id: Option<String>,
    pub callback_url: Option<String>,
    pub last_error: Option<String>,
    pub purpose: String,
}

/// The columns a status change returns, for `RETURNING`.
pub const CHANGE_COLUMNS: &str = "id, agency_id, recipient, parts, status, telco_id, \
    telco_message_id, callback_url, last_error, purpose";

impl StatusChange {
    pub fn status(&self) -> Option<Status> {
        Status::parse(&self.status)
    }
}

/// Where an agency hears about its messages: the message's own callback URL, else the
/// agency's, and for which statuses.
pub trait WebhookRoutes: Sync {
    /// The URL to call about `change`, or `None` when nobody is to be told.
    fn url_for(&self, change: &StatusChange) -> Option<String>;
}

/// The body of a status webhook.
pub fn webhook_payload(
    change: &StatusChange,
    detail: Option<&str>,
    at: &chrono::DateTime<chrono::Utc>,
) -> String {
    serde_json::json!({
        "type": "message.status",
        "message_id": change.id,
        "status": change.status,
        "recipient": change.recipient,
        "parts": change.parts,
        "telco": change.telco_id,
        "detail": detail,
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
    .to_string()
}

/// How long a webhook is retried before it is given up.
pub const WEBHOOK_GIVE_UP_MS: i64 = 24 * 60 * 60 * 1000;

/// Inserts a history entry: `insert_event!(tx, message_id, status, detail, at)`.
macro_rules! insert_event {
    ($tx:expr, $id:expr, $status:expr, $detail:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO message_events (message_id, status, detail, at) VALUES ($1, $2, $3, $4)",
        )
        .bind($id)
        .bind($status.as_str())
        .bind($detail)
        .bind($at)
        .execute(&mut *$tx)
        .await
    };
}
pub(crate) use insert_event;

/// Writes `change`'s history entry and, when `routes` name a URL, its pending webhook.
macro_rules! record_change {
    ($tx:expr, $change:expr, $detail:expr, $routes:expr, $now:expr, $now_ms:expr) => {{
        let change: &$crate::sms::store::events::StatusChange = $change;
        let status = change
            .status()
            .unwrap_or($crate::sms::message::Status::Queued);
        $crate::sms::store::events::insert_event!($tx, change.id.as_str(), status, $detail, $now)?;
        if let Some(url) = $routes.url_for(change) {
            let payload = $crate::sms::store::events::webhook_payload(change, $detail, &$now.0);
            sqlx::query(
                "INSERT INTO webhooks (agency_id, message_id, url, payload, status, attempts,
                                       due_ms, give_up_ms, created_at)
                 VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $7)",
            )
            .bind(change.agency_id.as_str())
            .bind(change.id.as_str())
            .bind(url)
            .bind(payload)
            .bind($now_ms)
            .bind($now_ms + $crate::sms::store::events::WEBHOOK_GIVE_UP_MS)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}
pub(crate) use record_change;
