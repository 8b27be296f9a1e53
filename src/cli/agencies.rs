//! `mgov agencies ...`: register agencies (their back office, sender ids, callback URL) and
//! issue or revoke their API keys. A key is shown once; only its hash is kept.

use super::admin::connect;
use crate::agencies::store::{
    get_agency, list_agencies, list_api_keys, revoke_api_key, upsert_agency,
};
use crate::agencies::Agency;
use crate::backoffice::catalogue::{required_params, STANDARD_ACTIONS};
use crate::config::Config;
use crate::ids::AgencyId;
use crate::sms::api::send::MAX_SENDER_ID;
use crate::telcos::auth::generate_secret;
use anyhow::{bail, Context};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AgenciesCommand {
    /// Register an agency (or replace its record); prints its signing secret once when it
    /// generates one.
    Add {
        id: String,
        #[arg(long)]
        name: String,
        /// Where the gateway POSTs back-office actions.
        #[arg(long)]
        backoffice_url: String,
        /// Actions its back office implements (default: every standard action).
        #[arg(long, value_delimiter = ',')]
        actions: Option<Vec<String>>,
        /// The HMAC key shared with its back office, also signing its webhooks (kept when
        /// re-adding an agency, generated for a new one).
        #[arg(long, env = "MGOV_AGENCY_SIGNING_SECRET", hide_env_values = true)]
        signing_secret: Option<String>,
        /// Where signed webhooks about its messages go (kept when re-adding if not given).
        #[arg(long)]
        callback_url: Option<String>,
        /// An alphanumeric sender id it may send SMS from, at most 11 characters
        /// (repeatable; kept when re-adding if none is given).
        #[arg(long = "sender-id")]
        sender_ids: Vec<String>,
        /// Webhooks for every status change (`sent` too), not only final ones.
        #[arg(long)]
        webhook_every_status: bool,
    },
    List,
    /// Issue, list and revoke the agency's API keys (for `/v1`).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Issue a new key and print it once.
    Create { agency: String },
    /// List the agency's keys by prefix, with when each was issued and revoked.
    List { agency: String },
    /// Revoke a key by its prefix (the first 12 characters); running gateways refuse it
    /// within a second.
    Revoke { prefix: String },
}

pub async fn agencies(config: Config, command: AgenciesCommand) -> anyhow::Result<ExitCode> {
    let db = connect(&config).await?;
    match command {
        AgenciesCommand::Add {
            id,
            name,
            backoffice_url,
            actions,
            signing_secret,
            callback_url,
            sender_ids,
            webhook_every_status,
        } => {
            let id = AgencyId::parse(&id)?;
            reqwest::Url::parse(&backoffice_url).context("--backoffice-url is not a URL")?;
            if let Some(url) = &callback_url {
                reqwest::Url::parse(url).context("--callback-url is not a URL")?;
            }
            if let Some(bad) = sender_ids.iter().find(|s| !is_sender_id(s)) {
                bail!("--sender-id {bad:?} must be 1 to {MAX_SENDER_ID} letters, digits, spaces, '-' or '.'");
            }
            let actions = actions.unwrap_or_else(|| {
                STANDARD_ACTIONS
                    .iter()
                    .map(|(a, _)| a.to_string())
                    .collect()
            });
            if let Some(unknown) = actions.iter().find(|a| required_params(a).is_none()) {
                bail!("--actions: {unknown:?} is not an action of the back-office contract");
            }
            // Re-adding an agency replaces what this command sets and keeps the rest: its
            // signing secret (a new one would break its running back office) unless one is
            // given, its callback URL and its sender ids.
            let existing = get_agency(&db, &id).await?;
            let generated = signing_secret.is_none() && existing.is_none();
            let callback_url =
                callback_url.or_else(|| existing.as_ref().and_then(|a| a.callback_url.clone()));
            let sender_ids = if sender_ids.is_empty() {
                existing
                    .as_ref()
                    .map(|a| a.sender_ids.clone())
                    .unwrap_or_default()
            } else {
                sender_ids
            };
            let signing_secret = signing_secret
                .or_else(|| existing.map(|a| a.signing_secret))
                .unwrap_or_else(|| generate_secret().0);
            let agency = Agency {
                id: id.clone(),
                name,
                backoffice_url,
                signing_secret: signing_secret.clone(),
                actions,
                callback_url,
                sender_ids,
                webhook_every_status,
            };
            upsert_agency(&db, &agency).await?;
            println!("agency {id} registered; running gateways take it in within a second");
            if generated {
                println!("back-office signing secret: {signing_secret}   (give it to the agency's back office)");
            }
        }
        AgenciesCommand::List => {
            for a in list_agencies(&db).await? {
                println!(
                    "{}\t{}\t{}\t{}\tsender ids {}\tcallback {}",
                    a.id,
                    a.name,
                    a.backoffice_url,
                    a.actions.join(","),
                    a.sender_ids.join(","),
                    a.callback_url.as_deref().unwrap_or("-"),
                );
            }
        }
        AgenciesCommand::Key { command } => return keys(&db, command).await,
    }
    Ok(ExitCode::SUCCESS)
}

async fn keys(db: &crate::db::Db, command: KeyCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeyCommand::Create { agency } => {
            let agency = AgencyId::parse(&agency)?;
            if get_agency(db, &agency).await?.is_none() {
                bail!("no agency {agency} is registered (mgov agencies add registers one)");
            }
            let (key, prefix) = crate::agencies::keys::issue(db, &agency).await?;
            println!("API key for {agency}: {key}");
            println!("(shown once; only its hash is kept. Revoke it with: mgov agencies key revoke {prefix})");
        }
        KeyCommand::List { agency } => {
            let agency = AgencyId::parse(&agency)?;
            for key in list_api_keys(db, &agency).await? {
                let revoked = key
                    .revoked_at
                    .map(|t| format!("revoked {}", t.0.format("%Y-%m-%d %H:%M")))
                    .unwrap_or_else(|| "live".into());
                println!(
                    "{}\tissued {}\t{revoked}",
                    key.prefix,
                    key.created_at.0.format("%Y-%m-%d %H:%M")
                );
            }
        }
        KeyCommand::Revoke { prefix } => {
            if !revoke_api_key(db, &prefix).await? {
                bail!("no live key has the prefix {prefix:?} (mgov agencies key list <agency> shows them)");
            }
            println!("key {prefix} revoked; running gateways refuse it within a second");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Alphanumeric sender ids as telcos take them.
fn is_sender_id(raw: &str) -> bool {
    let length = raw.chars().count();
    (1..=MAX_SENDER_ID).contains(&length)
        && !raw.starts_with(' ')
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sender_ids() {
        for good in ["DAWASA", "RITA", "Ilala-MC", "TRA.GO.TZ", "KINONDONI"] {
            assert!(super::is_sender_id(good), "{good}");
        }
        for bad in ["", "TWELVE-CHARS", " LEADING", "MAJI,RITA", "Ūmoja"] {
            assert!(!super::is_sender_id(bad), "{bad}");
        }
    }
}
