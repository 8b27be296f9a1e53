//! The aggregator's platform: per-handset dialogues, the hop to the gateway (with network
//! latency, lost replies, the reply timeout and chaos), and the end-of-session notices.
//!
//! Each handset's dialogue sits behind its own async lock, held for a whole hop: a handset does
//! one thing at a time, and the idle sweep skips a handset whose hop is in flight. Every call
//! waits for its end notice to be answered, so a test that hangs up can look at the gateway's
//! records as soon as the hang-up returns.

use std::sync::Arc;

use chrono::Utc;
use dashmap::DashMap;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, timeout, Instant};

use super::chaos::{self, Event, Plan, Transport};
use super::dialogue::{new_session_id, Dialogue};
use super::stats::{Ended, Stats};
use super::wire::{self, Body, EndCause, Ending, HopError, Raw, Screen};
use super::Settings;

/// What a handset shows when the network fails it, whatever the cause.
pub(crate) const CONNECTION_PROBLEM: &str = "Connection problem or invalid MMI code.";

/// A dialogue in progress and its clocks.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) dialogue: Dialogue,
    started: Instant,
    /// When the handset last got a screen: the idle timeout counts from here.
    idle_since: Instant,
}

type Handset = Arc<Mutex<Option<Session>>>;

/// What the handset shows after an action.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) session_id: String,
    pub(crate) screen: String,
    pub(crate) ends: bool,
    pub(crate) error: Option<HopError>,
    /// How the hop misbehaved, when chaos picked it, and what the gateway made of it.
    pub(crate) chaos: Option<Event>,
}

pub(crate) struct Platform {
    pub(crate) settings: Settings,
    http: reqwest::Client,
    /// By MSISDN (digits). Entries without a dialogue are pruned by the idle sweep.
    handsets: DashMap<String, Handset>,
    pub(crate) stats: Stats,
    /// Plans the chaos; seeded from `chaos_seed` when given.
    chaos_rng: std::sync::Mutex<StdRng>,
}

