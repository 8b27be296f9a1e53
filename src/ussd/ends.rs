//! A telco's notice that a dialogue is over (the citizen hung up, its timer ran out, or its
//! final report). It takes the dialogue's lease like a hop, so a hop in flight finishes
//! first, and it must name the dialogue's own number when it names one.

use super::hop::conflict;
use super::request::SessionEndSignal;
use super::store::EndReason;
use super::Dialogues;
use crate::msisdn::Msisdn;
use crate::sessions::{now_ms, Found, Tombstone};
use tokio::time::Instant;

pub async fn end_by_telco(
    dialogues: &Dialogues,
    key: &str,
    msisdn: Option<&Msisdn>,
    signal: SessionEndSignal,
) {
    let reason = match signal {
        SessionEndSignal::UserCancelled => EndReason::UserCancelled,
        SessionEndSignal::Timeout => EndReason::TelcoTimeout,
        SessionEndSignal::Failed => EndReason::Failed,
        // The gateway already recorded dialogues it ended itself.
        SessionEndSignal::Completed => EndReason::Completed,
    };
    let deadline = Instant::now() + dialogues.hop_budget();
    let (lease, found) = match dialogues.claim(key, msisdn, deadline).await {
        Ok(Some(claimed)) => claimed,
        Ok(None) => {
            return tracing::warn!(
                "a dialogue stayed busy; the telco's end notice is left to expiry"
            )
        }
        Err(e) => return tracing::warn!(error = %e, "could not end a dialogue the telco ended"),
    };
    let Found::Live(session) = found else {
        return dialogues.release(lease).await;
    };
    if msisdn.is_some_and(|m| *m != session.msisdn) {
        dialogues.release(lease).await;
        return conflict("end_notice");
    }
    let tombstone = Tombstone::of(&session, false);
    if let Err(e) = dialogues
        .sessions
        .end_hop(lease, &tombstone, now_ms())
        .await
    {
        return tracing::warn!(error = %e, "could not end a dialogue the telco ended");
    }
    let wait_until = dialogues.record_deadline(deadline);
    dialogues
        .record_session_end(&session, reason, wait_until)
        .await;
}
