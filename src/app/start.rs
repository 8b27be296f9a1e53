//! Building a gateway from its configuration: connect the stores, load and check the menus,
//! seed the embedded demo, and load telcos and agencies.

use super::{demo, Gateway};
use crate::config::Config;
use crate::db::Db;
use crate::menus::{MenuError, MenuSet, RegisteredAgencies};
use crate::sessions::memory::MemorySessions;
use crate::sessions::redis::RedisSessions;
use crate::sessions::SessionStore;
use crate::sms::dispatch::pace::Paces;
use crate::sms::dispatch::shared_pace::SharedLimits;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] crate::db::DbError),
    #[error("sessions: {0}")]
    Sessions(#[from] crate::sessions::SessionError),
    #[error("menus refused:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Menus(Vec<MenuError>),
}

/// Builds the gateway that will answer on `public_addr` (the address the demo's in-process
/// back-office simulator is reached at).
pub async fn build(
    mut config: Config,
    public_addr: SocketAddr,
) -> Result<Arc<Gateway>, StartError> {
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{}", demo::reachable(public_addr)));
    }
    let db = Db::connect(&config.effective_database_url()).await?;
    if config.is_embedded() {
        db.migrate().await?;
    }
    let idle_ms = (config.session_idle_secs * 1_000) as i64;
    let mut shared_limits = None;
    let sessions: Arc<dyn SessionStore> = match &config.redis_url {
        Some(url) => {
            let redis = RedisSessions::connect(url.expose(), &config.redis_prefix, idle_ms).await?;
            shared_limits = Some(SharedLimits::new(redis.connection(), &config.redis_prefix));
            Arc::new(redis)
        }
        None => Arc::new(MemorySessions::new(idle_ms)),
    };
    if config.demo_enabled() {
        demo::seed(&db, public_addr).await?;
        let offered = demo::standard_actions();
        super::demo_sms::seed_services(&db, &config.sms.shortcodes, &offered).await?;
        super::demo_templates::seed_templates(&db).await?;
        super::demo_sms::seed_topics(&db).await?;
    }
    let agencies = crate::agencies::store::list_agencies(&db).await?;
    let menus = load_menus(&config, &agencies.iter().collect())?;
    publish_menus(&db, &menus).await?;
    let mut gateway = Gateway::new(config, db, sessions, menus);
    if let Some(limits) = shared_limits {
        gateway.sms.paces = Paces::shared(limits);
    }
    let gateway = Arc::new(gateway);
    gateway.refresh_directories().await?;
    Ok(gateway)
}

impl Gateway {
    /// Reloads `menus_dir` (on SIGHUP): a bad file leaves the running menus as they are;
    /// dialogues in flight finish on the version they started with.
    pub async fn reload_menus(&self) -> Result<usize, StartError> {
        let agencies = self.agencies.snapshot();
        let fresh = load_menus(&self.config, &agencies.values().map(|a| &**a).collect())?;
        publish_menus(&self.db, &fresh).await?;
        let services = fresh.services_by_position().len();
        self.menus.install(fresh);
        Ok(services)
    }
}

/// Loads `menus_dir` and runs every check, the agencies and their actions included; refused
/// with every problem of every file. Warnings are logged and do not stop the gateway.
pub fn load_menus(config: &Config, agencies: &RegisteredAgencies) -> Result<MenuSet, StartError> {
    let check = MenuSet::check_dir(&config.menus_dir, config.min_screen_limit, Some(agencies));
    for warning in &check.warnings {
        tracing::warn!("menu warning: {warning}");
    }
    check.into_result().map_err(StartError::Menus)
}

/// Stores every menu version so that any node can serve a dialogue started on another.
async fn publish_menus(db: &Db, menus: &MenuSet) -> Result<(), StartError> {
    for menu in menus.services_by_position() {
        crate::menus::store::publish_menu_version(
            db,
            menu.id(),
            menu.version(),
            menu.agency(),
            menu.source(),
        )
        .await?;
    }
    Ok(())
}
