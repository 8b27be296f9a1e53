//! `mgov services ...`: an operator manages agencies' SMS keyword services, as agencies do
//! through `/v1/services/sms`, with the same checks. Running gateways take a change in
//! within a second.

use super::admin::connect;
use crate::agencies::store::get_agency;
use crate::config::Config;
use crate::db::changes;
use crate::ids::AgencyId;
use crate::sms::inbound::services::{check, ServiceSpec, SmsService};
use crate::sms::inbound::services_store::{
    agency_services, all_services, delete_service, new_service_id, save_service, ServiceWrite,
};
use anyhow::{bail, Context};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ServicesCommand {
    /// List keyword services, every agency's or one's.
    List {
        #[arg(long)]
        agency: Option<String>,
    },
    /// Register a keyword service for an agency, described as for `POST /v1/services/sms`:
    /// `mgov services add dawasa '{"keyword": "MAJI", "forward": {}}'`.
    Add { agency: String, json: String },
    /// Replace an agency's service.
    Update {
        agency: String,
        id: String,
        json: String,
    },
    /// Delete an agency's service: its words reach nothing from now on.
    Remove { agency: String, id: String },
}

pub async fn services(config: Config, command: ServicesCommand) -> anyhow::Result<ExitCode> {
    let db = connect(&config).await?;
    match command {
        ServicesCommand::List { agency } => {
            let services = match agency {
                Some(agency) => agency_services(&db, &AgencyId::parse(&agency)?).await?,
                None => all_services(&db).await?,
            };
            for service in services {
                let does = match &service.spec.answer {
                    Some(answer) => format!("answers with {}", answer.action),
                    None => "forwards".to_string(),
                };
                println!(
                    "{}  {}  {}  {}  {}",
                    service.id,
                    service.agency,
                    service.shortcode,
                    service.words().join(","),
                    does
                );
            }
        }
        ServicesCommand::Add { agency, json } => {
            let service = described(&config, &db, &agency, new_service_id(), &json).await?;
            let saved = written(save_service(&db, &service, false).await?)?;
            changes::announce(&db, "sms_services").await?;
            println!("{}  {}  registered", saved.id, saved.keyword);
        }
        ServicesCommand::Update { agency, id, json } => {
            let service = described(&config, &db, &agency, id, &json).await?;
            let saved = written(save_service(&db, &service, true).await?)?;
            changes::announce(&db, "sms_services").await?;
            println!("{}  {}  replaced", saved.id, saved.keyword);
        }
        ServicesCommand::Remove { agency, id } => {
            if !delete_service(&db, &AgencyId::parse(&agency)?, &id).await? {
                bail!("agency {agency} has no SMS service {id}");
            }
            changes::announce(&db, "sms_services").await?;
            println!("{id}  removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn described(
    config: &Config,
    db: &crate::db::Db,
    agency: &str,
    id: String,
    json: &str,
) -> anyhow::Result<SmsService> {
    let agency = AgencyId::parse(agency)?;
    let Some(registered) = get_agency(db, &agency).await? else {
        bail!("agency {agency} is not registered (mgov agencies add {agency} ...)");
    };
    let spec: ServiceSpec = serde_json::from_str(json).context("not a valid SMS service")?;
    let (keyword, shortcode) = check(&spec, &config.sms.shortcodes, &registered.actions)?;
    Ok(SmsService {
        id,
        agency,
        shortcode,
        keyword,
        spec,
    })
}

fn written(write: ServiceWrite) -> anyhow::Result<SmsService> {
    match write {
        ServiceWrite::Done(saved) => Ok(*saved),
        ServiceWrite::Taken(word) => {
            bail!("{word:?} already reaches another service; keywords are unique per shortcode")
        }
        ServiceWrite::NotFound => bail!("the agency has no such service"),
    }
}
