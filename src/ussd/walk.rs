//! A hop's walk through the menus: the citizen's new inputs applied one by one, the
//! back-office actions they lead to run within the hop's budget of time and calls, then the
//! dialogue saved, or ended and recorded.

use super::action::{self, Answer, NotCalled};
use super::hop::HopOutcome;
use super::notices::{notice, Notice};
use super::request::{UssdReply, UssdRequest};
use super::store::EndReason;
use super::{by_sms, Dialogues};
use crate::app::AppState;
use crate::db::journal::Record;
use crate::menus::GATEWAY_ACTIONS;
use crate::menus::{ActionOutcome, MenuSet, Step, Walker};
use crate::sessions::{now_ms, LastHop, Lease, Session, Tombstone};
use crate::telcos::Telco;
use std::sync::Arc;
use tokio::time::Instant;

/// Back-office calls one hop may make; a menu whose actions lead into each other cannot
/// keep a hop (and the telco) waiting.
const MAX_CALLS_PER_HOP: u32 = 4;

/// Applies `inputs` to the dialogue, then saves or ends it.
#[allow(clippy::too_many_arguments)]
pub(super) async fn walk(
    gw: &AppState,
    dialogues: &Dialogues,
    telco: &Telco,
    lease: Lease,
    mut session: Session,
    inputs: Vec<String>,
    first_hop: bool,
    request: &UssdRequest,
    deadline: Instant,
    preview: Option<Arc<MenuSet>>,
) -> (UssdReply, HopOutcome) {
    let language_before = session.language;
    let preview_free = preview.is_none();
    let menus = match preview {
        Some(menus) => menus,
        None => dialogues.menus_for(&session).await,
    };
    let mut walk = Walk {
        gw,
        dialogues,
        walker: Walker::new(&menus, telco.screen_limit),
        deadline,
        calls: 0,
        step_calls: 0,
        action_failed: false,
        not_called: false,
        // A preview's menus are not published: nothing of them goes out by SMS.
        may_sms: preview_free,
    };
    let mut step = if first_hop || inputs.is_empty() {
        // A first hop shows where the dial lands; a repeat with nothing new, the same screen.
        let entered = walk.walker.enter(&mut session);
        walk.settle(&mut session, entered).await
    } else {
        Step::Screen(String::new())
    };
    for input in &inputs {
        if matches!(step, Step::End(_)) {
            break;
        }
        session.steps += 1;
        walk.step_calls = 0;
        let applied = walk.walker.input(&mut session, input);
        step = walk.settle(&mut session, applied).await;
    }
    if let (true, Step::End(_)) = (walk.may_sms, &step) {
        by_sms::send_end_screen(gw, dialogues, &walk.walker, &session, deadline).await;
    }
    session.hops += 1;
    session.last_seen_ms = now_ms();
    if session.language != language_before {
        remember_language(dialogues, &session, deadline).await;
    }
    let reason = match (walk.not_called, walk.action_failed) {
        (true, _) => EndReason::Unavailable,
        (false, true) => EndReason::Failed,
        (false, false) => EndReason::Completed,
    };
    finish(
        dialogues,
        lease,
        session,
        step,
        reason,
        request.sequence,
        deadline,
    )
    .await
}

/// One hop's walk through the menus, with its budget of time and back-office calls.
struct Walk<'a> {
    gw: &'a AppState,
    dialogues: &'a Dialogues,
    walker: Walker<'a>,
    deadline: Instant,
    calls: u32,
    /// Calls made while applying the current input: the call's place within its step.
    step_calls: u32,
    action_failed: bool,
    /// An action's intent could not be made durable, so the agency was not called.
    not_called: bool,
    /// Results may follow by SMS and end screens go by SMS (when a telco carries SMS to the
    /// citizen).
    may_sms: bool,
}

