//! The two wire formats of `docs/telcos.md` as an aggregator speaks them: the hop it posts
//! for each handset action, the end-of-session notice, and how it reads the gateway's reply.
//! Pure functions of the dialogue, so every field is unit-tested.

use std::fmt;

use serde_json::{json, Value};

use super::dialogue::Dialogue;
use super::{Format, Settings};

/// A request body for the gateway's callback.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// `application/x-www-form-urlencoded` (Africa's Talking).
    Form(Vec<(&'static str, String)>),
    /// `application/json` (Hubtel).
    Json(Value),
}

/// A reply as the gateway sent it: its status and its body, to compare byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Raw {
    pub status: u16,
    pub body: String,
}

/// Posts `body` to the gateway's callback `url`, with HTTP Basic `credentials` (user name,
/// secret) when given, and returns the reply whatever its status. Errors are requests that
/// got no reply.
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    credentials: Option<(&str, Option<&str>)>,
    body: &Body,
) -> Result<Raw, reqwest::Error> {
    let mut request = http.post(url);
    if let Some((username, secret)) = credentials {
        request = request.basic_auth(username, secret);
    }
    request = match body {
        Body::Form(fields) => request.form(fields),
        Body::Json(value) => request.json(value),
    };
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.text().await?;
    Ok(Raw { status, body })
}

/// Why a dialogue ended, as far as the platform's end signals care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndCause {
    /// The gateway answered `END` / `Release`.
    Gateway,
    /// The citizen hung up (or dialled again).
    Hangup,
    /// The citizen left a screen unanswered for the idle timeout.
    Idle,
    /// The hop failed: dropped, timed out, refused or unreadable.
    Failure,
}

/// What each format sends when a dialogue ends: `(cause, Africa's Talking status, Hubtel Type)`;
/// `None` sends nothing. Hubtel has no signal for a dialogue the gateway ended or that failed.
const END_SIGNALS: &[(EndCause, Option<&str>, Option<&str>)] = &[
    (EndCause::Gateway, Some("Success"), None),
    (EndCause::Hangup, Some("Incomplete"), Some("Release")),
    (EndCause::Idle, Some("Incomplete"), Some("Timeout")),
    (EndCause::Failure, Some("Failed"), None),
];

/// The facts of an ending that the dialogue does not hold.
#[derive(Clone, Debug)]
pub(crate) struct Ending<'a> {
    pub(crate) cause: EndCause,
    pub(crate) error: Option<&'a str>,
    pub(crate) duration_ms: u128,
    /// Africa's Talking's `date`, `YYYY-MM-DD hh:mm:ss`.
    pub(crate) date: String,
}

/// A screen the gateway sent back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Screen {
    pub text: String,
    pub ends: bool,
    /// Hubtel's `ClientState`, to echo on the next request.
    pub client_state: String,
}

/// Why a hop produced no screen. The handset sees the session end in every case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HopError {
    /// The simulated network lost the reply (`drop_rate`).
    Dropped,
    /// No reply within `reply_timeout`.
    Timeout,
    /// The gateway could not be reached, or the connection broke.
    Unreachable(String),
    /// The gateway answered with a non-2xx status.
    Status(u16),
    /// A 2xx whose body is not a reply of the format (no `CON`/`END`, not the JSON shape).
    BadReply(String),
}

impl HopError {
    /// A short stable name, for the handset answer.
    pub fn kind(&self) -> &'static str {
        match self {
            HopError::Dropped => "dropped",
            HopError::Timeout => "reply_timeout",
            HopError::Unreachable(_) => "unreachable",
            HopError::Status(_) => "gateway_status",
            HopError::BadReply(_) => "bad_reply",
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            HopError::Status(status) => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for HopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HopError::Dropped => f.write_str("the reply was lost on the network"),
            HopError::Timeout => f.write_str("the gateway did not reply in time"),
            HopError::Unreachable(why) => write!(f, "the gateway cannot be reached: {why}"),
            HopError::Status(status) => write!(f, "the gateway answered HTTP {status}"),
            HopError::BadReply(why) => write!(f, "the gateway's reply is unreadable: {why}"),
        }
    }
}

