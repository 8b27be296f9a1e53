//! One USSD hop: load the dialogue, apply the citizen's input, run back-office actions within
//! the hop's time budget, save or end the dialogue, and say what to show.

use super::input::{new_inputs, split_dial_string};
use super::notices::{notice, Notice};
use super::request::{session_key, UssdReply, UssdRequest};
use super::store::EndReason;
use crate::app::Gateway;
use crate::backoffice::client::{ActionCall, CallOutcome};
use crate::backoffice::store::{TransactionOutcome, TransactionRecord};
use crate::backoffice::summary::summarise;
use crate::db::citizens;
use crate::ids::{AgencyId, TransactionId};
use crate::menus::{ActionOutcome, Step, Walker};
use crate::sessions::{now_ms, Location, Session};
use crate::telcos::Telco;
use crate::telemetry::names;
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

/// Answers one hop. Never fails towards the telco: every problem becomes a screen.
pub async fn answer(gw: &Gateway, telco: &Telco, request: UssdRequest) -> (UssdReply, HopOutcome) {
    let deadline = Instant::now() + gw.hop_budget();
    let key = session_key(&telco.id, &request.session_id);
    let now = now_ms();
    let loaded = match gw.sessions.load(&key, now).await {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::warn!(error = %e, telco = %telco.id, "session store unavailable");
            let text = notice(Notice::Unavailable, gw.config.default_language);
            return (UssdReply::End(text.into()), HopOutcome::Unavailable);
        }
    };
    let first_hop = loaded.is_none();
    let mut session = match loaded {
        Some(session) => session,
        None => {
            let Some(language) = new_session_language(gw, &request).await else {
                let text = notice(Notice::Unavailable, gw.config.default_language);
                return (UssdReply::End(text.into()), HopOutcome::Unavailable);
            };
            new_session(key, telco, &request, language, now)
        }
    };
    let language_before = session.language;
    let menus = gw.menus_for(&session).await;
    let walker = Walker::new(&menus, telco.screen_limit);
    let mut inputs = Vec::new();
    if first_hop {
        match split_dial_string(&request.service_code, &gw.config.root_code) {
            Some(extension) => inputs.extend(extension),
            None => {
                let text = notice(Notice::UnknownCode, session.language);
                return (UssdReply::End(text.into()), HopOutcome::UnknownCode);
            }
        }
    }
    let (typed, consumed) = new_inputs(&request.input, &session.consumed, first_hop);
    session.consumed = consumed;
    inputs.extend(typed);

    let mut action_failed = false;
    let mut step = if first_hop {
        walker.enter(&mut session)
    } else {
        Step::Screen(String::new())
    };
    step = settle(
        gw,
        &walker,
        &mut session,
        step,
        deadline,
        &mut action_failed,
    )
    .await;
    for input in &inputs {
        if matches!(step, Step::End(_)) {
            break;
        }
        step = walker.input(&mut session, input);
        step = settle(
            gw,
            &walker,
            &mut session,
            step,
            deadline,
            &mut action_failed,
        )
        .await;
    }
    if !first_hop && inputs.is_empty() {
        // A repeated hop with nothing new typed: show the same screen again.
        step = walker.enter(&mut session);
        step = settle(
            gw,
            &walker,
            &mut session,
            step,
            deadline,
            &mut action_failed,
        )
        .await;
    }
    session.hops += 1;
    session.last_seen_ms = now;
    if session.language != language_before {
        remember_language(gw, &session).await;
    }
    finish(gw, session, step, action_failed, first_hop).await
}

/// Runs back-office calls until the walk shows a screen or ends.
async fn settle(
    gw: &Gateway,
    walker: &Walker<'_>,
    session: &mut Session,
    mut step: Step,
    deadline: Instant,
    action_failed: &mut bool,
) -> Step {
    while let Step::Call {
        agency,
        action,
        params,
    } = step
    {
        let outcome = run_action(gw, session, &agency, &action, &params, deadline).await;
        *action_failed = matches!(outcome, ActionOutcome::Failed);
        step = walker.resume(session, outcome);
    }
    step
}

async fn run_action(
    gw: &Gateway,
    session: &Session,
    agency_id: &AgencyId,
    action: &str,
    params: &BTreeMap<String, String>,
    deadline: Instant,
) -> ActionOutcome {
    let Some(agency) = gw.agencies.get(agency_id) else {
        tracing::error!(agency = %agency_id, action, "menu calls an agency that is not registered");
        return ActionOutcome::Failed;
    };
    let transaction = TransactionId::generate();
    let created_at = chrono::Utc::now();
    let call = ActionCall {
        agency: &agency,
        transaction: &transaction,
        action,
        msisdn: &session.msisdn,
        language: session.language,
        params,
    };
    let report = gw.backoffice.call(&call, deadline).await;
    let (outcome, recorded, error) = match &report.outcome {
        CallOutcome::Ok(data) => (
            ActionOutcome::Ok(data.clone()),
            TransactionOutcome::Ok,
            None,
        ),
        CallOutcome::NotFound(_) => (ActionOutcome::NotFound, TransactionOutcome::NotFound, None),
        CallOutcome::Rejected(m) => (
            ActionOutcome::Rejected,
            TransactionOutcome::Rejected,
            m.clone(),
        ),
        CallOutcome::Failed { timed_out, reason } => {
            let recorded = if *timed_out {
                TransactionOutcome::Timeout
            } else {
                TransactionOutcome::Failed
            };
            (ActionOutcome::Failed, recorded, Some(reason.clone()))
        }
    };
    tracing::debug!(
        transaction = %transaction, agency = %agency_id, action, outcome = recorded.as_str(),
        attempts = report.attempts, latency_ms = report.latency.as_millis() as u64, "back-office call"
    );
    metrics::counter!(names::TRANSACTIONS, "action" => action.to_string(), "outcome" => recorded.as_str())
        .increment(1);
    metrics::histogram!(names::BACKOFFICE_SECONDS, "action" => action.to_string())
        .record(report.latency.as_secs_f64());
    let summary = match &report.outcome {
        CallOutcome::Ok(data) => summarise(data),
        _ => Default::default(),
    };
    let record = TransactionRecord {
        id: transaction,
        agency: agency_id.clone(),
        service: session.service.clone(),
        action: action.to_string(),
        session_key: Some(session.key.clone()),
        msisdn: session.msisdn.clone(),
        outcome: recorded,
        latency_ms: report.latency.as_millis() as i64,
        attempts: report.attempts as i32,
        amount: summary.amount,
        currency: summary.currency,
        reference: summary.reference,
        error,
        created_at,
        completed_at: chrono::Utc::now(),
    };
    gw.record_transaction(record).await;
    outcome
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

/// The language a number chose before, or the default; `None` when the store is down.
async fn new_session_language(
    gw: &Gateway,
    request: &UssdRequest,
) -> Option<crate::language::Language> {
    match citizens::get_language(&gw.db, &request.msisdn).await {
        Ok(chosen) => Some(chosen.unwrap_or(gw.config.default_language)),
        Err(e) => {
            tracing::warn!(error = %e, "database unavailable while starting a dialogue");
            None
        }
    }
}

async fn remember_language(gw: &Gateway, session: &Session) {
    if let Err(e) = citizens::set_language(&gw.db, &session.msisdn, session.language).await {
        tracing::warn!(error = %e, msisdn = %session.msisdn, "could not remember the chosen language");
    }
}

fn new_session(
    key: String,
    telco: &Telco,
    request: &UssdRequest,
    language: crate::language::Language,
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
