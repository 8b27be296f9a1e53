//! `telco-sim`: runs the telco SMS simulator (Africa's Talking and Kannel smsbox) as its own
//! process, for demos and load tests. All behaviour lives in the library; this parses flags
//! and serves.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use mgov_simulators::cli::{parse_duration, parse_rate};
use mgov_simulators::telco::{self, Credentials, Latency, OutcomeMix, Settings};
use rust_decimal::Decimal;
use tokio::net::TcpListener;

/// A simulated telco taking SMS sends as Africa's Talking (POST /version1/messaging) and
/// Kannel smsbox (GET /cgi-bin/sendsms) do, and calling the gateway back with delivery reports.
#[derive(Parser)]
#[command(name = "telco-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9292")]
    listen: SocketAddr,

    /// Africa's Talking `username` the gateway must send (with --at-api-key).
    #[arg(long)]
    at_username: Option<String>,

    /// Africa's Talking `apiKey` the gateway must send; without both, any is accepted.
    #[arg(long, env = "TELCO_AT_API_KEY", hide_env_values = true)]
    at_api_key: Option<String>,

    /// Registered sender ids, comma-separated; any other `from` is refused (402).
    #[arg(long, value_delimiter = ',')]
    at_sender_ids: Vec<String>,

    /// Where Africa's Talking delivery reports go; `none` sends none.
    #[arg(long, default_value = "http://127.0.0.1:8080/sms/africastalking/dlr")]
    at_report_url: String,

    /// HTTP Basic user name for the reports (with --at-report-password).
    #[arg(long)]
    at_report_username: Option<String>,

    /// HTTP Basic password for the reports.
    #[arg(long, env = "TELCO_AT_REPORT_PASSWORD", hide_env_values = true)]
    at_report_password: Option<String>,

    /// The reports' `networkCode`.
    #[arg(long, default_value = "64002")]
    at_network_code: String,

    /// The currency of Africa's Talking costs.
    #[arg(long, default_value = "TZS")]
    at_currency: String,

    /// The price of one message part.
    #[arg(long, default_value = "20")]
    at_price_per_part: Decimal,

    /// Kannel sendsms `username` the gateway must send (with --kannel-password).
    #[arg(long)]
    kannel_username: Option<String>,

    /// Kannel sendsms `password`; without both, any is accepted.
    #[arg(long, env = "TELCO_KANNEL_PASSWORD", hide_env_values = true)]
    kannel_password: Option<String>,

    /// Delay before each report: fixed (`2s`) or uniform (`1s..5s`).
    #[arg(long, default_value = "0ms")]
    report_delay: Latency,

    /// What becomes of messages, as weights: `delivered=90,failed=5,expired=3,rejected=2`.
    #[arg(long, default_value = "delivered=1")]
    outcomes: OutcomeMix,

    /// Send intermediate reports before the final one (AT `Sent`, `Buffered`; Kannel type 4).
    #[arg(long)]
    interim_reports: bool,

    /// Share of messages whose reports go before the send is answered.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    early_report_rate: f64,

    /// Share of reports sent twice.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    duplicate_report_rate: f64,

    /// Share of send requests refused as throttled (AT 429, Kannel 503).
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    throttle_rate: f64,

    /// Recipients accepted per second and per format; beyond, requests are throttled.
    #[arg(long)]
    max_per_second: Option<u32>,

    /// Attempts per report before it is given up.
    #[arg(long, default_value_t = 4)]
    report_attempts: u32,

    /// Wait before the first retry of a report, doubled for each further one.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    report_backoff: Duration,

    /// How long a report attempt may take.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    report_timeout: Duration,

    /// Full records kept for GET /messages (the most recent).
    #[arg(long, default_value_t = 10_000)]
    keep_messages: usize,

    /// Seed for every random choice, for a repeatable run.
    #[arg(long)]
    seed: Option<u64>,
}

/// Both halves of a credential, or neither; an empty value counts as none, the way shells
/// usually "unset" a variable.
fn credentials(
    what: &str,
    username: Option<String>,
    secret: Option<String>,
) -> Result<Option<Credentials>, String> {
    let present = |value: Option<String>| value.filter(|value| !value.is_empty());
    match (present(username), present(secret)) {
        (Some(username), Some(secret)) => Ok(Some(Credentials::new(username, secret))),
        (None, None) => Ok(None),
        _ => Err(format!(
            "{what}: give both the user name and the secret, or neither"
        )),
    }
}

fn settings(args: Args) -> Result<Settings, String> {
    let at_report_url = Some(args.at_report_url).filter(|url| !url.is_empty() && url != "none");
    Ok(Settings {
        at_credentials: credentials("Africa's Talking", args.at_username, args.at_api_key)?,
        at_sender_ids: args.at_sender_ids,
        at_report_url,
        at_report_credentials: credentials(
            "Africa's Talking reports",
            args.at_report_username,
            args.at_report_password,
        )?,
        at_network_code: args.at_network_code,
        at_currency: args.at_currency,
        at_price_per_part: args.at_price_per_part,
        kannel_credentials: credentials("Kannel", args.kannel_username, args.kannel_password)?,
        report_delay: args.report_delay,
        outcomes: args.outcomes,
        interim_reports: args.interim_reports,
        early_report_rate: args.early_report_rate,
        duplicate_report_rate: args.duplicate_report_rate,
        throttle_rate: args.throttle_rate,
        max_per_second: args.max_per_second,
        report_attempts: args.report_attempts,
        report_backoff: args.report_backoff,
        report_timeout: args.report_timeout,
        keep_messages: args.keep_messages,
        seed: args.seed,
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    mgov_simulators::init_logging();
    let args = Args::parse();
    let listen = args.listen;
    let settings = match settings(args) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("telco-sim: {message}");
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind(listen).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        at_report_url = settings.at_report_url.as_deref().unwrap_or("none"),
        report_delay = %settings.report_delay,
        outcomes = %settings.outcomes,
        early_report_rate = settings.early_report_rate,
        duplicate_report_rate = settings.duplicate_report_rate,
        throttle_rate = settings.throttle_rate,
        max_per_second = ?settings.max_per_second,
        at_authenticated = settings.at_credentials.is_some(),
        kannel_authenticated = settings.kannel_credentials.is_some(),
        "telco simulator listening"
    );
    mgov_simulators::serve_until_interrupted(listener, telco::router(settings)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_in_pairs() {
        let some = |text: &str| Some(text.to_owned());
        let cases = [
            (some("mgov"), some("key"), Ok(true)),
            (None, None, Ok(false)),
            (some(""), some(""), Ok(false)),
            (some("mgov"), None, Err(())),
            (None, some("key"), Err(())),
            (some("mgov"), some(""), Err(())),
        ];
        for (username, secret, expected) in cases {
            let parsed = credentials("test", username.clone(), secret.clone());
            let parsed = parsed.map(|c| c.is_some()).map_err(|_| ());
            assert_eq!(parsed, expected, "{username:?} {secret:?}");
        }
    }

    #[test]
    fn none_turns_the_reports_off() {
        let args = Args::parse_from(["telco-sim", "--at-report-url", "none", "--seed", "7"]);
        let settings = settings(args).unwrap();
        assert_eq!(settings.at_report_url, None);
        assert_eq!(settings.seed, Some(7));
        assert_eq!(settings.outcomes, OutcomeMix::ALL_DELIVERED);
    }
}
