//! One USSD hop: claim the dialogue, tell a new hop from a repeated or late one, start a new
//! dialogue, and hand the new inputs to the walk (`walk`), which says what to show.
//!
//! A hop holds its dialogue's lease from the session store for its whole run, so two hops of
//! one dialogue never run at once on any node: a second copy waits, then finds the first one
//! answered and repeats its screen.

use super::input::{classify, first_inputs, split_dial_string, Replay};
use super::notices::{notice, Notice};
use super::request::{session_key, UssdInput, UssdReply, UssdRequest};
use super::walk::walk;
use super::Dialogues;
use crate::app::{AppState, Gateway};
use crate::db::citizens;
use crate::language::Language;
use crate::menus::MenuSet;
use crate::msisdn::Msisdn;
use crate::sessions::{now_ms, Found, Location, Session, Tombstone};
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

/// A new dialogue waits at most this long for the number's remembered language.
const LANGUAGE_LOOKUP_WAIT: Duration = Duration::from_millis(300);

/// Answers one hop over the gateway's menus, or over `preview` when given (the phone page's
/// menus with a version not yet published). Never fails towards the telco: every problem
/// becomes a screen.
pub async fn answer(
    gw: &AppState,
    dialogues: &Dialogues,
    telco: &Telco,
    request: UssdRequest,
    preview: Option<Arc<MenuSet>>,
) -> (UssdReply, HopOutcome) {
    let deadline = Instant::now() + dialogues.hop_budget();
    let key = session_key(&telco.id, &request.session_id);
    let end_with = |kind: Notice, outcome: HopOutcome| {
        let text = notice(kind, gw.config.default_language);
        (UssdReply::End(text.into()), outcome)
    };
    let (lease, found) = match dialogues.claim(&key, Some(&request.msisdn), deadline).await {
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
        dialogues.release(lease).await;
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
                        gw, dialogues, telco, lease, session, inputs, false, &request, deadline,
                        preview,
                    )
                    .await
                }
                (verdict, Some(last)) => {
                    dialogues.release(lease).await;
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
                        dialogues,
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
            dialogues.release(lease).await;
            replayed("over");
            over(gw, &request, &tombstone)
        }
        Found::Unknown { .. } if matches!(request.input, UssdInput::Latest(_)) => {
            // An answer to a screen of a dialogue we do not know must not land on another.
            dialogues.release(lease).await;
            end_with(Notice::SessionExpired, HopOutcome::Unavailable)
        }
        Found::Unknown { live_for_number } => {
            if live_for_number >= gw.config.max_dialogues_per_number {
                dialogues.release(lease).await;
                conflict("too_many_dialogues");
                return end_with(Notice::TooManyDialogues, HopOutcome::Refused);
            }
            let Some(mut inputs) = split_dial_string(&request.service_code, &gw.config.root_code)
            else {
                dialogues.release(lease).await;
                return end_with(Notice::UnknownCode, HopOutcome::UnknownCode);
            };
            let language = new_session_language(gw, &request.msisdn, deadline).await;
            let (typed, consumed) = first_inputs(&request.input);
            inputs.extend(typed);
            let session = new_session(key, telco, &request, language, consumed);
            walk(
                gw, dialogues, telco, lease, session, inputs, true, &request, deadline, preview,
            )
            .await
        }
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
