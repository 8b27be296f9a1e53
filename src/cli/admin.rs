//! `mgov telcos ...` and `mgov agencies ...`: operators register who may call the gateway and
//! whom it calls. Secrets are generated here and shown once; only their hashes are kept,
//! except an agency's signing secret, which the gateway needs in full to sign requests.

use crate::agencies::Agency;
use crate::backoffice::catalogue::{required_params, STANDARD_ACTIONS};
use crate::config::Config;
use crate::db::Db;
use crate::ids::{AgencyId, TelcoId};
use crate::telcos::auth::generate_secret;
use crate::telcos::{Telco, TelcoCredentials, WireFormat, DEFAULT_MAX_HOPS_PER_SECOND};
use anyhow::{bail, Context};
use clap::Subcommand;
use std::num::NonZeroU32;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum TelcosCommand {
    /// Register a telco (or replace its record) and print its callback credentials once.
    Add {
        id: String,
        /// `africastalking` or `hubtel`.
        #[arg(long)]
        format: String,
        /// Source networks allowed to call, e.g. `196.201.214.0/24` (repeatable).
        #[arg(long = "allow")]
        allowed_networks: Vec<ipnet::IpNet>,
        #[arg(long, default_value_t = 182)]
        screen_limit: usize,
        /// Hops per second this telco may send one gateway node; past it hops get the
        /// "too many requests" screen.
        #[arg(long, default_value_t = DEFAULT_MAX_HOPS_PER_SECOND)]
        max_hops_per_second: NonZeroU32,
    },
    /// Change a registered telco's settings; its credentials stay as they are.
    Update {
        id: String,
        /// Replaces the source networks allowed to call (repeatable).
        #[arg(long = "allow", conflicts_with = "allow_any")]
        allowed_networks: Vec<ipnet::IpNet>,
        /// Lets any source network call (credentials still apply).
        #[arg(long)]
        allow_any: bool,
        /// Characters one screen holds on this telco.
        #[arg(long)]
        screen_limit: Option<usize>,
        /// Hops per second this telco may send one gateway node.
        #[arg(long)]
        max_hops_per_second: Option<NonZeroU32>,
    },
    List,
}

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
        /// The HMAC key shared with its back office (kept when re-adding an agency, generated
        /// for a new one).
        #[arg(long, env = "MGOV_AGENCY_SIGNING_SECRET", hide_env_values = true)]
        signing_secret: Option<String>,
    },
    List,
}

pub(super) async fn connect(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.effective_database_url())
        .await
        .context("connecting to the database")?;
    if config.is_embedded() {
        db.migrate().await?;
    }
    Ok(db)
}

pub async fn telcos(config: Config, command: TelcosCommand) -> anyhow::Result<ExitCode> {
    let db = connect(&config).await?;
    match command {
        TelcosCommand::Add {
            id,
            format,
            allowed_networks,
            screen_limit,
            max_hops_per_second,
        } => {
            let id = TelcoId::parse(&id)?;
            let Some(wire_format) = WireFormat::parse(&format) else {
                bail!("--format must be africastalking or hubtel, not {format:?}");
            };
            check_screen_limit(screen_limit)?;
            let (secret, secret_sha256) = generate_secret();
            let username = id.to_string();
            let credentials = Some(TelcoCredentials {
                username: username.clone(),
                secret_sha256,
            });
            let telco = Telco {
                id: id.clone(),
                wire_format,
                credentials,
                allowed_networks,
                screen_limit,
                max_hops_per_second,
            };
            crate::telcos::store::upsert_telco(&db, &telco).await?;
            println!("telco {id} registered ({format}); callback POST /ussd/{id}");
            println!("HTTP Basic username: {username}");
            println!("HTTP Basic password: {secret}   (shown once; only its hash is stored)");
        }
        TelcosCommand::Update {
            id,
            allowed_networks,
            allow_any,
            screen_limit,
            max_hops_per_second,
        } => {
            let id = TelcoId::parse(&id)?;
            let Some(mut telco) = crate::telcos::store::get_telco(&db, &id).await? else {
                bail!("no telco {id} is registered (mgov telcos add registers one)");
            };
            if allow_any {
                telco.allowed_networks.clear();
            } else if !allowed_networks.is_empty() {
                telco.allowed_networks = allowed_networks;
            }
            if let Some(screen_limit) = screen_limit {
                check_screen_limit(screen_limit)?;
                telco.screen_limit = screen_limit;
            }
            if let Some(max) = max_hops_per_second {
                telco.max_hops_per_second = max;
            }
            crate::telcos::store::upsert_telco(&db, &telco).await?;
            println!("telco {id} updated; running gateways take it in within a second");
        }
        TelcosCommand::List => {
            for t in crate::telcos::store::list_telcos(&db).await? {
                let auth = if t.credentials.is_some() {
                    "basic auth"
                } else {
                    "no credentials (demo)"
                };
                let nets: Vec<String> = t.allowed_networks.iter().map(|n| n.to_string()).collect();
                println!(
                    "{}\t{}\t{auth}\tscreen {}\tmax {} hops/s\tallow {}",
                    t.id,
                    t.wire_format.as_str(),
                    t.screen_limit,
                    t.max_hops_per_second,
                    nets.join(",")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check_screen_limit(screen_limit: usize) -> anyhow::Result<()> {
    if !(60..=1_000).contains(&screen_limit) {
        bail!("--screen-limit must be between 60 and 1000");
    }
    Ok(())
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
        } => {
            let id = AgencyId::parse(&id)?;
            reqwest::Url::parse(&backoffice_url).context("--backoffice-url is not a URL")?;
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
            // given, and its callback URL.
            let existing = crate::agencies::store::get_agency(&db, &id).await?;
            let generated = signing_secret.is_none() && existing.is_none();
            let callback_url = existing.as_ref().and_then(|a| a.callback_url.clone());
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
            };
            crate::agencies::store::upsert_agency(&db, &agency).await?;
            println!("agency {id} registered; running gateways take it in within a second");
            if generated {
                println!("back-office signing secret: {signing_secret}   (give it to the agency's back office)");
            }
        }
        AgenciesCommand::List => {
            for a in crate::agencies::store::list_agencies(&db).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    a.id,
                    a.name,
                    a.backoffice_url,
                    a.actions.join(",")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
