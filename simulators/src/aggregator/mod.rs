//! The aggregator simulator: a telco aggregator's USSD platform standing between handsets and
//! the gateway, speaking Africa's Talking or Hubtel-style JSON exactly as `docs/telcos.md`
//! describes, with network latency, lost replies, reply and idle timeouts, and end notices.
//!
//! Handsets are driven over a small JSON API (relative to wherever the router is mounted):
//! - `POST /handsets/{msisdn}/dial` `{"code":"*152*00#"}` → `{"session_id","screen","ends"}`;
//! - `POST /handsets/{msisdn}/press` `{"key":"1"}` → the same; `409` with no dialogue open;
//! - `POST /handsets/{msisdn}/hangup` → `{"session_id","ended":true}` after the end notice
//!   (Africa's Talking `Incomplete`, Hubtel `Release`) has been answered;
//! - `GET /stats`: hops, sessions, endings by reason, callback errors by status, notices;
//! - `GET /healthz`: `{"status":"ok"}`.
//!
//! A hop that gets no usable reply (dropped, timed out, non-2xx, no `CON`/`END`) ends the
//! dialogue: the answer has `"ends": true` and an `error` with its `kind` and `status`.
//!
//! With [`Settings::chaos`] the platform misbehaves with a share of hops (duplicates,
//! retries after a time-out, concurrent copies, late replays of older hops, dropped answers
//! sent again; see [`chaos`]) and checks the gateway's answers: a hop played that way
//! answers with a `chaos` object, `{"behaviour", "abandoned", "violation", "detail"}` (the
//! last two `null` when the gateway kept the rules), and `GET /stats` counts events and
//! violations by kind.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use mgov_simulators::aggregator::{spawn, Format, Settings};
//!
//! let settings = Settings {
//!     gateway_url: "http://127.0.0.1:8090/ussd/hubtel".to_owned(),
//!     format: Format::Hubtel,
//!     network_latency: "20ms..80ms".parse().expect("valid latency"),
//!     ..Settings::default()
//! };
//! let (address, _server) = spawn(settings).await?;
//! println!("handsets at http://{address}/handsets/255754123456/dial");
//! # Ok(())
//! # }
//! ```

pub mod chaos;
mod dialogue;
mod http;
mod platform;
mod stats;
mod wire;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::{interval, MissedTickBehavior};

pub use crate::backoffice::Latency;
pub use chaos::Chaos;
pub use dialogue::{new_session_id, Dialogue};
/// The aggregator's wire format towards the gateway.
pub use mgov_wire::Format;
pub use wire::{hop as hop_request, parse_reply, post, Body, HopError, Raw, Screen};

use platform::Platform;

/// How the simulated platform behaves. The default speaks Africa's Talking to a gateway on
/// `127.0.0.1:8090`, without credentials, latency or losses, with AT's timeouts.
#[derive(Clone)]
pub struct Settings {
    /// The gateway's callback URL, e.g. `http://127.0.0.1:8090/ussd/africastalking`.
    pub gateway_url: String,
    pub format: Format,
    /// HTTP Basic credentials for the callback, when the gateway wants them.
    pub username: Option<String>,
    pub secret: Option<String>,
    /// The registered code: a longer dial string starting with it is sent as this code plus
    /// inputs (Africa's Talking), and is the `ServiceCode` of Hubtel requests.
    pub root_code: String,
    /// Africa's Talking's `networkCode` (MCC + MNC; `64004` is Vodacom Tanzania).
    pub network_code: String,
    /// Hubtel's `Operator`.
    pub operator: String,
    /// Added before each callback (hops and notices), within the reply timeout.
    pub network_latency: Latency,
    /// Probability (0.0 to 1.0) that a hop's reply is lost: the handset waits out the reply
    /// timeout and sees the session end.
    pub drop_rate: f64,
    /// How long the platform waits for the gateway's reply (Africa's Talking: 10 s to connect,
    /// 15 s to answer).
    pub reply_timeout: Duration,
    /// A handset that leaves a screen unanswered this long is cut off; zero never cuts off.
    pub idle_timeout: Duration,
    /// Whether the platform tells the gateway that a dialogue ended (some operators never do).
    pub end_notices: bool,
    /// The share of hops played with each misbehaviour; off by default.
    pub chaos: Chaos,
    /// Seeds the chaos planning, for a repeatable sequence of misbehaviours.
    pub chaos_seed: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            gateway_url: "http://127.0.0.1:8090/ussd/africastalking".to_owned(),
            format: Format::AfricasTalking,
            username: None,
            secret: None,
            root_code: "*152*00#".to_owned(),
            network_code: "64004".to_owned(),
            operator: "vodacom".to_owned(),
            network_latency: Latency::default(),
            drop_rate: 0.0,
            reply_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            end_notices: true,
            chaos: Chaos::OFF,
            chaos_seed: None,
        }
    }
}

