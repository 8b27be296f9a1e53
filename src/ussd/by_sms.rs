//! What a hop sends by SMS: whether anything can be (a telco carries SMS to the citizen), and
//! the end screens a menu also sends by SMS, once per step of the dialogue however often the
//! hop that reaches one is repeated. (Results that follow by SMS are the action's.)

use super::Dialogues;
use crate::app::AppState;
use crate::backoffice::follow_up;
use crate::ids::TransactionId;
use crate::menus::Walker;
use crate::sessions::Session;
use std::collections::BTreeMap;
use tokio::time::Instant;

/// Whether an SMS can reach the dialogue's citizen.
pub(super) fn possible(gw: &AppState, session: &Session) -> bool {
    follow_up::sms_possible(gw, &session.msisdn, &session.telco)
}

/// The key of the end screen reached at the session's step: derived like the step's request
/// ids, so that a repeat of the step (a retried hop, a replay on another node) finds it taken.
fn step_key(session: &Session) -> String {
    let id = TransactionId::for_step(
        &session.key,
        session.msisdn.as_str(),
        session.steps,
        0,
        "end_screen.sms",
        &BTreeMap::new(),
    );
    format!("end_{}", id.as_str())
}

/// Queues the end screen the session stands on, when its menu also sends it by SMS and a
/// telco carries SMS to the citizen. Waits
/// until the hop's record deadline; the write goes on without the citizen after that.
pub(super) async fn send_end_screen(
    gw: &AppState,
    dialogues: &Dialogues,
    walker: &Walker<'_>,
    session: &Session,
    deadline: Instant,
) {
    let Some((agency, text)) = walker.end_by_sms(session) else {
        return;
    };
    if !possible(gw, session) {
        return;
    }
    let (sender, key, msisdn) = (gw.clone(), step_key(session), session.msisdn.clone());
    let queued = gw.tasks.spawn(async move {
        follow_up::send_end_screen(&sender, &key, &agency, &msisdn, text).await
    });
    match tokio::time::timeout_at(dialogues.record_deadline(deadline), queued).await {
        Ok(Ok(Ok(_))) => {}
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "end screen not queued by SMS"),
        Ok(Err(e)) => tracing::error!(error = %e, "queueing an end screen by SMS failed"),
        Err(_) => tracing::warn!("end screen not queued in time; still queueing"),
    }
}
