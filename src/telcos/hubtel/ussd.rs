//! Hubtel-style JSON USSD: each hop carries only the latest input in `Message`; the first
//! hop (`Initiation`) carries the whole dialled string there instead. Replies are JSON with
//! `Type` `Response` (continue) or `Release` (end).

use crate::msisdn::Msisdn;
use crate::telcos::{check_body, normalise_service_code, required, AdapterError};
use crate::ussd::request::{SessionEndSignal, UssdCallback, UssdInput, UssdReply, UssdRequest};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

const CONTENT_TYPE: &str = "application/json";

/// Only the fields the gateway uses; `ClientState` is ignored because the session store, not
/// the telco, carries our state. `Sequence` tells a repeated hop from a new one.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    #[serde(rename = "Type")]
    kind: Option<String>,
    mobile: Option<String>,
    session_id: Option<String>,
    service_code: Option<String>,
    message: Option<String>,
    operator: Option<String>,
    #[serde(default)]
    sequence: Option<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Reply<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    message: &'a str,
    client_state: &'static str,
}

pub fn parse_ussd(
    headers: &HeaderMap,
    body: &[u8],
    default_country: &str,
) -> Result<UssdCallback, AdapterError> {
    check_body(headers, body, CONTENT_TYPE)?;
    // serde_json's message can quote a value (a phone number sent as a number): report
    // only the kind of error and where, since it goes back in the 400 and into logs.
    let req: Request = serde_json::from_slice(body).map_err(|e| {
        AdapterError::Unparseable(format!(
            "{:?} JSON error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let session_id = required(&req.session_id, "SessionId")?.to_string();
    let kind = required(&req.kind, "Type")?;

    let signal = match kind.to_ascii_lowercase().as_str() {
        "release" => Some(SessionEndSignal::UserCancelled),
        "timeout" => Some(SessionEndSignal::Timeout),
        "initiation" | "response" => None,
        _ => return Err(AdapterError::bad_value("Type", kind)),
    };
    if let Some(signal) = signal {
        let msisdn = match req.mobile.as_deref().map(str::trim) {
            Some(raw) if !raw.is_empty() => Msisdn::parse(raw, default_country).ok(),
            _ => None,
        };
        return Ok(UssdCallback::Ended {
            session_id,
            msisdn,
            signal,
        });
    }

    let msisdn = Msisdn::parse(required(&req.mobile, "Mobile")?, default_country)?;
    let (service_code, input) = if kind.eq_ignore_ascii_case("initiation") {
        // The dialled string, extensions and all (`*152*00*1*2#`); the gateway splits it
        // against the root code. `ServiceCode` is the fallback when Message is blank.
        let dialled = match req.message.as_deref().map(str::trim) {
            Some(m) if !m.is_empty() => normalise_service_code(m, "Message")?,
            _ => {
                normalise_service_code(required(&req.service_code, "ServiceCode")?, "ServiceCode")?
            }
        };
        (dialled, UssdInput::Dial)
    } else {
        let code =
            normalise_service_code(required(&req.service_code, "ServiceCode")?, "ServiceCode")?;
        // An empty Message is an empty answer, which the menu judges; only absence is an error.
        let message = req.message.ok_or(AdapterError::MissingField("Message"))?;
        (code, UssdInput::Latest(message.trim().to_string()))
    };
    let network = req
        .operator
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty());
    Ok(UssdCallback::Hop(UssdRequest {
        session_id,
        msisdn,
        service_code,
        input,
        sequence: sequence(req.sequence.as_ref())?,
        network,
    }))
}

/// `Sequence` as a number or a numeric string; absent or null is no sequence.
fn sequence(raw: Option<&serde_json::Value>) -> Result<Option<u64>, AdapterError> {
    use serde_json::Value;
    let parsed = match raw {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    parsed.map(Some).ok_or_else(|| {
        let shown = raw.map(|v| v.to_string()).unwrap_or_default();
        AdapterError::bad_value("Sequence", &shown)
    })
}

pub fn render_ussd(reply: &UssdReply) -> Response {
    let kind = match reply {
        UssdReply::Continue(_) => "Response",
        UssdReply::End(_) => "Release",
    };
    Json(Reply {
        kind,
        message: reply.text(),
        client_state: "",
    })
    .into_response()
}

/// A Release with no text: the dialogue is already over on the telco's side.
pub fn render_ended_ack() -> Response {
    Json(Reply {
        kind: "Release",
        message: "",
        client_state: "",
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msisdn::MsisdnError;
    use crate::telcos::tests::{wire, with_content_type};
    use crate::telcos::MAX_BODY_BYTES;
    use axum::http::StatusCode;
    use serde_json::json;

    fn hop(service_code: &str, input: UssdInput) -> UssdCallback {
        hop_numbered(service_code, input, Some(2))
    }

    fn hop_numbered(service_code: &str, input: UssdInput, sequence: Option<u64>) -> UssdCallback {
        UssdCallback::Hop(UssdRequest {
            session_id: "h-1".into(),
            msisdn: Msisdn::parse("255754123456", "255").unwrap(),
            service_code: service_code.into(),
            input,
            sequence,
            network: Some("vodacom".into()),
        })
    }

    fn ended(signal: SessionEndSignal, with_number: bool) -> UssdCallback {
        let msisdn = with_number.then(|| Msisdn::parse("255754123456", "255").unwrap());
        UssdCallback::Ended {
            session_id: "h-1".into(),
            msisdn,
            signal,
        }
    }

    /// A well-formed request of the given type, with fields overridden or removed (null).
    fn request(kind: &str, message: &str, overrides: serde_json::Value) -> Vec<u8> {
        let mut body = json!({
            "Type": kind, "Mobile": "0754123456", "SessionId": "h-1", "ServiceCode": "152",
            "Message": message, "Operator": "vodacom", "Sequence": 2, "ClientState": "",
        });
        for (k, v) in overrides.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        serde_json::to_vec(&body).unwrap()
    }

    #[test]
    fn wire_input_to_parse() {
        let none = json!({});
        let latest = |m: &str| UssdInput::Latest(m.into());
        #[rustfmt::skip]
        let cases: Vec<(&str, Vec<u8>, Result<UssdCallback, AdapterError>)> = vec![
            ("initiation", request("Initiation", "*152*00#", none.clone()), Ok(hop("*152*00#", UssdInput::Dial))),
            ("direct dial", request("Initiation", "*152*00*1*2#", none.clone()), Ok(hop("*152*00*1*2#", UssdInput::Dial))),
            ("initiation, blank message", request("Initiation", "", none.clone()), Ok(hop("*152#", UssdInput::Dial))),
            ("response", request("Response", "2", none.clone()), Ok(hop("*152#", latest("2")))),
            ("input with star", request("Response", "12*34", none.clone()), Ok(hop("*152#", latest("12*34")))),
            ("empty answer", request("Response", "", none.clone()), Ok(hop("*152#", latest("")))),
            ("international number", request("Response", "1", json!({"Mobile": "+255754123456"})), Ok(hop("*152#", latest("1")))),
            ("sequence as text", request("Response", "1", json!({"Sequence": "7"})), Ok(hop_numbered("*152#", latest("1"), Some(7)))),
            ("no sequence", request("Response", "1", json!({"Sequence": null})), Ok(hop_numbered("*152#", latest("1"), None))),
            ("bad sequence", request("Response", "1", json!({"Sequence": "x"})), Err(AdapterError::bad_value("Sequence", "\"x\""))),
            ("negative sequence", request("Response", "1", json!({"Sequence": -1})), Err(AdapterError::bad_value("Sequence", "-1"))),
            ("release", request("Release", "", none.clone()), Ok(ended(SessionEndSignal::UserCancelled, true))),
            ("timeout, no number", request("Timeout", "", json!({"Mobile": null})), Ok(ended(SessionEndSignal::Timeout, false))),
            ("unknown type", request("Hangup", "", none.clone()), Err(AdapterError::bad_value("Type", "Hangup"))),
            ("no type", request("", "1", json!({"Type": null})), Err(AdapterError::MissingField("Type"))),
            ("no session", request("Response", "1", json!({"SessionId": null})), Err(AdapterError::MissingField("SessionId"))),
            ("no mobile", request("Response", "1", json!({"Mobile": ""})), Err(AdapterError::MissingField("Mobile"))),
            ("no message", request("Response", "1", json!({"Message": null})), Err(AdapterError::MissingField("Message"))),
            ("no code", request("Response", "1", json!({"ServiceCode": null})), Err(AdapterError::MissingField("ServiceCode"))),
            ("bad dial", request("Initiation", "hello", none.clone()), Err(AdapterError::bad_value("Message", "hello"))),
            ("bad phone", request("Response", "1", json!({"Mobile": "07541234x6"})), Err(MsisdnError::NotDigits.into())),
            ("short phone", request("Response", "1", json!({"Mobile": "+12"})), Err(MsisdnError::BadLength(2).into())),
        ];
        for (name, body, want) in cases {
            let headers = with_content_type("application/json; charset=utf-8");
            assert_eq!(parse_ussd(&headers, &body, "255"), want, "{name}");
        }
    }

    #[test]
    fn malformed_requests_are_refused() {
        let json_type = with_content_type(CONTENT_TYPE);
        for body in [&b"{"[..], b"[]", b"\xff", b"", br#"{"Type": 3}"#] {
            let got = parse_ussd(&json_type, body, "255");
            assert!(
                matches!(got, Err(AdapterError::Unparseable(_))),
                "{body:?}: {got:?}"
            );
        }
        // A number sent as a JSON number must not be echoed into the error.
        let got = parse_ussd(&json_type, br#"{"Mobile": 255754123456}"#, "255").unwrap_err();
        assert!(!got.to_string().contains("255754123456"), "{got}");
        let form = with_content_type("application/x-www-form-urlencoded");
        let body = request("Response", "1", json!({}));
        assert!(matches!(
            parse_ussd(&form, &body, "255"),
            Err(AdapterError::BadContentType { .. })
        ));
        let huge = request("Response", &"1".repeat(MAX_BODY_BYTES), json!({}));
        assert!(matches!(
            parse_ussd(&json_type, &huge, "255"),
            Err(AdapterError::BodyTooLarge(_))
        ));
    }

    #[tokio::test]
    async fn reply_to_wire_output() {
        let cases = [
            (
                render_ussd(&UssdReply::Continue("Karibu\n1. Maji".into())),
                json!({"Type": "Response", "Message": "Karibu\n1. Maji", "ClientState": ""}),
            ),
            (
                render_ussd(&UssdReply::End("Asante".into())),
                json!({"Type": "Release", "Message": "Asante", "ClientState": ""}),
            ),
            (
                render_ended_ack(),
                json!({"Type": "Release", "Message": "", "ClientState": ""}),
            ),
        ];
        for (response, want) in cases {
            let (status, content_type, body) = wire(response).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(content_type.as_deref(), Some("application/json"));
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&body).unwrap(),
                want
            );
        }
    }
}
