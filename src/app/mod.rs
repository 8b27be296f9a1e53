//! The gateway's assembled state ([`Gateway`]): what every capability shares, and each
//! capability's own state, which handlers reach on its own through axum's `FromRef`
//! (`State<Dialogues>`, `State<MenuRegistry>`); and how it starts (`start`), seeds the
//! embedded demo (`demo`), and serves with its background work (`serve`).

mod demo;
mod demo_sms;
mod demo_templates;
pub(crate) mod rounds;
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
use crate::db::journal::Journal;
use crate::db::Db;
use crate::directory::Directory;
use crate::ids::{AgencyId, TelcoId};
use crate::menus::{MenuRegistry, MenuSet};
use crate::sessions::SessionStore;
use crate::telcos::Telco;
use crate::ussd::Dialogues;
use axum::extract::FromRef;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

pub type AppState = Arc<Gateway>;

/// The gateway's assembled state: the parts every capability shares (configuration, database,
/// journal, background tasks, directories, back-office client, metrics), then each
/// capability's own state.
pub struct Gateway {
    pub config: Config,
    pub db: Db,
    /// Group-committed writes of the records hops and background calls make.
    journal: Journal,
    /// Work that outlives the request that started it (back-office calls finishing after
    /// their hop), waited for on shutdown.
    pub tasks: TaskTracker,
    pub telcos: Directory<TelcoId, Telco>,
    pub agencies: Directory<AgencyId, Agency>,
    pub backoffice: BackOfficeClient,
    /// Telcos refused for having no credentials, so that each is warned about once, not at
    /// every re-read.
    open_telcos: std::sync::Mutex<std::collections::BTreeSet<TelcoId>>,
    pub metrics: PrometheusHandle,
    /// USSD: live dialogues, their rate limits, ends and reaping.
    pub dialogues: Dialogues,
    /// The menus this node serves, every version loaded.
    pub menus: MenuRegistry,
    /// The SMS channel's keys, clients, paces and wake-ups.
    pub sms: crate::sms::SmsState,
    /// When this gateway was built (ms since the epoch).
    pub started_ms: i64,
}

// Each capability's state is a handle of its own, cheap to clone, rather than an `Arc` of it:
// `FromRef<Arc<Gateway>>` for `Arc<Dialogues>` would implement a foreign trait for a foreign
// type, which the orphan rule forbids.
impl FromRef<AppState> for Dialogues {
    fn from_ref(gateway: &AppState) -> Self {
        gateway.dialogues.clone()
    }
}

impl FromRef<AppState> for MenuRegistry {
    fn from_ref(gateway: &AppState) -> Self {
        gateway.menus.clone()
    }
}

impl Gateway {
    fn new(config: Config, db: Db, sessions: Arc<dyn SessionStore>, menus: MenuSet) -> Self {
        let backoffice = BackOfficeClient::new(&config);
        let journal = Journal::start(db.clone());
        let menus = MenuRegistry::new(menus, db.clone(), config.min_screen_limit);
        let dialogues = Dialogues::new(&config, sessions, menus.clone(), journal.clone());
        Self {
            config,
            journal,
            tasks: TaskTracker::new(),
            db,
            telcos: Directory::default(),
            agencies: Directory::default(),
            backoffice,
            open_telcos: Default::default(),
            metrics: crate::telemetry::metrics_handle(),
            dialogues,
            menus,
            sms: crate::sms::SmsState::default(),
            started_ms: crate::sessions::now_ms(),
        }
    }

    pub fn background_call_budget(&self) -> Duration {
        Duration::from_secs(self.config.background_call_secs)
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
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

    /// Reloads telcos, agencies, keyword services and topics from the database (other nodes may
    /// have changed them).
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
        let services = crate::sms::inbound::services_store::all_services(&self.db).await?;
        self.sms
            .keywords
            .replace(services.into_iter().flat_map(|service| {
                service
                    .words()
                    .into_iter()
                    .map(move |word| ((service.shortcode.clone(), word), service.clone()))
            }));
        let topics = crate::sms::subscriptions::store::all_topics(&self.db).await?;
        self.sms
            .topics
            .replace(topics.into_iter().map(|topic| (topic.name.clone(), topic)));
        Ok(())
    }
}
