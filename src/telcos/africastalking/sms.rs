//! Africa's Talking SMS: the send API (a form post with the `apiKey` header, answered with
//! one entry per recipient) and its delivery reports (a form post quoting its `messageId`).

use crate::msisdn::Msisdn;
use crate::sms::channel::{Accepted, DeliveryReport, OutgoingSms, ReportFor, SendError};
use crate::sms::message::{ReportedStatus, Status};
use crate::telcos::sms::{excerpt, transport_error};
use crate::telcos::{check_body, required, AdapterError, SmsLink};
use axum::http::HeaderMap;
use serde::Deserialize;

const FORM: &str = "application/x-www-form-urlencoded";

/// Report `status` values and what they mean for the message.
pub const REPORT_STATUSES: &[(&str, ReportedStatus)] = &[
    ("Sent", ReportedStatus::InTransit),
    ("Submitted", ReportedStatus::InTransit),
    ("Buffered", ReportedStatus::InTransit),
    ("Success", ReportedStatus::Final(Status::Delivered)),
    ("Rejected", ReportedStatus::Final(Status::Failed)),
    ("Failed", ReportedStatus::Final(Status::Failed)),
    ("AbsentSubscriber", ReportedStatus::Final(Status::Failed)),
    ("Expired", ReportedStatus::Final(Status::Expired)),
];

/// Per-recipient `statusCode`s of the send answer: taken, or refused for good. Anything
/// else (5xx-like codes, unknown ones) is retried.
const TAKEN: &[u16] = &[100, 101, 102];
const REFUSED: &[(u16, &str)] = &[
    (401, "RiskHold"),
    (402, "InvalidSenderId"),
    (403, "InvalidPhoneNumber"),
    (404, "UnsupportedNumberType"),
    (406, "UserInBlacklist"),
    (409, "DoNotDisturbRejection"),
];

#[derive(Deserialize)]
struct SendAnswer {
    #[serde(rename = "SMSMessageData")]
    data: SendData,
}

#[derive(Deserialize)]
struct SendData {
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "Recipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(rename = "statusCode")]
    status_code: u16,
    #[serde(default)]
    status: String,
    #[serde(rename = "messageId", default)]
    message_id: String,
}

pub async fn send(
    http: &reqwest::Client,
    link: &SmsLink,
    sms: OutgoingSms<'_>,
) -> Result<Accepted, SendError> {
    let to = format!("+{}", sms.to.as_str());
    let mut form = vec![
        ("username", link.username.as_str()),
        ("to", to.as_str()),
        ("message", sms.text),
        ("bulkSMSMode", "1"),
    ];
    if let Some(from) = sms.from {
        form.push(("from", from));
    }
    let response = http
        .post(&link.url)
        .header("apiKey", &link.secret)
        .header("Accept", "application/json")
        .form(&form)
        .send()
        .await
        .map_err(transport_error)?;
    let status = response.status();
    let body = response.text().await.map_err(transport_error)?;
    read_send_answer(status.as_u16(), &body)
}

/// Sorts the send API's answer (HTTP status and body) into taken, retry or refused.
fn read_send_answer(status: u16, body: &str) -> Result<Accepted, SendError> {
    match status {
        200 | 201 => {}
        429 => return Err(SendError::Throttled(excerpt(body))),
        _ => {
            return Err(SendError::Transient(format!(
                "HTTP {status}: {}",
                excerpt(body)
            )))
        }
    }
    let answer: SendAnswer = serde_json::from_str(body)
        .map_err(|e| SendError::Transient(format!("unreadable answer: {e}")))?;
    let Some(recipient) = answer.data.recipients.into_iter().next() else {
        // No recipient entry: the account-level refusal (balance, sender) is in `Message`.
        return Err(SendError::Transient(excerpt(&answer.data.message)));
    };
    if TAKEN.contains(&recipient.status_code) && !recipient.message_id.is_empty() {
        return Ok(Accepted {
            telco_message_id: Some(recipient.message_id),
        });
    }
    let reason = format!("{} {}", recipient.status_code, recipient.status);
    if REFUSED
        .iter()
        .any(|(code, _)| *code == recipient.status_code)
    {
        Err(SendError::Refused(reason))
    } else {
        Err(SendError::Transient(reason))
    }
}

#[derive(Deserialize)]
struct ReportForm {
    id: Option<String>,
    status: Option<String>,
    #[serde(rename = "failureReason")]
    failure_reason: Option<String>,
    #[serde(rename = "phoneNumber")]
    phone_number: Option<String>,
}

