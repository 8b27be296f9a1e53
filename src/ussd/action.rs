//! One back-office action for a dialogue. It is called within the hop's budget; when the
//! budget runs out first, the citizen is answered at once and the call goes on in the
//! background (same request id), so that a control number or booking the agency does issue
//! is recorded with its real outcome, exactly once, when the answer comes.

use crate::app::AppState;
use crate::backoffice::client::{ActionCall, CallOutcome, CallReport};
use crate::backoffice::store::{TransactionOutcome, TransactionRecord};
use crate::backoffice::summary::summarise;
use crate::ids::{AgencyId, ServiceId, TransactionId};
use crate::menus::ActionOutcome;
use crate::sessions::Session;
use crate::telemetry::names;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use tokio::time::Instant;

/// What the transaction record takes from the dialogue.
struct Origin {
    service: Option<ServiceId>,
    session_key: String,
    created_at: DateTime<Utc>,
}

pub async fn run(
    gw: &AppState,
    session: &Session,
    agency_id: &AgencyId,
    action: &str,
    params: BTreeMap<String, String>,
    hop_deadline: Instant,
) -> ActionOutcome {
    let Some(agency) = gw.agencies.get(agency_id) else {
        tracing::error!(agency = %agency_id, action, "menu calls an agency that is not registered");
        return ActionOutcome::Failed;
    };
    let call = ActionCall {
        agency,
        transaction: TransactionId::generate(),
        action: action.to_string(),
        msisdn: session.msisdn.clone(),
        language: session.language,
        params,
    };
    let origin = Origin {
        service: session.service.clone(),
        session_key: session.key.clone(),
        created_at: Utc::now(),
    };
    let call_deadline = Instant::now() + gw.background_call_budget();
    let caller = gw.clone();
    let mut running = tokio::spawn(async move {
        let report = caller.backoffice.call(&call, call_deadline).await;
        (call, report)
    });
    match tokio::time::timeout_at(hop_deadline, &mut running).await {
        Ok(Ok((call, report))) => {
            let outcome = match &report.outcome {
                CallOutcome::Ok(data) => ActionOutcome::Ok(data.clone()),
                CallOutcome::NotFound(_) => ActionOutcome::NotFound,
                CallOutcome::Rejected(_) => ActionOutcome::Rejected,
                CallOutcome::Failed { .. } => ActionOutcome::Failed,
            };
            record(gw, &call, &origin, report).await;
            outcome
        }
        Ok(Err(panicked)) => {
            tracing::error!(error = %panicked, action, "back-office call task failed");
            ActionOutcome::Failed
        }
        Err(_) => {
            tracing::info!(
                action,
                "back-office call outlived the hop; finishing it in the background"
            );
            let gw = gw.clone();
            tokio::spawn(async move {
                if let Ok((call, report)) = running.await {
                    record(&gw, &call, &origin, report).await;
                }
            });
            ActionOutcome::Failed
        }
    }
}

async fn record(gw: &AppState, call: &ActionCall, origin: &Origin, report: CallReport) {
    let (outcome, error) = match &report.outcome {
        CallOutcome::Ok(_) => (TransactionOutcome::Ok, None),
        CallOutcome::NotFound(_) => (TransactionOutcome::NotFound, None),
        CallOutcome::Rejected(message) => (TransactionOutcome::Rejected, message.clone()),
        CallOutcome::Failed {
            timed_out: true,
            reason,
        } => (TransactionOutcome::Timeout, Some(reason.clone())),
        CallOutcome::Failed { reason, .. } => (TransactionOutcome::Failed, Some(reason.clone())),
    };
    tracing::debug!(
        transaction = %call.transaction, agency = %call.agency.id, action = call.action,
        outcome = outcome.as_str(), attempts = report.attempts,
        latency_ms = report.latency.as_millis() as u64, "back-office call"
    );
    metrics::counter!(names::TRANSACTIONS, "action" => call.action.clone(), "outcome" => outcome.as_str())
        .increment(1);
    metrics::histogram!(names::BACKOFFICE_SECONDS, "action" => call.action.clone())
        .record(report.latency.as_secs_f64());
    let summary = match &report.outcome {
        CallOutcome::Ok(data) => summarise(data),
        _ => Default::default(),
    };
    let record = TransactionRecord {
        id: call.transaction.clone(),
        agency: call.agency.id.clone(),
        service: origin.service.clone(),
        action: call.action.clone(),
        session_key: Some(origin.session_key.clone()),
        msisdn: call.msisdn.clone(),
        outcome,
        latency_ms: report.latency.as_millis() as i64,
        attempts: report.attempts as i32,
        amount: summary.amount,
        currency: summary.currency,
        reference: summary.reference,
        error,
        created_at: origin.created_at,
        completed_at: Utc::now(),
    };
    gw.record_transaction(record).await;
}
