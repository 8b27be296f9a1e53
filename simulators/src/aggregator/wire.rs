//! The platform's requests and replies: a dialogue's next hop and end notice in the
//! settings' format, posting them, and reading the gateway's answer. What goes on the wire
//! for each format is `mgov_wire`'s; this module says which of the dialogue's facts fill it.

use std::fmt;

use mgov_wire::africastalking::{self, Status};
use mgov_wire::hubtel::{self, End};
pub use mgov_wire::{Body, Screen};

use super::dialogue::Dialogue;
use super::{Format, Settings};

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

/// What each format sends when a dialogue ends: `(cause, Africa's Talking status, Hubtel end)`;
/// `None` sends nothing. Hubtel has no signal for a dialogue the gateway ended or that failed.
const END_SIGNALS: &[(EndCause, Option<Status>, Option<End>)] = &[
    (EndCause::Gateway, Some(Status::Success), None),
    (
        EndCause::Hangup,
        Some(Status::Incomplete),
        Some(End::Release),
    ),
    (EndCause::Idle, Some(Status::Incomplete), Some(End::Timeout)),
    (EndCause::Failure, Some(Status::Failed), None),
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
        Format::AfricasTalking => africastalking::hop(
            &africastalking_session(settings, dialogue),
            &dialogue.cumulative_text(),
        ),
        Format::Hubtel => hubtel::hop(
            &hubtel_session(settings, dialogue),
            &dialogue.dialled,
            dialogue.latest(),
            hubtel_sequence(dialogue),
        ),
    }
}

/// The end-of-session notice for `ending`, or `None` where the format sends nothing.
pub(crate) fn end_notice(
    settings: &Settings,
    dialogue: &Dialogue,
    ending: &Ending,
) -> Option<Body> {
    let (_, status, end) = END_SIGNALS
        .iter()
        .find(|(cause, _, _)| *cause == ending.cause)
        .expect("every cause is in the table");
    match settings.format {
        Format::AfricasTalking => {
            let ending = africastalking::Ending {
                status: (*status)?,
                cost: "TZS 0.00",
                date: &ending.date,
                input: &dialogue.cumulative_text(),
                hops_count: dialogue.hops,
                error_message: ending.error.unwrap_or_default(),
                last_app_response: &dialogue.last_reply,
                duration_ms: ending.duration_ms,
            };
            let session = africastalking_session(settings, dialogue);
            Some(africastalking::end_notice(&session, &ending))
        }
        Format::Hubtel => {
            let session = hubtel_session(settings, dialogue);
            Some(hubtel::end_notice(
                &session,
                (*end)?,
                hubtel_sequence(dialogue),
            ))
        }
    }
}

fn africastalking_session<'a>(
    settings: &'a Settings,
    dialogue: &'a Dialogue,
) -> africastalking::Session<'a> {
    africastalking::Session {
        session_id: &dialogue.session_id,
        service_code: &dialogue.service_code,
        msisdn: &dialogue.msisdn,
        network_code: &settings.network_code,
    }
}

fn hubtel_session<'a>(settings: &'a Settings, dialogue: &'a Dialogue) -> hubtel::Session<'a> {
    hubtel::Session {
        session_id: &dialogue.session_id,
        mobile: &dialogue.msisdn,
        service_code: &dialogue.service_code,
        operator: &settings.operator,
        client_state: &dialogue.client_state,
    }
}

/// Hubtel numbers every request: the next one follows the hops already sent.
fn hubtel_sequence(dialogue: &Dialogue) -> u64 {
    u64::from(dialogue.hops) + 1
}

/// Reads the gateway's answer: a 2xx with `CON`/`END` (Africa's Talking) or the JSON reply
/// (Hubtel). Anything else ends the session, as the real platforms do.
pub fn parse_reply(format: Format, status: u16, body: &str) -> Result<Screen, HopError> {
    if !(200..300).contains(&status) {
        return Err(HopError::Status(status));
    }
    mgov_wire::read_reply(format, body).map_err(|e| HopError::BadReply(e.to_string()))
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
