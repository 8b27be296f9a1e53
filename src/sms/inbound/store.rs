//! Incoming messages in the durable store: written before the telco is answered (a second
//! delivery of the same telco id is recognised and not stored again), claimed by the router
//! like the outbox's messages, and finished in one transaction with what their routing
//! produced (a reply in the outbox, a webhook to the agency), so that a message routed twice
//! by two nodes, or again after a crash, produces its effects once.

use crate::db::{on_both, BeginWrite, Db, DbError, OpExt, Timestamp};
use crate::sms::channel::IncomingSms;
use crate::sms::store::accept::NewMessage;
use crate::sms::store::events::WEBHOOK_GIVE_UP_MS;

/// Stores `sms` from `telco`; its new id, or `None` when that telco already delivered it.
/// `sender` is the sender as stored (E.164 digits when it is a number).
pub async fn store_incoming(
    db: &Db,
    telco: &str,
    sms: &IncomingSms,
    sender: &str,
    sender_is_number: bool,
    now_ms: i64,
) -> Result<Option<String>, DbError> {
    let id = format!("mo_{}", ulid::Ulid::new());
    let stored: Option<String> = on_both!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO inbound_messages (id, telco_id, telco_message_id, sender, sender_is_number,
                 shortcode, text, link_id, status, due_ms, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'received', $9, $10)
             ON CONFLICT (telco_id, telco_message_id) DO NOTHING RETURNING id",
        )
        .bind(&id)
        .bind(telco)
        .bind(&sms.telco_message_id)
        .bind(sender)
        .bind(sender_is_number)
        .bind(&sms.to)
        .bind(&sms.text)
        .bind(&sms.link_id)
        .bind(now_ms)
        .bind(Timestamp::now())
        .fetch_optional(pool)
        .await
    })
    .op("store_incoming_sms")?;
    Ok(stored)
}

/// An incoming message the router has claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedMo {
    pub id: String,
    pub telco_id: String,
    pub sender: String,
    pub sender_is_number: bool,
    pub shortcode: String,
    pub text: String,
    pub attempts: i32,
}

const CLAIMED_COLUMNS: &[&str] = &[
    "id",
    "telco_id",
    "sender",
    "sender_is_number",
    "shortcode",
    "text",
    "attempts",
];

/// Claims up to `limit` messages to route (new ones, and ones whose router's claim lapsed).
pub async fn claim_incoming(
    db: &Db,
    now_ms: i64,
    lease_until_ms: i64,
    limit: u32,
) -> Result<Vec<ClaimedMo>, DbError> {
    let sql = crate::sms::store::claim_statement(
        db.kind(),
        "inbound_messages",
        "status = 'routing', due_ms = $2, attempts = attempts + 1",
        "status IN ('received', 'routing') AND due_ms <= $1",
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
    .op("claim_incoming_sms")
}

/// The agency the gateway's own replies are sent as (created by migration 0007).
pub const GATEWAY_AGENCY: &str = "mgov";

/// What routing one message decided.
#[derive(Debug, Clone, Default)]
pub struct Routed {
    pub keyword: Option<String>,
    pub service_id: Option<String>,
    pub agency_id: Option<String>,
    /// `forwarded`, `answered`, `help`, `ignored`, or for subscription words `subscribed`,
    /// `unsubscribed`, `stopped`.
    pub outcome: &'static str,
    pub detail: Option<String>,
    /// A reply: the service's agency's message, or the gateway's own (`mgov`) when no
    /// service was reached.
    pub reply: Option<NewMessage>,
    /// A webhook to the agency: (agency, url, payload).
    pub webhook: Option<(String, String, String)>,
    /// A back-office action to call before the reply can be written.
    pub answer: Option<super::answer::PendingAnswer>,
    /// A change to the sender's subscriptions (JIUNGE, STOP).
    pub subscription: Option<crate::sms::subscriptions::store::Change>,
}

/// Records each claimed message's routing and its effects, in one transaction. A claim no
/// longer held (it lapsed and another router took the message) writes nothing. Returns the
/// ids of the messages whose effects were written.
pub async fn finish_incoming(
    db: &Db,
    routed: &[(&ClaimedMo, Routed)],
    now_ms: i64,
) -> Result<Vec<String>, DbError> {
    let now = Timestamp::now();
    on_both!(db, pool => {
        async {
            let mut tx = pool.begin_write().await?;
            let mut finished = Vec::new();
            for (mo, routed) in routed {
                let held = sqlx::query(
                    "UPDATE inbound_messages SET status = 'done', keyword = $3, service_id = $4,
                         agency_id = $5, outcome = $6, detail = $7, reply_id = $8, handled_at = $9
                     WHERE id = $1 AND attempts = $2 AND status = 'routing'",
                )
                .bind(&mo.id)
                .bind(mo.attempts)
                .bind(&routed.keyword)
                .bind(&routed.service_id)
                .bind(&routed.agency_id)
                .bind(routed.outcome)
                .bind(&routed.detail)
                .bind(routed.reply.as_ref().map(|r| r.id.as_str()))
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1;
                if !held {
                    continue;
                }
                if let Some(reply) = &routed.reply {
                    // A service's reply is its agency's message; the gateway's own (help) are `mgov`'s.
                    let sender = routed.agency_id.as_deref().unwrap_or(GATEWAY_AGENCY);
                    crate::sms::store::accept::insert_messages!(tx, sender, std::slice::from_ref(reply), Some(mo.id.as_str()), now, now_ms)?;
                }
                if let Some(change) = &routed.subscription {
                    crate::sms::subscriptions::store::apply_change!(tx, change, now);
                }
                if let Some((agency, url, payload)) = &routed.webhook {
                    sqlx::query(
                        "INSERT INTO webhooks (agency_id, inbound_id, url, payload, status, due_ms, give_up_ms, created_at)
                         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7)",
                    )
                    .bind(agency)
                    .bind(&mo.id)
                    .bind(url)
                    .bind(payload)
                    .bind(now_ms)
                    .bind(now_ms + WEBHOOK_GIVE_UP_MS)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                finished.push(mo.id.clone());
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(finished)
        }
        .await
    })
    .op("finish_incoming_sms")
}

/// The sender of incoming message `id` when it was routed to one of `agency`'s services and
/// is a phone number: whom the agency may answer.
pub async fn incoming_sender(
    db: &Db,
    id: &str,
    agency: &crate::ids::AgencyId,
) -> Result<Option<String>, DbError> {
    on_both!(db, pool => {
        sqlx::query_scalar(
            "SELECT sender FROM inbound_messages WHERE id = $1 AND agency_id = $2 AND sender_is_number",
        )
        .bind(id)
        .bind(agency.as_str())
        .fetch_optional(pool)
        .await
    })
    .op("find_incoming_sender")
}
