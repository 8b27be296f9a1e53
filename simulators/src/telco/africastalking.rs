//! Africa's Talking bulk SMS as the gateway meets it: `POST /version1/messaging` and the
//! delivery reports that follow. The wire format is documented on the `telco` module.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::http::{hold_for, plain, Telco};
use super::ledger::Received;
use super::reports::Request;
use super::settings::{Outcome, Settings};
use super::stats::Count;
use super::text::Coding;
use super::Format;

pub(crate) const PATH: &str = "/version1/messaging";

pub(crate) const UNAUTHORIZED: &str = "The supplied authentication is invalid";
pub(crate) const THROTTLED: &str = "Too Many Requests";
const NOT_A_FORM: &str = "Expected a form-encoded body";
const MISSING_FIELDS: &str = "Both to and message are required";
const JSON_ONLY: &str =
    "Send Accept: application/json (Africa's Talking answers XML without it; this simulator does not)";

/// A recipient's `statusCode` and `status` in the send answer.
pub(crate) const SENT: (u16, &str) = (101, "Success");
pub(crate) const INVALID_SENDER_ID: (u16, &str) = (402, "InvalidSenderId");
pub(crate) const INVALID_PHONE_NUMBER: (u16, &str) = (403, "InvalidPhoneNumber");

/// The delivery reports for each outcome: the intermediate statuses (sent only with
/// `interim_reports`), the final status, and the `failureReason`s one is drawn from.
pub(crate) const REPORTS: &[(Outcome, &[&str], &str, &[&str])] = &[
    (Outcome::Delivered, &["Sent"], "Success", &[]),
    (
        Outcome::Failed,
        &["Sent"],
        "Failed",
        &["AbsentSubscriber", "DeliveryFailure"],
    ),
    (Outcome::Expired, &["Sent", "Buffered"], "Expired", &[]),
    (
        Outcome::Rejected,
        &["Sent"],
        "Rejected",
        &["UserInBlackList", "UserDoesNotExist"],
    ),
];

/// One recipient's line of the send answer.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Recipient {
    /// As Africa's Talking shows it: `+` and the digits, or what was sent when it is not a
    /// number.
    pub(crate) number: String,
    pub(crate) status: (u16, &'static str),
    /// The price of the message when it was accepted.
    pub(crate) cost: Option<Decimal>,
    pub(crate) message_id: Option<String>,
}

pub(crate) async fn send(
    State(telco): State<Arc<Telco>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let settings = &telco.settings;
    telco.stats.request(Format::AfricasTalking);
    let refuse = |count, status, body| {
        telco.stats.count(count);
        plain(status, body)
    };
    let Ok(Form(fields)) = form else {
        return refuse(Count::BadRequest, StatusCode::BAD_REQUEST, NOT_A_FORM);
    };
    let field = |name: &str| fields.get(name).map(String::as_str);
    let api_key = headers.get("apiKey").and_then(|key| key.to_str().ok());
    if let Some(expected) = &settings.at_credentials {
        if !expected.admit(field("username"), api_key) {
            return refuse(Count::Unauthorized, StatusCode::UNAUTHORIZED, UNAUTHORIZED);
        }
    }
    let accepts_json = headers
        .get_all(header::ACCEPT)
        .iter()
        .any(|value| value.to_str().is_ok_and(|v| v.contains("application/json")));
    if !accepts_json {
        return refuse(Count::BadRequest, StatusCode::NOT_ACCEPTABLE, JSON_ONLY);
    }
    let to = field("to").unwrap_or_default();
    let numbers: Vec<&str> = to
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    let (false, Some(message)) = (numbers.is_empty(), field("message")) else {
        return refuse(Count::BadRequest, StatusCode::BAD_REQUEST, MISSING_FIELDS);
    };
    if telco.throttled(Format::AfricasTalking, numbers.len()) {
        return plain(StatusCode::TOO_MANY_REQUESTS, THROTTLED);
    }

    let from = field("from").filter(|from| !from.is_empty());
    let mut recipients = Vec::with_capacity(numbers.len());
    let mut held = Vec::new();
    for raw in numbers {
        telco.stats.count(Count::Recipient);
        let refusal = match international_digits(raw) {
            None => Err((raw.to_owned(), INVALID_PHONE_NUMBER)),
            Some(digits) if !sender_allowed(settings, from) => {
                Err((format!("+{digits}"), INVALID_SENDER_ID))
            }
            Some(digits) => Ok(digits),
        };
        match refusal {
            Ok(digits) => {
                let (recipient, hold) = accept(&telco, digits, message, from);
                recipients.push(recipient);
                held.extend(hold);
            }
            Err((number, status)) => {
                telco.stats.count(Count::RefusedRecipient);
                recipients.push(Recipient {
                    number,
                    status,
                    cost: None,
                    message_id: None,
                });
            }
        }
    }
    hold_for(held).await;
    let body = answer(&recipients, &settings.at_currency);
    (StatusCode::CREATED, Json(body)).into_response()
}

