//! The HTTP face of the simulator: `POST /` for every action, `GET /healthz`, `GET /stats`,
//! `GET /polls/{poll_id}/results` (`?language=sw` for Swahili texts) for what an agency reads
//! of its consultation, and `/admin/latency` to slow the back office down at run time (drills):
//! `POST {"latency":"6s","for":"10s"}` (`for` optional), `GET` to read, `DELETE` to restore.
//!
//! A `POST /` goes through, in order: the configured latency, the signature check (401),
//! envelope parsing (400), the simulated fault (500), then the remembered or fresh answer.
//! Faults are rolled after parsing so they can be counted, and before the idempotency store so
//! that a failed request leaves nothing behind and its retry gets a real answer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::time::Duration;

use super::actions::{perform, poll_results, Action, Context, Issuer, Records};
use super::idempotency::{Answers, Freshness};
use super::latency::{parse_duration, LatencyControl};
use super::stats::{Event, Stats};
use super::{signature, Latency, Settings};

/// Everything the handlers share. Not `Debug`: it holds the secret.
pub(crate) struct Backoffice {
    secret: Option<Vec<u8>>,
    latency: LatencyControl,
    failure_rate: f64,
    issuer: Issuer,
    records: Records,
    answers: Answers,
    stats: Stats,
}

impl Backoffice {
    pub(crate) fn new(settings: Settings) -> Self {
        Backoffice {
            secret: settings.secret.map(String::into_bytes),
            latency: LatencyControl::new(settings.latency),
            failure_rate: settings.failure_rate,
            issuer: Issuer::default(),
            records: Records::default(),
            answers: Answers::new(settings.idempotency_window, settings.max_remembered),
            stats: Stats::default(),
        }
    }

    /// True with probability `failure_rate` (rates at or above 1 always fail, NaN never).
    fn fails_now(&self) -> bool {
        self.failure_rate > 0.0 && rand::rng().random::<f64>() < self.failure_rate
    }
}

pub(crate) fn router(backoffice: Arc<Backoffice>) -> Router {
    Router::new()
        .route("/", post(answer))
        .route("/healthz", get(healthz))
        .route("/stats", get(stats))
        .route("/polls/{poll_id}/results", get(poll_tally))
        .route(
            "/admin/latency",
            get(latency_now).post(replace_latency).delete(reset_latency),
        )
        .with_state(backoffice)
}

/// The contract's request envelope.
#[derive(Debug, Deserialize)]
struct Envelope {
    request_id: String,
    action: String,
    msisdn: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    params: Option<Map<String, Value>>,
}

async fn answer(
    State(backoffice): State<Arc<Backoffice>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let stats = &backoffice.stats;
    stats.record(Event::Received);
    backoffice.latency.wait().await;

    if let Some(secret) = &backoffice.secret {
        // A header that is not visible ASCII cannot be ours: treat it as malformed.
        let header = headers
            .get(signature::HEADER)
            .map(|value| value.to_str().unwrap_or_default());
        if let Err(error) = signature::verify(secret, header, &body, Utc::now().timestamp()) {
            stats.record(Event::Unauthorized);
            return error_reply(StatusCode::UNAUTHORIZED, "bad_signature", error.to_string());
        }
    }

    let envelope = match parse_envelope(&body) {
        Ok(envelope) => envelope,
        Err((code, message)) => {
            stats.record(Event::BadRequest);
            return error_reply(StatusCode::BAD_REQUEST, code, message);
        }
    };
    let Some(action) = Action::parse(&envelope.action) else {
        stats.record(Event::BadRequest);
        let known: Vec<&str> = Action::ALL.iter().map(|action| action.name()).collect();
        let message = format!(
            "unknown action {:?}; known actions: {}",
            envelope.action,
            known.join(", ")
        );
        return error_reply(StatusCode::BAD_REQUEST, "unknown_action", message);
    };

    if backoffice.fails_now() {
        stats.record(Event::SimulatedFailure);
        tracing::debug!(action = action.name(), request_id = %envelope.request_id, "simulated failure");
        let body = Json(json!({ "error": "simulated failure" }));
        return (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
    }

    let (reply, freshness) = backoffice
        .answers
        .get_or_answer(action, &envelope.request_id, || {
            let context = Context {
                language: envelope.language.as_deref().unwrap_or("en"),
                msisdn: &envelope.msisdn,
                now: Utc::now(),
                issuer: &backoffice.issuer,
                records: &backoffice.records,
            };
            let no_params = Map::new();
            let params = envelope.params.as_ref().unwrap_or(&no_params);
            Bytes::from(perform(action, params, &context).to_json().to_string())
        });
    let replayed = freshness == Freshness::Replayed;
    stats.record(Event::Answered { action, replayed });
    tracing::debug!(
        action = action.name(),
        request_id = %envelope.request_id,
        msisdn = %mask_msisdn(&envelope.msisdn),
        replayed,
        "answered"
    );
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        reply,
    )
        .into_response()
}

