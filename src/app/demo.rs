//! The embedded default's demo world: two loopback telcos (one per wire format) and the
//! agencies of the demo menus, whose back office is the simulator mounted in-process.

use crate::agencies::Agency;
use crate::backoffice::catalogue::STANDARD_ACTIONS;
use crate::db::{Db, DbError};
use crate::ids::{AgencyId, TelcoId};
use crate::menus::RegisteredAgencies;
use crate::telcos::{Telco, WireFormat};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Path the in-process back-office simulator is mounted at.
pub const SIMULATOR_PATH: &str = "/simulators/backoffice";

/// The demo agencies' signing secret; the simulator mounted in-process checks it.
pub const DEMO_SIGNING_SECRET: &str = "demo-signing-secret-not-for-production";

const DEMO_AGENCIES: &[(&str, &str)] = &[
    (
        "dawasa",
        "Dar es Salaam Water Supply and Sanitation Authority",
    ),
    ("rita", "Registration, Insolvency and Trusteeship Agency"),
    ("nida", "National Identification Authority"),
    ("ilala", "Ilala City Council"),
    ("kinondoni", "Kinondoni Municipal Council"),
];

pub async fn seed(db: &Db, public_addr: SocketAddr) -> Result<(), DbError> {
    let loopback = [
        "127.0.0.0/8".parse().expect("static CIDR"),
        "::1/128".parse().expect("static CIDR"),
    ];
    for (id, format) in [
        ("africastalking", WireFormat::AfricasTalking),
        ("hubtel", WireFormat::Hubtel),
    ] {
        let telco = Telco {
            id: TelcoId::parse(id).expect("static id"),
            wire_format: format,
            credentials: None,
            allowed_networks: loopback.to_vec(),
            screen_limit: 182,
            max_hops_per_second: crate::telcos::DEFAULT_MAX_HOPS_PER_SECOND,
            sms: None,
        };
        crate::telcos::store::upsert_telco(db, &telco).await?;
    }
    let backoffice_url = format!("http://{}{SIMULATOR_PATH}", reachable(public_addr));
    for (id, name) in DEMO_AGENCIES {
        let agency = Agency {
            id: AgencyId::parse(id).expect("static id"),
            name: name.to_string(),
            backoffice_url: backoffice_url.clone(),
            signing_secret: DEMO_SIGNING_SECRET.to_string(),
            actions: standard_actions(),
            callback_url: None,
            sender_ids: Vec::new(),
            webhook_every_status: false,
        };
        crate::agencies::store::upsert_agency(db, &agency).await?;
    }
    Ok(())
}

/// Where a gateway listening on `addr` is reached: a wildcard address on loopback.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    let host = match addr.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(host, addr.port())
}

/// The demo agencies as [`seed`] registers them: what `mgov menus check` checks menus
/// against on the embedded default, before any gateway has run.
pub fn registered_agencies() -> RegisteredAgencies {
    let mut agencies = RegisteredAgencies::new();
    for (id, _) in DEMO_AGENCIES {
        agencies.register(AgencyId::parse(id).expect("static id"), standard_actions());
    }
    agencies
}

/// The demo agencies offer every standard action, served by the simulator.
fn standard_actions() -> Vec<String> {
    STANDARD_ACTIONS
        .iter()
        .map(|(a, _)| a.to_string())
        .collect()
}
