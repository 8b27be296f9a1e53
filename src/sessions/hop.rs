//! The types a hop works with in the session store: its lease on the dialogue, what the
//! store knows of the dialogue, and what an ended dialogue leaves behind.

use super::{Millis, Session};
use crate::msisdn::Msisdn;
use serde::{Deserialize, Serialize};

/// A hop's claim on one dialogue; given back by saving, ending or releasing.
#[derive(Debug)]
pub struct Lease {
    pub key: String,
    pub(super) token: String,
}

impl Lease {
    pub(super) fn new(key: &str) -> Self {
        Self {
            key: key.to_string(),
            token: format!("{:016x}", rand::random::<u64>()),
        }
    }
}

/// What the store knows of a dialogue when a hop begins.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Live(Box<Session>),
    /// Ended, or idle past its timeout, a short while ago.
    Over(Tombstone),
    /// Never seen, or forgotten; `live_for_number` counts the number's live dialogues.
    Unknown {
        live_for_number: u32,
    },
}

/// The last hop of a dialogue and what it was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastHop {
    /// The telco's hop counter, when its format has one (Hubtel's `Sequence`).
    pub sequence: Option<u64>,
    pub screen: String,
    /// Whether that answer ended the dialogue.
    pub ends: bool,
}

/// What an ended or expired dialogue leaves for a while: enough to answer a repeat of its
/// last hop the same way, and to refuse anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub msisdn: Msisdn,
    /// The cumulative text consumed, for telcos that send it.
    pub consumed: String,
    pub last: Option<LastHop>,
    /// Idle past its timeout rather than ended by a screen or the telco.
    #[serde(default)]
    pub expired: bool,
}

impl Tombstone {
    pub fn of(session: &Session, expired: bool) -> Self {
        Self {
            msisdn: session.msisdn.clone(),
            consumed: session.consumed.clone(),
            last: session.last.clone(),
            expired,
        }
    }
}

/// How long a tombstone lasts unless the store is told otherwise: longer than any telco
/// keeps retrying a hop or a dialogue lasts.
pub const DEFAULT_TOMBSTONE_MS: Millis = 300_000;
