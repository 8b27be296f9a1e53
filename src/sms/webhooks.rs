//! Delivering webhooks to agencies: each pending webhook is posted with the agency's
//! `Mgov-Signature` (the same scheme as calls to its back office), and retried with back-off
//! until a `2xx` or for 24 hours. Every attempt is recorded; any node may deliver any
//! webhook, one at a time thanks to the claim. An agency answering a forwarded incoming
//! message with `{"reply": "text"}` has that text sent back to its sender, once.

use super::encoding;
use super::inbound::store::incoming_sender;
use super::store::accept::NewMessage;
use super::store::webhooks::{claim_due, record_attempt, DueWebhook, WebhookNext};
use crate::app::rounds::run_rounds;
use crate::app::Gateway;
use crate::backoffice::signature;
use crate::ids::AgencyId;
use crate::msisdn::Msisdn;
use crate::sessions::now_ms;
use crate::telemetry::names;
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const BATCH: u32 = 100;
const LEASE: Duration = Duration::from_secs(60);
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Retries: `sms.webhook_first_retry_ms`, doubling, at most an hour apart, ±20 % jitter.
const LONGEST_RETRY: Duration = Duration::from_secs(3600);
/// An agency's answer to a forward is read up to this size for its reply.
const MAX_ANSWER_BYTES: usize = 16 * 1024;
/// How long an agency's reply may wait for its telco.
const REPLY_VALIDITY: Duration = Duration::from_secs(24 * 60 * 60);

pub async fn run(gw: Arc<Gateway>, stopped: watch::Receiver<bool>) {
    let nudge = &gw.sms.wake_webhooks;
    run_rounds("webhooks", stopped, nudge, IDLE_POLL, || deliver_once(&gw)).await
}

/// Claims one batch of due webhooks and attempts each. Returns how many it attempted.
pub async fn deliver_once(gw: &Gateway) -> Result<usize, crate::db::DbError> {
    let now = now_ms();
    let due = claim_due(&gw.db, now, now + LEASE.as_millis() as i64, BATCH).await?;
    let attempts = due.iter().map(|webhook| deliver(gw, webhook));
    for result in futures_util::future::join_all(attempts).await {
        result?;
    }
    Ok(due.len())
}

async fn deliver(gw: &Gateway, webhook: &DueWebhook) -> Result<(), crate::db::DbError> {
    let secret = AgencyId::parse(&webhook.agency_id)
        .ok()
        .and_then(|id| gw.agencies.get(&id))
        .map(|agency| agency.signing_secret.clone());
    let (http_status, error, answer) = match secret {
        Some(secret) => post(gw, webhook, &secret).await,
        None => (
            None,
            Some("the agency is no longer registered".to_string()),
            None,
        ),
    };
    let delivered = http_status.is_some_and(|s| (200..300).contains(&s));
    let next = if delivered {
        WebhookNext::Delivered
    } else {
        let first = gw.config.sms.webhook_first_retry();
        let due = now_ms() + retry_delay(first, webhook.attempts).as_millis() as i64;
        if due > webhook.give_up_ms {
            WebhookNext::GiveUp
        } else {
            WebhookNext::RetryAt(due)
        }
    };
    let outcome = match next {
        WebhookNext::Delivered => "delivered",
        WebhookNext::RetryAt(_) => "retry",
        WebhookNext::GiveUp => "abandoned",
    };
    metrics::counter!(names::WEBHOOK_ATTEMPTS, "outcome" => outcome).increment(1);
    if !delivered {
        tracing::info!(agency = %webhook.agency_id, webhook = webhook.id, attempt = webhook.attempts,
            status = ?http_status, error = ?error, outcome, "webhook not acknowledged");
    }
    let reply = match (&webhook.inbound_id, answer) {
        (Some(inbound_id), Some(answer)) if delivered => {
            reply_from(gw, webhook, inbound_id, &answer).await?
        }
        _ => None,
    };
    record_attempt(
        &gw.db,
        webhook.id,
        webhook.attempts,
        http_status,
        error.as_deref(),
        &next,
        reply
            .as_ref()
            .zip(webhook.inbound_id.as_deref())
            .map(|(message, inbound_id)| (webhook.agency_id.as_str(), inbound_id, message)),
        now_ms(),
    )
    .await?;
    if reply.is_some() {
        gw.sms.wake.notify_one();
    }
    Ok(())
}

/// The reply an agency put in its answer to a forwarded message (`{"reply": "text"}`), as
/// a message to the sender; none when the answer holds no usable reply (logged).
async fn reply_from(
    gw: &Gateway,
    webhook: &DueWebhook,
    inbound_id: &str,
    answer: &[u8],
) -> Result<Option<NewMessage>, crate::db::DbError> {
    #[derive(serde::Deserialize)]
    struct Answer {
        reply: Option<String>,
    }
    let Some(text) = serde_json::from_slice::<Answer>(answer)
        .ok()
        .and_then(|a| a.reply)
        .filter(|t| !t.trim().is_empty())
    else {
        return Ok(None);
    };
    let parts = encoding::part_count(&text).1;
    if parts > encoding::MAX_PARTS {
        tracing::warn!(
            inbound = inbound_id,
            parts,
            "agency's reply is too long to send; dropped"
        );
        return Ok(None);
    }
    let Ok(agency) = AgencyId::parse(&webhook.agency_id) else {
        return Ok(None);
    };
    let Some(sender) = incoming_sender(&gw.db, inbound_id, &agency).await? else {
        return Ok(None);
    };
    let Ok(recipient) = Msisdn::parse(&sender, &gw.config.default_country) else {
        return Ok(None);
    };
    let expires_ms = now_ms() + REPLY_VALIDITY.as_millis() as i64;
    Ok(Some(NewMessage::reply(recipient, text, expires_ms)))
}

/// Posts the webhook: its HTTP status, or why there was none (or why it is not a success),
/// and the body of a successful answer to a forward (it may hold a reply).
async fn post(
    gw: &Gateway,
    webhook: &DueWebhook,
    secret: &str,
) -> (Option<u16>, Option<String>, Option<Vec<u8>>) {
    let timestamp = chrono::Utc::now().timestamp();
    let signed = signature::sign(secret.as_bytes(), timestamp, webhook.payload.as_bytes());
    let sent = gw
        .sms
        .http
        .post(&webhook.url)
        .header(signature::HEADER, signed)
        .header("Content-Type", "application/json")
        .header("Mgov-Webhook-Id", webhook.id.to_string())
        .body(webhook.payload.clone())
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => {
            let status = response.status().as_u16();
            let body = match &webhook.inbound_id {
                Some(_) => response
                    .bytes()
                    .await
                    .ok()
                    .filter(|b| b.len() <= MAX_ANSWER_BYTES),
                None => None,
            };
            (Some(status), None, body.map(|b| b.to_vec()))
        }
        Ok(response) => (
            Some(response.status().as_u16()),
            Some(format!("answered {}", response.status())),
            None,
        ),
        Err(e) => (
            None,
            Some(crate::telcos::describe_transport_error(&e)),
            None,
        ),
    }
}

fn retry_delay(first: Duration, attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 20) as u32 - 1;
    let base = first
        .saturating_mul(1 << doublings.min(16))
        .min(LONGEST_RETRY);
    base.mul_f64(rand::rng().random_range(0.8..1.2))
}
