//! Telcos and aggregators: their records, how their callbacks are authenticated, and one
//! adapter per wire format. Nothing outside this folder knows which format a telco speaks.

pub mod africastalking;
pub mod auth;
pub mod hubtel;
pub mod kannel;
#[cfg(test)]
mod round_trip;
mod sms;
pub mod store;

pub use sms::{describe_transport_error, SmsLink, DEFAULT_SMS_PARTS_PER_SECOND};

use crate::ids::TelcoId;
use crate::msisdn::MsisdnError;
use crate::ussd::request::{UssdCallback, UssdReply};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// The wire formats the gateway speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireFormat {
    /// Africa's Talking: form-encoded, cumulative `text`, `CON`/`END` replies.
    AfricasTalking,
    /// Hubtel-style JSON: latest input only, `Initiation`/`Response`/`Release`/`Timeout`.
    Hubtel,
    /// Kannel's smsbox, for operators whose SMPP links run through it: SMS only.
    Kannel,
}

impl WireFormat {
    pub fn as_str(&self) -> &'static str {
        match self {
            WireFormat::AfricasTalking => "africastalking",
            WireFormat::Hubtel => "hubtel",
            WireFormat::Kannel => "kannel",
        }
    }

    /// Whether telcos of this format carry USSD dialogues.
    pub fn carries_ussd(self) -> bool {
        !matches!(self, WireFormat::Kannel)
    }

    /// Whether the gateway can send SMS through telcos of this format.
    pub fn carries_sms(self) -> bool {
        !matches!(self, WireFormat::Hubtel)
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "africastalking" => Some(WireFormat::AfricasTalking),
            "hubtel" => Some(WireFormat::Hubtel),
            "kannel" => Some(WireFormat::Kannel),
            _ => None,
        }
    }
}

/// Callback credentials: HTTP Basic with a gateway-generated secret, stored as its
/// SHA-256 (the secret is 32 random bytes, so a slow hash adds nothing but latency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelcoCredentials {
    pub username: String,
    pub secret_sha256: String,
}

/// One telco or aggregator connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telco {
    pub id: TelcoId,
    pub wire_format: WireFormat,
    /// `None` only for the embedded default's loopback demo telcos.
    pub credentials: Option<TelcoCredentials>,
    /// Source networks allowed to call; empty means any (then `credentials` must be set:
    /// see [`auth::authenticate`]).
    pub allowed_networks: Vec<ipnet::IpNet>,
    /// Characters one screen can hold on this telco (182 by default, some 160).
    pub screen_limit: usize,
    /// Hops per second this telco may send one gateway node; past it hops get the "too
    /// fast" screen, so that one telco's flood cannot starve the others.
    pub max_hops_per_second: NonZeroU32,
    /// How the gateway sends SMS through this telco; `None` when it does not.
    pub sms: Option<SmsLink>,
}

/// The hop ceiling of a telco registered without one (and of telcos registered before
/// telcos had their own).
pub const DEFAULT_MAX_HOPS_PER_SECOND: NonZeroU32 = NonZeroU32::new(50_000).unwrap();

impl WireFormat {
    /// Parses one USSD callback (a hop or an end-of-session notice) in this format.
    pub fn parse_ussd(
        self,
        headers: &HeaderMap,
        body: &[u8],
        default_country: &str,
    ) -> Result<UssdCallback, AdapterError> {
        match self {
            WireFormat::AfricasTalking => {
                africastalking::ussd::parse_ussd(headers, body, default_country)
            }
            WireFormat::Hubtel => hubtel::ussd::parse_ussd(headers, body, default_country),
            WireFormat::Kannel => Err(AdapterError::NotUssd(self.as_str())),
        }
    }

    /// Answers a hop with a screen in this format.
    pub fn render_ussd(self, reply: &UssdReply) -> Response {
        match self {
            WireFormat::AfricasTalking => africastalking::ussd::render_ussd(reply),
            WireFormat::Hubtel | WireFormat::Kannel => hubtel::ussd::render_ussd(reply),
        }
    }

    /// Acknowledges an end-of-session notice in this format.
    pub fn render_ended_ack(self) -> Response {
        match self {
            WireFormat::AfricasTalking => africastalking::ussd::render_ended_ack(),
            WireFormat::Hubtel | WireFormat::Kannel => hubtel::ussd::render_ended_ack(),
        }
    }
}

/// Largest callback body an adapter parses; real hops are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

