//! One back-office action for a dialogue, exactly once per step of the dialogue.
//!
//! Its request id is derived from the step ([`TransactionId::for_step`]), so a repeated step
//! reaches the agency with the same id and gets the same answer. Before the call, its intent
//! is committed as a `pending` row; if that cannot be done in time the agency is not called
//! and the citizen is told the service is unavailable. The call runs within the hop's budget;
//! when the budget runs out first, the citizen is answered at once and the call goes on in
//! the background, and its outcome is recorded as `late` (the citizen did not see it). A
//! crash, or a call that times out without an answer, leaves the row pending for the
//! reconciler, which asks again with the same id until the agency says what it did.

use super::Dialogues;
use crate::app::AppState;
use crate::backoffice::client::{ActionCall, CallOutcome, CallReport};
use crate::backoffice::store::TransactionRecord;
use crate::db::journal::Record;
use crate::ids::{AgencyId, TransactionId};
use crate::menus::ActionOutcome;
use crate::sessions::{Location, Session};
use crate::telemetry::names;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// The agency was not called: the intent could not be made durable in time.
#[derive(Debug)]
pub struct NotCalled;

/// How long after its call's own deadline a pending row becomes the reconciler's: the node
/// that made the call has had time to record its outcome unless it stopped.
pub const RECONCILE_MARGIN: Duration = Duration::from_secs(30);

/// Runs the `call`-th action of the session's current step.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    gw: &AppState,
    dialogues: &Dialogues,
    session: &Session,
    agency_id: &AgencyId,
    action: &str,
    params: BTreeMap<String, String>,
    hop_deadline: Instant,
    call: u32,
) -> Result<ActionOutcome, NotCalled> {
    let Some(agency) = gw.agencies.get(agency_id) else {
        tracing::error!(agency = %agency_id, action, "menu calls an agency that is not registered");
        return Ok(ActionOutcome::Failed);
    };
    let transaction = TransactionId::for_step(
        &session.key,
        session.msisdn.as_str(),
        session.steps,
        call,
        action,
        &params,
    );
    let call = ActionCall {
        agency,
        transaction,
        action: action.to_string(),
        msisdn: session.msisdn.clone(),
        language: session.language,
        params,
    };
    let call_budget = gw.background_call_budget();
    let reconcile_at = chrono::Utc::now()
        + chrono::Duration::from_std(call_budget + RECONCILE_MARGIN).unwrap_or_default();
    // The service whose state makes the call, which is not the dialogue's first service
    // when the citizen went home and chose another.
    let service = match &session.location {
        Location::Service { service, .. } => Some(service.clone()),
        Location::Root => session.service.clone(),
    };
    let intent = TransactionRecord::intent(&call, service, Some(session.key.clone()), reconcile_at);
    let committed = gw.journal().submit(Record::Intent(intent.clone()));
    match tokio::time::timeout_at(dialogues.record_deadline(hop_deadline), committed).await {
        Ok(Ok(())) => {}
        failed => {
            let reason = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => "intent not committed within the hop's budget".to_string(),
            };
            tracing::warn!(transaction = %call.transaction, action, reason, "back office not called");
            // Whichever of the two writes lands first, the row ends settled, never pending.
            // Accepted by the journal, written whether or not anyone waits for it.
            drop(
                gw.journal()
                    .submit(Record::Transaction(intent.not_called(&reason))),
            );
            return Err(NotCalled);
        }
    }
    let call_deadline = Instant::now() + call_budget;
    let caller = gw.clone();
    let mut running = gw.tasks.spawn(async move {
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
            let wait_until = dialogues.record_deadline(hop_deadline);
            record(dialogues, &call, &intent, &report, false, wait_until).await;
            Ok(outcome)
        }
        Ok(Err(panicked)) => {
            // The intent stays pending: the reconciler asks again with the same id.
            tracing::error!(error = %panicked, action, "back-office call task failed");
            Ok(ActionOutcome::Failed)
        }
        Err(_) => {
            tracing::info!(
                action,
                "back-office call outlived the hop; finishing it in the background"
            );
            let (later, record_wait) = (dialogues.clone(), gw.config.record_wait());
            gw.tasks.spawn(async move {
                if let Ok((call, report)) = running.await {
                    let wait_until = Instant::now() + record_wait;
                    record(&later, &call, &intent, &report, true, wait_until).await;
                }
            });
            Ok(ActionOutcome::Failed)
        }
    }
}

/// How long after a call timed out the reconciler asks again what became of it.
const IN_DOUBT_PAUSE: Duration = Duration::from_secs(30);

/// Records the outcome of `call`, waiting for its commit until `wait_until`. A call that
/// timed out is in doubt (the agency may have done it): its row stays pending, and the
/// reconciler asks again with the same id until the agency says what it did.
async fn record(
    dialogues: &Dialogues,
    call: &ActionCall,
    intent: &TransactionRecord,
    report: &CallReport,
    late: bool,
    wait_until: Instant,
) {
    let in_doubt = matches!(
        report.outcome,
        CallOutcome::Failed {
            timed_out: true,
            ..
        }
    );
    let answered = if in_doubt {
        let again =
            chrono::Utc::now() + chrono::Duration::from_std(IN_DOUBT_PAUSE).unwrap_or_default();
        intent.retry_later(report, again)
    } else {
        intent.answered(report, late)
    };
    let outcome = if in_doubt {
        "timeout"
    } else {
        answered.outcome.as_str()
    };
    if let CallOutcome::Failed { reason, .. } = &report.outcome {
        tracing::warn!(
            transaction = %call.transaction, agency = %call.agency.id, action = call.action,
            attempts = report.attempts, reason, "back-office call failed"
        );
    } else {
        tracing::debug!(
            transaction = %call.transaction, agency = %call.agency.id, action = call.action,
            outcome, attempts = report.attempts, late,
            latency_ms = report.latency.as_millis() as u64, "back-office call"
        );
    }
    // Agencies and their actions are registered, never citizen input: the labels stay few.
    let agency = call.agency.id.to_string();
    metrics::counter!(names::TRANSACTIONS, "agency" => agency.clone(), "action" => call.action.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!(names::BACKOFFICE_SECONDS, "agency" => agency, "action" => call.action.clone())
        .record(report.latency.as_secs_f64());
    let what = call.transaction.to_string();
    dialogues
        .record(Record::Transaction(answered), &what, wait_until)
        .await;
}
