//! The reconciler: every node, every few seconds, claims pending transactions whose answer
//! never came (the node that made the call stopped) and asks the agency again with the same
//! request id, so the agency answers what it already did instead of doing it again. The
//! real outcome is recorded as `late`: the citizen was not shown it. A call that still fails
//! is asked again later with growing pauses, until the agency's idempotency window has passed.
//! A call whose result was promised by SMS gets it sent in the same write as its outcome.

use super::client::{ActionCall, CallOutcome};
use super::follow_up::{self, menu_outcome};
use super::pending;
use super::store::TransactionRecord;
use crate::app::Gateway;
use crate::db::journal::Record;
use crate::menus::ActionOutcome;
use crate::telemetry::names;
use chrono::{DateTime, Duration as Span, Utc};
use std::time::Duration;
use tokio::time::Instant;

/// Pending rows claimed per round on one node.
const CLAIM_LIMIT: i64 = 50;
/// How long the agency keeps answers for a request id; asking after that could do it again.
const IDEMPOTENCY_WINDOW: Span = Span::hours(24);
/// Pauses between asks of a call that keeps failing: doubling, capped.
const FIRST_PAUSE_SECS: i64 = 30;
const MAX_PAUSE_SECS: i64 = 3_600;

/// Asks again every pending call due at `now`; returns how many were asked.
pub async fn reconcile_due(gw: &Gateway, now: DateTime<Utc>) -> usize {
    let budget = gw.background_call_budget();
    // Long enough for the ask to finish and its outcome to be written before anyone else
    // may claim the row.
    let lease_until =
        now + Span::from_std(budget * 2 + Duration::from_secs(30)).unwrap_or_default();
    let due = match pending::claim_due(&gw.db, now, lease_until, CLAIM_LIMIT).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not claim pending transactions");
            return 0;
        }
    };
    let asks = due.iter().map(|row| ask_again(gw, row, now));
    futures_util::future::join_all(asks).await;
    due.len()
}

async fn ask_again(gw: &Gateway, row: &TransactionRecord, now: DateTime<Utc>) {
    let Some(agency) = gw.agencies.get(&row.agency) else {
        let settled = row.not_called(&format!("agency {} is not registered", row.agency));
        return settle_final(gw, settled, ActionOutcome::Failed, "not_called").await;
    };
    if now - row.created_at > IDEMPOTENCY_WINDOW {
        // Asking now could do it again: the agency no longer remembers the id.
        let settled = row.gave_up("no answer within the agency's 24-hour idempotency window");
        return settle_final(gw, settled, ActionOutcome::Failed, "expired").await;
    }
    let call = ActionCall {
        agency,
        transaction: row.id.clone(),
        action: row.action.clone(),
        msisdn: row.msisdn.clone(),
        language: row.language.unwrap_or(gw.config.default_language),
        params: row.params.clone().unwrap_or_default(),
    };
    let report = gw
        .backoffice
        .call(&call, Instant::now() + gw.background_call_budget())
        .await;
    tracing::info!(transaction = %row.id, agency = %row.agency, action = row.action,
        attempts = report.attempts, "pending back-office call asked again");
    if let CallOutcome::Failed { .. } = report.outcome {
        let asks = (row.attempts.max(0) as u32).min(16);
        let pause = (FIRST_PAUSE_SECS << asks.min(7)).min(MAX_PAUSE_SECS);
        let again = row.retry_later(&report, Utc::now() + Span::seconds(pause));
        return settle(gw, again, "retry_later").await;
    }
    let outcome = menu_outcome(&report.outcome);
    settle_final(gw, row.answered(&report, true), outcome, "answered").await;
}

/// Records a row's final outcome; when its result was promised by SMS, the result is queued
/// in the same write. Left pending when that cannot be done now: asked again later.
async fn settle_final(
    gw: &Gateway,
    record: TransactionRecord,
    outcome: ActionOutcome,
    how: &'static str,
) {
    let follow_up = match follow_up::kept_for(gw, &record).await {
        Ok(Some(follow_up)) => follow_up,
        Ok(None) => return settle(gw, record, how).await,
        Err(e) => {
            tracing::warn!(error = %e, transaction = %record.id, "follow-up not read; asked again later");
            return;
        }
    };
    metrics::counter!(names::RECONCILED, "outcome" => how).increment(1);
    if let Err(e) = follow_up::settle(gw, &record, &follow_up, outcome).await {
        tracing::error!(error = %e, transaction = %record.id, "reconciled outcome not recorded");
    }
}

async fn settle(gw: &Gateway, record: TransactionRecord, how: &'static str) {
    metrics::counter!(names::RECONCILED, "outcome" => how).increment(1);
    let what = record.id.to_string();
    if let Err(e) = gw.journal().write(Record::Transaction(record)).await {
        tracing::error!(error = %e, transaction = what, "reconciled outcome not recorded");
    }
}
