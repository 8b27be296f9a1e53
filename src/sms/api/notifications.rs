//! `POST /v1/notifications`: an event for one citizen, sent as one SMS from one of the
//! agency's templates, in the language asked for, else the citizen's, else the template's
//! default. Exactly once per event: a repeat with the same `reference` (kept for ever) or
//! the same `Idempotency-Key` (kept a day) sends nothing new and gets the first answer.

use super::send::{
    accepted, check_sender_id, check_text, idempotency_key, reused_key, DEFAULT_VALIDITY_SECS,
};
use super::templates::{not_found, unavailable};
use super::{invalid, AgencyCaller};
use crate::app::AppState;
use crate::db::citizens::get_language;
use crate::error::ApiError;
use crate::language::Language;
use crate::msisdn::Msisdn;
use crate::sms::encoding::Encoding;
use crate::sms::message::Status;
use crate::sms::notifications::store::{
    earlier_notification, get_template, record_notification, NewNotification, Recorded,
};
use crate::sms::store::accept::NewMessage;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const MAX_REFERENCE: usize = 200;

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyRequest {
    /// The citizen's number, international (`+255…`) or national (`07…`).
    pub to: String,
    /// The id of one of the agency's templates.
    pub template: String,
    /// A value for each of the template's variables, and no other.
    #[serde(default)]
    pub variables: BTreeMap<String, Value>,
    /// One of the template's languages; else the citizen's remembered one, else its default.
    #[serde(default)]
    pub language: Option<Language>,
    /// The agency's id of the event (a receipt number, a case decision): a notification
    /// with a reference used before sends nothing new.
    #[serde(default)]
    pub reference: Option<String>,
    /// A sender id registered for the agency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

#[derive(Serialize)]
pub struct NotifyAnswer {
    /// The message's id, readable at `GET /v1/messages/{id}`.
    pub id: String,
    pub to: String,
    pub status: Status,
    pub template: String,
    pub language: Language,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub text: String,
    pub encoding: Encoding,
    pub parts: usize,
}

pub async fn notify(
    State(gw): State<AppState>,
    caller: AgencyCaller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = super::read_body(body)?;
    let key = idempotency_key(&headers)?.map(str::to_string);
    let mut request: NotifyRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!("body is not a valid notification request: {e}"))
    })?;
    let recipient = Msisdn::parse(&request.to, &gw.config.default_country)
        .map_err(|e| invalid(format!("to: {e}")))?;
    // The same event written another way (`07…` for `+255…`, variables reordered) is the
    // same request.
    request.to = recipient.as_str().to_string();
    request.reference = request.reference.map(|r| r.trim().to_string());
    if let Some(reference) = &request.reference {
        check_reference(reference)?;
    }
    let request_sha256 = serde_json::to_vec(&request)
        .map(|json| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(json)))
        .map_err(ApiError::internal)?;
    // A repeat is answered even when its template has changed or gone since.
    if let Some(reference) = &request.reference {
        let earlier = earlier_notification(&gw.db, &caller.agency, reference)
            .await
            .map_err(unavailable)?;
        if let Some((first, response)) = earlier {
            return repeat(
                &request_sha256,
                first,
                response,
                reused_reference(reference),
            );
        }
    }
    if let Some(from) = &request.from {
        let agency = gw
            .agencies
            .get(&caller.agency)
            .ok_or_else(|| ApiError::unavailable("the agency's record is not loaded yet; retry"))?;
        check_sender_id(&agency, from)?;
    }
    let template = get_template(&gw.db, &caller.agency, &request.template)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| not_found(&request.template))?;
    let remembered = match request.language {
        Some(_) => None,
        None => get_language(&gw.db, &recipient)
            .await
            .map_err(unavailable)?,
    };
    let language = template
        .language(request.language, remembered, gw.config.default_language)
        .map_err(invalid)?;
    let values = template
        .values(&request.variables, language)
        .map_err(invalid)?;
    let text = template.render(language, &values, recipient.as_str());
    let (encoding, parts) = check_text(&text)?;
    let now_ms = crate::sessions::now_ms();
    let expires_ms = now_ms + (DEFAULT_VALIDITY_SECS * 1000) as i64;
    let message = NewMessage {
        sender_id: request.from.clone(),
        // An event of the citizen's own (a payment, a case): a STOP does not hold it back.
        purpose: crate::sms::message::Purpose::Notification,
        ..NewMessage::reply(recipient, text, expires_ms)
    };
    let answer = NotifyAnswer {
        id: message.id.to_string(),
        to: message.recipient.as_str().to_string(),
        status: Status::Queued,
        template: template.id.clone(),
        language,
        reference: request.reference.clone(),
        from: request.from.clone(),
        text: message.text.clone(),
        encoding,
        parts,
    };
    let response = serde_json::to_string(&answer).map_err(ApiError::internal)?;
    let notification = NewNotification {
        agency: caller.agency.clone(),
        reference: request.reference.clone(),
        template: template.id.clone(),
        language,
        message,
        request_sha256: request_sha256.clone(),
        response: response.clone(),
        key,
    };
    let recorded = record_notification(&gw.db, &notification, now_ms)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, agency = %caller.agency, "notification not stored");
            ApiError::unavailable("the notification could not be stored; nothing was sent, retry")
        })?;
    match recorded {
        Recorded::Accepted => {
            tracing::info!(
                agency = %caller.agency,
                template = %template.id,
                to = %notification.message.recipient.masked(),
                message = %notification.message.id,
                "notification queued"
            );
            gw.sms.accepted(&caller.agency, 1, parts);
            Ok(accepted(response))
        }
        Recorded::RepeatedKey {
            request_sha256: first,
            response,
        } => repeat(&request_sha256, first, response, reused_key()),
        Recorded::RepeatedReference {
            request_sha256: first,
            response,
        } => {
            let reference = request.reference.as_deref().unwrap_or_default();
            repeat(
                &request_sha256,
                first,
                response,
                reused_reference(reference),
            )
        }
    }
}

/// The first answer when the request is the same; else `conflict`.
fn repeat(
    request_sha256: &str,
    first_sha256: String,
    response: String,
    conflict: ApiError,
) -> Result<Response, ApiError> {
    if first_sha256 == request_sha256 {
        Ok(accepted(response))
    } else {
        Err(conflict)
    }
}

fn reused_reference(reference: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "reference_reused",
        format!(
            "reference {reference:?} was sent before with another notification; nothing was sent"
        ),
    )
}

fn check_reference(reference: &str) -> Result<(), ApiError> {
    let ok = !reference.is_empty()
        && reference.chars().count() <= MAX_REFERENCE
        && !reference.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "reference must be 1 to {MAX_REFERENCE} characters without control characters"
        )))
    }
}
