//! Africa's Talking USSD: form-encoded hops whose `text` carries every input so far joined
//! by `*`, answered with `CON <screen>` or `END <screen>` as `text/plain`. The end-of-session
//! notification comes to the same URL and is told apart by its `status` field.

use crate::msisdn::Msisdn;
use crate::telcos::{check_body, normalise_service_code, required, AdapterError};
use crate::ussd::request::{SessionEndSignal, UssdCallback, UssdInput, UssdReply, UssdRequest};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The notification's `status` values and what they mean for the dialogue.
const END_STATUSES: &[(&str, SessionEndSignal)] = &[
    ("Success", SessionEndSignal::Completed),
    // The citizen stopped answering: the telco timed the dialogue out while we waited.
    ("Incomplete", SessionEndSignal::Timeout),
    ("Failed", SessionEndSignal::Failed),
];

/// Fields of both a hop and a notification; the notification's others (`cost`,
/// `hopsCount`, `durationInMillis`...) are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Form {
    session_id: Option<String>,
    service_code: Option<String>,
    phone_number: Option<String>,
    network_code: Option<String>,
    text: Option<String>,
    status: Option<String>,
}

pub fn parse_ussd(
    headers: &HeaderMap,
    body: &[u8],
    default_country: &str,
) -> Result<UssdCallback, AdapterError> {
    check_body(headers, body, CONTENT_TYPE)?;
    let form: Form =
        serde_urlencoded::from_bytes(body).map_err(|e| AdapterError::Unparseable(e.to_string()))?;
    let session_id = required(&form.session_id, "sessionId")?.to_string();

    if let Some(status) = form.status.as_deref() {
        let signal = END_STATUSES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(status.trim()))
            .map(|(_, signal)| *signal)
            .ok_or_else(|| AdapterError::bad_value("status", status))?;
        // A notification without a number is still worth closing the session for.
        let msisdn = match form.phone_number.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => Msisdn::parse(raw, default_country).ok(),
            _ => None,
        };
        return Ok(UssdCallback::Ended {
            session_id,
            msisdn,
            signal,
        });
    }

    let msisdn = Msisdn::parse(
        required(&form.phone_number, "phoneNumber")?,
        default_country,
    )?;
    let service_code =
        normalise_service_code(required(&form.service_code, "serviceCode")?, "serviceCode")?;
    // Empty text is the dial. Non-empty text on the first hop is a direct-dial extension
    // (`*152*00*1*2#` arrives as `*152*00#` + `1*2`); the gateway splits it, knowing the hop.
    let input = match form.text.as_deref().unwrap_or("") {
        "" => UssdInput::Dial,
        text => UssdInput::Cumulative(text.to_string()),
    };
    let network = form
        .network_code
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    Ok(UssdCallback::Hop(UssdRequest {
        session_id,
        msisdn,
        service_code,
        input,
        sequence: None,
        network,
    }))
}

