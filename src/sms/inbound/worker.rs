//! The router: claims incoming messages in batches, routes each, and records every batch's
//! routing with its replies and webhooks in one transaction. Any number of routers on any
//! number of nodes share the work; a router that dies leaves its claims to lapse.

use super::answer::answer;
use super::route::{reply_to, route, RouteContext};
use super::store::{claim_incoming, finish_incoming, Routed};
use crate::app::rounds::run_rounds;
use crate::app::Gateway;
use crate::db::{carriers, citizens};
use crate::ids::TelcoId;
use crate::language::Language;
use crate::msisdn::Msisdn;
use crate::sessions::now_ms;
use crate::telemetry::names;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const BATCH: u32 = 100;
const LEASE: Duration = Duration::from_secs(60);
/// How often an idle router looks for messages another node stored.
const IDLE_POLL: Duration = Duration::from_millis(250);

pub async fn run(gw: Arc<Gateway>, stopped: watch::Receiver<bool>) {
    let nudge = &gw.sms.wake_router;
    run_rounds("routing incoming SMS", stopped, nudge, IDLE_POLL, || {
        route_once(&gw)
    })
    .await
}

/// Claims one batch, routes it and records it. Returns how many messages it claimed.
pub async fn route_once(gw: &Gateway) -> Result<usize, crate::db::DbError> {
    let now = now_ms();
    let claimed = claim_incoming(&gw.db, now, now + LEASE.as_millis() as i64, BATCH).await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let keywords = gw.sms.keywords.snapshot();
    let agencies = gw.agencies.snapshot();
    let topics = gw.sms.topics.snapshot();
    let cx = RouteContext {
        keywords: &keywords,
        topics: &topics,
        agencies: &agencies,
        shortcodes: &gw.config.sms.shortcodes,
        default_country: &gw.config.default_country,
        now_ms: now,
        received_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    let mut routed: Vec<(_, Routed)> = Vec::with_capacity(claimed.len());
    let mut sightings = Vec::new();
    for mo in &claimed {
        let sender = Msisdn::parse(&mo.sender, &gw.config.default_country).ok();
        let language = match &sender {
            Some(msisdn) => citizens::get_language(&gw.db, msisdn)
                .await?
                .unwrap_or(Language::SWAHILI),
            None => Language::SWAHILI,
        };
        if let (Some(msisdn), Ok(telco)) = (sender, TelcoId::parse(&mo.telco_id)) {
            sightings.push((msisdn, telco));
        }
        routed.push((mo, route(mo, language, &cx)));
    }
    // Services that answer: their back-office calls, side by side.
    let answers = routed.iter().map(|(mo, r)| async move {
        match &r.answer {
            Some(pending) => Some(answer(gw, mo, pending).await),
            None => None,
        }
    });
    let answered = futures_util::future::join_all(answers).await;
    for ((mo, routed), answered) in routed.iter_mut().zip(answered) {
        if let Some((text, outcome, detail)) = answered {
            routed.outcome = outcome;
            routed.detail = Some(detail);
            routed.reply = reply_to(mo, &cx, text);
        }
    }
    // The telco that delivered a message is the one to answer through.
    let seen: Vec<_> = sightings.iter().map(|(m, t)| (m, t, now)).collect();
    carriers::remember(&gw.db, &seen).await?;
    let finished = finish_incoming(&gw.db, &routed, now).await?;
    for (mo, routed) in &routed {
        if finished.contains(&mo.id) {
            metrics::counter!(names::SMS_INBOUND, "telco" => mo.telco_id.clone(), "outcome" => routed.outcome)
                .increment(1);
            tracing::info!(mo = %mo.id, telco = %mo.telco_id, outcome = routed.outcome,
                keyword = routed.keyword.as_deref().unwrap_or("-"), detail = routed.detail.as_deref().unwrap_or(""),
                "incoming SMS routed");
        }
    }
    if routed.iter().any(|(_, r)| r.reply.is_some()) {
        gw.sms.wake.notify_one();
    }
    if routed.iter().any(|(_, r)| r.webhook.is_some()) {
        gw.sms.wake_webhooks.notify_one();
    }
    Ok(claimed.len())
}