/// Hides the secret, so settings can be logged.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("gateway_url", &self.gateway_url)
            .field("format", &self.format)
            .field("username", &self.username)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("root_code", &self.root_code)
            .field("network_code", &self.network_code)
            .field("operator", &self.operator)
            .field("network_latency", &self.network_latency)
            .field("drop_rate", &self.drop_rate)
            .field("reply_timeout", &self.reply_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("end_notices", &self.end_notices)
            .field("chaos", &self.chaos.to_string())
            .field("chaos_seed", &self.chaos_seed)
            .finish()
    }
}

/// The simulator's routes with their state applied. Each call is an independent platform
/// with its own handsets and counters. Called inside a Tokio runtime, it also starts the task
/// that cuts off idle handsets; that task ends once the router is dropped.
pub fn router(settings: Settings) -> Router {
    let platform = Arc::new(Platform::new(settings));
    start_idle_sweeper(&platform);
    http::router(platform)
}

/// Serves a fresh simulator on `127.0.0.1` at a free port, for tests. Abort the handle (or
/// drop the runtime) to stop it.
pub async fn spawn(settings: Settings) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let address = listener.local_addr()?;
    let app = router(settings);
    let server = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "aggregator simulator stopped");
        }
    });
    Ok((address, server))
}

/// Starts the task that cuts off idle handsets, unless `idle_timeout` is zero or there is
/// no runtime to run it on. It holds only a weak reference, so it ends with the platform.
fn start_idle_sweeper(platform: &Arc<Platform>) {
    let idle_timeout = platform.settings.idle_timeout;
    if idle_timeout.is_zero() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no Tokio runtime: idle handsets will not be cut off");
        return;
    };
    let period = (idle_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    runtime.spawn(cut_off_idle_handsets(Arc::downgrade(platform), period));
}

/// Sweeps for idle handsets every `period` (on tokio's clock) while the platform lives.
async fn cut_off_idle_handsets(platform: Weak<Platform>, period: Duration) {
    let mut ticks = interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(platform) = platform.upgrade() else {
            return;
        };
        let cut = platform.cut_idle().await;
        if cut > 0 {
            tracing::debug!(cut, "idle handsets cut off");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_secret() {
        let settings = Settings {
            secret: Some("s3cr3t".to_owned()),
            ..Settings::default()
        };
        let printed = format!("{settings:?}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
    }

    #[test]
    fn defaults_follow_africastalking() {
        let settings = Settings::default();
        assert_eq!(settings.format, Format::AfricasTalking);
        assert_eq!(settings.root_code, "*152*00#");
        assert_eq!(settings.reply_timeout, Duration::from_secs(10));
        assert_eq!(settings.idle_timeout, Duration::from_secs(60));
        assert!(settings.end_notices);
        assert_eq!(settings.drop_rate, 0.0);
        assert!(settings.chaos.is_off());
    }
}
