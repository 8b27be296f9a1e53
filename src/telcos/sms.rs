//! The SMS side of the adapter boundary: how a telco takes outgoing SMS ([`SmsLink`]), and the
//! per-format send call and delivery-report parser behind [`WireFormat`].

use super::{africastalking, kannel, AdapterError, WireFormat};
use crate::sms::channel::{Accepted, DeliveryReport, IncomingSms, OutgoingSms, SendError};
use axum::http::HeaderMap;
use std::fmt;
use std::num::NonZeroU32;

/// The send rate of a telco registered without one: a cautious figure most aggregators
/// allow a new account.
pub const DEFAULT_SMS_PARTS_PER_SECOND: NonZeroU32 = NonZeroU32::new(50).unwrap();

/// How the gateway sends SMS through one telco.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsLink {
    /// The send API: Africa's Talking's `.../version1/messaging`, Kannel's `.../cgi-bin/sendsms`.
    pub url: String,
    /// Africa's Talking's `username`, Kannel's sendsms user.
    pub username: String,
    /// Africa's Talking's `apiKey`, Kannel's sendsms password. Kept as given (the gateway
    /// presents it); never printed.
    pub secret: String,
    /// Parts per second the telco accepts from the whole gateway.
    pub parts_per_second: NonZeroU32,
    /// Number prefixes (E.164 digits, `25574`) this telco is the default route for.
    pub prefixes: Vec<String>,
    /// Takes new numbers no telco's prefixes claim.
    pub default_route: bool,
}

impl SmsLink {
    /// How many digits of `msisdn` a prefix of this telco claims (0: none).
    pub fn claims(&self, msisdn: &str) -> usize {
        self.prefixes
            .iter()
            .filter(|p| msisdn.starts_with(p.as_str()))
            .map(|p| p.len())
            .max()
            .unwrap_or(0)
    }
}

// By hand, so that logging a telco does not log its send secret.
impl fmt::Debug for SmsLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsLink")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("parts_per_second", &self.parts_per_second)
            .field("prefixes", &self.prefixes)
            .field("default_route", &self.default_route)
            .finish()
    }
}

impl WireFormat {
    /// Sends one message through `link` in this format.
    pub async fn send_sms(
        self,
        http: &reqwest::Client,
        link: &SmsLink,
        sms: OutgoingSms<'_>,
    ) -> Result<Accepted, SendError> {
        match self {
            WireFormat::AfricasTalking => africastalking::sms::send(http, link, sms).await,
            WireFormat::Kannel => kannel::sms::send(http, link, sms).await,
            WireFormat::Hubtel => Err(SendError::Refused(
                "telcos of the hubtel format carry no SMS".into(),
            )),
        }
    }

    /// Reads one delivery report: a form post (Africa's Talking) or a query string
    /// (Kannel's `dlr-url`, called with GET). `link` checks Kannel's per-message signature.
    pub fn parse_report(
        self,
        link: Option<&SmsLink>,
        headers: &HeaderMap,
        query: &str,
        body: &[u8],
    ) -> Result<DeliveryReport, AdapterError> {
        match self {
            WireFormat::AfricasTalking => africastalking::sms::parse_report(headers, body),
            WireFormat::Kannel => kannel::sms::parse_report(link, query),
            WireFormat::Hubtel => Err(AdapterError::NotSms(self.as_str())),
        }
    }

    /// Reads one incoming SMS: a form post (Africa's Talking) or a query string (Kannel's
    /// `get-url`, called with GET).
    pub fn parse_inbound(
        self,
        headers: &HeaderMap,
        query: &str,
        body: &[u8],
    ) -> Result<IncomingSms, AdapterError> {
        match self {
            WireFormat::AfricasTalking => africastalking::inbound::parse_inbound(headers, body),
            WireFormat::Kannel => kannel::inbound::parse_inbound(query),
            WireFormat::Hubtel => Err(AdapterError::NotSms(self.as_str())),
        }
    }

    /// The report URL to give the telco for one message, for formats that take one per
    /// message; `base` is the gateway's `/sms/{telco}/dlr` URL.
    pub fn report_url(
        self,
        base: &str,
        link: &SmsLink,
        id: &crate::sms::message::MessageId,
    ) -> String {
        match self {
            WireFormat::Kannel => kannel::sms::report_url(base, link, id),
            _ => base.to_string(),
        }
    }
}

/// Shortens a telco's answer for the history and logs.
pub(crate) fn excerpt(text: &str) -> String {
    let text = text.trim();
    let mut short: String = text.chars().take(120).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// Sorts a transport-level failure (no HTTP answer) as one to retry.
pub(crate) fn transport_error(e: reqwest::Error) -> SendError {
    SendError::Transient(describe_transport_error(&e))
}

/// A short account of an HTTP call that got no answer.
pub fn describe_transport_error(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    format!("{what}: {}", excerpt(&e.to_string()))
}
