//! Running a gateway: bind, build, serve HTTP, and the background work every node does
//! (recording abandoned dialogues, asking again pending back-office calls, re-reading telcos
//! and agencies when they change, gauges). Stopping waits for hops in flight, then for background calls and
//! unwritten records, within the grace period.

use super::{build, Gateway, StartError};
use crate::config::Config;
use crate::telemetry::names;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

const REAP_EVERY: Duration = Duration::from_secs(5);
/// A safety net: changes are announced and taken in within a second (`db::changes`).
const REFRESH_EVERY: Duration = Duration::from_secs(30);
const RECONCILE_EVERY: Duration = Duration::from_secs(5);
/// Settled follow-ups are purged every this many reconciler rounds (5 minutes).
const PURGE_EVERY_ROUNDS: u32 = 60;
/// How long past its validity a sent message waits for its report before it is made
/// `expired`: telcos report expiries themselves, a little after the fact.
const UNREPORTED_GRACE: Duration = Duration::from_secs(60 * 60);

/// A gateway serving in the background (what `serve` runs and what tests start).
pub struct Running {
    pub addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    /// The reaper and the reconciler: a round in progress may still hand records to the
    /// journal, so they are waited for before it is flushed.
    chores: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops taking connections, lets requests in flight finish, stops background work,
    /// and waits for background calls and unwritten records, all within the configured grace
    /// period.
    pub async fn stop(self) -> std::io::Result<()> {
        let grace = Duration::from_secs(self.gateway.config.shutdown_grace_secs);
        let deadline = tokio::time::Instant::now() + grace;
        let _ = self.stop.send(true);
        let served = match tokio::time::timeout_at(deadline, self.server).await {
            Ok(joined) => joined.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            Err(_) => {
                tracing::warn!("requests still in flight at the end of the grace period");
                Ok(())
            }
        };
        for chore in self.chores {
            if tokio::time::timeout_at(deadline, chore).await.is_err() {
                tracing::warn!(
                    "a background round was still running at the end of the grace period"
                );
            }
        }
        self.gateway.drain(deadline).await;
        served
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Start(#[from] StartError),
}

pub async fn spawn(config: Config) -> Result<Running, ServeError> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    let gateway = build(config, addr).await?;
    let (stop, stopped) = watch::channel(false);
    let mut chores = vec![
        tokio::spawn(background(gateway.clone(), stopped.clone())),
        tokio::spawn(reconciler(gateway.clone(), stopped.clone())),
        tokio::spawn(crate::sms::webhooks::run(gateway.clone(), stopped.clone())),
        tokio::spawn(crate::sms::inbound::worker::run(
            gateway.clone(),
            stopped.clone(),
        )),
        tokio::spawn(crate::sms::broadcasts::worker::run(
            gateway.clone(),
            stopped.clone(),
        )),
    ];
    // SQLite has one writer: more dispatchers would only wait on each other.
    let dispatchers = match gateway.db.kind() {
        crate::db::DbKind::Sqlite => gateway.config.sms.dispatchers.min(1),
        crate::db::DbKind::Postgres => gateway.config.sms.dispatchers,
    };
    for _ in 0..dispatchers {
        chores.push(tokio::spawn(crate::sms::dispatch::run(
            gateway.clone(),
            stopped.clone(),
        )));
    }
    let app = crate::http::router(gateway.clone());
    let header_read_timeout = Duration::from_millis(gateway.config.header_read_timeout_ms);
    let mut stopped_server = stopped;
    let server = tokio::spawn(crate::http::server::serve(
        listener,
        app,
        header_read_timeout,
        async move {
            let _ = stopped_server.changed().await;
        },
    ));
    tracing::info!(%addr, embedded = gateway.config.is_embedded(), "gateway listening");
    Ok(Running {
        addr,
        gateway,
        stop,
        server,
        chores,
    })
}

/// `mgov serve`: runs until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let running = spawn(config).await?;
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await.map_err(|source| ServeError::Bind {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })
}