impl Platform {
    pub(crate) fn new(settings: Settings) -> Self {
        let chaos_rng = match settings.chaos_seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_rng(&mut rand::rng()),
        };
        Platform {
            settings,
            http: reqwest::Client::new(),
            handsets: DashMap::new(),
            stats: Stats::default(),
            chaos_rng: std::sync::Mutex::new(chaos_rng),
        }
    }

    /// Dialogues open now (a handset busy with a hop counts as open).
    pub(crate) fn active(&self) -> usize {
        let open = |handset: &Handset| handset.try_lock().map_or(true, |slot| slot.is_some());
        self.handsets
            .iter()
            .filter(|entry| open(entry.value()))
            .count()
    }

    /// Starts a dialogue; one already open on the handset is hung up first.
    pub(crate) async fn dial(&self, msisdn: &str, code: &str) -> Answer {
        let handset = self.handsets.entry(msisdn.to_owned()).or_default().clone();
        let mut slot = handset.lock().await;
        if let Some(open) = slot.take() {
            self.end(open, EndCause::Hangup, Ended::Replaced, None)
                .await;
        }
        self.stats.session_started();
        let session_id = new_session_id(self.settings.format);
        let dialogue = Dialogue::new(session_id, msisdn, code, &self.settings.root_code);
        let now = Instant::now();
        let session = Session {
            dialogue,
            started: now,
            idle_since: now,
        };
        self.hop(&mut slot, session).await
    }

    /// Sends `key` as the answer to the open screen; `None` when no dialogue is open.
    pub(crate) async fn press(&self, msisdn: &str, key: &str) -> Option<Answer> {
        let handset = self.handsets.get(msisdn)?.clone();
        let mut slot = handset.lock().await;
        let mut session = slot.take()?;
        session.dialogue.press(key);
        Some(self.hop(&mut slot, session).await)
    }

    /// Ends the open dialogue as the citizen; its session id, or `None` when none is open.
    pub(crate) async fn hangup(&self, msisdn: &str) -> Option<String> {
        let handset = self.handsets.get(msisdn)?.clone();
        let session = handset.lock().await.take()?;
        let session_id = session.dialogue.session_id.clone();
        self.end(session, EndCause::Hangup, Ended::Hangup, None)
            .await;
        Some(session_id)
    }

    /// Posts the dialogue's next hop and keeps the session in `slot` if it continues.
    async fn hop(&self, slot: &mut Option<Session>, mut session: Session) -> Answer {
        let body = wire::hop(&self.settings, &session.dialogue);
        let position = session.dialogue.hops as usize;
        let plan = {
            let mut rng = self.chaos_rng.lock().expect("planning never panics");
            self.settings.chaos.plan(&mut *rng, position)
        };
        let older = match plan {
            Some(Plan::Replay { older }) => {
                Some(wire::hop(&self.settings, &session.dialogue.as_of(older)))
            }
            _ => None,
        };
        session.dialogue.sent();
        let session_id = session.dialogue.session_id.clone();
        let (reply, chaos) = self.exchange(&body, older.as_ref(), plan).await;
        if let Some(event) = &chaos {
            self.stats
                .chaos(event, &format!("in session {session_id} at hop {position}"));
        }
        match reply {
            Ok((screen, raw)) => {
                session.dialogue.answered(&screen, &raw);
                if screen.ends {
                    self.end(session, EndCause::Gateway, Ended::Gateway, None)
                        .await;
                } else {
                    session.idle_since = Instant::now();
                    *slot = Some(session);
                }
                Answer {
                    session_id,
                    screen: screen.text,
                    ends: screen.ends,
                    error: None,
                    chaos,
                }
            }
            Err(error) => {
                self.stats.callback_failed(&error);
                tracing::debug!(session = %session_id, %error, "hop failed");
                let message = error.to_string();
                let reason = Ended::of(&error);
                self.end(session, EndCause::Failure, reason, Some(&message))
                    .await;
                Answer {
                    session_id,
                    screen: CONNECTION_PROBLEM.to_owned(),
                    ends: true,
                    error: Some(error),
                    chaos,
                }
            }
        }
    }

    /// One hop and its reply, played as `plan` says, each request within `reply_timeout`
    /// (network latency included). A dropped reply is still awaited, so the gateway has done
    /// its work, then the platform waits out the timeout as it would for a reply that never
    /// comes.
    async fn exchange(
        &self,
        body: &Body,
        older: Option<&Body>,
        plan: Option<Plan>,
    ) -> (Result<(Screen, String), HopError>, Option<Event>) {
        let rate = self.settings.drop_rate;
        let dropped = rate > 0.0 && rand::rng().random::<f64>() < rate;
        let deadline = Instant::now() + self.settings.reply_timeout;
        let format = self.settings.format;
        let played = chaos::play(&Callback(self), format, body, older, plan).await;
        if dropped {
            sleep_until(deadline).await;
            return (Err(HopError::Dropped), played.event);
        }
        let reply = played.delivered.and_then(|raw| {
            let screen = wire::parse_reply(format, raw.status, &raw.body)?;
            Ok((screen, raw.body))
        });
        (reply, played.event)
    }

    async fn post(&self, body: &Body) -> Result<Raw, HopError> {
        let settings = &self.settings;
        let credentials = (settings.username.is_some() || settings.secret.is_some()).then(|| {
            let username = settings.username.as_deref().unwrap_or_default();
            (username, settings.secret.as_deref())
        });
        wire::post(&self.http, &settings.gateway_url, credentials, body)
            .await
            .map_err(|error| HopError::Unreachable(error.to_string()))
    }

    /// Counts the ending and, where the format has one, sends its end notice.
    async fn end(&self, session: Session, cause: EndCause, reason: Ended, error: Option<&str>) {
        self.stats.ended(reason);
        if !self.settings.end_notices {
            return;
        }
        let ending = Ending {
            cause,
            error,
            duration_ms: session.started.elapsed().as_millis(),
            date: Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        };
        let Some(body) = wire::end_notice(&self.settings, &session.dialogue, &ending) else {
            return;
        };
        let answered = timeout(self.settings.reply_timeout, async {
            self.settings.network_latency.wait().await;
            self.post(&body).await
        })
        .await;
        let delivered = matches!(answered, Ok(Ok(raw)) if (200..300).contains(&raw.status));
        self.stats.notice(delivered);
        if !delivered {
            tracing::warn!(session = %session.dialogue.session_id, reason = reason.name(), "the end notice was not accepted");
        }
    }

    /// Cuts off every handset idle for `idle_timeout` and sends their notices; returns how
    /// many. Handsets with no dialogue that nobody is using are forgotten.
    pub(crate) async fn cut_idle(self: &Arc<Self>) -> usize {
        let now = Instant::now();
        let idle_timeout = self.settings.idle_timeout;
        let handsets: Vec<Handset> = self.handsets.iter().map(|e| e.value().clone()).collect();
        let mut endings = JoinSet::new();
        for handset in handsets {
            // A handset whose hop is in flight holds its lock, and is not idle.
            let Ok(mut slot) = handset.try_lock() else {
                continue;
            };
            let idle = |session: &Session| now.duration_since(session.idle_since) >= idle_timeout;
            if let Some(session) = slot.take_if(|session| idle(session)) {
                let platform = Arc::clone(self);
                endings.spawn(async move {
                    platform
                        .end(session, EndCause::Idle, Ended::IdleTimeout, None)
                        .await
                });
            }
        }
        let cut = endings.len();
        endings.join_all().await;
        // Only the map holds an entry nobody is using; holding the shard lock, no one can
        // take a new reference meanwhile.
        self.handsets.retain(|_, handset| {
            Arc::strong_count(handset) > 1 || handset.try_lock().map_or(true, |s| s.is_some())
        });
        cut
    }
}

/// The platform's hop requests as chaos sends them: each one counted, after the network
/// latency, within the reply timeout.
struct Callback<'a>(&'a Platform);

impl Transport for Callback<'_> {
    type Error = HopError;

    async fn post(&self, body: &Body) -> Result<Raw, HopError> {
        let platform = self.0;
        platform.stats.hop_sent();
        let answered = timeout(platform.settings.reply_timeout, async {
            platform.settings.network_latency.wait().await;
            platform.post(body).await
        })
        .await;
        answered.map_err(|_| HopError::Timeout)?
    }
}

#[cfg(test)]
#[path = "platform_tests.rs"]
mod tests;
