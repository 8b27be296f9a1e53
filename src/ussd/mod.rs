//! USSD: the callback endpoint `POST /ussd/{telco}`, the hop logic, and session records.
//!
//! - `request`: the adapter-neutral types every wire format is parsed into.
//! - `input`: turning cumulative or latest input and dial strings into new inputs.
//! - `hop`: one hop from loading the session to the reply.
//! - `action`: one back-office call, finished in the background if it outlives its hop.
//! - `notices`: the few screens the engine itself shows (unavailable, unknown code).
//! - `store`: the durable record of each dialogue's outcome.

mod action;
pub mod hop;
pub mod input;
pub mod notices;
pub mod request;
pub mod store;

use crate::app::AppState;
use crate::error::ApiError;
use crate::http::client_ip::client_ip;
use crate::telcos::auth::authenticate;
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
use std::time::Instant;
use tracing::Instrument;

pub fn router() -> Router<AppState> {
    Router::new().route("/ussd/{telco}", post(callback))
}

async fn callback(
    State(gw): State<AppState>,
    Path(telco_id): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    // Read up to the body limit of `http::router`; a longer body is a rejection answered here,
    // so it gets the same JSON refusal and counter as every other.
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let refuse = |reason: &'static str| {
        metrics::counter!(names::CALLBACKS_REFUSED, "reason" => reason).increment(1);
    };
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
        return Err(ApiError::unauthorized());
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
    let format = telco.wire_format;
    let callback = format
        .parse_ussd(&headers, &body, &gw.config.default_country)
        .map_err(|e| {
            refuse(e.code());
            ApiError::new(e.status(), e.code(), e.to_string())
        })?;
    match callback {
        UssdCallback::Ended {
            session_id, signal, ..
        } => {
            let key = session_key(&telco.id, &session_id);
            gw.end_by_telco(&key, signal).await;
            Ok(format.render_ended_ack())
        }
        UssdCallback::Hop(request) => {
            let span = tracing::info_span!("hop", telco = %telco.id, session = %request.session_id, msisdn = %request.msisdn);
            let (reply, outcome) = async {
                if let Some(reply) = gw.rate_limited(&telco, &request.msisdn) {
                    return (reply, hop::HopOutcome::Unavailable);
                }
                hop::answer(&gw, &telco, request).await
            }
            .instrument(span)
            .await;
            metrics::counter!(names::USSD_HOPS, "telco" => telco.id.to_string(), "outcome" => outcome.as_str())
                .increment(1);
            metrics::histogram!(names::USSD_HOP_SECONDS, "telco" => telco.id.to_string())
                .record(started.elapsed().as_secs_f64());
            Ok(format.render_ussd(&reply).into_response())
        }
    }
}
