//! One USSD hop: claim the dialogue, tell a new hop from a repeated or late one, apply the
//! citizen's input, run back-office actions within the hop's time budget, save or end the
//! dialogue, and say what to show.
//!
//! A hop holds its dialogue's lease from the session store for its whole run, so two hops of
//! one dialogue never run at once on any node: a second copy waits, then finds the first one
//! answered and repeats its screen.

use super::action::{self, NotCalled};
use super::input::{classify, first_inputs, split_dial_string, Replay};
use super::notices::{notice, Notice};
use super::request::{session_key, UssdInput, UssdReply, UssdRequest};
use super::store::EndReason;
use crate::app::{AppState, Gateway};
use crate::db::citizens;
use crate::db::journal::Record;
use crate::language::Language;
use crate::menus::{ActionOutcome, MenuSet, Step, Walker};
use crate::msisdn::Msisdn;
use crate::sessions::{now_ms, Found, LastHop, Lease, Location, Session, SessionError, Tombstone};
use crate::telcos::Telco;
use crate::telemetry::names;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How a hop went, for metrics and the session record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopOutcome {
    Continued,
    Completed,
    Failed,
    Unavailable,
    UnknownCode,
    /// Answered from memory: a repeat of an answered hop, an older one, or one of a
    /// dialogue that is over.
    Replayed,
    /// Refused: another number's dialogue, or too many dialogues for one number.
    Refused,
}

impl HopOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            HopOutcome::Continued => "continued",
            HopOutcome::Completed => "completed",
            HopOutcome::Failed => "failed",
            HopOutcome::Unavailable => "unavailable",
            HopOutcome::UnknownCode => "unknown_code",
            HopOutcome::Replayed => "replayed",
            HopOutcome::Refused => "refused",
        }
    }
}

/// Back-office calls one hop may make; a menu whose actions lead into each other cannot
/// keep a hop (and the telco) waiting.
const MAX_CALLS_PER_HOP: u32 = 4;
/// A lease outlives the hop's budget by this much, for the session write after it.
const LEASE_SLACK: Duration = Duration::from_secs(2);
/// A new dialogue waits at most this long for the number's remembered language.
const LANGUAGE_LOOKUP_WAIT: Duration = Duration::from_millis(300);

/// Answers one hop over the gateway's menus, or over `preview` when given (the phone page's
/// menus with a version not yet published). Never fails towards the telco: every problem
/// becomes a screen.
pub async fn answer(
    gw: &AppState,
    telco: &Telco,
    request: UssdRequest,
    preview: Option<Arc<MenuSet>>,
) -> (UssdReply, HopOutcome) {
    let deadline = Instant::now() + gw.hop_budget();
    let key = session_key(&telco.id, &request.session_id);
    let end_with = |kind: Notice, outcome: HopOutcome| {
        let text = notice(kind, gw.config.default_language);
        (UssdReply::End(text.into()), outcome)
    };
    let (lease, found) = match claim(gw, &key, Some(&request.msisdn), deadline).await {
        Ok(Some(claimed)) => claimed,
        Ok(None) => return end_with(Notice::Busy, HopOutcome::Unavailable),
        Err(e) => {
            tracing::warn!(error = %e, telco = %telco.id, "session store unavailable");
            return end_with(Notice::Unavailable, HopOutcome::Unavailable);
        }
    };
    let owner = match &found {
        Found::Live(session) => Some(&session.msisdn),
        Found::Over(tombstone) => Some(&tombstone.msisdn),
        Found::Unknown { .. } => None,
    };
    if owner.is_some_and(|owner| *owner != request.msisdn) {
        release(gw, lease).await;
        conflict("hop");
        return end_with(Notice::CannotContinue, HopOutcome::Refused);
    }
    match found {
        Found::Live(session) => {
            let verdict = classify(
                &request.input,
                request.sequence,
                &session.consumed,
                session.last.as_ref(),
            );
            match (verdict, &session.last) {
                (Replay::New { inputs, consumed }, _) => {
                    let session = Session {
                        consumed,
                        ..*session
                    };
                    walk(
                        gw, telco, lease, session, inputs, false, &request, deadline, preview,
                    )
                    .await
                }
                (verdict, Some(last)) => {
                    release(gw, lease).await;
                    replayed(if verdict == Replay::Duplicate {
                        "duplicate"
                    } else {
                        "stale"
                    });
                    (
                        UssdReply::Continue(last.screen.clone()),
                        HopOutcome::Replayed,
                    )
                }
                // Saved before screens were remembered: show where it stands.
                (_, None) => {
                    walk(
                        gw,
                        telco,
                        lease,
                        *session,
                        Vec::new(),
                        false,
                        &request,
                        deadline,
                        preview,
                    )
                    .await
                }
            }
        }
        Found::Over(tombstone) => {
            release(gw, lease).await;
            replayed("over");
            over(gw, &request, &tombstone)
        }
        Found::Unknown { .. } if matches!(request.input, UssdInput::Latest(_)) => {
            // An answer to a screen of a dialogue we do not know must not land on another.
            release(gw, lease).await;
            end_with(Notice::SessionExpired, HopOutcome::Unavailable)
        }
        Found::Unknown { live_for_number } => {
            if live_for_number >= gw.config.max_dialogues_per_number {
                release(gw, lease).await;
                conflict("too_many_dialogues");
                return end_with(Notice::TooManyDialogues, HopOutcome::Refused);
            }
            let Some(mut inputs) = split_dial_string(&request.service_code, &gw.config.root_code)
            else {
                release(gw, lease).await;
                return end_with(Notice::UnknownCode, HopOutcome::UnknownCode);
            };
            let language = new_session_language(gw, &request.msisdn, deadline).await;
            let (typed, consumed) = first_inputs(&request.input);
            inputs.extend(typed);
            let session = new_session(key, telco, &request, language, consumed);
            walk(
                gw, telco, lease, session, inputs, true, &request, deadline, preview,
            )
            .await
        }
    }
}