/// Why a telco's callback could not be understood. Every variant is the telco's fault, so
/// the caller answers with [`AdapterError::status`] and the message, never a 5xx.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdapterError {
    #[error("body is {0} bytes; at most {MAX_BODY_BYTES} are accepted")]
    BodyTooLarge(usize),
    #[error("content type must be {expected}, got {got:?}")]
    BadContentType { expected: &'static str, got: String },
    #[error("body could not be parsed: {0}")]
    Unparseable(String),
    #[error("required field {0} is missing or empty")]
    MissingField(&'static str),
    #[error("field {field} has an unexpected value {value:?}")]
    BadValue { field: &'static str, value: String },
    #[error("bad phone number: {0}")]
    BadMsisdn(#[from] MsisdnError),
    #[error("this telco speaks {0}, which carries no USSD")]
    NotUssd(&'static str),
    #[error("this telco speaks {0}, which carries no SMS")]
    NotSms(&'static str),
    #[error("the report's signature does not match")]
    BadSignature,
}

impl AdapterError {
    pub fn status(&self) -> StatusCode {
        match self {
            AdapterError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AdapterError::BadContentType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AdapterError::BadSignature => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// A short machine-readable code for the `{ "error": code }` body.
    pub fn code(&self) -> &'static str {
        match self {
            AdapterError::BodyTooLarge(_) => "body_too_large",
            AdapterError::BadContentType { .. } => "bad_content_type",
            AdapterError::Unparseable(_) => "unparseable_body",
            AdapterError::MissingField(_) => "missing_field",
            AdapterError::BadValue { .. } => "bad_value",
            AdapterError::BadMsisdn(_) => "bad_msisdn",
            AdapterError::NotUssd(_) => "not_ussd",
            AdapterError::NotSms(_) => "not_sms",
            AdapterError::BadSignature => "bad_signature",
        }
    }

    pub(crate) fn bad_value(field: &'static str, value: &str) -> Self {
        // Echoed back in a 400 and in logs: keep it short.
        AdapterError::BadValue {
            field,
            value: value.chars().take(40).collect(),
        }
    }
}

/// Checks the size and media type (parameters such as `charset` ignored) before parsing.
pub(crate) fn check_body(
    headers: &HeaderMap,
    body: &[u8],
    expected: &'static str,
) -> Result<(), AdapterError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(AdapterError::BodyTooLarge(body.len()));
    }
    let got = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = got.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case(expected) {
        let got = got.chars().take(60).collect();
        return Err(AdapterError::BadContentType { expected, got });
    }
    Ok(())
}

/// A field that must be present and not blank.
pub(crate) fn required<'a>(
    value: &'a Option<String>,
    field: &'static str,
) -> Result<&'a str, AdapterError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(AdapterError::MissingField(field)),
    }
}

/// Brings `*152*00#`, `152*00` and ` *152*00# ` to `*152*00#`; anything with other
/// characters, or a `#` inside, is refused rather than guessed at.
pub(crate) fn normalise_service_code(
    raw: &str,
    field: &'static str,
) -> Result<String, AdapterError> {
    let trimmed = raw.trim();
    let code = trimmed.strip_prefix('*').unwrap_or(trimmed);
    let code = code.strip_suffix('#').unwrap_or(code);
    let well_formed = !code.is_empty()
        && code.bytes().all(|b| b.is_ascii_digit() || b == b'*')
        && !code.starts_with('*')
        && !code.ends_with('*');
    if !well_formed {
        return Err(AdapterError::bad_value(field, raw));
    }
    Ok(format!("*{code}#"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Headers with just a content type, as a telco would send them.
    pub(super) fn with_content_type(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        headers
    }

    /// What goes on the wire: status, content type and body.
    pub(super) async fn wire(response: Response) -> (StatusCode, Option<String>, String) {
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string());
        let body = axum::body::to_bytes(response.into_body(), MAX_BODY_BYTES)
            .await
            .unwrap();
        (
            status,
            content_type,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[test]
    fn service_codes_are_normalised() {
        for (raw, want) in [
            ("*152*00#", Some("*152*00#")),
            ("152*00", Some("*152*00#")),
            (" *152*00*1*2# ", Some("*152*00*1*2#")),
            ("713", Some("*713#")),
            ("", None),
            ("*#", None),
            ("*152#00#", None),
            ("*152*ab#", None),
            ("*152**#", None),
        ] {
            assert_eq!(
                normalise_service_code(raw, "serviceCode").ok().as_deref(),
                want,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn body_checks_ignore_charset_but_not_media_type() {
        let headers = with_content_type("Application/JSON; charset=utf-8");
        assert_eq!(check_body(&headers, b"{}", "application/json"), Ok(()));
        assert!(matches!(
            check_body(&headers, b"{}", "application/x-www-form-urlencoded"),
            Err(AdapterError::BadContentType { .. })
        ));
        assert_eq!(
            check_body(&headers, &[b' '; MAX_BODY_BYTES + 1], "application/json"),
            Err(AdapterError::BodyTooLarge(MAX_BODY_BYTES + 1))
        );
        assert!(matches!(
            check_body(&HeaderMap::new(), b"{}", "application/json"),
            Err(AdapterError::BadContentType { .. })
        ));
    }
}
