//! The lifecycle of USSD dialogues: where live dialogues are kept and claimed hop by hop (the
//! session store's leases), how fast each telco and number may go, which menus a dialogue
//! walks, how its end and the records its hops make are written, and the reaping of
//! dialogues left idle.

use super::limits::HopLimits;
use super::notices::{notice, Notice};
use super::request::UssdReply;
use super::store::{EndReason, SessionRecord};
use crate::config::Config;
use crate::db::journal::{Journal, Record};
use crate::ids::AgencyId;
use crate::language::Language;
use crate::menus::{MenuRegistry, MenuSet};
use crate::msisdn::Msisdn;
use crate::sessions::{now_ms, Found, Lease, Location, Session, SessionError, SessionStore};
use crate::telcos::Telco;
use crate::telemetry::names;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// A lease outlives the hop's budget by this much, for the session write after it.
const LEASE_SLACK: Duration = Duration::from_secs(2);
/// Idle dialogues reaped in one round at most.
const REAP_BATCH: usize = 1_000;

/// The gateway's USSD dialogues. Cheap to clone: every clone works on the same dialogues.
#[derive(Clone)]
pub struct Dialogues {
    /// Live dialogues with their hop leases and tombstones, shared by every node.
    pub sessions: Arc<dyn SessionStore>,
    menus: MenuRegistry,
    /// Group-committed writes of the records hops make.
    journal: Journal,
    limits: Arc<HopLimits>,
    hop_budget: Duration,
    record_wait: Duration,
    default_language: Language,
}

impl Dialogues {
    pub fn new(
        config: &Config,
        sessions: Arc<dyn SessionStore>,
        menus: MenuRegistry,
        journal: Journal,
    ) -> Self {
        let per_minute = NonZeroU32::new(config.rate_limit.hops_per_minute_per_msisdn)
            .unwrap_or(NonZeroU32::MIN);
        Self {
            sessions,
            menus,
            journal,
            limits: Arc::new(HopLimits::new(per_minute)),
            hop_budget: Duration::from_millis(config.hop_budget_ms),
            record_wait: config.record_wait(),
            default_language: config.default_language,
        }
    }

    /// How long a hop (or a telco's end notice) may take, back-office calls included.
    pub fn hop_budget(&self) -> Duration {
        self.hop_budget
    }

    /// `Some(reply)` when this hop must be refused to protect the gateway: the telco is past
    /// its own hops per second, or the number past its hops per minute on this telco.
    pub fn rate_limited(&self, telco: &Telco, msisdn: &Msisdn) -> Option<UssdReply> {
        let limit = self.limits.check(telco, msisdn).err()?;
        tracing::debug!(?limit, telco = %telco.id, "hop refused: too fast");
        Some(UssdReply::End(
            notice(Notice::TooFast, self.default_language).into(),
        ))
    }

    /// Claims the dialogue `key`, waiting while another hop of it runs, until `deadline`.
    pub async fn claim(
        &self,
        key: &str,
        msisdn: Option<&Msisdn>,
        deadline: Instant,
    ) -> Result<Option<(Lease, Found)>, SessionError> {
        let lease_ms = (self.hop_budget + LEASE_SLACK).as_millis() as i64;
        let mut pause = Duration::from_millis(5);
        loop {
            if let Some(claimed) = self
                .sessions
                .begin_hop(key, msisdn, now_ms(), lease_ms)
                .await?
            {
                return Ok(Some(claimed));
            }
            if Instant::now() + pause >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    pub async fn release(&self, lease: Lease) {
        if let Err(e) = self.sessions.release(lease).await {
            tracing::warn!(error = %e, "could not release a dialogue's lease; it will run out");
        }
    }

    /// The menus, including the version `session` walks (read from the store when this node
    /// has not loaded it).
    pub async fn menus_for(&self, session: &Session) -> Arc<MenuSet> {
        match &session.location {
            Location::Service {
                service, version, ..
            } => self.menus.with_version(service, version).await,
            Location::Root => self.menus.current(),
        }
    }

    /// The latest a hop waits for a record to commit: its deadline, or `record_wait_ms`.
    pub fn record_deadline(&self, hop_deadline: Instant) -> Instant {
        hop_deadline.min(Instant::now() + self.record_wait)
    }

    /// Hands a record to the journal, which writes it whatever the database does, and waits
    /// for its commit until `wait_until`: past that the citizen is answered anyway.
    pub async fn record(&self, record: Record, what: &str, wait_until: Instant) {
        match tokio::time::timeout_at(wait_until, self.journal.submit(record)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, record = what, "could not record"),
            Err(_) => tracing::warn!(
                record = what,
                "record not committed in time; answering anyway, still writing"
            ),
        }
    }

    pub async fn record_session_end(
        &self,
        session: &Session,
        reason: EndReason,
        wait_until: Instant,
    ) {
        let agency = self.agency_of(session);
        let agency_label = agency.as_ref().map_or("none", |a| a.as_str()).to_string();
        metrics::counter!(names::USSD_SESSIONS_ENDED, "reason" => reason.as_str(), "agency" => agency_label)
            .increment(1);
        let record = SessionRecord::from_session(session, agency, reason, now_ms());
        // One line per dialogue at info: what an operator follows (numbers are masked).
        tracing::info!(
            session = %session.key, telco = %session.telco, msisdn = %session.msisdn,
            service = session.service.as_ref().map(|s| s.as_str()).unwrap_or("-"),
            hops = session.hops, reason = reason.as_str(), "dialogue ended"
        );
        self.record(Record::Session(record), &session.key, wait_until)
            .await;
    }

    /// The agency whose service the dialogue entered: of the menu version it walks when it is
    /// still in that service, else of the service's current version.
    fn agency_of(&self, session: &Session) -> Option<AgencyId> {
        let service = session.service.as_ref()?;
        let menus = self.menus.current();
        let walked = match &session.location {
            Location::Service {
                service: here,
                version,
                ..
            } if here == service => menus.get(service, version),
            _ => None,
        };
        walked
            .or_else(|| menus.current(service))
            .map(|menu| menu.agency().clone())
    }

    /// Records idle dialogues as abandoned; safe to run on every node at once.
    pub async fn reap_expired(&self) -> usize {
        self.reap_expired_at(now_ms()).await
    }

    /// [`Self::reap_expired`] as if the clock read `now`.
    pub async fn reap_expired_at(&self, now: i64) -> usize {
        let expired = match self.sessions.take_expired(now, REAP_BATCH).await {
            Ok(expired) => expired,
            Err(e) => {
                tracing::warn!(error = %e, "could not reap expired sessions");
                return 0;
            }
        };
        let wait_until = Instant::now() + self.record_wait;
        let records = expired
            .iter()
            .map(|s| self.record_session_end(s, EndReason::Abandoned, wait_until));
        futures_util::future::join_all(records).await;
        self.limits.forget_idle();
        expired.len()
    }
}
