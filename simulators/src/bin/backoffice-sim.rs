//! `backoffice-sim`: runs the back-office simulator as its own process, for demos and load
//! tests. All behaviour lives in the library; this parses flags and serves.

use std::net::SocketAddr;

use clap::Parser;
use mgov_simulators::backoffice::{self, Latency, Settings};
use mgov_simulators::cli::parse_rate;
use tokio::net::TcpListener;

/// A simulated agency back office speaking the gateway's back-office contract.
#[derive(Parser)]
#[command(name = "backoffice-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: SocketAddr,

    /// Shared secret for the Mgov-Signature header; without it, unsigned requests are accepted.
    #[arg(long, env = "BACKOFFICE_SECRET", hide_env_values = true)]
    secret: Option<String>,

    /// Delay before each answer: fixed (`50ms`, `2s`) or uniform (`20ms..80ms`).
    #[arg(long, default_value = "0ms")]
    latency: Latency,

    /// Probability, from 0.0 to 1.0, that a request answers 500.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    failure_rate: f64,

    /// How long an answer is replayed for a repeated request_id (the contract promises 24h).
    #[arg(long, default_value = "24h", value_parser = parse_window)]
    idempotency_window: std::time::Duration,

    /// Remember at most about twice this many answers, whatever the window.
    #[arg(long)]
    max_remembered: Option<usize>,
}

/// A window in whole hours, minutes or seconds: `24h`, `10m`, `90s`.
fn parse_window(text: &str) -> Result<std::time::Duration, String> {
    let units = [('h', 3600), ('m', 60), ('s', 1)];
    units
        .iter()
        .find_map(|&(unit, seconds)| {
            let count: u64 = text.strip_suffix(unit)?.parse().ok()?;
            count.checked_mul(seconds).filter(|s| *s > 0)
        })
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is not a window such as 24h, 10m or 90s"))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    mgov_simulators::init_logging();
    let args = Args::parse();
    // An empty variable is how shells usually "unset" a secret; read it as no secret.
    let secret = args.secret.filter(|secret| !secret.is_empty());
    if secret.is_none() {
        tracing::warn!("no secret: requests are not signature-checked");
    }
    let settings = Settings {
        secret,
        latency: args.latency,
        failure_rate: args.failure_rate,
        idempotency_window: args.idempotency_window,
        max_remembered: args.max_remembered,
    };

    let listener = TcpListener::bind(args.listen).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        latency = %settings.latency,
        failure_rate = settings.failure_rate,
        signed = settings.secret.is_some(),
        "back-office simulator listening"
    );
    mgov_simulators::serve_until_interrupted(listener, backoffice::router(settings)).await
}