/// Claims the dialogue, waiting while another hop of it runs, until `deadline`.
pub(super) async fn claim(
    gw: &Gateway,
    key: &str,
    msisdn: Option<&Msisdn>,
    deadline: Instant,
) -> Result<Option<(Lease, Found)>, SessionError> {
    let lease_ms = (gw.hop_budget() + LEASE_SLACK).as_millis() as i64;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(claimed) = gw
            .sessions
            .begin_hop(key, msisdn, now_ms(), lease_ms)
            .await?
        {
            return Ok(Some(claimed));
        }
        if Instant::now() + pause >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

pub(super) async fn release(gw: &Gateway, lease: Lease) {
    if let Err(e) = gw.sessions.release(lease).await {
        tracing::warn!(error = %e, "could not release a dialogue's lease; it will run out");
    }
}

pub(super) fn conflict(kind: &'static str) {
    metrics::counter!(names::USSD_SESSION_CONFLICTS, "kind" => kind).increment(1);
    tracing::warn!(kind, "a hop or notice did not match its dialogue's number");
}

fn replayed(kind: &'static str) {
    metrics::counter!(names::USSD_HOPS_REPLAYED, "kind" => kind).increment(1);
}

/// A hop of a dialogue that has ended: a repeat of its final hop gets the final screen
/// again; anything else is told the dialogue is over, never replayed from the start.
fn over(gw: &Gateway, request: &UssdRequest, tombstone: &Tombstone) -> (UssdReply, HopOutcome) {
    let repeat = classify(
        &request.input,
        request.sequence,
        &tombstone.consumed,
        tombstone.last.as_ref(),
    ) == Replay::Duplicate;
    match &tombstone.last {
        Some(last) if repeat && last.ends => {
            (UssdReply::End(last.screen.clone()), HopOutcome::Replayed)
        }
        _ => {
            let kind = if tombstone.expired {
                Notice::SessionExpired
            } else {
                Notice::DialogueOver
            };
            let text = notice(kind, gw.config.default_language);
            (UssdReply::End(text.into()), HopOutcome::Replayed)
        }
    }
}

/// Applies `inputs` to the dialogue, then saves or ends it.
#[allow(clippy::too_many_arguments)]
async fn walk(
    gw: &AppState,
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
    let menus = match preview {
        Some(menus) => menus,
        None => gw.menus_for(&session).await,
    };
    let mut walk = Walk {
        gw,
        walker: Walker::new(&menus, telco.screen_limit),
        deadline,
        calls: 0,
        step_calls: 0,
        action_failed: false,
        not_called: false,
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
    session.hops += 1;
    session.last_seen_ms = now_ms();
    if session.language != language_before {
        remember_language(gw, &session, deadline).await;
    }
    let reason = match (walk.not_called, walk.action_failed) {
        (true, _) => EndReason::Unavailable,
        (false, true) => EndReason::Failed,
        (false, false) => EndReason::Completed,
    };
    finish(gw, lease, session, step, reason, request.sequence, deadline).await
}

/// One hop's walk through the menus, with its budget of time and back-office calls.
struct Walk<'a> {
    gw: &'a AppState,
    walker: Walker<'a>,
    deadline: Instant,
    calls: u32,
    /// Calls made while applying the current input: the call's place within its step.
    step_calls: u32,
    action_failed: bool,
    /// An action's intent could not be made durable, so the agency was not called.
    not_called: bool,
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
            } else {
                self.calls += 1;
                self.step_calls += 1;
                let call = self.step_calls - 1;
                let ran = action::run(
                    self.gw,
                    session,
                    &agency,
                    &action,
                    params,
                    self.deadline,
                    call,
                );
                match ran.await {
                    Ok(outcome) => outcome,
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
    gw: &Gateway,
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
        return match gw.sessions.save_hop(lease, &session).await {
            Ok(()) => (UssdReply::Continue(screen), HopOutcome::Continued),
            Err(e) => {
                tracing::warn!(error = %e, "dialogue not saved; ending it");
                // Recorded now: a dialogue never saved is nowhere for the reaper to find. If an
                // older copy is reaped later, its record is the same row and is not added.
                let wait_until = gw.record_deadline(deadline);
                gw.record_session_end(&session, EndReason::Unavailable, wait_until)
                    .await;
                let text = notice(Notice::Unavailable, session.language);
                (UssdReply::End(text.into()), HopOutcome::Unavailable)
            }
        };
    }
    let tombstone = Tombstone::of(&session, false);
    if let Err(e) = gw.sessions.end_hop(lease, &tombstone, now_ms()).await {
        tracing::warn!(error = %e, "could not end a dialogue in the session store; it will expire");
    }
    gw.record_session_end(&session, reason, gw.record_deadline(deadline))
        .await;
    let outcome = match reason {
        EndReason::Completed => HopOutcome::Completed,
        EndReason::Unavailable => HopOutcome::Unavailable,
        _ => HopOutcome::Failed,
    };
    (UssdReply::End(screen), outcome)
}

/// The language a number chose before, or the default when there is none or the database
/// does not answer quickly (a new dialogue must not wait on it).
async fn new_session_language(gw: &Gateway, msisdn: &Msisdn, deadline: Instant) -> Language {
    let lookup = citizens::get_language(&gw.db, msisdn);
    let wait_until = deadline.min(Instant::now() + LANGUAGE_LOOKUP_WAIT);
    match tokio::time::timeout_at(wait_until, lookup).await {
        Ok(Ok(chosen)) => chosen.unwrap_or(gw.config.default_language),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "database unavailable; dialogue starts in the default language");
            gw.config.default_language
        }
        Err(_) => gw.config.default_language,
    }
}

/// Remembers a language switch through the journal, so that a dial straight after it finds
/// the choice; a slow database delays the hop by `record_wait_ms` at most, and the write goes
/// on without the citizen.
async fn remember_language(gw: &Gateway, session: &Session, deadline: Instant) {
    let record = Record::Language {
        msisdn: session.msisdn.clone(),
        language: session.language,
    };
    gw.record(record, "language", gw.record_deadline(deadline))
        .await;
}

fn new_session(
    key: String,
    telco: &Telco,
    request: &UssdRequest,
    language: Language,
    consumed: String,
) -> Session {
    let now = now_ms();
    Session {
        key,
        telco: telco.id.clone(),
        msisdn: request.msisdn.clone(),
        service_code: request.service_code.clone(),
        network: request.network.clone(),
        language,
        location: Location::Root,
        home: Location::Root,
        page: 0,
        paged_notice: None,
        history: Vec::new(),
        vars: BTreeMap::new(),
        consumed,
        steps: 0,
        last: None,
        hops: 0,
        service: None,
        reached: Vec::new(),
        started_at_ms: now,
        last_seen_ms: now,
    }
}
