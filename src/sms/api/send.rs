//! `POST /v1/messages`: one text to up to [`MAX_RECIPIENTS`] numbers. Every recipient is
//! checked: bad and repeated numbers are listed in the answer and the rest are accepted
//! (a request with no good number is refused). The answer `202` comes only once every
//! message is committed.

use super::{invalid, AgencyCaller};
use crate::agencies::Agency;
use crate::app::AppState;
use crate::error::ApiError;
use crate::msisdn::Msisdn;
use crate::sms::encoding::{self, Encoding, MAX_PARTS};
use crate::sms::inbound::store::incoming_sender;
use crate::sms::message::{MessageId, Purpose, Status};
use crate::sms::store::accept::{accept_all, Acceptance, NewMessage, Stored};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

pub const MAX_RECIPIENTS: usize = 1_000;
/// Alphanumeric sender ids are at most this long.
pub const MAX_SENDER_ID: usize = 11;
/// How long a message may wait for its telco, unless the request says otherwise.
pub const DEFAULT_VALIDITY_SECS: u64 = 24 * 60 * 60;
pub const MAX_VALIDITY_SECS: u64 = 7 * 24 * 60 * 60;
const MAX_IDEMPOTENCY_KEY: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// Numbers in international (`+255…`, `255…`) or national (`07…`) form; the sender of
    /// `in_reply_to` when left out there.
    #[serde(default)]
    pub to: Vec<String>,
    pub text: String,
    /// A sender id registered for the agency.
    #[serde(default)]
    pub from: Option<String>,
    /// Where this message's status webhooks go, instead of the agency's callback URL.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Seconds the message may wait to be sent; past that it is `expired`.
    #[serde(default)]
    pub validity: Option<u64>,
    /// The incoming message (`mo_…`, forwarded to one of the agency's services) this
    /// answers; the reply goes out through the telco that delivered it.
    #[serde(default)]
    pub in_reply_to: Option<String>,
}

#[derive(Serialize)]
pub struct SendAnswer {
    pub messages: Vec<AcceptedMessage>,
    pub rejected: Vec<RejectedRecipient>,
    pub encoding: Encoding,
    /// Parts of each message (the same text for every recipient).
    pub parts: usize,
}

#[derive(Serialize)]
pub struct AcceptedMessage {
    pub id: String,
    pub to: String,
    pub status: Status,
}

#[derive(Serialize)]
pub struct RejectedRecipient {
    /// Its place in `to`, from 0.
    pub index: usize,
    pub to: String,
    pub error: String,
}

pub async fn send(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = super::read_body(body)?;
    let key = idempotency_key(&headers)?;
    let request: SendRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("body is not a valid message request: {e}")))?;
    let agency = gw
        .agencies
        .get(&caller.agency)
        .ok_or_else(|| ApiError::unavailable("the agency's record is not loaded yet; retry"))?;
    let (encoding, parts) = check_text(&request.text)?;
    if let Some(from) = &request.from {
        check_sender_id(&agency, from)?;
    }
    if let Some(url) = &request.callback_url {
        check_url(url)?;
    }
    let validity = check_validity(request.validity)?;
    let mut request = request;
    // Only the citizen who wrote is answered; anyone else in `to` is written to unasked.
    let mut answered = None;
    if let Some(mo) = &request.in_reply_to {
        let sender = incoming_sender(&gw.db, mo, &caller.agency)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "incoming message not read");
                ApiError::unavailable("the incoming message cannot be read right now; retry")
            })?
            .ok_or_else(|| {
                invalid(format!(
                    "in_reply_to {mo:?} is no message sent to this agency's services"
                ))
            })?;
        if request.to.is_empty() {
            request.to = vec![sender.clone()];
        }
        answered = Some(sender);
    }
    if request.to.is_empty() {
        return Err(invalid("to lists no recipient"));
    }
    if request.to.len() > MAX_RECIPIENTS {
        return Err(invalid(format!(
            "to lists {} recipients; at most {MAX_RECIPIENTS} per request",
            request.to.len()
        )));
    }
    let now_ms = crate::sessions::now_ms();
    let expires_ms = now_ms + (validity * 1000) as i64;
    let (recipients, rejected) = check_recipients(&request.to, &gw.config.default_country);
    if recipients.is_empty() {
        return Err(invalid(format!(
            "no recipient can be sent to: {}",
            rejected.first().map(|r| r.error.as_str()).unwrap_or("")
        )));
    }
    let messages: Vec<NewMessage> = recipients
        .into_iter()
        .map(|recipient| {
            // A STOP holds back all but the answer to the citizen who wrote.
            let purpose = if answered.as_deref() == Some(recipient.as_str()) {
                Purpose::Reply
            } else {
                Purpose::Direct
            };
            NewMessage {
                id: MessageId::generate(),
                recipient,
                sender_id: request.from.clone(),
                text: request.text.clone(),
                encoding,
                parts: parts as u32,
                callback_url: request.callback_url.clone(),
                expires_ms,
                purpose,
            }
        })
        .collect();
    let answer = SendAnswer {
        messages: messages
            .iter()
            .map(|m| AcceptedMessage {
                id: m.id.to_string(),
                to: m.recipient.as_str().to_string(),
                status: Status::Queued,
            })
            .collect(),
        rejected,
        encoding,
        parts,
    };
    let response = serde_json::to_string(&answer).map_err(ApiError::internal)?;
    let request_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body));
    let acceptance = Acceptance {
        agency: caller.agency.clone(),
        messages,
        request: key.map(|key| (key.to_string(), request_sha256.clone(), response.clone())),
        in_reply_to: request.in_reply_to.clone(),
    };
    let count = acceptance.messages.len();
    let writer = gw.clone();
    let db = gw.db.clone();
    let stored = gw
        .sms
        .acceptances
        .submit(
            acceptance,
            move || writer.sms.acceptances.clone(),
            move |batch: Vec<Acceptance>| {
                let db = db.clone();
                async move {
                    accept_all(&db, &batch, crate::sessions::now_ms())
                        .await
                        .map_err(|e| e.to_string())
                }
            },
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, agency = %caller.agency, "messages not stored");
            ApiError::unavailable("messages could not be stored; nothing was accepted, retry")
        })?;
    if stored == Stored::Accepted {
        gw.sms.accepted(&caller.agency, count, parts);
    }
    answer_stored(stored, &request_sha256, response)
}

