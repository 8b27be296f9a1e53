//! Kannel `sendsms` and delivery reports. Kannel answers a send without an id of its own, so
//! the gateway puts its message id in the `dlr-url`, with a signature made with the telco's
//! send secret so that nobody else can move a message; Kannel calls that URL with GET,
//! replacing `%d` by the report type.

use crate::sms::channel::{Accepted, DeliveryReport, OutgoingSms, ReportFor, SendError};
use crate::sms::message::{MessageId, ReportedStatus, Status};
use crate::telcos::sms::{excerpt, transport_error};
use crate::telcos::{required, AdapterError, SmsLink};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// Report types (`%d`) and what they mean for the message.
pub const REPORT_TYPES: &[(u32, &str, ReportedStatus)] = &[
    (
        1,
        "delivered to phone",
        ReportedStatus::Final(Status::Delivered),
    ),
    (
        2,
        "non-delivered to phone",
        ReportedStatus::Final(Status::Failed),
    ),
    (4, "queued on SMSC", ReportedStatus::InTransit),
    (8, "delivered to SMSC", ReportedStatus::InTransit),
    (
        16,
        "non-delivered to SMSC",
        ReportedStatus::Final(Status::Failed),
    ),
];

/// Every report type Kannel may send (the sum of [`REPORT_TYPES`]).
const DLR_MASK: &str = "31";

pub async fn send(
    http: &reqwest::Client,
    link: &SmsLink,
    sms: OutgoingSms<'_>,
) -> Result<Accepted, SendError> {
    let mut query = vec![
        ("username", link.username.as_str()),
        ("password", link.secret.as_str()),
        ("to", sms.to.as_str()),
        ("text", sms.text),
        ("charset", "UTF-8"),
        ("coding", if sms.unicode { "2" } else { "0" }),
        ("dlr-mask", DLR_MASK),
        ("dlr-url", sms.report_url),
    ];
    if let Some(from) = sms.from {
        query.push(("from", from));
    }
    let response = http
        .get(&link.url)
        .query(&query)
        .send()
        .await
        .map_err(transport_error)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(transport_error)?;
    read_send_answer(status, &body)
}

/// Sorts sendsms' answer: 202 taken (`0: Accepted for delivery`, `3: Queued for later
/// delivery`), 503 a full queue, 400 a refused message, anything else retried.
fn read_send_answer(status: u16, body: &str) -> Result<Accepted, SendError> {
    match status {
        200 | 202 => Ok(Accepted {
            telco_message_id: None,
        }),
        503 => Err(SendError::Throttled(excerpt(body))),
        400 => Err(SendError::Refused(excerpt(body))),
        _ => Err(SendError::Transient(format!(
            "HTTP {status}: {}",
            excerpt(body)
        ))),
    }
}

/// `base?id=<ours>&sig=<signature>&type=%d&reply=%A`: the type, and the SMSC's reply, whose
/// SMPP receipt (`stat:EXPIRED`) tells an expiry from another failure.
pub fn report_url(base: &str, link: &SmsLink, id: &MessageId) -> String {
    let separator = if base.contains('?') { '&' } else { '?' };
    format!(
        "{base}{separator}id={id}&sig={}&type=%d&reply=%A",
        signature(link, id)
    )
}