impl std::error::Error for HopError {}

/// The request for the dialogue's next hop: the dial when nothing is typed yet, otherwise the
/// latest input. Sends the dialogue as it stands; the caller counts the hop afterwards
/// ([`Dialogue::answered`]).
pub fn hop(settings: &Settings, dialogue: &Dialogue) -> Body {
    match settings.format {
        Format::AfricasTalking => Body::Form(vec![
            ("sessionId", dialogue.session_id.clone()),
            ("serviceCode", dialogue.service_code.clone()),
            ("phoneNumber", format!("+{}", dialogue.msisdn)),
            ("networkCode", settings.network_code.clone()),
            ("text", dialogue.cumulative_text()),
        ]),
        Format::Hubtel => {
            let (kind, message) = match dialogue.latest() {
                None => ("Initiation", dialogue.dialled.as_str()),
                Some(input) => ("Response", input),
            };
            hubtel(settings, dialogue, kind, message)
        }
    }
}

/// The end-of-session notice for `ending`, or `None` where the format sends nothing.
pub(crate) fn end_notice(
    settings: &Settings,
    dialogue: &Dialogue,
    ending: &Ending,
) -> Option<Body> {
    let (_, status, kind) = END_SIGNALS
        .iter()
        .find(|(cause, _, _)| *cause == ending.cause)
        .expect("every cause is in the table");
    match settings.format {
        Format::AfricasTalking => Some(Body::Form(vec![
            ("sessionId", dialogue.session_id.clone()),
            ("serviceCode", dialogue.service_code.clone()),
            ("networkCode", settings.network_code.clone()),
            ("phoneNumber", format!("+{}", dialogue.msisdn)),
            ("status", (*status)?.to_owned()),
            ("cost", "TZS 0.00".to_owned()),
            ("date", ending.date.clone()),
            ("input", dialogue.cumulative_text()),
            ("hopsCount", dialogue.hops.to_string()),
            ("errorMessage", ending.error.unwrap_or_default().to_owned()),
            ("lastAppResponse", dialogue.last_reply.clone()),
            ("durationInMillis", ending.duration_ms.to_string()),
        ])),
        Format::Hubtel => Some(hubtel(settings, dialogue, (*kind)?, "")),
    }
}

fn hubtel(settings: &Settings, dialogue: &Dialogue, kind: &str, message: &str) -> Body {
    Body::Json(json!({
        "Type": kind,
        "Mobile": dialogue.msisdn,
        "SessionId": dialogue.session_id,
        "ServiceCode": dialogue.service_code,
        "Message": message,
        "Operator": settings.operator,
        "Sequence": dialogue.hops + 1,
        "ClientState": dialogue.client_state,
    }))
}

/// Reads the gateway's answer: a 2xx with `CON`/`END` (Africa's Talking) or the JSON reply
/// (Hubtel). Anything else ends the session, as the real platforms do.
pub fn parse_reply(format: Format, status: u16, body: &str) -> Result<Screen, HopError> {
    if !(200..300).contains(&status) {
        return Err(HopError::Status(status));
    }
    match format {
        Format::AfricasTalking => {
            let (keyword, text) = body.split_once(' ').unwrap_or((body, ""));
            let ends = match keyword {
                "CON" => false,
                "END" => true,
                _ => return Err(HopError::BadReply("neither CON nor END".to_owned())),
            };
            Ok(Screen {
                text: text.to_owned(),
                ends,
                client_state: String::new(),
            })
        }
        Format::Hubtel => {
            let reply: Value = serde_json::from_str(body)
                .map_err(|_| HopError::BadReply("not JSON".to_owned()))?;
            let ends = match reply["Type"].as_str() {
                Some(kind) if kind.eq_ignore_ascii_case("Response") => false,
                Some(kind) if kind.eq_ignore_ascii_case("Release") => true,
                _ => {
                    return Err(HopError::BadReply(
                        "Type is neither Response nor Release".to_owned(),
                    ))
                }
            };
            let text = |field: &str| reply[field].as_str().unwrap_or_default().to_owned();
            Ok(Screen {
                text: text("Message"),
                ends,
                client_state: text("ClientState"),
            })
        }
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
