//! Broadcasts in the durable store: created with the request's idempotency key, queued as
//! messages chunk by chunk, read back with their messages counted by status, cancelled.

use crate::db::{on_both, BeginWrite, Db, DbError, OpExt, Timestamp};
use crate::ids::AgencyId;
use crate::language::Language;
use crate::msisdn::Msisdn;
use crate::sms::message::{Purpose, Status};
use crate::sms::store::accept::{claim_idempotency_key, insert_messages, NewMessage, Stored};
use std::collections::BTreeMap;

/// A broadcast as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Broadcast {
    pub id: String,
    pub agency_id: String,
    pub topic_id: String,
    /// JSON: the text by language.
    pub texts: String,
    pub sender_id: Option<String>,
    /// `queued` (subscribers still being queued), `sending`, `cancelled`.
    pub status: String,
    pub cursor_msisdn: String,
    pub queued: i32,
    pub estimated_parts: i64,
    pub expires_ms: i64,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "id, agency_id, topic_id, texts, sender_id, status, cursor_msisdn, queued, \
    estimated_parts, expires_ms, created_at";

impl Broadcast {
    pub fn texts(&self) -> BTreeMap<Language, String> {
        serde_json::from_str(&self.texts).unwrap_or_default()
    }
}

/// A new broadcast's id: `bc_` and a ULID.
pub fn new_broadcast_id() -> String {
    format!("bc_{}", ulid::Ulid::new())
}

/// Topic `topic_id`'s subscribers, counted by language.
pub async fn subscribers_by_language(
    db: &Db,
    topic_id: &str,
) -> Result<Vec<(Language, i64)>, DbError> {
    let rows: Vec<(String, i64)> = on_both!(db, pool => {
        sqlx::query_as("SELECT language, COUNT(*) FROM subscriptions WHERE topic_id = $1 GROUP BY language")
            .bind(topic_id)
            .fetch_all(pool)
            .await
    })
    .op("count_subscribers")?;
    Ok(rows
        .into_iter()
        .map(|(l, n)| (Language::parse(&l).unwrap_or(Language::SWAHILI), n))
        .collect())
}

/// Stores `broadcast` (status `queued`) with the request's `(key, body hash, answer)`.
pub async fn create(
    db: &Db,
    broadcast: &Broadcast,
    request: Option<(&str, &str, &str)>,
) -> Result<Stored, DbError> {
    let now = Timestamp::now();
    on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            if let Some((key, request_sha256, response)) = request {
                let first = claim_idempotency_key!(tx, broadcast.agency_id.as_str(), key, request_sha256, response, now);
                if let Some(first) = first {
                    return Ok(first);
                }
            }
            sqlx::query(&format!(
                "INSERT INTO broadcasts ({COLUMNS}, updated_at)
                 VALUES ($1, $2, $3, $4, $5, 'queued', '', 0, $6, $7, $8, $8)"
            ))
            .bind(&broadcast.id)
            .bind(&broadcast.agency_id)
            .bind(&broadcast.topic_id)
            .bind(&broadcast.texts)
            .bind(&broadcast.sender_id)
            .bind(broadcast.estimated_parts)
            .bind(broadcast.expires_ms)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Stored::Accepted)
        }
        .await
    })
    .op("create_broadcast")
}

/// Broadcasts whose subscribers are still being queued, oldest first.
pub async fn to_queue(db: &Db, limit: u32) -> Result<Vec<Broadcast>, DbError> {
    let sql =
        format!("SELECT {COLUMNS} FROM broadcasts WHERE status = 'queued' ORDER BY id LIMIT $1");
    on_both!(db, pool => {
        sqlx::query_as(&sql).bind(i64::from(limit)).fetch_all(pool).await
    })
    .op("find_broadcasts_to_queue")
}