pub fn parse_report(headers: &HeaderMap, body: &[u8]) -> Result<DeliveryReport, AdapterError> {
    check_body(headers, body, FORM)?;
    let form: ReportForm =
        serde_urlencoded::from_bytes(body).map_err(|e| AdapterError::Unparseable(e.to_string()))?;
    let id = required(&form.id, "id")?;
    let word = required(&form.status, "status")?;
    if let Some(number) = form
        .phone_number
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        // Checked so that a garbled report is refused, not matched by its id alone.
        Msisdn::parse(number, "")?;
    }
    let status = REPORT_STATUSES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(word))
        .map(|(_, status)| *status)
        .ok_or_else(|| AdapterError::bad_value("status", word))?;
    let detail = match form.failure_reason.as_deref().map(str::trim) {
        Some(reason) if !reason.is_empty() => format!("{word}: {reason}"),
        _ => word.to_string(),
    };
    Ok(DeliveryReport {
        message: ReportFor::Telco(id.to_string()),
        status,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telcos::tests::with_content_type;

    #[test]
    fn send_answers() {
        let one = |code: u16, status: &str, id: &str| {
            format!(
                r#"{{"SMSMessageData":{{"Message":"Sent to 1/1","Recipients":[{{"statusCode":{code},"number":"+255754123456","status":"{status}","cost":"TZS 20.0000","messageId":"{id}"}}]}}}}"#
            )
        };
        let taken = |id: &str| {
            Ok(Accepted {
                telco_message_id: Some(id.into()),
            })
        };
        let cases: &[(u16, String, Result<Accepted, SendError>)] = &[
            (201, one(101, "Success", "ATXid_1"), taken("ATXid_1")),
            (201, one(102, "Queued", "ATXid_2"), taken("ATXid_2")),
            (
                201,
                one(403, "InvalidPhoneNumber", "None"),
                Err(SendError::Refused("403 InvalidPhoneNumber".into())),
            ),
            (
                201,
                one(406, "UserInBlacklist", "None"),
                Err(SendError::Refused("406 UserInBlacklist".into())),
            ),
            (
                201,
                one(500, "InternalServerError", "None"),
                Err(SendError::Transient("500 InternalServerError".into())),
            ),
            (
                201,
                one(405, "InsufficientBalance", "None"),
                Err(SendError::Transient("405 InsufficientBalance".into())),
            ),
            (
                201,
                r#"{"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}"#.into(),
                Err(SendError::Transient("InvalidSenderId".into())),
            ),
            (
                429,
                "Too many requests".into(),
                Err(SendError::Throttled("Too many requests".into())),
            ),
            (
                401,
                "The supplied authentication is invalid".into(),
                Err(SendError::Transient(
                    "HTTP 401: The supplied authentication is invalid".into(),
                )),
            ),
            (
                502,
                "".into(),
                Err(SendError::Transient("HTTP 502: ".into())),
            ),
        ];
        for (status, body, want) in cases {
            assert_eq!(&read_send_answer(*status, body), want, "{status} {body}");
        }
        assert!(matches!(
            read_send_answer(201, "<html>"),
            Err(SendError::Transient(_))
        ));
    }

    /// A report body, and its telco id, status and detail or the error code.
    type ReportCase<'a> = (&'a str, Result<(&'a str, ReportedStatus, &'a str), &'a str>);

    #[test]
    fn reports() {
        let form = with_content_type(FORM);
        let cases: &[ReportCase] = &[
            ("id=ATXid_1&status=Success&phoneNumber=%2B255754123456&networkCode=64002&retryCount=0",
             Ok(("ATXid_1", ReportedStatus::Final(Status::Delivered), "Success"))),
            ("id=ATXid_2&status=Failed&failureReason=AbsentSubscriber&phoneNumber=%2B255754123456",
             Ok(("ATXid_2", ReportedStatus::Final(Status::Failed), "Failed: AbsentSubscriber"))),
            ("id=ATXid_3&status=Buffered", Ok(("ATXid_3", ReportedStatus::InTransit, "Buffered"))),
            ("id=ATXid_4&status=Expired", Ok(("ATXid_4", ReportedStatus::Final(Status::Expired), "Expired"))),
            ("id=ATXid_5&status=Rejected&failureReason=DeliveryFailure",
             Ok(("ATXid_5", ReportedStatus::Final(Status::Failed), "Rejected: DeliveryFailure"))),
            ("status=Success", Err("missing_field")),
            ("id=ATXid_6&status=Teleported", Err("bad_value")),
            ("id=ATXid_7&status=Success&phoneNumber=not-a-number", Err("bad_msisdn")),
        ];
        for (body, want) in cases {
            let got = parse_report(&form, body.as_bytes());
            match (got, want) {
                (Ok(report), Ok((id, status, detail))) => {
                    assert_eq!(report.message, ReportFor::Telco(id.to_string()), "{body}");
                    assert_eq!(report.status, *status, "{body}");
                    assert_eq!(report.detail, *detail, "{body}");
                }
                (Err(e), Err(code)) => assert_eq!(e.code(), *code, "{body}"),
                (got, want) => panic!("{body}: got {got:?}, want {want:?}"),
            }
        }
    }
}
