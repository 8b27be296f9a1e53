//! The `mgov-load sms` subcommand: its flags, the settings they make, and what it prints.

use super::config::{Config, Source, Until};
use super::texts::{self, Texts};
use crate::pacing::PacingArgs;
use crate::runner::Load;
use anyhow::{ensure, Context};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Agencies' clients of a closed loop when --concurrency is not given.
const DEFAULT_CLIENTS: usize = 4;

/// Agencies sending SMS through `POST /v1/messages`, then the dispatch followed to its end.
#[derive(Debug, clap::Args)]
pub struct SmsArgs {
    /// The gateway's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Let --url point at a host other than this machine (refused by default).
    #[arg(long)]
    allow_remote: bool,
    /// The agency's API key (`mgov agencies key create AGENCY`).
    #[arg(long, env = "MGOV_LOAD_API_KEY", hide_env_values = true)]
    api_key: String,
    /// Recipients per request (1 to 1000); every recipient is a fresh number.
    #[arg(long, default_value_t = 1)]
    recipients: u32,
    /// `--concurrency` clients (default 4), or `--rate` requests per second.
    #[command(flatten)]
    pacing: PacingArgs,
    /// Stop after submitting this many messages (default 10000 unless --duration is given).
    #[arg(long, conflicts_with = "duration")]
    messages: Option<u64>,
    /// Stop submitting after this long.
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// The text; `{seq}` (required) becomes the request's number, `{run}` the run's id.
    #[arg(long, default_value = texts::DEFAULT_TEMPLATE)]
    text: String,
    /// A sender id registered for the agency.
    #[arg(long)]
    from: Option<String>,
    /// Follow dispatch in the gateway's database (exact counts and the full audit) instead
    /// of through `GET /v1/messages`.
    #[arg(long, env = "MGOV_LOAD_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The telco simulator's base URL, to check that each message arrived once.
    #[arg(long, value_name = "URL")]
    telco_sim: Option<String>,
    /// How long to wait, once submitting ended, for every message to become final.
    #[arg(long, default_value = "120s", value_parser = humantime::parse_duration)]
    drain_timeout: Duration,
    /// How often dispatch is polled.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    poll_every: Duration,
    /// Per-request timeout.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// No progress lines on stderr.
    #[arg(long)]
    quiet: bool,
}

impl SmsArgs {
    fn config(&self, run: &str) -> anyhow::Result<Config> {
        crate::target::check(&self.url, self.allow_remote)?;
        if let Some(base) = &self.telco_sim {
            crate::target::check(base, self.allow_remote)?;
        }
        ensure!(
            (1..=1000).contains(&self.recipients),
            "--recipients must be 1 to 1000 (the gateway's limit per request)"
        );
        ensure!(!self.api_key.trim().is_empty(), "--api-key is empty");
        let pacing = self.pacing.load(DEFAULT_CLIENTS)?;
        let until = match (self.messages, self.duration) {
            (_, Some(d)) => Until::Elapsed(d),
            (n, None) => Until::Messages(n.unwrap_or(10_000)),
        };
        ensure!(!self.timeout.is_zero(), "--timeout must be more than 0");
        ensure!(
            !self.poll_every.is_zero(),
            "--poll-every must be more than 0"
        );
        Ok(Config {
            url: self.url.trim_end_matches('/').to_string(),
            api_key: self.api_key.trim().to_string(),
            recipients: self.recipients,
            texts: Texts::new(run, &self.text).context("--text")?,
            from: self.from.clone(),
            pacing,
            until,
            timeout: self.timeout,
            source: match &self.database_url {
                Some(url) => Source::Database { url: url.clone() },
                None => Source::Api,
            },
            telco_sim: self.telco_sim.clone(),
            drain_timeout: self.drain_timeout,
            poll_every: self.poll_every,
            show_progress: !self.quiet,
        })
    }

    fn settings(&self, run: &str, config: &Config) -> serde_json::Value {
        let (mode, concurrency, rate) = match config.pacing {
            Load::Closed { concurrency } => ("closed", Some(concurrency), None),
            Load::Open { rate, .. } => ("open", None, Some(rate)),
        };
        let (messages, duration_ms) = match config.until {
            Until::Messages(n) => (Some(n), None),
            Until::Elapsed(d) => (None, Some(d.as_millis() as u64)),
        };
        let (encoding, parts) = config.texts.shape(0);
        json!({
            "run": run,
            "url": config.url,
            "mode": mode,
            "concurrency": concurrency,
            "rate": rate,
            "recipients_per_request": config.recipients,
            "messages": messages,
            "duration_ms": duration_ms,
            "text_example": config.texts.text(0),
            "encoding": encoding.as_str(),
            "parts": parts,
            "source": match config.source { Source::Database { .. } => "database", Source::Api => "api" },
            "telco_sim": config.telco_sim,
            "drain_timeout_s": config.drain_timeout.as_secs_f64(),
        })
    }
}

/// Runs the subcommand. Exit status: 0 all good; 1 the audit or the telco check failed;
/// 2 requests failed, so fewer messages than asked were accepted.
pub async fn run(args: SmsArgs) -> anyhow::Result<ExitCode> {
    let run = texts::run_id();
    let config = args.config(&run)?;
    let settings = args.settings(&run, &config);
    if config.show_progress {
        eprintln!("run {run}: {}", settings);
    }
    let outcome = super::run(config).await?;
    let results = super::report::to_json(&outcome, settings);
    print!("{}", super::report::table(&results));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&results)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    ensure!(
        !outcome.submitted.ids.is_empty(),
        "no message was accepted: {:?}",
        outcome.submitted.error_samples
    );
    Ok(if results["ok"] != true {
        ExitCode::from(1)
    } else if outcome.submitted.errors.values().sum::<u64>() > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sms: SmsArgs,
    }

    fn config(args: &[&str]) -> anyhow::Result<Config> {
        let mut argv = vec!["sms", "--api-key", "mgk_test"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv)?.sms.config("0badcafe")
    }

    #[test]
    fn flags_make_the_settings() {
        let c = config(&[]).unwrap();
        assert_eq!(c.pacing, Load::Closed { concurrency: 4 });
        assert_eq!(c.until, Until::Messages(10_000));
        assert_eq!((c.recipients, c.source.clone()), (1, Source::Api));
        let c = config(&["--rate", "50", "--recipients", "100", "--duration", "20s"]).unwrap();
        assert!(matches!(c.pacing, Load::Open { rate, max_in_flight: 1000, .. } if rate == 50.0));
        assert_eq!(c.until, Until::Elapsed(Duration::from_secs(20)));
        let c = config(&[
            "--database-url",
            "postgres://db/x",
            "--url",
            "http://localhost:8090/",
        ])
        .unwrap();
        assert_eq!(c.url, "http://localhost:8090");
        assert_eq!(
            c.source,
            Source::Database {
                url: "postgres://db/x".into()
            }
        );
    }

    #[test]
    fn bad_flags_are_refused() {
        let cases: [&[&str]; 7] = [
            &["--recipients", "0"],
            &["--recipients", "1001"],
            &["--rate", "0"],
            &["--concurrency", "0"],
            &["--text", "no sequence number"],
            &["--url", "http://192.0.2.1:8080"],
            &["--messages", "10", "--duration", "1s"],
        ];
        for args in cases {
            assert!(config(args).is_err(), "{args:?}");
        }
    }
}
