//! `mgov transactions ...`: what operators look at in the transaction log.

use crate::backoffice::pending::{count_pending, list_pending};
use crate::config::Config;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum TransactionsCommand {
    /// Back-office calls committed but not yet answered, oldest first. The reconciler asks
    /// the agency again for each one once it is due.
    Pending {
        /// Rows to show at most.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

pub async fn run(config: Config, command: TransactionsCommand) -> anyhow::Result<ExitCode> {
    let db = super::admin::connect(&config).await?;
    match command {
        TransactionsCommand::Pending { limit } => {
            let total = count_pending(&db).await?;
            let rows = list_pending(&db, limit.max(1)).await?;
            println!("{total} pending");
            for t in rows {
                let due = t
                    .reconcile_at
                    .map(|at| at.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{}\t{}\t{}\t{}\tcreated {}\tasked {}x\tdue {due}\t{}",
                    t.id,
                    t.agency,
                    t.action,
                    t.msisdn.masked(),
                    t.created_at.format("%Y-%m-%d %H:%M:%S"),
                    t.attempts,
                    t.error.as_deref().unwrap_or(""),
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