async fn background(gateway: Arc<Gateway>, mut stopped: watch::Receiver<bool>) {
    let mut reap = tokio::time::interval(REAP_EVERY);
    let mut refresh = tokio::time::interval(REFRESH_EVERY);
    let mut reload = Reload::new();
    // The listener runs in a task of its own: dropping a wait on it half-way through a
    // notification (as `select!` would at every other tick) could lose that notification.
    let (changed, mut changes) = tokio::sync::mpsc::channel::<()>(1);
    let listener = match crate::db::changes::Changes::watch(&gateway.db).await {
        Ok(mut watch) => Some(tokio::spawn(async move {
            loop {
                watch.next().await;
                // A change already waiting to be taken in covers this one too.
                if let Err(tokio::sync::mpsc::error::TrySendError::Closed(())) =
                    changed.try_send(())
                {
                    return;
                }
            }
        })),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for telco and agency changes; they are re-read every 30 s");
            None
        }
    };
    let _listener = AbortOnDrop(listener);
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = reload.requested() => match gateway.reload_menus().await {
                Ok(services) => tracing::info!(services, "menus reloaded"),
                Err(e) => tracing::error!(error = %e, "menus not reloaded; the running ones stay"),
            },
            _ = reap.tick() => {
                let reaped = gateway.dialogues.reap_expired().await;
                if reaped > 0 {
                    tracing::info!(reaped, "idle dialogues recorded as abandoned");
                }
                // Histogram samples pile up in the recorder until drained; a gateway nobody
                // scrapes must not grow for ever.
                gateway.metrics.run_upkeep();
                if let Ok(active) = gateway.dialogues.sessions.count().await {
                    metrics::gauge!(names::SESSIONS_ACTIVE).set(active as f64);
                }
                let now = crate::sessions::now_ms();
                let cutoff = now - UNREPORTED_GRACE.as_millis() as i64;
                match crate::sms::store::reports::match_kept_reports(&gateway.db, &gateway.agencies, now).await {
                    Ok(0) => {}
                    Ok(applied) => tracing::info!(applied, "kept delivery reports matched"),
                    Err(e) => tracing::warn!(error = %e, "could not match kept delivery reports"),
                }
                match crate::sms::store::reports::expire_unreported(&gateway.db, cutoff, 1_000, &gateway.agencies, now).await {
                    Ok(0) => {}
                    Ok(expired) => tracing::warn!(expired, "sent messages without a delivery report made expired"),
                    Err(e) => tracing::warn!(error = %e, "could not expire unreported messages"),
                }
                if let Ok((queued, late_ms)) = crate::sms::store::read::queue_depth(&gateway.db, now).await {
                    metrics::gauge!(names::SMS_QUEUE_DEPTH).set(queued as f64);
                    metrics::gauge!(names::SMS_QUEUE_LATE_SECONDS).set(late_ms.unwrap_or(0) as f64 / 1000.0);
                }
            }
            Some(()) = changes.recv() => {
                if let Err(e) = gateway.refresh_directories().await {
                    tracing::warn!(error = %e, "could not re-read telcos and agencies after a change");
                }
            }
            _ = refresh.tick() => {
                if let Err(e) = gateway.refresh_directories().await {
                    tracing::warn!(error = %e, "could not refresh telcos and agencies");
                }
            }
        }
    }
}

/// Stops a background task when its owner returns.
struct AbortOnDrop(Option<JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// Asks again pending back-office calls left by a stopped node; in a loop of its own, since
/// one round may wait on slow agencies.
async fn reconciler(gateway: Arc<Gateway>, mut stopped: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(RECONCILE_EVERY);
    let mut purge_in = 1;
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = every.tick() => {
                let round = crate::backoffice::reconcile::reconcile_due(&gateway, chrono::Utc::now());
                let asked = round.await;
                if asked > 0 {
                    tracing::info!(asked, "pending back-office calls asked again");
                }
                purge_in -= 1;
                if purge_in > 0 {
                    continue;
                }
                purge_in = PURGE_EVERY_ROUNDS;
                match crate::backoffice::follow_up_store::purge(&gateway.db, chrono::Utc::now()).await {
                    Ok(0) => {}
                    Ok(purged) => tracing::debug!(purged, "settled follow-ups purged"),
                    Err(e) => tracing::warn!(error = %e, "follow-ups not purged; trying again"),
                }
            }
        }
    }
}

/// SIGHUP asks for the menus to be reloaded (where there are signals).
struct Reload {
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
}

impl Reload {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Self {
                hangup: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn requested(&mut self) {
        #[cfg(unix)]
        if let Some(hangup) = &mut self.hangup {
            hangup.recv().await;
            return;
        }
        std::future::pending::<()>().await
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler succeeds on unix");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
