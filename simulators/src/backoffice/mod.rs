//! The back-office simulator: an agency system speaking the gateway's back-office contract.
//!
//! Routes, relative to wherever the router is mounted:
//! - `POST /`: every action; the JSON envelope names it (`bills.fetch`, ...).
//! - `GET /healthz`: `{"status":"ok"}`.
//! - `GET /stats`: request counters (per action, replays, simulated failures, 401s, 400s) and
//!   how many answers are remembered for replay.
//! - `GET /polls/{poll_id}/results`: a consultation's tally, per question and choice
//!   (`?language=sw` for Swahili texts).
//! - `/admin/latency`: replace the latency at run time, for a while or until reset (drills).
//!
//! Answers are deterministic where tests need them to be; each action's module documents
//! how (`actions/bills.rs` and so on). In short: any 8-digit account not starting with `0` has
//! one bill; a bill's control number is `99` + 10 digits derived from the bill, the same
//! every time it is asked for; case numbers are 9 digits with a check digit, so a mistyped
//! one is not found; parcels starting with `0` are not found, those ending in `0` owe nothing;
//! a booked slot is no longer offered and another number cannot book it; a poll counts one
//! answer per number.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use mgov_simulators::backoffice::{spawn, Settings};
//!
//! let settings = Settings {
//!     secret: Some("agency-secret".to_owned()),
//!     latency: "20ms..80ms".parse().expect("valid latency"),
//!     ..Settings::default()
//! };
//! let (address, _server) = spawn(settings).await?;
//! println!("back office at http://{address}/");
//! # Ok(())
//! # }
//! ```

mod actions;
mod http;
mod idempotency;
mod ids;
pub mod latency;
pub mod signature;
mod stats;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use latency::{Latency, ParseLatencyError};

/// The idempotency window the back-office contract promises.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// How the simulated back office behaves. The default checks no signature, answers at once,
/// never fails, and remembers answers for the contract's 24-hour window.
#[derive(Clone)]
pub struct Settings {
    /// The shared secret for `Mgov-Signature`; `None` accepts unsigned requests.
    pub secret: Option<String>,
    /// Delay before every answer.
    pub latency: Latency,
    /// Probability (0.0 to 1.0) that a request answers `500 {"error":"simulated failure"}`.
    pub failure_rate: f64,
    /// How long an answer is replayed for a repeated `request_id` (at least this long, at
    /// most twice), after which it is forgotten.
    pub idempotency_window: Duration,
    /// Remember at most about twice this many answers, whatever the window: a bound on
    /// memory at any request rate, for a simulator that lives inside a load-tested process.
    /// The last `max_remembered` answers are always kept. `None`: only the window bounds it.
    pub max_remembered: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secret: None,
            latency: Latency::default(),
            failure_rate: 0.0,
            idempotency_window: IDEMPOTENCY_WINDOW,
            max_remembered: None,
        }
    }
}

/// Hides the secret, so settings can be logged.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("latency", &self.latency)
            .field("failure_rate", &self.failure_rate)
            .field("idempotency_window", &self.idempotency_window)
            .field("max_remembered", &self.max_remembered)
            .finish()
    }
}

/// The simulator's routes with their state applied, ready to serve or to mount with
/// `Router::nest("/simulators/backoffice", router(settings))`. Each call is an independent
/// back office, with its own idempotency memory, identifier sequences and counters.
pub fn router(settings: Settings) -> Router {
    http::router(Arc::new(http::Backoffice::new(settings)))
}

/// Serves a fresh simulator on `127.0.0.1` at a free port, for tests. Abort the handle (or
/// drop the runtime) to stop it.
pub async fn spawn(settings: Settings) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let address = listener.local_addr()?;
    let app = router(settings);
    let server = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "back-office simulator stopped");
        }
    });
    Ok((address, server))
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
    fn default_is_open_instant_and_reliable() {
        let settings = Settings::default();
        assert_eq!(settings.secret, None);
        assert_eq!(settings.latency.sample(), std::time::Duration::ZERO);
        assert_eq!(settings.failure_rate, 0.0);
        assert_eq!(settings.idempotency_window, IDEMPOTENCY_WINDOW);
        assert_eq!(settings.max_remembered, None);
    }
}
