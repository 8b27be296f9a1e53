//! `GET /v1/messages/{id}` (one message, its history and webhook attempts) and
//! `GET /v1/messages?status=&since=&cursor=&limit=` (newest first). An agency sees only its
//! own messages: another's id is answered 404, like one that does not exist.

use super::{invalid, AgencyCaller};
use crate::app::AppState;
use crate::db::Timestamp;
use crate::error::ApiError;
use crate::sms::message::Status;
use crate::sms::store::read::{get_message, list_messages, MessageFilter, MessageRow};
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1_000;

#[derive(Serialize, Deserialize)]
pub struct MessageView {
    pub id: String,
    pub to: String,
    pub from: Option<String>,
    pub text: String,
    pub encoding: String,
    pub parts: i32,
    pub status: String,
    pub telco: Option<String>,
    pub attempts: i32,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, Deserialize)]
pub struct HistoryEntry {
    pub status: String,
    pub at: String,
    pub detail: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct WebhookAttempt {
    pub url: String,
    pub at: String,
    pub http_status: Option<i32>,
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct MessageDetail {
    #[serde(flatten)]
    pub message: MessageView,
    /// Every status it went through, oldest first, starting with `queued` at acceptance.
    pub history: Vec<HistoryEntry>,
    pub webhook_attempts: Vec<WebhookAttempt>,
    /// `pending`, `delivered` or `abandoned` for the latest webhook, when there is one.
    pub webhook_status: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<MessageView>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub async fn one(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    Path(id): Path<String>,
) -> Result<Json<MessageDetail>, ApiError> {
    let found = get_message(&gw.db, &caller.agency, &id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no message {id:?}")))?;
    let message = view(found.message);
    let mut history = vec![HistoryEntry {
        status: Status::Queued.as_str().into(),
        at: message.created_at.clone(),
        detail: None,
    }];
    history.extend(found.events.into_iter().map(|e| HistoryEntry {
        status: e.status,
        at: rfc3339(&e.at),
        detail: e.detail,
    }));
    let webhook_status = found
        .webhook_attempts
        .last()
        .map(|a| a.webhook_status.clone());
    let webhook_attempts = found
        .webhook_attempts
        .into_iter()
        .map(|a| WebhookAttempt {
            url: a.url,
            at: rfc3339(&a.at),
            http_status: a.http_status,
            error: a.error,
        })
        .collect();
    Ok(Json(MessageDetail {
        message,
        history,
        webhook_attempts,
        webhook_status,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    /// RFC 3339: only messages accepted at or after it.
    since: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

pub async fn list(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MessagePage>, ApiError> {
    let Query(query) = query.map_err(|e| invalid(e.body_text()))?;
    if let Some(status) = &query.status {
        if Status::parse(status).is_none() {
            let known: Vec<_> = Status::ALL.iter().map(|s| s.as_str()).collect();
            return Err(invalid(format!(
                "status must be one of {}",
                known.join(", ")
            )));
        }
    }
    let since = query
        .since
        .as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| Timestamp(t.with_timezone(&Utc)))
                .map_err(|_| invalid(format!("since {s:?} is not an RFC 3339 time")))
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(invalid(format!("limit must be 1 to {MAX_PAGE}")));
    }
    let filter = MessageFilter {
        status: query.status,
        since,
        before: query.cursor,
        limit,
    };
    let rows = list_messages(&gw.db, &caller.agency, &filter)
        .await
        .map_err(ApiError::internal)?;
    let next_cursor = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten();
    Ok(Json(MessagePage {
        messages: rows.into_iter().map(view).collect(),
        next_cursor,
    }))
}

fn view(row: MessageRow) -> MessageView {
    MessageView {
        id: row.id,
        to: row.recipient,
        from: row.sender_id,
        text: row.text,
        encoding: row.encoding,
        parts: row.parts,
        status: row.status,
        telco: row.telco_id,
        attempts: row.attempts,
        error: row.last_error,
        created_at: rfc3339(&row.created_at),
        updated_at: rfc3339(&row.updated_at),
    }
}

fn rfc3339(t: &Timestamp) -> String {
    t.0.to_rfc3339_opts(SecondsFormat::Millis, true)
}
