//! USSD: the callback endpoint `POST /ussd/{telco}`, the hop logic, the dialogues' lifecycle,
//! and session records.
//!
//! - `lifecycle`: [`Dialogues`], the capability's state: the session store and its hop
//!   leases, rate limits, the menus a dialogue walks, records and the reaper.
//! - `limits`: each telco's hops per second and each number's hops per minute.
//! - `request`: the adapter-neutral types every wire format is parsed into.
//! - `input`: turning cumulative or latest input and dial strings into new inputs.
//! - `hop`: one hop from claiming the dialogue to the reply: repeats, late hops, new dialogues.
//! - `walk`: the hop's new inputs through the menus, within its budget, then save or end.
//! - `action`: one back-office call per step, exactly once: derived request id, durable
//!   intent, finished in the background if it outlives its hop.
//! - `by_sms`: end screens a menu also sends by SMS, once per step.
//! - `ends`: the telco's notices that a dialogue is over.
//! - `notices`: the few screens the engine itself shows (unavailable, unknown code).
//! - `store`: the durable record of each dialogue's outcome.

mod action;
mod by_sms;
mod ends;
pub mod hop;
pub mod input;
mod lifecycle;
mod limits;
pub mod notices;
pub mod request;
pub mod store;
mod walk;

use crate::app::AppState;
use crate::error::ApiError;
use crate::http::client_ip::client_ip;
use crate::menus::MenuSet;
use crate::telcos::auth::authenticate;
use crate::telcos::Telco;
use crate::telemetry::names;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use request::{session_key, UssdCallback};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

pub use lifecycle::Dialogues;

pub fn router() -> Router<AppState> {
    Router::new().route("/ussd/{telco}", post(callback))
}

async fn callback(
    State(gw): State<AppState>,
    State(dialogues): State<Dialogues>,
    Path(telco_id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    // Read up to the body limit of `http::router`; a longer body is a rejection answered here,
    // so it gets the same JSON refusal and counter as every other.
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let telco = crate::ids::TelcoId::parse(&telco_id)
        .ok()
        .and_then(|id| gw.telcos.get(&id))
        .ok_or_else(|| {
            refuse("unknown_telco");
            ApiError::not_found(format!("no telco {telco_id:?} is registered"))
        })?;
    let source = client_ip(peer.ip(), &headers, &gw.config.trusted_proxies);
    if let Err(why) = authenticate(&telco, source, &headers) {
        refuse("unauthenticated");
        tracing::warn!(telco = %telco.id, peer = %source, reason = %why, "callback refused");
        let reason = why.public_reason(&telco.id);
        return Err(if why.is_forbidden() {
            ApiError::forbidden(reason)
        } else {
            ApiError::unauthorized(reason)
        });
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            refuse("body_too_large");
            ApiError::payload_too_large(gw.config.max_callback_bytes)
        } else {
            refuse("unreadable_body");
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    answer_callback(&gw, &dialogues, &telco, &headers, &body, started, None).await
}

fn refuse(reason: &'static str) {
    metrics::counter!(names::CALLBACKS_REFUSED, "reason" => reason).increment(1);
}

/// Parses one callback of `telco` in its wire format and answers it. A hop walks `preview`
/// when given (a menu version the phone page shows before it is published), else the
/// gateway's menus.
pub(crate) async fn answer_callback(
    gw: &AppState,
    dialogues: &Dialogues,
    telco: &Arc<Telco>,
    headers: &HeaderMap,
    body: &[u8],
    started: Instant,
    preview: Option<Arc<MenuSet>>,
) -> Result<Response, ApiError> {
    let format = telco.wire_format;
    let callback = format
        .parse_ussd(headers, body, &gw.config.default_country)
        .map_err(|e| {
            refuse(e.code());
            ApiError::new(e.status(), e.code(), e.to_string())
        })?;
    match callback {
        UssdCallback::Ended {
            session_id,
            msisdn,
            signal,
        } => {
            let key = session_key(&telco.id, &session_id);
            // Run to the end even if the telco hangs up: the notice holds the dialogue's lease.
            let ending = dialogues.clone();
            let ended = gw.tasks.spawn(async move {
                ends::end_by_telco(&ending, &key, msisdn.as_ref(), signal).await
            });
            let _ = ended.await;
            Ok(format.render_ended_ack())
        }
        UssdCallback::Hop(request) => {
            let span = tracing::info_span!("hop", telco = %telco.id, session = %request.session_id, msisdn = %request.msisdn);
            // A hop runs to its end even when the telco closes the connection (it retries a
            // slow hop that way): the dialogue's lease is released and its screen remembered,
            // so the retry gets that screen instead of waiting on a lease nobody gives back.
            let (hop_gw, hop_dialogues, hop_telco) = (gw.clone(), dialogues.clone(), telco.clone());
            let hop = gw.tasks.spawn(
                async move {
                    if let Some(reply) = hop_dialogues.rate_limited(&hop_telco, &request.msisdn) {
                        return (reply, hop::HopOutcome::Unavailable);
                    }
                    hop::answer(&hop_gw, &hop_dialogues, &hop_telco, request, preview).await
                }
                .instrument(span),
            );
            let (reply, outcome) = match hop.await {
                Ok(answered) => answered,
                Err(e) => {
                    tracing::error!(error = %e, telco = %telco.id, "a hop failed");
                    let text =
                        notices::notice(notices::Notice::Unavailable, gw.config.default_language);
                    (
                        request::UssdReply::End(text.into()),
                        hop::HopOutcome::Unavailable,
                    )
                }
            };
            metrics::counter!(names::USSD_HOPS, "telco" => telco.id.to_string(), "outcome" => outcome.as_str())
                .increment(1);
            metrics::histogram!(names::USSD_HOP_SECONDS, "telco" => telco.id.to_string())
                .record(started.elapsed().as_secs_f64());
            Ok(format.render_ussd(&reply).into_response())
        }
    }
}