/// 128 bits of HMAC-SHA256 of the message id under the telco's send secret.
fn signature(link: &SmsLink, id: &MessageId) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(link.secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(id.as_str().as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

#[derive(Deserialize)]
struct ReportQuery {
    id: Option<String>,
    sig: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    reply: Option<String>,
}

pub fn parse_report(link: Option<&SmsLink>, query: &str) -> Result<DeliveryReport, AdapterError> {
    let query: ReportQuery =
        serde_urlencoded::from_str(query).map_err(|e| AdapterError::Unparseable(e.to_string()))?;
    let id = required(&query.id, "id")?;
    let id = MessageId::parse(id).ok_or_else(|| AdapterError::bad_value("id", id))?;
    let sig = required(&query.sig, "sig")?;
    let link = link.ok_or(AdapterError::BadSignature)?;
    let expected = signature(link, &id);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        expected.as_bytes(),
        sig.as_bytes(),
    )) {
        return Err(AdapterError::BadSignature);
    }
    let raw = required(&query.kind, "type")?;
    let (code, words, status) = raw
        .parse::<u32>()
        .ok()
        .and_then(|code| REPORT_TYPES.iter().find(|(c, _, _)| *c == code))
        .ok_or_else(|| AdapterError::bad_value("type", raw))?;
    let reply = query
        .reply
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    // A non-delivery whose receipt says it expired is an expiry.
    let status = match (status, reply) {
        (ReportedStatus::Final(Status::Failed), Some(reply)) if reply.contains("stat:EXPIRED") => {
            ReportedStatus::Final(Status::Expired)
        }
        _ => *status,
    };
    let detail = match reply {
        Some(reply) => format!("type {code}: {words} ({})", excerpt(reply)),
        None => format!("type {code}: {words}"),
    };
    Ok(DeliveryReport {
        message: ReportFor::Ours(id),
        status,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> SmsLink {
        SmsLink {
            url: "http://kannel:13013/cgi-bin/sendsms".into(),
            username: "mgov".into(),
            secret: "kannel-pass".into(),
            parts_per_second: crate::telcos::DEFAULT_SMS_PARTS_PER_SECOND,
            prefixes: vec![],
            default_route: true,
        }
    }

    #[test]
    fn send_answers() {
        let taken = Ok(Accepted {
            telco_message_id: None,
        });
        let cases = [
            (202, "0: Accepted for delivery", taken.clone()),
            (202, "3: Queued for later delivery", taken),
            (
                503,
                "Queue full",
                Err(SendError::Throttled("Queue full".into())),
            ),
            (
                400,
                "Receiver number(s) missing",
                Err(SendError::Refused("Receiver number(s) missing".into())),
            ),
            (
                403,
                "Authorization failed for sendsms",
                Err(SendError::Transient(
                    "HTTP 403: Authorization failed for sendsms".into(),
                )),
            ),
            (500, "", Err(SendError::Transient("HTTP 500: ".into()))),
        ];
        for (status, body, want) in cases {
            assert_eq!(read_send_answer(status, body), want, "{status} {body}");
        }
    }

    #[test]
    fn report_urls_carry_a_signature_only_the_gateway_can_make() {
        let id = MessageId::generate();
        let url = report_url("http://gw/sms/kannel/dlr", &link(), &id);
        let query = url
            .split_once('?')
            .unwrap()
            .1
            .replace("%d", "1")
            .replace("%A", "ACK%2F");
        let report = parse_report(Some(&link()), &query).unwrap();
        assert_eq!(report.message, ReportFor::Ours(id.clone()));
        assert_eq!(report.status, ReportedStatus::Final(Status::Delivered));

        let other = SmsLink {
            secret: "another".into(),
            ..link()
        };
        assert_eq!(
            parse_report(Some(&other), &query),
            Err(AdapterError::BadSignature)
        );
        assert_eq!(parse_report(None, &query), Err(AdapterError::BadSignature));
        let forged = query.replace(id.as_str(), MessageId::generate().as_str());
        assert_eq!(
            parse_report(Some(&link()), &forged),
            Err(AdapterError::BadSignature)
        );
    }

    #[test]
    fn report_types() {
        let id = MessageId::generate();
        let sig = signature(&link(), &id);
        for (kind, want) in [
            ("1", Ok(ReportedStatus::Final(Status::Delivered))),
            ("2", Ok(ReportedStatus::Final(Status::Failed))),
            ("4", Ok(ReportedStatus::InTransit)),
            ("8", Ok(ReportedStatus::InTransit)),
            ("16", Ok(ReportedStatus::Final(Status::Failed))),
            ("3", Err("bad_value")),
            ("%d", Err("bad_value")),
            ("", Err("missing_field")),
        ] {
            let query = format!("id={id}&sig={sig}&type={kind}");
            let got = parse_report(Some(&link()), &query)
                .map(|r| r.status)
                .map_err(|e| e.code());
            assert_eq!(got, want, "type {kind:?}");
        }
        let expired = format!("id={id}&sig={sig}&type=2&reply=id%3A7+stat%3AEXPIRED+err%3A000");
        let report = parse_report(Some(&link()), &expired).unwrap();
        assert_eq!(report.status, ReportedStatus::Final(Status::Expired));
        assert_eq!(
            report.detail,
            "type 2: non-delivered to phone (id:7 stat:EXPIRED err:000)"
        );
        let missing = parse_report(Some(&link()), "sig=x&type=1").unwrap_err();
        assert_eq!(missing.code(), "missing_field");
        let foreign = parse_report(Some(&link()), "id=ATX1&sig=x&type=1").unwrap_err();
        assert_eq!(foreign.code(), "bad_value");
    }
}
