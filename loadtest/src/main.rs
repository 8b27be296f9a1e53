//! `mgov-load`: plays many virtual phones against a running gateway and reports throughput,
//! latency percentiles and errors; `mgov-load sms` sends agencies' SMS instead and follows
//! their dispatch. See the crate docs (`src/lib.rs`) for the layout.
#![forbid(unsafe_code)]

use anyhow::{bail, ensure, Context};
use clap::{Parser, Subcommand};
use mgov::telcos::WireFormat;
use mgov_loadtest::journey::Journey;
use mgov_loadtest::pacing::PacingArgs;
use mgov_loadtest::report;
use mgov_loadtest::runner::{self, Config, Formats, Stop};
use mgov_loadtest::sms::cli::SmsArgs;
use mgov_simulators::aggregator::Chaos;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Phones of a closed loop when --concurrency is not given.
const DEFAULT_PHONES: usize = 10;

/// The journey used when no --journey is given.
const WATER_BILL: &str = include_str!("../journeys/water-bill.toml");

#[derive(Debug, Parser)]
#[command(
    name = "mgov-load",
    version,
    about = "Load generator for mgov-gateway: virtual phones playing scripted USSD journeys",
    args_conflicts_with_subcommands = true
)]
struct Args {
    /// Without a subcommand: USSD journeys, with the options below.
    #[command(subcommand)]
    mode: Option<Mode>,
    /// The gateway's base URL; hops go to {url}/ussd/{telco}.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Let --url point at a host other than this machine (refused by default).
    #[arg(long)]
    allow_remote: bool,
    /// Journey file (repeat to mix journeys, picked by their `weight`). Default: the built-in
    /// copy of loadtest/journeys/water-bill.toml.
    #[arg(long = "journey", value_name = "FILE")]
    journeys: Vec<PathBuf>,
    #[command(flatten)]
    pacing: PacingArgs,
    /// Time at the start that is not counted.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// How long to run after the warm-up (default 30s unless --sessions is given).
    #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "sessions")]
    duration: Option<Duration>,
    /// Stop after this many measured sessions instead of after a duration.
    #[arg(long)]
    sessions: Option<u64>,
    /// Wire format of the phones; `mixed` picks one per session.
    #[arg(long, default_value = "africastalking", value_parser = ["africastalking", "hubtel", "mixed"])]
    format: String,
    /// Telco id per format, as FORMAT=ID (repeatable); defaults africastalking=africastalking
    /// and hubtel=hubtel.
    #[arg(long = "telco", value_name = "FORMAT=ID")]
    telcos: Vec<String>,
    /// HTTP Basic username of the telco(s), when they have credentials.
    #[arg(long, env = "MGOV_LOAD_USERNAME", requires = "secret")]
    username: Option<String>,
    /// HTTP Basic secret of the telco(s).
    #[arg(
        long,
        env = "MGOV_LOAD_SECRET",
        hide_env_values = true,
        requires = "username"
    )]
    secret: Option<String>,
    /// HTTP Basic username of the hubtel-format telco, when it differs from --username.
    #[arg(long, env = "MGOV_LOAD_HUBTEL_USERNAME", requires = "hubtel_secret")]
    hubtel_username: Option<String>,
    /// HTTP Basic secret of the hubtel-format telco.
    #[arg(
        long,
        env = "MGOV_LOAD_HUBTEL_SECRET",
        hide_env_values = true,
        requires = "hubtel_username"
    )]
    hubtel_secret: Option<String>,
    /// Hops that misbehave, as a hostile aggregator's would, each checked against the
    /// gateway's rules for repeated hops: `off`, `default` (a fifth of hops: duplicate 5%,
    /// retry 5%, concurrent 5%, replay 2%, drop 2%), or items such as
    /// `duplicate=0.1,drop=0.05,retry_after=20ms` (see loadtest/README.md).
    #[arg(long, default_value = "off")]
    chaos: Chaos,
    /// Seed of the chaos planning, to plan the same misbehaviours again (the report prints
    /// the seed of every run).
    #[arg(long)]
    chaos_seed: Option<u64>,
    /// Share of sessions (0 to 1) whose phone walks away after a random step before the
    /// last, leaving the dialogue for the gateway to expire as abandoned, so that
    /// `mgov report` shows a funnel. Counted as "walked away", not completed.
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    abandon_rate: f64,
    /// The shared USSD code (longer dial strings are sent as this code plus inputs).
    #[arg(long, default_value = "*152*00#")]
    root_code: String,
    /// Per-request timeout (connect plus answer).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write session_id,msisdn,control_number,telco for every completed journey to this CSV.
    #[arg(long, value_name = "FILE")]
    record_completed: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Agencies sending SMS through POST /v1/messages; follows dispatch and audits it.
    Sms(SmsArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    if let Some(Mode::Sms(sms)) = args.mode {
        return mgov_loadtest::sms::cli::run(sms).await;
    }
    mgov_loadtest::target::check(&args.url, args.allow_remote).context("--url")?;
    let journeys = if args.journeys.is_empty() {
        vec![Journey::parse(WATER_BILL).context("built-in water-bill journey")?]
    } else {
        args.journeys
            .iter()
            .map(|p| Journey::load(p))
            .collect::<anyhow::Result<_>>()?
    };
    let config = config(&args)?;
    let (sink, writer) = match &args.record_completed {
        Some(path) => {
            let (tx, writer) = report::completed_csv(path)?;
            (Some(tx), Some(writer))
        }
        None => (None, None),
    };

    let outcome = runner::run(config, journeys.clone(), sink).await?;
    let recorded = match writer {
        Some(w) => Some(
            w.join()
                .map_err(|_| anyhow::anyhow!("the CSV writer panicked"))??,
        ),
        None => None,
    };

    let mut settings = settings(&args, &journeys);
    settings["recorded_completed"] = json!(recorded);
    let results = report::to_json(&outcome, &journeys, settings);
    print!("{}", report::table(&results));
    if let (Some(path), Some(n)) = (&args.record_completed, recorded) {
        println!("recorded     {n} completed journeys to {}", path.display());
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&results)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    ensure!(
        outcome.stats.completed + outcome.stats.walked_away > 0,
        "no journey completed, and no phone walked away part-way: nothing reached the gateway's menus"
    );
    Ok(ExitCode::SUCCESS)
}

