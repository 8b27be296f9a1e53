//! What an outgoing message is: its id, where it is in its life, and what a telco said of it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Our id of one outgoing message (one recipient), `msg_` and a ULID, so that ids sort by
/// the time they were accepted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(String);

impl MessageId {
    pub fn generate() -> Self {
        Self(format!("msg_{}", ulid::Ulid::new()))
    }

    /// An id as an agency or a telco sent it back: `None` unless it has our shape.
    pub fn parse(raw: &str) -> Option<Self> {
        let ulid = raw.strip_prefix("msg_")?;
        ulid::Ulid::from_string(ulid).ok()?;
        Some(Self(raw.to_string()))
    }

    pub(crate) fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a message is. `Delivered`, `Failed`, `Expired` and `Cancelled` are final: nothing moves a
/// message out of them, so a late or repeated report changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Accepted and waiting for a dispatcher (also between retries).
    Queued,
    /// Claimed by a dispatcher that is talking to the telco now.
    Sending,
    /// The telco took it; its delivery report is awaited.
    Sent,
    Delivered,
    Failed,
    Expired,
    /// Never sent: its broadcast was cancelled, or its recipient opted out (STOP).
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Queued,
        Status::Sending,
        Status::Sent,
        Status::Delivered,
        Status::Failed,
        Status::Expired,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Expired => "expired",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Delivered | Status::Failed | Status::Expired | Status::Cancelled
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message is sent. STOP holds back the messages a citizen did not ask for
/// ([`Purpose::heeds_opt_out`]); the others answer something the citizen did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// An agency's own send through `POST /v1/messages`.
    Direct,
    /// An answer to a citizen's incoming message.
    Reply,
    /// One subscriber's copy of a broadcast to a topic.
    Broadcast {
        broadcast_id: String,
        topic_id: String,
    },
    /// An agency's notification of an event of the citizen's (a payment, a case).
    Notification,
    /// The result of a citizen's own USSD request, sent when it came too late for the screen.
    Result,
}

impl Purpose {
    pub fn as_str(&self) -> &'static str {
        match self {
            Purpose::Direct => "direct",
            Purpose::Reply => "reply",
            Purpose::Broadcast { .. } => "broadcast",
            Purpose::Notification => "notification",
            Purpose::Result => "result",
        }
    }

    /// Whether a recipient's STOP holds this message back, even once queued.
    pub fn heeds_opt_out(purpose: &str) -> bool {
        matches!(purpose, "direct" | "broadcast")
    }

    pub fn broadcast_id(&self) -> Option<&str> {
        match self {
            Purpose::Broadcast { broadcast_id, .. } => Some(broadcast_id),
            _ => None,
        }
    }

    pub fn topic_id(&self) -> Option<&str> {
        match self {
            Purpose::Broadcast { topic_id, .. } => Some(topic_id),
            _ => None,
        }
    }
}

/// What a delivery report says, once a telco's own words are read through its status table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportedStatus {
    /// Still on its way (buffered, queued on the SMSC): recorded, status unchanged.
    InTransit,
    /// A final status.
    Final(Status),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_foreign_ids_are_refused() {
        let id = MessageId::generate();
        assert_eq!(MessageId::parse(id.as_str()), Some(id));
        for bad in [
            "",
            "msg_",
            "msg_xyz",
            "ATXid_123",
            "tx_01J0000000000000000000000",
        ] {
            assert_eq!(MessageId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn statuses_round_trip_and_only_ends_are_final() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        let finals: Vec<_> = Status::ALL.into_iter().filter(|s| s.is_final()).collect();
        assert_eq!(
            finals,
            [
                Status::Delivered,
                Status::Failed,
                Status::Expired,
                Status::Cancelled
            ]
        );
    }
}
