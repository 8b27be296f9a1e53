//! USSD sessions: one dialogue's state between hops, kept in a [`SessionStore`].
//!
//! Two real backends pass one contract suite (`tests/it/sessions.rs`): [`redis::RedisSessions`]
//! for production, where any node can serve any hop, and [`memory::MemorySessions`] for the
//! embedded default. Expiry is decided by the caller's clock (`now_ms`), so the logic is
//! tested without sleeping; the Redis key TTL is only a safety net.
//!
//! A hop works on its dialogue under a [`Lease`] ([`SessionStore::begin_hop`]), so two hops
//! of one dialogue never run at once on any node; a dialogue that ends or expires leaves a
//! short-lived [`Tombstone`], so that a late or repeated hop is told it is over instead of
//! starting it again.

use crate::ids::{ServiceId, TelcoId};
use crate::language::Language;
use crate::msisdn::Msisdn;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod hop;
pub mod memory;
pub mod redis;

pub use hop::{Found, LastHop, Lease, Tombstone};

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
    /// A notice too long for its screen's first page, paged with the screen so that `98`
    /// and `0` page on as that page did; any other input clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paged_notice: Option<String>,
    /// Screens to return to with `0`, most recent last.
    pub history: Vec<Location>,
    /// Values collected from input and kept from back-office answers.
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Raw input consumed so far, for telcos that send it cumulatively.
    pub consumed: String,
    /// Inputs applied so far: the position of the next input in the dialogue, from which
    /// back-office request ids are derived.
    #[serde(default)]
    pub steps: u32,
    /// What the last hop was answered, so that a repeat of it gets the same screen.
    #[serde(default)]
    pub last: Option<LastHop>,
    pub hops: u32,
    /// The service entered first, for the session record.
    pub service: Option<ServiceId>,
    /// The states of `service` reached so far, in the order first reached: the record keeps
    /// them so that reports show how far dialogues got (bounded by the menu's states).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reached: Vec<String>,
    pub started_at_ms: Millis,
    pub last_seen_ms: Millis,
}

impl Session {
    /// Notes that the dialogue reached `state` of `service`; only the first service's states
    /// are kept, each once.
    pub fn note_reached(&mut self, service: &ServiceId, state: &str) {
        if self.service.as_ref() == Some(service) && !self.reached.iter().any(|s| s == state) {
            self.reached.push(state.to_string());
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    #[error("stored session is unreadable: {0}")]
    Corrupt(String),
    /// The hop's lease ran out and another hop may have taken the dialogue: nothing saved.
    #[error("the hop's lease on the dialogue was lost")]
    LeaseLost,
}

/// Storage of live sessions. Implementations hold no state that another node could not see
/// (the in-process one is for a single-node embedded gateway only).
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// The live session under `key`, or `None` when there is none or it has been idle for
    /// longer than the idle timeout at `now` (an idle one is left for [`Self::take_expired`]).
    async fn load(&self, key: &str, now: Millis) -> Result<Option<Session>, SessionError>;
    /// Stores the session; it expires `idle_timeout` after `session.last_seen_ms`. Hops use
    /// [`Self::save_hop`] instead, which also checks and releases their lease.
    async fn save(&self, session: &Session) -> Result<(), SessionError>;
    /// Claims the dialogue `key` for one hop and says what is known of it, or `None` while
    /// another hop holds it. The lease lasts `lease_ms` unless released first. For an unknown
    /// dialogue it counts the live dialogues of `msisdn` (0 without one).
    async fn begin_hop(
        &self,
        key: &str,
        msisdn: Option<&Msisdn>,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<(Lease, Found)>, SessionError>;
    /// Saves the session the hop worked on and releases the lease;
    /// [`SessionError::LeaseLost`] (and nothing saved) when the lease is no longer held.
    async fn save_hop(&self, lease: Lease, session: &Session) -> Result<(), SessionError>;
    /// Ends the dialogue: removes its session, leaves `tombstone` for the store's tombstone
    /// time after `now`, and releases the lease.
    async fn end_hop(
        &self,
        lease: Lease,
        tombstone: &Tombstone,
        now: Millis,
    ) -> Result<(), SessionError>;
    /// Releases the lease without changing anything.
    async fn release(&self, lease: Lease) -> Result<(), SessionError>;
    /// Removes the session and returns it, if it was there. Exactly one of several
    /// concurrent callers gets it.
    async fn remove(&self, key: &str) -> Result<Option<Session>, SessionError>;
    /// Claims up to `limit` sessions idle at `now`, removing them and leaving a tombstone;
    /// each expired session is returned to exactly one caller across all nodes, so it is
    /// recorded as abandoned once. A session a hop holds is left for a later call.
    async fn take_expired(&self, now: Millis, limit: usize) -> Result<Vec<Session>, SessionError>;
    /// Number of live sessions (for the `sessions_active` gauge).
    async fn count(&self) -> Result<u64, SessionError>;
    /// Whether the store answers (for `/readyz`).
    async fn ping(&self) -> Result<(), SessionError>;
}
