//! The gateway's own view of a USSD hop, whatever wire format carried it.

use crate::ids::TelcoId;
use crate::msisdn::Msisdn;

/// One hop as an adapter parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UssdRequest {
    /// The telco's session id, unique within that telco.
    pub session_id: String,
    pub msisdn: Msisdn,
    /// What the citizen dialled, normalised to `*152*00#` form; may carry direct-dial
    /// suffixes (`*152*00*1*2#`) that the gateway turns into inputs.
    pub service_code: String,
    pub input: UssdInput,
    /// The telco's count of this hop within the dialogue, when its format has one
    /// (Hubtel's `Sequence`): it tells a repeated or late hop from a new one.
    pub sequence: Option<u64>,
    /// The mobile network the telco reports (`63902`), when it does.
    pub network: Option<String>,
}

/// How a telco reports what the citizen typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UssdInput {
    /// The first hop: nothing typed yet beyond the dial string.
    Dial,
    /// Only the latest input (Hubtel-style).
    Latest(String),
    /// Every input so far joined by `*` (Africa's Talking). The gateway compares it with
    /// what the session already consumed to find the new input.
    Cumulative(String),
}

/// What the gateway tells the telco.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UssdReply {
    /// Show the screen and wait for input.
    Continue(String),
    /// Show the screen and end the dialogue.
    End(String),
}

impl UssdReply {
    pub fn text(&self) -> &str {
        match self {
            UssdReply::Continue(t) | UssdReply::End(t) => t,
        }
    }
}

/// Why a telco says a dialogue is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEndSignal {
    /// The citizen hung up or cancelled.
    UserCancelled,
    /// The telco's own timer ran out.
    Timeout,
    /// The telco's final report of a dialogue (Africa's Talking's notification).
    Completed,
    /// The telco reports the dialogue failed on its side.
    Failed,
}

/// A parsed callback: a hop to answer, or a notice that a dialogue ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UssdCallback {
    Hop(UssdRequest),
    Ended {
        session_id: String,
        msisdn: Option<Msisdn>,
        signal: SessionEndSignal,
    },
}

/// A telco's session id scoped to the telco, the key sessions are stored under.
pub fn session_key(telco: &TelcoId, telco_session_id: &str) -> String {
    format!("{telco}:{telco_session_id}")
}
