//! The dispatcher: claims due messages from the outbox, sends each through its telco at the
//! telco's pace, and settles every claim in one transaction per batch. Any number of
//! dispatchers, on any number of nodes, share the outbox: a claim is exclusive until its
//! lease ends, and a dispatcher that dies mid-batch leaves its claims to lapse and be
//! claimed again. That is the one way a message can be sent twice: the telco took it and
//! the dispatcher died before settling (a window of one send call plus one commit).

pub mod pace;
pub mod route;
pub mod shared_pace;

use super::channel::{OutgoingSms, SendError};
use super::message::{MessageId, Purpose};
use super::store::dispatch::{claim_due, settle, Claimed, Settle, Settlement};
use super::store::reports::match_early_reports;
use super::subscriptions::held_back::StopCheck;
use crate::app::Gateway;
use crate::db::carriers;
use crate::ids::TelcoId;
use crate::msisdn::Msisdn;
use crate::sessions::now_ms;
use crate::telemetry::names;
use futures_util::stream::{FuturesUnordered, StreamExt};
use rand::Rng;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often an idle dispatcher looks for due messages another node accepted or a retry
/// that came due.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// Retries: the first after `sms.first_retry_ms`, doubling, at most 10 minutes apart.
const LONGEST_RETRY: Duration = Duration::from_secs(600);
/// Finished sends are settled together once this many are in, or this long after the first.
const SETTLE_AT_MOST: usize = 100;
const SETTLE_EVERY: Duration = Duration::from_millis(50);
/// A message that waited this long for its telco's pace is checked against STOP again.
const RECHECK_AFTER_WAIT: Duration = Duration::from_millis(500);
/// When no telco can carry a number, look again after this long (an operator may add one).
const NO_ROUTE_RETRY: Duration = Duration::from_secs(60);

/// Runs one dispatcher until `stopped`; a batch in progress is finished and settled first.
pub async fn run(gw: Arc<Gateway>, mut stopped: watch::Receiver<bool>) {
    loop {
        if *stopped.borrow() {
            return;
        }
        let handled = match dispatch_once(&gw).await {
            Ok(handled) => handled,
            Err(e) => {
                tracing::warn!(error = %e, "dispatch round failed; trying again");
                0
            }
        };
        gw.sms
            .last_dispatch_ms
            .store(now_ms(), std::sync::atomic::Ordering::Relaxed);
        if handled == 0 {
            tokio::select! {
                _ = stopped.changed() => return,
                _ = gw.sms.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }
}

/// Claims one batch, sends it and settles it. Returns how many messages it handled.
pub async fn dispatch_once(gw: &Gateway) -> Result<usize, crate::db::DbError> {
    let now = now_ms();
    let batch = gw.config.sms.batch;
    let lease = gw.config.sms.claim_lease().as_millis() as i64;
    let claimed = claim_due(&gw.db, now, now + lease, batch).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    // Settled as they finish, a few at a time: one slow telco answer must not hold back
    // the status of messages sent long before it.
    // A STOP that came after a message was queued still holds it back.
    let stops = StopCheck::new(&gw.db, &claimed, RECHECK_AFTER_WAIT).await?;
    let carriers = last_carriers(gw, &claimed).await;
    let mut sending: FuturesUnordered<_> = claimed
        .iter()
        .map(|m| {
            send_one(
                gw,
                m,
                carriers.get(&m.recipient).map(String::as_str),
                &stops,
            )
        })
        .collect();
    let mut finished = Vec::new();
    let mut settle_by = None;
    loop {
        let next = match settle_by {
            Some(deadline) => tokio::time::timeout_at(deadline, sending.next()).await,
            None => Ok(sending.next().await),
        };
        match next {
            Ok(Some(settled)) => {
                finished.push(settled);
                settle_by.get_or_insert_with(|| tokio::time::Instant::now() + SETTLE_EVERY);
                if finished.len() < SETTLE_AT_MOST {
                    continue;
                }
            }
            Ok(None) => {
                settle_finished(gw, std::mem::take(&mut finished)).await?;
                return Ok(claimed.len());
            }
            Err(_) => {}
        }
        settle_finished(gw, std::mem::take(&mut finished)).await?;
        settle_by = None;
    }
}

/// Records finished sends, and matches reports that came before their telco ids.
async fn settle_finished(gw: &Gateway, finished: Vec<Settle>) -> Result<(), crate::db::DbError> {
    if finished.is_empty() {
        return Ok(());
    }
    let changes = settle(&gw.db, &finished, &gw.agencies, now_ms()).await?;
    let mut known_ids: BTreeMap<TelcoId, Vec<String>> = BTreeMap::new();
    for change in &changes {
        let telco = change.telco_id.as_deref().unwrap_or("none").to_string();
        metrics::counter!(names::SMS_STATUS, "telco" => telco, "status" => change.status.clone())
            .increment(1);
        if let (Some(telco), Some(id)) = (&change.telco_id, &change.telco_message_id) {
            if let Ok(telco) = TelcoId::parse(telco) {
                known_ids.entry(telco).or_default().push(id.clone());
            }
        }
    }
    for (telco, ids) in known_ids {
        match_early_reports(&gw.db, &telco, &ids, &gw.agencies, now_ms()).await?;
    }
    if changes
        .iter()
        .any(|c| c.status().is_some_and(|s| s.is_final()))
    {
        gw.sms.wake_webhooks.notify_one();
    }
    Ok(())
}

/// The telco that last carried each recipient's USSD. Without it (the database did not
/// answer) prefixes route: a guess is better than holding the batch.
async fn last_carriers(gw: &Gateway, claimed: &[Claimed]) -> HashMap<String, String> {
    let recipients: Vec<&str> = claimed.iter().map(|m| m.recipient.as_str()).collect();
    carriers::last_carriers(&gw.db, &recipients)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read the numbers' carriers; routing by prefix");
            HashMap::new()
        })
}