fn parse_envelope(body: &[u8]) -> Result<Envelope, (&'static str, String)> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|error| {
        (
            "bad_request",
            format!("malformed request envelope: {error}"),
        )
    })?;
    if envelope.request_id.trim().is_empty() {
        return Err(("bad_request", "request_id is empty".to_owned()));
    }
    if envelope.msisdn.trim().is_empty() {
        return Err(("bad_request", "msisdn is empty".to_owned()));
    }
    Ok(envelope)
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn stats(State(backoffice): State<Arc<Backoffice>>) -> Json<Value> {
    let mut stats = backoffice.stats.to_json();
    stats["remembered"] = json!(backoffice.answers.len());
    Json(stats)
}

#[derive(Debug, Deserialize)]
struct ResultsQuery {
    #[serde(default)]
    language: Option<String>,
}

/// `GET /polls/{poll_id}/results`: every choice with its count; `404` for an unknown poll.
async fn poll_tally(
    State(backoffice): State<Arc<Backoffice>>,
    Path(poll_id): Path<String>,
    Query(query): Query<ResultsQuery>,
) -> Response {
    let language = query.language.as_deref().unwrap_or("en");
    match poll_results(&backoffice.records.ballots, &poll_id, language) {
        Some(results) => Json(results).into_response(),
        None => error_reply(
            StatusCode::NOT_FOUND,
            "unknown_poll",
            format!("no poll {poll_id:?}"),
        ),
    }
}

/// `POST /admin/latency`: `latency` as on the command line, `for` how long (else until reset).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyChange {
    latency: String,
    #[serde(default, rename = "for")]
    lasting: Option<String>,
}

async fn replace_latency(
    State(backoffice): State<Arc<Backoffice>>,
    Json(change): Json<LatencyChange>,
) -> Response {
    let latency = match change.latency.parse::<Latency>() {
        Ok(latency) => latency,
        Err(error) => {
            return error_reply(StatusCode::BAD_REQUEST, "bad_latency", error.to_string())
        }
    };
    let lasting = match change.lasting.as_deref().map(parse_duration) {
        None => None,
        Some(Ok(lasting)) => Some(lasting),
        Some(Err(reason)) => {
            let message = format!("invalid `for` {:?}: {reason}", change.lasting);
            return error_reply(StatusCode::BAD_REQUEST, "bad_duration", message);
        }
    };
    tracing::info!(%latency, lasting = ?lasting, "latency replaced");
    backoffice.latency.replace(latency, lasting);
    latency_now(State(backoffice)).await.into_response()
}

async fn reset_latency(State(backoffice): State<Arc<Backoffice>>) -> Json<Value> {
    backoffice.latency.reset();
    tracing::info!("latency back to the configured one");
    latency_now(State(backoffice)).await
}

async fn latency_now(State(backoffice): State<Arc<Backoffice>>) -> Json<Value> {
    let (latency, left) = backoffice.latency.current();
    let left_ms = left.map(|left: Duration| left.as_millis() as u64);
    Json(json!({ "latency": latency.to_string(), "remaining_ms": left_ms }))
}

fn error_reply(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

/// `255754123456` → `2557****3456`: logs never carry a whole phone number.
fn mask_msisdn(msisdn: &str) -> String {
    let chars: Vec<char> = msisdn.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - 8;
    chars[..4]
        .iter()
        .chain(std::iter::repeat_n(&'*', hidden))
        .chain(&chars[chars.len() - 4..])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_phone_numbers() {
        assert_eq!(mask_msisdn("255754123456"), "2557****3456");
        assert_eq!(mask_msisdn("12345678"), "********");
        assert_eq!(mask_msisdn(""), "");
    }

    #[test]
    fn envelope_needs_request_id_action_and_msisdn() {
        let good = br#"{"request_id":"tx_1","action":"bills.fetch","msisdn":"255754123456"}"#;
        let envelope = parse_envelope(good).unwrap();
        assert_eq!(envelope.language, None);
        assert_eq!(envelope.params, None);
        for body in [
            &br#"{"action":"bills.fetch","msisdn":"255754123456"}"#[..],
            br#"{"request_id":"tx_1","msisdn":"255754123456"}"#,
            br#"{"request_id":"tx_1","action":"bills.fetch"}"#,
            br#"{"request_id":" ","action":"bills.fetch","msisdn":"255754123456"}"#,
            br#"{"request_id":"tx_1","action":"bills.fetch","msisdn":"2557","params":[1]}"#,
            b"not json",
        ] {
            assert!(
                parse_envelope(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
