//! The handset API: JSON over HTTP for tests, load generators and people with `curl`.
//!
//! Every handset action answers `200` with what the phone shows, even when the network failed
//! it (the failure is in `error`); `400` is a request no handset could make, and `409` a press
//! or hang-up with no dialogue open.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::dialogue::{is_dial_string, is_keypad_input};
use super::platform::{Answer, Platform};

pub(crate) fn router(platform: Arc<Platform>) -> Router {
    Router::new()
        .route("/handsets/{msisdn}/dial", post(dial))
        .route("/handsets/{msisdn}/press", post(press))
        .route("/handsets/{msisdn}/hangup", post(hangup))
        .route("/healthz", get(healthz))
        .route("/stats", get(stats))
        .with_state(platform)
}

#[derive(Debug, Deserialize)]
struct Dial {
    code: String,
}

#[derive(Debug, Deserialize)]
struct Press {
    key: String,
}

async fn dial(
    State(platform): State<Arc<Platform>>,
    Path(msisdn): Path<String>,
    body: Result<Json<Dial>, JsonRejection>,
) -> Response {
    let msisdn = match parse_msisdn(&msisdn) {
        Ok(msisdn) => msisdn,
        Err(message) => return bad_request(message),
    };
    let Dial { code } = match body {
        Ok(Json(dial)) => dial,
        Err(rejection) => return bad_request(rejection.body_text()),
    };
    if !is_dial_string(&code) {
        return bad_request(format!(
            "{code:?} is not a USSD code: * then digits and * then #"
        ));
    }
    answer(platform.dial(&msisdn, &code).await)
}

async fn press(
    State(platform): State<Arc<Platform>>,
    Path(msisdn): Path<String>,
    body: Result<Json<Press>, JsonRejection>,
) -> Response {
    let msisdn = match parse_msisdn(&msisdn) {
        Ok(msisdn) => msisdn,
        Err(message) => return bad_request(message),
    };
    let Press { key } = match body {
        Ok(Json(press)) => press,
        Err(rejection) => return bad_request(rejection.body_text()),
    };
    if !is_keypad_input(&key) {
        return bad_request(format!(
            "{key:?} cannot be typed on a keypad: only 0-9, * and #"
        ));
    }
    match platform.press(&msisdn, &key).await {
        Some(reply) => answer(reply),
        None => no_session(),
    }
}

async fn hangup(State(platform): State<Arc<Platform>>, Path(msisdn): Path<String>) -> Response {
    let msisdn = match parse_msisdn(&msisdn) {
        Ok(msisdn) => msisdn,
        Err(message) => return bad_request(message),
    };
    match platform.hangup(&msisdn).await {
        Some(session_id) => {
            Json(json!({ "session_id": session_id, "ended": true })).into_response()
        }
        None => no_session(),
    }
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn stats(State(platform): State<Arc<Platform>>) -> Json<Value> {
    Json(platform.stats.to_json(platform.active()))
}

fn answer(answer: Answer) -> Response {
    let mut body = json!({
        "session_id": answer.session_id,
        "screen": answer.screen,
        "ends": answer.ends,
    });
    if let Some(error) = answer.error {
        body["error"] = json!({
            "kind": error.kind(),
            "status": error.status(),
            "message": error.to_string(),
        });
    }
    if let Some(event) = answer.chaos {
        let (violation, detail) = match event.violation {
            Some((violation, detail)) => (Some(violation.kind(event.behaviour)), Some(detail)),
            None => (None, None),
        };
        body["chaos"] = json!({
            "behaviour": event.behaviour.name(),
            "abandoned": event.abandoned,
            "violation": violation,
            "detail": detail,
        });
    }
    Json(body).into_response()
}

/// `+255754123456` or `255754123456` → `255754123456`: E.164 digits, 8 to 15 of them.
fn parse_msisdn(raw: &str) -> Result<String, String> {
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    if (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits.to_owned())
    } else {
        Err(format!(
            "{raw:?} is not an international number (8 to 15 digits, e.g. 255754123456)"
        ))
    }
}

fn no_session() -> Response {
    error_reply(
        StatusCode::CONFLICT,
        "no_session",
        "this handset has no dialogue open: dial first".to_owned(),
    )
}

fn bad_request(message: String) -> Response {
    error_reply(StatusCode::BAD_REQUEST, "bad_request", message)
}

fn error_reply(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handset_numbers_are_e164_digits() {
        assert_eq!(
            parse_msisdn("255754123456").ok(),
            Some("255754123456".into())
        );
        assert_eq!(
            parse_msisdn("+255754123456").ok(),
            Some("255754123456".into())
        );
        for bad in [
            "",
            "+",
            "0754",
            "25575412345x",
            "1234567890123456",
            "++255754123456",
        ] {
            assert!(parse_msisdn(bad).is_err(), "{bad}");
        }
    }
}
