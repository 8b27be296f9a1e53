//! What the SMS channel hands a telco adapter and gets back from it: one message to send,
//! how the send went, and a delivery report read from the telco's own words.

use super::message::{MessageId, ReportedStatus};
use crate::msisdn::Msisdn;

/// One message (one recipient) as an adapter sends it.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingSms<'a> {
    pub id: &'a MessageId,
    pub to: &'a Msisdn,
    /// An alphanumeric sender id registered for the agency; the telco's default otherwise.
    pub from: Option<&'a str>,
    pub text: &'a str,
    /// Whether the text needs UCS-2 (some send APIs must be told).
    pub unicode: bool,
    /// Where the telco calls back with reports for this message, for formats that take it
    /// per message (Kannel's `dlr-url`).
    pub report_url: &'a str,
}

/// The telco took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The telco's id for it, which its reports quote; `None` for formats whose reports
    /// carry our id instead.
    pub telco_message_id: Option<String>,
}

/// Why a send did not go through, and whether to try again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The telco asks us to slow down (throttled, queue full): retried, and the telco is
    /// given a rest.
    #[error("telco throttled the send: {0}")]
    Throttled(String),
    /// A failure that may pass (network, 5xx, the telco's own outage, wrong credentials an
    /// operator can fix): retried with back-off until the message's validity ends.
    #[error("send failed, will retry: {0}")]
    Transient(String),
    /// The telco refused this message for good (invalid number, blacklisted, bad sender).
    #[error("telco refused the message: {0}")]
    Refused(String),
}

impl SendError {
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SendError::Refused(_))
    }
}

/// Which message a report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportFor {
    /// Our id, put in the report URL when the message was sent (Kannel).
    Ours(MessageId),
    /// The telco's id, returned by the send call (Africa's Talking).
    Telco(String),
}

/// One delivery report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub message: ReportFor,
    pub status: ReportedStatus,
    /// The telco's own words (`Success`, `AbsentSubscriber`, `type 16`), kept in the history.
    pub detail: String,
}

/// One incoming SMS (MO) as a telco delivered it. Kept as given: a sender that is no phone
/// number or an odd text is the router's to judge (and record), never a refusal to the telco.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingSms {
    /// The telco's id for it; a second delivery of the same id is the same message.
    pub telco_message_id: String,
    pub from: String,
    /// The shortcode it was sent to (`15200`).
    pub to: String,
    pub text: String,
    /// Africa's Talking's `linkId`, which a reply to it may quote.
    pub link_id: Option<String>,
}
