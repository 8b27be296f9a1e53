//! The gateway's shared state ([`Gateway`]) and how it starts (`start`), seeds the embedded
//! demo (`demo`), and serves with its background work (`serve`).

mod demo;
mod limits;
mod serve;
mod start;

pub use demo::{
    registered_agencies as demo_agencies, DEMO_SIGNING_SECRET, DEMO_SMS_SECRET, DEMO_SMS_USERNAME,
    SIMULATOR_PATH, TELCO_SIMULATOR_PATH,
};
pub use serve::{serve, spawn, Running, ServeError};
pub use start::{build, load_menus, StartError};

use crate::agencies::Agency;
use crate::backoffice::client::BackOfficeClient;
use crate::config::Config;
use crate::db::journal::{Journal, Record};
use crate::db::Db;
use crate::directory::Directory;
use crate::ids::{AgencyId, TelcoId};
use crate::menus::{Menu, MenuSet};
use crate::msisdn::Msisdn;
use crate::sessions::{now_ms, Location, Session, SessionStore};
use crate::telcos::Telco;
use crate::telemetry::names;
use crate::ussd::notices::{notice, Notice};
use crate::ussd::request::UssdReply;
use crate::ussd::store::{EndReason, SessionRecord};
use limits::HopLimits;
use metrics_exporter_prometheus::PrometheusHandle;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

pub type AppState = Arc<Gateway>;

/// How long a hop waits for a menu version another node published.
const MENU_LOOKUP_WAIT: Duration = Duration::from_secs(1);

pub struct Gateway {
    pub config: Config,
    pub db: Db,
    /// Group-committed writes of the records hops make.
    journal: Journal,
    /// Work that outlives the request that started it (back-office calls finishing after
    /// their hop), waited for on shutdown.
    pub tasks: TaskTracker,
    pub sessions: Arc<dyn SessionStore>,
    menus: RwLock<Arc<MenuSet>>,
    pub telcos: Directory<TelcoId, Telco>,
    pub agencies: Directory<AgencyId, Agency>,
    pub backoffice: BackOfficeClient,
    limits: HopLimits,
    /// Telcos refused for having no credentials, so that each is warned about once, not at
    /// every re-read.
    open_telcos: std::sync::Mutex<std::collections::BTreeSet<TelcoId>>,
    pub metrics: PrometheusHandle,
    /// The SMS channel's keys, clients, paces and wake-ups.
    pub sms: crate::sms::SmsState,
    /// When this gateway was built (ms since the epoch).
    pub started_ms: i64,
}

impl Gateway {
    fn new(config: Config, db: Db, sessions: Arc<dyn SessionStore>, menus: MenuSet) -> Self {
        let per_minute = NonZeroU32::new(config.rate_limit.hops_per_minute_per_msisdn)
            .unwrap_or(NonZeroU32::MIN);
        let backoffice = BackOfficeClient::new(&config);
        Self {
            config,
            journal: Journal::start(db.clone()),
            tasks: TaskTracker::new(),
            db,
            sessions,
            menus: RwLock::new(Arc::new(menus)),
            telcos: Directory::default(),
            agencies: Directory::default(),
            backoffice,
            limits: HopLimits::new(per_minute),
            open_telcos: Default::default(),
            metrics: crate::telemetry::metrics_handle(),
            sms: crate::sms::SmsState::default(),
            started_ms: now_ms(),
        }
    }

