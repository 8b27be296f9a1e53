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
//!
//! An action whose menu lets its result follow by SMS keeps what rendering that result needs
//! next to its intent; then a call that outlives the hop (or is in doubt) ends the dialogue
//! with "the result will follow by SMS", and whoever records its answer (the background task
//! here, or the reconciler) queues the result as an SMS in the same database transaction.

use super::Dialogues;
use crate::app::AppState;
use crate::backoffice::client::{ActionCall, CallOutcome, CallReport};
use crate::backoffice::follow_up::{self, menu_outcome};
use crate::backoffice::follow_up_store::keep_follow_up;
use crate::backoffice::store::TransactionRecord;
use crate::db::journal::Record;
use crate::ids::{AgencyId, TransactionId};
use crate::menus::{ActionOutcome, FollowUp};
use crate::sessions::{Location, Session};
use crate::telemetry::names;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// The agency was not called: the intent could not be made durable in time.
#[derive(Debug)]
pub struct NotCalled;

/// What the citizen is shown of a call.
#[derive(Debug)]
pub enum Answer {
    Now(ActionOutcome),
    /// Not known within the hop: the result follows by SMS.
    BySms,
}

/// How long after its call's own deadline a pending row becomes the reconciler's: the node
/// that made the call has had time to record its outcome unless it stopped.
pub const RECONCILE_MARGIN: Duration = Duration::from_secs(30);

/// Runs the `call`-th action of the session's current step; `follow_up` when its result may
/// follow by SMS.
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
    follow_up: Option<FollowUp>,
) -> Result<Answer, NotCalled> {
    let Some(agency) = gw.agencies.get(agency_id) else {
        tracing::error!(agency = %agency_id, action, "menu calls an agency that is not registered");
        return Ok(Answer::Now(ActionOutcome::Failed));
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
    let record_deadline = dialogues.record_deadline(hop_deadline);
    // Kept alongside the intent: a result is promised by SMS only once it can be rendered
    // by whichever node records it.
    let kept = async {
        match &follow_up {
            Some(f) => keep_follow_up(&gw.db, &call.transaction, f).await,
            None => Ok(()),
        }
    };
    let (committed, kept) = tokio::join!(
        tokio::time::timeout_at(record_deadline, committed),
        tokio::time::timeout_at(record_deadline, kept)
    );
    let follow_up = match kept {
        Ok(Ok(())) => follow_up,
        failed => {
            let reason = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => "not kept within the hop's budget".to_string(),
            };
            tracing::warn!(transaction = %call.transaction, reason, "result will not follow by SMS");
            None
        }
    };
    let unknown = |follow_up: &Option<FollowUp>| match follow_up {
        Some(_) => Answer::BySms,
        None => Answer::Now(ActionOutcome::Failed),
    };
    match committed {
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
            let wait_until = dialogues.record_deadline(hop_deadline);
            let in_doubt = record(dialogues, &call, &intent, &report, false, wait_until).await;
            // In doubt, the row stays pending and the reconciler finishes it: by SMS if it may.
            Ok(match in_doubt {
                true => unknown(&follow_up),
                false => Answer::Now(menu_outcome(&report.outcome)),
            })
        }
        Ok(Err(panicked)) => {
            // The intent stays pending: the reconciler asks again with the same id.
            tracing::error!(error = %panicked, action, "back-office call task failed");
            Ok(unknown(&follow_up))
        }
        Err(_) => {
            tracing::info!(
                action,
                "back-office call outlived the hop; finishing it in the background"
            );
            let answer = unknown(&follow_up);
            let (later, later_gw) = (dialogues.clone(), gw.clone());
            gw.tasks.spawn(async move {
                if let Ok((call, report)) = running.await {
                    finish_late(&later_gw, &later, &call, &intent, &report, follow_up).await;
                }
            });
            Ok(answer)
        }
    }
}

/// Records the answer of a call that outlived its hop: with its result queued by SMS in the
/// same write when it has a follow-up and is not in doubt.
async fn finish_late(
    gw: &AppState,
    dialogues: &Dialogues,
    call: &ActionCall,
    intent: &TransactionRecord,
    report: &CallReport,
    follow_up: Option<FollowUp>,
) {
    let (answered, in_doubt) = outcome_record(call, intent, report, true);
    let Some(follow_up) = follow_up.filter(|_| !in_doubt) else {
        let wait_until = Instant::now() + gw.config.record_wait();
        let what = call.transaction.to_string();
        let record = Record::Transaction(answered);
        return dialogues.record(record, &what, wait_until).await;
    };
    let outcome = menu_outcome(&report.outcome);
    if let Err(e) = follow_up::settle(gw, &answered, &follow_up, outcome).await {
        // Still pending: the reconciler asks again, records it and sends the result.
        tracing::warn!(error = %e, transaction = %call.transaction, "late result not recorded");
    }
}

/// How long after a call timed out the reconciler asks again what became of it.
const IN_DOUBT_PAUSE: Duration = Duration::from_secs(30);

/// Records the outcome of `call`, waiting for its commit until `wait_until`; whether the
/// call is in doubt. A call that timed out is in doubt (the agency may have done it): its
/// row stays pending, and the reconciler asks again with the same id until the agency says
/// what it did.
async fn record(
    dialogues: &Dialogues,
    call: &ActionCall,
    intent: &TransactionRecord,
    report: &CallReport,
    late: bool,
    wait_until: Instant,
) -> bool {
    let (answered, in_doubt) = outcome_record(call, intent, report, late);
    let what = call.transaction.to_string();
    dialogues
        .record(Record::Transaction(answered), &what, wait_until)
        .await;
    in_doubt
}

/// The row that records `report`, and whether the call is in doubt; logged and counted.
fn outcome_record(
    call: &ActionCall,
    intent: &TransactionRecord,
    report: &CallReport,
    late: bool,
) -> (TransactionRecord, bool) {
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
    (answered, in_doubt)
}
