//! `mgov telcos ...`: operators register the telcos that call the gateway (their callback
//! secret is generated here and shown once; only its hash is kept) and how the gateway
//! sends SMS through them.

use crate::config::Config;
use crate::db::Db;
use crate::ids::TelcoId;
use crate::telcos::auth::generate_secret;
use crate::telcos::{
    SmsLink, Telco, TelcoCredentials, WireFormat, DEFAULT_MAX_HOPS_PER_SECOND,
    DEFAULT_SMS_PARTS_PER_SECOND,
};
use anyhow::{bail, Context};
use clap::Subcommand;
use std::num::NonZeroU32;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum TelcosCommand {
    /// Register a telco (or replace its record) and print its callback credentials once.
    Add {
        id: String,
        /// `africastalking`, `hubtel` (USSD only) or `kannel` (SMS only).
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
        #[command(flatten)]
        sms: SmsArgs,
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
        #[command(flatten)]
        sms: SmsArgs,
        /// Stop sending SMS through this telco.
        #[arg(long, conflicts_with = "sms_url")]
        no_sms: bool,
    },
    List,
}

/// How the gateway sends SMS through a telco (Africa's Talking or Kannel formats).
#[derive(clap::Args)]
pub struct SmsArgs {
    /// The send API: Africa's Talking's `.../version1/messaging`, Kannel's
    /// `.../cgi-bin/sendsms`. Setting it makes the telco carry SMS.
    #[arg(long)]
    sms_url: Option<String>,
    /// Africa's Talking's username, Kannel's sendsms user.
    #[arg(long)]
    sms_username: Option<String>,
    /// Africa's Talking's API key, Kannel's sendsms password.
    #[arg(long, env = "MGOV_TELCO_SMS_SECRET", hide_env_values = true)]
    sms_secret: Option<String>,
    /// Parts per second the telco accepts from the whole gateway.
    #[arg(long)]
    sms_parts_per_second: Option<NonZeroU32>,
    /// A number prefix (E.164 digits, e.g. 25574) this telco is the first route for
    /// (repeatable; replaces the list).
    #[arg(long = "sms-prefix")]
    sms_prefixes: Vec<String>,
    /// Send numbers no telco's prefix claims through this telco.
    #[arg(long)]
    sms_default: Option<bool>,
}

impl SmsArgs {
    /// `current` changed by what was given; `None` when no SMS link results.
    fn apply(
        self,
        format: WireFormat,
        current: Option<SmsLink>,
    ) -> anyhow::Result<Option<SmsLink>> {
        let given = self.sms_url.is_some()
            || self.sms_username.is_some()
            || self.sms_secret.is_some()
            || self.sms_parts_per_second.is_some()
            || !self.sms_prefixes.is_empty()
            || self.sms_default.is_some();
        if !given {
            return Ok(current);
        }
        if !format.carries_sms() {
            bail!("telcos of the {} format carry no SMS", format.as_str());
        }
        let url = self.sms_url.or(current.as_ref().map(|l| l.url.clone()));
        let username = self
            .sms_username
            .or(current.as_ref().map(|l| l.username.clone()));
        let secret = self
            .sms_secret
            .or(current.as_ref().map(|l| l.secret.clone()));
        let (Some(url), Some(username), Some(secret)) = (url, username, secret) else {
            bail!(
                "SMS needs --sms-url, --sms-username and --sms-secret (or MGOV_TELCO_SMS_SECRET)"
            );
        };
        reqwest::Url::parse(&url).context("--sms-url is not a URL")?;
        if let Some(bad) = self
            .sms_prefixes
            .iter()
            .find(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            bail!("--sms-prefix {bad:?} must be E.164 digits, e.g. 25574");
        }
        Ok(Some(SmsLink {
            url,
            username,
            secret,
            parts_per_second: self
                .sms_parts_per_second
                .or(current.as_ref().map(|l| l.parts_per_second))
                .unwrap_or(DEFAULT_SMS_PARTS_PER_SECOND),
            prefixes: if self.sms_prefixes.is_empty() {
                current
                    .as_ref()
                    .map(|l| l.prefixes.clone())
                    .unwrap_or_default()
            } else {
                self.sms_prefixes
            },
            default_route: self
                .sms_default
                .or(current.as_ref().map(|l| l.default_route))
                .unwrap_or(false),
        }))
    }
}

pub(crate) async fn connect(config: &Config) -> anyhow::Result<Db> {
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
            sms,
        } => {
            let id = TelcoId::parse(&id)?;
            let Some(wire_format) = WireFormat::parse(&format) else {
                bail!("--format must be africastalking, hubtel or kannel, not {format:?}");
            };
            let sms = sms.apply(wire_format, None)?;
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
                sms,
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
            sms,
            no_sms,
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
            telco.sms = if no_sms {
                None
            } else {
                sms.apply(telco.wire_format, telco.sms.take())?
            };
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
                let sms = match &t.sms {
                    Some(l) => format!(
                        "sms {} {} parts/s prefixes {}{}",
                        l.url,
                        l.parts_per_second,
                        l.prefixes.join(","),
                        if l.default_route {
                            " (default route)"
                        } else {
                            ""
                        }
                    ),
                    None => "no sms".into(),
                };
                println!(
                    "{}\t{}\t{auth}\tscreen {}\tmax {} hops/s\tallow {}\t{sms}",
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