/// Sends one claimed message and says how to settle its claim.
async fn send_one(
    gw: &Gateway,
    message: &Claimed,
    last_carrier: Option<&str>,
    stops: &StopCheck<'_>,
) -> Settle {
    let settlement = attempt(gw, message, last_carrier, stops).await;
    Settle {
        id: MessageId::from_stored(message.id.clone()),
        attempt: message.attempts,
        settlement,
    }
}

async fn attempt(
    gw: &Gateway,
    message: &Claimed,
    last_carrier: Option<&str>,
    stops: &StopCheck<'_>,
) -> Settlement {
    if let Some(reason) = stops.held(&message.id).await {
        return Settlement::Cancelled { reason };
    }
    if now_ms() >= message.expires_ms {
        return Settlement::Expired;
    }
    let telcos = gw.telcos.snapshot();
    let previous = message.telco_id.as_deref();
    let Some(telco) = route::choose(&telcos, &message.recipient, previous, last_carrier) else {
        return Settlement::Retry {
            due_ms: now_ms() + NO_ROUTE_RETRY.as_millis() as i64,
            error: "no telco carries SMS to this number".into(),
        };
    };
    let Some(link) = telco.sms.as_ref() else {
        unreachable!("route::choose returns only telcos with an SMS link")
    };
    let pace = gw.sms.paces.of(&telco.id, link.parts_per_second);
    if let Some(until) = pace.resting_until() {
        return Settlement::Retry {
            due_ms: now_ms()
                + until
                    .saturating_duration_since(tokio::time::Instant::now())
                    .as_millis() as i64,
            error: format!("telco {} is resting after a throttle", telco.id),
        };
    }
    let Ok(to) = Msisdn::parse(&message.recipient, "") else {
        return Settlement::Failed {
            error: "stored recipient is not a phone number".into(),
        };
    };
    let waited = tokio::time::Instant::now();
    pace.ready_for(message.parts as u32).await;
    // A STOP or a cancelled broadcast that came while the message waited for its turn still
    // holds it back; asked again only after a real wait, and for the whole batch at once.
    if waited.elapsed() >= RECHECK_AFTER_WAIT && Purpose::heeds_opt_out(&message.purpose) {
        match stops.held_now(&gw.db, &message.id).await {
            Ok(Some(reason)) => return Settlement::Cancelled { reason },
            Ok(None) => {}
            Err(e) => {
                return Settlement::Retry {
                    due_ms: now_ms() + RECHECK_AFTER_WAIT.as_millis() as i64,
                    error: format!("opt-outs could not be read: {e}"),
                }
            }
        }
    }
    let id = MessageId::from_stored(message.id.clone());
    let report_base = format!("{}/sms/{}/dlr", gw.config.public_url(), telco.id);
    let report_url = telco.wire_format.report_url(&report_base, link, &id);
    let sms = OutgoingSms {
        id: &id,
        to: &to,
        from: message.sender_id.as_deref(),
        text: &message.text,
        unicode: message.encoding == "ucs2",
        report_url: &report_url,
    };
    let sent = telco.wire_format.send_sms(&gw.sms.http, link, sms).await;
    let outcome = match &sent {
        Ok(_) => "sent",
        Err(SendError::Throttled(_)) => "throttled",
        Err(SendError::Transient(_)) => "transient",
        Err(SendError::Refused(_)) => "refused",
    };
    metrics::counter!(names::SMS_SEND_ATTEMPTS, "telco" => telco.id.to_string(), "outcome" => outcome)
        .increment(1);
    match sent {
        Ok(accepted) => {
            pace.took_one();
            metrics::counter!(names::SMS_PARTS_SENT, "telco" => telco.id.to_string())
                .increment(message.parts as u64);
            Settlement::Sent {
                telco: telco.id.clone(),
                telco_message_id: accepted.telco_message_id,
            }
        }
        Err(SendError::Throttled(why)) => {
            let until = pace.throttled();
            tracing::warn!(telco = %telco.id, reason = %why, "telco throttled sends; resting");
            Settlement::Retry {
                due_ms: now_ms()
                    + until
                        .saturating_duration_since(tokio::time::Instant::now())
                        .as_millis() as i64,
                error: SendError::Throttled(why).to_string(),
            }
        }
        Err(e @ SendError::Transient(_)) => {
            tracing::warn!(telco = %telco.id, msisdn = %to, error = %e, attempt = message.attempts, "send failed; will retry");
            Settlement::Retry {
                due_ms: now_ms()
                    + retry_delay(gw.config.sms.first_retry(), message.attempts).as_millis() as i64,
                error: e.to_string(),
            }
        }
        Err(e @ SendError::Refused(_)) => {
            tracing::info!(telco = %telco.id, msisdn = %to, error = %e, "telco refused a message");
            Settlement::Failed {
                error: e.to_string(),
            }
        }
    }
}

/// The wait before claim number `attempts + 1`.
fn retry_delay(first: Duration, attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 16) as u32 - 1;
    let base = first.saturating_mul(1 << doublings).min(LONGEST_RETRY);
    base.mul_f64(rand::rng().random_range(0.8..1.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_with_jitter_up_to_ten_minutes() {
        for (attempts, base) in [(1, 5), (2, 10), (3, 20), (8, 600), (40, 600)] {
            let delay = retry_delay(Duration::from_secs(5), attempts).as_secs_f64();
            let base = base as f64;
            assert!(
                (base * 0.8..=base * 1.2).contains(&delay),
                "attempt {attempts}: {delay}"
            );
        }
    }
}