impl Walk<'_> {
    /// Runs back-office calls until the walk shows a screen or ends.
    async fn settle(&mut self, session: &mut Session, mut step: Step) -> Step {
        while let Step::Call {
            agency,
            action,
            params,
        } = step
        {
            let out_of_budget = self.calls >= MAX_CALLS_PER_HOP || Instant::now() >= self.deadline;
            let outcome = if out_of_budget {
                tracing::warn!(
                    action,
                    calls = self.calls,
                    "hop out of budget; action not called"
                );
                ActionOutcome::Failed
            } else if GATEWAY_ACTIONS.contains(&action.as_str()) {
                // The gateway's own (a subscription): no back office to call.
                self.calls += 1;
                crate::sms::subscriptions::ussd::run(self.gw, session, &agency, &action, &params)
                    .await
            } else {
                self.calls += 1;
                self.step_calls += 1;
                let call = self.step_calls - 1;
                let follow_up = self
                    .walker
                    .follow_up(session)
                    .filter(|_| self.may_sms && by_sms::possible(self.gw, session));
                let ran = action::run(
                    self.gw,
                    self.dialogues,
                    session,
                    &agency,
                    &action,
                    params,
                    self.deadline,
                    call,
                    follow_up,
                );
                match ran.await {
                    Ok(Answer::Now(outcome)) => outcome,
                    Ok(Answer::BySms) => {
                        self.action_failed = false;
                        let text = notice(Notice::ResultBySms, session.language);
                        return Step::End(text.into());
                    }
                    Err(NotCalled) => {
                        self.not_called = true;
                        return Step::End(notice(Notice::Unavailable, session.language).into());
                    }
                }
            };
            self.action_failed = matches!(outcome, ActionOutcome::Failed);
            step = self.walker.resume(session, outcome);
        }
        step
    }
}

async fn finish(
    dialogues: &Dialogues,
    lease: Lease,
    mut session: Session,
    step: Step,
    reason: EndReason,
    sequence: Option<u64>,
    deadline: Instant,
) -> (UssdReply, HopOutcome) {
    let (screen, ends) = match step {
        Step::Screen(text) => (text, false),
        Step::End(text) => (text, true),
        Step::Call { .. } => unreachable!("settle() runs every call before a hop finishes"),
    };
    session.last = Some(LastHop {
        sequence,
        screen: screen.clone(),
        ends,
    });
    if !ends {
        return match dialogues.sessions.save_hop(lease, &session).await {
            Ok(()) => (UssdReply::Continue(screen), HopOutcome::Continued),
            Err(e) => {
                tracing::warn!(error = %e, "dialogue not saved; ending it");
                // Recorded now: a dialogue never saved is nowhere for the reaper to find. If an
                // older copy is reaped later, its record is the same row and is not added.
                let wait_until = dialogues.record_deadline(deadline);
                dialogues
                    .record_session_end(&session, EndReason::Unavailable, wait_until)
                    .await;
                let text = notice(Notice::Unavailable, session.language);
                (UssdReply::End(text.into()), HopOutcome::Unavailable)
            }
        };
    }
    let tombstone = Tombstone::of(&session, false);
    if let Err(e) = dialogues
        .sessions
        .end_hop(lease, &tombstone, now_ms())
        .await
    {
        tracing::warn!(error = %e, "could not end a dialogue in the session store; it will expire");
    }
    let wait_until = dialogues.record_deadline(deadline);
    dialogues
        .record_session_end(&session, reason, wait_until)
        .await;
    let outcome = match reason {
        EndReason::Completed => HopOutcome::Completed,
        EndReason::Unavailable => HopOutcome::Unavailable,
        _ => HopOutcome::Failed,
    };
    (UssdReply::End(screen), outcome)
}

/// Remembers a language switch through the journal, so that a dial straight after it finds
/// the choice; a slow database delays the hop by `record_wait_ms` at most, and the write goes
/// on without the citizen.
async fn remember_language(dialogues: &Dialogues, session: &Session, deadline: Instant) {
    let record = Record::Language {
        msisdn: session.msisdn.clone(),
        language: session.language,
    };
    let wait_until = dialogues.record_deadline(deadline);
    dialogues.record(record, "language", wait_until).await;
}
