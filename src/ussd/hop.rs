//! One USSD hop: load the dialogue, apply the citizen's input, run back-office actions within
//! the hop's time budget, save or end the dialogue, and say what to show.

use super::action;
use super::input::{new_inputs, split_dial_string};
use super::notices::{notice, Notice};
use super::request::{session_key, UssdInput, UssdReply, UssdRequest};
use super::store::EndReason;
use crate::app::{AppState, Gateway};
use crate::db::citizens;
use crate::language::Language;
use crate::menus::{ActionOutcome, Step, Walker};
use crate::sessions::{now_ms, Location, Session};
use crate::telcos::Telco;
use std::collections::BTreeMap;
use tokio::time::Instant;

/// How a hop went, for metrics and the session record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopOutcome {
    Continued,
    Completed,
    Failed,
    Unavailable,
    UnknownCode,
}

impl HopOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            HopOutcome::Continued => "continued",
            HopOutcome::Completed => "completed",
            HopOutcome::Failed => "failed",
            HopOutcome::Unavailable => "unavailable",
            HopOutcome::UnknownCode => "unknown_code",
        }
    }
}

/// Back-office calls one hop may make; a menu whose actions lead into each other cannot
/// keep a hop (and the telco) waiting.
const MAX_CALLS_PER_HOP: u32 = 4;

/// Answers one hop. Never fails towards the telco: every problem becomes a screen.
pub async fn answer(gw: &AppState, telco: &Telco, request: UssdRequest) -> (UssdReply, HopOutcome) {
    let deadline = Instant::now() + gw.hop_budget();
    let key = session_key(&telco.id, &request.session_id);
    let now = now_ms();
    let end_with = |kind: Notice, outcome: HopOutcome| {
        let text = notice(kind, gw.config.default_language);
        (UssdReply::End(text.into()), outcome)
    };
    let loaded = match gw.sessions.load(&key, now).await {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::warn!(error = %e, telco = %telco.id, "session store unavailable");
            return end_with(Notice::Unavailable, HopOutcome::Unavailable);
        }
    };
    let first_hop = loaded.is_none();
    let (mut session, inputs) = match loaded {
        Some(mut session) => {
            let (typed, consumed) = new_inputs(&request.input, &session.consumed, false);
            session.consumed = consumed;
            (session, typed)
        }
        // An answer to a screen of a dialogue that is over must not land on another screen.
        None if matches!(request.input, UssdInput::Latest(_)) => {
            return end_with(Notice::SessionExpired, HopOutcome::Unavailable);
        }
        None => {
            let Some(mut inputs) = split_dial_string(&request.service_code, &gw.config.root_code)
            else {
                return end_with(Notice::UnknownCode, HopOutcome::UnknownCode);
            };
            let language = new_session_language(gw, &request, deadline).await;
            let mut session = new_session(key, telco, &request, language, now);
            let (typed, consumed) = new_inputs(&request.input, "", true);
            session.consumed = consumed;
            inputs.extend(typed);
            (session, inputs)
        }
    };
    let language_before = session.language;
    let menus = gw.menus_for(&session).await;
    let mut walk = Walk {
        gw,
        walker: Walker::new(&menus, telco.screen_limit),
        deadline,
        calls: 0,
        action_failed: false,
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
        let applied = walk.walker.input(&mut session, input);
        step = walk.settle(&mut session, applied).await;
    }
    session.hops += 1;
    session.last_seen_ms = now;
    if session.language != language_before {
        remember_language(gw, &session, deadline).await;
    }
    let action_failed = walk.action_failed;
    finish(gw, session, step, action_failed, first_hop).await
}

/// One hop's walk through the menus, with its budget of time and back-office calls.
struct Walk<'a> {
    gw: &'a AppState,
    walker: Walker<'a>,
    deadline: Instant,
    calls: u32,
    action_failed: bool,
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
                action::run(self.gw, session, &agency, &action, params, self.deadline).await
            };
            self.action_failed = matches!(outcome, ActionOutcome::Failed);
            step = self.walker.resume(session, outcome);
        }
        step
    }
}

async fn finish(
    gw: &Gateway,
    session: Session,
    step: Step,
    action_failed: bool,
    first_hop: bool,
) -> (UssdReply, HopOutcome) {
    match step {
        Step::Screen(text) => match gw.sessions.save(&session).await {
            Ok(()) => (UssdReply::Continue(text), HopOutcome::Continued),
            Err(e) => {
                tracing::warn!(error = %e, "session store unavailable; ending the dialogue");
                let text = notice(Notice::Unavailable, session.language);
                (UssdReply::End(text.into()), HopOutcome::Unavailable)
            }
        },
        Step::End(text) => {
            if !first_hop {
                if let Err(e) = gw.sessions.remove(&session.key).await {
                    tracing::warn!(error = %e, "could not remove an ended session; it will expire");
                }
            }
            let (reason, outcome) = if action_failed {
                (EndReason::Failed, HopOutcome::Failed)
            } else {
                (EndReason::Completed, HopOutcome::Completed)
            };
            gw.record_session_end(&session, reason).await;
            (UssdReply::End(text), outcome)
        }
        Step::Call { .. } => unreachable!("settle() runs every call before a hop finishes"),
    }
}

/// The language a number chose before, or the default when there is none or the database
/// does not answer in time (a new dialogue must not wait on a report table).
async fn new_session_language(gw: &Gateway, request: &UssdRequest, deadline: Instant) -> Language {
    let lookup = citizens::get_language(&gw.db, &request.msisdn);
    match tokio::time::timeout_at(deadline, lookup).await {
        Ok(Ok(chosen)) => chosen.unwrap_or(gw.config.default_language),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "database unavailable; dialogue starts in the default language");
            gw.config.default_language
        }
        Err(_) => gw.config.default_language,
    }
}

/// Remembers a language switch before answering, so that a dial straight after it finds the
/// choice; if the database is slower than the hop's budget the write goes on without the
/// citizen waiting for it.
async fn remember_language(gw: &Gateway, session: &Session, deadline: Instant) {
    let db = gw.db.clone();
    let (msisdn, language) = (session.msisdn.clone(), session.language);
    let write = tokio::spawn(async move {
        if let Err(e) = citizens::set_language(&db, &msisdn, language).await {
            tracing::warn!(error = %e, %msisdn, "could not remember the chosen language");
        }
    });
    if tokio::time::timeout_at(deadline, write).await.is_err() {
        tracing::warn!("language choice not stored within the hop budget; still writing");
    }
}

fn new_session(
    key: String,
    telco: &Telco,
    request: &UssdRequest,
    language: Language,
    now: i64,
) -> Session {
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
        history: Vec::new(),
        vars: BTreeMap::new(),
        consumed: String::new(),
        hops: 0,
        service: None,
        started_at_ms: now,
        last_seen_ms: now,
    }
}
