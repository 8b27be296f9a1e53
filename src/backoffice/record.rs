//! How a back-office call becomes rows of the transaction log: its intent, committed before
//! the call, and its outcome, which updates the same row.

use super::client::{ActionCall, CallOutcome, CallReport};
use super::store::{TransactionOutcome, TransactionRecord};
use super::summary::summarise;
use crate::ids::ServiceId;
use chrono::{DateTime, Utc};

impl TransactionRecord {
    /// The `pending` row of `call`, due for the reconciler at `reconcile_at` if no outcome
    /// replaces it by then.
    pub fn intent(
        call: &ActionCall,
        service: Option<ServiceId>,
        session_key: Option<String>,
        reconcile_at: DateTime<Utc>,
    ) -> Self {
        TransactionRecord {
            id: call.transaction.clone(),
            agency: call.agency.id.clone(),
            service,
            action: call.action.clone(),
            session_key,
            msisdn: call.msisdn.clone(),
            outcome: TransactionOutcome::Pending,
            latency_ms: 0,
            attempts: 0,
            amount: None,
            currency: None,
            reference: None,
            error: None,
            created_at: Utc::now(),
            completed_at: None,
            language: Some(call.language),
            params: Some(call.params.clone()),
            late: false,
            reconcile_at: Some(reconcile_at),
        }
    }

    /// This intent settled by the back office's answer. `late`: the citizen had already been
    /// answered, so they did not see it.
    pub fn answered(&self, report: &CallReport, late: bool) -> Self {
        let (outcome, error) = match &report.outcome {
            CallOutcome::Ok(_) => (TransactionOutcome::Ok, None),
            CallOutcome::NotFound(_) => (TransactionOutcome::NotFound, None),
            CallOutcome::Rejected(message) => (TransactionOutcome::Rejected, message.clone()),
            CallOutcome::Failed {
                timed_out: true,
                reason,
            } => (TransactionOutcome::Timeout, Some(reason.clone())),
            CallOutcome::Failed { reason, .. } => {
                (TransactionOutcome::Failed, Some(reason.clone()))
            }
        };
        let summary = match &report.outcome {
            CallOutcome::Ok(data) => summarise(data),
            _ => Default::default(),
        };
        TransactionRecord {
            outcome,
            latency_ms: report.latency.as_millis() as i64,
            attempts: self.attempts + report.attempts as i32,
            amount: summary.amount,
            currency: summary.currency,
            reference: summary.reference,
            error,
            completed_at: Some(Utc::now()),
            late,
            reconcile_at: None,
            ..self.clone()
        }
    }

    /// This intent settled without calling: `reason` says why the back office was not asked.
    pub fn not_called(&self, reason: &str) -> Self {
        TransactionRecord {
            outcome: TransactionOutcome::Failed,
            error: Some(format!("not called: {reason}")),
            completed_at: Some(Utc::now()),
            reconcile_at: None,
            ..self.clone()
        }
    }

    /// This intent settled as failed after asking stopped: what the agency did is unknown.
    pub fn gave_up(&self, reason: &str) -> Self {
        TransactionRecord {
            outcome: TransactionOutcome::Timeout,
            error: Some(reason.to_string()),
            completed_at: Some(Utc::now()),
            late: true,
            reconcile_at: None,
            ..self.clone()
        }
    }

    /// This intent still pending after another failed attempt, due again at `reconcile_at`.
    pub fn retry_later(&self, report: &CallReport, reconcile_at: DateTime<Utc>) -> Self {
        let error = match &report.outcome {
            CallOutcome::Failed { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        TransactionRecord {
            attempts: self.attempts + report.attempts as i32,
            latency_ms: report.latency.as_millis() as i64,
            error,
            reconcile_at: Some(reconcile_at),
            ..self.clone()
        }
    }
}