/// Queues the next `chunk` subscribers of `broadcast` (after its cursor as read) in one
/// transaction with the new cursor. Another node that got there first, or a cancellation,
/// makes it queue nothing. Returns how many messages it queued.
pub async fn queue_chunk(
    db: &Db,
    broadcast: &Broadcast,
    chunk: u32,
    now_ms: i64,
) -> Result<usize, DbError> {
    let texts = broadcast.texts();
    let purpose = Purpose::Broadcast {
        broadcast_id: broadcast.id.clone(),
        topic_id: broadcast.topic_id.clone(),
    };
    let now = Timestamp::now();
    on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            // Takes the broadcast's row first: a second node waits here, then finds the
            // cursor moved and queues nothing.
            let ours = sqlx::query(
                "UPDATE broadcasts SET updated_at = $3
                 WHERE id = $1 AND status = 'queued' AND cursor_msisdn = $2",
            )
            .bind(&broadcast.id)
            .bind(&broadcast.cursor_msisdn)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !ours {
                return Ok(0);
            }
            let subscribers: Vec<(String, String)> = sqlx::query_as(
                "SELECT msisdn, language FROM subscriptions
                 WHERE topic_id = $1 AND msisdn > $2 ORDER BY msisdn LIMIT $3",
            )
            .bind(&broadcast.topic_id)
            .bind(&broadcast.cursor_msisdn)
            .bind(i64::from(chunk))
            .fetch_all(&mut *tx)
            .await?;
            let messages: Vec<NewMessage> = subscribers
                .iter()
                .filter_map(|(msisdn, language)| {
                    let language = Language::parse(language).unwrap_or(Language::SWAHILI);
                    let (_, text) = super::text_for(&texts, language)?;
                    let mut message = NewMessage::reply(Msisdn::parse(msisdn, "").ok()?, text.to_string(), broadcast.expires_ms);
                    message.sender_id = broadcast.sender_id.clone();
                    message.purpose = purpose.clone();
                    Some(message)
                })
                .collect();
            insert_messages!(tx, broadcast.agency_id.as_str(), &messages, None, now, now_ms)?;
            let done = subscribers.len() < chunk as usize;
            let cursor = subscribers.last().map(|(m, _)| m.as_str()).unwrap_or(&broadcast.cursor_msisdn);
            sqlx::query(
                "UPDATE broadcasts SET cursor_msisdn = $2, queued = queued + $3, status = $4, updated_at = $5
                 WHERE id = $1",
            )
            .bind(&broadcast.id)
            .bind(cursor)
            .bind(messages.len() as i32)
            .bind(if done { "sending" } else { "queued" })
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(messages.len())
        }
        .await
    })
    .op("queue_broadcast_chunk")
}

/// `agency`'s broadcast `id`, with its messages counted by status.
pub async fn progress(
    db: &Db,
    agency: &AgencyId,
    id: &str,
) -> Result<Option<(Broadcast, BTreeMap<String, i64>)>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM broadcasts WHERE id = $1 AND agency_id = $2");
    let found: Option<Broadcast> = on_both!(db, pool => {
        sqlx::query_as(&sql).bind(id).bind(agency.as_str()).fetch_optional(pool).await
    })
    .op("read_broadcast")?;
    let Some(broadcast) = found else {
        return Ok(None);
    };
    let counts: Vec<(String, i64)> = on_both!(db, pool => {
        sqlx::query_as("SELECT status, COUNT(*) FROM messages WHERE broadcast_id = $1 GROUP BY status")
            .bind(id)
            .fetch_all(pool)
            .await
    })
    .op("count_broadcast_messages")?;
    Ok(Some((broadcast, counts.into_iter().collect())))
}

/// `agency`'s broadcasts, newest first, ids before `before` when given.
pub async fn list(
    db: &Db,
    agency: &AgencyId,
    before: Option<&str>,
    limit: u32,
) -> Result<Vec<Broadcast>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM broadcasts WHERE agency_id = $1 AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    );
    on_both!(db, pool => {
        sqlx::query_as(&sql)
            .bind(agency.as_str())
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
    })
    .op("list_broadcasts")
}

pub const CANCELLED: &str = "the broadcast was cancelled";

/// Cancels `agency`'s broadcast `id`: no more subscribers are queued, and every message not
/// yet claimed by a dispatcher is made `cancelled`. `None` when there is no such broadcast;
/// else how many messages it cancelled (0 for one already cancelled).
pub async fn cancel(db: &Db, agency: &AgencyId, id: &str) -> Result<Option<usize>, DbError> {
    let now = Timestamp::now();
    on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            let found: Option<String> = sqlx::query_scalar(
                "UPDATE broadcasts SET status = 'cancelled', updated_at = $3
                 WHERE id = $1 AND agency_id = $2 RETURNING id",
            )
            .bind(id)
            .bind(agency.as_str())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Ok(None);
            }
            let cancelled: Vec<String> = sqlx::query_scalar(
                "UPDATE messages SET status = 'cancelled', last_error = $2, updated_at = $3
                 WHERE broadcast_id = $1 AND status = 'queued' RETURNING id",
            )
            .bind(id)
            .bind(CANCELLED)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            for chunk in cancelled.chunks(crate::db::rows_per_statement(4)) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO message_events (message_id, status, detail, at) ");
                qb.push_values(chunk, |mut row, message| {
                    row.push_bind(message.clone())
                        .push_bind(Status::Cancelled.as_str())
                        .push_bind(CANCELLED)
                        .push_bind(now);
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(Some(cancelled.len()))
        }
        .await
    })
    .op("cancel_broadcast")
}
