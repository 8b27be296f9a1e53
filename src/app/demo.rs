//! The embedded default's demo world: loopback telcos (Africa's Talking and Hubtel for USSD;
//! Africa's Talking and Kannel for SMS, sending to the telco simulator mounted in-process)
//! and the agencies of the demo menus, whose back office is the simulator mounted
//! in-process.

use crate::agencies::Agency;
use crate::backoffice::catalogue::STANDARD_ACTIONS;
use crate::db::{Db, DbError};
use crate::ids::{AgencyId, TelcoId};
use crate::menus::RegisteredAgencies;
use crate::telcos::{SmsLink, Telco, WireFormat};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;

/// Path the in-process back-office simulator is mounted at.
pub const SIMULATOR_PATH: &str = "/simulators/backoffice";

/// The demo agencies' signing secret; the simulator mounted in-process checks it.
pub const DEMO_SIGNING_SECRET: &str = "demo-signing-secret-not-for-production";

/// Path the in-process telco simulator (the SMS side of the demo telcos) is mounted at.
pub const TELCO_SIMULATOR_PATH: &str = "/simulators/telco";

/// What the demo telcos' send APIs expect; the simulator mounted in-process checks it.
pub const DEMO_SMS_USERNAME: &str = "sandbox";
pub const DEMO_SMS_SECRET: &str = "demo-sms-key-not-for-production";

/// Sender ids the demo agencies may send from.
const DEMO_SENDER_IDS: &[(&str, &str)] = &[
    ("dawasa", "DAWASA"),
    ("rita", "RITA"),
    ("nida", "NIDA"),
    ("ilala", "ILALA-MC"),
    ("kinondoni", "KINONDONI"),
];

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
    let base = format!("http://{}", reachable(public_addr));
    let sms = |path: &str, prefixes: &[&str], default_route| {
        Some(SmsLink {
            url: format!("{base}{TELCO_SIMULATOR_PATH}{path}"),
            username: DEMO_SMS_USERNAME.into(),
            secret: DEMO_SMS_SECRET.into(),
            parts_per_second: NonZeroU32::new(500).expect("static rate"),
            prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
            default_route,
        })
    };
    // Kannel takes Vodacom's numbers, as an operator's own link would; Africa's Talking
    // everything else.
    for (id, format, sms) in [
        (
            "africastalking",
            WireFormat::AfricasTalking,
            sms("/version1/messaging", &[], true),
        ),
        ("hubtel", WireFormat::Hubtel, None),
        (
            "kannel",
            WireFormat::Kannel,
            sms("/cgi-bin/sendsms", &["25574", "25575", "25576"], false),
        ),
    ] {
        let telco = Telco {
            id: TelcoId::parse(id).expect("static id"),
            wire_format: format,
            credentials: None,
            allowed_networks: loopback.to_vec(),
            screen_limit: 182,
            max_hops_per_second: crate::telcos::DEFAULT_MAX_HOPS_PER_SECOND,
            sms,
        };
        crate::telcos::store::upsert_telco(db, &telco).await?;
    }
    let backoffice_url = format!("{base}{SIMULATOR_PATH}");
    for (id, name) in DEMO_AGENCIES {
        let id = AgencyId::parse(id).expect("static id");
        // What an operator set on a demo agency (its callback URL) stays.
        let existing = crate::agencies::store::get_agency(db, &id).await?;
        let sender_ids = DEMO_SENDER_IDS
            .iter()
            .filter(|(agency, _)| *agency == id.as_str())
            .map(|(_, sender)| sender.to_string())
            .collect();
        let agency = Agency {
            id,
            name: name.to_string(),
            backoffice_url: backoffice_url.clone(),
            signing_secret: DEMO_SIGNING_SECRET.to_string(),
            actions: standard_actions(),
            callback_url: existing.as_ref().and_then(|a| a.callback_url.clone()),
            sender_ids,
            webhook_every_status: existing.is_some_and(|a| a.webhook_every_status),
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
pub(super) fn standard_actions() -> Vec<String> {
    STANDARD_ACTIONS
        .iter()
        .map(|(a, _)| a.to_string())
        .collect()
}
