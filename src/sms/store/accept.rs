//! Writing accepted messages: every recipient's row, and the request's idempotency key, in
//! one transaction, so that a `202` means all of them are stored and a repeat of the request
//! finds the first answer.

use crate::db::{on_both, BeginWrite, Db, DbError, OpExt, Timestamp};
use crate::ids::AgencyId;
use crate::msisdn::Msisdn;
use crate::sms::encoding::Encoding;
use crate::sms::message::MessageId;

/// How long an idempotency key holds its first answer.
pub const IDEMPOTENCY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// One recipient's message as accepted.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: MessageId,
    pub recipient: Msisdn,
    pub sender_id: Option<String>,
    pub text: String,
    pub encoding: Encoding,
    pub parts: u32,
    pub callback_url: Option<String>,
    pub expires_ms: i64,
}

impl NewMessage {
    /// A plain reply to `recipient` (no sender id, no callback), valid until `expires_ms`.
    pub fn reply(recipient: Msisdn, text: String, expires_ms: i64) -> Self {
        let (encoding, parts) = crate::sms::encoding::part_count(&text);
        Self {
            id: MessageId::generate(),
            recipient,
            sender_id: None,
            text,
            encoding,
            parts: parts as u32,
            callback_url: None,
            expires_ms,
        }
    }
}

/// A request's `Idempotency-Key`, the hash of what was asked, and the answer to keep.
#[derive(Debug, Clone)]
pub struct IdempotentRequest<'a> {
    pub key: &'a str,
    pub request_sha256: &'a str,
    pub response: &'a str,
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Every message is stored.
    Accepted,
    /// The key was used before within the window: nothing was stored; this is what was
    /// asked and answered then.
    Repeat {
        request_sha256: String,
        response: String,
    },
}

/// Inserts queued messages of one agency in a transaction:
/// `insert_messages!(tx, agency_id, messages, in_reply_to, now, now_ms)`.
macro_rules! insert_messages {
    ($tx:expr, $agency:expr, $messages:expr, $in_reply_to:expr, $now:expr, $now_ms:expr) => {{
        const COLUMNS: &str = "id, agency_id, recipient, sender_id, text, encoding, parts, \
            callback_url, status, due_ms, expires_ms, created_at, updated_at, in_reply_to";
        let agency: &str = $agency;
        let in_reply_to: Option<&str> = $in_reply_to;
        let messages: &[$crate::sms::store::accept::NewMessage] = $messages;
        let mut inserted: Result<(), sqlx::Error> = Ok(());
        for chunk in messages.chunks($crate::db::rows_per_statement(14)) {
            let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO messages ({COLUMNS}) "));
            qb.push_values(chunk, |mut row, m| {
                row.push_bind(m.id.as_str().to_string())
                    .push_bind(agency.to_string())
                    .push_bind(m.recipient.as_str().to_string())
                    .push_bind(m.sender_id.clone())
                    .push_bind(m.text.clone())
                    .push_bind(m.encoding.as_str())
                    .push_bind(m.parts as i32)
                    .push_bind(m.callback_url.clone())
                    .push_bind($crate::sms::message::Status::Queued.as_str())
                    .push_bind($now_ms)
                    .push_bind(m.expires_ms)
                    .push_bind($now)
                    .push_bind($now)
                    .push_bind(in_reply_to.map(str::to_string));
            });
            if let Err(e) = qb.build().execute(&mut *$tx).await {
                inserted = Err(e);
                break;
            }
        }
        inserted
    }};
}
pub(crate) use insert_messages;

/// Claims a request's `Idempotency-Key` in a transaction (a key older than the window is
/// free again): `claim_idempotency_key!(tx, agency_id, key, request_sha256, response, now)`
/// gives `Ok(None)` when claimed, or `Ok(Some(Stored::Repeat))` with the first request's
/// hash and answer.
macro_rules! claim_idempotency_key {
    ($tx:expr, $agency:expr, $key:expr, $request_sha256:expr, $response:expr, $now:expr) => {{
        let agency: &str = $agency;
        let key: &str = $key;
        let now: $crate::db::Timestamp = $now;
        let cutoff = $crate::db::Timestamp(
            now.0 - chrono::Duration::milliseconds($crate::sms::store::accept::IDEMPOTENCY_WINDOW_MS),
        );
        async {
            sqlx::query("DELETE FROM idempotency_keys WHERE agency_id = $1 AND key = $2 AND created_at < $3")
                .bind(agency)
                .bind(key)
                .bind(cutoff)
                .execute(&mut *$tx)
                .await?;
            // A concurrent request with the same key waits here for the first to commit.
            let claimed = sqlx::query(
                "INSERT INTO idempotency_keys (agency_id, key, request_sha256, response, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agency_id, key) DO NOTHING",
            )
            .bind(agency)
            .bind(key)
            .bind($request_sha256)
            .bind($response)
            .bind(now)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
            if claimed > 0 {
                return Ok::<_, sqlx::Error>(None);
            }
            let (request_sha256, response): (String, String) = sqlx::query_as(
                "SELECT request_sha256, response FROM idempotency_keys
                 WHERE agency_id = $1 AND key = $2",
            )
            .bind(agency)
            .bind(key)
            .fetch_one(&mut *$tx)
            .await?;
            Ok(Some($crate::sms::store::accept::Stored::Repeat { request_sha256, response }))
        }
        .await
    }};
}
pub(crate) use claim_idempotency_key;

/// One request's messages, as the API hands them to be stored.
#[derive(Debug, Clone)]
pub struct Acceptance {
    pub agency: AgencyId,
    pub messages: Vec<NewMessage>,
    /// Its `Idempotency-Key`, the hash of its body and its answer.
    pub request: Option<(String, String, String)>,
    /// The incoming message its messages answer.
    pub in_reply_to: Option<String>,
}

/// Stores `messages` for `agency` (and `request`'s key) in one transaction.
pub async fn accept(
    db: &Db,
    agency: &AgencyId,
    messages: &[NewMessage],
    request: Option<&IdempotentRequest<'_>>,
    now_ms: i64,
) -> Result<Stored, DbError> {
    let acceptance = Acceptance {
        agency: agency.clone(),
        messages: messages.to_vec(),
        request: request.map(|r| (r.key.into(), r.request_sha256.into(), r.response.into())),
        in_reply_to: None,
    };
    let mut stored = accept_all(db, std::slice::from_ref(&acceptance), now_ms).await?;
    Ok(stored.pop().expect("one outcome per request"))
}

/// Stores several requests in one transaction (one commit for requests that came
/// together); what became of each, in order. A request whose key was used before stores
/// nothing and does not hold back the others.
pub async fn accept_all(
    db: &Db,
    requests: &[Acceptance],
    now_ms: i64,
) -> Result<Vec<Stored>, DbError> {
    const OP: &str = "accept_messages";
    let now = Timestamp::now();
    on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            let mut outcomes = Vec::with_capacity(requests.len());
            for acceptance in requests {
                let agency = &acceptance.agency;
                if let Some((key, request_sha256, response)) = &acceptance.request {
                    if let Some(repeat) = claim_idempotency_key!(tx, agency.as_str(), key, request_sha256, response, now)? {
                        outcomes.push(repeat);
                        continue;
                    }
                }
                insert_messages!(tx, agency.as_str(), &acceptance.messages, acceptance.in_reply_to.as_deref(), now, now_ms)?;
                outcomes.push(Stored::Accepted);
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(outcomes)
        }
        .await
    })
    .op(OP)
}