    /// The menus as loaded now; a session keeps walking the version it started with.
    pub fn menus(&self) -> Arc<MenuSet> {
        self.menus.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Swaps in newly loaded menus, keeping every version already loaded so that dialogues
    /// in flight finish on the version they started with.
    pub fn install_menus(&self, fresh: MenuSet) {
        self.update_menus(|menus| menus.reload(fresh));
    }

    /// Changes the menus copy-on-write: hops holding the old set keep walking it.
    fn update_menus(&self, change: impl FnOnce(&mut MenuSet)) -> Arc<MenuSet> {
        let mut current = self.menus.write().unwrap_or_else(|e| e.into_inner());
        let mut next = MenuSet::clone(&current);
        change(&mut next);
        *current = Arc::new(next);
        current.clone()
    }

    /// The menus, including the version `session` walks: a version this node has not loaded
    /// (published by another node, or replaced here by a reload) is read from the store.
    pub async fn menus_for(&self, session: &Session) -> Arc<MenuSet> {
        let menus = self.menus();
        let Location::Service {
            service, version, ..
        } = &session.location
        else {
            return menus;
        };
        if menus.get(service, version).is_some() {
            return menus;
        }
        let lookup = crate::menus::store::get_menu_source(&self.db, service, version);
        // The hop holds its dialogue's lease: a slow database must not hold it past its budget.
        let source = match tokio::time::timeout(MENU_LOOKUP_WAIT, lookup).await {
            Ok(Ok(Some(source))) => source,
            Ok(Ok(None)) => return menus, // the walker ends the dialogue kindly
            Ok(Err(e)) => {
                tracing::warn!(error = %e, %service, version, "could not read a menu version");
                return menus;
            }
            Err(_) => {
                tracing::warn!(%service, version, "menu version not read in time");
                return menus;
            }
        };
        let file = format!("{service}.toml");
        match Menu::parse_with_limit(&source, &file, self.config.min_screen_limit) {
            Ok(menu) => self.update_menus(|menus| menus.add_version(Arc::new(menu))),
            Err(errors) => {
                tracing::error!(%service, version, problems = ?errors, "a published menu version does not parse");
                menus
            }
        }
    }

    pub fn background_call_budget(&self) -> Duration {
        Duration::from_secs(self.config.background_call_secs)
    }

    pub fn hop_budget(&self) -> Duration {
        Duration::from_millis(self.config.hop_budget_ms)
    }

    /// `Some(reply)` when this hop must be refused to protect the gateway: the telco is past
    /// its own hops per second, or the number past its hops per minute on this telco.
    pub fn rate_limited(&self, telco: &Telco, msisdn: &Msisdn) -> Option<UssdReply> {
        let limit = self.limits.check(telco, msisdn).err()?;
        tracing::debug!(?limit, telco = %telco.id, "hop refused: too fast");
        Some(UssdReply::End(
            notice(Notice::TooFast, self.config.default_language).into(),
        ))
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The latest a hop waits for a record to commit: its deadline, or `record_wait_ms`.
    pub fn record_deadline(&self, hop_deadline: Instant) -> Instant {
        hop_deadline.min(Instant::now() + self.config.record_wait())
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
        let menus = self.menus();
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

    /// Waits for background calls and unwritten records until `deadline` (on shutdown),
    /// keeping the last quarter of the time for the records, since a background call's
    /// outcome is itself a record. Returns how many records were still unwritten.
    pub async fn drain(&self, deadline: Instant) -> usize {
        self.tasks.close();
        let now = Instant::now();
        let calls_until = now + deadline.saturating_duration_since(now) * 3 / 4;
        if tokio::time::timeout_at(calls_until, self.tasks.wait())
            .await
            .is_err()
        {
            // Their intents are committed: the reconciler of another node, or of this one
            // once it is back, asks again.
            tracing::warn!(
                calls = self.tasks.len(),
                "back-office calls still running at shutdown; left to the reconciler"
            );
        }
        let left = self.journal.flush(deadline).await;
        if left > 0 {
            tracing::error!(
                records = left,
                "records not written at the end of the grace period"
            );
        }
        left
    }

    /// Records idle dialogues as abandoned; safe to run on every node at once.
    pub async fn reap_expired(&self) -> usize {
        self.reap_expired_at(now_ms()).await
    }

    /// [`Self::reap_expired`] as if the clock read `now`.
    pub async fn reap_expired_at(&self, now: i64) -> usize {
        let expired = match self.sessions.take_expired(now, 1_000).await {
            Ok(expired) => expired,
            Err(e) => {
                tracing::warn!(error = %e, "could not reap expired sessions");
                return 0;
            }
        };
        let wait_until = Instant::now() + self.config.record_wait();
        let records = expired
            .iter()
            .map(|s| self.record_session_end(s, EndReason::Abandoned, wait_until));
        futures_util::future::join_all(records).await;
        self.limits.forget_idle();
        expired.len()
    }

    /// Reloads telcos and agencies from the database (other nodes may have changed them).
    pub async fn refresh_directories(&self) -> Result<(), crate::db::DbError> {
        let telcos = crate::telcos::store::list_telcos(&self.db).await?;
        let (open, usable): (Vec<_>, Vec<_>) = telcos
            .into_iter()
            .partition(|t| t.credentials.is_none() && !self.config.demo_enabled());
        let open: std::collections::BTreeSet<TelcoId> = open.into_iter().map(|t| t.id).collect();
        {
            let mut warned = self.open_telcos.lock().unwrap_or_else(|e| e.into_inner());
            for telco in open.difference(&warned) {
                tracing::warn!(telco = %telco, "telco has no credentials; refused outside the embedded demo");
            }
            *warned = open;
        }
        self.telcos
            .replace(usable.into_iter().map(|t| (t.id.clone(), t)));
        let agencies = crate::agencies::store::list_agencies(&self.db).await?;
        self.agencies
            .replace(agencies.into_iter().map(|a| (a.id.clone(), a)));
        Ok(())
    }
}
