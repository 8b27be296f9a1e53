//! The `mgov` command line: what operators, menu authors and testers run.

mod admin;
mod agencies;
mod dial;
mod menus;
pub mod phone;
mod report;
mod services;
mod transactions;

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mgov",
    version,
    about = "Mobile services gateway for public institutions: USSD menus over agencies' back offices"
)]
pub struct Cli {
    /// Settings file (optional); `MGOV_*` variables override it.
    #[arg(long, global = true, default_value = "mgov.toml")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the gateway (the embedded default when no database or Redis is configured).
    Serve,
    /// Apply database migrations.
    Migrate,
    /// Work with menu files.
    Menus {
        #[command(subcommand)]
        command: MenusCommand,
    },
    /// Be a phone: dial a code through a running gateway as an aggregator would.
    Dial(dial::DialArgs),
    /// Register and list telcos and aggregators.
    Telcos {
        #[command(subcommand)]
        command: admin::TelcosCommand,
    },
    /// Register agencies and issue their API keys.
    Agencies {
        #[command(subcommand)]
        command: agencies::AgenciesCommand,
    },
    /// Manage agencies' SMS keyword services on the shortcodes.
    Services {
        #[command(subcommand)]
        command: services::ServicesCommand,
    },
    /// Per agency and service: dialogues started and how they ended, where citizens
    /// stopped (a funnel over the menu's states), transactions and back-office latency.
    Report(report::ReportArgs),
    /// Look into the transaction log (back-office calls made for citizens).
    Transactions {
        #[command(subcommand)]
        command: transactions::TransactionsCommand,
    },
}

#[derive(Subcommand)]
pub enum MenusCommand {
    /// Check every menu file and report every problem with its file, line and state, the
    /// agencies and their actions included (against the configured database, or the demo
    /// agencies of the embedded default).
    Check {
        /// Folder of menu files (default: the configured `menus_dir`).
        dir: Option<PathBuf>,
    },
}

/// Runs a parsed command line; `main` only sets up the runtime and logging.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve => {
            crate::app::serve(config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let db = crate::db::Db::connect(&config.effective_database_url()).await?;
            db.migrate().await?;
            println!("migrations applied to the {} database", db.kind().as_str());
            Ok(ExitCode::SUCCESS)
        }
        Command::Menus {
            command: MenusCommand::Check { dir },
        } => Ok(menus::check(config, dir).await),
        Command::Dial(args) => dial::run(args).await,
        Command::Telcos { command } => admin::telcos(config, command).await,
        Command::Agencies { command } => agencies::agencies(config, command).await,
        Command::Services { command } => services::services(config, command).await,
        Command::Report(args) => report::run(config, args).await,
        Command::Transactions { command } => transactions::run(config, command).await,
    }
}
