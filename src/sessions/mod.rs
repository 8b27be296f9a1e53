//! USSD sessions: one dialogue's state between hops, kept in a [`SessionStore`].
//!
//! Two real backends pass one contract suite (`tests/it/sessions.rs`): [`redis::RedisSessions`]
//! for production, where any node can serve any hop, and [`memory::MemorySessions`] for the
//! embedded default. Expiry is decided by the caller's clock (`now_ms`), so the logic is
//! tested without sleeping; the Redis key TTL is only a safety net.

use crate::ids::{ServiceId, TelcoId};
use crate::language::Language;
use crate::msisdn::Msisdn;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub mod memory;
pub mod redis;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

pub fn now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// Where in the menus a dialogue stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Location {
    /// The shared root menu of the gateway's code.
    Root,
    /// A state of one version of a service's menu.
    Service {
        service: ServiceId,
        version: String,
        state: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// `telco:telco-session-id`, see [`crate::ussd::request::session_key`].
    pub key: String,
    pub telco: TelcoId,
    pub msisdn: Msisdn,
    pub service_code: String,
    pub network: Option<String>,
    pub language: Language,
    pub location: Location,
    /// Where `00` (home) leads: the root menu, or a service dialled by its own code.
    pub home: Location,
    /// Page of the current screen, from 0.
    pub page: u16,
    /// Screens to return to with `0`, most recent last.
    pub history: Vec<Location>,
    /// Values collected from input and kept from back-office answers.
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Raw input consumed so far, for telcos that send it cumulatively.
    pub consumed: String,
    pub hops: u32,
    /// The service entered first, for the session record.
    pub service: Option<ServiceId>,
    pub started_at_ms: Millis,
    pub last_seen_ms: Millis,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    #[error("stored session is unreadable: {0}")]
    Corrupt(String),
}

/// Storage of live sessions. Implementations hold no state that another node could not see
/// (the in-process one is for a single-node embedded gateway only).
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// The live session under `key`, or `None` when there is none or it has been idle for
    /// longer than the idle timeout at `now` (an idle one is left for [`Self::take_expired`]).
    async fn load(&self, key: &str, now: Millis) -> Result<Option<Session>, SessionError>;
    /// Stores the session; it expires `idle_timeout` after `session.last_seen_ms`.
    async fn save(&self, session: &Session) -> Result<(), SessionError>;
    /// Removes the session and returns it, if it was there. Exactly one of several
    /// concurrent callers gets it.
    async fn remove(&self, key: &str) -> Result<Option<Session>, SessionError>;
    /// Claims up to `limit` sessions idle at `now`, removing them; each expired session is
    /// returned to exactly one caller across all nodes, so it is recorded as abandoned once.
    async fn take_expired(&self, now: Millis, limit: usize) -> Result<Vec<Session>, SessionError>;
    /// Number of live sessions (for the `sessions_active` gauge).
    async fn count(&self) -> Result<u64, SessionError>;
    /// Whether the store answers (for `/readyz`).
    async fn ping(&self) -> Result<(), SessionError>;
}
