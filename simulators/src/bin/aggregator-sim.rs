//! `aggregator-sim`: runs the telco aggregator simulator as its own process, between handsets
//! (its JSON API) and the gateway's USSD callback. All behaviour lives in the library; this
//! parses flags and serves.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use mgov_simulators::aggregator::{self, Chaos, Format, Latency, Settings};
use tokio::net::TcpListener;

/// A simulated USSD aggregator platform (Africa's Talking or Hubtel-style) calling the gateway.
#[derive(Parser)]
#[command(name = "aggregator-sim", version, after_long_help = CHAOS_HELP)]
struct Args {
    /// Address of the handset API.
    #[arg(long, default_value = "127.0.0.1:9191")]
    listen: SocketAddr,

    /// The gateway's USSD callback URL.
    #[arg(long, default_value = "http://127.0.0.1:8090/ussd/africastalking")]
    gateway_url: String,

    /// Wire format towards the gateway: africastalking or hubtel.
    #[arg(long, default_value = "africastalking")]
    format: Format,

    /// HTTP Basic user name for the callback.
    #[arg(long)]
    username: Option<String>,

    /// HTTP Basic secret for the callback; without it, callbacks carry no credentials.
    #[arg(long, env = "AGGREGATOR_SECRET", hide_env_values = true)]
    secret: Option<String>,

    /// The registered USSD code; longer dial strings are sent as this code plus inputs.
    #[arg(long, default_value = "*152*00#")]
    root_code: String,

    /// Africa's Talking `networkCode`.
    #[arg(long, default_value = "64004")]
    network_code: String,

    /// Hubtel `Operator`.
    #[arg(long, default_value = "vodacom")]
    operator: String,

    /// Delay before each callback: fixed (`50ms`, `2s`) or uniform (`20ms..80ms`).
    #[arg(long, default_value = "0ms")]
    network_latency: Latency,

    /// Probability, from 0.0 to 1.0, that a hop's reply is lost.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    drop_rate: f64,

    /// How long to wait for the gateway's reply.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    reply_timeout: Duration,

    /// Cut off a handset that leaves a screen unanswered this long (`0` never).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    idle_timeout: Duration,

    /// Never tell the gateway that a dialogue ended, as some operators do.
    #[arg(long)]
    no_end_notices: bool,

    /// Misbehave with a share of hops and check the gateway's answers: `off`, `default`
    /// (duplicate=0.05,retry=0.05,concurrent=0.05,replay=0.02,drop=0.02), or name=share items
    /// such as `duplicate=0.1,drop=0.05` (see CHAOS below, with --help).
    #[arg(long, default_value = "off", env = "AGGREGATOR_CHAOS")]
    chaos: Chaos,

    /// Seed for the chaos planning, for a repeatable sequence of misbehaviours.
    #[arg(long)]
    chaos_seed: Option<u64>,
}

const CHAOS_HELP: &str = "\
CHAOS
  With --chaos, each hop is played in one of these ways, with the share given, instead of once;
  the handset's answer then carries `chaos`: {behaviour, abandoned, violation, detail}, and
  GET /stats counts events and violations by kind under `chaos`.
    duplicate   sent twice in a row; the copy must get the same bytes as the first answer
    retry       given up after a time-out of up to retry_after (default 5ms; the connection
                is closed) and sent again; the retry must get the first copy's answer when
                that came before the time-out
    concurrent  two copies at once; both must get the same bytes
    replay      after the answer, an older hop of the dialogue arrives (Africa's Talking: a
                shorter cumulative text; Hubtel: a lower Sequence); it must get the current
                screen, or an END screen once the dialogue has ended
    drop        the answer is lost and the hop sent again; the retry must get the same bytes
  Violations: <behaviour>_mismatch (another answer), <behaviour>_no_answer (no screen at
  all), replay_reopened (an older hop continued a dialogue that had ended).
  Example: --chaos default,retry_after=20ms --chaos-seed 7";

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("{text:?} is not a probability between 0.0 and 1.0")),
    }
}

/// A single duration in the latency syntax (`500ms`, `10s`, `1m`).
fn parse_duration(text: &str) -> Result<Duration, String> {
    match text.parse::<Latency>() {
        Ok(Latency::Fixed(duration)) => Ok(duration),
        Ok(Latency::Uniform { .. }) => Err(format!("{text:?}: one duration, not a range")),
        Err(error) => Err(error.to_string()),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    mgov_simulators::init_logging();
    let args = Args::parse();
    // An empty variable is how shells usually "unset" a secret; read it as no secret.
    let secret = args.secret.filter(|secret| !secret.is_empty());
    if secret.is_some() && args.username.is_none() {
        tracing::warn!("a secret without --username: callbacks use an empty user name");
    }
    let settings = Settings {
        gateway_url: args.gateway_url,
        format: args.format,
        username: args.username,
        secret,
        root_code: args.root_code,
        network_code: args.network_code,
        operator: args.operator,
        network_latency: args.network_latency,
        drop_rate: args.drop_rate,
        reply_timeout: args.reply_timeout,
        idle_timeout: args.idle_timeout,
        end_notices: !args.no_end_notices,
        chaos: args.chaos,
        chaos_seed: args.chaos_seed,
    };

    let listener = TcpListener::bind(args.listen).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        gateway = %settings.gateway_url,
        format = %settings.format,
        network_latency = %settings.network_latency,
        drop_rate = settings.drop_rate,
        reply_timeout = ?settings.reply_timeout,
        idle_timeout = ?settings.idle_timeout,
        end_notices = settings.end_notices,
        chaos = %settings.chaos,
        authenticated = settings.secret.is_some(),
        "aggregator simulator listening"
    );
    mgov_simulators::serve_until_interrupted(listener, aggregator::router(settings)).await
}
