//! The embedded default's keyword services on `15200`, registered exactly as an agency
//! registers its own through `/v1/services/sms`: `MAJI <account>` (DAWASA),
//! `HALI <application>` (RITA) and `MIADI <office>` (NIDA) answer from the demo back office;
//! and Kinondoni's flood alerts, `MAFURIKO`, which residents join by SMS (`JIUNGE MAFURIKO`)
//! or from the council's USSD menu, registered as an agency registers a topic.

use crate::db::{Db, DbError};
use crate::ids::AgencyId;
use crate::sms::inbound::services::{check, ServiceSpec, SmsService};
use crate::sms::inbound::services_store::{save_service, ServiceWrite};
use crate::sms::subscriptions::store::{save_topic, TopicWrite};
use crate::sms::subscriptions::{topics, Topic, TopicSpec};
use serde_json::json;

fn demo_services() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    vec![
        (
            "svc_000000000000000000DEMOMAJI",
            "dawasa",
            json!({
                "keyword": "MAJI",
                "aliases": {"en": ["WATER"]},
                "description": {"sw": "MAJI <akaunti>: bili ya maji (DAWASA)", "en": "WATER <account>: water bill (DAWASA)"},
                "answer": {
                    "action": "bills.fetch",
                    "params": {"account": "{args[0]}"},
                    "reply": {
                        "sw": "DAWASA, akaunti {args[0]} ({customer_name}): bili {bills[0].currency} {bills[0].amount|money}, mwisho {bills[0].due_date|date}. Namba ya malipo: piga *152*00*1*2#",
                        "en": "DAWASA, account {args[0]} ({customer_name}): bill {bills[0].currency} {bills[0].amount|money}, due {bills[0].due_date|date}. For a control number dial *152*00*1*2#"
                    },
                    "not_found": {
                        "sw": "DAWASA: hatukupata akaunti \"{arguments}\". Tuma MAJI na namba ya akaunti ya tarakimu 8, mfano MAJI 12345678.",
                        "en": "DAWASA: no account \"{arguments}\". Send WATER and your 8-digit account number, e.g. WATER 12345678."
                    }
                }
            }),
        ),
        (
            "svc_000000000000000000DEMOHALI",
            "rita",
            json!({
                "keyword": "HALI",
                "aliases": {"en": ["STATUS"]},
                "description": {"sw": "HALI <namba ya ombi>: hali ya ombi (RITA)", "en": "STATUS <application>: application status (RITA)"},
                "answer": {
                    "action": "cases.status",
                    "params": {"case_id": "{args[0]}"},
                    "reply": {
                        "sw": "RITA, ombi {case_id}:\n{status_text}\nLimesasishwa {updated_at|date}.",
                        "en": "RITA, application {case_id}:\n{status_text}\nUpdated {updated_at|date}."
                    },
                    "not_found": {
                        "sw": "RITA: hatukupata ombi \"{arguments}\". Tuma HALI na namba ya ombi ya tarakimu 9 iliyo kwenye risiti.",
                        "en": "RITA: no application \"{arguments}\". Send STATUS and the 9-digit number on your receipt."
                    }
                }
            }),
        ),
        (
            "svc_00000000000000000DEMOMIADI",
            "nida",
            json!({
                "keyword": "MIADI",
                "aliases": {"en": ["APPOINTMENT"]},
                "description": {"sw": "MIADI <ofisi>: nafasi za miadi (NIDA)", "en": "APPOINTMENT <office>: free times (NIDA)"},
                "answer": {
                    "action": "appointments.slots",
                    "params": {"office": "{args[0]}"},
                    "reply": {
                        "sw": "NIDA, ofisi ya {office}: nafasi {slots[0].starts_at|day}, {slots[1].starts_at|day}, {slots[2].starts_at|day}. Kuweka miadi piga *152*00*3#",
                        "en": "NIDA, {office} office: free at {slots[0].starts_at|day}, {slots[1].starts_at|day}, {slots[2].starts_at|day}. To book dial *152*00*3#"
                    },
                    "not_found": {
                        "sw": "NIDA: tuma MIADI na jina la ofisi: Ilala, Kinondoni, Temeke, Ubungo au Kigamboni.",
                        "en": "NIDA: send APPOINTMENT and an office: Ilala, Kinondoni, Temeke, Ubungo or Kigamboni."
                    }
                }
            }),
        ),
    ]
}

/// Registers (or refreshes) the demo services. A keyword an operator has since given to
/// another service is left to it.
pub async fn seed_services(
    db: &Db,
    shortcodes: &[String],
    offered: &[String],
) -> Result<(), DbError> {
    for (id, agency, spec) in demo_services() {
        let spec: ServiceSpec =
            serde_json::from_value(spec).expect("the demo services are services");
        let (keyword, shortcode) = check(&spec, shortcodes, offered)
            .unwrap_or_else(|e| panic!("demo service {id} is refused: {e}"));
        let service = SmsService {
            id: id.to_string(),
            agency: AgencyId::parse(agency).expect("static id"),
            shortcode,
            keyword,
            spec,
        };
        let saved = match save_service(db, &service, true).await? {
            ServiceWrite::NotFound => save_service(db, &service, false).await?,
            saved => saved,
        };
        if let ServiceWrite::Taken(word) = saved {
            tracing::warn!(
                service = id,
                word,
                "demo SMS service not registered: another service answers its word"
            );
        }
    }
    Ok(())
}

/// The demo topic: (id, agency, what the agency would post to `/v1/topics`).
fn demo_topic() -> (&'static str, &'static str, serde_json::Value) {
    (
        "top_0000000000000DEMOMAFURIKO",
        "kinondoni",
        json!({"name": "MAFURIKO", "description": {"sw": "Tahadhari za mafuriko (Kinondoni)", "en": "Flood alerts (Kinondoni)"}}),
    )
}

/// Registers (or refreshes) the demo topic, unless another agency has taken its name.
pub async fn seed_topics(db: &Db) -> Result<(), DbError> {
    let (id, agency, spec) = demo_topic();
    let spec: TopicSpec = serde_json::from_value(spec).expect("the demo topic is a topic");
    let name = topics::check(&spec).unwrap_or_else(|e| panic!("demo topic {id} is refused: {e}"));
    let topic = Topic {
        id: id.to_string(),
        agency: AgencyId::parse(agency).expect("static id"),
        name,
        description: spec.description,
    };
    let saved = match save_topic(db, &topic, true).await? {
        TopicWrite::NotFound => save_topic(db, &topic, false).await?,
        saved => saved,
    };
    if let TopicWrite::Taken = saved {
        tracing::warn!(
            topic = id,
            "demo topic not registered: another agency has its name"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_services_pass_the_checks_agencies_face() {
        let offered = super::super::demo::standard_actions();
        for (id, _, spec) in demo_services() {
            let spec: ServiceSpec = serde_json::from_value(spec).unwrap();
            assert!(check(&spec, &["15200".into()], &offered).is_ok(), "{id}");
        }
    }
}