pub fn render_ussd(reply: &UssdReply) -> Response {
    let body = match reply {
        UssdReply::Continue(screen) => format!("CON {screen}"),
        UssdReply::End(screen) => format!("END {screen}"),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Africa's Talking wants only a 200 for its notification.
pub fn render_ended_ack() -> Response {
    StatusCode::OK.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msisdn::MsisdnError;
    use crate::telcos::tests::{wire, with_content_type};
    use crate::telcos::MAX_BODY_BYTES;

    fn hop(service_code: &str, input: UssdInput, network: Option<&str>) -> UssdCallback {
        UssdCallback::Hop(UssdRequest {
            session_id: "ATUid_1".into(),
            msisdn: Msisdn::parse("255754123456", "255").unwrap(),
            service_code: service_code.into(),
            input,
            sequence: None,
            network: network.map(Into::into),
        })
    }

    fn ended(signal: SessionEndSignal, with_number: bool) -> UssdCallback {
        let msisdn = with_number.then(|| Msisdn::parse("255754123456", "255").unwrap());
        UssdCallback::Ended {
            session_id: "ATUid_1".into(),
            msisdn,
            signal,
        }
    }

    const BASE: &str = "sessionId=ATUid_1&serviceCode=%2A152%2A00%23&phoneNumber=%2B255754123456&networkCode=63902";

    #[test]
    fn wire_input_to_parse() {
        let cumulative = |t: &str| UssdInput::Cumulative(t.into());
        #[rustfmt::skip]
        let cases: Vec<(&str, String, Result<UssdCallback, AdapterError>)> = vec![
            ("dial", format!("{BASE}&text="), Ok(hop("*152*00#", UssdInput::Dial, Some("63902")))),
            ("no text field", BASE.into(), Ok(hop("*152*00#", UssdInput::Dial, Some("63902")))),
            ("direct dial", format!("{BASE}&text=1%2A2"), Ok(hop("*152*00#", cumulative("1*2"), Some("63902")))),
            ("later hop", format!("{BASE}&text=1*2*12345678"), Ok(hop("*152*00#", cumulative("1*2*12345678"), Some("63902")))),
            ("national number, raw code, no network", "sessionId=ATUid_1&serviceCode=*152*00#&phoneNumber=0754123456&text=1".into(), Ok(hop("*152*00#", cumulative("1"), None))),
            // An unencoded `+` decodes to a space, which the number parser ignores.
            ("raw plus", "sessionId=ATUid_1&serviceCode=152*00&phoneNumber=+255754123456&networkCode=".into(), Ok(hop("*152*00#", UssdInput::Dial, None))),
            ("notification success", format!("{BASE}&status=Success&cost=KES+0.05&hopsCount=3&durationInMillis=9120&input=1*2&lastAppResponse=END+Asante"), Ok(ended(SessionEndSignal::Completed, true))),
            ("notification incomplete", format!("{BASE}&status=Incomplete&hopsCount=1"), Ok(ended(SessionEndSignal::Timeout, true))),
            ("notification failed, no number", "sessionId=ATUid_1&status=Failed&errorMessage=x".into(), Ok(ended(SessionEndSignal::Failed, false))),
            ("unknown status", format!("{BASE}&status=Weird"), Err(AdapterError::bad_value("status", "Weird"))),
            ("no session", "serviceCode=*152*00#&phoneNumber=0754123456".into(), Err(AdapterError::MissingField("sessionId"))),
            ("blank session", "sessionId=+&serviceCode=*152*00#&phoneNumber=0754123456".into(), Err(AdapterError::MissingField("sessionId"))),
            ("no phone", "sessionId=ATUid_1&serviceCode=*152*00#".into(), Err(AdapterError::MissingField("phoneNumber"))),
            ("no code", "sessionId=ATUid_1&phoneNumber=0754123456".into(), Err(AdapterError::MissingField("serviceCode"))),
            ("bad code", "sessionId=ATUid_1&phoneNumber=0754123456&serviceCode=abc".into(), Err(AdapterError::bad_value("serviceCode", "abc"))),
            ("letters in phone", "sessionId=ATUid_1&serviceCode=*152*00#&phoneNumber=07541234x6".into(), Err(MsisdnError::NotDigits.into())),
            ("short phone", "sessionId=ATUid_1&serviceCode=*152*00#&phoneNumber=%2B12".into(), Err(MsisdnError::BadLength(2).into())),
        ];
        for (name, body, want) in cases {
            let headers = with_content_type(CONTENT_TYPE);
            assert_eq!(parse_ussd(&headers, body.as_bytes(), "255"), want, "{name}");
        }
    }

    #[test]
    fn malformed_requests_are_refused() {
        let form = with_content_type(CONTENT_TYPE);
        let duplicate = format!("{BASE}&text=1&text=2");
        assert!(matches!(
            parse_ussd(&form, duplicate.as_bytes(), "255"),
            Err(AdapterError::Unparseable(_))
        ));
        let json = with_content_type("application/json");
        assert!(matches!(
            parse_ussd(&json, BASE.as_bytes(), "255"),
            Err(AdapterError::BadContentType { .. })
        ));
        let huge = format!("{BASE}&text={}", "1".repeat(MAX_BODY_BYTES));
        assert!(matches!(
            parse_ussd(&form, huge.as_bytes(), "255"),
            Err(AdapterError::BodyTooLarge(_))
        ));
        // Invalid UTF-8 is decoded lossily and then fails on the number, not with a panic.
        let bytes = b"sessionId=a&serviceCode=*1#&phoneNumber=\xff\xfe";
        assert!(matches!(
            parse_ussd(&form, bytes, "255"),
            Err(AdapterError::BadMsisdn(_))
        ));
    }

    #[tokio::test]
    async fn reply_to_wire_output() {
        let text_plain = Some("text/plain; charset=utf-8".to_string());
        let cases = [
            (
                render_ussd(&UssdReply::Continue("Karibu\n1. Maji".into())),
                (
                    StatusCode::OK,
                    text_plain.clone(),
                    "CON Karibu\n1. Maji".to_string(),
                ),
            ),
            (
                render_ussd(&UssdReply::End("Asante".into())),
                (StatusCode::OK, text_plain, "END Asante".to_string()),
            ),
            (render_ended_ack(), (StatusCode::OK, None, String::new())),
        ];
        for (response, want) in cases {
            assert_eq!(wire(response).await, want);
        }
    }
}