fn config(args: &Args) -> anyhow::Result<Config> {
    let load = args.pacing.load(DEFAULT_PHONES)?;
    let stop = match (args.duration, args.sessions) {
        (_, Some(n)) => Stop::Sessions(n),
        (d, None) => Stop::After(d.unwrap_or(Duration::from_secs(30))),
    };
    ensure!(!args.timeout.is_zero(), "--timeout must be more than 0");
    let formats = match args.format.as_str() {
        "mixed" => Formats::Mixed,
        f => match WireFormat::parse(f) {
            Some(format) if format.carries_ussd() => Formats::One(format),
            _ => bail!("--format {f:?} is not a USSD wire format"),
        },
    };
    let (mut at, mut hubtel) = ("africastalking".to_string(), "hubtel".to_string());
    for entry in &args.telcos {
        match entry.split_once('=') {
            Some(("africastalking", id)) if !id.is_empty() => at = id.to_string(),
            Some(("hubtel", id)) if !id.is_empty() => hubtel = id.to_string(),
            _ => bail!("--telco {entry:?}: use africastalking=ID or hubtel=ID"),
        }
    }
    Ok(Config {
        url: args.url.trim_end_matches('/').to_string(),
        formats,
        telco_africastalking: at,
        telco_hubtel: hubtel,
        credentials: args.username.clone().zip(args.secret.clone()),
        credentials_hubtel: args.hubtel_username.clone().zip(args.hubtel_secret.clone()),
        root_code: args.root_code.clone(),
        load,
        warmup: args.warmup,
        stop,
        timeout: args.timeout,
        show_progress: !args.quiet,
        chaos: args.chaos,
        chaos_seed: args.chaos_seed,
        abandon_rate: args.abandon_rate,
    })
}

fn settings(args: &Args, journeys: &[Journey]) -> serde_json::Value {
    let ms = |d: Duration| d.as_millis() as u64;
    json!({
        "url": args.url,
        "mode": if args.pacing.rate.is_some() { "open" } else { "closed" },
        "concurrency": if args.pacing.rate.is_none() { Some(args.pacing.concurrency.unwrap_or(DEFAULT_PHONES)) } else { None },
        "rate": args.pacing.rate,
        "max_in_flight": args.pacing.rate.map(|_| args.pacing.max_in_flight),
        "warmup_ms": ms(args.warmup),
        "duration_ms": if args.sessions.is_none() { Some(ms(args.duration.unwrap_or(Duration::from_secs(30)))) } else { None },
        "sessions": args.sessions,
        "format": args.format,
        "timeout_ms": ms(args.timeout),
        "chaos": args.chaos.to_string(),
        "abandon_rate": args.abandon_rate,
        "journeys": journeys.iter().map(|j| json!({ "name": j.name, "weight": j.weight, "steps": j.steps.len() })).collect::<Vec<_>>(),
    })
}

/// A share from 0 to 1, such as `0.3`.
fn parse_share(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{raw:?} is not a share from 0 to 1 (e.g. 0.3)")),
    }
}