/// Accepts the message for one valid recipient: its answer line, and what to wait on when
/// its reports go before the answer.
fn accept(
    telco: &Telco,
    digits: String,
    message: &str,
    from: Option<&str>,
) -> (Recipient, Option<oneshot::Receiver<()>>) {
    let settings = &telco.settings;
    let coding = Coding::for_text(message);
    let parts = coding.parts(message);
    let outcome = telco.planner.outcome();
    let message_id = format!("ATXid_{}", telco.planner.hex_id());
    let mut reports = Vec::new();
    if let Some(url) = &settings.at_report_url {
        for status in report_statuses(outcome, settings.interim_reports) {
            let reason = failure_reasons(status).map(|reasons| telco.planner.pick(reasons));
            let request = Request::Form {
                url: url.clone(),
                fields: report_form(&message_id, status, &digits, settings, reason),
                credentials: settings.at_report_credentials.clone(),
            };
            reports.push((status.to_owned(), request));
        }
    }
    let received = Received {
        format: Format::AfricasTalking,
        to: digits.clone(),
        from: from.map(str::to_owned),
        text: message.to_owned(),
        coding,
        parts,
        message_id: Some(message_id.clone()),
        outcome,
        dlr_mask: None,
        dlr_url: None,
    };
    let hold = telco.accept(received, reports);
    let recipient = Recipient {
        number: format!("+{digits}"),
        status: SENT,
        cost: Some(settings.at_price_per_part * Decimal::from(parts)),
        message_id: Some(message_id),
    };
    (recipient, hold)
}

/// `+255754123456` or `255754123456` → `255754123456`: 8 to 15 digits, the first not `0`,
/// after an optional `+`. National numbers (`0754...`) are refused: the gateway promises
/// international ones.
pub(crate) fn international_digits(raw: &str) -> Option<String> {
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    let is_number = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    is_number.then(|| digits.to_owned())
}

/// With registered sender ids, `from` must be one of them; without `from`, the account's
/// default sender is used, which is always allowed.
fn sender_allowed(settings: &Settings, from: Option<&str>) -> bool {
    settings.at_sender_ids.is_empty()
        || from.is_none_or(|from| settings.at_sender_ids.iter().any(|id| id == from))
}

/// The statuses reported for `outcome`, in order.
pub(crate) fn report_statuses(outcome: Outcome, interim: bool) -> Vec<&'static str> {
    let (_, interims, last, _) = REPORTS
        .iter()
        .find(|(o, ..)| *o == outcome)
        .expect("every outcome has reports");
    let mut statuses = if interim {
        interims.to_vec()
    } else {
        Vec::new()
    };
    statuses.push(last);
    statuses
}

fn failure_reasons(status: &str) -> Option<&'static [&'static str]> {
    REPORTS
        .iter()
        .find(|(_, _, last, reasons)| *last == status && !reasons.is_empty())
        .map(|(.., reasons)| *reasons)
}

/// The form of one delivery report.
pub(crate) fn report_form(
    message_id: &str,
    status: &str,
    digits: &str,
    settings: &Settings,
    failure_reason: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("id", message_id.to_owned()),
        ("status", status.to_owned()),
        ("phoneNumber", format!("+{digits}")),
        ("networkCode", settings.at_network_code.clone()),
    ];
    if let Some(reason) = failure_reason {
        fields.push(("failureReason", reason.to_owned()));
    }
    fields.push(("retryCount", "0".to_owned()));
    fields
}

/// The `201` body: `SMSMessageData` with its summary and one line per recipient.
pub(crate) fn answer(recipients: &[Recipient], currency: &str) -> Value {
    let sent: Vec<&Recipient> = recipients.iter().filter(|r| r.cost.is_some()).collect();
    let total: Decimal = sent.iter().filter_map(|r| r.cost).sum();
    let total = if sent.is_empty() {
        "0".to_owned()
    } else {
        format!("{currency} {total:.4}")
    };
    let lines: Vec<Value> = recipients
        .iter()
        .map(|recipient| {
            json!({
                "statusCode": recipient.status.0,
                "number": recipient.number,
                "status": recipient.status.1,
                "cost": recipient.cost.map_or("0".to_owned(), |c| format!("{currency} {c:.4}")),
                "messageId": recipient.message_id.as_deref().unwrap_or("None"),
            })
        })
        .collect();
    json!({
        "SMSMessageData": {
            "Message": format!("Sent to {}/{} Total Cost: {total}", sent.len(), recipients.len()),
            "Recipients": lines,
        }
    })
}

#[cfg(test)]
#[path = "africastalking_tests.rs"]
mod tests;