/// The answer to a stored request: `202` with `response`, or with the first answer when the
/// key was used before for the same body; `409` when it was used for another.
pub(crate) fn answer_stored(
    stored: Stored,
    request_sha256: &str,
    response: String,
) -> Result<Response, ApiError> {
    match stored {
        Stored::Accepted => Ok(accepted(response)),
        Stored::Repeat {
            request_sha256: first,
            response,
        } if first == request_sha256 => Ok(accepted(response)),
        Stored::Repeat { .. } => Err(reused_key()),
    }
}

/// Refused unless `from` is one of the agency's registered sender ids.
pub(crate) fn check_sender_id(agency: &Agency, from: &str) -> Result<(), ApiError> {
    if from.chars().count() <= MAX_SENDER_ID && agency.sender_ids.iter().any(|s| s == from) {
        return Ok(());
    }
    let known = if agency.sender_ids.is_empty() {
        "none is registered".to_string()
    } else {
        format!("registered: {}", agency.sender_ids.join(", "))
    };
    Err(invalid(format!(
        "sender id {from:?} is not registered for this agency ({known})"
    )))
}

/// A request's validity in seconds: the default when left out, refused out of range.
pub(crate) fn check_validity(validity: Option<u64>) -> Result<u64, ApiError> {
    let validity = validity.unwrap_or(DEFAULT_VALIDITY_SECS);
    if !(60..=MAX_VALIDITY_SECS).contains(&validity) {
        return Err(invalid(format!(
            "validity must be 60 to {MAX_VALIDITY_SECS} seconds"
        )));
    }
    Ok(validity)
}

/// A request whose `Idempotency-Key` was first used with another body.
pub(crate) fn reused_key() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "idempotency_key_reused",
        "this Idempotency-Key was used in the last 24 hours with another request body",
    )
}

pub(crate) fn accepted(json: String) -> Response {
    (
        StatusCode::ACCEPTED,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response()
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
        .ok_or_else(|| {
            invalid(format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
            ))
        })?;
    Ok(Some(key))
}

pub(crate) fn check_text(text: &str) -> Result<(Encoding, usize), ApiError> {
    if text.trim().is_empty() {
        return Err(invalid("text is empty"));
    }
    let (encoding, parts) = encoding::part_count(text);
    if parts > MAX_PARTS {
        return Err(invalid(format!(
            "text needs {parts} parts in {}; at most {MAX_PARTS} are sent",
            encoding.as_str()
        )));
    }
    Ok((encoding, parts))
}

fn check_url(url: &str) -> Result<(), ApiError> {
    let ok = reqwest::Url::parse(url)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "callback_url {url:?} is not an http(s) URL"
        )))
    }
}

/// The numbers to send to, each once, and those refused with why.
fn check_recipients(to: &[String], country: &str) -> (Vec<Msisdn>, Vec<RejectedRecipient>) {
    let mut seen = HashSet::new();
    let mut good = Vec::new();
    let mut rejected = Vec::new();
    for (index, raw) in to.iter().enumerate() {
        let error = match Msisdn::parse(raw, country) {
            Ok(msisdn) if seen.insert(msisdn.clone()) => {
                good.push(msisdn);
                continue;
            }
            Ok(_) => "repeats an earlier recipient of this request; sent once".to_string(),
            Err(e) => e.to_string(),
        };
        rejected.push(RejectedRecipient {
            index,
            to: raw.chars().take(32).collect(),
            error,
        });
    }
    (good, rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_parsed_once_each_and_bad_ones_listed() {
        let to: Vec<String> = ["+255754123456", "0754123456", "255713000001", "12", "07x"]
            .map(String::from)
            .to_vec();
        let (good, rejected) = check_recipients(&to, "255");
        let good: Vec<_> = good.iter().map(|m| m.as_str()).collect();
        assert_eq!(good, ["255754123456", "255713000001"]);
        let refused: Vec<_> = rejected.iter().map(|r| r.index).collect();
        assert_eq!(refused, [1, 3, 4]);
        assert!(
            rejected[0].error.contains("repeats"),
            "{}",
            rejected[0].error
        );
    }

    #[test]
    fn texts_are_refused_when_empty_or_too_long() {
        assert!(check_text("").is_err());
        assert!(check_text("   ").is_err());
        assert_eq!(check_text("Habari").unwrap(), (Encoding::Gsm7, 1));
        let long = "a".repeat(153 * MAX_PARTS + 1);
        let refused = check_text(&long).unwrap_err();
        assert!(
            refused.message.contains("at most 10"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn callback_urls_must_be_http() {
        assert!(check_url("https://agency.go.tz/hooks").is_ok());
        assert!(check_url("http://127.0.0.1:9001/x").is_ok());
        for bad in ["ftp://x/y", "not a url", "https://", "javascript:alert(1)"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
