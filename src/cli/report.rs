//! `mgov report`: per agency and service, how dialogues went and where citizens stopped.

use crate::config::Config;
use crate::ids::AgencyId;
use crate::reports::{build_report, parse_since, ReportQuery};
use clap::{Args, ValueEnum};
use std::process::ExitCode;

#[derive(Args)]
pub struct ReportArgs {
    /// Only this agency's services and transactions (default: every agency).
    #[arg(long)]
    agency: Option<String>,
    /// How far back: a span back from now (7d, 24h, 30m) or an RFC 3339 time.
    #[arg(long, default_value = "7d")]
    since: String,
    /// `text` for people, `json` for machines.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    /// Tables for people.
    Text,
    /// One JSON object, for machines; its shape is documented in the README.
    Json,
}

pub async fn run(config: Config, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let since = match parse_since(&args.since, chrono::Utc::now()) {
        Ok(since) => since,
        Err(e) => return Ok(usage_error(e)),
    };
    let agency = match args.agency.as_deref().map(AgencyId::parse).transpose() {
        Ok(agency) => agency,
        Err(e) => return Ok(usage_error(format!("--agency: {e}"))),
    };
    let db = super::admin::connect(&config).await?;
    if let Some(agency) = &agency {
        if crate::agencies::store::get_agency(&db, agency)
            .await?
            .is_none()
        {
            return Ok(usage_error(format!(
                "--agency: agency {agency} is not registered (`mgov agencies list` shows those that are)"
            )));
        }
    }
    let report = build_report(&db, &ReportQuery { agency, since }).await?;
    match args.format {
        ReportFormat::Text => print!("{report}"),
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(ExitCode::SUCCESS)
}

fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("mgov report: {message}");
    ExitCode::from(2)
}
